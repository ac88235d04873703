//! SPEC §9.6 and §9.7 as an operator meets them: the database goes away under a running
//! import (PostgreSQL through a proxy the test owns; a SQLite file locked by another process),
//! the disk fills up, and one of two workers sharing the queue dies or freezes — and each time
//! the import ends with exactly the database of an uninterrupted run.

use std::time::{Duration, Instant};

use serde_json::Value;
use store::testing::{fresh_postgres_database, postgres_admin_url};

use crate::proxy::Proxy;
use crate::support::{
    Deployment, MESSY_LAST_LINE, Watched, assert_same_result, canonical, each_backend, import_args,
    job_now, messy_file, newest_job, owner_pid, reference_run, signal, wait_for_job,
    wait_for_new_job,
};

/// Rows a chunk: 30 checkpoints in the 3,000-row file.
const CHUNK: usize = 100;

/// Two empty PostgreSQL deployments (a reference and one to disturb), or `None` — after a
/// loud line — when no server is configured.
async fn two_postgres_deployments() -> Option<(Deployment, Deployment)> {
    let admin = postgres_admin_url()?;
    let mut two = Vec::new();
    for _ in 0..2 {
        let d = Deployment {
            dir: store::testing::TempDir::new("aesthetix-it-pg"),
            database_url: Some(fresh_postgres_database(&admin).await),
        };
        d.ok(&["location", "create", "Glow"], "");
        two.push(d);
    }
    let b = two.pop().unwrap();
    Some((two.pop().unwrap(), b))
}

/// `host:port` of a `postgres://user@host:port/db` URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let hp = rest.split_once('/').unwrap().0;
    hp.rsplit_once('@').map_or(hp, |(_, h)| h).to_string()
}

fn show(d: &Deployment, job: i64) -> Value {
    serde_json::from_str(&d.ok(&["jobs", "show", &job.to_string(), "--json"], "")).unwrap()
}

#[tokio::test]
async fn an_import_waits_through_a_postgres_outage_and_finishes_exactly_once() {
    let Some((reference, d)) = two_postgres_deployments().await else {
        return;
    };
    let expected = reference_run(&reference, &messy_file(&reference), CHUNK).await;

    let url = d.database_url.clone().unwrap();
    let proxy = Proxy::start(&host_port(&url));
    let file = messy_file(&d);
    let mut import = d.command_via(&proxy.url_for(&url), &import_args(&file));
    // A long lease: its heartbeat stays out of the way of the proxy's next-query trips.
    import
        .env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string())
        .env("AESTHETIX_LEASE_MS", "60000");
    let mut child = Watched::spawn(import);
    let store = d.store().await; // straight to the server, not through the proxy
    let job = wait_for_new_job(&store, None, 60).await;
    wait_for_job(&store, job, 60, "two chunks commit", |j| {
        j.checkpoint_line > 2 * CHUNK as i64
    })
    .await;

    // The connection dies under a query: the job says so on itself — in `jobs show`, which
    // reads the database directly — waits, and goes on.
    proxy.cut_on_next_query();
    let mut said = None;
    for _ in 0..100 {
        let shown = show(&d, job);
        if let Some(r) = shown["status_reason"].as_str()
            && r.starts_with("Waiting for the database: ")
        {
            said = Some((r.to_string(), shown["status"].clone()));
            break;
        }
    }
    let (reason, status) = said.expect("jobs show says the job waits for the database");
    assert_eq!(
        reason,
        "Waiting for the database: the connection to it was cut — retrying in 1 s"
    );
    assert_eq!(status, "running");
    let cut_at = job_now(&store, job).await.checkpoint_line;
    let on = wait_for_job(&store, job, 60, "the job goes on after the cut", |j| {
        j.checkpoint_line > cut_at
    })
    .await;
    assert_eq!(on.status_reason, None, "the reason goes once it runs again");

    // The server goes away under a query and refuses connections for a while.
    proxy.refuse_on_next_query();
    let t = Instant::now();
    while !proxy.tripped() && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(proxy.tripped(), "the import sent a query");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let stalled = job_now(&store, job).await;
    assert_eq!(stalled.status, "running");
    assert!(
        stalled.checkpoint_line < MESSY_LAST_LINE,
        "it stopped mid-file"
    );
    proxy.restore();

    assert_eq!(child.wait(120).await, Some(0), "{}", child.stderr());
    let err = child.stderr();
    assert!(
        err.contains("Waiting for the database: connection refused — retrying in 2 s"),
        "{err}"
    );
    store.close().await;
    assert_same_result(&canonical(&d, job).await, &expected);
}

