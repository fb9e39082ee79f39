//! RMSNorm in one kernel each way — `shaders/rms_norm.wgsl` and `shaders/rms_norm_backward.wgsl`
//! on wgpu, [`rms_norm_reference`] (Burn's `RmsNorm` formula) elsewhere.
//!
//! Burn's RmsNorm is six launches forward and about ten backward; the model runs five norms a
//! pass, while decoding every step and while training every update. Differentiable in the input
//! and the scale like [`crate::causal_attention`]: a Burn backend extension with a hand-written
//! backward for `Autodiff<Cube>`. The forward pipeline is the same for decoding and training.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::tensor::{DType, Shape, Tensor};
use cubecl::server::Handle;

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// Invocations per workgroup (one per row).
const WORKGROUP: u32 = 64;

/// Burn's wgpu backend plus our RMSNorm; see [`crate::causal_attention::CausalAttentionBackend`].
#[backend_extension(Autodiff, Cube: cfg(all()))]
pub trait RmsNormBackend: Backend {
    /// `x: [rows, d]`, `gamma: [d]` → `x / sqrt(mean(x²) + eps) · gamma` per row.
    fn rms_norm_kernel(x: FloatTensor<Self>, gamma: FloatTensor<Self>, eps: f32) -> FloatTensor<Self>;
}

/// `x / sqrt(mean(x²) + eps) * gamma` over the last dimension of `x`: the kernels on wgpu f32
/// tensors (with or without gradients), the reference otherwise.
pub fn rms_norm<const D: usize>(
    x: Tensor<D>,
    gamma: &Tensor<1>,
    eps: f64,
    choice: KernelChoice,
) -> Tensor<D> {
    kernel_or_reference!(choice, rms_norm_kernel(&x, gamma, eps), rms_norm_reference(x, gamma.clone(), eps))
}

/// Burn's `RmsNorm::forward` for f32 tensors, as plain tensor ops.
pub fn rms_norm_reference<const D: usize>(x: Tensor<D>, gamma: Tensor<1>, eps: f64) -> Tensor<D> {
    let rms = (x.clone().square().mean_dim(D - 1) + eps).sqrt();
    (x / rms) * gamma.unsqueeze()
}

/// The kernels, or `None` where [`rms_norm`] would take the reference (not wgpu f32 tensors,
/// mismatched shapes, or more rows than a dispatch takes); tests call this to be sure they ran.
pub fn rms_norm_kernel<const D: usize>(x: &Tensor<D>, gamma: &Tensor<1>, eps: f64) -> Option<Tensor<D>> {
    let dims = x.dims();
    let d = dims[D - 1];
    let rows: usize = dims[..D - 1].iter().product();
    let fits = d > 0
        && rows > 0
        && gamma.dims() == [d]
        && wgsl::groups_covering(rows * d, WORKGROUP).is_some()
        && wgsl::is_cube_f32(x)
        && wgsl::is_cube_f32(gamma);
    fits.then(|| {
        let flat = x.clone().reshape([rows, d]).into_dispatch();
        let y = Dispatch::rms_norm_kernel(flat, gamma.clone().into_dispatch(), eps as f32);
        Tensor::<2>::from_dispatch(y).reshape(dims)
    })
}

/// `[rows, d]` for the kernels' `sizes` binding.
fn sizes(x: &CubeTensor) -> Handle {
    let dims = x.shape();
    wgsl::sizes_buffer(x, &[dims[0] as u32, dims[1] as u32])
}

fn launch(shader: wgsl::Shader, values: Vec<(&'static str, String)>, x: &CubeTensor, buffers: &[&Handle]) {
    FilledShader { shader, values }.launch_covering(x, WORKGROUP, x.shape()[0], buffers);
}

/// Runs `rms_norm.wgsl` on contiguous `x: [rows, d]`: the output and each row's rms.
fn forward(x: &CubeTensor, gamma: &CubeTensor, eps: f32) -> (CubeTensor, CubeTensor) {
    let y = wgsl::empty_like(x, x.shape(), DType::F32);
    let rms = wgsl::empty_like(x, Shape::new([x.shape()[0]]), DType::F32);
    let values = vec![("eps", format!("{eps:?}")), ("workgroup_size", WORKGROUP.to_string())];
    let sizes = sizes(x);
    launch(wgsl::RMS_NORM, values, x, &[&x.handle, &gamma.handle, &y.handle, &rms.handle, &sizes]);
    (y, rms)
}

impl RmsNormBackend for CubeBackend {
    fn rms_norm_kernel(x: CubeTensor, gamma: CubeTensor, eps: f32) -> CubeTensor {
        forward(&into_contiguous(x), &into_contiguous(gamma), eps).0
    }
}

#[derive(Debug)]
struct RmsNormBackward;

impl Backward<CubeBackend, 2> for RmsNormBackward {
    /// The forward's contiguous input and scale, and each row's rms.
    type State = (CubeTensor, CubeTensor, CubeTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, gamma, rms) = ops.state;
        let grad = into_contiguous(grads.consume::<CubeBackend>(&ops.node));
        let dx = wgsl::empty_like(&x, x.shape(), DType::F32);
        let gamma_parts = wgsl::empty_like(&x, x.shape(), DType::F32);
        let values = vec![("workgroup_size", WORKGROUP.to_string())];
        let sizes = sizes(&x);
        let buffers =
            [&x.handle, &gamma.handle, &rms.handle, &grad.handle, &dx.handle, &gamma_parts.handle, &sizes];
        launch(wgsl::RMS_NORM_BACKWARD, values, &x, &buffers);
        let [x_node, gamma_node] = ops.parents;
        if let Some(node) = x_node {
            grads.register::<CubeBackend>(node.id, dx);
        }
        if let Some(node) = gamma_node {
            let summed = CubeBackend::float_sum_dim(gamma_parts, 0);
            grads.register::<CubeBackend>(node.id, CubeBackend::float_reshape(summed, gamma.shape()));
        }
    }
}

