use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub doc_id: Uuid,
    pub user_id: Option<Uuid>,
    pub position: i32,
    pub heading: String,
    pub content: String,
    pub content_hash: String,
    pub model: Option<String>,
    pub dimensions: Option<i32>,
    pub vector: Option<Vec<u8>>,
    pub embedded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
