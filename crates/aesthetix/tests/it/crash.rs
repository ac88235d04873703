//! SPEC §9.5 as a user meets it: a real `aesthetix import` killed at fixed fail points and at
//! random moments, several times, resumed with `aesthetix jobs resume`, ends with exactly the
//! database of an uninterrupted run — every line applied once, none skipped, append-only
//! effects equal. Also killed: an error-log write, and a pause or cancel while it settles.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Deployment, MESSY_LAST_LINE, Watched, assert_same_result, canonical, each_backend, import_args,
    job_now, messy_file, newest_job, reference_run, wait_for_job, wait_for_new_job,
};

/// Rows a chunk in these tests: 60 checkpoints in the 3,000-row file.
const CHUNK: usize = 50;

/// A reproducible pseudo-random sequence; the seed is printed, and `CRASH_SEED` replays one.
struct Rng(u64);

impl Rng {
    fn from_env_or_clock() -> Rng {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("crash test seed: {seed} (CRASH_SEED={seed} replays these kill times)");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `import contacts` for the first attempt, `jobs resume JOB` after it.
fn attempt(d: &Deployment, file: &str, job: Option<i64>) -> Command {
    let mut cmd = match job {
        None => d.command(&import_args(file)),
        Some(job) => d.command(&["jobs", "resume", &job.to_string()]),
    };
    cmd.env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string());
    cmd
}

/// The wait after each committed chunk of a run the random kills aim at. Unpaced, a release or
/// even debug build imports the rest of the 3,000-row file faster than the test can poll and
/// kill (CI saw a run end after two kills); paced, a run commits a few chunks in the 25 ms poll
/// plus the 0–80 ms random wait, so five kills land, and still some of them mid-chunk.
const KILL_PACE_MS: &str = "15";

fn sqlite_integrity(d: &Deployment) -> String {
    if d.database_url.is_some() {
        return "ok".into();
    }
    let out = Command::new("sqlite3")
        .arg(d.data_dir().join("aesthetix.db"))
        .arg("PRAGMA integrity_check")
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "ok".into())
}

#[tokio::test]
async fn a_killed_import_resumes_to_exactly_the_uninterrupted_result() {
    let mut rng = Rng::from_env_or_clock();
    for (reference, crashed) in each_backend().await.into_iter().zip(each_backend().await) {
        for d in [&reference, &crashed] {
            d.ok(&["location", "create", "Glow"], "");
        }
        let expected = reference_run(&reference, &messy_file(&reference), CHUNK).await;
        let file = messy_file(&crashed);
        let store = crashed.store().await;

        // Fixed fail points: just before the first chunk commits (the job exists, nothing of
        // it is written), just after a chunk committed, and before the second chunk of a run.
        let mut job = None;
        for point in [
            "chunk_before_commit:1",
            "chunk_after_commit:1",
            "chunk_before_commit:2",
        ] {
            let status = attempt(&crashed, &file, job)
                .env("AESTHETIX_FAILPOINT", point)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert_eq!(
                status.code(),
                None,
                "the fail point {point} aborts the process"
            );
            job = newest_job(&crashed);
            let j = job_now(&store, job.unwrap()).await;
            assert_eq!(j.status, "running", "after {point}");
        }
        let job = job.unwrap();

        // Random kills, several: each lets the process commit at least one chunk of its own,
        // then kills it at a random moment of the next ones — mid-read, mid-decide,
        // mid-transaction, mid-commit.
        let mut landed = 0;
        for _ in 0..5 {
            let before = job_now(&store, job).await.checkpoint_line;
            let mut run = attempt(&crashed, &file, Some(job));
            run.env("AESTHETIX_TEST_CHUNK_PAUSE_MS", KILL_PACE_MS);
            let mut child = Watched::spawn(run);
            wait_for_job(&store, job, 60, "a resumed run commits a chunk", |j| {
                j.checkpoint_line > before || j.status != "running"
            })
            .await;
            tokio::time::sleep(Duration::from_millis(rng.below(80))).await;
            let _ = child.child.kill(); // SIGKILL
            let _ = child.child.wait();
            let after = job_now(&store, job).await;
            if after.status != "running" {
                break;
            }
            assert!(after.checkpoint_line < MESSY_LAST_LINE);
            landed += 1;
        }
        assert!(
            landed >= 3,
            "only {landed} kills landed before the import ended"
        );

        // A kill that came after the run's last chunk found the job completed already: there
        // is then nothing left to resume (and `jobs resume` rightly refuses a completed job).
        if job_now(&store, job).await.status == "running" {
            let out = attempt(&crashed, &file, Some(job)).output().unwrap();
            assert!(
                out.status.success(),
                "the last resume completes the job: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(job_now(&store, job).await.status, "completed");
        store.close().await;
        let got = canonical(&crashed, job).await;
        assert_same_result(&got, &expected);
        assert_eq!(sqlite_integrity(&crashed), "ok");
    }
}

#[tokio::test]
async fn a_worker_resumes_an_import_whose_process_died() {
    for (reference, crashed) in each_backend().await.into_iter().zip(each_backend().await) {
        for d in [&reference, &crashed] {
            d.ok(&["location", "create", "Glow"], "");
        }
        let expected = reference_run(&reference, &messy_file(&reference), CHUNK).await;

        // The import dies after its first chunk; nobody runs `jobs resume`.
        let file = messy_file(&crashed);
        let status = attempt(&crashed, &file, None)
            .env("AESTHETIX_FAILPOINT", "chunk_after_commit:1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success());
        let job = newest_job(&crashed).expect("the job was created");

        // A worker process finds it and finishes it from its checkpoint.
        let mut worker = crashed.command(&["worker"]);
        worker.env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string());
        let _worker = Watched::spawn(worker);
        let store = crashed.store().await;
        wait_for_job(&store, job, 60, "the worker completes the job", |j| {
            j.status == "completed"
        })
        .await;
        store.close().await;
        assert_same_result(&canonical(&crashed, job).await, &expected);
    }
}

/// The `.NAME.PID.partial` files beside `path`.
fn partials(path: &std::path::Path) -> Vec<String> {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&format!(".{name}.")) && n.ends_with(".partial"))
        .collect()
}

