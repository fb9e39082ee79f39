//! GRPO on hand-made examples: advantages, each loss type, the clip, the KL estimator, and a few
//! real steps on a small model.

use aha_model::{ModelConfig, MoeConfig};
use aha_tasks::{ProblemSpec, RewardConfig};
use aha_tokenizer::CharTokenizer;
use aha_train::grpo_loss::{advantages, policy_loss};
use aha_train::{GrpoConfig, GrpoTrainer, LossType, ScaleRewards};
use burn::tensor::{Device, Tensor};

fn config(loss_type: LossType) -> GrpoConfig {
    GrpoConfig {
        task: ProblemSpec::MUL_3X1,
        reward: RewardConfig::default(),
        prompts_per_step: 2,
        num_generations: 4,
        max_completion_length: 4,
        temperature: 1.0,
        top_k: 0,
        stop_check_every: 0,
        learning_rate: 3e-4,
        warmup_steps: 0,
        beta: 0.0,
        epsilon: 0.2,
        epsilon_high: None,
        loss_type,
        scale_rewards: ScaleRewards::Group,
        num_iterations: 1,
        max_grad_norm: Some(1.0),
        aux_loss_weight: 0.01,
        seed: 0,
    }
}

/// A model small enough for a few real GRPO steps in a test.
fn small_model(tok: &CharTokenizer) -> ModelConfig {
    ModelConfig::new(tok.vocab_size(), MoeConfig::new().with_d_expert(32))
        .with_d_model(32)
        .with_n_heads(4)
        .with_max_seq_len(24)
}

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-4, "{a:?} vs {b:?}");
    }
}

fn scalar(t: Tensor<1>) -> f32 {
    t.into_data().try_into_vec_as::<f32>().unwrap()[0]
}

#[test]
fn advantages_are_relative_to_the_group() {
    let rewards = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
    // Group 1: mean 0.25, unbiased std 0.5. Group 2: no variance, no signal.
    let d = 0.5 + 1e-4;
    close(
        &advantages(&rewards, 4, ScaleRewards::Group),
        &[0.75 / d, -0.25 / d, -0.25 / d, -0.25 / d, 0.0, 0.0, 0.0, 0.0],
    );
    close(&advantages(&rewards, 4, ScaleRewards::None), &[0.75, -0.25, -0.25, -0.25, 0.0, 0.0, 0.0, 0.0]);
    // Batch std of [1,0,0,0,1,1,1,1]: mean 0.625, unbiased var 15/56.
    let b = (15.0f32 / 56.0).sqrt() + 1e-4;
    close(&advantages(&rewards, 4, ScaleRewards::Batch)[..2], &[0.75 / b, -0.25 / b]);
}

/// Two rows, advantages +2 and −1, on-policy (ratio 1): row 0 has 2 completion tokens, row 1 three.
fn on_policy(loss_type: LossType) -> f32 {
    let device = Device::flex();
    let logp = Tensor::<2>::from_floats([[-1.0, -2.0, -0.5], [-0.3, -0.2, -0.1]], &device);
    let mask = Tensor::<2>::from_floats([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], &device);
    let adv = Tensor::<2>::from_floats([[2.0], [-1.0]], &device);
    scalar(policy_loss(logp.clone(), logp, None, adv, mask, &config(loss_type)).loss)
}

#[test]
fn loss_types_aggregate_as_documented() {
    // Per-token loss is −A: row 0 → −2, −2; row 1 → 1, 1, 1.
    close(&[on_policy(LossType::Grpo)], &[(-2.0 + 1.0) / 2.0]); // mean of row means
    close(&[on_policy(LossType::DrGrpo)], &[-1.0 / (2.0 * 4.0)]); // sum / (rows · max_len)
    close(&[on_policy(LossType::Dapo)], &[-1.0 / 5.0]); // sum / tokens
}

#[test]
fn the_clip_bounds_the_ratio_in_the_direction_of_the_advantage() {
    let device = Device::flex();
    let old = Tensor::<2>::from_floats([[0.0]], &device);
    let logp = Tensor::<2>::from_floats([[1.5f32.ln()]], &device); // ratio 1.5
    let mask = Tensor::<2>::ones([1, 1], &device);
    let run = |adv: f32, eps_high: Option<f64>| {
        let mut c = config(LossType::Dapo);
        c.epsilon_high = eps_high;
        let parts = policy_loss(
            logp.clone(),
            old.clone(),
            None,
            Tensor::full([1, 1], adv, &device),
            mask.clone(),
            &c,
        );
        (scalar(parts.loss), scalar(parts.clip_fraction))
    };
    close(&[run(1.0, None).0, run(1.0, None).1], &[-1.2, 1.0]); // clipped at 1 + 0.2
    close(&[run(-1.0, None).0, run(-1.0, None).1], &[1.5, 0.0]); // no clip for a negative advantage
    close(&[run(1.0, Some(0.6)).0, run(1.0, Some(0.6)).1], &[-1.5, 0.0]); // clip-higher lets it through
}

