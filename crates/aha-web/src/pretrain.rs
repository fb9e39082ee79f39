//! Making a base model in the page (issue #26): the staged supervised fine-tuning `aha pretrain`
//! runs, from a freshly initialised model, a few steps per call so the page can show its progress;
//! then whether checking pays for the result — forced check against forced answer on the held-out
//! set, as `aha eval` measures it — and the model as files, to train with GRPO or to export.
//! Platform-independent, so it is tested natively; `bindings.rs` converts.

use aha_model::Model;
use aha_tasks::held_out_set;
use aha_tokenizer::CharTokenizer;
use aha_train::{BaseRecipe, CheckPays, Probe, RunConfig, SftRun, SftStepMetrics};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::session::{ExportedModel, export_model};

/// The recipes the page offers: the shipped base model's, and its ablation without check traces.
pub const PAGE_RECIPES: [&str; 2] = ["marked-check", "no-check"];
/// Held-out problems the finished model is probed on (`aha eval`'s default).
const PROBED_PROBLEMS: usize = 512;
/// At most this many SFT steps per [`PretrainSession::advance`]: the page asks for fewer to stay
/// responsive; more would hold the Worker for seconds.
const MAX_STEPS_PER_ADVANCE: usize = 64;

/// What the page asks for: a recipe of [`PAGE_RECIPES`], the SFT steps in all (the recipe's own
/// count when absent; fewer shorten every stage in proportion) and the seed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PretrainOptions {
    pub recipe: String,
    #[cfg_attr(feature = "ts", ts(optional))]
    pub steps: Option<usize>,
    pub seed: u64,
}

/// One SFT step as the page charts it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PretrainStep {
    /// Global step, 0-based.
    pub step: usize,
    /// The stage it belongs to, 0-based.
    pub stage: usize,
    /// Mean next-token loss over the step's trained tokens.
    pub loss: f32,
}

impl From<SftStepMetrics> for PretrainStep {
    fn from(metrics: SftStepMetrics) -> Self {
        PretrainStep { step: metrics.step, stage: metrics.stage, loss: metrics.loss }
    }
}

/// Does checking pay for the model: accuracy with the decision after the guess forced to check,
/// and forced to answer, on the same held-out problems and draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckGap {
    /// 0 for greedy decoding, 1 for sampling.
    pub temperature: f32,
    pub with_check: f64,
    pub without_check: f64,
    /// The guesses' accuracy (the same in both arms).
    pub guess: f64,
    pub problems: usize,
}

impl CheckGap {
    fn new(temperature: f32, pays: CheckPays) -> Self {
        CheckGap {
            temperature,
            with_check: pays.acc_with_check,
            without_check: pays.acc_without_check,
            guess: pays.guess_acc,
            problems: pays.problems,
        }
    }
}

/// What one [`PretrainSession::advance`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PretrainUpdate {
    /// Some SFT steps, in order.
    Stepped { steps: Vec<PretrainStep> },
    /// The finished model probed, greedy and sampled.
    Measured { gaps: Vec<CheckGap> },
}

/// Where a pretraining stands: the page's progress line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PretrainProgress {
    pub recipe: String,
    pub parameters: usize,
    pub steps: usize,
    pub steps_done: usize,
    pub stages: usize,
    /// Every step taken and the probe run.
    pub done: bool,
}

/// A base model being made: see the module docs.
pub struct PretrainSession {
    recipe: BaseRecipe,
    run: SftRun,
    device: Device,
    steps_done: usize,
    measured: bool,
}

impl PretrainSession {
    /// Starts `options`' recipe from a fresh model on `device`. Every error is a sentence for the
    /// page.
    pub fn new(options: &PretrainOptions, device: &Device) -> Result<Self, WebError> {
        let tokenizer = CharTokenizer::new();
        if !PAGE_RECIPES.contains(&options.recipe.as_str()) {
            return Err(format!(
                "recipe must be one of {}, got {:?}",
                PAGE_RECIPES.join(", "),
                options.recipe
            )
            .into());
        }
        let mut recipe =
            BaseRecipe::named(&options.recipe, tokenizer.vocab_size()).expect("a page recipe is named");
        recipe.sft.seed = options.seed;
        if let Some(steps) = options.steps {
            shorten(&mut recipe, steps)?;
        }
        let run = SftRun::new(&recipe.model, recipe.sft.clone(), device)?;
        Ok(Self { recipe, run, device: device.clone(), steps_done: 0, measured: false })
    }

    pub fn progress(&self) -> PretrainProgress {
        PretrainProgress {
            recipe: self.recipe.name.clone(),
            parameters: self.recipe.model.num_params(),
            steps: self.recipe.sft.total_steps(),
            steps_done: self.steps_done,
            stages: self.recipe.sft.stages.len(),
            done: self.measured,
        }
    }

    pub fn is_done(&self) -> bool {
        self.measured
    }

    /// The next piece of work: up to `steps` SFT steps (at least one, at most 64) until the
    /// recipe's are all taken, then the probe. Errors once done.
    pub async fn advance(&mut self, steps: usize) -> Result<PretrainUpdate, WebError> {
        if self.measured {
            return Err("this base model is made".into());
        }
        if self.run.is_done() {
            let gaps = self.measure().await?;
            self.measured = true;
            return Ok(PretrainUpdate::Measured { gaps });
        }
        let mut taken = Vec::new();
        for _ in 0..steps.clamp(1, MAX_STEPS_PER_ADVANCE) {
            match self.run.next_step().await {
                Some(metrics) => taken.push(PretrainStep::from(metrics?)),
                None => break,
            }
        }
        self.steps_done += taken.len();
        Ok(PretrainUpdate::Stepped { steps: taken })
    }

