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
    // Forward only: a tensor that needs gradients takes the reference.
    kernel_or_reference!(
        choice,
        (!scores.is_require_grad()).then(|| masked_softmax_kernel(&scores, bias, scale)).flatten(),
        masked_softmax_reference(scores, bias.clone(), scale),
    )
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

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Tensor, TensorData, Transaction};

    use super::{masked_softmax, masked_softmax_kernel, masked_softmax_reference};
    use crate::KernelChoice;
    use crate::causal_attention::MASKED;
    use crate::check::{f32s, max_abs_diff, noise, read};

    /// The decoder's mask as a bias, `[n, keys]`: query `i` (at position `start + i`) sees keys up
    /// to its own position (the model builds the same one).
    fn causal_bias(start: usize, n: usize, keys: usize, device: &Device) -> Tensor<2> {
        let bias = (0..n).flat_map(|i| (0..keys).map(move |j| if j > start + i { MASKED } else { 0.0 }));
        Tensor::from_data(TensorData::new(bias.collect::<Vec<f32>>(), [n, keys]), device)
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
        let weights =
            masked_softmax(scores.clone(), &causal_bias(3, 2, 8, &autodiff), 0.5, KernelChoice::Auto);
        let grads = (weights.clone() * weights).sum().backward();
        if scores.grad(&grads).is_none() {
            return Err("no gradient reached the scores: the kernel ran on a tensor that needs one".into());
        }
        Ok(checked)
    }
}
