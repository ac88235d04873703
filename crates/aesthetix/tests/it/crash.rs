//! SPEC §9.5 as a user meets it: a real `aesthetix import` killed at random moments and at
//! fixed fail points, resumed with `aesthetix jobs resume`, ends with exactly the database of
//! an uninterrupted run — every line applied once, none skipped, append-only effects equal.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{Deployment, each_backend};

/// 3,000 rows over three chunks: in-file duplicates across chunks, tags, notes, errors.
fn messy_file(d: &Deployment) -> String {
    let mut csv = String::from("First Name,Email,Phone,Tags,Notes\n");
    for i in 0..3000u32 {
        let n = if i % 17 == 5 { i / 3 } else { i };
        let email = if i % 17 == 5 {
            format!("P{n}@EXAMPLE.com")
        } else {
            format!("p{n}@example.com")
        };
        let phone = if i % 11 == 0 {
            String::new()
        } else {
            format!("(201) {:03}-{:04}", 200 + n / 10_000, n % 10_000)
        };
        let first = if i % 97 == 3 {
            String::new()
        } else {
            format!("Pat{i}")
        };
        let email = if i % 97 == 3 {
            "broken@".to_string()
        } else {
            email
        };
        csv.push_str(&format!(
            "{first},{email},\"{phone}\",\"t{}, all\",\"note {i}\nline two\"\n",
            i % 7
        ));
    }
    let path = d.dir.path().join("messy.csv");
    std::fs::write(&path, csv).unwrap();
    path.to_str().unwrap().to_string()
}

/// Everything the import wrote, without ids (PostgreSQL sequences leave gaps after a
/// rolled-back transaction): contacts by email with values, tags and additional values, and
/// the job's append-only effects and totals.
async fn canonical(d: &Deployment, job: i64) -> (Vec<String>, store::JobEffects, Value) {
    let store = d.store().await;
    let loc = store.location_by_name("Glow").await.unwrap();
    let page = store.contacts_page(loc.id, None, 0, 100_000).await.unwrap();
    let ids: Vec<i64> = page.contacts.iter().map(|c| c.id).collect();
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        for c in store
            .contacts_for_matching(loc.id, chunk, &[], &[])
            .await
            .unwrap()
        {
            let values: BTreeMap<_, _> = c.values.into_iter().collect();
            rows.push(format!(
                "{values:?} {:?} {:?} {:?}",
                c.tags, c.additional_emails, c.additional_phones
            ));
        }
    }
    rows.sort();
    let effects = store.job_effects(loc.id, job).await.unwrap();
    let j = store.job(loc.id, job).await.unwrap();
    let totals = serde_json::json!([
        j.status,
        j.totals.processed,
        j.totals.created,
        j.totals.updated,
        j.totals.skipped,
        j.totals.errors,
        j.totals.warnings,
        j.totals.blank,
        j.checkpoint_line
    ]);
    store.close().await;
    (rows, effects, totals)
}

fn job_id(d: &Deployment) -> Option<i64> {
    let list: Value =
        serde_json::from_str(&d.ok(&["jobs", "list", "--location", "Glow", "--json"], "")).unwrap();
    list.as_array()
        .unwrap()
        .first()
        .map(|j| j["id"].as_i64().unwrap())
}

/// Runs the import to completion through kills: `kill` decides, per attempt, how long to let
/// the process run (None: to the end) or which fail point aborts it.
fn run_with_interruptions(d: &Deployment, file: &str, plan: &[Interrupt]) -> i64 {
    let mut attempts = plan.iter();
    loop {
        let job = job_id(d);
        let mut cmd = match job {
            None => d.command(&[
                "import",
                "contacts",
                file,
                "--location",
                "Glow",
                "--mode",
                "upsert",
            ]),
            Some(job) => d.command(&["jobs", "resume", &job.to_string()]),
        };
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        match attempts.next() {
            Some(Interrupt::KillAfter(ms)) => {
                let mut child = cmd.spawn().unwrap();
                std::thread::sleep(Duration::from_millis(*ms));
                let _ = child.kill(); // SIGKILL
                let _ = child.wait();
            }
            Some(Interrupt::FailPoint(point)) => {
                let status = cmd.env("AESTHETIX_FAILPOINT", point).status().unwrap();
                assert!(
                    !status.success() || job_id(d).is_some(),
                    "the fail point {point} stops the process"
                );
            }
            None => {
                let status = cmd.status().unwrap();
                assert!(status.success(), "the last resume completes the job");
                return job_id(d).unwrap();
            }
        }
    }
}

