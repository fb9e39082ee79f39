//! Browser half of the stack checks, run in headless Chromium by
//! `wasm-pack test --headless --chrome tests` (see README). The WebGPU tests FAIL when the browser
//! offers no adapter: a run that promised WebGPU must not pass without it.
#![cfg(target_family = "wasm")]

use std::cell::RefCell;

use aha_tests::{golden, smoke};
use aha_web::BackendInfo;
use burn::tensor::Device;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    /// Burn's wgpu runtime is global and starts once per page; every test shares it.
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

/// The WebGPU device, started asynchronously on first use. Panics (fails the test) without one.
async fn webgpu() -> Device {
    if let Some(device) = WEBGPU.with(|cell| cell.borrow().clone()) {
        return device;
    }
    let (device, info) = aha_web::webgpu_backend()
        .await
        .unwrap_or_else(|reason| panic!("this run promised WebGPU, but: {reason}"));
    assert!(matches!(info, BackendInfo::Webgpu { .. }), "{info:?}");
    WEBGPU.with(|cell| *cell.borrow_mut() = Some(device.clone()));
    device
}

#[wasm_bindgen_test]
async fn tiny_model_trains_on_webgpu() {
    let losses = smoke::train_tiny_mlp(&webgpu().await, 12).await.unwrap();
    smoke::check_losses(&losses).unwrap();
}

#[wasm_bindgen_test]
async fn tiny_model_trains_on_flex_in_wasm() {
    let losses = smoke::train_tiny_mlp(&Device::flex(), 30).await.unwrap();
    smoke::check_losses(&losses).unwrap();
}

#[wasm_bindgen_test]
async fn webgpu_self_test_reads_back_the_known_sum() {
    let device = webgpu().await;
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
