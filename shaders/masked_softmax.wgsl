// masked_softmax.wgsl — attention weights while decoding, in one pass: softmax over the keys of
// scores · scale + bias, where bias is 0 for keys a query may see and -1e9 for the rest (the
// causal mask, built on the host). Burn's path is seven launches (scale, mask, max, subtract,
// exp, sum, divide) per layer.
//
// Bindings (group 0, row-major, contiguous):
//   0 scores [rows, K] f32, read   query·key products; rows = batch · heads · N, query i = row % N
//   1 bias   [N, K]    f32, read   0 or -1e9 per query and key slot
//   2 probs  [rows, K] f32, write  the attention weights
//   3 sizes  [3]       u32, read   rows, K, N: run-time values, so that the prompt's length (N
//                                  while prefilling) does not compile a pipeline of its own
// Template variables: {{ scale }} (an f32 literal, fixed per model), {{ workgroup_size }}.
// Dispatch: one invocation per row, workgroups along x then y (x · y · workgroup_size ≥ rows);
//   with K ≈ 64 one invocation walks its row three times.
// Reference: `aha_kernels::attention::masked_softmax_reference` (softmax of Burn tensor ops);
//   weights must match it within 1e-5.

const SCALE: f32 = {{ scale }};

@group(0) @binding(0) var<storage, read_write> scores: array<f32>;
@group(0) @binding(1) var<storage, read_write> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(index: u32) {
    let K = sizes[1];
    let row = index * K;
    let mask = (index % sizes[2]) * K;
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