    /// Forced check against forced answer on the default preset's held-out problems, greedy then
    /// sampled, as `aha eval` reports them.
    async fn measure(&self) -> Result<Vec<CheckGap>, WebError> {
        let model = self.model();
        let eval = RunConfig::named("default").expect("the default preset exists").eval;
        let problems = held_out_set(self.recipe.sft.task, PROBED_PROBLEMS, eval.seed)?;
        let prompt_len = problems.first().map_or(0, |p| p.prompt().len());
        let tokenizer = self.run.tokenizer();
        let mut gaps = Vec::new();
        for temperature in [0.0, 1.0] {
            let probe = Probe {
                model: &model,
                tokenizer,
                device: &self.device,
                temperature,
                seed: self.recipe.sft.seed,
                max_new_tokens: self.recipe.model.max_seq_len.saturating_sub(prompt_len).max(1),
            };
            gaps.push(CheckGap::new(temperature, probe.check_pays(&problems).await?));
        }
        Ok(gaps)
    }

    /// The model as it is now, for inference.
    fn model(&self) -> Model {
        self.run.trainer().inference_model()
    }

    /// The model as files, as an export writes them.
    pub async fn export(&self) -> Result<ExportedModel, WebError> {
        export_model(&self.model(), &self.recipe.model, self.run.tokenizer()).await
    }
}

/// Shortens `recipe` to `steps` SFT steps in all: every stage (and its warmup) in proportion —
/// each stage ends where its share of the full recipe ends, rounded — and each keeps at least one
/// step, so a short run still walks every stage.
fn shorten(recipe: &mut BaseRecipe, steps: usize) -> Result<(), WebError> {
    let full = recipe.sft.total_steps();
    let stages = recipe.sft.stages.len();
    if !(stages..=full).contains(&steps) {
        return Err(format!("steps must be {stages} to {full} (the recipe's own count), got {steps}").into());
    }
    let (mut full_end, mut end) = (0, 0);
    for (i, stage) in recipe.sft.stages.iter_mut().enumerate() {
        full_end += stage.steps;
        let later_stages = stages - i - 1;
        let next_end = ((full_end * steps + full / 2) / full).clamp(end + 1, steps - later_stages);
        let scaled = next_end - end;
        stage.warmup = stage.warmup * scaled / stage.steps;
        stage.steps = scaled;
        end = next_end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(recipe: &str, steps: Option<usize>) -> PretrainOptions {
        PretrainOptions { recipe: recipe.into(), steps, seed: 7 }
    }

    #[test]
    fn a_short_run_walks_every_stage_then_probes_and_exports_a_model_the_page_imports() {
        let device = Device::flex();
        let mut session = PretrainSession::new(&options("marked-check", Some(6)), &device).unwrap();
        let progress = session.progress();
        assert_eq!((progress.steps, progress.stages, progress.steps_done), (6, 3, 0));
        let mut steps = Vec::new();
        let mut gaps = None;
        while !session.is_done() {
            match pollster::block_on(session.advance(4)).unwrap() {
                PretrainUpdate::Stepped { steps: taken } => steps.extend(taken),
                PretrainUpdate::Measured { gaps: measured } => gaps = Some(measured),
            }
        }
        assert_eq!(steps.iter().map(|s| s.step).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
        assert_eq!(steps.iter().map(|s| s.stage).collect::<Vec<_>>(), [0, 0, 1, 1, 2, 2]);
        assert!(steps.iter().all(|s| s.loss.is_finite() && s.loss > 0.0));
        let gaps = gaps.expect("probed once every step was taken");
        assert_eq!(
            gaps.iter().map(|g| (g.temperature, g.problems)).collect::<Vec<_>>(),
            [(0.0, 512), (1.0, 512)]
        );
        for gap in &gaps {
            for accuracy in [gap.with_check, gap.without_check, gap.guess] {
                assert!((0.0..=1.0).contains(&accuracy), "{gap:?}");
            }
        }
        assert!(session.progress().done);
        assert!(pollster::block_on(session.advance(1)).is_err(), "a made model takes no more steps");

        // The files are a model the page's import reads back: a GRPO run starts from them.
        let files = pollster::block_on(session.export()).unwrap();
        let settings: aha_train::RunSettings = serde_json::from_str(r#"{"preset":"tiny"}"#).unwrap();
        let run = crate::session::RunSession::new(
            &device,
            files.weights,
            &files.config,
            &files.tokenizer,
            &settings,
        );
        assert!(run.is_ok(), "{:?}", run.err());
    }

    #[test]
    fn the_full_recipe_is_the_shipped_base_model_s() {
        let session = PretrainSession::new(&options("marked-check", None), &Device::flex()).unwrap();
        let shipped = BaseRecipe::named("marked-check", CharTokenizer::new().vocab_size()).unwrap();
        assert_eq!(session.progress().steps, shipped.sft.total_steps());
        assert_eq!(session.recipe.sft.stages, shipped.sft.stages);
        assert_eq!(session.progress().parameters, shipped.model.num_params());
    }

    #[test]
    fn refuses_an_unknown_recipe_and_a_step_count_out_of_range_by_name() {
        let device = Device::flex();
        let refused = |recipe: &str, steps| {
            PretrainSession::new(&options(recipe, steps), &device).err().unwrap().to_string()
        };
        assert_eq!(
            refused("control", None),
            r#"recipe must be one of marked-check, no-check, got "control""#
        );
        assert_eq!(
            refused("marked-check", Some(2)),
            "steps must be 3 to 2600 (the recipe's own count), got 2"
        );
        assert_eq!(
            refused("no-check", Some(2601)),
            "steps must be 3 to 2600 (the recipe's own count), got 2601"
        );
        assert!(refused("marked-check", Some(usize::MAX)).starts_with("steps must be 3 to 2600"));
    }
}
