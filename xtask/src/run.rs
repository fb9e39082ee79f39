//! Running commands and reporting steps.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The workspace root (xtask lives one level below it). `cargo run` sets `CARGO_MANIFEST_DIR` for
/// the checkout it runs in; the path compiled in is only the fallback. Two checkouts sharing a
/// target dir (CI's and a developer's) share one xtask binary when their sources match, and the
/// compiled-in path would then point at whichever checkout built it last.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().expect("xtask is inside the workspace").to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set (CI keeps it outside the clone), else
/// `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| if dir.is_relative() { workspace_root().join(dir) } else { dir })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Runs `program args` in `dir` with extra environment, echoing the command line; an error names
/// the command when it cannot start or exits non-zero.
pub fn command(program: &str, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Result<()> {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("could not start `{program}`: is it installed and on PATH?"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs `program args` in the workspace root and returns its stdout (stderr passes through); an
/// error names the command when it cannot start or exits non-zero.
pub fn capture(program: &str, args: &[&str]) -> Result<String> {
    capture_env(program, args, &[])
}

/// [`capture`] with extra environment.
pub fn capture_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
    println!("$ {program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .envs(env.iter().copied())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{program}`"))?;
    if !out.status.success() {
        bail!("`{program} {}` failed ({})", args.join(" "), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The output of `program args` if it runs and succeeds.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The cargo that runs this xtask, so toolchains agree.
pub fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    command(&cargo, args, &workspace_root(), &[])
}

pub fn npm(dir: &Path, args: &[&str]) -> Result<()> {
    command("npm", args, dir, &[])
}

/// Timed steps and a summary at the end.
#[derive(Default)]
pub struct Summary {
    rows: Vec<(String, Result<(), String>, f64)>,
}

impl Summary {
    /// Runs one step, recording whether it passed and how long it took. Returns whether it passed.
    pub fn step(&mut self, name: &str, body: impl FnOnce() -> Result<()>) -> bool {
        println!("\n==> {name}");
        let start = Instant::now();
        let result = body().map_err(|e| format!("{e:#}"));
        let seconds = start.elapsed().as_secs_f64();
        if let Err(error) = &result {
            eprintln!("FAILED: {name}: {error}");
        }
        let passed = result.is_ok();
        self.rows.push((name.to_string(), result, seconds));
        passed
    }

    /// Prints the summary table and returns the exit code: failure if any step failed.
    pub fn finish(self) -> ExitCode {
        println!("\n==== summary ====");
        let mut failed = 0;
        for (name, result, seconds) in &self.rows {
            let mark = if result.is_ok() { "ok    " } else { "FAILED" };
            println!("{mark}  {seconds:>7.1} s  {name}");
            if let Err(error) = result {
                println!("                   {error}");
                failed += 1;
            }
        }
        let total: f64 = self.rows.iter().map(|row| row.2).sum();
        if failed == 0 {
            println!("all {} steps passed in {total:.0} s", self.rows.len());
            ExitCode::SUCCESS
        } else {
            println!("{failed} of {} steps FAILED ({total:.0} s)", self.rows.len());
            ExitCode::FAILURE
        }
    }
}

/// Runs the built `aha` binary with `args` from the workspace root on one thread (each report run
/// is single-threaded, so two share the cores), its output to the file `log`.
pub fn aha_logged<S: AsRef<std::ffi::OsStr>>(aha: &str, args: &[S], log: &Path) -> Result<()> {
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let status = Command::new(aha)
        .args(args)
        .current_dir(workspace_root())
        .env("RAYON_NUM_THREADS", "1")
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("starting {aha}"))?;
    anyhow::ensure!(status.success(), "{aha} failed ({status}); see {}", log.display());
    Ok(())
}
