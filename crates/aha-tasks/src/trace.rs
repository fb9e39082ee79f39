//! The completion format ("fast guess, slow check") and the SFT trace writer.
//!
//! A completion follows the prompt (`347*5=`) directly:
//!
//! ```text
//! no check:  g1735 a1735.
//! check:     g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 wait a1735.
//! restated:  g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 g1745 wait a1735.
//! compared:  g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 g1=7=4x5= wait a1735.
//! ```
//!
//! `g` is a direct guess, `c` a column-by-column check (least significant column first, with the
//! carry), `=1735` the check's result, then the verdict — `ok` when the guess agrees with the check,
//! `wait` when it does not — then `a` and the final answer, and `.` to end. The character after the
//! guess and its space (`c` or `a`) is the model's decision to check. After a check the final answer
//! is the check's result; without one it repeats the guess. A check may restate the guess (`g1745`)
//! beside its result before the verdict, so that the comparison the verdict reports is between two
//! neighbouring numbers instead of two some forty characters apart, and may mark each restated
//! digit as it writes it (`=` the check has the same digit there, `x` a different one): each mark
//! then compares the digit just written with one of the result's, and the verdict reads four
//! marks instead of eight digits.
//!
//! Columns for each operation (carry or borrow in from the previous column):
//! `7*5+0=35` (digit × multiplier + carry), `7+5+1=13` (digit + digit + carry) and `13-5-1=7`
//! (a borrowed ten is written as the leading `1` of the minuend).

use serde::{Deserialize, Serialize};

use crate::problem::{Op, Problem};

/// Marks the direct guess.
pub const GUESS: char = 'g';
/// Starts the column check.
pub const CHECK: char = 'c';
/// Marks the final answer.
pub const ANSWER: char = 'a';
/// Ends the completion; sampling stops here.
pub const END: char = '.';
/// Verdict when the check agrees with the guess.
pub const VERDICT_OK: &str = "ok";
/// Verdict when it does not: the model noticed its mistake.
pub const VERDICT_WAIT: &str = "wait";
/// A digit-by-digit comparison's mark where the check and the guess have the same digit.
pub const SAME_DIGIT: char = '=';
/// ... and where they differ.
pub const OTHER_DIGIT: char = 'x';

/// The marks of a digit-by-digit comparison of `result` and `guess` (`==x=`); positions past the
/// shorter one count as different.
pub fn compare_digits(result: &str, guess: &str) -> String {
    let (r, g): (Vec<char>, Vec<char>) = (result.chars().collect(), guess.chars().collect());
    (0..r.len().max(g.len())).map(|i| if r.get(i) == g.get(i) { SAME_DIGIT } else { OTHER_DIGIT }).collect()
}

/// The column steps of a check and the result they read off, e.g. for `347*5`:
/// steps `7*5+0=35`, `4*5+3=23`, `3*5+2=17` and result `1735`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnCheck {
    pub steps: Vec<String>,
    pub result: String,
}

/// How a check writes its column steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepFormat {
    /// `7*5+0=35`, `1*5+4=9`: the column result as it comes.
    #[default]
    Natural,
    /// `1*5+4=09`: results always two digits (they never exceed two: 9·9 + 8, 9 + 9 + 1), so a
    /// check has one fixed layout per problem shape and a model with learned absolute positions
    /// finds the n-th column's digits at the same place in every trace.
    Padded,
    /// `4*5=20+3=23`: the column's product (or sum, or difference) first, then the carry added —
    /// two easy steps instead of one three-operand step — both two digits wide.
    Split,
}

impl ColumnCheck {
    /// The correct column check of `problem` in the natural format, or `None` for shapes without a
    /// column format (multiplication by a multi-digit number).
    pub fn of(problem: &Problem) -> Option<ColumnCheck> {
        Self::with_format(problem, StepFormat::Natural)
    }

