//! Token log-probabilities for training in one launch each way — `shaders/token_logprobs.wgsl` and
//! `shaders/token_logprobs_backward.wgsl` on wgpu, Burn's `log_softmax` and `gather` elsewhere —
//! and the next-token entropy from the same forward kernel.
//!
//! Why: the GRPO loss needs `log softmax(logits)[target]` at every position of the update, and its
//! metrics the entropy; as tensor ops that is about fifteen launches forward and eight backward,
//! each pipeline compiled before the first step finishes. The vocabulary is small (50 tokens), so
//! one invocation per row loops over it. Differentiable like [`crate::gelu`]: a Burn backend
//! extension with a hand-written backward for `Autodiff<Cube>`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{DType, Int, IntDType, Shape, Tensor};
use cubecl::server::Handle;

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// Invocations per workgroup (one per row forward, one per logit backward).
const WORKGROUP: u32 = 64;

/// Burn's wgpu backend plus our log-probabilities; see [`crate::causal_attention::CausalAttentionBackend`].
#[backend_extension(Autodiff, Cube: cfg(all()))]
pub trait TokenLogprobsBackend: Backend {
    /// `logits: [rows, vocab]`, `targets: [rows]` (i32) → `[rows]`: log softmax(logits)[target].
    fn token_logprobs_kernel(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self>;
}

/// `log softmax(logits)[target]` at every position: `logits: [batch, n, vocab]`, `targets:
/// [batch, n]` → `[batch, n]`. The kernels on wgpu f32 tensors (with or without gradients), the
/// reference otherwise.
pub fn token_logprobs(logits: Tensor<3>, targets: Tensor<2, Int>, choice: KernelChoice) -> Tensor<2> {
    kernel_or_reference!(
        choice,
        token_logprobs_kernel(&logits, &targets),
        token_logprobs_reference(logits, targets)
    )
}

/// The kernels, or `None` where [`token_logprobs`] would take the reference; tests call this to
/// be sure the kernels ran.
pub fn token_logprobs_kernel(logits: &Tensor<3>, targets: &Tensor<2, Int>) -> Option<Tensor<2>> {
    let [batch, n, vocab] = logits.dims();
    if !kernel_fits(logits) || targets.dims() != [batch, n] {
        return None;
    }
    let rows = logits.clone().reshape([batch * n, vocab]).into_dispatch();
    let targets = targets.clone().cast(IntDType::I32).reshape([batch * n]).into_dispatch();
    Some(Tensor::<1>::from_dispatch(Dispatch::token_logprobs_kernel(rows, targets)).reshape([batch, n]))
}

/// Burn's log-softmax over the vocabulary, gathered at the targets.
pub fn token_logprobs_reference(logits: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<2> {
    let [b, t, _] = logits.dims();
    log_softmax(logits, 2).gather(2, targets.reshape([b, t, 1])).reshape([b, t])
}

/// The entropy (nats) of the next-token distribution at every position, `[batch, n]`, without
/// gradients: the forward kernel on wgpu f32 tensors, the reference otherwise.
pub fn token_entropy(logits: Tensor<3>, choice: KernelChoice) -> Tensor<2> {
    kernel_or_reference!(choice, token_entropy_kernel(&logits), token_entropy_reference(logits))
}

/// The forward kernel's entropy, or `None` where [`token_entropy`] would take the reference.
pub fn token_entropy_kernel(logits: &Tensor<3>) -> Option<Tensor<2>> {
    let [batch, n, vocab] = logits.dims();
    if !kernel_fits(logits) {
        return None;
    }
    let logits = wgsl::cube_f32(&logits.clone().reshape([batch * n, vocab]))?;
    // The kernel gathers at a target; any in-range one does (token 0).
    let targets = wgsl::zeros_like_typed(&logits, Shape::new([batch * n]), DType::I32);
    Some(wgsl::float_tensor::<1>(forward(&logits, &targets).entropy).reshape([batch, n]))
}

/// `−Σ p log p` with Burn's softmax and log-softmax.
pub fn token_entropy_reference(logits: Tensor<3>) -> Tensor<2> {
    let [b, t, _] = logits.dims();
    (softmax(logits.clone(), 2) * log_softmax(logits, 2)).sum_dim(2).neg().reshape([b, t])
}

fn kernel_fits(logits: &Tensor<3>) -> bool {
    let [batch, n, vocab] = logits.dims();
    wgsl::is_cube_f32(logits)
        && batch * n > 0
        && vocab > 0
        && wgsl::groups_covering(batch * n * vocab, WORKGROUP).is_some()
}

/// The forward kernel's three outputs, each `[rows]`.
struct Forward {
    logp: CubeTensor,
    lse: CubeTensor,
    entropy: CubeTensor,
}

/// `[invocations, vocab]` for the kernels' `sizes` binding: the forward runs one invocation per
/// row, the backward one per logit.
fn sizes(logits: &CubeTensor, invocations: usize) -> Handle {
    wgsl::sizes_buffer(logits, &[invocations as u32, logits.shape()[1] as u32])
}

fn launch(shader: wgsl::Shader, like: &CubeTensor, invocations: usize, buffers: &[&Handle]) {
    let kernel = FilledShader { shader, values: vec![("workgroup_size", WORKGROUP.to_string())] };
    kernel.launch_covering(like, WORKGROUP, invocations, buffers);
}

/// Runs `token_logprobs.wgsl` on contiguous `logits: [rows, vocab]` and i32 `targets: [rows]`.
fn forward(logits: &CubeTensor, targets: &CubeTensor) -> Forward {
    let rows = logits.shape()[0];
    let [logp, lse, entropy] = [(); 3].map(|_| wgsl::empty_like(logits, Shape::new([rows]), DType::F32));
    let sizes = sizes(logits, rows);
    let buffers = [&logits.handle, &targets.handle, &logp.handle, &lse.handle, &entropy.handle, &sizes];
    launch(wgsl::TOKEN_LOGPROBS, logits, rows, &buffers);
    Forward { logp, lse, entropy }
}

impl TokenLogprobsBackend for CubeBackend {
    fn token_logprobs_kernel(logits: CubeTensor, targets: CubeTensor) -> CubeTensor {
        forward(&into_contiguous(logits), &into_contiguous(targets)).logp
    }
}

#[derive(Debug)]
struct TokenLogprobsBackward;

impl Backward<CubeBackend, 1> for TokenLogprobsBackward {
    /// The forward's contiguous logits and targets, and its log-sum-exp.
    type State = (CubeTensor, CubeTensor, CubeTensor);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (logits, targets, lse) = ops.state;
        unary::<CubeBackend, _>(ops.parents, ops.node, grads, |grad| {
            let grad = into_contiguous(grad);
            let dlogits = wgsl::empty_like(&logits, logits.shape(), DType::F32);
            let logit_count = logits.shape().num_elements();
            let sizes = sizes(&logits, logit_count);
            let buffers =
                [&logits.handle, &targets.handle, &lse.handle, &grad.handle, &dlogits.handle, &sizes];
            launch(wgsl::TOKEN_LOGPROBS_BACKWARD, &logits, logit_count, &buffers);
            dlogits
        });
    }
}

impl<C: CheckpointStrategy> TokenLogprobsBackend for Autodiff<CubeBackend, C> {
    fn token_logprobs_kernel(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        let (primitive, node) = logits.into_parts();
        let (logits, targets) = (into_contiguous(primitive), into_contiguous(targets));
        // Compute-bound, so the state is kept rather than recomputed (Aha trains without
        // checkpointing).
        match TokenLogprobsBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let out = forward(&logits, &targets);
                prep.finish((logits, targets, out.lse), out.logp)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(&logits, &targets).logp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn the_cpu_backend_takes_the_reference() {
        let device = Device::flex();
        let l3 = 3f32.ln();
        let logits = Tensor::<3>::from_floats([[[0.0, l3], [0.0, l3]]], &device);
        let targets = Tensor::<2, Int>::from_ints([[1, 0]], &device);
        assert!(token_logprobs_kernel(&logits, &targets).is_none());
        assert!(token_entropy_kernel(&logits).is_none());
        let logp = token_logprobs(logits.clone(), targets, KernelChoice::Auto);
        let logp = logp.into_data().try_into_vec::<f32>().unwrap();
        assert!((logp[0] - 0.75f32.ln()).abs() < 1e-6 && (logp[1] - 0.25f32.ln()).abs() < 1e-6);
        let entropy = token_entropy(logits, KernelChoice::Auto).into_data().try_into_vec::<f32>().unwrap();
        let expected = -(0.75f32 * 0.75f32.ln() + 0.25 * 0.25f32.ln());
        assert!(entropy.iter().all(|e| (e - expected).abs() < 1e-6), "{entropy:?}");
    }
}

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Int, Tensor, TensorData, Transaction};

