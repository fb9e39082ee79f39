//! Probes: does checking pay for this model? The same problems are answered twice, once with the
//! decision after the guess forced to "check" (`c`) and once forced to "answer now" (`a`). The
//! model writes its own guess first in both; only the decision is imposed. If forced checking is
//! more accurate than forced answering, RL has something to discover.

use aha_model::Model;
use aha_tasks::{Behaviour, BehaviourStats, Problem, behaviour};
use aha_tokenizer::CharTokenizer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::complete::{complete, sampling};
use crate::sft::TrainError;

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
            complete(self.model, tokenizer, &starts, &sampling(' ', width + 2, self.seed), self.device)
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
            let room = self.max_new_tokens.saturating_sub(width + 2).max(1);
            let rest = complete(
                self.model,
                tokenizer,
                &prompts,
                &sampling('.', room, self.seed ^ 0x5eed),
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
