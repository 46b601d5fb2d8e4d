//! The latency model on the Graph side: a `$value` fetch stays in flight for its service time,
//! so a burst above Outlook's 4 concurrent requests per app and mailbox gets 429
//! `ApplicationThrottled` "MailboxConcurrency" with Retry-After, one within it never does.

use std::time::{Duration, Instant};

use serde_json::Value;
use threadline_emulator::{Latency, Quota};

use crate::graph::support::{emulator, raw, Emu, ME, TENANT};

const T0: i64 = 1_727_776_800_000;

async fn seeded(latency: Latency, scale: f64) -> (Emu, String, String) {
    let emu = emulator(Quota::Realistic, true).await;
    emu.emu
        .client()
        .set_latency(latency, scale)
        .await
        .expect("latency");
    let id = emu.deliver(ME, raw("v1@x", "Value", "", "body"), "inbox", T0);
    let token = emu.app_token(TENANT).await;
    (emu, token, format!("/v1.0/users/{ME}/messages/{id}/$value"))
}

/// `n` GETs at once: status, Retry-After and JSON body (Null for MIME).
async fn burst(emu: &Emu, token: &str, path: &str, n: usize) -> Vec<(u16, Option<String>, Value)> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (http, url) = (emu.http.clone(), format!("{}{path}", emu.base()));
        let token = token.to_string();
        set.spawn(async move {
            let r = http.get(url).bearer_auth(token).send().await.expect("get");
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = r.json::<Value>().await.unwrap_or(Value::Null);
            (status, retry, body)
        });
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        out.push(done.expect("task"));
    }
    out
}

#[tokio::test]
async fn a_burst_above_four_gets_mailbox_concurrency_with_retry_after() {
    let (emu, token, path) = seeded(Latency::Realistic, 2.0).await;
    let results = burst(&emu, &token, &path, 10).await;
    let refused: Vec<_> = results.iter().filter(|(s, _, _)| *s != 200).collect();
    assert!(!refused.is_empty(), "10 at once over 4: {results:?}");
    assert!(results.iter().filter(|(s, _, _)| *s == 200).count() >= 4);
    for (status, retry, body) in refused {
        assert_eq!(*status, 429);
        assert!(retry
            .as_deref()
            .and_then(|r| r.parse::<u64>().ok())
            .is_some());
        assert_eq!(body["error"]["code"], "ApplicationThrottled");
        assert_eq!(
            body["error"]["message"],
            "Application is over its MailboxConcurrency limit."
        );
    }
    let stats = emu.emu.client().stats().await.expect("stats");
    assert!(
        stats
            .throttles
            .get("graph_concurrency")
            .copied()
            .unwrap_or(0)
            >= 1
    );
}

#[tokio::test]
async fn four_at_a_time_are_never_refused() {
    let (emu, token, path) = seeded(Latency::Realistic, 1.0).await;
    for _ in 0..3 {
        let results = burst(&emu, &token, &path, 4).await;
        assert!(results.iter().all(|(s, _, _)| *s == 200), "{results:?}");
    }
    let stats = emu.emu.client().stats().await.expect("stats");
    assert!(stats.throttles.is_empty(), "{:?}", stats.throttles);
}

#[tokio::test]
async fn off_answers_at_once_and_realistic_takes_the_service_time() {
    let (emu, token, path) = seeded(Latency::Off, 1.0).await;
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(emu.get_full(&token, &path, &[]).await.0, 200);
    }
    let off = started.elapsed();
    assert!(off < Duration::from_millis(400), "{off:?}");
    emu.emu
        .client()
        .set_latency(Latency::Realistic, 1.0)
        .await
        .expect("latency");
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(emu.get_full(&token, &path, &[]).await.0, 200);
    }
    // Ten `$value` fetches of a median of 180 ms: about 2 s.
    let realistic = started.elapsed();
    assert!(realistic > Duration::from_millis(900), "{realistic:?}");
}
