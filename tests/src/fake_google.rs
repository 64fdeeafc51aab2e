//! A stateful fake of Google's OAuth 2.0 endpoints and the Calendar v3 REST API that speaks the
//! real wire format (field names, error bodies, status codes, query parameters, push headers),
//! with scripted faults, a request log and a Rust API to seed and inspect its state.
//!
//! ```no_run
//! # use std::time::Duration;
//! use planwright_tests::fake_google::{Consent, Fault, FaultRule, FakeGoogle};
//! use serde_json::json;
//! # async fn demo() {
//! let google = FakeGoogle::start().await; // 127.0.0.1:<free port>, serving in the background
//! let urls = google.oauth_urls(); // auth_url, token_url, revoke_url, userinfo_url, calendar_base_url
//! // Configure the app with those URLs, `google.client_id()` and `google.client_secret()`.
//! google.set_consent(Consent::Withhold(vec!["calendar.events".into()])); // the user unticks a box
//! google.insert_event("primary", json!({
//!     "summary": "Dentist",
//!     "start": { "dateTime": "2025-03-03T09:00:00Z" },
//!     "end": { "dateTime": "2025-03-03T10:00:00Z" }
//! })).unwrap(); // changes sync tokens and notifies watch channels, like an API call
//! google.push(Fault::RateLimited { retry_after: Some(Duration::from_secs(1)) }); // next call: 429
//! google.push_rule(FaultRule::new(Fault::BackendError).times(2).method("POST")); // then 503 twice
//! google.set_latency(Duration::from_millis(50)); // every API answer waits 50 ms
//! google.invalidate_sync_tokens(); // next incremental sync: 410 fullSyncRequired
//! google.expire_access_tokens(); // next Calendar call: 401 authError
//! # google.stop().await;
//! # }
//! ```
//!
//! Endpoints, all on one origin: `GET /o/oauth2/v2/auth` (instant consent: a 302 back to the
//! `redirect_uri`), `POST /token`, `POST /revoke`, `GET /oauth2/v3/userinfo`, and Calendar v3
//! under `/calendar/v3`: `users/me/calendarList[/{id}]`, `calendars/{id}`,
//! `calendars/{id}/events` (list, insert, watch), `calendars/{id}/events/{eventId}` (get, patch,
//! update, delete), `freeBusy`, `channels/stop`. Test controls are `/_fake/*` HTTP endpoints
//! (`GET /` lists them), which is how the `planwright-fakes` binary is driven.
//!
//! What is simplified: one OAuth client; ID tokens carry Google's claims but a fake signature;
//! watch addresses may be plain `http`; recurrence supports the rules listed in
//! [`recurrence`](self#recurrence) (others are refused with 400); deleted events in lists carry
//! only `kind`, `etag`, `id`, `status`, `updated` (and the series fields); attendees get no
//! e-mail and no `responseStatus` bookkeeping; sync tokens survive forever unless invalidated.
//!
//! # Recurrence
//! One `RRULE` per event with `FREQ=DAILY|WEEKLY|MONTHLY|YEARLY`, `INTERVAL`, `COUNT` or `UNTIL`,
//! `WKST`, `BYDAY` (weekdays; with ordinals like `2TU` for monthly rules), `BYMONTHDAY`
//! (monthly), plus `EXDATE` lines. Instances are expanded in the event's `start.timeZone`
//! (DST-correct), get ids `{id}_{YYYYMMDDTHHMMSSZ}` (`{id}_{YYYYMMDD}` all-day),
//! `recurringEventId` and `originalStartTime`; patching or deleting an instance id stores an
//! exception. Unbounded series are expanded up to `timeMax`, or two years ahead.

mod admin;
mod calendar;
mod error;
mod fault;
mod handlers;
mod oauth;
mod push;
mod recurrence;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinHandle;

pub use error::ApiError;
pub use fault::{Fault, FaultRule};
pub use oauth::{
    Consent, GrantInfo, IssuedTokens, SCOPE_CALENDAR, SCOPE_CALENDAR_EVENTS, SCOPE_CALENDAR_READONLY,
    SCOPE_EMAIL, SCOPE_OPENID, SCOPE_PROFILE,
};
pub use push::{ChannelInfo, Notification};

