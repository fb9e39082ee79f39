//! config.json of an imported model and the page's run settings (its URL hash arrives as this
//! JSON): an error naming what is wrong, never a panic.
#![no_main]

use aha_model::ModelConfig;
use aha_train::RunSettings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = ModelConfig::from_json(&text) {
        let _ = config.num_params();
    }
    if let Ok(settings) = serde_json::from_str::<RunSettings>(&text) {
        let _ = settings.to_config();
    }
});
