//! Behaviour detectors: what a completion did (guessed right? checked? said "wait"? fixed its
//! guess? broke it?) and the rates over many completions that the page and the reports chart.
//!
//! First-guess accuracy sits beside the check rate on purpose: if accuracy rises while first-guess
//! accuracy stays flat and checking rises, the model learned to check; if first-guess accuracy rises
//! with it, the model also got sharper. The two are told apart, never merged.

use serde::{Deserialize, Serialize};

use crate::parse::{ParsedCompletion, parse_completion};
use crate::problem::Problem;
use crate::reward::{is_correct, is_format_ok};
use crate::trace::{VERDICT_OK, VERDICT_WAIT};

/// What one completion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Behaviour {
    /// The final answer is right (see [`is_correct`]).
    pub correct: bool,
    /// Well formed, with guess and answer at the answer's width.
    pub format_ok: bool,
    /// The direct guess equals the true answer (false when there is no guess).
    pub guess_correct: bool,
    /// The completion contains a check.
    pub checked: bool,
    /// The check's result equals the true answer (false without a check).
    pub check_correct: bool,
    /// The verdict after the check is "wait".
    pub said_wait: bool,
    /// The verdict after the check is "ok".
    pub said_ok: bool,
    /// With a guess and a check result: whether the two are the same digits (`Some(true)`: the
    /// faithful verdict is "ok"; `Some(false)`: "wait"). `None` without both.
    pub check_agrees: Option<bool>,
    /// Wrong guess, then a check, then a right final answer: the check fixed it.
    pub fixed: bool,
    /// Right guess, then a check, then a wrong final answer: the check broke it.
    pub broke: bool,
    /// Length in characters (= tokens), stop marker included.
    pub length: usize,
}

impl Behaviour {
    /// Whether the verdict says what the comparison says (`ok` exactly when the check's result
    /// equals the guess); `None` for a completion without a guess and a check result to compare.
    pub fn verdict_right(&self) -> Option<bool> {
        let agrees = self.check_agrees.filter(|_| self.checked)?;
        Some(if agrees { self.said_ok } else { self.said_wait })
    }
}

fn equals_answer(digits: Option<&str>, problem: &Problem) -> bool {
    digits.filter(|d| d.len() <= problem.answer_width()).and_then(|d| d.parse::<u64>().ok())
        == Some(problem.answer())
}

/// Reads what `completion` did for `problem`.
pub fn behaviour(problem: &Problem, completion: &str) -> Behaviour {
    let parsed = parse_completion(completion);
    behaviour_of(problem, &parsed, completion.chars().count())
}

/// [`behaviour`] of an already parsed completion of `length` characters.
pub fn behaviour_of(problem: &Problem, parsed: &ParsedCompletion, length: usize) -> Behaviour {
    let correct = is_correct(problem, parsed);
    let guess_correct = equals_answer(parsed.guess.as_deref(), problem);
    let check = parsed.check.as_ref();
    let checked = check.is_some();
    Behaviour {
        correct,
        format_ok: is_format_ok(problem, parsed),
        guess_correct,
        checked,
        check_correct: equals_answer(check.and_then(|c| c.result.as_deref()), problem),
        said_wait: parsed.verdict.as_deref() == Some(VERDICT_WAIT),
        said_ok: parsed.verdict.as_deref() == Some(VERDICT_OK),
        check_agrees: match (parsed.guess.as_deref(), check.and_then(|c| c.result.as_deref())) {
            (Some(guess), Some(result)) => Some(guess == result),
            _ => None,
        },
        fixed: checked && !guess_correct && correct,
        broke: checked && guess_correct && !correct,
        length,
    }
}

/// Rates over a set of completions. A rate whose denominator is empty is `None` (not NaN), so
/// the JSON stays valid and the charts show a gap.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BehaviourStats {
    pub count: usize,
    /// Final answer right.
    pub accuracy: f64,
    /// The direct guess right, whatever came after.
    pub first_guess_accuracy: f64,
    pub check_rate: f64,
    pub wait_rate: f64,
    /// Checks that turned a wrong guess into a right answer, over all completions.
    pub fix_rate: f64,
    /// Checks that turned a right guess into a wrong answer, over all completions.
    pub broke_rate: f64,
    pub format_rate: f64,
    /// Among completions that checked: the check's result was right.
    pub check_accuracy: Option<f64>,
    /// Among checks with a guess and a result: the verdict says what the comparison says (`ok`
    /// exactly when the result equals the guess). A habit of saying `wait` scores the share of
    /// checks that disagree; a faithful verdict scores 1.
    pub verdict_accuracy: Option<f64>,
    /// Among checks whose result equals the guess: the verdict was `ok`.
    pub ok_when_agree: Option<f64>,
    /// Among checks whose result differs from the guess: the verdict was `wait`.
    pub wait_when_differ: Option<f64>,
    /// Among checks after a wrong guess: the check's result was right (a check that leans on the
    /// guess is worse exactly here).
    pub check_accuracy_after_wrong_guess: Option<f64>,
    /// Among checks after a wrong guess: the check's result reproduced the wrong guess.
    pub check_copies_guess: Option<f64>,
    /// Accuracy of completions that checked, and of those that did not: the check pays when the
    /// first exceeds the second.
    pub accuracy_when_checked: Option<f64>,
    pub accuracy_when_not_checked: Option<f64>,
    pub mean_length: f64,
    pub mean_length_correct: Option<f64>,
    pub mean_length_wrong: Option<f64>,
}

