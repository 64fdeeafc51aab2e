//! A typed async client for the Google Calendar v3 REST API and Google's OAuth 2.0 endpoints.
//!
//! What it is for: listing calendars; listing, syncing (full and incremental with sync tokens,
//! pagination driven for you), getting, inserting (idempotently, with ids you choose), patching,
//! updating and deleting events; `freeBusy.query`; push channels (`events.watch`,
//! `channels.stop`); and the OAuth web-server flow (authorization URL with PKCE S256 and offline
//! access, code exchange, refresh, revocation), Google's `client_secret.json`, and service accounts
//! with domain-wide delegation. Access tokens come from a [`TokenSource`] you can implement (e.g.
//! reading encrypted tokens from your database); on a 401 the client asks it for a fresh token once.
//! It retries rate limits, 5xx and timeouts with bounded, jittered backoff that honours
//! `Retry-After`, refuses requests Google would reject (a `syncToken` with forbidden filters, a
//! malformed event id) before sending, maps Google's error JSON to an [`Error`] you can match on
//! (never assuming a 5xx body is JSON), and never prints tokens or secrets in `Debug` output or
//! logs. Every endpoint URL is configurable, so tests can point it at a local fake.
//!
//! What it is not: a complete Calendar API binding (no ACLs, settings, colors, calendars
//! management, attachments or conference creation helpers: unknown fields are still kept in each
//! type's `extra` map), a webhook receiver, or a token store. It has no application types and uses
//! no other Planwright crate.
//!
//! ```no_run
//! use planwright_calendar::{Client, Config, EventListParams};
//!
//! # async fn run() -> Result<(), planwright_calendar::Error> {
//! let client = Client::new(Config::new().with_access_token("ya29..."))?;
//! let params = EventListParams::new().with_single_events(true);
//! let synced = client.events().sync("primary", &params).await?;
//! println!("{} events, next sync token {:?}", synced.items.len(), synced.next_sync_token);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod event_id;
mod oauth;
mod observe;
mod params;
mod refreshing;
mod retry;
pub mod scopes;
mod service_account;
mod token;
mod types;

pub use client::{CalendarListResource, ChannelsResource, Client, EventsResource};
pub use config::{Config, DEFAULT_BASE_URL, DEFAULT_TIMEOUT};
pub use error::{BoxError, Error};
pub use event_id::{event_id_from_bytes, validate_event_id};
pub use oauth::{
    ApplicationSecret, AuthorizationRequest, AuthorizationUrl, DEFAULT_AUTH_URL, DEFAULT_OAUTH_TIMEOUT,
    DEFAULT_REVOKE_URL, DEFAULT_TOKEN_URL, OAuthClient, OAuthConfig, TokenResponse,
};
pub use observe::{Api, CallObserver, CallReport};
pub use params::{CalendarListParams, EventListParams, OrderBy, SendUpdates, WriteParams};
pub use refreshing::{RefreshCallback, RefreshingTokenSource};
pub use retry::RetryPolicy;
pub use service_account::{ServiceAccountKey, ServiceAccountTokenSource};
pub use token::{AccessToken, DEFAULT_EXPIRY_MARGIN, StaticToken, TokenFuture, TokenSource};
pub use types::{
    AutoDeclineMode, CalendarListEntry, CalendarListPage, Channel, ChatStatus, Event, EventDateTime,
    EventPage, EventStatus, EventType, ExtendedProperties, FocusTimeProperties, FreeBusyCalendar,
    FreeBusyError, FreeBusyGroup, FreeBusyItem, FreeBusyRequest, FreeBusyResponse, OutOfOfficeProperties,
    SyncResult, TimePeriod, WatchRequest,
};

/// Re-exported so callers can name token types without depending on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};

/// Re-exported because event times are `chrono` types ([`EventDateTime`]).
pub use chrono;

/// Re-exported for [`Client::with_http_client`] and [`OAuthClient::with_http_client`], which take a
/// `reqwest::Client` of this version.
pub use reqwest;

/// Re-exported for the free-form JSON of the public types (their `extra` maps).
pub use serde_json;

/// Compiles the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
