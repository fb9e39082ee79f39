//! One GRPO run, as the CLI, the page and the emergence report all drive it: the trainer, the base
//! model it started from, the fixed held-out set and the evaluation schedule of one [`RunConfig`].
//!
//! The caller's loop is only "step until done": [`GrpoRun::step`] trains once and, when the
//! schedule says so, evaluates the new policy on the held-out set. The base model's evaluation
//! (step 0) is asked for separately, so a page can show its first step before it.

use aha_model::Model;
use aha_tasks::Problem;
use aha_tokenizer::CharTokenizer;
use burn::tensor::Device;

use crate::error::TrainError;
use crate::grpo::{GrpoStep, GrpoTrainer};
use crate::run_config::{EvalRow, RunConfig, evaluate_policy};
use crate::run_state::state_metadata;

/// The metadata field of a saved run state that holds its whole [`RunConfig`].
const RUN_CONFIG: &str = "run_config";

/// A GRPO run: see the module docs.
pub struct GrpoRun {
    trainer: GrpoTrainer,
    /// The model the run started from, kept for the step-0 evaluation.
    base: Model,
    config: RunConfig,
    held_out: Vec<Problem>,
}

/// What one [`GrpoRun::step`] did.
pub struct RunStep {
    pub step: GrpoStep,
    /// The held-out evaluation of the policy after this step, when the schedule asks for one.
    pub eval: Option<EvalRow>,
}

impl GrpoRun {
    /// A run of `config` from `base` (on `device`). The config is validated here; an error names
    /// the first bad value.
    pub fn new(
        base: Model,
        config: RunConfig,
        tokenizer: CharTokenizer,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let held_out = config.held_out()?;
        let trainer = GrpoTrainer::new(base.clone(), config.grpo.clone(), tokenizer, device)?;
        Ok(Self { trainer, base, config, held_out })
    }

    /// The run a [`GrpoRun::save_state`] file holds, continued from its step with the config saved
    /// in it. `base` is the run's base model. `older` is the run's config for a state saved before
    /// states carried one (the page's runs saved by an earlier version); it is not used otherwise.
    pub fn resume(
        base: Model,
        tokenizer: CharTokenizer,
        device: &Device,
        state: &[u8],
        older: Option<&RunConfig>,
    ) -> Result<Self, TrainError> {
        let config = match state_metadata(state)?.get(RUN_CONFIG) {
            Some(json) => serde_json::from_str::<RunConfig>(json)
                .map_err(|e| TrainError::State(format!("its run config does not parse: {e}")))?,
            None => older.cloned().ok_or_else(|| {
                TrainError::State("it holds no run config, and none was given for it".into())
            })?,
        };
        config.grpo.validate()?;
        let held_out = config.held_out()?;
        let trainer = GrpoTrainer::resume(base.clone(), config.grpo.clone(), tokenizer, device, state)?;
        Ok(Self { trainer, base, config, held_out })
    }

    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    pub fn trainer(&self) -> &GrpoTrainer {
        &self.trainer
    }

    pub fn steps_done(&self) -> usize {
        self.trainer.steps_done()
    }

    /// The current policy.
    pub fn policy(&self) -> Model {
        self.trainer.policy()
    }

    /// One GRPO step, then the held-out evaluation if the schedule has one after it.
    pub async fn step(&mut self) -> Result<RunStep, TrainError> {
        let step = self.trainer.step().await?;
        let eval = match self.config.eval.evaluates_at(self.trainer.steps_done()) {
            true => Some(self.evaluate().await?),
            false => None,
        };
        Ok(RunStep { step, eval })
    }

    /// The current policy on the held-out set, sampled and greedy.
    pub async fn evaluate(&self) -> Result<EvalRow, TrainError> {
        evaluate_policy(&self.trainer, &self.trainer.policy(), self.steps_done(), &self.held_out).await
    }

    /// Another model of the same vocabulary on this run's held-out set with this run's draws, as
    /// if it were this run's policy after `step` updates: a distilled student beside the student's
    /// own GRPO run, measured alike.
    pub async fn evaluate_model(&self, model: &Model, step: usize) -> Result<EvalRow, TrainError> {
        evaluate_policy(&self.trainer, model, step, &self.held_out).await
    }

    /// The base model on the held-out set: the row [`GrpoRun::evaluate`] gives before the first
    /// step, whenever it is asked for (the draws depend only on the run's seed).
    pub async fn evaluate_base(&self) -> Result<EvalRow, TrainError> {
        evaluate_policy(&self.trainer, &self.base, 0, &self.held_out).await
    }

