//! The `tokenizers` pipeline Aha's vocabulary uses, named by its parts: a BPE model without merges
//! and the `Fuse` decoder — no normaliser, pre-tokeniser or post-processor (`check_pipeline`
//! refuses a file with one). `tokenizers::Tokenizer` holds each part as an enum of every kind the
//! crate knows, so every normaliser's and pre-tokeniser's code and Unicode tables would ship in the
//! page's wasm although none can be used; this type holds only what can.

use serde::{Deserialize, Serialize};
use tokenizers::decoders::fuse::Fuse;
use tokenizers::models::bpe::BPE;
use tokenizers::{
    Encoding, NormalizedString, Normalizer, PostProcessor, PreTokenizedString, PreTokenizer, TokenizerImpl,
};

/// Aha's tokenizer: `tokenizers`' own type over the parts it uses; reads and writes the same
/// tokenizer.json as `tokenizers::Tokenizer`.
pub(crate) type CharPipeline = TokenizerImpl<BPE, Absent, Absent, Absent, Fuse>;

/// A pipeline part the vocabulary never has: no value exists, so the file's part is `null` or
/// absent (deserialising any other value fails), and its methods cannot be called.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Absent {}

impl Normalizer for Absent {
    fn normalize(&self, _: &mut NormalizedString) -> tokenizers::Result<()> {
        match *self {}
    }
}

impl PreTokenizer for Absent {
    fn pre_tokenize(&self, _: &mut PreTokenizedString) -> tokenizers::Result<()> {
        match *self {}
    }
}

impl PostProcessor for Absent {
    fn added_tokens(&self, _: bool) -> usize {
        match *self {}
    }

    fn process_encodings(&self, _: Vec<Encoding>, _: bool) -> tokenizers::Result<Vec<Encoding>> {
        match *self {}
    }
}
