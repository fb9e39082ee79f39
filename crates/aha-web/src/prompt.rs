//! The prompt box: what a person types becomes a problem and its token ids, or a message that says
//! what is wrong with it.

use aha_tasks::Problem;
use aha_tokenizer::CharTokenizer;
use serde::Serialize;

use crate::error::WebError;

/// A typed problem, ready for the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedPrompt {
    /// What was typed, parsed: it grades the model's answer.
    pub problem: Problem,
    /// The canonical prompt, e.g. `347*5=`.
    pub prompt: String,
    /// Its token ids.
    pub ids: Vec<u32>,
    /// The right answer at the task's width, for showing next to the model's.
    pub answer: String,
}

/// Checks `text` from the prompt box. The error is a sentence for the page.
pub fn check_prompt(text: &str, tokenizer: &CharTokenizer) -> Result<CheckedPrompt, WebError> {
    let problem = Problem::parse(text)?;
    let prompt = problem.prompt();
    let ids = tokenizer.encode(&prompt)?;
    Ok(CheckedPrompt { problem, prompt, ids, answer: problem.answer_text() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_problems_become_prompts() {
        let tok = CharTokenizer::new();
        let checked = check_prompt(" 347 * 5 ", &tok).unwrap();
        assert_eq!(checked.prompt, "347*5=");
        assert_eq!(checked.answer, "1735");
        assert_eq!(checked.ids, tok.encode("347*5=").unwrap());
    }

    #[test]
    fn bad_input_gets_a_sentence() {
        let tok = CharTokenizer::new();
        assert_eq!(
            check_prompt("347 / 5", &tok).unwrap_err().to_string(),
            "expected a problem like 347*5 (two whole numbers with +, - or * between them)"
        );
        assert_eq!(
            check_prompt("", &tok).unwrap_err().to_string(),
            "the problem is empty: type something like 347*5"
        );
        assert!(check_prompt(&"9".repeat(10_000), &tok).is_err());
    }
}
