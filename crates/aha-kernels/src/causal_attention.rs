//! Causal self-attention for training — forward and backward as our own kernels: WGSL on wgpu
//! (`shaders/causal_attention*.wgsl`), plain loops on the CPU backend ([`cpu`]);
//! [`causal_attention_reference`] elsewhere.
//!
//! Why: in Burn's formulation each head's matmuls are `[n, 16] × [16, n]` and `[n, n] × [n, 16]`
//! on strided views, and in the default preset's GRPO update those ran at a tenth of the rate of
//! the experts' matmuls — about half the update's matmul time for a tenth of its FLOPs
//! (dev/LOG.md, 2026-11-30). Here one invocation per query row reads its head's slice of the fused
//! qkv projection directly, runs an online softmax over the keys it may see and writes the merged
//! heads; the backward pass recomputes the weights from the saved log-sum-exp in two passes
//! (queries, then keys and values) instead of keeping the `[batch, heads, n, n]` weights.
//!
//! Gradients: unlike the decode kernels, this one is differentiable. [`CausalAttentionBackend`]
//! is a Burn backend extension with a hand-written backward for `Autodiff<Cube>` and
//! `Autodiff<Flex>`, so autodiff tensors take the kernels too.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, DType, Device, Shape, Tensor, TensorData};
use cubecl::server::Handle;

use crate::wgsl::{self, FilledShader};
use crate::{KernelChoice, flex};

mod cpu;

/// Added to the scores of masked key slots: small enough that `exp` underflows to exactly 0, finite
/// so that no row can become NaN.
pub const MASKED: f32 = -1.0e9;

/// Invocations per workgroup of the three kernels (one per row).
const WORKGROUP: u32 = 64;

/// The widest head the kernels keep in registers (`d_head` floats per array, three arrays). The
/// kernels also need `d_head` to be a multiple of 4: they move vec4s.
pub const MAX_D_HEAD: usize = 64;

/// Burn's wgpu and CPU backends plus our attention. The macro routes `Dispatch` calls on wgpu
/// and CPU tensors, with or without autodiff, to the implementations below.
#[backend_extension(Autodiff, Cube: cfg(all()), Flex: cfg(all()))]
pub trait CausalAttentionBackend: Backend {
    /// `qkv: [batch, n, 3·d]` (queries, keys, values side by side, `heads` heads each) →
    /// `[batch, n, d]`: every query attends to the keys at or before its position.
    fn causal_attention(qkv: FloatTensor<Self>, heads: usize) -> FloatTensor<Self>;
}

/// Self-attention of every position of `qkv: [batch, n, 3·d]` over the positions at or before it,
/// `heads` heads of `d / heads` each, scaled by `1 / sqrt(d_head)` → `[batch, n, d]` with the
/// heads side by side (ready for the output projection). The kernels on f32 tensors (with or
/// without gradients) on the CPU, and on wgpu where the head fits (a multiple of 4 up to
/// [`MAX_D_HEAD`]); the reference otherwise.
pub fn causal_attention(qkv: Tensor<3>, heads: usize, choice: KernelChoice) -> Tensor<3> {
    if choice == KernelChoice::Auto && kernel_fits(&qkv, heads) {
        return Tensor::from_dispatch(Dispatch::causal_attention(qkv.into_dispatch(), heads));
    }
    causal_attention_reference(qkv, heads)
}

/// The kernels, or `None` where [`causal_attention`] would take the reference; tests call this to
/// be sure the kernels ran.
pub fn causal_attention_kernel(qkv: &Tensor<3>, heads: usize) -> Option<Tensor<3>> {
    kernel_fits(qkv, heads)
        .then(|| Tensor::from_dispatch(Dispatch::causal_attention(qkv.clone().into_dispatch(), heads)))
}

