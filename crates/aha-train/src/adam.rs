//! Adam for the GRPO policy, with its state in the open.
//!
//! Burn's `ModuleOptimizer` keeps the moments private and serialises them with synchronous reads,
//! which a browser cannot do, so a run on WebGPU could never be checkpointed with its optimiser.
//! This Adam is the same update as Burn's `AdamConfig::new()` (β₁ 0.9, β₂ 0.999, ε 1e-5, no weight
//! decay) with Burn's per-tensor norm clipping; its state is a list of tensors in the model's
//! parameter order that [`crate::run_state`] reads with one asynchronous readback. The test below
//! checks it against Burn's optimiser. Each parameter's update is [`aha_kernels::adam`]: two
//! launches on wgpu, Burn's tensor ops elsewhere.

use aha_kernels::{AdamHyper, AdamState, KernelChoice, adam_update};
use aha_model::Model;
use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-5;

/// One parameter's moments (flattened) and how many updates they have seen.
#[derive(Clone, Debug)]
pub struct Moments {
    pub updates: usize,
    pub first: Tensor<1>,
    pub second: Tensor<1>,
}

/// Adam over every float parameter of a [`Model`], in module order.
#[derive(Clone, Debug, Default)]
pub struct Adam {
    /// Per-tensor gradient norm limit (Burn's `GradientClipping::Norm`).
    max_grad_norm: Option<f32>,
    /// `None` for a parameter that has had no gradient yet.
    moments: Vec<Option<Moments>>,
}

impl Adam {
    pub fn new(max_grad_norm: Option<f32>) -> Self {
        Self { max_grad_norm, moments: Vec::new() }
    }

    /// Continues from saved moments (as [`Adam::moments`] gave them).
    pub fn with_moments(max_grad_norm: Option<f32>, moments: Vec<Option<Moments>>) -> Self {
        Self { max_grad_norm, moments }
    }

    /// The state, one entry per float parameter in module order (empty before the first step).
    pub fn moments(&self) -> &[Option<Moments>] {
        &self.moments
    }

    /// One update of `model` (on an autodiff device) with learning rate `lr`.
    pub fn step(&mut self, lr: f64, model: Model, grads: GradientsParams) -> Model {
        let kernels = model.kernels();
        let mut mapper = AdamStep { adam: self, grads, lr, kernels, index: 0 };
        model.map(&mut mapper)
    }

    fn update<const D: usize>(
        &mut self,
        index: usize,
        lr: f64,
        kernels: KernelChoice,
        value: Tensor<D>,
        grad: Tensor<D>,
    ) -> Tensor<D> {
        let dims = value.dims();
        let len: usize = dims.iter().product();
        if self.moments.len() <= index {
            self.moments.resize(index + 1, None);
        }
        let previous = self.moments[index].take();
        let update = previous.as_ref().map_or(1, |m| m.updates + 1);
        let hyper = AdamHyper {
            beta_1: BETA_1,
            beta_2: BETA_2,
            epsilon: EPSILON,
            learning_rate: lr as f32,
            update: update as i32,
            max_grad_norm: self.max_grad_norm,
        };
        let moments = previous.map(|m| (m.first, m.second));
        let AdamState { value: updated, first, second } =
            adam_update(value.reshape([len]), grad.reshape([len]), moments, &hyper, kernels);
        self.moments[index] = Some(Moments { updates: update, first, second });
        updated.reshape(dims)
    }
}

struct AdamStep<'a> {
    adam: &'a mut Adam,
    grads: GradientsParams,
    lr: f64,
    kernels: KernelChoice,
    index: usize,
}

impl ModuleMapper for AdamStep<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let index = self.index;
        self.index += 1;
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let updated = self.adam.update(index, self.lr, self.kernels, tensor.inner(), grad);
        let mut updated = Tensor::from_inner(updated);
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

