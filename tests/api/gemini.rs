//! Plans and breakdowns through Gemini, against the fake Gemini server.

use std::time::Duration;

use planwright_tests::fake_gemini::Fault;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, app_with_gemini, assert_problem};

async fn create_plan(app: &TestApp, token: &str) -> reqwest::Response {
    app.create_plan(
        &json!({"goal": "Learn FastAPI", "duration_days": 2, "context": {"notes": "evenings only"}}),
        token,
    )
    .await
}

#[tokio::test]
async fn gemini_writes_the_plan_and_its_usage_is_kept() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let response = create_plan(&app, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    assert_eq!(plan["model"], "gemini-3.5-flash");
    assert_eq!(plan["model_version"], "gemini-3.5-flash");
    assert_eq!(plan["notes"], json!([]), "a friendly answer needs no repair");
    assert!(plan["usage"]["total_tokens"].as_u64().unwrap() > 0, "{plan}");
    assert!(!plan["tasks"].as_array().unwrap().is_empty());

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    let instructions = body["systemInstruction"]["parts"][0]["text"].as_str().unwrap();
    assert!(instructions.contains("JSON"), "{instructions}");
    let user_text = body["contents"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(user_text.contains("Learn FastAPI") && user_text.contains("evenings only"), "{user_text}");
    assert!(!instructions.contains("Learn FastAPI"), "the goal stays out of the instructions");
    assert_eq!(body["generationConfig"]["responseMimeType"], "application/json");
    assert!(body["generationConfig"]["responseJsonSchema"]["properties"]["tasks"].is_object());

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"planwright_upstream_calls_total{outcome="ok",service="gemini"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_rate_limit_then_success_is_retried_transparently() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::RateLimited { retry_delay: Duration::from_millis(50) });
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_persistent_503_is_a_503_problem_after_the_retries() {
    let (app, fake) = app_with_gemini(|s| s.ai.max_retries = 2).await;
    let user = app.signed_in_user().await;
    for _ in 0..3 {
        fake.push(Fault::Unavailable);
    }
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().unwrap().contains("AI service"), "{problem}");
    assert_eq!(fake.request_count(), 3);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"planwright_upstream_calls_total{outcome="unavailable",service="gemini"} 1"#),
        "{metrics}"
    );
    let plans: Value = app.list_plans("", &user.access_token).await.json().await.unwrap();
    assert_eq!(plans["items"], json!([]), "nothing half-made is stored");
}

#[tokio::test]
async fn a_spent_daily_quota_is_not_retried() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::DailyQuota);
    assert_problem(create_plan(&app, &user.access_token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn malformed_json_is_asked_for_again_with_the_problem() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::MalformedJson);
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let retry = requests[1].body["contents"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(retry.contains("previous answer was rejected"), "{retry}");
}

#[tokio::test]
async fn malformed_json_twice_is_a_502() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::MalformedJson);
    fake.push(Fault::MalformedJson);
    let problem = assert_problem(create_plan(&app, &user.access_token).await, StatusCode::BAD_GATEWAY).await;
    assert_eq!(problem["code"], "bad_gateway");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_plan_without_tasks_is_asked_for_again_then_refused() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    // Outside the schema's bounds: no tasks at all (minItems 1), which nothing can repair.
    fake.push(Fault::InvalidPlan);
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    let retry = fake.requests()[1].body["contents"][0]["parts"][0]["text"].as_str().unwrap().to_owned();
    assert!(retry.contains("`tasks` was empty"), "{retry}");

    fake.push(Fault::InvalidPlan);
    fake.push(Fault::InvalidPlan);
    let problem = assert_problem(create_plan(&app, &user.access_token).await, StatusCode::BAD_GATEWAY).await;
    assert!(problem["detail"].as_str().unwrap().contains("twice"), "{problem}");
}

