//! The adapter's matmul peak: our tiled WGSL matmul (`shaders/matmul_tiled.wgsl`) timed through
//! wgpu directly, on the device Burn shares (its `WgpuSetup`), at a shape the caller picks (the
//! model's). The bench figures divide the GRPO update's achieved rate by it. A lower bound of what
//! the adapter can do: it is one reasonably tuned kernel, not a vendor library.
//!
//! Asynchronous throughout (a browser cannot block): the end of the timed dispatches is awaited by
//! mapping the result buffer, which is also what checks the product against
//! [`matmul_reference`].

use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, Tensor, Transaction};
use wgpu::util::DeviceExt;

use crate::wgsl::MATMUL_TILED;

/// What one measurement found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatmulPeak {
    /// `[m, k, n]`: C[m×n] = A[m×k] · B[k×n].
    pub shape: [u32; 3],
    /// Timed dispatches (after one untimed warm-up).
    pub repeats: u32,
    /// 2·m·k·n·repeats over the timed wall time, in GFLOP/s.
    pub gflops: f64,
    /// The largest |kernel − reference| over the product, relative to its largest |value|.
    pub max_relative_error: f32,
}

/// C = A · B on the CPU, row-major: what the kernel must match.
pub fn matmul_reference(a: &[f32], b: &[f32], [m, k, n]: [usize; 3]) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for row in 0..m {
        for inner in 0..k {
            let left = a[row * k + inner];
            for col in 0..n {
                c[row * n + col] += left * b[inner * n + col];
            }
        }
    }
    c
}

/// Deterministic inputs in [-1, 1): the same on every platform.
fn inputs(len: usize, seed: u32) -> Vec<f32> {
    (0..len as u32)
        .map(|i| {
            let x = i.wrapping_mul(2_654_435_761).wrapping_add(seed.wrapping_mul(40_503)) >> 8;
            x as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

/// Burn's own matmul (what the model's layers run) at the `[m, k, n]` shape on `device`, in
/// GFLOP/s: `repeats` products after one warm-up, timed to the end of a one-number readback of
/// the last (the queue runs in order). A second bound beside [`measure`]'s: on a CPU adapter our
/// tiled kernel can be the slower of the two (dev/LOG.md, 2026-11-30).
pub async fn burn_matmul_gflops(
    device: &Device,
    shape: [u32; 3],
    repeats: u32,
    now_ms: impl Fn() -> f64,
) -> Result<f64, String> {
    let [m, k, n] = shape.map(|v| v as usize);
    if m == 0 || k == 0 || n == 0 || repeats == 0 {
        return Err(format!("the shape {shape:?} and {repeats} repeats must all be positive"));
    }
    let a = Tensor::<1>::from_floats(inputs(m * k, 1).as_slice(), device).reshape([m, k]);
    let b = Tensor::<1>::from_floats(inputs(k * n, 2).as_slice(), device).reshape([k, n]);
    let finish = |product: Tensor<2>| async move {
        crate::readback::read(Transaction::default().register(product.sum())).await.map(drop).map_err(|e| e.0)
    };
    finish(a.clone().matmul(b.clone())).await?;
    let start = now_ms();
    let mut product = a.clone().matmul(b.clone());
    for _ in 1..repeats {
        product = a.clone().matmul(b.clone());
    }
    finish(product).await?;
    let seconds = ((now_ms() - start) / 1e3).max(f64::MIN_POSITIVE);
    Ok(2.0 * (m * k * n) as f64 * f64::from(repeats) / seconds / 1e9)
}

/// Times `repeats` products of the `[m, k, n]` shape on `device` (after one warm-up) and checks the
/// result against [`matmul_reference`]. `now_ms` is a monotonic clock in milliseconds.
pub async fn measure(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    shape: [u32; 3],
    repeats: u32,
    now_ms: impl Fn() -> f64,
) -> Result<MatmulPeak, String> {
    let [m, k, n] = shape;
    if m == 0 || k == 0 || n == 0 || repeats == 0 {
        return Err(format!("the shape {shape:?} and {repeats} repeats must all be positive"));
    }
    let (a, b) = (inputs((m * k) as usize, 1), inputs((k * n) as usize, 2));
    let storage = |label, data: &[f32]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(data),
            usage: wgpu::BufferUsages::STORAGE,
        })
    };
    let a_buffer = storage("matmul a", &a);
    let b_buffer = storage("matmul b", &b);
    let dims = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("matmul dims"),
        contents: bytemuck::cast_slice(&[m, k, n, 0]),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let c_bytes = u64::from(m) * u64::from(n) * 4;
    let c_buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("matmul c"),
        size: c_bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(MATMUL_TILED.file),
        source: wgpu::ShaderSource::Wgsl(MATMUL_TILED.source.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("matmul peak"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("matmul peak"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: dims.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: a_buffer.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: b_buffer.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 3, resource: c_buffer.as_entire_binding() },
        ],
    });
    let run = |times: u32| -> Result<wgpu::Buffer, String> {
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("matmul readback"),
            size: c_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            for _ in 0..times {
                pass.dispatch_workgroups(n.div_ceil(64), m.div_ceil(64), 1);
            }
        }
        encoder.copy_buffer_to_buffer(&c_buffer, 0, &readback, 0, c_bytes);
        queue.submit([encoder.finish()]);
        Ok(readback)
    };

    // Warm-up: compiles the pipeline and faults the buffers in; its product is the one checked.
    let warm = run(1)?;
    let product = read_f32(device, &warm).await?;
    let expected = matmul_reference(&a, &b, [m as usize, k as usize, n as usize]);
    let scale = expected.iter().fold(0.0f32, |max, v| max.max(v.abs())).max(f32::MIN_POSITIVE);
    let max_relative_error =
        product.iter().zip(&expected).fold(0.0f32, |max, (got, want)| max.max((got - want).abs())) / scale;

    let start = now_ms();
    let timed = run(repeats)?;
    read_f32(device, &timed).await?;
    let seconds = (now_ms() - start) / 1e3;
    let flops = 2.0 * f64::from(m) * f64::from(k) * f64::from(n) * f64::from(repeats);
    Ok(MatmulPeak { shape, repeats, gflops: flops / seconds.max(1e-9) / 1e9, max_relative_error })
}

