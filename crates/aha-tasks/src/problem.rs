//! Arithmetic problems and their seeded generator.
//!
//! A problem is `a op b` with non-negative integers; its answer is written with a fixed number of
//! digits for its shape (zero-padded), so that every answer to `347*5=` is four characters (`1735`)
//! and `12*5=` answers `060`. Fixed width keeps the guess and the column check aligned character by
//! character, which the tiny model needs.

use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The largest operand width we accept. 9 × 9 digits multiply to at most 18 digits, which fits u64.
pub const MAX_DIGITS: u32 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Op {
    Add,
    Sub,
    Mul,
}

impl Op {
    pub fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Sub => '-',
            Op::Mul => '*',
        }
    }

    fn from_symbol(symbol: char) -> Option<Op> {
        match symbol {
            '+' => Some(Op::Add),
            '-' => Some(Op::Sub),
            '*' => Some(Op::Mul),
            _ => None,
        }
    }
}

/// One problem. `a_digits`/`b_digits` are the widths of its shape (a 1 drawn for a 3-digit slot is
/// still a 3-digit problem for the answer's width), which fixes [`Problem::answer_width`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Problem {
    pub a: u64,
    pub b: u64,
    pub op: Op,
    pub a_digits: u32,
    pub b_digits: u32,
}

/// Why a typed problem was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemError {
    #[error("the problem is empty: type something like 347*5")]
    Empty,
    #[error("expected a problem like 347*5 (two whole numbers with +, - or * between them)")]
    NotAProblem,
    #[error("numbers may have at most {MAX_DIGITS} digits")]
    TooManyDigits,
    #[error("the first number must not be smaller than the second in a subtraction")]
    NegativeResult,
    #[error("this shape has too few problems to hold some out for evaluation")]
    EmptySplit,
}

impl Problem {
    /// Builds a problem, checking the shape: each operand fits its digit count and, for
    /// subtraction, `a >= b` (answers are never negative).
    pub fn new(a: u64, op: Op, b: u64, a_digits: u32, b_digits: u32) -> Result<Problem, ProblemError> {
        if !(1..=MAX_DIGITS).contains(&a_digits) || !(1..=MAX_DIGITS).contains(&b_digits) {
            return Err(ProblemError::TooManyDigits);
        }
        if a >= 10u64.pow(a_digits) || b >= 10u64.pow(b_digits) {
            return Err(ProblemError::TooManyDigits);
        }
        if op == Op::Sub && a < b {
            return Err(ProblemError::NegativeResult);
        }
        Ok(Problem { a, b, op, a_digits, b_digits })
    }

    /// Reads a problem typed by a person: `347*5`, `347 * 5 =`, `12+34=`. The widths are the
    /// widths as typed (leading zeros count). Nothing else is accepted.
    pub fn parse(text: &str) -> Result<Problem, ProblemError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let body = compact.strip_suffix('=').unwrap_or(&compact);
        if body.is_empty() {
            return Err(ProblemError::Empty);
        }
        let (op_at, op) = body
            .char_indices()
            .skip(1)
            .find_map(|(i, c)| Op::from_symbol(c).map(|op| (i, op)))
            .ok_or(ProblemError::NotAProblem)?;
        let (a_text, b_text) = (&body[..op_at], &body[op_at + 1..]);
        let operand = |s: &str| -> Result<(u64, u32), ProblemError> {
            if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
                return Err(ProblemError::NotAProblem);
            }
            if s.len() > MAX_DIGITS as usize {
                return Err(ProblemError::TooManyDigits);
            }
            Ok((s.parse().map_err(|_| ProblemError::NotAProblem)?, s.len() as u32))
        };
        let (a, a_digits) = operand(a_text)?;
        let (b, b_digits) = operand(b_text)?;
        Problem::new(a, op, b, a_digits, b_digits)
    }

    /// The exact result.
    pub fn answer(&self) -> u64 {
        match self.op {
            Op::Add => self.a + self.b,
            Op::Sub => self.a - self.b,
            Op::Mul => self.a * self.b,
        }
    }

    /// Digits every answer to this shape is written with: enough for the largest possible result.
    pub fn answer_width(&self) -> usize {
        let (a, b) = (self.a_digits as usize, self.b_digits as usize);
        match self.op {
            Op::Add => a.max(b) + 1,
            Op::Sub => a.max(b),
            Op::Mul => a + b,
        }
    }

    /// The answer zero-padded to [`Problem::answer_width`], e.g. `0596`.
    pub fn answer_text(&self) -> String {
        format!("{:0width$}", self.answer(), width = self.answer_width())
    }

    /// The split this problem belongs to (see [`is_held_out`]).
    pub fn split(&self) -> Split {
        if is_held_out(self) { Split::HeldOut } else { Split::Train }
    }

    /// The prompt the model sees, operands at their widths: `347*5=`.
    pub fn prompt(&self) -> String {
        format!(
            "{:0aw$}{}{:0bw$}=",
            self.a,
            self.op.symbol(),
            self.b,
            aw = self.a_digits as usize,
            bw = self.b_digits as usize
        )
    }
}

