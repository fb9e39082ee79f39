//! Aha's training code, shared by the CLI and the browser: the SFT loop that builds the base model,
//! checkpoints, and the GRPO loop. Everything that reads device data does so asynchronously.
//!
//! - [`complete`]: many prompts completed at once, one readback.
//! - [`grpo`]: the GRPO trainer and its step: rollout, rule-based reward, clipped update.
//! - [`grpo_config`]: GRPO's knobs and their bounds, checked in one place.
//! - [`grpo_loss`]: group-relative advantages and the clipped policy loss.
//! - [`grpo_run`]: one GRPO run — trainer, held-out set, evaluation schedule, saved state — as
//!   the CLI, the page and the emergence report drive it.
//! - [`adam`]: Adam with its state readable asynchronously (checkpoints on WebGPU).
//! - [`sft`]: staged supervised fine-tuning on the task corpus.
//! - [`error`]: `TrainError`, the one error type of training.
//! - [`batch`]: traces → padded batches with loss masks; length bucketing.
//! - [`loss`]: token log-probs and masked next-token loss.
//! - [`schedule`]: warmup + cosine learning rate.
//! - [`run_config`]: a whole GRPO run's config (named presets, a link's settings applied to one)
//!   and the held-out evaluation.
//! - [`probe`]: does checking pay? Forced-check vs forced-answer accuracy.
//! - [`recipe`]: named model + SFT settings (recipe B, its no-check ablation, a tiny variant).
//! - [`run_state`]: a GRPO run's policy, optimiser and counters as one resumable file.
//! - [`checkpoint`]: save/load (Burn record + config.json + tokenizer.json), safetensors export.

pub mod adam;
pub mod batch;
pub mod checkpoint;
pub mod complete;
pub mod distill;
pub mod error;
pub mod grpo;
pub mod grpo_config;
pub mod grpo_loss;
pub mod grpo_run;
pub mod loss;
pub mod probe;
pub mod recipe;
pub mod run_config;
pub mod run_state;
pub mod schedule;
pub mod sft;

pub use checkpoint::{Checkpoint, CheckpointError, copy_to_cpu, export_safetensors, load_weights};
pub use distill::{DistillConfig, DistillRun, TeacherAnswers, teacher_answers, teacher_problems};
pub use error::TrainError;
pub use grpo::{GrpoStep, GrpoStepMetrics, GrpoTrainer, Rollout};
pub use grpo_config::{GrpoConfig, LossType, ScaleRewards};
pub use grpo_run::{GrpoRun, RunStep};
pub use probe::{CheckPays, Decision, Probe, TeacherForced};
pub use recipe::BaseRecipe;
pub use run_config::{EvalConfig, EvalRow, LateEval, RunConfig, RunSettings};
pub use schedule::LrSchedule;
pub use sft::{SftConfig, SftRun, SftStage, SftStepMetrics, SftTrainer};
