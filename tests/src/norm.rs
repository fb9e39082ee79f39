//! RMSNorm's training kernels (`shaders/rms_norm.wgsl` forward, `rms_norm_backward.wgsl`) against
//! autodiff through Burn's formula on the same device: the input's and the scale's gradients, at
//! the default preset's update shape, odd sizes, a row of zeros and large values.

use aha_kernels::norm::{rms_norm_kernel, rms_norm_reference};
use burn::tensor::{Device, Tensor, Transaction};

use crate::kernels::{f32s, noise, read, relative_to_largest};

/// Returns the rows checked.
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