    /// The correct column check of `problem`, its steps written as `format` says.
    pub fn with_format(problem: &Problem, format: StepFormat) -> Option<ColumnCheck> {
        let digits =
            |value: u64, count: u32| -> Vec<u64> { (0..count).map(|i| value / 10u64.pow(i) % 10).collect() };
        // Both operands padded to the wider one's columns (a subtraction's a is never narrower).
        let columns = problem.a_digits.max(problem.b_digits);
        let a = digits(problem.a, if problem.op == Op::Mul { problem.a_digits } else { columns });
        let b = digits(problem.b, columns);
        // One column `x op y, then ± carry`: `first` = x op y, `value` = first ± carry.
        let write = |x: u64, op: char, y: u64, sign: char, carry: u64, first: u64, value: u64| match format {
            StepFormat::Natural => format!("{x}{op}{y}{sign}{carry}={value}"),
            StepFormat::Padded => format!("{x}{op}{y}{sign}{carry}={value:02}"),
            StepFormat::Split => format!("{x}{op}{y}={first:02}{sign}{carry}={value:02}"),
        };
        let mut steps = Vec::with_capacity(a.len());
        let mut carry = 0;
        match problem.op {
            Op::Mul if problem.b_digits == 1 => {
                for &d in &a {
                    let product = d * problem.b;
                    steps.push(write(d, '*', problem.b, '+', carry, product, product + carry));
                    carry = (product + carry) / 10;
                }
            }
            Op::Mul => return None,
            Op::Add => {
                for (&x, &y) in a.iter().zip(&b) {
                    let sum = x + y + carry;
                    steps.push(write(x, '+', y, '+', carry, x + y, sum));
                    carry = sum / 10;
                }
            }
            Op::Sub => {
                for (&x, &y) in a.iter().zip(&b) {
                    let borrow = carry;
                    carry = u64::from(x < y + borrow);
                    let minuend = x + 10 * carry;
                    steps.push(write(minuend, '-', y, '-', borrow, minuend - y, minuend - y - borrow));
                }
            }
        }
        debug_assert!(problem.op != Op::Sub || carry == 0, "a >= b leaves no final borrow");
        Some(ColumnCheck { steps, result: problem.answer_text() })
    }
}

/// Which guess digits carry no loss in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuessMask {
    /// Every guess digit is trained.
    #[default]
    None,
    /// Digits of wrong guesses are not trained (the model should not learn to make mistakes).
    WrongOnly,
    /// No guess digit is trained (the guess stays as good as it is; the check keeps its edge).
    All,
}

/// What one SFT trace looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceSpec {
    /// Write the column check (and a verdict) before the answer.
    pub check: bool,
    /// Replace the guess with a near miss: the true answer with one digit moved by ±1.
    pub wrong_guess: bool,
    /// No loss on the decision character (the `c` or `a` after the guess), so traces that always
    /// check can teach the skill without teaching the habit.
    pub mask_decision: bool,
    pub guess_mask: GuessMask,
    /// How the check writes its column steps.
    pub step_format: StepFormat,
    /// Restate the guess beside the check's result, before the verdict.
    pub restate_guess: bool,
    /// Restate the guess with a mark after each digit ([`compare_digits`]): `g1=7=4x5=`.
    pub compare_digits: bool,
    /// A verdict trace: only the restated guess, the verdict and the answer carry loss, so the
    /// trace teaches comparing what is written without teaching the guess, the decision or the
    /// check's digits (its check may be written wrong on purpose, see [`write_trace_with_result`]).
    pub verdict_only: bool,
    /// No loss on the verdict word: a skill trace's verdict is mostly `wait` (its guesses are
    /// mostly wrong, so the check has something to fix), and training it there would teach the
    /// habit instead of the comparison that verdict traces teach.
    pub mask_verdict: bool,
}

/// One training example: prompt, completion and a per-character loss mask over the completion
/// (`true` = trained). Characters are tokens in Aha's vocabulary, so the mask is per token too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub prompt: String,
    pub completion: String,
    pub loss_mask: Vec<bool>,
}

impl Trace {
    /// Character ranges of the completion that carry no loss, for display and tests.
    pub fn masked_spans(&self) -> Vec<std::ops::Range<usize>> {
        let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, trained) in self.loss_mask.iter().enumerate() {
            match spans.last_mut() {
                Some(span) if !trained && span.end == i => span.end = i + 1,
                _ if !trained => spans.push(i..i + 1),
                _ => {}
            }
        }
        spans
    }
}

/// Why a trace could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("no column check format for {0}")]
    NoCheckFormat(String),
}

