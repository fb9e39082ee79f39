//! SFT on the CPU backend: the loss falls, stages follow each other, and the run is reproducible.

use aha_model::{ModelConfig, MoeConfig};
use aha_tasks::{CorpusMix, GuessMask, Op, Problem, ProblemSpec, StepFormat, TraceSpec, write_trace};
use aha_tokenizer::CharTokenizer;
use aha_train::batch::TokenBatch;
use aha_train::{SftConfig, SftRun, SftStage, SftTrainer};
use burn::tensor::Device;

fn small_model(vocab: usize) -> ModelConfig {
    ModelConfig::new(vocab, MoeConfig::new().with_d_expert(64))
        .with_d_model(32)
        .with_n_heads(4)
        .with_max_seq_len(64)
}

#[test]
fn two_hundred_steps_on_a_tiny_corpus_cut_the_loss_fivefold() {
    let tokenizer = CharTokenizer::new();
    let traces: Vec<_> = (0..16u64)
        .map(|i| {
            let p = Problem::new(10 + 5 * i, Op::Mul, i % 10, 2, 1).unwrap();
            let spec = TraceSpec {
                check: i % 4 == 0,
                wrong_guess: false,
                mask_decision: false,
                guess_mask: GuessMask::None,
                step_format: StepFormat::Natural,
                ..TraceSpec::default()
            };
            write_trace(&p, spec, "").unwrap()
        })
        .collect();
    let device = Device::flex().autodiff();
    let batch = TokenBatch::from_traces(&traces, &tokenizer).unwrap().to_device(&device);
    let mut trainer = SftTrainer::new(small_model(tokenizer.vocab_size()).init_seeded(&device, 0), 0.01);
    let mut losses = Vec::new();
    for _ in 0..200 {
        let (loss, aux) = pollster::block_on(trainer.step(&batch, 3e-3)).unwrap();
        assert!(loss.is_finite() && aux.is_finite());
        losses.push(loss);
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last * 5.0 <= first, "loss {first} → {last}");
}

fn staged_config(seed: u64) -> SftConfig {
    let mix = CorpusMix::RECIPE_B_STAGE1;
    SftConfig {
        task: ProblemSpec::MUL_3X1,
        batch_size: 8,
        stages: vec![
            SftStage { steps: 6, lr: 3e-3, warmup: 2, mix },
            SftStage { steps: 4, lr: 1e-3, warmup: 0, mix: CorpusMix { skill_wrong_rate: 0.9, ..mix } },
        ],
        aux_loss_weight: 0.01,
        min_lr_ratio: 0.1,
        bucket_pool: 4,
        seed,
        loss_tokens_per_row: None,
    }
}

fn run_losses(seed: u64) -> Vec<(usize, f64, f32)> {
    let tokenizer = CharTokenizer::new();
    let config = small_model(tokenizer.vocab_size());
    let mut run = SftRun::new(&config, staged_config(seed), &Device::flex()).unwrap();
    let mut out = Vec::new();
    while let Some(metrics) = pollster::block_on(run.next_step()) {
        let m = metrics.unwrap();
        assert_eq!(m.step, out.len());
        assert!(m.trained_tokens > 0);
        out.push((m.stage, m.lr, m.loss));
    }
    assert!(run.is_done());
    out
}

#[test]
fn stages_run_in_order_with_their_schedules_and_reproduce() {
    let a = run_losses(3);
    assert_eq!(a.len(), 10);
    let stages: Vec<usize> = a.iter().map(|r| r.0).collect();
    assert_eq!(stages, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert!((a[0].1 - 1.5e-3).abs() < 1e-12, "warmup starts at peak/2: {}", a[0].1);
    assert!((a[6].1 - 1e-3).abs() < 1e-12, "stage 2 starts at its own peak");
    assert!(a.iter().all(|r| r.2.is_finite()));
    let b = run_losses(3);
    assert_eq!(a, b, "same seed, same run");
}

#[test]
fn bad_configs_are_refused_before_training() {
    let tokenizer = CharTokenizer::new();
    let model = small_model(tokenizer.vocab_size());
    let device = Device::flex();
    let mut config = staged_config(0);
    config.stages[1].lr = -1.0;
    assert!(SftRun::new(&model, config, &device).err().unwrap().to_string().contains("lr must be positive"));
    let mut config = staged_config(0);
    config.stages.clear();
    assert!(SftRun::new(&model, config, &device).is_err());
    let wrong_vocab = small_model(tokenizer.vocab_size() + 1);
    let err = SftRun::new(&wrong_vocab, staged_config(0), &device).err().unwrap();
    assert!(err.to_string().contains("vocab_size"), "{err}");
}