/// The issue's report: a 2-day plan whose tasks the model put on days 6 and 7 (and one of 5
/// minutes) is repaired and stored, with the repairs listed, instead of a 502.
#[tokio::test]
async fn days_past_the_plan_are_moved_into_it_and_noted_instead_of_a_502() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::Text(
        json!({"summary": "## FastAPI in 2 days", "tasks": [
            {"title": "Read the tutorial", "description": "", "day_offset": 6, "duration_minutes": 90},
            {"title": "", "description": "Build a CRUD API with SQLite", "day_offset": 7, "duration_minutes": 5}
        ]})
        .to_string(),
    ));
    let response = create_plan(&app, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    assert_eq!(fake.request_count(), 1, "repaired, not retried");
    let tasks = plan["tasks"].as_array().unwrap();
    assert_eq!(tasks.iter().map(|t| t["day_offset"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 1]);
    assert_eq!(tasks[1]["duration_minutes"], 15);
    assert_eq!(tasks[1]["title"], "Build a CRUD API with SQLite");
    assert_eq!(
        plan["notes"],
        json!([
            "task 1: day_offset 6 is past the plan's last day; moved to day_offset 1",
            "task 2: the title was blank; it was filled from the description",
            "task 2: day_offset 7 is past the plan's last day; moved to day_offset 1",
            "task 2: duration_minutes 5 is outside 15–480; set to 15"
        ])
    );
    let stored: Value =
        app.get_plan(plan["id"].as_str().unwrap(), &user.access_token).await.json().await.unwrap();
    assert_eq!(stored["notes"], plan["notes"], "the notes are stored with the plan");
}

#[tokio::test]
async fn a_fenced_json_answer_with_a_nul_is_unwrapped_and_cleaned() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let answer = json!({"summary": "Plan\u{0}", "tasks": [
        {"title": "Read\u{0} docs", "description": "Intro", "day_offset": 0, "duration_minutes": 60}
    ]});
    fake.push(Fault::Text(format!("```json\n{answer}\n```")));
    let response = create_plan(&app, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    assert_eq!(plan["tasks"][0]["title"], "Read docs");
    assert_eq!(plan["summary"], "Plan");
    assert_eq!(plan["notes"], json!(["2 control character(s) were removed from the text"]));
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn the_response_schemas_say_the_validators_bounds() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    let response = app.breakdown(&json!({"title": "Plan a trip"}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let requests = fake.requests();
    insta::assert_json_snapshot!("gemini_plan_schema_2_days", requests[0].response_schema());
    insta::assert_json_snapshot!("gemini_breakdown_schema", requests[1].response_schema());
}

#[tokio::test]
async fn gemini_3_gets_a_thinking_level_and_2_5_a_budget_never_both() {
    for (model, expected) in [
        ("gemini-3.5-flash", json!({"thinkingLevel": "low"})),
        ("gemini-2.5-flash", json!({"thinkingBudget": 1024})),
    ] {
        let (app, fake) = app_with_gemini(|s| {
            s.ai.model = model.to_owned();
            s.ai.thinking_level = "low".to_owned();
        })
        .await;
        let user = app.signed_in_user().await;
        assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED, "{model}");
        let response = app.chat(&json!({"message": "Hello"}), &user.access_token).await;
        assert_eq!(response.status(), StatusCode::OK, "{model}");
        for request in fake.requests() {
            assert_eq!(request.model, model);
            assert_eq!(request.body["generationConfig"]["thinkingConfig"], expected, "{model}");
        }
    }
}

#[tokio::test]
async fn usage_counts_thoughts_and_the_budget_records_the_breakdown() {
    let (app, fake) = app_with_gemini(|s| s.ai.thinking_level = "medium".to_owned()).await;
    let user = app.signed_in_user().await;
    let plan: Value = create_plan(&app, &user.access_token).await.json().await.unwrap();
    let usage = &plan["usage"];
    assert_eq!(usage["thoughts_tokens"], 64, "{plan}");
    assert_eq!(usage["cached_tokens"], 0);
    let (prompt, output) =
        (usage["prompt_tokens"].as_u64().unwrap(), usage["output_tokens"].as_u64().unwrap());
    assert_eq!(usage["total_tokens"].as_u64().unwrap(), prompt + output, "thoughts are billed as output");
    assert!(output > 64);
    assert_eq!(fake.request_count(), 1);

    let user_id = user.id.parse().unwrap();
    let day = chrono::Utc::now().date_naive();
    let recorded = planwright_store::repo::ai_usage::usage_on(app.db.conn(), user_id, day).await.unwrap();
    assert_eq!(recorded.thoughts_tokens, 64);
    assert_eq!(u64::from(recorded.total_tokens), usage["total_tokens"].as_u64().unwrap());
    assert_eq!(u64::from(recorded.prompt_tokens), prompt);
}

#[tokio::test]
async fn a_model_google_retired_at_run_time_is_a_503_naming_the_model_and_the_key() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.retire_model("gemini-3.5-flash");
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("\"gemini-3.5-flash\"") && detail.contains("ai.model"), "{detail}");
    assert_eq!(fake.request_count(), 1, "a 404 is not retried");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"planwright_upstream_calls_total{outcome="model_not_found",service="gemini"} 1"#),
        "{metrics}"
    );
    let response = app.chat(&json!({"message": "Hi"}), &user.access_token).await;
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
}

