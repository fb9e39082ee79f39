//! The decoder-only transformer: token and learned position embeddings, pre-norm blocks of
//! attention and MoE feed-forward, a final RMSNorm and the output projection to the vocabulary.

use aha_kernels::KernelChoice;
use burn::config::Config;
use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig, RmsNorm, RmsNormConfig};
use burn::tensor::{Device, Int, Tensor};

use crate::attention::{Attention, AttentionConfig, LayerCache, causal_bias};
use crate::config::{ModelConfig, MoeConfig};
use crate::moe::{MoeLayer, MoeLayerConfig, Routing};

#[derive(Config, Debug)]
pub struct BlockConfig {
    pub model: ModelConfig,
}

impl BlockConfig {
    pub fn init(&self, device: &Device) -> Block {
        let c = &self.model;
        let norm = || RmsNormConfig::new(c.d_model).with_epsilon(c.norm_eps).init(device);
        Block {
            attn_norm: norm(),
            attn: AttentionConfig::new(c.d_model, c.n_heads).init(device),
            moe_norm: norm(),
            moe: MoeLayerConfig::new(c.d_model, c.moe.clone())
                .with_kernels(c.kernels.unwrap_or_default())
                .init(device),
        }
    }
}

/// `x + attn(norm(x))`, then `x + moe(norm(x))`.
#[derive(Module, Debug)]
pub struct Block {
    attn_norm: RmsNorm,
    attn: Attention,
    moe_norm: RmsNorm,
    moe: MoeLayer,
}

impl Block {
    /// Every position at once (training), with the layer's routing statistics.
    fn forward(&self, x: Tensor<3>, token_mask: Tensor<1>, kernels: KernelChoice) -> (Tensor<3>, Routing) {
        let [batch, n, d] = x.dims();
        let x = x.clone() + self.attn.forward(normalize(&self.attn_norm, x, kernels), kernels);
        let flat = normalize(&self.moe_norm, x.clone(), kernels).reshape([batch * n, d]);
        let (y, routing) = self.moe.forward(flat, token_mask);
        (x + y.reshape([batch, n, d]), routing)
    }

    /// Positions `start..start + n` continuing `cache`; no routing statistics.
    fn forward_cached(
        &self,
        x: Tensor<3>,
        start: usize,
        cache: &mut LayerCache,
        bias: &Tensor<2>,
        kernels: KernelChoice,
    ) -> Tensor<3> {
        let [batch, n, d] = x.dims();
        let normed = normalize(&self.attn_norm, x.clone(), kernels);
        let x = x + self.attn.forward_cached(normed, start, cache, bias, kernels);
        let flat = normalize(&self.moe_norm, x.clone(), kernels).reshape([batch * n, d]);
        x + self.moe.forward_output(flat).reshape([batch, n, d])
    }
}

/// `norm(x)`: one kernel each way on wgpu instead of Burn's six forward and about ten backward
/// ([`aha_kernels::norm`]), the same formula elsewhere.
fn normalize(norm: &RmsNorm, x: Tensor<3>, kernels: KernelChoice) -> Tensor<3> {
    aha_kernels::rms_norm(x, &norm.gamma.val(), norm.epsilon, kernels)
}

/// Initialisation draws from the backend's global random generator: seeding it and drawing must
/// not interleave with another thread doing the same.
static INIT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl ModelConfig {
    /// Builds the model with weights drawn from `seed`: the same seed gives the same weights on the
    /// same backend, even while other threads initialise models.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Model {
        /// Burn initialises parameters lazily, on first use: touch each one while the lock is held.
        struct Materialize;
        impl ModuleVisitor for Materialize {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let _ = param.val();
            }
        }
        let _guard = INIT_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        device.seed(seed);
        let model = self.init(device);
        model.visit(&mut Materialize);
        model
    }

    /// Builds the model from the backend's random generator as it stands. Call
    /// [`ModelConfig::validate`] first for a clear error on bad sizes.
    pub fn init(&self, device: &Device) -> Model {
        Model {
            tokens: EmbeddingConfig::new(self.vocab_size, self.d_model).init(device),
            positions: EmbeddingConfig::new(self.max_seq_len, self.d_model).init(device),
            blocks: (0..self.n_layers).map(|_| BlockConfig::new(self.clone()).init(device)).collect(),
            norm: RmsNormConfig::new(self.d_model).with_epsilon(self.norm_eps).init(device),
            lm_head: LinearConfig::new(self.d_model, self.vocab_size).with_bias(false).init(device),
            n_heads: self.n_heads,
            d_model: self.d_model,
            reference_kernels: self.kernels == Some(KernelChoice::Reference),
        }
    }
}

#[derive(Module, Debug)]
pub struct Model {
    tokens: Embedding,
    positions: Embedding,
    blocks: Vec<Block>,
    norm: RmsNorm,
    lm_head: Linear,
    n_heads: usize,
    d_model: usize,
    /// [`KernelChoice::Reference`] as a plain field (modules keep constants, not enums).
    reference_kernels: bool,
}

