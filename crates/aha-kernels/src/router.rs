//! The MoE router's gate: softmax over each token's expert logits, the k best experts, and their
//! gate weights — `shaders/router_topk.wgsl` on wgpu, [`router_top_k_reference`] elsewhere.
//!
//! Gradients: the expert indices are not differentiable, so on an autodiff tensor the kernel
//! only chooses the experts and the probabilities and weights are recomputed around those indices
//! with standard (differentiable) ops — the same function as the reference, so the router learns
//! from the output exactly as it would without the kernel.

use burn::tensor::activation::softmax;
use burn::tensor::{DType, Int, Shape, Tensor};

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// Largest expert count and k the kernel takes (and the model allows).
pub const MAX_EXPERTS: usize = 16;
pub const MAX_TOP_K: usize = 2;
const WORKGROUP: u32 = 64;

/// The gate of every token.
#[derive(Debug, Clone)]
pub struct RouterTopK {
    /// `[tokens, E]`: softmax of the router logits.
    pub probs: Tensor<2>,
    /// `[tokens, k]`: the chosen experts, best first; ties go to the lower index.
    pub indices: Tensor<2, Int>,
    /// `[tokens, k]`: gate weights of the chosen experts — the probability itself for k = 1
    /// (Switch Transformer), the chosen probabilities renormalised to sum to 1 for k > 1.
    pub weights: Tensor<2>,
}

impl RouterTopK {
    /// `[tokens, E]` with 1 where an expert was chosen, 0 elsewhere.
    pub fn selected(&self) -> Tensor<2> {
        self.one_hots().map(|(hit, _)| hit).reduce(|a, b| a + b).expect("k ≥ 1")
    }

    /// `[tokens, E]` gate weights, zero for experts a token was not sent to.
    pub fn dense_weights(&self) -> Tensor<2> {
        self.one_hots().map(|(hit, weight)| hit * weight).reduce(|a, b| a + b).expect("k ≥ 1")
    }

    /// For each of the k choices: `[tokens, E]` one-hot of the expert and `[tokens, E]` copies of
    /// its weight.
    fn one_hots(&self) -> impl Iterator<Item = (Tensor<2>, Tensor<2>)> + '_ {
        let [tokens, experts] = self.probs.dims();
        let ids = Tensor::<1, Int>::arange(0..experts as i64, &self.probs.device())
            .reshape([1, experts])
            .expand([tokens, experts]);
        (0..self.indices.dims()[1]).map(move |r| {
            let chosen = self.indices.clone().slice([0..tokens, r..r + 1]).expand([tokens, experts]);
            let weight = self.weights.clone().slice([0..tokens, r..r + 1]).expand([tokens, experts]);
            (ids.clone().equal(chosen).float(), weight)
        })
    }
}

/// Routes every token of `logits: [tokens, E]` to its `top_k` best experts.
///
/// # Panics
/// If `top_k` is 0 or larger than E (the model's config validation rules both out).
pub fn router_top_k(logits: Tensor<2>, top_k: usize, choice: KernelChoice) -> RouterTopK {
    let [tokens, experts] = logits.dims();
    assert!(top_k >= 1 && top_k <= experts, "top_k {top_k} with {experts} experts");
    let kernel_fits = experts <= MAX_EXPERTS && top_k <= MAX_TOP_K && tokens > 0;
    if choice == KernelChoice::Reference || !kernel_fits {
        return router_top_k_reference(logits, top_k);
    }
    let Some(launched) = router_top_k_kernel(&logits, top_k) else {
        return router_top_k_reference(logits, top_k);
    };
    if logits.is_autodiff() {
        // Keep the kernel's choice, recompute the differentiable parts from the logits.
        let probs = softmax(logits, 1);
        let weights = gate_weights(probs.clone(), launched.indices.clone(), top_k);
        RouterTopK { probs, indices: launched.indices, weights }
    } else {
        launched
    }
}

/// The plain-tensor reference: softmax, then k rounds of argmax over the logits (a -inf logit
/// ranks as the lowest finite float and a chosen expert as -inf, so every token gets k distinct
/// experts; ties go to the lower index), then the gate weights.
pub fn router_top_k_reference(logits: Tensor<2>, top_k: usize) -> RouterTopK {
    let [tokens, experts] = logits.dims();
    let device = logits.device();
    let ids =
        Tensor::<1, Int>::arange(0..experts as i64, &device).reshape([1, experts]).expand([tokens, experts]);
    let mut remaining = logits.clone().inner().clamp_min(f32::MIN);
    let mut chosen = Vec::with_capacity(top_k);
    for _ in 0..top_k {
        let best = remaining.clone().argmax(1); // [tokens, 1]
        remaining =
            remaining.mask_fill(ids.clone().equal(best.clone().expand([tokens, experts])), f32::NEG_INFINITY);
        chosen.push(best);
    }
    let indices = Tensor::cat(chosen, 1);
    let probs = softmax(logits, 1);
    let weights = gate_weights(probs.clone(), indices.clone(), top_k);
    RouterTopK { probs, indices, weights }
}

