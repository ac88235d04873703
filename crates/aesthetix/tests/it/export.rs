//! SPEC §10 as a user meets it, on both backends: `aesthetix export contacts` and its exit
//! codes; the download over HTTP for an admin session or an API key of the job's location
//! only, 410 once the 30 days are over and the sweep deleting the file; an export killed
//! mid-way never leaving a file to download and a restarted one writing it whole; and a
//! scheduled export started once by two workers.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Deployment, each_backend, http, session_cookie, spawn_app};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The location's jobs, newest first, as `jobs list --json` gives them.
fn jobs(d: &Deployment, location: &str) -> Vec<Value> {
    let out = d.ok(&["jobs", "list", "--location", location, "--json"], "");
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn newest_job(d: &Deployment, location: &str) -> i64 {
    jobs(d, location)[0]["id"].as_i64().unwrap()
}

const CONTACTS: &str = "First Name,Last Name,Email,Phone,Tags,Notes,Patient Lifetime Value\n\
     Zoë,O'Neil,zoe@example.com,(201) 555-0123,\"VIP, Botox\",\"=HYPERLINK(\"\"x\"\")\",\"$1,234.50\"\n\
     Bob,\"Lee; Jr\",bob@example.com,,Lead,\"two\nlines\",\n";

#[tokio::test]
async fn export_contacts_writes_the_file_and_says_what_went_wrong() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let csv = d.dir.path().join("in.csv");
        std::fs::write(&csv, CONTACTS).unwrap();
        d.ok(
            &[
                "import",
                "contacts",
                csv.to_str().unwrap(),
                "--location",
                "Glow",
            ],
            "",
        );
        let out_path = d.dir.path().join("out.csv");
        let out = d.run(
            &[
                "export",
                "contacts",
                "--location",
                "Glow",
                "--columns",
                "first_name,last_name,email,phone,tags,note,patient_lifetime_value",
                "--output",
                out_path.to_str().unwrap(),
            ],
            "",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Exported 2 contacts"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(
            std::fs::read_to_string(&out_path).unwrap(),
            "\u{feff}First Name,Last Name,Email,Phone,Tags,Note,Patient Lifetime Value\r\n\
             Zoë,O'Neil,zoe@example.com,+12015550123,\"VIP, Botox\",\"'=HYPERLINK(\"\"x\"\")\",1234.50\r\n\
             Bob,\"Lee; Jr\",bob@example.com,,Lead,\"two\nlines\",\r\n"
        );
        let job = &jobs(&d, "Glow")[0];
        assert_eq!(job["operation"], "export");
        assert_eq!(job["status"], "completed");
        assert_eq!(
            (job["processed"].as_i64(), job["total"].as_i64()),
            (Some(2), Some(2))
        );

        // A Smart List that selects nobody: the header alone, and still a success.
        let empty = d.dir.path().join("patients.csv");
        d.ok(
            &[
                "export",
                "contacts",
                "--location",
                "Glow",
                "--smart-list",
                "Patients",
                "--columns",
                "email",
                "--output",
                empty.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(
            std::fs::read(&empty).unwrap(),
            "\u{feff}Email\r\n".as_bytes()
        );

        // Could not run: exit 1 with the reason, and no job, no file.
        let before = jobs(&d, "Glow").len();
        let nowhere = d.dir.path().join("never.csv");
        let nowhere = nowhere.to_str().unwrap();
        for (args, words) in [
            (
                vec!["--location", "Glow", "--columns", "email,colour"],
                "'colour' is not a contact field",
            ),
            (
                vec!["--location", "Glow", "--smart-list", "VIPs"],
                "its Smart Lists are: Leads, Patients",
            ),
            (vec!["--location", "Nowhere"], "no location named 'Nowhere'"),
            (
                vec!["--location", "Glow", "--filter", "colour=red"],
                "'colour' is not a filter key",
            ),
        ] {
            let mut all = vec!["export", "contacts"];
            all.extend(args);
            all.extend(["--output", nowhere]);
            let out = d.run(&all, "");
            assert_eq!(out.status.code(), Some(1), "{all:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(words), "{all:?}: {}", stderr(&out));
        }
        let out = d.run(
            &[
                "export",
                "contacts",
                "--location",
                "Glow",
                "--output",
                d.dir.path().join("no/such/dir/x.csv").to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
        assert_eq!(jobs(&d, "Glow").len(), before);
        assert!(!Path::new(nowhere).exists());
        // Missing --output is bad usage (clap's own).
        let out = d.run(&["export", "contacts", "--location", "Glow"], "");
        assert_eq!(out.status.code(), Some(2));
    }
}

async fn login(base: &str, email: &str, password: &str) -> String {
    let resp = http()
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    session_cookie(&resp).unwrap_or_else(|| panic!("{email} signs in: {}", resp.status()))
}

async fn get(base: &str, path: &str, cookie: Option<&str>, key: Option<&str>) -> reqwest::Response {
    let mut req = http().get(format!("{base}{path}"));
    if let Some(c) = cookie {
        req = req.header(reqwest::header::COOKIE, c);
    }
    if let Some(k) = key {
        req = req.header(reqwest::header::AUTHORIZATION, format!("Bearer {k}"));
    }
    req.send().await.unwrap()
}

fn api_key(d: &Deployment, location: &str) -> String {
    d.ok(&["apikey", "create", "--location", location], "")
        .trim()
        .to_string()
}

fn files_in(d: &Deployment) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(d.data_dir().join("files"))
        .map(|dir| {
            dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains("export"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_download_needs_an_admin_or_key_of_the_location_and_ends_after_30_days() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Other"], "");
        let csv = d.dir.path().join("in.csv");
        std::fs::write(&csv, CONTACTS).unwrap();
        d.ok(
            &[
                "import",
                "contacts",
                csv.to_str().unwrap(),
                "--location",
                "Glow",
            ],
            "",
        );
        // Named so the download name needs RFC 6266's filename*.
        d.ok(
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "Zoë's VIPs",
                "--filter",
                "tag=VIP",
            ],
            "",
        );
        let out_path = d.dir.path().join("vips.csv");
        d.ok(
            &[
                "export",
                "contacts",
                "--location",
                "Glow",
                "--smart-list",
                "Zoë's VIPs",
                "--output",
                out_path.to_str().unwrap(),
            ],
            "",
        );
        let exported = std::fs::read(&out_path).unwrap();
        let job = newest_job(&d, "Glow");

        // The first run makes an admin of Glow; then a user who is not an admin, and an
        // admin of the other location.
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().expect("a first-run admin of Glow");
        d.ok(
            &[
                "user",
                "create",
                "--location",
                "Glow",
                "--email",
                "uma@example.com",
                "--name",
                "Uma",
                "--role",
                "user",
            ],
            "password-uma\n",
        );
        d.ok(
            &[
                "user",
                "create",
                "--location",
                "Other",
                "--email",
                "otto@example.com",
                "--name",
                "Otto",
                "--role",
                "admin",
            ],
            "password-otto\n",
        );
        let glow_key = api_key(&d, "Glow");
        let other_key = api_key(&d, "Other");
        let admin = login(&base, &email, &password).await;
        let uma = login(&base, "uma@example.com", "password-uma").await;
        let otto = login(&base, "otto@example.com", "password-otto").await;
        let page = format!("/bulk-actions/{job}/download");
        let api = format!("/api/v1/bulk-actions/{job}/download");

        // An admin of Glow gets the file, named as the user knows it.
        let resp = get(&base, &page, Some(&admin), None).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("America/New_York").unwrap())
            .date();
        let disposition = resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            disposition,
            format!(
                "attachment; filename=\"Zo_'s VIPs export {today}.csv\"; filename*=UTF-8''Zo%C3%AB%27s%20VIPs%20export%20{today}.csv"
            )
        );
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), exported.as_slice());
        // So does a key of Glow.
        let resp = get(&base, &api, None, Some(&glow_key)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.bytes().await.unwrap().as_ref(), exported.as_slice());

        // Nobody else: no session, a user who is not an admin, another location's admin or key.
        let resp = get(&base, &page, None, None).await;
        assert!(resp.status().is_redirection());
        assert_eq!(resp.headers()["location"], "/login");
        let resp = get(&base, &page, Some(&uma), None).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert!(resp.text().await.unwrap().contains("Only an admin"));
        let resp = get(&base, &page, Some(&otto), None).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert!(!resp.text().await.unwrap().contains("Zo"));
        let resp = get(&base, &api, None, Some(&other_key)).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        let resp = get(&base, &api, None, None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let resp = get(&base, &api, Some(&admin), None).await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "a session is not a key"
        );
        // Jobs without a file, and no job at all.
        let import = jobs(&d, "Glow").last().unwrap()["id"].as_i64().unwrap();
        for path in [
            format!("/bulk-actions/{import}/download"),
            "/bulk-actions/999999/download".to_string(),
            "/bulk-actions/abc/download".to_string(),
        ] {
            let resp = get(&base, &path, Some(&admin), None).await;
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        }

        // After 30 days the download is disabled (410, saying why and what to do) ...
        let store = d.store().await;
        let glow = store.location_by_name("Glow").await.unwrap();
        let file = store.job_file(glow.id, job).await.unwrap().unwrap();
        store::testing::set_file_expiry(&store, file.id, store::now_ms() - 1000).await;
        let resp = get(&base, &page, Some(&admin), None).await;
        assert_eq!(resp.status(), StatusCode::GONE);
        let text = resp.text().await.unwrap();
        assert!(
            text.contains("kept for 30 days") && text.contains("Run the export again"),
            "{text}"
        );
        let resp = get(&base, &api, None, Some(&glow_key)).await;
        assert_eq!(resp.status(), StatusCode::GONE);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "file.expired");
        assert!(files_in(&d).contains(&file.stored_name), "not swept yet");

        // ... and the sweep (at every start of serve or worker, then every 10 minutes)
        // deletes the file and marks it deleted.
        drop(app);
        let app = spawn_app(&d);
        let deadline = Instant::now() + Duration::from_secs(30);
        while files_in(&d).contains(&file.stored_name) {
            assert!(
                Instant::now() < deadline,
                "the sweep deletes the expired file"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut marked = None;
        while Instant::now() < deadline {
            marked = store
                .job_file(glow.id, job)
                .await
                .unwrap()
                .unwrap()
                .deleted_at;
            if marked.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(marked.is_some(), "the sweep marks the file deleted");
        let admin = login(&app.base, &email, &password).await;
        let resp = get(&app.base, &page, Some(&admin), None).await;
        assert_eq!(resp.status(), StatusCode::GONE);
        store.close().await;
    }
}

/// `n` contacts seeded straight into the database, with tags (the export reads them).
async fn seed_many(d: &Deployment, n: usize) {
    let store = d.store().await;
    let loc = store.location_by_name("Glow").await.unwrap();
    let people: Vec<store::NewContact> = (0..n)
        .map(|i| store::NewContact {
            first_name: Some(format!("Pat{i}")),
            last_name: Some(if i % 7 == 0 {
                "=Lee".into()
            } else {
                "Lee".into()
            }),
            email: Some(format!("pat{i}@example.com")),
            phone: (i % 3 == 0).then(|| format!("+1201{}{:04}", 234 + i / 10_000, i % 10_000)),
            ..store::NewContact::default()
        })
        .collect();
    let mut ids = Vec::new();
    for chunk in people.chunks(1000) {
        ids.extend(store.insert_contacts(loc.id, chunk).await.unwrap());
    }
    let vip: Vec<i64> = ids.iter().copied().step_by(2).collect();
    store.add_tags(loc.id, &vip, &["VIP".into()]).await.unwrap();
    store.close().await;
}

fn export_cmd(d: &Deployment, output: &Path) -> std::process::Command {
    let mut cmd = d.command(&[
        "export",
        "contacts",
        "--location",
        "Glow",
        "--output",
        output.to_str().unwrap(),
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(d: &Deployment, failpoint: Option<&str>) -> Worker {
    let mut cmd = d.command(&["worker"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(p) = failpoint {
        cmd.env("AESTHETIX_FAILPOINT", p);
    }
    Worker(cmd.spawn().unwrap())
}

async fn job_status(d: &Deployment, job: i64) -> String {
    jobs(d, "Glow")
        .iter()
        .find(|j| j["id"].as_i64() == Some(job))
        .map(|j| j["status"].as_str().unwrap().to_string())
        .unwrap()
}

async fn recorded(d: &Deployment, job: i64) -> Option<PathBuf> {
    let store = d.store().await;
    let loc = store.location_by_name("Glow").await.unwrap();
    let file = store.job_file(loc.id, job).await.unwrap();
    store.close().await;
    file.map(|f| d.data_dir().join("files").join(f.stored_name))
}

#[tokio::test]
async fn a_killed_export_is_never_downloadable_half_written_and_a_restart_writes_it_whole() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        seed_many(&d, 3500).await;
        // The file an uninterrupted export writes.
        let reference = d.dir.path().join("reference.csv");
        assert!(export_cmd(&d, &reference).status().unwrap().success());
        let reference = std::fs::read(&reference).unwrap();
        assert_eq!(reference.windows(2).filter(|w| w == b"\r\n").count(), 3501);

        // Aborted after its second batch: the job is left running under a dead process,
        // without a file — only a temporary one in the file store, and no --output.
        let output = d.dir.path().join("out.csv");
        let status = export_cmd(&d, &output)
            .env("AESTHETIX_FAILPOINT", "export_batch:2")
            .status()
            .unwrap();
        assert!(!status.success());
        let job = newest_job(&d, "Glow");
        assert_eq!(job_status(&d, job).await, "running");
        assert_eq!(recorded(&d, job).await, None);
        assert!(!output.exists());
        let left = files_in(&d);
        assert!(
            left.iter()
                .all(|n| !n.starts_with(&format!("export-{job}-"))),
            "no finished file: {left:?}"
        );
        assert!(
            left.iter()
                .any(|n| n.starts_with(&format!(".export-{job}-"))),
            "a temporary one: {left:?}"
        );

        // A worker takes the job over at once (its holder is dead) and writes the whole
        // file, but dies between the rename and the commit: a finished file on disk that
        // nothing records, so nothing can download it.
        let mut w = worker(&d, Some("export_after_rename:1"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while w.0.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the worker reaches the fail point"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(w);
        assert_eq!(job_status(&d, job).await, "running");
        assert_eq!(recorded(&d, job).await, None);
        let left = files_in(&d);
        assert!(
            left.iter()
                .any(|n| n.starts_with(&format!("export-{job}-"))),
            "renamed but unrecorded: {left:?}"
        );

        // The next worker writes it all again: the very bytes of the uninterrupted export,
        // and what the interrupted runs left is gone.
        let _w = worker(&d, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while job_status(&d, job).await != "completed" {
            assert!(Instant::now() < deadline, "the worker completes the export");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let file = recorded(&d, job).await.unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), reference);
        let left = files_in(&d);
        let ours: Vec<&String> = left
            .iter()
            .filter(|n| n.contains(&format!("export-{job}-")))
            .collect();
        assert_eq!(ours.len(), 1, "{left:?}");
        assert_eq!(file.file_name().unwrap().to_string_lossy(), *ours[0]);

        // Killed at an arbitrary moment instead: the same holds.
        let mut child = export_cmd(&d, &output).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(400));
        let _ = child.kill();
        let _ = child.wait();
        let job = newest_job(&d, "Glow");
        match job_status(&d, job).await.as_str() {
            "completed" => {
                assert_eq!(
                    std::fs::read(recorded(&d, job).await.unwrap()).unwrap(),
                    reference
                )
            }
            _ => {
                assert_eq!(recorded(&d, job).await, None);
                let deadline = Instant::now() + Duration::from_secs(60);
                while job_status(&d, job).await != "completed" {
                    assert!(Instant::now() < deadline, "the worker completes the export");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                assert_eq!(
                    std::fs::read(recorded(&d, job).await.unwrap()).unwrap(),
                    reference
                );
            }
        }
    }
}

#[tokio::test]
async fn a_scheduled_export_runs_once_per_period_with_two_workers() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        seed_many(&d, 20).await;
        d.ok(
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "VIPs",
                "--filter",
                "tag=VIP",
            ],
            "",
        );
        let out = d.ok(
            &[
                "export",
                "schedule",
                "create",
                "--location",
                "Glow",
                "--smart-list",
                "VIPs",
                "--every",
                "daily",
                "--columns",
                "first_name,email",
            ],
            "",
        );
        assert!(out.contains("Scheduled export"), "{out}");
        let out = d.run(
            &[
                "export",
                "schedule",
                "create",
                "--location",
                "Glow",
                "--smart-list",
                "VIPs",
                "--every",
                "daily",
                "--columns",
                "colour",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("'colour' is not a contact field"));

        let (_a, _b) = (worker(&d, None), worker(&d, None));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let all = jobs(&d, "Glow");
            if all.iter().any(|j| j["status"] == "completed") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a worker runs the scheduled export"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Both workers have looked at the schedule by now (each does as it starts).
        tokio::time::sleep(Duration::from_secs(3)).await;
        let all = jobs(&d, "Glow");
        assert_eq!(all.len(), 1, "one run, not two: {all:?}");
        let job = all[0]["id"].as_i64().unwrap();
        let file = recorded(&d, job).await.unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            text.starts_with("\u{feff}First Name,Email\r\nPat0,pat0@example.com\r\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 11, "the VIPs: every other contact");

        let listed: Value = serde_json::from_str(&d.ok(
            &["export", "schedule", "list", "--location", "Glow", "--json"],
            "",
        ))
        .unwrap();
        assert_eq!(listed[0]["smart_list"], "VIPs");
        assert_eq!(listed[0]["frequency"], "daily");
        assert_eq!(listed[0]["last_job_id"], job);
        let id = listed[0]["id"].as_i64().unwrap().to_string();
        d.ok(
            &["export", "schedule", "delete", "--location", "Glow", &id],
            "",
        );
        let out = d.run(
            &["export", "schedule", "delete", "--location", "Glow", &id],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

/// `jobs resume JOB` finishes an export whose process died (SPEC §13.1: it runs in the
/// foreground, like `import contacts`): the file it records equals an uninterrupted export's.
#[tokio::test]
async fn jobs_resume_finishes_an_export_whose_process_died() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        seed_many(&d, 3500).await;
        let reference = d.dir.path().join("reference.csv");
        assert!(export_cmd(&d, &reference).status().unwrap().success());
        let reference = std::fs::read(&reference).unwrap();

        let output = d.dir.path().join("out.csv");
        let status = export_cmd(&d, &output)
            .env("AESTHETIX_FAILPOINT", "export_batch:2")
            .status()
            .unwrap();
        assert!(!status.success());
        let job = newest_job(&d, "Glow");
        assert_eq!(job_status(&d, job).await, "running");
        assert_eq!(recorded(&d, job).await, None);

        let out = d.ok(&["jobs", "resume", &job.to_string()], "");
        assert!(out.contains(&format!("Export {job} completed")), "{out}");
        assert_eq!(job_status(&d, job).await, "completed");
        let file = recorded(&d, job)
            .await
            .expect("the resumed export recorded its file");
        assert_eq!(std::fs::read(file).unwrap(), reference);

        // A completed export is not resumed again.
        let again = d.run(&["jobs", "resume", &job.to_string()], "");
        assert_eq!(again.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&again.stderr).contains("completed"));
    }
}
