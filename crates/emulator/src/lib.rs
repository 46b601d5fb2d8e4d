//! Provider emulator: Google OAuth + Gmail API and Microsoft identity + Graph mail, served from
//! one HTTP listener with the control plane of `shared/CONTRACTS.md`.
//!
//! Interface fixed for the rest of Threadline (tests, `threadline demo`, benchmarks):
//! `EmulatorConfig`, `Quota`, `start(bind, config) -> RunningEmulator` (plus `shutdown`).
//!
//! Layout: `store` (mailboxes of raw messages + provider-neutral state), `changes` (the
//! per-mailbox change log behind Gmail history and Graph delta), `mime` / `encoding` /
//! `threading` / `ids` (what is derived from the raw bytes) are provider-neutral; `tokens`,
//! `faults`, `quota`, `gate` and `stats` are services both providers call; `control` is the
//! `/_emulator` control plane; `google` and `microsoft` render the providers' views; `corpus`
//! generates and imports mail.
//!
//! Pointing Threadline (or any client) at an emulator at `E`: set `GOOGLE_ACCOUNTS_URL`,
//! `GOOGLE_OAUTH2_URL`, `GOOGLE_OPENID_URL`, `GMAIL_API_URL`, `MICROSOFT_LOGIN_URL` and
//! `GRAPH_API_URL` to `E`; any client id and secret work unless `--clients` is given.
//!
//! Control plane beyond CONTRACTS.md:
//! - `GET /_emulator/faults` lists the rules; a rule with `"rate": 0` only adds `latency_ms`.
//! - `POST /_emulator/mailboxes/{address}/expire-access-tokens`: every access token of the
//!   mailbox expires now (401, then a refresh works).
//! - `GET|PATCH /_emulator/settings`: token lifetimes, Gmail quota units and costs, concurrency
//!   caps, attachment-id lifetime, push interval, the latency model (`latency`: `off` |
//!   `realistic`, `latency_scale`; see `latency`) (`state::Tunables`); PATCH merges fields.
//! - `GET /_emulator/stats` also counts quota and concurrency refusals by kind (`throttles`).
//! - `POST /_emulator/pubsub/topics` `{"topic","push_endpoint","subscription"?}` and
//!   `GET /_emulator/pubsub`: where Gmail watch notifications go (`google::gmail::watch`).
//! - Deliveries accept `starred=true` and `internal_date=<epoch ms>` besides
//!   `labels=`/`folder=`/`read=`.
//!
//! - Organization-wide access (managed Microsoft tenants, Google Workspace domains, service
//!   accounts, delegation grants): `/_emulator/microsoft/tenants/...` (`microsoft::tenant_control`)
//!   and `/_emulator/google/...` (`google::workspace_control`); see the README.
//!
//! Google extras: `GET /.well-known/openid-configuration`, `/oauth2/v3/certs`, `/tokeninfo`;
//! `--clients FILE` format in `clients`. `threadline emulator` imports an mbox file or a
//! folder of `.eml` files at start with `--import PATH --import-into ADDRESS` (`corpus::import::import_path` for code).
//!
//! The Microsoft views plug in through `microsoft::router()` (merged below), read and change
//! mail through `store::Mailbox` (`deliver`, `update_state`, `delete`, `data.read()`), derive
//! delta from `changes::ChangeLog` (`since`, `epoch`, `floor`), issue and check tokens with
//! `tokens::Tokens`, admit requests with `gate::admit`, and keep their own state in
//! `EmulatorState::ext`. Its router must not set a fallback (the main router owns it): route
//! `/v1.0/{*rest}` there to answer unknown Graph paths in Graph's shape.

pub mod changes;
pub mod client;
pub mod client_org;
pub mod clients;
pub mod control;
pub mod corpus;
pub mod crypto;
pub mod encoding;
pub mod faults;
pub mod gate;
pub mod google;
pub mod ids;
pub mod latency;
pub mod microsoft;
pub mod mime;
pub mod quota;
pub mod state;
pub mod stats;
pub mod store;
pub mod threading;
pub mod tokens;
pub mod x509;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tokio_util::sync::CancellationToken;

pub use client::{ClientError, ClientResult, EmulatorClient};
pub use latency::Latency;
pub use state::{EmulatorState, SharedState, Tunables};

/// Quota enforcement mode (`--quota realistic|off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quota {
    #[default]
    Realistic,
    Off,
}

