//! The emergence plot as a plain SVG: for the default run (seed 0), the ablation and the control,
//! reward, accuracy, first-guess accuracy, check rate, fix rate and verdict accuracy against the
//! GRPO step (top row), and the mean completion length (bottom row). Written by hand: a plotting crate in xtask would unify
//! features with Burn's dependencies in the workspace build and force a 15-minute rebuild of Burn.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::emergence::eval_rows;

type Series = Vec<(f64, f64)>;

/// Per-step rewards of a run (`GrpoStepMetrics` lines), smoothed over 10 steps.
fn rewards(path: &Path) -> Result<Series> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let raw: Vec<f64> = text
        .lines()
        .map(|line| Ok(serde_json::from_str::<Value>(line)?["reward_mean"].as_f64().unwrap_or(f64::NAN)))
        .collect::<Result<_>>()?;
    Ok((0..raw.len())
        .map(|i| {
            let window = &raw[i.saturating_sub(9)..=i];
            (i as f64, window.iter().sum::<f64>() / window.len() as f64)
        })
        .collect())
}

fn column(rows: &[Value], key: &str) -> Series {
    rows.iter().filter_map(|r| Some((r["step"].as_f64()?, r[key].as_f64()?))).collect()
}

/// One chart at (`left`, `top`), `W`×`H`, x in 0..`x_max`, y in 0..`y_max`.
struct Panel {
    left: f64,
    top: f64,
    x_max: f64,
    y_max: f64,
}

const W: f64 = 520.0;
const H: f64 = 260.0;

impl Panel {
    fn point(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.left + x / self.x_max * W, self.top + H - (y / self.y_max).clamp(0.0, 1.0) * H)
    }

    fn frame(&self, svg: &mut String, title: &str, y_label: &str) {
        let (l, t) = (self.left, self.top);
        let _ = write!(
            svg,
            r##"<rect x="{l}" y="{t}" width="{W}" height="{H}" fill="none" stroke="#444"/><text x="{l}" y="{}" font-size="15">{title}</text><text x="{}" y="{}" font-size="11" text-anchor="middle">GRPO step (0–{})</text><text x="{}" y="{}" font-size="11">{y_label} (0–{})</text>"##,
            t - 8.0,
            l + W / 2.0,
            t + H + 16.0,
            self.x_max,
            l + 4.0,
            t + 14.0,
            self.y_max
        );
    }

    fn line(&self, svg: &mut String, series: &Series, color: &str) {
        let points: Vec<String> = series
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&p| self.point(p))
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
    }
}

pub fn emergence_svg(run_dir: &Path, out: &Path) -> Result<()> {
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>"#,
        3.0 * W + 160.0,
        2.0 * H + 140.0
    );
    let legend = [
        ("reward (10-step mean)", "#999999"),
        ("sampled accuracy", "#1f5fbf"),
        ("first-guess accuracy", "#33b0d0"),
        ("check rate", "#d62728"),
        ("fix rate", "#2ca02c"),
        ("verdict right (among checks)", "#9467bd"),
    ];
    for (i, (label, color)) in legend.iter().enumerate() {
        let x = 40.0 + i as f64 * 200.0;
        let _ = write!(
            svg,
            r#"<line x1="{x}" y1="20" x2="{}" y2="20" stroke="{color}" stroke-width="3"/><text x="{}" y="24" font-size="12">{label}</text>"#,
            x + 20.0,
            x + 26.0
        );
    }
    let runs = [
        ("default-seed0", "default preset, seed 0"),
        ("ablation-seed0", "ablation: no check traces"),
        ("control-seed0", "control: a check that does not pay"),
    ];
    let all_rows = runs
        .iter()
        .map(|(name, _)| eval_rows(&run_dir.join(format!("{name}-eval.json"))))
        .collect::<Result<Vec<_>>>()?;
    // One length scale for both runs, so their bottom panels compare at a glance.
    let longest = all_rows.iter().flat_map(|rows| column(rows, "mean_len")).map(|p| p.1).fold(10.0, f64::max);
    let length_max = (longest / 10.0).ceil() * 10.0;
    for (i, ((name, title), rows)) in runs.into_iter().zip(&all_rows).enumerate() {
        let reward = rewards(&run_dir.join(format!("{name}-steps.jsonl")))?;
        let x_max = reward.len().max(1) as f64;
        let left = 40.0 + i as f64 * (W + 40.0);
        let rates = Panel { left, top: 60.0, x_max, y_max: 1.0 };
        rates.frame(&mut svg, title, "rate");
        let series = [
            reward,
            column(rows, "sampled_acc"),
            column(rows, "first_guess_acc"),
            column(rows, "check_rate"),
            column(rows, "fix_rate"),
            column(rows, "verdict_accuracy"),
        ];
        for (s, (_, color)) in series.iter().zip(legend) {
            rates.line(&mut svg, s, color);
        }
        let length = column(rows, "mean_len");
        let lengths = Panel { left, top: 60.0 + H + 60.0, x_max, y_max: length_max };
        lengths.frame(&mut svg, "mean completion length", "characters");
        lengths.line(&mut svg, &length, "#222222");
    }
    svg.push_str("</svg>\n");
    std::fs::write(out, svg).with_context(|| format!("writing {}", out.display()))
}

