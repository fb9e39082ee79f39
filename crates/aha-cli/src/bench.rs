//! `aha bench`: speed figures on one backend, timed after warm-up steps — SFT steps/s and trained
//! tokens/s (the base recipe's corpus), sampled tokens/s (one GRPO rollout's worth of rows), a GRPO
//! step of a preset split into rollout and update, with its readbacks, and each WGSL kernel against
//! its plain-tensor reference (on wgpu; on the CPU backend, of its two kernels, the attention).
//! First of all, a cold start as the page makes it: device, model, the step-0 held-out evaluation and the first
//! GRPO step, with every kernel compiled on first use. Figures, not assertions: speed lives here,
//! not in timed tests.

use std::path::PathBuf;
use std::time::Instant;

use aha_kernels::causal_attention::{causal_attention_kernel, causal_attention_reference};
use aha_kernels::norm::{rms_norm_kernel, rms_norm_reference};
use aha_kernels::readback::reads_so_far;
use aha_kernels::router::{router_top_k_kernel, router_top_k_reference};
use aha_kernels::sample::{DecodeStep, sample_step_kernel, sample_step_reference, uniforms};
use aha_kernels::{KernelChoice, matmul_peak};
use aha_tasks::ProblemGenerator;
use aha_train::{BaseRecipe, Checkpoint, GrpoRun, RunConfig, SftRun};
use anyhow::{Context, Result, bail, ensure};
use burn::tensor::{Device, Int, Tensor};
use serde::Serialize;

use crate::Backend;

/// Matmul rates: the fastest of this many batches of `MATMUL_REPEATS` products. One batch of 50
/// read Burn's matmul at 8.3 and 13.0 GFLOP/s in two runs on lavapipe (a shared 2-core machine).
const MATMUL_BATCHES: usize = 5;
const MATMUL_REPEATS: u32 = 10;

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoint directory to start GRPO and sampling from.
    #[arg(long, default_value = "web/public/base-model")]
    checkpoint: PathBuf,
    /// GRPO preset to time (default or tiny).
    #[arg(long, default_value = "default")]
    preset: String,
    /// Timed repetitions of each measurement.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed repetitions first (kernel compilation, autotune, caches).
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Force the plain-tensor references instead of our WGSL kernels in the model (for a
    /// before/after comparison; on the CPU backend this turns off its attention and GELU loops).
    #[arg(long)]
    reference_kernels: bool,
    /// Also write the figures here as JSON.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Instead of the figures: run the preset's rollouts, then its GRPO steps, printing a line
    /// `@@ phase NAME` before each (`warmup`, `rollout`, `grpo-step`), for a per-kernel profile
    /// by CubeCL's profiling log (`cargo xtask bench --kernels` sets it up and reads it).
    #[arg(long)]
    phases: bool,
}