/// The same with Burn tensor ops: split the heads, scores, causal mask, softmax, weighted values,
/// merge the heads.
pub fn causal_attention_reference(qkv: Tensor<3>, heads: usize) -> Tensor<3> {
    let [batch, n, three_d] = qkv.dims();
    let d = three_d / 3;
    let d_head = d / heads;
    let split = |part: usize| {
        qkv.clone()
            .slice([0..batch, 0..n, part * d..(part + 1) * d])
            .reshape([batch, n, heads, d_head])
            .swap_dims(1, 2)
    };
    let (q, k, v) = (split(0), split(1), split(2));
    let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((d_head as f32).sqrt());
    let mask = causal_mask(0, n, n, &scores.device()).unsqueeze::<4>().expand([batch, heads, n, n]);
    let context = softmax(scores.mask_fill(mask, MASKED), 3).matmul(v);
    context.swap_dims(1, 2).reshape([batch, n, d])
}

/// `[n, key_len]`, true where key slot `j` is after query `i`'s position `start + i` (not allowed).
/// Built on the host and uploaded: a decode step would otherwise spend dispatches on it per layer.
pub fn causal_mask(start: usize, n: usize, key_len: usize, device: &Device) -> Tensor<2, Bool> {
    let after = (0..n).flat_map(|i| (0..key_len).map(move |j| j > start + i)).collect::<Vec<_>>();
    Tensor::from_data(TensorData::new(after, [n, key_len]), device)
}

/// A CPU or wgpu f32 tensor of a shape the kernels take.
fn kernel_fits(qkv: &Tensor<3>, heads: usize) -> bool {
    let [batch, n, three_d] = qkv.dims();
    let rows = batch * heads * n;
    let heads_fit = heads > 0 && three_d % (3 * heads) == 0 && three_d > 0 && rows > 0;
    let d_head = if heads_fit { three_d / 3 / heads } else { 0 };
    let fits_wgpu = wgsl::is_cube_f32(qkv)
        && d_head <= MAX_D_HEAD
        && d_head.is_multiple_of(4)
        && wgsl::groups_covering(rows, WORKGROUP).is_some();
    heads_fit && (fits_wgpu || flex::is_flex_f32(qkv))
}

/// The sizes of one call: the head's are compiled into the pipelines ([`Sizes::values`]), the
/// batch and the length are passed at run time ([`Sizes::buffer`]).
struct Sizes {
    batch: usize,
    n: usize,
    heads: usize,
    d: usize,
}

impl Sizes {
    fn of(qkv: &CubeTensor, heads: usize) -> Self {
        let dims = qkv.shape();
        Sizes { batch: dims[0], n: dims[1], heads, d: dims[2] / 3 }
    }

    fn rows(&self) -> usize {
        self.batch * self.heads * self.n
    }

    /// `[rows, n]` for the kernels' `sizes` binding: run-time values, so that a new length or
    /// batch reuses the compiled pipelines.
    fn buffer(&self, like: &CubeTensor) -> Handle {
        wgsl::sizes_buffer(like, &[self.rows() as u32, self.n as u32])
    }

    /// The template values, part of the compiled pipeline's id: the head's sizes only.
    fn values(&self) -> Vec<(&'static str, String)> {
        let d_head = self.d / self.heads;
        vec![
            ("heads", self.heads.to_string()),
            ("d_head", d_head.to_string()),
            ("scale", format!("{:?}", 1.0 / (d_head as f32).sqrt())),
            ("workgroup_size", WORKGROUP.to_string()),
        ]
    }

    fn launch(&self, shader: wgsl::Shader, like: &CubeTensor, buffers: &[&Handle]) {
        FilledShader { shader, values: self.values() }.launch_covering(like, WORKGROUP, self.rows(), buffers);
    }
}

/// The forward kernel: the context `[batch, n, d]` and the log-sum-exp `[batch, heads, n]`.
fn forward(qkv: &CubeTensor, sizes: &Sizes) -> (CubeTensor, CubeTensor) {
    let Sizes { batch, n, heads, d } = *sizes;
    let context = wgsl::empty_like(qkv, Shape::new([batch, n, d]), DType::F32);
    let lse = wgsl::empty_like(qkv, Shape::new([batch, heads, n]), DType::F32);
    let run_sizes = sizes.buffer(qkv);
    sizes.launch(wgsl::CAUSAL_ATTENTION, qkv, &[&qkv.handle, &context.handle, &lse.handle, &run_sizes]);
    (context, lse)
}

