//! GRPO — group relative policy optimisation (DeepSeekMath, DeepSeek-R1-Zero) with a rule-based
//! reward. One step:
//!
//! 1. **Rollout.** B problems, each answered G times by the current policy, sampled on the device
//!    at the training temperature (one readback for all B·G completions).
//! 2. **Reward.** The task's rule: is the final answer right? Nothing else is rewarded.
//! 3. **Advantage.** Each completion's reward relative to its group: `(r − mean_g) / (std_g + ε)`.
//!    Groups where every answer got the same reward teach nothing (advantage 0).
//! 4. **Update.** The PPO-clipped policy-gradient loss over completion tokens, optionally plus β·KL
//!    to the frozen starting model (k3 estimator), aggregated as GRPO, Dr. GRPO or DAPO do, then
//!    one Adam step (`num_iterations` passes over the same rollout).
//!
//! Names follow TRL's `GRPOConfig` where one exists.

use aha_kernels::KernelChoice;
use aha_model::{MAX_TEMPERATURE, MIN_TEMPERATURE, Model, readback};
use aha_tasks::{
    Behaviour, BehaviourStats, Problem, ProblemGenerator, ProblemSpec, RewardConfig, behaviour, reward,
};
use aha_tokenizer::CharTokenizer;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, Transaction};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::adam::Adam;
use crate::batch::TokenBatch;
use crate::complete::{Completed, complete, sampling};
use crate::loss::token_logprobs;

use crate::schedule::LrSchedule;
use crate::sft::TrainError;

/// How per-token losses are averaged (TRL's `loss_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossType {
    /// Mean over each completion's tokens, then over completions (the original GRPO).
    Grpo,
    /// Sum over all tokens divided by rows × max_completion_length (Dr. GRPO: no length bias).
    DrGrpo,
    /// Sum over all tokens divided by the number of completion tokens (DAPO's token-level mean).
    Dapo,
}

/// How rewards are scaled into advantages (TRL's `scale_rewards`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleRewards {
    /// Divide by the group's standard deviation (GRPO).
    Group,
    /// Divide by the whole batch's standard deviation.
    Batch,
    /// Do not divide (Dr. GRPO).
    None,
}

/// The most rows a rollout may have (B × G, and each of B and G): the decode cache and the
/// update's activations grow with it.
pub const MAX_ROWS: usize = 4096;
/// The most tokens a completion may have; the model's `max_seq_len` bounds it further.
pub const MAX_COMPLETION_LENGTH: usize = 4096;
/// The most passes over one rollout.
pub const MAX_ITERATIONS: usize = 64;
/// Adam's largest useful step size here: beyond it every update diverges (and 1e300 made every
/// update non-finite, so each was skipped without a word).
pub const MAX_LEARNING_RATE: f64 = 1.0;
/// The largest KL weight: far beyond the task's reward of 1, the penalty is all the loss.
pub const MAX_BETA: f64 = 1000.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrpoConfig {
    pub task: ProblemSpec,
    pub reward: RewardConfig,
    /// B: distinct problems per step.
    pub prompts_per_step: usize,
    /// G: completions per problem (TRL `num_generations`).
    pub num_generations: usize,
    pub max_completion_length: usize,
    pub temperature: f32,
    /// Sample among the k most likely tokens only; 0 keeps all.
    pub top_k: usize,
    /// Every this many tokens, read back whether every row has finished and stop early if so (the
    /// first check at the last rollout's longest completion, and a check that finds every row done
    /// is the rollout's only read). 0 never checks: a rollout is then exactly one readback, always
    /// `max_completion_length` decode steps. The samples are the same either way.
    #[serde(default)]
    pub stop_check_every: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    /// Weight of the KL penalty to the starting model; 0 disables it (and the reference model).
    pub beta: f64,
    /// PPO clip range below and (without `epsilon_high`) above 1.
    pub epsilon: f64,
    /// Upper clip range (DAPO's clip-higher); `None` uses `epsilon`.
    pub epsilon_high: Option<f64>,
    pub loss_type: LossType,
    pub scale_rewards: ScaleRewards,
    /// Passes over each rollout (1: on-policy, the ratio is exactly 1 at the first pass).
    pub num_iterations: usize,
    /// Clip each gradient tensor to this L2 norm (Burn clips per parameter tensor).
    pub max_grad_norm: Option<f32>,
    /// Weight of the MoE balance loss during RL.
    pub aux_loss_weight: f32,
    pub seed: u64,
}

