//! Token-level losses shared by SFT and GRPO.

use aha_kernels::KernelChoice;
use burn::tensor::{Int, Tensor};

/// `log p(target)` at every position: `logits [B, T, V]`, `targets [B, T]` → `[B, T]`; one
/// kernel each way on wgpu ([`aha_kernels::logprobs`]).
pub fn token_logprobs(logits: Tensor<3>, targets: Tensor<2, Int>, kernels: KernelChoice) -> Tensor<2> {
    aha_kernels::token_logprobs(logits, targets, kernels)
}

/// Mean negative log-likelihood over the positions where `mask` is 1, `[1]`. A batch with no
/// trained position gives 0 rather than NaN.
pub fn masked_nll(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    mask: Tensor<2>,
    kernels: KernelChoice,
) -> Tensor<1> {
    let nll = token_logprobs(logits, targets, kernels).neg() * mask.clone();
    nll.sum() / mask.sum().clamp_min(1.0)
}

/// Sum of the negative log-likelihood over the positions where `mask` is 1, `[1]`.
pub fn masked_nll_sum(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    mask: Tensor<2>,
    kernels: KernelChoice,
) -> Tensor<1> {
    (token_logprobs(logits, targets, kernels).neg() * mask).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn nll_of_a_hand_made_example() {
        let device = Device::flex();
        // Two positions over a 2-token vocabulary: p = softmax([0, ln 3]) = [1/4, 3/4].
        let l3 = 3f32.ln();
        let logits = Tensor::<3>::from_floats([[[0.0, l3], [0.0, l3]]], &device);
        let targets = Tensor::<2, Int>::from_ints([[1, 0]], &device);
        let lp = token_logprobs(logits.clone(), targets.clone(), KernelChoice::Auto)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!((lp[0] - 0.75f32.ln()).abs() < 1e-6 && (lp[1] - 0.25f32.ln()).abs() < 1e-6);

        let only_first = Tensor::<2>::from_floats([[1.0, 0.0]], &device);
        let nll =
            masked_nll(logits.clone(), targets.clone(), only_first, KernelChoice::Auto).into_scalar::<f32>();
        assert!((nll + 0.75f32.ln()).abs() < 1e-6);
        let both = Tensor::<2>::ones([1, 2], &device);
        let nll = masked_nll(logits.clone(), targets.clone(), both, KernelChoice::Auto).into_scalar::<f32>();
        assert!((nll + (0.75f32.ln() + 0.25f32.ln()) / 2.0).abs() < 1e-6);
        let sum = masked_nll_sum(
            logits.clone(),
            targets.clone(),
            Tensor::ones([1, 2], &device),
            KernelChoice::Auto,
        )
        .into_scalar::<f32>();
        assert!((sum + 0.75f32.ln() + 0.25f32.ln()).abs() < 1e-6);
        let none = Tensor::<2>::zeros([1, 2], &device);
        assert_eq!(masked_nll(logits, targets, none, KernelChoice::Auto).into_scalar::<f32>(), 0.0);
    }
}
