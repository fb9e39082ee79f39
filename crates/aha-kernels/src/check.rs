//! What the kernels' parity checks share (each kernel's checks sit in its module, under
//! `checks`): seeded inputs, one read of several tensors, and tolerant comparisons. Built with the
//! `checks` feature, which only the test crate turns on; `aha-tests` runs every check natively
//! and in Chromium from one list.

use burn::tensor::{Tensor, TensorData, Transaction};

use crate::readback;
use crate::sample::uniform;

/// Deterministic pseudo-random values in [-scale, scale).
pub fn noise(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| (uniform(seed, i / 1024, i % 1024) * 2.0 - 1.0) * scale).collect()
}

/// The tensors of `tensors`, read back in one go through the instrumented read.
pub async fn read(tensors: Transaction) -> Result<Vec<TensorData>, String> {
    readback::read(tensors).await.map_err(|e| e.to_string())
}

pub fn f32s(data: &TensorData) -> Vec<f32> {
    data.clone().try_into_vec_as::<f32>().expect("float data")
}

pub fn i64s(data: &TensorData) -> Vec<i64> {
    data.clone().try_into_vec_as::<i64>().expect("int data")
}

/// A differentiable kernel's output and `input`'s gradient beside its reference's, both
/// differentiated through the same weighted sum (so every output element's gradient differs), in
/// one read: `[output, reference output, gradient, reference gradient]`.
pub async fn outputs_and_grads<const D: usize, const I: usize>(
    input: &Tensor<I>,
    kernel: Tensor<D>,
    reference: Tensor<D>,
    weights: Tensor<D>,
) -> Result<[Vec<f32>; 4], String> {
    let kernel_grads = (kernel.clone() * weights.clone()).sum().backward();
    let reference_grads = (reference.clone() * weights).sum().backward();
    let (Some(kernel_grad), Some(reference_grad)) = (input.grad(&kernel_grads), input.grad(&reference_grads))
    else {
        return Err("no gradient reached the input".into());
    };
    let tensors = Transaction::default()
        .register(kernel.inner())
        .register(reference.inner())
        .register(kernel_grad)
        .register(reference_grad);
    let data = read(tensors).await?;
    Ok([f32s(&data[0]), f32s(&data[1]), f32s(&data[2]), f32s(&data[3])])
}

/// The largest difference between `values` and `reference` as a share of `reference`'s largest
/// magnitude (1 when that is 0, so that zeros must match to the tolerance absolutely).
pub fn relative_to_largest(values: &[f32], reference: &[f32]) -> f32 {
    let largest = reference.iter().fold(0.0f32, |m, r| m.max(r.abs()));
    let scale = if largest > 0.0 { largest } else { 1.0 };
    let worst = values.iter().zip(reference).map(|(v, r)| (v - r).abs()).fold(0.0f32, f32::max);
    if values.len() != reference.len() || worst.is_nan() { f32::INFINITY } else { worst / scale }
}

/// The largest difference relative to max(1, |reference|); NaN if the lengths differ.
pub fn max_relative_diff(values: &[f32], reference: &[f32]) -> f32 {
    if values.len() != reference.len() {
        return f32::NAN;
    }
    let scaled: Vec<f32> = reference.iter().map(|r| r.abs().max(1.0)).collect();
    let a: Vec<f32> = values.iter().zip(&scaled).map(|(v, s)| v / s).collect();
    let b: Vec<f32> = reference.iter().zip(&scaled).map(|(r, s)| r / s).collect();
    max_abs_diff(&a, &b)
}

/// The largest absolute difference; NaN if the lengths differ.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return f32::NAN;
    }
    // Equal values (infinities included) differ by 0; a NaN anywhere else counts as infinitely far.
    a.iter()
        .zip(b)
        .map(|(x, y)| if x == y { 0.0 } else { (x - y).abs() })
        .map(|d| if d.is_nan() { f32::INFINITY } else { d })
        .fold(0.0, f32::max)
}
