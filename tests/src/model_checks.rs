//! Checks of the kernels inside the model and the trainer, on one device — natively on wgpu
//! (lavapipe) and in headless Chromium on WebGPU (SwiftShader): the whole model's gradients with
//! and without the kernels, the one-readback rollout, and cached decoding. Each kernel's own
//! parity check sits beside it (`aha_kernels::<kernel>::checks`); `crate::gpu_checks!` lists
//! them all for both runners.

use aha_kernels::KernelChoice;
use aha_kernels::check::{f32s, max_abs_diff, noise, read};
use aha_kernels::readback::reads_so_far;
use aha_kernels::sample::uniform;
use aha_model::{ModelConfig, MoeConfig};
use aha_tasks::ProblemGenerator;
use aha_train::RunConfig;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Gradients, Int, Tensor, Transaction};

use crate::base_model::{PROMPTS, checkpoint, shipped_trainer};

/// Every parameter's gradient, flattened, in module order.
struct ParamGrads<'a> {
    grads: &'a Gradients,
    out: Vec<Option<Tensor<1>>>,
}

impl ModuleVisitor for ParamGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.push(param.val().grad(self.grads).map(|g| g.flatten(0, D - 1)));
    }
}

/// The whole model's training gradients with our kernels (attention, GELU) equal those with
/// Burn's formulas (`"kernels": "reference"`) on the same device: the shipped checkpoint, the
/// eight fixed prompts, a weighted sum of the logits plus the balance loss; every parameter's
/// gradient within 1e-4 of the largest value of its tensor. Returns the parameters compared.
pub async fn training_gradients_match_the_reference(device: &Device) -> Result<usize, String> {
    let ck = checkpoint();
    let autodiff = device.clone().autodiff();
    let prompts: Vec<String> = PROMPTS.iter().map(|p| p.to_string()).collect();
    let tokens =
        aha_train::complete::prompt_tensor(&ck.tokenizer, &prompts, &autodiff).map_err(|e| e.to_string())?;
    let [rows, len] = tokens.dims();
    let vocab = ck.config.vocab_size;
    let weights = Tensor::<1>::from_floats(noise(400, rows * len * vocab, 1.0).as_slice(), &autodiff)
        .reshape([rows, len, vocab]);
    let mut gradients = Vec::new();
    for choice in [KernelChoice::Auto, KernelChoice::Reference] {
        let config = ck.config.clone().with_kernels(Some(choice));
        let model =
            aha_train::load_weights(&config, ck.weights().to_vec(), &autodiff).map_err(|e| e.to_string())?;
        let out = model.forward(tokens.clone(), Tensor::ones([rows, len], &autodiff));
        let loss = (out.logits * weights.clone()).sum() + out.aux_loss;
        let grads = loss.backward();
        let mut visitor = ParamGrads { grads: &grads, out: Vec::new() };
        model.visit(&mut visitor);
        gradients.push(visitor.out);
    }
    let (kernels, reference) = (&gradients[0], &gradients[1]);
    let mut transaction = Transaction::default();
    for (k, r) in kernels.iter().zip(reference) {
        let (Some(k), Some(r)) = (k, r) else {
            return Err("a parameter got no gradient".into());
        };
        transaction = transaction.register(k.clone()).register(r.clone());
    }
    let data = read(transaction).await?;
    for (index, pair) in data.chunks(2).enumerate() {
        let (k, r) = (f32s(&pair[0]), f32s(&pair[1]));
        let largest = r.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        let worst = max_abs_diff(&k, &r);
        if worst.is_nan() || worst > 1e-4 * largest.max(1e-6) {
            return Err(format!("parameter {index}: gradients differ by {worst} (largest {largest})"));
        }
    }
    Ok(data.len() / 2)
}

/// A full GRPO rollout of the default preset (B × G rows, every decode step up to
/// `max_completion_length`, no early stop) with the shipped base model: exactly one read, counted
/// by the instrumented read function. Returns the rows and steps it sampled.
pub async fn rollout_reads_back_once(device: &Device) -> Result<(usize, usize), String> {
    let preset = RunConfig::named("default").ok_or("no default preset")?;
    let g = preset.grpo.clone();
    if g.stop_check_every != 0 {
        return Err("the default preset checks for early stops; this test wants a full rollout".into());
    }
    let trainer = shipped_trainer(g.clone(), &device.clone().autodiff())?;
    let problems: Vec<_> =
        ProblemGenerator::new(g.task, 5).map_err(|e| e.to_string())?.take(g.prompts_per_step).collect();
    let before = reads_so_far();
    let (rows, completed) =
        trainer.complete(&problems, g.num_generations, g.temperature, 17).await.map_err(|e| e.to_string())?;
    let reads = reads_so_far() - before;
    if reads != 1 || completed.readbacks != 1 {
        return Err(format!(
            "the rollout read back {reads} times (it reports {}); want 1",
            completed.readbacks
        ));
    }
    if rows.len() != g.prompts_per_step * g.num_generations {
        return Err(format!("the rollout sampled {} rows, want B × G", rows.len()));
    }
    Ok((rows.len(), g.max_completion_length))
}

/// Decoding with the KV cache (prefill, then one position at a time) gives the full forward's
/// logits on `device`. On wgpu the cache is written in place, which only a GPU backend exercises.
/// Returns the largest difference.
pub async fn cached_decoding_matches_the_full_forward(device: &Device) -> Result<f32, String> {
    let (rows, len, prefill) = (3, 12, 5);
    let config = ModelConfig::new(20, MoeConfig::new().with_top_k(2)).with_max_seq_len(16);
    let model = config.init_seeded(device, 4);
    let ids: Vec<i64> = (0..rows * len).map(|i| (uniform(8, 0, i) * 20.0) as i64 % 20).collect();
    let columns = |from: usize, to: usize| {
        let part: Vec<i64> = ids.chunks(len).flat_map(|row| row[from..to].to_vec()).collect();
        Tensor::<1, Int>::from_ints(part.as_slice(), device).reshape([rows, to - from])
    };
    let full = model.forward(columns(0, len), Tensor::ones([rows, len], device)).logits;
    let mut cache = model.new_cache(rows, len, device);
    let mut pieces = vec![model.forward_cached(columns(0, prefill), &mut cache)];
    pieces.extend((prefill..len).map(|i| model.forward_cached(columns(i, i + 1), &mut cache)));
    let data = read(Transaction::default().register(full).register(Tensor::cat(pieces, 1))).await?;
    let diff = max_abs_diff(&f32s(&data[0]), &f32s(&data[1]));
    if diff.is_nan() || diff >= 1e-4 {
        return Err(format!("max |full - cached| = {diff}"));
    }
    Ok(diff)
}
