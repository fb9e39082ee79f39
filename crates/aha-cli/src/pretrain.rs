//! `aha pretrain`: supervised fine-tuning of a base model from a named recipe.

use std::path::PathBuf;
use std::time::Instant;

use aha_tokenizer::CharTokenizer;
use aha_train::{BaseRecipe, Checkpoint, SftRun};
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Backend;
use crate::metrics::MetricsWriter;

#[derive(clap::Args)]
pub struct Args {
    /// Named recipe: marked-check (the default preset's base model), split-check (its predecessor,
    /// whose verdict is a habit), recipe-b (issue #4's original), no-check (the ablation), control
    /// (a check that does not pay), tiny, student (the distillation student: a narrower model).
    #[arg(long, default_value = "marked-check")]
    recipe: String,
    /// A recipe as JSON (see --print-recipe); replaces --recipe. For corpus experiments.
    #[arg(long)]
    recipe_file: Option<PathBuf>,
    /// Checkpoint directory to write (model.bpk, config.json, tokenizer.json, recipe.json).
    #[arg(long)]
    out: PathBuf,
    /// Overrides the recipe's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Per-step metrics file: .csv, .json or .jsonl.
    #[arg(long)]
    metrics: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Print the recipe as JSON and exit without training.
    #[arg(long)]
    print_recipe: bool,
}

pub fn run(args: Args) -> Result<()> {
    let tokenizer = CharTokenizer::new();
    let mut recipe = match &args.recipe_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str::<BaseRecipe>(&text)
                .with_context(|| format!("{} is not a recipe", path.display()))?
        }
        None => match BaseRecipe::named(&args.recipe, tokenizer.vocab_size()) {
            Some(recipe) => recipe,
            None => bail!("unknown recipe {:?}; choose one of {}", args.recipe, BaseRecipe::NAMES.join(", ")),
        },
    };
    if let Some(seed) = args.seed {
        recipe.sft.seed = seed;
    }
    if args.print_recipe {
        println!("{}", serde_json::to_string_pretty(&recipe)?);
        return Ok(());
    }
    let mut metrics = args.metrics.as_deref().map(MetricsWriter::create).transpose()?;
    let device = args.backend.device()?;
    let mut run = SftRun::new(&recipe.model, recipe.sft.clone(), &device)?;

    let total = recipe.sft.total_steps();
    println!(
        "pretraining {} ({} parameters) for {total} steps on {:?}, seed {}",
        recipe.name,
        recipe.model.num_params(),
        args.backend,
        recipe.sft.seed
    );
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}")
            .expect("a valid template"),
    );
    let start = Instant::now();
    let mut recent = Vec::new();
    while let Some(step) = pollster::block_on(run.next_step()) {
        let step = step?;
        recent.push(step.loss);
        if recent.len() > 20 {
            recent.remove(0);
        }
        bar.set_message(format!("stage {} loss {:.4} aux {:.3}", step.stage + 1, step.loss, step.aux_loss));
        bar.inc(1);
        if let Some(writer) = metrics.as_mut() {
            writer.write(&step)?;
        }
    }
    bar.finish();
    if let Some(writer) = metrics {
        writer.finish()?;
    }

    let model = run.trainer().inference_model();
    let checkpoint = Checkpoint::from_model(&model, &recipe.model, &tokenizer)?;
    checkpoint.save_dir(&args.out)?;
    let recipe_path = args.out.join("recipe.json");
    std::fs::write(&recipe_path, serde_json::to_string_pretty(&recipe)? + "\n")
        .with_context(|| format!("writing {}", recipe_path.display()))?;
    let mean_loss = recent.iter().sum::<f32>() / recent.len().max(1) as f32;
    println!(
        "done in {:.1} s: loss {mean_loss:.4} (mean of the last {} steps); checkpoint in {}",
        start.elapsed().as_secs_f64(),
        recent.len(),
        args.out.display()
    );
    Ok(())
}