/// The distillation plot: for each figure (sampled and greedy accuracy, check rate, verdict right),
/// a bar per arm and seed, read from `report/distill.json`'s `seeds`.
pub fn distill_svg(report: &Value, out: &Path) -> Result<()> {
    const ARMS: [(&str, &str); 4] = [
        ("base", "base"),
        ("grpo", "GRPO"),
        ("distill", "distilled"),
        ("distill_then_grpo", "distilled + GRPO"),
    ];
    const FIGURES: [(&str, &str); 4] = [
        ("sampled_acc", "sampled accuracy"),
        ("greedy_acc", "greedy accuracy"),
        ("check_rate", "check rate"),
        ("verdict_accuracy", "verdict right (among checks)"),
    ];
    const COLORS: [&str; 3] = ["#1f5fbf", "#33b0d0", "#9fd0e8"];
    let seeds = report["seeds"].as_array().context("report.seeds is a list")?;
    let (panel_w, panel_h, bar) = (300.0, 200.0, 14.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>"#,
        FIGURES.len() as f64 * (panel_w + 30.0) + 30.0,
        panel_h + 120.0
    );
    for (i, seed) in seeds.iter().enumerate() {
        let x = 30.0 + i as f64 * 90.0;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="12" width="12" height="12" fill="{}"/><text x="{}" y="23" font-size="12">seed {}</text>"#,
            COLORS[i % COLORS.len()],
            x + 16.0,
            seed["seed"]
        );
    }
    for (p, (key, title)) in FIGURES.iter().enumerate() {
        let (left, top) = (30.0 + p as f64 * (panel_w + 30.0), 60.0);
        let _ = write!(
            svg,
            r##"<rect x="{left}" y="{top}" width="{panel_w}" height="{panel_h}" fill="none" stroke="#444"/><text x="{left}" y="{}" font-size="14">{title} (0–1)</text>"##,
            top - 8.0
        );
        let group = panel_w / ARMS.len() as f64;
        for (a, (arm, label)) in ARMS.iter().enumerate() {
            let center = left + (a as f64 + 0.5) * group;
            let _ = write!(
                svg,
                r#"<text x="{center}" y="{}" font-size="11" text-anchor="middle">{label}</text>"#,
                top + panel_h + 16.0
            );
            for (s, seed) in seeds.iter().enumerate() {
                let Some(value) = seed[arm]["metrics"][key].as_f64() else { continue };
                let height = value.clamp(0.0, 1.0) * panel_h;
                let x = center + (s as f64 - seeds.len() as f64 / 2.0) * bar;
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{height:.1}" fill="{}"/>"#,
                    top + panel_h - height,
                    bar - 2.0,
                    COLORS[s % COLORS.len()]
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    std::fs::write(out, svg).with_context(|| format!("writing {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_both_runs_from_their_files() {
        let dir = std::env::temp_dir().join(format!("aha-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["default-seed0", "ablation-seed0", "control-seed0"] {
            let steps: String =
                (0..20).map(|i| format!("{{\"step\":{i},\"reward_mean\":{}}}\n", i as f64 / 20.0)).collect();
            std::fs::write(dir.join(format!("{name}-steps.jsonl")), steps).unwrap();
            let rows = r#"[{"step":0,"sampled_acc":0.4,"first_guess_acc":0.4,"check_rate":0.05,"fix_rate":0.0,"verdict_accuracy":null,"mean_len":12.0},
                           {"step":20,"sampled_acc":0.6,"first_guess_acc":0.4,"check_rate":0.8,"fix_rate":0.1,"verdict_accuracy":0.95,"mean_len":48.0}]"#;
            std::fs::write(dir.join(format!("{name}-eval.json")), rows).unwrap();
        }
        let out = dir.join("plot.svg");
        emergence_svg(&dir, &out).unwrap();
        let svg = std::fs::read_to_string(&out).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        // 6 rate lines + 1 length line per run.
        assert_eq!(svg.matches("<polyline").count(), 21);
        assert!(
            svg.contains("ablation: no check traces") && svg.contains("control: a check that does not pay")
        );
        // Check rate 0.8 at the last step: 80% of the panel's height above its bottom.
        assert!(svg.contains(&format!("{:.1},{:.1}", 40.0 + W, 60.0 + H - 0.8 * H)));
    }
}
