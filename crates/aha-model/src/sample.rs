//! Batched sampling on the device: many sequences (B prompts × G completions) decode together with
//! a KV cache, each step picking the next token of every row on the device, and a per-row
//! "finished" mask turning rows that emitted the stop token into padding. Tokens and log-probs are
//! read back once, at the end, with one transaction: on WebGPU each readback costs milliseconds
//! and must be asynchronous.
//!
//! The step function here is the plain-tensor reference; a WGSL kernel replaces it on wgpu later
//! and is tested against it.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor, Transaction};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::model::Model;

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
    /// 0 never reads (exactly one readback per generation, the browser default).
    pub stop_check_every: usize,
    /// Seeds the uniform numbers that drive sampling. They are drawn on the host (ChaCha8) and
    /// uploaded once, so a seed gives the same draws on every backend and platform, whatever else
    /// uses the device's random generator meanwhile.
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
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return invalid(format!("temperature must be ≥ 0, got {}", self.temperature));
        }
        if self.max_new_tokens == 0 {
            return invalid("max_new_tokens must be at least 1".into());
        }
        if prompt_len == 0 {
            return invalid("the prompt is empty".into());
        }
        if prompt_len + self.max_new_tokens > model.max_seq_len() {
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

/// `[rows, max_new_tokens]` uniform numbers in [0, 1) from `config.seed`, or `None` when greedy.
fn uniform_draws(config: &SamplingConfig, rows: usize, device: &Device) -> Option<Tensor<2>> {
    (config.temperature > 0.0).then(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let draws: Vec<f32> = (0..rows * config.max_new_tokens).map(|_| rng.random::<f32>()).collect();
        Tensor::<1>::from_floats(draws.as_slice(), device).reshape([rows, config.max_new_tokens])
    })
}

/// One decode step for every row: `logits: [rows, vocab]` → `(tokens [rows, 1], logprobs [rows, 1])`.
/// `uniform: [rows, 1]` in [0, 1) drives categorical sampling by inverse CDF; it is ignored when
/// greedy.
pub fn sample_step(
    logits: Tensor<2>,
    temperature: f32,
    top_k: usize,
    uniform: Option<Tensor<2>>,
) -> (Tensor<2, Int>, Tensor<2>) {
    let [rows, vocab] = logits.dims();
    let greedy = temperature == 0.0;
    let mut scaled = if greedy { logits } else { logits.div_scalar(temperature) };
    if top_k > 0 && top_k < vocab && !greedy {
        scaled = keep_top_k(scaled, top_k);
    }
    let logp = log_softmax(scaled, 1);
    let tokens = match uniform {
        Some(u) if !greedy => {
            // Inverse CDF: the first token whose cumulative probability exceeds u · total. Scaling
            // by the row's own total (≈ 1) keeps rounding from ever landing past the last token
            // with probability > 0, and `≤` skips tokens of probability 0 even when u = 0.
            let cdf = logp.clone().exp().cumsum(1);
            let total = cdf.clone().slice([0..rows, vocab - 1..vocab]);
            let target = (u * total).expand([rows, vocab]);
            let below: Tensor<2, Int> = cdf.lower_equal(target).int().sum_dim(1);
            below.clamp(0, vocab as i64 - 1)
        }
        _ => logp.clone().argmax(1),
    };
    let chosen = logp.gather(1, tokens.clone());
    (tokens, chosen)
}

