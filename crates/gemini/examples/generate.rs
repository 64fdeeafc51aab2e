//! One-shot generation and structured output against the real API.
//!
//! ```sh
//! GEMINI_API_KEY=... cargo run -p planwright-gemini --example generate
//! ```

use std::io::Write;

use planwright_gemini::{Client, Config, GenerateContentRequest, GenerationConfig};
use schemars::JsonSchema;
use serde::Deserialize;

/// The plan we ask Gemini to fill in.
#[derive(Debug, Deserialize, JsonSchema)]
struct Plan {
    /// A short title for the plan.
    title: String,
    /// One entry per day.
    days: Vec<Day>,
}

/// One day of the plan.
#[derive(Debug, Deserialize, JsonSchema)]
struct Day {
    /// 1-based day number.
    day: u32,
    /// What to do that day.
    tasks: Vec<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api_key = std::env::var("GEMINI_API_KEY").map_err(|_| "set GEMINI_API_KEY")?;
    let client = Client::new(Config::new().with_api_key(api_key))?;
    let mut out = std::io::stdout().lock();

    let tokens =
        client.count_tokens(GenerateContentRequest::from_text("Learn FastAPI in 2 days").into()).await?;
    writeln!(out, "prompt tokens: {}", tokens.total_tokens)?;

    let request = GenerateContentRequest::from_text("In one sentence: why plan study time?")
        .with_generation_config(GenerationConfig::default().with_temperature(0.3));
    let response = client.generate_content(request).await?;
    writeln!(out, "{}", response.text())?;

    let request = GenerateContentRequest::from_text("Make a plan to learn FastAPI in 2 days")
        .with_system_instruction("You are a concise study planner.");
    let (plan, response) = client.generate_json::<Plan>(request).await?;
    writeln!(out, "\n{}", plan.title)?;
    for day in &plan.days {
        writeln!(out, "  day {}: {}", day.day, day.tasks.join("; "))?;
    }
    if let Some(usage) = response.usage_metadata {
        writeln!(out, "tokens used: {}", usage.total_token_count)?;
    }
    Ok(())
}
