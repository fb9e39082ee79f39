//! Browser half of the stack checks, run in headless Chromium by
//! `wasm-pack test --headless --chrome tests` (see README). The WebGPU tests FAIL when the browser
//! offers no adapter: a run that promised WebGPU must not pass without it.
#![cfg(target_family = "wasm")]

use aha_tests::{golden, smoke, webgpu};
use burn::tensor::Device;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn burn_autodiff_and_adam_train_an_mlp_on_webgpu() {
    let losses = smoke::train_tiny_mlp(&webgpu::device().await, 12).await.unwrap();
    smoke::check_losses(&losses).unwrap();
}

#[wasm_bindgen_test]
async fn burn_autodiff_and_adam_train_an_mlp_on_flex_in_wasm() {
    let losses = smoke::train_tiny_mlp(&Device::flex(), 30).await.unwrap();
    smoke::check_losses(&losses).unwrap();
}

#[wasm_bindgen_test]
async fn webgpu_self_test_reads_back_the_known_sum() {
    let device = webgpu::device().await;
    assert_eq!(aha_web::backend::self_test(&device).await.unwrap(), 54.0);
}

#[wasm_bindgen_test]
fn problems_for_a_seed_match_the_golden_list() {
    assert_eq!(golden::mul_3x1_seed_42(), golden::MUL_3X1_SEED_42);
}

#[wasm_bindgen_test]
fn tokenizer_round_trips_in_wasm() {
    let tok = aha_tokenizer::CharTokenizer::new();
    let text = "347*5=g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 wait a1735.";
    let ids = tok.encode(text).unwrap();
    assert_eq!(tok.decode(&ids, false).unwrap(), text);
    assert!(tok.encode("347÷5").is_err());
}
