//! The routed experts' output while decoding in one kernel — `shaders/expert_mix.wgsl` on wgpu,
//! [`expert_mix_reference`] elsewhere; in training the same dense formula, [`expert_mix_dense`].
//! On the CPU backend both decoding and training dispatch each token to its chosen experts only,
//! [`expert_mix_sparse`]: there the routing already lives in host memory, so grouping the tokens
//! by expert costs a copy, not a device round trip, and saves E/k of the experts' arithmetic.
//!
//! The reference is the model's dense formulation: every expert on every token as one batched
//! matmul, each output weighted by its gate (zero for unchosen experts) — differentiable with plain
//! ops, at E/k times the arithmetic. The kernel reads only the chosen experts' weights. Forward
//! only: tensors that carry gradients take the dense formula, whose GELU is our differentiable
//! kernel on wgpu ([`crate::gelu`]).

use burn::tensor::{DType, Int, Shape, Tensor};

use crate::wgsl::{self, FilledShader};
use crate::{KernelChoice, RouterTopK};

/// WebGPU's guaranteed invocations per workgroup: the kernel needs max(d, hidden) of them.
const MAX_WORKGROUP: usize = 256;

/// `Σ_r gate · expert(x)` over each token's chosen experts: `x: [N, d]`, `w_in: [E, d, h]`,
/// `w_out: [E, h, d]`; returns `[N, d]`.
pub fn expert_mix(
    x: Tensor<2>,
    gate: &RouterTopK,
    w_in: &Tensor<3>,
    w_out: &Tensor<3>,
    choice: KernelChoice,
) -> Tensor<2> {
    if choice == KernelChoice::Auto
        && !x.is_require_grad()
        && !w_in.is_require_grad()
        && !w_out.is_require_grad()
        && let Some(y) = expert_mix_kernel(&x, &gate.indices, &gate.weights, w_in, w_out)
    {
        return y;
    }
    if choice == KernelChoice::Auto
        && let Some(y) = expert_mix_sparse(&x, gate, w_in, w_out, choice)
    {
        return y;
    }
    expert_mix_reference(x, gate.dense_weights(), w_in.clone(), w_out.clone())
}

/// Each token through its chosen experts only, differentiable with plain ops: the (token, choice)
/// pairs are grouped by expert on the host, each expert runs one matmul pair over its group, and
/// the gate-weighted outputs are added back into their tokens' rows. The same values as
/// [`expert_mix_dense`] (which adds exact zeros for the experts a token was not sent to) at k/E of
/// its arithmetic. `None` on wgpu, where reading the routing would be a device round trip (and a
/// blocking one is impossible in the browser): there the dense formula or the kernel runs.
pub fn expert_mix_sparse(
    x: &Tensor<2>,
    gate: &RouterTopK,
    w_in: &Tensor<3>,
    w_out: &Tensor<3>,
    choice: KernelChoice,
) -> Option<Tensor<2>> {
    if wgsl::is_cube(x) {
        return None;
    }
    let [n, d] = x.dims();
    let [experts, _, hidden] = w_in.dims();
    let [_, k] = gate.indices.dims();
    // The CPU backend holds its tensors in host memory: this is a copy (and never waits on wasm).
    let chosen: Vec<i64> = gate.indices.clone().try_into_data().ok()?.try_into_vec_as::<i64>().ok()?;
    if chosen.len() != n * k || chosen.iter().any(|&e| !(0..experts as i64).contains(&e)) {
        return None;
    }
    // Pairs (token, choice) flattened as token · k + choice, stably grouped by expert.
    let mut pairs: Vec<usize> = (0..n * k).collect();
    pairs.sort_by_key(|&pair| chosen[pair]);
    let device = x.device();
    let ids = |values: Vec<i64>| Tensor::<1, Int>::from_data(values.as_slice(), &device);
    let pair_ids = ids(pairs.iter().map(|&p| p as i64).collect());
    let token_ids = ids(pairs.iter().map(|&p| (p / k) as i64).collect());
    let grouped = x.clone().select(0, token_ids.clone()); // [n·k, d]
    let weights = gate.weights.clone().reshape([n * k]).select(0, pair_ids).reshape([n * k, 1]);
    let mut outputs = Vec::with_capacity(experts);
    let mut start = 0;
    for expert in 0..experts {
        let count = pairs[start..].iter().take_while(|&&p| chosen[p] == expert as i64).count();
        if count == 0 {
            continue;
        }
        let rows = grouped.clone().slice([start..start + count, 0..d]);
        let w1 = w_in.clone().slice([expert..expert + 1, 0..d, 0..hidden]).reshape([d, hidden]);
        let w2 = w_out.clone().slice([expert..expert + 1, 0..hidden, 0..d]).reshape([hidden, d]);
        outputs.push(crate::gelu(rows.matmul(w1), choice).matmul(w2));
        start += count;
    }
    let weighted = Tensor::cat(outputs, 0) * weights;
    let zeros = Tensor::<2>::zeros([n, d], &device);
    Some(zeros.select_assign(0, token_ids, weighted, burn::tensor::IndexingUpdateOp::Add))
}

