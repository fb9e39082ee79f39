// sample.wgsl — one decode step for every row: temperature, optional top-k, a categorical draw
// from a counter-based random number (so a seed gives the same tokens on every platform), the
// token's log-probability, and the per-row finished mask.
//
// Bindings (group 0, row-major, contiguous):
//   0 logits        [rows, V] f32, read   next-token logits
//   1 finished_in   [rows]    i32, read   1 for rows that already ended, else 0
//   2 tokens        [rows]    i32, write  the chosen token; `pad` for finished rows
//   3 logprobs      [rows]    f32, write  its log-probability under the distribution it was drawn
//                                         from (scaled and top-k'd); 0 for finished rows
//   4 finished_out  [rows]    i32, write  finished_in, or 1 once the row emits `stop` or this is
//                                         step max_steps - 1
//   5 params        [9]       u32, read   rows, step, max_steps, seed (low, high),
//                                         temperature (f32 bits; 0 = greedy), top_k (0 = all),
//                                         stop, pad
// Template variables: {{ workgroup_size }} (a power of two; the threads of one row),
//   {{ vocab }} (V ≤ 2048, held twice in workgroup memory).
// Dispatch: one workgroup per row along x.
// Reference: `aha_kernels::sample::sample_step_reference`, fed the same uniforms by
//   `aha_kernels::sample::uniform`; tokens must match it except where the draw lies within
//   rounding of a bucket edge, log-probabilities within 1e-5.
//
// The draw: u = hash(seed, step, row) in [0, 1), exactly representable, computed the same way
// on the host; the token is the number of tokens whose cumulative probability is ≤ u · total
// (inverse CDF, summed in token order), the last token at most. Greedy takes the first
// largest logit and scores it under the unscaled softmax.

const V: u32 = {{ vocab }}u;
const WORKGROUP: u32 = {{ workgroup_size }}u;
// Dropped tokens get the lowest finite float, not -inf: exp() still makes them exactly 0, and
// WGSL has no infinite constants.
const LOWEST: f32 = -3.4028234663852886e38;

@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> finished_in: array<i32>;
@group(0) @binding(2) var<storage, read_write> tokens: array<i32>;
@group(0) @binding(3) var<storage, read_write> logprobs: array<f32>;
@group(0) @binding(4) var<storage, read_write> finished_out: array<i32>;
@group(0) @binding(5) var<storage, read_write> params: array<u32>;

var<workgroup> scaled: array<f32, V>;
var<workgroup> kept: array<f32, V>;
var<workgroup> best_value: array<f32, WORKGROUP>;
var<workgroup> best_index: array<u32, WORKGROUP>;
{{ workgroup_sum }}

// PCG-RXS-M-XS as a hash (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020).
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn uniform(seed_low: u32, seed_high: u32, step: u32, row: u32) -> f32 {
    var h = pcg(seed_low);
    h = pcg(h ^ seed_high);
    h = pcg(h ^ step);
    h = pcg(h ^ row);
    return f32(h >> 8u) * (1.0 / 16777216.0);
}

@compute @workgroup_size({{ workgroup_size }})
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let row = group.x;
    let step = params[1];
    let temperature = bitcast<f32>(params[5]);
    let greedy = temperature == 0.0;
    let top_k = select(params[6], 0u, greedy);
    let base = row * V;

    // Scale, then keep the top k (ties with the k-th value stay): an entry survives when fewer
    // than k entries are strictly larger.
    for (var i = lane; i < V; i += WORKGROUP) {
        scaled[i] = select(logits[base + i] / temperature, logits[base + i], greedy);
    }
    workgroupBarrier();
    for (var i = lane; i < V; i += WORKGROUP) {
        var larger = 0u;
        if top_k > 0u && top_k < V {
            for (var j = 0u; j < V; j++) {
                larger += select(0u, 1u, scaled[j] > scaled[i]);
            }
        }
        kept[i] = select(scaled[i], LOWEST, top_k > 0u && larger >= top_k);
    }
    workgroupBarrier();

    // The first largest kept value: its index is the greedy token, its value the softmax shift.
    var value = LOWEST;
    var index = V;
    for (var i = lane; i < V; i += WORKGROUP) {
        if index == V || kept[i] > value {
            value = kept[i];
            index = i;
        }
    }
    best_value[lane] = value;
    best_index[lane] = index;
    workgroupBarrier();
    for (var width = WORKGROUP / 2u; width > 0u; width /= 2u) {
        if lane < width {
            let other_value = best_value[lane + width];
            let other_index = best_index[lane + width];
            let better = other_index != V && (best_index[lane] == V || other_value > best_value[lane]
                || (other_value == best_value[lane] && other_index < best_index[lane]));
            if better {
                best_value[lane] = other_value;
                best_index[lane] = other_index;
            }
        }
        workgroupBarrier();
    }
    let shift = best_value[0];
    let argmax = best_index[0];

    var sum = 0.0;
    for (var i = lane; i < V; i += WORKGROUP) {
        sum += exp(kept[i] - shift);
    }
    let log_total = shift + log(workgroup_sum(lane, sum));

    if lane != 0u {
        return;
    }
    var token = argmax;
    if !greedy {
        // Inverse CDF in token order, as the reference's cumulative sum.
        var cdf = 0.0;
        var cdfs_total = 0.0;
        for (var i = 0u; i < V; i++) {
            cdfs_total += exp(kept[i] - log_total);
        }
        let goal = uniform(params[3], params[4], step, row) * cdfs_total;
        token = 0u;
        for (var i = 0u; i < V; i++) {
            cdf += exp(kept[i] - log_total);
            token += select(0u, 1u, cdf <= goal);
        }
        token = min(token, V - 1u);
    }
    let done = finished_in[row] != 0;
    tokens[row] = select(i32(token), i32(params[8]), done);
    logprobs[row] = select(kept[token] - log_total, 0.0, done);
    let ends = token == params[7] || step + 1u >= params[2];
    finished_out[row] = select(0, 1, done || ends);
}
