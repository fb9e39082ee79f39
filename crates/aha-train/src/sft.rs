//! Supervised fine-tuning of the base model: next-token loss on the task's SFT corpus.
//!
//! The corpus is written by `aha-tasks` in stages (see `CorpusMix`), each with its own mix,
//! number of steps and peak learning rate; Adam's state carries over between stages. The same
//! code runs natively and in the browser: the only readback per step is the loss, and it is async.

use aha_model::readback;
use aha_model::{Model, ModelConfig};
use aha_tasks::{Corpus, CorpusError, CorpusMix, ProblemSpec, Trace};
use aha_tokenizer::CharTokenizer;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Transaction};
use serde::{Deserialize, Serialize};

use crate::batch::{BatchTensors, BucketedBatches, TokenBatch};
use crate::error::TrainError;
use crate::loss::{masked_nll, masked_nll_sum};
use crate::schedule::LrSchedule;

/// One stage: `steps` batches of `mix` at a peak learning rate `lr` (warmup, then cosine decay to
/// `SftConfig::min_lr_ratio · lr` within the stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftStage {
    pub steps: usize,
    pub lr: f64,
    pub warmup: usize,
    pub mix: CorpusMix,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftConfig {
    pub task: ProblemSpec,
    pub batch_size: usize,
    pub stages: Vec<SftStage>,
    /// Weight of the MoE balance loss added to the next-token loss.
    pub aux_loss_weight: f32,
    pub min_lr_ratio: f64,
    /// Batches drawn at once for length bucketing.
    pub bucket_pool: usize,
    pub seed: u64,
    /// How the next-token loss is averaged. `None`: over the batch's trained tokens, so with
    /// length bucketing a token of a batch of short traces (no check) weighs about five times a
    /// token of a batch of long ones, and the decision to answer outweighs the decision to check.
    /// `Some(n)`: the sum over trained tokens divided by `batch_size × n`, the same weight for every
    /// token in every batch (`n` ≈ trained tokens per trace keeps the loss's scale).
    #[serde(default)]
    pub loss_tokens_per_row: Option<f32>,
}

impl SftConfig {
    pub fn total_steps(&self) -> usize {
        self.stages.iter().map(|s| s.steps).sum()
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        let invalid = |msg: String| Err(TrainError::Invalid(msg));
        if self.batch_size == 0 {
            return invalid("batch_size must be at least 1".into());
        }
        if self.stages.is_empty() {
            return invalid("at least one SFT stage is needed".into());
        }
        for (i, stage) in self.stages.iter().enumerate() {
            if !(stage.lr > 0.0 && stage.lr.is_finite()) {
                return invalid(format!("stage {i}: lr must be positive, got {}", stage.lr));
            }
            stage.mix.validate()?;
        }
        if !(0.0..=1.0).contains(&self.min_lr_ratio) {
            return invalid(format!("min_lr_ratio must be in [0, 1], got {}", self.min_lr_ratio));
        }
        if !(self.aux_loss_weight >= 0.0 && self.aux_loss_weight.is_finite()) {
            return invalid(format!("aux_loss_weight must be ≥ 0, got {}", self.aux_loss_weight));
        }
        if let Some(n) = self.loss_tokens_per_row
            && !(n > 0.0 && n.is_finite())
        {
            return invalid(format!("loss_tokens_per_row must be positive, got {n}"));
        }
        self.task.validate().map_err(CorpusError::from)?;
        Ok(())
    }
}

/// What one SFT step measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SftStepMetrics {
    /// Global step, 0-based.
    pub step: usize,
    pub stage: usize,
    pub lr: f64,
    /// Mean next-token loss over trained tokens.
    pub loss: f32,
    /// MoE balance loss (1.0 = perfectly balanced).
    pub aux_loss: f32,
    pub trained_tokens: usize,
}

/// A model being trained with Adam on next-token loss.
pub struct SftTrainer {
    model: Model,
    optim: ModuleOptimizer,
    aux_loss_weight: f32,
    /// See [`SftConfig::loss_tokens_per_row`].
    loss_tokens_per_row: Option<f32>,
}

impl SftTrainer {
    /// `model` must live on an autodiff device (`device.autodiff()`).
    pub fn new(model: Model, aux_loss_weight: f32) -> Self {
        Self { model, optim: AdamConfig::new().init(), aux_loss_weight, loss_tokens_per_row: None }
    }

    /// Averages the loss as [`SftConfig::loss_tokens_per_row`] says.
    pub fn with_loss_tokens_per_row(mut self, tokens: Option<f32>) -> Self {
        self.loss_tokens_per_row = tokens;
        self
    }

    /// One Adam step on `traces` (tokenized by `tokenizer`, moved to `device`) at learning rate
    /// `lr`, reported as step `step` of stage `stage`: what the base models' SFT and distillation
    /// share.
    pub async fn step_on_traces(
        &mut self,
        traces: &[Trace],
        tokenizer: &CharTokenizer,
        device: &Device,
        lr: f64,
        (step, stage): (usize, usize),
    ) -> Result<SftStepMetrics, TrainError> {
        let batch = TokenBatch::from_traces(traces, tokenizer)?;
        let (loss, aux_loss) = self.step(&batch.to_device(device), lr).await?;
        Ok(SftStepMetrics { step, stage, lr, loss, aux_loss, trained_tokens: batch.trained_tokens() })
    }

