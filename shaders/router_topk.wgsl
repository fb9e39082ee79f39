// router_topk.wgsl — the MoE router's gate for every token in one pass: softmax over the E expert
// logits, the k best experts, and their gate weights.
//
// Bindings (group 0, all f32/i32/u32 arrays, row-major, contiguous):
//   0 logits  [tokens, E] f32, read   router logits
//   1 probs   [tokens, E] f32, write  softmax(logits) per token
//   2 indices [tokens, K] i32, write  chosen experts, best first; ties go to the lower index
//   3 weights [tokens, K] f32, write  K = 1: the chosen probability (Switch Transformer);
//                                     K > 1: the chosen probabilities renormalised to sum to 1
//   4 shape   [1]         u32, read   tokens
// Template variables: {{ workgroup_size }} (threads per workgroup, one token each),
//   {{ experts }} (E ≤ 16), {{ top_k }} (K ≤ min(2, E)).
// Dispatch: ceil(tokens / workgroup_size) workgroups along x, spilling into y past 65,535.
// Reference: `aha_kernels::router::router_top_k_reference` (plain Burn tensor ops); the indices
//   must match it exactly, the probabilities and weights within 1e-5.
//
// Experts are ranked by logit, not by probability: the order is the same (softmax is monotonic),
// and comparing the inputs themselves keeps the choice bit-identical to the reference whatever
// rounding the exponentials get. A -inf logit ranks as the lowest finite float, so a token always
// gets K distinct experts.

const E: u32 = {{ experts }}u;
const K: u32 = {{ top_k }}u;
const WORKGROUP: u32 = {{ workgroup_size }}u;
const LOWEST: f32 = -3.4028234663852886e38;

@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> probs: array<f32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> shape: array<u32>;

@compute @workgroup_size({{ workgroup_size }})
fn main(
    @builtin(global_invocation_id) global_id: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let token = global_id.x + global_id.y * groups.x * WORKGROUP;
    if token >= shape[0] {
        return;
    }
    let base = token * E;

    var ranked: array<f32, E>;
    var top = LOWEST;
    for (var e = 0u; e < E; e++) {
        ranked[e] = max(logits[base + e], LOWEST);
        top = max(top, ranked[e]);
    }
    var total = 0.0;
    for (var e = 0u; e < E; e++) {
        total += exp(logits[base + e] - top);
    }
    for (var e = 0u; e < E; e++) {
        probs[base + e] = exp(logits[base + e] - top) / total;
    }

    var chosen: array<u32, K>;
    var chosen_sum = 0.0;
    for (var r = 0u; r < K; r++) {
        var best = E;
        for (var e = 0u; e < E; e++) {
            var taken = false;
            for (var q = 0u; q < r; q++) {
                taken = taken || chosen[q] == e;
            }
            // Strictly greater: among equal logits the first (lowest index) stays.
            if !taken && (best == E || ranked[e] > ranked[best]) {
                best = e;
            }
        }
        chosen[r] = best;
        chosen_sum += probs[base + best];
    }
    for (var r = 0u; r < K; r++) {
        let p = probs[base + chosen[r]];
        indices[token * K + r] = i32(chosen[r]);
        weights[token * K + r] = select(p / max(chosen_sum, 1e-9), p, K == 1u);
    }
}
