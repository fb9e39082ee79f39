//! Answering a typed problem token by token (the page's prompt box). Platform-independent so it is
//! tested natively too; `bindings.rs` only converts values for JavaScript.

use aha_model::{Model, ModelConfig, SamplingConfig, generate_streaming};
use aha_tasks::{ProblemSpec, is_correct, is_held_out, parse_completion};
use aha_tokenizer::CharTokenizer;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::prompt::{CheckedPrompt, check_prompt};

/// How the page asks for a completion. Unknown fields are an error (a typo must not be ignored).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GenerateOptions {
    /// 0 (the default) is greedy.
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub temperature: f32,
    #[cfg_attr(feature = "ts", ts(as = "Option<_>", optional))]
    pub top_k: usize,
    /// Longest completion; default: what the model's length allows.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_new_tokens: Option<usize>,
    /// Seeds the sampler, for a reproducible sample; without one each request draws anew.
    #[cfg_attr(feature = "ts", ts(as = "Option<u32>", optional))]
    pub seed: Option<u64>,
}

/// What the page shows after a completion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Completion {
    pub prompt: String,
    pub completion: String,
    /// The final answer if the completion is well formed.
    pub answer: Option<String>,
    pub expected: String,
    pub correct: bool,
    pub checked: bool,
    /// The problem is of the shape the run trains on ([`ModelInfo::task`]): outside it, the model
    /// answers something it never learned.
    pub in_task: bool,
    /// The problem is in the held-out split: no training, SFT or GRPO, ever showed it.
    pub held_out: bool,
    pub tokens: Vec<u32>,
    pub logprobs: Vec<f32>,
}

/// Facts about the loaded model for the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelInfo {
    pub parameters: usize,
    /// The model's `config.json`.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub config: ModelConfig,
    /// The problems the run trains the model on, in words (`3-digit × 1-digit multiplication`).
    pub task: String,
}

/// The next sampler seed of an unseeded request, so that requests still differ from one another.
pub(crate) fn next_draw(draws: &std::cell::Cell<u64>) -> u64 {
    let next = draws.get();
    draws.set(next.wrapping_add(1));
    next
}

/// `model`, trained on `task`, answers a typed problem, calling `on_token(text, logprob)` for each
/// token as it comes. The sampler draws from `options.seed` (0 without one).
pub(crate) async fn answer(
    model: &Model,
    task: &ProblemSpec,
    tokenizer: &CharTokenizer,
    device: &Device,
    text: &str,
    options: &GenerateOptions,
    mut on_token: impl FnMut(&str, f32),
) -> Result<Completion, WebError> {
    let CheckedPrompt { problem, prompt, ids, .. } = check_prompt(text, tokenizer)?;
    let ids: Vec<i64> = ids.into_iter().map(i64::from).collect();
    let room = model.max_seq_len().saturating_sub(ids.len());
    let config = SamplingConfig {
        temperature: options.temperature,
        top_k: options.top_k,
        max_new_tokens: options.max_new_tokens.unwrap_or(room).min(room),
        stop_token: tokenizer.token_id(".").ok_or("the tokenizer has no '.'")?,
        pad_token: tokenizer.special_ids().pad,
        stop_check_every: 0,
        first_stop_check: 0,
        seed: options.seed.unwrap_or(0),
    };
    let prompt_tensor = Tensor::<1, Int>::from_ints(ids.as_slice(), device).reshape([1, ids.len()]);
    let generation = generate_streaming(model, prompt_tensor, &config, |id, lp| {
        let piece = tokenizer.decode(&[id], true).unwrap_or_default();
        on_token(&piece, lp);
    })
    .await?;
    let tokens = generation.tokens.into_iter().next().unwrap_or_default();
    let completion = tokenizer.decode(&tokens, true)?;
    let parsed = parse_completion(&completion);
    Ok(Completion {
        correct: is_correct(&problem, &parsed),
        checked: parsed.check.is_some(),
        in_task: task.contains(&problem),
        held_out: is_held_out(&problem),
        answer: parsed.answer,
        expected: problem.answer_text(),
        prompt,
        completion,
        tokens,
        logprobs: generation.logprobs.into_iter().next().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aha_model::MoeConfig;

    fn answer_with(
        text: &str,
        options: &GenerateOptions,
        pieces: &mut String,
    ) -> Result<Completion, WebError> {
        let tok = CharTokenizer::new();
        let device = Device::flex();
        let config = ModelConfig::new(tok.vocab_size(), MoeConfig::new().with_d_expert(16))
            .with_d_model(16)
            .with_n_heads(2);
        let model = config.init_seeded(&device, 5);
        let task = ProblemSpec::MUL_3X1;
        pollster::block_on(answer(&model, &task, &tok, &device, text, options, |p, _| pieces.push_str(p)))
    }

    #[test]
    fn streams_a_completion() {
        let mut pieces = String::new();
        let options = GenerateOptions { max_new_tokens: Some(6), ..Default::default() };
        let out = answer_with("12*3", &options, &mut pieces).unwrap();
        assert_eq!(out.prompt, "12*3=");
        assert_eq!(out.expected, "036");
        assert!(!out.in_task, "12*3 is not a 3-digit × 1-digit problem");
        assert_eq!(pieces, out.completion);
        assert_eq!(out.tokens.len(), out.logprobs.len());
        assert!(out.tokens.len() <= 6);
    }

    #[test]
    fn bad_input_is_a_sentence_not_a_panic() {
        let err =
            answer_with("hello", &GenerateOptions::default(), &mut String::new()).unwrap_err().to_string();
        assert!(err.starts_with("expected a problem like 347*5"), "{err}");
        let bad = GenerateOptions { temperature: -2.0, ..Default::default() };
        let err = answer_with("1*2", &bad, &mut String::new()).unwrap_err().to_string();
        assert!(err.contains("temperature"), "{err}");
    }

    #[test]
    fn options_refuse_unknown_fields() {
        let ok: GenerateOptions = serde_json::from_str(r#"{"temperature": 0.7, "seed": 3}"#).unwrap();
        assert_eq!(ok.temperature, 0.7);
        assert!(serde_json::from_str::<GenerateOptions>(r#"{"temprature": 0.7}"#).is_err());
    }
}
