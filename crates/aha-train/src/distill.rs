//! Distillation as DeepSeek-R1 does it: sample the RL'd teacher on *training* problems, keep the
//! completions whose final answer is right (rejection sampling: the same rule-based check GRPO's
//! reward uses), and fine-tune a smaller student on them with plain next-token loss — the SFT
//! trainer of the base models, on the teacher's texts instead of a written corpus.
//!
//! The held-out split is never sampled: a held-out problem given to [`teacher_answers`] is an
//! error, so the comparison on the held-out split (`cargo xtask distill`) measures problems
//! neither the teacher's answers nor the student's training ever showed.

use aha_model::Model;
use aha_tasks::{Problem, ProblemGenerator, Split, Trace, is_correct, parse_completion};
use aha_tokenizer::CharTokenizer;
use burn::module::Module;
use burn::tensor::Device;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::complete::{complete, repeated_rows, sampling};
use crate::error::TrainError;
use crate::grpo_config::GrpoConfig;
use crate::schedule::LrSchedule;
use crate::sft::{SftStepMetrics, SftTrainer};

/// How the teacher is sampled and how the student learns from what passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistillConfig {
    /// Teacher samples per training problem.
    pub samples_per_problem: usize,
    /// The teacher's sampling temperature (its GRPO temperature: the answers it was trained on).
    pub temperature: f32,
    pub max_completion_length: usize,
    /// Student SFT: traces per batch, steps, peak learning rate (warmup, then cosine decay to
    /// `min_lr_ratio · lr`), aux loss weight as in the base recipes.
    pub batch_size: usize,
    pub steps: usize,
    pub lr: f64,
    pub warmup: usize,
    pub min_lr_ratio: f64,
    pub aux_loss_weight: f32,
    pub seed: u64,
}

impl DistillConfig {
    /// Distillation from a teacher trained with `grpo`: its sampling temperature and answer length
    /// (the answers it was trained on), its aux loss weight and seed; two samples a problem and the
    /// student's SFT at batch 64, lr 1e-3 with 5% warmup and a cosine decay to a tenth, for `steps`.
    pub fn for_teacher(grpo: &GrpoConfig, steps: usize) -> Self {
        DistillConfig {
            samples_per_problem: 2,
            temperature: grpo.temperature,
            max_completion_length: grpo.max_completion_length,
            batch_size: 64,
            steps,
            lr: 1e-3,
            warmup: (steps / 20).max(1),
            min_lr_ratio: 0.1,
            aux_loss_weight: grpo.aux_loss_weight,
            seed: grpo.seed,
        }
    }

    pub fn validate(&self) -> Result<(), TrainError> {
        let invalid = |msg: String| Err(TrainError::Invalid(msg));
        if self.samples_per_problem == 0 || self.batch_size == 0 || self.steps == 0 {
            return invalid("samples_per_problem, batch_size and steps must each be at least 1".into());
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return invalid(format!("temperature must be positive, got {}", self.temperature));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return invalid(format!("lr must be positive, got {}", self.lr));
        }
        if !(0.0..=1.0).contains(&self.min_lr_ratio) {
            return invalid(format!("min_lr_ratio must be in [0, 1], got {}", self.min_lr_ratio));
        }
        Ok(())
    }
}

/// What rejection sampling made of the teacher's answers.
#[derive(Debug, Clone, Default)]
pub struct TeacherAnswers {
    /// The right answers, as SFT traces (every completion token trained).
    pub traces: Vec<Trace>,
    /// The wrong ones, as `(prompt, completion)`: dropped from training, kept to be shown.
    pub rejected: Vec<(String, String)>,
}

impl TeacherAnswers {
    /// Completions sampled, kept or not.
    pub fn sampled(&self) -> usize {
        self.traces.len() + self.rejected.len()
    }

    /// Fraction of the teacher's samples that were kept.
    pub fn acceptance(&self) -> f64 {
        self.traces.len() as f64 / self.sampled().max(1) as f64
    }

    /// Adds the answers of another batch.
    pub fn extend(&mut self, more: TeacherAnswers) {
        self.traces.extend(more.traces);
        self.rejected.extend(more.rejected);
    }
}

/// The first `count` training problems a teacher answers for a run seeded `seed`: drawn with
/// another seed than the run's GRPO draws, so they are not its next problems. Never held out.
pub fn teacher_problems(
    task: aha_tasks::ProblemSpec,
    seed: u64,
    count: usize,
) -> Result<Vec<Problem>, TrainError> {
    let problems =
        ProblemGenerator::new(task, seed ^ 0x0d15_7111).map_err(|e| TrainError::Invalid(e.to_string()))?;
    Ok(problems.take(count).collect())
}

