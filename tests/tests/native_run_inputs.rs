//! What a page or a saved run hands the trainer, explored natively: run settings (a shared link's
//! knobs) through `RunSettings::to_config` and `GrpoTrainer::new`, and saved-run state bytes through
//! `GrpoTrainer::resume`. Each returns a trainer or an error naming what is wrong, never a panic;
//! accepted settings stay within 32-bit sizes, as the page's wasm32 build needs. The libFuzzer
//! targets `run_settings` and `run_state` (`cargo xtask fuzz`) explore the same from the seeds this
//! file keeps current; these property tests are their smoke run in CI.
#![cfg(not(target_family = "wasm"))]

use aha_model::{Model, ModelConfig};
use aha_tasks::Problem;
use aha_tokenizer::CharTokenizer;
use aha_train::{GrpoTrainer, RunSettings};
use burn::tensor::Device;
use proptest::prelude::*;

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/seeds");

/// The fuzz targets' model: small, long enough for every preset's completions.
fn model(device: &Device) -> Model {
    let json = std::fs::read_to_string(format!("{SEEDS}/run-config.json")).expect("the fuzz run config");
    ModelConfig::from_json(&json).expect("a valid config").init_seeded(device, 1)
}

/// Sizes that matter: small, each bound and one past it, and values that wrap on 32 bits.
const EDGE_SIZES: [usize; 13] =
    [0, 1, 2, 4, 8, 64, 4096, 4097, 65_536, 4_294_967_290, 1 << 32, usize::MAX - 5, usize::MAX];

fn size() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![
        Just(None),
        prop::sample::select(EDGE_SIZES.to_vec()).prop_map(Some),
        (0usize..10_000).prop_map(Some),
    ]
}

fn float() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![0.0, -1.0, 1e-45, 1e-3, 0.2, 1.0, 2.0, 1e300, f64::NAN, f64::INFINITY])
            .prop_map(Some),
        (-10.0f64..10.0).prop_map(Some),
    ]
}

fn settings() -> impl Strategy<Value = RunSettings> {
    (
        prop::sample::select(vec!["default", "tiny", "nope", ""]),
        prop::option::of(any::<u64>()),
        (size(), size(), size()),
        (float(), float(), float(), float()),
    )
        .prop_map(|(preset, seed, (b, g, max_len), (lr, beta, epsilon, temperature))| RunSettings {
            preset: preset.into(),
            seed,
            prompts_per_step: b,
            num_generations: g,
            max_completion_length: max_len,
            learning_rate: lr,
            beta,
            epsilon,
            temperature: temperature.map(|t| t as f32),
            ..Default::default()
        })
}

/// The tiny preset's GRPO settings, which the run_state seed was saved with.
fn tiny_grpo() -> aha_train::GrpoConfig {
    RunSettings { preset: "tiny".into(), ..Default::default() }.to_config().unwrap().grpo
}

/// A real saved state: the tiny preset on the fuzz model after one step.
fn real_state(device: &Device) -> Vec<u8> {
    let grpo = tiny_grpo();
    let mut trainer = GrpoTrainer::new(model(device), grpo, CharTokenizer::new(), device).unwrap();
    pollster::block_on(trainer.step()).unwrap();
    pollster::block_on(trainer.save_state()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn run_settings_give_a_trainer_or_an_error_and_stay_within_32_bits(settings in settings()) {
        let Ok(config) = settings.to_config() else { return Ok(()) };
        let grpo = config.grpo;
        let rows = grpo.prompts_per_step.checked_mul(grpo.num_generations).expect("validated");
        let prompt = Problem::new(0, grpo.task.op, 0, grpo.task.a_digits, grpo.task.b_digits).unwrap().prompt().len();
        let tokens = rows.checked_mul(prompt + grpo.max_completion_length).expect("validated");
        prop_assert!(u32::try_from(tokens).is_ok(), "{rows} rows × {} tokens overflow a 32-bit size", prompt + grpo.max_completion_length);
        let device = Device::flex();
        let _ = GrpoTrainer::new(model(&device), grpo, CharTokenizer::new(), &device);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A saved state cut short, with bytes overwritten, or noise: a trainer or an error.
    #[test]
    fn damaged_saved_states_never_panic(
        cut in 0.0f64..1.0,
        flips in prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
        noise in prop::collection::vec(any::<u8>(), 1..512),
        use_noise in any::<bool>(),
    ) {
        let device = Device::flex();
        let mut bytes = if use_noise { noise } else { seed_state() };
        let len = ((bytes.len() as f64 * cut) as usize).max(1);
        bytes.truncate(len);
        for (at, value) in flips {
            let i = ((bytes.len() as f64 * at) as usize).min(bytes.len() - 1);
            bytes[i] = value;
        }
        let grpo = tiny_grpo();
        let _ = GrpoTrainer::resume(model(&device), grpo, CharTokenizer::new(), &device, &bytes);
    }
}

fn seed_state() -> Vec<u8> {
    std::fs::read(format!("{SEEDS}/run-state.safetensors")).expect("the run_state fuzz seed")
}

/// The run_state fuzz target starts from fuzz/seeds/run-state.safetensors; this keeps it a state
/// the current code resumes. If the state format changes, rerun this test alone with
/// `AHA_BLESS_FUZZ_SEED=1` (the other tests here read the seed while it is being written).
#[test]
fn the_run_state_fuzz_seed_resumes() {
    let device = Device::flex();
    if std::env::var_os("AHA_BLESS_FUZZ_SEED").is_some() {
        std::fs::write(format!("{SEEDS}/run-state.safetensors"), real_state(&device)).unwrap();
    }
    let grpo = tiny_grpo();
    let resumed =
        GrpoTrainer::resume(model(&device), grpo.clone(), CharTokenizer::new(), &device, &seed_state())
            .expect("the seed resumes: rerun with AHA_BLESS_FUZZ_SEED=1");
    assert_eq!(resumed.steps_done(), 1);
    // And a state from other settings is refused by name, not loaded.
    let other = aha_train::GrpoConfig { seed: grpo.seed + 1, ..grpo };
    let refused = GrpoTrainer::resume(model(&device), other, CharTokenizer::new(), &device, &seed_state());
    assert!(refused.is_err());
}
