//! Our WGSL kernels against their plain-tensor references on one device — natively on wgpu
//! (`native_kernels.rs`, Mesa's lavapipe) and in headless Chromium on WebGPU
//! (`browser_kernels.rs`, SwiftShader) — and the one-readback rollout. Inputs come from a hash,
//! so every run checks the same cases; each check returns what it measured or why it failed.

use aha_kernels::KernelChoice;
use aha_kernels::attention::{masked_softmax, masked_softmax_kernel, masked_softmax_reference};
use aha_kernels::causal_attention::{causal_attention_kernel, causal_attention_reference};
use aha_kernels::experts::{expert_mix, expert_mix_kernel, expert_mix_reference};
use aha_kernels::gelu::{gelu_kernel, gelu_reference};
use aha_kernels::norm::{rms_norm_kernel, rms_norm_reference};
use aha_kernels::readback::{self, reads_so_far};
use aha_kernels::router::{RouterTopK, router_top_k, router_top_k_kernel, router_top_k_reference};
use aha_kernels::sample::{
    DecodeStep, SampledStep, sample_step_kernel, sample_step_reference, uniform, uniforms,
};
use aha_model::attention::causal_bias;
use aha_model::readback::ReadbackError;
use aha_model::{ModelConfig, MoeConfig};
use aha_tasks::ProblemGenerator;
use aha_train::RunConfig;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Gradients, Int, Tensor, TensorData, Transaction};

use crate::base_model::{PROMPTS, checkpoint, shipped_trainer};

/// Deterministic pseudo-random values in [-scale, scale).
pub(crate) fn noise(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| (uniform(seed, i / 1024, i % 1024) * 2.0 - 1.0) * scale).collect()
}

pub(crate) async fn read(tensors: Transaction) -> Result<Vec<TensorData>, String> {
    readback::read(tensors).await.map_err(|e: ReadbackError| e.to_string())
}

pub(crate) fn f32s(data: &TensorData) -> Vec<f32> {
    data.clone().try_into_vec_as::<f32>().expect("float data")
}

fn i64s(data: &TensorData) -> Vec<i64> {
    data.clone().try_into_vec_as::<i64>().expect("int data")
}

fn router_data(gate: RouterTopK) -> Transaction {
    Transaction::default().register(gate.probs).register(gate.indices).register(gate.weights)
}

/// A router case: `tokens` tokens over `experts` experts, top-`k`; `kind` shapes the logits.
#[derive(Debug, Clone, Copy)]
pub enum Logits {
    Random,
    /// Values on a coarse grid: many exact ties.
    Ties,
    /// About a third of the logits are -inf (never a whole row).
    SomeNegInf,
}

fn router_logits(tokens: usize, experts: usize, kind: Logits, seed: u64) -> Vec<f32> {
    let mut values = noise(seed, tokens * experts, 4.0);
    match kind {
        Logits::Random => {}
        Logits::Ties => values.iter_mut().for_each(|v| *v = (*v).round() / 2.0),
        Logits::SomeNegInf => {
            for (i, v) in values.iter_mut().enumerate() {
                if i % experts != 0 && uniform(seed + 1, i, 0) < 0.35 {
                    *v = f32::NEG_INFINITY;
                }
            }
        }
    }
    values
}

/// The router kernel's indices equal the reference's exactly, probabilities and weights within
/// 1e-5, over shapes that do not fill whole workgroups and E that is not a power of two.
pub async fn router_matches_reference(device: &Device) -> Result<usize, String> {
    let cases = [
        (1, 4, 1, Logits::Random),
        (63, 4, 2, Logits::Random),
        (130, 5, 2, Logits::Ties),
        (1000, 16, 1, Logits::Random),
        (1000, 16, 2, Logits::SomeNegInf),
        (257, 3, 2, Logits::Ties),
        (64, 7, 1, Logits::SomeNegInf),
    ];
    let mut checked = 0;
    for (case, (tokens, experts, k, kind)) in cases.into_iter().enumerate() {
        let values = router_logits(tokens, experts, kind, case as u64);
        let logits = Tensor::<1>::from_floats(values.as_slice(), device).reshape([tokens, experts]);
        let kernel = router_top_k_kernel(&logits, k).ok_or("the router kernel did not run on this device")?;
        let reference = router_top_k_reference(logits, k);
        let (got, want) = (read(router_data(kernel)).await?, read(router_data(reference)).await?);
        let what = format!("case {case}: {tokens} tokens, E {experts}, k {k}, {kind:?}");
        if i64s(&got[1]) != i64s(&want[1]) {
            return Err(format!("{what}: indices differ"));
        }
        for (name, i) in [("probabilities", 0), ("weights", 2)] {
            let worst = max_abs_diff(&f32s(&got[i]), &f32s(&want[i]));
            if worst.is_nan() || worst > 1e-5 {
                return Err(format!("{what}: {name} differ by {worst}"));
            }
        }
        checked += tokens;
    }
    Ok(checked)
}