impl GrpoConfig {
    pub fn validate(&self) -> Result<(), TrainError> {
        let invalid = |msg: String| Err(TrainError::Invalid(msg));
        // Upper bounds first, each naming its knob: a link or a CLI flag can carry any integer,
        // and on wasm32 (usize = u32) an unchecked sum or product wraps to a tiny one. Floats
        // print with `{:?}`, which writes 1e300 as `1e300`, not as 301 digits.
        let counts = [
            ("prompts_per_step", self.prompts_per_step, MAX_ROWS),
            ("num_generations", self.num_generations, MAX_ROWS),
            ("max_completion_length", self.max_completion_length, MAX_COMPLETION_LENGTH),
            ("num_iterations", self.num_iterations, MAX_ITERATIONS),
        ];
        for (name, value, most) in counts {
            if value == 0 {
                return invalid(format!("{name} must be at least 1"));
            }
            if value > most {
                return invalid(format!("{name} must be at most {most}, got {value}"));
            }
        }
        if self.num_generations < 2 {
            return invalid(
                "num_generations must be at least 2: advantages compare answers within a group".into(),
            );
        }
        if self.prompts_per_step.checked_mul(self.num_generations).is_none_or(|rows| rows > MAX_ROWS) {
            return invalid(format!(
                "prompts_per_step × num_generations must be at most {MAX_ROWS}, got {} × {}",
                self.prompts_per_step, self.num_generations
            ));
        }
        if !(MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&self.temperature) {
            return invalid(format!(
                "temperature must be in [{MIN_TEMPERATURE}, {MAX_TEMPERATURE}] for RL sampling, got {:?}",
                self.temperature
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= MAX_LEARNING_RATE) {
            return invalid(format!(
                "learning_rate must be in (0, {MAX_LEARNING_RATE}], got {:?}",
                self.learning_rate
            ));
        }
        if !(self.beta >= 0.0 && self.beta <= MAX_BETA) {
            return invalid(format!("beta must be in [0, {MAX_BETA}], got {:?}", self.beta));
        }
        for (name, eps) in [("epsilon", Some(self.epsilon)), ("epsilon_high", self.epsilon_high)] {
            if let Some(eps) = eps
                && !(eps > 0.0 && eps < 10.0)
            {
                return invalid(format!("{name} must be in (0, 10), got {eps:?}"));
            }
        }
        if let Some(norm) = self.max_grad_norm
            && !(norm > 0.0 && norm.is_finite())
        {
            return invalid(format!("max_grad_norm must be positive, got {norm:?}"));
        }
        if !(self.aux_loss_weight >= 0.0 && self.aux_loss_weight.is_finite()) {
            return invalid(format!("aux_loss_weight must be ≥ 0, got {:?}", self.aux_loss_weight));
        }
        for (name, value) in [("reward.correct", self.reward.correct), ("reward.format", self.reward.format)]
        {
            if !value.is_finite() {
                return invalid(format!("{name} must be finite"));
            }
        }
        self.task.validate().map_err(|e| TrainError::Invalid(e.to_string()))?;
        Ok(())
    }
}

/// Group-relative advantages of `rewards` laid out as consecutive groups of `group` completions.
pub fn advantages(rewards: &[f32], group: usize, scale: ScaleRewards) -> Vec<f32> {
    const EPS: f32 = 1e-4;
    let std = |values: &[f32]| {
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        // Unbiased (n − 1), as torch.std in TRL.
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (values.len().max(2) - 1) as f32;
        (mean, var.sqrt())
    };
    let (_, batch_std) = std(rewards);
    rewards
        .chunks(group)
        .flat_map(|g| {
            let (mean, group_std) = std(g);
            let denominator = match scale {
                ScaleRewards::Group => group_std + EPS,
                ScaleRewards::Batch => batch_std + EPS,
                ScaleRewards::None => 1.0,
            };
            g.iter().map(move |r| (r - mean) / denominator)
        })
        .collect()
}

/// The PPO-clip loss terms of one update, all on the device.
pub struct PolicyLoss {
    /// What the optimiser minimises, `[1]`.
    pub loss: Tensor<1>,
    /// Mean k3 KL to the reference over completion tokens (0 without one), `[1]`.
    pub kl: Tensor<1>,
    /// Fraction of completion tokens whose clipped term was the smaller (no gradient), `[1]`.
    pub clip_fraction: Tensor<1>,
}

/// GRPO's loss. Shapes: `logp`, `old_logp`, `ref_logp`, `mask`: `[rows, T]`; `advantages`:
/// `[rows, 1]`. `logp` carries the gradient; `old_logp` and `ref_logp` do not.
#[allow(clippy::too_many_arguments)]
pub fn policy_loss(
    logp: Tensor<2>,
    old_logp: Tensor<2>,
    ref_logp: Option<Tensor<2>>,
    advantages: Tensor<2>,
    mask: Tensor<2>,
    config: &GrpoConfig,
) -> PolicyLoss {
    let [rows, t] = logp.dims();
    let advantages = advantages.expand([rows, t]);
    let ratio = (logp.clone() - old_logp).exp();
    let low = 1.0 - config.epsilon;
    let high = 1.0 + config.epsilon_high.unwrap_or(config.epsilon);
    let unclipped = ratio.clone() * advantages.clone();
    let clipped = ratio.clamp(low, high) * advantages;
    // −min(r·A, clip(r)·A): the clipped term wins where it is strictly smaller.
    let clip_active = clipped.clone().lower(unclipped.clone()).float();
    let mut per_token = unclipped.clone().min_pair(clipped).neg();
    let token_count = mask.clone().sum().clamp_min(1.0);
    let kl = match ref_logp {
        Some(ref_logp) if config.beta > 0.0 => {
            // k3 = exp(ref − logp) − (ref − logp) − 1 ≥ 0, unbiased for KL(π‖π_ref).
            let delta = ref_logp - logp.clone();
            let k3 = delta.clone().exp() - delta - 1.0;
            per_token = per_token + k3.clone() * config.beta;
            (k3 * mask.clone()).sum() / token_count.clone()
        }
        _ => Tensor::zeros([1], &logp.device()),
    };
    let masked = per_token * mask.clone();
    let loss = match config.loss_type {
        LossType::Grpo => (masked.sum_dim(1) / mask.clone().sum_dim(1).clamp_min(1.0)).mean(),
        LossType::DrGrpo => masked.sum() / (rows * config.max_completion_length) as f32,
        LossType::Dapo => masked.sum() / token_count.clone(),
    };
    PolicyLoss { loss, kl, clip_fraction: (clip_active * mask).sum() / token_count }
}

/// One rollout: B·G completions of B problems, with what the reward and the detectors made of them.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// Per row (groups of G consecutive rows share a problem).
    pub problems: Vec<Problem>,
    pub completions: Vec<String>,
    pub tokens: Vec<Vec<u32>>,
    pub rewards: Vec<f32>,
    pub advantages: Vec<f32>,
    pub behaviours: Vec<Behaviour>,
}

/// What one GRPO step measured. Flat, so it writes as one CSV row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrpoStepMetrics {
    pub step: usize,
    pub lr: f64,
    pub reward_mean: f64,
    pub reward_std: f64,
    /// Fraction of groups in which every completion got the same reward (no learning signal).
    pub zero_variance_groups: f64,
    pub accuracy: f64,
    pub first_guess_accuracy: f64,
    pub check_rate: f64,
    pub wait_rate: f64,
    pub fix_rate: f64,
    pub broke_rate: f64,
    pub check_accuracy: Option<f64>,
    /// Among checks: the verdict says what the comparison says (see `BehaviourStats`).
    pub verdict_accuracy: Option<f64>,
    pub mean_length: f64,
    pub mean_length_correct: Option<f64>,
    pub mean_length_wrong: Option<f64>,
    pub loss: f32,
    pub kl: f32,
    pub clip_fraction: f32,
    pub entropy: f32,
    pub aux_loss: f32,
    pub rollout_ms: f64,
    pub update_ms: f64,
    /// Tokens the rollout sampled (all rows, up to each row's end).
    pub sampled_tokens: usize,
    /// Matmul FLOPs the update ran (policy forward and backward per iteration, plus the
    /// reference's and the old policy's forward passes where used), counted from the shapes by
    /// [`aha_model::ModelConfig::forward_matmul_flops`]: `update_flops / update_ms` is the
    /// update's achieved rate.
    pub update_flops: f64,
    pub readbacks: usize,
    /// Updates skipped so far because the loss or a parameter came out NaN or infinite (the
    /// policy and optimiser were put back as they were before that update).
    pub skipped_updates: usize,
}

