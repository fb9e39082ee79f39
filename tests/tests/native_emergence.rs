//! A fast emergence run, natively on the CPU with fixed seeds: GRPO from the shipped base model
//! makes the policy check more often; from the no-check base model (the ablation) it never checks —
//! RL amplifies a behaviour the base model has, it does not invent one. Measured on the rollouts
//! themselves (fresh problems every step, sampled at the training temperature). The full run, on the
//! held-out set, is `cargo xtask emergence` (report/emergence.json).
#![cfg(not(target_family = "wasm"))]

use aha_tests::base_model::{checkpoint, no_check_checkpoint};
use aha_train::{Checkpoint, GrpoTrainer, RunConfig};
use burn::tensor::Device;

/// The rollouts' check rate at each of `steps` GRPO steps of the default preset (seed 0).
fn check_rates(base: Checkpoint, steps: usize) -> Vec<f64> {
    let device = Device::flex();
    let config = RunConfig::named("default").unwrap();
    let model = base.load_model(&device).unwrap();
    let mut trainer = GrpoTrainer::new(model, config.grpo, base.tokenizer.clone(), &device).unwrap();
    (0..steps).map(|_| pollster::block_on(trainer.step()).unwrap().metrics.check_rate).collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn grpo_raises_the_check_rate_only_where_the_base_model_can_check() {
    let rates = check_rates(checkpoint(), STEPS);
    let (first, last) = (mean(&rates[..EARLY]), mean(&rates[STEPS - LATE..]));
    eprintln!("default preset: rollout check rate {first:.3} (steps 0–{EARLY}) → {last:.3} (last {LATE})");
    // The base model checks ~11% of the time; by step 5 GRPO may have nudged it a little.
    assert!(first <= 0.2, "the base model already checks {first:.3} of the time");
    assert!(last >= 0.7, "check rate {first:.3} → {last:.3} after {STEPS} steps");

    let rates = check_rates(no_check_checkpoint(), ABLATION_STEPS);
    eprintln!("ablation: rollout check rate {:.4} over {ABLATION_STEPS} steps", mean(&rates));
    assert!(mean(&rates) < 0.02, "the ablation learned to check: {rates:?}");
}

const STEPS: usize = 60;
const EARLY: usize = 5;
const LATE: usize = 10;
const ABLATION_STEPS: usize = 40;
