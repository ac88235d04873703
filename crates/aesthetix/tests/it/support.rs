//! Spawning the product: `aesthetix` commands and a served app, each on its own database.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
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
            .env_remove("AESTHETIX_DATABASE_URL");
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

/// Starts `aesthetix serve` on a random port and waits until it says where it listens.
pub fn spawn_app(d: &Deployment) -> App {
    let child = d
        .command(&["serve", "--bind", "127.0.0.1:0"])
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
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
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
