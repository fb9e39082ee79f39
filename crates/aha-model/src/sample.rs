//! Batched sampling on the device: many sequences (B prompts × G completions) decode together with
//! a KV cache, each step picking the next token of every row on the device, and a per-row
//! "finished" mask turning rows that emitted the stop token into padding. Tokens and log-probs are
//! read back with one transaction, at the end or at an early-stop check that finds every row done:
//! on WebGPU each readback costs milliseconds and must be asynchronous.
//!
//! Each decode step is one call of [`aha_kernels::sample_step`]: our WGSL kernel on wgpu, its
//! plain-tensor reference elsewhere. Every read goes through [`aha_kernels::readback::read`].

use aha_kernels::readback::{self, ReadbackError};
use aha_kernels::{DecodeStep, sample_step};
use burn::tensor::{Int, Tensor, Transaction};
use serde::{Deserialize, Serialize};

use crate::model::Model;

/// The lowest sampling temperature above greedy. Logits are divided by it: at 1e-45 the quotient
/// overflows f32 and every probability is NaN; below 0.01 sampling is greedy in all but name.
pub const MIN_TEMPERATURE: f32 = 0.01;
/// The highest: beyond it sampling is uniform to within f32 anyway.
pub const MAX_TEMPERATURE: f32 = 100.0;

/// How every next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplingConfig {
    /// Softmax temperature; 0 means greedy (always the most likely token).
    pub temperature: f32,
    /// Keep only the k most likely tokens before sampling; 0 keeps all.
    pub top_k: usize,
    /// Tokens to generate after the prompt, at most.
    pub max_new_tokens: usize,
    /// A row is finished once it emits this token (it is kept as the row's last token).
    pub stop_token: u32,
    /// What finished rows emit afterwards.
    pub pad_token: u32,
    /// Read the finished mask back every this many steps and stop early when every row is done;
    /// 0 never reads (exactly one readback per generation, the browser default). A check reads
    /// the tokens so far with the mask, so a check that finds every row done is the final read.
    pub stop_check_every: usize,
    /// The first check comes after this many tokens (0: after `stop_check_every`), the later ones
    /// every `stop_check_every` after it. A caller that knows how long answers run checks where
    /// they should have ended, so that one check is usually the generation's only read.
    #[serde(default)]
    pub first_stop_check: usize,
    /// Seeds the uniform numbers that drive sampling: row r at step s draws
    /// `aha_kernels::sample::uniform(seed, s, r)`, a counter-based hash computed the same on the
    /// device and the host, so a seed gives the same draws on every backend and platform, whatever
    /// else uses the device's random generator meanwhile.
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    #[error("invalid sampling config: {0}")]
    Invalid(String),
    #[error("reading generated tokens back failed: {0}")]
    Readback(String),
}

impl SamplingConfig {
    pub fn validate(&self, prompt_len: usize, model: &Model) -> Result<(), SampleError> {
        let invalid = |msg: String| Err(SampleError::Invalid(msg));
        let greedy = self.temperature == 0.0;
        if !(greedy || (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(&self.temperature)) {
            return invalid(format!(
                "temperature must be 0 (greedy) or in [{MIN_TEMPERATURE}, {MAX_TEMPERATURE}], got {}",
                self.temperature
            ));
        }
        if self.max_new_tokens == 0 {
            return invalid("max_new_tokens must be at least 1".into());
        }
        if prompt_len == 0 {
            return invalid("the prompt is empty".into());
        }
        // Checked: on wasm32 a usize from a shared link can wrap the sum to a tiny cache.
        if prompt_len.checked_add(self.max_new_tokens).is_none_or(|len| len > model.max_seq_len()) {
            return invalid(format!(
                "prompt ({prompt_len}) + max_new_tokens ({}) exceeds the model's max_seq_len ({})",
                self.max_new_tokens,
                model.max_seq_len()
            ));
        }
        let vocab = model.vocab_size();
        for (name, id) in [("stop_token", self.stop_token), ("pad_token", self.pad_token)] {
            if id as usize >= vocab {
                return invalid(format!("{name} {id} is outside the vocabulary of {vocab}"));
            }
        }
        Ok(())
    }
}

/// The generated part of every row, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Per row, the tokens after the prompt up to and including the stop token (or up to
    /// `max_new_tokens` if it never stopped).
    pub tokens: Vec<Vec<u32>>,
    /// The log-probability of each of those tokens under the distribution it was sampled from.
    pub logprobs: Vec<Vec<f32>>,
    /// Whether each row emitted the stop token.
    pub finished: Vec<bool>,
    /// How many times this generation read data back from the device.
    pub readbacks: usize,
}

