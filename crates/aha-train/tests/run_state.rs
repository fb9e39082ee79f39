//! A saved GRPO run continues exactly where it stopped, and a damaged or foreign state is refused
//! with a reason.

use aha_model::{ModelConfig, MoeConfig};
use aha_tokenizer::CharTokenizer;
use aha_train::{GrpoConfig, GrpoTrainer, RunConfig};
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

/// The tiny preset, smaller and with a KL term (the reference must come back too).
fn config() -> GrpoConfig {
    GrpoConfig {
        prompts_per_step: 2,
        max_completion_length: 12,
        stop_check_every: 0,
        learning_rate: 1e-3,
        warmup_steps: 0,
        beta: 0.04,
        seed: 9,
        ..RunConfig::named("tiny").expect("the tiny preset").grpo
    }
}

fn trainer() -> (GrpoTrainer, aha_model::Model, CharTokenizer, Device) {
    let tok = CharTokenizer::new();
    let device = Device::flex();
    let model_config = ModelConfig::new(tok.vocab_size(), MoeConfig::new().with_d_expert(16))
        .with_d_model(16)
        .with_n_heads(2)
        .with_max_seq_len(24);
    let base = model_config.init_seeded(&device, 4);
    let trainer = GrpoTrainer::new(base.clone(), config(), tok.clone(), &device).unwrap();
    (trainer, base, tok, device)
}

fn weights(trainer: &GrpoTrainer) -> Vec<f32> {
    struct All(Vec<f32>);
    impl ModuleVisitor for All {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(param.val().into_data().iter::<f32>());
        }
    }
    let mut all = All(Vec::new());
    trainer.policy().visit(&mut all);
    all.0
}

/// What a step did, minus its timings.
fn outcome(trainer: &mut GrpoTrainer) -> (usize, Vec<String>, f32, f32) {
    let step = pollster::block_on(trainer.step()).unwrap();
    (step.metrics.step, step.rollout.completions, step.metrics.loss, step.metrics.kl)
}

#[test]
fn a_resumed_run_continues_exactly_as_the_uninterrupted_one() {
    let (mut straight, ..) = trainer();
    let straight_steps: Vec<_> = (0..4).map(|_| outcome(&mut straight)).collect();

    let (mut first, base, tok, device) = trainer();
    let _ = outcome(&mut first);
    let _ = outcome(&mut first);
    let state = pollster::block_on(first.save_state()).unwrap();
    drop(first);
    let mut resumed = GrpoTrainer::resume(base, config(), tok, &device, &state).unwrap();
    assert_eq!(resumed.steps_done(), 2);
    let resumed_steps: Vec<_> = (0..2).map(|_| outcome(&mut resumed)).collect();

    // Same problems, same samples, same losses: the policy, Adam's moments and the problem
    // stream all came back. (A fresh optimiser would change the third update, hence the loss.)
    assert_eq!(resumed_steps, straight_steps[2..]);
    assert_eq!(weights(&resumed), weights(&straight));
}

#[test]
fn damaged_or_foreign_states_are_refused_with_a_reason() {
    let (mut run, base, tok, device) = trainer();
    let _ = outcome(&mut run);
    let state = pollster::block_on(run.save_state()).unwrap();
    let resume = |bytes: &[u8], config: GrpoConfig| {
        GrpoTrainer::resume(base.clone(), config, tok.clone(), &device, bytes).err().map(|e| e.to_string())
    };
    assert!(resume(&state, config()).is_none(), "the state itself resumes");
    let err = |bytes: &[u8]| resume(bytes, config()).expect("refused");
    assert!(err(&state[..state.len() / 2]).starts_with("saved run state:"));
    assert!(err(b"not a state at all").contains("not a run state"));
    let other = GrpoConfig { learning_rate: 5e-4, ..config() };
    assert!(resume(&state, other).unwrap().contains("other settings"));

    // A state from a model of another shape.
    let wide = ModelConfig::new(tok.vocab_size(), MoeConfig::new().with_d_expert(16))
        .with_d_model(32)
        .with_n_heads(2)
        .with_max_seq_len(24);
    let err = GrpoTrainer::resume(wide.init_seeded(&device, 4), config(), tok.clone(), &device, &state)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not fit") || err.contains("tensor"), "{err}");
}