/// The shape of the problems to generate: operation and operand widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProblemSpec {
    pub op: Op,
    pub a_digits: u32,
    pub b_digits: u32,
}

impl ProblemSpec {
    /// Recipe B's task: 3-digit × 1-digit multiplication.
    pub const MUL_3X1: ProblemSpec = ProblemSpec { op: Op::Mul, a_digits: 3, b_digits: 1 };

    /// Checks the widths are within 1..=[`MAX_DIGITS`] and, for subtraction, that the first operand
    /// is at least as wide as the second (so a non-negative result is always possible).
    pub fn validate(&self) -> Result<(), ProblemError> {
        if self.op == Op::Sub && self.b_digits > self.a_digits {
            return Err(ProblemError::NegativeResult);
        }
        Problem::new(0, self.op, 0, self.a_digits, self.b_digits).map(|_| ())
    }

    /// How many problems the shape has (saturating).
    pub fn problem_count(&self) -> u64 {
        let values = |digits: u32| if digits == 1 { 10 } else { 9 * 10u64.pow(digits - 1) };
        values(self.a_digits).saturating_mul(values(self.b_digits))
    }

    /// Every problem of the shape (a subtraction's pairs with `a < b` excluded), in order. Only
    /// for small shapes: it enumerates.
    fn all_problems(self) -> impl Iterator<Item = Problem> {
        operand_range(self.a_digits).flat_map(move |a| {
            operand_range(self.b_digits)
                .filter_map(move |b| Problem::new(a, self.op, b, self.a_digits, self.b_digits).ok())
        })
    }

    /// Whether `problem` is one of this shape's problems (whichever split): the same operation,
    /// operands of these widths (no leading zeros past one digit), and for a subtraction `a ≥ b`.
    /// `12*5` is not a 3-digit × 1-digit problem, though its answer is written as one.
    pub fn contains(&self, problem: &Problem) -> bool {
        problem.op == self.op
            && operand_range(self.a_digits).contains(&problem.a)
            && operand_range(self.b_digits).contains(&problem.b)
            && (self.op != Op::Sub || problem.a >= problem.b)
    }
}

/// The shape in words: `3-digit × 1-digit multiplication`.
impl std::fmt::Display for ProblemSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sign, name) = match self.op {
            Op::Add => ('+', "addition"),
            Op::Sub => ('−', "subtraction"),
            Op::Mul => ('×', "multiplication"),
        };
        write!(f, "{}-digit {sign} {}-digit {name}", self.a_digits, self.b_digits)
    }
}

/// The operands of width `digits`: any value for one digit, else no leading zero.
fn operand_range(digits: u32) -> std::ops::Range<u64> {
    (if digits == 1 { 0 } else { 10u64.pow(digits - 1) })..10u64.pow(digits)
}

/// Which part of a shape's problems a stream draws from. Every problem belongs to exactly one
/// part, fixed by [`is_held_out`]; training (SFT corpora, GRPO draws) never sees the held-out part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// The ~90% of problems that SFT corpora and GRPO rollouts draw from.
    Train,
    /// The ~10% that only evaluations see.
    HeldOut,
}

/// Held-out problems per 100, by hash bucket.
pub const HELD_OUT_PERCENT: u64 = 10;

/// What the split is, in words, for reports.
pub const HELD_OUT_HOW: &str = "a problem is held out when a fixed 64-bit mix (splitmix64) of its operation, operand widths and operands falls in bucket 0–9 of 100: about 10% of every shape's problems, the same on every platform; the problem generator never yields one of them for training";

