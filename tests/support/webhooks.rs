//! A webhook receiver for tests (an axum server on 127.0.0.1:0 that records what it is sent
//! and answers with scripted statuses), and an independent check of Standard Webhooks
//! signatures (HMAC-SHA256 computed here, not by Threadline's code).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Hit {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Clone, Default)]
struct Shared {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Statuses to answer, in order; 200 once they run out (or `always` when set).
    script: Arc<Mutex<VecDeque<u16>>>,
    always: Option<u16>,
}

pub struct Receiver {
    pub url: String,
    shared: Shared,
}

async fn receive(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    s.hits.lock().unwrap().push(Hit {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let next = s.script.lock().unwrap().pop_front();
    let code = next.or(s.always).unwrap_or(200);
    StatusCode::from_u16(code).expect("a status")
}

impl Receiver {
    /// Answers `script` in order, then 200.
    pub async fn start(script: &[u16]) -> Self {
        Self::serve(Shared {
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            ..Shared::default()
        })
        .await
    }

    /// Answers `status` to everything.
    pub async fn always(status: u16) -> Self {
        Self::serve(Shared {
            always: Some(status),
            ..Shared::default()
        })
        .await
    }

    async fn serve(shared: Shared) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hook"),
            shared,
        }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }
}

/// Does `hit` carry a valid `v1` signature by `secret` (`whsec_` + base64)? Computed here with
/// the `hmac` crate over `{id}.{timestamp}.{body}`; any of the space-separated signatures may
/// match.
pub fn verify(secret: &str, hit: &Hit) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", hit.id, hit.timestamp, hit.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    hit.signature.split(' ').any(|s| s == expected)
}

/// The secret a creation or rotation page shows once.
pub fn secret_in(html: &str) -> String {
    let html = html
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#43;", "+")
        .replace("&#x3d;", "=");
    let at = html.find("whsec_").expect("a secret on the page");
    html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '/' | '='))
        .collect()
}
