//! Model hyperparameters. `ModelConfig` round-trips through JSON (`config.json` of a checkpoint).

use aha_kernels::KernelChoice;
use burn::config::Config;

/// The Mixture-of-Experts feed-forward of every block.
#[derive(Config, Debug, PartialEq)]
pub struct MoeConfig {
    /// Number of routed experts, E.
    #[config(default = 4)]
    pub n_experts: usize,
    /// Experts each token is sent to, k (1 or 2).
    #[config(default = 1)]
    pub top_k: usize,
    /// Hidden width of each expert.
    #[config(default = 128)]
    pub d_expert: usize,
    /// Add one always-on shared expert (DeepSeekMoE) beside the routed ones.
    #[config(default = false)]
    pub shared_expert: bool,
}

/// The whole transformer.
#[derive(Config, Debug, PartialEq)]
pub struct ModelConfig {
    /// Tokens in the vocabulary (the tokenizer's `vocab_size`).
    pub vocab_size: usize,
    /// Longest sequence, prompt and completion together (learned positions stop here).
    #[config(default = 64)]
    pub max_seq_len: usize,
    #[config(default = 64)]
    pub d_model: usize,
    #[config(default = 2)]
    pub n_layers: usize,
    #[config(default = 4)]
    pub n_heads: usize,
    pub moe: MoeConfig,
    #[config(default = 1e-5)]
    pub norm_eps: f64,
    /// `"auto"` (or absent) runs our WGSL kernels (router top-k, sampling) on wgpu and their
    /// plain-tensor references elsewhere; `"reference"` forces the references everywhere, for
    /// debugging. Optional so that configs written before the kernels still load.
    pub kernels: Option<KernelChoice>,
}

/// Why a configuration cannot build a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid model config: {0}")]
    Invalid(String),
    #[error("config.json is not a model config: {0}")]
    Json(String),
}

impl ModelConfig {
    /// Recipe B's model: 2 layers, d 64, 4 heads, 4 experts top-1 with hidden 128.
    pub fn tiny(vocab_size: usize) -> Self {
        ModelConfig::new(vocab_size, MoeConfig::new())
    }

    /// Checks every size is usable before any tensor is made.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |msg: String| Err(ConfigError::Invalid(msg));
        let positive = [
            ("vocab_size", self.vocab_size),
            ("max_seq_len", self.max_seq_len),
            ("d_model", self.d_model),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("moe.n_experts", self.moe.n_experts),
            ("moe.d_expert", self.moe.d_expert),
        ];
        for (name, value) in positive {
            if value == 0 {
                return fail(format!("{name} must be at least 1"));
            }
            if value > 1 << 16 {
                return fail(format!("{name} = {value} is too large for a browser model"));
            }
        }
        if !self.d_model.is_multiple_of(self.n_heads) {
            return fail(format!("d_model {} is not divisible by n_heads {}", self.d_model, self.n_heads));
        }
        if !(1..=2).contains(&self.moe.top_k) || self.moe.top_k > self.moe.n_experts {
            return fail(format!(
                "moe.top_k must be 1 or 2 and at most n_experts ({}), got {}",
                self.moe.n_experts, self.moe.top_k
            ));
        }
        if !(self.norm_eps > 0.0 && self.norm_eps.is_finite()) {
            return fail(format!("norm_eps must be positive, got {}", self.norm_eps));
        }
        Ok(())
    }

    /// Reads and validates a `config.json`.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        let config: ModelConfig = serde_json::from_str(json).map_err(|e| ConfigError::Json(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serialises")
    }

    /// Parameters the model will have.
    pub fn num_params(&self) -> usize {
        let (d, v, l) = (self.d_model, self.vocab_size, self.n_layers);
        let expert = 2 * d * self.moe.d_expert;
        let moe = d * self.moe.n_experts
            + self.moe.n_experts * expert
            + usize::from(self.moe.shared_expert) * expert;
        let block = 2 * d + 4 * d * d + moe;
        v * d + self.max_seq_len * d + l * block + d + d * v
    }

    /// Floating-point operations of the matmuls in one forward pass over `rows` sequences of
    /// `seq_len` tokens: the attention over the keys each query may see (query i and keys 0..=i,
    /// what the wgpu kernels compute; Burn's formulation on the CPU also multiplies the masked
    /// half, which is not counted) and every expert on every token (dense experts, as the model
    /// computes them, see `moe.rs`). Element-wise work (norms, softmax, GELU) is left out: it is a
    /// few percent here and is not what a matmul peak measures. A backward pass costs about twice
    /// this.
    pub fn forward_matmul_flops(&self, rows: usize, seq_len: usize) -> f64 {
        let (d, t) = (self.d_model as f64, seq_len as f64);
        let (e, h) = (self.moe.n_experts as f64, self.moe.d_expert as f64);
        let shared = if self.moe.shared_expert { 1.0 } else { 0.0 };
        // Per token and layer: qkv + out projections, scores and weighted values over (t + 1) / 2
        // keys on average, router, experts.
        let per_layer = 2.0 * 4.0 * d * d
            + 2.0 * 2.0 * (t + 1.0) / 2.0 * d
            + 2.0 * d * e
            + (e + shared) * 2.0 * 2.0 * d * h;
        let per_token = self.n_layers as f64 * per_layer + 2.0 * d * self.vocab_size as f64;
        rows as f64 * t * per_token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_flops_count_every_matmul_once() {
        // Tiny: d 64, 2 layers, 4 experts of 128, vocab 50; 3 rows of 10 tokens, by hand:
        // qkv+out 8·64² = 32768, causal attention 4·(11/2)·64 = 1408 (query i sees i + 1 of the
        // 10 keys), router 2·64·4 = 512, experts 4·4·64·128 = 131072 → 165760 per layer; head
        // 2·64·50 = 6400.
        let flops = ModelConfig::tiny(50).forward_matmul_flops(3, 10);
        assert_eq!(flops, 30.0 * (2.0 * 165_760.0 + 6_400.0));
        let shared = ModelConfig::new(50, MoeConfig::new().with_shared_expert(true));
        assert_eq!(
            shared.forward_matmul_flops(1, 1) - ModelConfig::tiny(50).forward_matmul_flops(1, 1),
            2.0 * 32_768.0
        );
    }

    #[test]
    fn json_round_trip_and_validation() {
        let config = ModelConfig::tiny(50);
        let back = ModelConfig::from_json(&config.to_json()).unwrap();
        assert_eq!(back, config);
        assert!(config.validate().is_ok());

        let bad = ModelConfig::tiny(50).with_n_heads(3);
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "invalid model config: d_model 64 is not divisible by n_heads 3"
        );
        let bad = ModelConfig::new(50, MoeConfig::new().with_top_k(3));
        assert!(bad.validate().is_err());
        let bad = ModelConfig::tiny(0);
        assert!(bad.validate().is_err());
        assert!(matches!(ModelConfig::from_json("{\"vocab_size\": 5}"), Err(ConfigError::Json(_))));
        assert!(matches!(ModelConfig::from_json("not json"), Err(ConfigError::Json(_))));
    }

    #[test]
    fn recipe_b_model_has_about_0_17m_params() {
        let n = ModelConfig::tiny(50).num_params();
        assert!((150_000..200_000).contains(&n), "{n}");
    }
}