/// The chosen probabilities, renormalised for k > 1.
fn gate_weights(probs: Tensor<2>, indices: Tensor<2, Int>, top_k: usize) -> Tensor<2> {
    let chosen = probs.gather(1, indices);
    if top_k == 1 { chosen } else { chosen.clone() / chosen.sum_dim(1).clamp_min(1e-9) }
}

/// Launches `router_topk.wgsl` (no autodiff: the raw kernel outputs); `None` when `logits` is not
/// a wgpu f32 tensor. [`router_top_k`] is the entry point; tests call this to be sure the kernel ran.
pub fn router_top_k_kernel(logits: &Tensor<2>, top_k: usize) -> Option<RouterTopK> {
    let [tokens, experts] = logits.dims();
    let groups = wgsl::groups_covering(tokens, WORKGROUP)?;
    let input = wgsl::cube_f32(logits)?;
    let probs = wgsl::empty_like(&input, Shape::new([tokens, experts]), DType::F32);
    let indices = wgsl::empty_like(&input, Shape::new([tokens, top_k]), DType::I32);
    let weights = wgsl::empty_like(&input, Shape::new([tokens, top_k]), DType::F32);
    let shape = wgsl::sizes_buffer(&input, &[tokens as u32]);

    let kernel = FilledShader {
        shader: wgsl::ROUTER_TOPK,
        values: vec![
            ("workgroup_size", WORKGROUP.to_string()),
            ("experts", experts.to_string()),
            ("top_k", top_k.to_string()),
        ],
    };
    let buffers = [&input.handle, &probs.handle, &indices.handle, &weights.handle, &shape];
    kernel.launch(&input, WORKGROUP, groups, &buffers);
    Some(RouterTopK {
        probs: wgsl::float_tensor(probs),
        indices: wgsl::int_tensor(indices),
        weights: wgsl::float_tensor(weights),
    })
}

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Tensor, Transaction};

    use super::{RouterTopK, router_top_k, router_top_k_kernel, router_top_k_reference};
    use crate::KernelChoice;
    use crate::check::{f32s, i64s, max_abs_diff, noise, read};
    use crate::sample::uniform;

    fn router_data(gate: RouterTopK) -> Transaction {
        Transaction::default().register(gate.probs).register(gate.indices).register(gate.weights)
    }

    /// A router case: `tokens` tokens over `experts` experts, top-`k`; `kind` shapes the logits.
    #[derive(Debug, Clone, Copy)]
    pub enum LogitPattern {
        Random,
        /// Values on a coarse grid: many exact ties.
        Ties,
        /// About a third of the logits are -inf (never a whole row).
        SomeNegInf,
    }

    fn router_logits(tokens: usize, experts: usize, kind: LogitPattern, seed: u64) -> Vec<f32> {
        let mut values = noise(seed, tokens * experts, 4.0);
        match kind {
            LogitPattern::Random => {}
            LogitPattern::Ties => values.iter_mut().for_each(|v| *v = (*v).round() / 2.0),
            LogitPattern::SomeNegInf => {
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
            (1, 4, 1, LogitPattern::Random),
            (63, 4, 2, LogitPattern::Random),
            (130, 5, 2, LogitPattern::Ties),
            (1000, 16, 1, LogitPattern::Random),
            (1000, 16, 2, LogitPattern::SomeNegInf),
            (257, 3, 2, LogitPattern::Ties),
            (64, 7, 1, LogitPattern::SomeNegInf),
        ];
        let mut checked = 0;
        for (case, (tokens, experts, k, kind)) in cases.into_iter().enumerate() {
            let values = router_logits(tokens, experts, kind, case as u64);
            let logits = Tensor::<1>::from_floats(values.as_slice(), device).reshape([tokens, experts]);
            let kernel =
                router_top_k_kernel(&logits, k).ok_or("the router kernel did not run on this device")?;
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
            let values = router_logits(tokens, experts, LogitPattern::Random, 40 + k as u64);
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
}
