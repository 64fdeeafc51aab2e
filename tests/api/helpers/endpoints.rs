//! One `TestApp` method per endpoint the suites call, named like the API. Each returns the raw
//! `Response` (tests assert status and body themselves); the `_ok` variants also assert the success
//! status and return the JSON body. Request paths live here and nowhere else.
//!
//! Ids are anything printable (`&str`, `Uuid`, …); `query` is a URL query without its `?` (`""` for
//! none); `token` is the caller's access token.

use std::fmt::Display;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::TestApp;

const API: &str = "/api/v1";

/// `path?query`, or just `path` when `query` is empty.
fn with_query(path: String, query: &str) -> String {
    if query.is_empty() { path } else { format!("{path}?{query}") }
}

/// Asserts `expected` and returns the JSON body (shown when the status is wrong).
async fn expect_json(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(status, expected, "{body}");
    body
}

impl TestApp {
    // --- Accounts -------------------------------------------------------------------------------

    pub async fn register(&self, body: &Value) -> Response {
        self.post_json(&format!("{API}/auth/register"), body, None).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(&format!("{API}/auth/login"), &json!({"email": email, "password": password}), None)
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json(&format!("{API}/auth/refresh"), &json!({"refresh_token": refresh_token}), None).await
    }

    pub async fn logout(&self, refresh_token: &str, token: &str) -> Response {
        self.post_json(&format!("{API}/auth/logout"), &json!({"refresh_token": refresh_token}), Some(token))
            .await
    }

    pub async fn get_me(&self, token: &str) -> Response {
        self.get(&format!("{API}/me"), Some(token)).await
    }

    pub async fn update_me(&self, body: &Value, token: &str) -> Response {
        self.patch_json(&format!("{API}/me"), body, token).await
    }

    pub async fn delete_me(&self, token: &str) -> Response {
        self.delete(&format!("{API}/me"), token).await
    }

    // --- Plans ----------------------------------------------------------------------------------

    pub async fn create_plan(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/plans"), body, Some(token)).await
    }

    /// Creates a plan, asserts 201 and returns it.
    pub async fn create_plan_ok(&self, body: &Value, token: &str) -> Value {
        expect_json(self.create_plan(body, token).await, StatusCode::CREATED).await
    }

    pub async fn list_plans(&self, query: &str, token: &str) -> Response {
        self.get(&with_query(format!("{API}/plans"), query), Some(token)).await
    }

    pub async fn get_plan(&self, id: impl Display, token: &str) -> Response {
        self.get(&format!("{API}/plans/{id}"), Some(token)).await
    }

    /// One plan (asserts 200).
    pub async fn get_plan_ok(&self, id: impl Display, token: &str) -> Value {
        expect_json(self.get_plan(id, token).await, StatusCode::OK).await
    }

    pub async fn update_plan(&self, id: impl Display, body: &Value, token: &str) -> Response {
        self.patch_json(&format!("{API}/plans/{id}"), body, token).await
    }

    pub async fn delete_plan(&self, id: impl Display, token: &str) -> Response {
        self.delete(&format!("{API}/plans/{id}"), token).await
    }

    /// `DELETE /plans/{id}?delete_events=true`: the plan and its calendar events.
    pub async fn delete_plan_and_events(&self, id: impl Display, token: &str) -> Response {
        self.delete(&format!("{API}/plans/{id}?delete_events=true"), token).await
    }

    pub async fn schedule(&self, plan_id: impl Display, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/plans/{plan_id}/schedule"), body, Some(token)).await
    }

    /// Schedules a plan, asserts 200 and returns the result.
    pub async fn schedule_ok(&self, plan_id: impl Display, body: &Value, token: &str) -> Value {
        expect_json(self.schedule(plan_id, body, token).await, StatusCode::OK).await
    }

    pub async fn schedule_tasks(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/schedule"), body, Some(token)).await
    }

    /// Schedules tasks (`POST /schedule`), asserts 200 and returns the result.
    pub async fn schedule_tasks_ok(&self, body: &Value, token: &str) -> Value {
        expect_json(self.schedule_tasks(body, token).await, StatusCode::OK).await
    }

