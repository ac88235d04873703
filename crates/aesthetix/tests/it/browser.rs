//! The web product in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`) as an admin would use it — sign in, upload the
//! reference's sample file, fix one mapping, validate, acknowledge the workflow warning,
//! submit, watch it finish, open the Error tab, download the error log, export two columns
//! and download the file from the header's notice — and a user who is not an admin refused. A screenshot of each step is saved under
//! `target/browser-screenshots/`.
//!
//! The WebDriver client is a few JSON-over-HTTP calls with `reqwest` (already a test
//! dependency), not a crate of its own. The test skips loudly, before anything else, without
//! chromedriver or Chromium (`AESTHETIX_CHROMEDRIVER` / `AESTHETIX_CHROMIUM` when set, else
//! `chromedriver` / `chromium` on the `PATH`) and fails instead with
//! `AESTHETIX_REQUIRE_SERVICES=1`. Its sample file is the repository's
//! `testdata/reference/sample-contacts.csv`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use store::testing::{TempDir, say_skipped};

use crate::support::{Deployment, each_backend, spawn_app, testdata};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser tool: the file `var` names when it is set, else `name` on the `PATH`; or what is
/// missing, in words for the skip line.
fn tool(var: &str, name: &str) -> Result<PathBuf, String> {
    match std::env::var_os(var).filter(|p| !p.is_empty()) {
        Some(set) => {
            let path = PathBuf::from(set);
            if path.is_file() {
                Ok(path)
            } else {
                Err(format!("{var}={} is not a file", path.display()))
            }
        }
        None => std::env::var_os("PATH")
            .and_then(|dirs| {
                std::env::split_paths(&dirs)
                    .map(|dir| dir.join(name))
                    .find(|path| path.is_file())
            })
            .ok_or_else(|| format!("{name} is not on the PATH and {var} is not set")),
    }
}

/// chromedriver and chromium, or a loud skip (a failure with AESTHETIX_REQUIRE_SERVICES=1).
/// Nothing else this test needs is looked at before it.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let driver = tool("AESTHETIX_CHROMEDRIVER", "chromedriver");
    let chromium = tool("AESTHETIX_CHROMIUM", "chromium");
    let missing = match (driver, chromium) {
        (Ok(d), Ok(c)) => return Some((d, c)),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        (Err(d), Err(c)) => format!("{d}; {c}"),
    };
    let how = "apt-get install chromium chromium-driver, or set AESTHETIX_CHROMEDRIVER / AESTHETIX_CHROMIUM";
    if std::env::var("AESTHETIX_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("AESTHETIX_REQUIRE_SERVICES=1 but the browser test cannot run: {missing} ({how})");
    }
    say_skipped(&format!("the browser test: {missing} ({how})"));
    None
}

