//! Registered OAuth clients (`--clients FILE`), shared by both providers' token endpoints. Without a file every client id/secret is
//! accepted. File format (JSON), shared by both providers:
//!
//! ```json
//! [{"client_id": "abc", "client_secret": "s3cret", "redirect_uris": ["http://127.0.0.1:3000/cb"]}]
//! ```

use serde::Deserialize;

use super::EmulatorState;

#[derive(Debug, Clone, Deserialize)]
pub struct RegisteredClient {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

/// The registered clients, `None` when any client is accepted.
#[derive(Debug, Default)]
pub struct Clients(pub Option<Vec<RegisteredClient>>);

/// Read `config.clients_file` into the state's extension slot.
pub fn load(state: &EmulatorState) -> anyhow::Result<()> {
    let Some(path) = &state.config.clients_file else {
        return Ok(());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading --clients {}: {e}", path.display()))?;
    let list: Vec<RegisteredClient> = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("parsing --clients {}: {e}", path.display()))?;
    *state.ext.get::<parking_lot::RwLock<Clients>>().write() = Clients(Some(list));
    Ok(())
}

/// Why a client was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCheck {
    Ok,
    UnknownClient,
    BadSecret,
    RedirectMismatch,
}

/// Check a client id, optionally its secret and redirect URI, against the registry.
pub fn check(
    state: &EmulatorState,
    client_id: &str,
    secret: Option<&str>,
    redirect_uri: Option<&str>,
) -> ClientCheck {
    let clients = state.ext.get::<parking_lot::RwLock<Clients>>();
    let clients = clients.read();
    let Some(list) = &clients.0 else {
        return ClientCheck::Ok;
    };
    let Some(client) = list.iter().find(|c| c.client_id == client_id) else {
        return ClientCheck::UnknownClient;
    };
    if let (Some(expected), Some(given)) = (&client.client_secret, secret) {
        if expected != given {
            return ClientCheck::BadSecret;
        }
    }
    if let Some(uri) = redirect_uri {
        if !client.redirect_uris.iter().any(|r| r == uri) {
            return ClientCheck::RedirectMismatch;
        }
    }
    ClientCheck::Ok
}
