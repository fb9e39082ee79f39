//! The shipped base checkpoint and its greedy-parity fixture: the native CPU run writes down what
//! greedy decoding of 8 fixed prompts gives; the browser tests (WebGPU and CPU) must give the same
//! tokens, and first-step logits within 1e-3.

use aha_model::{Model, SamplingConfig, generate};
use aha_tokenizer::CharTokenizer;
use aha_train::complete::prompt_tensor;
use aha_train::{Checkpoint, GrpoTrainer, RunConfig};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

pub const WEIGHTS: &[u8] = include_bytes!("../../web/public/base-model/model.bpk");
pub const CONFIG: &str = include_str!("../../web/public/base-model/config.json");
pub const TOKENIZER: &str = include_str!("../../web/public/base-model/tokenizer.json");
/// The recipe the shipped checkpoint was built with (`aha pretrain` writes it beside the weights).
pub const RECIPE: &str = include_str!("../../web/public/base-model/recipe.json");
/// Written by `AHA_BLESS=1 cargo test --workspace base_model_greedy_parity` (see `cargo xtask base-model`).
pub const FIXTURE: &str = include_str!("../fixtures/base_greedy.json");

pub const PROMPTS: [&str; 8] =
    ["347*5=", "819*7=", "256*3=", "100*0=", "999*9=", "480*6=", "123*4=", "777*8="];

/// What greedy decoding of [`PROMPTS`] gives on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GreedyParity {
    pub tokens: Vec<Vec<u32>>,
    /// Logits of the first completion token of each prompt, `[8][vocab]`.
    pub first_logits: Vec<Vec<f32>>,
}

pub fn checkpoint() -> Checkpoint {
    Checkpoint::from_parts(CONFIG, TOKENIZER, WEIGHTS.to_vec()).expect("the shipped checkpoint is valid")
}

/// A GRPO trainer on `device` that starts from the shipped base model.
pub fn shipped_trainer(config: aha_train::GrpoConfig, device: &Device) -> Result<GrpoTrainer, String> {
    let checkpoint = checkpoint();
    let model = checkpoint.load_model(device).map_err(|e| e.to_string())?;
    GrpoTrainer::new(model, config, checkpoint.tokenizer, device).map_err(|e| e.to_string())
}

/// The ablation's base model: the same recipe without any check trace.
pub fn no_check_checkpoint() -> Checkpoint {
    Checkpoint::from_parts(
        include_str!("../../web/public/base-model-no-check/config.json"),
        include_str!("../../web/public/base-model-no-check/tokenizer.json"),
        include_bytes!("../../web/public/base-model-no-check/model.bpk").to_vec(),
    )
    .expect("the shipped no-check checkpoint is valid")
}

/// Logits of the first completion token of each of [`PROMPTS`], `[8][vocab]`: a fingerprint of
/// what a model computes (one readback).
pub async fn first_logits(
    model: &Model,
    tokenizer: &CharTokenizer,
    device: &Device,
) -> Result<Vec<Vec<f32>>, String> {
    let tensor = prompt_tensor(tokenizer, &prompts(), device).map_err(|e| e.to_string())?;
    let [rows, len] = tensor.dims();
    let mut cache = model.new_cache(rows, len, device);
    let logits = model.forward_cached(tensor, &mut cache);
    let vocab = logits.dims()[2];
    let last = logits.slice([0..rows, len - 1..len, 0..vocab]).reshape([rows, vocab]);
    let flat = last.into_data_async().await.map_err(|e| format!("{e:?}"))?;
    let flat = flat.try_into_vec_as::<f32>().map_err(|e| format!("{e:?}"))?;
    Ok(flat.chunks(vocab).map(<[f32]>::to_vec).collect())
}

fn prompts() -> Vec<String> {
    PROMPTS.iter().map(|p| p.to_string()).collect()
}

/// Greedy-decodes [`PROMPTS`] with the shipped checkpoint on `device`.
pub async fn greedy_parity(device: &Device) -> Result<GreedyParity, String> {
    let checkpoint = checkpoint();
    let model = checkpoint.load_model(device).map_err(|e| e.to_string())?;
    let tokenizer = &checkpoint.tokenizer;
    let first_logits = first_logits(&model, tokenizer, device).await?;
    let tensor = prompt_tensor(tokenizer, &prompts(), device).map_err(|e| e.to_string())?;
    let config = SamplingConfig {
        temperature: 0.0,
        top_k: 0,
        max_new_tokens: model.max_seq_len() - tensor.dims()[1],
        stop_token: tokenizer.token_id(".").ok_or("no '.'")?,
        pad_token: tokenizer.special_ids().pad,
        stop_check_every: 0,
        first_stop_check: 0,
        seed: 0,
    };
    let generation = generate(&model, tensor, &config).await.map_err(|e| e.to_string())?;
    Ok(GreedyParity { tokens: generation.tokens, first_logits })
}

