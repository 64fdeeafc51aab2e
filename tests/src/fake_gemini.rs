//! A stateful fake Gemini (v1beta REST: `generateContent`, `streamGenerateContent?alt=sse`,
//! `countTokens`, `embedContent`, `batchEmbedContents`) that speaks the real wire format, with
//! scripted faults and a request log.
//!
//! ```no_run
//! # use std::time::Duration;
//! use planwright_tests::fake_gemini::{FakeGemini, Fault};
//! # async fn demo() {
//! let gemini = FakeGemini::start().await; // 127.0.0.1:<free port>, serving in the background
//! // Configure the app with `gemini.base_url()` and the key `gemini.api_key()`.
//! gemini.push(Fault::RateLimited { retry_delay: Duration::from_millis(50) }); // next call: 429
//! gemini.push_many([Fault::Unavailable, Fault::MalformedJson]); // then these, one call each
//! gemini.set_latency(Duration::from_millis(100)); // every answer waits 100 ms
//! // ... exercise the app ...
//! assert_eq!(gemini.requests()[0].model, "gemini-2.5-flash");
//! gemini.stop().await;
//! # }
//! ```
//!
//! With a `responseJsonSchema` (or `responseSchema`) the answer is JSON generated from that
//! schema; without one, plain text echoing the last user message. That is the friendly mode;
//! [`FakeGemini::set_adversarial`] switches to answers drawn at random (from a seed) among
//! everything the schema allows, as a real model may give them. `models.get` answers for the
//! current models; retired or unknown ones get Google's 404 on every route. The embedding
//! models ([`EMBEDDING_MODELS`]) answer with deterministic vectors in which related texts are
//! close (hashed words and synonyms; see [`fake_embedding`]);
//! [`FakeGemini::set_adversarial_embeddings`] makes them misbehave as a faulty upstream may
//! (vectors of the wrong size, all zeros, odd norms, values beyond f32, fewer or more
//! embeddings than asked; see [`EmbeddingMisbehaviour`]). The
//! `planwright-fakes` binary runs the same fake on a fixed port and exposes the controls as
//! `/_fake/*` HTTP endpoints.
//!
//! Function calling: when a request declares `tools` and the tool config mode is not `NONE`, the
//! model calls every declared function whose name (`get_weather`, or "get weather") appears in
//! the last user message, in that order; "use all tools" calls them all, "use a tool" the first,
//! and mode `ANY` forces a call of the first (allowed) function when nothing else matched. Each
//! call has an `id` and arguments generated from its parameter schema; the first call part
//! carries a `thoughtSignature` the fake remembers. A later request must send it back unchanged
//! on that part (Gemini 3 models), else Google's 400 `INVALID_ARGUMENT` ("Function call is
//! missing a thought_signature ...", or "Corrupted thought signature."); the number of
//! `functionResponse` parts must match the calls. After the responses the model answers in
//! text quoting each function's name and response.

mod adversarial;
mod embed;
mod fault;
mod handlers;
mod schema;
#[cfg(test)]
mod tests;
mod tools;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

pub use embed::{
    DEFAULT_DIMENSIONS, EMBEDDING_MODELS, EmbeddingMisbehaviour, SYNONYM_GROUPS, canonical_terms,
    fake_embedding,
};
pub use fault::Fault;

/// The API key the fake accepts in `x-goog-api-key`.
pub const FAKE_API_KEY: &str = "fake-gemini-key";

/// Models the fake serves (`models.get` describes them; the model routes answer for them).
pub const KNOWN_MODELS: [&str; 7] = [
    "gemini-3.8-flash",
    "gemini-3.5-flash",
    "gemini-3.5-flash-lite",
    "gemini-3.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
];

/// Models Google has retired: every route answers 404 `NOT_FOUND` for them, as for unknown ones.
pub const RETIRED_MODELS: [&str; 5] =
    ["gemini-1.0-pro", "gemini-1.5-flash", "gemini-1.5-pro", "gemini-2.0-flash", "gemini-2.0-flash-lite"];

/// How the fake writes its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// Readable, in-range answers built from the schema and the prompt (the default).
    Friendly,
    /// Random schema-valid answers: the n-th answer after the mode was set is drawn from a
    /// generator seeded with `seed` and n, so setting the same seed replays the same answers.
    Adversarial {
        /// The seed.
        seed: u64,
    },
}

/// A running fake Gemini server. Dropping it stops the server.
pub struct FakeGemini {
    base_url: String,
    port: u16,
    state: Arc<FakeState>,
    handle: ServerHandle,
}

impl fmt::Debug for FakeGemini {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeGemini").field("base_url", &self.base_url).field("state", &self.state).finish()
    }
}