/// Whether `problem` is in the held-out split: a fixed hash of everything that makes it the problem
/// it is (operation, widths, operands) falls in the first [`HELD_OUT_PERCENT`] of 100 buckets.
/// A hash, not a range of `a`, so the held-out problems cover every digit and carry pattern.
pub fn is_held_out(problem: &Problem) -> bool {
    let op = match problem.op {
        Op::Add => 1u64,
        Op::Sub => 2,
        Op::Mul => 3,
    };
    let shape = op | u64::from(problem.a_digits) << 8 | u64::from(problem.b_digits) << 16;
    let key = splitmix64(splitmix64(splitmix64(shape) ^ problem.a) ^ problem.b);
    key % 100 < HELD_OUT_PERCENT
}

/// splitmix64's output function: a fixed, well-mixed 64-bit permutation.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An endless, reproducible stream of problems of one split: the same seed gives the same problems
/// on every platform (ChaCha8 and integer ranges only — no floats, no `usize`). Draws from the
/// other split are skipped, so the split is enforced here, for every caller.
#[derive(Debug, Clone)]
pub struct ProblemGenerator {
    spec: ProblemSpec,
    split: Split,
    rng: ChaCha8Rng,
}

impl ProblemGenerator {
    /// Training problems (the held-out split is never yielded).
    pub fn new(spec: ProblemSpec, seed: u64) -> Result<Self, ProblemError> {
        Self::of_split(spec, Split::Train, seed)
    }

    /// Problems of `split`. Fails when the shape has no problem in it (only possible for shapes of
    /// a few hundred problems), instead of drawing forever.
    pub fn of_split(spec: ProblemSpec, split: Split, seed: u64) -> Result<Self, ProblemError> {
        spec.validate()?;
        let generator = Self { spec, split, rng: ChaCha8Rng::seed_from_u64(seed) };
        if spec.problem_count() <= SMALL_SPACE && !spec.all_problems().any(|p| p.split() == split) {
            return Err(ProblemError::EmptySplit);
        }
        Ok(generator)
    }

    /// A width-`digits` operand ([`operand_range`]).
    fn operand(&mut self, digits: u32) -> u64 {
        self.rng.random_range(operand_range(digits))
    }

    /// The next problem of the shape, whatever its split.
    fn draw(&mut self) -> Problem {
        let ProblemSpec { op, a_digits, b_digits } = self.spec;
        let (mut a, mut b) = (self.operand(a_digits), self.operand(b_digits));
        if op == Op::Sub && a < b {
            // Only possible at equal widths (see `ProblemSpec::validate`): swapping keeps the shape.
            std::mem::swap(&mut a, &mut b);
        }
        Problem { a, b, op, a_digits, b_digits }
    }
}

/// Shapes up to this many problems are enumerated to prove their split is not empty.
const SMALL_SPACE: u64 = 1 << 20;

impl Iterator for ProblemGenerator {
    type Item = Problem;

    fn next(&mut self) -> Option<Problem> {
        loop {
            let problem = self.draw();
            if problem.split() == self.split {
                return Some(problem);
            }
        }
    }
}

