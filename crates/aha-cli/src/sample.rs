//! `aha sample`: completions of typed problems from a checkpoint, with their parse and reward.

use std::path::PathBuf;

use aha_model::{SamplingConfig, generate};
use aha_tasks::{Problem, RewardConfig, parse_completion, reward};
use aha_train::Checkpoint;
use anyhow::{Context, Result, bail};
use burn::tensor::{Int, Tensor};
use serde::Serialize;

use crate::Backend;

#[derive(clap::Args)]
pub struct Args {
    /// Checkpoint directory (model.bpk, config.json, tokenizer.json).
    #[arg(long)]
    checkpoint: PathBuf,
    /// A problem to answer, like 347*5 (repeat the flag for several).
    #[arg(long = "prompt", required = true)]
    prompts: Vec<String>,
    /// Completions per problem.
    #[arg(short = 'n', long, default_value_t = 1)]
    n: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Sample among the k most likely tokens only (0: all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Longest completion (default: as long as the model allows).
    #[arg(long)]
    max_new_tokens: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// One JSON object per completion instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Sampled<'a> {
    prompt: &'a str,
    completion: String,
    answer: Option<String>,
    checked: bool,
    correct: bool,
    reward: f32,
    logprob: f32,
}

pub fn run(args: Args) -> Result<()> {
    if args.n == 0 || args.n > 4096 {
        bail!("-n must be between 1 and 4096, got {}", args.n);
    }
    let checkpoint = Checkpoint::load_dir(&args.checkpoint)?;
    let problems = args
        .prompts
        .iter()
        .map(|text| Problem::parse(text).with_context(|| format!("prompt {text:?}")))
        .collect::<Result<Vec<_>>>()?;
    let device = args.backend.device()?;
    let model = checkpoint.load_model(&device)?;
    let tokenizer = &checkpoint.tokenizer;
    let stop = tokenizer.token_id(".").context("the tokenizer has no '.'")?;

    for problem in &problems {
        let prompt = problem.prompt();
        let ids: Vec<i64> = tokenizer.encode(&prompt)?.into_iter().map(i64::from).collect();
        let max_new = args.max_new_tokens.unwrap_or(model.max_seq_len().saturating_sub(ids.len()));
        let config = SamplingConfig {
            temperature: args.temperature,
            top_k: args.top_k,
            max_new_tokens: max_new,
            stop_token: stop,
            pad_token: tokenizer.special_ids().pad,
            stop_check_every: 4,
            first_stop_check: 0,
            seed: args.seed,
        };
        let rows: Vec<i64> = ids.iter().cycle().take(ids.len() * args.n).copied().collect();
        let prompts = Tensor::<1, Int>::from_ints(rows.as_slice(), &device).reshape([args.n, ids.len()]);
        let generation = pollster::block_on(generate(&model, prompts, &config))?;
        for (tokens, logprobs) in generation.tokens.iter().zip(&generation.logprobs) {
            let completion = tokenizer.decode(tokens, true)?;
            let parsed = parse_completion(&completion);
            let sampled = Sampled {
                prompt: &prompt,
                checked: parsed.check.is_some(),
                correct: aha_tasks::is_correct(problem, &parsed),
                reward: reward(problem, &completion, RewardConfig::default()),
                answer: parsed.answer,
                logprob: logprobs.iter().sum(),
                completion,
            };
            if args.json {
                println!("{}", serde_json::to_string(&sampled)?);
            } else {
                let mark = if sampled.correct { "right" } else { "wrong" };
                println!(
                    "{}{}   [{mark}, answer {}]",
                    sampled.prompt,
                    sampled.completion,
                    problem.answer_text()
                );
            }
        }
    }
    Ok(())
}