#[tokio::test]
async fn fallback_models_are_tried_in_order_on_a_model_level_404() {
    let (app, fake) = app_with_gemini(|s| {
        s.ai.fallback_models = vec!["gemini-1.5-flash".to_owned(), "gemini-3.8-flash".to_owned()];
    })
    .await;
    let user = app.signed_in_user().await;
    fake.retire_model("gemini-3.5-flash");
    let response = create_plan(&app, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    assert_eq!(plan["model"], "gemini-3.8-flash");
    let models: Vec<String> = fake.requests().into_iter().map(|r| r.model).collect();
    assert_eq!(models, ["gemini-3.5-flash", "gemini-1.5-flash", "gemini-3.8-flash"]);
}

#[tokio::test]
async fn too_many_steps_are_cut_to_five_and_too_few_asked_for_again() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let steps = |n: usize| {
        let subtasks: Vec<Value> =
            (0..n).map(|i| json!({"title": format!("Step {i}\u{0}"), "description": ""})).collect();
        Fault::Text(json!({ "subtasks": subtasks }).to_string())
    };
    fake.push(steps(7));
    let response = app.breakdown(&json!({"title": "Move house"}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let titles: Vec<&str> = body.as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Step 0", "Step 1", "Step 2", "Step 3", "Step 4"]);

    fake.reset();
    fake.push_many([steps(1), steps(1)]);
    let response = app.breakdown(&json!({"title": "Move house"}), &user.access_token).await;
    assert_problem(response, StatusCode::BAD_GATEWAY).await;
    let retry = fake.requests()[1].user_text();
    assert!(retry.contains("give 2 to 5 sub-tasks"), "{retry}");
}

#[tokio::test]
async fn a_safety_block_is_a_422_saying_the_ai_declined() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::SafetyBlock);
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "ai_declined");
    assert!(problem["detail"].as_str().unwrap().contains("declined"));
    fake.push(Fault::PromptBlocked);
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "ai_declined");
}

#[tokio::test]
async fn a_slow_gemini_is_a_504() {
    let (app, fake) = app_with_gemini(|s| {
        s.ai.timeout_secs = 1;
        s.ai.max_retries = 0;
    })
    .await;
    let user = app.signed_in_user().await;
    fake.push(Fault::Latency(Duration::from_secs(3)));
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::GATEWAY_TIMEOUT).await;
    assert_eq!(problem["code"], "gateway_timeout");
}

#[tokio::test]
async fn a_bad_key_is_a_503_and_never_leaks_the_key() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::BadKey);
    let response = create_plan(&app, &user.access_token).await;
    let problem = assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(!problem.to_string().contains(fake.api_key()));
    assert_eq!(fake.request_count(), 1, "a refused key is not retried");
    assert_eq!(fake.requests()[0].headers.get("x-goog-api-key").map(String::as_str), Some(fake.api_key()));
    assert!(!fake.requests()[0].path.contains(fake.api_key()));
}

#[tokio::test]
async fn spending_the_budget_turns_the_next_call_into_a_429() {
    let (app, _fake) = app_with_gemini(|s| s.ai.daily_token_budget = 1).await;
    let user = app.signed_in_user().await;
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    let response = app.breakdown(&json!({"title": "More"}), &user.access_token).await;
    let problem = assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(problem["code"], "ai_budget_exhausted");
}

