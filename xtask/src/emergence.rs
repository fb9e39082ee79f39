//! `cargo xtask emergence`: the measured claim behind the page. GRPO from the shipped base model with
//! the default preset (seeds 0, 1, 2) and from the no-check base model (the ablation), natively on
//! the CPU; held-out evaluations before, during and after; whether the base model's check pays
//! (forced check vs forced answer). Writes `report/emergence.json`, a CSV per run and
//! `report/emergence.svg`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::run::{self, Summary, cargo, workspace_root};

/// The shipped base models, relative to the workspace root.
pub const DEFAULT_BASE: &str = "web/public/base-model";
pub const ABLATION_BASE: &str = "web/public/base-model-no-check";

/// The figures of one evaluation that the report keeps, by `EvalRow` field.
const KEPT: [&str; 7] =
    ["check_rate", "sampled_acc", "greedy_acc", "first_guess_acc", "fix_rate", "broke_rate", "mean_len"];

struct Run {
    name: String,
    base: &'static str,
    seed: u64,
}

pub fn emergence(steps: usize, seeds: &[u64], pretrain: bool, report_only: bool) -> Result<ExitCode> {
    if seeds.is_empty() {
        bail!("--seeds needs at least one seed");
    }
    let mut summary = Summary::default();
    let root = workspace_root();
    let out_dir = root.join("report/emergence");
    let mut runs: Vec<Run> = seeds
        .iter()
        .map(|&seed| Run { name: format!("default-seed{seed}"), base: DEFAULT_BASE, seed })
        .collect();
    runs.push(Run { name: "ablation-seed0".into(), base: ABLATION_BASE, seed: 0 });
    let pays = out_dir.join("base-check-pays.json");
    if !report_only {
        if !summary.step("build aha (dev profile)", || {
            std::fs::create_dir_all(&out_dir)?;
            cargo(&["build", "--workspace"])
        }) {
            return Ok(summary.finish());
        }
        let aha = run::target_dir().join("debug/aha");
        let aha = aha.to_str().context("non-UTF-8 target path")?.to_string();

        let missing = [DEFAULT_BASE, ABLATION_BASE].iter().any(|b| !root.join(b).join("model.bpk").exists());
        if pretrain || missing {
            summary.step("pretrain split-check and no-check (CPU)", || {
                crate::pretrain_base_models(&aha, "split-check")
            });
        }

        summary.step("does the base model's check pay? (aha eval)", || {
            let text = run::capture(
                &aha,
                &["eval", "--checkpoint", DEFAULT_BASE, "--problems", "128", "--samples", "4"],
            )?;
            std::fs::write(&pays, text)?;
            Ok(())
        });

        // Two at a time: each run is single-threaded on the CPU backend.
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
        let report = report(&runs, &pays, &out_dir)?;
        let path = root.join("report/emergence.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
        crate::plot::emergence_svg(&out_dir, &root.join("report/emergence.svg"))?;
        println!("wrote {}", path.display());
        Ok(())
    });
    Ok(summary.finish())
}

fn grpo(aha: &str, run: &Run, steps: usize, out_dir: &Path) -> Result<()> {
    let path = |suffix: &str| out_dir.join(format!("{}{suffix}", run.name)).to_string_lossy().into_owned();
    let (seed, steps) = (run.seed.to_string(), steps.to_string());
    let args = [
        "grpo",
        "--checkpoint",
        run.base,
        "--preset",
        "default",
        "--seed",
        &seed,
        "--steps",
        &steps,
        "--metrics",
        &path("-steps.jsonl"),
        "--eval-metrics",
        &path("-eval.json"),
    ];
    let log = std::fs::File::create(path(".log"))?;
    let status = std::process::Command::new(aha)
        .args(args)
        .current_dir(workspace_root())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("starting {aha}"))?;
    if !status.success() {
        bail!("{} failed ({status}); see {}", run.name, path(".log"));
    }
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
    Value::Object(KEPT.iter().map(|&k| (k.to_string(), row[k].clone())).collect())
}

fn before_after(rows: &[Value]) -> (Value, Value) {
    (kept(&rows[0]), kept(rows.last().expect("rows are not empty")))
}

fn report(runs: &[Run], pays: &Path, out_dir: &Path) -> Result<Value> {
    let rows = |name: &str| eval_rows(&out_dir.join(format!("{name}-eval.json")));
    let eval: Value = serde_json::from_str(&std::fs::read_to_string(pays)?)?;
    let forced = &eval["forced_sampled"];
    let mut seeds = Vec::new();
    for run in runs.iter().filter(|r| r.base == DEFAULT_BASE) {
        let (before, after) = before_after(&rows(&run.name)?);
        seeds.push(json!({ "seed": run.seed, "before": before, "after": after }));
    }
    let first = runs.first().context("no runs")?;
    let (default_rows, ablation_rows) = (rows(&first.name)?, rows("ablation-seed0")?);
    // The steps each run really took (its last evaluation), not what was asked for.
    let steps_of = |rows: &[Value]| rows.last().and_then(|r| r["step"].as_u64());
    let (before, after) = before_after(&default_rows);
    let (ab_before, ab_after) = before_after(&ablation_rows);
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let acceptance = json!({
        "base_check_rate_at_most_0.15": f(&before, "check_rate") <= 0.15,
        "base_check_pays_by_10_points": f(forced, "acc_with_check") - f(forced, "acc_without_check") >= 0.10,
        "check_rate_at_least_0.60": f(&after, "check_rate") >= 0.60,
        "sampled_acc_up_15_points": f(&after, "sampled_acc") - f(&before, "sampled_acc") >= 0.15,
        "fix_rate_at_least_0.05": f(&after, "fix_rate") >= 0.05,
        "mean_len_up": f(&after, "mean_len") > f(&before, "mean_len"),
        "greedy_acc_up": f(&after, "greedy_acc") > f(&before, "greedy_acc"),
        "ablation_check_rate_below_0.02": f(&ab_after, "check_rate") < 0.02,
    });
    Ok(json!({
        "generated_by": "cargo xtask emergence",
        "preset": "default",
        "backend": "cpu",
        "held_out": "the default preset's held-out set, sampled at the training temperature unless named greedy",
        "default": { "steps": steps_of(&default_rows), "seed": first.seed, "before": before, "after": after },
        "ablation": { "steps": steps_of(&ablation_rows), "seed": 0, "before": ab_before, "after": ab_after },
        "base_check_pays": {
            "acc_with_check": forced["acc_with_check"],
            "acc_without_check": forced["acc_without_check"],
            "guess_acc": forced["guess_acc"],
            "problems": forced["problems"],
            "how": "the same held-out problems and guesses, the decision after the guess forced to check or to answer",
        },
        "teacher_forced_check": eval["teacher_forced"]["exact_rate"],
        "seeds": seeds,
        "acceptance": acceptance,
    }))
}
