//! Several machines (SPEC §1): two `serve --web-only` processes and one `worker`, each with
//! its own empty `--data-dir` (no shared disk), sharing one PostgreSQL database and one
//! S3-compatible bucket (moto, a real S3-protocol server). An import uploaded through the first
//! web process is run by the worker; its error log and an export are downloaded through the
//! second; the worker killed (SIGKILL) mid-import is taken over by a restarted one, and the
//! result is an uninterrupted run's: every line exactly once (SPEC §9.5).

use std::path::PathBuf;
use std::process::Command;

use filestore::testing::{ACCESS_KEY, S3Server, SECRET_KEY};
use reqwest::StatusCode;
use serde_json::Value;
use store::testing::{TempDir, fresh_postgres_database, postgres_admin_url};

use crate::support::{
    Deployment, MESSY_LAST_LINE, Watched, assert_same_result, canonical, http, job_now, messy_file,
    newest_job, reference_run, spawn_serving, wait_for_job,
};

const CHUNK: usize = 50;

/// One machine of the deployment: its own data directory, the shared database and bucket.
struct Machines {
    root: TempDir,
    database_url: String,
    endpoint: String,
    bucket: String,
}

impl Machines {
    fn data_dir(&self, machine: &str) -> PathBuf {
        self.root.path().join(machine)
    }

    fn command(&self, machine: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aesthetix"));
        cmd.arg("--data-dir")
            .arg(self.data_dir(machine))
            .arg("--database-url")
            .arg(&self.database_url)
            .arg("--file-store")
            .arg(format!("s3://{}/aesthetix", self.bucket))
            .arg("--s3-endpoint")
            .arg(&self.endpoint)
            .args(args)
            .env_remove("AESTHETIX_DATA_DIR")
            .env_remove("AESTHETIX_DATABASE_URL")
            .env_remove("AESTHETIX_FILE_STORE")
            // Credentials and region the usual way, from the environment.
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("AESTHETIX_CHUNK_ROWS", CHUNK.to_string());
        cmd
    }

    fn ok(&self, machine: &str, args: &[&str]) -> String {
        let out = self.command(machine, args).output().unwrap();
        assert!(
            out.status.success(),
            "`aesthetix {}` on {machine}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn worker(&self, machine: &str) -> Watched {
        let mut cmd = self.command(machine, &["worker"]);
        // Slow enough to be killed mid-import.
        cmd.env("AESTHETIX_TEST_CHUNK_PAUSE_MS", "60");
        Watched::spawn(cmd)
    }

    /// Files kept on a machine's own disk (none should be: they are in the bucket).
    fn local_files(&self, machine: &str) -> Vec<String> {
        std::fs::read_dir(self.data_dir(machine).join("files"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

async fn get(base: &str, path: &str, key: &str) -> (StatusCode, Vec<u8>) {
    let resp = http()
        .get(format!("{base}/api/v1{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn two_web_processes_and_a_worker_share_postgresql_and_s3() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let Some(s3) = S3Server::get("machines") else {
        return;
    };
    let m = Machines {
        root: TempDir::new("aesthetix-machines"),
        database_url: fresh_postgres_database(&admin).await,
        endpoint: s3.endpoint.clone(),
        bucket: s3.bucket("machines"),
    };
    // What an uninterrupted run of the same file writes (SQLite, local files).
    let reference = Deployment {
        dir: TempDir::new("aesthetix-machines-ref"),
        database_url: None,
    };
    reference.ok(&["location", "create", "Glow"], "");
    let file = messy_file(&reference);
    let expected = reference_run(&reference, &file, CHUNK).await;
    let ref_job = newest_job(&reference).unwrap();
    let ref_log = reference.dir.path().join("errors.csv");
    reference.ok(
        &[
            "jobs",
            "errors",
            &ref_job.to_string(),
            "--output",
            ref_log.to_str().unwrap(),
        ],
        "",
    );

    m.ok("admin", &["location", "create", "Glow"]);
    let key = m
        .ok("admin", &["apikey", "create", "--location", "Glow"])
        .trim()
        .to_string();
    let web1 = spawn_serving(m.command("web1", &["serve", "--web-only", "--bind", "127.0.0.1:0"]));
    let web2 = spawn_serving(m.command("web2", &["serve", "--web-only", "--bind", "127.0.0.1:0"]));
    let mut worker = m.worker("worker1");

    // The import, uploaded through web 1 (streamed into the bucket).
    let resp = http()
        .post(format!(
            "{}/api/v1/imports?file_name=messy.csv&mode=upsert",
            web1.base
        ))
        .bearer_auth(&key)
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .body(std::fs::read(&file).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.unwrap();
    let job = body["job_id"].as_i64().unwrap();

    // The worker runs it; killed (SIGKILL) mid-import, a restarted one takes it over.
    let store = store::Store::connect_postgres(&m.database_url)
        .await
        .unwrap();
    wait_for_job(&store, job, 120, "the worker runs the import", |j| {
        j.checkpoint_line > 0
    })
    .await;
    let _ = worker.child.kill();
    let _ = worker.child.wait();
    let at_kill = job_now(&store, job).await;
    assert!(
        at_kill.status == "running" && at_kill.checkpoint_line < MESSY_LAST_LINE,
        "the kill came mid-import: {} at line {}",
        at_kill.status,
        at_kill.checkpoint_line
    );
    let _worker = m.worker("worker2");
    wait_for_job(&store, job, 180, "the restarted worker completes it", |j| {
        j.status == "completed"
    })
    .await;
    let shared = Deployment {
        dir: TempDir::new("aesthetix-machines-db"),
        database_url: Some(m.database_url.clone()),
    };
    assert_same_result(&canonical(&shared, job).await, &expected);

    // Its error log, through web 2.
    let (status, log) = get(&web2.base, &format!("/bulk-actions/{job}/error-log"), &key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        log,
        std::fs::read(&ref_log).unwrap(),
        "the error log is the uninterrupted run's"
    );

    // An export, queued through web 2, run by the worker, downloaded through web 1 and web 2
    // (each reads it from the bucket, in ranges).
    let resp = http()
        .post(format!("{}/api/v1/exports", web2.base))
        .bearer_auth(&key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.unwrap();
    let export = body["job_id"]
        .as_i64()
        .or_else(|| body["bulk_action"]["id"].as_i64())
        .unwrap_or_else(|| panic!("the export's job in {body}"));
    wait_for_job(
        &store,
        export,
        120,
        "the worker completes the export",
        |j| j.status == "completed",
    )
    .await;
    let (status, from_web2) = get(
        &web2.base,
        &format!("/bulk-actions/{export}/download"),
        &key,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, from_web1) = get(
        &web1.base,
        &format!("/bulk-actions/{export}/download"),
        &key,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(from_web1, from_web2);
    // The CLI on a fourth machine exports the same contacts to the same bytes.
    let out = m.data_dir("cli").with_extension("csv");
    m.ok(
        "cli",
        &[
            "export",
            "contacts",
            "--location",
            "Glow",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(from_web2, std::fs::read(&out).unwrap());
    assert!(from_web2.starts_with("\u{feff}".as_bytes()));

    // Every file is in the bucket; no machine kept one of its own.
    let keys = s3.keys(&m.bucket);
    assert!(
        keys.iter().any(|k| k.starts_with("aesthetix/upload-")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("aesthetix/export-")),
        "{keys:?}"
    );
    for machine in ["web1", "web2", "worker1", "worker2"] {
        assert!(
            m.local_files(machine).is_empty(),
            "{machine}: {:?}",
            m.local_files(machine)
        );
    }
    store.close().await;
}
