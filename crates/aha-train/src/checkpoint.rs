//! Checkpoints: the model's weights as a Burn record (`model.bpk`), its `config.json` and the
//! `tokenizer.json` it was trained with — and an export of the weights to safetensors with
//! Hugging Face-style tensor names.
//!
//! Loading checks everything before it builds anything: the config must be valid, the tokenizer must
//! be Aha's kind with the config's vocabulary size, and every tensor of the record must exist in the
//! model with the same shape. A failed load returns an error and leaves the caller's current model
//! as it was (a new model is built; nothing is modified in place).

use std::collections::BTreeMap;
use std::path::Path;

use aha_model::{Model, ModelConfig, readback};
use aha_tokenizer::CharTokenizer;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData, Transaction};
use safetensors::tensor::{Dtype, TensorView};

pub const WEIGHTS_FILE: &str = "model.bpk";
pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    #[error("{CONFIG_FILE}: {0}")]
    Config(String),
    #[error("{TOKENIZER_FILE}: {0}")]
    Tokenizer(String),
    #[error("the tokenizer has {tokenizer} tokens but the model config expects {config}")]
    VocabMismatch { config: usize, tokenizer: usize },
    #[error("{WEIGHTS_FILE}: {0}")]
    Weights(String),
    #[error("{0}")]
    Io(String),
}

/// A model's weights, config and tokenizer, checked to belong together.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub config: ModelConfig,
    pub tokenizer: CharTokenizer,
    weights: Vec<u8>,
}

impl Checkpoint {
    /// Snapshots `model`. Reads every weight synchronously: call it natively or on the CPU
    /// backend (in the browser, copy a WebGPU model to the CPU first).
    pub fn from_model(
        model: &Model,
        config: &ModelConfig,
        tokenizer: &CharTokenizer,
    ) -> Result<Self, CheckpointError> {
        let weights = model
            .clone()
            .map(&mut NumberParams(0))
            .into_record()
            .into_bytes()
            .map_err(|e| CheckpointError::Weights(e.to_string()))?;
        Self::from_parts(
            &config.to_json(),
            &tokenizer.to_json().map_err(|e| CheckpointError::Tokenizer(e.to_string()))?,
            weights.to_vec(),
        )
    }

    /// Assembles a checkpoint from its three files' contents, checking config and tokenizer (the
    /// weights are checked against the model when loaded).
    pub fn from_parts(
        config_json: &str,
        tokenizer_json: &str,
        weights: Vec<u8>,
    ) -> Result<Self, CheckpointError> {
        let config =
            ModelConfig::from_json(config_json).map_err(|e| CheckpointError::Config(e.to_string()))?;
        let tokenizer = CharTokenizer::from_json(tokenizer_json)
            .and_then(|t| t.check_is_aha_vocabulary().map(|()| t))
            .map_err(|e| CheckpointError::Tokenizer(e.to_string()))?;
        if tokenizer.vocab_size() != config.vocab_size {
            return Err(CheckpointError::VocabMismatch {
                config: config.vocab_size,
                tokenizer: tokenizer.vocab_size(),
            });
        }
        if weights.is_empty() {
            return Err(CheckpointError::Weights("the file is empty".into()));
        }
        Ok(Self { config, tokenizer, weights })
    }

    /// A new model on `device` with these weights. Any mismatch (truncated or corrupt record, a
    /// missing or extra tensor, a wrong shape) is an error.
    pub fn load_model(&self, device: &Device) -> Result<Model, CheckpointError> {
        load_weights(&self.config, self.weights.clone(), device)
    }

    pub fn weights(&self) -> &[u8] {
        &self.weights
    }

    /// Writes `model.bpk`, `config.json` and `tokenizer.json` into `dir` (created if needed).
    pub fn save_dir(&self, dir: &Path) -> Result<(), CheckpointError> {
        let io = |e: std::io::Error| CheckpointError::Io(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(dir.join(WEIGHTS_FILE), &self.weights).map_err(io)?;
        std::fs::write(dir.join(CONFIG_FILE), self.config.to_json() + "\n").map_err(io)?;
        let tokenizer = self.tokenizer.to_json().map_err(|e| CheckpointError::Tokenizer(e.to_string()))?;
        std::fs::write(dir.join(TOKENIZER_FILE), tokenizer + "\n").map_err(io)?;
        Ok(())
    }

    /// Reads a checkpoint directory written by [`Checkpoint::save_dir`].
    pub fn load_dir(dir: &Path) -> Result<Self, CheckpointError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| CheckpointError::Io(format!("{}: {e}", dir.join(name).display())))
        };
        let text = |name: &str| {
            String::from_utf8(read(name)?)
                .map_err(|_| CheckpointError::Io(format!("{name} is not UTF-8 text")))
        };
        Self::from_parts(&text(CONFIG_FILE)?, &text(TOKENIZER_FILE)?, read(WEIGHTS_FILE)?)
    }
}

