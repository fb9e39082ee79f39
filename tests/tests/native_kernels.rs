//! Our WGSL kernels natively, on wgpu (Mesa's lavapipe on a machine without a GPU; `cargo xtask
//! test` installs it): each against its plain-tensor reference, and the one-readback rollout.
//! `browser_kernels.rs` runs the same checks in headless Chromium. No adapter fails the tests.
#![cfg(not(target_family = "wasm"))]

use std::sync::OnceLock;

use aha_kernels::matmul_peak;
use aha_tests::{kernels, logprobs, norm, optimizer, soak};
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

#[test]
fn router_kernel_matches_its_reference_on_wgpu() {
    let tokens = pollster::block_on(kernels::router_matches_reference(&wgpu())).unwrap();
    assert!(tokens > 2000);
}

#[test]
fn router_kernel_gradients_match_the_reference_on_wgpu() {
    pollster::block_on(kernels::router_gradients_match_reference(&wgpu())).unwrap();
}

#[test]
fn sampler_kernel_matches_its_reference_on_wgpu() {
    let parity = pollster::block_on(kernels::sampler_matches_reference(&wgpu())).unwrap();
    println!("{parity:?}");
}

#[test]
fn sampler_kernel_edge_cases_on_wgpu() {
    pollster::block_on(kernels::sampler_edge_cases(&wgpu())).unwrap();
}

#[test]
fn sampler_kernel_follows_the_softmax_on_wgpu() {
    let chi2 = pollster::block_on(kernels::sampler_follows_the_softmax(&wgpu())).unwrap();
    println!("chi-square {chi2:.2}");
}

#[test]
fn a_full_rollout_reads_back_once_on_wgpu() {
    let (rows, steps) = pollster::block_on(kernels::rollout_reads_back_once(&wgpu())).unwrap();
    let preset = aha_train::RunConfig::named("default").unwrap().grpo;
    let rows_expected = preset.prompts_per_step * preset.num_generations;
    assert_eq!((rows, steps), (rows_expected, preset.max_completion_length));
}

#[test]
fn rms_norm_kernel_matches_its_reference_on_wgpu() {
    let rows = pollster::block_on(kernels::rms_norm_matches_reference(&wgpu())).unwrap();
    println!("{rows} rows checked");
}

#[test]
fn attention_weights_kernel_matches_its_reference_on_wgpu() {
    let rows = pollster::block_on(kernels::masked_softmax_matches_reference(&wgpu())).unwrap();
    println!("{rows} rows checked");
}

#[test]
fn causal_attention_kernels_match_their_reference_on_wgpu() {
    let rows = pollster::block_on(kernels::causal_attention_matches_reference(&wgpu())).unwrap();
    println!("{rows} rows checked");
}

#[test]
fn gelu_kernels_match_their_reference_on_wgpu() {
    let elements = pollster::block_on(kernels::gelu_matches_reference(&wgpu())).unwrap();
    println!("{elements} elements checked");
}

#[test]
fn token_logprob_kernels_match_their_reference_on_wgpu() {
    let rows = pollster::block_on(logprobs::token_logprobs_match_reference(&wgpu())).unwrap();
    println!("{rows} rows checked");
}

#[test]
fn rms_norm_gradients_match_their_reference_on_wgpu() {
    let rows = pollster::block_on(norm::rms_norm_gradients_match_reference(&wgpu())).unwrap();
    println!("{rows} rows checked");
}

#[test]
fn adam_kernels_match_their_reference_on_wgpu() {
    let elements = pollster::block_on(optimizer::adam_matches_reference(&wgpu())).unwrap();
    println!("{elements} elements checked");
}

#[test]
fn training_gradients_with_the_kernels_match_burns_formulas_on_wgpu() {
    let params = pollster::block_on(kernels::training_gradients_match_the_reference(&wgpu())).unwrap();
    println!("{params} parameters compared");
}

#[test]
fn expert_mix_kernel_matches_its_reference_on_wgpu() {
    let tokens = pollster::block_on(kernels::expert_mix_matches_reference(&wgpu())).unwrap();
    println!("{tokens} tokens checked");
}

#[test]
fn cached_decoding_matches_the_full_forward_on_wgpu() {
    let diff = pollster::block_on(kernels::cached_decoding_matches_the_full_forward(&wgpu())).unwrap();
    println!("max |full - cached| = {diff}");
}

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

#[test]
fn a_full_rollout_reads_back_once_on_the_cpu() {
    pollster::block_on(kernels::rollout_reads_back_once(&Device::flex())).unwrap();
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
