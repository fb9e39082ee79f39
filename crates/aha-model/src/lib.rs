//! Aha's model: a tiny decoder-only Mixture-of-Experts transformer in Burn, the same code natively
//! and in the browser.
//!
//! - [`config`]: `ModelConfig`/`MoeConfig` (JSON round-trip, validation).
//! - [`model`]: embeddings, pre-norm blocks of attention + MoE, the output head; KV cache.
//! - [`attention`]: causal multi-head attention with a fixed-size cache.
//! - [`moe`]: router, top-k on the device, dense experts with sparse gates, balance loss.
//! - [`sample`]: batched on-device sampling with one readback per generation (the kernels live in
//!   `aha-kernels`).

pub mod attention;
pub mod config;
pub mod model;
pub mod moe;
pub mod sample;

pub use aha_kernels::{DeviceMemory, KernelChoice, device_memory, matmul_peak, readback};
pub use config::{ConfigError, ModelConfig, MoeConfig};
pub use model::{KvCache, Model, ModelOutput};
pub use sample::{
    Generation, MAX_TEMPERATURE, MIN_TEMPERATURE, SampleError, SamplingConfig, generate, generate_streaming,
};
