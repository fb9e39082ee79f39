// causal_attention.wgsl — causal self-attention for training, forward: for every query row, the
// softmax over keys 0..=i of q·k · scale, times the values, read straight from the fused qkv
// projection and written in the merged-heads layout. Replaces Burn's path (split heads, two
// batched matmuls whose per-head shapes are 16 wide, scale, mask, a seven-launch softmax, merge)
// whose matmuls ran at a tenth of the update's matmul rate (dev/LOG.md, 2026-11-30).
//
// Bindings (group 0, f32 arrays, row-major, contiguous; D = heads · d_head):
//   0 qkv     [batch, N, 3D] read   queries, keys, values; head h is columns h·d_head.. of each
//   1 context [batch, N, D]  write  softmax(q kᵀ · scale, causal) v, heads side by side
//   2 lse     [batch, H, N]  write  log Σ_j exp(q_i·k_j · scale), kept for the backward pass
//   3 sizes   [2]            u32, read   rows (batch · H · N), N
// Template variables: {{ heads }} (H), {{ d_head }}, {{ scale }} (an f32 literal),
//   {{ workgroup_size }}. The batch and the length are read at run time: an update's length
//   follows its rollout's longest answer, and a template value would compile three new pipelines
//   for every new length (seconds each on a software adapter).
// Dispatch: one invocation per (batch, head, query) row, workgroups along x then y
//   (x · y · workgroup_size ≥ rows; the host falls back to the reference past 65,535² groups).
//   Keys and values are read from storage, not staged in workgroup memory: on the CPU adapters
//   here a barrier costs more than the reads it saves, and N · d_head is small.
// Reference: `aha_kernels::causal_attention::causal_attention_reference` (Burn tensor ops);
//   context must match it within 1e-5.

{{ attention_layout }}
const LOWEST: f32 = -3.4028234663852886e38;

@group(0) @binding(0) var<storage, read_write> qkv: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> context: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(row: u32) {
    let n = sizes[1];
    let i = row % n;
    let qkv_at = head_in_qkv(row, n);
    let query_at = qkv_at + i * QKV_STRIDE;

    var q: array<vec4<f32>, DH4>;
    for (var c = 0u; c < DH4; c++) {
        q[c] = qkv[query_at + c] * SCALE;
    }
    // Online softmax: the running maximum `top`, the sum of exp(s - top) and the weighted values
    // are rescaled whenever the maximum grows, so one pass over the keys suffices.
    var top = LOWEST;
    var total = 0.0;
    var acc: array<vec4<f32>, DH4>;
    for (var j = 0u; j <= i; j++) {
        let key_at = qkv_at + j * QKV_STRIDE + D4;
        var s = 0.0;
        for (var c = 0u; c < DH4; c++) {
            s += dot(q[c], qkv[key_at + c]);
        }
        let new_top = max(top, s);
        let rescale = exp(top - new_top);
        let p = exp(s - new_top);
        total = total * rescale + p;
        for (var c = 0u; c < DH4; c++) {
            acc[c] = acc[c] * rescale + p * qkv[key_at + D4 + c];
        }
        top = new_top;
    }
    let out_at = head_in_out(row, n) + i * D4;
    for (var c = 0u; c < DH4; c++) {
        context[out_at + c] = acc[c] / total;
    }
    lse[row] = top + log(total);
}
