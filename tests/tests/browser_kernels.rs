//! Our WGSL kernels in headless Chromium on WebGPU (SwiftShader in CI): each against its
//! plain-tensor reference, and a full GRPO rollout with exactly one readback — every read goes
//! through the instrumented `aha_kernels::readback::read`, and a synchronous read would panic here.
//! `native_kernels.rs` runs the same checks natively. A run without WebGPU fails.
#![cfg(target_family = "wasm")]

use aha_tests::{kernels, logprobs, norm, optimizer, webgpu};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

// A full rollout keeps SwiftShader busy for longer than chromedriver waits on a page's main thread.
wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn router_kernel_matches_its_reference_on_webgpu() {
    kernels::router_matches_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn router_kernel_gradients_match_the_reference_on_webgpu() {
    kernels::router_gradients_match_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn sampler_kernel_matches_its_reference_on_webgpu() {
    kernels::sampler_matches_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn sampler_kernel_edge_cases_on_webgpu() {
    kernels::sampler_edge_cases(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn sampler_kernel_follows_the_softmax_on_webgpu() {
    kernels::sampler_follows_the_softmax(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_full_rollout_reads_back_once_on_webgpu() {
    let (rows, steps) = kernels::rollout_reads_back_once(&webgpu::device().await).await.unwrap();
    let preset = aha_train::RunConfig::named("default").unwrap().grpo;
    let rows_expected = preset.prompts_per_step * preset.num_generations;
    assert_eq!((rows, steps), (rows_expected, preset.max_completion_length));
}

#[wasm_bindgen_test]
async fn cached_decoding_matches_the_full_forward_on_webgpu() {
    kernels::cached_decoding_matches_the_full_forward(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn rms_norm_kernel_matches_its_reference_on_webgpu() {
    kernels::rms_norm_matches_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn attention_weights_kernel_matches_its_reference_on_webgpu() {
    kernels::masked_softmax_matches_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn causal_attention_kernels_match_their_reference_on_webgpu() {
    kernels::causal_attention_matches_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn gelu_kernels_match_their_reference_on_webgpu() {
    kernels::gelu_matches_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn token_logprob_kernels_match_their_reference_on_webgpu() {
    logprobs::token_logprobs_match_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn rms_norm_gradients_match_their_reference_on_webgpu() {
    norm::rms_norm_gradients_match_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn adam_kernels_match_their_reference_on_webgpu() {
    optimizer::adam_matches_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn training_gradients_with_the_kernels_match_burns_formulas_on_webgpu() {
    kernels::training_gradients_match_the_reference(&webgpu::device().await).await.unwrap();
}

#[wasm_bindgen_test]
async fn expert_mix_kernel_matches_its_reference_on_webgpu() {
    kernels::expert_mix_matches_reference(&webgpu::device().await).await.unwrap();
}
