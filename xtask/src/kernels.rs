//! `cargo xtask bench --kernels`: where a GRPO step's device time goes, per kernel, on native wgpu.
//!
//! CubeCL can log every kernel it runs with its duration (it waits for each one, so the durations
//! are device time and the run is slower than a normal one). `aha bench --phases` runs the
//! preset's rollouts and then whole GRPO steps, announcing each phase on stdout; with a
//! `cubecl.toml` that sends the profiling log to stdout too, the two interleave in order. This
//! module sums the log per phase and kernel family and writes report/kernels-native.json.

use std::collections::BTreeMap;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::run::{Summary, cargo, target_dir, workspace_root};

/// CubeCL's runtime configuration for the profiled run: each kernel's duration, to stdout.
const PROFILING_CONFIG: &str = "[profiling.logger]\nstdout = true\nlevel = \"basic\"\n";

impl PhaseProfile {
    fn to_json(&self) -> serde_json::Value {
        let kernels: Vec<_> = self
            .kernels
            .iter()
            .map(|k| {
                serde_json::json!({
                    "kernel": k.kernel, "calls": k.calls, "total_ms": k.total_ms, "share": k.share,
                })
            })
            .collect();
        serde_json::json!({
            "phase": self.phase, "calls": self.calls, "total_ms": self.total_ms, "kernels": kernels,
        })
    }
}

/// One kernel family's share of a phase.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelFamily {
    pub kernel: String,
    pub calls: usize,
    pub total_ms: f64,
    pub share: f64,
}

/// A phase's kernels, the most expensive first.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseProfile {
    pub phase: String,
    pub calls: usize,
    pub total_ms: f64,
    pub kernels: Vec<KernelFamily>,
}

pub fn kernels(dev: bool, steps: usize, preset: &str) -> Result<ExitCode> {
    let mut summary = Summary::default();
    let profile = if dev { "debug" } else { "release" };
    let built = summary.step(&format!("build aha ({profile})"), || {
        if dev { cargo(&["build", "--workspace"]) } else { cargo(&["build", "--workspace", "--release"]) }
    });
    if !built {
        return Ok(summary.finish());
    }
    summary.step(&format!("profile {steps} rollouts and GRPO steps of the {preset} preset on wgpu"), || {
        let dir = target_dir().join("kernel-profile");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("cubecl.toml"), PROFILING_CONFIG)?;
        let aha = target_dir().join(profile).join("aha");
        let checkpoint = workspace_root().join("web/public/base-model");
        let steps = steps.to_string();
        let checkpoint = checkpoint.to_str().context("non-UTF-8 path")?;
        let args = [
            "bench", "--backend", "wgpu", "--phases", "--preset", preset, "--steps", &steps, "--warmup", "1",
            "--checkpoint", checkpoint,
        ];
        let output = Command::new(&aha).args(args).current_dir(&dir).output().context("running aha")?;
        if !output.status.success() {
            bail!("aha bench --phases failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let phases = parse(&String::from_utf8_lossy(&output.stdout))?;
        for phase in phases.iter().filter(|p| p.phase != "warmup") {
            print_phase(phase);
        }
        let report = serde_json::json!({
            "preset": preset,
            "profile": if dev { "dev" } else { "release" },
            "repetitions": steps.parse::<usize>()?,
            "note": "device time per kernel as CubeCL logs it (each kernel waited for); warm-up excluded",
            "phases": phases.iter().filter(|p| p.phase != "warmup").map(PhaseProfile::to_json).collect::<Vec<_>>(),
        });
        let path = workspace_root().join("report/kernels-native.json");
        std::fs::create_dir_all(path.parent().context("report dir")?)?;
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("wrote {}", path.display());
        Ok(())
    });
    Ok(summary.finish())
}

fn print_phase(phase: &PhaseProfile) {
    println!("\n{}: {} kernels, {:.0} ms of device time", phase.phase, phase.calls, phase.total_ms);
    for k in phase.kernels.iter().take(12) {
        println!("  {:>5.1}%  {:>9.1} ms  {:>6} calls  {}", k.share * 100.0, k.total_ms, k.calls, k.kernel);
    }
}

/// Sums the profiling lines (`| 1.5ms | Name | Detail_hash ...`) between `@@ phase NAME` markers.
pub fn parse(log: &str) -> Result<Vec<PhaseProfile>> {
    /// Per kernel family: calls and summed duration.
    type Families = BTreeMap<String, (usize, Duration)>;
    let mut phases: Vec<(String, Families)> = Vec::new();
    for line in log.lines() {
        if let Some(name) = line.strip_prefix("@@ phase ") {
            phases.push((name.trim().to_string(), BTreeMap::new()));
            continue;
        }
        let Some((duration, kernel)) = kernel_line(line) else { continue };
        let Some((_, kernels)) = phases.last_mut() else { continue };
        let entry = kernels.entry(kernel).or_default();
        entry.0 += 1;
        entry.1 += duration;
    }
    if phases.iter().all(|(_, kernels)| kernels.is_empty()) {
        bail!("the run logged no kernel timings (is CubeCL's profiling log on?)");
    }
    Ok(phases
        .into_iter()
        .filter(|(name, _)| name != "end")
        .map(|(phase, kernels)| {
            let total: Duration = kernels.values().map(|(_, d)| *d).sum();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            let mut families: Vec<_> = kernels
                .into_iter()
                .map(|(kernel, (calls, d))| KernelFamily {
                    kernel,
                    calls,
                    total_ms: ms(d),
                    share: if total.is_zero() { 0.0 } else { d.as_secs_f64() / total.as_secs_f64() },
                })
                .collect();
            families.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
            PhaseProfile {
                phase,
                calls: families.iter().map(|k| k.calls).sum(),
                total_ms: ms(total),
                kernels: families,
            }
        })
        .collect())
}

/// A profiling line's duration and kernel family: the kernel's first name, and its operation when
/// the second names one (`KernelBinop · MulOp`); CubeCL's hash suffixes are dropped.
fn kernel_line(line: &str) -> Option<(Duration, String)> {
    let mut cells = line.strip_prefix('|')?.split('|').map(str::trim);
    let duration = parse_duration(cells.next()?)?;
    let strip_hash = |name: &str| match name.rsplit_once('_') {
        Some((base, hash)) if hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            base.to_string()
        }
        _ => name.to_string(),
    };
    let first = strip_hash(cells.next().filter(|c| !c.is_empty())?);
    let family = match cells.next().map(strip_hash) {
        Some(op) if op.ends_with("Op") => format!("{first} · {op}"),
        _ => first,
    };
    Some((duration, family))
}

