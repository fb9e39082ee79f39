// adam_norm.wgsl — the squared L2 norm of one parameter's gradient, for Adam's per-tensor norm
// clipping, in one launch (Burn: a square and a sum, each with its own pipeline per shape). One
// workgroup strides over the whole tensor and reduces in workgroup memory: a parameter here is at
// most a few hundred thousand floats, and one workgroup keeps the sum free of cross-workgroup
// synchronisation. The result lands in the update's parameter buffer (`adam.wgsl` reads it there),
// which keeps that kernel within WebGPU's eight storage buffers.
//
// Bindings (group 0, contiguous):
//   0 grad   [len] f32, read   the parameter's gradient
//   1 params [10]  u32, write  params[0] = the bits of Σ grad²; params[9] = len (see adam.wgsl)
// Template variables: {{ workgroup_size }} (a power of two).
// Dispatch: exactly one workgroup.
// Reference: `grad.square().sum()` in `aha_kernels::adam::adam_update_reference`; within 1e-5.

const WORKGROUP: u32 = {{ workgroup_size }}u;

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> params: array<u32>;

{{ workgroup_sum }}

@compute @workgroup_size({{ workgroup_size }})
fn main(@builtin(local_invocation_index) lane: u32) {
    let len = params[9];
    var sum = 0.0;
    for (var i = lane; i < len; i += WORKGROUP) {
        let g = grad[i];
        sum += g * g;
    }
    let total = workgroup_sum(lane, sum);
    if lane == 0u {
        params[0] = bitcast<u32>(total);
    }
}
