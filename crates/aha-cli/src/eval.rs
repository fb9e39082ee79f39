//! `aha eval`: how a checkpoint behaves on the held-out set, and whether checking pays for it.

use std::path::PathBuf;

use aha_tasks::{Behaviour, BehaviourStats, Problem, behaviour, held_out_set};
use aha_train::complete::{complete, sampling};
use aha_train::{BaseRecipe, Checkpoint, Decision, Probe, RunConfig, TeacherForced};
use anyhow::Result;
use serde::Serialize;

use crate::Backend;

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoint directory (model.bpk, config.json, tokenizer.json).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Distinct problems of the held-out split (in the default preset's held-out order).
    #[arg(long, default_value_t = 512)]
    problems: usize,
    /// Samples per problem at temperature 1.
    #[arg(long, default_value_t = 4)]
    samples: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Also print this many forced-check completions (sampled), to see what the checks look like.
    #[arg(long, default_value_t = 0)]
    show: usize,
}

#[derive(Serialize)]
struct Report {
    sampled: BehaviourStats,
    greedy: BehaviourStats,
    forced_sampled: aha_train::CheckPays,
    forced_greedy: aha_train::CheckPays,
    /// The true check fed after a wrong guess: can the model follow it at all?
    teacher_forced: TeacherForced,
}

pub fn run(args: Args) -> Result<()> {
    anyhow::ensure!(args.problems > 0 && args.samples > 0, "--problems and --samples must be at least 1");
    let checkpoint = Checkpoint::load_dir(&args.checkpoint)?;
    let device = args.backend.device()?;
    let model = checkpoint.load_model(&device)?;
    let run = RunConfig::named("default").expect("the default preset exists");
    let problems = held_out_set(run.grpo.task, args.problems, run.eval.seed)?;
    // As long as the model's positions allow: a longer check format must not be cut short here.
    let prompt_len = problems.first().map_or(0, |p| p.prompt().len());
    let max_new = checkpoint.config.max_seq_len.saturating_sub(prompt_len).max(1);
    let probe = |temperature, seed| Probe {
        model: &model,
        tokenizer: &checkpoint.tokenizer,
        device: &device,
        temperature,
        seed,
        max_new_tokens: max_new,
    };
    let natural = |temperature: f32, repeats: usize| -> Result<BehaviourStats> {
        let mut all: Vec<Behaviour> = Vec::new();
        for r in 0..repeats {
            let p = probe(temperature, args.seed.wrapping_add(r as u64));
            let stats = pollster::block_on(natural_sample(&p, &problems))?;
            all.extend(stats);
        }
        Ok(BehaviourStats::from_behaviours(&all))
    };
    let format = check_format(&args.checkpoint);
    let report = Report {
        sampled: natural(1.0, args.samples)?,
        greedy: natural(0.0, 1)?,
        forced_sampled: pollster::block_on(probe(1.0, args.seed).check_pays(&problems))?,
        forced_greedy: pollster::block_on(probe(0.0, args.seed).check_pays(&problems))?,
        teacher_forced: pollster::block_on(probe(0.0, args.seed).teacher_forced_check(
            &problems,
            format.step_format,
            format.restate_guess,
        ))?,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    if args.show > 0 {
        let shown = &problems[..args.show.min(problems.len())];
        let completions =
            pollster::block_on(probe(1.0, args.seed).forced_completions(shown, Decision::Check))?;
        for (problem, completion) in shown.iter().zip(completions) {
            let mark = if behaviour(problem, &completion).correct { "right" } else { "wrong" };
            println!("{}{completion}   [{mark}, answer {}]", problem.prompt(), problem.answer_text());
        }
    }
    Ok(())
}

/// Unforced completions of `problems` with the probe's sampling settings.
async fn natural_sample(probe: &Probe<'_>, problems: &[Problem]) -> Result<Vec<Behaviour>> {
    let prompts: Vec<String> = problems.iter().map(Problem::prompt).collect();
    let sampling = sampling(probe.tokenizer, '.', probe.temperature, probe.max_new_tokens, probe.seed)?;
    let completed = complete(probe.model, probe.tokenizer, &prompts, &sampling, probe.device).await?;
    Ok(problems.iter().zip(&completed.texts).map(|(p, c)| behaviour(p, c)).collect())
}

/// The check format the checkpoint was trained on (its recipe.json's last stage says; a checkpoint
/// without one used the natural format, without a restated guess).
fn check_format(checkpoint: &std::path::Path) -> aha_tasks::CorpusMix {
    std::fs::read_to_string(checkpoint.join("recipe.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<BaseRecipe>(&text).ok())
        .and_then(|recipe| recipe.sft.stages.last().map(|stage| stage.mix))
        .unwrap_or(aha_tasks::CorpusMix::RECIPE_B_STAGE1)
}
