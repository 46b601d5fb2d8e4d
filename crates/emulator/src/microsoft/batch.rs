//! `POST /v1.0/$batch`: at most 20 requests with unique ids, each run through the Graph router
//! on its own (own throttling, own `Retry-After`), up to 4 at a time, responses in completion
//! order (trap 19); `dependsOn` runs in order and a failed dependency yields 424.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower::ServiceExt as _;

use super::error::{odata_json, GraphError};
use crate::latency::Endpoint;
use crate::SharedState;

/// Most requests in one batch.
pub const MAX_REQUESTS: usize = 20;
/// Sub-requests run in parallel.
const PARALLEL: usize = 4;

#[derive(Debug, Deserialize)]
struct BatchBody {
    requests: Vec<SubRequest>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubRequest {
    id: String,
    method: String,
    url: String,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    depends_on: Vec<String>,
}

pub async fn batch(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphError> {
    state.serve(Endpoint::GraphBatch).await;
    let parsed: BatchBody = serde_json::from_slice(&body)
        .map_err(|e| GraphError::bad_request(format!("Invalid batch payload format: {e}")))?;
    if parsed.requests.is_empty() {
        return Err(GraphError::bad_request(
            "The batch request must contain at least one request.",
        ));
    }
    if parsed.requests.len() > MAX_REQUESTS {
        return Err(GraphError::bad_request(format!(
            "Number of batch requests exceeds the limit of {MAX_REQUESTS}."
        )));
    }
    let mut seen = HashSet::new();
    for r in &parsed.requests {
        if !seen.insert(r.id.as_str()) {
            return Err(GraphError::bad_request(format!(
                "Request Id '{}' must be unique in the batch.",
                r.id
            )));
        }
        if let Some(dep) = r
            .depends_on
            .iter()
            .find(|d| !parsed.requests.iter().any(|x| &x.id == *d))
        {
            return Err(GraphError::bad_request(format!(
                "Request '{}' depends on unknown request '{dep}'.",
                r.id
            )));
        }
    }
    let app = super::graph_router().with_state(state.clone());
    let outer = Arc::new(headers);
    let responses = if parsed.requests.iter().any(|r| !r.depends_on.is_empty()) {
        sequential(&app, &outer, parsed.requests).await
    } else {
        parallel(&app, &outer, parsed.requests).await
    };
    Ok(odata_json(
        StatusCode::OK,
        &json!({ "responses": responses }),
    ))
}

async fn sequential(
    app: &axum::Router,
    outer: &Arc<HeaderMap>,
    requests: Vec<SubRequest>,
) -> Vec<Value> {
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut out = Vec::new();
    for r in requests {
        let failed = r
            .depends_on
            .iter()
            .any(|d| statuses.get(d).is_none_or(|s| *s >= 400));
        let response = if failed {
            json!({"id": r.id, "status": 424, "headers": {"Content-Type": "application/json"},
                   "body": GraphError::new(StatusCode::FAILED_DEPENDENCY, "FailedDependency", "A request on which this request depends failed.").body()})
        } else {
            run(app.clone(), outer, &r).await
        };
        statuses.insert(
            r.id.clone(),
            u16::try_from(response["status"].as_u64().unwrap_or(500)).unwrap_or(500),
        );
        out.push(response);
    }
    out
}

async fn parallel(
    app: &axum::Router,
    outer: &Arc<HeaderMap>,
    requests: Vec<SubRequest>,
) -> Vec<Value> {
    let slots = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut set = tokio::task::JoinSet::new();
    for r in requests {
        let (app, outer, slots) = (app.clone(), outer.clone(), slots.clone());
        set.spawn(async move {
            let _slot = slots.acquire_owned().await;
            run(app, &outer, &r).await
        });
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        if let Ok(v) = done {
            out.push(v);
        }
    }
    out
}

/// Run one sub-request through the router and render its batch response.
async fn run(app: axum::Router, outer: &HeaderMap, r: &SubRequest) -> Value {
    let bad = |message: &str| json!({"id": r.id, "status": 400, "headers": {"Content-Type": "application/json"}, "body": GraphError::bad_request(message).body()});
    let Ok(method) = Method::from_bytes(r.method.to_ascii_uppercase().as_bytes()) else {
        return bad("Invalid HTTP method.");
    };
    if r.url.contains("://") {
        return bad("Batch request URLs must be relative to the service root, e.g. /me/messages.");
    }
    let uri = format!("/v1.0/{}", r.url.trim_start_matches('/'));
    let mut builder = Request::builder().method(method).uri(uri);
    for name in ["authorization", "client-request-id"] {
        if let Some(v) = outer.get(name) {
            builder = builder.header(name, v);
        }
    }
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body = match &r.body {
        None => Body::empty(),
        Some(Value::String(s)) => Body::from(s.clone()),
        Some(v) => Body::from(v.to_string()),
    };
    let Ok(request) = builder.body(body) else {
        return bad("Invalid request in batch.");
    };
    let request = super::odata_paths::rewrite(request);
    let Ok(response) = app.oneshot(request).await;
    let mut status = response.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let keep = matches!(
            name.as_str(),
            "content-type"
                | "retry-after"
                | "location"
                | "preference-applied"
                | "odata-version"
                | "cache-control"
        );
        if let (true, Ok(v)) = (keep, value.to_str()) {
            headers.insert(pretty(name.as_str()), json!(v));
        }
    }
    // A sub-request whose answer broke off (an injected drop) is reported as a gateway
    // timeout, as Graph does when a backend does not answer.
    let bytes = if let Ok(bytes) = axum::body::to_bytes(response.into_body(), usize::MAX).await {
        bytes
    } else {
        status = 504;
        let timeout = GraphError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "GatewayTimeout",
            "The gateway timed out.",
        );
        Bytes::from(timeout.body().to_string())
    };
    let mut out = json!({"id": r.id, "status": status, "headers": headers});
    if !bytes.is_empty() {
        out["body"] = serde_json::from_slice::<Value>(&bytes)
            .unwrap_or_else(|_| json!(STANDARD.encode(&bytes)));
    }
    out
}

/// `retry-after` -> `Retry-After`.
fn pretty(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}
