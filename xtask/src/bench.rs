//! `cargo xtask bench`: builds `aha` and runs `aha bench` on the CPU (`flex`) and on wgpu, then
//! writes both to `report/bench-native.json`: the CPU figures at the top level, the wgpu figures (or
//! why wgpu could not run) under `"wgpu"`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::run::{self, Summary, cargo, workspace_root};

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