/// One backend's figures. Times are means over the timed repetitions.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub backend: String,
    /// The wgpu adapter: name, driver, backend (wgpu only).
    pub adapter: Option<String>,
    /// `release` or `dev`: dev builds run Burn at opt-level 1 and our crates unoptimised.
    pub profile: &'static str,
    pub preset: String,
    /// `auto` (our kernels on wgpu) or `reference` (forced plain-tensor references).
    pub kernels: &'static str,
    /// From the start (before the device exists) to the first finished GRPO step, as the page
    /// runs it: device, checkpoint, the step-0 held-out evaluation, then the step; every kernel is
    /// compiled on first use within it. The native counterpart of the page's
    /// `load_to_first_step_ms` (which adds the page, the wasm and the browser).
    pub start_to_first_step_ms: f64,
    /// Of that: the step-0 held-out evaluation (sampled and greedy), and the first step alone.
    pub baseline_eval_ms: f64,
    pub first_step_ms: f64,
    pub sft_steps_per_s: f64,
    pub sft_tokens_per_s: f64,
    /// Sampled (generated) tokens per second over a rollout of B × G rows.
    pub tokens_per_s: f64,
    pub grpo_step_ms: f64,
    pub rollout_ms: f64,
    pub update_ms: f64,
    /// The update's matmul FLOPs (counted from the shapes) over its measured time.
    pub update_achieved_gflops: f64,
    /// The adapter's matmul rate with our tiled WGSL kernel at `matmul_peak_shape` (wgpu only).
    pub matmul_peak_gflops: Option<f64>,
    /// `[m, k, n]`: the update's typical matmul (B × G × max_seq_len tokens, d_model, d_expert).
    pub matmul_peak_shape: [u32; 3],
    /// Burn's own matmul (what the update runs) on the same device at `matmul_peak_shape`: a
    /// second bound, since on a CPU adapter our tiled kernel may be the slower of the two.
    pub burn_matmul_gflops: f64,
    /// `update_achieved_gflops / matmul_peak_gflops`.
    pub update_share_of_peak: Option<f64>,
    /// `update_achieved_gflops` over the faster of `matmul_peak_gflops` and `burn_matmul_gflops`.
    pub update_share_of_best_matmul: f64,
    pub readbacks_per_step: f64,
    pub readbacks_per_rollout: f64,
    /// One router gate (softmax, top-k, weights) over an update's tokens, µs per call: our kernel
    /// (wgpu only) and the plain-tensor reference.
    pub router_kernel_us: Option<f64>,
    pub router_reference_us: f64,
    /// Tokens the router figures route (B × G × (prompt + completion)).
    pub router_tokens: usize,
    /// One decode step for a rollout's B × G rows, µs per call.
    pub sample_kernel_us: Option<f64>,
    pub sample_reference_us: f64,
    /// One RMSNorm over a decode step's B × G rows, µs per call.
    pub norm_kernel_us: Option<f64>,
    pub norm_reference_us: f64,
    /// Causal attention of one layer over an update's tokens (the router's), forward and
    /// backward, µs per call.
    pub attention_kernel_us: Option<f64>,
    pub attention_reference_us: f64,
    pub steps: usize,
    pub warmup: usize,
}

