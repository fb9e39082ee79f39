//! How much device memory Burn's wgpu backend holds, from its memory pools: for the soak test
//! (flat after warm-up, or something leaks) and the page's bench panel. Bookkeeping only — no GPU
//! read, so it is safe on WebGPU in wasm.

use burn::tensor::{Device, Tensor};
use cubecl::MemoryScope;
use serde::Serialize;

use crate::wgsl;

/// The device's memory pools, summed over streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceMemory {
    /// Live allocations (slices handed out of the pools).
    pub allocations: u64,
    /// Bytes those allocations use.
    pub bytes_in_use: u64,
    /// Bytes the pools hold on the device (GPU buffers), used or not.
    pub bytes_reserved: u64,
}

/// The memory of `device`'s pools, or `None` on a backend without them (the CPU).
pub fn device_memory(device: &Device) -> Option<DeviceMemory> {
    // The client is reached through a tensor on the device; this one-float probe is counted too,
    // the same in every call.
    let probe = wgsl::cube_f32(&Tensor::<1>::zeros([1], device))?;
    let usage = probe.client.memory_report(MemoryScope::Device).usage();
    Some(DeviceMemory {
        allocations: usage.number_allocs,
        bytes_in_use: usage.bytes_in_use,
        bytes_reserved: usage.bytes_reserved,
    })
}
