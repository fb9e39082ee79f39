// causal_attention_dkv.wgsl — causal self-attention for training, backward, second pass: the
// keys' and values' gradients, one invocation per key row j summing over the queries i ≥ j that
// saw it. With p_ij, dp_ij and ds_ij as in `causal_attention_dq.wgsl`:
//   dv_j = Σ_{i ≥ j} p_ij dO_i,   dk_j = scale · Σ_{i ≥ j} ds_ij q_i.
//
// Bindings (group 0, f32 arrays, row-major, contiguous; D = heads · d_head):
//   0 qkv   [batch, N, 3D] read   the forward's input
//   1 lse   [batch, H, N]  read   the forward's log-sum-exp per query row
//   2 grad  [batch, N, D]  read   dO
//   3 delta [batch, H, N]  read   δ_i from the first pass
//   4 dqkv  [batch, N, 3D] write  columns D..3D (keys', values'); the first pass wrote 0..D
//   5 sizes [2]            u32, read   rows (batch · H · N), N
// Template variables and dispatch: as `causal_attention.wgsl` (a row is a key here).
// Reference: the gradient autodiff derives for `causal_attention_reference`; within 1e-4.

{{ attention_layout }}

@group(0) @binding(0) var<storage, read_write> qkv: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> lse: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> sizes: array<u32>;

{{ one_invocation_per_item }}

fn one_item(row: u32) {
    let n = sizes[1];
    let j = row % n;
    let head_rows = row - j; // this (batch, head)'s first row in lse and delta
    let qkv_at = head_in_qkv(row, n);
    let out_head = head_in_out(row, n);
    let key_at = qkv_at + j * QKV_STRIDE + D4;

    var k: array<vec4<f32>, DH4>;
    var v: array<vec4<f32>, DH4>;
    for (var c = 0u; c < DH4; c++) {
        k[c] = qkv[key_at + c] * SCALE;
        v[c] = qkv[key_at + D4 + c];
    }
    var dk: array<vec4<f32>, DH4>;
    var dv: array<vec4<f32>, DH4>;
    for (var i = j; i < n; i++) {
        let query_at = qkv_at + i * QKV_STRIDE;
        let out_at = out_head + i * D4;
        var s = 0.0;
        var dp = 0.0;
        for (var c = 0u; c < DH4; c++) {
            s += dot(k[c], qkv[query_at + c]);
            dp += dot(grad[out_at + c], v[c]);
        }
        let p = exp(s - lse[head_rows + i]);
        let ds = p * (dp - delta[head_rows + i]);
        for (var c = 0u; c < DH4; c++) {
            dv[c] += p * grad[out_at + c];
            dk[c] += ds * qkv[query_at + c];
        }
    }
    for (var c = 0u; c < DH4; c++) {
        dqkv[key_at + c] = dk[c] * SCALE;
        dqkv[key_at + D4 + c] = dv[c];
    }
}
