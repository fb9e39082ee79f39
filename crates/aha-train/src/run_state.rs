//! A GRPO run's whole state as one file: the policy, Adam's moments and the step counters. The page
//! saves it to IndexedDB every few steps, so a lost GPU or a reload loses nothing; natively it is a
//! resumable checkpoint. Saved with one asynchronous readback (the browser cannot read
//! synchronously) as safetensors: `policy.{i}` and `adam.{i}.first|second` in module order, the
//! counters and the run's GRPO config in the metadata.
//!
//! Resuming needs the run's base model (the frozen KL reference, and the shapes) and the same
//! config; the problem stream is replayed to the saved step, so a resumed run continues exactly as
//! the uninterrupted one would have.

use std::collections::HashMap;

use aha_model::{Model, readback};
use aha_tokenizer::CharTokenizer;
use burn::module::Module;
use burn::tensor::{Device, TensorData, Transaction};
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};

use crate::adam::{Adam, moments_from_data};
use crate::checkpoint::{FillParams, ParamTensors};
use crate::error::TrainError;
use crate::grpo::GrpoTrainer;
use crate::grpo_config::GrpoConfig;

const FORMAT: &str = "aha-grpo-state";
const VERSION: &str = "1";

fn bad(message: impl Into<String>) -> TrainError {
    TrainError::State(message.into())
}

/// The metadata fields of a saved run state (read without touching its tensors).
pub(crate) fn state_metadata(state: &[u8]) -> Result<HashMap<String, String>, TrainError> {
    let (_, metadata) =
        SafeTensors::read_metadata(state).map_err(|e| bad(format!("not a run state: {e}")))?;
    Ok(metadata.metadata().clone().unwrap_or_default())
}

impl GrpoTrainer {
    /// The run's state as bytes (see the module docs), read with one readback.
    pub async fn save_state(&self) -> Result<Vec<u8>, TrainError> {
        self.save_state_with(Vec::new()).await
    }

