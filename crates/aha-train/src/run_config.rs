//! A whole GRPO run's config: the GRPO settings plus the held-out evaluation. Named presets
//! (`RunConfig::named`), a link's or the CLI's settings applied to one (`RunSettings::to_config`),
//! and the held-out evaluation's row (`EvalRow`). It round-trips through JSON; a saved run keeps it.

use aha_tasks::{BehaviourStats, Problem, ProblemSpec, RewardConfig, held_out_set};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::grpo::GrpoTrainer;
use crate::grpo_config::{GrpoConfig, LossType, ScaleRewards};

/// The fixed held-out set and how often it is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvalConfig {
    /// Distinct problems in the held-out set, all from the task's held-out split
    /// (`aha_tasks::Split::HeldOut`), which training never draws from.
    pub problems: usize,
    /// Seed of the order the held-out split's problems are taken in.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seed: u64,
    /// Evaluate every this many steps (and before the first); 0 never.
    pub every: usize,
    /// After this many steps, evaluate every `every_late` steps instead: the emergence run
    /// measures the onset densely and the rest sparsely. `None`: `every` throughout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateEval>,
}

/// The sparser evaluation schedule after the onset (see [`EvalConfig::late`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LateEval {
    /// The last step measured at `EvalConfig::every`.
    pub after: usize,
    /// Evaluate every this many steps after it; 0 never.
    pub every: usize,
}

