//! Aha's task, independent of any tensor library: seeded arithmetic problems, the SFT traces that
//! teach the completion format, the parser that reads completions back, and the rule-based reward.
//!
//! - [`problem`]: `Problem`, its prompt and fixed-width answer, and the seeded `ProblemGenerator`.
//! - [`trace`]: the "fast guess, slow check" completion format and the SFT trace writer.
//! - [`corpus`]: a seeded stream of traces mixed as one SFT stage asks.
//! - [`parse`]: completion text → guess, check, verdict, final answer.
//! - [`reward`]: correctness and format rewards.
//! - [`behaviour`]: what a completion did (checked, fixed, broke...) and rates over many.

pub mod behaviour;
pub mod corpus;
pub mod parse;
pub mod problem;
pub mod reward;
pub mod trace;

pub use behaviour::{Behaviour, BehaviourStats, behaviour, behaviour_of};
pub use corpus::{Corpus, CorpusError, CorpusMix};
pub use parse::{ParsedCheck, ParsedCompletion, parse_completion};
pub use problem::{
    HELD_OUT_HOW, Op, Problem, ProblemError, ProblemGenerator, ProblemSpec, Split, held_out_set, is_held_out,
};
pub use reward::{RewardConfig, is_correct, is_format_ok, reward};
pub use trace::{
    ColumnCheck, GuessMask, StepFormat, Trace, TraceError, TraceSpec, compare_digits, near_miss, write_trace,
    write_trace_with_result,
};
