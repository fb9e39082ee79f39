//! Native half of the stack checks; `browser_stack.rs` runs the same checks in headless Chromium.
#![cfg(not(target_family = "wasm"))]

use aha_tests::{golden, smoke};
use burn::tensor::Device;

#[test]
fn problems_for_a_seed_match_the_golden_list() {
    assert_eq!(golden::mul_3x1_seed_42(), golden::MUL_3X1_SEED_42);
}

#[test]
fn burn_autodiff_and_adam_train_an_mlp_on_flex() {
    let losses = pollster::block_on(smoke::train_tiny_mlp(&Device::flex(), 30)).unwrap();
    smoke::check_losses(&losses).unwrap();
}
