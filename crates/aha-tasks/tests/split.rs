//! The held-out split: training streams never yield a held-out problem, evaluation sets hold only
//! held-out problems, and the split is about a tenth of every shape.

use aha_tasks::{
    Corpus, CorpusMix, Op, Problem, ProblemError, ProblemGenerator, ProblemSpec, Split, held_out_set,
    is_held_out,
};

#[test]
fn a_million_training_draws_hold_no_held_out_problem() {
    let mut drawn = std::collections::HashSet::new();
    for (i, problem) in ProblemGenerator::new(ProblemSpec::MUL_3X1, 0).unwrap().take(1_000_000).enumerate() {
        assert!(!is_held_out(&problem), "training draw {i} is held out: {}", problem.prompt());
        drawn.insert((problem.a, problem.b));
    }
    // The stream still covers the whole training split (not a degenerate corner of it).
    let training = (100..1000u64)
        .flat_map(|a| (0..10u64).map(move |b| Problem::new(a, Op::Mul, b, 3, 1).unwrap()))
        .filter(|p| !is_held_out(p))
        .count();
    assert_eq!(drawn.len(), training);
}

#[test]
fn sft_corpora_write_no_held_out_problem() {
    for mix in [CorpusMix::RECIPE_B_STAGE1, CorpusMix::NO_CHECK] {
        let mut corpus = Corpus::new(ProblemSpec::MUL_3X1, mix, 3).unwrap();
        for _ in 0..50_000 {
            let trace = corpus.next_trace().unwrap();
            let problem = Problem::parse(&trace.prompt).unwrap();
            assert!(!is_held_out(&problem), "corpus trace of a held-out problem: {}", trace.prompt);
        }
    }
}

#[test]
fn the_split_is_about_a_tenth_of_each_shape() {
    let shapes = [
        ProblemSpec::MUL_3X1,
        ProblemSpec { op: Op::Mul, a_digits: 2, b_digits: 2 },
        ProblemSpec { op: Op::Add, a_digits: 3, b_digits: 3 },
        ProblemSpec { op: Op::Sub, a_digits: 3, b_digits: 3 },
    ];
    for spec in shapes {
        let (held, total) = count_held_out(spec);
        let share = held as f64 / total as f64;
        assert!((0.08..0.12).contains(&share), "{spec:?}: {held} of {total} held out");
    }
}

fn count_held_out(spec: ProblemSpec) -> (usize, usize) {
    let range = |d: u32| (if d == 1 { 0 } else { 10u64.pow(d - 1) })..10u64.pow(d);
    let all: Vec<Problem> = range(spec.a_digits)
        .flat_map(|a| range(spec.b_digits).map(move |b| (a, b)))
        .filter_map(|(a, b)| Problem::new(a, spec.op, b, spec.a_digits, spec.b_digits).ok())
        .collect();
    (all.iter().filter(|p| is_held_out(p)).count(), all.len())
}

#[test]
fn evaluation_sets_are_distinct_held_out_problems() {
    let set = held_out_set(ProblemSpec::MUL_3X1, 512, 9_000_001).unwrap();
    assert_eq!(set.len(), 512);
    assert!(set.iter().all(|p| p.split() == Split::HeldOut));
    let distinct: std::collections::HashSet<_> = set.iter().collect();
    assert_eq!(distinct.len(), 512);
    // Seeded: the same seed is the same set, in the same order; another seed another order.
    assert_eq!(held_out_set(ProblemSpec::MUL_3X1, 512, 9_000_001).unwrap(), set);
    assert_ne!(held_out_set(ProblemSpec::MUL_3X1, 512, 1).unwrap(), set);
    // Asking for more than the split holds gives the whole split, not an endless draw.
    let (held, _) = count_held_out(ProblemSpec::MUL_3X1);
    assert_eq!(held_out_set(ProblemSpec::MUL_3X1, 5000, 2).unwrap().len(), held);
}

#[test]
fn held_out_streams_hold_only_held_out_problems() {
    let stream = ProblemGenerator::of_split(ProblemSpec::MUL_3X1, Split::HeldOut, 4).unwrap();
    assert!(stream.take(10_000).all(|p| is_held_out(&p)));
    // Membership depends on the whole problem: widths count (7*3 as 1×1 and as 2×1 are two problems).
    let as_shape = |a, b, a_digits| is_held_out(&Problem::new(a, Op::Mul, b, a_digits, 1).unwrap());
    let differ = (0..10u64).flat_map(|a| (0..10u64).map(move |b| (a, b)));
    let differ = differ.filter(|&(a, b)| as_shape(a, b, 1) != as_shape(a, b, 2)).count();
    assert!(differ > 5, "the split ignores the operand widths ({differ} of 100 differ)");
}

#[test]
fn shapes_too_small_to_split_are_refused() {
    // 1-digit minus 1-digit has 55 problems; whichever split is empty for such a small shape is
    // refused rather than drawn from forever.
    let spec = ProblemSpec { op: Op::Sub, a_digits: 1, b_digits: 1 };
    let (held, total) = count_held_out(spec);
    for (split, size) in [(Split::HeldOut, held), (Split::Train, total - held)] {
        let made = ProblemGenerator::of_split(spec, split, 0);
        if size == 0 {
            assert_eq!(made.unwrap_err(), ProblemError::EmptySplit);
        } else {
            assert!(made.unwrap().take(100).all(|p| p.split() == split));
        }
    }
}