#[tokio::test]
async fn gemini_breaks_a_task_down_with_and_without_saving() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let task: Value = app
        .create_task(&json!({"title": "Write the report"}), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let task_id = task["id"].as_str().unwrap();
    let proposal: Value =
        app.breakdown_task(task_id, &json!({}), &user.access_token).await.json().await.unwrap();
    let steps = proposal["subtasks"].as_array().unwrap().len();
    assert!((2..=5).contains(&steps), "{proposal}");
    let response = app.breakdown_task(task_id, &json!({"save": true}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let saved: Value = response.json().await.unwrap();
    assert!(saved["tasks"].as_array().unwrap().iter().all(|t| t["parent_id"] == task["id"]));
    let asked = fake.requests()[0].body["contents"][0]["parts"][0]["text"].as_str().unwrap().to_owned();
    assert!(asked.contains("Write the report"), "{asked}");
    let stateless = app.breakdown(&json!({"title": "Plan a trip"}), &user.access_token).await;
    assert_eq!(stateless.status(), StatusCode::OK);
}

#[tokio::test]
async fn start_up_refuses_a_retired_model_when_required_and_names_the_fix() {
    let (app, _fake) = app_with_gemini(|_| {}).await;
    let mut settings = app.settings.clone();
    settings.ai.model = "gemini-2.0-flash".to_owned();
    settings.ai.require_model = true;
    let error = planwright_api::Application::build(settings, app.db.clone()).await.expect_err("refused");
    let line = error.to_string();
    assert!(line.contains("ai.model = \"gemini-2.0-flash\""), "{line}");
    assert!(line.contains("PLANWRIGHT__AI__MODEL") && line.contains("gemini-3.5-flash"), "{line}");
}

#[tokio::test]
async fn start_up_with_a_retired_model_in_development_answers_offline() {
    let (app, fake) = app_with_gemini(|s| s.ai.model = "gemini-1.5-flash".to_owned()).await;
    let user = app.signed_in_user().await;
    let response = create_plan(&app, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    assert_eq!(plan["model"], "offline");
    assert_eq!(fake.request_count(), 0, "no call goes to the retired model");
}

#[tokio::test]
async fn with_the_start_up_check_off_nothing_is_asked_and_gemini_stays_the_ai() {
    let (app, fake) = app_with_gemini(|s| {
        s.ai.model = "gemini-1.5-flash".to_owned();
        s.ai.require_model = true;
        s.ai.check_model = false;
    })
    .await;
    assert_eq!(fake.request_count(), 0, "start-up asked Google nothing");
    let user = app.signed_in_user().await;
    let response = create_plan(&app, &user.access_token).await;
    // The retired model is now met on the first real call: a 503 naming it, not the offline planner.
    let problem = assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().unwrap_or_default().contains("gemini-1.5-flash"), "{problem}");
    assert!(fake.request_count() >= 1);
}

#[tokio::test]
async fn google_unreachable_at_start_up_is_only_a_warning() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.ai.provider = planwright_api::settings::AiProviderKind::Gemini;
        s.ai.gemini_base_url = "http://127.0.0.1:9".to_owned();
        s.ai.gemini_api_key = Some("a-key".to_owned().into());
        s.ai.require_model = true;
        s.ai.max_retries = 0;
        s.ai.timeout_secs = 2;
    })
    .await;
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_chat_answer_empty_twice_is_a_502_and_both_calls_count_in_the_budget() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::Text("  ".to_owned()));
    fake.push(Fault::Text("\u{0}".to_owned()));
    let response = app.chat(&json!({"message": "Hi"}), &user.access_token).await;
    assert_problem(response, StatusCode::BAD_GATEWAY).await;
    assert_eq!(fake.request_count(), 2, "an empty answer is asked for once more");

    let user_id = user.id.parse().unwrap();
    let day = chrono::Utc::now().date_naive();
    let recorded = planwright_store::repo::ai_usage::usage_on(app.db.conn(), user_id, day).await.unwrap();
    assert!(recorded.total_tokens > 0, "the two unusable answers still cost tokens: {recorded:?}");
}