/// Rebuilds moments from read data: `updates[i]` is 0 for a parameter without state, and then
/// its two tensors are absent from `tensors` (pairs, first then second moment, in order).
pub fn moments_from_data(
    updates: &[usize],
    tensors: Vec<TensorData>,
    device: &Device,
) -> Result<Vec<Option<Moments>>, String> {
    let mut tensors = tensors.into_iter();
    let mut moments = Vec::with_capacity(updates.len());
    for &count in updates {
        if count == 0 {
            moments.push(None);
            continue;
        }
        let (Some(first), Some(second)) = (tensors.next(), tensors.next()) else {
            return Err("the optimiser state has fewer tensors than its step counts".into());
        };
        if first.shape() != second.shape() || first.shape().len() != 1 {
            return Err("the optimiser's two moments of a parameter differ in shape".into());
        }
        moments.push(Some(Moments {
            updates: count,
            first: Tensor::from_data(first, device),
            second: Tensor::from_data(second, device),
        }));
    }
    if tensors.next().is_some() {
        return Err("the optimiser state has more tensors than its step counts".into());
    }
    Ok(moments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aha_model::{ModelConfig, MoeConfig};
    use burn::grad_clipping::GradientClippingConfig;
    use burn::optim::AdamConfig;
    use burn::tensor::Int;

    fn small_model(device: &Device) -> Model {
        let config = ModelConfig::new(20, MoeConfig::new().with_d_expert(8)).with_d_model(8).with_n_heads(2);
        config.init_seeded(device, 5).train()
    }

    fn grads_of(model: &Model, device: &Device, shift: i64) -> GradientsParams {
        let ids: Vec<i64> = (0..12).map(|i| (i * 7 + shift) % 20).collect();
        let tokens = Tensor::<1, Int>::from_ints(ids.as_slice(), device).reshape([2, 6]);
        let mask = Tensor::<2>::ones([2, 6], device);
        let out = model.forward(tokens, mask);
        let loss = out.logits.square().mean() * 100.0 + out.aux_loss;
        GradientsParams::from_grads(loss.backward(), model)
    }

    fn flat_params(model: &Model) -> Vec<f32> {
        let mut values = Vec::new();
        struct Collect<'a>(&'a mut Vec<f32>);
        impl burn::module::ModuleVisitor for Collect<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(param.val().into_data().iter::<f32>());
            }
        }
        model.visit(&mut Collect(&mut values));
        values
    }

    #[test]
    fn matches_burns_adam_with_norm_clipping() {
        let device = Device::flex().autodiff();
        let mut ours = small_model(&device);
        let mut burns = small_model(&device);
        let mut adam = Adam::new(Some(0.5));
        let mut reference =
            AdamConfig::new().with_grad_clipping(Some(GradientClippingConfig::Norm(0.5))).init();
        for step in 0..4 {
            let grads = grads_of(&ours, &device, step);
            ours = adam.step(1e-2, ours, grads);
            let grads = grads_of(&burns, &device, step);
            burns = reference.step(1e-2, burns, grads);
        }
        let (ours, burns) = (flat_params(&ours), flat_params(&burns));
        let worst = ours.iter().zip(&burns).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "largest difference from Burn's Adam: {worst}");
        assert!(adam.moments().iter().all(|m| m.as_ref().is_some_and(|m| m.updates == 4)));
        // The update moved the weights: the comparison is not between two untouched models.
        let start = flat_params(&small_model(&device));
        assert!(ours.iter().zip(&start).any(|(a, b)| (a - b).abs() > 1e-3));
    }

    #[test]
    fn moments_rebuild_from_data_or_say_what_is_wrong() {
        let device = Device::flex();
        let pair = || vec![TensorData::from([1.0f32, 2.0]), TensorData::from([3.0f32, 4.0])];
        let moments = moments_from_data(&[0, 3], pair(), &device).unwrap();
        assert!(moments[0].is_none());
        assert_eq!(moments[1].as_ref().unwrap().updates, 3);
        assert!(moments_from_data(&[3, 3], pair(), &device).unwrap_err().contains("fewer"));
        assert!(moments_from_data(&[0], pair(), &device).unwrap_err().contains("more"));
        let uneven = vec![TensorData::from([1.0f32, 2.0]), TensorData::from([3.0f32])];
        assert!(moments_from_data(&[1], uneven, &device).unwrap_err().contains("shape"));
    }
}
