//! Semantic search in a few lines: embed some notes as documents, a question as a query, and rank
//! the notes by cosine similarity.
//!
//! ```sh
//! GEMINI_API_KEY=... cargo run -p planwright-gemini --example embed
//! ```

use std::io::Write;

use planwright_gemini::{Client, Config, ContentEmbedding, EmbedContentRequest};

/// Fewer than the model's 3072 dimensions: Google's recommended smaller size.
const DIMENSIONS: u32 = 768;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api_key = std::env::var("GEMINI_API_KEY").map_err(|_| "set GEMINI_API_KEY")?;
    let client = Client::new(Config::new().with_api_key(api_key))?;
    let mut out = std::io::stdout().lock();

    let notes = [
        ("Sports centre", "Opening hours: 7am to 10pm on weekdays, 9am to 6pm at weekends."),
        ("Dentist", "Check-up booked for Tuesday at 3pm; bring the insurance card."),
        ("FastAPI course", "Finish the chapter on dependency injection before Friday."),
    ];
    let documents = notes
        .iter()
        .map(|(title, text)| {
            EmbedContentRequest::document(*text).with_title(*title).with_output_dimensionality(DIMENSIONS)
        })
        .collect();
    // One call for all notes; below 3072 dimensions Google's vectors need normalising.
    let stored: Vec<ContentEmbedding> = client
        .batch_embed_contents(documents)
        .await?
        .iter()
        .map(|embedding| ContentEmbedding::new(embedding.normalized()))
        .collect();

    let question = "When can I use the gym on Sunday?";
    let query = client
        .embed_content(EmbedContentRequest::query(question).with_output_dimensionality(DIMENSIONS))
        .await?;
    writeln!(out, "{question}")?;
    let mut ranked: Vec<(f32, &str)> = stored
        .iter()
        .zip(&notes)
        .map(|(embedding, (title, _))| (query.cosine_similarity(embedding).unwrap_or(-1.0), *title))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (score, title) in ranked {
        writeln!(out, "  {score:.3}  {title}")?;
    }
    Ok(())
}