impl EvalConfig {
    /// Whether the policy after `step` updates is evaluated (step 0 is the base model).
    pub fn evaluates_at(&self, step: usize) -> bool {
        if self.every == 0 {
            return false;
        }
        match self.late {
            Some(late) if step > late.after => late.every > 0 && step.is_multiple_of(late.every),
            _ => step.is_multiple_of(self.every),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunConfig {
    pub preset: String,
    pub grpo: GrpoConfig,
    pub eval: EvalConfig,
}

impl RunConfig {
    pub const NAMES: [&'static str; 2] = ["default", "tiny"];

    /// `[m, k, n]` of the update's typical matmul for `model`: every token of a full batch (B × G
    /// rows at the model's length) through an expert's first projection. The bench's matmul peak
    /// is measured at this shape.
    pub fn update_matmul_shape(&self, model: &aha_model::ModelConfig) -> [u32; 3] {
        let rows = self.grpo.prompts_per_step * self.grpo.num_generations;
        let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        [to_u32(rows * model.max_seq_len), to_u32(model.d_model), to_u32(model.moe.d_expert)]
    }

    /// `default`: recipe B's GRPO (B 8 × G 8, lr 3e-4 with 5 warmup steps, clip 0.2, β 0.04,
    /// temperature 1, one update per batch, group-std advantages, per-sequence token mean).
    /// `tiny`: the same at B 4 × G 4 and a small held-out set, stopping rollouts early once every
    /// answer has ended, for quick demos and tests.
    pub fn named(name: &str) -> Option<RunConfig> {
        let default = RunConfig {
            preset: "default".into(),
            grpo: GrpoConfig {
                task: ProblemSpec::MUL_3X1,
                reward: RewardConfig::default(),
                prompts_per_step: 8,
                num_generations: 8,
                // The marked check's path is 70 characters.
                max_completion_length: 72,
                temperature: 1.0,
                top_k: 0,
                stop_check_every: 0,
                learning_rate: 3e-4,
                warmup_steps: 5,
                // DeepSeekMath's GRPO weight. The reward never sees the verdict, so without a KL
                // term nothing held it: at β 0 two seeds of three drifted into "wait" after a
                // check that agreed (by step 300 and 500); at 0.04 all three stayed faithful to
                // step 500, for ~2 points of accuracy and a reference forward pass a step
                // (dev/LOG.md, 2026-12-07).
                beta: 0.04,
                epsilon: 0.2,
                epsilon_high: None,
                loss_type: LossType::Grpo,
                scale_rewards: ScaleRewards::Group,
                num_iterations: 1,
                max_grad_norm: Some(1.0),
                aux_loss_weight: 0.01,
                seed: 0,
            },
            // 512 problems: a rate's 95% interval is about ±4 points at worst (±9 with 128).
            eval: EvalConfig { problems: 512, seed: 9_000_001, every: 10, late: None },
        };
        match name {
            "default" => Some(default),
            "tiny" => Some(RunConfig {
                preset: "tiny".into(),
                // Stop checks: the base model's answers are ~13 characters of the 64 allowed, and on
                // a software adapter every decode step costs (dev/LOG.md, 2026-11-29).
                grpo: GrpoConfig {
                    prompts_per_step: 4,
                    num_generations: 4,
                    stop_check_every: 16,
                    ..default.grpo
                },
                eval: EvalConfig { problems: 16, every: 5, ..default.eval },
            }),
            _ => None,
        }
    }

    /// The held-out problems: the first `eval.problems` distinct problems of the held-out split in
    /// the order `eval.seed` draws them.
    pub fn held_out(&self) -> Result<Vec<Problem>, TrainError> {
        held_out_set(self.grpo.task, self.eval.problems, self.eval.seed)
            .map_err(|e| TrainError::Invalid(e.to_string()))
    }
}

/// The knobs a person may change on top of a preset — what the page keeps in its URL hash. Names
/// are TRL's; every field but `preset` is optional and unknown fields are an error, so a typo in a
/// shared link is reported instead of silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunSettings {
    pub preset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_per_step: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_generations: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_type: Option<LossType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_length: Option<usize>,
}

impl RunSettings {
    /// The preset with these knobs applied, validated: an error names the first bad value.
    pub fn to_config(&self) -> Result<RunConfig, TrainError> {
        let mut config = RunConfig::named(&self.preset).ok_or_else(|| {
            TrainError::Invalid(format!(
                "unknown preset {:?}; choose one of {}",
                self.preset,
                RunConfig::NAMES.join(", ")
            ))
        })?;
        let grpo = &mut config.grpo;
        grpo.seed = self.seed.unwrap_or(grpo.seed);
        grpo.prompts_per_step = self.prompts_per_step.unwrap_or(grpo.prompts_per_step);
        grpo.num_generations = self.num_generations.unwrap_or(grpo.num_generations);
        grpo.learning_rate = self.learning_rate.unwrap_or(grpo.learning_rate);
        grpo.beta = self.beta.unwrap_or(grpo.beta);
        grpo.epsilon = self.epsilon.unwrap_or(grpo.epsilon);
        grpo.loss_type = self.loss_type.unwrap_or(grpo.loss_type);
        grpo.temperature = self.temperature.unwrap_or(grpo.temperature);
        grpo.max_completion_length = self.max_completion_length.unwrap_or(grpo.max_completion_length);
        grpo.validate()?;
        Ok(config)
    }
}

/// One evaluation of the policy on the held-out set: sampled at the training temperature (one
/// sample per problem) and greedy. Flat, so it writes as one CSV row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvalRow {
    pub step: usize,
    /// Held-out problems evaluated (each sampled once and decoded greedily once).
    pub problems: usize,
    pub sampled_acc: f64,
    pub greedy_acc: f64,
    pub first_guess_acc: f64,
    pub check_rate: f64,
    pub greedy_check_rate: f64,
    pub wait_rate: f64,
    pub fix_rate: f64,
    pub broke_rate: f64,
    pub check_accuracy: Option<f64>,
    /// The verdict says what the comparison says (`ok` exactly when the check equals the guess).
    pub verdict_accuracy: Option<f64>,
    pub ok_when_agree: Option<f64>,
    pub wait_when_differ: Option<f64>,
    pub check_accuracy_after_wrong_guess: Option<f64>,
    /// A wrong guess whose check reproduced it.
    pub check_copies_guess: Option<f64>,
    pub acc_with_check: Option<f64>,
    pub acc_without_check: Option<f64>,
    pub mean_len: f64,
}

impl EvalRow {
    pub fn new(step: usize, sampled: &BehaviourStats, greedy: &BehaviourStats) -> Self {
        EvalRow {
            step,
            problems: sampled.count,
            sampled_acc: sampled.accuracy,
            greedy_acc: greedy.accuracy,
            first_guess_acc: sampled.first_guess_accuracy,
            check_rate: sampled.check_rate,
            greedy_check_rate: greedy.check_rate,
            wait_rate: sampled.wait_rate,
            fix_rate: sampled.fix_rate,
            broke_rate: sampled.broke_rate,
            check_accuracy: sampled.check_accuracy,
            verdict_accuracy: sampled.verdict_accuracy,
            ok_when_agree: sampled.ok_when_agree,
            wait_when_differ: sampled.wait_when_differ,
            check_accuracy_after_wrong_guess: sampled.check_accuracy_after_wrong_guess,
            check_copies_guess: sampled.check_copies_guess,
            acc_with_check: sampled.accuracy_when_checked,
            acc_without_check: sampled.accuracy_when_not_checked,
            mean_len: sampled.mean_length,
        }
    }
}

/// `policy`, the run's policy after `step` updates, on `held_out`: sampled once at the training
/// temperature and decoded greedily. The draws depend only on the run's seed, so the base model
/// kept aside gives after the first step the row it gave before it.
pub(crate) async fn evaluate_policy(
    trainer: &GrpoTrainer,
    policy: &aha_model::Model,
    step: usize,
    held_out: &[Problem],
) -> Result<EvalRow, TrainError> {
    let seed = trainer.config().seed ^ 0xe7a1;
    let sampled = trainer.evaluate_policy(policy, held_out, trainer.config().temperature, seed).await?;
    let greedy = trainer.evaluate_policy(policy, held_out, 0.0, seed).await?;
    Ok(EvalRow::new(step, &sampled, &greedy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpo_config::{MAX_COMPLETION_LENGTH, MAX_LEARNING_RATE};

    #[test]
    fn presets_are_valid_and_round_trip() {
        for name in RunConfig::NAMES {
            let config = RunConfig::named(name).unwrap();
            config.grpo.validate().unwrap();
            let json = serde_json::to_string(&config).unwrap();
            assert_eq!(serde_json::from_str::<RunConfig>(&json).unwrap(), config);
            let held_out = config.held_out().unwrap();
            assert_eq!(held_out.len(), config.eval.problems);
            assert!(held_out.iter().all(aha_tasks::is_held_out));
        }
        assert!(RunConfig::named("fast").is_none());
    }

    #[test]
    fn settings_apply_knobs_and_name_bad_values() {
        let plain = RunSettings { preset: "tiny".into(), ..Default::default() };
        assert_eq!(plain.to_config().unwrap(), RunConfig::named("tiny").unwrap());
        let knobs: RunSettings = serde_json::from_str(
            r#"{"preset":"default","seed":7,"num_generations":4,"loss_type":"dr_grpo","beta":0.1}"#,
        )
        .unwrap();
        let config = knobs.to_config().unwrap();
        assert_eq!((config.grpo.seed, config.grpo.num_generations), (7, 4));
        assert_eq!((config.grpo.loss_type, config.grpo.beta), (LossType::DrGrpo, 0.1));
        assert_eq!(config.grpo.prompts_per_step, 8);
        // Knobs that are absent stay absent when written back (short links).
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"preset":"tiny"}"#);

        let bad = |json: &str| serde_json::from_str::<RunSettings>(json).map_err(|e| e.to_string());
        assert!(bad(r#"{"preset":"tiny","learnig_rate":1}"#).unwrap_err().contains("learnig_rate"));
        assert!(bad(r#"{"preset":"tiny","loss_type":"ppo"}"#).is_err());
        let err = |settings: RunSettings| settings.to_config().unwrap_err().to_string();
        assert!(err(RunSettings { preset: "huge".into(), ..Default::default() }).contains("unknown preset"));
        let one = RunSettings { preset: "tiny".into(), num_generations: Some(1), ..Default::default() };
        assert!(err(one).contains("num_generations"));
        let hot = RunSettings { preset: "tiny".into(), learning_rate: Some(-1.0), ..Default::default() };
        assert!(err(hot).contains("learning_rate"));
    }

    /// Values that wrap an unchecked sum or product, on wasm32 (`2^32`) and on 64-bit
    /// (`usize::MAX - 5`), and floats that silently break a run: each refused, naming its knob.
    #[test]
    fn knobs_out_of_range_are_refused_by_name_without_wrapping() {
        let tiny = || RunSettings { preset: "tiny".into(), ..Default::default() };
        let refused = |settings: RunSettings, knob: &str| {
            let message = settings.to_config().expect_err(knob).to_string();
            assert!(message.contains(knob), "{message:?} should name {knob}");
        };
        for huge in [usize::MAX - 5, usize::MAX, 1 << 32, 4_294_967_290, MAX_COMPLETION_LENGTH + 1] {
            refused(RunSettings { max_completion_length: Some(huge), ..tiny() }, "max_completion_length");
            refused(RunSettings { prompts_per_step: Some(huge), ..tiny() }, "prompts_per_step");
            refused(RunSettings { num_generations: Some(huge), ..tiny() }, "num_generations");
        }
        // Each within its own bound, the product over: 65536 × 65536 wraps to 0 in 32 bits.
        refused(
            RunSettings { prompts_per_step: Some(2048), num_generations: Some(4), ..tiny() },
            "prompts_per_step × num_generations",
        );
        refused(
            RunSettings { prompts_per_step: Some(65536), num_generations: Some(65536), ..tiny() },
            "prompts_per_step",
        );
        for lr in [1e300, f64::INFINITY, f64::NAN, 0.0, MAX_LEARNING_RATE * 2.0] {
            refused(RunSettings { learning_rate: Some(lr), ..tiny() }, "learning_rate");
        }
        let huge_lr =
            RunSettings { learning_rate: Some(1e300), ..tiny() }.to_config().unwrap_err().to_string();
        assert!(huge_lr.ends_with("got 1e300"), "short, readable: {huge_lr}");
        for t in [1e-45, 0.0, -1.0, f32::NAN, f32::INFINITY, 1e30] {
            refused(RunSettings { temperature: Some(t), ..tiny() }, "temperature");
        }
        for beta in [1e300, -0.1, f64::NAN] {
            refused(RunSettings { beta: Some(beta), ..tiny() }, "beta");
        }
        // The bounds themselves are allowed where the model can honour them.
        let edge = RunSettings { learning_rate: Some(MAX_LEARNING_RATE), temperature: Some(0.01), ..tiny() };
        assert!(edge.to_config().is_ok());
        // A completion that fits the bound but not the model is refused by the trainer, not wrapped.
        let long = RunSettings { max_completion_length: Some(MAX_COMPLETION_LENGTH), ..tiny() };
        assert!(
            long.to_config().is_ok(),
            "the knob's own bound allows it; GrpoTrainer::new checks the model"
        );
    }
}
