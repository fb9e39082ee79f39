//! Training batches: traces → padded token ids with a loss mask, and length-bucketed batching.

use aha_tasks::{Corpus, CorpusError, Trace};
use aha_tokenizer::{CharTokenizer, TokenizerError};
use burn::tensor::{Device, Int, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// A batch of next-token prediction examples, host side. Row `r`, position `t` reads
/// `inputs[r][t]` and predicts `targets[r][t]`; `loss_mask` says which predictions are trained and
/// `token_mask` which inputs are real (not padding). Padding is always at the end of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBatch {
    pub rows: usize,
    pub seq_len: usize,
    pub inputs: Vec<i64>,
    pub targets: Vec<i64>,
    pub loss_mask: Vec<f32>,
    pub token_mask: Vec<f32>,
}

/// The device tensors of a [`TokenBatch`].
#[derive(Debug, Clone)]
pub struct BatchTensors {
    pub inputs: Tensor<2, Int>,
    pub targets: Tensor<2, Int>,
    pub loss_mask: Tensor<2>,
    pub token_mask: Tensor<2>,
}

impl TokenBatch {
    /// Tokenizes `traces` (prompt then completion) and pads them to the longest. Only completion
    /// characters whose trace mask is set are trained; the prompt never is.
    pub fn from_traces(traces: &[Trace], tokenizer: &CharTokenizer) -> Result<Self, TokenizerError> {
        let pad = i64::from(tokenizer.special_ids().pad);
        let mut rows = Vec::with_capacity(traces.len());
        for trace in traces {
            let prompt = tokenizer.encode(&trace.prompt)?;
            let completion = tokenizer.encode(&trace.completion)?;
            debug_assert_eq!(completion.len(), trace.loss_mask.len(), "one token per character");
            let ids: Vec<i64> = prompt.iter().chain(&completion).map(|&id| i64::from(id)).collect();
            // Target t is ids[t + 1]: completion token i is the target at position prompt.len() + i - 1.
            let mut trained = vec![0.0f32; prompt.len() - 1];
            trained.extend(trace.loss_mask.iter().map(|&m| if m { 1.0 } else { 0.0 }));
            rows.push((ids, trained));
        }
        Ok(Self::from_rows(rows, pad))
    }

    /// Pads rows of token ids into a batch. Each row is its ids (prompt then completion) and, per
    /// target position (one fewer than ids), 1.0 where that prediction is trained. The shared core
    /// of SFT batches ([`TokenBatch::from_traces`]) and GRPO's update batches.
    pub fn from_rows(rows: Vec<(Vec<i64>, Vec<f32>)>, pad: i64) -> Self {
        let seq_len = rows.iter().map(|(ids, _)| ids.len().saturating_sub(1)).max().unwrap_or(0);
        let mut batch = TokenBatch {
            rows: rows.len(),
            seq_len,
            inputs: Vec::with_capacity(rows.len() * seq_len),
            targets: Vec::with_capacity(rows.len() * seq_len),
            loss_mask: Vec::with_capacity(rows.len() * seq_len),
            token_mask: Vec::with_capacity(rows.len() * seq_len),
        };
        for (ids, trained) in rows {
            let n = ids.len() - 1;
            let fill = seq_len - n;
            batch.inputs.extend(&ids[..n]);
            batch.inputs.extend(std::iter::repeat_n(pad, fill));
            batch.targets.extend(&ids[1..]);
            batch.targets.extend(std::iter::repeat_n(pad, fill));
            batch.loss_mask.extend(&trained);
            batch.loss_mask.extend(std::iter::repeat_n(0.0, fill));
            batch.token_mask.extend(std::iter::repeat_n(1.0, n));
            batch.token_mask.extend(std::iter::repeat_n(0.0, fill));
        }
        batch
    }

    pub fn to_device(&self, device: &Device) -> BatchTensors {
        let shape = [self.rows, self.seq_len];
        let ints = |v: &[i64]| Tensor::<1, Int>::from_ints(v, device).reshape(shape);
        let floats = |v: &[f32]| Tensor::<1>::from_floats(v, device).reshape(shape);
        BatchTensors {
            inputs: ints(&self.inputs),
            targets: ints(&self.targets),
            loss_mask: floats(&self.loss_mask),
            token_mask: floats(&self.token_mask),
        }
    }

    /// Trained target tokens in the batch.
    pub fn trained_tokens(&self) -> usize {
        self.loss_mask.iter().filter(|&&m| m > 0.0).count()
    }
}