impl<C: CheckpointStrategy> RmsNormBackend for Autodiff<CubeBackend, C> {
    fn rms_norm_kernel(x: FloatTensor<Self>, gamma: FloatTensor<Self>, eps: f32) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (gamma, gamma_node) = gamma.into_parts();
        let (x, gamma) = (into_contiguous(x), into_contiguous(gamma));
        // Compute-bound, so the state is kept rather than recomputed (Aha trains without
        // checkpointing).
        match RmsNormBackward.prepare::<C>([x_node, gamma_node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (y, rms) = forward(&x, &gamma, eps);
                prep.finish((x, gamma, rms), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(&x, &gamma, eps).0),
        }
    }
}

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Tensor, Transaction};

    use super::{rms_norm_kernel, rms_norm_reference};
    use crate::check::{f32s, max_abs_diff, noise, read, relative_to_largest};

    /// The RMSNorm kernel matches Burn's formula within 1e-5 — rows that fill no whole workgroup, D
    /// past the workgroup and not a power of two, a row of zeros (only eps keeps it finite), large
    /// values. Its gradients: below.
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

    /// RMSNorm's training kernels (forward, `rms_norm_backward.wgsl`) against autodiff through
    /// Burn's formula: the input's and the scale's gradients, at the default preset's update shape,
    /// odd sizes, a row of zeros and large values. Returns the rows checked.
    pub async fn rms_norm_gradients_match_reference(device: &Device) -> Result<usize, String> {
        let autodiff = device.clone().autodiff();
        let mut checked = 0;
        // (batch, positions, d, scale): the default update, odd sizes, large values.
        for (case, (batch, n, d, scale)) in
            [(64, 72, 64, 1.0), (3, 5, 7, 0.5), (2, 9, 96, 1e3)].into_iter().enumerate()
        {
            let seed = 600 + 10 * case as u64;
            let mut values = noise(seed, batch * n * d, scale);
            values[..d].fill(0.0);
            let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), &autodiff);
            let x = floats(values).reshape([batch, n, d]).require_grad();
            let gamma = floats(noise(seed + 1, d, 2.0)).require_grad();
            let weights = floats(noise(seed + 2, batch * n * d, 1.0)).reshape([batch, n, d]);
            let kernel =
                rms_norm_kernel(&x, &gamma, 1e-5).ok_or("the RMSNorm kernels did not run on this device")?;
            let reference = rms_norm_reference(x.clone(), gamma.clone(), 1e-5);
            let kernel_grads = (kernel * weights.clone()).sum().backward();
            let reference_grads = (reference * weights).sum().backward();
            let grads = [
                x.grad(&kernel_grads),
                x.grad(&reference_grads),
                gamma.grad(&kernel_grads).map(|g| g.reshape([1, 1, d])),
                gamma.grad(&reference_grads).map(|g| g.reshape([1, 1, d])),
            ];
            let tensors = grads.into_iter().try_fold(Transaction::default(), |t, g| g.map(|g| t.register(g)));
            let data = read(tensors.ok_or("no gradient reached the input or the scale")?).await?;
            for (i, what) in [(0, "input"), (2, "scale")] {
                let differ = relative_to_largest(&f32s(&data[i]), &f32s(&data[i + 1]));
                if differ > 1e-4 {
                    return Err(format!(
                        "case {case} ({batch}×{n}×{d}): the {what}'s gradient differs by {differ} of its largest"
                    ));
                }
            }
            checked += batch * n;
        }
        Ok(checked)
    }
}