impl FakeGemini {
    /// Starts the fake on 127.0.0.1 with a free port, serving in the background on the current
    /// tokio runtime.
    ///
    /// # Panics
    /// When no local port can be bound: there is nothing sensible a test can do without its fake.
    /// Use [`FakeGemini::try_start`] to handle that error.
    #[expect(clippy::panic, reason = "test support: a test cannot run without its fake upstream")]
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(fake) => fake,
            Err(error) => panic!("could not start the fake Gemini server: {error}"),
        }
    }

    /// Starts the fake on 127.0.0.1 with a free port.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn try_start() -> io::Result<Self> {
        Self::start_on(0).await
    }

    /// Starts the fake on 127.0.0.1:`port` (0 picks a free port), serving in the background on
    /// the current tokio runtime with two workers.
    ///
    /// # Errors
    /// When the port cannot be bound (e.g. it is in use).
    pub async fn start_on(port: u16) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(FakeState::new(FAKE_API_KEY));
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
        Ok(Self { base_url: format!("http://127.0.0.1:{port}"), port, state, handle })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash or the `/v1beta` prefix (what the
    /// client's `base_url` expects).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The port the fake listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The only API key the fake accepts ([`FAKE_API_KEY`]).
    pub fn api_key(&self) -> &str {
        &self.state.api_key
    }

    /// Queues a fault. Queued faults are taken first in, first out, one per
    /// `generateContent`/`streamGenerateContent`/`embedContent`/`batchEmbedContents` request
    /// that passes the key check.
    pub fn push(&self, fault: Fault) {
        self.state.faults().push_back(fault);
    }

    /// Queues several faults, applied one per request in order.
    pub fn push_many(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.faults().extend(faults);
    }

    /// The faults still waiting for a request, next first.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.state.faults().iter().cloned().collect()
    }

    /// Sets a delay added before every answer of the model routes (`Duration::ZERO` for none).
    pub fn set_latency(&self, latency: Duration) {
        *self.state.latency() = latency;
    }

    /// Switches to random schema-valid answers from `seed` (see [`Mode::Adversarial`]); the
    /// answer counter starts again at 0.
    pub fn set_adversarial(&self, seed: u64) {
        self.state.set_mode(Mode::Adversarial { seed });
    }

    /// Makes every embedding answer misbehave in one of the ways of [`EmbeddingMisbehaviour`],
    /// drawn from `seed` and the answer's number (so a seed replays the same answers); the
    /// generation routes are unaffected.
    pub fn set_adversarial_embeddings(&self, seed: u64) {
        *lock(&self.state.embedding_mode) = (Some(seed), 0);
    }

    /// How each adversarial embedding answer misbehaved, oldest first.
    pub fn embedding_misbehaviours(&self) -> Vec<EmbeddingMisbehaviour> {
        lock(&self.state.embedding_misbehaviours).clone()
    }

    /// Switches the embedding routes back to friendly vectors.
    pub fn set_friendly_embeddings(&self) {
        *lock(&self.state.embedding_mode) = (None, 0);
    }

    /// Switches back to friendly answers.
    pub fn set_friendly(&self) {
        self.state.set_mode(Mode::Friendly);
    }

    /// Retires `model`: from now on every route answers 404 `NOT_FOUND` for it, as Google does.
    pub fn retire_model(&self, model: &str) {
        lock(&self.state.retired).insert(model.to_owned());
    }

    /// The text of every answer sent by the model routes, oldest first (for a stream: the
    /// whole text).
    pub fn answers(&self) -> Vec<String> {
        lock(&self.state.answers).clone()
    }

    /// Clears the queued faults, the standing latency and the request log.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Every request made to the model routes so far, oldest first (admin requests are not
    /// recorded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests().clone()
    }

    /// How many requests the model routes have received.
    pub fn request_count(&self) -> usize {
        self.state.requests().len()
    }

    /// The most recent request to the model routes.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.state.requests().last().cloned()
    }

    /// How many streamed answers were cut off because the client (Planwright) hung up before
    /// the last chunk: the proof that a departed client's upstream request was dropped.
    pub fn abandoned_streams(&self) -> usize {
        self.state.abandoned_streams.load(Ordering::SeqCst)
    }

    /// Stops the server, letting requests in flight finish (for up to a second).
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

impl Drop for FakeGemini {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

/// One request received on a model route, as the tests see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request path, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`.
    pub path: String,
    /// Query string without the `?` (e.g. `alt=sse`), empty when there is none.
    pub query: String,
    /// The model from the path, e.g. `gemini-2.5-flash`.
    pub model: String,
    /// The method after the colon: `generateContent`, `streamGenerateContent`, `countTokens`,
    /// `embedContent` or `batchEmbedContents`.
    pub action: String,
    /// Headers of interest (lower-case names): `x-goog-api-key`, `content-type`, `accept`,
    /// `user-agent`, `x-goog-api-client`, `x-request-id`, `traceparent`, when sent.
    pub headers: BTreeMap<String, String>,
    /// The JSON body; a JSON string holding the raw text when the body was not JSON.
    pub body: Value,
    /// The fault this request took from the queue, if any.
    pub fault: Option<Fault>,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
}

