// include/attention.wgsl — the sizes and the layout the three causal-attention kernels share,
// pasted where they name the `attention_layout` template variable. A row is one (batch, head,
// position) of n positions a sequence. qkv is the fused projection, [batch, n, 3 · D]: a position's
// query, then its key D4 further, then its value 2 · D4 further; context and grad are
// [batch, n, D] with the heads merged. The kernels read and write four floats at a time: d_head is
// a multiple of 4 (the host checks), so every head's slice starts on a vec4; positions are in vec4s.

const H: u32 = {{ heads }}u;
const DH: u32 = {{ d_head }}u;
const SCALE: f32 = {{ scale }};
const D: u32 = H * DH;
const DH4: u32 = DH / 4u;
const D4: u32 = D / 4u;
// From one position's query (or key) in qkv to the next position's.
const QKV_STRIDE: u32 = 3u * D4;

// Where `row`'s head starts at position 0 of its sequence in qkv: position i's query is at
// head_in_qkv + i · QKV_STRIDE.
fn head_in_qkv(row: u32, n: u32) -> u32 {
    return (row / n / H) * n * QKV_STRIDE + ((row / n) % H) * DH4;
}

// Where `row`'s head starts at position 0 of its sequence in context and grad: position i's output
// is at head_in_out + i · D4.
fn head_in_out(row: u32, n: u32) -> u32 {
    return (row / n / H) * n * D4 + ((row / n) % H) * DH4;
}
