//! Aha in the browser: the small `wasm-bindgen` surface that the page's Web Worker calls.
//!
//! This crate is a thin shell. It picks the compute backend (WebGPU through Burn's wgpu runtime,
//! else Burn's pure-Rust CPU backend `flex`) and reports which one it got and why; everything that
//! trains or samples lives in the crates below it.

pub mod answer;
pub mod backend;
pub mod distil;
pub mod error;
pub mod pretrain;
pub mod prompt;
pub mod session;

#[cfg(target_family = "wasm")]
mod bindings;

pub use answer::{Completion, GenerateOptions, ModelInfo};
pub use backend::{BackendInfo, cpu_backend, webgpu_backend};
pub use distil::{ArmEvals, DistilOptions, DistilProgress, DistilSession, DistilUpdate, TeacherAnswer};
pub use error::WebError;
pub use pretrain::{
    CheckGap, PretrainOptions, PretrainProgress, PretrainSession, PretrainStep, PretrainUpdate,
};
pub use prompt::{CheckedPrompt, check_prompt};
pub use session::{AnswerView, Correction, ExportedModel, GroupView, Routes, RunSession, StepReport};
