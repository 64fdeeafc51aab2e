use sea_orm::entity::prelude::*;

/// A chunk of a knowledge document, a resource or a plan (exactly one of `doc_id`,
/// `resource_id`, `plan_id` is set).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub doc_id: Option<Uuid>,
    pub resource_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub position: i32,
    pub heading: String,
    pub content: String,
    pub content_hash: String,
    pub model: Option<String>,
    pub dimensions: Option<i32>,
    pub embedded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub vector: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
