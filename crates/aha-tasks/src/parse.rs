//! Reads a sampled completion back into its parts: guess, check, verdict, final answer.
//!
//! The parser accepts any string and never panics. It recovers what it can from broken text (the
//! behaviour detectors want the guess of a truncated completion too), and says separately whether
//! the whole completion follows the format exactly ([`ParsedCompletion::well_formed`]); only a
//! well-formed completion has a final answer that the reward counts.

use crate::trace::{ANSWER, CHECK, END, GUESS, OTHER_DIGIT, SAME_DIGIT, VERDICT_OK, VERDICT_WAIT};

/// Longest digit string read as a number; longer ones are malformed (no arithmetic overflows).
pub const MAX_NUMBER_DIGITS: usize = 19;

/// What the parser found in a completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedCompletion {
    /// Digits of the direct guess (`g1745` → `1745`), if the completion starts with one.
    pub guess: Option<String>,
    /// The column check, if the completion has one.
    pub check: Option<ParsedCheck>,
    /// `ok` or `wait`, if one follows the check.
    pub verdict: Option<String>,
    /// Digits of the final answer: present only when the completion is well formed.
    pub answer: Option<String>,
    /// The completion reached the end marker `.`.
    pub ended: bool,
    /// Exactly `g<digits> [c<step> <step>... =<digits> [g<digits> ]ok|wait ]a<digits>.` and nothing
    /// more; the restated guess may carry a mark (`=` or `x`) after each digit.
    pub well_formed: bool,
}

/// The check part: its column steps as written and the result it read off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedCheck {
    pub steps: Vec<String>,
    pub result: Option<String>,
    /// The guess restated beside the result (`=1735 g1745 wait`), if the check has one.
    pub restated_guess: Option<String>,
    /// The marks of a guess restated digit by digit (`g1=7=4x5=` → `==x=`), if the check has one.
    pub comparison: Option<String>,
}