use calendar::{Calendar, Snapshots, UpdateMode};
use oauth::OAuth;
use push::Pusher;

/// The OAuth client id the fake registers by default.
pub const FAKE_CLIENT_ID: &str = "fake-client-id.apps.googleusercontent.com";
/// The OAuth client secret the fake registers by default.
pub const FAKE_CLIENT_SECRET: &str = "fake-client-secret";
/// The Google account that consents, unless set otherwise.
pub const DEFAULT_ACCOUNT_EMAIL: &str = "user@example.com";

/// How to start a [`FakeGoogle`]: port, OAuth client, account, calendar time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeGoogleConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The registered OAuth client id.
    pub client_id: String,
    /// The registered OAuth client secret.
    pub client_secret: String,
    /// Registered redirect URIs, matched exactly as Google does. Empty accepts any
    /// `http`/`https` URI (convenient for local frontend work).
    pub redirect_uris: Vec<String>,
    /// The account that consents (and owns the primary calendar).
    pub account_email: String,
    /// IANA time zone of new calendars (Google's "UTC" when unset).
    pub time_zone: String,
}

impl Default for FakeGoogleConfig {
    fn default() -> Self {
        Self {
            port: 0,
            client_id: FAKE_CLIENT_ID.to_owned(),
            client_secret: FAKE_CLIENT_SECRET.to_owned(),
            redirect_uris: Vec::new(),
            account_email: DEFAULT_ACCOUNT_EMAIL.to_owned(),
            time_zone: "UTC".to_owned(),
        }
    }
}

impl FakeGoogleConfig {
    /// The defaults: free port, [`FAKE_CLIENT_ID`], [`FAKE_CLIENT_SECRET`], any redirect URI,
    /// [`DEFAULT_ACCOUNT_EMAIL`], UTC.
    pub fn new() -> Self {
        Self::default()
    }

    /// Listens on this port (0 for a free one).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Registers this OAuth client instead of the default one.
    #[must_use]
    pub fn with_client(mut self, client_id: &str, client_secret: &str) -> Self {
        self.client_id = client_id.to_owned();
        self.client_secret = client_secret.to_owned();
        self
    }

    /// Registers a redirect URI; once one is registered, only registered ones are accepted.
    #[must_use]
    pub fn with_redirect_uri(mut self, uri: &str) -> Self {
        self.redirect_uris.push(uri.to_owned());
        self
    }

    /// Sets the account that consents.
    #[must_use]
    pub fn with_account_email(mut self, email: &str) -> Self {
        self.account_email = email.to_owned();
        self
    }

    /// Sets the IANA time zone of new calendars (e.g. `Europe/Berlin`).
    #[must_use]
    pub fn with_time_zone(mut self, time_zone: &str) -> Self {
        self.time_zone = time_zone.to_owned();
        self
    }
}

/// Where each Google endpoint lives on the fake (Google's own URL in brackets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoogleUrls {
    /// Authorization endpoint (`https://accounts.google.com/o/oauth2/v2/auth`).
    pub auth_url: String,
    /// Token endpoint (`https://oauth2.googleapis.com/token`).
    pub token_url: String,
    /// Revocation endpoint (`https://oauth2.googleapis.com/revoke`).
    pub revoke_url: String,
    /// OpenID Connect userinfo (`https://openidconnect.googleapis.com/v1/userinfo`).
    pub userinfo_url: String,
    /// Calendar API base, up to and including `/calendar/v3`
    /// (`https://www.googleapis.com/calendar/v3`).
    pub calendar_base_url: String,
}

/// A running fake Google. Dropping it stops the server and the push deliveries.
pub struct FakeGoogle {
    base_url: String,
    port: u16,
    state: Arc<FakeState>,
    handle: ServerHandle,
    push_task: JoinHandle<()>,
}

