//! `cargo xtask distill`: does a small student learn more from the RL'd model's answers than from
//! RL of its own (DeepSeek-R1's second finding), at this scale? Natively on the CPU, per seed:
//!
//! 1. the teacher: GRPO from the shipped base model, default preset, `steps` steps;
//! 2. the student's own GRPO from its base model (web/public/student-model), `steps` steps;
//! 3. distillation: the teacher's right answers to training problems, `steps` SFT steps;
//! 4. the distilled student, then `steps` GRPO steps.
//!
//! Every arm is measured by the same held-out evaluation as `aha grpo` (the task's held-out
//! split, which neither the teacher's answers nor any training draws from): the student's base
//! model is the GRPO run's step 0, the distilled student the last run's step 0. Writes
//! `report/distill.json` (the commit, each arm's figures per seed, the steps and seconds each
//! used, and the student's GRPO at the distillation's wall time), `report/distill.svg` and the
//! runs' files in `report/distill/`; the checkpoints stay in the target dir. Like the emergence
//! report, it is stale once `crates/aha-tasks` or `crates/aha-train` change (a test says so).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::emergence::{DEFAULT_BASE, at_step, eval_rows, kept_fields};
use crate::run::{self, Summary, cargo, workspace_root};

/// The student's shipped base model.
pub const STUDENT_BASE: &str = "web/public/student-model";
/// Held-out evaluations every this many steps of each GRPO run.
const EVAL_EVERY: usize = 25;
/// The figures of an evaluation each arm reports, by `EvalRow` field.
const KEPT: [&str; 7] = [
    "sampled_acc",
    "greedy_acc",
    "first_guess_acc",
    "check_rate",
    "verdict_accuracy",
    "fix_rate",
    "mean_len",
];

