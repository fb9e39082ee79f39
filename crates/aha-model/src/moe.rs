//! The Mixture-of-Experts feed-forward: a linear router, a softmax gate, top-k selection, E experts,
//! an optional shared expert, and the Switch-Transformer load-balancing loss.
//!
//! Two choices here are about the browser, not the maths:
//!
//! - **Top-k without a readback.** Burn's `topk_with_indices`, `sort` and `argwhere` read data back
//!   synchronously, which panics on WebGPU in wasm. The gate — softmax, top-k, weights — is our
//!   WGSL kernel on wgpu and its plain-tensor reference elsewhere ([`aha_kernels::router_top_k`]).
//! - **Dense experts, sparse gates.** Dispatching each token to its experts needs per-expert token
//!   counts on the host (a readback) or scatter/gather kernels. At this size it is cheaper and
//!   exactly equivalent to run every expert on every token as one batched matmul and multiply by the
//!   gate weights, which are zero for the experts a token was not routed to. Outputs and gradients
//!   equal those of sparse dispatch; only the FLOPs are E/k times higher. On the CPU backend, where
//!   the routing is already in host memory, tokens are dispatched sparsely instead
//!   ([`aha_kernels::experts::expert_mix_sparse`]). While decoding on wgpu,
//!   where nothing needs gradients, one kernel reads only the chosen experts instead
//!   ([`aha_kernels::experts`]); in training the GELU over every expert's hidden units is one
//!   differentiable kernel ([`aha_kernels::gelu`]).

use aha_kernels::experts::{expert_mix, expert_mix_dense, expert_mix_sparse};
use aha_kernels::{KernelChoice, RouterTopK, router_top_k};
use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::config::MoeConfig;

#[derive(Config, Debug)]
pub struct MoeLayerConfig {
    pub d_model: usize,
    pub moe: MoeConfig,
    #[config(default = "KernelChoice::Auto")]
    pub kernels: KernelChoice,
}

impl MoeLayerConfig {
    pub fn init(&self, device: &Device) -> MoeLayer {
        let (d, h, e) = (self.d_model, self.moe.d_expert, self.moe.n_experts);
        // Kaiming-style fan-in scaling for the expert weights, as `Linear` uses.
        let uniform = |fan_in: usize| {
            let bound = (1.0 / fan_in as f64).sqrt();
            Initializer::Uniform { min: -bound, max: bound }
        };
        MoeLayer {
            router: LinearConfig::new(d, e).with_bias(false).init(device),
            w_in: uniform(d).init([e, d, h], device),
            w_out: uniform(h).init([e, h, d], device),
            shared: self.moe.shared_expert.then(|| SharedExpertConfig::new(d, h).init(device)),
            top_k: self.moe.top_k,
            reference_kernels: self.kernels == KernelChoice::Reference,
        }
    }
}

#[derive(Module, Debug)]
pub struct MoeLayer {
    router: Linear,
    /// `[E, d, h]`: every expert's input projection.
    w_in: Param<Tensor<3>>,
    /// `[E, h, d]`: every expert's output projection.
    w_out: Param<Tensor<3>>,
    shared: Option<SharedExpert>,
    top_k: usize,
    reference_kernels: bool,
}

/// What routing did in one layer, for the loss and for the page's expert view.
#[derive(Debug, Clone)]
pub struct Routing {
    /// Switch-Transformer balance loss `E · Σ_e f_e · P_e`: 1 when routing is uniform, larger
    /// when it is skewed. `[1]`.
    pub aux_loss: Tensor<1>,
    /// `f_e`: the fraction of (real) token slots sent to each expert, summing to 1. `[E]`.
    pub load: Tensor<1>,
    /// Gate weights per token, zero for unselected experts. `[N, E]`.
    pub gates: Tensor<2>,
}

impl MoeLayer {
    pub fn n_experts(&self) -> usize {
        self.w_in.dims()[0]
    }

    /// The sizes this layer was built with.
    pub fn config(&self) -> MoeConfig {
        let [e, _, h] = self.w_in.dims();
        MoeConfig::new()
            .with_n_experts(e)
            .with_top_k(self.top_k)
            .with_d_expert(h)
            .with_shared_expert(self.shared.is_some())
    }

    /// `x: [N, d]` tokens (flattened batch), `token_mask: [N]` with 1 for real tokens and 0 for
    /// padding (padding is excluded from the balance loss and the load).
    pub fn forward(&self, x: Tensor<2>, token_mask: Tensor<1>) -> (Tensor<2>, Routing) {
        let (y, gate, gates) = self.mix(x);
        let (aux_loss, load) = balance_loss(gate.probs.clone(), gate.selected(), token_mask, self.top_k);
        (y, Routing { aux_loss, load, gates })
    }

    /// The layer's output alone, for decoding: the routing statistics are a dozen dispatches per
    /// layer that nothing reads while sampling, and on wgpu the chosen experts run in one kernel
    /// that reads only their weights ([`aha_kernels::experts`]).
    pub fn forward_output(&self, x: Tensor<2>) -> Tensor<2> {
        let gate = router_top_k(self.router.forward(x.clone()), self.top_k, self.kernels());
        let y = expert_mix(x.clone(), &gate, &self.w_in.val(), &self.w_out.val(), self.kernels());
        match &self.shared {
            Some(shared) => y + shared.forward(x, self.kernels()),
            None => y,
        }
    }

