//! Spawning the product: `aesthetix` commands and a served app, each on its own database.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use store::testing::{TempDir, fresh_postgres_database, postgres_admin_url};

/// An empty deployment: a data directory, and a PostgreSQL database when `postgres`.
pub struct Deployment {
    pub dir: TempDir,
    pub database_url: Option<String>,
}

impl Deployment {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// An `aesthetix` command with this deployment's global options.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aesthetix"));
        cmd.arg("--data-dir").arg(self.data_dir());
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.args(args)
            .env_remove("AESTHETIX_DATA_DIR")
            .env_remove("AESTHETIX_DATABASE_URL")
            .env_remove("AESTHETIX_FILE_STORE");
        cmd
    }

    /// An `aesthetix` command of this deployment that reaches its PostgreSQL database at `url`
    /// instead (through a test's proxy).
    pub fn command_via(&self, url: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aesthetix"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .arg("--database-url")
            .arg(url)
            .args(args)
            .env_remove("AESTHETIX_DATA_DIR")
            .env_remove("AESTHETIX_DATABASE_URL")
            .env_remove("AESTHETIX_FILE_STORE");
        cmd
    }

    /// Runs a command to completion with `stdin` as its standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aesthetix");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().expect("wait for aesthetix")
    }

    /// Runs a command that must succeed, returning its standard output.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "`aesthetix {}` failed ({:?}): {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Opens the deployment's database from the test, to look at or seed what the product
    /// wrote.
    pub async fn store(&self) -> store::Store {
        match &self.database_url {
            Some(url) => store::Store::connect_postgres(url).await.unwrap(),
            None => store::Store::open_sqlite(&self.data_dir().join("aesthetix.db"))
                .await
                .unwrap(),
        }
    }
}

/// A file of the repository's `testdata/` (see its README), as an absolute path: the one way
/// the integration tests reach a committed file, so a clone needs nothing beside it.
pub fn testdata(relative: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/aesthetix sits two folders below the repository's root")
        .join("testdata")
        .join(relative);
    assert!(
        path.is_file(),
        "test data {} is missing from the repository",
        path.display()
    );
    path
}

/// One empty deployment per backend this machine has.
pub async fn each_backend() -> Vec<Deployment> {
    let mut all = vec![Deployment {
        dir: TempDir::new("aesthetix-it"),
        database_url: None,
    }];
    if let Some(admin) = postgres_admin_url() {
        all.push(Deployment {
            dir: TempDir::new("aesthetix-it-pg"),
            database_url: Some(fresh_postgres_database(&admin).await),
        });
    }
    all
}

