//! GELU for training in one launch each way — `shaders/gelu.wgsl` and `shaders/gelu_backward.wgsl`
//! on wgpu, one loop each way on the CPU backend, Burn's `gelu` elsewhere.
//!
//! Why: the dense experts' hidden activations `[E, N, h]` are the update's largest element-wise
//! tensor, and Burn runs GELU as five launches forward and sixteen backward over it — about 90 ms
//! of the default preset's ~850 ms update on lavapipe (dev/LOG.md, 2026-11-30). Differentiable
//! like [`crate::causal_attention`]: a Burn backend extension with a hand-written backward for
//! `Autodiff<Cube>` and `Autodiff<Flex>`, each with the derivative Burn's own backend uses (on
//! the CPU the exact one). On the CPU, Burn's GELU is one pass each way already, but libm's
//! `erff` in it was ~7% of a default-preset GRPO step's profile; ours is the polynomial the
//! shaders use.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor};

use crate::wgsl::{self, FilledShader};
use crate::{KernelChoice, flex};

/// Invocations per workgroup (one per element).
const WORKGROUP: u32 = 64;

/// Burn's wgpu and CPU backends plus our GELU; see
/// [`crate::causal_attention::CausalAttentionBackend`].
#[backend_extension(Autodiff, Cube: cfg(all()), Flex: cfg(all()))]
pub trait GeluBackend: Backend {
    /// `x · (1 + erf(x / √2)) / 2`, element-wise.
    fn gelu_kernel(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// GELU of every element: the kernels on wgpu and CPU f32 tensors (with or without gradients),
/// Burn's `gelu` otherwise.
pub fn gelu<const D: usize>(x: Tensor<D>, choice: KernelChoice) -> Tensor<D> {
    kernel_or_reference!(choice, gelu_kernel(&x), gelu_reference(x))
}

/// The kernels, or `None` where [`gelu`] would take the reference; tests call this to be sure the
/// kernels ran.
pub fn gelu_kernel<const D: usize>(x: &Tensor<D>) -> Option<Tensor<D>> {
    let len = x.shape().num_elements();
    let fits_wgpu = wgsl::is_cube_f32(x) && wgsl::groups_covering(len, WORKGROUP).is_some();
    let fits = len > 0 && (fits_wgpu || flex::is_flex_f32(x));
    fits.then(|| Tensor::from_dispatch(Dispatch::gelu_kernel(x.clone().into_dispatch())))
}

/// Burn's GELU.
pub fn gelu_reference<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    burn::tensor::activation::gelu(x)
}

/// Launches `shader` over `len` elements with `buffers` and the run-time `sizes` after them.
fn launch(shader: wgsl::Shader, like: &CubeTensor, len: usize, buffers: &[&cubecl::server::Handle]) {
    let sizes = wgsl::sizes_buffer(like, &[len as u32]);
    let buffers: Vec<_> = buffers.iter().copied().chain([&sizes]).collect();
    let kernel = FilledShader { shader, values: vec![("workgroup_size", WORKGROUP.to_string())] };
    kernel.launch_covering(like, WORKGROUP, len, &buffers);
}

impl GeluBackend for CubeBackend {
    fn gelu_kernel(x: CubeTensor) -> CubeTensor {
        let x = into_contiguous(x);
        let y = wgsl::empty_like(&x, x.shape(), DType::F32);
        launch(wgsl::GELU, &x, x.shape().num_elements(), &[&x.handle, &y.handle]);
        y
    }
}

#[derive(Debug)]
struct GeluBackward;

impl Backward<CubeBackend, 1> for GeluBackward {
    /// The forward's (contiguous) input.
    type State = CubeTensor;

