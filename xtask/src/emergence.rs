//! `cargo xtask emergence`: the measured claim behind the page. GRPO from the shipped base model with
//! the default preset (seeds 0, 1, 2), from the no-check base model (the ablation, seeds 0, 1, 2) and
//! from the control base model whose check does not pay (seed 0), natively on the CPU; held-out
//! evaluations (the task's held-out split, which training never draws from) every 5 steps to step
//! 100 and every 25 after; whether each base model's check pays (forced check vs forced answer).
//! Writes `report/emergence.json` with the commit it ran on and the acceptance of issue #21 on every
//! seed, a CSV per run and `report/emergence.svg`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::run::{self, Summary, cargo, workspace_root};

/// The shipped base models, relative to the workspace root.
pub const DEFAULT_BASE: &str = "web/public/base-model";
pub const ABLATION_BASE: &str = "web/public/base-model-no-check";
/// Not shipped with the page: only the emergence report uses it.
pub const CONTROL_BASE: &str = "dev/base-model-control";

/// The figures of one evaluation that the report keeps, by `EvalRow` field.
const KEPT: [&str; 12] = [
    "check_rate",
    "sampled_acc",
    "greedy_acc",
    "first_guess_acc",
    "fix_rate",
    "broke_rate",
    "mean_len",
    "verdict_accuracy",
    "ok_when_agree",
    "wait_when_differ",
    "check_accuracy_after_wrong_guess",
    "check_copies_guess",
];

/// The step whose evaluation is a run's `after` (the README also shows the last one).
const AFTER_STEP: u64 = 100;
/// Evaluation schedule: every `EVAL_EVERY` steps up to `AFTER_STEP`, then every `EVAL_EVERY_LATE`.
const EVAL_EVERY: usize = 5;
const EVAL_EVERY_LATE: usize = 25;

/// The source whose change invalidates the report: the task (problems, traces, parser, rewards)
/// and the training code.
pub const TRAINING_CODE: [&str; 2] = ["crates/aha-tasks", "crates/aha-train"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arm {
    Default,
    Ablation,
    Control,
}

struct Run {
    name: String,
    arm: Arm,
    seed: u64,
}

impl Run {
    fn base(&self) -> &'static str {
        match self.arm {
            Arm::Default => DEFAULT_BASE,
            Arm::Ablation => ABLATION_BASE,
            Arm::Control => CONTROL_BASE,
        }
    }
}

