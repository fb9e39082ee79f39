//! A GRPO run in the page: a base checkpoint, a preset with the person's knobs, one step at a time.
//! Platform-independent so it is tested natively too; `bindings.rs` only converts values.

use std::cell::Cell;

use aha_model::{DeviceMemory, ModelConfig, device_memory, readback};
use aha_tokenizer::CharTokenizer;
use aha_train::{
    Checkpoint, EvalRow, GrpoRun, GrpoStep, GrpoStepMetrics, RunConfig, RunSettings, RunStep, copy_to_cpu,
    export_safetensors,
};
use burn::tensor::{Device, Int, Tensor, Transaction};
use serde::Serialize;

use crate::answer::{Completion, GenerateOptions, ModelInfo, answer, next_draw};
use crate::error::WebError;

/// One answer of the group on show, with what the reward and the detectors made of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AnswerView {
    pub completion: String,
    pub reward: f32,
    pub advantage: f32,
    pub correct: bool,
    pub guess_correct: bool,
    pub checked: bool,
    pub said_wait: bool,
    /// The verdict contradicts the comparison (`wait` on a check equal to the guess, or `ok` on
    /// one that differs).
    pub verdict_wrong: bool,
    pub fixed: bool,
    pub broke: bool,
}

/// G answers to one prompt: what the page's group view shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupView {
    pub prompt: String,
    pub expected: String,
    pub answers: Vec<AnswerView>,
}

/// A completion in which the check turned a wrong guess into a right answer (the aha gallery).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Correction {
    pub step: usize,
    pub prompt: String,
    pub completion: String,
    /// The check fixed the guess, but its verdict contradicts the comparison.
    pub verdict_wrong: bool,
}

/// Everything the page draws after one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StepReport {
    pub metrics: GrpoStepMetrics,
    pub group: GroupView,
    pub corrections: Vec<Correction>,
    /// `[layers][experts]` share of completion tokens per expert.
    pub expert_load: Vec<Vec<f32>>,
    /// The held-out evaluation, when this step completes an evaluation interval.
    pub eval: Option<EvalRow>,
}

/// Which expert each token went to, per layer: the page's expert view of one completion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Routes {
    /// The text, a token (character) each.
    pub tokens: Vec<String>,
    /// `[layers][tokens]`: the expert with the largest gate (top-1 routing: the one used).
    pub experts: Vec<Vec<u32>>,
}

/// The current policy as files: what "export model" saves.
#[derive(Debug, Clone)]
pub struct ExportedModel {
    pub safetensors: Vec<u8>,
    /// Burn's record (`model.bpk`): loads back into Aha, on the page or with the CLI.
    pub weights: Vec<u8>,
    pub config: String,
    pub tokenizer: String,
}

pub struct RunSession {
    run: GrpoRun,
    model_config: ModelConfig,
    tokenizer: CharTokenizer,
    device: Device,
    draws: Cell<u64>,
}

impl RunSession {
    /// Loads a checkpoint's three files onto `device` and prepares the run `settings` describe.
    /// Every error is a sentence for the page; nothing is half-built.
    pub fn new(
        device: &Device,
        weights: Vec<u8>,
        config_json: &str,
        tokenizer_json: &str,
        settings: &RunSettings,
    ) -> Result<Self, WebError> {
        Self::start(device, weights, config_json, tokenizer_json, settings, None)
    }

    /// The run a [`RunSession::save_state`] file holds, continued with the settings saved in it:
    /// `weights`, `config_json` and `tokenizer_json` must be its base model's. `settings` are read
    /// only for a state saved before states carried their run's config.
    pub fn resume(
        device: &Device,
        weights: Vec<u8>,
        config_json: &str,
        tokenizer_json: &str,
        settings: &RunSettings,
        state: &[u8],
    ) -> Result<Self, WebError> {
        Self::start(device, weights, config_json, tokenizer_json, settings, Some(state))
    }

    fn start(
        device: &Device,
        weights: Vec<u8>,
        config_json: &str,
        tokenizer_json: &str,
        settings: &RunSettings,
        state: Option<&[u8]>,
    ) -> Result<Self, WebError> {
        let checkpoint = Checkpoint::from_parts(config_json, tokenizer_json, weights)?;
        let model = checkpoint.load_model(device)?;
        let tokenizer = checkpoint.tokenizer.clone();
        let run = match state {
            None => {
                let config = settings.to_config()?;
                GrpoRun::new(model, config, tokenizer, device)
            }
            Some(state) => {
                let older = settings.to_config().ok();
                GrpoRun::resume(model, tokenizer, device, state, older.as_ref())
            }
        }?;
        Ok(Self {
            run,
            model_config: checkpoint.config,
            tokenizer: checkpoint.tokenizer,
            device: device.clone(),
            draws: Cell::new(0),
        })
    }

