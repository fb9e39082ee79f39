//! tokenizer.json from an imported model, and any text or ids through the shipped vocabulary:
//! an error or a result, never a panic.
#![no_main]

use std::sync::OnceLock;

use aha_tokenizer::CharTokenizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static SHIPPED: OnceLock<CharTokenizer> = OnceLock::new();
    let shipped = SHIPPED.get_or_init(CharTokenizer::new);
    let text = String::from_utf8_lossy(data);
    if let Ok(imported) = CharTokenizer::from_json(&text) {
        let _ = imported.encode("347*5=g1735 a1735.");
    }
    if let Ok(ids) = shipped.encode(&text) {
        // Whatever encodes decodes back to the same text.
        assert_eq!(shipped.decode(&ids, false).as_deref(), Ok(&*text));
    }
    let ids: Vec<u32> = data.chunks(2).map(|c| u32::from(c[0]) | u32::from(*c.get(1).unwrap_or(&0)) << 8).collect();
    let _ = shipped.decode(&ids, true);
});