/// A full forward pass's results.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// `[batch, seq, vocab]`.
    pub logits: Tensor<3>,
    /// Mean of the layers' balance losses, `[1]`; 1.0 when routing is uniform.
    pub aux_loss: Tensor<1>,
    /// Per-layer fraction of tokens sent to each expert, `[layers, experts]`.
    pub expert_load: Tensor<2>,
    /// Per-layer gate weights of every token, `[layers, batch · seq, experts]`: which expert each
    /// token went to (the page's expert view).
    pub gates: Tensor<3>,
}

/// Keys and values of every layer while decoding a batch of sequences together. All rows advance
/// together, so the filled length is one host-side number.
#[derive(Debug, Clone)]
pub struct KvCache {
    layers: Vec<LayerCache>,
    len: usize,
    capacity: usize,
}

impl KvCache {
    /// Positions filled so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Positions it can hold (the model's `max_seq_len` or less).
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Model {
    pub fn vocab_size(&self) -> usize {
        self.lm_head.weight.dims()[1]
    }

    pub fn max_seq_len(&self) -> usize {
        self.positions.weight.dims()[0]
    }

    pub fn n_layers(&self) -> usize {
        self.blocks.len()
    }

    /// Which implementation of the router and sampler kernels runs.
    pub fn kernels(&self) -> KernelChoice {
        if self.reference_kernels { KernelChoice::Reference } else { KernelChoice::Auto }
    }

    pub fn n_experts(&self) -> usize {
        self.blocks.first().map_or(0, |b| b.moe.n_experts())
    }

    /// [`ModelConfig::forward_matmul_flops`] for this model's sizes.
    pub fn forward_matmul_flops(&self, rows: usize, seq_len: usize) -> f64 {
        let moe = self.blocks.first().map_or_else(MoeConfig::new, |b| b.moe.config());
        ModelConfig::new(self.vocab_size(), moe)
            .with_max_seq_len(self.max_seq_len())
            .with_d_model(self.d_model)
            .with_n_layers(self.n_layers())
            .with_n_heads(self.n_heads)
            .forward_matmul_flops(rows, seq_len)
    }

    /// A cache for decoding `batch` sequences of up to `capacity` tokens.
    pub fn new_cache(&self, batch: usize, capacity: usize, device: &Device) -> KvCache {
        let capacity = capacity.min(self.max_seq_len());
        let d_head = self.d_model / self.n_heads;
        KvCache {
            layers: (0..self.n_layers())
                .map(|_| LayerCache::new(batch, self.n_heads, capacity, d_head, device))
                .collect(),
            len: 0,
            capacity,
        }
    }

    /// Every position of `tokens: [batch, seq]` at once (training). `token_mask: [batch, seq]` has
    /// 1 for real tokens and 0 for padding; padding is excluded from the routing statistics.
    /// Padding must come after a row's real tokens (causal attention then never sees it).
    pub fn forward(&self, tokens: Tensor<2, Int>, token_mask: Tensor<2>) -> ModelOutput {
        let [batch, seq] = tokens.dims();
        let flat_mask = token_mask.reshape([batch * seq]);
        let mut x = self.embed(tokens, 0);
        let mut aux = Vec::with_capacity(self.blocks.len());
        let mut load = Vec::with_capacity(self.blocks.len());
        let mut gates = Vec::with_capacity(self.blocks.len());
        let kernels = self.kernels();
        for block in &self.blocks {
            let (next, routing) = block.forward(x, flat_mask.clone(), kernels);
            x = next;
            aux.push(routing.aux_loss);
            load.push(routing.load.unsqueeze::<2>());
            gates.push(routing.gates.unsqueeze::<3>());
        }
        ModelOutput {
            logits: self.lm_head.forward(normalize(&self.norm, x, kernels)),
            aux_loss: Tensor::cat(aux, 0).mean(),
            expert_load: Tensor::cat(load, 0),
            gates: Tensor::cat(gates, 0),
        }
    }

    /// The next positions of sequences being decoded: `tokens: [batch, n]` continue the cache,
    /// which grows by `n`. Returns logits `[batch, n, vocab]`. Panics if the cache would overflow
    /// (callers size the cache for the longest sequence).
    pub fn forward_cached(&self, tokens: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<3> {
        let [_, n] = tokens.dims();
        let start = cache.len;
        assert!(start + n <= cache.capacity, "KV cache overflow: {start} + {n} > {}", cache.capacity);
        let mut x = self.embed(tokens, start);
        let kernels = self.kernels();
        // On wgpu every decode step attends over the whole buffer, so that its shapes never change
        // (a new shape is a new compiled pipeline); elsewhere only over the filled slots, which
        // skips the masked work.
        let keys = if aha_kernels::compiles_per_shape(&x) { cache.capacity } else { start + n };
        let bias = causal_bias(start, n, keys, &x.device());
        for (block, layer_cache) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = block.forward_cached(x, start, layer_cache, &bias, kernels);
        }
        cache.len += n;
        self.lm_head.forward(normalize(&self.norm, x, kernels))
    }

    /// Token plus position embeddings for positions `start..start + n`.
    fn embed(&self, tokens: Tensor<2, Int>, start: usize) -> Tensor<3> {
        let [batch, n] = tokens.dims();
        let device = tokens.device();
        let positions = Tensor::<1, Int>::arange(start as i64..(start + n) as i64, &device).reshape([1, n]);
        self.tokens.forward(tokens) + self.positions.forward(positions).expand([batch, n, self.d_model])
    }
}
