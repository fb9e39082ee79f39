//! Any sampled completion through the parser, the reward and the behaviour detectors: never a
//! panic, and only a well-formed completion has a final answer.
#![no_main]

use aha_tasks::{Problem, RewardConfig, behaviour, parse_completion, reward};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let completion = String::from_utf8_lossy(data);
    let parsed = parse_completion(&completion);
    assert!(parsed.answer.is_none() || parsed.well_formed);
    let problem = Problem::parse("347*5").expect("a valid problem");
    let _ = reward(&problem, &completion, RewardConfig::default());
    let _ = behaviour(&problem, &completion);
    // Typed problems go through the same kind of door.
    let _ = Problem::parse(&completion);
});
