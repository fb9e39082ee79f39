//! The toolchain's smoke test, below Aha: Burn's autodiff and Adam train a plain MLP on a device,
//! each loss read back asynchronously (the only kind of read that works on WebGPU in a browser).
//! When this fails, the stack is broken, not Aha. Used natively on `flex` and in the browser on
//! WebGPU and on `flex`; Aha's own training is tested by the GRPO and SFT tests.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor};

/// Two linear layers with a ReLU between: enough to have a real backward pass.
#[derive(Module, Debug)]
pub struct TinyMlp {
    hidden: Linear,
    activation: Relu,
    output: Linear,
}

impl TinyMlp {
    pub fn new(device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(4, 16).init(device),
            activation: Relu::new(),
            output: LinearConfig::new(16, 1).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.output.forward(self.activation.forward(self.hidden.forward(x)))
    }
}

/// Regression data with a known answer: y = x · [1, -2, 3, 0.5] on a fixed grid of 32 points.
fn regression_batch(device: &Device) -> (Tensor<2>, Tensor<2>) {
    let weights = [1.0f32, -2.0, 3.0, 0.5];
    let xs: Vec<f32> = (0..32 * 4).map(|i| ((i * 37 % 23) as f32 / 11.0) - 1.0).collect();
    let ys: Vec<f32> = xs.chunks(4).map(|row| row.iter().zip(weights).map(|(x, w)| x * w).sum()).collect();
    (
        Tensor::<1>::from_floats(xs.as_slice(), device).reshape([32, 4]),
        Tensor::<1>::from_floats(ys.as_slice(), device).reshape([32, 1]),
    )
}

/// Trains [`TinyMlp`] for `steps` Adam steps (lr 0.02) on `device` and returns every step's loss,
/// each read back with `into_data_async`.
pub async fn train_tiny_mlp(device: &Device, steps: usize) -> Result<Vec<f32>, String> {
    let device = device.clone().autodiff();
    device.seed(7);
    let mut model = TinyMlp::new(&device);
    let mut optim = AdamConfig::new().init();
    let (x, y) = regression_batch(&device);
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let error = model.forward(x.clone()) - y.clone();
        let loss = (error.clone() * error).mean();
        let value = loss
            .clone()
            .into_data_async()
            .await
            .map_err(|e| format!("loss readback failed: {e:?}"))?
            .try_into_vec::<f32>()
            .map_err(|e| format!("loss is not f32: {e:?}"))?[0];
        losses.push(value);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(0.02, model, grads);
    }
    Ok(losses)
}

/// The smoke test's verdict on a loss curve: every loss finite and the last under half the first.
pub fn check_losses(losses: &[f32]) -> Result<(), String> {
    if losses.len() < 2 {
        return Err(format!("need at least two losses, got {}", losses.len()));
    }
    if let Some(bad) = losses.iter().find(|l| !l.is_finite()) {
        return Err(format!("non-finite loss {bad} in {losses:?}"));
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    if last < first * 0.5 {
        Ok(())
    } else {
        Err(format!("loss did not fall: first {first}, last {last}, all {losses:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::check_losses;

    #[test]
    fn the_verdict_can_fail() {
        assert!(check_losses(&[1.0, 0.4]).is_ok());
        assert!(check_losses(&[1.0, 0.9]).is_err());
        assert!(check_losses(&[1.0, f32::NAN, 0.1]).is_err());
        assert!(check_losses(&[1.0]).is_err());
    }
}
