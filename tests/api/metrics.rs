//! `/metrics`: what operators scrape.

use serde_json::json;

use crate::helpers::{BACKGROUND, TestApp, app_with_google, poll_until};

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.text().await.unwrap()
}

/// The value of the sample `name{labels}` (labels as Prometheus prints them, sorted), or 0.
fn sample(metrics: &str, name: &str, labels: &str) -> f64 {
    let prefix = format!("{name}{{{labels}}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

const CALLS: &str = "planwright_upstream_calls_total";

#[tokio::test]
async fn google_calls_are_counted_by_service_and_outcome() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    assert_eq!(sample(&scrape(&app).await, CALLS, r#"outcome="ok",service="google_oauth""#), 0.0);

    let id = app.connect_google(&user).await;
    let metrics = scrape(&app).await;
    assert!(sample(&metrics, CALLS, r#"outcome="ok",service="google_oauth""#) >= 1.0, "{metrics}");
    let calendar_before = sample(&metrics, CALLS, r#"outcome="ok",service="google_calendar""#);
    assert!(calendar_before >= 1.0, "the account's calendars were listed: {metrics}");

    // A sync asked for while a background one (the push channel, a re-sync) holds the lease
    // answers `in_progress` without calling Google: ask again until one runs.
    poll_until(BACKGROUND, "the sync's events.list to be counted", || async {
        app.sync_calendar_ok(&json!({"connection_id": id}), &user.access_token).await;
        sample(&scrape(&app).await, CALLS, r#"outcome="ok",service="google_calendar""#) > calendar_before
    })
    .await;
    let metrics = scrape(&app).await;
    assert!(
        metrics.contains(r#"planwright_upstream_call_duration_seconds_count{service="google_calendar"}"#)
    );

    fake.force_invalid_grant(true);
    fake.expire_access_tokens();
    app.sync_calendar_ok(&json!({"connection_id": id}), &user.access_token).await;
    let metrics = scrape(&app).await;
    assert!(
        sample(&metrics, CALLS, r#"outcome="invalid_grant",service="google_oauth""#) >= 1.0,
        "a refused refresh is counted by its kind: {metrics}"
    );
}

#[tokio::test]
async fn process_and_database_pool_metrics_are_read_at_scrape_time() {
    let app = crate::helpers::spawn_app().await;
    let metrics = scrape(&app).await;
    for name in ["process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"] {
        assert!(sample_of(&metrics, name) > 0.0, "{name}");
    }
    assert!(sample_of(&metrics, "process_cpu_seconds_total") >= 0.0);
    let now = chrono::Utc::now().timestamp() as f64;
    let started = sample_of(&metrics, "process_start_time_seconds");
    assert!(started <= now && started > now - 86_400.0 * 365.0, "start time {started}");
    // The pool that served the scrape's own neighbours is there, with a sane maximum.
    let pools: Vec<&str> = metrics
        .lines()
        .filter_map(|line| line.strip_prefix("planwright_db_pool_max_connections{pool=\""))
        .collect();
    assert!(!pools.is_empty(), "{metrics}");
    for line in pools {
        let max: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(max >= 1.0, "{line}");
    }
    assert!(metrics.contains(r#"planwright_db_pool_connections{pool=""#), "{metrics}");
    assert!(metrics.contains(r#"state="idle""#) && metrics.contains(r#"state="in_use""#), "{metrics}");
}

/// The value of an unlabelled sample `name`; panics when it is missing.
fn sample_of(metrics: &str, name: &str) -> f64 {
    let prefix = format!("{name} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} is missing: {metrics}"))
        .trim()
        .parse()
        .unwrap()
}
