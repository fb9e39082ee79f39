//! Aha's own WGSL kernels on Burn's wgpu backend, two CPU kernels beside them, and the one
//! function every GPU→CPU read goes through. Each kernel module holds the kernel (`foo_kernel`,
//! launching `shaders/foo.wgsl`), the plain-tensor reference it must match (`foo_reference`,
//! which the CPU backend runs where it has no kernel of its own), the choice
//! between them (`foo`), and, with the `checks` feature, its parity check (`foo::checks`, run
//! natively and in Chromium from one list in `aha-tests`). Each replaces plain Burn where that was
//! slow (many small launches) or wasm-hostile (a synchronous read):
//!
//! - [`router`]: softmax, top-k experts and gate weights for every token ([`router_top_k`]).
//! - [`sample`]: one decode step for every row ([`sample_step`]) with a counter-based random
//!   draw ([`sample::uniform`]) the host reproduces bit for bit.
//! - [`attention`]: attention weights (scale, causal mask, softmax) in one launch instead of
//!   seven, for decoding ([`masked_softmax`]; forward only).
//! - [`causal_attention`]: the whole causal self-attention for training — forward and backward,
//!   differentiable through a Burn backend extension — instead of Burn's per-head matmuls,
//!   mask and softmax ([`causal_attention()`]); on the CPU backend too, as plain loops over the
//!   causal half only.
//! - [`gelu`]: GELU for training in one launch each way instead of five forward and sixteen
//!   backward, differentiable the same way ([`gelu()`]); on the CPU backend too, with the
//!   shaders' erf instead of libm's.
//! - [`experts`]: the routed experts' output for decoding, reading only the chosen experts
//!   ([`expert_mix`]; forward only).
//! - [`norm`]: RMSNorm in one launch each way instead of six forward and about ten backward,
//!   differentiable the same way ([`rms_norm`]); decoding and training share the forward.
//! - [`logprobs`]: the update's token log-probabilities in one launch each way instead of about
//!   fifteen forward and eight backward, differentiable the same way ([`token_logprobs`]), and
//!   the entropy from the same kernel.
//! - [`adam`]: one Adam update of a parameter in two launches instead of about twenty-five
//!   ([`adam_update`]).
//! - [`readback`]: [`readback::read`], the instrumented read; tests count rollouts' reads with it.
//! - [`memory`]: [`device_memory`], what the wgpu backend's memory pools hold.
//! - [`matmul_peak`]: the adapter's matmul rate with our tiled WGSL matmul, run through wgpu
//!   directly on Burn's device: the bench figures' "peak".
//!
//! [`KernelChoice::Auto`] runs the kernel on wgpu tensors (and the two CPU kernels on the CPU
//! `flex` backend) and the reference everywhere else; [`KernelChoice::Reference`] forces the
//! reference, for debugging.

/// The kernel's result where `choice` allows it and the kernel takes these tensors (a `foo_kernel`
/// answers `None` for tensors it does not take: another backend, a dtype, a size), the reference's
/// otherwise: the dispatch every kernelised function shares. A macro, not a function, so that the
/// kernel may borrow what the reference then consumes.
macro_rules! kernel_or_reference {
    ($choice:expr, $kernel:expr, $reference:expr $(,)?) => {
        match $choice {
            $crate::KernelChoice::Auto => match $kernel {
                Some(result) => result,
                None => $reference,
            },
            $crate::KernelChoice::Reference => $reference,
        }
    };
}

pub mod adam;
pub mod attention;
pub mod causal_attention;
#[cfg(feature = "checks")]
pub mod check;
pub mod experts;
mod flex;
pub mod gelu;
pub mod logprobs;
pub mod matmul_peak;
pub mod memory;
pub mod norm;
pub mod readback;
pub mod router;
pub mod sample;
mod wgsl;

use serde::{Deserialize, Serialize};

pub use adam::{AdamHyper, AdamState, adam_update};
pub use attention::masked_softmax;
pub use causal_attention::causal_attention;
pub use experts::expert_mix;
pub use gelu::gelu;
pub use logprobs::{token_entropy, token_logprobs};
pub use memory::{DeviceMemory, device_memory};
pub use norm::rms_norm;
pub use router::{RouterTopK, router_top_k};
pub use sample::{DecodeStep, SampledStep, sample_step};
pub use wgsl::{SHADERS, Shader};

/// Whether `tensor` lives where every new shape costs a compiled pipeline (wgpu, where the WGSL
/// kernels run): there, decoding keeps one shape for every step.
pub fn compiles_per_shape<const D: usize>(tensor: &burn::tensor::Tensor<D>) -> bool {
    wgsl::is_cube_f32(tensor)
}

/// Which implementation of a kernelised function runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelChoice {
    /// The WGSL kernel on wgpu tensors (and the CPU kernels of attention and GELU on CPU tensors),
    /// the reference elsewhere.
    #[default]
    Auto,
    /// Always the plain-tensor reference (slower on wgpu; for debugging and comparison).
    Reference,
}