    fn backward(self, ops: Ops<CubeTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let x = ops.state;
        unary::<CubeBackend, _>(ops.parents, ops.node, grads, |grad| {
            let grad = into_contiguous(grad);
            let dx = wgsl::empty_like(&x, x.shape(), DType::F32);
            launch(wgsl::GELU_BACKWARD, &x, x.shape().num_elements(), &[&x.handle, &grad.handle, &dx.handle]);
            dx
        });
    }
}

impl<C: CheckpointStrategy> GeluBackend for Autodiff<CubeBackend, C> {
    fn gelu_kernel(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let (primitive, node) = x.into_parts();
        // Marked compute-bound so the input is kept (recomputing under a checkpointing strategy
        // would need a retro-forward; Aha trains without checkpointing).
        match GeluBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let input = into_contiguous(primitive);
                let output = CubeBackend::gelu_kernel(input.clone());
                prep.finish(input, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(CubeBackend::gelu_kernel(primitive)),
        }
    }
}

/// erf by Abramowitz & Stegun 7.1.26 (max error 1.5e-7), as `shaders/include/gelu.wgsl` computes it.
fn erf(v: f32) -> f32 {
    let a = v.abs();
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = ((((1.0614054 * t - 1.453152) * t + 1.4214137) * t - 0.28449674) * t + 0.2548296) * t;
    let positive = 1.0 - poly * (-a * a).exp();
    if v < 0.0 { -positive } else { positive }
}

/// `x · (1 + erf(x / √2)) / 2`, as `shaders/include/gelu.wgsl`.
fn gelu_of(v: f32) -> f32 {
    v * (erf(v / std::f32::consts::SQRT_2) + 1.0) / 2.0
}

/// The exact derivative, `Φ(x) + x φ(x)`, as Burn's CPU backend computes it (with its `erff`).
fn gelu_derivative(v: f32) -> f32 {
    let cdf = 0.5 * (1.0 + erf(v / std::f32::consts::SQRT_2));
    let pdf = (-0.5 * v * v).exp() / (2.0 * std::f32::consts::PI).sqrt();
    cdf + v * pdf
}

impl GeluBackend for Flex {
    fn gelu_kernel(x: FlexTensor) -> FlexTensor {
        let x = x.to_contiguous();
        flex::tensor(flex::f32s(&x).iter().map(|&v| gelu_of(v)).collect(), x.shape())
    }
}

#[derive(Debug)]
struct CpuGeluBackward;

impl Backward<Flex, 1> for CpuGeluBackward {
    /// The forward's (contiguous) input.
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let x = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            let grad = grad.to_contiguous();
            let pairs = flex::f32s(&x).iter().zip(flex::f32s(&grad));
            flex::tensor(pairs.map(|(&v, &g)| gelu_derivative(v) * g).collect(), x.shape())
        });
    }
}

impl<C: CheckpointStrategy> GeluBackend for Autodiff<Flex, C> {
    fn gelu_kernel(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let (primitive, node) = x.into_parts();
        match CpuGeluBackward.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let input = primitive.to_contiguous();
                let output = Flex::gelu_kernel(input.clone());
                prep.finish(input, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::gelu_kernel(primitive)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn the_cpu_backend_takes_its_kernel() {
        let x = Tensor::<1>::from_floats([-2.0, 0.0, 1.0], &Device::flex());
        assert!(gelu_kernel(&x).is_some());
        let y = gelu(x.clone(), KernelChoice::Auto).into_data().try_into_vec::<f32>().unwrap();
        let expected = gelu_reference(x).into_data().try_into_vec::<f32>().unwrap();
        for (y, expected) in y.iter().zip(expected) {
            assert!((y - expected).abs() < 1e-6, "{y} vs {expected}");
        }
    }
}

/// Parity checks against the reference on any device (`crate::check`).
#[cfg(feature = "checks")]
pub mod checks {
    use burn::tensor::{Device, Tensor, Transaction};

    use super::{gelu_kernel, gelu_reference};
    use crate::check::{f32s, max_relative_diff, noise, outputs_and_grads, read};

    /// The GELU kernels match Burn's GELU — values within 1e-6 and gradients within 1e-5 of the
    /// reference, relative to magnitudes above 1 — over the experts' hidden shape, a length that is
    /// not a multiple of the workgroup, and one element; inputs far out (±1e3) give finite gradients
    /// of 1 and 0 (the tanh inside is clamped; Burn's may overflow there). Returns the elements checked.
    pub async fn gelu_matches_reference(device: &Device) -> Result<usize, String> {
        let autodiff = device.clone().autodiff();
        let mut checked = 0;
        for (case, len) in [4 * 1152 * 128, 1000, 1].into_iter().enumerate() {
            let floats = |values: Vec<f32>| Tensor::<1>::from_floats(values.as_slice(), &autodiff);
            let x = floats(noise(300 + case as u64, len, 8.0)).require_grad();
            let weights = floats(noise(310 + case as u64, len, 1.0));
            let kernel = gelu_kernel(&x).ok_or("the GELU kernels did not run on this device")?;
            let reference = gelu_reference(x.clone());
            let [values, expected_values, grads, expected_grads] =
                outputs_and_grads(&x, kernel, reference, weights)
                    .await
                    .map_err(|e| format!("case {case} ({len} elements): {e}"))?;
            let values = max_relative_diff(&values, &expected_values);
            if values.is_nan() || values > 1e-6 {
                return Err(format!("case {case} ({len} elements): values differ by {values}"));
            }
            let grads = max_relative_diff(&grads, &expected_grads);
            if grads.is_nan() || grads > 1e-5 {
                return Err(format!("case {case} ({len} elements): gradients differ by {grads}"));
            }
            checked += len;
        }
        let far = Tensor::<1>::from_floats([1.0e3, -1.0e3], &autodiff).require_grad();
        let grads = gelu_kernel(&far).ok_or("the GELU kernels did not run")?.sum().backward();
        let grad = far.grad(&grads).ok_or("no gradient reached x")?;
        let data = read(Transaction::default().register(grad)).await?;
        if f32s(&data[0]) != [1.0, 0.0] {
            return Err(format!("gradients at ±1e3: {:?}, expected [1, 0]", f32s(&data[0])));
        }
        Ok(checked)
    }
}
