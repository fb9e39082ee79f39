//! `aha grpo`: reinforcement learning from a base checkpoint with a preset, measured on the
//! held-out set as it goes.

use std::path::PathBuf;

use aha_train::{Checkpoint, EvalRow, GrpoRun, LateEval, RunConfig, RunStep};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Backend;
use crate::metrics::MetricsWriter;

#[derive(clap::Args)]
pub struct Args {
    /// Base checkpoint directory (model.bpk, config.json, tokenizer.json).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Named preset: default or tiny.
    #[arg(long, default_value = "default")]
    preset: String,
    /// A full run config as JSON (see --print-config); replaces the preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// GRPO steps to run.
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Overrides the config's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Overrides how often the held-out set is evaluated (every this many steps; 0 never).
    #[arg(long)]
    eval_every: Option<usize>,
    /// After this step, evaluate only every --eval-every-late steps (the emergence run measures
    /// the onset densely and the rest sparsely).
    #[arg(long, requires = "eval_every_late")]
    eval_dense_until: Option<usize>,
    #[arg(long, requires = "eval_dense_until")]
    eval_every_late: Option<usize>,
    /// Per-step metrics file (.csv, .json or .jsonl).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Held-out evaluations file (.csv, .json or .jsonl), one row per evaluation.
    #[arg(long)]
    eval_metrics: Option<PathBuf>,
    /// Write the trained policy as a checkpoint here.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Print the run config as JSON and exit.
    #[arg(long)]
    print_config: bool,
}

pub fn run(args: Args) -> Result<()> {
    let mut config = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str::<RunConfig>(&text)
                .with_context(|| format!("{} is not a run config", path.display()))?
        }
        None => match RunConfig::named(&args.preset) {
            Some(config) => config,
            None => bail!("unknown preset {:?}; choose one of {}", args.preset, RunConfig::NAMES.join(", ")),
        },
    };
    if let Some(seed) = args.seed {
        config.grpo.seed = seed;
    }
    if let Some(every) = args.eval_every {
        config.eval.every = every;
    }
    if let (Some(after), Some(every)) = (args.eval_dense_until, args.eval_every_late) {
        config.eval.late = Some(LateEval { after, every });
    }
    if args.print_config {
        println!("{}", serde_json::to_string_pretty(&config)?);
        return Ok(());
    }
    let mut steps_out = args.metrics.as_deref().map(MetricsWriter::create).transpose()?;
    let mut evals_out = args.eval_metrics.as_deref().map(MetricsWriter::create).transpose()?;
    let checkpoint = Checkpoint::load_dir(&args.checkpoint)?;
    let device = args.backend.device()?;
    let base = checkpoint.load_model(&device)?;
    let mut run = GrpoRun::new(base, config.clone(), checkpoint.tokenizer.clone(), &device)?;

    let bar = ProgressBar::new(args.steps as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}")
            .expect("a valid template"),
    );
    let mut report = |row: EvalRow| -> Result<()> {
        let line = format!(
            "eval @{}: sampled acc {:.3}, greedy acc {:.3}, first guess {:.3}, check rate {:.3}, verdict {}, fix {:.3}, length {:.1}",
            row.step,
            row.sampled_acc,
            row.greedy_acc,
            row.first_guess_acc,
            row.check_rate,
            row.verdict_accuracy.map_or("-".into(), |v| format!("{v:.3}")),
            row.fix_rate,
            row.mean_len
        );
        // A hidden bar (output not a terminal) drops println: print plainly then.
        if bar.is_hidden() {
            println!("{line}")
        } else {
            bar.println(line)
        }
        match evals_out.as_mut() {
            Some(out) => out.write(&row),
            None => Ok(()),
        }
    };
    let evaluating = config.eval.every > 0;
    if evaluating {
        report(pollster::block_on(run.evaluate_base())?)?;
    }
    for _ in 0..args.steps {
        let RunStep { step, eval } = pollster::block_on(run.step())?;
        let m = &step.metrics;
        bar.set_message(format!(
            "reward {:.2} check {:.2} len {:.0} ({:.0}+{:.0} ms)",
            m.reward_mean, m.check_rate, m.mean_length, m.rollout_ms, m.update_ms
        ));
        bar.inc(1);
        if let Some(out) = steps_out.as_mut() {
            out.write(m)?;
        }
        if let Some(row) = eval {
            report(row)?;
        }
    }
    // The last policy is always measured, on schedule or not.
    if evaluating && args.steps > 0 && !config.eval.evaluates_at(args.steps) {
        report(pollster::block_on(run.evaluate())?)?;
    }
    bar.finish();
    for out in [steps_out, evals_out].into_iter().flatten() {
        out.finish()?;
    }
    if let Some(dir) = &args.out {
        let policy = run.policy();
        Checkpoint::from_model(&policy, &checkpoint.config, &checkpoint.tokenizer)?.save_dir(dir)?;
        std::fs::write(dir.join("run.json"), serde_json::to_string_pretty(&config)? + "\n")?;
        println!("policy written to {}", dir.display());
    }
    Ok(())
}
