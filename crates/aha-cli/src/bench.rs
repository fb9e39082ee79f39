//! `aha bench`: speed figures on one backend, timed after warm-up steps — SFT steps/s and trained
//! tokens/s (the base recipe's corpus), sampled tokens/s (one GRPO rollout's worth of rows), and a GRPO step
//! of a preset split into rollout and update, with its readbacks. Figures, not assertions: speed
//! lives here, not in timed tests.

use std::path::PathBuf;
use std::time::Instant;

use aha_tasks::ProblemGenerator;
use aha_train::{BaseRecipe, Checkpoint, GrpoTrainer, RunConfig, SftRun};
use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;

use crate::Backend;

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
    /// Also write the figures here as JSON.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One backend's figures. Times are means over the timed repetitions.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub backend: String,
    /// `release` or `dev`: dev builds run Burn at opt-level 1 and our crates unoptimised.
    pub profile: &'static str,
    pub preset: String,
    pub sft_steps_per_s: f64,
    pub sft_tokens_per_s: f64,
    /// Sampled (generated) tokens per second over a rollout of B × G rows.
    pub tokens_per_s: f64,
    pub grpo_step_ms: f64,
    pub rollout_ms: f64,
    pub update_ms: f64,
    pub readbacks_per_step: f64,
    pub readbacks_per_rollout: f64,
    pub steps: usize,
    pub warmup: usize,
}

pub fn run(args: Args) -> Result<()> {
    ensure!(args.steps > 0, "--steps must be at least 1");
    let Some(preset) = RunConfig::named(&args.preset) else {
        bail!("unknown preset {:?}; choose one of {}", args.preset, RunConfig::NAMES.join(", "));
    };
    let checkpoint = Checkpoint::load_dir(&args.checkpoint)?;
    let device = args.backend.device()?;
    let rounds = args.warmup + args.steps;
    let timed = |start: Instant| start.elapsed().as_secs_f64();

    // --- SFT: recipe B's corpus and batch on a fresh model of the checkpoint's shape
    let recipe =
        BaseRecipe::named("split-check", checkpoint.tokenizer.vocab_size()).expect("split-check exists");
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

    // --- GRPO steps of the preset, from the checkpoint
    let model = checkpoint.load_model(&device)?;
    let mut trainer = GrpoTrainer::new(model, preset.grpo.clone(), checkpoint.tokenizer.clone(), &device)?;
    let (mut step_ms, mut rollout_ms, mut update_ms, mut readbacks) = (0.0, 0.0, 0.0, 0usize);
    for i in 0..rounds {
        let start = Instant::now();
        let m = pollster::block_on(trainer.step())?.metrics;
        if i >= args.warmup {
            step_ms += timed(start) * 1e3;
            rollout_ms += m.rollout_ms;
            update_ms += m.update_ms;
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
        let (_, done) =
            pollster::block_on(trainer.complete(&batch, g.num_generations, g.temperature, i as u64))?;
        if i >= args.warmup {
            sample_s += timed(start);
            sampled += done.tokens.iter().map(Vec::len).sum::<usize>();
            rollout_readbacks += done.readbacks;
        }
    }

    let n = args.steps as f64;
    let report = BenchReport {
        backend: format!("{:?}", args.backend).to_lowercase(),
        profile: if cfg!(debug_assertions) { "dev" } else { "release" },
        preset: preset.preset,
        sft_steps_per_s: n / sft_s,
        sft_tokens_per_s: sft_tokens as f64 / sft_s,
        tokens_per_s: sampled as f64 / sample_s,
        grpo_step_ms: step_ms / n,
        rollout_ms: rollout_ms / n,
        update_ms: update_ms / n,
        readbacks_per_step: readbacks as f64 / n,
        readbacks_per_rollout: rollout_readbacks as f64 / n,
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
