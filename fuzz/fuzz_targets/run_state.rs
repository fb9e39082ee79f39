//! A saved run's trainer state (the bytes the page keeps in IndexedDB) through
//! `GrpoTrainer::resume`: a trainer or an error, never a panic. The corpus starts from
//! fuzz/seeds/run-state.safetensors, the tiny preset after one step on the fuzz model
//! (kept current by tests/tests/native_run_inputs.rs).
#![no_main]

use std::sync::OnceLock;

use aha_model::{Model, ModelConfig};
use aha_tokenizer::CharTokenizer;
use aha_train::{GrpoConfig, GrpoTrainer, RunSettings};
use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = include_str!("../seeds/run-config.json");

fuzz_target!(|data: &[u8]| {
    static MODEL: OnceLock<(Model, GrpoConfig)> = OnceLock::new();
    let device = Device::flex();
    let (model, grpo) = MODEL.get_or_init(|| {
        let model = ModelConfig::from_json(CONFIG).expect("the fuzz config is valid").init_seeded(&device, 1);
        let settings = RunSettings { preset: "tiny".into(), ..Default::default() };
        (model, settings.to_config().expect("the tiny preset").grpo)
    });
    let _ = GrpoTrainer::resume(model.clone(), grpo.clone(), CharTokenizer::new(), &device, data);
});
