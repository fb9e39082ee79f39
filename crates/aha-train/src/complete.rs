//! Completing many prompts at once: texts in, decoded completions out, with one readback.

use aha_model::{Model, SamplingConfig, generate};
use aha_tasks::Problem;
use aha_tokenizer::CharTokenizer;
use burn::tensor::{Device, Int, Tensor};

use crate::error::TrainError;

/// Each of `problems` `repeats` times in a row (a group, or a teacher's samples of one problem),
/// with the prompts the model is given.
pub fn repeated_rows(problems: &[Problem], repeats: usize) -> (Vec<Problem>, Vec<String>) {
    let rows: Vec<Problem> = problems.iter().flat_map(|p| std::iter::repeat_n(*p, repeats)).collect();
    let prompts = rows.iter().map(Problem::prompt).collect();
    (rows, prompts)
}

/// Sampling settings for Aha's format: stop after `stop` (normally `.`), pad with `<pad>`, never
/// read back before the end. An error when the tokenizer has no `stop` token (a tokenizer not
/// checked against Aha's vocabulary).
pub fn sampling(
    tokenizer: &CharTokenizer,
    stop: char,
    temperature: f32,
    max_new_tokens: usize,
    seed: u64,
) -> Result<SamplingConfig, TrainError> {
    let stop_token = tokenizer.token_id(&stop.to_string()).ok_or_else(|| {
        TrainError::Invalid(format!("the tokenizer has no {stop:?} token to stop sampling at"))
    })?;
    Ok(SamplingConfig {
        temperature,
        top_k: 0,
        max_new_tokens,
        stop_token,
        pad_token: tokenizer.special_ids().pad,
        stop_check_every: 0,
        first_stop_check: 0,
        seed,
    })
}

/// `texts` as one `[rows, len]` tensor of token ids; every text must have the same length.
pub fn prompt_tensor(
    tokenizer: &CharTokenizer,
    texts: &[String],
    device: &Device,
) -> Result<Tensor<2, Int>, TrainError> {
    let mut ids = Vec::new();
    let mut len = None;
    for text in texts {
        let encoded = tokenizer.encode(text)?;
        if *len.get_or_insert(encoded.len()) != encoded.len() {
            return Err(TrainError::Invalid("every prompt of a batch must have the same length".into()));
        }
        ids.extend(encoded.into_iter().map(i64::from));
    }
    let len = len.ok_or_else(|| TrainError::Invalid("no prompts to complete".into()))?;
    Ok(Tensor::<1, Int>::from_ints(ids.as_slice(), device).reshape([texts.len(), len]))
}

/// What [`complete`] returns.
#[derive(Debug, Clone)]
pub struct Completed {
    pub texts: Vec<String>,
    pub tokens: Vec<Vec<u32>>,
    pub readbacks: usize,
}

/// Continues every text in `prompts` with `model`.
pub async fn complete(
    model: &Model,
    tokenizer: &CharTokenizer,
    prompts: &[String],
    sampling: &SamplingConfig,
    device: &Device,
) -> Result<Completed, TrainError> {
    let generation = generate(model, prompt_tensor(tokenizer, prompts, device)?, sampling)
        .await
        .map_err(|e| TrainError::Readback(e.to_string()))?;
    let texts = generation.tokens.iter().map(|t| tokenizer.decode(t, true)).collect::<Result<Vec<_>, _>>()?;
    Ok(Completed { texts, tokens: generation.tokens, readbacks: generation.readbacks })
}
