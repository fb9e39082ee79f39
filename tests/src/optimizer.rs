//! The Adam kernels (`shaders/adam_norm.wgsl`, `shaders/adam.wgsl`) against Burn's tensor ops on
//! the same device: the step each parameter takes, and both moments, over sizes that take one
//! workgroup or hundreds, clipped and unclipped gradients, the first update and a later one.

use aha_kernels::adam::{AdamHyper, AdamState, adam_update_kernel, adam_update_reference};
use burn::tensor::{Device, Tensor, Transaction};

use crate::kernels::{f32s, noise, read, relative_to_largest};

/// One comparison: `len` elements, gradients of size `grad_scale`, moments after `time - 1`
/// updates (none when `time` is 1), clipping at `max_grad_norm`.
struct Case {
    len: usize,
    grad_scale: f32,
    time: i32,
    max_grad_norm: Option<f32>,
}

const CASES: [Case; 5] = [
    // Clipped hard (the norm is ~180 against a limit of 1); the first update.
    Case { len: 1000, grad_scale: 10.0, time: 1, max_grad_norm: Some(1.0) },
    // Hundreds of workgroups, a norm below its limit, moments from earlier updates.
    Case { len: 65_537, grad_scale: 1.0, time: 3, max_grad_norm: Some(1e3) },
    Case { len: 1, grad_scale: 1.0, time: 2, max_grad_norm: None },
    // Small gradients: a step of about the learning rate whatever their size.
    Case { len: 300, grad_scale: 1e-3, time: 7, max_grad_norm: Some(0.5) },
    // A zero gradient stays finite and leaves the weights where they are.
    Case { len: 64, grad_scale: 0.0, time: 1, max_grad_norm: Some(1.0) },
];

/// Returns the number of elements compared.
pub async fn adam_matches_reference(device: &Device) -> Result<usize, String> {
    let mut checked = 0;
    for (i, case) in CASES.iter().enumerate() {
        let seed = 400 + 10 * i as u64;
        let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), device);
        let value = floats(noise(seed, case.len, 1.0));
        let grad = floats(noise(seed + 1, case.len, case.grad_scale));
        let moments = (case.time > 1).then(|| {
            let first = floats(noise(seed + 2, case.len, 0.1 * case.grad_scale));
            let second =
                floats(noise(seed + 3, case.len, 0.01 * case.grad_scale).iter().map(|x| x.abs()).collect());
            (first, second)
        });
        let hyper = AdamHyper {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            learning_rate: 0.1,
            time: case.time,
            max_grad_norm: case.max_grad_norm,
        };
        let kernel = adam_update_kernel(&value, &grad, moments.as_ref(), &hyper)
            .ok_or("the Adam kernels did not run on this device")?;
        let reference = adam_update_reference(value.clone(), grad, moments, &hyper);
        let steps = |state: AdamState| [state.value - value.clone(), state.first, state.second];
        let tensors = steps(kernel)
            .into_iter()
            .chain(steps(reference))
            .fold(Transaction::default(), Transaction::register);
        let data: Vec<Vec<f32>> = read(tensors).await?.iter().map(f32s).collect();
        for (j, what) in ["step", "first moment", "second moment"].iter().enumerate() {
            let differ = relative_to_largest(&data[j], &data[j + 3]);
            if differ > 1e-5 {
                return Err(format!(
                    "case {i} ({} elements): the {what} differs by {differ} of its largest",
                    case.len
                ));
            }
        }
        let steps = &data[3];
        if case.grad_scale > 0.0 && steps.iter().all(|s| s.abs() < 1e-6) {
            return Err(format!("case {i}: the reference took no step, so the comparison shows nothing"));
        }
        if case.grad_scale == 0.0 && data[0].iter().any(|s| *s != 0.0) {
            return Err(format!("case {i}: a zero gradient moved the weights: {:?}", &data[0][..4]));
        }
        checked += case.len;
    }
    Ok(checked)
}
