//! `cargo xtask`: the two commands a fresh machine needs, and a few more for developers.
//!
//! - `cargo xtask demo` builds the wasm (release) and the page, then serves it on 127.0.0.1.
//! - `cargo xtask test` installs what the tests need, then runs every test and prints a summary.
//! - `cargo xtask lint` runs rustfmt and clippy the way CI expects them clean.
//! - `cargo xtask base-model` rebuilds the shipped base checkpoint deterministically.
//! - `cargo xtask emergence` runs GRPO and its ablation and writes `report/emergence.json`.
//! - `cargo xtask bench` measures speed natively (CPU and wgpu) into `report/bench-native.json`.

mod bench;
mod device;
mod distill;
mod emergence;
mod fuzz;
mod kernels;
mod plot;
mod prereq;
mod run;
mod wasm;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::run::{Summary, cargo, workspace_root};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Aha's project commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the wasm (release) and the page, and serve it on 127.0.0.1.
    Demo {
        /// Port to serve on.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Build only; do not serve.
        #[arg(long)]
        no_serve: bool,
        /// Also write the built page to this new (or empty) folder: a self-contained static site
        /// for any static server or a USB stick. Implies --no-serve.
        #[arg(long, value_name = "DIR")]
        dist: Option<PathBuf>,
    },
    /// Install what the tests need, run every test, print a summary; non-zero exit on any failure.
    Test {
        /// Run only these suites (default: all).
        #[arg(long, value_enum, value_delimiter = ',')]
        only: Vec<Suite>,
    },
    /// rustfmt --check and clippy -D warnings over the workspace, natively and for wasm32.
    Lint,
    /// Rebuild the shipped base checkpoints with their fixed seeds (web/public/base-model, the
    /// ablation's web/public/base-model-no-check, the control's dev/base-model-control and the
    /// distillation's student, web/public/student-model),
    /// then refresh the greedy-parity fixture the browser tests compare against.
    BaseModel {
        /// Recipe of the default base model (see `aha pretrain --help`).
        #[arg(long, default_value = DEFAULT_RECIPE)]
        recipe: String,
    },
    /// Speed figures natively on the CPU and on wgpu: SFT, sampling, GRPO step (rollout/update),
    /// readbacks. Writes report/bench-native.json. With --browser, the page's bench panel in
    /// headless Chromium instead: report/bench-browser.json.
    Bench {
        /// Use the dev build the tests share instead of a release build (no 20-minute compile;
        /// the report says which profile it measured).
        #[arg(long)]
        dev: bool,
        /// Timed repetitions of each measurement (with --browser: GRPO steps on the page; with
        /// --aha: the most steps to wait for the aha). Default 10, with --aha 200.
        #[arg(long)]
        steps: Option<usize>,
        /// Bench the page in headless Chromium (WebGPU on whatever adapter it finds; SwiftShader
        /// here) instead of the native build.
        #[arg(long)]
        browser: bool,
        /// The page's preset for --browser.
        #[arg(long, default_value = "default")]
        preset: String,
        /// With --browser: train until the first held-out evaluation whose check rate passes 0.5
        /// and report the time to it (`time_to_aha_s`), beside the native CLI's CPU step measured
        /// in the same run (release build, one thread).
        #[arg(long, requires = "browser")]
        aha: bool,
        /// With --browser: the page's backend (`auto` lets the page choose).
        #[arg(long, default_value = "auto", value_parser = ["auto", "cpu", "webgpu"])]
        backend: String,
        /// Instead of the figures: where the device time of the preset's rollouts and GRPO steps
        /// goes, per kernel, on native wgpu (CubeCL's profiling log; report/kernels-native.json).
        #[arg(long, conflicts_with = "browser")]
        kernels: bool,
    },
    /// Pack what `dev/device-bench.sh` needs on a borrowed GPU machine (no Rust, no network) into
    /// `.device/`: a stripped release `aha` and the Vulkan/GL loaders. The device tool then runs
    /// `bash dev/device-bench.sh` with `.device` carried.
    DevicePack,
    /// The long soak: GRPO steps of the tiny preset natively on wgpu (lavapipe here), the memory
    /// pools read after every step; fails if they drift over 10% after warm-up. With --browser, on
    /// the page in headless Chromium (report/soak-browser.json).
    Soak {
        /// GRPO steps (default: 1000 natively, 200 in the browser).
        #[arg(long)]
        steps: Option<usize>,
        /// Soak the page in headless Chromium instead of the native build.
        #[arg(long)]
        browser: bool,
        /// With --browser: the dev build the tests share instead of the release build.
        #[arg(long)]
        dev: bool,
    },
    /// libFuzzer over what Aha reads from outside (fuzz/): the tokenizer, the answer parser, the
    /// config and settings parsers, the checkpoint loader, run settings through the trainer, saved
    /// run states. Installs nightly and cargo-fuzz.
    Fuzz {
        /// Inputs per target.
        #[arg(long, default_value_t = 1_000_000)]
        runs: u64,
        /// Targets to run (default: all).
        #[arg(long, value_delimiter = ',')]
        targets: Vec<String>,
        /// Stop each target after this many seconds even if it has not reached --runs.
        #[arg(long)]
        max_seconds: Option<u64>,
    },
    /// GRPO with the default preset (several seeds) and the no-check ablation, natively on the CPU,
    /// measured on the held-out set: report/emergence.json, a CSV per run, report/emergence.svg.
    Emergence {
        /// GRPO steps per run.
        #[arg(long, default_value_t = 300)]
        steps: usize,
        /// Seeds of the default preset's runs (the ablation uses seed 0).
        #[arg(long, value_delimiter = ',', default_values_t = [0, 1, 2])]
        seeds: Vec<u64>,
        /// Pretrain both base models first instead of using the shipped ones.
        #[arg(long)]
        pretrain: bool,
        /// Only rewrite the report and plot from the runs already in report/emergence/.
        #[arg(long)]
        report_only: bool,
    },
    /// Distillation against RL on a small student (issue #25): per seed, a teacher GRPO'd from the
    /// shipped base model, the student's own GRPO, the student fine-tuned on the teacher's right
    /// answers, and that student GRPO'd; held-out figures of each in report/distill.json.
    Distill {
        /// Student update steps per arm (and the teacher's GRPO steps).
        #[arg(long, default_value_t = 300)]
        steps: usize,
        #[arg(long, value_delimiter = ',', default_values_t = [0, 1, 2])]
        seeds: Vec<u64>,
    },
}