/// A step's metrics plus what the page draws beside them.
#[derive(Debug, Clone)]
pub struct GrpoStep {
    pub metrics: GrpoStepMetrics,
    pub rollout: Rollout,
    /// `[layers][experts]` fraction of completion tokens routed to each expert in the update.
    pub expert_load: Vec<Vec<f32>>,
}

/// The policy being trained, its optimiser, the frozen reference and the problem stream.
pub struct GrpoTrainer {
    pub(crate) policy: Model,
    reference: Option<Model>,
    pub(crate) optim: Adam,
    pub(crate) config: GrpoConfig,
    tokenizer: CharTokenizer,
    pub(crate) problems: ProblemGenerator,
    device: Device,
    pub(crate) step: usize,
    pub(crate) skipped_updates: usize,
    /// The longest completion of the last rollout, in tokens: where the next rollout checks first
    /// whether every row has stopped (speed only: the samples are the same wherever it checks).
    longest_completion: usize,
    /// Fault injection for tests: the next update's loss is multiplied by NaN.
    poison_next_update: bool,
}

impl GrpoTrainer {
    /// Starts from `base` (a model on an inference device). Rollouts are seeded from
    /// `config.seed` and the step number.
    pub fn new(
        base: Model,
        config: GrpoConfig,
        tokenizer: CharTokenizer,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        if base.vocab_size() != tokenizer.vocab_size() {
            return Err(TrainError::Invalid(format!(
                "the model's vocabulary ({}) is not the tokenizer's ({})",
                base.vocab_size(),
                tokenizer.vocab_size()
            )));
        }
        let prompt_len = Problem::new(0, config.task.op, 0, config.task.a_digits, config.task.b_digits)
            .map_err(|e| TrainError::Invalid(e.to_string()))?
            .prompt()
            .len();
        if prompt_len.checked_add(config.max_completion_length).is_none_or(|len| len > base.max_seq_len()) {
            return Err(TrainError::Invalid(format!(
                "prompt ({prompt_len}) + max_completion_length ({}) exceeds the model's max_seq_len ({})",
                config.max_completion_length,
                base.max_seq_len()
            )));
        }
        let reference = (config.beta > 0.0).then(|| base.clone());
        Ok(Self {
            policy: base.train(),
            reference,
            optim: Adam::new(config.max_grad_norm),
            problems: ProblemGenerator::new(config.task, config.seed)
                .map_err(|e| TrainError::Invalid(e.to_string()))?,
            config,
            tokenizer,
            device: device.clone().autodiff(),
            step: 0,
            skipped_updates: 0,
            longest_completion: 0,
            poison_next_update: false,
        })
    }