impl From<ReadbackError> for SampleError {
    fn from(e: ReadbackError) -> Self {
        SampleError::Readback(e.0)
    }
}

impl SamplingConfig {
    /// Whether to check for an early stop once `generated` tokens exist (never after the last).
    fn checks_after(&self, generated: usize) -> bool {
        let every = self.stop_check_every;
        let first = if self.first_stop_check > 0 { self.first_stop_check } else { every };
        every > 0
            && generated < self.max_new_tokens
            && generated >= first
            && (generated - first).is_multiple_of(every)
    }

    /// Step `step` of a generation with this config.
    fn decode_step(&self, step: usize) -> DecodeStep {
        DecodeStep {
            temperature: self.temperature,
            top_k: self.top_k,
            seed: self.seed,
            step,
            max_steps: self.max_new_tokens,
            stop_token: self.stop_token,
            pad_token: self.pad_token,
        }
    }
}

/// Generates one continuation of `prompt: [1, len]`, reading every token back as soon as it is
/// sampled and handing it to `on_token(token, logprob)`: for a person watching the model think,
/// where seeing each token now matters more than a single readback. Stops after the stop token.
pub async fn generate_streaming(
    model: &Model,
    prompt: Tensor<2, Int>,
    config: &SamplingConfig,
    mut on_token: impl FnMut(u32, f32),
) -> Result<Generation, SampleError> {
    let [rows, prompt_len] = prompt.dims();
    if rows != 1 {
        return Err(SampleError::Invalid(format!("streaming takes one prompt, got {rows}")));
    }
    config.validate(prompt_len, model)?;
    let device = prompt.device();
    let mut cache = model.new_cache(1, prompt_len + config.max_new_tokens, &device);
    let logits = model.forward_cached(prompt, &mut cache);
    let vocab = logits.dims()[2];
    let mut next_logits: Tensor<2> =
        logits.slice([0..1, prompt_len - 1..prompt_len, 0..vocab]).reshape([1, vocab]);
    let mut finished = Tensor::<2, Int>::zeros([1, 1], &device);
    let mut generation = Generation {
        tokens: vec![Vec::new()],
        logprobs: vec![Vec::new()],
        finished: vec![false],
        readbacks: 0,
    };
    for _ in 0..config.max_new_tokens {
        let step = generation.tokens[0].len();
        let sampled = sample_step(next_logits.clone(), finished, &config.decode_step(step), model.kernels());
        finished = sampled.finished;
        let token = sampled.tokens;
        let mut data =
            readback::read(Transaction::default().register(token.clone()).register(sampled.logprobs))
                .await?
                .into_iter();
        generation.readbacks += 1;
        let mut next = || data.next().ok_or_else(|| SampleError::Readback("missing tensor".into()));
        let id = readback::values::<i64>(next()?)?[0] as u32;
        let lp = readback::values::<f32>(next()?)?[0];
        on_token(id, lp);
        generation.tokens[0].push(id);
        generation.logprobs[0].push(lp);
        if id == config.stop_token {
            generation.finished[0] = true;
            break;
        }
        if generation.tokens[0].len() < config.max_new_tokens {
            next_logits = model.forward_cached(token, &mut cache).reshape([1, vocab]);
        }
    }
    Ok(generation)
}