    /// Everything needed to continue the run (policy, optimiser, counters and the run's config),
    /// read with one readback.
    pub async fn save_state(&self) -> Result<Vec<u8>, TrainError> {
        let config = serde_json::to_string(&self.config).map_err(|e| TrainError::State(e.to_string()))?;
        self.trainer.save_state_with(vec![(RUN_CONFIG, config)]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_config::{LateEval, RunSettings};
    use aha_model::{ModelConfig, MoeConfig};

    fn small_model() -> Model {
        let tokenizer = CharTokenizer::new();
        let config = ModelConfig::new(tokenizer.vocab_size(), MoeConfig::new().with_d_expert(16))
            .with_d_model(16)
            .with_n_heads(2);
        config.init_seeded(&Device::flex(), 3)
    }

    fn tiny(json: &str) -> RunConfig {
        serde_json::from_str::<RunSettings>(json).unwrap().to_config().unwrap()
    }

    #[test]
    fn the_schedule_is_dense_then_sparse_and_never_when_off() {
        let dense = RunConfig::named("tiny").unwrap().eval;
        assert_eq!(dense.every, 5);
        let at = |eval: &crate::EvalConfig| (0..=40).filter(|&s| eval.evaluates_at(s)).collect::<Vec<_>>();
        assert_eq!(at(&dense), [0, 5, 10, 15, 20, 25, 30, 35, 40]);
        let thinned = crate::EvalConfig { late: Some(LateEval { after: 10, every: 15 }), ..dense.clone() };
        assert_eq!(at(&thinned), [0, 5, 10, 15, 30]);
        let never_late = crate::EvalConfig { late: Some(LateEval { after: 10, every: 0 }), ..dense.clone() };
        assert_eq!(at(&never_late), [0, 5, 10]);
        let off = crate::EvalConfig { every: 0, ..dense };
        assert!(at(&off).is_empty());
    }

    #[test]
    fn steps_evaluate_on_schedule_and_the_base_row_is_step_0() {
        let mut config = tiny(r#"{"preset":"tiny","max_completion_length":8}"#);
        config.eval.every = 2;
        let device = Device::flex();
        let mut run = GrpoRun::new(small_model(), config.clone(), CharTokenizer::new(), &device).unwrap();
        let before = pollster::block_on(run.evaluate()).unwrap();
        let evaluated: Vec<Option<usize>> =
            (0..4).map(|_| pollster::block_on(run.step()).unwrap().eval.map(|row| row.step)).collect();
        assert_eq!(evaluated, [None, Some(2), None, Some(4)]);
        let base = pollster::block_on(run.evaluate_base()).unwrap();
        assert_eq!(base, before, "the base model's row after training is the step-0 row");
        assert_eq!(base.problems, config.eval.problems);
    }

    #[test]
    fn a_saved_state_carries_its_config_and_resumes_where_it_stopped() {
        let config = tiny(r#"{"preset":"tiny","max_completion_length":8,"seed":11}"#);
        let device = Device::flex();
        let mut run = GrpoRun::new(small_model(), config.clone(), CharTokenizer::new(), &device).unwrap();
        pollster::block_on(run.step()).unwrap();
        let state = pollster::block_on(run.save_state()).unwrap();
        let next = pollster::block_on(run.step()).unwrap().step.rollout.completions;

        // No config passed: the state's own is used; a different `older` one is ignored.
        let other = tiny(r#"{"preset":"tiny","seed":5}"#);
        for older in [None, Some(&other)] {
            let mut resumed =
                GrpoRun::resume(small_model(), CharTokenizer::new(), &device, &state, older).unwrap();
            assert_eq!(resumed.config(), &config);
            assert_eq!(resumed.steps_done(), 1);
            let again = pollster::block_on(resumed.step()).unwrap().step.rollout.completions;
            assert_eq!(again, next, "the resumed run answers as the uninterrupted one did");
        }
    }

    #[test]
    fn a_state_without_a_config_needs_the_run_s_own() {
        let config = tiny(r#"{"preset":"tiny","max_completion_length":8}"#);
        let device = Device::flex();
        let mut run = GrpoRun::new(small_model(), config.clone(), CharTokenizer::new(), &device).unwrap();
        pollster::block_on(run.step()).unwrap();
        // A trainer's bare state: what the page saved before runs kept their config.
        let older_state = pollster::block_on(run.trainer().save_state()).unwrap();
        let resume =
            |older| GrpoRun::resume(small_model(), CharTokenizer::new(), &device, &older_state, older);
        let message = resume(None).err().unwrap().to_string();
        assert!(message.contains("no run config"), "{message}");
        assert_eq!(resume(Some(&config)).unwrap().steps_done(), 1);
        let other = tiny(r#"{"preset":"tiny","max_completion_length":8,"seed":5}"#);
        let message = resume(Some(&other)).err().unwrap().to_string();
        assert!(message.contains("other settings"), "{message}");
    }
}