/// A running chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver(path: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    // reqwest needs its TLS crypto provider before the first client, even for plain HTTP: a
    // browser test run alone reaches this before any other client is built.
    filestore::install_tls_provider();
    let start = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{}/status", driver.base)).await
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"] == true
        {
            return driver;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One browser session.
struct Browser {
    http: reqwest::Client,
    session: String,
    shots: PathBuf,
    downloads: PathBuf,
}

impl Browser {
    async fn open(driver: &Driver, chromium: &Path, profile: &Path, shots: PathBuf) -> Browser {
        let downloads = profile.join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        filestore::install_tls_provider();
        let http = reqwest::Client::new();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.join("chrome").display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                },
            },
        }}});
        let resp: Value = http
            .post(format!("{}/session", driver.base))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a WebDriver session: {resp}"))
            .to_string();
        let b = Browser {
            http,
            session: format!("{}/session/{id}", driver.base),
            shots,
            downloads,
        };
        // Headless Chromium saves downloads only when told where.
        b.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Page.setDownloadBehavior", "params": {"behavior": "allow", "downloadPath": b.downloads}})),
        )
        .await;
        b
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let url = format!("{}{path}", self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or(json!({}))),
        };
        let resp = req.send().await.unwrap();
        let ok = resp.status().is_success();
        let v: Value = resp.json().await.unwrap();
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(v["value"].clone())
        }
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url}))).await;
    }

    async fn url(&self) -> String {
        self.call("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().unwrap().to_string()
    }

    async fn exists(&self, css: &str) -> bool {
        self.try_call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .is_ok()
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/click"), None)
            .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn property(&self, css: &str, name: &str) -> Value {
        let e = self.find(css).await;
        self.call("GET", &format!("/element/{e}/property/{name}"), None)
            .await
    }

    /// Waits until `check` holds (polling), or fails naming `what`.
    async fn wait_until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while !check().await {
            if start.elapsed() > Duration::from_secs(30) {
                let body = self.text("body").await;
                panic!(
                    "waited 30 s for {what}; the page ({}) says:\n{body}",
                    self.url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn wait_for_url(&self, part: &str) {
        self.wait_until(&format!("a URL with {part}"), || async {
            self.url().await.contains(part)
        })
        .await;
    }

    async fn screenshot(&self, name: &str) {
        let png = self.call("GET", "/screenshot", None).await;
        let bytes = base64_decode(png.as_str().unwrap());
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), bytes).unwrap();
    }

    /// Waits for a finished download whose name starts with `prefix`; its path.
    async fn wait_for_download(&self, prefix: &str) -> PathBuf {
        let found = || {
            std::fs::read_dir(&self.downloads).ok().and_then(|dir| {
                dir.flatten().map(|e| e.path()).find(|p| {
                    let name = p.file_name().unwrap().to_string_lossy();
                    name.starts_with(prefix) && name.ends_with(".csv")
                })
            })
        };
        self.wait_until(&format!("a download named {prefix}…"), || async {
            found().is_some()
        })
        .await;
        found().unwrap()
    }

    async fn close(self) {
        let _ = self.try_call("DELETE", "", None).await;
    }
}

/// Standard base64 (the screenshots WebDriver returns).
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(value) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn screenshots_dir(backend: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("browser-screenshots")
        .join(backend);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn sign_in(b: &Browser, base: &str, email: &str, password: &str) {
    b.goto(&format!("{base}/login")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", password).await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.wait_for_url("/contacts").await;
}

fn setup(d: &Deployment) {
    d.ok(
        &[
            "workflow",
            "create",
            "--location",
            "My Practice",
            "--name",
            "VIP welcome",
            "--trigger",
            "tag-added:VIP",
            "--action",
            "add-tag:welcomed",
            "--status",
            "active",
        ],
        "",
    );
    d.ok(
        &[
            "user",
            "create",
            "--location",
            "My Practice",
            "--email",
            "staff@example.com",
            "--name",
            "Sam Staff",
            "--role",
            "user",
        ],
        "a long password\n",
    );
}

#[tokio::test]
async fn an_admin_imports_the_sample_file_in_a_real_browser() {
    let Some((driver_path, chromium)) = browser_tools() else {
        return;
    };
    let sample = testdata("reference/sample-contacts.csv");
    let driver = start_driver(&driver_path).await;
    for d in each_backend().await {
        let backend = if d.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        };
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        setup(&d);
        let profile = TempDir::new("aesthetix-browser");
        let b = Browser::open(&driver, &chromium, profile.path(), screenshots_dir(backend)).await;

        sign_in(&b, &base, &email, &password).await;
        b.click("a[href='/imports/new']").await;
        b.wait_for_url("/imports/new").await;
        assert!(
            b.text("#dropzone")
                .await
                .contains("Drag and drop your file here")
        );
        b.screenshot("1-upload").await;

        // Choosing the file uploads it and moves on to the mapping.
        b.type_into("#file", sample.to_str().unwrap()).await;
        b.wait_for_url("/map").await;
        assert!(b.text("main").await.contains("sample-contacts.csv"));
        // Everything matched automatically but the Status column: it holds lead stages ("New",
        // "Active"), not subscription statuses, so it is not auto-mapped and says why (SPEC
        // §6.1); it blocks Next until the admin leaves unmatched columns out.
        assert_eq!(b.property("select[name=col_5]", "value").await, "");
        assert!(
            b.text("main")
                .await
                .contains("its values (New, Active) are not options of Status")
        );
        assert_eq!(
            b.property("#map-next", "disabled").await,
            true,
            "an unmatched column blocks Next"
        );
        assert!(b.text("#unmatched-note").await.contains("Status"));
        // Choosing "Don't import this column" is a choice: it no longer blocks Next (issue 18).
        b.click("select[name=col_5] option[value='-']").await;
        assert_eq!(b.property("#map-next", "disabled").await, false);
        // The field list is searchable; typing never picks a field by itself (issue 18).
        let before = b.property("select[name=col_3]", "value").await;
        b.type_into("tr:nth-child(4) [data-field-search]", "email")
            .await;
        assert_eq!(
            b.property("select[name=col_3]", "value").await,
            before,
            "typing in the search chose nothing"
        );
        assert!(
            b.text("tr:nth-child(4) [data-search-count]")
                .await
                .contains("choose it in the list")
        );
        b.click("select[name=col_3] option[value=company_name]")
            .await;
        assert_eq!(
            b.property("select[name=col_3]", "value").await,
            "company_name"
        );
        b.screenshot("2-map").await;
        b.click("#map-next").await;
        b.wait_for_url("/details").await;

        assert!(
            b.text("main")
                .await
                .contains("resets its email verification status")
        );
        b.type_into("#name", "Sample contacts").await;
        b.click("input[name=smart_list]").await;
        b.screenshot("3-details").await;
        b.click("form[action$='/details'] button[type=submit]")
            .await;
        b.wait_for_url("/review").await;

        // The dry run, and the workflow the VIP tag would start.
        assert_eq!(b.text("[data-total=created]").await, "2");
        assert_eq!(b.text("[data-total=failed]").await, "0");
        let warning = b.text("#workflow-warning").await;
        assert!(
            warning.contains("VIP welcome — 1 contact (the import adds the tag “VIP”)"),
            "{warning}"
        );
        b.screenshot("4-validate").await;
        // Without the acknowledgement the form does not go.
        b.click("#submit-import").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(b.url().await.contains("/review"));
        b.click("#acknowledge").await;
        b.click("#submit-import").await;
        b.wait_for_url("/bulk-actions?submitted=").await;

        // The list follows the job until it is done.
        b.wait_until("the import to complete", || async {
            b.exists("tr[data-job] .badge.completed").await
        })
        .await;
        let row = b.text("#bulk-actions tbody tr").await;
        assert!(
            row.contains("Sample contacts") && row.contains("2 created"),
            "{row}"
        );
        b.screenshot("5-bulk-actions").await;

        b.click("#bulk-actions tbody tr a").await;
        b.wait_for_url("/bulk-actions/").await;
        b.click("nav.tabs a[href$='tab=error']").await;
        b.wait_for_url("tab=error").await;
        assert!(b.text("nav.tabs").await.contains("Error (0)"));
        b.click("nav.tabs a[href$='tab=warning']").await;
        b.wait_for_url("tab=warning").await;
        assert!(b.text("#lines").await.contains("Jane Doe"));
        b.screenshot("6-bulk-action-detail").await;

        b.click("#download-error-log").await;
        let downloaded = b.downloads.join("sample-contacts errors.csv");
        b.wait_until("the error log download", || async { downloaded.exists() })
            .await;
        let csv = std::fs::read_to_string(&downloaded).unwrap();
        assert!(
            csv.contains("Import Line,Import Status,Error Code"),
            "{csv}"
        );
        assert!(csv.contains("Jane,Doe,+11234567890"), "{csv}");

        // The error-log loop (SPEC §9.3): Jane's warned line carries her Contact ID; the admin
        // fixes her phone in the log and imports the log itself with Add & Update — the five
        // log columns are ignored, Contact ID finds her, and no second Jane is made.
        let jane = csv
            .lines()
            .find(|l| l.starts_with("Jane,"))
            .unwrap()
            .to_string();
        let fixed_path = d.dir.path().join("sample fixed.csv");
        std::fs::write(
            &fixed_path,
            csv.replace(&jane, &jane.replace("+11234567890", "+12015550123")),
        )
        .unwrap();
        b.goto(&format!("{base}/imports/new")).await;
        b.type_into("#file", fixed_path.to_str().unwrap()).await;
        b.wait_for_url("/map").await;
        assert_eq!(
            b.property("select[name=col_7]", "value").await,
            "contact_id"
        );
        assert!(
            b.exists("tr[data-skipped]").await,
            "the log's columns are ignored"
        );
        let text = b.text("main").await;
        assert!(text.contains("a column an error log adds"), "{text}");
        b.click("#skip_unmapped").await;
        b.screenshot("6b-map-error-log").await;
        b.click("#map-next").await;
        b.wait_for_url("/details").await;
        // The mode is on the step itself, not under Advanced options (issue 18).
        b.click("input[name=mode][value=upsert]").await;
        b.click("form[action$='/details'] button[type=submit]")
            .await;
        b.wait_for_url("/review").await;
        // Both of the sample's lines were warned (their phones): both are found by their ids.
        assert_eq!(b.text("[data-total=created]").await, "0");
        assert_eq!(b.text("[data-total=updated]").await, "2");
        if b.exists("#acknowledge").await {
            b.click("#acknowledge").await;
        }
        b.click("#submit-import").await;
        b.wait_for_url("/bulk-actions?submitted=").await;
        b.wait_until("the re-import to complete", || async {
            !b.exists("tr[data-job] .badge.running, tr[data-job] .badge.queued")
                .await
        })
        .await;
        {
            let store = d.store().await;
            let loc = store.location_by_name("My Practice").await.unwrap();
            let page = store.contacts_page(loc.id, None, 0, 10).await.unwrap();
            assert_eq!(page.total, 2, "no duplicate of Jane");
            let jane = page
                .contacts
                .iter()
                .find(|c| c.first_name.as_deref() == Some("Jane"))
                .unwrap();
            assert_eq!(jane.phone.as_deref(), Some("+12015550123"));
            store.close().await;
        }

        // An exporter's file: the mapping step names the preset it detected (SPEC §11).
        b.goto(&format!("{base}/imports/new")).await;
        let vagaro = testdata("presets/vagaro.csv");
        b.type_into("#file", vagaro.to_str().unwrap()).await;
        b.wait_for_url("/map").await;
        let note = b.text("#preset-note").await;
        assert!(note.contains("Looks like a Vagaro export"), "{note}");
        assert_eq!(b.property("#preset", "value").await, "");
        let text = b.text("main").await;
        assert!(text.contains("preset Vagaro"), "{text}");
        b.screenshot("6c-map-preset").await;

        // An export of every contact, two columns: started on the page, followed on Bulk
        // Actions, announced in the header, downloaded from the notice, then dismissed.
        b.click("header a[href='/exports/new']").await;
        b.wait_for_url("/exports/new").await;
        // Choosing a Smart List picks that choice; the admin goes back to all contacts.
        b.click("#smart_list option:nth-child(2)").await;
        assert_eq!(
            b.property("input[name=selection][value=smart_list]", "checked")
                .await,
            true
        );
        b.click("input[name=selection][value=all]").await;
        b.click("#export-form [data-check-all=column][data-value=false]")
            .await;
        b.click("input[name=column][value=first_name]").await;
        b.click("input[name=column][value=email]").await;
        assert_eq!(
            b.property("input[name=selection][value=all]", "checked")
                .await,
            true
        );
        b.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": "window.scrollTo(0, 0)", "args": []})),
        )
        .await;
        b.screenshot("7-export").await;
        b.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": "document.getElementById('columns').scrollIntoView()", "args": []})),
        )
        .await;
        b.screenshot("7b-export-columns").await;
        b.click("#start-export").await;
        b.wait_for_url("/bulk-actions?exported=").await;
        b.wait_until("the export's download link", || async {
            b.exists("tr[data-job] a[data-field=download]:not([hidden])")
                .await
        })
        .await;
        assert!(b.text("#bulk-actions tbody tr").await.contains("Export"));
        // The notice appears without a reload (issue 18).
        b.wait_until("the export-ready notice", || async {
            b.exists(".notice-bar").await
        })
        .await;
        let notice = b.text(".notice-bar").await;
        assert!(notice.contains("is ready"), "{notice}");
        b.screenshot("8-export-ready").await;
        b.click(".notice-bar a.button").await;
        let export = b.wait_for_download("Contacts export ").await;
        let csv = std::fs::read_to_string(&export).unwrap();
        assert!(csv.starts_with("\u{feff}First Name,Email\r\n"), "{csv}");
        assert!(csv.contains("Jane,"), "{csv}");
        b.click(".notice-bar form button").await;
        b.wait_until("the notice to be dismissed", || async {
            !b.exists(".notice-bar").await
        })
        .await;

        // A user who is not an admin is refused, whatever the link.
        b.click("header form[action='/logout'] button").await;
        b.wait_for_url("/login").await;
        sign_in(&b, &base, "staff@example.com", "a long password").await;
        assert!(
            !b.exists("a[href='/imports/new']").await,
            "no import link for a user"
        );
        assert!(
            !b.exists("a[href='/exports/new']").await,
            "no export link for a user"
        );
        for path in ["/imports/new", "/bulk-actions", "/exports/new"] {
            b.goto(&format!("{base}{path}")).await;
            assert!(b.text("h1").await.contains("Not allowed"), "{path}");
        }
        b.screenshot("9-user-refused").await;
        b.close().await;
        drop(app);
    }
}

/// Sets the page's viewport, as a phone (`mobile`: the viewport meta applies) or a desktop.
async fn viewport(b: &Browser, width: u32, height: u32, mobile: bool) {
    b.call(
        "POST",
        "/goog/cdp/execute",
        Some(
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
            }}),
        ),
    )
    .await;
}

