//! The committed tokenizer.json is what we build today, and Python's `tokenizers` (the reference)
//! encodes with it exactly as we do. `dev/tokenizer_fixture.py` wrote the Python side.

use aha_tokenizer::CharTokenizer;

const FIXTURE: &str = include_str!("fixtures/tokenizer.json");
const PYTHON: &str = include_str!("fixtures/python_encodings.json");

#[test]
fn committed_fixture_matches_the_built_tokenizer() {
    let built = CharTokenizer::new().to_json().unwrap();
    assert_eq!(
        built.trim_end(),
        FIXTURE.trim_end(),
        "the vocabulary changed: if on purpose, refresh the fixtures (see dev/tokenizer_fixture.py)"
    );
}

#[test]
fn encodings_match_python_tokenizers() {
    let expected: serde_json::Value = serde_json::from_str(PYTHON).unwrap();
    let tok = CharTokenizer::from_json(FIXTURE).unwrap();
    assert_eq!(expected["vocab_size"], tok.vocab_size());
    let cases = expected["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let ids: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        assert_eq!(tok.encode(text).unwrap(), ids, "{text:?}");
        assert_eq!(
            tok.decode(&ids, true).unwrap(),
            case["decoded_skip_special"].as_str().unwrap(),
            "{text:?}"
        );
    }
}
