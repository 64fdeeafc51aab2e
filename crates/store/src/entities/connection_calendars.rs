use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connection_calendars")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub calendar_id: String,
    pub user_id: Uuid,
    #[sea_orm(column_type = "Text", nullable)]
    pub sync_token: Option<String>,
    pub channel_id: Option<String>,
    pub channel_resource_id: Option<String>,
    pub channel_token_hash: Option<String>,
    pub channel_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
