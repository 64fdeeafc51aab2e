//! Builds the HTTP server: middleware, routes, Swagger UI, background jobs, graceful shutdown
//! (the shared state itself is assembled by `AppState::new`).

use std::{net::TcpListener, time::Duration};

use actix_cors::Cors;
use actix_web::{
    App, HttpResponse, HttpServer,
    dev::{Server, ServerHandle},
    http::header,
    middleware::from_fn,
    web,
};
use planwright_store::Database;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{
    extract,
    middleware::{access_log, head, metrics, problems, request_id, root_span::RedactingRootSpan},
    routes,
    settings::{CorsSettings, Settings},
    state::AppState,
};

/// A bound, not yet running, HTTP server.
pub struct Application {
    port: u16,
    server: Server,
    ai: String,
    calendar: String,
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one) and prepares the server over `db`,
    /// whose schema must already be migrated.
    pub async fn build(settings: Settings, db: Database) -> anyhow::Result<Self> {
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener =
            TcpListener::bind(&address).map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        let port = listener.local_addr()?.port();
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map(usize::from).unwrap_or(2),
            n => n,
        };
        let shutdown_timeout = settings.server.shutdown_timeout_secs;
        let openapi = crate::openapi::document();
        // Serialised once and shared by every worker: each worker holding its own copy of the
        // document (and re-encoding it per request) cost megabytes of resident memory per worker.
        let openapi_json = web::Bytes::from(serde_json::to_vec(&openapi)?);
        let knowledge_dir = std::path::PathBuf::from(&settings.knowledge.dir);
        let report = crate::services::knowledge::load_global(&db, &knowledge_dir).await?;
        tracing::info!(
            dir = %knowledge_dir.display(),
            added = report.added,
            updated = report.updated,
            removed = report.removed,
            unchanged = report.unchanged,
            "global knowledge loaded"
        );
        let chunked = crate::services::grounding::index::index_all(&db).await?;
        tracing::info!(new_chunks = chunked, "knowledge chunked for semantic search");
        let settings = crate::services::ai::models::check_at_startup(settings).await?;
        let state = web::Data::new(AppState::new(settings, db, &openapi)?);
        drop(openapi);
        let ai = format!("{} ({})", state.ai.name(), state.ai.model());
        let calendar = if state.calendar.google.is_some() { "google+local" } else { "local" }.to_owned();
        let jobs = crate::jobs::calendar_sync::spawn(state.get_ref().clone())
            .into_iter()
            .chain(crate::jobs::replan::spawn(state.get_ref().clone()))
            .chain(crate::services::grounding::index::spawn(state.get_ref().clone()))
            .collect();
        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(extract::path_error))
                .app_data(web::QueryConfig::default().error_handler(extract::query_error))
                .configure(routes::configure)
                .split_for_parts();
            let document = openapi_json.clone();
            app.route(
                "/openapi.json",
                web::get().to(move || {
                    let body = document.clone();
                    async move { HttpResponse::Ok().content_type(header::ContentType::json()).body(body) }
                }),
            )
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    // The bearer token entered under "Authorize" survives a reload of the page.
                    .config(Config::new(["/openapi.json"]).persist_authorization(true)),
            )
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
                }),
            )
            .default_service(web::to(routes::fallback::not_matched))
            .wrap(from_fn(head::as_get))
            .wrap(cors(&state.settings.cors))
            .wrap(from_fn(problems::catch_panic))
            .wrap(from_fn(problems::ensure_problem_json))
            .wrap(from_fn(metrics::record))
            .wrap(from_fn(request_id::echo))
            .wrap(from_fn(access_log::record))
            .wrap(TracingLogger::<RedactingRootSpan>::new())
        })
        .workers(workers)
        .shutdown_timeout(shutdown_timeout)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Self { port, server, ai, calendar, jobs })
    }

    /// The AI provider and model in use, e.g. `gemini (gemini-3.5-flash)`.
    pub fn ai_provider(&self) -> &str {
        &self.ai
    }

    /// The calendar providers in use: `local`, or `google+local`.
    pub fn calendar_provider(&self) -> &str {
        &self.calendar
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere (tests, signal handlers).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections and gives in-flight
    /// requests up to `server.shutdown_timeout_secs` to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        tokio::spawn(async move {
            let signal = shutdown_signal().await;
            tracing::info!(signal, "shutting down: no new connections, finishing in-flight requests");
            handle.stop(true).await;
        });
        let result = self.server.await;
        self.jobs.iter().for_each(tokio::task::JoinHandle::abort);
        result
    }

    /// Serves until stopped through [`Application::handle`] (no signal handling; for tests).
    pub async fn run_without_signals(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.jobs.iter().for_each(tokio::task::JoinHandle::abort);
        result
    }
}

async fn shutdown_signal() -> &'static str {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => "SIGINT",
        () = terminate => "SIGTERM",
    }
}

fn cors(settings: &CorsSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(settings.max_age_secs);
    if settings.allowed_origins.iter().any(|o| o == "*") {
        // Any origin, but never with credentials: browsers refuse that pairing and it would leak.
        cors = cors.allow_any_origin();
    } else {
        for origin in &settings.allowed_origins {
            cors = cors.allowed_origin(origin);
        }
        if settings.allow_credentials {
            cors = cors.supports_credentials();
        }
    }
    cors
}

/// Waits up to `timeout` for `handle` to stop the server (used by tests and tools).
pub async fn stop(handle: ServerHandle, timeout: Duration) {
    let _ = tokio::time::timeout(timeout, handle.stop(true)).await;
}
