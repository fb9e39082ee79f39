//! `#[wasm_bindgen]` exports. JSON-like values cross the boundary through serde-wasm-bindgen.

use aha_model::matmul_peak;
use burn::tensor::Device;
use burn::tensor::wgpu::wgpu;
use wasm_bindgen::prelude::*;

use crate::answer::GenerateOptions;
use crate::backend::{self, BackendInfo};
use crate::distil::{DistilOptions, DistilSession};
use crate::pretrain::{PretrainOptions, PretrainSession};
use crate::session::{ExportedModel, RunSession};

// The wasm API's results and settings in TypeScript: the types generated from Rust
// (web/src/types/boundary.d.ts, by tests/tests/native_page_types.rs) and, below, the few small
// shapes built in this file. The `unchecked_*_type` attributes below name them, so wasm-bindgen's
// `aha_web.d.ts` declares them instead of `any`, and the page build type-checks the Worker's calls.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
import type {
    BackendInfo, Completion, DistilOptions, DistilProgress, DistilUpdate, EvalRow, GenerateOptions, ModelInfo,
    PretrainOptions, PretrainProgress, PretrainUpdate, Routes, RunConfig, RunSettings, StepReport,
} from '../types/boundary';

/** How this wasm was built (`Backend.buildInfo`). */
export type BuildInfo = { simd128: boolean, cpu_threads: number };
/** `Backend.matmulPeak`: our tiled kernel's rate and error, and Burn's matmul rate at the same shape. */
export type MatmulBounds = {
    shape: [number, number, number], repeats: number, gflops: number, max_relative_error: number,
    burn_gflops: number,
};
/** What the GPU memory pools hold (`Trainer.deviceMemory`). */
export type DeviceMemory = { allocations: number, bytes_in_use: number, bytes_reserved: number };
/** `Trainer.exportModel`: the current policy's files. */
export type ExportedFiles = { safetensors: Uint8Array, weights: Uint8Array, config: string, tokenizer: string };
"#;

/// Routes Rust panics to `console.error` with a message, so the Worker can report them.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Every named GRPO preset's whole config (`RunConfig::named`), by name: the page shows a preset's
/// values from here instead of repeating them.
#[wasm_bindgen(js_name = runPresets, unchecked_return_type = "Record<string, RunConfig>")]
pub fn run_presets() -> Result<JsValue, JsError> {
    let presets: std::collections::BTreeMap<&str, aha_train::RunConfig> = aha_train::RunConfig::NAMES
        .iter()
        .filter_map(|&name| aha_train::RunConfig::named(name).map(|config| (name, config)))
        .collect();
    to_js(&presets)
}

/// A started compute backend. Create it once per Worker with [`Backend::webgpu`] or
/// [`Backend::cpu`].
#[wasm_bindgen]
pub struct Backend {
    device: Device,
    info: BackendInfo,
    /// wgpu's handles on the WebGPU device and its queue; `None` on the CPU.
    gpu: Option<(wgpu::Device, wgpu::Queue)>,
}

#[wasm_bindgen]
impl Backend {
    /// WebGPU if it starts, else the CPU with the reason WebGPU did not start.
    pub async fn webgpu() -> Backend {
        match backend::webgpu_backend().await {
            Ok((device, info, gpu, queue)) => Backend { device, info, gpu: Some((gpu, queue)) },
            Err(reason) => Backend::cpu(reason),
        }
    }

    /// The CPU backend, for browsers without `navigator.gpu` (the Worker says why).
    pub fn cpu(reason: String) -> Backend {
        let (device, info) = backend::cpu_backend(reason);
        Backend { device, info, gpu: None }
    }

    /// How this wasm was built, for the bench: `{simd128, cpu_threads}` — whether the CPU backend's
    /// kernels use wasm SIMD, and how many threads it computes on (the Worker's own: this build
    /// has no thread pool).
    #[wasm_bindgen(js_name = buildInfo, unchecked_return_type = "BuildInfo")]
    pub fn build_info() -> Result<JsValue, JsError> {
        #[derive(serde::Serialize)]
        struct BuildInfo {
            simd128: bool,
            cpu_threads: usize,
        }
        to_js(&BuildInfo { simd128: cfg!(target_feature = "simd128"), cpu_threads: 1 })
    }

    /// What every computation on a lost GPU fails with (`readback::DEVICE_LOST`): the Worker
    /// recognises a lost device by it.
    #[wasm_bindgen(js_name = deviceLostMessage)]
    pub fn device_lost_message() -> String {
        aha_model::readback::DEVICE_LOST.to_string()
    }

