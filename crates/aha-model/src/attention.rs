//! Causal multi-head self-attention with an optional key/value cache.
//!
//! One code path serves training and decoding: queries at absolute positions `start..start + n`
//! attend over a key/value buffer whose slot `j` holds position `j`, and a mask allows `j <=`
//! the query's position. Without a cache the buffer is this call's own keys (`start = 0`); with one,
//! it is the cache's fixed-length buffer, so every decode step has the same shapes (WebGPU compiles
//! each pipeline once) and unfilled slots are masked out.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor, TensorData};

/// Added to the scores of masked key slots: small enough that `exp` underflows to exactly 0, finite
/// so that no row can become NaN.
const MASKED: f32 = -1.0e9;

#[derive(Config, Debug)]
pub struct AttentionConfig {
    pub d_model: usize,
    pub n_heads: usize,
}

impl AttentionConfig {
    pub fn init(&self, device: &Device) -> Attention {
        let linear = |d_out| LinearConfig::new(self.d_model, d_out).with_bias(false).init(device);
        Attention { qkv: linear(3 * self.d_model), out: linear(self.d_model), n_heads: self.n_heads }
    }
}

#[derive(Module, Debug)]
pub struct Attention {
    /// Queries, keys and values in one projection: `[d] → [3d]`.
    qkv: Linear,
    out: Linear,
    n_heads: usize,
}

/// Keys and values of one layer for every position of the sequences being decoded:
/// `[batch, heads, max_len, d_head]` each.
#[derive(Debug, Clone)]
pub struct LayerCache {
    pub keys: Tensor<4>,
    pub values: Tensor<4>,
}

impl LayerCache {
    pub fn new(batch: usize, n_heads: usize, max_len: usize, d_head: usize, device: &Device) -> Self {
        let zeros = || Tensor::zeros([batch, n_heads, max_len, d_head], device);
        Self { keys: zeros(), values: zeros() }
    }
}

impl Attention {
    /// `x: [batch, n, d]` at absolute positions `start..start + n`. With a cache, this call's keys
    /// and values are written into it first and the queries attend over the whole cache.
    pub fn forward(&self, x: Tensor<3>, start: usize, cache: Option<&mut LayerCache>) -> Tensor<3> {
        let [batch, n, d_model] = x.dims();
        let d_head = d_model / self.n_heads;
        // [batch, n, 3d] → three [batch, heads, n, d_head]
        let heads = |t: Tensor<3>| t.reshape([batch, n, self.n_heads, d_head]).swap_dims(1, 2);
        let qkv = self.qkv.forward(x);
        let q = heads(qkv.clone().slice([0..batch, 0..n, 0..d_model]));
        let k = heads(qkv.clone().slice([0..batch, 0..n, d_model..2 * d_model]));
        let v = heads(qkv.slice([0..batch, 0..n, 2 * d_model..3 * d_model]));

        let (keys, values) = match cache {
            Some(cache) => {
                // Take the buffers out of the cache before writing: a tensor with a second handle
                // is copied whole by `slice_assign`, one is written in place. The placeholder
                // left behind for that moment is a handle to `k`/`v` (no allocation).
                let slots = [0..batch, 0..self.n_heads, start..start + n, 0..d_head];
                let keys = std::mem::replace(&mut cache.keys, k.clone()).slice_assign(slots.clone(), k);
                let values = std::mem::replace(&mut cache.values, v.clone()).slice_assign(slots, v);
                cache.keys = keys.clone();
                cache.values = values.clone();
                (keys, values)
            }
            None => {
                debug_assert_eq!(start, 0, "without a cache the keys start at position 0");
                (k, v)
            }
        };
        let key_len = keys.dims()[2];

        // [batch, heads, n, key_len]
        let scores = q.matmul(keys.swap_dims(2, 3)).div_scalar((d_head as f32).sqrt());
        let mask = causal_mask(start, n, key_len, &scores.device());
        let scores =
            scores.mask_fill(mask.unsqueeze::<4>().expand([batch, self.n_heads, n, key_len]), MASKED);
        let context = softmax(scores, 3).matmul(values); // [batch, heads, n, d_head]
        let merged = context.swap_dims(1, 2).reshape([batch, n, d_model]);
        self.out.forward(merged)
    }
}

/// `[n, key_len]`, true where key slot `j` is after query `i`'s position `start + i` (not allowed).
/// Built on the host and uploaded: a decode step would otherwise spend dispatches on it per layer.
pub fn causal_mask(start: usize, n: usize, key_len: usize, device: &Device) -> Tensor<2, Bool> {
    let after = (0..n).flat_map(|i| (0..key_len).map(move |j| j > start + i)).collect::<Vec<_>>();
    Tensor::from_data(TensorData::new(after, [n, key_len]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_allows_only_the_past_and_present() {
        let device = Device::flex();
        let mask = causal_mask(2, 2, 5, &device).into_data().try_into_vec::<bool>().unwrap();
        #[rustfmt::skip]
        assert_eq!(mask, [
            false, false, false, true, true,
            false, false, false, false, true,
        ]);
    }
}