/// The gradient of a loss through the router's probabilities and gate weights is the same when
/// the kernel chooses the experts as when the reference does.
pub async fn router_gradients_match_reference(device: &Device) -> Result<(), String> {
    let device = device.clone().autodiff();
    let (tokens, experts) = (96, 6);
    for k in [1, 2] {
        let values = router_logits(tokens, experts, Logits::Random, 40 + k as u64);
        let weights = noise(50 + k as u64, tokens * experts, 1.0);
        let mut grads = Vec::new();
        for choice in [KernelChoice::Auto, KernelChoice::Reference] {
            let logits = Tensor::<1>::from_floats(values.as_slice(), &device)
                .reshape([tokens, experts])
                .require_grad();
            let c = Tensor::<1>::from_floats(weights.as_slice(), &device).reshape([tokens, experts]);
            let gate = router_top_k(logits.clone(), k, choice);
            let loss = (gate.dense_weights() * c.clone()).sum() + (gate.probs * c.powf_scalar(2.0)).sum();
            let g = logits.grad(&loss.backward()).ok_or("no gradient reached the logits")?;
            grads.push(f32s(&read(Transaction::default().register(g)).await?[0]));
        }
        let worst = max_abs_diff(&grads[0], &grads[1]);
        if worst.is_nan() || worst > 1e-5 || grads[0].iter().all(|&g| g == 0.0) {
            return Err(format!("k {k}: gradients differ by {worst} (or are all zero)"));
        }
    }
    Ok(())
}

/// The RMSNorm kernel matches Burn's formula within 1e-5 — rows that fill no whole workgroup, D
/// past the workgroup and not a power of two, a row of zeros (only eps keeps it finite), large
/// values. Its gradients: `crate::norm`.
pub async fn rms_norm_matches_reference(device: &Device) -> Result<usize, String> {
    let mut checked = 0;
    for (case, (rows, d, scale)) in
        [(1, 64, 1.0), (37, 64, 3.0), (5, 96, 1.0), (3, 7, 0.5), (1000, 33, 1e3)].into_iter().enumerate()
    {
        let mut values = noise(60 + case as u64, rows * d, scale);
        values[..d].fill(0.0);
        let x = Tensor::<1>::from_floats(values.as_slice(), device).reshape([rows, d]);
        let gamma = Tensor::<1>::from_floats(noise(70 + case as u64, d, 2.0).as_slice(), device);
        let kernel =
            rms_norm_kernel(&x, &gamma, 1e-5).ok_or("the RMSNorm kernel did not run on this device")?;
        let reference = rms_norm_reference(x, gamma, 1e-5);
        let data = read(Transaction::default().register(kernel).register(reference)).await?;
        let worst = max_abs_diff(&f32s(&data[0]), &f32s(&data[1]));
        if worst.is_nan() || worst > 1e-5 {
            return Err(format!("case {case} ({rows} × {d}): outputs differ by {worst}"));
        }
        checked += rows;
    }
    Ok(checked)
}

