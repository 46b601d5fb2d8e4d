//! The latency model on the Gmail side: service times while the concurrency slot is held, so
//! a burst above the per-user cap gets Gmail's exact 429, one within it never does, batch
//! parts each count, and `off` answers at once.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use threadline_emulator::{Latency, Tunables};

use crate::google::batch_watch::{batch_results, post_parts};
use crate::google::support::{google_throttled, Emu, READONLY};

const ME: &str = "/gmail/v1/users/me";

/// Gmail's body for too many parallel requests (provider-apis.md §B.9), exactly.
fn too_many_concurrent() -> Value {
    json!({"error": {
        "code": 429,
        "message": "Too many concurrent requests for user",
        "errors": [{
            "domain": "usageLimits",
            "reason": "rateLimitExceeded",
            "message": "Too many concurrent requests for user"
        }],
        "status": "RESOURCE_EXHAUSTED"
    }})
}

/// An emulator with realistic quota and `latency` at `scale`, a mailbox with one message and
/// a token; returns the message id too.
async fn gmail(latency: Latency, scale: f64, concurrency: usize) -> (Emu, String, String) {
    let tunables = Tunables {
        latency,
        latency_scale: scale,
        gmail_concurrency: concurrency,
        ..Tunables::default()
    };
    let (emu, token) = google_throttled(tunables, &[READONLY]).await;
    let id = emu
        .deliver_simple("labels=INBOX", "l@x", "Latency", "x")
        .await;
    (emu, token, id)
}

/// `n` GETs of `path` sent at once; their statuses and bodies.
async fn burst(emu: &Emu, token: &str, path: &str, n: usize) -> Vec<(u16, Value)> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (http, url, token) = (emu.http.clone(), emu.url(path), token.to_string());
        set.spawn(async move {
            let r = http.get(url).bearer_auth(token).send().await.expect("get");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        });
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        out.push(done.expect("task"));
    }
    out
}

fn refused(results: &[(u16, Value)]) -> Vec<&Value> {
    results
        .iter()
        .filter(|(s, _)| *s != 200)
        .map(|(_, v)| v)
        .collect()
}

#[tokio::test]
async fn a_burst_above_the_cap_gets_too_many_concurrent_requests_for_user() {
    // Twice real time: each get is in flight for ~160 ms, far longer than the burst takes
    // to arrive.
    let (emu, token, id) = gmail(Latency::Realistic, 2.0, 4).await;
    let results = burst(&emu, &token, &format!("{ME}/messages/{id}"), 10).await;
    let refused = refused(&results);
    assert!(
        !refused.is_empty(),
        "10 at once over a cap of 4: {results:?}"
    );
    assert!(results.iter().filter(|(s, _)| *s == 200).count() >= 4);
    for body in refused {
        assert_eq!(body, &too_many_concurrent());
    }
    let stats = emu.running.client().stats().await.expect("stats");
    assert!(
        stats
            .throttles
            .get("gmail_concurrency")
            .copied()
            .unwrap_or(0)
            >= 1
    );
}

#[tokio::test]
async fn a_burst_within_the_cap_is_never_refused() {
    let (emu, token, id) = gmail(Latency::Realistic, 1.0, 10).await;
    for _ in 0..3 {
        let results = burst(&emu, &token, &format!("{ME}/messages/{id}"), 10).await;
        assert!(refused(&results).is_empty(), "{results:?}");
    }
    let stats = emu.running.client().stats().await.expect("stats");
    assert!(stats.throttles.is_empty(), "{:?}", stats.throttles);
}

#[tokio::test]
async fn each_part_of_a_batch_is_a_request_in_flight() {
    let (emu, token, id) = gmail(Latency::Realistic, 1.0, 10).await;
    let get = format!("GET {ME}/messages/{id}?format=minimal");
    // Ten parts fit the cap of ten.
    let r = post_parts(&emu, &token, "b", &vec![get.clone(); 10]).await;
    let (_, results) = batch_results(r).await;
    assert!(results.iter().all(|(_, s, _)| *s == 200), "{results:?}");
    // Sixteen run at once: the parts over the cap get the concurrency 429, each on its own.
    let r = post_parts(&emu, &token, "b", &vec![get; 16]).await;
    assert_eq!(r.status(), 200);
    let (_, results) = batch_results(r).await;
    assert_eq!(results.len(), 16);
    let refused: Vec<_> = results.iter().filter(|(_, s, _)| *s != 200).collect();
    assert!(!refused.is_empty() && refused.len() <= 6, "{results:?}");
    for (_, status, body) in refused {
        assert_eq!(*status, 429);
        assert_eq!(body, &too_many_concurrent());
    }
}

#[tokio::test]
async fn a_batch_takes_longer_the_more_parts_it_has() {
    let (emu, token, id) = gmail(Latency::Realistic, 1.0, 100).await;
    let get = format!("GET {ME}/messages/{id}?format=minimal");
    let started = Instant::now();
    let r = post_parts(&emu, &token, "b", &vec![get; 60]).await;
    let (_, results) = batch_results(r).await;
    assert!(results.iter().all(|(_, s, _)| *s == 200));
    // The envelope alone adds 6 ms a part.
    assert!(started.elapsed() >= Duration::from_millis(360));
}

#[tokio::test]
async fn off_answers_at_once_and_realistic_takes_the_service_time() {
    let (emu, token, id) = gmail(Latency::Off, 1.0, 10).await;
    let path = format!("{ME}/messages/{id}");
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(emu.get(&token, &path).await.0, 200);
    }
    let off = started.elapsed();
    assert!(off < Duration::from_millis(400), "{off:?}");
    // Switched at run time through the typed client.
    let tuned = emu
        .running
        .client()
        .set_latency(Latency::Realistic, 1.0)
        .await
        .expect("tune");
    assert_eq!(tuned.latency, Latency::Realistic);
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(emu.get(&token, &path).await.0, 200);
    }
    let realistic = started.elapsed();
    // Ten draws of a median of 80 ms: about 1 s; under 300 ms is all but impossible.
    assert!(realistic > Duration::from_millis(300), "{realistic:?}");
}