    /// Destroys the WebGPU device, as a browser does when it resets the GPU: every later
    /// computation fails with a "GPU device was lost" error. For tests and demonstrations of
    /// resuming a run; returns false on the CPU, where there is no device to lose.
    #[wasm_bindgen(js_name = destroyDevice)]
    pub fn destroy_device(&self) -> bool {
        self.gpu.as_ref().map(|(gpu, _)| gpu.destroy()).is_some()
    }

    /// Panics, which traps the wasm (`RuntimeError: unreachable`) as a bug in any call would. For
    /// the test and the demonstration that the page recovers from a crash in a fresh Worker;
    /// nothing else calls it.
    #[wasm_bindgen(js_name = trapForTests)]
    pub fn trap_for_tests(&self) {
        panic!("a crash asked for by the page (bench panel: Crash the wasm now)");
    }

    /// Times our tiled WGSL matmul at `[m, k, n]` (`repeats` times, after a warm-up) on this
    /// WebGPU device and checks it against a CPU product, then Burn's own matmul at the same shape:
    /// resolves to `{shape, repeats, gflops, max_relative_error, burn_gflops}`, or null on the CPU
    /// backend.
    #[wasm_bindgen(js_name = matmulPeak, unchecked_return_type = "MatmulBounds | null")]
    pub async fn matmul_peak(&self, m: u32, k: u32, n: u32, repeats: u32) -> Result<JsValue, JsError> {
        let Some((gpu, queue)) = &self.gpu else {
            return Ok(JsValue::NULL);
        };
        let clock = web_time::Instant::now();
        let now_ms = || clock.elapsed().as_secs_f64() * 1e3;
        let peak = matmul_peak::measure(gpu, queue, [m, k, n], repeats, now_ms)
            .await
            .map_err(|e| JsError::new(&e))?;
        let burn_gflops = matmul_peak::burn_matmul_gflops(&self.device, [m, k, n], repeats, now_ms)
            .await
            .map_err(|e| JsError::new(&e))?;
        to_js(&MatmulBounds { peak, burn_gflops })
    }

    /// `{kind: "webgpu", adapter, fallback_adapter}` or `{kind: "cpu", reason}`.
    #[wasm_bindgen(unchecked_return_type = "BackendInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&self.info)
    }

    /// Milliseconds for a stand-in of one default-preset GRPO step on this backend
    /// ([`backend::calibration_ms`]): the Worker times the CPU and a real GPU by it at load and
    /// keeps the faster.
    #[wasm_bindgen(js_name = calibrationMs)]
    pub async fn calibration_ms(&self) -> Result<f64, JsError> {
        let clock = web_time::Instant::now();
        backend::calibration_ms(&self.device, || clock.elapsed().as_secs_f64() * 1e3)
            .await
            .map_err(|e| JsError::new(&e))
    }

    /// Puts on the backend line why this backend was chosen (what the calibration measured).
    #[wasm_bindgen(js_name = setReason)]
    pub fn set_reason(&mut self, why: String) {
        match &mut self.info {
            BackendInfo::Webgpu { reason, .. } => *reason = Some(why),
            BackendInfo::Cpu { reason } => *reason = why,
        }
    }

    /// Runs a known computation on the device and resolves to its result (54).
    #[wasm_bindgen(js_name = selfTest)]
    pub async fn self_test(&self) -> Result<f32, JsError> {
        backend::self_test(&self.device).await.map_err(|e| JsError::new(&e))
    }
}

/// A GRPO run: the base model, the preset with the person's knobs, and the current policy.
/// Create a new one to reset to the base model.
#[wasm_bindgen]
pub struct Trainer {
    inner: RunSession,
}

#[wasm_bindgen]
impl Trainer {
    /// Loads a checkpoint's files onto `backend` and prepares the run `settings` describe
    /// (`{preset, seed?, prompts_per_step?, num_generations?, learning_rate?, beta?, epsilon?,
    /// loss_type?, temperature?, max_completion_length?}`). Throws an error naming what is wrong.
    pub fn create(
        backend: &Backend,
        weights: Vec<u8>,
        config: &str,
        tokenizer: &str,
        #[wasm_bindgen(unchecked_param_type = "RunSettings")] settings: JsValue,
    ) -> Result<Trainer, JsError> {
        let settings = run_settings(settings)?;
        RunSession::new(&backend.device, weights, config, tokenizer, &settings)
            .map(|inner| Trainer { inner })
            .map_err(JsError::from)
    }

    /// A run saved with [`Trainer::save_state`], continued on `backend`: the other arguments are
    /// those the run was created with. Throws an error naming what is wrong.
    pub fn resume(
        backend: &Backend,
        weights: Vec<u8>,
        config: &str,
        tokenizer: &str,
        #[wasm_bindgen(unchecked_param_type = "RunSettings")] settings: JsValue,
        state: Vec<u8>,
    ) -> Result<Trainer, JsError> {
        let settings = run_settings(settings)?;
        RunSession::resume(&backend.device, weights, config, tokenizer, &settings, &state)
            .map(|inner| Trainer { inner })
            .map_err(JsError::from)
    }

