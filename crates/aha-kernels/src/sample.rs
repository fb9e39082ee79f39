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
    kernel_or_reference!(
        choice,
        kernel_fits.then(|| sample_step_kernel(&logits, &finished, step)).flatten(),
        {
            let uniform = uniforms(step.seed, step.step, rows, &logits.device());
            sample_step_reference(logits, finished, step, uniform)
        }
    )
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

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Int, Tensor, Transaction};

    use super::{DecodeStep, SampledStep, sample_step_kernel, sample_step_reference, uniform, uniforms};
    use crate::check::{f32s, i64s, noise, read};

    /// How the sampler kernel compared with its reference.
    #[derive(Debug, Clone, Default)]
    pub struct SamplerParity {
        pub draws: usize,
        /// Draws whose uniform number lay within 1e-5 of a bucket edge of the reference distribution,
        /// where rounding may fairly pick the neighbour; not compared.
        pub near_edge: usize,
    }

    fn sampled_data(s: SampledStep) -> Transaction {
        Transaction::default().register(s.tokens).register(s.logprobs).register(s.finished)
    }

    /// Distance of row `row`'s draw from the nearest edge of its inverse-CDF buckets, computed on
    /// the host in f64 from the logits.
    fn edge_margin(logits: &[f32], step: &DecodeStep, row: usize) -> f64 {
        let scaled: Vec<f64> = logits.iter().map(|&l| f64::from(l) / f64::from(step.temperature)).collect();
        let mut sorted = scaled.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let kept = if step.top_k > 0 && step.top_k < scaled.len() {
            sorted[step.top_k - 1]
        } else {
            f64::NEG_INFINITY
        };
        let top = sorted[0];
        let z: Vec<f64> = scaled.iter().map(|&s| if s >= kept { (s - top).exp() } else { 0.0 }).collect();
        let total: f64 = z.iter().sum();
        let u = f64::from(uniform(step.seed, step.step, row));
        let mut cdf = 0.0;
        z.iter()
            .map(|p| {
                cdf += p / total;
                (cdf - u).abs()
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// The sampler kernel against the reference given the same draws: the same tokens (except within
    /// rounding of a bucket edge), log-probabilities within 1e-5, the same finished mask.
    pub async fn sampler_matches_reference(device: &Device) -> Result<SamplerParity, String> {
        let base = DecodeStep {
            temperature: 1.0,
            top_k: 0,
            seed: 9,
            step: 3,
            max_steps: 64,
            stop_token: 2,
            pad_token: 0,
        };
        let cases = [
            (96, 40, DecodeStep { temperature: 0.0, ..base }),
            (96, 40, base),
            (96, 40, DecodeStep { temperature: 0.7, top_k: 5, seed: 1 << 40, ..base }),
            (33, 5, DecodeStep { temperature: 1.3, step: 63, ..base }),
            (17, 100, DecodeStep { temperature: 0.9, top_k: 1, ..base }),
            (64, 130, DecodeStep { temperature: 1.0, top_k: 64, step: 0, ..base }),
        ];
        let mut parity = SamplerParity::default();
        for (case, (rows, vocab, step)) in cases.into_iter().enumerate() {
            let values = noise(100 + case as u64, rows * vocab, 3.0);
            let done: Vec<i64> = (0..rows).map(|r| i64::from(r % 7 == 3)).collect();
            let logits = Tensor::<1>::from_floats(values.as_slice(), device).reshape([rows, vocab]);
            let finished = Tensor::<1, Int>::from_ints(done.as_slice(), device).reshape([rows, 1]);
            let kernel = sample_step_kernel(&logits, &finished, &step)
                .ok_or("the sampler kernel did not run on this device")?;
            let reference =
                sample_step_reference(logits, finished, &step, uniforms(step.seed, step.step, rows, device));
            let (got, want) = (read(sampled_data(kernel)).await?, read(sampled_data(reference)).await?);
            let (tokens, want_tokens) = (i64s(&got[0]), i64s(&want[0]));
            let (logprobs, want_logprobs) = (f32s(&got[1]), f32s(&want[1]));
            let (finished, want_finished) = (i64s(&got[2]), i64s(&want[2]));
            for row in 0..rows {
                let what = format!("case {case} ({rows}×{vocab}, {step:?}) row {row}");
                parity.draws += 1;
                if tokens[row] != want_tokens[row] {
                    let margin = edge_margin(&values[row * vocab..(row + 1) * vocab], &step, row);
                    if step.temperature > 0.0 && margin < 1e-5 {
                        parity.near_edge += 1;
                        continue;
                    }
                    return Err(format!("{what}: token {} ≠ reference {}", tokens[row], want_tokens[row]));
                }
                if (logprobs[row] - want_logprobs[row]).abs() > 1e-5 || finished[row] != want_finished[row] {
                    return Err(format!(
                        "{what}: log-prob {} vs {}, finished {} vs {}",
                        logprobs[row], want_logprobs[row], finished[row], want_finished[row]
                    ));
                }
            }
        }
        if parity.near_edge * 100 > parity.draws {
            return Err(format!(
                "{} of {} draws differed near a bucket edge: too many",
                parity.near_edge, parity.draws
            ));
        }
        Ok(parity)
    }

    /// Edge cases: greedy takes the first of tied logits; every row already finished gives padding,
    /// log-prob 0 and stays finished; the stop token and the last step finish a row.
    pub async fn sampler_edge_cases(device: &Device) -> Result<(), String> {
        let greedy = DecodeStep {
            temperature: 0.0,
            top_k: 0,
            seed: 0,
            step: 0,
            max_steps: 8,
            stop_token: 3,
            pad_token: 0,
        };
        let logits = Tensor::<2>::from_floats(
            [[1.0, 3.0, 3.0, 0.0], [0.0, 0.0, 0.0, 9.0], [2.0, 2.0, 2.0, 2.0]],
            device,
        );
        let open = Tensor::<2, Int>::zeros([3, 1], device);
        let run = |finished: Tensor<2, Int>, step: DecodeStep| {
            sample_step_kernel(&logits, &finished, &step)
                .ok_or("the sampler kernel did not run on this device")
        };
        let got = read(sampled_data(run(open.clone(), greedy)?)).await?;
        if i64s(&got[0]) != [1, 3, 0] || i64s(&got[2]) != [0, 1, 0] {
            return Err(format!(
                "greedy ties/stop: tokens {:?}, finished {:?}",
                i64s(&got[0]),
                i64s(&got[2])
            ));
        }
        let all_done = Tensor::<2, Int>::ones([3, 1], device);
        let sampled = DecodeStep { temperature: 1.0, pad_token: 2, ..greedy };
        let got = read(sampled_data(run(all_done, sampled)?)).await?;
        if i64s(&got[0]) != [2, 2, 2] || f32s(&got[1]) != [0.0; 3] || i64s(&got[2]) != [1, 1, 1] {
            return Err(format!("all finished: {:?} {:?} {:?}", i64s(&got[0]), f32s(&got[1]), i64s(&got[2])));
        }
        let last = DecodeStep { step: 7, ..sampled };
        let got = read(sampled_data(run(open, last)?)).await?;
        if i64s(&got[2]) != [1, 1, 1] {
            return Err(format!("the last step must finish every row: {:?}", i64s(&got[2])));
        }
        Ok(())
    }

    /// 10^5 kernel draws from one distribution: the histogram matches the softmax (chi-square, 4
    /// degrees of freedom, below the 0.999 quantile), and the same seed repeats the same tokens.
    pub async fn sampler_follows_the_softmax(device: &Device) -> Result<f64, String> {
        let (rows, steps) = (10_000, 10);
        let row = [2.0f32, 1.0, 0.0, -1.0, 0.5];
        let logits = Tensor::<2>::from_floats([row], device).expand([rows, 5]);
        let open = Tensor::<2, Int>::zeros([rows, 1], device);
        let mut counts = [0usize; 5];
        let mut first_tokens = Vec::new();
        for step in 0..steps {
            let s = DecodeStep {
                temperature: 0.8,
                top_k: 0,
                seed: 21,
                step,
                max_steps: 100,
                stop_token: 9,
                pad_token: 0,
            };
            let sampled = sample_step_kernel(&logits, &open, &s)
                .ok_or("the sampler kernel did not run on this device")?;
            let tokens = i64s(&read(Transaction::default().register(sampled.tokens)).await?[0]);
            tokens.iter().for_each(|&t| counts[t as usize] += 1);
            if step == 0 {
                first_tokens = tokens;
            }
        }
        let again = DecodeStep {
            temperature: 0.8,
            top_k: 0,
            seed: 21,
            step: 0,
            max_steps: 100,
            stop_token: 9,
            pad_token: 0,
        };
        let sampled = sample_step_kernel(&logits, &open, &again).ok_or("the sampler kernel did not run")?;
        if i64s(&read(Transaction::default().register(sampled.tokens)).await?[0]) != first_tokens {
            return Err("the same seed and step drew different tokens".into());
        }
        let z: Vec<f64> = row.iter().map(|&l| (f64::from(l) / 0.8).exp()).collect();
        let total: f64 = z.iter().sum();
        let n = (rows * steps) as f64;
        let chi2: f64 =
            counts.iter().zip(&z).map(|(&c, &p)| (c as f64 - p / total * n).powi(2) / (p / total * n)).sum();
        if chi2 >= 18.47 {
            return Err(format!("chi-square {chi2} ≥ 18.47: counts {counts:?}"));
        }
        Ok(chi2)
    }
}