/// The attention-weights kernel matches softmax(scores · scale + bias) within 1e-5 — a decode step
/// (one query over a part-filled cache), a prefill (several queries), a row that sees one key, a
/// row that sees all, large scores — and a tensor that carries gradients takes the reference.
pub async fn masked_softmax_matches_reference(device: &Device) -> Result<usize, String> {
    let mut checked = 0;
    let cases =
        [(2, 4, 1, 64, 10, 1.0), (3, 2, 5, 16, 0, 3.0), (1, 1, 1, 7, 6, 1.0), (16, 4, 1, 64, 0, 30.0)];
    for (case, (batch, heads, n, keys, start, scale)) in cases.into_iter().enumerate() {
        let rows = batch * heads * n;
        let values = noise(90 + case as u64, rows * keys, scale);
        let scores = Tensor::<1>::from_floats(values.as_slice(), device).reshape([batch, heads, n, keys]);
        let bias = causal_bias(start, n, keys, device);
        let kernel = masked_softmax_kernel(&scores, &bias, 0.25)
            .ok_or("the attention-weights kernel did not run on this device")?;
        let reference = masked_softmax_reference(scores, bias, 0.25);
        let data = read(Transaction::default().register(kernel).register(reference)).await?;
        let worst = max_abs_diff(&f32s(&data[0]), &f32s(&data[1]));
        if worst.is_nan() || worst > 1e-5 {
            return Err(format!(
                "case {case} ({batch}×{heads}×{n}×{keys} from {start}): weights differ by {worst}"
            ));
        }
        checked += rows;
    }
    let autodiff = device.clone().autodiff();
    let scores = Tensor::<1>::from_floats(noise(99, 2 * 8, 1.0).as_slice(), &autodiff)
        .reshape([1, 1, 2, 8])
        .require_grad();
    let weights = masked_softmax(scores.clone(), &causal_bias(3, 2, 8, &autodiff), 0.5, KernelChoice::Auto);
    let grads = (weights.clone() * weights).sum().backward();
    if scores.grad(&grads).is_none() {
        return Err("no gradient reached the scores: the kernel ran on a tensor that needs one".into());
    }
    Ok(checked)
}

/// A differentiable kernel's output and `input`'s gradient beside its reference's, both
/// differentiated through the same weighted sum (so every output element's gradient differs), in
/// one read: `[output, reference output, gradient, reference gradient]`.
pub(crate) async fn outputs_and_grads<const D: usize, const I: usize>(
    input: &Tensor<I>,
    kernel: Tensor<D>,
    reference: Tensor<D>,
    weights: Tensor<D>,
) -> Result<[Vec<f32>; 4], String> {
    let kernel_grads = (kernel.clone() * weights.clone()).sum().backward();
    let reference_grads = (reference.clone() * weights).sum().backward();
    let (Some(kernel_grad), Some(reference_grad)) = (input.grad(&kernel_grads), input.grad(&reference_grads))
    else {
        return Err("no gradient reached the input".into());
    };
    let tensors = Transaction::default()
        .register(kernel.inner())
        .register(reference.inner())
        .register(kernel_grad)
        .register(reference_grad);
    let data = read(tensors).await?;
    Ok([f32s(&data[0]), f32s(&data[1]), f32s(&data[2]), f32s(&data[3])])
}

/// The training attention kernels match Burn's formulation — the context within 1e-5, the
/// gradient with respect to qkv (forward and both backward kernels) within 1e-4 of the largest
/// gradient — at the default preset's shape, odd sizes, one position, more rows than a workgroup
/// and large scores. Returns the rows checked.
pub async fn causal_attention_matches_reference(device: &Device) -> Result<usize, String> {
    let mut checked = 0;
    let autodiff = device.clone().autodiff();
    let cases =
        [(2, 72, 4, 16, 1.0), (3, 5, 2, 8, 1.0), (1, 1, 1, 4, 1.0), (1, 130, 2, 32, 1.0), (2, 9, 3, 4, 8.0)];
    for (case, (batch, n, heads, d_head, scale)) in cases.into_iter().enumerate() {
        let seed = 200 + 10 * case as u64;
        let d = heads * d_head;
        let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), &autodiff);
        let qkv = floats(noise(seed, batch * n * 3 * d, scale)).reshape([batch, n, 3 * d]).require_grad();
        // A weighted sum makes every output element's gradient different.
        let weights = floats(noise(seed + 1, batch * n * d, 1.0)).reshape([batch, n, d]);
        let kernel = causal_attention_kernel(&qkv, heads)
            .ok_or("the causal attention kernels did not run on this device")?;
        let reference = causal_attention_reference(qkv.clone(), heads);
        let shape = format!("{batch}×{n}, {heads} heads of {d_head}");
        let [context, expected_context, grad, expected] = outputs_and_grads(&qkv, kernel, reference, weights)
            .await
            .map_err(|e| format!("case {case} ({shape}): {e}"))?;
        let context = max_abs_diff(&context, &expected_context);
        if context.is_nan() || context > 1e-5 {
            return Err(format!("case {case} ({shape}): context differs by {context}"));
        }
        let largest = expected.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        let grad = max_abs_diff(&grad, &expected);
        if grad.is_nan() || grad > 1e-4 * largest.max(1.0) {
            return Err(format!("case {case} ({shape}): gradients differ by {grad} (largest {largest})"));
        }
        checked += batch * heads * n;
    }
    // Heads the kernels do not take (not a multiple of 4, wider than 64) fall back to the reference.
    for (heads, d_head) in [(2, 6), (1, 68)] {
        let qkv = Tensor::<3>::zeros([1, 3, 3 * heads * d_head], device);
        if causal_attention_kernel(&qkv, heads).is_some() {
            return Err(format!("the kernels took heads of {d_head}"));
        }
    }
    Ok(checked)
}

