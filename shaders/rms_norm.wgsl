// rms_norm.wgsl — RMSNorm over the last dimension in one pass, for decoding:
// y = x / sqrt(mean(x²) + eps) · gamma. Burn's RmsNorm is six kernels (square, mean, add, sqrt,
// divide, scale); a decode step runs five norms, so this saves ~25 launches a step.
//
// Bindings (group 0, f32 arrays, row-major, contiguous):
//   0 x     [rows, D] read   the input
//   1 gamma [D]       read   the learned scale
//   2 y     [rows, D] write  the output
// Template variables: {{ d }} (D), {{ eps }} (an f32 literal).
// Dispatch: one single-invocation workgroup per row along x (rows ≤ 65,535; the host falls back
//   to the reference beyond that). One invocation walks its row twice: with D ≈ 64 there is
//   nothing to share, and a workgroup reduction's barriers cost more than they save on the CPU
//   adapters (SwiftShader, lavapipe) this runs on here.
// Reference: `aha_kernels::norm::rms_norm_reference` (Burn's RmsNorm formula); outputs must match
//   it within 1e-5.

const D: u32 = {{ d }}u;
const EPS: f32 = {{ eps }};

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) group: vec3<u32>) {
    let row = group.x * D;
    var sum = 0.0;
    for (var i = 0u; i < D; i++) {
        let v = x[row + i];
        sum += v * v;
    }
    // Divide rather than multiply by a reciprocal: the reference divides.
    let rms = sqrt(sum / f32(D) + EPS);
    for (var i = 0u; i < D; i++) {
        y[row + i] = x[row + i] / rms * gamma[i];
    }
}
