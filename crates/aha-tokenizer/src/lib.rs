//! Aha's character-level vocabulary, built on Hugging Face's `tokenizers` crate.
//!
//! Every character of the arithmetic task is one token: digits, the operators, `=`, `.`, the space and
//! the lowercase letters that the completion formats use as markers and words (`g`, `c`, `a`, `ok`,
//! `wait`, ...). A few special tokens (padding, begin/end of sequence, unknown, and the think/answer
//! tags) come first. The tokenizer is a BPE model with no merges — the standard way to express a
//! character vocabulary in `tokenizer.json` — so the file we save loads unchanged in Python's
//! `tokenizers` (`Tokenizer.from_file`).
//!
//! Unlike a plain `tokenizers::Tokenizer`, [`CharTokenizer::encode`] refuses text it cannot represent:
//! an unknown character is a [`TokenizerError::UnknownChar`] naming the character and its position,
//! never a silent `<unk>` and never a panic.

mod pipeline;

use std::collections::HashSet;

use pipeline::CharPipeline;
use tokenizers::AddedToken;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::models::bpe::{BPE, Vocab};

/// Padding: fills batch rows past their end; never trained on.
pub const PAD: &str = "<pad>";
/// Begin of sequence.
pub const BOS: &str = "<bos>";
/// End of sequence.
pub const EOS: &str = "<eos>";
/// Stands for a character outside the vocabulary; [`CharTokenizer::encode`] reports it as an error.
pub const UNK: &str = "<unk>";
/// Reasoning and answer tags, for formats that wrap the thinking and the final answer.
pub const THINK_OPEN: &str = "<think>";
pub const THINK_CLOSE: &str = "</think>";
pub const ANSWER_OPEN: &str = "<answer>";
pub const ANSWER_CLOSE: &str = "</answer>";

/// The special tokens, in id order (ids 0..8).
pub const SPECIAL_TOKENS: [&str; 8] =
    [PAD, BOS, EOS, UNK, THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE];

/// The ordinary characters, in id order after the special tokens. Append only: reordering would
/// silently change the meaning of every saved checkpoint.
pub const CHARACTERS: &str = "0123456789+-*=. abcdefghijklmnopqrstuvwxyz";

/// A typed failure of this crate. Every variant says what was wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenizerError {
    /// The text holds a character the vocabulary has no token for. `position` counts characters
    /// (not bytes) from 0.
    #[error("unknown character {ch:?} at position {position}")]
    UnknownChar { ch: char, position: usize },
    /// A token id past the end of the vocabulary.
    #[error("token id {id} is outside the vocabulary of {vocab_size} tokens")]
    UnknownId { id: u32, vocab_size: usize },
    /// A tokenizer.json that is not valid, or not a character tokenizer we can use.
    #[error("invalid tokenizer.json: {0}")]
    InvalidFile(String),
    /// An error reported by the `tokenizers` crate itself.
    #[error("tokenizer failure: {0}")]
    Backend(String),
}

/// Ids of the special tokens, looked up once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialIds {
    pub pad: u32,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
}

/// A character-level tokenizer: a `tokenizers` pipeline plus the checks that make it safe to feed
/// with user input.
#[derive(Clone)]
pub struct CharTokenizer {
    inner: CharPipeline,
    special: SpecialIds,
    vocab_size: usize,
    /// Characters that are tokens of their own.
    char_tokens: HashSet<char>,
    /// Characters of special tokens' spellings, and whitespace (an added token may strip it):
    /// where one stands, only the full encoder can tell a token from an unknown character.
    ambiguous: HashSet<char>,
}

impl std::fmt::Debug for CharTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CharTokenizer")
            .field("vocab_size", &self.vocab_size)
            .field("special", &self.special)
            .finish()
    }
}

