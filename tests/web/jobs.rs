//! Leased work: many claimers, one holder per job; expired leases are taken over; shutdown
//! gives leases back.
use chrono::Duration;
use threadline::db::{self, jobs};

use crate::support::TestApp;

async fn app_with_jobs(n: i64) -> TestApp {
    let app = TestApp::spawn_admin().await;
    let past = db::now() - Duration::minutes(1);
    for subject in 1..=n {
        jobs::ensure(&app.db, 1, jobs::SYNC_ACCOUNT, subject, past)
            .await
            .unwrap();
        // Idempotent: a second ensure neither fails nor duplicates.
        jobs::ensure(&app.db, 1, jobs::SYNC_ACCOUNT, subject, past)
            .await
            .unwrap();
    }
    app
}

/// The sync job `worker` claims now with a five-minute lease, if one is due.
async fn claim_now(app: &TestApp, worker: &str) -> Option<threadline::db::entities::jobs::Model> {
    jobs::claim(
        &app.db,
        jobs::SYNC_ACCOUNT,
        worker,
        Duration::minutes(5),
        db::now(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_job() {
    let app = app_with_jobs(20).await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let db = app.db.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let worker = format!("worker-{w}");
            while let Some(job) = jobs::claim(
                &db,
                jobs::SYNC_ACCOUNT,
                &worker,
                Duration::minutes(5),
                db::now(),
            )
            .await
            .unwrap()
            {
                assert_eq!(job.locked_by.as_deref(), Some(worker.as_str()));
                mine.push(job.subject_id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=20).collect::<Vec<_>>(),
        "every job claimed exactly once"
    );
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_holder_notices() {
    let app = app_with_jobs(1).await;
    let now = db::now();
    let job = jobs::claim(&app.db, jobs::SYNC_ACCOUNT, "a", Duration::seconds(30), now)
        .await
        .unwrap()
        .unwrap();
    assert!(
        jobs::claim(&app.db, jobs::SYNC_ACCOUNT, "b", Duration::seconds(30), now)
            .await
            .unwrap()
            .is_none()
    );
    // "a" crashed: once its lease has run out, "b" takes the job over.
    let later = now + Duration::seconds(31);
    let taken = jobs::claim(
        &app.db,
        jobs::SYNC_ACCOUNT,
        "b",
        Duration::seconds(30),
        later,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (taken.id, taken.locked_by.as_deref(), taken.attempts),
        (job.id, Some("b"), 2)
    );
    assert!(
        !jobs::heartbeat(&app.db, job.id, "a", later + Duration::seconds(30))
            .await
            .unwrap()
    );
    assert!(
        !jobs::complete(&app.db, job.id, "a", later, None)
            .await
            .unwrap(),
        "a lost the job"
    );
    assert!(
        jobs::heartbeat(&app.db, job.id, "b", later + Duration::seconds(60))
            .await
            .unwrap()
    );
    assert!(
        jobs::complete(&app.db, job.id, "b", later + Duration::minutes(5), None)
            .await
            .unwrap()
    );
    let queued = jobs::find(&app.db, jobs::SYNC_ACCOUNT, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((queued.state, queued.locked_by), (jobs::QUEUED, None));
}

#[tokio::test]
async fn shutdown_releases_leases_and_sync_now_moves_the_next_run() {
    let app = app_with_jobs(2).await;
    claim_now(&app, "a").await.expect("a due job");
    assert_eq!(jobs::release_all(&app.db, "a").await.unwrap(), 1);
    let again = claim_now(&app, "b").await;
    assert!(again.is_some(), "released work is claimable at once");

    let next = claim_now(&app, "b").await.unwrap();
    jobs::complete(
        &app.db,
        next.id,
        "b",
        db::now() + Duration::minutes(5),
        None,
    )
    .await
    .unwrap();
    assert!(claim_now(&app, "c").await.is_none());
    assert!(jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, next.subject_id)
        .await
        .unwrap());
    let due = claim_now(&app, "c").await;
    assert_eq!(due.map(|j| j.subject_id), Some(next.subject_id));
}

#[tokio::test]
async fn a_wake_makes_a_job_due_once_and_a_wake_during_a_pass_brings_it_back() {
    let app = app_with_jobs(1).await;
    let later = db::now() + Duration::hours(1);
    let job = claim_now(&app, "a").await.expect("due at first");
    assert!(jobs::complete(&app.db, job.id, "a", later, None)
        .await
        .unwrap());
    assert!(claim_now(&app, "a").await.is_none(), "queued for an hour");

    // A burst of wakes while queued: due now, and one claim takes it.
    for _ in 0..50 {
        assert!(jobs::wake(&app.db, jobs::SYNC_ACCOUNT, 1).await.unwrap());
    }
    let job = claim_now(&app, "a").await.expect("woken: due now");
    assert!(claim_now(&app, "b").await.is_none(), "one pass, not fifty");
    // That pass finishes without a wake after it began: back to its interval.
    assert!(jobs::complete(&app.db, job.id, "a", later, None)
        .await
        .unwrap());
    assert!(claim_now(&app, "a").await.is_none());

    // A wake that comes while a pass runs: due again at once when the pass completes.
    assert!(jobs::wake(&app.db, jobs::SYNC_ACCOUNT, 1).await.unwrap());
    let job = claim_now(&app, "a").await.expect("woken");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(jobs::wake(&app.db, jobs::SYNC_ACCOUNT, 1).await.unwrap());
    assert!(jobs::complete(&app.db, job.id, "a", later, None)
        .await
        .unwrap());
    assert!(
        claim_now(&app, "b").await.is_some(),
        "the mid-pass wake is not lost"
    );

    // No job for a mailbox: nothing to wake.
    assert!(!jobs::wake(&app.db, jobs::SYNC_ACCOUNT, 999).await.unwrap());
}