    // --- Tasks and AI ---------------------------------------------------------------------------

    pub async fn create_task(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/tasks"), body, Some(token)).await
    }

    /// Creates a task, asserts 201 and returns it.
    pub async fn create_task_ok(&self, body: &Value, token: &str) -> Value {
        expect_json(self.create_task(body, token).await, StatusCode::CREATED).await
    }

    pub async fn list_tasks(&self, query: &str, token: &str) -> Response {
        self.get(&with_query(format!("{API}/tasks"), query), Some(token)).await
    }

    pub async fn get_task(&self, id: impl Display, token: &str) -> Response {
        self.get(&format!("{API}/tasks/{id}"), Some(token)).await
    }

    pub async fn update_task(&self, id: impl Display, body: &Value, token: &str) -> Response {
        self.patch_json(&format!("{API}/tasks/{id}"), body, token).await
    }

    pub async fn delete_task(&self, id: impl Display, token: &str) -> Response {
        self.delete(&format!("{API}/tasks/{id}"), token).await
    }

    /// `POST /tasks/{id}/breakdown`.
    pub async fn breakdown_task(&self, id: impl Display, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/tasks/{id}/breakdown"), body, Some(token)).await
    }

    /// `POST /ai/breakdown`: steps for a title, nothing stored.
    pub async fn breakdown(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/ai/breakdown"), body, Some(token)).await
    }

    // --- Chat -----------------------------------------------------------------------------------

    pub async fn chat(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/chat"), body, Some(token)).await
    }

    pub async fn chat_stream(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/chat/stream"), body, Some(token)).await
    }

    pub async fn chat_sessions(&self, query: &str, token: &str) -> Response {
        self.get(&with_query(format!("{API}/chat/sessions"), query), Some(token)).await
    }

    pub async fn history(&self, session_id: impl Display, token: &str) -> Response {
        self.get(&format!("{API}/chat/{session_id}/history"), Some(token)).await
    }

    /// `DELETE /chat/{session_id}`: reset a session.
    pub async fn delete_chat(&self, session_id: impl Display, token: &str) -> Response {
        self.delete(&format!("{API}/chat/{session_id}"), token).await
    }

    // --- Knowledge ------------------------------------------------------------------------------

    pub async fn create_knowledge(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/knowledge"), body, Some(token)).await
    }

    /// Adds a document, asserts 201 and returns it.
    pub async fn create_knowledge_ok(&self, body: &Value, token: &str) -> Value {
        expect_json(self.create_knowledge(body, token).await, StatusCode::CREATED).await
    }

    /// `GET /knowledge` without a search: every readable document.
    pub async fn list_knowledge(&self, token: &str) -> Response {
        self.get(&format!("{API}/knowledge"), Some(token)).await
    }

    /// `GET /knowledge?q=…`, `q` URL-encoded here.
    pub async fn search_knowledge(&self, q: &str, token: &str) -> Response {
        let mut url = reqwest::Url::parse(&self.url(&format!("{API}/knowledge"))).expect("a URL");
        url.query_pairs_mut().append_pair("q", q);
        self.client.get(url).bearer_auth(token).send().await.expect("request sent")
    }

    pub async fn get_knowledge(&self, id: impl Display, token: &str) -> Response {
        self.get(&format!("{API}/knowledge/{id}"), Some(token)).await
    }

    pub async fn update_knowledge(&self, id: impl Display, body: &Value, token: &str) -> Response {
        self.patch_json(&format!("{API}/knowledge/{id}"), body, token).await
    }

    pub async fn delete_knowledge(&self, id: impl Display, token: &str) -> Response {
        self.delete(&format!("{API}/knowledge/{id}"), token).await
    }

    // --- Resources ------------------------------------------------------------------------------

    pub async fn create_resource(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/resources"), body, Some(token)).await
    }

    /// Stores a resource, asserts 201 and returns it.
    pub async fn create_resource_ok(&self, body: &Value, token: &str) -> Value {
        expect_json(self.create_resource(body, token).await, StatusCode::CREATED).await
    }