#[tokio::test]
async fn a_killed_error_log_write_leaves_no_partial_file_under_its_name() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let file = messy_file(&d);
        d.ok(&import_args(&file), "");
        let job = newest_job(&d).unwrap().to_string();
        let whole = d.dir.path().join("whole.csv");
        d.ok(
            &["jobs", "errors", &job, "--output", whole.to_str().unwrap()],
            "",
        );
        let whole = std::fs::read(&whole).unwrap();
        assert!(whole.len() > 1000, "the log has lines");

        let log = d.dir.path().join("errors.csv");
        let errors = |failpoint: Option<&str>| {
            let mut cmd = d.command(&["jobs", "errors", &job, "--output", log.to_str().unwrap()]);
            if let Some(p) = failpoint {
                cmd.env("AESTHETIX_FAILPOINT", p);
            }
            cmd.stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
        };

        // Killed with part of the log written: nothing under its name, the part aside.
        let status = errors(Some("error_log_page:1"));
        assert_eq!(status.code(), None, "the fail point aborts the write");
        assert!(!log.exists(), "no partial log under the final name");
        assert_eq!(partials(&log).len(), 1, "the part written is aside");

        // Run again: the whole log, and the killed run's part is gone.
        assert!(errors(None).success());
        assert_eq!(std::fs::read(&log).unwrap(), whole);
        assert!(partials(&log).is_empty(), "{:?}", partials(&log));

        // Killed after the whole log is written but before it replaces the old one: the old
        // one stays as it was.
        std::fs::write(&log, b"the log of yesterday").unwrap();
        assert_eq!(errors(Some("error_log_before_rename:1")).code(), None);
        assert_eq!(std::fs::read(&log).unwrap(), b"the log of yesterday");
        assert!(errors(None).success());
        assert_eq!(std::fs::read(&log).unwrap(), whole);
        assert!(partials(&log).is_empty());
    }
}

/// Starts `run` (an import, or `jobs resume` of `job`), and once it committed a chunk asks
/// `aesthetix jobs pause|cancel JOB` of it; the process is set to die at `failpoint` while
/// settling that. Returns the job as the kill left it.
async fn request_then_kill(
    d: &Deployment,
    store: &store::Store,
    run: Command,
    job: Option<i64>,
    what: &str,
    failpoint: &str,
) -> store::Job {
    let newest = newest_job(d);
    let mut run = run;
    run.env("AESTHETIX_FAILPOINT", failpoint)
        // Paced, so the request lands while chunks remain, however fast the import is.
        .env("AESTHETIX_TEST_CHUNK_PAUSE_MS", "100");
    let mut child = Watched::spawn(run);
    let job = match job {
        Some(job) => job,
        None => wait_for_new_job(store, newest, 60).await,
    };
    let from = job_now(store, job).await.checkpoint_line;
    wait_for_job(store, job, 60, "the run commits a chunk", |j| {
        j.checkpoint_line > from
    })
    .await;
    let said = d.ok(&["jobs", what, &job.to_string()], "");
    assert!(said.contains("at its next checkpoint"), "{said}");
    assert_eq!(
        child.wait(60).await,
        None,
        "the process dies at {failpoint}: {}",
        child.stderr()
    );
    job_now(store, job).await
}

