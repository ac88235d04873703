//! A real S3-protocol server for tests: `moto` in server mode (`pip install 'moto[server]'`,
//! installed by `.ci/run`), one per test process, started on first use; each test makes a
//! bucket of its own. Without `moto_server` a test skips with a loud line, or fails when
//! `AESTHETIX_REQUIRE_SERVICES=1`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{FileStore, S3Settings};

/// The access key the tests use (moto accepts any).
pub const ACCESS_KEY: &str = "aesthetix-test";
pub const SECRET_KEY: &str = "aesthetix-test-secret";

/// The running server: its endpoint (`http://127.0.0.1:PORT`).
pub struct S3Server {
    pub endpoint: String,
}

/// The one server of this process; its shell wrapper kills moto when our end of its stdin
/// closes, that is when this process exits (however it exits).
static SERVER: Mutex<Option<(Child, String)>> = Mutex::new(None);
static BUCKETS: AtomicU32 = AtomicU32::new(0);

impl S3Server {
    /// The server, started when first asked; `None` (after a loud line) when moto is not
    /// installed — a panic instead with `AESTHETIX_REQUIRE_SERVICES=1`.
    pub fn get(test: &str) -> Option<S3Server> {
        let mut server = SERVER.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, endpoint)) = server.as_ref() {
            return Some(S3Server {
                endpoint: endpoint.clone(),
            });
        }
        let Some(program) = moto_program() else {
            let required = std::env::var("AESTHETIX_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{test}: moto_server (pip install 'moto[server]') is required (AESTHETIX_REQUIRE_SERVICES=1) but was not found"
            );
            // Straight to stderr: the harness swallows an `eprintln!` of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPING {test}: no S3-protocol server — install moto with `pip install 'moto[server]'` to run it ***\n"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("sh")
            .arg("-c")
            .arg("\"$0\" -H 127.0.0.1 -p \"$1\" >/dev/null 2>&1 & m=$!; read _; kill $m")
            .arg(&program)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while request("GET", port, "/").is_none() {
            assert!(
                Instant::now() < deadline,
                "{test}: moto_server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        *server = Some((child, endpoint.clone()));
        Some(S3Server { endpoint })
    }

    fn port(&self) -> u16 {
        self.endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the endpoint's port")
    }

    /// Creates a fresh, empty bucket and returns its name.
    pub fn bucket(&self, test: &str) -> String {
        let clean: String = test
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(30)
            .collect::<String>()
            .to_ascii_lowercase();
        let name = format!(
            "t{}-{}-{}",
            std::process::id(),
            BUCKETS.fetch_add(1, Ordering::Relaxed),
            clean
        );
        let status = request("PUT", self.port(), &format!("/{name}"));
        assert_eq!(status, Some(200), "creating the bucket {name}");
        name
    }

    /// The settings of `s3://BUCKET/PREFIX` on this server.
    pub fn settings(&self, bucket: &str, prefix: &str) -> S3Settings {
        S3Settings {
            url: format!("s3://{bucket}/{prefix}"),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
        }
    }

    /// A store in a fresh bucket, with `data_dir` for its local copies.
    pub fn store(&self, test: &str, data_dir: &Path) -> FileStore {
        let bucket = self.bucket(test);
        FileStore::s3(&self.settings(&bucket, "files"), data_dir).expect("an S3 file store")
    }

    /// The object keys of `bucket` (for tests that look at what was stored).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let body =
            request_body("GET", self.port(), &format!("/{bucket}?list-type=2")).unwrap_or_default();
        body.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }
}

fn moto_program() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// One plain HTTP/1.1 request with an empty body; the status code.
fn request(method: &str, port: u16, path: &str) -> Option<u16> {
    let (status, _) = exchange(method, port, path)?;
    Some(status)
}

fn request_body(method: &str, port: u16, path: &str) -> Option<String> {
    exchange(method, port, path).map(|(_, body)| body)
}

fn exchange(method: &str, port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}