/// Sets every logit below the row's k-th largest to -inf. The k-th largest is found by k rounds
/// of argmax that each remove one entry (Burn's `topk` reads synchronously on wasm), so repeated
/// values count once per entry; entries tied with the k-th value are kept.
pub fn keep_top_k(logits: Tensor<2>, k: usize) -> Tensor<2> {
    let [rows, vocab] = logits.dims();
    let device = logits.device();
    let ids = Tensor::<1, Int>::arange(0..vocab as i64, &device).reshape([1, vocab]).expand([rows, vocab]);
    let mut remaining = logits.clone();
    let mut threshold = remaining.clone().max_dim(1);
    for _ in 0..k {
        let best = remaining.clone().argmax(1); // [rows, 1]
        threshold = remaining.clone().gather(1, best.clone());
        remaining = remaining.mask_fill(ids.clone().equal(best.expand([rows, vocab])), f32::NEG_INFINITY);
    }
    let below = logits.clone().lower(threshold.expand([rows, vocab]));
    logits.mask_fill(below, f32::NEG_INFINITY)
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
    let uniforms = uniform_draws(config, 1, &device);
    let mut generation = Generation {
        tokens: vec![Vec::new()],
        logprobs: vec![Vec::new()],
        finished: vec![false],
        readbacks: 0,
    };
    for _ in 0..config.max_new_tokens {
        let step = generation.tokens[0].len();
        let uniform = uniforms.as_ref().map(|u| u.clone().slice([0..1, step..step + 1]));
        let (token, logprob) = sample_step(next_logits.clone(), config.temperature, config.top_k, uniform);
        let data = Transaction::default()
            .register(token.clone())
            .register(logprob)
            .execute_async()
            .await
            .map_err(|e| SampleError::Readback(format!("{e:?}")))?;
        generation.readbacks += 1;
        let readback = |e: burn::tensor::DataError| SampleError::Readback(format!("{e:?}"));
        let id = data[0].clone().try_into_vec_as::<i64>().map_err(readback)?[0] as u32;
        let lp = data[1].clone().try_into_vec_as::<f32>().map_err(readback)?[0];
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
    let uniforms = uniform_draws(config, rows, &device);
    let mut finished: Tensor<2, Bool> = Tensor::<2>::zeros([rows, 1], &device).equal_elem(1.0);
    let mut token_columns = Vec::with_capacity(config.max_new_tokens);
    let mut logprob_columns = Vec::with_capacity(config.max_new_tokens);
    for step in 0..config.max_new_tokens {
        let uniform = uniforms.as_ref().map(|u| u.clone().slice([0..rows, step..step + 1]));
        let (tokens, logprobs) = sample_step(next_logits.clone(), config.temperature, config.top_k, uniform);
        // Rows that already stopped emit padding with log-prob 0.
        let tokens = tokens.mask_fill(finished.clone(), config.pad_token as i64);
        let logprobs = logprobs.mask_fill(finished.clone(), 0.0);
        finished = finished.bool_or(tokens.clone().equal_elem(config.stop_token as i64));
        token_columns.push(tokens.clone());
        logprob_columns.push(logprobs);

        let last = step + 1 == config.max_new_tokens;
        if !last && config.stop_check_every > 0 && (step + 1) % config.stop_check_every == 0 {
            readbacks += 1;
            // As an integer: backends store booleans differently (wgpu as u32), integers read alike.
            let done = finished.clone().all().int().into_data_async().await;
            let done = done.map_err(|e| SampleError::Readback(format!("{e:?}")))?;
            let done = done.try_into_vec_as::<i64>().map_err(|e| SampleError::Readback(format!("{e:?}")))?;
            if done.first().is_some_and(|&d| d != 0) {
                break;
            }
        }
        if !last {
            next_logits = model.forward_cached(tokens, &mut cache).reshape([rows, vocab]);
        }
    }

    // --- the one readback: tokens, log-probs and the finished mask together
    readbacks += 1;
    let data = Transaction::default()
        .register(Tensor::cat(token_columns, 1))
        .register(Tensor::cat(logprob_columns, 1))
        .register(finished.int())
        .execute_async()
        .await
        .map_err(|e| SampleError::Readback(format!("{e:?}")))?;
    let mut data = data.into_iter();
    let mut next = || data.next().ok_or_else(|| SampleError::Readback("missing tensor".into()));
    let readback = |e: burn::tensor::DataError| SampleError::Readback(format!("{e:?}"));
    let tokens = next()?.try_into_vec_as::<i64>().map_err(readback)?;
    let logprobs = next()?.try_into_vec_as::<f32>().map_err(readback)?;
    let finished = next()?.try_into_vec_as::<i64>().map_err(readback)?;
    let steps = tokens.len() / rows;

    let mut generation = Generation {
        tokens: Vec::with_capacity(rows),
        logprobs: Vec::with_capacity(rows),
        finished: finished.iter().map(|&f| f != 0).collect(),
        readbacks,
    };
    for row in 0..rows {
        let row_tokens = &tokens[row * steps..(row + 1) * steps];
        let len =
            row_tokens.iter().position(|&t| t == config.stop_token as i64).map_or(steps, |stop| stop + 1);
        generation.tokens.push(row_tokens[..len].iter().map(|&t| t as u32).collect());
        generation.logprobs.push(logprobs[row * steps..row * steps + len].to_vec());
    }
    Ok(generation)
}
