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
//! Settings: [`crate::grpo_config`]; steps 3–4's maths: [`crate::grpo_loss`]; here the trainer.

use aha_model::{Model, readback};
use aha_tasks::{Behaviour, BehaviourStats, Problem, ProblemGenerator, behaviour, reward};
use aha_tokenizer::CharTokenizer;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, Transaction};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::adam::Adam;
use crate::batch::TokenBatch;
use crate::complete::{Completed, complete, repeated_rows, sampling};
use crate::grpo_config::GrpoConfig;
use crate::grpo_loss::{PolicyLoss, advantages, masked_entropy, policy_loss};
use crate::loss::token_logprobs;

use crate::error::TrainError;
use crate::schedule::LrSchedule;

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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
        let (rows, prompts) = repeated_rows(problems, repeats);
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

    /// Behaviour of `policy` (this run's current one or an earlier one, e.g. the base model kept
    /// for the step-0 evaluation) on `problems` (a fixed held-out set), one sample each at
    /// `temperature` (0: greedy). Every evaluation uses the same draws (`seed`), so changes
    /// between evaluations come from the policy, not the dice.
    pub async fn evaluate_policy(
        &self,
        policy: &Model,
        problems: &[Problem],
        temperature: f32,
        seed: u64,
    ) -> Result<BehaviourStats, TrainError> {
        let (rows, completed) = self.complete_with(policy, problems, 1, temperature, seed).await?;
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
        let tensors = batch.to_device(&device);
        let row_advantages =
            Tensor::<1>::from_floats(advantages.as_slice(), &device).reshape([batch.rows, 1]);
        let scaled = |logits: Tensor<3>| logits.div_scalar(config.temperature);
        let kernels = self.policy.kernels();
        let old_logp = if config.num_iterations > 1 {
            let policy = self.policy.valid();
            let logits =
                policy.forward(tensors.inputs.clone().inner(), tensors.token_mask.clone().inner()).logits;
            Some(token_logprobs(scaled(logits), tensors.targets.clone().inner(), kernels))
        } else {
            None
        };
        let ref_logp = self.reference.as_ref().map(|reference| {
            let logits =
                reference.forward(tensors.inputs.clone().inner(), tensors.token_mask.clone().inner()).logits;
            token_logprobs(scaled(logits), tensors.targets.clone().inner(), kernels)
        });
        let schedule = LrSchedule::warmup_only(config.learning_rate, config.warmup_steps);
        let lr = schedule.lr(self.step);
        // Tensors are immutable: keeping these handles is the rollback if the update goes non-finite.
        let before_update = (self.policy.clone(), self.optim.clone());
        let poison = std::mem::take(&mut self.poison_next_update);
        let mut last = None;
        for _ in 0..config.num_iterations {
            let out = self.policy.forward(tensors.inputs.clone(), tensors.token_mask.clone());
            let logits = scaled(out.logits);
            let logp = token_logprobs(logits.clone(), tensors.targets.clone(), kernels);
            let old = old_logp.clone().unwrap_or_else(|| logp.clone().detach());
            let mut loss_terms = policy_loss(
                logp,
                old,
                ref_logp.clone(),
                row_advantages.clone(),
                tensors.loss_mask.clone(),
                &config,
            );
            if poison {
                loss_terms.loss = loss_terms.loss * f32::NAN;
            }
            let total = loss_terms.loss.clone() + out.aux_loss.clone() * config.aux_loss_weight;
            let grads = GradientsParams::from_grads(total.backward(), &self.policy);
            self.policy = self.optim.step(lr, self.policy.clone(), grads);
            let entropy = masked_entropy(logits.detach(), tensors.loss_mask.clone(), kernels);
            last = Some((loss_terms, entropy, out.aux_loss, out.expert_load));
        }
        let (loss_terms, entropy, aux, load) = last.expect("num_iterations ≥ 1");
        readbacks += 1;
        let read = UpdateReadback::read(loss_terms, entropy, aux, load, &self.policy).await?;
        // The same read carries the verdict: a NaN or infinite loss, or a parameter made
        // non-finite by a bad gradient, undoes the whole update.
        if !(read.loss.is_finite() && read.parameter_sum.is_finite()) {
            (self.policy, self.optim) = before_update;
            self.skipped_updates += 1;
        }
        let update_ms = update_start.elapsed().as_secs_f64() * 1e3;
        let no_grad_passes = usize::from(ref_logp.is_some()) + usize::from(old_logp.is_some());
        let update_flops = self.update_flops(&batch, no_grad_passes);

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
            loss: read.loss,
            kl: read.kl,
            clip_fraction: read.clip_fraction,
            entropy: read.entropy,
            aux_loss: read.aux_loss,
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
            expert_load: read.expert_load,
        })
    }

    /// The matmul FLOPs of one update over `batch`: forward and backward (about twice the
    /// forward) per iteration, plus `no_grad_passes` forward passes (reference, old policy).
    fn update_flops(&self, batch: &TokenBatch, no_grad_passes: usize) -> f64 {
        let forward = self.policy.forward_matmul_flops(batch.rows, batch.seq_len);
        forward * (3 * self.config.num_iterations + no_grad_passes) as f64
    }
}

/// What an update reads back, in one transaction: the loss and its parts, the experts' load and
/// whether every parameter is still finite.
struct UpdateReadback {
    loss: f32,
    kl: f32,
    clip_fraction: f32,
    entropy: f32,
    aux_loss: f32,
    /// `[layers][experts]` share of the tokens routed to each expert.
    expert_load: Vec<Vec<f32>>,
    /// The sum of every parameter of the updated policy: finite exactly when every one is.
    parameter_sum: f32,
}

impl UpdateReadback {
    async fn read(
        loss_terms: PolicyLoss,
        entropy: Tensor<1>,
        aux_loss: Tensor<1>,
        expert_load: Tensor<2>,
        policy: &Model,
    ) -> Result<Self, TrainError> {
        let transaction = Transaction::default()
            .register(loss_terms.loss)
            .register(loss_terms.kl)
            .register(loss_terms.clip_fraction)
            .register(entropy)
            .register(aux_loss)
            .register(expert_load)
            .register(parameter_sum(policy).detach());
        let values = readback::read(transaction)
            .await?
            .into_iter()
            .map(readback::values::<f32>)
            .collect::<Result<Vec<_>, _>>()?;
        let [loss, kl, clip_fraction, entropy, aux_loss, load, sum]: [Vec<f32>; 7] = values
            .try_into()
            .map_err(|_| TrainError::Readback("the update read back the wrong number of tensors".into()))?;
        let n_experts = policy.n_experts().max(1);
        Ok(Self {
            loss: loss[0],
            kl: kl[0],
            clip_fraction: clip_fraction[0],
            entropy: entropy[0],
            aux_loss: aux_loss[0],
            expert_load: load.chunks(n_experts).map(<[f32]>::to_vec).collect(),
            parameter_sum: sum[0],
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