/// Generates continuations of `prompts: [rows, prompt_len]` (all rows the same length) and reads
/// them back once at the end. The same `config.seed` gives the same draws on every backend.
pub async fn generate(
    model: &Model,
    prompts: Tensor<2, Int>,
    config: &SamplingConfig,
) -> Result<Generation, SampleError> {
    let [rows, prompt_len] = prompts.dims();
    config.validate(prompt_len, model)?;
    let device = prompts.device();
    let mut cache = model.new_cache(rows, prompt_len + config.max_new_tokens, &device);
    let mut readbacks = 0;

    // --- prefill: the whole prompt at once; only the last position's logits matter
    let logits = model.forward_cached(prompts, &mut cache);
    let vocab = logits.dims()[2];
    let mut next_logits: Tensor<2> =
        logits.slice([0..rows, prompt_len - 1..prompt_len, 0..vocab]).reshape([rows, vocab]);

    // --- decode: one token per row per step, everything on the device
    let mut finished = Tensor::<2, Int>::zeros([rows, 1], &device);
    let mut token_columns = Vec::with_capacity(config.max_new_tokens);
    let mut logprob_columns = Vec::with_capacity(config.max_new_tokens);
    for step in 0..config.max_new_tokens {
        // Rows that already stopped emit padding with log-prob 0.
        let sampled = sample_step(next_logits.clone(), finished, &config.decode_step(step), model.kernels());
        let tokens = sampled.tokens;
        finished = sampled.finished;
        token_columns.push(tokens.clone());
        logprob_columns.push(sampled.logprobs);

        let generated = step + 1;
        if config.checks_after(generated) {
            readbacks += 1;
            // Whether every row has finished: the mask's minimum (an integer mask reads alike on
            // every backend; wgpu stores booleans as u32).
            let (done, tokens, logprobs) =
                read_columns(&token_columns, &logprob_columns, Some(finished.clone().min())).await?;
            if done {
                return Ok(Generation::from_columns(&tokens, &logprobs, rows, config.stop_token, readbacks));
            }
        }
        if generated < config.max_new_tokens {
            next_logits = model.forward_cached(tokens, &mut cache).reshape([rows, vocab]);
        }
    }

    // --- the final read: tokens and log-probs together (a row finished if it has the stop token)
    readbacks += 1;
    let (_, tokens, logprobs) = read_columns(&token_columns, &logprob_columns, None).await?;
    Ok(Generation::from_columns(&tokens, &logprobs, rows, config.stop_token, readbacks))
}

/// Reads the decode steps' token and log-prob columns (and `done`, a one-element mask minimum,
/// when given) in one transaction. Returns whether `done` was non-zero, then the `[rows, steps]`
/// tokens and log-probs in row-major order.
async fn read_columns(
    token_columns: &[Tensor<2, Int>],
    logprob_columns: &[Tensor<2>],
    done: Option<Tensor<1, Int>>,
) -> Result<(bool, Vec<i64>, Vec<f32>), SampleError> {
    let checks_done = done.is_some();
    let mut transaction = Transaction::default()
        .register(Tensor::cat(token_columns.to_vec(), 1))
        .register(Tensor::cat(logprob_columns.to_vec(), 1));
    if let Some(done) = done {
        transaction = transaction.register(done);
    }
    let mut data = readback::read(transaction).await?.into_iter();
    let mut next = || data.next().ok_or_else(|| SampleError::Readback("missing tensor".into()));
    let tokens = readback::values::<i64>(next()?)?;
    let logprobs = readback::values::<f32>(next()?)?;
    let done = checks_done && readback::values::<i64>(next()?)?.first().is_some_and(|&d| d != 0);
    Ok((done, tokens, logprobs))
}

impl Generation {
    /// Splits read-back `[rows, steps]` tokens and log-probs into rows, each cut after its stop
    /// token.
    fn from_columns(
        tokens: &[i64],
        logprobs: &[f32],
        rows: usize,
        stop_token: u32,
        readbacks: usize,
    ) -> Self {
        let steps = tokens.len() / rows;
        let mut generation = Generation {
            tokens: Vec::with_capacity(rows),
            logprobs: Vec::with_capacity(rows),
            finished: Vec::with_capacity(rows),
            readbacks,
        };
        for row in 0..rows {
            let row_tokens = &tokens[row * steps..(row + 1) * steps];
            let stop = row_tokens.iter().position(|&t| t == stop_token as i64);
            let len = stop.map_or(steps, |stop| stop + 1);
            generation.tokens.push(row_tokens[..len].iter().map(|&t| t as u32).collect());
            generation.logprobs.push(logprobs[row * steps..row * steps + len].to_vec());
            generation.finished.push(stop.is_some());
        }
        generation
    }
}