impl CharTokenizer {
    /// The vocabulary Aha trains with: [`SPECIAL_TOKENS`] then [`CHARACTERS`].
    pub fn new() -> Self {
        // wasm32 has no threads: keep `tokenizers` from reaching for rayon.
        #[cfg(target_family = "wasm")]
        tokenizers::utils::parallelism::set_parallelism(false);
        let vocab: Vocab = SPECIAL_TOKENS
            .iter()
            .map(|token| token.to_string())
            .chain(CHARACTERS.chars().map(String::from))
            .zip(0u32..)
            .collect();
        let model = BPE::builder()
            .vocab_and_merges(vocab, Vec::new())
            .unk_token(UNK.to_string())
            .build()
            .expect("a BPE without merges over a fixed vocabulary always builds");
        let mut inner = CharPipeline::new(model);
        inner.with_decoder(Some(Fuse::new()));
        inner
            .add_special_tokens(SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)))
            .expect("special tokens are already in the vocabulary");
        Self::from_tokenizer(inner).expect("the built-in vocabulary has every special token")
    }

    /// Reads a `tokenizer.json` (as written by [`CharTokenizer::to_json`] or by Python's
    /// `tokenizers`). Fails with [`TokenizerError::InvalidFile`] if the JSON is malformed, has a
    /// pipeline part a character-level vocabulary does not use, or lacks the special tokens Aha
    /// needs.
    pub fn from_json(json: &str) -> Result<Self, TokenizerError> {
        check_pipeline(json)?;
        let inner: CharPipeline =
            serde_json::from_str(json).map_err(|e| TokenizerError::InvalidFile(format!("{e}")))?;
        Self::from_tokenizer(inner)
    }

    fn from_tokenizer(inner: CharPipeline) -> Result<Self, TokenizerError> {
        let id = |token: &str| {
            inner
                .token_to_id(token)
                .ok_or_else(|| TokenizerError::InvalidFile(format!("the vocabulary has no {token} token")))
        };
        let special = SpecialIds { pad: id(PAD)?, bos: id(BOS)?, eos: id(EOS)?, unk: id(UNK)? };
        let vocab_size = inner.get_vocab_size(true);
        let char_tokens = inner.get_vocab(false).keys().filter_map(|token| single_char(token)).collect();
        let ambiguous =
            inner.get_added_tokens_decoder().values().flat_map(|token| token.content.chars()).collect();
        Ok(Self { inner, special, vocab_size, char_tokens, ambiguous })
    }

    /// Whether this is Aha's own vocabulary: every id names the token it names in
    /// [`CharTokenizer::new`], and there is no other. A model's embedding rows and output logits
    /// mean those tokens, so a file of the right size with `.` renamed, or `1` and `2` swapped,
    /// would load and then fail at the first step or train on garbage.
    pub fn check_is_aha_vocabulary(&self) -> Result<(), TokenizerError> {
        let aha = Self::new();
        if self.vocab_size != aha.vocab_size {
            return Err(TokenizerError::InvalidFile(format!(
                "it has {} tokens; Aha's vocabulary has {}",
                self.vocab_size, aha.vocab_size
            )));
        }
        for id in 0..aha.vocab_size as u32 {
            let (theirs, ours) = (self.inner.id_to_token(id), aha.inner.id_to_token(id));
            if theirs != ours {
                let show = |token: Option<String>| token.map_or("nothing".into(), |t| format!("{t:?}"));
                return Err(TokenizerError::InvalidFile(format!(
                    "token {id} is {}, where Aha's vocabulary has {}",
                    show(theirs),
                    show(ours)
                )));
            }
        }
        Ok(())
    }

    /// The file contents of a standard `tokenizer.json`.
    pub fn to_json(&self) -> Result<String, TokenizerError> {
        self.inner.to_string(true).map_err(|e| TokenizerError::Backend(format!("{e}")))
    }

    /// Number of token ids, special tokens included. Model embeddings and output layers use this.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Ids of padding, begin, end and unknown.
    pub fn special_ids(&self) -> SpecialIds {
        self.special
    }

    /// The id of one token (a character or a special token's text), if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Token ids for `text`. Special tokens written out (`<eos>`) become their single id. A character
    /// outside the vocabulary is an error naming the first such character and its position.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        // The vocabulary is character-level (`from_json` refuses merges, byte fallback and the
        // like), so the first character that is neither a token nor possibly part of a special
        // token is unknown wherever it stands: refuse it without the encoder, which costs ~1.5 µs
        // a character (a test keeps both paths in agreement).
        for (position, ch) in text.chars().enumerate() {
            if self.char_tokens.contains(&ch) {
                continue;
            }
            if self.ambiguous.contains(&ch) || ch.is_whitespace() {
                break;
            }
            return Err(TokenizerError::UnknownChar { ch, position });
        }
        self.encode_with_tokenizers(text)
    }

    /// [`CharTokenizer::encode`] by the `tokenizers` encoder alone.
    fn encode_with_tokenizers(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        let encoding = self
            .inner
            .encode_char_offsets(text, false)
            .map_err(|e| TokenizerError::Backend(format!("{e}")))?;
        let ids = encoding.get_ids();
        if let Some(index) = ids.iter().position(|&id| id == self.special.unk) {
            let (start, _) = encoding.get_offsets()[index];
            // `<unk>` typed out literally is also refused: it stands for nothing.
            let ch = text.chars().nth(start).unwrap_or('\u{fffd}');
            return Err(TokenizerError::UnknownChar { ch, position: start });
        }
        Ok(ids.to_vec())
    }

    /// Text for `ids`. With `skip_special`, special tokens are dropped from the text. An id outside
    /// the vocabulary is an error (the `tokenizers` crate would silently skip it).
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String, TokenizerError> {
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= self.vocab_size) {
            return Err(TokenizerError::UnknownId { id, vocab_size: self.vocab_size });
        }
        self.inner.decode(ids, skip_special).map_err(|e| TokenizerError::Backend(format!("{e}")))
    }
}

