use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Uuid,
    /// The calendar of the connection's account the event is on.
    pub calendar_id: String,
    pub user_id: Uuid,
    pub provider_event_id: String,
    pub ical_uid: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub location: Option<String>,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    pub all_day: bool,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub time_zone: Option<String>,
    pub recurrence: Option<Json>,
    pub recurring_event_id: Option<String>,
    pub status: String,
    pub transparent: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub html_link: Option<String>,
    pub etag: Option<String>,
    pub provider_updated_at: Option<DateTimeUtc>,
    pub plan_task_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    /// How long the event lasts, as a class (see `repo::calendar::events::span_class`).
    pub span_class: i16,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
