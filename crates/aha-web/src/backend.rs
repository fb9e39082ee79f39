//! Backend choice: WebGPU when the browser has a usable adapter, else the CPU, with the reason.

use aha_model::readback;
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, Tensor, Transaction};
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
    Ok((device, BackendInfo::Webgpu { adapter: info.name, fallback_adapter }, setup.device, setup.queue))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_serialises_as_the_page_expects() {
        let gpu = BackendInfo::Webgpu { adapter: "SwiftShader".into(), fallback_adapter: true };
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
}
