//! A fresh database per test: SQLite in a temporary folder, or a database of its own on the
//! PostgreSQL server named by `TEST_DATABASE_URL`.
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("threadline-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let pg_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty());
        let require_pg = std::env::var("THREADLINE_REQUIRE_PG").is_ok_and(|v| v == "1");
        match pg_url {
            Some(admin_url) => {
                let name = format!("threadline_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    dir,
                    pg: Some((admin_url, name)),
                }
            }
            None if require_pg => {
                panic!("THREADLINE_REQUIRE_PG=1 but TEST_DATABASE_URL is not set")
            }
            None => {
                let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
                Self { url, dir, pg: None }
            }
        }
    }

    /// The SQLite database at `dir/data/threadline.db` (where `threadline` keeps it with
    /// `--data-dir dir/data`), e.g. one restored there from a backup; `dir` is removed when
    /// dropped.
    pub fn sqlite_in(dir: PathBuf) -> Self {
        let file = dir.join("data").join("threadline.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        Self { url, dir, pg: None }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin_url, name)) = self.pg.take() {
            // Drop runs outside async context: use a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = admin.execute_unprepared(&sql).await;
                    }
                });
                Ok::<_, std::io::Error>(())
            })
            .join();
        }
    }
}
