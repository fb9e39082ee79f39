// rms_norm_backward.wgsl — RMSNorm's backward for one row per invocation, from the forward's rms:
// with a = grad · gamma,  dx = (a − x · Σ(a · x) / (D · rms²)) / rms,  and the row's share of
// gamma's gradient, grad · x / rms (summed over rows afterwards: a reduction across rows needs
// a pass of its own). Burn's autodiff runs about ten launches for this.
//
// Bindings (group 0, row-major, contiguous):
//   0 x           [rows, D] f32, read   the forward's input
//   1 gamma       [D]       f32, read
//   2 rms         [rows]    f32, read   the forward's sqrt(mean(x²) + eps)
//   3 grad        [rows, D] f32, read   the loss's gradient with respect to y
//   4 dx          [rows, D] f32, write
//   5 gamma_parts [rows, D] f32, write  grad · x / rms
//   6 sizes       [2]       u32, read   rows, D
// Template variables: {{ workgroup_size }}.
// Dispatch: one invocation per row, as `rms_norm.wgsl`.
// Reference: the gradients autodiff derives for `aha_kernels::norm::rms_norm_reference`; within
//   1e-5 of the largest.


@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> rms: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> gamma_parts: array<f32>;
@group(0) @binding(6) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(row: u32) {
    let d = sizes[1];
    let base = row * d;
    let r = rms[row];
    var dot = 0.0;
    for (var i = 0u; i < d; i++) {
        dot += grad[base + i] * gamma[i] * x[base + i];
    }
    let k = dot / (f32(d) * r * r);
    for (var i = 0u; i < d; i++) {
        let v = x[base + i];
        let g = grad[base + i];
        dx[base + i] = (g * gamma[i] - v * k) / r;
        gamma_parts[base + i] = g * v / r;
    }
}