    pub async fn list_resources(&self, query: &str, token: &str) -> Response {
        self.get(&with_query(format!("{API}/resources"), query), Some(token)).await
    }

    pub async fn get_resource(&self, id: impl Display, token: &str) -> Response {
        self.get(&format!("{API}/resources/{id}"), Some(token)).await
    }

    pub async fn update_resource(&self, id: impl Display, body: &Value, token: &str) -> Response {
        self.patch_json(&format!("{API}/resources/{id}"), body, token).await
    }

    pub async fn delete_resource(&self, id: impl Display, token: &str) -> Response {
        self.delete(&format!("{API}/resources/{id}"), token).await
    }

    // --- Calendars ------------------------------------------------------------------------------

    pub async fn calendar_connections(&self, token: &str) -> Response {
        self.get(&format!("{API}/calendar/connections"), Some(token)).await
    }

    /// The caller's connections (asserts 200).
    pub async fn calendar_connections_ok(&self, token: &str) -> Vec<Value> {
        let body = expect_json(self.calendar_connections(token).await, StatusCode::OK).await;
        body["items"].as_array().expect("items").clone()
    }

    /// `DELETE /calendar/connections/{id}`.
    pub async fn disconnect_calendar(&self, id: impl Display, token: &str) -> Response {
        self.delete(&format!("{API}/calendar/connections/{id}"), token).await
    }

    /// `POST /calendar/events`.
    pub async fn create_event(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/calendar/events"), body, Some(token)).await
    }

    /// `GET /calendar/events/upcoming`.
    pub async fn upcoming(&self, query: &str, token: &str) -> Response {
        self.get(&with_query(format!("{API}/calendar/events/upcoming"), query), Some(token)).await
    }

    /// The upcoming events (asserts 200).
    pub async fn upcoming_ok(&self, query: &str, token: &str) -> Vec<Value> {
        let body = expect_json(self.upcoming(query, token).await, StatusCode::OK).await;
        body["events"].as_array().expect("events").clone()
    }

    /// `POST /calendar/sync`.
    pub async fn sync_calendar(&self, body: &Value, token: &str) -> Response {
        self.post_json(&format!("{API}/calendar/sync"), body, Some(token)).await
    }

    /// Syncs, asserts 200 and returns the results.
    pub async fn sync_calendar_ok(&self, body: &Value, token: &str) -> Value {
        expect_json(self.sync_calendar(body, token).await, StatusCode::OK).await
    }

    /// `GET /calendar/sync/status`.
    pub async fn sync_status(&self, token: &str) -> Response {
        self.get(&format!("{API}/calendar/sync/status"), Some(token)).await
    }

    /// `GET /calendar/google/authorize`.
    pub async fn google_authorize(&self, query: &str, token: &str) -> Response {
        self.get(&with_query(format!("{API}/calendar/google/authorize"), query), Some(token)).await
    }

    /// `GET /calendar/google/callback` as the browser comes back from Google (redirects not followed).
    pub async fn google_callback(&self, query: &str) -> Response {
        let url = self.url(&with_query(format!("{API}/calendar/google/callback"), query));
        super::no_redirects().get(url).send().await.expect("request sent")
    }

    /// `POST /calendar/google/notifications` with Google's channel headers.
    pub async fn google_notification(&self, channel_id: &str, channel_token: &str, state: &str) -> Response {
        self.client
            .post(self.url(&format!("{API}/calendar/google/notifications")))
            .header("X-Goog-Channel-ID", channel_id)
            .header("X-Goog-Channel-Token", channel_token)
            .header("X-Goog-Resource-State", state)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /calendar/feed`: issue the caller's secret feed URL.
    pub async fn create_feed(&self, token: &str) -> Response {
        self.post_json(&format!("{API}/calendar/feed"), &json!({}), Some(token)).await
    }

    /// `GET /calendar/feed/{feed_token}.ics` (public).
    pub async fn feed(&self, feed_token: &str) -> Response {
        self.get(&format!("{API}/calendar/feed/{feed_token}.ics"), None).await
    }
}
