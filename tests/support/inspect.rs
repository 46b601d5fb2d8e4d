//! Looking inside: every row of every table as text, and every log line the process wrote.
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, JsonValue, Statement,
};

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
