//! Users: the account row and its profile.

use chrono::Utc;
use planwright_domain::{DisplayName, Email, NewUser, TimeZone, User, UserChanges, WorkingHours};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::{StoreError, entities::users};

const TABLE: &str = "users";

/// A user with the password hash, for checking a login.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account.
    pub user: User,
    /// PHC-format password hash.
    pub password_hash: String,
}

/// Creates an account; [`StoreError::Conflict`] when the email is taken.
#[tracing::instrument(skip_all)]
pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<User, StoreError> {
    let now = Utc::now();
    let row = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.as_str().to_owned()),
        password_hash: Set(new.password_hash),
        name: Set(new.name.map(|n| n.as_str().to_owned())),
        timezone: Set(new.timezone.name().to_owned()),
        working_hours: Set(hours_to_json(&new.working_hours)?),
        schedule_preferences: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(StoreError::on_unique("email already registered"))?;
    to_user(row)
}

/// The user with this id.
pub async fn find(db: &impl ConnectionTrait, user_id: Uuid) -> Result<User, StoreError> {
    let row = users::Entity::find_by_id(user_id).one(db).await?.ok_or(StoreError::NotFound)?;
    to_user(row)
}

/// The account's time zone, reading that column only.
pub async fn time_zone(db: &impl ConnectionTrait, user_id: Uuid) -> Result<TimeZone, StoreError> {
    let zone: String = users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::Timezone)
        .into_tuple()
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    TimeZone::parse(&zone)
        .map_err(|e| StoreError::Corrupt { table: "users", message: format!("timezone: {}", e.message) })
}

/// Whether the account still exists (a cheap check for authenticated requests: the primary key
/// only, no row decoded).
pub async fn exists(db: &impl ConnectionTrait, user_id: Uuid) -> Result<bool, StoreError> {
    let id: Option<Uuid> = users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok(id.is_some())
}

/// The account and its password hash for a login address.
pub async fn find_credentials(db: &impl ConnectionTrait, email: &Email) -> Result<Credentials, StoreError> {
    let row = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let password_hash = row.password_hash.clone();
    Ok(Credentials { user: to_user(row)?, password_hash })
}

/// Applies a partial profile update and returns the result.
#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    changes: UserChanges,
) -> Result<User, StoreError> {
    let row = users::Entity::find_by_id(user_id).one(db).await?.ok_or(StoreError::NotFound)?;
    let mut active: users::ActiveModel = row.into();
    if let Some(name) = changes.name {
        active.name = Set(name.map(|n| n.as_str().to_owned()));
    }
    if let Some(timezone) = changes.timezone {
        active.timezone = Set(timezone.name().to_owned());
    }
    if let Some(hours) = changes.working_hours {
        active.working_hours = Set(hours_to_json(&hours)?);
    }
    if let Some(preferences) = changes.schedule_preferences {
        active.schedule_preferences =
            Set(Some(serde_json::to_value(preferences).map_err(|e| corrupt(e.to_string()))?));
    }
    active.updated_at = Set(Utc::now());
    to_user(active.update(db).await?)
}

/// Deletes the account; every row it owns goes with it (foreign keys cascade).
#[tracing::instrument(skip(db))]
pub async fn delete(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), StoreError> {
    let result = users::Entity::delete_by_id(user_id).exec(db).await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

fn hours_to_json(hours: &WorkingHours) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(hours).map_err(|e| corrupt(e.to_string()))
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { table: TABLE, message }
}

fn to_user(row: users::Model) -> Result<User, StoreError> {
    Ok(User {
        id: row.id,
        email: Email::parse(&row.email).map_err(|e| corrupt(e.to_string()))?,
        name: row.name.as_deref().map(DisplayName::parse).transpose().map_err(|e| corrupt(e.to_string()))?,
        timezone: TimeZone::parse(&row.timezone).map_err(|e| corrupt(e.to_string()))?,
        working_hours: serde_json::from_value(row.working_hours).map_err(|e| corrupt(e.to_string()))?,
        schedule_preferences: row
            .schedule_preferences
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?
            .unwrap_or_default(),
        created_at: row.created_at,
    })
}