pub fn run(args: Args) -> Result<()> {
    ensure!(args.steps > 0, "--steps must be at least 1");
    let Some(preset) = RunConfig::named(&args.preset) else {
        bail!("unknown preset {:?}; choose one of {}", args.preset, RunConfig::NAMES.join(", "));
    };
    let started = Instant::now();
    let mut checkpoint = Checkpoint::load_dir(&args.checkpoint)?;
    if args.reference_kernels {
        checkpoint.config.kernels = Some(KernelChoice::Reference);
    }
    let (device, setup) = args.backend.device_and_setup()?;
    if args.phases {
        return phases(&args, &checkpoint, &preset, &device);
    }
    let timed = |start: Instant| start.elapsed().as_secs_f64();

    // --- a cold start: the first step after the held-out evaluation, as the page runs them
    let mut run =
        GrpoRun::new(checkpoint.load_model(&device)?, preset.clone(), checkpoint.tokenizer.clone(), &device)?;
    let evaluating = Instant::now();
    pollster::block_on(run.evaluate_base())?;
    let baseline_eval_ms = timed(evaluating) * 1e3;
    let stepping = Instant::now();
    pollster::block_on(run.step())?;
    let first_step_ms = timed(stepping) * 1e3;
    let start_to_first_step_ms = timed(started) * 1e3;
    let rounds = args.warmup + args.steps;

    // --- SFT: recipe B's corpus and batch on a fresh model of the checkpoint's shape
    let recipe =
        BaseRecipe::named("marked-check", checkpoint.tokenizer.vocab_size()).expect("marked-check exists");
    let mut sft = SftRun::new(&checkpoint.config, recipe.sft, &device)?;
    let (mut sft_s, mut sft_tokens) = (0.0, 0usize);
    for i in 0..rounds {
        let start = Instant::now();
        let step = pollster::block_on(sft.next_step()).context("the SFT run ended early")??;
        if i >= args.warmup {
            sft_s += timed(start);
            sft_tokens += step.trained_tokens;
        }
    }

    // --- GRPO steps of the preset, from the checkpoint, without held-out evaluations
    let model = checkpoint.load_model(&device)?;
    let mut run = GrpoRun::new(model, unevaluated(&preset), checkpoint.tokenizer.clone(), &device)?;
    let (mut step_ms, mut rollout_ms, mut update_ms, mut readbacks) = (0.0, 0.0, 0.0, 0usize);
    let mut update_flops = 0.0;
    for i in 0..rounds {
        let start = Instant::now();
        let m = pollster::block_on(run.step())?.step.metrics;
        if i >= args.warmup {
            step_ms += timed(start) * 1e3;
            rollout_ms += m.rollout_ms;
            update_ms += m.update_ms;
            update_flops += m.update_flops;
            readbacks += m.readbacks;
        }
    }

    // --- sampling alone: B × G rows at the training temperature
    let g = &preset.grpo;
    let mut problems = ProblemGenerator::new(g.task, preset.eval.seed)?;
    let (mut sample_s, mut sampled, mut rollout_readbacks) = (0.0, 0usize, 0usize);
    for i in 0..rounds {
        let batch: Vec<_> = (&mut problems).take(g.prompts_per_step).collect();
        let start = Instant::now();
        let reads = reads_so_far();
        let (_, done) =
            pollster::block_on(run.trainer().complete(&batch, g.num_generations, g.temperature, i as u64))?;
        if i >= args.warmup {
            sample_s += timed(start);
            sampled += done.tokens.iter().map(Vec::len).sum::<usize>();
            rollout_readbacks += reads_so_far() - reads;
        }
    }

    // --- kernels against references, at the shapes a GRPO step uses
    let rows = g.prompts_per_step * g.num_generations;
    let router_tokens = rows * (checkpoint.config.max_seq_len.min(g.max_completion_length + 8));
    let kernels = time_kernels(&device, &checkpoint.config, rows, router_tokens, rounds, args.warmup)?;

    // --- the matmul rates at the update's shape: our kernel through wgpu directly, then Burn's;
    // each the fastest of a few timed batches (a peak is the best rate seen: a busy moment of the
    // machine only slows a batch down)
    let peak_shape = preset.update_matmul_shape(&checkpoint.config);
    let clock = Instant::now();
    let now_ms = || clock.elapsed().as_secs_f64() * 1e3;
    let mut peak: Option<f64> = None;
    let mut burn_matmul_gflops = 0.0f64;
    for _ in 0..MATMUL_BATCHES {
        if let Some(setup) = &setup {
            let ours = pollster::block_on(matmul_peak::measure(
                &setup.device,
                &setup.queue,
                peak_shape,
                MATMUL_REPEATS,
                now_ms,
            ))
            .map_err(|e| anyhow::anyhow!("matmul peak: {e}"))?;
            ensure!(ours.max_relative_error < 1e-3, "the tiled matmul is wrong: {ours:?}");
            peak = Some(peak.unwrap_or(0.0).max(ours.gflops));
        }
        let burn =
            pollster::block_on(matmul_peak::burn_matmul_gflops(&device, peak_shape, MATMUL_REPEATS, now_ms))
                .map_err(|e| anyhow::anyhow!("Burn's matmul: {e}"))?;
        burn_matmul_gflops = burn_matmul_gflops.max(burn);
    }
    let n = args.steps as f64;
    let achieved = update_flops / update_ms / 1e6;
    let best_matmul = peak.unwrap_or(0.0).max(burn_matmul_gflops);
    let report = BenchReport {
        backend: format!("{:?}", args.backend).to_lowercase(),
        adapter: setup.as_ref().map(|setup| {
            let info = setup.adapter.get_info();
            format!(
                "{} ({:?}, {:?}; driver {} {})",
                info.name, info.device_type, info.backend, info.driver, info.driver_info
            )
        }),
        start_to_first_step_ms,
        baseline_eval_ms,
        first_step_ms,
        profile: if cfg!(debug_assertions) { "dev" } else { "release" },
        preset: preset.preset,
        kernels: if args.reference_kernels { "reference" } else { "auto" },
        sft_steps_per_s: n / sft_s,
        sft_tokens_per_s: sft_tokens as f64 / sft_s,
        tokens_per_s: sampled as f64 / sample_s,
        grpo_step_ms: step_ms / n,
        rollout_ms: rollout_ms / n,
        update_ms: update_ms / n,
        update_achieved_gflops: achieved,
        matmul_peak_gflops: peak,
        matmul_peak_shape: peak_shape,
        burn_matmul_gflops,
        update_share_of_peak: peak.map(|peak| achieved / peak),
        update_share_of_best_matmul: achieved / best_matmul,
        readbacks_per_step: readbacks as f64 / n,
        readbacks_per_rollout: rollout_readbacks as f64 / n,
        router_kernel_us: kernels.router_kernel_us,
        router_reference_us: kernels.router_reference_us,
        router_tokens,
        sample_kernel_us: kernels.sample_kernel_us,
        sample_reference_us: kernels.sample_reference_us,
        norm_kernel_us: kernels.norm_kernel_us,
        norm_reference_us: kernels.norm_reference_us,
        attention_kernel_us: kernels.attention_kernel_us,
        attention_reference_us: kernels.attention_reference_us,
        steps: args.steps,
        warmup: args.warmup,
    };
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(out) = &args.out {
        std::fs::write(out, json + "\n").with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}

/// The phases of a GRPO step, one after the other, each announced on stdout: rollouts alone (the
/// preset's B × G rows at its temperature), then whole steps. Warm-up rounds of both come first, so
/// that kernel compilation falls outside the timed phases.
fn phases(args: &Args, checkpoint: &Checkpoint, preset: &RunConfig, device: &Device) -> Result<()> {
    let g = &preset.grpo;
    let model = checkpoint.load_model(device)?;
    let mut run = GrpoRun::new(model, unevaluated(preset), checkpoint.tokenizer.clone(), device)?;
    let mut problems = ProblemGenerator::new(g.task, preset.eval.seed)?;
    for (phase, rounds) in [("warmup", args.warmup), ("rollout", args.steps), ("grpo-step", args.steps)] {
        println!("@@ phase {phase}");
        for i in 0..rounds {
            if phase != "grpo-step" {
                let batch: Vec<_> = (&mut problems).take(g.prompts_per_step).collect();
                pollster::block_on(run.trainer().complete(
                    &batch,
                    g.num_generations,
                    g.temperature,
                    i as u64,
                ))?;
            }
            if phase != "rollout" {
                pollster::block_on(run.step())?;
            }
        }
    }
    println!("@@ phase end");
    Ok(())
}

/// `preset` with its held-out evaluations off: timed steps are steps alone.
fn unevaluated(preset: &RunConfig) -> RunConfig {
    let mut config = preset.clone();
    config.eval.every = 0;
    config
}

struct KernelTimes {
    router_kernel_us: Option<f64>,
    router_reference_us: f64,
    sample_kernel_us: Option<f64>,
    sample_reference_us: f64,
    norm_kernel_us: Option<f64>,
    norm_reference_us: f64,
    attention_kernel_us: Option<f64>,
    attention_reference_us: f64,
}

/// Mean µs per call of `f`, after `warmup` untimed calls, waiting for the device after each batch
/// of calls so queued work is counted.
fn time_us(device: &Device, rounds: usize, warmup: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..warmup {
        f()?;
    }
    device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
    let timed = rounds - warmup;
    let start = Instant::now();
    for _ in 0..timed {
        f()?;
    }
    device.sync().map_err(|e| anyhow::anyhow!("device sync failed: {e:?}"))?;
    Ok(start.elapsed().as_secs_f64() * 1e6 / timed as f64)
}

/// The router over `tokens` tokens, one decode step over `rows` rows and one norm of theirs, and
/// one layer's attention (forward and backward) over `rows` sequences of `tokens / rows`
/// positions: kernel (where the device runs it) and reference. Inputs are fixed pseudo-random
/// values; outputs are discarded.
fn time_kernels(
    device: &Device,
    config: &aha_model::ModelConfig,
    rows: usize,
    tokens: usize,
    rounds: usize,
    warmup: usize,
) -> Result<KernelTimes> {
    let noise = |n: usize, seed: u64| -> Vec<f32> {
        (0..n).map(|i| aha_kernels::sample::uniform(seed, i / 1024, i % 1024) * 6.0 - 3.0).collect()
    };
    let (experts, k, vocab) = (config.moe.n_experts, config.moe.top_k, config.vocab_size);
    let router_logits =
        Tensor::<1>::from_floats(noise(tokens * experts, 1).as_slice(), device).reshape([tokens, experts]);
    let logits = Tensor::<1>::from_floats(noise(rows * vocab, 2).as_slice(), device).reshape([rows, vocab]);
    let finished = Tensor::<2, Int>::zeros([rows, 1], device);
    let step = DecodeStep {
        temperature: 1.0,
        top_k: 0,
        seed: 3,
        step: 0,
        max_steps: 64,
        stop_token: 0,
        pad_token: 0,
    };

    let router_kernel_us = match router_top_k_kernel(&router_logits, k) {
        Some(_) => Some(time_us(device, rounds, warmup, || {
            router_top_k_kernel(&router_logits, k).context("the router kernel stopped running")?;
            Ok(())
        })?),
        None => None,
    };
    let router_reference_us = time_us(device, rounds, warmup, || {
        let _ = router_top_k_reference(router_logits.clone(), k);
        Ok(())
    })?;
    let sample_kernel_us = match sample_step_kernel(&logits, &finished, &step) {
        Some(_) => Some(time_us(device, rounds, warmup, || {
            sample_step_kernel(&logits, &finished, &step).context("the sampler kernel stopped running")?;
            Ok(())
        })?),
        None => None,
    };
    let sample_reference_us = time_us(device, rounds, warmup, || {
        let draws = uniforms(step.seed, step.step, rows, device);
        let _ = sample_step_reference(logits.clone(), finished.clone(), &step, draws);
        Ok(())
    })?;
    // One decode step's norm input: a row of d_model values for each sequence.
    let hidden = Tensor::<1>::from_floats(noise(rows * config.d_model, 4).as_slice(), device).reshape([
        rows,
        1,
        config.d_model,
    ]);
    let gamma = Tensor::<1>::ones([config.d_model], device);
    let norm_kernel_us = match rms_norm_kernel(&hidden, &gamma, config.norm_eps) {
        Some(_) => Some(time_us(device, rounds, warmup, || {
            rms_norm_kernel(&hidden, &gamma, config.norm_eps)
                .context("the RMSNorm kernel stopped running")?;
            Ok(())
        })?),
        None => None,
    };
    let norm_reference_us = time_us(device, rounds, warmup, || {
        let _ = rms_norm_reference(hidden.clone(), gamma.clone(), config.norm_eps);
        Ok(())
    })?;
    // One layer's fused qkv projection over the update's sequences, on the autodiff device.
    let autodiff = device.clone().autodiff();
    let (n, d, heads) = (tokens / rows, config.d_model, config.n_heads);
    let qkv = Tensor::<1>::from_floats(noise(rows * n * 3 * d, 5).as_slice(), &autodiff)
        .reshape([rows, n, 3 * d])
        .require_grad();
    let attention_kernel_us = match causal_attention_kernel(&qkv, heads) {
        Some(_) => Some(time_us(device, rounds, warmup, || {
            let context =
                causal_attention_kernel(&qkv, heads).context("the attention kernels stopped running")?;
            let _ = context.sum().backward();
            Ok(())
        })?),
        None => None,
    };
    let attention_reference_us = time_us(device, rounds, warmup, || {
        let _ = causal_attention_reference(qkv.clone(), heads).sum().backward();
        Ok(())
    })?;
    Ok(KernelTimes {
        router_kernel_us,
        router_reference_us,
        sample_kernel_us,
        sample_reference_us,
        norm_kernel_us,
        norm_reference_us,
        attention_kernel_us,
        attention_reference_us,
    })
}