impl fmt::Debug for FakeGoogle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeGoogle").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl FakeGoogle {
    /// Starts the fake on 127.0.0.1 with a free port and the default configuration, serving in
    /// the background on the current tokio runtime.
    ///
    /// # Panics
    /// When no local port can be bound: a test cannot run without its fake. Use
    /// [`FakeGoogle::start_with`] to handle that error.
    #[expect(clippy::panic, reason = "test support: a test cannot run without its fake upstream")]
    pub async fn start() -> Self {
        match Self::start_with(FakeGoogleConfig::default()).await {
            Ok(fake) => fake,
            Err(error) => panic!("could not start the fake Google server: {error}"),
        }
    }

    /// Starts the fake on 127.0.0.1:`port` (0 picks a free port) with the default configuration.
    ///
    /// # Errors
    /// When the port cannot be bound (e.g. it is in use).
    pub async fn start_on(port: u16) -> io::Result<Self> {
        Self::start_with(FakeGoogleConfig::default().with_port(port)).await
    }

    /// Starts the fake with `config`, serving in the background on the current tokio runtime
    /// with two workers.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn start_with(config: FakeGoogleConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let port = listener.local_addr()?.port();
        let base_url = format!("http://127.0.0.1:{port}");
        let (pusher, push_task) = Pusher::start();
        let notifications = Arc::clone(&pusher.log);
        let world = World {
            base_url: base_url.clone(),
            default_time_zone: config.time_zone.clone(),
            oauth: OAuth::new(
                config.client_id.clone(),
                config.client_secret.clone(),
                config.redirect_uris.clone(),
                config.account_email.clone(),
            ),
            calendars: BTreeMap::new(),
            snapshots: Snapshots::new(),
            next_snapshot: 0,
            sync_epoch: 1,
            last_etag: 0,
            channels: Vec::new(),
            push_enabled: true,
            focus_time_available: true,
            pusher: Some(pusher),
        };
        let state = Arc::new(FakeState {
            world: Mutex::new(world),
            faults: Mutex::new(VecDeque::new()),
            latency: Mutex::new(Duration::ZERO),
            requests: Mutex::new(Vec::new()),
            notifications,
        });
        let data = web::Data::from(Arc::clone(&state));
        let server =
            HttpServer::new(move || App::new().app_data(data.clone()).configure(handlers::configure))
                .workers(2)
                .disable_signals()
                .shutdown_timeout(1)
                .listen(listener)?
                .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { base_url, port, state, handle, push_task })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The port the fake listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URLs to configure an app (or the `planwright-calendar` client) with.
    pub fn oauth_urls(&self) -> GoogleUrls {
        let base = &self.base_url;
        GoogleUrls {
            auth_url: format!("{base}/o/oauth2/v2/auth"),
            token_url: format!("{base}/token"),
            revoke_url: format!("{base}/revoke"),
            userinfo_url: format!("{base}/oauth2/v3/userinfo"),
            calendar_base_url: format!("{base}/calendar/v3"),
        }
    }

    /// The registered OAuth client id.
    pub fn client_id(&self) -> String {
        self.state.world().oauth.client_id.clone()
    }

    /// The registered OAuth client secret.
    pub fn client_secret(&self) -> String {
        self.state.world().oauth.client_secret.clone()
    }

    /// Registers a redirect URI; once one is registered only exact matches are accepted.
    pub fn register_redirect_uri(&self, uri: &str) {
        self.state.world().oauth.redirect_uris.push(uri.to_owned());
    }

    // ---- OAuth controls ---------------------------------------------------------------------

    /// How the fake user answers the next consent screens (default [`Consent::GrantAll`]).
    pub fn set_consent(&self, consent: Consent) {
        self.state.world().oauth.consent = consent;
    }

    /// The standing consent setting.
    pub fn consent(&self) -> Consent {
        self.state.world().oauth.consent.clone()
    }

    /// Sets the account that consents from now on (existing grants keep theirs).
    pub fn set_account_email(&self, email: &str) {
        self.state.world().oauth.account_email = email.to_owned();
    }

    /// The account that consents.
    pub fn account_email(&self) -> String {
        self.state.world().oauth.account_email.clone()
    }

    /// Lifetime of access tokens issued from now on (`expires_in`; Google's is 3599 s).
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.state.world().oauth.access_token_lifetime = lifetime;
    }

    /// Expires every access token issued so far: the next Calendar call with one answers 401.
    pub fn expire_access_tokens(&self) {
        self.state.world().oauth.expire_access_tokens();
    }

    /// Whether a refresh answers with a new refresh token (and retires the old one).
    pub fn set_rotate_refresh_tokens(&self, rotate: bool) {
        self.state.world().oauth.rotate_refresh_tokens = rotate;
    }

    /// While on, every `refresh_token` grant answers 400 `invalid_grant` ("Token has been expired
    /// or revoked."), without revoking anything.
    pub fn force_invalid_grant(&self, on: bool) {
        self.state.world().oauth.force_invalid_grant = on;
    }

    /// Revokes every grant, as if the user removed the app in their Google account: refresh
    /// tokens answer `invalid_grant`, access tokens 401.
    pub fn revoke_all(&self) {
        self.state.world().oauth.revoke_all();
    }

    /// Every token revoked so far (through `/revoke` or [`FakeGoogle::revoke_all`], including
    /// the tokens of a revoked grant), in order.
    pub fn revoked_tokens(&self) -> Vec<String> {
        self.state.world().oauth.revoked.clone()
    }

    /// How many requests the token endpoint has received (any grant type, failed ones too).
    pub fn token_requests(&self) -> usize {
        self.state.world().oauth.token_requests
    }

    /// Every grant made so far, oldest first.
    pub fn grants(&self) -> Vec<GrantInfo> {
        self.state.world().oauth.grants()
    }

    /// The scopes of the account's newest grant that is not revoked (empty when none).
    pub fn granted_scopes(&self, account_email: &str) -> Vec<String> {
        self.grants()
            .into_iter()
            .rev()
            .find(|grant| grant.account_email == account_email && !grant.revoked)
            .map(|grant| grant.scopes)
            .unwrap_or_default()
    }

    /// Mints an offline grant for the current account without the browser round trip. Scopes
    /// may be full URLs or short forms (`calendar.events`, `email`).
    pub fn issue_tokens(&self, scopes: &[&str]) -> IssuedTokens {
        let mut world = self.state.world();
        let email = world.oauth.account_email.clone();
        world.ensure_primary(&email);
        world.oauth.issue(&email, scopes)
    }

    // ---- Calendar state -----------------------------------------------------------------------

    /// Adds a secondary calendar owned by the current account.
    pub fn add_calendar(&self, calendar_id: &str, summary: &str) {
        let mut world = self.state.world();
        let owner = world.oauth.account_email.clone();
        let time_zone = world.default_time_zone.clone();
        world
            .calendars
            .entry(calendar_id.to_owned())
            .or_insert_with(|| Calendar::new(calendar_id, &owner, summary, &time_zone, false));
    }

    /// Adds a calendar on the current account's list with another access role: `reader` and
    /// `freeBusyReader` calendars refuse event writes (403 `requiredAccessLevel`), as someone
    /// else's shared calendar does. `hidden` ones are listed only with `showHidden=true`.
    pub fn add_shared_calendar(&self, calendar_id: &str, summary: &str, access_role: &str, hidden: bool) {
        let mut world = self.state.world();
        let owner = world.oauth.account_email.clone();
        let time_zone = world.default_time_zone.clone();
        let calendar = world
            .calendars
            .entry(calendar_id.to_owned())
            .or_insert_with(|| Calendar::new(calendar_id, &owner, summary, &time_zone, false));
        calendar.access_role = access_role.to_owned();
        calendar.hidden = hidden;
    }

    /// Sets a calendar's IANA time zone (all-day events and unzoned times are read in it).
    ///
    /// # Errors
    /// 404 `notFound` for an unknown calendar.
    pub fn set_calendar_time_zone(&self, calendar_id: &str, time_zone: &str) -> Result<(), ApiError> {
        let mut world = self.state.world();
        let id = world.resolve_seed_calendar(calendar_id)?;
        let calendar = world.calendars.get_mut(&id).ok_or_else(ApiError::not_found)?;
        calendar.time_zone = time_zone.to_owned();
        Ok(())
    }

    /// Inserts an event as `events.insert` would (`primary` is the current account's calendar;
    /// an unknown e-mail-like id becomes that account's primary calendar). The change shows in
    /// incremental syncs and is pushed to watch channels.
    ///
    /// # Errors
    /// The [`ApiError`] the API would answer with (400 for a bad body, 409 for a taken id).
    pub fn insert_event(&self, calendar_id: &str, event: Value) -> Result<Value, ApiError> {
        let mut world = self.state.world();
        let id = world.resolve_seed_calendar(calendar_id)?;
        world.insert_event(&id, event)
    }

    /// Patches an event as `events.patch` would (an instance id creates an exception).
    ///
    /// # Errors
    /// The [`ApiError`] the API would answer with (404 for an unknown event).
    pub fn update_event(&self, calendar_id: &str, event_id: &str, patch: Value) -> Result<Value, ApiError> {
        let mut world = self.state.world();
        let id = world.resolve_seed_calendar(calendar_id)?;
        world.update_event(&id, event_id, patch, UpdateMode::Patch, None)
    }

    /// Deletes an event as `events.delete` would (it stays, `status: cancelled`).
    ///
    /// # Errors
    /// 404 for an unknown event, 410 `deleted` for one already deleted.
    pub fn delete_event(&self, calendar_id: &str, event_id: &str) -> Result<(), ApiError> {
        let mut world = self.state.world();
        let id = world.resolve_seed_calendar(calendar_id)?;
        world.delete_event(&id, event_id, None)
    }

    /// One event (stored, or an instance of a series), as `events.get` returns it.
    pub fn event(&self, calendar_id: &str, event_id: &str) -> Option<Value> {
        let mut world = self.state.world();
        let id = world.resolve_seed_calendar(calendar_id).ok()?;
        world.get_event(&id, event_id).ok()
    }

    /// Every stored event of a calendar, cancelled ones and series exceptions included, in
    /// insertion order (series are not expanded). Empty for an unknown calendar.
    pub fn events(&self, calendar_id: &str) -> Vec<Value> {
        let mut world = self.state.world();
        let Ok(id) = world.resolve_seed_calendar(calendar_id) else { return Vec::new() };
        world.calendars.get(&id).map(Calendar::events).unwrap_or_default()
    }

    /// Makes every sync token issued so far answer 410 `fullSyncRequired`.
    pub fn invalidate_sync_tokens(&self) {
        self.state.world().invalidate_sync_tokens();
    }

    // ---- Push ---------------------------------------------------------------------------------

    /// Every watch channel, stopped ones included, oldest first.
    pub fn channels(&self) -> Vec<ChannelInfo> {
        self.state.world().channels.clone()
    }

    /// Turns push notifications on (the default) or off. While off, changes are not pushed.
    pub fn set_push_enabled(&self, enabled: bool) {
        self.state.world().push_enabled = enabled;
    }

    /// Every notification delivered (or attempted) so far, in delivery order.
    pub fn notifications(&self) -> Vec<Notification> {
        lock(&self.state.notifications).clone()
    }

    // ---- Faults, latency, request log ----------------------------------------------------------

    /// Queues a fault for the next Calendar API call.
    pub fn push(&self, fault: Fault) {
        self.push_rule(FaultRule::new(fault));
    }

    /// Queues several faults, one Calendar API call each, in order.
    pub fn push_many(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.faults().extend(faults.into_iter().map(FaultRule::new));
    }

    /// Queues a scoped fault ([`FaultRule`]): a call takes the first queued rule it matches.
    pub fn push_rule(&self, rule: FaultRule) {
        self.state.faults().push_back(rule);
    }

    /// The rules still waiting for calls, next first.
    pub fn pending_faults(&self) -> Vec<FaultRule> {
        self.state.faults().iter().cloned().collect()
    }

    /// Whether the account may create focus-time events (default: yes). Off, as for accounts
    /// without focus time, inserting a `focusTime` event answers 400 `eventTypeRestriction`
    /// (domain `calendar`); existing ones stay. On any calendar but the primary one Google refuses
    /// focus time either way.
    pub fn set_focus_time_available(&self, available: bool) {
        self.state.world().focus_time_available = available;
    }

    /// A delay added before every answer of the Google endpoints (not the `/_fake` ones).
    pub fn set_latency(&self, latency: Duration) {
        *self.state.latency() = latency;
    }

    /// Clears the queued faults, the standing latency, the request log and the notification log
    /// (not the OAuth or calendar state).
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Every request to a Google endpoint so far, oldest first (`/_fake` requests are not
    /// recorded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests().clone()
    }

    /// How many requests the Google endpoints have received.
    pub fn request_count(&self) -> usize {
        self.state.requests().len()
    }

    /// The most recent request to a Google endpoint.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.state.requests().last().cloned()
    }

    /// Stops the server, letting requests in flight finish (for up to a second).
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.push_task.abort();
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; the returned future only waits for it.
        drop(self.handle.stop(false));
        self.push_task.abort();
    }
}

