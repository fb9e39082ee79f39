//! Aha's own WGSL kernels on Burn's wgpu backend, each beside the plain-tensor reference it must
//! match, and the one function every GPU→CPU read goes through.
//!
//! Two hot pieces of a rollout are wasm-hostile in plain Burn: the MoE router's top-k (Burn's
//! `topk`/`sort` read synchronously and panic on WebGPU in wasm; k rounds of argmax stay on the
//! device but cost many dispatches) and the sampler (about twenty small ops per decode step). Each
//! is one kernel here (`shaders/*.wgsl`):
//!
//! - [`router`]: softmax, top-k experts and gate weights for every token ([`router_top_k`]).
//! - [`sample`]: one decode step for every row ([`sample_step`]) with a counter-based random
//!   draw ([`sample::uniform`]) the host reproduces bit for bit.
//! - [`attention`]: attention weights (scale, causal mask, softmax) in one launch instead of
//!   seven, for decoding ([`masked_softmax`]; forward only).
//! - [`causal_attention`]: the whole causal self-attention for training — forward and backward,
//!   differentiable through a Burn backend extension — instead of Burn's per-head matmuls,
//!   mask and softmax ([`causal_attention()`]).
//! - [`gelu`]: GELU for training in one launch each way instead of five forward and sixteen
//!   backward, differentiable the same way ([`gelu()`]).
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
//! [`KernelChoice::Auto`] runs the kernel on wgpu tensors and the reference on every other
//! backend (the CPU `flex` one); [`KernelChoice::Reference`] forces the reference, for debugging.

pub mod adam;
pub mod attention;
pub mod causal_attention;
pub mod experts;
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

/// Which implementation of a kernelised function runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelChoice {
    /// The WGSL kernel on wgpu tensors, the reference elsewhere.
    #[default]
    Auto,
    /// Always the plain-tensor reference (slower on wgpu; for debugging and comparison).
    Reference,
}