/// The elements of the page that stick out of the viewport sideways, outside any box that
/// scrolls or clips on its own (a wide table in its scrolling box is fine), and the page's
/// own scroll width: a page fits when the list is empty and the scroll width is the
/// viewport's (SPEC §13.2: no sideways scrolling at 390 px).
async fn overflow(b: &Browser) -> (i64, i64, Vec<String>) {
    let v = b
        .call(
            "POST",
            "/execute/sync",
            Some(json!({"script": r##"
                var vw = document.documentElement.clientWidth;
                var bad = [];
                document.querySelectorAll("body *").forEach(function (el) {
                  var r = el.getBoundingClientRect();
                  if (r.width === 0 && r.height === 0) return;
                  if (r.right <= vw + 1 && r.left >= -1) return;
                  for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                    var o = getComputedStyle(p).overflowX;
                    if (o === "auto" || o === "scroll" || o === "hidden") return;
                  }
                  bad.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                    (el.className && el.className.baseVal === undefined ? "." + el.className : "") +
                    " " + Math.round(r.left) + ".." + Math.round(r.right));
                });
                return [document.documentElement.scrollWidth, vw, bad.slice(0, 12)];
            "##, "args": []})),
        )
        .await;
    (
        v[0].as_i64().unwrap(),
        v[1].as_i64().unwrap(),
        v[2].as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
    )
}

/// Every page an admin uses, at a desktop's width and a phone's (1366×900 and 390×844): each
/// fits without sideways scrolling (the header's links and "Sign out" wrap, tables scroll in
/// their own box, the mapping step's pickers stack); and a contact's page from the list —
/// every field, the import that made her linked to its Bulk Action, an edit of her source.
#[tokio::test]
async fn every_page_fits_a_phone_and_a_contact_has_a_page() {
    let Some((driver_path, chromium)) = browser_tools() else {
        return;
    };
    let sample = testdata("reference/sample-contacts.csv");
    let driver = start_driver(&driver_path).await;
    for d in each_backend().await {
        let backend = if d.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        };
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        d.ok(
            &[
                "import",
                "contacts",
                sample.to_str().unwrap(),
                "--location",
                "My Practice",
                "--skip-unmapped",
                "--quiet",
            ],
            "",
        );
        // A company and a custom object's record with long values, for their pages.
        let companies = d.dir.path().join("companies.csv");
        std::fs::write(
            &companies,
            "Company Name,Email,Website,Description\n\
             Montgomery-Silva Aesthetic Surgery and Laser Institute of Northern New Jersey,\
             front-desk.appointments@montgomery-silva-aesthetics.example.com,\
             https://www.montgomery-silva-aesthetic-surgery-and-laser-institute.example.com/,\
             A very long description that goes on and on about the practice and its history\n",
        )
        .unwrap();
        d.ok(
            &[
                "import",
                "companies",
                companies.to_str().unwrap(),
                "--location",
                "My Practice",
            ],
            "",
        );
        d.ok(
            &[
                "object",
                "create",
                "--location",
                "My Practice",
                "--name",
                "Treatments",
                "--primary",
                "Treatment Name",
            ],
            "",
        );
        let treatments = d.dir.path().join("treatments.csv");
        std::fs::write(
            &treatments,
            "Treatment Name\nBotulinum toxin type A injection for glabellar lines and crow's feet\n",
        )
        .unwrap();
        d.ok(
            &[
                "import",
                "records",
                treatments.to_str().unwrap(),
                "--object",
                "treatments",
                "--location",
                "My Practice",
            ],
            "",
        );
        let profile = TempDir::new("aesthetix-browser-phone");
        let b = Browser::open(&driver, &chromium, profile.path(), screenshots_dir(backend)).await;
        sign_in(&b, &base, &email, &password).await;

        // The contact's page, from her name in the list.
        b.goto(&format!("{base}/contacts")).await;
        let link = b.find("#contacts a[href^='/contacts/']").await;
        b.call("POST", &format!("/element/{link}/click"), None)
            .await;
        b.wait_for_url("/contacts/").await;
        let contact_path = b.url().await.replacen(&base, "", 1);
        let text = b.text("main").await;
        for label in [
            "First Name",
            "Contact Source",
            "UTM Campaign",
            "Treatment of Interest",
            "Do Not Disturb",
            "Imports",
        ] {
            assert!(text.contains(label), "{label}: {text}");
        }
        assert!(
            b.exists("#contact-imports a[href^='/bulk-actions/']").await,
            "the import that made her, linked to its Bulk Action"
        );
        b.call(
            "POST",
            &format!("/element/{}/clear", b.find("#f-source").await),
            None,
        )
        .await;
        b.type_into("#f-source", "Front desk").await;
        b.click("#save-contact").await;
        b.wait_for_url("saved=1").await;
        assert_eq!(b.property("#f-source", "value").await, "Front desk");
        assert!(b.text("#contact-saved").await.contains("Changes saved"));

        // A draft for the mapping step.
        b.goto(&format!("{base}/imports/new")).await;
        b.type_into("#file", sample.to_str().unwrap()).await;
        b.wait_for_url("/map").await;
        let map_path = b.url().await.replacen(&base, "", 1);

        // A pipeline wider than a phone, with cards, for the board.
        d.ok(
            &[
                "pipeline",
                "create",
                "--location",
                "My Practice",
                "--name",
                "Surgical Journey",
                "--stage",
                "New Lead",
                "--stage",
                "Consult Booked",
                "--stage",
                "Surgery Scheduled",
                "--stage",
                "Surgery Completed",
            ],
            "",
        );
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let journey = store
            .pipeline_by_name(loc, "Surgical Journey")
            .await
            .unwrap();
        let patient = store
            .insert_contacts(
                loc,
                &[store::NewContact {
                    first_name: Some("Ana".into()),
                    last_name: Some("Silva-Montgomery de la Fuente".into()),
                    ..store::NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        let mut cards = Vec::new();
        for (i, (name, value)) in [
            ("Rhinoplasty consultation and revision", Some("8500.50")),
            ("Facelift", Some("12000")),
            ("Botox 20 units", None),
        ]
        .into_iter()
        .enumerate()
        {
            cards.push(
                store::testing::insert_opportunity(
                    &store,
                    loc,
                    &journey.stages[i % 2],
                    journey.id,
                    name,
                    value,
                    (i == 0).then_some(patient),
                )
                .await,
            );
        }
        store.close().await;
        let pages = [
            ("contacts", "/contacts".to_string()),
            (
                "contacts-miss",
                "/contacts?q=%28770%29+336-5744".to_string(),
            ),
            ("contact", contact_path.clone()),
            ("import", "/imports/new".to_string()),
            ("map", map_path.clone()),
            ("bulk-actions", "/bulk-actions".to_string()),
            ("bulk-action", "/bulk-actions/1".to_string()),
            ("export", "/exports/new".to_string()),
            (
                "export-companies",
                "/exports/new?object=company".to_string(),
            ),
            ("settings", "/settings".to_string()),
            ("settings-fields", "/settings/fields".to_string()),
            (
                "settings-fields-treatments",
                "/settings/fields?object=treatments".to_string(),
            ),
            ("settings-objects", "/settings/objects".to_string()),
            ("settings-workflows", "/settings/workflows".to_string()),
            ("settings-smart-lists", "/settings/smart-lists".to_string()),
            ("settings-users", "/settings/users".to_string()),
            ("settings-api-keys", "/settings/api-keys".to_string()),
            ("settings-webhooks", "/settings/webhooks".to_string()),
            ("settings-pipelines", "/settings/pipelines".to_string()),
            ("opportunities", "/opportunities".to_string()),
            ("companies", "/companies".to_string()),
            ("company", "/companies/1".to_string()),
            ("objects", "/objects".to_string()),
            ("treatments", "/objects/treatments".to_string()),
            ("treatment", "/objects/treatments/1".to_string()),
        ];
        for (width, height, mobile, tag) in
            [(1366, 900, false, "desktop"), (390, 844, true, "phone")]
        {
            viewport(&b, width, height, mobile).await;
            for (name, path) in &pages {
                b.goto(&format!("{base}{path}")).await;
                let (scroll, vw, bad) = overflow(&b).await;
                // The viewport less a vertical scroll bar, if the page has one.
                assert!(
                    (width as i64 - 20..=width as i64).contains(&vw),
                    "{tag} {name}: the viewport is {vw} px"
                );
                assert!(
                    bad.is_empty() && scroll <= vw,
                    "{tag} {name} ({path}) is {scroll} px wide in {vw} px; sticking out: {bad:?}"
                );
                b.screenshot(&format!("p-{tag}-{name}")).await;
            }
        }
        // A Smart List's filters count live as they are set.
        b.goto(&format!("{base}/settings/smart-lists")).await;
        b.type_into("#l-tag", "Patient").await;
        b.wait_until("the live count", || async {
            b.text("#live-count")
                .await
                .contains("1 contact matches now")
        })
        .await;
        b.screenshot("p-phone-smart-list-count").await;
        // On a phone, a card moves to another stage by its own form, and the board's columns
        // scroll inside their box.
        b.goto(&format!("{base}/opportunities")).await;
        let board = b
            .call(
                "POST",
                "/execute/sync",
                Some(json!({"script": "var b = document.getElementById('board'); return [b.scrollWidth, b.clientWidth];", "args": []})),
            )
            .await;
        assert!(
            board[0].as_i64().unwrap() > board[1].as_i64().unwrap(),
            "four columns are wider than a phone and scroll in their box: {board}"
        );
        let rhino = cards[0];
        b.click(&format!(
            "#card-{rhino} select option[value='{}']",
            journey.stages[2].id
        ))
        .await;
        b.click(&format!("#card-{rhino} .board-move button")).await;
        b.wait_for_url("moved=1").await;
        let moved_to = b
            .text(&format!(
                ".board-column[data-stage='{}'] #card-{rhino}",
                journey.stages[2].id
            ))
            .await;
        assert!(moved_to.contains("Ana Silva-Montgomery"), "{moved_to}");
        b.screenshot("p-phone-opportunities-moved").await;
        // On a phone, "Sign out" and the mapping step's pickers are on screen.
        b.goto(&format!("{base}{map_path}")).await;
        let picker = b
            .call(
                "POST",
                "/execute/sync",
                Some(json!({"script": "var r = document.querySelector('select[name=col_0]').getBoundingClientRect(); var s = document.querySelector('header form[action=\"/logout\"] button').getBoundingClientRect(); return [r.right, s.right];", "args": []})),
            )
            .await;
        assert!(picker[0].as_f64().unwrap() <= 390.0, "{picker}");
        assert!(picker[1].as_f64().unwrap() <= 390.0, "{picker}");
        b.goto(&format!("{base}/contacts?q=%28770%29+336-5744"))
            .await;
        assert!(
            b.text("main")
                .await
                .contains("No contacts match “(770) 336-5744”"),
            "a miss reads plainly"
        );
        b.close().await;
        drop(app);
    }
}

/// A companies import walked through the wizard in a real browser (SPEC §8, issue 13), at a
/// desktop's width and a phone's: the first step chooses Companies, the mapping offers their
/// fields with Company Name required and asks which unique field finds existing companies,
/// the dry run counts them, and the Bulk Action completes. Every step fits the viewport and
/// is kept as a screenshot (`c-desktop-…`, `c-phone-…`).
#[tokio::test]
async fn an_admin_imports_companies_in_a_real_browser_on_a_desktop_and_a_phone() {
    let Some((driver_path, chromium)) = browser_tools() else {
        return;
    };
    let driver = start_driver(&driver_path).await;
    for d in each_backend().await {
        let backend = if d.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        };
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        for label in ["VAT Number", "DUNS"] {
            d.ok(
                &[
                    "field",
                    "create",
                    "--location",
                    "My Practice",
                    "--object",
                    "company",
                    "--label",
                    label,
                    "--type",
                    "text",
                    "--unique",
                ],
                "",
            );
        }
        let profile = TempDir::new("aesthetix-browser-companies");
        let b = Browser::open(&driver, &chromium, profile.path(), screenshots_dir(backend)).await;
        sign_in(&b, &base, &email, &password).await;
        for (width, height, mobile, tag, n) in [
            (1366, 900, false, "desktop", 1),
            (390, 844, true, "phone", 2),
        ] {
            viewport(&b, width, height, mobile).await;
            let file = d.dir.path().join(format!("companies-{tag}.csv"));
            std::fs::write(
                &file,
                format!(
                    "Company Name,VAT Number,DUNS,Website,City\n\
                     Glow Aesthetics {n},GB{n}001,DU{n}001,https://glow{n}.example.com,Austin\n\
                     Montgomery-Silva Aesthetic Surgery and Laser Institute {n},GB{n}002,DU{n}002,https://montgomery-silva{n}.example.com/,Newark\n"
                ),
            )
            .unwrap();
            let fits = |step: &'static str| {
                let b = &b;
                async move {
                    let (scroll, vw, bad) = overflow(b).await;
                    assert!(
                        bad.is_empty() && scroll <= vw,
                        "{tag} {step} is {scroll} px wide in {vw} px; sticking out: {bad:?}"
                    );
                    b.screenshot(&format!("c-{tag}-{step}")).await;
                }
            };

            // Step 1: the object, then the file.
            b.goto(&format!("{base}/imports/new")).await;
            b.click("#object option[value=company]").await;
            b.click("#object-apply").await;
            b.wait_for_url("object=company").await;
            assert_eq!(b.text("h1").await, "Import Companies");
            fits("1-upload").await;
            b.type_into("#file", file.to_str().unwrap()).await;
            b.wait_for_url("/map").await;

            // Step 2: Companies' fields, Company Name required, the dedupe field asked.
            assert!(
                b.text("h1")
                    .await
                    .contains("Match your columns to the fields of Companies")
            );
            assert_eq!(
                b.property("select[name=col_0]", "value").await,
                "company_name"
            );
            assert_eq!(
                b.property("select[name=col_1]", "value").await,
                "vat_number"
            );
            assert!(b.text("#required-note").await.contains("Company Name ✓"));
            assert_eq!(b.property("#dedupe", "value").await, "vat_number");
            b.click("#dedupe option[value=duns]").await;
            assert_eq!(b.property("#map-next", "disabled").await, false);
            fits("2-map").await;
            b.click("#map-next").await;
            b.wait_for_url("/details").await;

            // Step 3: only what a companies import takes.
            assert!(!b.exists("input[name=smart_list]").await);
            assert!(!b.exists("#tags").await);
            b.type_into("#name", &format!("Companies from the {tag}"))
                .await;
            fits("3-details").await;
            b.click("form[action$='/details'] button[type=submit]")
                .await;
            b.wait_for_url("/review").await;

            // Step 4: the dry run, then the Bulk Action.
            assert_eq!(b.text("[data-total=created]").await, "2");
            assert_eq!(b.text("[data-total=failed]").await, "0");
            fits("4-validate").await;
            b.click("#submit-import").await;
            b.wait_for_url("/bulk-actions?submitted=").await;
            // Newest first: this import's row is the first.
            b.wait_until("the companies import to complete", || async {
                b.exists("#bulk-actions tbody tr:first-child .badge.completed")
                    .await
            })
            .await;
            let row = b.text("#bulk-actions tbody tr").await;
            assert!(
                row.contains(&format!("Companies from the {tag}")) && row.contains("2 created"),
                "{row}"
            );
            fits("5-bulk-actions").await;
            b.goto(&format!("{base}/companies")).await;
            assert!(
                b.text("main")
                    .await
                    .contains(&format!("Glow Aesthetics {n}"))
            );
            fits("6-companies").await;
        }
        b.close().await;
    }
}
