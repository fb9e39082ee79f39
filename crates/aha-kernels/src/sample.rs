//! One decode step for every row — `shaders/sample.wgsl` on wgpu, [`sample_step_reference`]
//! elsewhere: temperature, optional top-k, a categorical draw by inverse CDF, the token's
//! log-probability, and the per-row finished mask.
//!
//! The random numbers are counter-based: row `r` at step `s` of a generation seeded `seed` draws
//! [`uniform`]`(seed, s, r)`, a hash, not a stream. The kernel computes it on the device and the
//! reference on the host, bit for bit the same, so a seed gives the same draws on every backend
//! and platform, and nothing else that uses a random generator can shift them.

use burn::tensor::activation::log_softmax;
use burn::tensor::{DType, Device, Int, Shape, Tensor};

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// Largest vocabulary the kernel holds in workgroup memory (twice, as f32: 16 KiB).
pub const MAX_VOCAB: usize = 2048;
const WORKGROUP: u32 = 64;

/// Everything about one decode step except the logits and the finished mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeStep {
    /// Softmax temperature; 0 means greedy (the first largest logit).
    pub temperature: f32,
    /// Keep only the k most likely tokens (ties with the k-th stay); 0 keeps all.
    pub top_k: usize,
    pub seed: u64,
    /// This step's index in the generation, from 0.
    pub step: usize,
    /// Steps in the whole generation: every row is finished after step `max_steps - 1`.
    pub max_steps: usize,
    /// A row that emits this token is finished.
    pub stop_token: u32,
    /// What finished rows emit.
    pub pad_token: u32,
}

/// What one decode step produced, all `[rows, 1]` on the device.
#[derive(Debug, Clone)]
pub struct SampledStep {
    /// The chosen tokens; `pad_token` for rows that had already finished.
    pub tokens: Tensor<2, Int>,
    /// Their log-probabilities under the (scaled, top-k'd) distribution; 0 for finished rows.
    pub logprobs: Tensor<2>,
    /// 1 for rows that have finished (emitted the stop token, or this was the last step).
    pub finished: Tensor<2, Int>,
}

