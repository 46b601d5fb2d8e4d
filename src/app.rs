//! `App::build(settings)`: connect and migrate the database, load the key ring, bind the
//! listener (port 0 in tests); `run` serves until the shutdown token is cancelled, then stops
//! within its bound.
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_sessions::session_store::ExpiredDeletion;

use crate::config::{default_instance_id, redact_url, Settings};
use crate::db::session_store::DbSessionStore;
use crate::providers::Providers;
use crate::secrets::KeyRing;
use crate::web::{self, AppState};

pub struct App {
    listener: TcpListener,
    router: Router,
    pub addr: SocketAddr,
    /// `/metrics` without a token on its own address (`THREADLINE_METRICS_BIND`), bound.
    metrics: Option<(TcpListener, Router)>,
    pub metrics_addr: Option<SocketAddr>,
    scrape: web::metrics::Scrape,
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub keys: KeyRing,
    pub providers: Arc<Providers>,
    /// Live pages' streams on this instance.
    pub live: web::live_hub::LiveHub,
    /// This instance's sync workers, as `/readyz` counts them.
    pub workers: crate::lifecycle::Workers,
}

impl App {
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let keys = KeyRing::load_or_create(settings.secret_key.as_deref(), &settings.data_dir)?;
        let db = crate::db::connect(&settings.database_url)
            .await
            .with_context(|| format!("cannot open {}", redact_url(&settings.database_url)))?;
        crate::db::migrate(&db)
            .await
            .context("database migration failed")?;
        crate::db::links::backfill::run(&db)
            .await
            .context("filling participants' registrable domains failed")?;
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let addr = listener.local_addr()?;
        if settings.base_url == format!("http://{}", settings.bind) {
            // Derived from the bind address: follow the port actually bound (port 0 in tests).
            settings.base_url = format!("http://{addr}");
        }
        if settings.instance_id == default_instance_id(settings.bind) {
            // Derived from the bind address too: the port actually bound (port 0: each
            // instance its own).
            settings.instance_id = default_instance_id(addr);
        }
        let metrics = match settings.metrics_bind {
            Some(bind) => Some(
                TcpListener::bind(bind)
                    .await
                    .with_context(|| format!("cannot serve /metrics on {bind}"))?,
            ),
            None => None,
        };
        let metrics_addr = metrics.as_ref().map(TcpListener::local_addr).transpose()?;
        if settings.metrics_enabled() {
            crate::telemetry::exporter::install();
            crate::telemetry::record::set_mailbox_labels(settings.metrics_mailbox_labels);
        }
        let settings = Arc::new(settings);
        let checked = crate::mailboxes::keys::check(&db, &keys).await?;
        tracing::debug!(
            credentials = checked,
            "every stored credential opens with the key ring"
        );
        let providers = Arc::new(Providers::from_settings(&settings)?);
        let state = AppState {
            db: db.clone(),
            settings: settings.clone(),
            keys: Arc::new(keys.clone()),
            providers: providers.clone(),
            live: web::live_hub::LiveHub::new(db.clone()),
            workers: crate::lifecycle::Workers::new(settings.sync_workers),
            scrape: web::metrics::Scrape::new(settings.metrics_token.as_deref(), db.clone()),
        };
        let live = state.live.clone();
        let workers = state.workers.clone();
        let scrape = state.scrape.clone();
        let metrics = metrics.map(|l| (l, web::metrics::separate(scrape.clone())));
        let router = web::router(state);
        Ok(Self {
            listener,
            router,
            addr,
            metrics,
            metrics_addr,
            scrape,
            db,
            settings,
            keys,
            providers,
            live,
            workers,
        })
    }

    /// What mailbox operations need (tests, the CLI and workers use it too).
    pub fn mail_deps(&self) -> crate::mailboxes::MailDeps {
        crate::mailboxes::MailDeps {
            db: self.db.clone(),
            keys: Arc::new(self.keys.clone()),
            providers: self.providers.clone(),
            blobs: crate::db::blobs::BlobDir::under(&self.settings.data_dir),
        }
    }

    /// What the webhook delivery worker needs (tests call its step with it).
    pub fn webhook_deps(&self) -> crate::webhooks::WebhookDeps {
        crate::webhooks::WebhookDeps::new(
            self.db.clone(),
            Arc::new(self.keys.clone()),
            self.settings.webhook_allow_private,
        )
    }

    /// Serve until `shutdown` is cancelled, then stop within `THREADLINE_SHUTDOWN_SECONDS`: no
    /// work is claimed any more, running sync passes end at their next committed page and
    /// give their mailboxes back, live streams end, in-flight requests finish. What still runs
    /// at the deadline is abandoned, and the leases it holds are logged (they expire).
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let store = DbSessionStore::new(self.db.clone());
        let cleanup = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                if let Err(err) = store.delete_expired().await {
                    tracing::warn!(error = %err, "could not delete expired sessions; will retry");
                }
            }
        });
        // Planner statistics for growth that no sync pass reported (imports, marks, links).
        let statistics = tokio::spawn(crate::db::maintenance::periodic(self.db.clone()));
        let instance = &self.settings.instance_id;
        let sync_ids: Vec<String> = (0..self.settings.sync_workers)
            .map(|i| format!("{instance}-sync-{i}"))
            .collect();
        let job_ids: Vec<String> = (0..self.settings.job_workers)
            .map(|i| format!("{instance}-jobs-{i}"))
            .collect();
        // One directory sync worker per instance with job workers (the job lease keeps one
        // runner per connection).
        let directory_id = format!("{instance}-directory");
        // And one retention worker (the job lease keeps one pruning per organization a day).
        let retention_id = format!("{instance}-retention");
        // And one reference-rule apply worker.
        let references_id = format!("{instance}-references");
        // And one webhook delivery worker (leases keep each delivery to one attempt at a time).
        let webhooks_id = format!("{instance}-webhooks");
        // What this instance held before a restart is free at once, its runs closed.
        let own: Vec<String> = sync_ids
            .iter()
            .chain(&job_ids)
            .chain([&directory_id, &retention_id, &references_id])
            .cloned()
            .collect();
        if let Err(e) = crate::sync::worker::reclaim(&self.db, &own).await {
            tracing::warn!(error = %e, "could not reclaim this instance's leases");
        }
        let (lease, slice) = (self.settings.sync_lease, self.settings.sync_slice);
        // Half the shutdown bound for a running pass to reach a page; the rest to give its
        // mailbox back and finish the web requests.
        let grace = self.settings.shutdown_timeout / 2;
        // The workers' own pool: they can never take the web's connections.
        let mut sync_deps = self.mail_deps();
        if !sync_ids.is_empty() {
            let size = crate::db::sync_pool_size(sync_ids.len());
            sync_deps.db = crate::db::connect_sized(&self.settings.database_url, Some(size))
                .await
                .context("cannot open the sync workers' database pool")?;
            self.scrape.pools.add(sync_deps.db.clone());
        }
        // Wakes announced by other instances reach this one's idle workers at once.
        let wake_listener = (!sync_ids.is_empty())
            .then(|| crate::sync::wake::listen(&sync_deps.db, shutdown.child_token()))
            .flatten();
        let tasks: Vec<_> = sync_ids
            .into_iter()
            .map(|id| {
                let running = self.workers.clone();
                let worker = crate::sync::worker::run_sliced(
                    sync_deps.clone(),
                    id,
                    lease,
                    slice,
                    grace,
                    shutdown.child_token(),
                );
                tokio::spawn(async move {
                    let _running = running.started();
                    worker.await;
                })
            })
            .chain(job_ids.into_iter().map(|id| {
                tokio::spawn(crate::reassociation::job::run(
                    self.db.clone(),
                    id,
                    shutdown.child_token(),
                ))
            }))
            .chain((self.settings.job_workers > 0).then(|| {
                tokio::spawn(crate::references::job::run(
                    self.db.clone(),
                    references_id,
                    shutdown.child_token(),
                ))
            }))
            .chain((self.settings.job_workers > 0).then(|| {
                tokio::spawn(crate::directory_sync::job::run(
                    self.mail_deps(),
                    directory_id,
                    shutdown.child_token(),
                ))
            }))
            .chain((self.settings.job_workers > 0).then(|| {
                tokio::spawn(crate::webhooks::deliver::run(
                    self.webhook_deps(),
                    webhooks_id,
                    shutdown.child_token(),
                ))
            }))
            .chain(
                (self.settings.job_workers > 0 && self.settings.retention_days > 0).then(|| {
                    tokio::spawn(crate::retention::run(
                        self.db.clone(),
                        retention_id,
                        self.settings.retention_days,
                        crate::db::blobs::BlobDir::under(&self.settings.data_dir),
                        shutdown.child_token(),
                    ))
                }),
            )
            .collect();
        // Event streams never end by themselves: end them so the server can stop.
        let live = self.live.clone();
        let stop_streams = shutdown.clone();
        tokio::spawn(async move {
            stop_streams.cancelled().await;
            live.close();
        });
        let metrics_server = self.metrics.map(|(listener, router)| {
            let stop = shutdown.clone().cancelled_owned();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::warn!(error = %e, "the /metrics server failed");
                }
            })
        });
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .into_future();
        let mut web = tokio::spawn(serving);
        let early = tokio::select! {
            () = shutdown.cancelled() => None,
            ended = &mut web => Some(ended),
        };
        // Whatever ended the serving, everything else stops with it, within the bound.
        shutdown.cancel();
        let bound = self.settings.shutdown_timeout;
        tracing::info!(
            seconds = bound.as_secs(),
            "stopping: no new work is claimed; running sync passes stop at their next page"
        );
        cleanup.abort();
        statistics.abort();
        if let Some(server) = metrics_server {
            // A scrape in flight finishes; the bound holds whatever it does.
            let _ = tokio::time::timeout(bound, server).await;
        }
        if let Some(listener) = wake_listener {
            listener.abort();
        }
        let began = tokio::time::Instant::now();
        let deadline = began + bound;
        let outcome = match early {
            Some(ended) => Some(ended),
            None => tokio::time::timeout_at(deadline, &mut web).await.ok(),
        };
        // The workers saw the same cancellation: they stop at their next committed page and
        // give their leases back. What is still running at the deadline is left.
        let mut overdue = outcome.is_none();
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                overdue = true;
            }
        }
        if overdue {
            web.abort();
            crate::lifecycle::log_leases_left(&self.db, &own).await;
        }
        tracing::info!(
            elapsed_ms = began.elapsed().as_millis(),
            within_bound = !overdue,
            "stopped"
        );
        match outcome {
            Some(Ok(result)) => result.context("web server failed"),
            Some(Err(join)) => Err(anyhow::anyhow!("web server task failed: {join}")),
            None => Ok(()),
        }
    }
}
