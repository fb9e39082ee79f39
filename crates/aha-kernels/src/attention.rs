//! Attention weights while decoding in one kernel — `shaders/masked_softmax.wgsl` on wgpu,
//! [`masked_softmax_reference`] elsewhere: softmax over the keys of `scores · scale + bias`.
//!
//! Forward only, like [`crate::norm`]: tensors that carry gradients take the reference.

use burn::tensor::activation::softmax;
use burn::tensor::{DType, Shape, Tensor};

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// `softmax(scores · scale + bias)` over the last dimension. `scores: [batch, heads, n, keys]`,
/// `bias: [n, keys]` (0 where query i may see key j, a large negative number where not).
pub fn masked_softmax(scores: Tensor<4>, bias: &Tensor<2>, scale: f32, choice: KernelChoice) -> Tensor<4> {
    if choice == KernelChoice::Auto
        && !scores.is_require_grad()
        && let Some(probs) = masked_softmax_kernel(&scores, bias, scale)
    {
        return probs;
    }
    masked_softmax_reference(scores, bias.clone(), scale)
}

/// The same with Burn tensor ops.
pub fn masked_softmax_reference(scores: Tensor<4>, bias: Tensor<2>, scale: f32) -> Tensor<4> {
    softmax(scores.mul_scalar(scale) + bias.unsqueeze::<4>(), 3)
}

/// Launches `masked_softmax.wgsl` (no autodiff); `None` when `scores` is not a wgpu f32 tensor,
/// the shapes disagree, or there are more rows than one dispatch takes.
pub fn masked_softmax_kernel(scores: &Tensor<4>, bias: &Tensor<2>, scale: f32) -> Option<Tensor<4>> {
    let dims = scores.dims();
    let [batch, heads, n, keys] = dims;
    let rows = batch * heads * n;
    if keys == 0 || rows == 0 || rows > wgsl::MAX_WORKGROUPS_PER_DIMENSION || bias.dims() != [n, keys] {
        return None;
    }
    let input = wgsl::cube_f32(scores)?;
    let mask = wgsl::cube_f32(bias)?;
    let output = wgsl::empty_like(&input, Shape::new(dims), DType::F32);
    let kernel = FilledShader {
        shader: wgsl::MASKED_SOFTMAX,
        values: vec![("keys", keys.to_string()), ("queries", n.to_string()), ("scale", format!("{scale:?}"))],
    };
    kernel.launch(&input, 1, (rows as u32, 1), &[&input.handle, &mask.handle, &output.handle]);
    Some(wgsl::float_tensor(output))
}