/// A check that came after a guess that was wrong.
fn checked_after_wrong_guess(b: &Behaviour) -> bool {
    b.checked && b.check_agrees.is_some() && !b.guess_correct
}

impl BehaviourStats {
    pub fn from_behaviours(all: &[Behaviour]) -> Self {
        let rate = |pick: &dyn Fn(&Behaviour) -> bool, among: &dyn Fn(&Behaviour) -> bool| -> Option<f64> {
            let pool: Vec<&Behaviour> = all.iter().filter(|b| among(b)).collect();
            (!pool.is_empty()).then(|| pool.iter().filter(|b| pick(b)).count() as f64 / pool.len() as f64)
        };
        let mean_len = |among: &dyn Fn(&Behaviour) -> bool| -> Option<f64> {
            let pool: Vec<usize> = all.iter().filter(|b| among(b)).map(|b| b.length).collect();
            (!pool.is_empty()).then(|| pool.iter().sum::<usize>() as f64 / pool.len() as f64)
        };
        let everyone = |_: &Behaviour| true;
        let overall = |pick: &dyn Fn(&Behaviour) -> bool| rate(pick, &everyone).unwrap_or(0.0);
        BehaviourStats {
            count: all.len(),
            accuracy: overall(&|b| b.correct),
            first_guess_accuracy: overall(&|b| b.guess_correct),
            check_rate: overall(&|b| b.checked),
            wait_rate: overall(&|b| b.said_wait),
            fix_rate: overall(&|b| b.fixed),
            broke_rate: overall(&|b| b.broke),
            format_rate: overall(&|b| b.format_ok),
            check_accuracy: rate(&|b| b.check_correct, &|b| b.checked),
            verdict_accuracy: rate(&|b| b.verdict_right() == Some(true), &|b| b.verdict_right().is_some()),
            ok_when_agree: rate(&|b| b.said_ok, &|b| b.checked && b.check_agrees == Some(true)),
            wait_when_differ: rate(&|b| b.said_wait, &|b| b.checked && b.check_agrees == Some(false)),
            check_accuracy_after_wrong_guess: rate(&|b| b.check_correct, &checked_after_wrong_guess),
            check_copies_guess: rate(&|b| b.check_agrees == Some(true), &checked_after_wrong_guess),
            accuracy_when_checked: rate(&|b| b.correct, &|b| b.checked),
            accuracy_when_not_checked: rate(&|b| b.correct, &|b| !b.checked),
            mean_length: mean_len(&everyone).unwrap_or(0.0),
            mean_length_correct: mean_len(&|b| b.correct),
            mean_length_wrong: mean_len(&|b| !b.correct),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Op;

    fn p() -> Problem {
        Problem::new(347, Op::Mul, 5, 3, 1).unwrap()
    }

    const CHECK_STEPS: &str = "c7*5+0=35 4*5+3=23 3*5+2=17";

    #[test]
    fn detects_each_behaviour() {
        let right_guess = behaviour(&p(), "g1735 a1735.");
        assert!(right_guess.correct && right_guess.guess_correct && !right_guess.checked);
        assert!(!right_guess.fixed && !right_guess.broke && right_guess.format_ok);
        assert_eq!(right_guess.length, 12);

        let fixed = behaviour(&p(), &format!("g1745 {CHECK_STEPS} =1735 wait a1735."));
        assert!(fixed.correct && !fixed.guess_correct && fixed.checked && fixed.check_correct);
        assert!(fixed.said_wait && fixed.fixed && !fixed.broke);

        // A slip in the check breaks a right guess.
        let broke = behaviour(&p(), "g1735 c7*5+0=35 4*5+3=23 3*5+2=18 =1835 wait a1835.");
        assert!(!broke.correct && broke.guess_correct && broke.checked && !broke.check_correct);
        assert!(broke.broke && !broke.fixed);

        // A right check ignored: the model answered its wrong guess.
        let ignored = behaviour(&p(), &format!("g1745 {CHECK_STEPS} =1735 ok a1745."));
        assert!(!ignored.correct && ignored.check_correct && !ignored.fixed && !ignored.said_wait);

        let garbage = behaviour(&p(), "g17");
        assert!(!garbage.correct && !garbage.format_ok && !garbage.guess_correct && !garbage.checked);
    }

    #[test]
    fn rates_of_a_hand_made_set() {
        let texts = [
            "g1735 a1735.".to_string(),                       // right guess, no check
            "g1745 a1745.".to_string(),                       // wrong guess, no check
            format!("g1745 {CHECK_STEPS} =1735 wait a1735."), // fixed
            format!("g1735 {CHECK_STEPS} =1735 ok a1735."),   // confirmed
            "g1735 c7*5+0=35 4*5+3=23 3*5+2=18 =1835 wait a1835.".into(), // broke
        ];
        let all: Vec<Behaviour> = texts.iter().map(|t| behaviour(&p(), t)).collect();
        let s = BehaviourStats::from_behaviours(&all);
        assert_eq!(s.count, 5);
        assert_eq!(s.accuracy, 3.0 / 5.0);
        assert_eq!(s.first_guess_accuracy, 3.0 / 5.0);
        assert_eq!(s.check_rate, 3.0 / 5.0);
        assert_eq!(s.wait_rate, 2.0 / 5.0);
        assert_eq!(s.fix_rate, 1.0 / 5.0);
        assert_eq!(s.broke_rate, 1.0 / 5.0);
        assert_eq!(s.check_accuracy, Some(2.0 / 3.0));
        assert_eq!(s.accuracy_when_checked, Some(2.0 / 3.0));
        assert_eq!(s.accuracy_when_not_checked, Some(1.0 / 2.0));
        assert_eq!(s.mean_length_wrong, Some((12.0 + texts[4].len() as f64) / 2.0));
    }

    #[test]
    fn verdict_and_copy_rates_of_a_hand_made_set() {
        let texts = [
            format!("g1745 {CHECK_STEPS} =1735 wait a1735."), // differ, wait: faithful, check right
            format!("g1735 {CHECK_STEPS} =1735 ok a1735."),   // agree, ok: faithful
            format!("g1735 {CHECK_STEPS} =1735 wait a1735."), // agree, wait: a habit
            format!("g1745 {CHECK_STEPS} =1735 ok a1745."),   // differ, ok: missed
            "g1745 c7*5+0=35 4*5+3=24 3*5+2=17 =1745 ok a1745.".into(), // check copied the wrong guess
            "g1725 c7*5+0=35 4*5+3=22 3*5+2=17 =1725 wait a1725.".into(), // copied, and a wrong wait
            "g1735 a1735.".into(),                            // no check: in no verdict rate
        ];
        let all: Vec<Behaviour> = texts.iter().map(|t| behaviour(&p(), t)).collect();
        assert_eq!(all[4].check_agrees, Some(true));
        assert_eq!(all[6].check_agrees, None);
        let s = BehaviourStats::from_behaviours(&all);
        // Faithful verdicts: rows 0, 1 and 4 (ok on an agreeing check, even a wrong one).
        assert_eq!(s.verdict_accuracy, Some(3.0 / 6.0));
        // Agreeing checks: rows 1, 2, 4, 5; ok at 1 and 4.
        assert_eq!(s.ok_when_agree, Some(2.0 / 4.0));
        // Differing checks: rows 0 and 3; wait at 0.
        assert_eq!(s.wait_when_differ, Some(1.0 / 2.0));
        // Checks after a wrong guess: rows 0, 3, 4, 5; right at 0 and 3; copies at 4 and 5.
        assert_eq!(s.check_accuracy_after_wrong_guess, Some(2.0 / 4.0));
        assert_eq!(s.check_copies_guess, Some(2.0 / 4.0));

        // Saying wait after every check scores exactly the share of checks that disagree.
        let habit: Vec<Behaviour> = [
            format!("g1745 {CHECK_STEPS} =1735 wait a1735."),
            format!("g1735 {CHECK_STEPS} =1735 wait a1735."),
            format!("g1735 {CHECK_STEPS} =1735 wait a1735."),
        ]
        .iter()
        .map(|t| behaviour(&p(), t))
        .collect();
        let s = BehaviourStats::from_behaviours(&habit);
        assert_eq!(s.verdict_accuracy, Some(1.0 / 3.0));
        assert_eq!((s.ok_when_agree, s.wait_when_differ), (Some(0.0), Some(1.0)));
        assert_eq!(s.check_copies_guess, Some(0.0));
    }

    #[test]
    fn empty_denominators_are_none() {
        let s = BehaviourStats::from_behaviours(&[behaviour(&p(), "g1735 a1735.")]);
        assert_eq!(s.check_accuracy, None);
        assert_eq!(s.accuracy_when_checked, None);
        assert_eq!(s.mean_length_wrong, None);
        assert_eq!((s.verdict_accuracy, s.ok_when_agree, s.wait_when_differ), (None, None, None));
        assert_eq!((s.check_accuracy_after_wrong_guess, s.check_copies_guess), (None, None));
        let empty = BehaviourStats::from_behaviours(&[]);
        assert_eq!(empty.count, 0);
        assert_eq!(empty.accuracy, 0.0);
        assert!(serde_json::to_string(&empty).unwrap().contains("\"check_accuracy\":null"));
    }
}
