//! One Adam update of one parameter in two launches — `shaders/adam_norm.wgsl` (the gradient's
//! norm, for clipping) and `shaders/adam.wgsl` (clip, moments, step) on wgpu, Burn's tensor ops
//! ([`adam_update_reference`]) elsewhere.
//!
//! Why: as tensor ops an update is about twenty-five element-wise launches per parameter — about
//! 490 launches a GRPO step for the shipped model, and fifteen pipelines compiled before the first
//! step finishes (dev/LOG.md), because Burn compiles an element-wise kernel per vector width and
//! workgroup shape, and the parameters come in many shapes. Every value that changes (learning
//! rate, bias corrections, length) reaches the kernels at run time, so two pipelines serve every
//! parameter and every step.

use burn::backend::TensorMetadata;
use burn::tensor::{DType, Tensor};

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// Invocations per workgroup: one per element in `adam.wgsl`; the one workgroup of
/// `adam_norm.wgsl` (a power of two, within WebGPU's default 256).
const WORKGROUP: u32 = 256;

/// One update's constants. Burn's `AdamConfig::new()` is β₁ 0.9, β₂ 0.999, ε 1e-5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamHyper {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub learning_rate: f32,
    /// Which update of the parameter this is, from 1 (Adam's t in the bias corrections).
    pub update: i32,
    /// Per-tensor gradient norm limit (Burn's `GradientClipping::Norm`), or none.
    pub max_grad_norm: Option<f32>,
}

impl AdamHyper {
    /// `√(1 − β₂ᵗ) / (1 − β₁ᵗ)` and `ε √(1 − β₂ᵗ)`: the bias corrections folded as Burn folds them.
    fn corrections(&self) -> (f32, f32) {
        let bias_correction2_sqrt = (1.0 - self.beta_2.powi(self.update)).sqrt();
        (bias_correction2_sqrt / (1.0 - self.beta_1.powi(self.update)), self.epsilon * bias_correction2_sqrt)
    }
}

/// A parameter (flattened) and its two moments.
#[derive(Debug, Clone)]
pub struct AdamState {
    pub value: Tensor<1>,
    pub first: Tensor<1>,
    pub second: Tensor<1>,
}

/// The parameter and moments after one update with `grad`; `moments` are `(first, second)`, or
/// none before the first update. The kernels on wgpu f32 tensors, the reference otherwise.
pub fn adam_update(
    value: Tensor<1>,
    grad: Tensor<1>,
    moments: Option<(Tensor<1>, Tensor<1>)>,
    hyper: &AdamHyper,
    choice: KernelChoice,
) -> AdamState {
    kernel_or_reference!(
        choice,
        adam_update_kernel(&value, &grad, moments.as_ref(), hyper),
        adam_update_reference(value, grad, moments, hyper),
    )
}

/// Burn's Adam (`burn::optim::Adam` with `GradientClipping::Norm`) for one parameter, as tensor
/// ops.
pub fn adam_update_reference(
    value: Tensor<1>,
    grad: Tensor<1>,
    moments: Option<(Tensor<1>, Tensor<1>)>,
    hyper: &AdamHyper,
) -> AdamState {
    let grad = match hyper.max_grad_norm {
        Some(limit) => {
            let norm = grad.clone().square().sum().sqrt();
            let coefficient = (limit / norm.add_scalar(f32::MIN_POSITIVE)).clamp_max(1.0);
            grad * coefficient
        }
        None => grad,
    };
    let (beta_1, beta_2) = (hyper.beta_1, hyper.beta_2);
    let (first, second) = match moments {
        Some((first, second)) => (
            first.mul_scalar(beta_1).add(grad.clone().mul_scalar(1.0 - beta_1)),
            second.mul_scalar(beta_2).add(grad.square().mul_scalar(1.0 - beta_2)),
        ),
        None => (grad.clone().mul_scalar(1.0 - beta_1), grad.square().mul_scalar(1.0 - beta_2)),
    };
    let (combined_factor, epsilon) = hyper.corrections();
    let direction = first.clone().mul_scalar(combined_factor).div(second.clone().sqrt().add_scalar(epsilon));
    AdamState { value: value - direction.mul_scalar(hyper.learning_rate), first, second }
}