/// The GELU kernels match Burn's GELU — values within 1e-6 and gradients within 1e-5 of the
/// reference, relative to magnitudes above 1 — over the experts' hidden shape, a length that is
/// not a multiple of the workgroup, and one element; inputs far out (±1e3) give finite gradients
/// of 1 and 0 (the tanh inside is clamped; Burn's may overflow there). Returns the elements checked.
pub async fn gelu_matches_reference(device: &Device) -> Result<usize, String> {
    let autodiff = device.clone().autodiff();
    let mut checked = 0;
    for (case, len) in [4 * 1152 * 128, 1000, 1].into_iter().enumerate() {
        let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), &autodiff);
        let x = floats(noise(300 + case as u64, len, 8.0)).require_grad();
        let weights = floats(noise(310 + case as u64, len, 1.0));
        let kernel = gelu_kernel(&x).ok_or("the GELU kernels did not run on this device")?;
        let reference = gelu_reference(x.clone());
        let [values, expected_values, grads, expected_grads] =
            outputs_and_grads(&x, kernel, reference, weights)
                .await
                .map_err(|e| format!("case {case} ({len} elements): {e}"))?;
        let values = max_relative_diff(&values, &expected_values);
        if values.is_nan() || values > 1e-6 {
            return Err(format!("case {case} ({len} elements): values differ by {values}"));
        }
        let grads = max_relative_diff(&grads, &expected_grads);
        if grads.is_nan() || grads > 1e-5 {
            return Err(format!("case {case} ({len} elements): gradients differ by {grads}"));
        }
        checked += len;
    }
    let far = Tensor::<1>::from_floats([1.0e3, -1.0e3], &autodiff).require_grad();
    let grads = gelu_kernel(&far).ok_or("the GELU kernels did not run")?.sum().backward();
    let grad = far.grad(&grads).ok_or("no gradient reached x")?;
    let data = read(Transaction::default().register(grad)).await?;
    if f32s(&data[0]) != [1.0, 0.0] {
        return Err(format!("gradients at ±1e3: {:?}, expected [1, 0]", f32s(&data[0])));
    }
    Ok(checked)
}

/// Every parameter's gradient, flattened, in module order.
struct ParamGrads<'a> {
    grads: &'a Gradients,
    out: Vec<Option<Tensor<1>>>,
}

impl ModuleVisitor for ParamGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.push(param.val().grad(self.grads).map(|g| g.flatten(0, D - 1)));
    }
}

/// The whole model's training gradients with our kernels (attention, GELU) equal those with
/// Burn's formulas (`"kernels": "reference"`) on the same device: the shipped checkpoint, the
/// eight fixed prompts, a weighted sum of the logits plus the balance loss; every parameter's
/// gradient within 1e-4 of the largest value of its tensor. Returns the parameters compared.
pub async fn training_gradients_match_the_reference(device: &Device) -> Result<usize, String> {
    let ck = checkpoint();
    let autodiff = device.clone().autodiff();
    let prompts: Vec<String> = PROMPTS.iter().map(|p| p.to_string()).collect();
    let tokens =
        aha_train::complete::prompt_tensor(&ck.tokenizer, &prompts, &autodiff).map_err(|e| e.to_string())?;
    let [rows, len] = tokens.dims();
    let vocab = ck.config.vocab_size;
    let weights = Tensor::<1>::from_floats(noise(400, rows * len * vocab, 1.0).as_slice(), &autodiff)
        .reshape([rows, len, vocab]);
    let mut gradients = Vec::new();
    for choice in [KernelChoice::Auto, KernelChoice::Reference] {
        let config = ck.config.clone().with_kernels(Some(choice));
        let model =
            aha_train::load_weights(&config, ck.weights().to_vec(), &autodiff).map_err(|e| e.to_string())?;
        let out = model.forward(tokens.clone(), Tensor::ones([rows, len], &autodiff));
        let loss = (out.logits * weights.clone()).sum() + out.aux_loss;
        let grads = loss.backward();
        let mut visitor = ParamGrads { grads: &grads, out: Vec::new() };
        model.visit(&mut visitor);
        gradients.push(visitor.out);
    }
    let (kernels, reference) = (&gradients[0], &gradients[1]);
    let mut transaction = Transaction::default();
    for (k, r) in kernels.iter().zip(reference) {
        let (Some(k), Some(r)) = (k, r) else {
            return Err("a parameter got no gradient".into());
        };
        transaction = transaction.register(k.clone()).register(r.clone());
    }
    let data = read(transaction).await?;
    for (index, pair) in data.chunks(2).enumerate() {
        let (k, r) = (f32s(&pair[0]), f32s(&pair[1]));
        let largest = r.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        let worst = max_abs_diff(&k, &r);
        if worst.is_nan() || worst > 1e-4 * largest.max(1e-6) {
            return Err(format!("parameter {index}: gradients differ by {worst} (largest {largest})"));
        }
    }
    Ok(data.len() / 2)
}

