//! The one error type of training (SFT and GRPO alike): what went wrong, in words a user can act on.

use aha_model::readback::ReadbackError;
use aha_tasks::CorpusError;
use aha_tokenizer::TokenizerError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("invalid training config: {0}")]
    Invalid(String),
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("reading training metrics back failed: {0}")]
    Readback(String),
    #[error("saved run state: {0}")]
    State(String),
}

impl From<ReadbackError> for TrainError {
    fn from(e: ReadbackError) -> Self {
        TrainError::Readback(e.0)
    }
}
