//! Arbitrary text and ids never panic: they encode/decode or give a typed error.

use aha_tokenizer::{CHARACTERS, CharTokenizer, TokenizerError};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_text_encodes_or_names_the_first_unknown_char(text in any::<String>()) {
        let tok = CharTokenizer::new();
        match tok.encode(&text) {
            Ok(ids) => prop_assert_eq!(tok.decode(&ids, false).unwrap(), text),
            Err(TokenizerError::UnknownChar { ch, position }) => {
                prop_assert_eq!(text.chars().nth(position), Some(ch));
                prop_assert!(!CHARACTERS.contains(ch) || ch == '<');
            }
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn vocabulary_text_round_trips(text in "[0-9+*=. a-z-]{0,64}") {
        let tok = CharTokenizer::new();
        let ids = tok.encode(&text).unwrap();
        prop_assert_eq!(ids.len(), text.chars().count());
        prop_assert_eq!(tok.decode(&ids, true).unwrap(), text);
    }

    #[test]
    fn any_ids_decode_or_fail_cleanly(ids in proptest::collection::vec(0u32..80, 0..40)) {
        let tok = CharTokenizer::new();
        let n = tok.vocab_size() as u32;
        let result = tok.decode(&ids, false);
        prop_assert_eq!(result.is_ok(), ids.iter().all(|&id| id < n));
    }
}