/// One request received on a Google endpoint, as the tests see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request path as sent (percent-encoded), e.g. `/calendar/v3/calendars/primary/events`.
    pub path: String,
    /// Query string without the `?`, empty when there is none.
    pub query: String,
    /// Headers of interest (lower-case names): `authorization`, `content-type`, `accept`,
    /// `user-agent`, `if-match`, `x-goog-api-client`, `x-request-id`, when sent.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON as sent, a form as an object of its fields, other text as a JSON string,
    /// `null` when empty.
    pub body: Value,
    /// The status answered.
    pub status: Option<u16>,
    /// The fault this request took, if any.
    pub fault: Option<Fault>,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
}

impl RecordedRequest {
    /// A recorded header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// A query parameter's first value (decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        handlers::query_pairs(&self.query).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }
}

/// The fake's Google-side state, behind one lock: a call sees and changes it atomically.
#[derive(Debug)]
struct World {
    base_url: String,
    default_time_zone: String,
    oauth: OAuth,
    calendars: BTreeMap<String, Calendar>,
    snapshots: Snapshots,
    next_snapshot: u64,
    /// Generation of sync tokens; bumping it makes every older token stale.
    sync_epoch: u64,
    last_etag: u64,
    channels: Vec<ChannelInfo>,
    push_enabled: bool,
    /// Whether the account may create focus-time events (Google offers them to some Workspace
    /// editions only); off, inserting one answers 400 `eventTypeRestriction`.
    focus_time_available: bool,
    pusher: Option<Pusher>,
}

