// expert_mix.wgsl — the routed experts' output for decoding, every token in one pass:
// y[t] = Σ_r weight[t, r] · (gelu(x[t] · W_in[e]) · W_out[e]), e = index[t, r].
// Training runs every expert on every token as one batched matmul and zeroes the unchosen ones by
// their gate (dense, E/k times the FLOPs, but differentiable with plain ops); this reads only the
// chosen experts' weights, so a decode step does k/E of that arithmetic in one launch instead of
// nine (two matmuls, GELU's five ops, the gate transpose, the weighted sum).
//
// Bindings (group 0, row-major, contiguous):
//   0 x       [N, D]    f32, read   the tokens (after the MoE norm)
//   1 indices [N, K]    i32, read   chosen experts (the router kernel's output)
//   2 weights [N, K]    f32, read   their gate weights
//   3 w_in    [E, D, H] f32, read   every expert's input projection
//   4 w_out   [E, H, D] f32, read   every expert's output projection
//   5 y       [N, D]    f32, write  the weighted sum of the chosen experts' outputs
// Template variables: {{ d }} (D), {{ hidden }} (H), {{ top_k }} (K), {{ workgroup_size }}
//   (≥ max(D, H)); `gelu_functions` is `include/gelu.wgsl`, filled in by aha-kernels.
// Dispatch: one workgroup per token along x (N ≤ 65,535; the host falls back to the reference
//   beyond that).
// Reference: `aha_kernels::experts::expert_mix_reference` (the dense formula with Burn ops);
//   outputs must match it within 1e-5. GELU is the exact (erf) form of `include/gelu.wgsl`.

const D: u32 = {{ d }}u;
const H: u32 = {{ hidden }}u;
const K: u32 = {{ top_k }}u;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> w_in: array<f32>;
@group(0) @binding(4) var<storage, read_write> w_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> hidden: array<f32, H>;

{{ gelu_functions }}

@compute @workgroup_size({{ workgroup_size }})
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let token = group.x;
    var out = 0.0;
    for (var r = 0u; r < K; r++) {
        let expert = u32(indices[token * K + r]);
        let gate = weights[token * K + r];
        if lane < H {
            var sum = 0.0;
            for (var i = 0u; i < D; i++) {
                sum += x[token * D + i] * w_in[(expert * D + i) * H + lane];
            }
            hidden[lane] = gelu(sum);
        }
        workgroupBarrier();
        if lane < D {
            var sum = 0.0;
            for (var j = 0u; j < H; j++) {
                sum += hidden[j] * w_out[(expert * H + j) * D + lane];
            }
            out += gate * sum;
        }
        workgroupBarrier();
    }
    if lane < D {
        y[token * D + lane] = out;
    }
}
