// masked_softmax.wgsl — attention weights while decoding, in one pass: softmax over the keys of
// scores · scale + bias, where bias is 0 for keys a query may see and -1e9 for the rest (the
// causal mask, built on the host). Burn's path is seven launches (scale, mask, max, subtract,
// exp, sum, divide) per layer.
//
// Bindings (group 0, f32 arrays, row-major, contiguous):
//   0 scores [rows, K] read   query·key products; rows = batch · heads · N, query i = row % N
//   1 bias   [N, K]    read   0 or -1e9 per query and key slot
//   2 probs  [rows, K] write  the attention weights
// Template variables: {{ keys }} (K), {{ queries }} (N), {{ scale }} (an f32 literal).
// Dispatch: one single-invocation workgroup per row along x (rows ≤ 65,535; the host falls back
//   to the reference beyond that); with K ≈ 64 one invocation walks its row three times.
// Reference: `aha_kernels::attention::masked_softmax_reference` (softmax of Burn tensor ops);
//   weights must match it within 1e-5.

const K: u32 = {{ keys }}u;
const N: u32 = {{ queries }}u;
const SCALE: f32 = {{ scale }};

@group(0) @binding(0) var<storage, read_write> scores: array<f32>;
@group(0) @binding(1) var<storage, read_write> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) group: vec3<u32>) {
    let row = group.x * K;
    let mask = (group.x % N) * K;
    var top = -3.4028234663852886e38;
    for (var j = 0u; j < K; j++) {
        top = max(top, scores[row + j] * SCALE + bias[mask + j]);
    }
    var total = 0.0;
    for (var j = 0u; j < K; j++) {
        let e = exp(scores[row + j] * SCALE + bias[mask + j] - top);
        probs[row + j] = e;
        total += e;
    }
    for (var j = 0u; j < K; j++) {
        probs[row + j] = probs[row + j] / total;
    }
}
