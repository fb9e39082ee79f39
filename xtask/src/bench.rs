//! `cargo xtask bench`: builds `aha` and runs `aha bench` on the CPU (`flex`) and on wgpu, then
//! writes both to `report/bench-native.json`: the CPU figures at the top level, the wgpu figures (or
//! why wgpu could not run) under `"wgpu"`. `--browser` runs the page's bench panel headless instead
//! and writes `report/bench-browser.json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::run::{self, Summary, cargo, workspace_root};
use crate::{prereq, wasm};

pub fn bench(dev: bool, steps: usize) -> Result<ExitCode> {
    let mut summary = Summary::default();
    let profile = if dev { "debug" } else { "release" };
    let report_dir = workspace_root().join("report");
    let figures = |backend: &str| report_dir.join(format!("bench-native-{backend}.json"));
    let built = summary.step(&format!("build aha ({profile})"), || {
        std::fs::create_dir_all(&report_dir)?;
        if dev { cargo(&["build", "--workspace"]) } else { cargo(&["build", "--workspace", "--release"]) }
    });
    if !built {
        return Ok(summary.finish());
    }
    let aha = run::target_dir().join(profile).join("aha");
    let steps = steps.to_string();
    for backend in ["cpu", "wgpu"] {
        let out = figures(backend);
        let _ = std::fs::remove_file(&out);
        summary.step(&format!("aha bench --backend {backend}"), || {
            run::command(
                aha.to_str().context("non-UTF-8 path")?,
                &["bench", "--backend", backend, "--steps", &steps, "--out", out.to_str().context("path")?],
                &workspace_root(),
                &[],
            )
        });
    }
    summary.step("write report/bench-native.json", || merge(&figures("cpu"), &figures("wgpu")));
    Ok(summary.finish())
}

/// The page's bench panel in headless Chromium: builds the page (release wasm unless `dev`), then
/// `web/scripts/bench.js` trains `steps` GRPO steps of `preset` on `backend` and writes the panel's
/// figures. With `aha`, it trains until the aha (at most `steps`), and the report also carries the
/// native CLI's step on the CPU, measured in the same run, and the page's step over it.
pub fn bench_browser(dev: bool, steps: usize, preset: &str, backend: &str, aha: bool) -> Result<ExitCode> {
    let mut summary = Summary::default();
    let out = workspace_root().join("report/bench-browser.json");
    let mode = if aha { PageRun::UntilAha } else { PageRun::Steps };
    if page_bench(&mut summary, dev, steps, preset, backend, mode, &out) && aha {
        summary.step("the native CLI's CPU step (release, one thread) beside the page's", || {
            native_cpu_beside(&out, preset)
        });
    }
    Ok(summary.finish())
}

/// Adds to the page's report the native release CLI's GRPO step on the CPU for `preset` (one
/// thread, as the page computes), the ratio of the two, and the commit.
fn native_cpu_beside(page_report: &Path, preset: &str) -> Result<()> {
    cargo(&["build", "--workspace", "--release"])?;
    let aha = run::target_dir().join("release/aha");
    let native_out = run::target_dir().join("bench-native-cpu-beside-page.json");
    run::command(
        aha.to_str().context("non-UTF-8 path")?,
        &[
            "bench",
            "--backend",
            "cpu",
            "--preset",
            preset,
            "--steps",
            "10",
            "--out",
            native_out.to_str().context("non-UTF-8 path")?,
        ],
        &workspace_root(),
        &[("RAYON_NUM_THREADS", "1")],
    )?;
    let read = |path: &Path| -> Result<serde_json::Value> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    };
    let mut report = read(page_report)?;
    let native = read(&native_out)?;
    let native_step = native["grpo_step_ms"].as_f64().context("the native bench has no grpo_step_ms")?;
    let page_step = report["grpo_step_ms"].as_f64().context("the page bench has no grpo_step_ms")?;
    report["native_cpu_grpo_step_ms"] = native_step.into();
    report["native_cpu_threads"] = 1.into();
    report["page_over_native_cpu_step"] = (page_step / native_step).into();
    report["commit"] = run::capture("git", &["rev-parse", "HEAD"])?.trim().into();
    std::fs::write(page_report, serde_json::to_string_pretty(&report)? + "\n")?;
    println!(
        "page step {page_step:.0} ms, native CPU step {native_step:.0} ms: {:.2}×; time to aha {} s",
        page_step / native_step,
        report["time_to_aha_s"]
    );
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PageRun {
    /// Exactly the steps asked for.
    Steps,
    /// Until the aha, the steps a limit.
    UntilAha,
}