/// The two backward kernels: the gradient with respect to `qkv`, from the forward's input, output
/// and log-sum-exp and the output's gradient.
fn backward(
    qkv: &CubeTensor,
    context: &CubeTensor,
    lse: &CubeTensor,
    grad: CubeTensor,
    sizes: &Sizes,
) -> CubeTensor {
    let grad = into_contiguous(grad);
    let dqkv = wgsl::empty_like(qkv, qkv.shape(), DType::F32);
    let delta = wgsl::empty_like(qkv, lse.shape(), DType::F32);
    let run_sizes = sizes.buffer(qkv);
    let first =
        [&qkv.handle, &context.handle, &lse.handle, &grad.handle, &dqkv.handle, &delta.handle, &run_sizes];
    sizes.launch(wgsl::CAUSAL_ATTENTION_DQ, qkv, &first);
    let second = [&qkv.handle, &lse.handle, &grad.handle, &delta.handle, &dqkv.handle, &run_sizes];
    sizes.launch(wgsl::CAUSAL_ATTENTION_DKV, qkv, &second);
    dqkv
}

impl CausalAttentionBackend for CubeBackend {
    fn causal_attention(qkv: CubeTensor, heads: usize) -> CubeTensor {
        let qkv = into_contiguous(qkv);
        forward(&qkv, &Sizes::of(&qkv, heads)).0
    }
}

/// What the backward pass needs: the forward's (contiguous) input, its output, and the softmax's
/// log-sum-exp (wgpu) or its weights (CPU).
#[derive(Debug, Clone)]
struct Saved<T> {
    qkv: T,
    context: T,
    softmax: T,
    heads: usize,
}

#[derive(Debug)]
struct CausalAttentionBackward;

impl Backward<CubeBackend, 1> for CausalAttentionBackward {
    type State = Saved<CubeTensor>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let Saved { qkv, context, softmax: lse, heads } = ops.state;
        unary::<CubeBackend, _>(ops.parents, ops.node, grads, |grad| {
            backward(&qkv, &context, &lse, grad, &Sizes::of(&qkv, heads))
        });
    }
}

impl<C: CheckpointStrategy> CausalAttentionBackend for Autodiff<CubeBackend, C> {
    fn causal_attention(qkv: FloatTensor<Self>, heads: usize) -> FloatTensor<Self> {
        // Compute-bound: the state is kept, not recomputed, under a checkpointing strategy.
        let (primitive, node) = qkv.into_parts();
        match CausalAttentionBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let input = into_contiguous(primitive);
                let sizes = Sizes::of(&input, heads);
                let (context, lse) = forward(&input, &sizes);
                prep.finish(Saved { qkv: input, context: context.clone(), softmax: lse, heads }, context)
            }
            OpsKind::UnTracked(prep) => prep.finish(CubeBackend::causal_attention(primitive, heads)),
        }
    }
}

/// The sizes of a contiguous CPU input and its values.
fn flex_input(qkv: &FlexTensor, heads: usize) -> (cpu::Sizes, &[f32]) {
    let dims = qkv.shape();
    let sizes = cpu::Sizes { batch: dims[0], n: dims[1], heads, d: dims[2] / 3 };
    (sizes, flex::f32s(qkv))
}

/// The CPU forward: the context `[batch, n, d]` and the weights (flat, see [`cpu::forward`]).
fn flex_forward(qkv: &FlexTensor, heads: usize) -> (FlexTensor, FlexTensor) {
    let (sizes, values) = flex_input(qkv, heads);
    let (context, weights) = cpu::forward(values, sizes);
    let cpu::Sizes { batch, n, d, .. } = sizes;
    let count = weights.len();
    (flex::tensor(context, [batch, n, d]), flex::tensor(weights, [count]))
}

impl CausalAttentionBackend for Flex {
    fn causal_attention(qkv: FlexTensor, heads: usize) -> FlexTensor {
        flex_forward(&qkv.to_contiguous(), heads).0
    }
}

#[derive(Debug)]
struct CpuAttentionBackward;