    /// The whole run configuration (preset with knobs applied), for the export.
    pub fn config(&self) -> &RunConfig {
        self.run.config()
    }

    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            parameters: self.model_config.num_params(),
            config: self.model_config.clone(),
            task: self.config().grpo.task.to_string(),
        }
    }

    pub fn steps_done(&self) -> usize {
        self.run.steps_done()
    }

    /// What the GPU memory pools hold now; `None` on the CPU backend.
    pub fn device_memory(&self) -> Option<DeviceMemory> {
        device_memory(&self.device)
    }

    /// The current policy on the fixed held-out set (sampled and greedy).
    pub async fn evaluate(&self) -> Result<EvalRow, WebError> {
        Ok(self.run.evaluate().await?)
    }

    /// The base model on the held-out set: the run's step-0 evaluation, the same row
    /// [`RunSession::evaluate`] gives before the first step, whenever it is asked for — so the
    /// page can run the first step first and chart the base model after it.
    pub async fn evaluate_base(&self) -> Result<EvalRow, WebError> {
        Ok(self.run.evaluate_base().await?)
    }

    /// One GRPO step, plus the held-out evaluation when it completes an evaluation interval.
    pub async fn step(&mut self) -> Result<StepReport, WebError> {
        let RunStep { step, eval } = self.run.step().await?;
        let GrpoStep { metrics, rollout, expert_load } = step;
        let group_size = self.run.config().grpo.num_generations;
        let view = |row: usize| AnswerView {
            completion: rollout.completions[row].clone(),
            reward: rollout.rewards[row],
            advantage: rollout.advantages[row],
            correct: rollout.behaviours[row].correct,
            guess_correct: rollout.behaviours[row].guess_correct,
            checked: rollout.behaviours[row].checked,
            said_wait: rollout.behaviours[row].said_wait,
            verdict_wrong: rollout.behaviours[row].verdict_right() == Some(false),
            fixed: rollout.behaviours[row].fixed,
            broke: rollout.behaviours[row].broke,
        };
        // The group on show is the first one whose rewards differ — the one that teaches — else
        // the first.
        let groups = rollout.rewards.len() / group_size;
        let shown = (0..groups)
            .find(|&g| {
                let rewards = &rollout.rewards[g * group_size..(g + 1) * group_size];
                rewards.iter().any(|&r| r != rewards[0])
            })
            .unwrap_or(0);
        let first_row = shown * group_size;
        let group = GroupView {
            prompt: rollout.problems[first_row].prompt(),
            expected: rollout.problems[first_row].answer_text(),
            answers: (first_row..first_row + group_size).map(view).collect(),
        };
        let corrections = (0..rollout.completions.len())
            .filter(|&row| rollout.behaviours[row].fixed)
            .map(|row| Correction {
                step: metrics.step,
                prompt: rollout.problems[row].prompt(),
                completion: rollout.completions[row].clone(),
                verdict_wrong: rollout.behaviours[row].verdict_right() == Some(false),
            })
            .collect();
        Ok(StepReport { metrics, group, corrections, expert_load, eval })
    }

    /// The current policy answers a typed problem token by token.
    pub async fn generate(
        &self,
        text: &str,
        options: &GenerateOptions,
        on_token: impl FnMut(&str, f32),
    ) -> Result<Completion, WebError> {
        let seed = options.seed.unwrap_or_else(|| next_draw(&self.draws));
        let options = GenerateOptions { seed: Some(seed), ..options.clone() };
        let policy = self.run.policy();
        let task = &self.config().grpo.task;
        answer(&policy, task, &self.tokenizer, &self.device, text, &options, on_token).await
    }

    /// Which expert each token of `text` (a prompt and its completion) goes to in every layer of
    /// the current policy: one forward pass, one readback.
    pub async fn routes(&self, text: &str) -> Result<Routes, WebError> {
        let ids = self.tokenizer.encode(text)?;
        let max = self.model_config.max_seq_len;
        if ids.is_empty() || ids.len() > max {
            return Err(format!("the text must have 1 to {max} tokens, it has {}", ids.len()).into());
        }
        let n = ids.len();
        let ids_i64: Vec<i64> = ids.iter().map(|&id| i64::from(id)).collect();
        let tokens = Tensor::<1, Int>::from_ints(ids_i64.as_slice(), &self.device).reshape([1, n]);
        let mask = Tensor::<2>::ones([1, n], &self.device);
        let chosen = self.run.policy().forward(tokens, mask).gates.argmax(2); // [layers, n, 1]
        let data = readback::read(Transaction::default().register(chosen)).await?;
        let data = data.into_iter().next().ok_or("empty result")?;
        let flat = readback::values::<i64>(data)?;
        Ok(Routes {
            tokens: ids.iter().map(|&id| self.tokenizer.decode(&[id], false).unwrap_or_default()).collect(),
            experts: flat.chunks(n).map(|layer| layer.iter().map(|&e| e as u32).collect()).collect(),
        })
    }

    /// Everything needed to continue the run later (policy, optimiser, counters; one readback):
    /// what the page saves to IndexedDB.
    pub async fn save_state(&self) -> Result<Vec<u8>, WebError> {
        Ok(self.run.save_state().await?)
    }

    /// The current policy as safetensors, Burn record, config and tokenizer (one readback).
    pub async fn export(&self) -> Result<ExportedModel, WebError> {
        export_model(&self.run.policy(), &self.model_config, &self.tokenizer).await
    }

    /// The current policy (the teacher of a distillation).
    pub fn policy(&self) -> aha_model::Model {
        self.run.policy()
    }

    pub fn tokenizer(&self) -> &CharTokenizer {
        &self.tokenizer
    }

    pub fn device(&self) -> &Device {
        &self.device
    }
}