/// A running `aesthetix serve`, stopped when dropped.
pub struct App {
    child: Child,
    pub base: String,
    /// The first-run login printed at start: (email, password).
    pub first_login: Option<(String, String)>,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl App {
    /// The serving process's id (to read its memory, to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Starts `aesthetix serve` on a random port and waits until it says where it listens.
pub fn spawn_app(d: &Deployment) -> App {
    spawn_app_env(d, &[])
}

/// [`spawn_app`] with extra environment variables (test knobs).
pub fn spawn_app_env(d: &Deployment, env: &[(&str, &str)]) -> App {
    let mut cmd = d.command(&["serve", "--bind", "127.0.0.1:0"]);
    cmd.envs(env.iter().copied());
    spawn_serving(cmd)
}

/// Starts a `serve` command (its arguments given, `--bind 127.0.0.1:0` among them) and waits
/// until it says where it listens.
pub fn spawn_serving(mut cmd: Command) -> App {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn aesthetix serve");
    // Owned by an App from here on, so the process is killed and reaped whatever happens.
    let mut app = App {
        child,
        base: String::new(),
        first_login: None,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = app.child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve printed its address within 60 s");
        if let Some(rest) = line.trim().strip_prefix("Sign in with") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let email = words
                .iter()
                .position(|w| *w == "email:")
                .map(|i| words[i + 1].to_string());
            let password = words
                .iter()
                .position(|w| *w == "password:")
                .map(|i| words[i + 1].to_string());
            app.first_login = email.zip(password);
        }
        if let Some(rest) = line.strip_prefix("Aesthetix is running at ") {
            app.base = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
            return app;
        }
    }
}

/// An HTTP client that does not follow redirects, so tests see them.
pub fn http() -> reqwest::Client {
    // The workspace's reqwest is built with rustls for the S3 file store: its crypto provider
    // must be installed before any client is built.
    filestore::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The form token of the session behind `cookie` (`aesthetix_session=…`): what its pages put
/// in every form's `csrf_token` field, sent here as the `X-CSRF-Token` header.
pub fn csrf(cookie: &str) -> String {
    web::auth::form_token_of_cookie(cookie)
}

/// The session cookie a login response set (`name=value`).
pub fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("aesthetix_session=") && !v.starts_with("aesthetix_session=;"))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// What a job of location "Glow" wrote, counted in the database.
pub async fn job_effects(d: &Deployment, job: i64) -> store::JobEffects {
    let store = d.store().await;
    let loc = store.location_by_name("Glow").await.unwrap();
    let effects = store.job_effects(loc.id, job).await.unwrap();
    store.close().await;
    effects
}

/// 3,000 rows with in-file duplicates across chunks, tags, multi-line notes and error lines:
/// the file the crash and outage tests import.
pub fn messy_file(d: &Deployment) -> String {
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

/// The last line of [`messy_file`] (header on line 1, one record per line).
pub const MESSY_LAST_LINE: i64 = 3001;

/// Everything an import wrote, without ids (PostgreSQL sequences leave gaps after a
/// rolled-back transaction): contacts by value with their tags and additional values, the
/// job's append-only effects (notes, journal, provenance, line results), and its status,
/// totals and checkpoint. Two runs of one file with one chunk size compare equal.
pub type Canonical = (Vec<String>, store::JobEffects, serde_json::Value);

pub async fn canonical(d: &Deployment, job: i64) -> Canonical {
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
            let values: std::collections::BTreeMap<_, _> = c.values.into_iter().collect();
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

/// Asserts two canonical states are equal, saying which part differs.
pub fn assert_same_result(got: &Canonical, expected: &Canonical) {
    assert_eq!(got.2, expected.2, "status, totals and checkpoint");
    assert_eq!(
        got.1, expected.1,
        "notes, journal, provenance and line results: none doubled, none lost"
    );
    assert_eq!(got.0.len(), expected.0.len(), "contacts");
    assert!(
        got.0 == expected.0,
        "the contacts differ from an uninterrupted run"
    );
}

/// The newest job of location "Glow", if any.
pub fn newest_job(d: &Deployment) -> Option<i64> {
    let list: serde_json::Value =
        serde_json::from_str(&d.ok(&["jobs", "list", "--location", "Glow", "--json"], "")).unwrap();
    list.as_array()
        .unwrap()
        .first()
        .map(|j| j["id"].as_i64().unwrap())
}

/// `import contacts FILE --location Glow --mode upsert`.
pub fn import_args(file: &str) -> Vec<&str> {
    vec![
        "import",
        "contacts",
        file,
        "--location",
        "Glow",
        "--mode",
        "upsert",
    ]
}

/// Imports `file` to the end in one uninterrupted run with `chunk_rows` rows a chunk, and
/// returns what it wrote: what every interrupted run must end equal to.
pub async fn reference_run(d: &Deployment, file: &str, chunk_rows: usize) -> Canonical {
    let out = d
        .command(&import_args(file))
        .env("AESTHETIX_CHUNK_ROWS", chunk_rows.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the reference import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job = newest_job(d).unwrap();
    let expected = canonical(d, job).await;
    assert_eq!(expected.2[0], "completed");
    expected
}

/// A child process whose standard error is collected as it runs.
pub struct Watched {
    pub child: Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Watched {
    pub fn spawn(mut cmd: Command) -> Watched {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aesthetix");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Watched { child, stderr }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end (at most `secs`), returning its exit code (`None`: killed
    /// by a signal).
    pub async fn wait(&mut self, secs: u64) -> Option<i32> {
        for _ in 0..secs * 20 {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the process did not end within {secs} s; its stderr:\n{}",
            self.stderr()
        );
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The job as the database holds it now.
pub async fn job_now(store: &store::Store, job: i64) -> store::Job {
    let loc = store.job_location(job).await.unwrap();
    store.job(loc, job).await.unwrap()
}

/// Polls `job` until `pred` holds (at most `secs`), returning the job then.
pub async fn wait_for_job(
    store: &store::Store,
    job: i64,
    secs: u64,
    what: &str,
    pred: impl Fn(&store::Job) -> bool,
) -> store::Job {
    for _ in 0..secs * 40 {
        if let Ok(loc) = store.job_location(job).await
            && let Ok(j) = store.job(loc, job).await
            && pred(&j)
        {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: not within {secs} s");
}

/// Polls until location "Glow" has a job newer than `than` (at most `secs`), returning its id.
pub async fn wait_for_new_job(store: &store::Store, than: Option<i64>, secs: u64) -> i64 {
    let loc = store.location_by_name("Glow").await.unwrap();
    for _ in 0..secs * 40 {
        if let Some(j) = store.jobs(loc.id).await.unwrap().first()
            && Some(j.id) > than
        {
            return j.id;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no job was created within {secs} s");
}

/// The process id in a lease owner (`host/pid/nonce`).
pub fn owner_pid(owner: &str) -> Option<u32> {
    owner.split('/').nth(1)?.parse().ok()
}

/// Sends a signal by name (`STOP`, `CONT`, `KILL`) to a process.
pub fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} {pid}");
}

/// A signed-in page: its status and body.
pub async fn page_get(base: &str, path: &str, cookie: &str) -> (reqwest::StatusCode, String) {
    let resp = http()
        .get(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// A signed-in form post with the session's form token: its status, where it redirects (if
/// it does) and its body.
pub async fn form_post(
    base: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (reqwest::StatusCode, Option<String>, String) {
    let resp = http()
        .post(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", csrf(cookie))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, resp.text().await.unwrap())
}
