//! The Calendar v3 HTTP client: endpoints, authentication, retries and timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Url};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::error::Error;
use crate::event_id::validate_event_id;
use crate::observe::{Api, CallReport};
use crate::params::{CalendarListParams, EventListParams, WriteParams};
use crate::token::{AccessToken, TokenSource};
use crate::types::{
    CalendarListEntry, CalendarListPage, Channel, Event, EventPage, FreeBusyRequest, FreeBusyResponse,
    SyncResult, WatchRequest,
};

/// A Google Calendar v3 client. Cheap to clone (the connection pool is shared); `Debug` never
/// prints a token.
///
/// # Retries and idempotency
/// Reads, `patch`, `update`, `delete`, `freeBusy.query` and `channels.stop` are retried on rate
/// limits (429, 403 `rateLimitExceeded` / `userRateLimitExceeded`), 500/502/503/504, timeouts and
/// connection errors, with jittered exponential backoff that honours `Retry-After`
/// ([`RetryPolicy`](crate::RetryPolicy)). A 400, 401, 403 (other reasons), 404, 409, 410 and 412
/// are never retried.
///
/// An `insert` is not idempotent in general, so:
/// * with a client-supplied `id` it is retried like a read. If an earlier attempt may have reached
///   Google (a timeout, a broken connection or a 5xx) and a retry then gets 409 `duplicate`, the
///   earlier attempt created the event: the client fetches it and returns it as the result;
/// * without an `id` it is retried only when the failure proves nothing was created (a rate limit,
///   or a connection that was never established). Supply ids (see
///   [`event_id_from_bytes`](crate::event_id_from_bytes)) to make inserts safe to retry.
///
/// Likewise a `delete` whose retry gets 404 or 410 after an ambiguous failure counts as done, and
/// `events.watch` (which creates a channel) is retried only like an id-less insert.
///
/// On a 401 the client calls [`TokenSource::invalidate`] and, if the source can provide a fresh
/// token, retries once with it.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Config,
    base: Url,
}

/// Whether a request may be repeated after a failure that leaves its effect unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Safety {
    /// Repeating it has no further effect.
    Idempotent,
    /// Repeating it may act twice; retry only when the failure proves it had no effect.
    SideEffects,
}

/// One API call, ready to be sent as many times as needed.
struct Call {
    name: &'static str,
    method: Method,
    url: Url,
    body: Option<Bytes>,
    safety: Safety,
}

/// A failed call: the final error, and whether an earlier attempt may have been acted on.
struct Failure {
    error: Error,
    ambiguous: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self { error, ambiguous: false }
    }
}

impl Client {
    /// A client with its own connection pool (rustls, HTTP/2, 10 s connect timeout).
    ///
    /// # Errors
    /// [`Error::Config`] when `base_url` is not a usable URL; [`Error::Transport`] if the TLS
    /// backend cannot be initialised.
    pub fn new(config: Config) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("planwright-calendar/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(Error::Transport)?;
        Self::with_http_client(http, config)
    }

    /// A client that sends requests through the given `reqwest::Client` (to share a pool, or to set
    /// proxies and TLS roots). Timeout, retries and credentials still come from `config`.
    ///
    /// # Errors
    /// [`Error::Config`] when `base_url` is not a usable URL.
    pub fn with_http_client(http: reqwest::Client, config: Config) -> Result<Self, Error> {
        let base = Url::parse(config.base_url.trim_end_matches('/'))
            .map_err(|error| Error::config(format!("the base URL is not a URL: {error}")))?;
        if base.cannot_be_a_base() {
            return Err(Error::config("the base URL cannot have a path"));
        }
        Ok(Self { http, config, base })
    }

    /// The configuration this client uses.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A copy of this client (same pool and settings) that authenticates with another token
    /// source: one client per connected user, one connection pool for all.
    pub fn with_token_source(&self, source: impl TokenSource + 'static) -> Self {
        let mut client = self.clone();
        client.config.token_source = Some(Arc::new(source));
        client
    }

