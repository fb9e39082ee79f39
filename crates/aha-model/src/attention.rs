//! Causal multi-head self-attention with an optional key/value cache.
//!
//! Queries at absolute positions `start..start + n` attend over a key/value buffer whose slot `j`
//! holds position `j`, and a mask allows `j <=` the query's position. In training the buffer is
//! the call's own keys (`start = 0`); while decoding it is the cache's fixed-length buffer, so every
//! decode step has the same shapes (WebGPU compiles each pipeline once) and unfilled slots are
//! masked out. On wgpu, training runs the whole attention (forward and backward) in our kernels
//! ([`aha_kernels::causal_attention`]) and decoding takes the scale, mask and softmax in one.

use aha_kernels::causal_attention::{MASKED, causal_attention};
use aha_kernels::{KernelChoice, masked_softmax};
use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};

pub use aha_kernels::causal_attention::causal_mask;

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
    /// Every position of `x: [batch, n, d]` at once (training): query i attends to keys 0..=i.
    pub fn forward(&self, x: Tensor<3>, kernels: KernelChoice) -> Tensor<3> {
        self.out.forward(causal_attention(self.qkv.forward(x), self.n_heads, kernels))
    }

    /// `x: [batch, n, d]` at absolute positions `start..start + n`, continuing `cache` (decoding):
    /// this call's keys and values are written into the cache first and the queries attend over
    /// its first `keys` slots, `bias: [n, keys]` ([`causal_bias`]) masking the slots after each
    /// query. The scale, mask and softmax are one kernel on wgpu ([`aha_kernels::attention`]).
    pub fn forward_cached(
        &self,
        x: Tensor<3>,
        start: usize,
        cache: &mut LayerCache,
        bias: &Tensor<2>,
        kernels: KernelChoice,
    ) -> Tensor<3> {
        let (q, k, v) = self.project(x);
        let [batch, heads, n, d_head] = q.dims();
        // Take the buffers out of the cache before writing: a tensor with a second handle is copied
        // whole by `slice_assign`, one is written in place. The placeholder left behind for that
        // moment is a handle to `k`/`v` (no allocation).
        let slots = [0..batch, 0..heads, start..start + n, 0..d_head];
        let keys = std::mem::replace(&mut cache.keys, k.clone()).slice_assign(slots.clone(), k);
        let values = std::mem::replace(&mut cache.values, v.clone()).slice_assign(slots, v);
        cache.keys = keys.clone();
        cache.values = values.clone();
        let seen = bias.dims()[1];
        let (keys, values) = if seen < keys.dims()[2] {
            let slots = [0..batch, 0..heads, 0..seen, 0..d_head];
            (keys.slice(slots.clone()), values.slice(slots))
        } else {
            (keys, values)
        };
        let scale = 1.0 / (d_head as f32).sqrt();
        let weights = masked_softmax(q.matmul(keys.swap_dims(2, 3)), bias, scale, kernels);
        self.merge(weights.matmul(values))
    }

    /// Queries, keys and values of `x: [batch, n, d]`, each `[batch, heads, n, d_head]`.
    fn project(&self, x: Tensor<3>) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
        let [batch, n, d_model] = x.dims();
        let d_head = d_model / self.n_heads;
        let heads = |t: Tensor<3>| t.reshape([batch, n, self.n_heads, d_head]).swap_dims(1, 2);
        let qkv = self.qkv.forward(x);
        let q = heads(qkv.clone().slice([0..batch, 0..n, 0..d_model]));
        let k = heads(qkv.clone().slice([0..batch, 0..n, d_model..2 * d_model]));
        let v = heads(qkv.slice([0..batch, 0..n, 2 * d_model..3 * d_model]));
        (q, k, v)
    }

    /// `context: [batch, heads, n, d_head]` back to `[batch, n, d]`, through the output projection.
    fn merge(&self, context: Tensor<4>) -> Tensor<3> {
        let [batch, heads, n, d_head] = context.dims();
        self.out.forward(context.swap_dims(1, 2).reshape([batch, n, heads * d_head]))
    }
}

/// `[n, key_len]`: 0 where key slot `j` is at or before query `i`'s position `start + i`, a large
/// negative number after it — the causal mask as an additive bias for decoding, built on the host
/// once per step and shared by the layers.
pub fn causal_bias(start: usize, n: usize, key_len: usize, device: &Device) -> Tensor<2> {
    let bias = (0..n)
        .flat_map(|i| (0..key_len).map(move |j| if j > start + i { MASKED } else { 0.0 }))
        .collect::<Vec<f32>>();
    Tensor::from_data(TensorData::new(bias, [n, key_len]), device)
}
