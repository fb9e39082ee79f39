//! Building the page's WebAssembly: cargo for wasm32, then wasm-bindgen's JS glue into web/src/pkg.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::run::{cargo, command, target_dir, workspace_root};

pub const TARGET: &str = "wasm32-unknown-unknown";
/// Must equal the `wasm-bindgen` pin in the workspace Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Shares its build with the browser tests (`wasm-pack test`): the cheap one for tests.
    Dev,
    /// What users download.
    Release,
}

/// Builds `aha-web` for wasm32 and writes the page's module to web/src/pkg. Returns the .wasm path.
pub fn build_page_wasm(profile: Profile) -> Result<PathBuf> {
    let (flag, dir) = match profile {
        Profile::Dev => (None, "debug"),
        Profile::Release => (Some("--release"), "release"),
    };
    let mut args = vec!["build", "-p", "aha-web", "--target", TARGET];
    args.extend(flag);
    cargo(&args)?;
    let root = workspace_root();
    let wasm = target_dir().join(TARGET).join(dir).join("aha_web.wasm");
    let out_dir = crate::page_pkg_dir();
    command(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-dir",
            out_dir.to_str().context("non-UTF-8 path")?,
            wasm.to_str().context("non-UTF-8 path")?,
        ],
        &root,
        &[],
    )?;
    Ok(out_dir.join("aha_web_bg.wasm"))
}

/// Prints the raw and gzip sizes of the page's wasm.
pub fn report_size(wasm: &PathBuf) -> Result<()> {
    let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes)?;
    let gzip = gz.finish()?.len();
    let mb = |n: usize| n as f64 / 1e6;
    println!("wasm: {:.2} MB raw, {:.2} MB gzip ({})", mb(bytes.len()), mb(gzip), wasm.display());
    Ok(())
}
