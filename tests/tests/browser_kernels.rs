//! Our WGSL kernels in headless Chromium on WebGPU (SwiftShader in CI): every check of
//! `aha_tests::gpu_checks!` — each kernel against its plain-tensor reference, the kernels inside
//! the model, and a full GRPO rollout with exactly one readback (every read goes through the
//! instrumented `aha_kernels::readback::read`, and a synchronous read would panic here).
//! `native_kernels.rs` runs the same list natively. A run without WebGPU fails.
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