    /// Makes the next update's loss NaN, to test that a non-finite update is skipped and changes
    /// nothing. Not for anything but tests.
    #[doc(hidden)]
    pub fn poison_next_update(&mut self) {
        self.poison_next_update = true;
    }

    pub fn config(&self) -> &GrpoConfig {
        &self.config
    }

    /// Steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// The current policy without autodiff, for sampling, evaluation and export.
    pub fn policy(&self) -> Model {
        self.policy.valid()
    }

    /// Samples `repeats` completions of each problem with the current policy (one readback),
    /// the sampler seeded with `seed`. Returns each row's problem and its completion.
    pub async fn complete(
        &self,
        problems: &[Problem],
        repeats: usize,
        temperature: f32,
        seed: u64,
    ) -> Result<(Vec<Problem>, Completed), TrainError> {
        self.complete_with(&self.policy.valid(), problems, repeats, temperature, seed).await
    }

    /// [`GrpoTrainer::complete`] with another `policy` (an earlier one of this run, e.g. the base
    /// model kept for the step-0 evaluation), on this run's settings.
    pub async fn complete_with(
        &self,
        policy: &Model,
        problems: &[Problem],
        repeats: usize,
        temperature: f32,
        seed: u64,
    ) -> Result<(Vec<Problem>, Completed), TrainError> {
        let rows: Vec<Problem> = problems.iter().flat_map(|p| std::iter::repeat_n(*p, repeats)).collect();
        let prompts: Vec<String> = rows.iter().map(Problem::prompt).collect();
        let mut sampling =
            sampling(&self.tokenizer, '.', temperature, self.config.max_completion_length, seed)?;
        sampling.top_k = self.config.top_k;
        sampling.stop_check_every = self.config.stop_check_every;
        // Answers grow slowly from step to step: check first at the last rollout's longest
        // (rounded up to the check interval), so one read usually finds every row done.
        sampling.first_stop_check =
            self.longest_completion.next_multiple_of(self.config.stop_check_every.max(1));
        let device = self.device.clone().inner();
        let completed = complete(policy, &self.tokenizer, &prompts, &sampling, &device).await?;
        Ok((rows, completed))
    }

