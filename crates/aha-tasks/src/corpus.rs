//! The SFT corpus: a seeded stream of traces mixed in the proportions a training stage asks for.
//!
//! Three kinds of trace make up a corpus. *Natural* traces show the habit we want the base model to
//! have — check rarely (`natural_check_rate`), guess wrong sometimes. *Skill* traces always check but
//! carry no loss on the decision character, so they teach how to check without teaching how often.
//! *Verdict* traces (optional) carry loss only on the verdict and what follows it; half agree with
//! their guess, and some have a check written wrong on purpose, so the verdict is learned as a
//! comparison of what is written, not as a guess at whether the guess was right.

use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::problem::{ProblemError, ProblemGenerator, ProblemSpec};
use crate::trace::{
    GuessMask, StepFormat, Trace, TraceError, TraceSpec, near_miss, write_trace, write_trace_with_result,
};

/// The proportions of one SFT stage's corpus. Rates are probabilities in [0, 1]. Unknown fields are
/// an error: a misspelt field in a recipe file must not silently train the default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusMix {
    /// Fraction of traces that are skill traces.
    pub skill_fraction: f64,
    /// Among natural traces, the fraction that check.
    pub natural_check_rate: f64,
    /// Among natural traces, the fraction whose guess is a near miss.
    pub natural_wrong_rate: f64,
    /// Among skill traces, the fraction whose guess is a near miss (high values stop the check from
    /// learning to copy the guess).
    pub skill_wrong_rate: f64,
    /// Which guess digits carry no loss.
    pub guess_mask: GuessMask,
    /// Among wrong guesses of skill traces, the fraction that are any other number of the answer's
    /// width instead of a near miss: a check can then only be right by computing, never by
    /// copying digits from the guess.
    #[serde(default)]
    pub skill_far_wrong_rate: f64,
    /// How checks write their column steps (see [`StepFormat`]).
    #[serde(default)]
    pub step_format: StepFormat,
    /// Every check restates the guess beside its result before the verdict.
    #[serde(default)]
    pub restate_guess: bool,
    /// ... and compares the two digit by digit (needs `restate_guess`).
    #[serde(default)]
    pub compare_digits: bool,
    /// Fraction of traces that are verdict traces (drawn before the natural/skill choice).
    #[serde(default)]
    pub verdict_fraction: f64,
    /// Among verdict traces, the fraction whose check's result is written wrong: a wrong guess
    /// copied (so the verdict is `ok` on a wrong guess) or a right guess's near miss (`wait` on a
    /// right guess).
    #[serde(default)]
    pub verdict_corrupt_rate: f64,
    /// Among natural and skill traces that check, the fraction whose check's result is written as
    /// the guess itself (the column steps stay true): a check exactly as reliable as the guess, for
    /// the control whose checking does not pay.
    #[serde(default)]
    pub check_copy_rate: f64,
    /// Skill traces carry no loss on their verdict (see `TraceSpec::mask_verdict`).
    #[serde(default)]
    pub skill_verdict_masked: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CorpusError {
    #[error("{name} must be a probability between 0 and 1, got {value}")]
    NotAProbability { name: &'static str, value: f64 },
    #[error(transparent)]
    Problem(#[from] ProblemError),
    #[error(transparent)]
    Trace(#[from] TraceError),
}

impl CorpusMix {
    /// Recipe B's first SFT stage: rare natural checks (10% of natural traces), skill traces (30%)
    /// that teach checking without the habit, near-miss wrong guesses whose digits are not trained.
    pub const RECIPE_B_STAGE1: CorpusMix = CorpusMix {
        skill_fraction: 0.30,
        natural_check_rate: 0.10,
        natural_wrong_rate: 0.25,
        skill_wrong_rate: 0.50,
        guess_mask: GuessMask::WrongOnly,
        skill_far_wrong_rate: 0.0,
        step_format: StepFormat::Natural,
        restate_guess: false,
        compare_digits: false,
        verdict_fraction: 0.0,
        verdict_corrupt_rate: 0.0,
        check_copy_rate: 0.0,
        skill_verdict_masked: false,
    };

    /// No check traces at all: the ablation that shows RL does not invent checking.
    /// Otherwise as [`Self::RECIPE_B_STAGE1`].
    pub const NO_CHECK: CorpusMix = CorpusMix {
        skill_fraction: 0.0,
        natural_check_rate: 0.0,
        skill_wrong_rate: 0.0,
        ..Self::RECIPE_B_STAGE1
    };

    pub fn validate(&self) -> Result<(), CorpusError> {
        for (name, value) in [
            ("skill_fraction", self.skill_fraction),
            ("natural_check_rate", self.natural_check_rate),
            ("natural_wrong_rate", self.natural_wrong_rate),
            ("skill_wrong_rate", self.skill_wrong_rate),
            ("skill_far_wrong_rate", self.skill_far_wrong_rate),
            ("verdict_fraction", self.verdict_fraction),
            ("verdict_corrupt_rate", self.verdict_corrupt_rate),
            ("check_copy_rate", self.check_copy_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(CorpusError::NotAProbability { name, value });
            }
        }
        Ok(())
    }
}

/// An endless, reproducible stream of traces for one stage.
#[derive(Debug, Clone)]
pub struct Corpus {
    mix: CorpusMix,
    problems: ProblemGenerator,
    rng: ChaCha8Rng,
}

impl Corpus {
    /// Problems come from `ProblemGenerator::new(spec, seed)`; the mixing choices from a second
    /// stream derived from the same seed, so changing the mix does not change the problems.
    pub fn new(spec: ProblemSpec, mix: CorpusMix, seed: u64) -> Result<Self, CorpusError> {
        mix.validate()?;
        Ok(Self {
            mix,
            problems: ProblemGenerator::new(spec, seed)?,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de_7ace_0001),
        })
    }

    /// The next trace, or an error if the mix asks for checks on a shape that has no check format.
    pub fn next_trace(&mut self) -> Result<Trace, CorpusError> {
        let problem = self.problems.next().expect("the problem stream is endless");
        let mix = self.mix;
        // Drawn only when asked for, so mixes without verdict traces keep their exact stream.
        if mix.verdict_fraction > 0.0 && self.rng.random_bool(mix.verdict_fraction) {
            return self.verdict_trace(&problem);
        }
        let skill = self.rng.random_bool(mix.skill_fraction);
        let (check, wrong_rate) = if skill {
            (true, mix.skill_wrong_rate)
        } else {
            (self.rng.random_bool(mix.natural_check_rate), mix.natural_wrong_rate)
        };
        let wrong_guess = self.rng.random_bool(wrong_rate);
        let digit = self.rng.random_range(0..problem.answer_width() as u32) as usize;
        let up = self.rng.random_bool(0.5);
        let spec = TraceSpec {
            check,
            wrong_guess,
            mask_decision: skill,
            guess_mask: mix.guess_mask,
            step_format: mix.step_format,
            restate_guess: mix.restate_guess,
            compare_digits: mix.compare_digits,
            verdict_only: false,
            mask_verdict: skill && mix.skill_verdict_masked,
        };
        let truth = problem.answer_text();
        let mut wrong = near_miss(&truth, digit, up);
        // Drawn only when asked for, so mixes without far guesses keep their exact stream.
        if skill
            && wrong_guess
            && mix.skill_far_wrong_rate > 0.0
            && self.rng.random_bool(mix.skill_far_wrong_rate)
        {
            wrong = self.other_number(&problem);
        }
        // Drawn only when asked for, so mixes without a copying check keep their exact stream.
        if check && mix.check_copy_rate > 0.0 && self.rng.random_bool(mix.check_copy_rate) {
            let guess = if wrong_guess { wrong.clone() } else { truth };
            return Ok(write_trace_with_result(&problem, spec, &wrong, Some(&guess))?);
        }
        Ok(write_trace(&problem, spec, &wrong)?)
    }

    /// A verdict trace: a right guess half of the time, else a near miss or (half of those) any
    /// other number; with `verdict_corrupt_rate` the check's result is written wrong so that the
    /// comparison, not the guess's correctness, decides the verdict.
    fn verdict_trace(&mut self, problem: &Problem) -> Result<Trace, CorpusError> {
        let truth = problem.answer_text();
        let wrong_guess = self.rng.random_bool(0.5);
        let near = |rng: &mut ChaCha8Rng| {
            let digit = rng.random_range(0..problem.answer_width() as u32) as usize;
            near_miss(&truth, digit, rng.random_bool(0.5))
        };
        let wrong = if self.rng.random_bool(0.5) { near(&mut self.rng) } else { self.other_number(problem) };
        let written = self.rng.random_bool(self.mix.verdict_corrupt_rate).then(|| {
            // A wrong guess copied by the check, or a right guess's check gone wrong.
            if wrong_guess { wrong.clone() } else { near(&mut self.rng) }
        });
        let spec = TraceSpec {
            check: true,
            wrong_guess,
            mask_decision: true,
            guess_mask: GuessMask::All,
            step_format: self.mix.step_format,
            restate_guess: self.mix.restate_guess,
            compare_digits: self.mix.compare_digits,
            verdict_only: true,
            mask_verdict: false,
        };
        Ok(write_trace_with_result(problem, spec, &wrong, written.as_deref())?)
    }

    /// Any number of the answer's width but the answer, uniformly.
    fn other_number(&mut self, problem: &Problem) -> String {
        let width = problem.answer_width();
        let limit = 10u64.pow(width as u32);
        let answer = problem.answer();
        let mut other = self.rng.random_range(0..limit - 1);
        if other >= answer {
            other += 1;
        }
        format!("{other:0width$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_completion;

    const MIX: CorpusMix = CorpusMix::RECIPE_B_STAGE1;

    #[test]
    fn proportions_follow_the_mix() {
        let mut corpus = Corpus::new(ProblemSpec::MUL_3X1, MIX, 3).unwrap();
        let n = 20_000;
        let (mut checks, mut decision_masked, mut wrong) = (0, 0, 0);
        for _ in 0..n {
            let t = corpus.next_trace().unwrap();
            let parsed = parse_completion(&t.completion);
            assert!(parsed.well_formed, "{}", t.completion);
            checks += usize::from(parsed.check.is_some());
            wrong += usize::from(parsed.verdict.as_deref() == Some("wait"));
            // Skill traces are the ones with an untrained decision character.
            decision_masked += usize::from(!t.loss_mask[6]);
        }
        let rate = |k: usize| k as f64 / n as f64;
        // Skill 30%, plus 10% of the natural 70%: 37% check.
        assert!((rate(checks) - 0.37).abs() < 0.015, "{}", rate(checks));
        assert!((rate(decision_masked) - 0.30).abs() < 0.015);
        // Wrong guesses among checked traces: (0.3 * 0.5 + 0.07 * 0.25) / 0.37.
        assert!((wrong as f64 / checks as f64 - 0.4527).abs() < 0.03);
    }

    #[test]
    fn far_wrong_guesses_are_other_numbers_of_the_same_width() {
        let far = CorpusMix { skill_fraction: 1.0, skill_wrong_rate: 1.0, skill_far_wrong_rate: 1.0, ..MIX };
        let mut corpus = Corpus::new(ProblemSpec::MUL_3X1, far, 4).unwrap();
        let mut off_by_many = 0;
        for _ in 0..500 {
            let t = corpus.next_trace().unwrap();
            let parsed = parse_completion(&t.completion);
            let (guess, truth) = (parsed.guess.unwrap(), parsed.check.unwrap().result.unwrap());
            assert_eq!(guess.len(), truth.len());
            assert_ne!(guess, truth);
            off_by_many += usize::from(guess.chars().zip(truth.chars()).filter(|(a, b)| a != b).count() > 1);
        }
        assert!(off_by_many > 400, "{off_by_many}");
    }

    #[test]
    fn verdict_traces_balance_the_verdict_and_follow_what_is_written() {
        let mix = CorpusMix {
            verdict_fraction: 1.0,
            verdict_corrupt_rate: 0.25,
            restate_guess: true,
            step_format: StepFormat::Split,
            ..MIX
        };
        let mut corpus = Corpus::new(ProblemSpec::MUL_3X1, mix, 5).unwrap();
        let n = 20_000;
        let (mut ok, mut ok_on_wrong_guess, mut wait_on_right_guess) = (0, 0, 0);
        for _ in 0..n {
            let t = corpus.next_trace().unwrap();
            let parsed = parse_completion(&t.completion);
            assert!(parsed.well_formed, "{}", t.completion);
            let check = parsed.check.unwrap();
            let (guess, result) = (parsed.guess.unwrap(), check.result.unwrap());
            assert_eq!(check.restated_guess.as_deref(), Some(guess.as_str()));
            let said_ok = parsed.verdict.as_deref() == Some("ok");
            assert_eq!(said_ok, guess == result, "{}", t.completion);
            assert_eq!(parsed.answer.as_deref(), Some(result.as_str()));
            let problem = Problem::parse(&t.prompt).unwrap();
            let guess_right = guess == problem.answer_text();
            ok += usize::from(said_ok);
            ok_on_wrong_guess += usize::from(said_ok && !guess_right);
            wait_on_right_guess += usize::from(!said_ok && guess_right);
            // The guess, the decision and the check carry no loss.
            let first_trained = t.loss_mask.iter().position(|&m| m).unwrap();
            assert_eq!(&t.completion[first_trained..first_trained + 1], "g");
            assert!(first_trained > 40, "{}", t.completion);
        }
        let rate = |k: usize| k as f64 / n as f64;
        assert!((rate(ok) - 0.5).abs() < 0.02, "{}", rate(ok));
        // A quarter of each half is written wrong on purpose.
        assert!((rate(ok_on_wrong_guess) - 0.125).abs() < 0.015);
        assert!((rate(wait_on_right_guess) - 0.125).abs() < 0.015);
    }

    #[test]
    fn a_copying_check_restates_the_guess_as_often_as_asked() {
        let copying = CorpusMix { skill_fraction: 1.0, check_copy_rate: 0.5, ..MIX };
        let mut corpus = Corpus::new(ProblemSpec::MUL_3X1, copying, 6).unwrap();
        let n = 4000;
        let (mut wrong_guesses, mut copied) = (0, 0);
        for _ in 0..n {
            let t = corpus.next_trace().unwrap();
            let parsed = parse_completion(&t.completion);
            assert!(parsed.well_formed, "{}", t.completion);
            let (guess, result) = (parsed.guess.unwrap(), parsed.check.unwrap().result.unwrap());
            assert_eq!(parsed.verdict.as_deref() == Some("ok"), guess == result);
            let truth = Problem::parse(&t.prompt).unwrap().answer_text();
            // A right guess's check is right either way; a wrong guess's check copies it or not.
            if guess != truth {
                wrong_guesses += 1;
                copied += usize::from(result == guess);
                assert!(result == guess || result == truth, "{}", t.completion);
            } else {
                assert_eq!(result, truth);
            }
        }
        let rate = copied as f64 / wrong_guesses as f64;
        assert!(wrong_guesses > n / 4 && (rate - 0.5).abs() < 0.04, "{copied} of {wrong_guesses}");
    }

    #[test]
    fn new_mix_fields_default_to_the_old_stream() {
        // A recipe written before verdict traces reads with them off, and draws the same traces.
        let old = r#"{"skill_fraction":0.3,"natural_check_rate":0.1,"natural_wrong_rate":0.25,
            "skill_wrong_rate":0.5,"guess_mask":"wrong_only"}"#;
        let mix: CorpusMix = serde_json::from_str(old).unwrap();
        assert_eq!(mix, MIX);
        let typo = old.replace("guess_mask", "gues_mask");
        assert!(serde_json::from_str::<CorpusMix>(&typo).unwrap_err().to_string().contains("gues_mask"));
    }

    #[test]
    fn same_seed_same_corpus() {
        let take = |seed| {
            let mut c = Corpus::new(ProblemSpec::MUL_3X1, MIX, seed).unwrap();
            (0..100).map(|_| c.next_trace().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(take(9), take(9));
        assert_ne!(take(9), take(10));
    }

    #[test]
    fn the_ablation_never_checks() {
        let mut c = Corpus::new(ProblemSpec::MUL_3X1, CorpusMix::NO_CHECK, 1).unwrap();
        for _ in 0..2000 {
            assert!(parse_completion(&c.next_trace().unwrap().completion).check.is_none());
        }
    }

    #[test]
    fn bad_mixes_and_shapes_are_errors() {
        let bad = CorpusMix { natural_check_rate: 1.5, ..MIX };
        let err = Corpus::new(ProblemSpec::MUL_3X1, bad, 0).unwrap_err();
        assert_eq!(err.to_string(), "natural_check_rate must be a probability between 0 and 1, got 1.5");
        let nan = CorpusMix { skill_fraction: f64::NAN, ..MIX };
        assert!(Corpus::new(ProblemSpec::MUL_3X1, nan, 0).is_err());
        let wide = ProblemSpec { a_digits: 2, b_digits: 2, ..ProblemSpec::MUL_3X1 };
        let mut c = Corpus::new(wide, MIX, 0).unwrap();
        let errors = (0..50).filter(|_| c.next_trace().is_err()).count();
        assert!(errors > 0);
    }
}
