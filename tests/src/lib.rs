//! Shared pieces of Aha's cross-crate tests, used by the native tests (`tests/tests/native_*.rs`)
//! and by the browser tests (`tests/tests/browser_*.rs`, run with `wasm-pack test`), so both sides
//! check exactly the same thing.

pub mod base_model;
pub mod golden;
pub mod kernels;
pub mod logprobs;
pub mod norm;
pub mod optimizer;
pub mod smoke;
pub mod soak;
pub mod webgpu;
