//! `cargo xtask bench`: builds `aha` and runs `aha bench` on the CPU (`flex`) and on wgpu, then
//! writes both to `report/bench-native.json`: the CPU figures at the top level, the wgpu figures (or
//! why wgpu could not run) under `"wgpu"`. `--browser` runs the page's bench panel headless instead
//! and writes `report/bench-browser.json`.

use std::path::PathBuf;
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
/// `web/scripts/bench.js` trains `steps` GRPO steps of `preset` and writes the panel's figures.
pub fn bench_browser(dev: bool, steps: usize, preset: &str) -> Result<ExitCode> {
    let mut summary = Summary::default();
    let root = workspace_root();
    let web = root.join("web");
    let (profile, label) =
        if dev { (wasm::Profile::Dev, "dev") } else { (wasm::Profile::Release, "wasm-release") };
    let built = summary.step(&format!("build the page ({label})"), || {
        prereq::chromium()?;
        wasm::build_page(profile)
    });
    if !built {
        return Ok(summary.finish());
    }
    let out = root.join("report/bench-browser.json");
    summary.step(&format!("page bench: {steps} steps of the {preset} preset"), || {
        let hash = format!("#preset={preset}");
        let out = out.to_str().context("non-UTF-8 path")?;
        let steps = steps.to_string();
        run::command("node", &["scripts/bench.js", &hash, &steps, out, label], &web, &[])
    });
    Ok(summary.finish())
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
