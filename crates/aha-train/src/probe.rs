//! Probes: does checking pay for this model? The same problems are answered twice, once with the
//! decision after the guess forced to "check" (`c`) and once forced to "answer now" (`a`). The
//! model writes its own guess first in both; only the decision is imposed. If forced checking is
//! more accurate than forced answering, RL has something to discover.

use aha_model::{Model, readback};
use aha_tasks::{Behaviour, BehaviourStats, Problem, StepFormat, behaviour};
use aha_tokenizer::CharTokenizer;
use burn::tensor::{Device, Transaction};
use serde::{Deserialize, Serialize};

use crate::complete::{complete, sampling};
use crate::error::TrainError;

/// The decision forced after the guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Check,
    Answer,
}

/// Forced-check vs forced-answer accuracy on the same problems and draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckPays {
    pub acc_with_check: f64,
    pub acc_without_check: f64,
    /// Accuracy of the guesses (the same in both arms).
    pub guess_acc: f64,
    pub problems: usize,
}

/// A model, its tokenizer and the sampling settings of a probe.
pub struct Probe<'a> {
    pub model: &'a Model,
    pub tokenizer: &'a CharTokenizer,
    pub device: &'a Device,
    /// 0 is greedy.
    pub temperature: f32,
    pub seed: u64,
    pub max_new_tokens: usize,
}

impl Probe<'_> {
    /// Answers `problems` with the decision after the guess forced to `decision`. The guesses come
    /// from the same draws whatever the decision, so two arms differ only by it.
    pub async fn forced(
        &self,
        problems: &[Problem],
        decision: Decision,
    ) -> Result<BehaviourStats, TrainError> {
        let completions = self.forced_completions(problems, decision).await?;
        let behaviours: Vec<Behaviour> =
            problems.iter().zip(&completions).map(|(p, c)| behaviour(p, c)).collect();
        Ok(BehaviourStats::from_behaviours(&behaviours))
    }

    /// The completions behind [`Probe::forced`].
    pub async fn forced_completions(
        &self,
        problems: &[Problem],
        decision: Decision,
    ) -> Result<Vec<String>, TrainError> {
        let tokenizer = self.tokenizer;
        let sampling =
            |stop, max_new_tokens, seed| sampling(tokenizer, stop, self.temperature, max_new_tokens, seed);

        // Phase 1: the model's own guess, up to the space after it.
        let starts: Vec<String> = problems.iter().map(|p| format!("{}g", p.prompt())).collect();
        let width = problems.first().map_or(0, Problem::answer_width);
        let guesses =
            complete(self.model, tokenizer, &starts, &sampling(' ', width + 2, self.seed)?, self.device)
                .await?;
        let marker = match decision {
            Decision::Check => 'c',
            Decision::Answer => 'a',
        };
        // Phase 2: every well-shaped guess continues after the forced decision, batched.
        let mut completions: Vec<String> = Vec::with_capacity(problems.len());
        let mut continuing = Vec::new();
        for (i, guess) in guesses.texts.iter().enumerate() {
            completions.push(format!("g{guess}"));
            if guess.len() == width + 1 && guess.ends_with(' ') {
                completions[i].push(marker);
                continuing.push(i);
            }
        }
        if !continuing.is_empty() {
            let prompts: Vec<String> =
                continuing.iter().map(|&i| format!("{}{}", problems[i].prompt(), completions[i])).collect();
            // `g`, the guess, its space and the forced marker are already written.
            let room = self.max_new_tokens.saturating_sub(width + 3).max(1);
            let rest = complete(
                self.model,
                tokenizer,
                &prompts,
                &sampling('.', room, self.seed ^ 0x5eed)?,
                self.device,
            )
            .await?;
            for (&i, text) in continuing.iter().zip(&rest.texts) {
                completions[i].push_str(text);
            }
        }
        Ok(completions)
    }

    /// Forced check vs forced answer on the same problems and guesses.
    pub async fn check_pays(&self, problems: &[Problem]) -> Result<CheckPays, TrainError> {
        let checked = self.forced(problems, Decision::Check).await?;
        let answered = self.forced(problems, Decision::Answer).await?;
        Ok(CheckPays {
            acc_with_check: checked.accuracy,
            acc_without_check: answered.accuracy,
            guess_acc: answered.first_guess_accuracy,
            problems: problems.len(),
        })
    }
}

