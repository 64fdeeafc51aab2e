//! `freeBusy.query`.

use chrono::{TimeZone, Utc};
use planwright_calendar::FreeBusyRequest;
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{client, json_response};

#[tokio::test]
async fn free_busy_posts_the_request_and_parses_busy_times_and_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/freeBusy"))
        .and(body_json(json!({
            "timeMin": "2025-01-13T00:00:00Z",
            "timeMax": "2025-01-14T00:00:00Z",
            "timeZone": "Europe/Paris",
            "items": [{"id": "primary"}, {"id": "nobody@example.com"}]
        })))
        .respond_with(json_response(
            200,
            &json!({
                "kind": "calendar#freeBusy",
                "timeMin": "2025-01-13T00:00:00.000Z",
                "timeMax": "2025-01-14T00:00:00.000Z",
                "calendars": {
                    "primary": {"busy": [
                        {"start": "2025-01-13T09:00:00+01:00", "end": "2025-01-13T10:00:00+01:00"},
                        {"start": "2025-01-13T14:30:00+01:00", "end": "2025-01-13T15:00:00+01:00"}
                    ]},
                    "nobody@example.com": {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                }
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let request = FreeBusyRequest::new(
        Utc.with_ymd_and_hms(2025, 1, 13, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2025, 1, 14, 0, 0, 0).unwrap(),
        ["primary", "nobody@example.com"],
    )
    .with_time_zone("Europe/Paris");
    let response = client(&server).free_busy(&request).await.unwrap();

    let primary = &response.calendars["primary"];
    assert_eq!(primary.busy.len(), 2);
    assert_eq!(primary.busy[0].start, Utc.with_ymd_and_hms(2025, 1, 13, 8, 0, 0).unwrap());
    assert_eq!(primary.busy[1].end, Utc.with_ymd_and_hms(2025, 1, 13, 14, 0, 0).unwrap());
    assert!(primary.errors.is_empty());
    assert_eq!(response.calendars["nobody@example.com"].errors[0].reason, "notFound");
    assert_eq!(response.time_min, Some(Utc.with_ymd_and_hms(2025, 1, 13, 0, 0, 0).unwrap()));
    assert_eq!(response.extra.get("kind"), Some(&json!("calendar#freeBusy")));
}