/// Batches from an endless corpus, bucketed by length: it draws `pool` batches' worth of traces,
/// sorts them by length, cuts them into batches of similar lengths (less padding) and serves those
/// in a shuffled order. Reproducible from the corpus seed and `seed`.
pub struct BucketedBatches {
    corpus: Corpus,
    batch_size: usize,
    pool: usize,
    rng: ChaCha8Rng,
    ready: Vec<Vec<Trace>>,
}

impl BucketedBatches {
    pub fn new(corpus: Corpus, batch_size: usize, pool: usize, seed: u64) -> Self {
        Self {
            corpus,
            batch_size: batch_size.max(1),
            pool: pool.max(1),
            rng: ChaCha8Rng::seed_from_u64(seed),
            ready: Vec::new(),
        }
    }

    /// The next batch of traces.
    pub fn next_traces(&mut self) -> Result<Vec<Trace>, CorpusError> {
        if self.ready.is_empty() {
            let mut traces = (0..self.batch_size * self.pool)
                .map(|_| self.corpus.next_trace())
                .collect::<Result<Vec<_>, _>>()?;
            // Stable sort: equal lengths keep corpus order, so the result is reproducible.
            traces.sort_by_key(|t| t.prompt.len() + t.completion.len());
            let mut batches: Vec<Vec<Trace>> = Vec::with_capacity(self.pool);
            while !traces.is_empty() {
                let rest = traces.split_off(self.batch_size.min(traces.len()));
                batches.push(std::mem::replace(&mut traces, rest));
            }
            batches.shuffle(&mut self.rng);
            self.ready = batches;
        }
        Ok(self.ready.pop().expect("the pool was just filled"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aha_tasks::{CorpusMix, GuessMask, ProblemSpec, StepFormat, TraceSpec, write_trace};

    #[test]
    fn targets_are_shifted_inputs_and_only_trained_characters_count() {
        let tok = CharTokenizer::new();
        let p = aha_tasks::Problem::new(347, aha_tasks::Op::Mul, 5, 3, 1).unwrap();
        let spec = TraceSpec {
            check: false,
            wrong_guess: true,
            mask_decision: false,
            guess_mask: GuessMask::WrongOnly,
            step_format: StepFormat::Natural,
            ..TraceSpec::default()
        };
        let long = write_trace(&p, spec, "1745").unwrap(); // 347*5=g1745 a1745.
        let short = Trace { prompt: "1*2=".into(), completion: "g02.".into(), loss_mask: vec![true; 4] };
        let batch = TokenBatch::from_traces(&[long.clone(), short], &tok).unwrap();
        let full = format!("{}{}", long.prompt, long.completion);
        assert_eq!(batch.seq_len, full.len() - 1);
        let id = |c: char| i64::from(tok.token_id(&c.to_string()).unwrap());
        let row0: Vec<i64> = full.chars().map(id).collect();
        assert_eq!(&batch.inputs[..batch.seq_len], &row0[..row0.len() - 1]);
        assert_eq!(&batch.targets[..batch.seq_len], &row0[1..]);
        // Prompt "347*5=" (6 chars): targets 0..5 predict prompt characters → untrained.
        // Target 5 predicts 'g' (trained), 6..9 the wrong guess digits (masked), then " a1745." trained.
        let expected: Vec<f32> = [vec![0.0; 5], vec![1.0], vec![0.0; 4], vec![1.0; 7]].concat();
        assert_eq!(&batch.loss_mask[..batch.seq_len], expected.as_slice());
        // Second row: 7 real inputs, then padding that is neither trained nor real.
        let row1 = &batch.token_mask[batch.seq_len..];
        assert_eq!(row1.iter().filter(|&&m| m == 1.0).count(), 7);
        assert!(row1[7..].iter().all(|&m| m == 0.0));
        assert!(batch.loss_mask[batch.seq_len + 7..].iter().all(|&m| m == 0.0));
        assert_eq!(batch.trained_tokens(), 8 + 4);
    }

    #[test]
    fn bucketing_groups_similar_lengths_reproducibly() {
        let mix = CorpusMix::RECIPE_B_STAGE1;
        let make = || {
            let corpus = Corpus::new(ProblemSpec::MUL_3X1, mix, 11).unwrap();
            BucketedBatches::new(corpus, 16, 8, 5)
        };
        let (mut a, mut b) = (make(), make());
        let mut spread = 0;
        for _ in 0..16 {
            let batch = a.next_traces().unwrap();
            assert_eq!(batch.len(), 16);
            assert_eq!(batch, b.next_traces().unwrap());
            let lens: Vec<usize> = batch.iter().map(|t| t.completion.len()).collect();
            spread += lens.iter().max().unwrap() - lens.iter().min().unwrap();
        }
        // Without bucketing most batches would mix 12- and 51-character completions.
        assert!(spread / 16 < 20, "mean spread {}", spread / 16);
    }
}
