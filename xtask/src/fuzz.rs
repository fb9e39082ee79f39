//! `cargo xtask fuzz`: each cargo-fuzz target in fuzz/ for a number of inputs, its corpus seeded
//! with the real files it stands for (the shipped model's config, vocabulary and weights, good and
//! broken completions). A crash stops the target and leaves its input in fuzz/artifacts/.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::prereq;
use crate::run::{Summary, command, workspace_root};

/// The targets, the seed files each starts from, and whether it needs Burn (fuzz/'s `burn` feature).
const TARGETS: [(&str, &[&str], bool); 6] = [
    ("tokenizer", &["web/public/base-model/tokenizer.json"], false),
    ("answer_parser", &[], false),
    ("config_parser", &["web/public/base-model/config.json"], true),
    ("checkpoint_loader", &["fuzz/seeds/checkpoint.bpk"], true),
    ("run_settings", &[], true),
    ("run_state", &["fuzz/seeds/run-state.safetensors"], true),
];

/// Run settings as the page sends them: a preset alone, every knob, and knobs that wrap on 32 bits.
const SETTINGS: [&str; 4] = [
    r#"{"preset":"tiny"}"#,
    r#"{"preset":"default","seed":5,"prompts_per_step":8,"num_generations":8,"learning_rate":0.0003,"beta":0.04,"epsilon":0.2,"loss_type":"dr_grpo","temperature":1.0,"max_completion_length":72}"#,
    r#"{"preset":"tiny","max_completion_length":4294967290}"#,
    r#"{"preset":"tiny","prompts_per_step":65536,"num_generations":65536}"#,
];

/// Completions the parser sees in training: well formed, checked, broken off, malformed.
const COMPLETIONS: [&str; 5] = [
    "g1735 a1735.",
    "g1745 c5*7=35 5*4=20+3=23 5*3=15+2=17 =1735 wait a1735.",
    "g1735 c5*7=35 5*4=20+3=23 =17",
    "a.",
    "g99999999999999999999 a1.",
];

pub fn fuzz(runs: u64, wanted: &[String], max_seconds: Option<u64>) -> Result<ExitCode> {
    for name in wanted {
        if !TARGETS.iter().any(|(target, ..)| target == name) {
            let names: Vec<_> = TARGETS.iter().map(|(target, ..)| *target).collect();
            bail!("unknown fuzz target {name:?}; choose from {}", names.join(", "));
        }
    }
    let mut summary = Summary::default();
    if !summary.step("prerequisites (nightly, cargo-fuzz)", prereq::cargo_fuzz) {
        return Ok(summary.finish());
    }
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    let mut limits = vec![format!("-runs={runs}"), "-max_len=1048576".to_string()];
    limits.extend(max_seconds.map(|s| format!("-max_total_time={s}")));
    for (target, seeds, needs_burn) in TARGETS {
        if !wanted.is_empty() && !wanted.iter().any(|name| name == target) {
            continue;
        }
        summary.step(&format!("fuzz {target} ({runs} inputs)"), || {
            let corpus = fuzz_dir.join("corpus").join(target);
            seed(&root, &corpus, target, seeds)?;
            let corpus = corpus.to_str().context("non-UTF-8 path")?;
            let mut args = vec!["+nightly", "fuzz", "run"];
            if needs_burn {
                args.extend(["--features", "burn"]);
            }
            args.extend([target, corpus, "--"]);
            args.extend(limits.iter().map(String::as_str));
            command("cargo", &args, &fuzz_dir, &[])
        });
    }
    Ok(summary.finish())
}

/// Copies `seeds` (paths under the repository) into `corpus`, and the parser's completions.
fn seed(root: &Path, corpus: &Path, target: &str, seeds: &[&str]) -> Result<()> {
    std::fs::create_dir_all(corpus).with_context(|| format!("creating {}", corpus.display()))?;
    for file in seeds {
        let name = Path::new(file).file_name().context("a seed path names a file")?;
        std::fs::copy(root.join(file), corpus.join(name)).with_context(|| format!("seeding {file}"))?;
    }
    if target == "answer_parser" {
        for (i, completion) in COMPLETIONS.iter().enumerate() {
            std::fs::write(corpus.join(format!("completion-{i}")), completion)?;
        }
    }
    if target == "run_settings" {
        for (i, settings) in SETTINGS.iter().enumerate() {
            std::fs::write(corpus.join(format!("settings-{i}.json")), settings)?;
        }
    }
    Ok(())
}