impl RecordedRequest {
    /// A recorded header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// Whether this was a `streamGenerateContent` request.
    pub fn is_stream(&self) -> bool {
        self.action == "streamGenerateContent"
    }

    /// The text of the last `user` message in `contents` (for `countTokens`, inside
    /// `generateContentRequest` when present).
    pub fn user_text(&self) -> String {
        handlers::last_user_text(handlers::generate_request_of(&self.body))
    }

    /// The text of `systemInstruction`, if any.
    pub fn system_instruction(&self) -> Option<String> {
        let instruction = handlers::generate_request_of(&self.body).get("systemInstruction")?;
        Some(handlers::parts_text(instruction))
    }

    /// `generationConfig.responseJsonSchema`, or else `generationConfig.responseSchema`.
    pub fn response_schema(&self) -> Option<&Value> {
        handlers::response_schema_of(handlers::generate_request_of(&self.body))
    }
}

/// Everything the fake remembers, shared by the handle and the server's workers.
#[derive(Debug)]
struct FakeState {
    api_key: String,
    faults: Mutex<VecDeque<Fault>>,
    latency: Mutex<Duration>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Streams whose client hung up before the last chunk was sent.
    abandoned_streams: AtomicUsize,
    /// The answer mode and how many answers it has given.
    mode: Mutex<(Mode, u64)>,
    /// The text of every answer given.
    answers: Mutex<Vec<String>>,
    /// Models retired on top of [`RETIRED_MODELS`].
    retired: Mutex<BTreeSet<String>>,
    /// The thought signatures handed out with function calls.
    signatures: Mutex<tools::Signatures>,
    /// The adversarial embedding seed (`None`: friendly vectors) and the answers given since.
    embedding_mode: Mutex<(Option<u64>, u64)>,
    /// How each adversarial embedding answer misbehaved.
    embedding_misbehaviours: Mutex<Vec<EmbeddingMisbehaviour>>,
}

impl FakeState {
    fn new(api_key: &str) -> Self {
        Self {
            api_key: api_key.to_owned(),
            faults: Mutex::new(VecDeque::new()),
            latency: Mutex::new(Duration::ZERO),
            requests: Mutex::new(Vec::new()),
            abandoned_streams: AtomicUsize::new(0),
            mode: Mutex::new((Mode::Friendly, 0)),
            answers: Mutex::new(Vec::new()),
            retired: Mutex::new(BTreeSet::new()),
            signatures: Mutex::new(tools::Signatures::default()),
            embedding_mode: Mutex::new((None, 0)),
            embedding_misbehaviours: Mutex::new(Vec::new()),
        }
    }

    /// The seed of the next adversarial embedding answer (`None` when friendly), counting it.
    fn next_embedding_seed(&self) -> Option<u64> {
        let mut mode = lock(&self.embedding_mode);
        let seed = mode.0?;
        let n = mode.1;
        mode.1 += 1;
        Some(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(n))
    }

    fn set_mode(&self, mode: Mode) {
        *lock(&self.mode) = (mode, 0);
    }

    /// The seed of the next adversarial answer (`None` in friendly mode), counting it.
    fn next_seed(&self) -> Option<u64> {
        let mut mode = lock(&self.mode);
        let Mode::Adversarial { seed } = mode.0 else { return None };
        let n = mode.1;
        mode.1 += 1;
        Some(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(n))
    }

    /// Whether Google would answer for `model` (known, and not retired).
    fn serves(&self, model: &str) -> bool {
        KNOWN_MODELS.contains(&model) && !lock(&self.retired).contains(model)
    }

    /// Whether Google would embed with `model` (an embedding model, not retired).
    fn serves_embedding(&self, model: &str) -> bool {
        EMBEDDING_MODELS.contains(&model) && !lock(&self.retired).contains(model)
    }

    fn faults(&self) -> MutexGuard<'_, VecDeque<Fault>> {
        lock(&self.faults)
    }

    fn latency(&self) -> MutexGuard<'_, Duration> {
        lock(&self.latency)
    }

    fn requests(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        lock(&self.requests)
    }

    fn reset(&self) {
        self.faults().clear();
        *self.latency() = Duration::ZERO;
        self.requests().clear();
        self.abandoned_streams.store(0, Ordering::SeqCst);
        self.set_mode(Mode::Friendly);
        lock(&self.answers).clear();
        lock(&self.retired).clear();
        *lock(&self.signatures) = tools::Signatures::default();
        *lock(&self.embedding_mode) = (None, 0);
        lock(&self.embedding_misbehaviours).clear();
    }
}

/// Locks a mutex; a panic in another holder does not make the plain data inside unusable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