#[tokio::test]
async fn an_import_waits_for_a_sqlite_file_another_process_locked() {
    let (reference, d) = (
        each_backend().await.remove(0),
        each_backend().await.remove(0),
    );
    assert!(d.database_url.is_none());
    for x in [&reference, &d] {
        x.ok(&["location", "create", "Glow"], "");
    }
    let expected = reference_run(&reference, &messy_file(&reference), CHUNK).await;

    let file = messy_file(&d);
    let mut import = d.command(&import_args(&file));
    import
        .env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string())
        .env("AESTHETIX_TEST_SQLITE_BUSY_MS", "200")
        // Slow enough that the lock below lands mid-file, however fast the import is.
        .env("AESTHETIX_TEST_CHUNK_PAUSE_MS", "150");
    let mut child = Watched::spawn(import);
    let store = d.store().await;
    let job = wait_for_new_job(&store, None, 60).await;
    wait_for_job(&store, job, 60, "two chunks commit", |j| {
        j.checkpoint_line > 2 * CHUNK as i64
    })
    .await;

    // Another process takes the write lock and keeps it 4 s — past the import's busy timeout.
    use sqlx::Connection;
    let db = d.data_dir().join("aesthetix.db");
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::raw_sql("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let held = job_now(&store, job).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let still = job_now(&store, job).await;
    assert_eq!(
        (still.checkpoint_line, still.status.as_str()),
        (held.checkpoint_line, "running"),
        "nothing is written while the file is locked"
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    let _ = holder.close().await;

    assert_eq!(child.wait(120).await, Some(0), "{}", child.stderr());
    let err = child.stderr();
    assert!(
        err.contains(
            "Waiting for the database: the database file is locked by another process — retrying in 1 s"
        ),
        "{err}"
    );
    store.close().await;
    assert_same_result(&canonical(&d, job).await, &expected);
}

#[tokio::test]
async fn a_full_disk_pauses_the_import_and_resume_completes_it() {
    for (reference, d) in each_backend().await.into_iter().zip(each_backend().await) {
        for x in [&reference, &d] {
            x.ok(&["location", "create", "Glow"], "");
        }
        let pages = |x: &Deployment| -> i64 {
            let out = std::process::Command::new("sqlite3")
                .arg(x.data_dir().join("aesthetix.db"))
                .arg("PRAGMA page_count")
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        let empty_pages = if reference.database_url.is_none() {
            pages(&reference)
        } else {
            0
        };
        let expected = reference_run(&reference, &messy_file(&reference), CHUNK).await;

        let file = messy_file(&d);
        let mut import = d.command(&import_args(&file));
        import.env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string());
        match &d.database_url {
            None => {
                // The database may grow by half of what the whole import needs.
                let limit = empty_pages + (pages(&reference) - empty_pages) / 2;
                import.env("AESTHETIX_TEST_SQLITE_MAX_PAGES", limit.to_string());
            }
            Some(url) => {
                // PostgreSQL's own error for a volume with no room left (53100 disk_full), raised
                // by a trigger of the test's from the 1,500th line on.
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::raw_sql(
                    "CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                       IF NEW.line >= 1500 THEN RAISE EXCEPTION 'could not extend file: No space left on device' \
                       USING ERRCODE = 'disk_full'; END IF; RETURN NEW; END $$; \
                     CREATE TRIGGER test_disk_full BEFORE INSERT ON job_lines FOR EACH ROW \
                       EXECUTE FUNCTION test_disk_full();",
                )
                .execute(&mut c)
                .await
                .unwrap();
                let _ = c.close().await;
            }
        }
        let out = import.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("it is paused (disk full: "), "{err}");
        let job = newest_job(&d).unwrap();
        let shown = show(&d, job);
        assert_eq!(shown["status"], "paused");
        let reason = shown["status_reason"].as_str().unwrap().to_string();
        assert!(reason.starts_with("disk full: "), "{reason}");
        let text = d.ok(&["jobs", "show", &job.to_string()], "");
        assert!(text.contains("Status: paused — disk full: "), "{text}");
        let store = d.store().await;
        let paused = job_now(&store, job).await;
        assert!(
            paused.checkpoint_line > 1 && paused.checkpoint_line < MESSY_LAST_LINE,
            "it stopped mid-file, at {}",
            paused.checkpoint_line
        );
        let loc = store.job_location(job).await.unwrap();
        assert_eq!(
            store.job_effects(loc, job).await.unwrap().lines,
            paused.totals.processed,
            "the chunk that did not fit left nothing behind"
        );
        store.close().await;

        // Space is freed; `jobs resume` completes it, nothing lost or doubled.
        if let Some(url) = &d.database_url {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql("DROP TRIGGER test_disk_full ON job_lines")
                .execute(&mut c)
                .await
                .unwrap();
            let _ = c.close().await;
        }
        let out = d
            .command(&["jobs", "resume", &job.to_string()])
            .env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same_result(&canonical(&d, job).await, &expected);
    }
}

