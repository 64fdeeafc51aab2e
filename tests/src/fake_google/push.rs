//! Watch channels (`events.watch`, `channels.stop`) and the push notifications Google sends to
//! them, delivered in the background in the order they were made.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::error::ApiError;
use super::{World, lock};

/// A channel's lifetime when the watch request names none, and the longest granted.
const DEFAULT_CHANNEL_LIFETIME: TimeDelta = TimeDelta::days(7);
const MAX_CHANNEL_LIFETIME: TimeDelta = TimeDelta::days(30);
/// How long one delivery may take before it is logged as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One watch channel, as the tests see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelInfo {
    /// The client's channel id (`X-Goog-Channel-ID`).
    pub id: String,
    /// Google's opaque id of the watched collection (`X-Goog-Resource-ID`).
    pub resource_id: String,
    /// The watched collection's URI (`X-Goog-Resource-URI`).
    pub resource_uri: String,
    /// The calendar whose events are watched (resolved: never `primary`).
    pub calendar_id: String,
    /// The account that created the channel.
    pub account_email: String,
    /// Where notifications go.
    pub address: String,
    /// The client's verification token (`X-Goog-Channel-Token`), if it set one.
    pub token: Option<String>,
    /// When the channel stops delivering.
    pub expiration: DateTime<Utc>,
    /// Whether `channels.stop` was called for it.
    pub stopped: bool,
    /// The last `X-Goog-Message-Number` sent (1 is the `sync` message).
    pub message_number: u64,
}

/// One notification the fake sent (or tried to send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// `X-Goog-Channel-ID`.
    pub channel_id: String,
    /// `X-Goog-Resource-ID`.
    pub resource_id: String,
    /// `X-Goog-Resource-URI`.
    pub resource_uri: String,
    /// `X-Goog-Resource-State`: `sync` for the first message of a channel, then `exists`.
    pub resource_state: String,
    /// `X-Goog-Message-Number`.
    pub message_number: u64,
    /// `X-Goog-Channel-Token`, when the channel has one.
    pub token: Option<String>,
    /// `X-Goog-Channel-Expiration`, as sent (`Tue, 19 Nov 2013 01:13:52 GMT`).
    pub expiration: String,
    /// The channel's address.
    pub address: String,
    /// When the notification was made.
    pub created_at: DateTime<Utc>,
    /// The receiver's HTTP status, once delivered.
    pub status: Option<u16>,
    /// Why delivery failed (connection refused, timeout), if it did.
    pub error: Option<String>,
}

/// The sending side of the delivery queue and the log the delivery task writes.
#[derive(Debug)]
pub(super) struct Pusher {
    sender: mpsc::UnboundedSender<Notification>,
    pub log: Arc<Mutex<Vec<Notification>>>,
}

impl Pusher {
    /// Starts the delivery task on the current runtime.
    pub(super) fn start() -> (Self, JoinHandle<()>) {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Notification>();
        let log = Arc::new(Mutex::new(Vec::new()));
        let task_log = Arc::clone(&log);
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(DELIVERY_TIMEOUT).build().unwrap_or_default();
            while let Some(mut notification) = receiver.recv().await {
                match deliver(&client, &notification).await {
                    Ok(status) => notification.status = Some(status),
                    Err(error) => notification.error = Some(error),
                }
                tracing::debug!(
                    channel = notification.channel_id,
                    state = notification.resource_state,
                    number = notification.message_number,
                    status = ?notification.status,
                    error = ?notification.error,
                    "fake Google push notification"
                );
                lock(&task_log).push(notification);
            }
        });
        (Self { sender, log }, task)
    }
}

async fn deliver(client: &reqwest::Client, notification: &Notification) -> Result<u16, String> {
    let mut request = client
        .post(&notification.address)
        .header("content-type", "application/json; utf-8")
        .header("x-goog-channel-id", &notification.channel_id)
        .header("x-goog-channel-expiration", &notification.expiration)
        .header("x-goog-resource-id", &notification.resource_id)
        .header("x-goog-resource-uri", &notification.resource_uri)
        .header("x-goog-resource-state", &notification.resource_state)
        .header("x-goog-message-number", notification.message_number.to_string())
        .body(Vec::<u8>::new());
    if let Some(token) = &notification.token {
        request = request.header("x-goog-channel-token", token);
    }
    let response = request.send().await.map_err(|error| error.to_string())?;
    Ok(response.status().as_u16())
}

/// The `X-Goog-Channel-Expiration` format.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

