//! The claim protocol of SPEC §9.7 and the failures of §9.6, on both backends: a lease held
//! while renewed and taken over once it lapsed, a fenced checkpoint, pending requests settled
//! by the next claimer, and the database errors a job waits on or pauses for.

use std::time::Duration;

use domain::LocationSettings;

use crate::testing::{TestDb, each_backend};
use crate::*;

async fn location(db: &TestDb) -> LocationId {
    db.store
        .create_location("Glow", &LocationSettings::default())
        .await
        .unwrap()
        .id
}

async fn leased_job(s: &Store, loc: LocationId, owner: &str) -> Lease {
    let job_id = s
        .create_job(
            loc,
            &NewJob {
                operation: domain::job::Operation::Import,
                object: domain::ObjectKind::Contact,
                name: "test import".into(),
                options: "{}".into(),
                lease_owner: Some(owner.into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    Lease {
        job_id,
        location_id: loc,
        owner: owner.into(),
    }
}

fn chunk(line: u64) -> ChunkWrite {
    ChunkWrite {
        lines: vec![LineWrite {
            line,
            status: domain::job::LineStatus::Error,
            action: domain::job::LineAction::None,
            record: None,
            primary: None,
            messages: Some("[]".into()),
            cells: Some("[]".into()),
        }],
        totals: Totals {
            processed: 1,
            errors: 1,
            ..Totals::default()
        },
        checkpoint_line: line,
        ..ChunkWrite::default()
    }
}

#[tokio::test]
async fn a_renewed_lease_is_kept_and_a_lapsed_one_is_taken_over_and_fenced() {
    for db in each_backend().await {
        let s = db.store.clone().with_lease_ms(400);
        let loc = location(&db).await;
        let a = leased_job(&s, loc, "host/1/a").await;
        s.apply_import_chunk(&a, &chunk(2)).await.unwrap();

        // Renewed every 100 ms for three lease lengths: nobody else can claim it.
        for _ in 0..12 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(s.renew_lease(&a).await.unwrap(), "{:?}", s.backend());
            assert_eq!(
                s.claim_job(loc, a.job_id, "host/2/b", None).await.unwrap(),
                None
            );
            assert_eq!(s.claim_next_job("host/2/b").await.unwrap(), None);
        }

        // Not renewed: once it lapsed, another process claims it …
        tokio::time::sleep(Duration::from_millis(500)).await;
        let b = s
            .claim_next_job("host/2/b")
            .await
            .unwrap()
            .expect("a lapsed lease is claimable");
        assert_eq!(b.job_id, a.job_id);
        // … and the first can neither renew it nor write a chunk.
        assert!(!s.renew_lease(&a).await.unwrap());
        let lost = s.apply_import_chunk(&a, &chunk(3)).await.unwrap_err();
        assert!(lost.is_lease_lost(), "{lost}");
        s.apply_import_chunk(&b, &chunk(3)).await.unwrap();
        let job = s.job(loc, a.job_id).await.unwrap();
        assert_eq!((job.checkpoint_line, job.totals.processed), (3, 2));
        assert_eq!(s.job_effects(loc, a.job_id).await.unwrap().lines, 2);
    }
}

#[tokio::test]
async fn a_request_its_runner_never_settled_is_settled_by_the_next_claimer() {
    for db in each_backend().await {
        let s = db.store.clone().with_lease_ms(200);
        let loc = location(&db).await;
        for (what, status) in [("pause", "paused"), ("cancel", "cancelled")] {
            let a = leased_job(&s, loc, "host/1/a").await;
            let asked = if what == "pause" {
                s.request_pause(loc, a.job_id).await.unwrap()
            } else {
                s.request_cancel(loc, a.job_id).await.unwrap()
            };
            assert_eq!(asked, Requested::AtNextCheckpoint);
            // The runner dies before its next checkpoint; its lease lapses.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let b = s
                .claim_job(loc, a.job_id, "host/2/b", None)
                .await
                .unwrap()
                .unwrap();
            let settled = s.settle_request(&b).await.unwrap();
            let job = s.job(loc, a.job_id).await.unwrap();
            assert_eq!(job.status, status);
            assert_eq!(job.requested, None);
            assert_eq!(job.lease_expires_at, None);
            assert_eq!(job.finished_at.is_some(), what == "cancel");
            assert_eq!(
                settled,
                if what == "pause" {
                    AfterChunk::Paused
                } else {
                    AfterChunk::Cancelled
                }
            );
        }

        // Nothing asked: the claimer runs it.
        let a = leased_job(&s, loc, "host/1/a").await;
        assert_eq!(s.settle_request(&a).await.unwrap(), AfterChunk::Running);

        // `jobs resume` withdraws a pause not yet settled; the runner goes on.
        s.request_pause(loc, a.job_id).await.unwrap();
        assert_eq!(
            s.job(loc, a.job_id)
                .await
                .unwrap()
                .requested
                .map(|r| r.as_str()),
            Some("pause")
        );
        s.resume_job(loc, a.job_id).await.unwrap();
        assert_eq!(s.job(loc, a.job_id).await.unwrap().requested, None);
        let (_, after) = s.apply_import_chunk(&a, &chunk(2)).await.unwrap();
        assert_eq!(after, AfterChunk::Running);
    }
}

#[tokio::test]
async fn a_full_disk_pauses_the_job_with_its_reason_and_releases_the_lease() {
    for db in each_backend().await {
        let s = db.store.clone();
        let loc = location(&db).await;
        let a = leased_job(&s, loc, "host/1/a").await;
        s.pause_leased_job(&a, "disk full: no room").await.unwrap();
        let job = s.job(loc, a.job_id).await.unwrap();
        assert_eq!(job.status, "paused");
        assert_eq!(job.status_reason.as_deref(), Some("disk full: no room"));
        assert_eq!(job.lease_expires_at, None);
        assert!(
            s.pause_leased_job(&a, "again")
                .await
                .unwrap_err()
                .is_lease_lost()
        );
        // Resuming clears the reason and queues it.
        s.resume_job(loc, a.job_id).await.unwrap();
        let job = s.job(loc, a.job_id).await.unwrap();
        assert_eq!((job.status.as_str(), job.status_reason), ("queued", None));
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_errors_a_job_waits_on_or_pauses_for_are_told_apart() {
    use sqlx::Connection;

    // A server that refuses connections.
    let refused = sqlx::PgConnection::connect(&format!(
        "postgres://postgres@127.0.0.1:{}/x",
        closed_port()
    ))
    .await
    .unwrap_err();
    let refused = StoreError::from(refused);
    assert_eq!(refused.unavailable().as_deref(), Some("connection refused"));
    assert!(!refused.is_disk_full());
    assert_eq!(
        StoreError::from(sqlx::Error::Io(std::io::ErrorKind::UnexpectedEof.into()))
            .unavailable()
            .as_deref(),
        Some("the connection to it was cut")
    );
    assert_eq!(StoreError::LeaseLost(1).unavailable(), None);
    assert_eq!(StoreError::Conflict("taken".into()).unavailable(), None);

    for db in each_backend().await {
        match db.backend() {
            Backend::Sqlite => {
                let path = db.dir.path().join("aesthetix.db");
                let url = format!("sqlite://{}", path.display());
                // Another process holds the write lock past this one's busy timeout.
                let mut holder = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut holder)
                    .await
                    .unwrap();
                let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let busy = sqlx::raw_sql("PRAGMA busy_timeout = 0; CREATE TABLE t (x)")
                    .execute(&mut other)
                    .await
                    .unwrap_err();
                let busy = StoreError::from(busy);
                assert_eq!(
                    busy.unavailable().as_deref(),
                    Some("the database file is locked by another process")
                );
                assert!(!busy.is_disk_full());
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut holder)
                    .await
                    .unwrap();

                // A file that may not grow: SQLITE_FULL.
                let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
                    .fetch_one(&mut other)
                    .await
                    .unwrap();
                let full = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "PRAGMA max_page_count = {pages}; CREATE TABLE filler (x); \
                     INSERT INTO filler SELECT randomblob(100000);"
                )))
                .execute(&mut other)
                .await
                .unwrap_err();
                let full = StoreError::from(full);
                assert!(full.is_disk_full(), "{full}");
                assert_eq!(full.unavailable(), None);
            }
            Backend::Postgres => {
                let url = db.database_url.clone().unwrap();
                let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                let raise = |code: &str| {
                    format!(
                        "DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '{code}'; END $$"
                    )
                };
                let full = sqlx::raw_sql(sqlx::AssertSqlSafe(raise("disk_full")))
                    .execute(&mut conn)
                    .await
                    .unwrap_err();
                let full = StoreError::from(full);
                assert!(full.is_disk_full(), "{full}");
                assert_eq!(full.unavailable(), None);
                for (code, words) in [
                    ("admin_shutdown", "its server is shutting down"),
                    ("cannot_connect_now", "its server is starting up"),
                    ("deadlock_detected", "another transaction held a lock"),
                ] {
                    let e = sqlx::raw_sql(sqlx::AssertSqlSafe(raise(code)))
                        .execute(&mut conn)
                        .await
                        .unwrap_err();
                    let e = StoreError::from(e);
                    let got = e.unavailable().unwrap_or_default();
                    assert!(got.starts_with(words), "{code}: {got:?}");
                    assert!(!e.is_disk_full());
                }
                let other = sqlx::raw_sql(sqlx::AssertSqlSafe(raise("division_by_zero")))
                    .execute(&mut conn)
                    .await
                    .unwrap_err();
                assert_eq!(StoreError::from(other).unavailable(), None);
                db.store.probe().await.unwrap();
            }
        }
    }
}
