//! Backend choice: WebGPU when the browser has a usable adapter, else the CPU, with the reason.

use aha_model::{Model, ModelConfig, MoeConfig, readback};
use aha_tokenizer::CharTokenizer;
use burn::module::Module;
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, Int, Tensor, Transaction};
use serde::{Deserialize, Serialize};

/// What the page shows on its backend line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum BackendInfo {
    /// Burn's wgpu runtime on the browser's WebGPU adapter.
    Webgpu {
        /// The adapter's description as the browser reports it (may be empty).
        adapter: String,
        /// The browser offered only a fallback (software) adapter, e.g. SwiftShader.
        fallback_adapter: bool,
        /// Why it was chosen, when that was measured (see [`calibration_ms`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        reason: Option<String>,
    },
    /// Burn's `flex` backend, in WebAssembly on the CPU.
    Cpu {
        /// Why the GPU is not used, in words for the page.
        reason: String,
    },
}

/// Starts Burn's wgpu runtime on the default adapter. Fails with a readable reason when there is
/// none (no `navigator.gpu`, no adapter, or the adapter lacks what Burn needs).
///
/// The runtime is global: call this once per Worker and clone the device.
/// Also returns wgpu's handles on the device and its queue: the bench's matmul peak runs through
/// them, and `Backend::destroyDevice` destroys the device on request.
pub async fn webgpu_backend() -> Result<(Device, BackendInfo, wgpu::Device, wgpu::Queue), String> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| format!("WebGPU could not start: {e}"))?;
    let info = setup.adapter.get_info();
    let fallback_adapter = info.device_type == wgpu::DeviceType::Cpu;
    let info = BackendInfo::Webgpu { adapter: info.name, fallback_adapter, reason: None };
    Ok((device, info, setup.device, setup.queue))
}

/// The CPU backend, with the reason the GPU is not used.
pub fn cpu_backend(reason: impl Into<String>) -> (Device, BackendInfo) {
    (Device::flex(), BackendInfo::Cpu { reason: reason.into() })
}

/// A small computation whose result is known (the sum of `[[1,2],[3,4]]²` is 54), read back
/// asynchronously: proves the device runs kernels and returns data, without a blocking read.
pub async fn self_test(device: &Device) -> Result<f32, String> {
    let m = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], device);
    let sum = m.clone().matmul(m).sum();
    let data = readback::read(Transaction::default().register(sum)).await.map_err(|e| e.to_string())?;
    let data = data.into_iter().next().ok_or("empty result")?;
    readback::values::<f32>(data)
        .map_err(|e| e.to_string())?
        .first()
        .copied()
        .ok_or_else(|| "empty result".to_string())
}

/// The calibration's workload: the default preset's rollout (64 rows decoding 72 completion tokens,
/// of which the first [`CALIBRATION_DECODE_STEPS`] are timed and the time scaled up) and its update
/// batch (8 prompts × 8 answers over the model's 80 positions).
const CALIBRATION_ROWS: usize = 64;
const CALIBRATION_POSITIONS: usize = 80;
const CALIBRATION_COMPLETION: usize = 72;
const CALIBRATION_DECODE_STEPS: usize = 8;

/// Milliseconds for a stand-in of one default-preset GRPO step on `device`, to choose between
/// the CPU and a GPU by measurement: decode steps of 64 rows with the KV cache (where a GPU pays a
/// dispatch per kernel; timed over [`CALIBRATION_DECODE_STEPS`] and scaled to a whole completion)
/// plus one forward and backward pass over 64 × 80 tokens (where it pays off), on a fresh
/// default-size model, each part read back asynchronously. A first pass warms up (WebGPU compiles
/// its pipelines then) and is not counted. `now_ms` is a monotonic clock.
pub async fn calibration_ms(device: &Device, now_ms: impl Fn() -> f64) -> Result<f64, String> {
    let vocab = CharTokenizer::new().vocab_size();
    let config = ModelConfig::new(vocab, MoeConfig::new()).with_max_seq_len(CALIBRATION_POSITIONS);
    let model = config.init_seeded(device, 0).train();
    calibration_pass(&model, device, &now_ms).await?;
    calibration_pass(&model, device, &now_ms).await
}

async fn calibration_pass(model: &Model, device: &Device, now_ms: &impl Fn() -> f64) -> Result<f64, String> {
    let read = |transaction: Transaction| async move {
        readback::read(transaction).await.map(|_| ()).map_err(|e| e.to_string())
    };
    let started = now_ms();
    let decoder = model.valid();
    let mut cache = decoder.new_cache(CALIBRATION_ROWS, CALIBRATION_POSITIONS, device);
    let next = Tensor::<2, Int>::zeros([CALIBRATION_ROWS, 1], device);
    let mut logits = decoder.forward_cached(next.clone(), &mut cache);
    for _ in 1..CALIBRATION_DECODE_STEPS {
        logits = decoder.forward_cached(next.clone(), &mut cache);
    }
    read(Transaction::default().register(logits.sum())).await?;
    let decoded = now_ms();

    let training = device.clone().autodiff();
    let shape = [CALIBRATION_ROWS, CALIBRATION_POSITIONS];
    let out = model.forward(Tensor::zeros(shape, &training), Tensor::ones(shape, &training));
    let loss = out.logits.mean() + out.aux_loss;
    let _gradients = loss.backward();
    // Read after the backward pass: a device runs its queue in order, so this waits for all of it.
    read(Transaction::default().register(loss.inner())).await?;
    let updated = now_ms();
    let per_token = (decoded - started) / CALIBRATION_DECODE_STEPS as f64;
    Ok(per_token * CALIBRATION_COMPLETION as f64 + (updated - decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_serialises_as_the_page_expects() {
        let gpu = BackendInfo::Webgpu { adapter: "SwiftShader".into(), fallback_adapter: true, reason: None };
        assert_eq!(
            serde_json::to_string(&gpu).unwrap(),
            r#"{"kind":"webgpu","adapter":"SwiftShader","fallback_adapter":true}"#
        );
        let cpu = BackendInfo::Cpu { reason: "no navigator.gpu".into() };
        assert_eq!(serde_json::to_string(&cpu).unwrap(), r#"{"kind":"cpu","reason":"no navigator.gpu"}"#);
    }

    #[test]
    fn cpu_self_test_computes_the_known_sum() {
        let (device, info) = cpu_backend("test");
        assert!(matches!(info, BackendInfo::Cpu { .. }));
        let sum = pollster::block_on(self_test(&device)).unwrap();
        assert_eq!(sum, 54.0);
    }

    #[test]
    fn calibration_runs_on_the_cpu() {
        let (device, _) = cpu_backend("test");
        let clock = std::time::Instant::now();
        let ms = pollster::block_on(calibration_ms(&device, || clock.elapsed().as_secs_f64() * 1e3)).unwrap();
        // The warm-up pass and the model's initialisation are outside the figure; the decoding
        // part is scaled from 8 timed tokens to 72, so the figure may exceed the time it took.
        let elapsed = clock.elapsed().as_secs_f64() * 1e3;
        assert!(ms > 0.0 && ms < elapsed * 72.0 / 8.0, "{ms} ms of {elapsed} ms");
    }
}
