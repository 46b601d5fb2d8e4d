//! `threadline healthcheck`: one GET of a running instance's health endpoint, for a container's
//! HEALTHCHECK (the runtime image has no curl). Exit 0 on 200, 1 otherwise, with the reason.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use clap::Args;

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The path to ask (`/healthz`: the process answers and the database too; `/readyz` where
    /// the build has it: also migrations current and workers running).
    #[arg(long, default_value = "/healthz")]
    pub path: String,
    /// The whole URL to ask instead [default: http://BIND/PATH, an unspecified bind address
    /// (0.0.0.0, ::) asked on loopback].
    #[arg(long)]
    pub url: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 5)]
    pub timeout_seconds: u64,
}

/// The URL asked by default: the bind address, on loopback when it is unspecified.
pub fn url_for(bind: SocketAddr, path: &str) -> String {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    format!("http://{}{path}", SocketAddr::new(ip, bind.port()))
}

/// GET the URL; Ok with the answer's first line on 200, an error naming what failed otherwise.
pub async fn check(bind: SocketAddr, args: &HealthcheckArgs) -> anyhow::Result<String> {
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| url_for(bind, &args.path));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_seconds.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: no answer: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let first = body.lines().next().unwrap_or_default().trim().to_string();
    anyhow::ensure!(status.is_success(), "{url}: {status}: {first}");
    Ok(format!("{url}: {first}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_bind_is_asked_on_loopback() {
        let url = |bind: &str, path| url_for(bind.parse().unwrap(), path);
        assert_eq!(
            url("0.0.0.0:3000", "/healthz"),
            "http://127.0.0.1:3000/healthz"
        );
        assert_eq!(url("[::]:8080", "readyz"), "http://[::1]:8080/readyz");
        assert_eq!(
            url("10.0.0.5:3000", "/healthz"),
            "http://10.0.0.5:3000/healthz"
        );
    }
}
