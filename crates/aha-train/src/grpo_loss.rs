//! GRPO's objective: group-relative advantages and the PPO-clipped policy loss, aggregated as
//! GRPO, Dr. GRPO or DAPO do, with the entropy the step reports beside it.

use aha_kernels::KernelChoice;
use burn::tensor::Tensor;

use crate::grpo_config::{GrpoConfig, LossType, ScaleRewards};

/// Group-relative advantages of `rewards` laid out as consecutive groups of `group` completions.
pub fn advantages(rewards: &[f32], group: usize, scale: ScaleRewards) -> Vec<f32> {
    const EPS: f32 = 1e-4;
    let std = |values: &[f32]| {
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        // Unbiased (n − 1), as torch.std in TRL.
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (values.len().max(2) - 1) as f32;
        (mean, var.sqrt())
    };
    let (_, batch_std) = std(rewards);
    rewards
        .chunks(group)
        .flat_map(|g| {
            let (mean, group_std) = std(g);
            let denominator = match scale {
                ScaleRewards::Group => group_std + EPS,
                ScaleRewards::Batch => batch_std + EPS,
                ScaleRewards::None => 1.0,
            };
            g.iter().map(move |r| (r - mean) / denominator)
        })
        .collect()
}

/// The PPO-clip loss terms of one update, all on the device.
pub struct PolicyLoss {
    /// What the optimiser minimises, `[1]`.
    pub loss: Tensor<1>,
    /// Mean k3 KL to the reference over completion tokens (0 without one), `[1]`.
    pub kl: Tensor<1>,
    /// Fraction of completion tokens whose clipped term was the smaller (no gradient), `[1]`.
    pub clip_fraction: Tensor<1>,
}

/// GRPO's loss. Shapes: `logp`, `old_logp`, `ref_logp`, `mask`: `[rows, T]`; `advantages`:
/// `[rows, 1]`. `logp` carries the gradient; `old_logp` and `ref_logp` do not.
#[allow(clippy::too_many_arguments)]
pub fn policy_loss(
    logp: Tensor<2>,
    old_logp: Tensor<2>,
    ref_logp: Option<Tensor<2>>,
    advantages: Tensor<2>,
    mask: Tensor<2>,
    config: &GrpoConfig,
) -> PolicyLoss {
    let [rows, t] = logp.dims();
    let advantages = advantages.expand([rows, t]);
    let ratio = (logp.clone() - old_logp).exp();
    let low = 1.0 - config.epsilon;
    let high = 1.0 + config.epsilon_high.unwrap_or(config.epsilon);
    let unclipped = ratio.clone() * advantages.clone();
    let clipped = ratio.clamp(low, high) * advantages;
    // −min(r·A, clip(r)·A): the clipped term wins where it is strictly smaller.
    let clip_active = clipped.clone().lower(unclipped.clone()).float();
    let mut per_token = unclipped.clone().min_pair(clipped).neg();
    let token_count = mask.clone().sum().clamp_min(1.0);
    let kl = match ref_logp {
        Some(ref_logp) if config.beta > 0.0 => {
            // k3 = exp(ref − logp) − (ref − logp) − 1 ≥ 0, unbiased for KL(π‖π_ref).
            let delta = ref_logp - logp.clone();
            let k3 = delta.clone().exp() - delta - 1.0;
            per_token = per_token + k3.clone() * config.beta;
            (k3 * mask.clone()).sum() / token_count.clone()
        }
        _ => Tensor::zeros([1], &logp.device()),
    };
    let masked = per_token * mask.clone();
    let loss = match config.loss_type {
        LossType::Grpo => (masked.sum_dim(1) / mask.clone().sum_dim(1).clamp_min(1.0)).mean(),
        LossType::DrGrpo => masked.sum() / (rows * config.max_completion_length) as f32,
        LossType::Dapo => masked.sum() / token_count.clone(),
    };
    PolicyLoss { loss, kl, clip_fraction: (clip_active * mask).sum() / token_count }
}

/// Mean entropy (nats) of the next-token distribution over the masked positions, `[1]`.
pub fn masked_entropy(logits: Tensor<3>, mask: Tensor<2>, kernels: KernelChoice) -> Tensor<1> {
    let entropy = aha_kernels::token_entropy(logits, kernels);
    (entropy * mask.clone()).sum() / mask.sum().clamp_min(1.0)
}