enum Interrupt {
    KillAfter(u64),
    FailPoint(&'static str),
}

#[tokio::test]
async fn a_killed_import_resumes_to_exactly_the_uninterrupted_result() {
    for (reference, crashed) in each_backend().await.into_iter().zip(each_backend().await) {
        for d in [&reference, &crashed] {
            d.ok(&["location", "create", "Glow"], "");
        }
        let file = messy_file(&reference);
        let clean_job = run_with_interruptions(&reference, &file, &[]);
        let expected = canonical(&reference, clean_job).await;
        assert_eq!(expected.2[0], "completed");

        // Random kills (a pseudo-random but reproducible schedule), then fixed fail points:
        // just before a chunk commits, just after one did.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut plan: Vec<Interrupt> = (0..3)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                Interrupt::KillAfter(150 + seed % 600)
            })
            .collect();
        plan.extend([
            Interrupt::FailPoint("chunk_before_commit:1"),
            Interrupt::FailPoint("chunk_after_commit:1"),
            Interrupt::FailPoint("chunk_before_commit:2"),
        ]);
        let file = messy_file(&crashed);
        let job = run_with_interruptions(&crashed, &file, &plan);
        let got = canonical(&crashed, job).await;
        assert_eq!(got.2, expected.2, "status, totals and checkpoint");
        assert_eq!(
            got.1, expected.1,
            "notes, journal, provenance and line results: none doubled, none lost"
        );
        assert_eq!(got.0.len(), expected.0.len());
        assert!(
            got.0 == expected.0,
            "the contacts differ from an uninterrupted run"
        );
        let integrity = if crashed.database_url.is_none() {
            let out = Command::new("sqlite3")
                .arg(crashed.data_dir().join("aesthetix.db"))
                .arg("PRAGMA integrity_check")
                .output();
            out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_else(|_| "ok".into())
        } else {
            "ok".into()
        };
        assert_eq!(integrity, "ok");
    }
}

#[tokio::test]
async fn a_worker_resumes_an_import_whose_process_died() {
    for (reference, crashed) in each_backend().await.into_iter().zip(each_backend().await) {
        for d in [&reference, &crashed] {
            d.ok(&["location", "create", "Glow"], "");
        }
        let file = messy_file(&reference);
        let clean_job = run_with_interruptions(&reference, &file, &[]);
        let expected = canonical(&reference, clean_job).await;

        // The import dies after its first chunk; nobody runs `jobs resume`.
        let file = messy_file(&crashed);
        let status = crashed
            .command(&[
                "import",
                "contacts",
                &file,
                "--location",
                "Glow",
                "--mode",
                "upsert",
            ])
            .env("AESTHETIX_FAILPOINT", "chunk_after_commit:1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success());
        let job = job_id(&crashed).expect("the job was created");

        // A worker process finds it and finishes it from its checkpoint.
        let mut worker = crashed
            .command(&["worker"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut done = false;
        for _ in 0..120 {
            let shown: Value = serde_json::from_str(
                &crashed.ok(&["jobs", "show", &job.to_string(), "--json"], ""),
            )
            .unwrap();
            if shown["status"] == "completed" {
                done = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let _ = worker.kill();
        let _ = worker.wait();
        assert!(done, "the worker completed the job");
        let got = canonical(&crashed, job).await;
        assert_eq!(got.2, expected.2);
        assert_eq!(got.1, expected.1);
        assert!(
            got.0 == expected.0,
            "the contacts differ from an uninterrupted run"
        );
    }
}
