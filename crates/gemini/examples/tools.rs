//! Function calling: declare two tools from Rust types, run the calls Gemini asks for, send the
//! results back, and print the final answer. The model's turn is sent back unchanged, so its
//! `thoughtSignature` (required by Gemini 3) goes back on the part it came on.
//!
//! ```sh
//! GEMINI_API_KEY=... cargo run -p planwright-gemini --example tools
//! # or against the fake Gemini (`cargo run -p planwright-tests --bin planwright-fakes -- --port 8090`):
//! GEMINI_BASE_URL=http://127.0.0.1:8090 GEMINI_API_KEY=fake-gemini-key cargo run -p planwright-gemini --example tools
//! ```

use std::io::Write;

use planwright_gemini::{
    Client, Config, Content, FunctionCall, FunctionDeclaration, FunctionResponse, GenerateContentRequest,
    Tool, ToolConfig,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// Arguments of `get_free_slots`.
#[derive(Debug, Deserialize, JsonSchema)]
struct FreeSlotsArgs {
    /// The day to look at, as `YYYY-MM-DD`.
    date: String,
    /// How long each slot must be, in minutes.
    minutes: u32,
}

/// Arguments of `add_task`.
#[derive(Debug, Deserialize, JsonSchema)]
struct AddTaskArgs {
    /// A short title for the task.
    title: String,
    /// The start time, as `YYYY-MM-DDTHH:MM`.
    start: String,
}

/// Runs one call locally; a call with bad arguments is answered with an error the model can read.
fn run(call: &FunctionCall) -> Value {
    match call.name.as_str() {
        "get_free_slots" => match call.args_as::<FreeSlotsArgs>() {
            Ok(args) => json!({ "slots": [format!("{}T09:00", args.date), format!("{}T14:30", args.date)],
                                "minutes": args.minutes }),
            Err(error) => json!({ "error": format!("bad arguments: {error}") }),
        },
        "add_task" => match call.args_as::<AddTaskArgs>() {
            Ok(args) => json!({ "created": args.title, "start": args.start }),
            Err(error) => json!({ "error": format!("bad arguments: {error}") }),
        },
        other => json!({ "error": format!("no such function: {other}") }),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api_key = std::env::var("GEMINI_API_KEY").map_err(|_| "set GEMINI_API_KEY")?;
    let mut config = Config::new().with_api_key(api_key);
    if let Ok(base_url) = std::env::var("GEMINI_BASE_URL") {
        config = config.with_base_url(base_url);
    }
    let client = Client::new(config)?;
    let mut out = std::io::stdout().lock();

    let tools = Tool::functions([
        FunctionDeclaration::from_type::<FreeSlotsArgs>("get_free_slots", "Free calendar slots on a day"),
        FunctionDeclaration::from_type::<AddTaskArgs>("add_task", "Puts a task in the calendar"),
    ]);
    let mut request = GenerateContentRequest::from_text(
        "Find me 45 free minutes on 2026-12-03 (get_free_slots) and add_task 'Review notes' there.",
    )
    .with_tools([tools])
    .with_tool_config(ToolConfig::auto());

    // A few rounds at most: each round runs the calls and sends the results back.
    for _ in 0..4 {
        let response = client.generate_content(request.clone()).await?;
        let calls: Vec<&FunctionCall> = response.function_calls().collect();
        if calls.is_empty() {
            writeln!(out, "{}", response.text())?;
            return Ok(());
        }
        let results: Vec<FunctionResponse> = calls
            .iter()
            .map(|call| {
                let result = run(call);
                writeln!(out, "-> {}({}) = {result}", call.name, call.args.clone().unwrap_or_default()).ok();
                FunctionResponse::for_call(call, result)
            })
            .collect();
        let model_turn = response.content().cloned().unwrap_or_default();
        request = request.with_content(model_turn).with_content(Content::function_responses(results));
    }
    writeln!(out, "(stopped after 4 rounds of tool calls)")?;
    Ok(())
}
