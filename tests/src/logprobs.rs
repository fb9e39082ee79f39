//! The token log-probability kernels (`shaders/token_logprobs*.wgsl`) against Burn's log-softmax
//! and gather on the same device: values and the logits' gradient, and the entropy, at the
//! default preset's update shape, odd sizes and large logits.

use aha_kernels::logprobs::{
    token_entropy_kernel, token_entropy_reference, token_logprobs_kernel, token_logprobs_reference,
};
use aha_kernels::sample::uniform;
use burn::tensor::{Device, Int, Tensor, TensorData, Transaction};

use crate::kernels::{f32s, max_relative_diff, noise, outputs_and_grads, read};

/// Returns the rows checked.
pub async fn token_logprobs_match_reference(device: &Device) -> Result<usize, String> {
    let autodiff = device.clone().autodiff();
    let mut checked = 0;
    // (batch, positions, vocabulary, logit scale): the default update's shape, odd sizes, one
    // row of one token, and logits large enough that an unshifted exp would overflow.
    let cases = [(64, 72, 50, 4.0), (3, 5, 7, 1.0), (1, 1, 1, 1.0), (2, 9, 50, 200.0)];
    for (case, (batch, n, vocab, scale)) in cases.into_iter().enumerate() {
        let seed = 500 + 10 * case as u64;
        let logits = Tensor::<1>::from_floats(noise(seed, batch * n * vocab, scale).as_slice(), &autodiff)
            .reshape([batch, n, vocab])
            .require_grad();
        let ids: Vec<i64> = (0..batch * n).map(|i| (uniform(seed + 1, 0, i) * vocab as f32) as i64).collect();
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
