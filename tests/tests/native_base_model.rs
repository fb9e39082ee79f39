//! The shipped base checkpoint natively on the CPU: loads, and greedy decoding equals the committed
//! fixture that the browser tests compare against. `AHA_BLESS=1` rewrites the fixture instead (run
//! by `cargo xtask base-model` after rebuilding the checkpoint).
#![cfg(not(target_family = "wasm"))]

use aha_tests::base_model::{
    RECIPE, check_against_fixture, checkpoint, early_stop_keeps_the_samples, greedy_parity,
    three_grpo_steps_move_the_policy,
};
use aha_train::BaseRecipe;
use burn::tensor::Device;

#[test]
fn base_model_greedy_parity() {
    let actual = pollster::block_on(greedy_parity(&Device::flex())).unwrap();
    if std::env::var_os("AHA_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/base_greedy.json");
        std::fs::write(path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        eprintln!("wrote {path}");
        return;
    }
    check_against_fixture(&actual, 1e-5).unwrap();
}

#[test]
fn base_model_is_the_marked_check_recipe_and_small_enough_to_ship() {
    let ck = checkpoint();
    assert!(ck.weights().len() <= 4_000_000, "{} bytes", ck.weights().len());
    assert!((150_000..250_000).contains(&ck.config.num_params()));
    let recipe: BaseRecipe = serde_json::from_str(RECIPE).unwrap();
    assert_eq!(Some(&recipe), BaseRecipe::named("marked-check", ck.tokenizer.vocab_size()).as_ref());
    assert_eq!(ck.config, recipe.model);
}

#[test]
fn three_grpo_steps_from_the_shipped_checkpoint_move_the_policy() {
    pollster::block_on(three_grpo_steps_move_the_policy(&Device::flex()));
}

#[test]
fn early_stop_checks_change_the_cost_not_the_samples() {
    pollster::block_on(early_stop_keeps_the_samples(&Device::flex()));
}
