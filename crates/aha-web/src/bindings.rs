//! `#[wasm_bindgen]` exports. JSON-like values cross the boundary through serde-wasm-bindgen.

use burn::tensor::Device;
use wasm_bindgen::prelude::*;

use crate::backend::{self, BackendInfo};
use crate::prompt;
use crate::session::{GenerateOptions, LoadedModel};

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
        backend::self_test(&self.device).await.map_err(|e| JsError::new(&e))
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

/// A checkpoint loaded on a backend, answering prompts token by token.
#[wasm_bindgen]
pub struct AhaModel {
    inner: LoadedModel,
}

#[wasm_bindgen]
impl AhaModel {
    /// Loads a checkpoint's `model.bpk` bytes, `config.json` and `tokenizer.json` onto `backend`.
    /// Throws an error naming what is wrong; nothing else changes.
    pub fn load(
        backend: &Backend,
        weights: Vec<u8>,
        config: &str,
        tokenizer: &str,
    ) -> Result<AhaModel, JsError> {
        LoadedModel::load(&backend.device, weights, config, tokenizer)
            .map(|inner| AhaModel { inner })
            .map_err(|e| JsError::new(&e))
    }

    /// `{parameters, config}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.info())
    }

    /// Answers `prompt` (like `"347*5"`): calls `onToken(text, logprob)` for every token as it is
    /// sampled and resolves to `{prompt, completion, answer, expected, correct, checked, tokens,
    /// logprobs}`. `options`: `{temperature, top_k, max_new_tokens, seed}`, all optional.
    pub async fn generate(
        &self,
        prompt: String,
        options: JsValue,
        on_token: js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let options: GenerateOptions = if options.is_undefined() || options.is_null() {
            GenerateOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| JsError::new(&format!("generate options: {e}")))?
        };
        let completion = self
            .inner
            .generate(&prompt, &options, |piece, logprob| {
                // A throwing callback must not abort generation; the page sees the final result.
                let _ = on_token.call2(
                    &JsValue::NULL,
                    &JsValue::from_str(piece),
                    &JsValue::from_f64(f64::from(logprob)),
                );
            })
            .await
            .map_err(|e| JsError::new(&e))?;
        to_js(&completion)
    }
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}
