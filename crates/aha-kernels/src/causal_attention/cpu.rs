//! The training attention as plain loops over slices, for Burn's CPU backend (Flex): what the
//! WGSL kernels compute, one sequence and head at a time, forward and backward.
//!
//! Why: Burn's formulation on the CPU multiplies the masked half of every score matrix too,
//! and exponentiates the masked scores (`-1e9`, glibc's slow underflow path). Here each query
//! sees only the keys at or before it. Unlike the WGSL kernels, the forward pass keeps the weights
//! (the lower triangles, half of Burn's `[batch, heads, n, n]`) for the backward pass: memory is
//! cheap here and an `exp` is not.

/// Sizes of one call: `qkv` is `[batch, n, 3·d]`, `heads` heads of `d / heads` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sizes {
    pub batch: usize,
    pub n: usize,
    pub heads: usize,
    pub d: usize,
}

impl Sizes {
    fn d_head(&self) -> usize {
        self.d / self.heads
    }

    fn scale(&self) -> f32 {
        1.0 / (self.d_head() as f32).sqrt()
    }

    /// Where head `head`'s query of position `i` of sequence `b` starts in `qkv`; its key and value
    /// start `d` and `2·d` after it.
    fn query_at(&self, b: usize, i: usize, head: usize) -> usize {
        (b * self.n + i) * 3 * self.d + head * self.d_head()
    }

    /// Where head `head`'s slice of position `i` of sequence `b` starts in a `[batch, n, d]` tensor.
    fn merged_at(&self, b: usize, i: usize, head: usize) -> usize {
        (b * self.n + i) * self.d + head * self.d_head()
    }

    /// Weights kept per sequence and head: query `i`'s `i + 1` of them.
    fn triangle(&self) -> usize {
        self.n * (self.n + 1) / 2
    }

    /// Where query `i`'s weights start in the weights of sequence `b`, head `head`.
    fn weights_at(&self, b: usize, i: usize, head: usize) -> usize {
        (b * self.heads + head) * self.triangle() + i * (i + 1) / 2
    }
}

/// Eight running sums, not one: a single sum's additions must run in order, so the compiler would
/// neither vectorise it nor overlap them (this dot was most of the kernel's time that way).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for k in 0..8 {
            sums[k] += x[k] * y[k];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// `target += weight · source`.
fn add_scaled(target: &mut [f32], weight: f32, source: &[f32]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t += weight * s;
    }
}

/// The context `[batch, n, d]` (heads side by side) and the attention weights, each query's over
/// the keys at or before it (`[batch, heads]` triangles of `n (n + 1) / 2`, query by query).
pub(super) fn forward(qkv: &[f32], sizes: Sizes) -> (Vec<f32>, Vec<f32>) {
    let Sizes { batch, n, heads, d } = sizes;
    let (d_head, scale) = (sizes.d_head(), sizes.scale());
    let mut context = vec![0.0; batch * n * d];
    let mut weights = vec![0.0; batch * heads * sizes.triangle()];
    for b in 0..batch {
        for head in 0..heads {
            for i in 0..n {
                let q = &qkv[sizes.query_at(b, i, head)..][..d_head];
                let seen = &mut weights[sizes.weights_at(b, i, head)..][..=i];
                for (j, w) in seen.iter_mut().enumerate() {
                    *w = scale * dot(q, &qkv[sizes.query_at(b, j, head) + d..][..d_head]);
                }
                let max = seen.iter().fold(f32::NEG_INFINITY, |m, &w| m.max(w));
                let mut total = 0.0;
                for w in seen.iter_mut() {
                    *w = (*w - max).exp();
                    total += *w;
                }
                let out = &mut context[sizes.merged_at(b, i, head)..][..d_head];
                for (j, w) in seen.iter_mut().enumerate() {
                    *w /= total;
                    add_scaled(out, *w, &qkv[sizes.query_at(b, j, head) + 2 * d..][..d_head]);
                }
            }
        }
    }
    (context, weights)
}

/// The gradient with respect to `qkv` from the forward's input, output and weights `p` and the
/// output's gradient `grad: [batch, n, d]`. With `dO` the output's gradient and
/// `δ_i = dO_i · O_i`: `dV_j += p_ij dO_i`, `dS_ij = p_ij (dO_i · V_j − δ_i)`, `dQ_i += scale dS_ij K_j`,
/// `dK_j += scale dS_ij Q_i`.
pub(super) fn backward(
    qkv: &[f32],
    context: &[f32],
    weights: &[f32],
    grad: &[f32],
    sizes: Sizes,
) -> Vec<f32> {
    let Sizes { batch, n, heads, d } = sizes;
    let (d_head, scale) = (sizes.d_head(), sizes.scale());
    let mut dqkv = vec![0.0; qkv.len()];
    let mut dq = vec![0.0; d_head];
    for b in 0..batch {
        for head in 0..heads {
            for i in 0..n {
                let at = sizes.merged_at(b, i, head);
                let (d_out, out) = (&grad[at..][..d_head], &context[at..][..d_head]);
                let delta = dot(d_out, out);
                let q = &qkv[sizes.query_at(b, i, head)..][..d_head];
                let seen = &weights[sizes.weights_at(b, i, head)..][..=i];
                dq.fill(0.0);
                for (j, &p) in seen.iter().enumerate() {
                    let key_at = sizes.query_at(b, j, head) + d;
                    let (k, v) = (&qkv[key_at..][..d_head], &qkv[key_at + d..][..d_head]);
                    let d_score = scale * p * (dot(d_out, v) - delta);
                    add_scaled(&mut dq, d_score, k);
                    add_scaled(&mut dqkv[key_at..][..d_head], d_score, q);
                    add_scaled(&mut dqkv[key_at + d..][..d_head], p, d_out);
                }
                add_scaled(&mut dqkv[sizes.query_at(b, i, head)..][..d_head], 1.0, &dq);
            }
        }
    }
    dqkv
}
