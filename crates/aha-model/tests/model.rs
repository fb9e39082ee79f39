//! The model on the CPU backend: shapes, routing statistics, KV-cache parity and generation.

use aha_model::{Model, ModelConfig, MoeConfig, SamplingConfig, generate};
use burn::tensor::{Device, Int, Tensor};

fn model(moe: MoeConfig, seed: u64) -> (Model, Device) {
    let device = Device::flex();
    let config = ModelConfig::new(20, moe).with_max_seq_len(24).with_d_model(32).with_n_heads(4);
    config.validate().unwrap();
    (config.init_seeded(&device, seed), device)
}

fn tokens(rows: &[&[i64]], device: &Device) -> Tensor<2, Int> {
    let n = rows[0].len();
    let flat: Vec<i64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::<1, Int>::from_ints(flat.as_slice(), device).reshape([rows.len(), n])
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

#[test]
fn shapes_of_a_full_forward() {
    for moe in [MoeConfig::new(), MoeConfig::new().with_top_k(2).with_n_experts(6).with_shared_expert(true)] {
        let e = moe.n_experts;
        let (model, device) = model(moe, 1);
        let x = tokens(&[&[1, 2, 3, 4, 5], &[6, 7, 8, 0, 0]], &device);
        let mask = Tensor::<2>::from_floats([[1., 1., 1., 1., 1.], [1., 1., 1., 0., 0.]], &device);
        let out = model.forward(x, mask);
        assert_eq!(out.logits.dims(), [2, 5, 20]);
        assert_eq!(out.aux_loss.dims(), [1]);
        assert_eq!(out.expert_load.dims(), [2, e]);
        assert_eq!(out.gates.dims(), [2, 10, e]);
        // Each layer's load sums to 1 over the 8 real tokens.
        for layer in floats(out.expert_load).chunks(e) {
            assert!((layer.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{layer:?}");
        }
        assert!(floats(out.logits).iter().all(|v| v.is_finite()));
    }
}

#[test]
fn cached_decoding_matches_the_full_forward() {
    for moe in [MoeConfig::new(), MoeConfig::new().with_top_k(2).with_shared_expert(true)] {
        let (model, device) = model(moe, 2);
        let seq: &[i64] = &[3, 9, 4, 11, 2, 17, 5, 8, 1, 13];
        let rows = [seq, &[4, 4, 4, 12, 19, 0, 7, 7, 6, 2]];
        let full = model.forward(tokens(&rows, &device), Tensor::ones([2, seq.len()], &device)).logits;

        // Prefill 4 positions, then one at a time.
        let mut cache = model.new_cache(2, 16, &device);
        let mut pieces =
            vec![model.forward_cached(tokens(&[&rows[0][..4], &rows[1][..4]], &device), &mut cache)];
        for i in 4..seq.len() {
            pieces
                .push(model.forward_cached(tokens(&[&rows[0][i..=i], &rows[1][i..=i]], &device), &mut cache));
        }
        assert_eq!(cache.len(), seq.len());
        let cached = Tensor::cat(pieces, 1);
        let diff = floats((full - cached).abs().max());
        assert!(diff[0] < 1e-4, "max |full - cached| = {}", diff[0]);
    }
}

#[test]
fn greedy_generation_matches_step_by_step_argmax_without_cache() {
    let (model, device) = model(MoeConfig::new(), 3);
    let prompts = [[5i64, 6, 7], [7, 1, 2]];
    let config = SamplingConfig {
        temperature: 0.0,
        top_k: 0,
        max_new_tokens: 8,
        stop_token: 19,
        pad_token: 0,
        stop_check_every: 0,
        first_stop_check: 0,
        seed: 0,
    };
    let prompt_tensor = tokens(&[&prompts[0], &prompts[1]], &device);
    let generation = pollster::block_on(generate(&model, prompt_tensor, &config)).unwrap();
    assert_eq!(generation.readbacks, 1);

    for (row, prompt) in prompts.iter().enumerate() {
        // Reference: recompute the whole sequence each step, no cache.
        let mut seq = prompt.to_vec();
        let mut expected = Vec::new();
        for _ in 0..config.max_new_tokens {
            let n = seq.len();
            let logits = model.forward(tokens(&[&seq], &device), Tensor::ones([1, n], &device)).logits;
            let last: Tensor<2> = logits.slice([0..1, n - 1..n, 0..20]).reshape([1, 20]);
            let next = last.argmax(1).into_data().try_into_vec_as::<i64>().unwrap()[0];
            expected.push(next as u32);
            seq.push(next);
            if next == 19 {
                break;
            }
        }
        assert_eq!(generation.tokens[row], expected, "row {row}");
        assert_eq!(generation.finished[row], expected.last() == Some(&19));
        assert_eq!(generation.logprobs[row].len(), expected.len());
        assert!(generation.logprobs[row].iter().all(|&lp| lp <= 0.0 && lp.is_finite()));
    }
}

#[test]
fn finished_rows_stop_and_early_stop_reads_back() {
    let (model, device) = model(MoeConfig::new(), 4);
    // Whatever greedy picks first becomes the stop token: every row finishes at step 1.
    let prompts = tokens(&[&[1, 2], &[1, 2], &[1, 2]], &device);
    let mut config = SamplingConfig {
        temperature: 0.0,
        top_k: 0,
        max_new_tokens: 12,
        stop_token: 0,
        pad_token: 0,
        stop_check_every: 2,
        first_stop_check: 0,
        seed: 0,
    };
    let first = pollster::block_on(generate(&model, prompts.clone(), &config)).unwrap().tokens[0][0];
    config.stop_token = first;
    config.pad_token = (first + 1) % 20;
    let generation = pollster::block_on(generate(&model, prompts, &config)).unwrap();
    assert_eq!(generation.tokens, vec![vec![first]; 3]);
    assert_eq!(generation.finished, [true; 3]);
    // The early-stop check at step 2 finds every row done: it is the only read.
    assert_eq!(generation.readbacks, 1);
}

#[test]
fn early_stop_checks_follow_their_schedule_and_keep_the_samples() {
    let (model, device) = model(MoeConfig::new(), 4);
    let prompts = tokens(&[&[1, 2], &[3, 4]], &device);
    // A stop token greedy never picks after these prompts: every row runs to the end.
    let plain = SamplingConfig {
        temperature: 0.0,
        top_k: 0,
        max_new_tokens: 12,
        stop_token: 0,
        pad_token: 0,
        stop_check_every: 0,
        first_stop_check: 0,
        seed: 0,
    };
    let full = pollster::block_on(generate(&model, prompts.clone(), &plain)).unwrap();
    let unused = (0..20).find(|t| full.tokens.iter().flatten().all(|x| x != t)).unwrap();
    let plain = SamplingConfig { stop_token: unused, pad_token: unused, ..plain };
    let full = pollster::block_on(generate(&model, prompts.clone(), &plain)).unwrap();
    assert_eq!(full.readbacks, 1);
    assert_eq!(full.finished, [false; 2]);
    // Checks after 3, 7 and 11 tokens (none after the last), each finding rows running, then
    // the final read; the same tokens and log-probs.
    let checked = SamplingConfig { stop_check_every: 4, first_stop_check: 3, ..plain };
    let generation = pollster::block_on(generate(&model, prompts, &checked)).unwrap();
    assert_eq!(generation.readbacks, 4);
    assert_eq!((&generation.tokens, &generation.logprobs), (&full.tokens, &full.logprobs));
}

#[test]
fn bad_sampling_configs_are_refused() {
    let (model, device) = model(MoeConfig::new(), 6);
    let good = SamplingConfig {
        temperature: 1.0,
        top_k: 0,
        max_new_tokens: 4,
        stop_token: 1,
        pad_token: 0,
        stop_check_every: 0,
        first_stop_check: 0,
        seed: 0,
    };
    let prompts = tokens(&[&[1, 2]], &device);
    for (bad, reason) in [
        (SamplingConfig { temperature: -1.0, ..good }, "temperature"),
        (SamplingConfig { temperature: f32::NAN, ..good }, "temperature"),
        (SamplingConfig { max_new_tokens: 0, ..good }, "max_new_tokens"),
        (SamplingConfig { max_new_tokens: 23, ..good }, "max_seq_len"),
        (SamplingConfig { stop_token: 20, ..good }, "stop_token"),
    ] {
        let err = pollster::block_on(generate(&model, prompts.clone(), &bad)).unwrap_err();
        assert!(err.to_string().contains(reason), "{err}");
    }
}

#[test]
fn streaming_sees_the_same_greedy_tokens_one_by_one() {
    let (model, device) = model(MoeConfig::new(), 8);
    let config = SamplingConfig {
        temperature: 0.0,
        top_k: 0,
        max_new_tokens: 10,
        stop_token: 19,
        pad_token: 0,
        stop_check_every: 0,
        first_stop_check: 0,
        seed: 0,
    };
    let prompt = tokens(&[&[3, 1, 4, 1]], &device);
    let batched = pollster::block_on(generate(&model, prompt.clone(), &config)).unwrap();
    let mut seen = Vec::new();
    let streamed =
        pollster::block_on(aha_model::generate_streaming(&model, prompt, &config, |t, _| seen.push(t)))
            .unwrap();
    assert_eq!(streamed.tokens, batched.tokens);
    assert_eq!(seen, batched.tokens[0]);
    assert_eq!(streamed.readbacks, seen.len());
    for (a, b) in streamed.logprobs[0].iter().zip(&batched.logprobs[0]) {
        assert!((a - b).abs() < 1e-5);
    }
}