impl Backward<Flex, 1> for CpuAttentionBackward {
    type State = Saved<FlexTensor>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let Saved { qkv, context, softmax: weights, heads } = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            let (sizes, values) = flex_input(&qkv, heads);
            let grad = grad.to_contiguous();
            let dqkv =
                cpu::backward(values, flex::f32s(&context), flex::f32s(&weights), flex::f32s(&grad), sizes);
            flex::tensor(dqkv, qkv.shape())
        });
    }
}

impl<C: CheckpointStrategy> CausalAttentionBackend for Autodiff<Flex, C> {
    fn causal_attention(qkv: FloatTensor<Self>, heads: usize) -> FloatTensor<Self> {
        let (primitive, node) = qkv.into_parts();
        match CpuAttentionBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let input = primitive.to_contiguous();
                let (context, weights) = flex_forward(&input, heads);
                prep.finish(Saved { qkv: input, context: context.clone(), softmax: weights, heads }, context)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::causal_attention(primitive, heads)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_allows_only_the_past_and_present() {
        let device = Device::flex();
        let mask = causal_mask(2, 2, 5, &device).into_data().try_into_vec::<bool>().unwrap();
        #[rustfmt::skip]
        assert_eq!(mask, [
            false, false, false, true, true,
            false, false, false, false, true,
        ]);
    }

    #[test]
    fn a_new_length_or_batch_reuses_the_compiled_kernels() {
        let sizes = |batch, n| Sizes { batch, n, heads: 4, d: 64 };
        assert_eq!(sizes(16, 17).values(), sizes(64, 72).values());
        assert_ne!(sizes(16, 17).values(), Sizes { heads: 2, ..sizes(16, 17) }.values());
    }

    #[test]
    fn the_cpu_backend_takes_its_kernel_for_any_head() {
        let qkv = Tensor::<3>::ones([1, 3, 18], &Device::flex());
        assert!(causal_attention_kernel(&qkv, 2).is_some());
        assert!(causal_attention_kernel(&qkv, 4).is_none(), "18 is not 3 × 4 heads × a width");
        // Equal values everywhere: every weighted mean of them is 1.
        let context = causal_attention(qkv, 2, KernelChoice::Auto).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(context, vec![1.0; 18]);
    }
}

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Tensor};

    use super::{causal_attention_kernel, causal_attention_reference};
    use crate::check::{max_abs_diff, noise, outputs_and_grads};

    /// The training attention kernels match Burn's formulation — the context within 1e-5, the
    /// gradient with respect to qkv (forward and both backward passes) within 1e-4 of the largest
    /// gradient — at the default preset's shape, odd sizes, one position, more rows than a workgroup
    /// and large scores; on the CPU also heads the WGSL kernels do not take. Returns the rows
    /// checked.
    pub async fn causal_attention_matches_reference(device: &Device) -> Result<usize, String> {
        let mut checked = 0;
        let autodiff = device.clone().autodiff();
        let on_cpu = crate::flex::is_flex_f32(&Tensor::<3>::zeros([1, 1, 3], device));
        // Heads the WGSL kernels do not take (not a multiple of 4, wider than 64).
        let odd_heads = [(2, 6), (1, 68)];
        let mut cases = vec![
            (2, 72, 4, 16, 1.0),
            (3, 5, 2, 8, 1.0),
            (1, 1, 1, 4, 1.0),
            (1, 130, 2, 32, 1.0),
            (2, 9, 3, 4, 8.0),
        ];
        if on_cpu {
            cases.extend(odd_heads.map(|(heads, d_head)| (2, 7, heads, d_head, 1.0)));
        }
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
            let [context, expected_context, grad, expected] =
                outputs_and_grads(&qkv, kernel, reference, weights)
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
        // On wgpu those heads fall back to the reference.
        for (heads, d_head) in odd_heads.into_iter().filter(|_| !on_cpu) {
            let qkv = Tensor::<3>::zeros([1, 3, 3 * heads * d_head], device);
            if causal_attention_kernel(&qkv, heads).is_some() {
                return Err(format!("the kernels took heads of {d_head}"));
            }
        }
        Ok(checked)
    }
}
