//! Looking inside: every row of every table as text, an email's links, and every log line the
//! process wrote.
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    JsonValue, QueryFilter, Statement,
};
use threadline::db::entities::email_links;

/// An email's link as compared: to a business or a contact (by id), and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    pub business: Option<i64>,
    pub contact: Option<i64>,
    pub reason: String,
}

impl Link {
    /// A link to the business `id` for `reason`.
    pub fn business(id: i64, reason: &str) -> Self {
        Self {
            business: Some(id),
            contact: None,
            reason: reason.to_string(),
        }
    }

    /// A link to the contact `id` for `reason`.
    pub fn contact(id: i64, reason: &str) -> Self {
        Self {
            business: None,
            contact: Some(id),
            reason: reason.to_string(),
        }
    }
}

/// The links of an email, sorted; without tombstones when `live_only`.
pub async fn email_links_of(db: &DatabaseConnection, email: i64, live_only: bool) -> Vec<Link> {
    let mut query = email_links::Entity::find().filter(email_links::Column::EmailId.eq(email));
    if live_only {
        query = query.filter(email_links::Column::Tombstone.eq(false));
    }
    let mut out: Vec<Link> = query
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| Link {
            business: l.business_id,
            contact: l.contact_id,
            reason: l.reason.to_string(),
        })
        .collect();
    out.sort();
    out
}

/// All rows of all tables, serialized (a database dump for leak checks).
pub async fn dump(db: &DatabaseConnection) -> String {
    let backend = db.get_database_backend();
    let list = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables = JsonValue::find_by_statement(Statement::from_string(backend, list))
        .all(db)
        .await
        .unwrap();
    let mut out = String::new();
    for table in tables {
        let name = table["name"].as_str().unwrap().to_string();
        let sql = format!("SELECT * FROM \"{name}\"");
        let rows = JsonValue::find_by_statement(Statement::from_string(backend, sql))
            .all(db)
            .await
            .unwrap();
        let _ = writeln!(out, "== {name}\n{}", serde_json::to_string(&rows).unwrap());
    }
    out
}

#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Capture every log line of this test process at debug level (installed once).
pub fn capture_logs() -> LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buffer
    })
    .clone()
}

pub async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap();
}