impl Default for CharTokenizer {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks what `tokenizers` would otherwise panic on: it `expect`s a well-formed decoder (and
/// normaliser) while deserialising, so a decoder that is not valid JSON aborted the whole module
/// (found by `cargo xtask fuzz`; fatal in wasm). The file must be one JSON object whose
/// normaliser, pre-tokeniser and post-processor are absent or null — Aha's vocabulary is
/// character-level — and whose decoder is absent, null or the `Fuse` one [`CharTokenizer`] writes.
/// Truncation and padding must be null too, and the model a character vocabulary
/// ([`check_model`]): `encode`'s quick refusal relies on it.
fn check_pipeline(json: &str) -> Result<(), TokenizerError> {
    let invalid = |why: String| Err(TokenizerError::InvalidFile(why));
    let value: serde_json::Value = match serde_json::from_str(json) {
        Ok(value) => value,
        Err(e) => return invalid(format!("not JSON: {e}")),
    };
    let Some(file) = value.as_object() else {
        return invalid("a tokenizer.json is a JSON object".into());
    };
    for part in ["normalizer", "pre_tokenizer", "post_processor"] {
        if file.get(part).is_some_and(|v| !v.is_null()) {
            return invalid(format!("{part} must be null: Aha's vocabulary is character-level"));
        }
    }
    for part in ["truncation", "padding"] {
        if file.get(part).is_some_and(|v| !v.is_null()) {
            return invalid(format!("{part} must be null: Aha pads and bounds sequences itself"));
        }
    }
    match file.get("decoder") {
        None | Some(serde_json::Value::Null) => {}
        Some(decoder) if *decoder == serde_json::json!({ "type": "Fuse" }) => {}
        Some(other) => {
            return invalid(format!("decoder must be {{\"type\": \"Fuse\"}} or null, got {other}"));
        }
    }
    check_model(file.get("model").unwrap_or(&serde_json::Value::Null))
}

/// `token`'s character if it is exactly one.
fn single_char(token: &str) -> Option<char> {
    let mut chars = token.chars();
    chars.next().filter(|_| chars.next().is_none())
}

/// The model must be a character vocabulary: BPE without merges, unknown characters as `<unk>`.
fn check_model(model: &serde_json::Value) -> Result<(), TokenizerError> {
    let invalid = |why: &str| Err(TokenizerError::InvalidFile(format!("model: {why}")));
    let field = |name: &str| model.get(name).filter(|v| !v.is_null());
    if model.get("type").and_then(|t| t.as_str()) != Some("BPE") {
        return invalid("type must be \"BPE\" (a character vocabulary is a BPE without merges)");
    }
    if field("merges").is_some_and(|m| m.as_array().is_none_or(|m| !m.is_empty())) {
        return invalid("merges must be empty: Aha's vocabulary is one token per character");
    }
    if field("unk_token").and_then(|t| t.as_str()) != Some(UNK) {
        return invalid("unk_token must be \"<unk>\": unknown characters are refused, not dropped");
    }
    if field("byte_fallback").is_some_and(|b| *b != serde_json::Value::Bool(false)) {
        return invalid("byte_fallback must be false");
    }
    for affix in ["continuing_subword_prefix", "end_of_word_suffix"] {
        if field(affix).is_some_and(|a| a.as_str() != Some("")) {
            return invalid(&format!("{affix} must be null"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Aha's tokenizer.json with `edit` applied to its parsed JSON.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut json: serde_json::Value =
            serde_json::from_str(&CharTokenizer::new().to_json().unwrap()).unwrap();
        edit(&mut json);
        json.to_string()
    }

    #[test]
    fn only_aha_s_own_vocabulary_passes_the_identity_check() {
        CharTokenizer::new().check_is_aha_vocabulary().unwrap();
        let round_trip = CharTokenizer::from_json(&CharTokenizer::new().to_json().unwrap()).unwrap();
        round_trip.check_is_aha_vocabulary().unwrap();

        let vocab = |json: &mut serde_json::Value| json["model"]["vocab"].as_object_mut().unwrap().clone();
        let renamed_stop = edited(|json| {
            let mut v = vocab(json);
            let id = v.remove(".").unwrap();
            v.insert(",".into(), id);
            json["model"]["vocab"] = v.into();
        });
        let swapped_digits = edited(|json| {
            let mut v = vocab(json);
            let (one, two) = (v["1"].clone(), v["2"].clone());
            v.insert("1".into(), two);
            v.insert("2".into(), one);
            json["model"]["vocab"] = v.into();
        });
        let extra_token = edited(|json| {
            let mut v = vocab(json);
            v.insert("!".into(), 5000.into());
            json["model"]["vocab"] = v.into();
        });
        for (name, file, says) in [
            ("renamed .", renamed_stop, r#"is ",", where Aha's vocabulary has ".""#),
            ("swapped 1 and 2", swapped_digits, r#"is "2", where Aha's vocabulary has "1""#),
            (
                "extra token at 5000",
                extra_token,
                &format!("Aha's vocabulary has {}", CharTokenizer::new().vocab_size()),
            ),
        ] {
            // Each is a well-formed tokenizer.json; the identity check refuses it, saying where.
            let tokenizer = CharTokenizer::from_json(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
            let message = tokenizer.check_is_aha_vocabulary().expect_err(name).to_string();
            assert!(message.contains(says), "{name}: {message}");
        }
    }

    #[test]
    fn ids_follow_the_documented_order() {
        let tok = CharTokenizer::new();
        assert_eq!(tok.vocab_size(), SPECIAL_TOKENS.len() + CHARACTERS.len());
        for (i, token) in SPECIAL_TOKENS.iter().enumerate() {
            assert_eq!(tok.token_id(token), Some(i as u32), "{token}");
        }
        for (i, ch) in CHARACTERS.chars().enumerate() {
            let id = (SPECIAL_TOKENS.len() + i) as u32;
            assert_eq!(tok.token_id(&ch.to_string()), Some(id), "{ch:?}");
        }
    }

    #[test]
    fn encodes_one_token_per_character() {
        let tok = CharTokenizer::new();
        let text = "347*5=g1745 c7*5+0=35 =1735 wait a1735.";
        let ids = tok.encode(text).unwrap();
        assert_eq!(ids.len(), text.chars().count());
        assert_eq!(tok.decode(&ids, false).unwrap(), text);
    }

    #[test]
    fn special_tokens_are_single_ids_and_can_be_skipped() {
        let tok = CharTokenizer::new();
        let ids = tok.encode("<bos>12<eos>").unwrap();
        let s = tok.special_ids();
        assert_eq!(ids, vec![s.bos, tok.token_id("1").unwrap(), tok.token_id("2").unwrap(), s.eos]);
        assert_eq!(tok.decode(&ids, true).unwrap(), "12");
        assert_eq!(tok.decode(&ids, false).unwrap(), "<bos>12<eos>");
    }

    #[test]
    fn unknown_character_names_char_and_position() {
        let tok = CharTokenizer::new();
        assert_eq!(tok.encode("12+é4"), Err(TokenizerError::UnknownChar { ch: 'é', position: 3 }));
        assert_eq!(tok.encode("Ab"), Err(TokenizerError::UnknownChar { ch: 'A', position: 0 }));
        // Positions count characters, not bytes, even after multi-byte ones.
        assert_eq!(tok.encode("ü"), Err(TokenizerError::UnknownChar { ch: 'ü', position: 0 }));
        assert_eq!(tok.encode("<eos>1\n"), Err(TokenizerError::UnknownChar { ch: '\n', position: 6 }));
        assert_eq!(tok.encode("1<unk>"), Err(TokenizerError::UnknownChar { ch: '<', position: 1 }));
        let msg = tok.encode("1#").unwrap_err().to_string();
        assert_eq!(msg, "unknown character '#' at position 1");
    }

    #[test]
    fn empty_text_is_empty() {
        let tok = CharTokenizer::new();
        assert_eq!(tok.encode("").unwrap(), Vec::<u32>::new());
        assert_eq!(tok.decode(&[], true).unwrap(), "");
    }

    #[test]
    fn out_of_range_ids_are_refused() {
        let tok = CharTokenizer::new();
        let n = tok.vocab_size() as u32;
        assert_eq!(
            tok.decode(&[8, n], false),
            Err(TokenizerError::UnknownId { id: n, vocab_size: n as usize })
        );
    }

    #[test]
    fn json_round_trips() {
        let tok = CharTokenizer::new();
        let json = tok.to_json().unwrap();
        let back = CharTokenizer::from_json(&json).unwrap();
        assert_eq!(back.to_json().unwrap(), json);
        assert_eq!(back.vocab_size(), tok.vocab_size());
        assert_eq!(back.encode("12*3=g36").unwrap(), tok.encode("12*3=g36").unwrap());
    }

    #[test]
    fn bad_files_are_clear_errors() {
        for bad in ["", "{", "[]", "{\"model\": 3}", "null"] {
            let err = CharTokenizer::from_json(bad).unwrap_err();
            assert!(matches!(err, TokenizerError::InvalidFile(_)), "{bad}: {err:?}");
        }
        // A valid tokenizer.json without our special tokens.
        let json = CharTokenizer::new().to_json().unwrap().replace("<eos>", "<end>");
        let err = CharTokenizer::from_json(&json).unwrap_err();
        assert_eq!(err, TokenizerError::InvalidFile("the vocabulary has no <eos> token".into()));
    }

    proptest::proptest! {
        /// The quick refusal in `encode` says what the full encoder says, on text mixing
        /// characters, special tokens (whole and broken), whitespace and unknown characters.
        #[test]
        fn quick_refusal_agrees_with_the_encoder(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "1", "7", "*", "=", " ", "a", "w", ".", "<", ">", "/", "<eos>", "</think>",
                    "<unk>", "<eo", "\n", "\t", "\u{a0}", "é", "{", "A", "#", "😀",
                ]),
                0..24,
            )
        ) {
            let tok = CharTokenizer::new();
            let text = pieces.concat();
            proptest::prop_assert_eq!(tok.encode(&text), tok.encode_with_tokenizers(&text));
        }
    }

    #[test]
    fn only_character_vocabularies_are_accepted() {
        let good = CharTokenizer::new().to_json().unwrap();
        let with = |path: &[&str], value: serde_json::Value| {
            let mut file: serde_json::Value = serde_json::from_str(&good).unwrap();
            let (last, parents) = path.split_last().unwrap();
            let mut at = &mut file;
            for part in parents {
                at = &mut at[*part];
            }
            at[*last] = value;
            file.to_string()
        };
        let cases = [
            (with(&["model", "merges"], serde_json::json!([["1", "2"]])), "merges must be empty"),
            (with(&["model", "unk_token"], serde_json::Value::Null), "unk_token must be"),
            (with(&["model", "byte_fallback"], serde_json::json!(true)), "byte_fallback must be false"),
            (with(&["model", "end_of_word_suffix"], serde_json::json!("</w>")), "end_of_word_suffix"),
            (with(&["model", "type"], serde_json::json!("WordLevel")), "type must be \"BPE\""),
            (with(&["truncation"], serde_json::json!({ "max_length": 4 })), "truncation must be null"),
            (with(&["padding"], serde_json::json!({ "strategy": "BatchLongest" })), "padding must be null"),
        ];
        for (json, why) in cases {
            let err = CharTokenizer::from_json(&json).unwrap_err().to_string();
            assert!(err.contains(why), "{why}: {err}");
        }
    }

    /// `tokenizers` panicked on these (cargo fuzz found the first: a decoder that is not JSON).
    #[test]
    fn broken_pipeline_parts_are_refused_not_panicked_on() {
        let good = CharTokenizer::new().to_json().unwrap();
        assert!(good.contains(r#""decoder": {"#), "{good}");
        let with = |part: &str, value: serde_json::Value| {
            let mut file: serde_json::Value = serde_json::from_str(&good).unwrap();
            file[part] = value;
            file.to_string()
        };
        let cases = [
            (good.replacen(r#""decoder": {"#, r#""decoder": gle_word": false, {"#, 1), "not JSON"),
            (with("decoder", serde_json::json!({ "type": 5 })), "decoder must be"),
            (with("normalizer", serde_json::json!({ "type": "Precompiled" })), "normalizer must be null"),
            ("[1, 2]".to_string(), "a JSON object"),
        ];
        for (json, why) in cases {
            let err = CharTokenizer::from_json(&json).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
        assert!(CharTokenizer::from_json(&good).is_ok());
    }
}
