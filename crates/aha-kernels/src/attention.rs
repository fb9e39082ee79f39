//! Attention weights while decoding in one kernel — `shaders/masked_softmax.wgsl` on wgpu,
//! [`masked_softmax_reference`] elsewhere: softmax over the keys of `scores · scale + bias`.
//!
//! Forward only, like [`crate::norm`]: tensors that carry gradients take the reference.

use burn::tensor::activation::softmax;
use burn::tensor::{DType, Shape, Tensor};

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// Invocations per workgroup (one per row).
const WORKGROUP: u32 = 64;

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
    let groups = wgsl::groups_covering(rows * keys, WORKGROUP).and(wgsl::groups_covering(rows, WORKGROUP))?;
    if keys == 0 || rows == 0 || bias.dims() != [n, keys] {
        return None;
    }
    let input = wgsl::cube_f32(scores)?;
    let mask = wgsl::cube_f32(bias)?;
    let output = wgsl::empty_like(&input, Shape::new(dims), DType::F32);
    let sizes = wgsl::sizes_buffer(&input, &[rows as u32, keys as u32, n as u32]);
    let kernel = FilledShader { shader: wgsl::MASKED_SOFTMAX, values: values(scale) };
    kernel.launch(&input, WORKGROUP, groups, &[&input.handle, &mask.handle, &output.handle, &sizes]);
    Some(wgsl::float_tensor(output))
}

/// The template values, part of the compiled pipeline's id: the model's scale only (the sizes
/// come at run time).
fn values(scale: f32) -> Vec<(&'static str, String)> {
    vec![("scale", format!("{scale:?}")), ("workgroup_size", WORKGROUP.to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pipeline's id is the shader and its template values (`FilledShader::id`): a new prompt
    /// length reuses the compiled pipeline only if no size is a template value. Fails if a size is
    /// ever templated, or if filling leaves a placeholder.
    #[test]
    fn the_compiled_softmax_holds_the_scale_and_no_size() {
        assert_ne!(values(0.25), values(0.5), "the scale is compiled in");
        let names: Vec<&str> = values(0.25).iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["scale", "workgroup_size"]);
        let filled = wgsl::MASKED_SOFTMAX.fill(&values(0.25));
        assert!(!filled.contains("{{"), "every placeholder is filled");
        assert!(filled.contains("sizes"), "the sizes come from a binding at run time");
    }
}
