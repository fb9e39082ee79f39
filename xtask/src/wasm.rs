//! Building the page's WebAssembly: cargo for wasm32, then wasm-bindgen's JS glue into web/src/pkg.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::prereq;
use crate::run::{cargo, command, target_dir, workspace_root};

pub const TARGET: &str = "wasm32-unknown-unknown";
/// Must equal the `wasm-bindgen` pin in the workspace Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Shares its build with the browser tests (`wasm-pack test`): the cheap one for tests.
    Dev,
    /// What users download: the size-tuned `wasm-release` profile of the workspace Cargo.toml,
    /// then wasm-opt to the smallest module (`--converge`: minutes more) — the `--dist` kit and
    /// the benches.
    Release,
    /// The same cargo build served from this machine by `cargo xtask demo`, without wasm-opt: a
    /// page on 127.0.0.1 need not be the smallest download, and the -Oz pass cost 180 s of a
    /// fresh 2-core build without making the CPU step faster (dev/LOG.md, 2026-12-07).
    ReleaseServed,
}

/// The whole page for people to use: its prerequisites, the wasm of `profile` (sizes printed), then
/// Vite's build into web/dist.
pub fn build_page(profile: Profile) -> Result<()> {
    let web = workspace_root().join("web");
    prereq::wasm_target()?;
    prereq::wasm_bindgen_cli()?;
    prereq::npm_packages(&web)?;
    let wasm = build_page_wasm(profile)?;
    // Brotli at quality 11 takes most of a minute; the served page's size is not the point.
    report_size(&wasm, profile == Profile::Release)?;
    crate::run::npm(&web, &["run", "build"])
}

/// Builds `aha-web` for wasm32 and writes the page's module to web/src/pkg. Returns the .wasm path.
pub fn build_page_wasm(profile: Profile) -> Result<PathBuf> {
    let (flag, dir) = match profile {
        Profile::Dev => (None, "debug"),
        Profile::Release | Profile::ReleaseServed => (Some("--profile=wasm-release"), "wasm-release"),
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
            // aha_web.d.ts: `tsc -p web/tsconfig.worker.json` checks the Worker against it.
            "--out-dir",
            out_dir.to_str().context("non-UTF-8 path")?,
            wasm.to_str().context("non-UTF-8 path")?,
        ],
        &root,
        &[],
    )?;
    let module = out_dir.join("aha_web_bg.wasm");
    match profile {
        Profile::Release => optimize_for_size(&module)?,
        Profile::ReleaseServed | Profile::Dev => {}
    }
    Ok(module)
}

/// Binaryen's `wasm-opt -Oz` from the npm package `binaryen` (web/package.json), in place, dropping
/// the name section (function names: only panics' stack traces lose them; console_error_panic_hook
/// still logs the message). Measured on one module (dev/LOG.md, 2026-11-30), gzip -9:
/// - `--converge` repeats the passes while the module shrinks: -12 KB (~2 more minutes);
/// - `--low-memory-unused` folds constant address offsets into loads and stores, which can differ
///   only where an address wraps around 4 GiB into the first KiB — never in Rust's code: -17 KB;
/// - `--reorder-functions-by-name`, before the names are stripped, puts each crate's and module's
///   functions side by side, so gzip finds their likeness within its 32 KB window: -192 KB.
///
/// Not `--ignore-implicit-traps` (-7 KB): with it the release page's Worker failed at start with
/// "memory access out of bounds" (loads it deems free of effects may run where a branch guarded
/// them). Not Debian's binaryen: its older wasm-opt writes modules Chromium refuses
/// (dev/LOG.md, "wasm size"). The features come from the module's own target_features section.
fn optimize_for_size(module: &Path) -> Result<()> {
    let wasm_opt = workspace_root().join("web/node_modules/.bin/wasm-opt");
    anyhow::ensure!(wasm_opt.exists(), "{} is missing: run `npm ci` in web/", wasm_opt.display());
    let path = module.to_str().context("non-UTF-8 path")?;
    let started = std::time::Instant::now();
    let args = [
        "-Oz",
        "--converge",
        "--low-memory-unused",
        "--reorder-functions-by-name",
        "--strip-debug",
        "--strip-producers",
        path,
        "-o",
        path,
    ];
    command(wasm_opt.to_str().context("non-UTF-8 path")?, &args, &workspace_root(), &[])?;
    println!("wasm-opt took {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Prints the raw and gzip sizes of the page's wasm and, with `brotli`, its size at brotli's best
/// level too (what a server compressing at its best level would send; most of a minute here).
pub fn report_size(wasm: &PathBuf, brotli: bool) -> Result<()> {
    let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes)?;
    let gzip = gz.finish()?.len();
    let mb = |n: usize| n as f64 / 1e6;
    let brotli = if brotli {
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 24, ..Default::default() };
        brotli::BrotliCompress(&mut bytes.as_slice(), &mut br, &params)?;
        format!(", {:.2} MB brotli", mb(br.len()))
    } else {
        String::new()
    };
    println!("wasm: {:.2} MB raw, {:.2} MB gzip{brotli} ({})", mb(bytes.len()), mb(gzip), wasm.display());
    Ok(())
}

/// A `--dist` folder must be new or empty: the copy must not mix with or overwrite other files.
pub fn check_dist_target(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            Some(_) => {
                anyhow::bail!("{} is not empty; choose a new or empty folder for --dist", dir.display())
            }
            None => Ok(()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

/// Copies the built page `built` (web/dist) into `dir` and checks it is self-contained: no file
/// loads anything from another origin (no CDN). Returns the number of files written.
pub fn write_dist(built: &Path, dir: &Path) -> Result<usize> {
    check_dist_target(dir)?;
    let mut written = 0;
    let mut stack = vec![built.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))? {
            let path = entry?.path();
            let to = dir.join(path.strip_prefix(built)?);
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            std::fs::create_dir_all(to.parent().context("a file has a parent")?)?;
            std::fs::copy(&path, &to).with_context(|| format!("copying {}", path.display()))?;
            written += 1;
            if let Some(reference) = foreign_reference(&to)? {
                anyhow::bail!("{} loads {reference}: the folder would need the network", to.display());
            }
        }
    }
    Ok(written)
}

/// The first `src`/`href`/`import`/`url(` that points at another origin in an HTML, JS or CSS file.
fn foreign_reference(path: &Path) -> Result<Option<String>> {
    let text_file = path.extension().is_some_and(|e| e == "html" || e == "js" || e == "css");
    if !text_file {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)?;
    let loaders = [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "from\"http",
        "from \"http",
        "import(\"http",
    ];
    Ok(loaders
        .iter()
        .find_map(|loader| text.find(loader).map(|at| text[at..].chars().take(80).collect::<String>())))
}