    /// Everything needed to continue this run later, as bytes (one readback): policy, optimiser,
    /// step counters.
    #[wasm_bindgen(js_name = saveState)]
    pub async fn save_state(&self) -> Result<js_sys::Uint8Array, JsError> {
        let bytes = self.inner.save_state().await?;
        Ok(js_sys::Uint8Array::from(bytes.as_slice()))
    }

    /// `[m, k, n]` of the update's typical matmul for this run (see `RunConfig::update_matmul_shape`).
    #[wasm_bindgen(js_name = updateMatmulShape)]
    pub fn update_matmul_shape(&self) -> Vec<u32> {
        self.inner.config().update_matmul_shape(&self.inner.info().config).to_vec()
    }

    /// `{parameters, config, task}`: the model being trained and what the run trains it on.
    #[wasm_bindgen(unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.info())
    }

    /// The whole run configuration: `{preset, grpo: {...}, eval: {...}}`.
    #[wasm_bindgen(js_name = runConfig, unchecked_return_type = "RunConfig")]
    pub fn run_config(&self) -> Result<JsValue, JsError> {
        to_js(self.inner.config())
    }

    /// GRPO steps taken since the base model.
    #[wasm_bindgen(js_name = stepsDone)]
    pub fn steps_done(&self) -> usize {
        self.inner.steps_done()
    }

    /// What the GPU memory pools hold: `{allocations, bytes_in_use, bytes_reserved}`, or null on
    /// the CPU backend.
    #[wasm_bindgen(js_name = deviceMemory, unchecked_return_type = "DeviceMemory | null")]
    pub fn device_memory(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.device_memory())
    }

    /// The held-out evaluation of the current policy: `{step, sampled_acc, greedy_acc, ...}`.
    #[wasm_bindgen(unchecked_return_type = "EvalRow")]
    pub async fn evaluate(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.evaluate().await?)
    }

    /// The base model's held-out evaluation (the run's step 0), whenever it is asked for.
    #[wasm_bindgen(js_name = evaluateBase, unchecked_return_type = "EvalRow")]
    pub async fn evaluate_base(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.evaluate_base().await?)
    }

    /// One GRPO step: `{metrics, group, corrections, expert_load, eval}`.
    #[wasm_bindgen(unchecked_return_type = "StepReport")]
    pub async fn step(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.inner.step().await?)
    }

    /// The current policy answers `prompt` (like `"347*5"`): calls `onToken(text, logprob)` for
    /// every token as it is sampled and resolves to `{prompt, completion, answer, expected, correct,
    /// checked, in_task, held_out, tokens, logprobs}`. `options`: `{temperature, top_k,
    /// max_new_tokens, seed}`, all optional.
    #[wasm_bindgen(unchecked_return_type = "Completion")]
    pub async fn generate(
        &self,
        prompt: String,
        #[wasm_bindgen(unchecked_param_type = "GenerateOptions | undefined")] options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(text: string, logprob: number) => void")]
        on_token: js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let options = generate_options(options)?;
        let completion = self.inner.generate(&prompt, &options, streamer(&on_token)).await?;
        to_js(&completion)
    }

    /// Which expert each token of `text` goes to in every layer: `{tokens, experts}` with
    /// `experts[layer][token]`.
    #[wasm_bindgen(unchecked_return_type = "Routes")]
    pub async fn routes(&self, text: String) -> Result<JsValue, JsError> {
        to_js(&self.inner.routes(&text).await?)
    }

    /// The current policy's files: `{safetensors, weights, config, tokenizer}` (bytes as
    /// Uint8Array, the rest as text).
    #[wasm_bindgen(js_name = exportModel, unchecked_return_type = "ExportedFiles")]
    pub async fn export_model(&self) -> Result<js_sys::Object, JsError> {
        exported_files(self.inner.export().await?)
    }
}

/// A distillation of a run's current policy (the teacher) into the shipped student, beside the
/// student's own GRPO run: see `distil.rs`. Made from a [`Trainer`]; independent of it afterwards.
#[wasm_bindgen]
pub struct Distiller {
    inner: DistilSession,
}

#[wasm_bindgen]
impl Distiller {
    /// `teacher`'s current policy teaches the student whose checkpoint files are given;
    /// `options`: `{problems, steps}`. Throws an error naming what is wrong.
    pub fn create(
        teacher: &Trainer,
        weights: Vec<u8>,
        config: &str,
        tokenizer: &str,
        #[wasm_bindgen(unchecked_param_type = "DistilOptions")] options: JsValue,
    ) -> Result<Distiller, JsError> {
        let options: DistilOptions = serde_wasm_bindgen::from_value(options)
            .map_err(|e| JsError::new(&format!("distillation options: {e}")))?;
        DistilSession::new(&teacher.inner, weights, config, tokenizer, &options)
            .map(|inner| Distiller { inner })
            .map_err(JsError::from)
    }