    /// [`GrpoTrainer::save_state`] with `extra` metadata fields beside the trainer's own (e.g. the
    /// whole run's config, which [`crate::GrpoRun`] keeps there).
    pub(crate) async fn save_state_with(&self, extra: Vec<(&str, String)>) -> Result<Vec<u8>, TrainError> {
        let mut params = ParamTensors::default();
        self.policy.valid().visit(&mut params);
        let policy_count = params.0.len();
        let mut transaction = Transaction::default();
        for tensor in params.0 {
            transaction = transaction.register(tensor);
        }
        // Each parameter's Adam update count (0: no state yet), saved under `adam_times`.
        let mut updates = Vec::new();
        for moments in self.optim.moments() {
            updates.push(moments.as_ref().map_or(0, |m| m.updates));
            if let Some(m) = moments {
                transaction = transaction.register(m.first.clone()).register(m.second.clone());
            }
        }
        let data = readback::read(transaction).await?;
        let values = data.into_iter().map(readback::values::<f32>).collect::<Result<Vec<_>, _>>()?;

        let mut names = (0..policy_count).map(|i| format!("policy.{i}")).collect::<Vec<_>>();
        for (i, &count) in updates.iter().enumerate() {
            if count > 0 {
                names.push(format!("adam.{i}.first"));
                names.push(format!("adam.{i}.second"));
            }
        }
        let bytes: Vec<Vec<u8>> =
            values.iter().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
        let views = names
            .iter()
            .zip(&bytes)
            .zip(&values)
            .map(|((name, data), v)| {
                TensorView::new(Dtype::F32, vec![v.len()], data)
                    .map(|view| (name.clone(), view))
                    .map_err(|e| bad(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let config = serde_json::to_string(&self.config).map_err(|e| bad(e.to_string()))?;
        let metadata: HashMap<String, String> = [
            ("format", FORMAT.to_string()),
            ("version", VERSION.to_string()),
            ("step", self.step.to_string()),
            ("skipped_updates", self.skipped_updates.to_string()),
            ("adam_times", serde_json::to_string(&updates).map_err(|e| bad(e.to_string()))?),
            ("grpo_config", config),
        ]
        .into_iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        safetensors::tensor::serialize(views, Some(metadata)).map_err(|e| bad(e.to_string()))
    }

    /// The run `state` (from [`GrpoTrainer::save_state`]) continued: `base` is the run's base model
    /// on `device`, `config` its GRPO config. Refuses, naming why, a state from another config or
    /// model, or damaged bytes; nothing is half-loaded.
    pub fn resume(
        base: Model,
        config: GrpoConfig,
        tokenizer: CharTokenizer,
        device: &Device,
        state: &[u8],
    ) -> Result<Self, TrainError> {
        let metadata = state_metadata(state)?;
        let field =
            |name: &str| metadata.get(name).ok_or_else(|| bad(format!("the field {name} is missing")));
        if field("format")? != FORMAT || field("version")? != VERSION {
            return Err(bad(format!("not an {FORMAT} file of version {VERSION}")));
        }
        let number =
            |name: &str| field(name)?.parse::<usize>().map_err(|_| bad(format!("{name} is not a count")));
        let (step, skipped_updates) = (number("step")?, number("skipped_updates")?);
        let updates: Vec<usize> = serde_json::from_str(field("adam_times")?)
            .map_err(|_| bad("adam_times is not a list of counts"))?;
        let saved: GrpoConfig = serde_json::from_str(field("grpo_config")?)
            .map_err(|e| bad(format!("its GRPO config does not parse: {e}")))?;
        if saved != config {
            return Err(bad("it was saved by a run with other settings"));
        }
        let tensors = SafeTensors::deserialize(state).map_err(|e| bad(e.to_string()))?;
        let take = |name: String| -> Result<TensorData, TrainError> {
            let view = tensors.tensor(&name).map_err(|_| bad(format!("the tensor {name} is missing")))?;
            if view.dtype() != Dtype::F32 || view.shape().len() != 1 {
                return Err(bad(format!("{name} is not a flat f32 tensor")));
            }
            let values: Vec<f32> =
                view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            Ok(TensorData::new(values, [view.shape()[0]]))
        };

        let mut params = ParamTensors::default();
        base.visit(&mut params);
        let policy_data =
            (0..params.0.len()).map(|i| take(format!("policy.{i}"))).collect::<Result<Vec<_>, _>>()?;
        if updates.len() > params.0.len() {
            return Err(bad("the optimiser has state for more parameters than the model has"));
        }
        let mut moment_data = Vec::new();
        for (i, &count) in updates.iter().enumerate() {
            if count > 0 {
                let (first, second) = (take(format!("adam.{i}.first"))?, take(format!("adam.{i}.second"))?);
                if first.shape()[0] != params.0[i].dims()[0] {
                    return Err(bad(format!("adam.{i} does not fit its parameter")));
                }
                moment_data.extend([first, second]);
            }
        }
        if tensors.len() != policy_data.len() + moment_data.len() {
            return Err(bad("it holds tensors this model does not have"));
        }
        let mut filler = FillParams::new(policy_data, device);
        let policy = base.clone().map(&mut filler);
        filler.finish().map_err(bad)?;
        let moments = moments_from_data(&updates, moment_data, device).map_err(bad)?;

        let mut trainer = GrpoTrainer::new(base, config, tokenizer, device)?;
        trainer.policy = policy.train();
        trainer.optim = Adam::with_moments(trainer.config.max_grad_norm, moments);
        trainer.step = step;
        trainer.skipped_updates = skipped_updates;
        // The problem stream as it was after `step` steps.
        let drawn = step * trainer.config.prompts_per_step;
        (&mut trainer.problems).take(drawn).for_each(drop);
        Ok(trainer)
    }
}
