//! `cargo xtask device-pack`: packs what `dev/device-bench.sh` needs on the device machine (a
//! borrowed GPU machine with no Rust, no package registry and no network) into `.device/`, which
//! git ignores: a stripped, gzipped release `aha` (60 MB → 16 MB) and the Vulkan and GL loaders as
//! Debian packages (that
//! machine has the NVIDIA driver but may lack the loader). The device tool then carries the folder:
//! `run(command = "bash dev/device-bench.sh", carry = [".device"])`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, ensure};

use crate::run::{self, Summary, cargo, workspace_root};

/// The loaders the device tool's notes name for Vulkan and EGL on that machine.
const LOADERS: &[&str] =
    &["libvulkan1", "libegl1", "libglvnd0", "libopengl0", "libgl1", "libglx0", "libgles2"];

/// What one device call may carry with the working tree (the tool's limit is 64 MiB in all).
const CARRY_LIMIT_BYTES: u64 = 48 << 20;

pub fn pack() -> Result<ExitCode> {
    let mut summary = Summary::default();
    let root = workspace_root();
    let pack = root.join(".device");
    if !summary.step("build aha (release)", || cargo(&["build", "--release", "-p", "aha-cli"])) {
        return Ok(summary.finish());
    }
    summary.step("stripped, gzipped aha into .device/", || {
        std::fs::create_dir_all(&pack)?;
        let built = run::target_dir().join("release/aha");
        let packed = pack.join("aha");
        std::fs::copy(&built, &packed).with_context(|| format!("copying {}", built.display()))?;
        let packed = packed.to_str().context("non-UTF-8 path")?;
        run::command("strip", &[packed], &root, &[])?;
        run::command("gzip", &["-9", "--force", packed], &root, &[])
    });
    summary.step("Vulkan and GL loaders into .device/gl/", || {
        let gl = pack.join("gl");
        let _ = std::fs::remove_dir_all(&gl);
        std::fs::create_dir_all(&gl)?;
        run::command("apt-get", &[&["download"], LOADERS].concat(), &gl, &[])
    });
    summary.step("size within one device call", || {
        let bytes = folder_bytes(&pack)?;
        ensure!(bytes <= CARRY_LIMIT_BYTES, ".device/ is {bytes} bytes, over {CARRY_LIMIT_BYTES}");
        println!(".device/: {:.1} MiB", bytes as f64 / (1 << 20) as f64);
        println!("On the device: run(command = \"bash dev/device-bench.sh\", carry = [\".device\"], timeout_s = 540)");
        Ok(())
    });
    Ok(summary.finish())
}

fn folder_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { folder_bytes(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}