fn digits(s: &str) -> Option<&str> {
    (!s.is_empty() && s.len() <= MAX_NUMBER_DIGITS && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// A column step: `7*5+0=35`, `5+6+1=12`, `15-7-0=8`, or split in two, `7*5=35+0=35` — operands
/// and results of one or two digits, single-digit second operands and carries. Valid steps are
/// ASCII; they are read as bytes, so any other character fails a digit or operator test.
fn is_step(step: &str) -> bool {
    let number = |s: &[u8]| matches!(s.len(), 1 | 2) && s.iter().all(u8::is_ascii_digit);
    // `head op digit` → head, for one of `ops`.
    let split_op = |s: &[u8], ops: &[u8]| -> Option<usize> {
        let [.., op, digit] = s else { return None };
        (ops.contains(op) && digit.is_ascii_digit()).then_some(s.len() - 2)
    };
    let column = |s: &[u8]| split_op(s, b"*+-").is_some_and(|n| number(&s[..n]));
    let parts: Vec<&[u8]> = step.as_bytes().split(|&b| b == b'=').collect();
    match parts.as_slice() {
        [left, right] => split_op(left, b"+-").is_some_and(|n| column(&left[..n])) && number(right),
        [left, middle, right] => {
            column(left) && split_op(middle, b"+-").is_some_and(|n| number(&middle[..n])) && number(right)
        }
        _ => false,
    }
}

/// Parses `completion` (the text after the prompt). Anything after the first `.` is ignored for
/// the parts and makes the completion malformed.
pub fn parse_completion(completion: &str) -> ParsedCompletion {
    let (body, tail) = match completion.split_once(END) {
        Some((body, tail)) => (body, Some(tail)),
        None => (completion, None),
    };
    let mut parsed = ParsedCompletion { ended: tail.is_some(), ..Default::default() };
    let segments: Vec<&str> = body.split(' ').collect();
    let mut grammar_ok = true;
    let mut i = 0;

    // g<digits>
    match segments.first().and_then(|s| s.strip_prefix(GUESS)).and_then(digits) {
        Some(guess) => {
            parsed.guess = Some(guess.to_string());
            i = 1;
        }
        None => grammar_ok = false,
    }

    // c<step> <step>... =<digits> [g<digits>] ok|wait
    if let Some(first_step) = segments.get(i).and_then(|s| s.strip_prefix(CHECK)) {
        let mut check = ParsedCheck::default();
        let mut step = Some(first_step);
        i += 1;
        while let Some(s) = step {
            grammar_ok &= is_step(s);
            check.steps.push(s.to_string());
            step = segments.get(i).filter(|s| !s.starts_with('=')).copied();
            if step.is_some() {
                i += 1;
            }
        }
        match segments.get(i).and_then(|s| s.strip_prefix('=')) {
            Some(result) => {
                grammar_ok &= digits(result).is_some();
                check.result = Some(result.to_string());
                i += 1;
            }
            None => grammar_ok = false,
        }
        if let Some(restated) = segments.get(i).and_then(|s| s.strip_prefix(GUESS)) {
            // `g1745`, or marked digit by digit: `g1=7=4x5=`.
            let marked = restated.len() % 2 == 0
                && restated
                    .bytes()
                    .skip(1)
                    .step_by(2)
                    .all(|b| b == SAME_DIGIT as u8 || b == OTHER_DIGIT as u8);
            let (guess, marks): (String, Option<String>) = if marked && !restated.is_empty() {
                let digits_only = restated.chars().step_by(2).collect();
                (digits_only, Some(restated.chars().skip(1).step_by(2).collect()))
            } else {
                (restated.to_string(), None)
            };
            grammar_ok &= digits(&guess).is_some();
            check.restated_guess = Some(guess);
            check.comparison = marks;
            i += 1;
        }
        match segments.get(i) {
            Some(&v) if v == VERDICT_OK || v == VERDICT_WAIT => {
                parsed.verdict = Some(v.to_string());
                i += 1;
            }
            _ => grammar_ok = false,
        }
        parsed.check = Some(check);
    }

    // a<digits>, the last segment before the end marker.
    let answer = segments.get(i).and_then(|s| s.strip_prefix(ANSWER)).and_then(digits);
    grammar_ok &= answer.is_some() && i + 1 == segments.len();
    parsed.well_formed = grammar_ok && tail == Some("");
    if parsed.well_formed {
        parsed.answer = answer.map(str::to_string);
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        let p = parse_completion("g1735 a1735.");
        assert_eq!(p.guess.as_deref(), Some("1735"));
        assert_eq!(p.check, None);
        assert_eq!(p.answer.as_deref(), Some("1735"));
        assert!(p.well_formed && p.ended);

        let p = parse_completion("g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 wait a1735.");
        assert_eq!(p.guess.as_deref(), Some("1745"));
        let check = p.check.as_ref().unwrap();
        assert_eq!(check.steps, ["7*5+0=35", "4*5+3=23", "3*5+2=17"]);
        assert_eq!(check.result.as_deref(), Some("1735"));
        assert_eq!(p.verdict.as_deref(), Some("wait"));
        assert_eq!(p.answer.as_deref(), Some("1735"));
        assert!(p.well_formed);

        let p = parse_completion("g888 c15-7-0=8 10-1-1=8 9-0-1=8 =888 ok a888.");
        assert!(p.well_formed, "{p:?}");

        let p = parse_completion("g1745 c7*5+0=35 4*5+3=23 3*5+2=17 =1735 g1745 wait a1735.");
        assert!(p.well_formed, "{p:?}");
        assert_eq!(p.check.unwrap().restated_guess.as_deref(), Some("1745"));
    }

    #[test]
    fn malformed_completions_have_no_answer() {
        for text in [
            "",
            ".",
            "a1735.",
            "g1735 a1735",
            "g1735 a1735. ",
            "g1735 a1735.a1",
            "g1735  a1735.",
            "g1735 x a1735.",
            "g1735 a1735 a1736.",
            "g17a35 a1735.",
            "g1735 a.",
            "g1735 c7*5+0=35 a1735.",
            "g1735 c7*5+0=35 =1735 a1735.",
            "g1735 c7*5+0=35 =1735 maybe a1735.",
            "g1735 c7*5+0=35 =1735 g1735 a1735.",
            "g1735 c7*5+0=35 =1735 g ok a1735.",
            "g1735 c7*5+0=35 =1735 g17x5 ok a1735.",
            "g1735 c7*5+0=35 =1735 g1735 g1735 ok a1735.",
            "g1735 c7*5+0=35 =1735 g1=7=3y5= ok a1735.",
            "g1735 c7*5+0=35 =1735 g1=7=3=5 ok a1735.",
            "g1735 c7*5+0=35 =1735 g=1=7=3=5 ok a1735.",
            "g1735 c7*5+0=35 =1735 g1=7=3=5= ==== ok a1735.",
            "g1735 c7*5+0=35 =17x5 ok a1735.",
            "g1735 c7*5=35 =1735 ok a1735.",
            "g1735 c7*5+0=356 =1735 ok a1735.",
            "g1735 c123*5+0=35 =1735 ok a1735.",
            "g1735 c =1735 ok a1735.",
            "g1 a12345678901234567890.",
            "g1735 a1735..",
            "g١٧ a1735.",
        ] {
            let p = parse_completion(text);
            assert!(!p.well_formed, "{text:?} should be malformed");
            assert_eq!(p.answer, None, "{text:?}");
        }
    }

    #[test]
    fn truncated_completions_keep_their_parts() {
        let p = parse_completion("g1745 c7*5+0=35 4*5+3=2");
        assert_eq!(p.guess.as_deref(), Some("1745"));
        assert_eq!(p.check.unwrap().steps, ["7*5+0=35", "4*5+3=2"]);
        assert!(!p.ended && !p.well_formed);
    }

    #[test]
    fn steps() {
        for ok in ["7*5+0=35", "1*5+4=9", "8+7+0=15", "15-7-0=8", "9-0-1=8", "7*5=35+0=35", "1*5=05+4=09"] {
            assert!(is_step(ok), "{ok}");
        }
        for bad in [
            "",
            "=",
            "7*5+0=",
            "7*5+0=123",
            "7*5=35",
            "7*5+0+1=35",
            "123*5+0=35",
            "*5+0=35",
            "7x5+0=35",
            "7*5*0=35",
            "7*55+0=35",
            "é*5+0=35",
            "7*5=35+0",
            "7*5=35*0=35",
            "7*5=355+0=35",
            "7*5=35+0=35=35",
            "7=35+0=35",
        ] {
            assert!(!is_step(bad), "{bad}");
        }
    }
}
