//! model.bpk bytes of an imported model: a model or an error, never a panic (the proptest in
//! aha-train samples damaged real records; this explores). The model is a small one
//! (fuzz/seeds/checkpoint-config.json; its record, checkpoint.bpk, seeds the corpus): the loader's
//! code is the same for every shape, and a small record loads fast enough for 1e6 inputs. Config
//! and tokenizer are checked before the weights and have targets of their own.
#![no_main]

use std::sync::OnceLock;

use aha_model::ModelConfig;
use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = include_str!("../seeds/checkpoint-config.json");

fuzz_target!(|data: &[u8]| {
    static CONFIG_PARSED: OnceLock<ModelConfig> = OnceLock::new();
    let config = CONFIG_PARSED.get_or_init(|| ModelConfig::from_json(CONFIG).expect("the fuzz config is valid"));
    let _ = aha_train::load_weights(config, data.to_vec(), &Device::flex());
});