/// `model` (of `config`) as safetensors, Burn record, config and tokenizer: one readback.
pub async fn export_model(
    model: &aha_model::Model,
    config: &ModelConfig,
    tokenizer: &CharTokenizer,
) -> Result<ExportedModel, WebError> {
    let cpu = copy_to_cpu(model, config).await?;
    let checkpoint = Checkpoint::from_model(&cpu, config, tokenizer)?;
    Ok(ExportedModel {
        safetensors: export_safetensors(&cpu, config)?,
        weights: checkpoint.weights().to_vec(),
        config: config.to_json(),
        tokenizer: tokenizer.to_json()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aha_model::MoeConfig;

    fn small_checkpoint() -> (Vec<u8>, String, String) {
        let tok = CharTokenizer::new();
        let config = ModelConfig::new(tok.vocab_size(), MoeConfig::new().with_d_expert(16))
            .with_d_model(16)
            .with_n_heads(2);
        let model = config.init_seeded(&Device::flex(), 3);
        let ck = Checkpoint::from_model(&model, &config, &tok).unwrap();
        (ck.weights().to_vec(), config.to_json(), tok.to_json().unwrap())
    }

    fn tiny_session(settings: RunSettings) -> Result<RunSession, WebError> {
        let (weights, config, tokenizer) = small_checkpoint();
        RunSession::new(&Device::flex(), weights, &config, &tokenizer, &settings)
    }

    fn settings(json: &str) -> RunSettings {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn steps_report_a_group_and_evaluate_on_schedule() {
        // Completions of an untrained model are long; keep them short so the test is quick.
        let mut run = tiny_session(settings(r#"{"preset":"tiny","max_completion_length":12}"#)).unwrap();
        assert_eq!(run.config().grpo.prompts_per_step, 4);
        let every = run.config().eval.every;
        for step in 0..every {
            let report = pollster::block_on(run.step()).unwrap();
            assert_eq!(report.metrics.step, step);
            assert_eq!(report.group.answers.len(), 4);
            assert!(report.group.prompt.ends_with('='));
            let advantages: f32 = report.group.answers.iter().map(|a| a.advantage).sum();
            assert!(advantages.abs() < 1e-3, "group advantages sum to 0, got {advantages}");
            assert!(report.corrections.iter().all(|c| c.step == step));
            assert_eq!(report.eval.is_some(), step + 1 == every, "evaluation after step {step}");
        }
        assert_eq!(run.steps_done(), every);
    }

    #[test]
    fn the_base_evaluation_after_a_step_is_the_step_0_evaluation() {
        let short = r#"{"preset":"tiny","max_completion_length":12}"#;
        let before = tiny_session(settings(short)).unwrap();
        let at_start = pollster::block_on(before.evaluate()).unwrap();
        let mut after = tiny_session(settings(short)).unwrap();
        pollster::block_on(after.step()).unwrap();
        let base = pollster::block_on(after.evaluate_base()).unwrap();
        assert_eq!(base, at_start);
        assert_eq!(base.step, 0);
    }

    #[test]
    fn export_reloads_as_the_same_policy() {
        let mut run = tiny_session(settings(r#"{"preset":"tiny","max_completion_length":8}"#)).unwrap();
        pollster::block_on(run.step()).unwrap();
        let exported = pollster::block_on(run.export()).unwrap();
        assert_eq!(&exported.safetensors[8..9], b"{", "safetensors: u64 header length, then JSON");
        let options = GenerateOptions { max_new_tokens: Some(8), seed: Some(1), ..Default::default() };
        let before = pollster::block_on(run.generate("123*4", &options, |_, _| {})).unwrap();
        let reloaded = tiny_session_from(exported);
        let after = pollster::block_on(reloaded.generate("123*4", &options, |_, _| {})).unwrap();
        assert_eq!(before.tokens, after.tokens);
        assert_eq!(before.logprobs, after.logprobs);
    }

    fn tiny_session_from(exported: ExportedModel) -> RunSession {
        let settings = settings(r#"{"preset":"tiny","max_completion_length":8}"#);
        RunSession::new(&Device::flex(), exported.weights, &exported.config, &exported.tokenizer, &settings)
            .unwrap()
    }

    #[test]
    fn a_saved_state_resumes_at_its_step_with_its_own_settings() {
        let short = settings(r#"{"preset":"tiny","max_completion_length":8}"#);
        let mut run = tiny_session(short.clone()).unwrap();
        pollster::block_on(run.step()).unwrap();
        let state = pollster::block_on(run.save_state()).unwrap();
        let next = pollster::block_on(run.step()).unwrap();

        let (weights, config, tokenizer) = small_checkpoint();
        let resume = |settings: &RunSettings| {
            RunSession::resume(&Device::flex(), weights.clone(), &config, &tokenizer, settings, &state)
        };
        let mut resumed = resume(&short).unwrap();
        assert_eq!(resumed.steps_done(), 1);
        let again = pollster::block_on(resumed.step()).unwrap();
        assert_eq!(again.group, next.group, "the resumed run draws and answers as the original did");
        // The state carries its run's config: settings passed with it do not change the run.
        let other = settings(r#"{"preset":"tiny","max_completion_length":8,"seed":5}"#);
        let kept = resume(&other).unwrap();
        assert_eq!(kept.config(), run.config());
        assert_eq!(kept.config().grpo.seed, 0);
    }

    #[test]
    fn routes_name_an_expert_per_token_and_layer() {
        let run = tiny_session(settings(r#"{"preset":"tiny","max_completion_length":8}"#)).unwrap();
        let routes = pollster::block_on(run.routes("347*5=g1735 a1735.")).unwrap();
        assert_eq!(routes.tokens.concat(), "347*5=g1735 a1735.");
        assert_eq!(routes.experts.len(), 2);
        assert!(routes.experts.iter().all(|layer| layer.len() == 18 && layer.iter().all(|&e| e < 4)));
        let err = pollster::block_on(run.routes(&"1".repeat(65))).unwrap_err().to_string();
        assert!(err.contains("1 to 64 tokens"), "{err}");
        assert!(pollster::block_on(run.routes("")).is_err());
    }

    #[test]
    fn bad_settings_and_checkpoints_are_sentences() {
        let err = |json: &str| tiny_session(settings(json)).err().unwrap().to_string();
        assert!(err(r#"{"preset":"fast"}"#).contains("unknown preset"));
        assert!(err(r#"{"preset":"tiny","num_generations":1}"#).contains("num_generations"));
        // The small model has 64 positions: a longer completion cannot fit.
        assert!(err(r#"{"preset":"tiny","max_completion_length":200}"#).contains("max_seq_len"));
        let (weights, config, tokenizer) = small_checkpoint();
        let plain = settings(r#"{"preset":"tiny"}"#);
        let truncated = RunSession::new(&Device::flex(), weights[..40].to_vec(), &config, &tokenizer, &plain);
        assert!(truncated.err().unwrap().to_string().starts_with("model.bpk"));
    }
}