/// The fewest steps whose memory drift the page measures in full: the bench panel's 20 warm-up
/// steps, then two 10-step windows whose peaks of GPU bytes reserved are compared (web/src/bench.js).
const SOAK_MIN_STEPS: usize = 41;
const TOO_SHORT: &str =
    "too short to measure memory after warm-up (41 steps at least: 20 to warm up, two windows of 10)";

/// The page's long soak: `steps` GRPO steps of the tiny preset in headless Chromium, then the
/// bench panel's memory drift after warm-up (wasm heap, GPU allocations and bytes) must stay
/// within 10%. Writes report/soak-browser.json.
pub fn soak_browser(dev: bool, steps: usize) -> Result<ExitCode> {
    anyhow::ensure!(steps >= SOAK_MIN_STEPS, "--steps {steps}: {TOO_SHORT}");
    let mut summary = Summary::default();
    let out = workspace_root().join("report/soak-browser.json");
    if page_bench(&mut summary, dev, steps, "tiny", "auto", PageRun::Steps, &out) {
        summary.step("memory flat within 10% after warm-up", || check_drift(&out));
    }
    Ok(summary.finish())
}

/// Builds the page and runs its bench panel headless; whether both steps passed.
fn page_bench(
    summary: &mut Summary,
    dev: bool,
    steps: usize,
    preset: &str,
    backend: &str,
    mode: PageRun,
    out: &Path,
) -> bool {
    let web = workspace_root().join("web");
    let (profile, label) =
        if dev { (wasm::Profile::Dev, "dev") } else { (wasm::Profile::Release, "wasm-release") };
    let built = summary.step(&format!("build the page ({label})"), || {
        prereq::chromium()?;
        wasm::build_page(profile)
    });
    let what = match mode {
        PageRun::Steps => format!("{steps} steps of the {preset} preset"),
        PageRun::UntilAha => format!("the {preset} preset until the aha (at most {steps} steps)"),
    };
    built
        && summary.step(&format!("page bench ({backend}): {what}"), || {
            let hash = match backend {
                "auto" => format!("#preset={preset}"),
                forced => format!("#preset={preset}&backend={forced}"),
            };
            let out = out.to_str().context("non-UTF-8 path")?;
            let steps = steps.to_string();
            let mut args = vec!["scripts/bench.js", &hash, &steps, out, label];
            if mode == PageRun::UntilAha {
                args.push("until-aha");
            }
            run::command("node", &args, &web, &[])
        })
}

fn check_drift(report: &Path) -> Result<()> {
    let text = std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    let figures: serde_json::Value = serde_json::from_str(&text)?;
    let drift = figures.get("memory_drift").filter(|d| !d.is_null()).context(TOO_SHORT)?;
    for key in ["wasm_heap_bytes", "gpu_allocations", "gpu_bytes_reserved"] {
        let moved =
            drift[key].as_f64().with_context(|| format!("memory_drift.{key} is missing: {TOO_SHORT}"))?;
        println!("{key}: moved {:.1}% after warm-up", moved * 100.0);
        anyhow::ensure!(moved <= 0.10, "{key} moved {:.1}% after warm-up (limit 10%)", moved * 100.0);
    }
    Ok(())
}

fn merge(cpu: &PathBuf, wgpu: &PathBuf) -> Result<()> {
    let read = |path: &PathBuf| -> Result<serde_json::Value> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    };
    let mut report = read(cpu)?;
    let wgpu = read(wgpu).unwrap_or_else(|e| serde_json::json!({ "error": format!("{e:#}") }));
    report["wgpu"] = wgpu;
    let path = workspace_root().join("report/bench-native.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}
