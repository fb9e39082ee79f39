//! GELU for training in one launch each way — `shaders/gelu.wgsl` and `shaders/gelu_backward.wgsl`
//! on wgpu, Burn's `gelu` elsewhere.
//!
//! Why: the dense experts' hidden activations `[E, N, h]` are the update's largest element-wise
//! tensor, and Burn runs GELU as five launches forward and sixteen backward over it — about 90 ms
//! of the default preset's ~850 ms update on lavapipe (dev/LOG.md, 2026-11-30). Differentiable
//! like [`crate::causal_attention`]: a Burn backend extension with a hand-written backward for
//! `Autodiff<Cube>`, which uses the derivative Burn's own autodiff uses.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor, into_contiguous};
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor};

use crate::KernelChoice;
use crate::wgsl::{self, FilledShader};

/// Invocations per workgroup (one per element).
const WORKGROUP: u32 = 64;

/// Burn's wgpu backend plus our GELU; see [`crate::causal_attention::CausalAttentionBackend`].
#[backend_extension(Autodiff, Cube: cfg(all()))]
pub trait GeluBackend: Backend {
    /// `x · (1 + erf(x / √2)) / 2`, element-wise.
    fn gelu_kernel(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// GELU of every element: the kernels on wgpu f32 tensors (with or without gradients), Burn's
/// `gelu` otherwise.
pub fn gelu<const D: usize>(x: Tensor<D>, choice: KernelChoice) -> Tensor<D> {
    if choice == KernelChoice::Auto
        && let Some(y) = gelu_kernel(&x)
    {
        return y;
    }
    gelu_reference(x)
}

/// The kernels, or `None` where [`gelu`] would take the reference; tests call this to be sure the
/// kernels ran.
pub fn gelu_kernel<const D: usize>(x: &Tensor<D>) -> Option<Tensor<D>> {
    let fits = wgsl::is_cube_f32(x)
        && x.shape().num_elements() > 0
        && wgsl::groups_covering(x.shape().num_elements(), WORKGROUP).is_some();
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn the_cpu_backend_takes_the_reference() {
        let x = Tensor::<1>::from_floats([-2.0, 0.0, 1.0], &Device::flex());
        assert!(gelu_kernel(&x).is_none());
        let y = gelu(x.clone(), KernelChoice::Auto).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(y, gelu_reference(x).into_data().try_into_vec::<f32>().unwrap());
    }
}