/// How the emulator is seeded and behaves.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// Seed of the deterministic corpus generator.
    pub seed: u64,
    /// Generated mailboxes (0 = none, control plane only).
    pub mailboxes: usize,
    /// Generated messages per mailbox.
    pub messages: usize,
    pub quota: Quota,
    /// Approve consent without showing the consent page.
    pub auto_consent: bool,
    /// Restrict OAuth to the clients registered in this JSON file (format: `clients`).
    pub clients_file: Option<PathBuf>,
    /// Token lifetimes, quota figures, ... (also changeable at run time).
    pub tunables: Tunables,
    /// Import an mbox file or a folder of `.eml` files into `import_into` at start.
    pub import: Option<PathBuf>,
    pub import_into: Option<String>,
}

/// A running emulator; dropping it does not stop it, call `shutdown`.
pub struct RunningEmulator {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` with no trailing slash.
    pub base_url: String,
    /// Direct access to the store, tokens, faults (tests and the demo seed through it).
    pub state: SharedState,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    /// Stop serving and wait for the server task to finish.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }

    /// A typed client of this emulator's control plane.
    pub fn client(&self) -> EmulatorClient {
        EmulatorClient::new(self.base_url.clone())
    }

    /// A token that stops the emulator when cancelled.
    pub fn cancellation(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

/// Build the whole router: provider paths at the root plus the control plane.
pub fn router(state: SharedState) -> Router {
    let app = Router::new()
        .merge(control::router())
        .merge(google::router())
        // Microsoft Graph + identity routes (owned by src/emulator/microsoft/):
        .merge(microsoft::router())
        .fallback(not_found);
    with_stats(app, state)
}

/// Unknown paths: Google's 404 shape under the Gmail prefixes, plain text elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    use axum::response::IntoResponse as _;
    let path = uri.path();
    if path.starts_with("/gmail/") || path.starts_with("/batch") {
        google::error::GoogleError::not_found().into_response()
    } else {
        (axum::http::StatusCode::NOT_FOUND, "Not Found").into_response()
    }
}

/// Attach the statistics layer and the state.
pub fn with_stats(app: Router<SharedState>, state: SharedState) -> Router {
    app.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        record_stats,
    ))
    .with_state(state)
}

async fn record_stats(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_string(), |p| p.as_str().to_string());
    let mailbox = request_mailbox(&state, &request);
    let response = next.run(request).await;
    state
        .stats
        .record(&route, &mailbox, response.status().as_u16());
    response
}

fn request_mailbox(state: &EmulatorState, request: &Request) -> String {
    if let Some(rest) = request.uri().path().strip_prefix("/_emulator/mailboxes/") {
        return rest
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
    }
    request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| state.tokens.mailbox_of(t.trim()))
        .unwrap_or_default()
}

/// Bind and serve the emulator in the background.
pub async fn start(bind: SocketAddr, config: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
    let state = Arc::new(EmulatorState::new(config.clone()));
    clients::load(&state)?;
    let seeded = state.clone();
    tokio::task::spawn_blocking(move || corpus::seed(&seeded.store, &seeded.config)).await??;
    if let (Some(path), Some(address)) = (&config.import, &config.import_into) {
        let mailbox = match state.store.get(address) {
            Some(mailbox) => mailbox,
            None => state
                .store
                .create(store::MailboxInfo {
                    provider: store::Provider::Google,
                    address: address.clone(),
                    display_name: address.clone(),
                    tenant: None,
                })
                .ok_or_else(|| anyhow::anyhow!("--import-into {address}: cannot create"))?,
        };
        let count = corpus::import::import_path(&mailbox, path)?;
        tracing::info!(count, %address, "imported messages");
    }
    // The key that signs Gmail's Pub/Sub pushes, ready before anything is pushed.
    google::signing::prepare().await;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    state.base_url.write().clone_from(&base_url);
    let cancel = CancellationToken::new();
    google::gmail::watch::spawn_notifier(state.clone(), cancel.clone());
    // OData key segments and `delta()` forms become plain paths before routing.
    let app = axum::ServiceExt::into_make_service(tower::ServiceExt::map_request(
        router(state.clone()),
        microsoft::odata_paths::rewrite,
    ));
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(err) = served {
            tracing::error!(error = %err, "emulator server stopped");
        }
    });
    Ok(RunningEmulator {
        addr,
        base_url,
        state,
        cancel,
        task,
    })
}
