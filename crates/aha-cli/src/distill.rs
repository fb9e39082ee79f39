//! `aha distill`: distillation as DeepSeek-R1 does it — the teacher's right answers on training
//! problems (rejection sampling), then SFT of the student on them. Measure the result with
//! `aha eval` or continue it with `aha grpo`.

use std::path::PathBuf;
use std::time::Instant;

use aha_train::{Checkpoint, DistillConfig, DistillRun, RunConfig, teacher_answers, teacher_problems};
use anyhow::{Result, ensure};

use crate::Backend;
use crate::metrics::MetricsWriter;

#[derive(clap::Args)]
pub struct Args {
    /// The teacher's checkpoint directory (e.g. `aha grpo --out` of the base model).
    #[arg(long)]
    teacher: PathBuf,
    /// The student's base checkpoint directory (e.g. web/public/student-model).
    #[arg(long)]
    student: PathBuf,
    /// Training problems the teacher answers (drawn as GRPO draws them; never held-out ones).
    #[arg(long, default_value_t = 1024)]
    problems: usize,
    /// Teacher samples per problem, at the default preset's temperature.
    #[arg(long, default_value_t = 2)]
    samples: usize,
    /// Student SFT steps.
    #[arg(long, default_value_t = 300)]
    steps: usize,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Per-step SFT metrics file (.csv, .json or .jsonl).
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// A JSON summary of the run: answers sampled and kept, seconds sampling and training.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Where to write the distilled student.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
}

pub fn run(args: Args) -> Result<()> {
    ensure!(args.problems > 0, "--problems must be at least 1");
    let preset = RunConfig::named("default").expect("the default preset exists");
    let config = DistillConfig {
        samples_per_problem: args.samples,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.seed,
        ..DistillConfig::for_teacher(&preset.grpo, args.steps)
    };
    let device = args.backend.device()?;
    let teacher_checkpoint = Checkpoint::load_dir(&args.teacher)?;
    let student_checkpoint = Checkpoint::load_dir(&args.student)?;
    ensure!(
        teacher_checkpoint.tokenizer.vocab_size() == student_checkpoint.tokenizer.vocab_size(),
        "the teacher's and the student's vocabularies differ"
    );
    let teacher = teacher_checkpoint.load_model(&device)?;
    let problems = teacher_problems(preset.grpo.task, args.seed, args.problems)?;

    let started = Instant::now();
    let answers = pollster::block_on(teacher_answers(
        &teacher,
        &teacher_checkpoint.tokenizer,
        &problems,
        &config,
        &device,
    ))?;
    let sampling_s = started.elapsed().as_secs_f64();
    println!(
        "teacher: kept {} of {} answers ({:.1}%) in {sampling_s:.1} s",
        answers.traces.len(),
        answers.sampled(),
        100.0 * answers.acceptance()
    );
    let (sampled, kept) = (answers.sampled(), answers.traces.len());
    let student = student_checkpoint.load_model(&device)?;
    let mut run = DistillRun::new(student, answers, config, student_checkpoint.tokenizer.clone(), &device)?;
    let mut metrics = args.metrics.as_deref().map(MetricsWriter::create).transpose()?;
    let training = Instant::now();
    while let Some(step) = pollster::block_on(run.next_step()) {
        let step = step?;
        if let Some(out) = metrics.as_mut() {
            out.write(&step)?;
        }
    }
    if let Some(out) = metrics {
        out.finish()?;
    }
    let training_s = training.elapsed().as_secs_f64();
    println!("student: {} SFT steps in {training_s:.1} s", run.steps_done());
    if let Some(path) = &args.summary {
        let summary = serde_json::json!({
            "sampled": sampled,
            "kept": kept,
            "sampling_s": sampling_s,
            "steps": run.steps_done(),
            "training_s": training_s,
        });
        std::fs::write(path, serde_json::to_string_pretty(&summary)? + "\n")?;
    }
    let student = run.student();
    Checkpoint::from_model(&student, &student_checkpoint.config, &student_checkpoint.tokenizer)?
        .save_dir(&args.out)?;
    println!("distilled student written to {}", args.out.display());
    Ok(())
}