pub fn emergence(steps: usize, seeds: &[u64], pretrain: bool, report_only: bool) -> Result<ExitCode> {
    if seeds.is_empty() {
        bail!("--seeds needs at least one seed");
    }
    if (steps as u64) < AFTER_STEP {
        bail!(
            "--steps must be at least {AFTER_STEP}: the report's `after` is the evaluation at step {AFTER_STEP}"
        );
    }
    let mut summary = Summary::default();
    let root = workspace_root();
    let out_dir = root.join("report/emergence");
    let mut runs = Vec::new();
    // The commit the runs are built from: a commit made while they run must not be credited.
    let built_from = commit()?;
    for (arm, prefix) in [(Arm::Default, "default"), (Arm::Ablation, "ablation")] {
        runs.extend(seeds.iter().map(|&seed| Run { name: format!("{prefix}-seed{seed}"), arm, seed }));
    }
    runs.push(Run { name: "control-seed0".into(), arm: Arm::Control, seed: 0 });
    if !report_only {
        if !summary.step("build aha (dev profile)", || {
            std::fs::create_dir_all(&out_dir)?;
            cargo(&["build", "--workspace"])
        }) {
            return Ok(summary.finish());
        }
        let aha = run::target_dir().join("debug/aha");
        let aha = aha.to_str().context("non-UTF-8 target path")?.to_string();

        let missing = [DEFAULT_BASE, ABLATION_BASE, CONTROL_BASE]
            .iter()
            .any(|b| !root.join(b).join("model.bpk").exists());
        if pretrain || missing {
            summary.step("pretrain the base, no-check and control models (CPU)", || {
                crate::pretrain_base_models(&aha, crate::DEFAULT_RECIPE)
            });
        }

        for (base, name) in [(DEFAULT_BASE, "base-check-pays"), (CONTROL_BASE, "control-check-pays")] {
            summary.step(&format!("does {base}'s check pay? (aha eval)"), || {
                let args = ["eval", "--checkpoint", base, "--problems", "512", "--samples", "2"];
                let text = run::capture_env(&aha, &args, &[("RAYON_NUM_THREADS", "1")])?;
                std::fs::write(out_dir.join(format!("{name}.json")), text)?;
                Ok(())
            });
        }

        // Two at a time: each run is single-threaded.
        for pair in runs.chunks(2) {
            let names: Vec<&str> = pair.iter().map(|r| r.name.as_str()).collect();
            summary.step(&format!("GRPO {} ({steps} steps)", names.join(" + ")), || {
                std::thread::scope(|scope| {
                    let handles: Vec<_> =
                        pair.iter().map(|r| scope.spawn(|| grpo(&aha, r, steps, &out_dir))).collect();
                    handles.into_iter().try_for_each(|h| h.join().expect("a GRPO thread panicked"))
                })
            });
        }
    }
    summary.step("write report/emergence.json, CSVs and emergence.svg", || {
        let report = report(&runs, &out_dir, (!report_only).then_some(&built_from))?;
        let path = root.join("report/emergence.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
        crate::plot::emergence_svg(&out_dir, &root.join("report/emergence.svg"))?;
        println!("wrote {}", path.display());
        let failed: Vec<&String> = report["acceptance"]
            .as_object()
            .context("acceptance is an object")?
            .iter()
            .filter(|(_, ok)| ok.as_bool() != Some(true))
            .map(|(name, _)| name)
            .collect();
        if !failed.is_empty() {
            println!("acceptance lines not met: {failed:?}");
        }
        Ok(())
    });
    Ok(summary.finish())
}

fn grpo(aha: &str, run: &Run, steps: usize, out_dir: &Path) -> Result<()> {
    let path = |suffix: &str| out_dir.join(format!("{}{suffix}", run.name)).to_string_lossy().into_owned();
    let (seed, steps) = (run.seed.to_string(), steps.to_string());
    let (every, until, late) = (EVAL_EVERY.to_string(), AFTER_STEP.to_string(), EVAL_EVERY_LATE.to_string());
    let args = [
        "grpo",
        "--checkpoint",
        run.base(),
        "--preset",
        "default",
        "--seed",
        &seed,
        "--steps",
        &steps,
        "--eval-every",
        &every,
        "--eval-dense-until",
        &until,
        "--eval-every-late",
        &late,
        "--metrics",
        &path("-steps.jsonl"),
        "--eval-metrics",
        &path("-eval.json"),
    ];
    run::aha_logged(aha, &args, Path::new(&path(".log")))?;
    eval_csv(&PathBuf::from(path("-eval.json")), &PathBuf::from(path(".csv")))
}

/// The held-out evaluations of a run (`EvalRow`s), oldest first.
pub fn eval_rows(path: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let rows: Vec<Value> = serde_json::from_str(&text)?;
    if rows.is_empty() {
        bail!("{} has no evaluations", path.display());
    }
    Ok(rows)
}

/// The run's evaluations as CSV, one row per evaluation (fields in `EvalRow` order).
fn eval_csv(json: &Path, csv: &Path) -> Result<()> {
    let rows = eval_rows(json)?;
    let header: Vec<String> = rows[0].as_object().context("an object")?.keys().cloned().collect();
    let mut text = header.join(",") + "\n";
    for row in &rows {
        let cells: Vec<String> = header
            .iter()
            .map(|k| if row[k].is_null() { String::new() } else { row[k].to_string() })
            .collect();
        text += &(cells.join(",") + "\n");
    }
    Ok(std::fs::write(csv, text)?)
}

fn kept(row: &Value) -> Value {
    kept_fields(row, &KEPT)
}

/// The fields `keys` of an evaluation row, as an object.
pub fn kept_fields(row: &Value, keys: &[&str]) -> Value {
    Value::Object(keys.iter().map(|&k| (k.to_string(), row[k].clone())).collect())
}

/// The evaluation at `step` (the last one at or before it).
pub fn at_step(rows: &[Value], step: u64) -> &Value {
    rows.iter().rev().find(|r| r["step"].as_u64().is_some_and(|s| s <= step)).unwrap_or(&rows[0])
}

/// The first evaluated step whose held-out check rate exceeds 0.5.
fn first_step_check_over_half(rows: &[Value]) -> Option<u64> {
    rows.iter().find(|r| r["check_rate"].as_f64().is_some_and(|c| c > 0.5)).and_then(|r| r["step"].as_u64())
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// One base model's check against its answer: the same problems and guesses, the decision forced.
fn check_pays(path: &Path) -> Result<Value> {
    let eval: Value = serde_json::from_str(
        &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    )?;
    let forced = &eval["forced_sampled"];
    Ok(json!({
        "acc_with_check": forced["acc_with_check"],
        "acc_without_check": forced["acc_without_check"],
        "guess_acc": forced["guess_acc"],
        "problems": forced["problems"],
        "teacher_forced_check": eval["teacher_forced"]["exact_rate"],
        "how": "the same held-out problems and guesses, the decision after the guess forced to check or to answer (sampled at temperature 1)",
    }))
}

/// HEAD, and whether the code the runs execute is as committed there: the training code, and
/// what else the CLI's CPU runs go through (the model, the kernels' references, the tokenizer,
/// the base models).
pub fn commit() -> Result<(String, bool)> {
    let sha = run::capture("git", &["rev-parse", "HEAD"])?.trim().to_string();
    let mut paths = vec!["status", "--porcelain", "--"];
    paths.extend(TRAINING_CODE);
    paths.extend([
        "crates/aha-model",
        "crates/aha-kernels",
        "crates/aha-tokenizer",
        "crates/aha-cli",
        "web/public",
        CONTROL_BASE,
    ]);
    let dirty = !run::capture("git", &paths)?.trim().is_empty();
    Ok((sha, !dirty))
}

/// The report on the runs in `out_dir`. `built_from`: HEAD and its cleanliness when the runs
/// were built (`None` when only the report is rewritten); it is clean only if HEAD has not moved
/// and the code is still as committed.
fn report(runs: &[Run], out_dir: &Path, built_from: Option<&(String, bool)>) -> Result<Value> {
    let rows = |name: &str| eval_rows(&out_dir.join(format!("{name}-eval.json")));
    let pays = check_pays(&out_dir.join("base-check-pays.json"))?;
    let control_pays = check_pays(&out_dir.join("control-check-pays.json"))?;
    let (sha, clean_now) = commit()?;
    let clean = clean_now && built_from.is_none_or(|(built, was_clean)| *was_clean && *built == sha);
    let mut acceptance = serde_json::Map::new();
    let mut accept = |name: String, ok: bool| {
        acceptance.insert(name, Value::Bool(ok));
    };

    let mut seeds = Vec::new();
    let mut ablation_seeds = Vec::new();
    let mut control = Value::Null;
    let mut default_steps = None;
    for run in runs {
        let rows = rows(&run.name)?;
        let (before, after, last) =
            (kept(&rows[0]), kept(at_step(&rows, AFTER_STEP)), kept(&rows[rows.len() - 1]));
        let last_step = rows[rows.len() - 1]["step"].as_u64();
        let s = run.seed;
        // What every seed's summary holds; each arm adds its own figures below.
        let mut summary = json!({
            "seed": s,
            "before": before,
            "after": after,
            "last": { "step": last_step, "metrics": last },
        });
        match run.arm {
            Arm::Default => {
                default_steps = default_steps.or(Some(last_step));
                let onset = first_step_check_over_half(&rows);
                let b = &before;
                accept(
                    format!("seed{s}_base_check_rate_5_to_15_percent"),
                    (0.05..=0.15).contains(&f(b, "check_rate")),
                );
                accept(format!("seed{s}_check_over_half_by_step_50"), onset.is_some_and(|step| step <= 50));
                let a = &after;
                for (key, bound) in [
                    ("check_rate", 0.9),
                    ("verdict_accuracy", 0.9),
                    ("ok_when_agree", 0.85),
                    ("wait_when_differ", 0.85),
                    ("check_accuracy_after_wrong_guess", 0.85),
                    ("sampled_acc", 0.85),
                    ("greedy_acc", 0.9),
                ] {
                    accept(
                        format!("seed{s}_{key}_at_step_{AFTER_STEP}_at_least_{bound}"),
                        f(a, key) >= bound,
                    );
                }
                summary["first_step_check_over_half"] = json!(onset);
                seeds.push(summary);
            }
            Arm::Ablation => {
                let highest = rows.iter().map(|r| f(r, "check_rate")).fold(0.0, f64::max);
                accept(format!("ablation_seed{s}_check_rate_below_0.02_throughout"), highest < 0.02);
                summary["highest_check_rate"] = json!(highest);
                summary["sampled_acc_change"] = json!(f(&last, "sampled_acc") - f(&before, "sampled_acc"));
                ablation_seeds.push(summary);
            }
            Arm::Control => {
                accept(
                    "control_check_rate_after_at_most_before_plus_0.05".into(),
                    f(&last, "check_rate") <= f(&before, "check_rate") + 0.05,
                );
                summary["base_check_pays"] = control_pays.clone();
                control = summary;
            }
        }
    }
    accept(
        "base_check_pays_by_10_points".into(),
        f(&pays, "acc_with_check") - f(&pays, "acc_without_check") >= 0.10,
    );
    accept("commit_clean".into(), clean);
    let first = seeds.first().cloned().unwrap_or(Value::Null);
    let first_ablation = ablation_seeds.first().cloned().unwrap_or(Value::Null);
    Ok(json!({
        "generated_by": "cargo xtask emergence",
        "commit": sha,
        "commit_clean": clean,
        "training_code_hash": training_code_hash(&workspace_root())?,
        "preset": "default",
        "backend": "cpu",
        "held_out": {
            "problems": runs.first().map(|r| rows(&r.name)).transpose()?.map(|r| r[0]["problems"].clone()),
            "disjoint": true,
            "how": "aha_tasks::HELD_OUT_HOW: a problem is held out when a fixed hash of it falls in 10 of 100 buckets; training streams never yield one; evaluations take 512 distinct held-out problems, sampled at temperature 1 unless named greedy",
        },
        "eval_schedule": { "every": EVAL_EVERY, "until": AFTER_STEP, "then_every": EVAL_EVERY_LATE },
        "default": {
            "steps": AFTER_STEP,
            "seed": first["seed"],
            "before": first["before"],
            "after": first["after"],
            "run_steps": default_steps.flatten(),
        },
        "ablation": {
            "steps": AFTER_STEP,
            "seed": first_ablation["seed"],
            "before": first_ablation["before"],
            "after": first_ablation["after"],
        },
        "base_check_pays": pays,
        "seeds": seeds,
        "ablation_seeds": ablation_seeds,
        "control": control,
        "acceptance": Value::Object(acceptance),
    }))
}

/// A fingerprint of [`TRAINING_CODE`]: FNV-1a over every file's path and bytes, in path order.
/// The report records it; a test fails when the code changes and the report was not regenerated.
pub fn training_code_hash(root: &Path) -> Result<String> {
    let mut files = Vec::new();
    for dir in TRAINING_CODE {
        collect_files(&root.join(dir), &mut files)?;
    }
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        eat(relative.as_bytes());
        eat(&std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?);
    }
    Ok(format!("{hash:016x}"))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Fails when `report/<name>.json` was not made by `cargo xtask <name>` from the committed training
/// code of this checkout (its hash of `crates/aha-tasks` and `crates/aha-train`).
#[cfg(test)]
pub fn assert_report_is_from_this_training_code(name: &str) {
    let root = workspace_root();
    let path = format!("report/{name}.json");
    let text = std::fs::read_to_string(root.join(&path)).expect(&path);
    let report: Value = serde_json::from_str(&text).expect("the report is JSON");
    let now = training_code_hash(&root).expect("hashing the training code");
    assert_eq!(
        report["training_code_hash"].as_str(),
        Some(now.as_str()),
        "crates/aha-tasks or crates/aha-train changed since {path} was made: run `cargo xtask {name}` \
         and commit the new report"
    );
    assert_eq!(report["commit_clean"], true, "{path} came from uncommitted training code");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onset_and_after_read_the_schedule() {
        let rows: Vec<Value> = [(0, 0.05), (5, 0.3), (10, 0.6), (95, 0.9), (100, 0.95), (125, 0.97)]
            .iter()
            .map(|&(step, check)| json!({ "step": step, "check_rate": check }))
            .collect();
        assert_eq!(first_step_check_over_half(&rows), Some(10));
        assert_eq!(at_step(&rows, 100)["check_rate"], 0.95);
        assert_eq!(at_step(&rows, 99)["check_rate"], 0.9);
        assert_eq!(first_step_check_over_half(&rows[..2]), None);
    }

    /// The committed report must come from the training code in this checkout: a change to
    /// `crates/aha-tasks` or `crates/aha-train` without `cargo xtask emergence` fails here.
    #[test]
    fn the_emergence_report_is_from_this_training_code() {
        assert_report_is_from_this_training_code("emergence");
    }
}
