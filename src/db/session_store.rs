//! tower-sessions store on our own database, so sessions survive restarts and are shared by
//! every instance. Expired rows are invisible at once and deleted periodically. Rows are keyed
//! by the SHA-256 (hex) of the session id, never the id itself: whoever reads the database (a
//! backup, a copied file) cannot present its keys as session cookies.
use std::collections::HashMap;

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use super::entities::sessions::{self, Entity as Sessions};
use super::timeline::sql::Sql;
use super::users::{self, Reconnect, SignedIn, SIGNED_IN_COLUMNS};

/// Session data key under which the signed-in user is stored (see `web::session`).
pub const USER_KEY: &str = "auth.user";

/// Session data key under which [`DbSessionStore::load`] puts the session's user as the
/// database has them now ([`LoadedUser`]), read with the session in one statement so that a
/// request does not look the user up again. Never stored: `save` leaves it out.
pub const LOADED_USER_KEY: &str = "auth.loaded";

/// The session's user and their mailboxes that need reconnecting, as read with the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadedUser {
    pub user: SignedIn,
    pub reconnect: Reconnect,
}

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn row(record: &Record) -> session_store::Result<sessions::ActiveModel> {
        let stored: HashMap<&String, &serde_json::Value> = record
            .data
            .iter()
            .filter(|(key, _)| key.as_str() != LOADED_USER_KEY)
            .collect();
        let data = serde_json::to_string(&stored)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let user_id = record
            .data
            .get(USER_KEY)
            .and_then(|v| v.get("user_id"))
            .and_then(serde_json::Value::as_i64);
        Ok(sessions::ActiveModel {
            id: Set(stored_id(&record.id.to_string())),
            data: Set(data),
            expires_at: Set(to_chrono(record.expiry_date)),
            user_id: Set(user_id),
        })
    }
}

fn to_chrono(t: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    let nanos = t.unix_timestamp_nanos();
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, sub / 1000 * 1000).unwrap_or_default()
}

fn to_time(t: chrono::DateTime<chrono::Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(backend)`
fn backend(e: sea_orm::DbErr) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // 128-bit random ids practically never collide; still, never overwrite another session.
        loop {
            let exists = Sessions::find_by_id(stored_id(&record.id.to_string()))
                .one(&self.db)
                .await
                .map_err(backend)?
                .is_some();
            if !exists {
                break;
            }
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        Sessions::insert(Self::row(record)?)
            .on_conflict(
                OnConflict::column(sessions::Column::Id)
                    .update_columns([
                        sessions::Column::Data,
                        sessions::Column::ExpiresAt,
                        sessions::Column::UserId,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        // The session with its user (see LOADED_USER_KEY): one round trip for what every
        // signed-in request reads first.
        let mut sql = Sql::default();
        sql.push(&format!(
            "SELECT s.data, s.expires_at, {SIGNED_IN_COLUMNS} FROM sessions s \
             LEFT JOIN users u ON u.id = s.user_id"
        ));
        users::join_reconnect(&mut sql);
        sql.push(" WHERE s.id = ")
            .bind(stored_id(&id.to_string()))
            .push(" AND s.expires_at > ")
            .bind(super::now())
            .push(" ORDER BY a.id");
        let rows = self
            .db
            .query_all(sql.build(self.db.get_database_backend()))
            .await
            .map_err(backend)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let (data, expires_at): (String, chrono::DateTime<chrono::Utc>) = (
            first.try_get_by_index(0).map_err(backend)?,
            first.try_get_by_index(1).map_err(backend)?,
        );
        let mut data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        data.remove(LOADED_USER_KEY);
        if let Some((user, reconnect)) = users::signed_in_of(&rows, 2).map_err(backend)? {
            let loaded = serde_json::to_value(LoadedUser { user, reconnect })
                .map_err(|e| session_store::Error::Encode(e.to_string()))?;
            data.insert(LOADED_USER_KEY.to_string(), loaded);
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: to_time(expires_at),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        Sessions::delete_by_id(stored_id(&id.to_string()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        Sessions::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(super::now()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// The key a session's row is stored under: the SHA-256 of its id (the cookie value), in hex.
pub fn stored_id(session_id: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    Sha256::digest(session_id.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// End every session of `user_id` except the one with id `keep` (sign out other devices;
/// disabled users).
pub async fn delete_user_sessions(
    db: &DatabaseConnection,
    user_id: i64,
    keep: Option<&str>,
) -> Result<u64, sea_orm::DbErr> {
    let mut q = Sessions::delete_many().filter(sessions::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        q = q.filter(sessions::Column::Id.ne(stored_id(keep)));
    }
    Ok(q.exec(db).await?.rows_affected)
}