    /// The `calendarList` resource.
    pub fn calendar_list(&self) -> CalendarListResource<'_> {
        CalendarListResource { client: self }
    }

    /// The `events` resource.
    pub fn events(&self) -> EventsResource<'_> {
        EventsResource { client: self }
    }

    /// The `channels` resource.
    pub fn channels(&self) -> ChannelsResource<'_> {
        ChannelsResource { client: self }
    }

    /// `freeBusy.query`: busy intervals of calendars. A calendar that could not be queried has
    /// `errors` in its entry rather than failing the call.
    ///
    /// # Errors
    /// The HTTP and transport errors described on [`Error`] once retries are exhausted.
    #[tracing::instrument(name = "calendar.free_busy", skip_all)]
    pub async fn free_busy(&self, request: &FreeBusyRequest) -> Result<FreeBusyResponse, Error> {
        let call = self.call(
            "freeBusy.query",
            Method::POST,
            &["freeBusy"],
            &[],
            Some(encode(request)?),
            Safety::Idempotent,
        );
        self.json(call).await.map_err(|failure| failure.error)
    }

    fn url(&self, segments: &[&str], query: &[(&'static str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn call(
        &self,
        name: &'static str,
        method: Method,
        segments: &[&str],
        query: &[(&'static str, String)],
        body: Option<Bytes>,
        safety: Safety,
    ) -> Call {
        Call { name, method, url: self.url(segments, query), body, safety }
    }

    async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T, Failure> {
        let bytes = self.execute(&call).await?;
        serde_json::from_slice(&bytes).map_err(|source| {
            Failure::from(Error::Decode { source, body: String::from_utf8_lossy(&bytes).into_owned() })
        })
    }

    /// Sends `call` until it succeeds or fails for good (see the type's docs for the rules), and
    /// tells the configured observer how it went.
    async fn execute(&self, call: &Call) -> Result<Bytes, Failure> {
        let started = Instant::now();
        let mut attempts = 0;
        let result = self.retrying(call, &mut attempts).await;
        if let Some(observer) = &self.config.observer {
            observer.call_finished(&CallReport {
                api: Api::Calendar,
                method: call.name,
                error: result.as_ref().err().map(|failure| &failure.error),
                attempts,
                elapsed: started.elapsed(),
            });
        }
        result
    }

    async fn retrying(&self, call: &Call, attempts: &mut u32) -> Result<Bytes, Failure> {
        let policy = &self.config.retry_policy;
        let mut retry = 0;
        let mut attempt = 0;
        let mut token_refreshed = false;
        let mut ambiguous = false;
        loop {
            attempt += 1;
            *attempts = attempt;
            let token = match &self.config.token_source {
                Some(source) => Some(source.token().await.map_err(|error| Failure { error, ambiguous })?),
                None => None,
            };
            let started = Instant::now();
            let error = match self.attempt(call, token.as_ref(), attempt).await {
                Ok(bytes) => return Ok(bytes),
                Err(error) => error,
            };
            let status = error.status().map_or(0, |status| status.as_u16());
            if matches!(error, Error::Unauthorized { .. })
                && !token_refreshed
                && let (Some(source), Some(token)) = (&self.config.token_source, &token)
                && source.invalidate(token)
            {
                token_refreshed = true;
                tracing::info!(
                    method = call.name,
                    attempt,
                    "access token rejected; retrying with a fresh one"
                );
                continue;
            }
            retry += 1;
            let retryable = match call.safety {
                Safety::Idempotent => error.is_retryable(),
                Safety::SideEffects => error.is_retryable_without_side_effects(),
            };
            if !(retryable && policy.allows(retry)) {
                tracing::debug!(method = call.name, attempt, status, latency_ms = millis(started), error = %error, "Calendar call failed");
                return Err(Failure { error, ambiguous });
            }
            ambiguous |= error.may_have_been_processed();
            let delay = policy.delay_for(retry, error.retry_after());
            tracing::warn!(
                method = call.name,
                attempt,
                status,
                latency_ms = millis(started),
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying Calendar call"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt under the timeout: send, then read the whole body or map the error response.
    async fn attempt(&self, call: &Call, token: Option<&AccessToken>, attempt: u32) -> Result<Bytes, Error> {
        let mut request =
            self.http.request(call.method.clone(), call.url.clone()).header(ACCEPT, "application/json");
        if let Some(token) = token {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.secret().expose_secret()))
                .map_err(|_| {
                    Error::invalid_request(
                        "the access token contains characters not allowed in an HTTP header",
                    )
                })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        if let Some(body) = &call.body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        let exchange = async {
            let started = Instant::now();
            let response = request.send().await.map_err(Error::from_reqwest)?;
            let status = response.status();
            tracing::debug!(
                method = call.name,
                attempt,
                status = status.as_u16(),
                latency_ms = millis(started),
                "Google responded"
            );
            if status.is_success() {
                return response.bytes().await.map_err(Error::from_reqwest);
            }
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(Error::from_reqwest)?;
            Err(Error::from_response(status, &headers, &body))
        };
        match self.config.timeout {
            Some(limit) => tokio::time::timeout(limit, exchange).await.unwrap_or(Err(Error::Timeout)),
            None => exchange.await,
        }
    }
}

/// `calendarList` methods; see [`Client::calendar_list`].
#[derive(Debug, Clone, Copy)]
pub struct CalendarListResource<'a> {
    client: &'a Client,
}

impl CalendarListResource<'_> {
    /// `calendarList.list`: one page of the user's calendar list.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for `syncToken` with `minAccessRole`; [`Error::Gone`] for an
    /// expired sync token; the HTTP and transport errors described on [`Error`].
    #[tracing::instrument(name = "calendar.calendar_list.list", skip_all)]
    pub async fn list(&self, params: &CalendarListParams) -> Result<CalendarListPage, Error> {
        params.validate()?;
        let call = self.client.call(
            "calendarList.list",
            Method::GET,
            &["users", "me", "calendarList"],
            &params.to_query(),
            None,
            Safety::Idempotent,
        );
        self.client.json(call).await.map_err(|failure| failure.error)
    }

    /// Every entry of the calendar list, following `nextPageToken`.
    ///
    /// # Errors
    /// As [`list`](Self::list).
    pub async fn list_all(&self, params: &CalendarListParams) -> Result<Vec<CalendarListEntry>, Error> {
        let mut params = params.clone();
        let mut items = Vec::new();
        loop {
            let page = self.list(&params).await?;
            items.extend(page.items);
            match page.next_page_token {
                Some(token) if params.page_token.as_deref() != Some(token.as_str()) => {
                    params.page_token = Some(token)
                }
                _ => return Ok(items),
            }
        }
    }
}

/// `events` methods; see [`Client::events`]. Calendar ids and event ids are percent-encoded into
/// the path; `"primary"` names the user's primary calendar.
#[derive(Debug, Clone, Copy)]
pub struct EventsResource<'a> {
    client: &'a Client,
}

impl EventsResource<'_> {
    /// `events.list`: one page of events.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when `syncToken` is combined with a filter Google forbids with it
    /// (nothing is sent); [`Error::Gone`] when the sync token expired (run a full sync); the HTTP
    /// and transport errors described on [`Error`].
    #[tracing::instrument(name = "calendar.events.list", skip_all)]
    pub async fn list(&self, calendar_id: &str, params: &EventListParams) -> Result<EventPage, Error> {
        params.validate()?;
        let call = self.client.call(
            "events.list",
            Method::GET,
            &["calendars", calendar_id, "events"],
            &params.to_query(),
            None,
            Safety::Idempotent,
        );
        self.client.json(call).await.map_err(|failure| failure.error)
    }

    /// Runs a full or incremental sync: lists every page (starting at `params.page_token`, if set)
    /// and returns all items with the final `nextSyncToken`.
    ///
    /// For a full sync leave `sync_token` unset; for the next incremental sync pass the same
    /// parameters with [`with_sync_token`](EventListParams::with_sync_token) (the filters Google
    /// forbids with a sync token are refused before sending). When this fails with
    /// [`Error::Gone`], the token is dead: discard what you stored and run a full sync.
    ///
    /// # Errors
    /// As [`list`](Self::list), for any page.
    #[tracing::instrument(name = "calendar.events.sync", skip_all, fields(incremental = params.sync_token.is_some()))]
    pub async fn sync(&self, calendar_id: &str, params: &EventListParams) -> Result<SyncResult, Error> {
        params.validate()?;
        let mut params = params.clone();
        let mut result = SyncResult::default();
        loop {
            let page = self.list(calendar_id, &params).await?;
            result.pages += 1;
            result.items.extend(page.items);
            match page.next_page_token {
                Some(token) if params.page_token.as_deref() != Some(token.as_str()) => {
                    params.page_token = Some(token)
                }
                _ => {
                    result.next_sync_token = page.next_sync_token;
                    tracing::debug!(pages = result.pages, items = result.items.len(), "sync finished");
                    return Ok(result);
                }
            }
        }
    }

    /// `events.get`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; the HTTP and transport errors described on [`Error`]. A deleted event
    /// may still be returned, with status `cancelled`.
    #[tracing::instrument(name = "calendar.events.get", skip_all)]
    pub async fn get(&self, calendar_id: &str, event_id: &str) -> Result<Event, Error> {
        let call = self.client.call(
            "events.get",
            Method::GET,
            &["calendars", calendar_id, "events", event_id],
            &[],
            None,
            Safety::Idempotent,
        );
        self.client.json(call).await.map_err(|failure| failure.error)
    }

    /// `events.insert`. With `event.id` set, the id is validated (base32hex `a-v0-9`, 5-1024
    /// characters) before sending and the insert is idempotent: see [`Client`] for how retries and
    /// a 409 after an ambiguous failure are handled. A 409 on a first attempt is returned as
    /// [`Error::Conflict`] (the id is taken, possibly by a deleted event; `patch` or `update` it).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a malformed id; [`Error::Conflict`]; the HTTP and transport
    /// errors described on [`Error`].
    #[tracing::instrument(name = "calendar.events.insert", skip_all, fields(client_id = event.id.is_some()))]
    pub async fn insert(
        &self,
        calendar_id: &str,
        event: &Event,
        params: &WriteParams,
    ) -> Result<Event, Error> {
        let safety = match &event.id {
            Some(id) => {
                validate_event_id(id)?;
                Safety::Idempotent
            }
            None => Safety::SideEffects,
        };
        let call = self.client.call(
            "events.insert",
            Method::POST,
            &["calendars", calendar_id, "events"],
            &params.to_query(false),
            Some(encode(event)?),
            safety,
        );
        match self.client.json(call).await {
            Ok(created) => Ok(created),
            Err(Failure { error: Error::Conflict { .. }, ambiguous: true }) if event.id.is_some() => {
                tracing::info!(
                    "insert conflicted after an ambiguous attempt; returning the event it created"
                );
                let id = event.id.as_deref().unwrap_or_default();
                self.get(calendar_id, id).await
            }
            Err(failure) => Err(failure.error),
        }
    }

    /// `events.patch`: changes only the fields present in `patch`. Pass an [`Event`] with just the
    /// fields to change, or a `serde_json::Value` to clear a field with `null`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; the HTTP and transport errors described on [`Error`].
    #[tracing::instrument(name = "calendar.events.patch", skip_all)]
    pub async fn patch<P: Serialize + ?Sized>(
        &self,
        calendar_id: &str,
        event_id: &str,
        patch: &P,
        params: &WriteParams,
    ) -> Result<Event, Error> {
        let call = self.client.call(
            "events.patch",
            Method::PATCH,
            &["calendars", calendar_id, "events", event_id],
            &params.to_query(false),
            Some(encode(patch)?),
            Safety::Idempotent,
        );
        self.client.json(call).await.map_err(|failure| failure.error)
    }

    /// `events.update`: replaces the whole event (fields left unset are cleared).
    ///
    /// # Errors
    /// [`Error::NotFound`]; the HTTP and transport errors described on [`Error`].
    #[tracing::instrument(name = "calendar.events.update", skip_all)]
    pub async fn update(
        &self,
        calendar_id: &str,
        event_id: &str,
        event: &Event,
        params: &WriteParams,
    ) -> Result<Event, Error> {
        let call = self.client.call(
            "events.update",
            Method::PUT,
            &["calendars", calendar_id, "events", event_id],
            &params.to_query(false),
            Some(encode(event)?),
            Safety::Idempotent,
        );
        self.client.json(call).await.map_err(|failure| failure.error)
    }

    /// `events.delete` (only `params.send_updates` is used). If a retry after an ambiguous failure
    /// gets 404 or 410, the earlier attempt deleted it and this returns `Ok`.
    ///
    /// # Errors
    /// [`Error::Gone`] (reason `deleted`) when the event was already deleted, [`Error::NotFound`];
    /// the HTTP and transport errors described on [`Error`].
    #[tracing::instrument(name = "calendar.events.delete", skip_all)]
    pub async fn delete(&self, calendar_id: &str, event_id: &str, params: &WriteParams) -> Result<(), Error> {
        let call = self.client.call(
            "events.delete",
            Method::DELETE,
            &["calendars", calendar_id, "events", event_id],
            &params.to_query(true),
            None,
            Safety::Idempotent,
        );
        match self.client.execute(&call).await {
            Ok(_) => Ok(()),
            Err(Failure { error: Error::Gone { .. } | Error::NotFound { .. }, ambiguous: true }) => Ok(()),
            Err(failure) => Err(failure.error),
        }
    }

    /// `events.watch`: opens a push channel for changes to the calendar's events. Store the
    /// returned [`Channel`]'s `id`, `resource_id` and `expiration`; renew before it expires and
    /// stop it with [`ChannelsResource::stop`].
    ///
    /// # Errors
    /// The HTTP and transport errors described on [`Error`] (e.g. a 400 when `address` is not an
    /// acceptable HTTPS URL).
    #[tracing::instrument(name = "calendar.events.watch", skip_all)]
    pub async fn watch(&self, calendar_id: &str, request: &WatchRequest) -> Result<Channel, Error> {
        let query: Vec<(&'static str, String)> = request
            .event_types
            .iter()
            .map(|event_type| ("eventTypes", event_type.as_str().to_owned()))
            .collect();
        let call = self.client.call(
            "events.watch",
            Method::POST,
            &["calendars", calendar_id, "events", "watch"],
            &query,
            Some(encode(request)?),
            Safety::SideEffects,
        );
        self.client.json(call).await.map_err(|failure| failure.error)
    }
}

/// `channels` methods; see [`Client::channels`].
#[derive(Debug, Clone, Copy)]
pub struct ChannelsResource<'a> {
    client: &'a Client,
}

impl ChannelsResource<'_> {
    /// `channels.stop`: stops notifications on a channel opened by
    /// [`EventsResource::watch`].
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown or expired channel (after an ambiguous failure it counts
    /// as stopped); the HTTP and transport errors described on [`Error`].
    #[tracing::instrument(name = "calendar.channels.stop", skip_all)]
    pub async fn stop(&self, channel_id: &str, resource_id: &str) -> Result<(), Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Stop<'a> {
            id: &'a str,
            resource_id: &'a str,
        }
        let body = encode(&Stop { id: channel_id, resource_id })?;
        let call = self.client.call(
            "channels.stop",
            Method::POST,
            &["channels", "stop"],
            &[],
            Some(body),
            Safety::Idempotent,
        );
        match self.client.execute(&call).await {
            Ok(_) => Ok(()),
            Err(Failure { error: Error::NotFound { .. }, ambiguous: true }) => Ok(()),
            Err(failure) => Err(failure.error),
        }
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn encode<T: Serialize + ?Sized>(body: &T) -> Result<Bytes, Error> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|source| Error::Decode {
        source,
        body: "(the request body could not be encoded)".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_percent_encoded_into_the_path() {
        let client = Client::new(Config::new().with_base_url("http://localhost:1/calendar/v3/")).unwrap();
        let url = client.url(&["calendars", "team@group.calendar.google.com", "events", "a/b c"], &[]);
        assert_eq!(
            url.as_str(),
            "http://localhost:1/calendar/v3/calendars/team@group.calendar.google.com/events/a%2Fb%20c"
        );
    }

    #[test]
    fn a_base_url_that_is_not_a_url_is_refused() {
        assert!(matches!(Client::new(Config::new().with_base_url("nope")), Err(Error::Config { .. })));
    }
}
