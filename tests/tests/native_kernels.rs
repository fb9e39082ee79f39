//! Our WGSL kernels natively, on wgpu (Mesa's lavapipe on a machine without a GPU; `cargo xtask
//! test` installs it): every check of `aha_tests::gpu_checks!` (each kernel against its
//! plain-tensor reference, the kernels inside the model, the one-readback rollout), which
//! `browser_kernels.rs` runs in headless Chromium too; then the native-only measurements. No
//! adapter fails the tests.
#![cfg(not(target_family = "wasm"))]

use std::sync::OnceLock;

use aha_kernels::{causal_attention, gelu, matmul_peak};
use aha_tests::{model_checks, soak};
use burn::tensor::Device;
use burn::tensor::wgpu::WgpuSetup;

/// Burn's wgpu runtime starts once per process; every test shares the device (and its wgpu
/// handles, for the kernels we run through wgpu directly).
fn wgpu_setup() -> (Device, WgpuSetup) {
    static DEVICE: OnceLock<Result<(Device, WgpuSetup), String>> = OnceLock::new();
    DEVICE
        .get_or_init(|| Device::wgpu_options().init_with_setup().map_err(|e| format!("{e}")))
        .clone()
        .unwrap_or_else(|e| panic!("no wgpu adapter (install mesa-vulkan-drivers): {e}"))
}

fn wgpu() -> Device {
    wgpu_setup().0
}

#[test]
fn tiled_matmul_matches_its_reference_and_times_a_peak_on_wgpu() {
    let (_, setup) = wgpu_setup();
    let clock = std::time::Instant::now();
    let now_ms = || clock.elapsed().as_secs_f64() * 1e3;
    // Ragged edges (not multiples of the 64 × 64 block or of 16 along k) and a square one.
    for shape in [[70, 33, 130], [128, 64, 128]] {
        let peak =
            pollster::block_on(matmul_peak::measure(&setup.device, &setup.queue, shape, 3, now_ms)).unwrap();
        println!("{peak:?}");
        assert!(peak.max_relative_error < 1e-3, "{shape:?}: {}", peak.max_relative_error);
        assert!(peak.gflops > 0.0 && peak.gflops.is_finite());
    }
    let refused = pollster::block_on(matmul_peak::measure(&setup.device, &setup.queue, [0, 4, 4], 1, now_ms));
    assert!(refused.unwrap_err().contains("must all be positive"));
}

#[test]
fn burn_matmul_rate_is_timed_on_wgpu_and_the_cpu() {
    let clock = std::time::Instant::now();
    let now_ms = || clock.elapsed().as_secs_f64() * 1e3;
    for device in [wgpu(), Device::flex()] {
        let gflops =
            pollster::block_on(matmul_peak::burn_matmul_gflops(&device, [70, 33, 130], 3, now_ms)).unwrap();
        assert!(gflops > 0.0 && gflops.is_finite(), "{device:?}: {gflops}");
        let refused = pollster::block_on(matmul_peak::burn_matmul_gflops(&device, [4, 4, 4], 0, now_ms));
        assert!(refused.unwrap_err().contains("must all be positive"));
    }
}

/// Each check of `aha_tests::gpu_checks!` as a test on wgpu; it prints what it measured.
macro_rules! on_wgpu {
    ($($name:ident => $check:path),* $(,)?) => {$(
        #[test]
        fn $name() {
            match pollster::block_on($check(&wgpu())) {
                Ok(measured) => println!("{measured:?}"),
                Err(e) => panic!("{e}"),
            }
        }
    )*};
}

aha_tests::gpu_checks!(on_wgpu);

/// The reduced soak (`cargo xtask soak` sets `AHA_SOAK_STEPS=1000`): the wgpu memory pools stay
/// flat within 10% after three warm-up steps.
#[test]
fn grpo_memory_stays_flat_on_wgpu() {
    let steps = std::env::var("AHA_SOAK_STEPS").map_or(Ok(8), |s| s.parse()).expect("AHA_SOAK_STEPS");
    let memory = pollster::block_on(soak::grpo_memory(&wgpu(), steps)).unwrap();
    let peak = memory.iter().map(|m| m.bytes_reserved).max();
    println!(
        "{steps} steps; memory after steps 1-4: {:?}; after the last: {:?}; peak reserved {peak:?} B",
        &memory[..4.min(steps)],
        memory.last()
    );
    // The pools grow to the largest shapes a run has needed so far; in a long run a longer rollout
    // comes later: the 1,000-step soak saw reserved bytes step up 25% once, at step 15, and then
    // stay put to step 1,000 (allocations flat throughout; dev/LOG.md). Long soaks warm up longer.
    let warmup = if steps >= 100 { 20 } else { 3 };
    soak::flat_after_warmup(&memory, warmup, 0.1).unwrap();
}

/// The CPU backend's own kernels (plain loops), against the same references as the WGSL kernels.
#[test]
fn cpu_kernels_match_their_references() {
    let device = Device::flex();
    let rows = pollster::block_on(causal_attention::checks::causal_attention_matches_reference(&device));
    println!("attention: {} rows", rows.unwrap());
    let elements = pollster::block_on(gelu::checks::gelu_matches_reference(&device));
    println!("GELU: {} elements", elements.unwrap());
}

#[test]
fn a_full_rollout_reads_back_once_on_the_cpu() {
    pollster::block_on(model_checks::rollout_reads_back_once(&Device::flex())).unwrap();
}

/// The readback counts above mean something only if nothing reads around the counter: outside
/// tests, product code reads the device only through `aha_kernels::readback::read`. The one
/// synchronous read left is on a model already copied to the CPU backend (checkpoint export).
#[test]
fn every_device_read_goes_through_the_instrumented_read() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut offenders = Vec::new();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        for file in std::fs::read_dir(&src).into_iter().flatten() {
            files.push(file.unwrap().path());
        }
    }
    assert!(files.len() > 20, "found only {} source files under {}", files.len(), crates.display());
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
        let text = std::fs::read_to_string(path).unwrap();
        // Unit tests sit in a `#[cfg(test)]` module at the end of a file.
        let product = text.split("#[cfg(test)]").next().unwrap_or_default();
        let name = path.strip_prefix(&crates).unwrap().to_string_lossy().into_owned();
        for (n, line) in product.lines().enumerate() {
            let asynchronous = line.contains(".execute_async(") || line.contains(".into_data_async(");
            let synchronous =
                [".into_data()", ".to_data()", ".into_scalar", ".execute()"].iter().any(|s| line.contains(s));
            let allowed = (asynchronous && name == "aha-kernels/src/readback.rs")
                || (synchronous
                    && name == "aha-train/src/checkpoint.rs"
                    && line.contains("float parameters convert"));
            if (asynchronous || synchronous) && !allowed {
                offenders.push(format!("{name}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "device reads outside aha_kernels::readback::read:\n{}",
        offenders.join("\n")
    );
}
