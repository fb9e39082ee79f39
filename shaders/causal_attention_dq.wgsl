// causal_attention_dq.wgsl — causal self-attention for training, backward, first pass: the
// queries' gradient, and per query row the δ_i = dO_i · O_i the second pass needs. With
// p_ij = exp(s_ij − lse_i) recomputed from the forward's log-sum-exp (s_ij = q_i·k_j · scale):
//   dp_ij = dO_i · v_j,   ds_ij = p_ij (dp_ij − δ_i),   dq_i = scale · Σ_{j ≤ i} ds_ij k_j.
//
// Bindings (group 0, f32 arrays, row-major, contiguous; D = heads · d_head):
//   0 qkv     [batch, N, 3D] read   the forward's input
//   1 context [batch, N, D]  read   the forward's output O
//   2 lse     [batch, H, N]  read   the forward's log-sum-exp per query row
//   3 grad    [batch, N, D]  read   dO, the loss's gradient with respect to context
//   4 dqkv    [batch, N, 3D] write  columns 0..D (the queries'); the second pass writes the rest
//   5 delta   [batch, H, N]  write  δ_i
//   6 sizes   [2]            u32, read   rows (batch · H · N), N
// Template variables and dispatch: as `causal_attention.wgsl`.
// Reference: the gradient autodiff derives for `causal_attention_reference`; within 1e-4.

{{ attention_layout }}

@group(0) @binding(0) var<storage, read_write> qkv: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> context: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(row: u32) {
    let n = sizes[1];
    let i = row % n;
    let qkv_at = head_in_qkv(row, n);
    let query_at = qkv_at + i * QKV_STRIDE;
    let out_at = head_in_out(row, n) + i * D4;

    var q: array<vec4<f32>, DH4>;
    var d_out: array<vec4<f32>, DH4>;
    var delta_i = 0.0;
    for (var c = 0u; c < DH4; c++) {
        q[c] = qkv[query_at + c] * SCALE;
        d_out[c] = grad[out_at + c];
        delta_i += dot(d_out[c], context[out_at + c]);
    }
    let lse_i = lse[row];
    var dq: array<vec4<f32>, DH4>;
    for (var j = 0u; j <= i; j++) {
        let key_at = qkv_at + j * QKV_STRIDE + D4;
        var s = 0.0;
        var dp = 0.0;
        for (var c = 0u; c < DH4; c++) {
            s += dot(q[c], qkv[key_at + c]);
            dp += dot(d_out[c], qkv[key_at + D4 + c]);
        }
        let ds = exp(s - lse_i) * (dp - delta_i);
        for (var c = 0u; c < DH4; c++) {
            dq[c] += ds * qkv[key_at + c];
        }
    }
    for (var c = 0u; c < DH4; c++) {
        dqkv[query_at + c] = dq[c] * SCALE;
    }
    delta[row] = delta_i;
}
