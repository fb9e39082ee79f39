//! Prerequisites: each function checks one tool and installs it when it is missing and installable
//! here, or fails with the exact command to run.

use std::path::Path;

use anyhow::{Result, bail};

use crate::run::{command, output};
use crate::wasm::{TARGET, WASM_BINDGEN_VERSION};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `rustup target add wasm32-unknown-unknown`, if it is not installed.
pub fn wasm_target() -> Result<()> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|line| line.trim() == TARGET) {
        return Ok(());
    }
    command("rustup", &["target", "add", TARGET], Path::new("."), &[])
}

/// wasm-bindgen's CLI at exactly the version Cargo.lock pins (they must match).
pub fn wasm_bindgen_cli() -> Result<()> {
    let version = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if version.split_whitespace().nth(1) == Some(WASM_BINDGEN_VERSION) {
        return Ok(());
    }
    // Not `--locked`: one of its locked dependency versions is no longer in the registry.
    command("cargo", &["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION], Path::new("."), &[])
}

/// wasm-pack, which runs the browser tests the way users run them.
pub fn wasm_pack() -> Result<()> {
    if output("wasm-pack", &["--version"]).is_some() {
        return Ok(());
    }
    command("cargo", &["install", "wasm-pack", "--locked"], Path::new("."), &[])
}

/// The nightly toolchain and the cargo-fuzz CLI, for `cargo xtask fuzz` (libFuzzer needs nightly).
pub fn cargo_fuzz() -> Result<()> {
    if output("rustup", &["run", "nightly", "rustc", "--version"]).is_none() {
        command("rustup", &["toolchain", "install", "nightly", "--profile", "minimal"], Path::new("."), &[])?;
    }
    if output("cargo", &["fuzz", "--version"]).is_some() {
        return Ok(());
    }
    command("cargo", &["install", "cargo-fuzz", "--locked"], Path::new("."), &[])
}

/// Debian's Chromium and ChromeDriver: installed with apt-get when we are root.
pub fn chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    apt_install("headless Chromium", &["chromium", "chromium-driver"])
}

/// Mesa's Vulkan drivers: lavapipe, the CPU adapter the native wgpu kernel tests run on where
/// there is no GPU.
pub fn lavapipe() -> Result<()> {
    let installed = output("dpkg-query", &["-W", "-f=${Status}", "mesa-vulkan-drivers"])
        .is_some_and(|status| status.contains("install ok installed"));
    if installed {
        return Ok(());
    }
    apt_install("Mesa's Vulkan drivers (lavapipe)", &["mesa-vulkan-drivers"])
}

/// `apt-get install` when we are root; otherwise the command to run.
fn apt_install(what: &str, packages: &[&str]) -> Result<()> {
    let install = format!("apt-get update && apt-get install -y {}", packages.join(" "));
    let is_root = output("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
    if !is_root {
        bail!("{what} is missing; install it with:\n    sudo sh -c '{install}'");
    }
    command("sh", &["-c", &install], Path::new("."), &[("DEBIAN_FRONTEND", "noninteractive")])
}

/// `npm ci` in the page's folder when node_modules is missing or older than package-lock.json.
pub fn npm_packages(web: &Path) -> Result<()> {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let lock = modified(&web.join("package-lock.json"));
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    if installed.is_some() && installed >= lock {
        return Ok(());
    }
    command("npm", &["ci", "--no-audit", "--no-fund"], web, &[])
}
