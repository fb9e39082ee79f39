//! Rule-based rewards: is the final answer right (and, optionally, is the format right)?
//!
//! As in DeepSeek-R1-Zero there is no learned reward model; the reward looks only at the final
//! answer of a well-formed completion. Nothing is said about *how* the model got there, so any rise
//! in checking under RL is the model's own discovery that checking pays.

use serde::{Deserialize, Serialize};

use crate::parse::{ParsedCompletion, parse_completion};
use crate::problem::Problem;

/// Weights of the two reward terms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RewardConfig {
    /// Paid when the final answer equals the true answer.
    pub correct: f32,
    /// Paid for a well-formed completion whose guess and answer have the answer's width.
    pub format: f32,
}

impl Default for RewardConfig {
    /// Correctness only, as in the recipe that showed checking emerge.
    fn default() -> Self {
        Self { correct: 1.0, format: 0.0 }
    }
}

/// The final answer is right: the completion is well formed and its answer, as a number with at
/// most the answer's width in digits, equals the true answer (`0595` and `595` both answer 119*5).
pub fn is_correct(problem: &Problem, parsed: &ParsedCompletion) -> bool {
    parsed.answer.as_deref().filter(|a| a.len() <= problem.answer_width()).and_then(|a| a.parse::<u64>().ok())
        == Some(problem.answer())
}

/// The completion follows the format and writes guess and answer at the answer's width.
pub fn is_format_ok(problem: &Problem, parsed: &ParsedCompletion) -> bool {
    let width = problem.answer_width();
    parsed.well_formed
        && parsed.guess.as_ref().is_some_and(|g| g.len() == width)
        && parsed.answer.as_ref().is_some_and(|a| a.len() == width)
}

/// The reward of `completion` (the text after the prompt) for `problem`.
pub fn reward(problem: &Problem, completion: &str, config: RewardConfig) -> f32 {
    let parsed = parse_completion(completion);
    let correct = if is_correct(problem, &parsed) { config.correct } else { 0.0 };
    let format = if is_format_ok(problem, &parsed) { config.format } else { 0.0 };
    correct + format
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Op;

    const BOTH: RewardConfig = RewardConfig { correct: 1.0, format: 0.1 };

    fn p() -> Problem {
        Problem::new(119, Op::Mul, 5, 3, 1).unwrap()
    }

    #[test]
    fn right_answers_pay() {
        assert_eq!(reward(&p(), "g0595 a0595.", BOTH), 1.1);
        assert_eq!(reward(&p(), "g0595 a0595.", RewardConfig::default()), 1.0);
        assert_eq!(reward(&p(), "g0585 c9*5+0=45 1*5+4=9 1*5+0=5 =0595 wait a0595.", BOTH), 1.1);
        // Unpadded is right but not in format.
        assert_eq!(reward(&p(), "g595 a595.", BOTH), 1.0);
    }

    #[test]
    fn wrong_answers_pay_only_format() {
        assert_eq!(reward(&p(), "g0585 a0585.", BOTH), 0.1);
        assert_eq!(reward(&p(), "g0585 a0585.", RewardConfig::default()), 0.0);
        // The check was right but the model answered its guess anyway.
        assert_eq!(reward(&p(), "g0585 c9*5+0=45 1*5+4=9 1*5+0=5 =0595 ok a0585.", BOTH), 0.1);
    }

    #[test]
    fn malformed_truncated_empty_and_adversarial_pay_nothing() {
        for text in [
            "",
            "g0595 a0595",
            "g0595 c9*5+0=45 1*5+4=9",
            "a0595.",
            "g0595 a0595. a0595.",
            "g0595 a00000595.",
            "g0595 a0595 a0595.",
            "0595",
            "g0595 a-595.",
            "g0595 a+595.",
            "g0595 a595.0",
            "g0595 a99999999999999999999999.",
            "g0595 a\u{0}595.",
        ] {
            assert_eq!(reward(&p(), text, BOTH), 0.0, "{text:?}");
        }
    }
}
