//! `POST /batch/gmail/v1`: a multipart/mixed body of up to 100 `application/http` parts, each
//! a full HTTP request with a path-only URL, run through the Gmail router one by one (so each
//! part is authenticated, faulted and charged on its own and fails independently). The reply
//! is multipart/mixed in request order with `Content-ID: <response-ID>`.

use std::fmt::Write as _;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;

use crate::google::error::GoogleError;
use crate::latency::Latency;
use crate::tokens::random_string;
use crate::{with_stats, SharedState};

const MAX_PARTS: usize = 100;
const MAX_PART_BODY: usize = 1024 * 1024;

/// One parsed inner request.
struct Part {
    content_id: Option<String>,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn boundary_of(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    ct.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn split_head(text: &str) -> (&str, &str) {
    text.split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((text, ""))
}

fn header_lines(head: &str) -> Vec<(String, String)> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn parse_parts(body: &str, boundary: &str) -> Result<Vec<Part>, GoogleError> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in body.split(&delimiter).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let chunk = chunk.trim_start_matches(['\r', '\n']);
        let (outer_head, inner) = split_head(chunk);
        let content_id = header_lines(outer_head)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-ID"))
            .map(|(_, v)| v.trim_matches(['<', '>']).to_string());
        let (inner_head, inner_body) = split_head(inner.trim_start_matches(['\r', '\n']));
        let mut lines = inner_head.lines();
        let request_line = lines.next().unwrap_or("");
        let mut words = request_line.split_whitespace();
        let (Some(method), Some(target)) = (words.next(), words.next()) else {
            return Err(GoogleError::invalid_argument(
                "Failed to parse batch request, error: invalid request line",
            ));
        };
        let headers = header_lines(&lines.collect::<Vec<_>>().join("\n"));
        let body = inner_body
            .trim_end_matches(['\r', '\n'])
            .as_bytes()
            .to_vec();
        if body.len() > MAX_PART_BODY {
            return Err(GoogleError::invalid_argument("Batch part too large"));
        }
        parts.push(Part {
            content_id,
            method: method.to_string(),
            target: target.to_string(),
            headers,
            body,
        });
    }
    Ok(parts)
}

pub async fn batch(State(state): State<SharedState>, headers: HeaderMap, body: String) -> Response {
    let Some(boundary) = boundary_of(&headers) else {
        return GoogleError::invalid_argument(
            "Batch requests must be multipart/mixed with a boundary",
        )
        .into_response();
    };
    let parts = match parse_parts(&body, &boundary) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if parts.is_empty() {
        return GoogleError::invalid_argument("Empty batch request").into_response();
    }
    if parts.len() > MAX_PARTS {
        return GoogleError::invalid_argument(format!(
            "Too many requests in batch (at most {MAX_PARTS})"
        ))
        .into_response();
    }
    let app = with_stats(super::router(), state.clone());
    let outer_auth = headers.get(header::AUTHORIZATION).cloned();
    let out_boundary = format!("batch_{}", random_string(20));
    let count = parts.len();
    let answers = run_parts(&state, &app, parts, outer_auth).await;
    state.serve_for(state.latency.gmail_batch(count)).await;
    let mut out = String::new();
    for (id, (status, ctype, text)) in answers {
        let _ = write!(
            out,
            "--{out_boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{id}>\r\n\r\nHTTP/1.1 {} {}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n{text}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            text.len()
        );
    }
    let _ = write!(out, "--{out_boundary}--\r\n");
    (
        [(
            header::CONTENT_TYPE,
            format!("multipart/mixed; boundary={out_boundary}"),
        )],
        out,
    )
        .into_response()
}

/// Each part's id and answer, in request order. Without latency the parts are served one
/// after another; with it they run at once, as at Google, where each part is a request in
/// flight of its own (and counts against the per-user concurrency cap).
async fn run_parts(
    state: &SharedState,
    app: &axum::Router,
    parts: Vec<Part>,
    outer_auth: Option<header::HeaderValue>,
) -> Vec<(String, Answer)> {
    let ids: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(n, p)| {
            p.content_id
                .clone()
                .unwrap_or_else(|| format!("item{}", n + 1))
        })
        .collect();
    let mut answers: Vec<Option<Answer>> = Vec::with_capacity(parts.len());
    if state.tunables().latency == Latency::Off {
        for part in parts {
            answers.push(Some(run_part(app, part, outer_auth.as_ref()).await));
        }
    } else {
        answers.resize_with(parts.len(), || None);
        let mut set = tokio::task::JoinSet::new();
        for (n, part) in parts.into_iter().enumerate() {
            let (app, auth) = (app.clone(), outer_auth.clone());
            set.spawn(async move { (n, run_part(&app, part, auth.as_ref()).await) });
        }
        while let Some(joined) = set.join_next().await {
            if let Ok((n, answer)) = joined {
                answers[n] = Some(answer);
            }
        }
    }
    ids.into_iter()
        .zip(answers)
        .map(|(id, answer)| {
            let answer = answer.unwrap_or_else(|| {
                let e = GoogleError::new(500, "Backend Error", "backendError", "INTERNAL");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "application/json; charset=UTF-8".into(),
                    e.body().to_string(),
                )
            });
            (id, answer)
        })
        .collect()
}

/// A part's status, content type and body.
type Answer = (StatusCode, String, String);

async fn run_part(
    app: &axum::Router,
    part: Part,
    outer_auth: Option<&header::HeaderValue>,
) -> Answer {
    let target = url::Url::parse(&part.target).map_or(part.target.clone(), |u| {
        u.query()
            .map_or_else(|| u.path().to_string(), |q| format!("{}?{q}", u.path()))
    });
    let mut builder = Request::builder().method(part.method.as_str()).uri(&target);
    let mut has_auth = false;
    for (k, v) in &part.headers {
        // The inner body is re-framed here; its length and host headers do not apply.
        if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("host") {
            continue;
        }
        has_auth |= k.eq_ignore_ascii_case("authorization");
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let (false, Some(auth)) = (has_auth, outer_auth) {
        builder = builder.header(header::AUTHORIZATION, auth.clone());
    }
    let Ok(request) = builder.body(Body::from(part.body)) else {
        let e = GoogleError::invalid_argument("Invalid request in batch part");
        return (
            StatusCode::BAD_REQUEST,
            "application/json; charset=UTF-8".into(),
            e.body().to_string(),
        );
    };
    let Ok(response) = app.clone().oneshot(request).await;
    let status = response.status();
    let ctype = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json; charset=UTF-8")
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    (status, ctype, String::from_utf8_lossy(&bytes).into_owned())
}