/// Launches the kernels (no autodiff); `None` when a tensor is not a wgpu f32 tensor or the
/// shapes disagree. [`adam_update`] is the entry point; tests call this to be sure the kernels ran.
pub fn adam_update_kernel(
    value: &Tensor<1>,
    grad: &Tensor<1>,
    moments: Option<&(Tensor<1>, Tensor<1>)>,
    hyper: &AdamHyper,
) -> Option<AdamState> {
    let len = value.dims()[0];
    let groups = wgsl::groups_covering(len, WORKGROUP)?;
    if len == 0
        || grad.dims() != [len]
        || moments.is_some_and(|(m, v)| m.dims() != [len] || v.dims() != [len])
    {
        return None;
    }
    let value = wgsl::cube_f32(value)?;
    let grad = wgsl::cube_f32(grad)?;
    let (first, second) = match moments {
        Some((first, second)) => (wgsl::cube_f32(first)?, wgsl::cube_f32(second)?),
        // Zeros uploaded rather than filled: the first update needs no fill pipeline compiled.
        None => (wgsl::zeros_like(&value), wgsl::zeros_like(&value)),
    };
    let (combined_factor, epsilon) = hyper.corrections();
    let floats = [
        0.0, // Σg², written by adam_norm.wgsl
        hyper.max_grad_norm.unwrap_or(-1.0),
        hyper.beta_1,
        1.0 - hyper.beta_1,
        hyper.beta_2,
        1.0 - hyper.beta_2,
        combined_factor,
        epsilon,
        hyper.learning_rate,
    ];
    let mut params: Vec<u32> = floats.iter().map(|x| x.to_bits()).collect();
    params.push(len as u32);
    let params = wgsl::sizes_buffer(&value, &params);
    let fill = || vec![("workgroup_size", WORKGROUP.to_string())];
    if hyper.max_grad_norm.is_some() {
        let norm = FilledShader { shader: wgsl::ADAM_NORM, values: fill() };
        norm.launch(&value, WORKGROUP, (1, 1), &[&grad.handle, &params]);
    }
    let [new_value, new_first, new_second] =
        [(); 3].map(|_| wgsl::empty_like(&value, value.shape(), DType::F32));
    let update = FilledShader { shader: wgsl::ADAM, values: fill() };
    let buffers = [&value, &grad, &first, &second, &new_value, &new_first, &new_second].map(|t| &t.handle);
    update.launch(&value, WORKGROUP, groups, &[buffers.as_slice(), &[&params]].concat());
    Some(AdamState {
        value: wgsl::float_tensor(new_value),
        first: wgsl::float_tensor(new_first),
        second: wgsl::float_tensor(new_second),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn the_cpu_backend_takes_the_reference() {
        let device = Device::flex();
        let value = Tensor::<1>::from_floats([1.0, -2.0, 3.0], &device);
        let grad = Tensor::<1>::from_floats([0.5, 0.25, -4.0], &device);
        let hyper = AdamHyper {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            learning_rate: 0.1,
            update: 1,
            max_grad_norm: Some(1.0),
        };
        assert!(adam_update_kernel(&value, &grad, None, &hyper).is_none());
        let ours = adam_update(value.clone(), grad.clone(), None, &hyper, KernelChoice::Auto);
        let reference = adam_update_reference(value, grad, None, &hyper);
        let floats = |t: Tensor<1>| t.into_data().try_into_vec::<f32>().unwrap();
        let value = floats(reference.value);
        assert_eq!(floats(ours.value), value);
        // Adam's first step moves every weight by about the learning rate, against its
        // gradient's sign, whatever the gradient's size.
        for (moved, expected) in value.iter().zip([0.9, -2.1, 3.1]) {
            assert!((moved - expected).abs() < 1e-4, "{value:?}");
        }
    }
}

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Tensor, Transaction};

    use super::{AdamHyper, AdamState, adam_update_kernel, adam_update_reference};
    use crate::check::{f32s, noise, read, relative_to_largest};

    /// One comparison: `len` elements, gradients of size `grad_scale`, moments after `update - 1`
    /// updates (none when `update` is 1), clipping at `max_grad_norm`.
    struct Case {
        len: usize,
        grad_scale: f32,
        update: i32,
        max_grad_norm: Option<f32>,
    }

    const CASES: [Case; 5] = [
        // Clipped hard (the norm is ~180 against a limit of 1); the first update.
        Case { len: 1000, grad_scale: 10.0, update: 1, max_grad_norm: Some(1.0) },
        // Hundreds of workgroups, a norm below its limit, moments from earlier updates.
        Case { len: 65_537, grad_scale: 1.0, update: 3, max_grad_norm: Some(1e3) },
        Case { len: 1, grad_scale: 1.0, update: 2, max_grad_norm: None },
        // Small gradients: a step of about the learning rate whatever their size.
        Case { len: 300, grad_scale: 1e-3, update: 7, max_grad_norm: Some(0.5) },
        // A zero gradient stays finite and leaves the weights where they are.
        Case { len: 64, grad_scale: 0.0, update: 1, max_grad_norm: Some(1.0) },
    ];

    /// The Adam kernels (`adam_norm.wgsl`, `adam.wgsl`) against Burn's tensor ops: the step each
    /// parameter takes and both moments, over sizes that take one workgroup or hundreds, clipped and
    /// unclipped gradients, the first update and a later one. Returns the elements compared.
    pub async fn adam_matches_reference(device: &Device) -> Result<usize, String> {
        let mut checked = 0;
        for (i, case) in CASES.iter().enumerate() {
            let seed = 400 + 10 * i as u64;
            let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), device);
            let value = floats(noise(seed, case.len, 1.0));
            let grad = floats(noise(seed + 1, case.len, case.grad_scale));
            let moments = (case.update > 1).then(|| {
                let first = floats(noise(seed + 2, case.len, 0.1 * case.grad_scale));
                let second = floats(
                    noise(seed + 3, case.len, 0.01 * case.grad_scale).iter().map(|x| x.abs()).collect(),
                );
                (first, second)
            });
            let hyper = AdamHyper {
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-5,
                learning_rate: 0.1,
                update: case.update,
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
}