/// Every expert on every token, weighted by `gates: [N, E]` (zero where a token was not routed):
/// `[1, N, d] @ [E, d, h] → [E, N, h] → [E, N, d]`, then the gate-weighted sum over experts.
pub fn expert_mix_reference(x: Tensor<2>, gates: Tensor<2>, w_in: Tensor<3>, w_out: Tensor<3>) -> Tensor<2> {
    expert_mix_dense(x, gates, w_in, w_out, KernelChoice::Reference)
}

/// [`expert_mix_reference`]'s formula with its GELU chosen by `choice` ([`crate::gelu()`]): what
/// training runs.
pub fn expert_mix_dense(
    x: Tensor<2>,
    gates: Tensor<2>,
    w_in: Tensor<3>,
    w_out: Tensor<3>,
    choice: KernelChoice,
) -> Tensor<2> {
    let [n, d] = x.dims();
    let e = w_in.dims()[0];
    let hidden = crate::gelu(x.unsqueeze::<3>().matmul(w_in), choice);
    let expert_out = hidden.matmul(w_out);
    let weights = gates.transpose().reshape([e, n, 1]);
    (expert_out * weights).sum_dim(0).reshape([n, d])
}

/// Launches `expert_mix.wgsl` (no autodiff) with the router's `indices: [N, k]` and
/// `weights: [N, k]`; `None` when the tensors are not wgpu f32 ones, their shapes disagree, or the
/// sizes exceed what one dispatch and workgroup take.
pub fn expert_mix_kernel(
    x: &Tensor<2>,
    indices: &Tensor<2, Int>,
    weights: &Tensor<2>,
    w_in: &Tensor<3>,
    w_out: &Tensor<3>,
) -> Option<Tensor<2>> {
    let [n, d] = x.dims();
    let [experts, d_in, hidden] = w_in.dims();
    let [rows, k] = indices.dims();
    let workgroup = d.max(hidden);
    let shapes_agree =
        d_in == d && w_out.dims() == [experts, hidden, d] && rows == n && weights.dims() == [n, k];
    if !shapes_agree
        || n == 0
        || n > wgsl::MAX_WORKGROUPS_PER_DIMENSION
        || k == 0
        || workgroup > MAX_WORKGROUP
    {
        return None;
    }
    let [input, gate_weights, input_proj, output_proj] =
        [wgsl::cube_f32(x)?, wgsl::cube_f32(weights)?, wgsl::cube_f32(w_in)?, wgsl::cube_f32(w_out)?];
    let chosen = wgsl::cube_int(indices)?;
    let output = wgsl::empty_like(&input, Shape::new([n, d]), DType::F32);
    let kernel = FilledShader {
        shader: wgsl::EXPERT_MIX,
        values: vec![
            ("d", d.to_string()),
            ("hidden", hidden.to_string()),
            ("top_k", k.to_string()),
            ("workgroup_size", workgroup.to_string()),
        ],
    };
    let buffers = [
        &input.handle,
        &chosen.handle,
        &gate_weights.handle,
        &input_proj.handle,
        &output_proj.handle,
        &output.handle,
    ];
    kernel.launch(&input, workgroup as u32, (n as u32, 1), &buffers);
    Some(wgsl::float_tensor(output))
}

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Tensor, Transaction};

    use super::{expert_mix, expert_mix_kernel, expert_mix_reference};
    use crate::KernelChoice;
    use crate::check::{f32s, max_abs_diff, noise, read};
    use crate::router::{router_top_k, router_top_k_reference};

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
                "no gradient reached the input or the experts: the kernel ran on tensors that need one"
                    .into(),
            );
        }
        Ok(checked)
    }
}
