//! The OpenAPI document: paths come from the registered services (utoipa-actix-web), this file
//! adds the document's metadata and the bearer scheme, and `examples` gives every answer an example
//! of its own (the reusable problem responses live next to `ApiError`, in `crate::error`).

use actix_web::App;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};
use utoipa_actix_web::AppExt;

use crate::error::{Problem, ProblemField};

mod examples;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Planwright API",
        description = "Backend of the Planwright planning assistant. Every `/api/v1` route needs \
            `Authorization: Bearer <access_token>` unless marked public; get a token from \
            `POST /api/v1/auth/register` or `POST /api/v1/auth/login`. Errors are RFC 9457 \
            `application/problem+json` with a human `detail` and a machine `code`. Input rules for \
            every route: text (in bodies, object keys and query parameters) carries no U+0000 or \
            other C0 control character except tab and line breaks (else a 422 naming the field); \
            dates are `YYYY-MM-DD` with a four-digit year; date-times are RFC 3339 with an offset.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, login, token rotation and the caller's profile."),
        (name = "plans", description = "Goal to plan: generate, review, edit, delete."),
        (name = "tasks", description = "The task manager, with AI breakdown into sub-tasks."),
        (name = "calendar", description = "Calendars: the built-in one and Google (OAuth connection, sync, push), upcoming events, new events, the ICS feed."),
        (name = "chat", description = "Chat sessions grounded on the knowledge base and the caller's resources and plans, with streaming."),
        (name = "knowledge", description = "The knowledge base: your documents and read-only global ones, ranked search."),
        (name = "resources", description = "The caller's own material (any JSON), by class and type."),
        (name = "system", description = "Liveness, readiness and metrics (public).")
    )
)]
struct ApiDoc;

/// Name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description =
            Some("An access token from `POST /api/v1/auth/login` (valid 30 minutes).".to_owned());
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The whole document, collected from the same route registration the server uses.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, openapi) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    let mut openapi = optional_bodies(openapi);
    examples::add(&mut openapi);
    openapi
}

/// Marks as not required every JSON request body whose schema requires no field: those routes
/// read it with `ApiJsonOrEmpty`, so no body at all means `{}`.
fn optional_bodies(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{RefOr, Required, schema::Schema};
    let schemas = openapi.components.as_ref().map(|c| c.schemas.clone()).unwrap_or_default();
    let requires_nothing = |body: &utoipa::openapi::request_body::RequestBody| {
        let Some(RefOr::T(content)) = body.content.get("application/json") else { return false };
        let Some(RefOr::Ref(reference)) = &content.schema else { return false };
        let name = reference.ref_location.rsplit('/').next().unwrap_or_default();
        matches!(schemas.get(name), Some(RefOr::T(Schema::Object(object))) if object.required.is_empty())
    };
    for item in openapi.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put, &mut item.patch].into_iter().flatten() {
            if let Some(RefOr::T(body)) = operation.request_body.as_mut()
                && requires_nothing(body)
            {
                body.required = Some(Required::False);
            }
        }
    }
    openapi
}