/// The chosen-experts kernel matches the dense formula within 1e-5 — the tiny model's sizes,
/// top-2 over an odd expert count, one token, more tokens than a workgroup — and a tensor that
/// carries gradients takes the reference.
pub async fn expert_mix_matches_reference(device: &Device) -> Result<usize, String> {
    let mut checked = 0;
    let cases = [(16, 64, 128, 4, 1), (5, 16, 24, 3, 2), (1, 8, 8, 2, 2), (200, 32, 64, 6, 1)];
    for (case, (n, d, h, e, k)) in cases.into_iter().enumerate() {
        let seed = 110 + 10 * case as u64;
        let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), device);
        let x = floats(noise(seed, n * d, 1.0)).reshape([n, d]);
        let w_in = floats(noise(seed + 1, e * d * h, 0.3)).reshape([e, d, h]);
        let w_out = floats(noise(seed + 2, e * h * d, 0.3)).reshape([e, h, d]);
        let gate = router_top_k_reference(floats(noise(seed + 3, n * e, 2.0)).reshape([n, e]), k);
        let kernel = expert_mix_kernel(&x, &gate.indices, &gate.weights, &w_in, &w_out)
            .ok_or("the expert-mix kernel did not run on this device")?;
        let reference = expert_mix_reference(x, gate.dense_weights(), w_in, w_out);
        let data = read(Transaction::default().register(kernel).register(reference)).await?;
        let worst = max_abs_diff(&f32s(&data[0]), &f32s(&data[1]));
        if worst.is_nan() || worst > 1e-5 {
            return Err(format!(
                "case {case} (N {n}, d {d}, h {h}, E {e}, k {k}): outputs differ by {worst}"
            ));
        }
        checked += n;
    }
    let autodiff = device.clone().autodiff();
    let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), &autodiff);
    let x = floats(noise(150, 3 * 8, 1.0)).reshape([3, 8]).require_grad();
    let w_in = floats(noise(151, 2 * 8 * 8, 0.3)).reshape([2, 8, 8]).require_grad();
    let w_out = floats(noise(152, 2 * 8 * 8, 0.3)).reshape([2, 8, 8]).require_grad();
    let gate = router_top_k(floats(noise(153, 3 * 2, 2.0)).reshape([3, 2]), 1, KernelChoice::Auto);
    let y = expert_mix(x.clone(), &gate, &w_in, &w_out, KernelChoice::Auto);
    let grads = (y.clone() * y).sum().backward();
    if x.grad(&grads).is_none() || w_in.grad(&grads).is_none() {
        return Err(
            "no gradient reached the input or the experts: the kernel ran on tensors that need one".into()
        );
    }
    Ok(checked)
}

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
    let kept =
        if step.top_k > 0 && step.top_k < scaled.len() { sorted[step.top_k - 1] } else { f64::NEG_INFINITY };
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
    let logits =
        Tensor::<2>::from_floats([[1.0, 3.0, 3.0, 0.0], [0.0, 0.0, 0.0, 9.0], [2.0, 2.0, 2.0, 2.0]], device);
    let open = Tensor::<2, Int>::zeros([3, 1], device);
    let run = |finished: Tensor<2, Int>, step: DecodeStep| {
        sample_step_kernel(&logits, &finished, &step).ok_or("the sampler kernel did not run on this device")
    };
    let got = read(sampled_data(run(open.clone(), greedy)?)).await?;
    if i64s(&got[0]) != [1, 3, 0] || i64s(&got[2]) != [0, 1, 0] {
        return Err(format!("greedy ties/stop: tokens {:?}, finished {:?}", i64s(&got[0]), i64s(&got[2])));
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
        let sampled =
            sample_step_kernel(&logits, &open, &s).ok_or("the sampler kernel did not run on this device")?;
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

/// A full GRPO rollout of the default preset (B × G rows, every decode step up to
/// `max_completion_length`, no early stop) with the shipped base model: exactly one read, counted
/// by the instrumented read function. Returns the rows and steps it sampled.
pub async fn rollout_reads_back_once(device: &Device) -> Result<(usize, usize), String> {
    let preset = RunConfig::named("default").ok_or("no default preset")?;
    let g = preset.grpo.clone();
    if g.stop_check_every != 0 {
        return Err("the default preset checks for early stops; this test wants a full rollout".into());
    }
    let trainer = shipped_trainer(g.clone(), &device.clone().autodiff())?;
    let problems: Vec<_> =
        ProblemGenerator::new(g.task, 5).map_err(|e| e.to_string())?.take(g.prompts_per_step).collect();
    let before = reads_so_far();
    let (rows, completed) =
        trainer.complete(&problems, g.num_generations, g.temperature, 17).await.map_err(|e| e.to_string())?;
    let reads = reads_so_far() - before;
    if reads != 1 || completed.readbacks != 1 {
        return Err(format!(
            "the rollout read back {reads} times (it reports {}); want 1",
            completed.readbacks
        ));
    }
    Ok((rows.len(), g.max_completion_length))
}

/// Decoding with the KV cache (prefill, then one position at a time) gives the full forward's
/// logits on `device`. On wgpu the cache is written in place, which only a GPU backend exercises.
/// Returns the largest difference.
pub async fn cached_decoding_matches_the_full_forward(device: &Device) -> Result<f32, String> {
    let (rows, len, prefill) = (3, 12, 5);
    let config = ModelConfig::new(20, MoeConfig::new().with_top_k(2)).with_max_seq_len(16);
    let model = config.init_seeded(device, 4);
    let ids: Vec<i64> = (0..rows * len).map(|i| (uniform(8, 0, i) * 20.0) as i64 % 20).collect();
    let columns = |from: usize, to: usize| {
        let part: Vec<i64> = ids.chunks(len).flat_map(|row| row[from..to].to_vec()).collect();
        Tensor::<1, Int>::from_ints(part.as_slice(), device).reshape([rows, to - from])
    };
    let full = model.forward(columns(0, len), Tensor::ones([rows, len], device)).logits;
    let mut cache = model.new_cache(rows, len, device);
    let mut pieces = vec![model.forward_cached(columns(0, prefill), &mut cache)];
    pieces.extend((prefill..len).map(|i| model.forward_cached(columns(i, i + 1), &mut cache)));
    let data = read(Transaction::default().register(full).register(Tensor::cat(pieces, 1))).await?;
    let diff = max_abs_diff(&f32s(&data[0]), &f32s(&data[1]));
    if diff.is_nan() || diff >= 1e-4 {
        return Err(format!("max |full - cached| = {diff}"));
    }
    Ok(diff)
}

/// The largest difference relative to max(1, |reference|); NaN if the lengths differ.
/// The largest difference between `values` and `reference` as a share of `reference`'s largest
/// magnitude (1 when that is 0, so that zeros must match to the tolerance absolutely).
pub(crate) fn relative_to_largest(values: &[f32], reference: &[f32]) -> f32 {
    let largest = reference.iter().fold(0.0f32, |m, r| m.max(r.abs()));
    let scale = if largest > 0.0 { largest } else { 1.0 };
    let worst = values.iter().zip(reference).map(|(v, r)| (v - r).abs()).fold(0.0f32, f32::max);
    if values.len() != reference.len() || worst.is_nan() { f32::INFINITY } else { worst / scale }
}

pub(crate) fn max_relative_diff(values: &[f32], reference: &[f32]) -> f32 {
    if values.len() != reference.len() {
        return f32::NAN;
    }
    let scaled: Vec<f32> = reference.iter().map(|r| r.abs().max(1.0)).collect();
    let a: Vec<f32> = values.iter().zip(&scaled).map(|(v, s)| v / s).collect();
    let b: Vec<f32> = reference.iter().zip(&scaled).map(|(r, s)| r / s).collect();
    max_abs_diff(&a, &b)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return f32::NAN;
    }
    // Equal values (infinities included) differ by 0; a NaN anywhere else counts as infinitely far.
    a.iter()
        .zip(b)
        .map(|(x, y)| if x == y { 0.0 } else { (x - y).abs() })
        .map(|d| if d.is_nan() { f32::INFINITY } else { d })
        .fold(0.0, f32::max)
}