    /// One Adam step on `batch` at learning rate `lr`; returns `(loss, aux_loss)`, read back
    /// asynchronously in one transaction. The loss returned is always the mean over trained
    /// tokens, whatever the averaging trained on, so runs compare.
    pub async fn step(&mut self, batch: &BatchTensors, lr: f64) -> Result<(f32, f32), TrainError> {
        let out = self.model.forward(batch.inputs.clone(), batch.token_mask.clone());
        let kernels = self.model.kernels();
        let [rows, _] = batch.loss_mask.dims();
        // (the mean over trained tokens, reported; what the optimiser minimises)
        let (mean_nll, objective) = match self.loss_tokens_per_row {
            None => {
                let nll = masked_nll(out.logits, batch.targets.clone(), batch.loss_mask.clone(), kernels);
                (nll.clone(), nll)
            }
            Some(per_row) => {
                let sum = masked_nll_sum(out.logits, batch.targets.clone(), batch.loss_mask.clone(), kernels);
                let mean = sum.clone().detach() / batch.loss_mask.clone().sum().clamp_min(1.0);
                (mean, sum / (rows as f32 * per_row))
            }
        };
        let loss = objective + out.aux_loss.clone() * self.aux_loss_weight;
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.optim.step(lr, self.model.clone(), grads);
        let data = readback::read(Transaction::default().register(mean_nll).register(out.aux_loss)).await?;
        let scalar = |i: usize| -> Result<f32, TrainError> {
            let values = readback::values::<f32>(data[i].clone())?;
            values.first().copied().ok_or_else(|| TrainError::Readback("empty".into()))
        };
        Ok((scalar(0)?, scalar(1)?))
    }

    /// The trained model (on the autodiff device).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The trained model without autodiff, for sampling and saving.
    pub fn inference_model(&self) -> Model {
        self.model.valid()
    }
}

/// A whole SFT run through every stage, one step at a time (so a caller — CLI progress bar or the
/// page — can report each step).
pub struct SftRun {
    config: SftConfig,
    tokenizer: CharTokenizer,
    trainer: SftTrainer,
    device: Device,
    batches: Option<BucketedBatches>,
    step: usize,
}

impl SftRun {
    /// Starts a run on `device` (an inference device; autodiff is added here) from a fresh model.
    pub fn new(model_config: &ModelConfig, config: SftConfig, device: &Device) -> Result<Self, TrainError> {
        model_config.validate().map_err(|e| TrainError::Invalid(e.to_string()))?;
        config.validate()?;
        let tokenizer = CharTokenizer::new();
        if tokenizer.vocab_size() != model_config.vocab_size {
            return Err(TrainError::Invalid(format!(
                "the model's vocab_size {} differs from the tokenizer's {}",
                model_config.vocab_size,
                tokenizer.vocab_size()
            )));
        }
        let device = device.clone().autodiff();
        let model = model_config.init_seeded(&device, config.seed);
        Ok(Self {
            trainer: SftTrainer::new(model, config.aux_loss_weight)
                .with_loss_tokens_per_row(config.loss_tokens_per_row),
            config,
            tokenizer,
            device,
            batches: None,
            step: 0,
        })
    }

    pub fn config(&self) -> &SftConfig {
        &self.config
    }

    pub fn is_done(&self) -> bool {
        self.step >= self.config.total_steps()
    }

    /// The stage of global step `step` and the step's index within it.
    fn locate(&self, step: usize) -> (usize, usize) {
        let mut start = 0;
        for (i, stage) in self.config.stages.iter().enumerate() {
            if step < start + stage.steps {
                return (i, step - start);
            }
            start += stage.steps;
        }
        (self.config.stages.len() - 1, step - start)
    }

    /// Trains one step; `None` once every stage is done.
    pub async fn next_step(&mut self) -> Option<Result<SftStepMetrics, TrainError>> {
        if self.is_done() {
            return None;
        }
        Some(self.train_step().await)
    }

    async fn train_step(&mut self) -> Result<SftStepMetrics, TrainError> {
        let (stage_index, in_stage) = self.locate(self.step);
        let stage = self.config.stages[stage_index].clone();
        if in_stage == 0 {
            // A new stage: its own corpus mix, seeded from the run seed and the stage number.
            let seed = self.config.seed.wrapping_add(1_000_003 * (stage_index as u64 + 1));
            let corpus = Corpus::new(self.config.task, stage.mix, seed)?;
            self.batches =
                Some(BucketedBatches::new(corpus, self.config.batch_size, self.config.bucket_pool, seed));
        }
        let traces =
            self.batches.as_mut().expect("a stage's batches exist from its first step").next_traces()?;
        let schedule = LrSchedule {
            peak: stage.lr,
            warmup: stage.warmup,
            total: stage.steps,
            min_ratio: self.config.min_lr_ratio,
        };
        let lr = schedule.lr(in_stage);
        let at = (self.step, stage_index);
        let metrics = self.trainer.step_on_traces(&traces, &self.tokenizer, &self.device, lr, at).await?;
        self.step += 1;
        Ok(metrics)
    }

    pub fn trainer(&self) -> &SftTrainer {
        &self.trainer
    }

    pub fn tokenizer(&self) -> &CharTokenizer {
        &self.tokenizer
    }
}