/// A copy of `model` on the CPU backend, read with one asynchronous readback: the way to snapshot
/// or export a model that lives on WebGPU in the browser, where synchronous reads are impossible.
pub async fn copy_to_cpu(model: &Model, config: &ModelConfig) -> Result<Model, CheckpointError> {
    let mut collector = ParamTensors::default();
    model.visit(&mut collector);
    let mut transaction = Transaction::default();
    for tensor in collector.0 {
        transaction = transaction.register(tensor);
    }
    let data = readback::read(transaction).await.map_err(|e| CheckpointError::Weights(e.to_string()))?;
    let cpu = Device::flex();
    let mut filler = FillParams::new(data, &cpu);
    // Seeded: a plain init would draw from the global generator without the lock that seeded
    // inits on other threads hold (Burn initialises lazily), making their weights differ.
    let copy = config.init_seeded(&cpu, 0).map(&mut filler);
    filler.finish().map(|()| copy).map_err(CheckpointError::Weights)
}

/// Every float parameter, flattened, in module order.
#[derive(Default)]
pub(crate) struct ParamTensors(pub(crate) Vec<Tensor<1>>);

impl ModuleVisitor for ParamTensors {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let len: usize = tensor.dims().iter().product();
        self.0.push(tensor.reshape([len]));
    }
}

/// Replaces each float parameter, in module order, by the next read tensor (same shape required).
pub(crate) struct FillParams {
    data: std::vec::IntoIter<TensorData>,
    device: Device,
    error: Option<String>,
}

impl FillParams {
    pub(crate) fn new(data: Vec<TensorData>, device: &Device) -> Self {
        Self { data: data.into_iter(), device: device.clone(), error: None }
    }

    /// Whether every tensor found its parameter: the first misfit, or leftover tensors.
    pub(crate) fn finish(mut self) -> Result<(), String> {
        match (self.error, self.data.next()) {
            (Some(error), _) => Err(error),
            (None, Some(_)) => Err("the model has more tensors than its config".into()),
            (None, None) => Ok(()),
        }
    }
}

impl ModuleMapper for FillParams {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, value, mapper) = param.consume();
        let dims = value.dims();
        let filled = match self.data.next() {
            Some(data) if data.num_elements() == dims.iter().product::<usize>() => {
                Tensor::<1>::from_data(data, &self.device).reshape(dims)
            }
            other => {
                self.error.get_or_insert_with(|| match other {
                    Some(data) => format!("a tensor of shape {:?} does not fit {dims:?}", data.shape()),
                    None => "the model has fewer tensors than its config".into(),
                });
                value
            }
        };
        Param::from_mapped_value(id, filled, mapper)
    }
}

/// A new model of `config` on `device` with the weights of a `model.bpk` file's bytes; any mismatch
/// (truncated or corrupt record, a missing or extra tensor, a wrong shape) is an error.
/// [`Checkpoint::load_model`] is this after checking config and tokenizer; the fuzz target calls it
/// directly so that each input costs a load, not a tokenizer parse.
pub fn load_weights(
    config: &ModelConfig,
    weights: Vec<u8>,
    device: &Device,
) -> Result<Model, CheckpointError> {
    check_weight_dtypes(weights.clone())?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights))
        .map_err(|e| CheckpointError::Weights(e.to_string()))?;
    config.init(device).try_load_record(record).map_err(|e| CheckpointError::Weights(e.to_string()))
}

/// Every tensor of a `model.bpk` record is f32, as Aha writes them. Burn loads a parameter in the
/// record's own dtype: an integer tensor panics inside the load, a half-precision one loads and
/// breaks the first forward pass. Found by the checkpoint_loader fuzz target.
fn check_weight_dtypes(weights: Vec<u8>) -> Result<(), CheckpointError> {
    let invalid = |e: burn_pack::Error| CheckpointError::Weights(e.to_string());
    let tensors = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(weights))
        .and_then(burn_pack::Reader::into_tensors)
        .map_err(invalid)?;
    match tensors.iter().find(|t| t.dtype != burn_pack::DType::F32) {
        Some(t) => Err(CheckpointError::Weights(format!(
            "{} is stored as {:?}; Aha's weights are f32",
            t.name, t.dtype
        ))),
        None => Ok(()),
    }
}

