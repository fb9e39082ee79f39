// rms_norm.wgsl — RMSNorm over the last dimension in one pass, for decoding and training:
// y = x / sqrt(mean(x²) + eps) · gamma, and each row's sqrt(mean(x²) + eps), which training's
// backward pass (`rms_norm_backward.wgsl`) reuses. Burn's RmsNorm is six kernels forward (square,
// mean, add, sqrt, divide, scale) and about ten backward; the model runs five norms a pass.
//
// Bindings (group 0, row-major, contiguous):
//   0 x     [rows, D] f32, read   the input
//   1 gamma [D]       f32, read   the learned scale
//   2 y     [rows, D] f32, write  the output
//   3 rms   [rows]    f32, write  sqrt(mean(x²) + eps) per row
//   4 sizes [2]       u32, read   rows, D (run-time: one pipeline for every shape)
// Template variables: {{ eps }} (an f32 literal, fixed per model), {{ workgroup_size }}.
// Dispatch: one invocation per row, workgroups along x then y (x · y · workgroup_size ≥ rows).
//   One invocation walks its row twice: with D ≈ 64 a workgroup reduction's barriers cost more
//   than they save on the CPU adapters (SwiftShader, lavapipe) this runs on here.
// Reference: `aha_kernels::norm::rms_norm_reference` (Burn's RmsNorm formula); within 1e-5.

const EPS: f32 = {{ eps }};

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rms: array<f32>;
@group(0) @binding(4) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(row: u32) {
    let d = sizes[1];
    let base = row * d;
    var sum = 0.0;
    for (var i = 0u; i < d; i++) {
        let v = x[base + i];
        sum += v * v;
    }
    // Divide rather than multiply by a reciprocal: the reference divides.
    let r = sqrt(sum / f32(d) + EPS);
    rms[row] = r;
    for (var i = 0u; i < d; i++) {
        y[base + i] = x[base + i] / r * gamma[i];
    }
}
