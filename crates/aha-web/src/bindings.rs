//! `#[wasm_bindgen]` exports. JSON-like values cross the boundary through serde-wasm-bindgen.

use burn::tensor::Device;
use wasm_bindgen::prelude::*;

use crate::backend::{self, BackendInfo};
use crate::prompt;

/// Routes Rust panics to `console.error` with a message, so the Worker can report them.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// A started compute backend. Create it once per Worker with [`Backend::webgpu`] or
/// [`Backend::cpu`].
#[wasm_bindgen]
pub struct Backend {
    device: Device,
    info: BackendInfo,
}

#[wasm_bindgen]
impl Backend {
    /// WebGPU if it starts, else the CPU with the reason WebGPU did not start.
    pub async fn webgpu() -> Backend {
        let (device, info) = match backend::webgpu_backend().await {
            Ok(started) => started,
            Err(reason) => backend::cpu_backend(reason),
        };
        Backend { device, info }
    }

    /// The CPU backend, for browsers without `navigator.gpu` (the Worker says why).
    pub fn cpu(reason: String) -> Backend {
        let (device, info) = backend::cpu_backend(reason);
        Backend { device, info }
    }

    /// `{kind: "webgpu", adapter, fallback_adapter}` or `{kind: "cpu", reason}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&self.info).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Runs a known computation on the device and resolves to its result (54).
    #[wasm_bindgen(js_name = selfTest)]
    pub async fn self_test(&self) -> Result<f32, JsError> {
        backend::self_test(&self.device)
            .await
            .map_err(|e| JsError::new(&e))
    }
}

/// Checks what a person typed in the prompt box: resolves to `{prompt, ids, answer}` or throws an
/// error whose message says what is wrong.
#[wasm_bindgen(js_name = checkPrompt)]
pub fn check_prompt(text: &str) -> Result<JsValue, JsError> {
    let tokenizer = aha_tokenizer::CharTokenizer::new();
    let checked = prompt::check_prompt(text, &tokenizer).map_err(|e| JsError::new(&e))?;
    serde_wasm_bindgen::to_value(&checked).map_err(|e| JsError::new(&e.to_string()))
}
