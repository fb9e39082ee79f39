//! The page's run settings (a shared link's knobs arrive as this JSON) through `to_config` and
//! `GrpoTrainer::new`: a trainer or an error naming the bad knob, never a panic, and accepted sizes
//! within 32 bits (the page's wasm32 build). tests/tests/native_run_inputs.rs is the smoke run.
#![no_main]

use std::sync::OnceLock;

use aha_model::{Model, ModelConfig};
use aha_tasks::Problem;
use aha_tokenizer::CharTokenizer;
use aha_train::{GrpoTrainer, RunSettings};
use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = include_str!("../seeds/run-config.json");

fuzz_target!(|data: &[u8]| {
    static MODEL: OnceLock<Model> = OnceLock::new();
    let device = Device::flex();
    let model = MODEL.get_or_init(|| {
        ModelConfig::from_json(CONFIG).expect("the fuzz config is valid").init_seeded(&device, 1)
    });
    let Ok(settings) = serde_json::from_slice::<RunSettings>(data) else { return };
    let Ok(config) = settings.to_config() else { return };
    let grpo = config.grpo;
    let prompt = Problem::new(0, grpo.task.op, 0, grpo.task.a_digits, grpo.task.b_digits)
        .expect("the preset's task")
        .prompt()
        .len();
    let tokens = grpo.prompts_per_step * grpo.num_generations * (prompt + grpo.max_completion_length);
    assert!(u32::try_from(tokens).is_ok(), "accepted settings overflow a 32-bit size: {settings:?}");
    let _ = GrpoTrainer::new(model.clone(), grpo, CharTokenizer::new(), &device);
});