#[test]
fn k3_kl_is_added_with_beta() {
    let device = Device::flex();
    let logp = Tensor::<2>::from_floats([[0.5f32.ln(), 0.5f32.ln()]], &device);
    let reference = Tensor::<2>::from_floats([[0.0, 0.5f32.ln()]], &device); // d = ln 2, then 0
    let mask = Tensor::<2>::ones([1, 2], &device);
    let zero_adv = Tensor::<2>::zeros([1, 1], &device);
    let mut c = config(LossType::Dapo);
    c.beta = 0.1;
    let parts = policy_loss(logp.clone(), logp, Some(reference), zero_adv, mask, &c);
    let k3 = 2.0 - 2f32.ln() - 1.0; // e^d − d − 1 at d = ln 2, and 0 at d = 0
    close(&[scalar(parts.kl)], &[k3 / 2.0]);
    close(&[scalar(parts.loss)], &[0.1 * k3 / 2.0]);
}

#[test]
fn the_gradient_pushes_logp_along_the_advantage() {
    let device = Device::flex().autodiff();
    let logp = Tensor::<2>::from_floats([[-1.0, -2.0], [-0.5, -0.7]], &device).require_grad();
    let mask = Tensor::<2>::ones([2, 2], &device);
    let adv = Tensor::<2>::from_floats([[1.0], [-2.0]], &device);
    let loss =
        policy_loss(logp.clone(), logp.clone().detach(), None, adv, mask, &config(LossType::Grpo)).loss;
    let grads = loss.backward();
    let g = logp.grad(&grads).unwrap().into_data().try_into_vec_as::<f32>().unwrap();
    // d/dlogp of −mean_rows(mean_tokens(A · ratio)) at ratio 1 = −A / (rows · tokens).
    close(&g, &[-0.25, -0.25, 0.5, 0.5]);
}

#[test]
fn steps_run_with_finite_metrics_and_two_readbacks() {
    let tok = CharTokenizer::new();
    let device = Device::flex();
    let model_config = small_model(&tok);
    let base = model_config.init_seeded(&device, 1);
    let mut c = config(LossType::Grpo);
    c.max_completion_length = 16;
    c.beta = 0.04;
    c.num_iterations = 2;
    let mut trainer = GrpoTrainer::new(base, c.clone(), tok.clone(), &device).unwrap();
    for i in 0..2 {
        let step = pollster::block_on(trainer.step()).unwrap();
        let m = &step.metrics;
        assert_eq!(m.step, i);
        assert_eq!(m.readbacks, 2, "one for the rollout, one for the update's metrics");
        assert_eq!(step.rollout.completions.len(), 8);
        assert!(m.loss.is_finite() && m.kl.is_finite() && m.entropy > 0.0 && m.aux_loss.is_finite());
        assert!(step.rollout.tokens.iter().all(|t| t.len() <= 16));
        assert_eq!(step.expert_load.len(), 2);
        assert_eq!(m.sampled_tokens, step.rollout.tokens.iter().map(Vec::len).sum::<usize>());
        // Two iterations of forward + backward (3 passes each), the reference's and the old
        // policy's forward passes: 8 forward passes over the 8 rows at the batch's length.
        let per_pass = m.update_flops / 8.0;
        assert!(
            (1..=24).any(|len| model_config.forward_matmul_flops(8, len) == per_pass),
            "{}",
            m.update_flops
        );
    }
    assert_eq!(trainer.steps_done(), 2);

    // Bad configs are refused before anything runs.
    for (bad, why) in [
        (GrpoConfig { num_generations: 1, ..c.clone() }, "num_generations"),
        (GrpoConfig { temperature: 0.0, ..c.clone() }, "temperature"),
        (GrpoConfig { beta: -1.0, ..c.clone() }, "beta"),
        (GrpoConfig { max_completion_length: 40, ..c.clone() }, "max_seq_len"),
        (GrpoConfig { epsilon: 0.0, ..c.clone() }, "epsilon"),
    ] {
        let err = GrpoTrainer::new(model_config.init(&device), bad, tok.clone(), &device).err().unwrap();
        assert!(err.to_string().contains(why), "{err}");
    }
}

/// Every parameter of the policy, flattened (the CPU backend reads synchronously).
fn weights(trainer: &GrpoTrainer) -> Vec<f32> {
    use burn::module::{Module, ModuleVisitor, Param};
    struct All(Vec<f32>);
    impl ModuleVisitor for All {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(param.val().into_data().try_into_vec_as::<f32>().unwrap());
        }
    }
    let mut all = All(Vec::new());
    trainer.policy().visit(&mut all);
    all.0
}

#[test]
fn a_non_finite_update_is_skipped_and_changes_nothing() {
    let tok = CharTokenizer::new();
    let device = Device::flex();
    let model_config = small_model(&tok);
    let mut c = config(LossType::Grpo);
    c.max_completion_length = 16;
    let mut trainer = GrpoTrainer::new(model_config.init_seeded(&device, 2), c, tok, &device).unwrap();
    let before = weights(&trainer);

    trainer.poison_next_update();
    let step = pollster::block_on(trainer.step()).unwrap();
    assert!(step.metrics.loss.is_nan(), "the injected NaN reached the loss");
    assert_eq!(step.metrics.skipped_updates, 1);
    assert_eq!(step.metrics.readbacks, 2, "the guard rides on the update's one read");
    assert_eq!(weights(&trainer), before, "a skipped update leaves every weight as it was");

    // Training goes on: the next update is finite and moves the weights.
    let step = pollster::block_on(trainer.step()).unwrap();
    assert!(step.metrics.loss.is_finite());
    assert_eq!(step.metrics.skipped_updates, 1);
    assert_ne!(weights(&trainer), before);
}