/// The weights of `model` as a safetensors file with Hugging Face-style names
/// (`model.layers.0.self_attn.qkv_proj.weight`, ...). Linear weights are stored `[out, in]` as in
/// PyTorch (Burn keeps `[in, out]`); each expert's projections become their own tensors. Reads
/// synchronously (see [`Checkpoint::from_model`]).
pub fn export_safetensors(model: &Model, config: &ModelConfig) -> Result<Vec<u8>, CheckpointError> {
    let mut collector = ParamCollector::default();
    model.visit(&mut collector);
    let mut tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)> = BTreeMap::new();
    for (path, shape, values) in collector.params {
        for (name, shape, values) in hf_tensors(&path, shape, values)? {
            tensors.insert(name, (shape, values));
        }
    }
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, (shape, values))| (name, shape, values.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| CheckpointError::Weights(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = [("format".to_string(), "pt".to_string()), ("aha_config".to_string(), config.to_json())];
    safetensors::tensor::serialize(views, Some(metadata.into_iter().collect()))
        .map_err(|e| CheckpointError::Weights(e.to_string()))
}

/// Every float parameter of a module with its dotted path, shape and values.
#[derive(Default)]
struct ParamCollector {
    path: Vec<String>,
    params: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl ModuleVisitor for ParamCollector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let values = tensor.into_data().try_into_vec_as::<f32>().expect("float parameters convert to f32");
        self.params.push((self.path.join("."), shape, values));
    }
}

type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// `[rows, cols]` → `[cols, rows]`.
fn transpose(shape: &[usize], values: &[f32]) -> (Vec<usize>, Vec<f32>) {
    let (rows, cols) = (shape[0], shape[1]);
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    (vec![cols, rows], out)
}

/// Burn's parameter path → Hugging Face-style tensors.
fn hf_tensors(path: &str, shape: Vec<usize>, values: Vec<f32>) -> Result<Vec<NamedTensor>, CheckpointError> {
    let parts: Vec<&str> = path.split('.').collect();
    let linear = |name: String| {
        let (shape, values) = transpose(&shape, &values);
        Ok(vec![(name, shape, values)])
    };
    let same = |name: String| Ok(vec![(name, shape.clone(), values.clone())]);
    match parts.as_slice() {
        ["tokens", "weight"] => same("model.embed_tokens.weight".into()),
        ["positions", "weight"] => same("model.embed_positions.weight".into()),
        ["norm", "gamma"] => same("model.norm.weight".into()),
        ["lm_head", "weight"] => linear("lm_head.weight".into()),
        ["blocks", i, rest @ ..] => {
            let layer = format!("model.layers.{i}");
            match rest {
                ["attn_norm", "gamma"] => same(format!("{layer}.input_layernorm.weight")),
                ["moe_norm", "gamma"] => same(format!("{layer}.post_attention_layernorm.weight")),
                ["attn", "qkv", "weight"] => linear(format!("{layer}.self_attn.qkv_proj.weight")),
                ["attn", "out", "weight"] => linear(format!("{layer}.self_attn.o_proj.weight")),
                ["moe", "router", "weight"] => linear(format!("{layer}.mlp.gate.weight")),
                ["moe", "shared", "up", "weight"] => {
                    linear(format!("{layer}.mlp.shared_expert.up_proj.weight"))
                }
                ["moe", "shared", "down", "weight"] => {
                    linear(format!("{layer}.mlp.shared_expert.down_proj.weight"))
                }
                ["moe", w @ ("w_in" | "w_out")] => {
                    // [E, in, out] → per expert [out, in].
                    let (experts, inner) = (shape[0], shape[1] * shape[2]);
                    let proj = if *w == "w_in" { "up_proj" } else { "down_proj" };
                    Ok((0..experts)
                        .map(|e| {
                            let (s, v) = transpose(&shape[1..], &values[e * inner..(e + 1) * inner]);
                            (format!("{layer}.mlp.experts.{e}.{proj}.weight"), s, v)
                        })
                        .collect())
                }
                _ => Err(CheckpointError::Weights(format!("no export name for parameter {path}"))),
            }
        }
        _ => Err(CheckpointError::Weights(format!("no export name for parameter {path}"))),
    }
}

/// Numbers the parameters 1, 2, 3... in module order before saving. Burn gives each parameter a
/// random id and the record stores it, so two trainings with the same seed — identical weights —
/// would otherwise write different bytes, and a rebuilt checkpoint could not be compared to the
/// shipped one.
struct NumberParams(u64);

impl ModuleMapper for NumberParams {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        self.0 += 1;
        let (_, value, mapper) = param.consume();
        Param::from_mapped_value(ParamId::from(self.0), value, mapper)
    }
}