    /// `{student_parameters, problems, answered, sampled, kept, steps, steps_done, done}`.
    #[wasm_bindgen(unchecked_return_type = "DistilProgress")]
    pub fn progress(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.progress())
    }

    /// The next piece of work: a batch of teacher answers, the base evaluation, or one update of
    /// each arm (with both evaluations when one is due).
    #[wasm_bindgen(unchecked_return_type = "DistilUpdate")]
    pub async fn advance(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.inner.advance().await?)
    }

    /// The distilled student's files, as `Trainer.exportModel` gives a policy's.
    #[wasm_bindgen(js_name = exportModel, unchecked_return_type = "ExportedFiles")]
    pub async fn export_model(&self) -> Result<js_sys::Object, JsError> {
        exported_files(self.inner.export().await?)
    }
}

/// A base model being made from scratch with the staged SFT of a recipe (`pretrain.rs`).
#[wasm_bindgen]
pub struct Pretrainer {
    inner: PretrainSession,
}

#[wasm_bindgen]
impl Pretrainer {
    /// Starts `options` (`{recipe, steps?, seed}`) from a fresh model on `backend`. Throws an
    /// error naming what is wrong.
    pub fn create(
        backend: &Backend,
        #[wasm_bindgen(unchecked_param_type = "PretrainOptions")] options: JsValue,
    ) -> Result<Pretrainer, JsError> {
        let options: PretrainOptions = serde_wasm_bindgen::from_value(options)
            .map_err(|e| JsError::new(&format!("base model options: {e}")))?;
        PretrainSession::new(&options, &backend.device)
            .map(|inner| Pretrainer { inner })
            .map_err(JsError::from)
    }

    /// `{recipe, parameters, steps, steps_done, stages, done}`.
    #[wasm_bindgen(unchecked_return_type = "PretrainProgress")]
    pub fn progress(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.progress())
    }

    /// Up to `steps` SFT steps, or, once all are taken, the probe of the finished model.
    #[wasm_bindgen(unchecked_return_type = "PretrainUpdate")]
    pub async fn advance(&mut self, steps: usize) -> Result<JsValue, JsError> {
        to_js(&self.inner.advance(steps).await?)
    }

    /// The model's files, as `Trainer.exportModel` gives a policy's.
    #[wasm_bindgen(js_name = exportModel, unchecked_return_type = "ExportedFiles")]
    pub async fn export_model(&self) -> Result<js_sys::Object, JsError> {
        exported_files(self.inner.export().await?)
    }
}

/// A model's files as the page downloads them: bytes as Uint8Array, the rest as text.
fn exported_files(exported: ExportedModel) -> Result<js_sys::Object, JsError> {
    let object = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        js_sys::Reflect::set(&object, &JsValue::from_str(key), &value)
            .map(|_| ())
            .map_err(|_| JsError::new("could not build the export"))
    };
    set("safetensors", js_sys::Uint8Array::from(exported.safetensors.as_slice()).into())?;
    set("weights", js_sys::Uint8Array::from(exported.weights.as_slice()).into())?;
    set("config", JsValue::from_str(&exported.config))?;
    set("tokenizer", JsValue::from_str(&exported.tokenizer))?;
    Ok(object)
}

fn run_settings(settings: JsValue) -> Result<aha_train::RunSettings, JsError> {
    serde_wasm_bindgen::from_value(settings).map_err(|e| JsError::new(&format!("run settings: {e}")))
}

fn generate_options(options: JsValue) -> Result<GenerateOptions, JsError> {
    if options.is_undefined() || options.is_null() {
        return Ok(GenerateOptions::default());
    }
    serde_wasm_bindgen::from_value(options).map_err(|e| JsError::new(&format!("generate options: {e}")))
}

/// Calls `on_token(text, logprob)` for every token. A throwing callback must not abort generation;
/// the page sees the final result.
fn streamer(on_token: &js_sys::Function) -> impl FnMut(&str, f32) + '_ {
    move |piece, logprob| {
        let _ =
            on_token.call2(&JsValue::NULL, &JsValue::from_str(piece), &JsValue::from_f64(f64::from(logprob)));
    }
}

/// What `matmulPeak` resolves to: our kernel's measurement and Burn's matmul rate beside it.
#[derive(serde::Serialize)]
struct MatmulBounds {
    #[serde(flatten)]
    peak: matmul_peak::MatmulPeak,
    burn_gflops: f64,
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}