/// Rust's `Debug` form of a `Duration`: `12.5ms`, `980.1µs`, `300ns`, `1.2s`.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => value,
        "ms" => value * 1e-3,
        "µs" | "us" => value * 1e-6,
        "ns" => value * 1e-9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_kernel_lines_per_phase_and_family() {
        let log = "\
| 5ms | ignored before any phase
@@ phase rollout
| 1.5ms      | KernelBinop | MulOp_1aa4522f
| 500µs      | KernelBinop | MulOp_0b0c0d0e
| 2ms        | MatmulEntry | TensorArgs | DynamicScalar
| Total      | 4ms | 3 | 100 % |
@@ phase grpo-step
| 800ns      | CopyKernel_dc3892b4
{\"not\": \"a kernel\"}
@@ phase end
";
        let phases = parse(log).unwrap();
        assert_eq!(phases.len(), 2);
        let rollout = &phases[0];
        assert_eq!((rollout.phase.as_str(), rollout.calls), ("rollout", 3));
        assert!((rollout.total_ms - 4.0).abs() < 1e-9);
        let names: Vec<_> = rollout.kernels.iter().map(|k| (k.kernel.as_str(), k.calls)).collect();
        assert_eq!(names, [("KernelBinop · MulOp", 2), ("MatmulEntry", 1)]);
        assert!((rollout.kernels[0].share - 0.5).abs() < 1e-9);
        assert_eq!(phases[1].kernels[0].kernel, "CopyKernel");
        assert!((phases[1].total_ms - 0.0008).abs() < 1e-12);
    }

    #[test]
    fn a_log_without_timings_is_an_error() {
        assert!(parse("@@ phase rollout\n@@ phase end\n").is_err());
    }
}