/// Everything the fake remembers, shared by the handle and the server's workers.
#[derive(Debug)]
struct FakeState {
    world: Mutex<World>,
    faults: Mutex<VecDeque<FaultRule>>,
    latency: Mutex<Duration>,
    requests: Mutex<Vec<RecordedRequest>>,
    notifications: Arc<Mutex<Vec<Notification>>>,
}

impl FakeState {
    fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    fn faults(&self) -> MutexGuard<'_, VecDeque<FaultRule>> {
        lock(&self.faults)
    }

    fn latency(&self) -> MutexGuard<'_, Duration> {
        lock(&self.latency)
    }

    fn requests(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        lock(&self.requests)
    }

    /// Takes one use of the first queued rule this call matches.
    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = self.faults();
        let position = faults.iter().position(|rule| rule.matches(method, path))?;
        let rule = faults.get_mut(position)?;
        rule.times = rule.times.saturating_sub(1);
        let fault = rule.fault.clone();
        if rule.times == 0 {
            faults.remove(position);
        }
        Some(fault)
    }

    fn reset(&self) {
        self.faults().clear();
        *self.latency() = Duration::ZERO;
        self.requests().clear();
        lock(&self.notifications).clear();
    }
}

/// Locks a mutex; a panic in another holder does not make the plain data inside unusable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Random ASCII letters and digits.
fn random_string(length: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(length).map(char::from).collect()
}

/// Google's timestamp format for `created`/`updated`: RFC 3339, UTC, milliseconds.
fn format_millis(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                index += 3;
            }
            None => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a path segment (everything but unreserved characters and `@`).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
