use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub message_id: Uuid,
    pub position: i32,
    pub kind: String,
    pub arguments: Json,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    pub preview: Json,
    pub target_version: Option<String>,
    pub status: String,
    pub result: Option<Json>,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