/// Who holds the job's lease now: a process id.
async fn holder(store: &store::Store, job: i64) -> Option<u32> {
    let loc = store.job_location(job).await.unwrap();
    owner_pid(&store.job_lease_owner(loc, job).await.unwrap()?)
}

#[tokio::test]
async fn two_postgres_workers_share_the_queue_and_one_that_dies_or_freezes_is_taken_over() {
    let Some((reference, d)) = two_postgres_deployments().await else {
        return;
    };
    const CHUNK: usize = 50;
    const LEASE_MS: u64 = 1500;
    let expected = reference_run(&reference, &messy_file(&reference), CHUNK).await;

    // An import dies after its first chunk; two workers share the queue.
    let file = messy_file(&d);
    let status = d
        .command(&import_args(&file))
        .env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string())
        .env("AESTHETIX_FAILPOINT", "chunk_after_commit:1")
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), None);
    let job = newest_job(&d).unwrap();
    let worker = || {
        let mut w = d.command(&["worker"]);
        w.env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string())
            .env("AESTHETIX_LEASE_MS", LEASE_MS.to_string());
        Watched::spawn(w)
    };
    let mut workers = vec![worker(), worker()];
    let store = d.store().await;

    // The worker running it freezes (SIGSTOP: alive, silent — a hung host): the other takes
    // the job over only once the lease lapsed, and the frozen one, continued, writes nothing.
    let mut taken_over = false;
    for _try in 0..3 {
        let from = job_now(&store, job).await.checkpoint_line;
        wait_for_job(&store, job, 60, "a worker runs the job", |j| {
            j.checkpoint_line > from
        })
        .await;
        let Some(frozen) = holder(&store, job).await else {
            continue;
        };
        assert!(workers.iter().any(|w| w.pid() == frozen));
        signal(frozen, "STOP");
        let stopped_at = Instant::now();
        let mut other = None;
        while stopped_at.elapsed() < Duration::from_millis(LEASE_MS + 6000) {
            if let Some(p) = holder(&store, job).await
                && p != frozen
            {
                other = Some(p);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let waited = stopped_at.elapsed();
        signal(frozen, "CONT");
        // Frozen between the checkpoint and the commit, it held the job's row lock: nobody
        // could take over; try again.
        if other.is_some() {
            assert!(
                waited >= Duration::from_millis(LEASE_MS * 2 / 3),
                "taken over after {waited:?}, before the lease could lapse"
            );
            taken_over = true;
            break;
        }
    }
    assert!(taken_over, "the other worker took the job over");

    // The worker running it now is killed (SIGKILL) mid-job: the other takes it over.
    let from = job_now(&store, job).await.checkpoint_line;
    let runner = wait_for_job(&store, job, 60, "the new holder commits a chunk", |j| {
        j.checkpoint_line > from
    })
    .await;
    assert_eq!(runner.status, "running");
    let killed = holder(&store, job).await.expect("someone runs it");
    let i = workers.iter().position(|w| w.pid() == killed).unwrap();
    let mut dead = workers.remove(i);
    let _ = dead.child.kill();
    let _ = dead.child.wait();
    let at_kill = job_now(&store, job).await;
    assert!(
        at_kill.status == "running" && at_kill.checkpoint_line < MESSY_LAST_LINE,
        "the kill came before the end"
    );
    let done = wait_for_job(
        &store,
        job,
        90,
        "the surviving worker completes the job",
        |j| j.status == "completed",
    )
    .await;
    assert_eq!(done.status, "completed");
    store.close().await;
    assert_same_result(&canonical(&d, job).await, &expected);
}