/// Maps `buffer` (after the work before it finishes) and copies it out as f32.
async fn read_f32(device: &wgpu::Device, buffer: &wgpu::Buffer) -> Result<Vec<f32>, String> {
    let done = Arc::new(Mutex::new(Mapped::default()));
    let signal = done.clone();
    buffer.slice(..).map_async(wgpu::MapMode::Read, move |result| {
        let mut state = signal.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.result = Some(result.map_err(|e| format!("the result buffer could not be mapped: {e}")));
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    });
    // Natively the callback runs inside poll; in the browser the page's event loop runs it.
    #[cfg(not(target_family = "wasm"))]
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| format!("waiting for the GPU failed: {e}"))?;
    #[cfg(target_family = "wasm")]
    let _ = device;
    std::future::poll_fn(|context| {
        let mut state = done.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match state.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                state.waker = Some(context.waker().clone());
                Poll::Pending
            }
        }
    })
    .await?;
    let values = {
        let view = buffer.slice(..).get_mapped_range().map_err(|e| format!("reading the result: {e}"))?;
        bytemuck::pod_collect_to_vec::<u8, f32>(&view)
    };
    buffer.unmap();
    Ok(values)
}

#[derive(Default)]
struct Mapped {
    result: Option<Result<(), String>>,
    waker: Option<Waker>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_multiplies() {
        // [[1, 2], [3, 4]] · [[5], [6]] = [[17], [39]]
        assert_eq!(matmul_reference(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0], [2, 2, 1]), vec![17.0, 39.0]);
        let values = inputs(1000, 3);
        assert!(values.iter().all(|v| (-1.0..1.0).contains(v)));
        assert!(values.iter().any(|&v| v < -0.5) && values.iter().any(|&v| v > 0.5));
    }
}
