//! model.bpk bytes of an imported model, with the shipped config and vocabulary: a model or an
//! error, never a panic (the proptest in aha-train samples damaged real records; this explores).
#![no_main]

use aha_train::Checkpoint;
use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = include_str!("../../web/public/base-model/config.json");
const TOKENIZER: &str = include_str!("../../web/public/base-model/tokenizer.json");

fuzz_target!(|data: &[u8]| {
    if let Ok(checkpoint) = Checkpoint::from_parts(CONFIG, TOKENIZER, data.to_vec()) {
        let _ = checkpoint.load_model(&Device::flex());
    }
});
