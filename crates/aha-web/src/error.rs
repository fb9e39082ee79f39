//! The one error of the wasm API: what went wrong, in words the page shows as they are. Each
//! crate's error keeps its own message (`transparent`); `JsError` takes any of them with `?`.

use aha_model::SampleError;
use aha_model::readback::ReadbackError;
use aha_tasks::ProblemError;
use aha_tokenizer::TokenizerError;
use aha_train::{CheckpointError, TrainError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Readback(#[from] ReadbackError),
    #[error(transparent)]
    Problem(#[from] ProblemError),
    #[error(transparent)]
    Sample(#[from] SampleError),
    /// A sentence of this crate's own for the page.
    #[error("{0}")]
    Refused(String),
}

impl From<String> for WebError {
    fn from(message: String) -> Self {
        WebError::Refused(message)
    }
}

impl From<&str> for WebError {
    fn from(message: &str) -> Self {
        WebError::Refused(message.to_string())
    }
}
