//! RMSNorm in one kernel for decoding — `shaders/rms_norm.wgsl` on wgpu, [`rms_norm_reference`]
//! (Burn's `RmsNorm` formula) elsewhere.
//!
//! Forward only: a tensor that carries gradients (training) always takes the reference, whose
//! backward autodiff derives. Decoding, where a step runs five norms and each would be six
//! launches, is what the kernel is for.

use burn::tensor::{DType, Shape, Tensor};

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// `x / sqrt(mean(x²) + eps) * gamma` over the last dimension of `x`.
pub fn rms_norm<const D: usize>(
    x: Tensor<D>,
    gamma: &Tensor<1>,
    eps: f64,
    choice: KernelChoice,
) -> Tensor<D> {
    if choice == KernelChoice::Auto
        && !x.is_require_grad()
        && !gamma.is_require_grad()
        && let Some(y) = rms_norm_kernel(&x, gamma, eps)
    {
        return y;
    }
    rms_norm_reference(x, gamma.clone(), eps)
}

/// Burn's `RmsNorm::forward` for f32 tensors, as plain tensor ops.
pub fn rms_norm_reference<const D: usize>(x: Tensor<D>, gamma: Tensor<1>, eps: f64) -> Tensor<D> {
    let rms = (x.clone().square().mean_dim(D - 1) + eps).sqrt();
    (x / rms) * gamma.unsqueeze()
}

/// Launches `rms_norm.wgsl` (no autodiff); `None` when `x` is not a wgpu f32 tensor or has more
/// rows than one dispatch takes. [`rms_norm`] is the entry point; tests call this to be sure the
/// kernel ran.
pub fn rms_norm_kernel<const D: usize>(x: &Tensor<D>, gamma: &Tensor<1>, eps: f64) -> Option<Tensor<D>> {
    let dims = x.dims();
    let d = dims[D - 1];
    let rows: usize = dims[..D - 1].iter().product();
    if d == 0 || rows == 0 || rows > wgsl::MAX_WORKGROUPS_PER_DIMENSION || gamma.dims() != [d] {
        return None;
    }
    let input = wgsl::cube_f32(x)?;
    let scale = wgsl::cube_f32(gamma)?;
    let output = wgsl::empty_like(&input, Shape::new(dims), DType::F32);
    let kernel = FilledShader {
        shader: wgsl::RMS_NORM,
        values: vec![("d", d.to_string()), ("eps", format!("{:?}", eps as f32))],
    };
    kernel.launch(&input, 1, (rows as u32, 1), &[&input.handle, &scale.handle, &output.handle]);
    Some(wgsl::float_tensor(output))
}