/// The true answer with one digit moved by ±1 (`digit_choice` picks the digit, `up` the direction;
/// a 9 always goes down and a 0 always goes up, so the width never changes).
pub fn near_miss(answer: &str, digit_choice: usize, up: bool) -> String {
    let index = digit_choice % answer.len().max(1);
    answer
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let Some(d) = c.to_digit(10).filter(|_| i == index) else {
                return c;
            };
            let moved = match (d, up) {
                (9, _) => 8,
                (0, _) => 1,
                (d, true) => d + 1,
                (d, false) => d - 1,
            };
            char::from_digit(moved, 10).unwrap_or(c)
        })
        .collect()
}

/// Writes one trace of `problem` as `spec` asks. `wrong_guess` must come with a near miss chosen by
/// the caller (see [`near_miss`]); it is ignored when `spec.wrong_guess` is false.
pub fn write_trace(problem: &Problem, spec: TraceSpec, wrong_guess: &str) -> Result<Trace, TraceError> {
    write_trace_with_result(problem, spec, wrong_guess, None)
}

/// [`write_trace`], with the check's result written as `written_result` instead of the true one
/// when given (the column steps stay true). Only verdict traces ask for this: the verdict and the
/// answer then follow what is written — `ok` exactly when it equals the guess, and the answer is
/// the written result — so they cannot be learned as "was the guess right?".
pub fn write_trace_with_result(
    problem: &Problem,
    spec: TraceSpec,
    wrong_guess: &str,
    written_result: Option<&str>,
) -> Result<Trace, TraceError> {
    let truth = problem.answer_text();
    let guess = if spec.wrong_guess { wrong_guess } else { truth.as_str() };
    let guess_is_wrong = guess != truth;
    // In a verdict trace everything up to the check's result is context, not a lesson.
    let lesson = !spec.verdict_only;
    let mut writer = MaskedWriter::default();

    writer.push(GUESS, lesson);
    let train_guess = match spec.guess_mask {
        GuessMask::None => true,
        GuessMask::WrongOnly => !guess_is_wrong,
        GuessMask::All => false,
    };
    writer.push_str(guess, train_guess && lesson);
    writer.push(' ', lesson);

    let final_answer = if spec.check {
        let check = ColumnCheck::with_format(problem, spec.step_format)
            .ok_or_else(|| TraceError::NoCheckFormat(problem.prompt()))?;
        let result = written_result.unwrap_or(&check.result).to_string();
        writer.push(CHECK, !spec.mask_decision && lesson);
        writer.push_str(&check.steps.join(" "), lesson);
        writer.push_str(" =", lesson);
        writer.push_str(&result, lesson);
        writer.push(' ', lesson);
        if spec.restate_guess {
            writer.push(GUESS, true);
            if spec.compare_digits {
                for (digit, mark) in guess.chars().zip(compare_digits(&result, guess).chars()) {
                    writer.push(digit, true);
                    writer.push(mark, true);
                }
            } else {
                writer.push_str(guess, true);
            }
            writer.push(' ', true);
        }
        let verdict = if result == guess { VERDICT_OK } else { VERDICT_WAIT };
        writer.push_str(verdict, !spec.mask_verdict);
        writer.push(' ', true);
        writer.push(ANSWER, true);
        result
    } else {
        writer.push(ANSWER, !spec.mask_decision && lesson);
        guess.to_string()
    };
    writer.push_str(&final_answer, true);
    writer.push(END, true);

    Ok(Trace { prompt: problem.prompt(), completion: writer.text, loss_mask: writer.mask })
}

/// A string with one loss flag per character.
#[derive(Default)]
struct MaskedWriter {
    text: String,
    mask: Vec<bool>,
}

impl MaskedWriter {
    fn push(&mut self, c: char, trained: bool) {
        self.text.push(c);
        self.mask.push(trained);
    }