/// `count` distinct held-out problems of `spec` in a seeded order (fewer if the split has fewer):
/// the fixed evaluation set.
pub fn held_out_set(spec: ProblemSpec, count: usize, seed: u64) -> Result<Vec<Problem>, ProblemError> {
    let mut seen = std::collections::HashSet::new();
    let mut set = Vec::with_capacity(count);
    // Enough draws to find nearly every problem of a small split; a large split fills at once.
    let draws = count.saturating_mul(64).max(4096);
    for problem in ProblemGenerator::of_split(spec, Split::HeldOut, seed)?.take(draws) {
        if set.len() == count {
            break;
        }
        if seen.insert(problem) {
            set.push(problem);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_contains_its_own_problems_only_and_says_what_it_is() {
        let task = ProblemSpec::MUL_3X1;
        assert_eq!(task.to_string(), "3-digit × 1-digit multiplication");
        let typed = |text: &str| Problem::parse(text).unwrap();
        assert!(task.contains(&typed("347*5")) && task.contains(&typed("100*0")));
        for outside in ["1+1", "12*5", "1000*5", "347*12", "347-5"] {
            assert!(!task.contains(&typed(outside)), "{outside}");
        }
        // Everything the generator draws, from either split, is in the shape.
        for split in [Split::Train, Split::HeldOut] {
            let drawn = ProblemGenerator::of_split(task, split, 7).unwrap().take(200);
            assert!(drawn.into_iter().all(|p| task.contains(&p)));
        }
        let sub = ProblemSpec { op: Op::Sub, a_digits: 2, b_digits: 2 };
        assert_eq!(sub.to_string(), "2-digit − 2-digit subtraction");
        assert!(sub.contains(&typed("42-17")));
        assert!(Problem::parse("17-42").map_or(true, |p| !sub.contains(&p)));
    }

    #[test]
    fn answers_are_zero_padded_to_the_shape() {
        let p = Problem::new(119, Op::Mul, 5, 3, 1).unwrap();
        assert_eq!(p.prompt(), "119*5=");
        assert_eq!(p.answer_text(), "0595");
        let p = Problem::new(347, Op::Mul, 5, 3, 1).unwrap();
        assert_eq!(p.answer_text(), "1735");
        let p = Problem::new(12, Op::Add, 34, 2, 2).unwrap();
        assert_eq!((p.prompt().as_str(), p.answer_text().as_str()), ("12+34=", "046"));
        let p = Problem::new(905, Op::Sub, 17, 3, 2).unwrap();
        assert_eq!((p.prompt().as_str(), p.answer_text().as_str()), ("905-17=", "888"));
        let p = Problem::new(7, Op::Mul, 3, 2, 1).unwrap();
        assert_eq!(p.prompt(), "07*3=");
    }

    #[test]
    fn parses_typed_problems() {
        let p = Problem::parse(" 347 * 5 = ").unwrap();
        assert_eq!(p, Problem::new(347, Op::Mul, 5, 3, 1).unwrap());
        assert_eq!(Problem::parse("12+34").unwrap().answer(), 46);
        assert_eq!(Problem::parse("10-3=").unwrap().answer_text(), "07");
    }

    #[test]
    fn refuses_bad_problems_with_reasons() {
        use ProblemError::*;
        let cases = [
            ("", Empty),
            ("  = ", Empty),
            ("347", NotAProblem),
            ("*5", NotAProblem),
            ("3*", NotAProblem),
            ("3**5", NotAProblem),
            ("3*5*2", NotAProblem),
            ("3/5", NotAProblem),
            ("-3*5", NotAProblem),
            ("3.5*2", NotAProblem),
            ("٣*5", NotAProblem),
            ("1234567890*2", TooManyDigits),
            ("3-5", NegativeResult),
        ];
        for (text, expected) in cases {
            assert_eq!(Problem::parse(text), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn generator_respects_the_shape() {
        for spec in [
            ProblemSpec::MUL_3X1,
            ProblemSpec { op: Op::Add, a_digits: 2, b_digits: 3 },
            ProblemSpec { op: Op::Sub, a_digits: 3, b_digits: 2 },
            ProblemSpec { op: Op::Sub, a_digits: 2, b_digits: 2 },
            ProblemSpec { op: Op::Sub, a_digits: 1, b_digits: 1 },
            ProblemSpec { op: Op::Mul, a_digits: 9, b_digits: 9 },
        ] {
            for p in ProblemGenerator::new(spec, 7).unwrap().take(2000) {
                let checked = Problem::new(p.a, p.op, p.b, p.a_digits, p.b_digits).unwrap();
                assert_eq!(checked, p);
                assert_eq!(p.answer_text().len(), p.answer_width(), "{p:?}");
                assert_eq!(Problem::parse(&p.prompt()).unwrap(), p);
            }
        }
    }

    #[test]
    fn generator_rejects_bad_specs() {
        let spec = ProblemSpec { op: Op::Add, a_digits: 0, b_digits: 1 };
        assert_eq!(ProblemGenerator::new(spec, 0).unwrap_err(), ProblemError::TooManyDigits);
        let spec = ProblemSpec { op: Op::Add, a_digits: 10, b_digits: 1 };
        assert!(ProblemGenerator::new(spec, 0).is_err());
        let spec = ProblemSpec { op: Op::Sub, a_digits: 2, b_digits: 3 };
        assert_eq!(ProblemGenerator::new(spec, 0).unwrap_err(), ProblemError::NegativeResult);
    }

    #[test]
    fn same_seed_same_problems_other_seed_other_problems() {
        let take = |seed| -> Vec<Problem> {
            ProblemGenerator::new(ProblemSpec::MUL_3X1, seed).unwrap().take(50).collect()
        };
        assert_eq!(take(1), take(1));
        assert_ne!(take(1), take(2));
    }
}