/// The test suites of `cargo xtask test`, in the order they run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Suite {
    /// `cargo fmt --check`.
    Format,
    /// `cargo test --workspace`.
    Native,
    /// `wasm-pack test --headless --chrome tests` (WebGPU and CPU in headless Chromium).
    Browser,
    /// vitest unit tests of the page's JavaScript.
    Js,
    /// The built page in headless Chromium (playwright-core).
    E2e,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { port, no_serve, dist } => demo(port, no_serve, dist.as_deref()),
        Command::Test { only } => test(&only),
        Command::Lint => lint(),
        Command::DevicePack => device::pack(),
        Command::Soak { steps, browser: false, .. } => soak(steps.unwrap_or(1000)),
        Command::Soak { steps, browser: true, dev } => bench::soak_browser(dev, steps.unwrap_or(200)),
        Command::Fuzz { runs, targets, max_seconds } => fuzz::fuzz(runs, &targets, max_seconds),
        Command::BaseModel { recipe } => base_model(&recipe),
        Command::Bench { dev, steps, kernels: true, preset, .. } => {
            kernels::kernels(dev, steps.unwrap_or(10), &preset)
        }
        Command::Bench { dev, steps, browser: false, .. } => bench::bench(dev, steps.unwrap_or(10)),
        Command::Bench { dev, steps, browser: true, preset, aha, backend, .. } => {
            let steps = steps.unwrap_or(if aha { 200 } else { 10 });
            bench::bench_browser(dev, steps, &preset, &backend, aha)
        }
        Command::Emergence { steps, seeds, pretrain, report_only } => {
            emergence::emergence(steps, &seeds, pretrain, report_only)
        }
        Command::Distill { steps, seeds } => distill::distill(steps, &seeds),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn demo(port: u16, no_serve: bool, dist: Option<&Path>) -> Result<ExitCode> {
    let root = workspace_root();
    if let Some(dir) = dist {
        wasm::check_dist_target(dir)?;
    }
    // The kit others download gets the smallest module; the page served here, one pass less.
    wasm::build_page(if dist.is_some() { wasm::Profile::Release } else { wasm::Profile::ReleaseServed })?;
    if let Some(dir) = dist {
        let files = wasm::write_dist(&root.join("web/dist"), dir)?;
        println!("Wrote the page ({files} files) to {}", dir.display());
        println!(
            "Serve it with any static server, e.g.: python3 -m http.server --bind 127.0.0.1 -d {}",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if no_serve {
        println!("Built the page in {}", root.join("web/dist").display());
        return Ok(ExitCode::SUCCESS);
    }
    println!("\nAha is served at http://127.0.0.1:{port}/  (Ctrl-C stops it)\n");
    run::npm(
        &root.join("web"),
        &[
            "exec",
            "--",
            "vite",
            "preview",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--strictPort",
        ],
    )?;
    Ok(ExitCode::SUCCESS)
}

fn test(only: &[Suite]) -> Result<ExitCode> {
    let wanted = |suite| only.is_empty() || only.contains(&suite);
    let root = workspace_root();
    let web = root.join("web");
    let mut summary = Summary::default();

    // Prerequisites first: a missing tool is a clear error, not a confusing test failure.
    let needs_wasm = wanted(Suite::Browser) || wanted(Suite::E2e);
    let needs_chromium = wanted(Suite::Browser) || wanted(Suite::E2e);
    let needs_npm = wanted(Suite::Js) || wanted(Suite::E2e);
    let prereqs = summary.step("prerequisites", || {
        if needs_wasm {
            prereq::wasm_target()?;
            prereq::wasm_bindgen_cli()?;
        }
        if wanted(Suite::Browser) {
            prereq::wasm_pack()?;
        }
        if needs_chromium {
            prereq::chromium()?;
        }
        if wanted(Suite::Native) {
            prereq::lavapipe()?;
        }
        if needs_npm {
            prereq::npm_packages(&web)?;
        }
        Ok(())
    });
    if !prereqs {
        return Ok(summary.finish());
    }

    if wanted(Suite::Format) {
        summary.step("format (cargo fmt --check)", || cargo(&["fmt", "--all", "--", "--check"]));
    }
    if wanted(Suite::Native) {
        summary.step("native tests (cargo test --workspace)", || cargo(&["test", "--workspace"]));
    }
    if wanted(Suite::Browser) {
        summary.step("browser tests (wasm-pack test --headless --chrome)", browser_tests);
    }
    if wanted(Suite::Js) {
        summary.step("page types and unit tests (tsc, vitest)", || run::npm(&web, &["test"]));
    }
    if wanted(Suite::E2e) {
        // The workshop test serves a `--dist` copy of the page with Python's plain http.server.
        let static_copy = run::target_dir().join("e2e-static-page");
        let built =
            summary.step("page build (wasm dev profile + vite), the Worker's types, --dist copy", || {
                wasm::build_page_wasm(wasm::Profile::Dev)?;
                // The Worker against the wasm API wasm-bindgen just declared, and the message types.
                run::npm(&web, &["run", "typecheck:worker"])?;
                run::npm(&web, &["run", "build"])?;
                if static_copy.exists() {
                    std::fs::remove_dir_all(&static_copy)?;
                }
                wasm::write_dist(&web.join("dist"), &static_copy).map(|_| ())
            });
        if built {
            summary.step("page end-to-end tests (playwright-core)", || {
                let dir = static_copy.to_str().context("non-UTF-8 target path")?;
                run::command("npm", &["run", "e2e"], &web, &[("AHA_STATIC_DIR", dir)])
            });
        }
    }
    Ok(summary.finish())
}

/// The soak test of the suite (`grpo_memory_stays_flat_on_wgpu`, 8 steps there) at `steps` steps.
fn soak(steps: usize) -> Result<ExitCode> {
    let mut summary = Summary::default();
    summary.step("prerequisites", prereq::lavapipe);
    let steps = steps.to_string();
    summary.step(&format!("soak: {steps} GRPO steps of the tiny preset on wgpu"), || {
        run::command(
            "cargo",
            &["test", "--workspace", "--", "grpo_memory_stays_flat_on_wgpu", "--exact", "--nocapture"],
            &workspace_root(),
            &[("AHA_SOAK_STEPS", steps.as_str())],
        )
    });
    Ok(summary.finish())
}

/// The browser tests, exactly as the README tells users to run them, with the installed driver.
fn browser_tests() -> Result<()> {
    let root = workspace_root();
    run::command(
        "wasm-pack",
        &["test", "--headless", "--chrome", "--chromedriver", prereq::CHROMEDRIVER, "tests"],
        &root,
        // SwiftShader compiles pipelines slowly: give each test minutes, not the default 20 s.
        &[("WASM_BINDGEN_TEST_TIMEOUT", "900")],
    )
}

fn lint() -> Result<ExitCode> {
    let mut summary = Summary::default();
    summary.step("rustfmt", || cargo(&["fmt", "--all", "--", "--check"]));
    summary.step("clippy (native)", || {
        cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
    });
    summary.step("clippy (wasm32)", || {
        prereq::wasm_target()?;
        cargo(&[
            "clippy",
            "-p",
            "aha-web",
            "-p",
            "aha-tests",
            "--all-targets",
            "--target",
            wasm::TARGET,
            "--",
            "-D",
            "warnings",
        ])
    });
    Ok(summary.finish())
}

fn base_model(recipe: &str) -> Result<ExitCode> {
    let mut summary = Summary::default();
    // The dev profile on purpose: it shares the test build (no extra 20-minute compile of Burn),
    // and SFT at this size takes minutes either way. The four models train in parallel, one
    // thread each.
    let built = summary.step(&format!("pretrain {recipe}, no-check, control and student (CPU)"), || {
        cargo(&["build", "--workspace"])?;
        let aha = run::target_dir().join("debug/aha");
        pretrain_base_models(aha.to_str().context("non-UTF-8 path")?, recipe)
    });
    if built {
        summary.step("refresh the greedy-parity fixture", || {
            run::command(
                &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
                &["test", "--workspace", "base_model_greedy_parity"],
                &workspace_root(),
                &[("AHA_BLESS", "1")],
            )
        });
    }
    Ok(summary.finish())
}

/// The recipe of the shipped base model (`aha pretrain --recipe`).
pub const DEFAULT_RECIPE: &str = "marked-check";

/// Trains the shipped base model (`recipe`), the ablation's no-check model, the control whose
/// check does not pay and the distillation's student with `aha`, in parallel (one thread each),
/// writing their SFT metrics to dev/.
pub fn pretrain_base_models(aha: &str, recipe: &str) -> Result<()> {
    let pretrain = |recipe: &str, out: &str, metrics: &str| {
        run::command(
            aha,
            &["pretrain", "--recipe", recipe, "--out", out, "--metrics", metrics],
            &workspace_root(),
            &[("RAYON_NUM_THREADS", "1")],
        )
    };
    std::thread::scope(|scope| {
        let ablation =
            scope.spawn(|| pretrain("no-check", emergence::ABLATION_BASE, "dev/base-model-no-check-sft.csv"));
        let control =
            scope.spawn(|| pretrain("control", emergence::CONTROL_BASE, "dev/base-model-control-sft.csv"));
        let student = scope.spawn(|| pretrain("student", distill::STUDENT_BASE, "dev/student-model-sft.csv"));
        let default = pretrain(recipe, emergence::DEFAULT_BASE, "dev/base-model-sft.csv");
        let joined =
            |h: std::thread::ScopedJoinHandle<'_, Result<()>>| h.join().expect("a pretrain thread panicked");
        joined(ablation).and(joined(control)).and(joined(student)).and(default)
    })
}

/// Where a built file of the page goes.
fn page_pkg_dir() -> PathBuf {
    workspace_root().join("web/src/pkg")
}
