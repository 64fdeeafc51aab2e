//! HTTP routes: thin handlers, one file per resource, each documented for OpenAPI.

pub mod ai;
pub mod auth;
pub mod calendar;
pub mod chat;
pub mod connection_calendars;
pub mod fallback;
pub mod feed;
pub mod knowledge;
pub mod me;
pub mod plans;
pub mod resources;
pub mod schedule;
pub mod system;
pub mod tasks;

use actix_web::{HttpResponse, http::header};
use planwright_store::repo::page::{DEFAULT_LIMIT, MAX_LIMIT, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::{
    error::ApiError,
    services::idempotency::{Created, REPLAYED_HEADER},
};

/// For `#[serde(default, deserialize_with = "present")]` on PATCH fields: tells a field sent as
/// `null` (`Some(None)`, clear it) from one left out (`None`, keep it).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A 201 whose `Location` is `location` (the absolute path of the created resource).
pub(crate) fn created(location: String, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).json(body)
}

/// A 201 for a [`Created`], replayed or fresh: `Location`, and `Idempotent-Replayed: true` when
/// it is the stored response of an earlier request.
pub(crate) fn created_once(created: Created) -> HttpResponse {
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, created.location)).content_type("application/json");
    if created.replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    response.body(created.body)
}

/// `?limit=` and `?cursor=` of every list route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page asked for, or a 400 naming the parameter.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = bounded_param(self.limit, DEFAULT_LIMIT, MAX_LIMIT, "limit")?;
        Ok(PageRequest { limit, cursor: self.cursor.clone().filter(|c| !c.is_empty()) })
    }
}

/// A numeric query parameter `name` between 1 and `max`, `default` when left out; otherwise a
/// 400 naming it.
pub(crate) fn bounded_param(value: Option<i64>, default: u64, max: u64, name: &str) -> Result<u64, ApiError> {
    match value {
        None => Ok(default),
        Some(value) => u64::try_from(value)
            .ok()
            .filter(|v| (1..=max).contains(v))
            .ok_or_else(|| ApiError::bad_request(Some(name), format!("{name} must be between 1 and {max}."))),
    }
}

/// Registers every documented route: system routes at the root, the API under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(system::health).service(system::ready).service(system::metrics).service(
        scope::scope("/api/v1")
            .service(auth::register)
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(me::get_me)
            .service(me::update_me)
            .service(me::delete_me)
            .service(plans::create_plan)
            .service(plans::list_plans)
            .service(plans::get_plan)
            .service(plans::update_plan)
            .service(plans::delete_plan)
            .service(plans::schedule_plan)
            .service(schedule::schedule_tasks)
            .service(schedule::list_schedule_changes)
            .service(tasks::create_task)
            .service(tasks::list_tasks)
            .service(tasks::get_task)
            .service(tasks::update_task)
            .service(tasks::delete_task)
            .service(tasks::break_down_task)
            .service(ai::break_down)
            .service(resources::create_resource)
            .service(resources::list_resources)
            .service(resources::get_resource)
            .service(resources::update_resource)
            .service(resources::delete_resource)
            .service(knowledge::create_doc)
            .service(knowledge::list_docs)
            .service(knowledge::get_doc)
            .service(knowledge::update_doc)
            .service(knowledge::delete_doc)
            .service(chat::send_message)
            .service(chat::stream_message)
            .service(chat::list_sessions)
            .service(chat::get_chat_history)
            .service(chat::delete_session)
            .service(chat::confirm_action)
            .service(chat::reject_action)
            .service(calendar::authorize_google)
            .service(calendar::google_callback)
            .service(calendar::list_connections)
            .service(calendar::delete_connection)
            .service(connection_calendars::list_connection_calendars)
            .service(connection_calendars::select_connection_calendars)
            .service(calendar::sync_now)
            .service(calendar::sync_status)
            .service(calendar::upcoming_events)
            .service(calendar::create_event)
            .service(calendar::get_event)
            .service(feed::create_calendar_feed)
            .service(feed::get_calendar_feed)
            .service(calendar::google_notification),
    );
}