#[tokio::test]
async fn an_answer_whose_session_was_deleted_meanwhile_is_a_404_and_still_counts_its_tokens() {
    // The answer and its cost are stored in one write; when that write finds the session gone,
    // the cost is counted on its own.
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let first: Value = app.chat(&json!({"message": "Hi"}), &user.access_token).await.json().await.unwrap();
    let session = first["session_id"].as_str().unwrap().to_owned();
    let user_id = user.id.parse().unwrap();
    let day = chrono::Utc::now().date_naive();
    let before = planwright_store::repo::ai_usage::usage_on(app.db.conn(), user_id, day).await.unwrap();
    assert!(before.total_tokens > 0, "the first answer counted: {before:?}");

    fake.set_latency(Duration::from_millis(600));
    let pending = tokio::spawn(
        app.client
            .post(app.url("/api/v1/chat"))
            .bearer_auth(&user.access_token)
            .json(&json!({"message": "And tomorrow?", "session_id": session}))
            .send(),
    );
    crate::helpers::poll_until(Duration::from_secs(10), "the second model call", || async {
        fake.request_count() == 2
    })
    .await;
    let deleted = app.delete(&format!("/api/v1/chat/{session}"), &user.access_token).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let problem = assert_problem(pending.await.unwrap().unwrap(), StatusCode::NOT_FOUND).await;
    assert!(problem["detail"].as_str().unwrap().contains("session"), "{problem}");

    let after = planwright_store::repo::ai_usage::usage_on(app.db.conn(), user_id, day).await.unwrap();
    assert!(after.total_tokens > before.total_tokens, "the unstored answer still cost tokens: {after:?}");
}

#[tokio::test]
async fn a_days_usage_spread_over_its_rows_adds_up_and_survives_the_migration_both_ways() {
    use migration::{Migrator, MigratorTrait};
    use planwright_domain::TokenUsage;
    use planwright_store::repo::ai_usage;

    let app = crate::helpers::spawn_app().await;
    let user = app.signed_in_user().await;
    let user_id = user.id.parse().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    let other_day = day.succ_opt().unwrap();
    let usage = |i: u32| TokenUsage {
        prompt_tokens: i,
        output_tokens: 2 * i,
        total_tokens: 4 * i,
        thoughts_tokens: i % 3,
        cached_tokens: i % 5,
    };
    // More writes at once than the day has rows, so some of them meet on a row.
    let calls = 1..=40_u32;
    futures_util::future::try_join_all(calls.clone().map(|i| {
        let usage = usage(i);
        let db = app.db.conn();
        async move { ai_usage::add_usage(db, user_id, day, &usage).await }
    }))
    .await
    .unwrap();
    ai_usage::add_usage(app.db.conn(), user_id, other_day, &usage(1000)).await.unwrap();
    let expected = calls.fold(TokenUsage::default(), |sum, i| {
        let one = usage(i);
        TokenUsage {
            prompt_tokens: sum.prompt_tokens + one.prompt_tokens,
            output_tokens: sum.output_tokens + one.output_tokens,
            total_tokens: sum.total_tokens + one.total_tokens,
            thoughts_tokens: sum.thoughts_tokens + one.thoughts_tokens,
            cached_tokens: sum.cached_tokens + one.cached_tokens,
        }
    });
    let db = app.db.conn();
    let read = move |day| async move {
        (
            ai_usage::usage_on(db, user_id, day).await.unwrap(),
            ai_usage::spent(db, user_id, day).await.unwrap(),
        )
    };
    assert_eq!(read(day).await, (expected, i64::from(expected.total_tokens)));
    assert_eq!(read(other_day).await, (usage(1000), 4000));
    let rows = crate::calendar::count_rows(&app, "SELECT COUNT(*) AS n FROM ai_usage").await;
    let shards = i64::from(ai_usage::SHARDS);
    assert!((2..=shards + 1).contains(&rows), "the day spread over {rows} rows");
    let requests = "SELECT CAST(SUM(requests) AS BIGINT) AS n FROM ai_usage";
    assert_eq!(crate::calendar::count_rows(&app, requests).await, 41, "one request per write");

    // Back to one row per user and day: the rows are added up; then forward again.
    let migrations = Migrator::migrations();
    let position =
        migrations.iter().position(|m| m.name().ends_with("shard_ai_usage")).expect("the migration");
    let steps = u32::try_from(migrations.len() - position).unwrap();
    Migrator::down(app.db.writer(), Some(steps)).await.expect("down");
    assert_eq!(crate::calendar::count_rows(&app, "SELECT COUNT(*) AS n FROM ai_usage").await, 2);
    assert_eq!(crate::calendar::count_rows(&app, requests).await, 41);
    Migrator::up(app.db.writer(), None).await.expect("up");
    assert_eq!(read(day).await, (expected, i64::from(expected.total_tokens)));
    assert_eq!(read(other_day).await, (usage(1000), 4000));
    ai_usage::add_usage(app.db.conn(), user_id, day, &usage(1)).await.unwrap();
    assert_eq!(read(day).await.1, i64::from(expected.total_tokens) + 4);
}