impl World {
    /// `events.watch` on a resolved calendar; `requested_id` is the id as the client wrote it in
    /// the path (it goes into `resourceUri`).
    pub(super) fn watch(
        &mut self,
        account: &str,
        calendar_id: &str,
        requested_id: &str,
        body: &Value,
    ) -> Result<Value, ApiError> {
        let field = |name: &str| body.get(name).and_then(Value::as_str).filter(|value| !value.is_empty());
        let id = field("id").ok_or_else(|| ApiError::required("Required: channel id"))?;
        if id.len() > 64 {
            return Err(ApiError::invalid("Channel id must be at most 64 characters."));
        }
        match field("type") {
            Some("web_hook" | "webhook") => {}
            Some(other) => return Err(ApiError::invalid(&format!("Invalid channel type: {other}"))),
            None => return Err(ApiError::required("Required: channel type")),
        }
        let address = field("address").ok_or_else(|| ApiError::required("Required: channel address"))?;
        if reqwest::Url::parse(address).map_or(true, |url| !matches!(url.scheme(), "http" | "https")) {
            return Err(ApiError::new(
                400,
                "push",
                "push.webhookUrlNotHttps",
                &format!("WebHook callback must be HTTPS: {address}"),
            ));
        }
        let token = field("token").map(str::to_owned);
        if token.as_ref().is_some_and(|token| token.len() > 256) {
            return Err(ApiError::invalid("Channel token must be at most 256 characters."));
        }
        if self.channels.iter().any(|channel| channel.id == id && !channel.stopped) {
            return Err(ApiError::new(400, "push", "channelIdNotUnique", "Channel id not unique"));
        }
        let now = Utc::now();
        let requested = match body.get("expiration") {
            Some(Value::String(ms)) => ms.parse::<i64>().ok(),
            Some(Value::Number(ms)) => ms.as_i64(),
            _ => None,
        }
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        let expiration = match requested {
            Some(at) if at <= now => {
                return Err(ApiError::invalid("Channel expiration must be in the future."));
            }
            Some(at) => at.min(now + MAX_CHANNEL_LIFETIME),
            None => now + DEFAULT_CHANNEL_LIFETIME,
        };
        let calendar = self.calendars.get(calendar_id).ok_or_else(ApiError::not_found)?;
        let resource_uri = format!(
            "{}/calendar/v3/calendars/{}/events?alt=json",
            self.base_url,
            super::percent_encode(requested_id)
        );
        let channel = ChannelInfo {
            id: id.to_owned(),
            resource_id: calendar.resource_id.clone(),
            resource_uri,
            calendar_id: calendar_id.to_owned(),
            account_email: account.to_owned(),
            address: address.to_owned(),
            token,
            expiration,
            stopped: false,
            message_number: 0,
        };
        let mut response = json!({
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": expiration.timestamp_millis().to_string(),
        });
        if let (Some(token), Value::Object(map)) = (&channel.token, &mut response) {
            map.insert("token".to_owned(), json!(token));
        }
        self.channels.push(channel);
        if let Some(index) = self.channels.len().checked_sub(1) {
            self.send(index, "sync");
        }
        Ok(response)
    }

    /// `channels.stop`.
    pub(super) fn stop_channel(&mut self, account: &str, body: &Value) -> Result<(), ApiError> {
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
        let (id, resource_id) = (field("id"), field("resourceId"));
        let channel = self
            .channels
            .iter_mut()
            .find(|channel| {
                channel.id == id
                    && channel.resource_id == resource_id
                    && channel.account_email == account
                    && !channel.stopped
            })
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "global",
                    "notFound",
                    &format!("Channel '{id}' not found for project '123456789012'"),
                )
            })?;
        channel.stopped = true;
        Ok(())
    }

    /// Sends `exists` to every live channel watching `calendar_id`.
    pub(super) fn notify(&mut self, calendar_id: &str) {
        let watching: Vec<usize> = self
            .channels
            .iter()
            .enumerate()
            .filter(|(_, channel)| channel.calendar_id == calendar_id)
            .map(|(index, _)| index)
            .collect();
        for index in watching {
            self.send(index, "exists");
        }
    }

    fn send(&mut self, index: usize, state: &str) {
        if !self.push_enabled {
            return;
        }
        let Some(channel) = self.channels.get_mut(index) else { return };
        if channel.stopped || channel.expiration <= Utc::now() {
            return;
        }
        channel.message_number += 1;
        let notification = Notification {
            channel_id: channel.id.clone(),
            resource_id: channel.resource_id.clone(),
            resource_uri: channel.resource_uri.clone(),
            resource_state: state.to_owned(),
            message_number: channel.message_number,
            token: channel.token.clone(),
            expiration: http_date(channel.expiration),
            address: channel.address.clone(),
            created_at: Utc::now(),
            status: None,
            error: None,
        };
        if let Some(pusher) = &self.pusher
            && pusher.sender.send(notification).is_err()
        {
            tracing::warn!("fake Google: the push delivery task has stopped");
        }
    }
}
