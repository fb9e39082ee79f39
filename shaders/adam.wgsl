// adam.wgsl — one Adam update of one parameter in one launch (Burn: about twenty-five element-wise
// launches, several compiled per parameter shape): the per-tensor norm clip, both moments, the
// bias-corrected step. The moments and the parameter are written to new buffers, not in place: the
// trainer keeps the old ones to roll back an update that went non-finite.
//   g  = grad · min(limit / (√Σg² + MIN_POSITIVE), 1)    (no clip when limit < 0)
//   m' = m · β₁ + g · (1 − β₁),   v' = v · β₂ + g² · (1 − β₂)
//   value' = value − (m' · c) / (√v' + ε₂) · lr,   c = √(1 − β₂ᵗ) / (1 − β₁ᵗ), ε₂ = ε √(1 − β₂ᵗ)
//
// Bindings (group 0, contiguous, all [len] f32 but params):
//   0 value      read    the parameter
//   1 grad       read    its gradient
//   2 first      read    m (zeros before the first update)
//   3 second     read    v (zeros before the first update)
//   4 new_value  write
//   5 new_first  write
//   6 new_second write
//   7 params [10] u32, read: the f32 bits of Σg² (written by adam_norm.wgsl), limit, β₁, 1 − β₁,
//     β₂, 1 − β₂, c, ε₂, lr, then len. Run-time values (f32 passed as bits, so that no value is
//     ever loaded as a float it is not), one pipeline for every parameter and every step.
// Template variables: {{ workgroup_size }}.
// Dispatch: one invocation per element, workgroups along x then y (x · y · workgroup_size ≥ len).
// Reference: `aha_kernels::adam::adam_update_reference` (Burn's Adam with norm clipping); within
//   1e-5.

const WORKGROUP: u32 = {{ workgroup_size }}u;
// f32::MIN_POSITIVE, as Burn's norm clipping adds it.
const MIN_POSITIVE: f32 = 1.17549435e-38;

@group(0) @binding(0) var<storage, read_write> value: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> first: array<f32>;
@group(0) @binding(3) var<storage, read_write> second: array<f32>;
@group(0) @binding(4) var<storage, read_write> new_value: array<f32>;
@group(0) @binding(5) var<storage, read_write> new_first: array<f32>;
@group(0) @binding(6) var<storage, read_write> new_second: array<f32>;
@group(0) @binding(7) var<storage, read_write> params: array<u32>;

// The f32 run-time value in `params[i]`.
fn f(i: u32) -> f32 {
    return bitcast<f32>(params[i]);
}

@compute @workgroup_size({{ workgroup_size }})
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
    let index = (group.y * groups.x + group.x) * WORKGROUP + lane;
    if index >= params[9] {
        return;
    }
    let limit = f(1u);
    var g = grad[index];
    if limit >= 0.0 {
        g *= min(limit / (sqrt(f(0u)) + MIN_POSITIVE), 1.0);
    }
    let m = first[index] * f(2u) + g * f(3u);
    let v = second[index] * f(4u) + (g * g) * f(5u);
    new_first[index] = m;
    new_second[index] = v;
    new_value[index] = value[index] - (m * f(6u)) / (sqrt(v) + f(7u)) * f(8u);
}
