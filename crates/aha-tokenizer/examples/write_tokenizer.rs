//! Writes Aha's tokenizer.json to the path given (or stdout), e.g. to refresh the committed fixture:
//! `cargo run -p aha-tokenizer --example write_tokenizer -- crates/aha-tokenizer/tests/fixtures/tokenizer.json`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let json = aha_tokenizer::CharTokenizer::new().to_json()?;
    match std::env::args().nth(1) {
        Some(path) => std::fs::write(path, json + "\n")?,
        None => println!("{json}"),
    }
    Ok(())
}