    use super::{
        token_entropy_kernel, token_entropy_reference, token_logprobs_kernel, token_logprobs_reference,
    };
    use crate::check::{f32s, max_relative_diff, noise, outputs_and_grads, read};
    use crate::sample::uniform;

    /// The token log-probability kernels against Burn's log-softmax and gather: values and the
    /// logits' gradient, and the entropy, at the default preset's update shape, odd sizes and large
    /// logits. Returns the rows checked.
    pub async fn token_logprobs_match_reference(device: &Device) -> Result<usize, String> {
        let autodiff = device.clone().autodiff();
        let mut checked = 0;
        // (batch, positions, vocabulary, logit scale): the default update's shape, odd sizes, one
        // row of one token, and logits large enough that an unshifted exp would overflow.
        let cases = [(64, 72, 50, 4.0), (3, 5, 7, 1.0), (1, 1, 1, 1.0), (2, 9, 50, 200.0)];
        for (case, (batch, n, vocab, scale)) in cases.into_iter().enumerate() {
            let seed = 500 + 10 * case as u64;
            let logits =
                Tensor::<1>::from_floats(noise(seed, batch * n * vocab, scale).as_slice(), &autodiff)
                    .reshape([batch, n, vocab])
                    .require_grad();
            let ids: Vec<i64> =
                (0..batch * n).map(|i| (uniform(seed + 1, 0, i) * vocab as f32) as i64).collect();
            let targets = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, n]), &autodiff);
            let weights = Tensor::<1>::from_floats(noise(seed + 2, batch * n, 1.0).as_slice(), &autodiff)
                .reshape([batch, n]);
            let context = |e: String| format!("case {case} ({batch}×{n}×{vocab}): {e}");
            let kernel =
                token_logprobs_kernel(&logits, &targets).ok_or("the log-probability kernels did not run")?;
            let reference = token_logprobs_reference(logits.clone(), targets);
            let [values, expected, grads, expected_grads] =
                outputs_and_grads(&logits, kernel, reference, weights).await.map_err(context)?;
            let differ = max_relative_diff(&values, &expected);
            if differ.is_nan() || differ > 1e-5 {
                return Err(context(format!("log-probabilities differ by {differ}")));
            }
            let differ = max_relative_diff(&grads, &expected_grads);
            if differ.is_nan() || differ > 1e-5 {
                return Err(context(format!("gradients differ by {differ}")));
            }
            let plain = logits.clone().inner();
            let entropy = token_entropy_kernel(&plain).ok_or("the entropy kernel did not run")?;
            let tensors = Transaction::default().register(entropy).register(token_entropy_reference(plain));
            let data = read(tensors).await?;
            let differ = max_relative_diff(&f32s(&data[0]), &f32s(&data[1]));
            if differ.is_nan() || differ > 1e-5 {
                return Err(context(format!("entropies differ by {differ}")));
            }
            checked += batch * n;
        }
        Ok(checked)
    }
}
