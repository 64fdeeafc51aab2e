//! HTTP routes: thin handlers, one file per resource, each documented for OpenAPI.

pub mod auth;
pub mod fallback;
pub mod me;
pub mod system;

use utoipa_actix_web::{scope, service_config::ServiceConfig};

/// Registers every documented route: system routes at the root, the API under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(system::health)
        .service(system::ready)
        .service(system::metrics)
        .service(
            scope::scope("/api/v1")
                .service(auth::register)
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(me::get_me)
                .service(me::update_me)
                .service(me::delete_me),
        );
}
