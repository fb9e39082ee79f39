//! The model and GRPO in headless Chromium, on WebGPU and on the CPU backend in wasm: the shipped
//! checkpoint decodes greedily exactly as natively, and GRPO steps run with finite metrics and two
//! readbacks each; early-stop checks read back the finished mask without changing the samples.
#![cfg(target_family = "wasm")]

use aha_tests::base_model::{
    check_against_fixture, early_stop_keeps_the_samples, greedy_parity, three_grpo_steps_move_the_policy,
};
use aha_tests::webgpu;
use burn::tensor::Device;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

// In a dedicated Worker, as the page runs its trainer: a GRPO update on SwiftShader keeps the thread
// busy for longer than chromedriver waits for a page's main thread (30 s).
wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn base_model_greedy_parity_on_webgpu() {
    let actual = greedy_parity(&webgpu::device().await).await.unwrap();
    check_against_fixture(&actual, 1e-3).unwrap();
}

#[wasm_bindgen_test]
async fn base_model_greedy_parity_on_cpu() {
    let actual = greedy_parity(&Device::flex()).await.unwrap();
    check_against_fixture(&actual, 1e-3).unwrap();
}

#[wasm_bindgen_test]
async fn grpo_steps_run_on_webgpu() {
    three_grpo_steps_move_the_policy(&webgpu::device().await).await;
}

#[wasm_bindgen_test]
async fn grpo_steps_run_on_cpu() {
    three_grpo_steps_move_the_policy(&Device::flex()).await;
}

#[wasm_bindgen_test]
async fn early_stop_checks_keep_the_samples_on_webgpu() {
    early_stop_keeps_the_samples(&webgpu::device().await).await;
}
