//! `/metrics` in Prometheus text format: on the web server's address behind a bearer token
//! (`THREADLINE_METRICS_TOKEN`; 404 when none is configured), and on an address of its own
//! without one (`THREADLINE_METRICS_BIND`, [`separate`]). Also the middleware that counts and
//! times every request by method, matched route template and status ([`track`]).
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::AppError;
use super::AppState;
use crate::telemetry::gauges::{self, Pools};
use crate::telemetry::{exporter, record};

/// The route label of a request that matched no route (the 404 fallback).
pub const UNMATCHED: &str = "unmatched";

/// What a scrape needs: the main address's token (if any) and the instance's pools.
#[derive(Clone)]
pub struct Scrape {
    /// SHA-256 of `THREADLINE_METRICS_TOKEN`: compared in constant time, never logged.
    token: Option<Arc<[u8; 32]>>,
    pub pools: Pools,
}

impl Scrape {
    pub fn new(token: Option<&str>, web: DatabaseConnection) -> Self {
        Self {
            token: token.map(|t| Arc::new(digest(t))),
            pools: Pools::new(web),
        }
    }
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// `/metrics` on the web server's address (token required).
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(guarded))
}

/// `/metrics` alone, without a token, for `THREADLINE_METRICS_BIND`.
pub fn separate(scrape: Scrape) -> Router {
    Router::new()
        .route("/metrics", get(open))
        .layer(axum::middleware::from_fn(track))
        .with_state(scrape)
}

async fn guarded(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    let Some(expected) = &scrape.token else {
        return AppError::NotFound.into_response();
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| digest(t.trim()));
    let authorized = given.is_some_and(|g| bool::from(g.ct_eq(&expected[..])));
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Bearer")],
            "a valid bearer token is required\n",
        )
            .into_response();
    }
    page(&scrape).await
}

async fn open(State(scrape): State<Scrape>) -> Response {
    page(&scrape).await
}

/// One scrape at a time: the gauges are the process's, refreshed then rendered together (and
/// two scrapes at once would only read the same figures twice).
static SCRAPING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn page(scrape: &Scrape) -> Response {
    let _one = SCRAPING.lock().await;
    gauges::refresh(&scrape.pools).await;
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        exporter::render(),
    )
        .into_response()
}

/// Count and time a request under its matched route template (`unmatched` for the fallback):
/// the time to the response's headers, so a live stream counts when it starts.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_string(), |p| p.as_str().to_string());
    let method = req.method().clone();
    let began = Instant::now();
    let res = next.run(req).await;
    record::http_request(&method, &route, res.status().as_u16(), began.elapsed());
    res
}
