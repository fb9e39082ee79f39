//! The settings of a GRPO run (TRL's `GRPOConfig` names where one exists) and their bounds:
//! the one place a knob is checked, whether it comes from a preset, a link, a CLI flag or a saved
//! run.

use aha_model::{MAX_TEMPERATURE, MIN_TEMPERATURE};
use aha_tasks::{ProblemSpec, RewardConfig};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// How per-token losses are averaged (TRL's `loss_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    #[cfg_attr(feature = "ts", ts(type = "number"))]
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
