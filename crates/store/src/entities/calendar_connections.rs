use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub account_email: Option<String>,
    pub calendar_id: String,
    pub target_calendar_id: Option<String>,
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub access_token_enc: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub refresh_token_enc: Option<String>,
    pub token_expires_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub scopes: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub sync_token: Option<String>,
    pub last_synced_at: Option<DateTimeUtc>,
    pub last_sync_status: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub channel_id: Option<String>,
    pub channel_resource_id: Option<String>,
    pub channel_token_hash: Option<String>,
    pub channel_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub focus_time_refused_at: Option<DateTimeUtc>,
    pub writes_paused_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub writes_paused_detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