pub fn distill(steps: usize, seeds: &[u64]) -> Result<ExitCode> {
    if seeds.is_empty() || steps == 0 {
        bail!("--seeds needs at least one seed and --steps at least 1");
    }
    let root = workspace_root();
    let out_dir = root.join("report/distill");
    let work = run::target_dir().join("distill");
    let mut summary = Summary::default();
    let built_from = crate::emergence::commit()?;
    if !summary.step("build aha (dev profile)", || {
        std::fs::create_dir_all(&out_dir)?;
        std::fs::create_dir_all(&work)?;
        cargo(&["build", "--workspace"])
    }) {
        return Ok(summary.finish());
    }
    let aha = run::target_dir().join("debug/aha");
    let aha = aha.to_str().context("non-UTF-8 target path")?.to_string();
    // Two seeds at a time: each run is single-threaded.
    for pair in seeds.chunks(2) {
        let names: Vec<String> = pair.iter().map(|s| format!("seed {s}")).collect();
        summary.step(
            &format!("teacher, GRPO, distillation and both for {} ({steps} steps each)", names.join(" + ")),
            || {
                let (aha, out_dir, work) = (&aha, &out_dir, &work);
                std::thread::scope(|scope| {
                    let handles: Vec<_> = pair
                        .iter()
                        .map(|&seed| scope.spawn(move || one_seed(aha, seed, steps, out_dir, work)))
                        .collect();
                    handles.into_iter().try_for_each(|h| h.join().expect("a distillation thread panicked"))
                })
            },
        );
    }
    summary.step("write report/distill.json and distill.svg", || {
        let report = report(seeds, steps, &out_dir, &built_from)?;
        let path = root.join("report/distill.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
        crate::plot::distill_svg(&report, &root.join("report/distill.svg"))?;
        println!("wrote {} and report/distill.svg", path.display());
        Ok(())
    });
    Ok(summary.finish())
}

/// The four runs of one seed, one after another (each needs the one before).
fn one_seed(aha: &str, seed: u64, steps: usize, out_dir: &Path, work: &Path) -> Result<()> {
    let teacher = work.join(format!("teacher-seed{seed}"));
    let distilled = work.join(format!("distilled-seed{seed}"));
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let (seed_text, steps_text, every) = (seed.to_string(), steps.to_string(), EVAL_EVERY.to_string());
    let grpo = |name: &str, checkpoint: &str, out: Option<&Path>, eval_every: &str| -> Result<()> {
        let mut args = vec![
            "grpo".to_string(),
            "--checkpoint".into(),
            checkpoint.into(),
            "--preset".into(),
            "default".into(),
            "--seed".into(),
            seed_text.clone(),
            "--steps".into(),
            steps_text.clone(),
            "--eval-every".into(),
            eval_every.into(),
            "--metrics".into(),
            path(&out_dir.join(format!("{name}-steps.jsonl"))),
        ];
        if eval_every != "0" {
            args.extend(["--eval-metrics".into(), path(&out_dir.join(format!("{name}-eval.json")))]);
        }
        if let Some(out) = out {
            args.extend(["--out".into(), path(out)]);
        }
        run::aha_logged(aha, &args, &out_dir.join(format!("{name}.log")))
    };
    grpo(&format!("teacher-seed{seed}"), DEFAULT_BASE, Some(&teacher), "0")?;
    grpo(&format!("grpo-seed{seed}"), STUDENT_BASE, None, &every)?;
    let name = format!("distill-seed{seed}");
    let args: Vec<String> = [
        "distill",
        "--teacher",
        &path(&teacher),
        "--student",
        STUDENT_BASE,
        "--steps",
        &steps_text,
        "--seed",
        &seed_text,
        "--metrics",
        &path(&out_dir.join(format!("{name}-sft.jsonl"))),
        "--summary",
        &path(&out_dir.join(format!("{name}.json"))),
        "--out",
        &path(&distilled),
    ]
    .map(String::from)
    .to_vec();
    run::aha_logged(aha, &args, &out_dir.join(format!("{name}.log")))?;
    grpo(&format!("distill-grpo-seed{seed}"), &path(&distilled), None, &every)
}

fn kept(row: &Value) -> Value {
    kept_fields(row, &KEPT)
}

/// Seconds of training each GRPO step took, cumulated: `[i]` is the time after step `i + 1`.
fn cumulative_seconds(steps_jsonl: &Path) -> Result<Vec<f64>> {
    let text =
        std::fs::read_to_string(steps_jsonl).with_context(|| format!("reading {}", steps_jsonl.display()))?;
    let mut total = 0.0;
    text.lines()
        .map(|line| {
            let step: Value = serde_json::from_str(line)?;
            let ms = step["rollout_ms"].as_f64().context("rollout_ms")?
                + step["update_ms"].as_f64().context("update_ms")?;
            total += ms / 1e3;
            Ok(total)
        })
        .collect()
}

fn report(seeds: &[u64], steps: usize, out_dir: &Path, built_from: &(String, bool)) -> Result<Value> {
    let (sha, clean_now) = crate::emergence::commit()?;
    let clean = clean_now && built_from.1 && built_from.0 == sha;
    let mut per_seed = Vec::new();
    for &seed in seeds {
        let grpo_rows = eval_rows(&out_dir.join(format!("grpo-seed{seed}-eval.json")))?;
        let both_rows = eval_rows(&out_dir.join(format!("distill-grpo-seed{seed}-eval.json")))?;
        let grpo_time = cumulative_seconds(&out_dir.join(format!("grpo-seed{seed}-steps.jsonl")))?;
        let both_time = cumulative_seconds(&out_dir.join(format!("distill-grpo-seed{seed}-steps.jsonl")))?;
        let summary = out_dir.join(format!("distill-seed{seed}.json"));
        let text =
            std::fs::read_to_string(&summary).with_context(|| format!("reading {}", summary.display()))?;
        let distill: Value = serde_json::from_str(&text)?;
        let distill_s =
            distill["sampling_s"].as_f64().unwrap_or(0.0) + distill["training_s"].as_f64().unwrap_or(0.0);
        let grpo_s = grpo_time.last().copied().unwrap_or(0.0);
        // The student's own GRPO given the distillation's wall time: the last evaluation it had
        // reached by then.
        let reached = grpo_time.iter().take_while(|&&t| t <= distill_s).count() as u64;
        per_seed.push(json!({
            "seed": seed,
            "base": { "student_steps": 0, "seconds": 0.0, "metrics": kept(&grpo_rows[0]) },
            "grpo": { "student_steps": steps, "seconds": grpo_s, "metrics": kept(at_step(&grpo_rows, steps as u64)) },
            "distill": {
                "student_steps": steps,
                "seconds": distill_s,
                "teacher_answers_kept": distill["kept"],
                "teacher_answers_sampled": distill["sampled"],
                "metrics": kept(&both_rows[0]),
            },
            "distill_then_grpo": {
                "student_steps": 2 * steps,
                "seconds": distill_s + both_time.last().copied().unwrap_or(0.0),
                "metrics": kept(at_step(&both_rows, steps as u64)),
            },
            "grpo_at_distill_seconds": {
                "student_steps": reached,
                "evaluated_at_step": at_step(&grpo_rows, reached)["step"],
                "metrics": kept(at_step(&grpo_rows, reached)),
            },
        }));
    }
    Ok(json!({
        "commit": sha,
        "commit_clean": clean,
        "training_code_hash": crate::emergence::training_code_hash(&workspace_root())?,
        "steps": steps,
        "how": "per seed: the teacher is GRPO from the shipped base model (default preset); the student's arms start from web/public/student-model; distillation is SFT on the teacher's right answers to training problems (rejection sampling); every figure is the held-out evaluation of `aha grpo` (each problem sampled once at the training temperature and decoded greedily once); seconds are training time (GRPO steps' rollout and update; the teacher's sampling and the SFT steps), without evaluations and without the teacher's own training",
        "seeds": per_seed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed report must come from the training code in this checkout, as the emergence
    /// report must.
    #[test]
    fn the_distillation_report_is_from_this_training_code() {
        crate::emergence::assert_report_is_from_this_training_code("distill");
    }

    #[test]
    fn training_seconds_add_up_step_by_step() {
        let dir = std::env::temp_dir().join(format!("aha-distill-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("steps.jsonl");
        std::fs::write(
            &path,
            "{\"rollout_ms\":100,\"update_ms\":400}\n{\"rollout_ms\":250,\"update_ms\":250}\n",
        )
        .unwrap();
        assert_eq!(cumulative_seconds(&path).unwrap(), vec![0.5, 1.0]);
        let rows: Vec<Value> = [0, 25, 50].iter().map(|s| json!({ "step": s })).collect();
        assert_eq!(at_step(&rows, 49)["step"], 25);
        assert_eq!(at_step(&rows, 50)["step"], 50);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