    /// Behaviour of the current policy on `problems` (a fixed held-out set), `repeats` samples each
    /// at `temperature` (0: greedy, where one sample suffices). Every evaluation uses the same
    /// draws (`seed`), so changes between evaluations come from the policy, not the dice.
    pub async fn evaluate(
        &self,
        problems: &[Problem],
        repeats: usize,
        temperature: f32,
        seed: u64,
    ) -> Result<BehaviourStats, TrainError> {
        self.evaluate_policy(&self.policy.valid(), problems, repeats, temperature, seed).await
    }

    /// [`GrpoTrainer::evaluate`] of another `policy` (see [`GrpoTrainer::complete_with`]).
    pub async fn evaluate_policy(
        &self,
        policy: &Model,
        problems: &[Problem],
        repeats: usize,
        temperature: f32,
        seed: u64,
    ) -> Result<BehaviourStats, TrainError> {
        let (rows, completed) = self.complete_with(policy, problems, repeats, temperature, seed).await?;
        let behaviours: Vec<Behaviour> =
            rows.iter().zip(&completed.texts).map(|(p, c)| behaviour(p, c)).collect();
        Ok(BehaviourStats::from_behaviours(&behaviours))
    }

    /// One GRPO step: rollout, reward, advantage, update.
    pub async fn step(&mut self) -> Result<GrpoStep, TrainError> {
        let config = self.config.clone();
        let group = config.num_generations;

        // --- rollout: B problems × G samples, one readback
        let rollout_start = Instant::now();
        let problems: Vec<Problem> = (&mut self.problems).take(config.prompts_per_step).collect();
        let rollout_seed = config.seed ^ (self.step as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let (rows, completed) = self.complete(&problems, group, config.temperature, rollout_seed).await?;
        let Completed { texts: completions, tokens, mut readbacks } = completed;
        let rewards: Vec<f32> =
            rows.iter().zip(&completions).map(|(p, c)| reward(p, c, config.reward)).collect();
        let behaviours: Vec<Behaviour> =
            rows.iter().zip(&completions).map(|(p, c)| behaviour(p, c)).collect();
        let advantages = advantages(&rewards, group, config.scale_rewards);
        let rollout_ms = rollout_start.elapsed().as_secs_f64() * 1e3;
        let sampled_tokens = tokens.iter().map(Vec::len).sum();
        self.longest_completion = tokens.iter().map(Vec::len).max().unwrap_or(0);

        // --- update batch: prompt + completion, targets shifted by one, loss on completion tokens
        let update_start = Instant::now();
        let batch = update_batch(&rows, &tokens, &self.tokenizer)?;
        let device = self.device.clone();
        let t = batch.to_device(&device);
        let row_advantages =
            Tensor::<1>::from_floats(advantages.as_slice(), &device).reshape([batch.rows, 1]);
        let scaled = |logits: Tensor<3>| logits.div_scalar(config.temperature);
        let kernels = self.policy.kernels();
        let old_logp = if config.num_iterations > 1 {
            let policy = self.policy.valid();
            let logits = policy.forward(t.inputs.clone().inner(), t.token_mask.clone().inner()).logits;
            Some(token_logprobs(scaled(logits), t.targets.clone().inner(), kernels))
        } else {
            None
        };
        let ref_logp = self.reference.as_ref().map(|reference| {
            let logits = reference.forward(t.inputs.clone().inner(), t.token_mask.clone().inner()).logits;
            token_logprobs(scaled(logits), t.targets.clone().inner(), kernels)
        });
        let schedule = LrSchedule::warmup_only(config.learning_rate, config.warmup_steps);
        let lr = schedule.lr(self.step);
        // Tensors are immutable: keeping these handles is the rollback if the update goes non-finite.
        let before_update = (self.policy.clone(), self.optim.clone());
        let poison = std::mem::take(&mut self.poison_next_update);
        let mut last = None;
        for _ in 0..config.num_iterations {
            let out = self.policy.forward(t.inputs.clone(), t.token_mask.clone());
            let logits = scaled(out.logits);
            let logp = token_logprobs(logits.clone(), t.targets.clone(), kernels);
            let old = old_logp.clone().unwrap_or_else(|| logp.clone().detach());
            let mut parts = policy_loss(
                logp,
                old,
                ref_logp.clone(),
                row_advantages.clone(),
                t.loss_mask.clone(),
                &config,
            );
            if poison {
                parts.loss = parts.loss * f32::NAN;
            }
            let total = parts.loss.clone() + out.aux_loss.clone() * config.aux_loss_weight;
            let grads = GradientsParams::from_grads(total.backward(), &self.policy);
            self.policy = self.optim.step(lr, self.policy.clone(), grads);
            let entropy = masked_entropy(logits.detach(), t.loss_mask.clone(), kernels);
            last = Some((parts, entropy, out.aux_loss, out.expert_load));
        }
        let (parts, entropy, aux, load) = last.expect("num_iterations ≥ 1");
        readbacks += 1;
        let transaction = Transaction::default()
            .register(parts.loss)
            .register(parts.kl)
            .register(parts.clip_fraction)
            .register(entropy)
            .register(aux)
            .register(load)
            .register(parameter_sum(&self.policy).detach());
        let values = readback::read(transaction)
            .await?
            .into_iter()
            .map(readback::values::<f32>)
            .collect::<Result<Vec<_>, _>>()?;
        // The same read carries the verdict: a NaN or infinite loss, or a parameter made
        // non-finite by a bad gradient, undoes the whole update.
        if !(values[0][0].is_finite() && values[6][0].is_finite()) {
            (self.policy, self.optim) = before_update;
            self.skipped_updates += 1;
        }
        let update_ms = update_start.elapsed().as_secs_f64() * 1e3;
        // Forward + backward (about twice the forward) per iteration, and the no-grad passes.
        let forward_flops = self.policy.forward_matmul_flops(batch.rows, batch.seq_len);
        let no_grad_passes = usize::from(ref_logp.is_some()) + usize::from(old_logp.is_some());
        let update_flops = forward_flops * (3 * config.num_iterations + no_grad_passes) as f64;
        let n_experts = self.policy.n_experts().max(1);
        let expert_load: Vec<Vec<f32>> = values[5].chunks(n_experts).map(<[f32]>::to_vec).collect();

        // --- metrics
        let stats = BehaviourStats::from_behaviours(&behaviours);
        let mean = rewards.iter().map(|&r| f64::from(r)).sum::<f64>() / rewards.len() as f64;
        let var = rewards.iter().map(|&r| (f64::from(r) - mean).powi(2)).sum::<f64>() / rewards.len() as f64;
        let flat_groups = rewards.chunks(group).filter(|g| g.iter().all(|&r| r == g[0])).count();
        let metrics = GrpoStepMetrics {
            step: self.step,
            lr,
            reward_mean: mean,
            reward_std: var.sqrt(),
            zero_variance_groups: flat_groups as f64 / config.prompts_per_step as f64,
            accuracy: stats.accuracy,
            first_guess_accuracy: stats.first_guess_accuracy,
            check_rate: stats.check_rate,
            wait_rate: stats.wait_rate,
            fix_rate: stats.fix_rate,
            broke_rate: stats.broke_rate,
            check_accuracy: stats.check_accuracy,
            verdict_accuracy: stats.verdict_accuracy,
            mean_length: stats.mean_length,
            mean_length_correct: stats.mean_length_correct,
            mean_length_wrong: stats.mean_length_wrong,
            loss: values[0][0],
            kl: values[1][0],
            clip_fraction: values[2][0],
            entropy: values[3][0],
            aux_loss: values[4][0],
            rollout_ms,
            update_ms,
            sampled_tokens,
            update_flops,
            readbacks,
            skipped_updates: self.skipped_updates,
        };
        self.step += 1;
        Ok(GrpoStep {
            metrics,
            rollout: Rollout { problems: rows, completions, tokens, rewards, advantages, behaviours },
            expert_load,
        })
    }
}

/// The sum of every parameter, `[1]`: finite exactly when every parameter is (a NaN or an
/// infinity anywhere makes it non-finite; finite weights of this size cannot overflow f32).
fn parameter_sum(model: &Model) -> Tensor<1> {
    struct Sums(Vec<Tensor<1>>);
    impl ModuleVisitor for Sums {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.val().sum());
        }
    }
    let mut sums = Sums(Vec::new());
    model.visit(&mut sums);
    Tensor::cat(sums.0, 0).sum()
}

/// Mean entropy (nats) of the next-token distribution over the masked positions, `[1]`.
pub fn masked_entropy(logits: Tensor<3>, mask: Tensor<2>, kernels: KernelChoice) -> Tensor<1> {
    let entropy = aha_kernels::token_entropy(logits, kernels);
    (entropy * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}

/// The update batch: every row is prompt + completion (padded to the longest), every completion
/// token trained.
fn update_batch(
    rows: &[Problem],
    completions: &[Vec<u32>],
    tokenizer: &CharTokenizer,
) -> Result<TokenBatch, TrainError> {
    let mut token_rows = Vec::with_capacity(rows.len());
    for (problem, completion) in rows.iter().zip(completions) {
        let prompt = tokenizer.encode(&problem.prompt())?;
        let ids: Vec<i64> = prompt.iter().chain(completion).map(|&id| i64::from(id)).collect();
        // Target t is ids[t + 1]: the completion's tokens are targets prompt_len − 1 onwards.
        let mut trained = vec![0.0f32; prompt.len() - 1];
        trained.resize(ids.len() - 1, 1.0);
        token_rows.push((ids, trained));
    }
    Ok(TokenBatch::from_rows(token_rows, i64::from(tokenizer.special_ids().pad)))
}
