//! What the Google and the Microsoft tests share: an emulator on port 0, an HTTP client that
//! does not follow redirects, PKCE, and a local HTTP endpoint for pushes and notifications.
//! Each provider's own vocabulary (`google::support`, `graph::support`) builds on it.

use std::net::SocketAddr;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use threadline_emulator::{EmulatorConfig, RunningEmulator};

/// Start an emulator on a free local port.
pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    threadline_emulator::start(bind, config)
        .await
        .expect("emulator starts")
}

/// An HTTP client that leaves redirects to the test.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The S256 PKCE challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Serve `app` on a free local port in the background; its address.
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}