/// How well the model follows a true check it is fed (teacher forcing): each problem's check
/// trace after a near-miss guess, so a check that copies the guess is wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeacherForced {
    /// Fraction of check characters (from `c` to the final `.`) the model predicts (argmax).
    pub token_accuracy: f64,
    /// Fraction of problems whose every check character is predicted.
    pub exact_rate: f64,
    /// Accuracy at each character of the completion (`g` is index 0); `None` where untrained.
    pub by_position: Vec<Option<f64>>,
    /// One completion, to read `by_position` against.
    pub example: String,
}

impl Probe<'_> {
    /// Teacher-forced accuracy of the check on `problems` (one readback). `step_format` and
    /// `restate_guess` must match the format the model was trained on. The decision character `c`
    /// itself is not scored.
    pub async fn teacher_forced_check(
        &self,
        problems: &[Problem],
        step_format: StepFormat,
        restate_guess: bool,
    ) -> Result<TeacherForced, TrainError> {
        use aha_tasks::{TraceSpec, near_miss, write_trace};
        use burn::tensor::Tensor;

        let spec =
            TraceSpec { check: true, wrong_guess: true, step_format, restate_guess, ..TraceSpec::default() };
        let mut traces = Vec::with_capacity(problems.len());
        for (i, p) in problems.iter().enumerate() {
            let wrong = near_miss(&p.answer_text(), i, i % 2 == 0);
            let mut trace = write_trace(p, spec, &wrong).map_err(|e| TrainError::Invalid(e.to_string()))?;
            // Only what follows the decision `c`.
            let start = trace.completion.find('c').map_or(0, |c| c + 1);
            trace.loss_mask.iter_mut().take(start).for_each(|m| *m = false);
            traces.push(trace);
        }
        let batch = crate::batch::TokenBatch::from_traces(&traces, self.tokenizer)?;
        let t = batch.to_device(self.device);
        let logits = self.model.forward(t.inputs.clone(), t.token_mask.clone()).logits;
        let hit: Tensor<2> = logits.argmax(2).squeeze_dim(2).equal(t.targets).float() * t.loss_mask;
        let hits = readback::read(Transaction::default().register(hit)).await?;
        let hits =
            readback::values::<f32>(hits.into_iter().next().ok_or(TrainError::Readback("empty".into()))?)?;

        let prompt_len = traces.first().map_or(0, |t| t.prompt.chars().count());
        let (len, rows) = (batch.seq_len, batch.rows);
        let mut by_position: Vec<(usize, usize)> = Vec::new();
        let (mut right, mut total, mut exact) = (0usize, 0usize, 0usize);
        for r in 0..rows {
            let mut all = true;
            for pos in 0..len {
                if batch.loss_mask[r * len + pos] == 0.0 {
                    continue;
                }
                let ok = hits[r * len + pos] > 0.5;
                // Target at `pos` is completion character `pos + 1 - prompt_len`.
                let char_index = pos + 1 - prompt_len;
                if by_position.len() <= char_index {
                    by_position.resize(char_index + 1, (0, 0));
                }
                by_position[char_index].0 += usize::from(ok);
                by_position[char_index].1 += 1;
                right += usize::from(ok);
                total += 1;
                all &= ok;
            }
            exact += usize::from(all);
        }
        Ok(TeacherForced {
            token_accuracy: right as f64 / total.max(1) as f64,
            exact_rate: exact as f64 / rows.max(1) as f64,
            by_position: by_position.iter().map(|&(k, n)| (n > 0).then(|| k as f64 / n as f64)).collect(),
            example: traces.first().map(|t| t.completion.clone()).unwrap_or_default(),
        })
    }
}