/// PCG-RXS-M-XS used as a hash (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020);
/// `shaders/sample.wgsl` has the same function.
fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// The uniform number in [0, 1) that row `row` draws at step `step` of a generation seeded
/// `seed`: 24 random bits, so it is exactly representable and identical on host and device.
pub fn uniform(seed: u64, step: usize, row: usize) -> f32 {
    let mut h = pcg(seed as u32);
    h = pcg(h ^ (seed >> 32) as u32);
    h = pcg(h ^ step as u32);
    h = pcg(h ^ row as u32);
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// `[rows, 1]`: the [`uniform`] draws of every row at `step`.
pub fn uniforms(seed: u64, step: usize, rows: usize, device: &Device) -> Tensor<2> {
    let draws: Vec<f32> = (0..rows).map(|row| uniform(seed, step, row)).collect();
    Tensor::<1>::from_floats(draws.as_slice(), device).reshape([rows, 1])
}

/// One decode step for every row of `logits: [rows, vocab]`, given `finished: [rows, 1]`
/// (1 for rows that already ended).
pub fn sample_step(
    logits: Tensor<2>,
    finished: Tensor<2, Int>,
    step: &DecodeStep,
    choice: KernelChoice,
) -> SampledStep {
    let [rows, vocab] = logits.dims();
    let kernel_fits = vocab <= MAX_VOCAB && rows > 0 && rows <= wgsl::MAX_WORKGROUPS_PER_DIMENSION;
    if choice == KernelChoice::Auto
        && kernel_fits
        && let Some(sampled) = sample_step_kernel(&logits, &finished, step)
    {
        return sampled;
    }
    let uniform = uniforms(step.seed, step.step, rows, &logits.device());
    sample_step_reference(logits, finished, step, uniform)
}

/// The plain-tensor reference, with the draws given: `uniform: [rows, 1]` in [0, 1) (ignored when
/// greedy). [`sample_step`] passes [`uniforms`]; tests pass their own.
pub fn sample_step_reference(
    logits: Tensor<2>,
    finished: Tensor<2, Int>,
    step: &DecodeStep,
    uniform: Tensor<2>,
) -> SampledStep {
    let [rows, vocab] = logits.dims();
    let greedy = step.temperature == 0.0;
    let mut scaled = if greedy { logits } else { logits.div_scalar(step.temperature) };
    if step.top_k > 0 && step.top_k < vocab && !greedy {
        scaled = keep_top_k(scaled, step.top_k);
    }
    let logp = log_softmax(scaled, 1);
    let tokens = if greedy {
        logp.clone().argmax(1)
    } else {
        // Inverse CDF: the number of tokens whose cumulative probability is ≤ u · total. Scaling by
        // the row's own total (≈ 1) keeps rounding from landing past the last token with
        // probability > 0, and `≤` skips tokens of probability 0 even when u = 0.
        let cdf = logp.clone().exp().cumsum(1);
        let total = cdf.clone().slice([0..rows, vocab - 1..vocab]);
        let target = (uniform * total).expand([rows, vocab]);
        let below: Tensor<2, Int> = cdf.lower_equal(target).int().sum_dim(1);
        below.clamp(0, vocab as i64 - 1)
    };
    let logprobs = logp.gather(1, tokens.clone());

    let done = finished.equal_elem(1);
    let tokens = tokens.mask_fill(done.clone(), step.pad_token as i64);
    let logprobs = logprobs.mask_fill(done.clone(), 0.0);
    let finished = done.bool_or(tokens.clone().equal_elem(step.stop_token as i64)).int();
    let finished = if step.step + 1 >= step.max_steps { finished.ones_like() } else { finished };
    SampledStep { tokens, logprobs, finished }
}

/// Sets every logit below the row's k-th largest to -inf (ties with the k-th value stay). The
/// k-th largest is found by k rounds of argmax that each remove one entry — Burn's `topk` reads
/// synchronously on wasm — so repeated values count once per entry.
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

/// Launches `sample.wgsl`; `None` when `logits` is not a wgpu f32 tensor. [`sample_step`] is the
/// entry point; tests call this to be sure the kernel ran.
pub fn sample_step_kernel(
    logits: &Tensor<2>,
    finished: &Tensor<2, Int>,
    step: &DecodeStep,
) -> Option<SampledStep> {
    let [rows, vocab] = logits.dims();
    let input = wgsl::cube_f32(logits)?;
    let finished_in = wgsl::cube_int(finished)?;
    let column = Shape::new([rows, 1]);
    let tokens = wgsl::empty_like(&input, column.clone(), DType::I32);
    let logprobs = wgsl::empty_like(&input, column.clone(), DType::F32);
    let finished_out = wgsl::empty_like(&input, column, DType::I32);
    let params = [
        rows as u32,
        step.step as u32,
        step.max_steps as u32,
        step.seed as u32,
        (step.seed >> 32) as u32,
        step.temperature.to_bits(),
        step.top_k as u32,
        step.stop_token,
        step.pad_token,
    ];
    let params = input.client.create_from_slice(bytemuck::cast_slice(&params));
    let kernel = FilledShader {
        shader: wgsl::SAMPLE,
        values: vec![("workgroup_size", WORKGROUP.to_string()), ("vocab", vocab.to_string())],
    };
    let buffers =
        [&input.handle, &finished_in.handle, &tokens.handle, &logprobs.handle, &finished_out.handle, &params];
    kernel.launch(&input, WORKGROUP, (rows as u32, 1), &buffers);
    let int_dtype = finished.dtype();
    Some(SampledStep {
        tokens: wgsl::int_tensor(tokens).cast(int_dtype),
        logprobs: wgsl::float_tensor(logprobs),
        finished: wgsl::int_tensor(finished_out).cast(int_dtype),
    })
}
