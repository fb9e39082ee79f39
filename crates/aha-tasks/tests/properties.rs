//! Property tests: arbitrary, truncated and adversarial completions never panic and never pay;
//! every trace the writer produces parses back to what it wrote.

use aha_tasks::{
    GuessMask, Op, Problem, RewardConfig, StepFormat, TraceSpec, near_miss, parse_completion, reward,
    write_trace,
};
use proptest::prelude::*;

const BOTH: RewardConfig = RewardConfig { correct: 1.0, format: 0.1 };

fn mul_3x1() -> impl Strategy<Value = Problem> {
    (100u64..1000, 0u64..10).prop_map(|(a, b)| Problem::new(a, Op::Mul, b, 3, 1).unwrap())
}

fn any_problem() -> impl Strategy<Value = Problem> {
    (prop_oneof![Just(Op::Add), Just(Op::Sub), Just(Op::Mul)], 1u32..=4, 1u32..=4, any::<u64>(), any::<u64>())
        .prop_filter_map("shape", |(op, da, db, a, b)| {
            let db = if op == Op::Sub { db.min(da) } else { db };
            let (a, b) = (a % 10u64.pow(da), b % 10u64.pow(db));
            let (a, b) = if op == Op::Sub && a < b { (b, a) } else { (a, b) };
            Problem::new(a, op, b, da, db).ok()
        })
}

fn trace_spec() -> impl Strategy<Value = TraceSpec> {
    (any::<bool>(), any::<bool>(), any::<bool>(), 0..3u8, 0..3u8, any::<bool>(), any::<bool>()).prop_map(
        |(check, wrong_guess, mask_decision, m, f, restate_guess, verdict_only)| TraceSpec {
            check,
            wrong_guess,
            mask_decision,
            guess_mask: [GuessMask::None, GuessMask::WrongOnly, GuessMask::All][m as usize],
            step_format: [StepFormat::Natural, StepFormat::Padded, StepFormat::Split][f as usize],
            restate_guess,
            compare_digits: restate_guess && verdict_only,
            verdict_only,
            mask_verdict: false,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_string_parses_without_panic_and_malformed_pays_nothing(
        problem in mul_3x1(),
        text in any::<String>(),
    ) {
        let parsed = parse_completion(&text);
        let r = reward(&problem, &text, BOTH);
        prop_assert!([0.0, 0.1, 1.0, 1.1].contains(&r));
        if !parsed.well_formed {
            prop_assert_eq!(r, 0.0);
            prop_assert_eq!(parsed.answer, None);
        }
    }

    #[test]
    fn vocabulary_soup_never_panics(problem in mul_3x1(), text in "[gcaokwit0-9 .=*+-]{0,80}") {
        let parsed = parse_completion(&text);
        let r = reward(&problem, &text, BOTH);
        prop_assert!(r == 0.0 || parsed.well_formed);
    }

    #[test]
    fn traces_parse_back_and_pay_iff_right(
        problem in mul_3x1(),
        spec in trace_spec(),
        digit in 0usize..4,
        up in any::<bool>(),
    ) {
        let wrong = near_miss(&problem.answer_text(), digit, up);
        let trace = write_trace(&problem, spec, &wrong).unwrap();
        prop_assert_eq!(trace.loss_mask.len(), trace.completion.chars().count());
        let parsed = parse_completion(&trace.completion);
        prop_assert!(parsed.well_formed, "{}", trace.completion);
        let guess = if spec.wrong_guess { wrong } else { problem.answer_text() };
        prop_assert_eq!(parsed.guess.as_deref(), Some(guess.as_str()));
        prop_assert_eq!(parsed.check.is_some(), spec.check);
        // A trace is right when it checked or when its guess was right.
        let right = spec.check || !spec.wrong_guess;
        prop_assert_eq!(reward(&problem, &trace.completion, BOTH), if right { 1.1 } else { 0.1 });
    }

    #[test]
    fn every_proper_prefix_of_a_trace_pays_nothing(
        problem in mul_3x1(),
        spec in trace_spec(),
        cut in any::<prop::sample::Index>(),
    ) {
        let trace = write_trace(&problem, spec, &near_miss(&problem.answer_text(), 1, true)).unwrap();
        let chars: Vec<char> = trace.completion.chars().collect();
        let prefix: String = chars[..cut.index(chars.len())].iter().collect();
        prop_assert_eq!(reward(&problem, &prefix, BOTH), 0.0);
    }

    #[test]
    fn check_traces_exist_for_every_column_shape(problem in any_problem(), spec in trace_spec()) {
        let spec = TraceSpec { check: true, ..spec };
        let trace = write_trace(&problem, spec, &near_miss(&problem.answer_text(), 0, true));
        if problem.op == Op::Mul && problem.b_digits > 1 {
            prop_assert!(trace.is_err());
        } else {
            let trace = trace.unwrap();
            let parsed = parse_completion(&trace.completion);
            prop_assert!(parsed.well_formed, "{}{}", trace.prompt, trace.completion);
            prop_assert_eq!(reward(&problem, &trace.completion, BOTH), 1.1);
            let columns = match problem.op {
                Op::Mul => problem.a_digits,
                Op::Add | Op::Sub => problem.a_digits.max(problem.b_digits),
            };
            prop_assert_eq!(parsed.check.unwrap().steps.len(), columns as usize);
        }
    }
}
