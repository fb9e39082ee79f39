//! Our WGSL kernels in headless Chromium on WebGPU (SwiftShader in CI): every check of
//! `aha_tests::gpu_checks!` — each kernel against its plain-tensor reference, the kernels inside
//! the model, and a full GRPO rollout with exactly one readback (every read goes through the
//! instrumented `aha_kernels::readback::read`, and a synchronous read would panic here).
//! `native_kernels.rs` runs the same list natively. A run without WebGPU fails. Last, the CPU
//! backend's kernels, which the page's CPU path runs.
#![cfg(target_family = "wasm")]

use aha_tests::webgpu;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

// A full rollout keeps SwiftShader busy for longer than chromedriver waits on a page's main thread.
wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Each check of `aha_tests::gpu_checks!` as a test on WebGPU.
macro_rules! on_webgpu {
    ($($name:ident => $check:path),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            if let Err(e) = $check(&webgpu::device().await).await {
                panic!("{e}");
            }
        }
    )*};
}

aha_tests::gpu_checks!(on_webgpu);

/// The CPU backend's kernels in wasm (the page's CPU path), against the same references.
#[wasm_bindgen_test]
async fn cpu_kernels_match_their_references() {
    let device = burn::tensor::Device::flex();
    if let Err(e) = aha_kernels::causal_attention::checks::causal_attention_matches_reference(&device).await {
        panic!("attention: {e}");
    }
    if let Err(e) = aha_kernels::gelu::checks::gelu_matches_reference(&device).await {
        panic!("GELU: {e}");
    }
}