/// Samples `teacher` `config.samples_per_problem` times on each of `problems` (one batch, one
/// readback) and keeps the completions whose final answer is right. Refuses held-out problems.
pub async fn teacher_answers(
    teacher: &Model,
    tokenizer: &CharTokenizer,
    problems: &[Problem],
    config: &DistillConfig,
    device: &Device,
) -> Result<TeacherAnswers, TrainError> {
    config.validate()?;
    if let Some(held_out) = problems.iter().find(|p| p.split() == Split::HeldOut) {
        return Err(TrainError::Invalid(format!(
            "{} is in the held-out split: distillation samples training problems only",
            held_out.prompt()
        )));
    }
    let (rows, prompts) = repeated_rows(problems, config.samples_per_problem);
    let sampling = sampling(tokenizer, '.', config.temperature, config.max_completion_length, config.seed)?;
    let completed = complete(teacher, tokenizer, &prompts, &sampling, device).await?;
    let mut answers = TeacherAnswers::default();
    for ((problem, prompt), completion) in rows.iter().zip(prompts).zip(completed.texts) {
        if is_correct(problem, &parse_completion(&completion)) {
            let loss_mask = vec![true; completion.chars().count()];
            answers.traces.push(Trace { prompt, completion, loss_mask });
        } else {
            answers.rejected.push((prompt, completion));
        }
    }
    Ok(answers)
}

/// The student's fine-tuning on the teacher's kept answers: epochs over them in a seeded order.
pub struct DistillRun {
    config: DistillConfig,
    tokenizer: CharTokenizer,
    trainer: SftTrainer,
    device: Device,
    traces: Vec<Trace>,
    order: Vec<usize>,
    rng: ChaCha8Rng,
    step: usize,
}

impl DistillRun {
    /// `student` is the student's base model on an inference `device` (autodiff is added here).
    pub fn new(
        student: Model,
        answers: TeacherAnswers,
        config: DistillConfig,
        tokenizer: CharTokenizer,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        if answers.traces.is_empty() {
            return Err(TrainError::Invalid(format!(
                "none of the teacher's {} answers was right: nothing to distil",
                answers.sampled()
            )));
        }
        if student.vocab_size() != tokenizer.vocab_size() {
            return Err(TrainError::Invalid(format!(
                "the student's vocabulary ({}) is not the tokenizer's ({})",
                student.vocab_size(),
                tokenizer.vocab_size()
            )));
        }
        let device = device.clone().autodiff();
        let trainer = SftTrainer::new(student.train(), config.aux_loss_weight);
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Ok(Self {
            config,
            tokenizer,
            trainer,
            device,
            traces: answers.traces,
            order: Vec::new(),
            rng,
            step: 0,
        })
    }

    pub fn is_done(&self) -> bool {
        self.step >= self.config.steps
    }

    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// One SFT step on the next `batch_size` kept answers; `None` once every step is done.
    pub async fn next_step(&mut self) -> Option<Result<SftStepMetrics, TrainError>> {
        if self.is_done() {
            return None;
        }
        Some(self.train_step().await)
    }

    async fn train_step(&mut self) -> Result<SftStepMetrics, TrainError> {
        let batch: Vec<Trace> = (0..self.config.batch_size).map(|_| self.next_trace()).collect();
        let schedule = LrSchedule {
            peak: self.config.lr,
            warmup: self.config.warmup,
            total: self.config.steps,
            min_ratio: self.config.min_lr_ratio,
        };
        let lr = schedule.lr(self.step);
        let metrics =
            self.trainer.step_on_traces(&batch, &self.tokenizer, &self.device, lr, (self.step, 0)).await?;
        self.step += 1;
        Ok(metrics)
    }

    /// The next trace of the current epoch; a new shuffled epoch when one runs out.
    fn next_trace(&mut self) -> Trace {
        if self.order.is_empty() {
            self.order = (0..self.traces.len()).collect();
            self.order.shuffle(&mut self.rng);
        }
        let index = self.order.pop().expect("an epoch was just shuffled");
        self.traces[index].clone()
    }

    /// The student as trained so far, without autodiff.
    pub fn student(&self) -> Model {
        self.trainer.inference_model()
    }
}
