//! The WebGPU device for browser tests: Burn's wgpu runtime is global and starts once per page, so
//! every test shares one device. A run that promised WebGPU fails — never skips — without it.

#[cfg(target_family = "wasm")]
thread_local! {
    static WEBGPU: std::cell::RefCell<Option<burn::tensor::Device>> = const { std::cell::RefCell::new(None) };
}

/// The WebGPU device, started asynchronously on first use. Panics (fails the test) without one.
#[cfg(target_family = "wasm")]
pub async fn device() -> burn::tensor::Device {
    if let Some(device) = WEBGPU.with(|cell| cell.borrow().clone()) {
        return device;
    }
    let (device, info, _, _) = aha_web::webgpu_backend()
        .await
        .unwrap_or_else(|reason| panic!("this run promised WebGPU, but: {reason}"));
    assert!(matches!(info, aha_web::BackendInfo::Webgpu { .. }), "{info:?}");
    WEBGPU.with(|cell| *cell.borrow_mut() = Some(device.clone()));
    device
}