fn show(d: &Deployment, job: i64) -> Value {
    serde_json::from_str(&d.ok(&["jobs", "show", &job.to_string(), "--json"], "")).unwrap()
}

#[tokio::test]
async fn a_pause_or_cancel_survives_a_kill_on_either_side_of_its_settling() {
    for (reference, d) in each_backend().await.into_iter().zip(each_backend().await) {
        for x in [&reference, &d] {
            x.ok(&["location", "create", "Glow"], "");
        }
        let expected = reference_run(&reference, &messy_file(&reference), CHUNK).await;
        let file = messy_file(&d);
        let store = d.store().await;

        // Pause asked; the runner dies in the transaction that would settle it.
        let j = request_then_kill(
            &d,
            &store,
            attempt(&d, &file, None),
            None,
            "pause",
            "settle_before_commit:1",
        )
        .await;
        let job = j.id;
        assert_eq!(
            (j.status.as_str(), j.requested.map(|r| r.as_str())),
            ("running", Some("pause"))
        );
        let shown = show(&d, job);
        assert!(
            shown["status_reason"]
                .as_str()
                .unwrap_or_default()
                .contains("pause requested"),
            "{shown}"
        );
        // The next process to claim it — a worker here — settles the pause before running.
        let checkpoint = j.checkpoint_line;
        let mut worker = d.command(&["worker"]);
        worker.env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string());
        let w = Watched::spawn(worker);
        let paused = wait_for_job(&store, job, 60, "the worker settles the pause", |j| {
            j.status == "paused"
        })
        .await;
        drop(w);
        assert_eq!(paused.checkpoint_line, checkpoint, "not a line more");
        assert_eq!(paused.requested, None);

        // Resumed, paused again; this time the runner dies just after the pause committed.
        let j = request_then_kill(
            &d,
            &store,
            attempt(&d, &file, Some(job)),
            Some(job),
            "pause",
            "settle_after_commit:1",
        )
        .await;
        assert_eq!(j.status, "paused");

        // Resumed to the end: exactly the uninterrupted result.
        let out = attempt(&d, &file, Some(job)).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same_result(&canonical(&d, job).await, &expected);

        // Cancel, killed on either side of its settling: cancelled either way, what was
        // written stays, and every committed line has its result.
        for failpoint in ["settle_before_commit:1", "settle_after_commit:1"] {
            let j = request_then_kill(
                &d,
                &store,
                attempt(&d, &file, None),
                None,
                "cancel",
                failpoint,
            )
            .await;
            let job = j.id;
            if failpoint.starts_with("settle_before") {
                assert_eq!(
                    (j.status.as_str(), j.requested.map(|r| r.as_str())),
                    ("running", Some("cancel"))
                );
                // `jobs resume` claims it, and the cancel asked first wins.
                let out = attempt(&d, &file, Some(job)).output().unwrap();
                assert_eq!(out.status.code(), Some(3));
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("it is cancelled"), "{err}");
            }
            let j = job_now(&store, job).await;
            assert_eq!(j.status, "cancelled");
            assert!(j.finished_at.is_some());
            assert!(j.checkpoint_line > 1 && j.checkpoint_line < MESSY_LAST_LINE);
            let loc = store.job_location(job).await.unwrap();
            let effects = store.job_effects(loc, job).await.unwrap();
            assert_eq!(
                effects.lines + j.totals.blank,
                j.checkpoint_line - 1,
                "one result for every line up to the checkpoint, none after"
            );
            assert_eq!(effects.lines, j.totals.processed - j.totals.blank);
            let again = d.run(&["jobs", "resume", &job.to_string()], "");
            assert_eq!(
                again.status.code(),
                Some(1),
                "a cancelled job is not resumed"
            );
        }
        store.close().await;
    }
}
