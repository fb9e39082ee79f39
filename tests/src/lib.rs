//! Shared pieces of Aha's cross-crate tests, used by the native tests (`tests/tests/native_*.rs`)
//! and by the browser tests (`tests/tests/browser_*.rs`, run with `wasm-pack test`), so both sides
//! check exactly the same thing.

pub mod base_model;
pub mod golden;
pub mod model_checks;
pub mod smoke;
pub mod soak;
pub mod webgpu;

/// Every check that runs on a GPU device, in one list: each kernel against its reference (the
/// checks sit beside the kernels, in `aha_kernels::<kernel>::checks`) and the kernels inside the
/// model and trainer ([`model_checks`]). `native_kernels.rs` makes each a `#[test]` on wgpu,
/// `browser_kernels.rs` a `#[wasm_bindgen_test]` on WebGPU in Chromium: `$runner!` receives
/// `test_name => check` pairs, each check an `async fn(&Device) -> Result<impl Debug, String>`.
#[macro_export]
macro_rules! gpu_checks {
    ($runner:ident) => {
        $runner! {
            router_kernel_matches_its_reference => aha_kernels::router::checks::router_matches_reference,
            router_kernel_gradients_match_the_reference => aha_kernels::router::checks::router_gradients_match_reference,
            sampler_kernel_matches_its_reference => aha_kernels::sample::checks::sampler_matches_reference,
            sampler_kernel_edge_cases => aha_kernels::sample::checks::sampler_edge_cases,
            sampler_kernel_follows_the_softmax => aha_kernels::sample::checks::sampler_follows_the_softmax,
            rms_norm_kernel_matches_its_reference => aha_kernels::norm::checks::rms_norm_matches_reference,
            rms_norm_gradients_match_their_reference => aha_kernels::norm::checks::rms_norm_gradients_match_reference,
            attention_weights_kernel_matches_its_reference => aha_kernels::attention::checks::masked_softmax_matches_reference,
            causal_attention_kernels_match_their_reference => aha_kernels::causal_attention::checks::causal_attention_matches_reference,
            gelu_kernels_match_their_reference => aha_kernels::gelu::checks::gelu_matches_reference,
            token_logprob_kernels_match_their_reference => aha_kernels::logprobs::checks::token_logprobs_match_reference,
            adam_kernels_match_their_reference => aha_kernels::adam::checks::adam_matches_reference,
            expert_mix_kernel_matches_its_reference => aha_kernels::experts::checks::expert_mix_matches_reference,
            training_gradients_with_the_kernels_match_burns_formulas => $crate::model_checks::training_gradients_match_the_reference,
            a_full_rollout_reads_back_once => $crate::model_checks::rollout_reads_back_once,
            cached_decoding_matches_the_full_forward => $crate::model_checks::cached_decoding_matches_the_full_forward,
        }
    };
}