    fn push_str(&mut self, s: &str, trained: bool) {
        for c in s.chars() {
            self.push(c, trained);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mul(a: u64, b: u64) -> Problem {
        Problem::new(a, Op::Mul, b, 3, 1).unwrap()
    }

    const PLAIN: TraceSpec = TraceSpec {
        check: false,
        wrong_guess: false,
        mask_decision: false,
        guess_mask: GuessMask::None,
        step_format: StepFormat::Natural,
        restate_guess: false,
        compare_digits: false,
        verdict_only: false,
        mask_verdict: false,
    };

    #[test]
    fn restated_guesses_and_verdict_traces() {
        let p = mul(347, 5);
        let spec = TraceSpec { check: true, wrong_guess: true, restate_guess: true, ..PLAIN };
        let t = write_trace(&p, spec, "1745").unwrap();
        assert_eq!(t.completion, "g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 g1745 wait a1735.");
        assert!(t.loss_mask.iter().all(|&m| m));

        // A verdict trace trains only the restated guess, the verdict and the answer.
        let verdict = TraceSpec { verdict_only: true, ..spec };
        let t = write_trace(&p, verdict, "1745").unwrap();
        let trained: String =
            t.completion.chars().zip(&t.loss_mask).filter(|(_, m)| **m).map(|(c, _)| c).collect();
        assert_eq!(trained, "g1745 wait a1735.");

        // A check written wrong on purpose: the verdict and answer follow what is written.
        let right_guess = TraceSpec { wrong_guess: false, ..verdict };
        let t = write_trace_with_result(&p, right_guess, "", Some("1725")).unwrap();
        assert_eq!(t.completion, "g1735 c7*5+0=35 4*5+3=23 3*5+2=17 =1725 g1735 wait a1725.");
        let t = write_trace_with_result(&p, verdict, "1745", Some("1745")).unwrap();
        assert_eq!(t.completion, "g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1745 g1745 ok a1745.");
        assert!(crate::parse::parse_completion(&t.completion).well_formed);

        // Compared digit by digit after the restated guess.
        let compared = TraceSpec { compare_digits: true, ..spec };
        let t = write_trace(&p, compared, "1745").unwrap();
        assert_eq!(t.completion, "g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 g1=7=4x5= wait a1735.");
        let parsed = crate::parse::parse_completion(&t.completion);
        assert!(parsed.well_formed);
        let check = parsed.check.unwrap();
        assert_eq!(check.comparison.as_deref(), Some("==x="));
        assert_eq!(check.restated_guess.as_deref(), Some("1745"));
        assert_eq!(compare_digits("0595", "0595"), "====");
        assert_eq!(compare_digits("12", "123"), "==x");
    }

    #[test]
    fn padded_and_split_checks_have_one_layout_per_shape() {
        let padded = ColumnCheck::with_format(&mul(119, 5), StepFormat::Padded).unwrap();
        assert_eq!(padded.steps, ["9*5+0=45", "1*5+4=09", "1*5+0=05"]);
        assert_eq!(padded.result, "0595");
        let split = ColumnCheck::with_format(&mul(347, 5), StepFormat::Split).unwrap();
        assert_eq!(split.steps, ["7*5=35+0=35", "4*5=20+3=23", "3*5=15+2=17"]);
        let sub = Problem::new(905, Op::Sub, 17, 3, 2).unwrap();
        let split = ColumnCheck::with_format(&sub, StepFormat::Split).unwrap();
        assert_eq!(split.steps, ["15-7=08-0=08", "10-1=09-1=08", "9-0=09-1=08"]);
        for format in [StepFormat::Padded, StepFormat::Split] {
            let spec = TraceSpec { check: true, step_format: format, ..PLAIN };
            let layouts: std::collections::HashSet<Vec<bool>> = (100..1000)
                .step_by(7)
                .flat_map(|a| (0..10).map(move |b| (a, b)))
                .map(|(a, b)| {
                    let t = write_trace(&mul(a, b), spec, "").unwrap();
                    assert!(crate::parse::parse_completion(&t.completion).well_formed, "{}", t.completion);
                    t.completion.chars().map(|c| c.is_ascii_digit()).collect()
                })
                .collect();
            assert_eq!(layouts.len(), 1, "every 3x1 check has its digits at the same places ({format:?})");
        }
    }

    #[test]
    fn column_checks_for_each_operation() {
        let check = ColumnCheck::of(&mul(347, 5)).unwrap();
        assert_eq!(check.steps, ["7*5+0=35", "4*5+3=23", "3*5+2=17"]);
        assert_eq!(check.result, "1735");
        let check = ColumnCheck::of(&mul(119, 5)).unwrap();
        assert_eq!(check.steps, ["9*5+0=45", "1*5+4=9", "1*5+0=5"]);
        assert_eq!(check.result, "0595");
        let add = Problem::new(958, Op::Add, 67, 3, 2).unwrap();
        let check = ColumnCheck::of(&add).unwrap();
        assert_eq!(check.steps, ["8+7+0=15", "5+6+1=12", "9+0+1=10"]);
        assert_eq!(check.result, "1025");
        let add = Problem::new(5, Op::Add, 123, 1, 3).unwrap();
        let check = ColumnCheck::of(&add).unwrap();
        assert_eq!(check.steps, ["5+3+0=8", "0+2+0=2", "0+1+0=1"]);
        assert_eq!(check.result, "0128");
        let sub = Problem::new(905, Op::Sub, 17, 3, 2).unwrap();
        let check = ColumnCheck::of(&sub).unwrap();
        assert_eq!(check.steps, ["15-7-0=8", "10-1-1=8", "9-0-1=8"]);
        assert_eq!(check.result, "888");
        let wide = Problem::new(12, Op::Mul, 34, 2, 2).unwrap();
        assert_eq!(ColumnCheck::of(&wide), None);
    }

    #[test]
    fn recipe_b_formats() {
        let p = mul(347, 5);
        let t = write_trace(&p, PLAIN, "").unwrap();
        assert_eq!(t.prompt, "347*5=");
        assert_eq!(t.completion, "g1735 a1735.");
        assert!(t.loss_mask.iter().all(|&m| m));

        let spec = TraceSpec { check: true, wrong_guess: true, ..PLAIN };
        let t = write_trace(&p, spec, "1745").unwrap();
        assert_eq!(t.completion, "g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 wait a1735.");
        let t = write_trace(&p, TraceSpec { check: true, ..PLAIN }, "").unwrap();
        assert_eq!(t.completion, "g1735 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 ok a1735.");
        // Without a check a wrong guess is also the final answer.
        let t = write_trace(&p, TraceSpec { wrong_guess: true, ..PLAIN }, "1745").unwrap();
        assert_eq!(t.completion, "g1745 a1745.");
    }

    #[test]
    fn loss_masks_cover_the_requested_spans() {
        let p = mul(347, 5);
        let spec = TraceSpec {
            check: true,
            wrong_guess: true,
            mask_decision: true,
            guess_mask: GuessMask::WrongOnly,
            ..PLAIN
        };
        let t = write_trace(&p, spec, "1745").unwrap();
        assert_eq!(t.loss_mask.len(), t.completion.chars().count());
        // Guess digits 1..5 and the decision character at 6.
        assert_eq!(t.masked_spans(), [1..5, 6..7]);
        assert_eq!(&t.completion[6..7], "c");

        // A right guess is trained under WrongOnly, not under All.
        let right = TraceSpec { wrong_guess: false, ..spec };
        assert_eq!(write_trace(&p, right, "").unwrap().masked_spans(), vec![6..7]);
        let all = TraceSpec { guess_mask: GuessMask::All, ..right };
        assert_eq!(write_trace(&p, all, "").unwrap().masked_spans(), [1..5, 6..7]);

        // The decision is `a` when there is no check.
        let t = write_trace(&p, TraceSpec { mask_decision: true, ..PLAIN }, "").unwrap();
        assert_eq!(t.masked_spans(), vec![6..7]);
        assert_eq!(&t.completion[6..7], "a");
    }

    #[test]
    fn check_traces_need_a_column_format() {
        let wide = Problem::new(12, Op::Mul, 34, 2, 2).unwrap();
        let err = write_trace(&wide, TraceSpec { check: true, ..PLAIN }, "").unwrap_err();
        assert_eq!(err.to_string(), "no column check format for 12*34=");
        assert!(write_trace(&wide, PLAIN, "").is_ok());
    }

    #[test]
    fn near_misses_move_one_digit_by_one() {
        assert_eq!(near_miss("1735", 2, true), "1745");
        assert_eq!(near_miss("1735", 2, false), "1725");
        assert_eq!(near_miss("1795", 2, true), "1785");
        assert_eq!(near_miss("0595", 0, false), "1595");
        assert_eq!(near_miss("0595", 7, true), "0596");
        assert_eq!(near_miss("", 3, true), "");
    }
}
