//! Chat sessions, grounding and streaming, offline and against the fake Gemini.

use std::time::Duration;

use eventsource_stream::{Event, Eventsource};
use futures_util::StreamExt;
use planwright_tests::fake_gemini::Fault;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    TestApp, app_with_gemini, assert_problem, error_fields, poll_until, spawn_app, spawn_app_with,
};

async fn messages(app: &TestApp, token: &str, session_id: &str) -> Vec<Value> {
    let response = app.history(session_id, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["messages"].as_array().unwrap().clone()
}

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let body: Value = app.chat_sessions("", token).await.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// Opens `POST /chat/stream` and reads it with a real SSE parser.
async fn open_stream(
    app: &TestApp,
    token: &str,
    body: &Value,
) -> impl futures_util::Stream<Item = Event> + Unpin + use<> {
    let response = app.chat_stream(body, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"),
        "{:?}",
        response.headers()
    );
    Box::pin(response.bytes_stream().eventsource().map(|event| event.expect("a well-formed SSE event")))
}

async fn read_all(app: &TestApp, token: &str, body: &Value) -> Vec<Event> {
    open_stream(app, token, body).await.collect().await
}

fn data(event: &Event) -> Value {
    serde_json::from_str(&event.data).unwrap()
}

#[tokio::test]
async fn chat_starts_a_titled_session_and_keeps_the_history_in_order() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;

    let first = app.chat(&json!({"message": "  How do I plan revision for my exams?\nThanks"}), token).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let session_id = first["session_id"].as_str().unwrap().to_owned();
    assert!(first["response"].as_str().unwrap().contains("Offline mode"), "{first}");
    assert_eq!(first["model"], "offline");
    assert!(first["message_id"].is_string() && first["timestamp"].is_string());

    let second: Value = app
        .chat(&json!({"message": "And for the next week?", "session_id": session_id}), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["session_id"], session_id.as_str());

    let messages = messages(&app, token, &session_id).await;
    let roles: Vec<&str> = messages.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(messages[0]["content"], "How do I plan revision for my exams?\nThanks");
    assert_eq!(messages[1]["id"], first["message_id"]);
    assert_eq!(messages[3]["id"], second["message_id"]);
    assert_eq!(messages[3]["content"], second["response"]);
    let times: Vec<&str> = messages.iter().map(|m| m["timestamp"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by_key(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap());
    assert_eq!(times, sorted, "oldest first");

    let sessions = sessions(&app, token).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["id"], session_id.as_str());
    assert_eq!(sessions[0]["title"], "How do I plan revision for my exams?");
    assert_eq!(sessions[0]["message_count"], 4);
}

#[tokio::test]
async fn sessions_list_most_recent_first_and_page() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let mut ids = Vec::new();
    for topic in ["graphs", "sorting", "heaps"] {
        let body: Value = app
            .chat(&json!({"message": format!("Tell me about {topic}")}), token)
            .await
            .json()
            .await
            .unwrap();
        ids.push(body["session_id"].as_str().unwrap().to_owned());
    }
    // Talking in the oldest session makes it the most recent.
    app.chat(&json!({"message": "more graphs", "session_id": ids[0]}), token).await;

    let page: Value = app.chat_sessions("limit=2", token).await.json().await.unwrap();
    let first: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(first, [ids[0].as_str(), ids[2].as_str()]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value =
        app.chat_sessions(&format!("limit=2&cursor={cursor}"), token).await.json().await.unwrap();
    let rest: Vec<&str> =
        rest["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(rest, [ids[1].as_str()]);
}

#[tokio::test]
async fn chat_with_unknown_session_returns_404_and_starts_nothing() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let unknown = Uuid::new_v4();
    let response = app.chat(&json!({"message": "hello", "session_id": unknown}), &user.access_token).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    let response =
        app.chat_stream(&json!({"message": "hello", "session_id": unknown}), &user.access_token).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    assert!(sessions(&app, &user.access_token).await.is_empty(), "no silent new session");
    assert_problem(app.history(&unknown.to_string(), &user.access_token).await, StatusCode::NOT_FOUND).await;
    assert_problem(app.delete_chat(unknown, &user.access_token).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn another_users_session_is_404_everywhere() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let body: Value =
        app.chat(&json!({"message": "my private question"}), &owner.access_token).await.json().await.unwrap();
    let session_id = body["session_id"].as_str().unwrap();

    let response =
        app.chat(&json!({"message": "let me in", "session_id": session_id}), &other.access_token).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    assert_problem(app.history(session_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let response = app.delete_chat(session_id, &other.access_token).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    assert!(sessions(&app, &other.access_token).await.is_empty());

    assert_eq!(messages(&app, &owner.access_token, session_id).await.len(), 2, "untouched");
}

#[tokio::test]
async fn deleting_a_session_resets_it() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let body: Value = app.chat(&json!({"message": "first"}), token).await.json().await.unwrap();
    let session_id = body["session_id"].as_str().unwrap();

    let response = app.delete_chat(session_id, token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_problem(app.history(session_id, token).await, StatusCode::NOT_FOUND).await;
    assert!(sessions(&app, token).await.is_empty());
    let response = app.chat(&json!({"message": "again", "session_id": session_id}), token).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn bad_messages_are_422_naming_the_field() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    for (body, field) in [
        (json!({"message": " \n "}), "message"),
        (json!({"message": "x".repeat(4001)}), "message"),
        (json!({}), "message"),
        (json!({"message": "hi", "session_id": "not-a-uuid"}), "session_id"),
    ] {
        let problem = assert_problem(app.chat(&body, token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
        let response = app.chat_stream(&body, token).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let response = app.chat_sessions("limit=0", token).await;
    assert_problem(response, StatusCode::BAD_REQUEST).await;
    assert!(sessions(&app, token).await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn answers_are_grounded_on_knowledge_resources_and_plans() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc: Value = app
        .create_knowledge(
            &json!({"title": "Dijkstra's algorithm", "content": "Dijkstra finds shortest paths in graphs with non-negative weights using a priority queue."}),
            token,
        )
        .await
        .json()
        .await
        .unwrap();
    app.create_knowledge(
        &json!({"title": "Baking bread", "content": "Knead the dough and let it rise."}),
        token,
    )
    .await;
    let resource: Value = app
        .create_resource(
            &json!({"class_id": "cs201", "type": "syllabus", "name": "Graph algorithms syllabus", "content": {"topics": ["dijkstra", "bfs"]}}),
            token,
        )
        .await
        .json()
        .await
        .unwrap();
    let plan: Value = app
        .create_plan(&json!({"goal": "Master graph algorithms", "duration_days": 3}), token)
        .await
        .json()
        .await
        .unwrap();

    let answer: Value =
        app.chat(&json!({"message": "How does Dijkstra work on graphs?"}), token).await.json().await.unwrap();
    let sources = answer["sources"].as_array().unwrap();
    assert_eq!(sources[0]["kind"], "knowledge", "{answer}");
    assert_eq!(sources[0]["id"], doc["id"], "the relevant document ranks first: {answer}");
    assert_eq!(sources[0]["title"], "Dijkstra's algorithm");
    assert!(sources.iter().any(|s| s["kind"] == "resource" && s["id"] == resource["id"]), "{answer}");
    assert!(sources.iter().any(|s| s["kind"] == "plan" && s["id"] == plan["id"]), "{answer}");
    assert!(!sources.iter().any(|s| s["title"] == "Baking bread"), "{answer}");
    let text = answer["response"].as_str().unwrap();
    assert!(text.contains("Offline mode") && text.contains("Dijkstra's algorithm"), "{text}");

    let history = messages(&app, token, answer["session_id"].as_str().unwrap()).await;
    assert_eq!(history[1]["sources"], answer["sources"], "sources are stored with the answer");
}

#[tokio::test]
async fn multi_turn_history_and_sources_reach_gemini() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    app.create_knowledge(
        &json!({"title": "Pomodoro technique", "content": "Work for 25 minutes, then take a 5 minute break."}),
        token,
    )
    .await;
    let first: Value =
        app.chat(&json!({"message": "What is the pomodoro technique?"}), token).await.json().await.unwrap();
    let session_id = first["session_id"].as_str().unwrap();
    assert_eq!(first["model"], "gemini-3.5-flash");
    assert!(first["usage"]["total_tokens"].as_u64().unwrap() > 0, "{first}");
    let second: Value = app
        .chat(&json!({"message": "How long are the breaks?", "session_id": session_id}), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["sources"][0]["title"], "Pomodoro technique", "{second}");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let turns_of = |request: usize| -> Vec<(&str, &str)> {
        requests[request].body["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["role"].as_str().unwrap(), c["parts"][0]["text"].as_str().unwrap()))
            .collect()
    };
    // The new session's prompt holds its one message, the second one the whole conversation.
    assert_eq!(turns_of(0), [("user", "What is the pomodoro technique?")]);
    assert_eq!(
        turns_of(1),
        [
            ("user", "What is the pomodoro technique?"),
            ("model", first["response"].as_str().unwrap()),
            ("user", "How long are the breaks?"),
        ]
    );
    let instruction = requests[1].system_instruction().unwrap();
    assert!(
        instruction.contains("Pomodoro technique") && instruction.contains("25 minutes"),
        "{instruction}"
    );
    assert!(!instruction.contains("How long are the breaks"), "the message stays out of the instructions");

    let stored = messages(&app, token, session_id).await;
    assert_eq!(stored.len(), 4);
}

#[tokio::test]
async fn the_context_budget_bounds_the_history_sent() {
    let (app, fake) = app_with_gemini(|s| s.chat.context_tokens = 1_200).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let mut session_id: Option<String> = None;
    for turn in 0..8 {
        let message = format!("Turn {turn}: {}", "tell me more about planning my week ".repeat(10));
        let body: Value = app
            .chat(&json!({"message": message, "session_id": session_id}), token)
            .await
            .json()
            .await
            .unwrap();
        session_id = body["session_id"].as_str().map(str::to_owned);
    }
    let last = fake.last_request().unwrap();
    let contents = last.body["contents"].as_array().unwrap();
    assert!(contents.len() < 15, "{} turns sent: the whole history would be 15", contents.len());
    assert!(contents.len() >= 3, "recent turns still go: {}", contents.len());
    assert!(last.user_text().starts_with("Turn 7:"), "the new message always goes");
    assert_eq!(contents[0]["role"], "user", "the window starts with the person's turn");
    let sent: usize = contents.iter().map(|c| c["parts"][0]["text"].as_str().unwrap().len()).sum();
    assert!(sent / 4 <= 1_200, "about {} tokens of history", sent / 4);
    assert_eq!(messages(&app, token, session_id.as_deref().unwrap()).await.len(), 16, "all stored");
}

#[tokio::test]
async fn model_failure_keeps_the_user_message() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    fake.push_many([Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
    let problem = assert_problem(
        app.chat(&json!({"message": "Will this get lost?"}), token).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("AI service"), "{problem}");

    let sessions = sessions(&app, token).await;
    assert_eq!(sessions.len(), 1, "the session exists");
    let session_id = sessions[0]["id"].as_str().unwrap();
    let stored = messages(&app, token, session_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0]["role"].as_str(), stored[0]["content"].as_str()),
        (Some("user"), Some("Will this get lost?"))
    );

    // A safety block is a 422 and also keeps the message; then the session goes on.
    fake.push(Fault::SafetyBlock);
    let response = app.chat(&json!({"message": "second try", "session_id": session_id}), token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "ai_declined");
    let response = app.chat(&json!({"message": "third try", "session_id": session_id}), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let roles: Vec<String> = messages(&app, token, session_id)
        .await
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(roles, ["user", "user", "user", "assistant"]);
    // The failed turns reach the model as one merged user turn, not as two in a row.
    let contents = fake.last_request().unwrap().body["contents"].as_array().unwrap().clone();
    assert_eq!(contents.len(), 1, "{contents:?}");
    assert!(contents[0]["parts"][0]["text"].as_str().unwrap().ends_with("third try"));
}

#[tokio::test]
async fn streaming_relays_gemini_and_stores_the_answer_once() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let events = read_all(&app, token, &json!({"message": "Stream me an answer about planning"})).await;

    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names.first(), Some(&"session"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    let deltas: Vec<&Event> = events.iter().filter(|e| e.event == "delta").collect();
    assert!(deltas.len() >= 2, "the answer arrives in pieces: {names:?}");
    let streamed: String = deltas.iter().map(|e| data(e)["text"].as_str().unwrap().to_owned()).collect();

    let session_id = data(&events[0])["session_id"].as_str().unwrap().to_owned();
    let done = data(events.last().unwrap());
    assert!(done["usage"]["total_tokens"].as_u64().unwrap() > 0, "{done}");
    assert_eq!(done["session_id"], session_id.as_str());
    let stored = messages(&app, token, &session_id).await;
    assert_eq!(stored.len(), 2, "stored once");
    assert_eq!(stored[1]["id"], done["message_id"]);
    assert_eq!(stored[1]["content"], streamed.as_str());
    assert!(fake.last_request().unwrap().is_stream());
    assert_eq!(fake.abandoned_streams(), 0);
}

#[tokio::test]
async fn offline_streaming_works_without_a_model() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let events = read_all(&app, &user.access_token, &json!({"message": "What should I study?"})).await;
    let streamed: String = events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| data(e)["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(streamed.contains("Offline mode"), "{streamed}");
    let done = data(events.last().unwrap());
    assert_eq!(events.last().unwrap().event, "done");
    assert_eq!(done["model"], "offline");
}

#[tokio::test]
async fn a_failed_stream_ends_with_an_error_event_and_stores_no_answer() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    // Cut off after one chunk, and blocked by safety after one chunk.
    for fault in [Fault::TruncatedStream, Fault::SafetyBlock] {
        fake.push(fault.clone());
        let events = read_all(&app, token, &json!({"message": "Tell me a long story"})).await;
        let last = events.last().unwrap();
        assert_eq!(last.event, "error", "{fault:?}: {events:?}");
        assert!(!data(last)["detail"].as_str().unwrap().is_empty());
        assert!(events.iter().all(|e| e.event != "done"));
        let session_id = data(&events[0])["session_id"].as_str().unwrap().to_owned();
        let stored = messages(&app, token, &session_id).await;
        assert_eq!(stored.len(), 1, "{fault:?}: only the user's message");
        assert_eq!(stored[0]["role"], "user");
    }
    // Unavailable before the first chunk (after the client's retries): an error event too.
    fake.push_many([Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
    let events = read_all(&app, token, &json!({"message": "anyone there?"})).await;
    assert_eq!(events.last().unwrap().event, "error");
    assert_eq!(data(events.last().unwrap())["status"], 503);
}

#[tokio::test]
async fn a_client_leaving_mid_stream_drops_the_upstream_request() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    fake.push(Fault::SlowStream(Duration::from_millis(400)));
    let mut events = open_stream(&app, token, &json!({"message": "A slow answer, please"})).await;
    let session = events.next().await.unwrap();
    assert_eq!(session.event, "session");
    let session_id = data(&session)["session_id"].as_str().unwrap().to_owned();
    let first = events.next().await.unwrap();
    assert_eq!(first.event, "delta", "the first chunk arrives before the rest of the answer exists");
    drop(events);

    poll_until(Duration::from_secs(10), "the fake Gemini to see its stream abandoned", || async {
        fake.abandoned_streams() == 1
    })
    .await;
    let stored = messages(&app, token, &session_id).await;
    assert_eq!(stored.len(), 1, "no half-written answer: {stored:?}");
    assert_eq!(stored[0]["role"], "user");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains(r#"outcome="cancelled""#), "the abandoned stream is counted");
}

#[tokio::test]
async fn a_spent_budget_refuses_before_storing_anything() {
    let app = spawn_app_with(|s| s.ai.daily_token_budget = 1).await;
    let user = app.signed_in_user().await;
    let user_id = Uuid::parse_str(&user.id).unwrap();
    let usage = planwright_domain::TokenUsage { total_tokens: 5, ..Default::default() };
    planwright_store::repo::ai_usage::add_usage(
        app.db.conn(),
        user_id,
        chrono::Utc::now().date_naive(),
        &usage,
    )
    .await
    .unwrap();
    let response = app.chat(&json!({"message": "hello"}), &user.access_token).await;
    assert!(crate::helpers::header(&response, "retry-after").is_some());
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(sessions(&app, &user.access_token).await.is_empty());
}
