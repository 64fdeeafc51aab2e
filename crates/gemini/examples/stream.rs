//! Streams an answer (with thought summaries) to stdout as it is generated.
//!
//! ```sh
//! GEMINI_API_KEY=... cargo run -p planwright-gemini --example stream
//! ```

use std::io::Write;

use futures_util::StreamExt;
use planwright_gemini::{Client, Config, Error, GenerateContentRequest, GenerationConfig, ThinkingConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api_key = std::env::var("GEMINI_API_KEY").map_err(|_| "set GEMINI_API_KEY")?;
    let client = Client::new(Config::new().with_api_key(api_key))?;
    let request = GenerateContentRequest::from_text("Outline a 5-day plan to prepare for an algorithms exam")
        .with_generation_config(
            GenerationConfig::default()
                .with_thinking_config(ThinkingConfig::default().with_include_thoughts(true)),
        );

    let mut stream = client.stream_generate_content(request).await?;
    let mut out = std::io::stdout().lock();
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => {
                let thoughts = chunk.thoughts();
                if !thoughts.is_empty() {
                    writeln!(out, "[thinking] {thoughts}")?;
                }
                write!(out, "{}", chunk.text())?;
                out.flush()?;
                if let Some(usage) = chunk.usage_metadata {
                    writeln!(out, "\n\n(tokens: {} total)", usage.total_token_count)?;
                }
            }
            Err(Error::Truncated { .. }) => writeln!(out, "\n[cut off at the token limit]")?,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