/// Checks `actual` against the committed fixture: equal tokens, logits within `tolerance`.
pub fn check_against_fixture(actual: &GreedyParity, tolerance: f32) -> Result<(), String> {
    let expected: GreedyParity = serde_json::from_str(FIXTURE).map_err(|e| format!("fixture: {e}"))?;
    if expected.tokens != actual.tokens {
        return Err(format!(
            "greedy tokens differ:\nexpected {:?}\nactual   {:?}",
            expected.tokens, actual.tokens
        ));
    }
    let worst = expected
        .first_logits
        .iter()
        .flatten()
        .zip(actual.first_logits.iter().flatten())
        // A NaN anywhere counts as an infinite difference (`f32::max` would drop it).
        .map(|(a, b)| if (a - b).is_nan() { f32::INFINITY } else { (a - b).abs() })
        .fold(0.0f32, f32::max);
    if expected.first_logits.len() != actual.first_logits.len() || worst > tolerance {
        return Err(format!("first-step logits differ by up to {worst} (tolerance {tolerance})"));
    }
    Ok(())
}

/// Three GRPO steps of the tiny preset from the shipped checkpoint. On-policy the clipped term of
/// the loss is zero by construction (group advantages sum to zero) and the KL term starts at zero,
/// so "the loss changes" is checked where it shows: the policy's logits on fixed prompts move away from the base model's.
/// Then the run's saved state resumes with the same policy.
pub async fn three_grpo_steps_move_the_policy(device: &Device) {
    let ck = checkpoint();
    let base = ck.load_model(device).unwrap();
    let before = first_logits(&base, &ck.tokenizer, device).await.unwrap();
    let mut config = RunConfig::named("tiny").unwrap().grpo;
    // No early-stop checks: every rollout is then exactly one readback.
    config.stop_check_every = 0;
    let mut trainer = GrpoTrainer::new(base, config.clone(), ck.tokenizer.clone(), device).unwrap();
    let mut signal = 0.0;
    for _ in 0..3 {
        let step = trainer.step().await.unwrap();
        let m = step.metrics;
        assert_eq!(m.readbacks, 2, "one readback for the rollout, one for the update");
        assert!(m.loss.is_finite() && m.entropy.is_finite() && m.kl.is_finite(), "{m:?}");
        assert!((0.0..=1.0).contains(&m.reward_mean));
        signal += 1.0 - m.zero_variance_groups;
    }
    assert!(signal > 0.0, "every group of every step had one reward: no learning signal");
    let after = first_logits(&trainer.policy(), &ck.tokenizer, device).await.unwrap();
    let moved =
        before.iter().flatten().zip(after.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(after.iter().flatten().all(|x| x.is_finite()), "non-finite logits after training");
    assert!(moved > 1e-4, "three GRPO steps left the policy unchanged (max logit change {moved})");

    // The run saves (asynchronously: the page's checkpoint on WebGPU) and resumes as it was.
    let state = trainer.save_state().await.unwrap();
    let base = ck.load_model(device).unwrap();
    let resumed = GrpoTrainer::resume(base, config, ck.tokenizer.clone(), device, &state).unwrap();
    assert_eq!(resumed.steps_done(), 3);
    let reloaded = first_logits(&resumed.policy(), &ck.tokenizer, device).await.unwrap();
    let drift =
        after.iter().flatten().zip(reloaded.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(drift < 1e-5, "the resumed policy's logits differ by {drift}");
}

/// The tiny preset's rollout with and without early-stop checks: the same samples; the checks
/// only change the number of reads (one per 16 of the completion's tokens until every row is
/// done, the last check doubling as the final read).
pub async fn early_stop_keeps_the_samples(device: &Device) {
    let config = RunConfig::named("tiny").unwrap().grpo;
    assert_eq!(config.stop_check_every, 16);
    let problems: Vec<_> = aha_tasks::ProblemGenerator::new(config.task, 7).unwrap().take(4).collect();
    let mut results = Vec::new();
    for stop_check_every in [16, 0] {
        let config = aha_train::GrpoConfig { stop_check_every, ..config.clone() };
        let trainer = shipped_trainer(config, device).unwrap();
        results.push(trainer.complete(&problems, 4, 1.0, 11).await.unwrap().1);
    }
    let (checked, plain) = (&results[0], &results[1]);
    assert_eq!(checked.texts, plain.texts);
    assert_eq!(checked.tokens, plain.tokens);
    assert_eq!(plain.readbacks, 1);
    let most = config.max_completion_length.div_ceil(16);
    assert!((1..=most).contains(&checked.readbacks), "{} readbacks of at most {most}", checked.readbacks);
}