    fn kernels(&self) -> KernelChoice {
        if self.reference_kernels { KernelChoice::Reference } else { KernelChoice::Auto }
    }

    /// Routes `x: [N, d]` and mixes every expert's output by its gate weight (dense: the
    /// differentiable form). Returns the output, the gate and its dense `[N, E]` weights.
    fn mix(&self, x: Tensor<2>) -> (Tensor<2>, RouterTopK, Tensor<2>) {
        let gate = router_top_k(self.router.forward(x.clone()), self.top_k, self.kernels());
        let gates = gate.dense_weights();
        let (w_in, w_out) = (self.w_in.val(), self.w_out.val());
        let sparse = match self.kernels() {
            KernelChoice::Auto => expert_mix_sparse(&x, &gate, &w_in, &w_out, KernelChoice::Auto),
            KernelChoice::Reference => None,
        };
        let mut y =
            sparse.unwrap_or_else(|| expert_mix_dense(x.clone(), gates.clone(), w_in, w_out, self.kernels()));
        if let Some(shared) = &self.shared {
            y = y + shared.forward(x, self.kernels());
        }
        (y, gate, gates)
    }
}

/// The Switch-Transformer balance loss and the per-expert load over real tokens.
pub fn balance_loss(
    probs: Tensor<2>,
    selected: Tensor<2>,
    token_mask: Tensor<1>,
    top_k: usize,
) -> (Tensor<1>, Tensor<1>) {
    let [n, e] = probs.dims();
    let mask = token_mask.reshape([n, 1]);
    let real = mask.clone().sum().clamp_min(1.0); // [1]
    let load = (selected * mask.clone()).sum_dim(0).reshape([e]) / (real.clone() * top_k as f32);
    let mean_prob = (probs * mask).sum_dim(0).reshape([e]) / real;
    let aux = (load.clone() * mean_prob).sum() * e as f32;
    (aux, load)
}

#[derive(Config, Debug)]
pub struct SharedExpertConfig {
    pub d_model: usize,
    pub d_hidden: usize,
}

impl SharedExpertConfig {
    pub fn init(&self, device: &Device) -> SharedExpert {
        SharedExpert {
            up: LinearConfig::new(self.d_model, self.d_hidden).with_bias(false).init(device),
            down: LinearConfig::new(self.d_hidden, self.d_model).with_bias(false).init(device),
        }
    }
}

/// An always-on expert every token passes through (DeepSeekMoE's shared expert).
#[derive(Module, Debug)]
pub struct SharedExpert {
    up: Linear,
    down: Linear,
}

impl SharedExpert {
    /// GELU in one launch each way on wgpu ([`aha_kernels::gelu`]), as in the routed experts.
    pub fn forward(&self, x: Tensor<2>, kernels: KernelChoice) -> Tensor<2> {
        self.down.forward(aha_kernels::gelu(self.up.forward(x), kernels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// Top-1 selection of `probs` (as logits: the order is the same).
    fn top1(probs: Tensor<2>) -> Tensor<2> {
        aha_kernels::router::router_top_k_reference(probs.log(), 1).selected()
    }

    #[test]
    fn balance_loss_is_one_for_uniform_routing_and_larger_when_skewed() {
        let device = Device::flex();
        let e = 4;
        // Uniform probabilities and every expert chosen equally often.
        let uniform = Tensor::<2>::full([8, e], 0.25, &device);
        let selected = Tensor::<2>::from_floats(
            [
                [1., 0., 0., 0.],
                [0., 1., 0., 0.],
                [0., 0., 1., 0.],
                [0., 0., 0., 1.],
                [1., 0., 0., 0.],
                [0., 1., 0., 0.],
                [0., 0., 1., 0.],
                [0., 0., 0., 1.],
            ],
            &device,
        );
        let mask = Tensor::<1>::ones([8], &device);
        let (aux, load) = balance_loss(uniform, selected, mask.clone(), 1);
        assert!((data(aux.reshape([1, 1]))[0] - 1.0).abs() < 1e-6);
        assert_eq!(data(load.reshape([1, e])), [0.25; 4]);

        // Everything on expert 0 with confident probabilities: loss approaches E.
        let skewed = Tensor::<2>::from_floats([[0.97, 0.01, 0.01, 0.01]; 8], &device);
        let (aux, _) = balance_loss(skewed.clone(), top1(skewed), mask, 1);
        let aux = data(aux.reshape([1, 1]))[0];
        assert!(aux > 3.8, "{aux}");
    }

    #[test]
    fn padding_is_not_counted() {
        let device = Device::flex();
        let probs = Tensor::<2>::from_floats([[0.9, 0.1], [0.1, 0.9], [0.1, 0.9]], &device);
        let mask = Tensor::<1>::from_floats([1.0, 1.0, 0.0], &device);
        let (_, load) = balance_loss(probs.clone(), top1(probs), mask, 1);
        assert_eq!(data(load.reshape([1, 2])), [0.5, 0.5]);
    }
}
