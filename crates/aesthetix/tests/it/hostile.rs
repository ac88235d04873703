//! Hostile clients (SPEC §13.2): each request that once hurt the server or another location,
//! sent again to the real binary on every backend — now refused or harmless, and `/healthz`
//! still answering after it. Memory is read from the serving process's own counters
//! (`/proc/PID/status`): its peak may grow at most 200 MB above its size when idle.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    App, Deployment, csrf, each_backend, http, session_cookie, spawn_app, spawn_app_env,
};
use crate::wizard::login;

/// What a test of this suite starts from: a served app, its first admin signed in, and an
/// API key of its location.
struct Site {
    app: App,
    base: String,
    cookie: String,
    key: String,
}

async fn site(d: &Deployment) -> Site {
    let app = spawn_app(d);
    let base = app.base.clone();
    let (email, password) = app.first_login.clone().expect("a first run");
    let cookie = login(&base, &email, &password).await;
    let key = d
        .ok(&["apikey", "create", "--location", "My Practice"], "")
        .trim()
        .to_string();
    Site {
        app,
        base,
        cookie,
        key,
    }
}

/// `/healthz` answers 200 — within ten seconds, on a machine that also runs the rest of the
/// suite on two cores.
async fn healthy(base: &str) {
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        http().get(format!("{base}/healthz")).send(),
    )
    .await
    .expect("/healthz answered within 10 s")
    .expect("/healthz answered");
    assert_eq!(answer.status(), StatusCode::OK);
}

/// A value of the process's `/proc/PID/status` (kB), as MB.
fn status_mb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024
}

/// Memory the serving process may take above its idle size for any upload of 30 MB or less.
const MEMORY_BOUND_MB: u64 = 200;

fn assert_memory_bound(pid: u32, idle_mb: u64, what: &str) {
    let peak = status_mb(pid, "VmHWM:");
    eprintln!("{what}: the server peaked at {peak} MB, idle {idle_mb} MB");
    assert!(
        peak <= idle_mb + MEMORY_BOUND_MB,
        "{what}: the server's peak was {peak} MB, {} MB above its idle {idle_mb} MB",
        peak - idle_mb
    );
}

async fn post_form(site: &Site, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(format!("{}{path}", site.base))
        .header(reqwest::header::COOKIE, &site.cookie)
        .form(&[&[("csrf_token", csrf(&site.cookie).as_str())], form].concat())
        .send()
        .await
        .unwrap()
}

async fn get(site: &Site, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", site.base))
        .header(reqwest::header::COOKIE, &site.cookie)
        .send()
        .await
        .unwrap()
}

async fn api(
    site: &Site,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http()
        .request(method, format!("{}/api/v1{path}", site.base))
        .bearer_auth(&site.key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
    (status, v)
}

/// Uploads `bytes` as the page's script does; returns the new draft.
async fn upload(site: &Site, name: &str, bytes: Vec<u8>) -> i64 {
    let resp = http()
        .post(format!("{}/imports/upload?name={name}", site.base))
        .header(reqwest::header::COOKIE, &site.cookie)
        .header("x-csrf-token", csrf(&site.cookie))
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    v["draft"].as_i64().unwrap()
}

/// Runs SQL of the test's own on the deployment's database (seeding what an older version
/// could have stored).
async fn exec_sql(d: &Deployment, sql: &str) {
    use sqlx::Connection;
    match &d.database_url {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .unwrap();
        }
        None => {
            let path = d.data_dir().join("aesthetix.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "PRAGMA busy_timeout = 10000; {sql}"
            )))
            .execute(&mut c)
            .await
            .unwrap();
        }
    }
}

const CSV: &str = "First Name,Email\nAnn,ann@example.com\nBob,bob@example.com\n";

// 1. -----------------------------------------------------------------------------------------

/// A mapping form whose column count is 10^12 once made the handler allocate 24 TB and abort
/// the process, taking every location down.
#[tokio::test]
async fn a_forged_column_count_sizes_nothing() {
    for d in each_backend().await {
        let site = site(&d).await;
        let pid = site.app.pid();
        let idle = status_mb(pid, "VmRSS:");
        let draft = upload(&site, "a.csv", CSV.into()).await;
        for path in [
            format!("/imports/{draft}/map"),
            "/imports/999999/map".to_string(),
            "/imports/x/map".to_string(),
        ] {
            let resp = post_form(
                &site,
                &path,
                &[("columns", "1000000000000"), ("col_0", "first_name")],
            )
            .await;
            assert!(
                resp.status() == StatusCode::BAD_REQUEST || resp.status() == StatusCode::NOT_FOUND,
                "{path}: {}",
                resp.status()
            );
            healthy(&site.base).await;
        }
        // The draft still maps with the right count.
        let resp = post_form(
            &site,
            &format!("/imports/{draft}/map"),
            &[
                ("columns", "2"),
                ("col_0", "first_name"),
                ("col_1", "email"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_memory_bound(pid, idle, "a forged column count");
    }
}

// 2. -----------------------------------------------------------------------------------------

/// 5,000 connections that never finish their headers once held the server's descriptors:
/// `/healthz` and `/login` stopped answering. Now headers have 10 s, and `/healthz` answers
/// meanwhile.
#[tokio::test]
async fn connections_that_trickle_their_headers_are_cut_and_starve_nobody() {
    for d in each_backend().await {
        let app = spawn_app_env(&d, &[("AESTHETIX_TEST_IDLE_MS", "3000")]);
        let base = app.base.clone();
        let addr = base.trim_start_matches("http://").to_string();
        const N: usize = 5000;
        let started = Instant::now();
        let mut trickles = Vec::with_capacity(N);
        for _ in 0..N {
            let addr = addr.clone();
            trickles.push(tokio::spawn(async move {
                let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
                    return None;
                };
                let opened = Instant::now();
                if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    .await
                    .is_err()
                {
                    return Some(opened.elapsed());
                }
                let mut buf = [0u8; 256];
                loop {
                    if s.write_all(b"a").await.is_err() {
                        return Some(opened.elapsed());
                    }
                    match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => return Some(opened.elapsed()),
                        Ok(Ok(_)) => {} // a 408 before the close
                        Err(_) => {}
                    }
                    if opened.elapsed() > Duration::from_secs(40) {
                        return None;
                    }
                }
            }));
        }
        // While they trickle, the server answers others at once.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for _ in 0..5 {
            let t = Instant::now();
            healthy(&base).await;
            let login = http().get(format!("{base}/login")).send().await.unwrap();
            assert_eq!(login.status(), StatusCode::OK);
            assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let mut cut = 0;
        for t in trickles {
            if let Some(after) = t.await.unwrap() {
                assert!(after < Duration::from_secs(20), "held for {after:?}");
                cut += 1;
            }
        }
        assert_eq!(
            cut, N,
            "every trickling connection was closed by the server"
        );
        assert!(started.elapsed() < Duration::from_secs(45));

        // A connection that says nothing at all is closed too, and so is one that goes quiet
        // after a request (idle; 3 s in this test instead of 60).
        let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let mut buf = [0u8; 1024];
        let t = Instant::now();
        let n = tokio::time::timeout(Duration::from_secs(15), silent.read(&mut buf))
            .await
            .expect("a silent connection is closed within 15 s");
        assert!(matches!(n, Ok(_) | Err(_)) && t.elapsed() < Duration::from_secs(12));
        let mut quiet = tokio::net::TcpStream::connect(&addr).await.unwrap();
        quiet
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let t = Instant::now();
        let mut answer = Vec::new();
        loop {
            let n = tokio::time::timeout(Duration::from_secs(15), quiet.read(&mut buf))
                .await
                .expect("a quiet kept-alive connection is closed within 15 s")
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
        assert!(t.elapsed() < Duration::from_secs(12), "{:?}", t.elapsed());
        healthy(&base).await;
    }
}

// 3. -----------------------------------------------------------------------------------------

/// A workbook of about 455 KB whose shared-strings part holds 11 million one-letter strings
/// (under the inflated-size cap), as an upload.
fn shared_strings_bomb() -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let part = |z: &mut zip::ZipWriter<_>, name: &str, body: &str| {
        z.start_file(name, opts).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    };
    part(
        &mut z,
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
    );
    part(
        &mut z,
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        &mut z,
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    part(
        &mut z,
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    part(
        &mut z,
        "xl/worksheets/sheet1.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>"#,
    );
    z.start_file("xl/sharedStrings.xml", opts).unwrap();
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>First Name</t></si>"#)
        .unwrap();
    let chunk = "<si><t>a</t></si>".repeat(10_000);
    for _ in 0..1_100 {
        z.write_all(chunk.as_bytes()).unwrap();
    }
    z.write_all(b"</sst>").unwrap();
    z.finish().unwrap();
    out.into_inner()
}

/// Such a workbook once cost 632 MB for one upload and 3.3 GB for six at once, and every
/// look at its draft read it again for 7–10 s.
#[tokio::test]
async fn a_workbook_of_tiny_shared_strings_is_held_compactly_and_read_once() {
    let bomb = shared_strings_bomb();
    assert!(bomb.len() < 2_000_000, "{} bytes", bomb.len());
    for d in each_backend().await {
        let site = site(&d).await;
        let pid = site.app.pid();
        healthy(&site.base).await;
        let idle = status_mb(pid, "VmRSS:");
        // Six at once, as the attack did.
        let mut drafts = Vec::new();
        for i in 0..6 {
            drafts.push(upload(&site, &format!("bomb{i}.xlsx"), bomb.clone()).await);
        }
        let looks: Vec<_> = drafts
            .iter()
            .map(|draft| {
                let url = format!("{}/imports/{draft}/map", site.base);
                let cookie = site.cookie.clone();
                tokio::spawn(async move {
                    http()
                        .get(url)
                        .header(reqwest::header::COOKIE, cookie)
                        .timeout(Duration::from_secs(300))
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        for look in looks {
            let status = look.await.unwrap();
            assert!(status.is_success() || status.is_client_error(), "{status}");
        }
        assert_memory_bound(pid, idle, "six shared-strings workbooks at once");
        healthy(&site.base).await;
        // Looked at again, a draft answers from what it kept, at once.
        for _ in 0..3 {
            let t = Instant::now();
            let status = get(&site, &format!("/imports/{}/map", drafts[0]))
                .await
                .status();
            assert!(status.is_success() || status.is_client_error());
            assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
            let (status, _) = api(
                &site,
                reqwest::Method::GET,
                &format!("/imports/drafts/{}", drafts[0]),
                None,
            )
            .await;
            assert!(status < 500);
        }
    }
}

// 4. -----------------------------------------------------------------------------------------

/// An export filter of 9999-12-31 was accepted, then failed every 30 s forever with internal
/// text; a Smart List saved with it broke the location's pages.
#[tokio::test]
async fn filters_that_cannot_run_are_refused_when_saved_and_never_loop() {
    for d in each_backend().await {
        let site = site(&d).await;
        // The page refuses it, naming the dates it takes; no job is made.
        let resp = post_form(
            &site,
            "/exports",
            &[
                ("selection", "filters"),
                ("created_after", "9999-12-31"),
                ("column", "first_name"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = resp.text().await.unwrap();
        assert!(html.contains("1900-01-01 to 9998-12-31"), "{html}");
        let (_, jobs) = api(&site, reqwest::Method::GET, "/bulk-actions", None).await;
        assert_eq!(
            jobs["bulk_actions"].as_array().map(Vec::len).unwrap_or(0),
            0,
            "{jobs}"
        );
        // So does the API, and the CLI's Smart Lists.
        let (status, v) = api(
            &site,
            reqwest::Method::POST,
            "/exports",
            Some(json!({"filters": ["created_after=9999-12-31"]})),
        )
        .await;
        assert_eq!(status, 422, "{v}");
        let (status, v) = api(
            &site,
            reqwest::Method::POST,
            "/exports",
            Some(json!({"filters": ["tag=a\u{0}b"]})),
        )
        .await;
        assert_eq!(status, 422, "{v}");
        let out = d.run(
            &[
                "smart-list",
                "create",
                "--location",
                "My Practice",
                "--name",
                "Far",
                "--filter",
                "created_before=0001-01-01",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));

        // A list stored by an older version with such a filter: every page that lists the
        // location's Smart Lists still works, and exporting it is refused, never "everyone".
        exec_sql(
            &d,
            "INSERT INTO smart_lists (location_id, name, filters, builtin, created_at) \
             SELECT id, 'Poison', '[\"created_after=9999-12-31\"]', FALSE, 0 FROM locations",
        )
        .await;
        assert_eq!(get(&site, "/exports/new").await.status(), StatusCode::OK);
        let (status, lists) = api(&site, reqwest::Method::GET, "/smart-lists", None).await;
        assert_eq!(status, 200, "{lists}");
        assert!(lists.to_string().contains("Poison"));
        d.ok(&["smart-list", "list", "--location", "My Practice"], "");
        let (status, v) = api(
            &site,
            reqwest::Method::POST,
            "/exports",
            Some(json!({"smart_list": "Poison"})),
        )
        .await;
        assert_eq!(status, 422, "{v}");
        assert!(!v.to_string().contains("malformed"), "{v}");

        // A queued export whose filter cannot run (written before filters were checked) ends
        // `failed` with a plain reason, once.
        let (status, v) = api(
            &site,
            reqwest::Method::POST,
            "/exports",
            Some(json!({"filters": ["tag=vip"]})),
        )
        .await;
        assert_eq!(status, 202, "{v}");
        let good = v["job_id"].as_i64().expect("a job id");
        wait_status(&site, good, &["completed"]).await;
        exec_sql(
            &d,
            &format!(
                "INSERT INTO jobs (location_id, operation, object, name, status, options, total, created_at) \
                 SELECT location_id, operation, object, 'Poison export', 'queued', \
                 REPLACE(options, 'tag=vip', 'created_after=9999-12-31'), 0, created_at FROM jobs WHERE id = {good}"
            ),
        )
        .await;
        let (_, list) = api(&site, reqwest::Method::GET, "/bulk-actions", None).await;
        let poison = list["bulk_actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|j| j["id"].as_i64())
            .max()
            .unwrap();
        let job = wait_status(&site, poison, &["failed"]).await;
        let text = job.to_string();
        assert!(text.contains("9998-12-31"), "{text}");
        assert!(
            !text.contains("malformed") && !text.contains("overflow"),
            "{text}"
        );
        // It stays failed (no retry), and asking to cancel it answers, never a 5xx.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (_, again) = api(
            &site,
            reqwest::Method::GET,
            &format!("/bulk-actions/{poison}"),
            None,
        )
        .await;
        assert_eq!(again["status"], "failed");
        let (status, _) = api(
            &site,
            reqwest::Method::POST,
            &format!("/bulk-actions/{poison}/cancel"),
            None,
        )
        .await;
        assert!(status < 500);
        healthy(&site.base).await;
    }
}

async fn wait_status(site: &Site, job: i64, want: &[&str]) -> Value {
    for _ in 0..300 {
        let (_, v) = api(
            site,
            reqwest::Method::GET,
            &format!("/bulk-actions/{job}"),
            None,
        )
        .await;
        if want.iter().any(|w| v["status"] == *w) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job} never became {want:?}");
}

// 5. -----------------------------------------------------------------------------------------

/// A POST with a valid cookie and `Origin: https://evil.example` changed settings, queued an
/// export and reverted an import; an upload took `text/plain`.
#[tokio::test]
async fn another_site_cannot_post_with_the_admins_cookie() {
    for d in each_backend().await {
        let site = site(&d).await;
        let token = csrf(&site.cookie);
        let forged = |path: &str| {
            http()
                .post(format!("{}{path}", site.base))
                .header(reqwest::header::COOKIE, &site.cookie)
        };
        for (path, body) in [
            ("/settings", format!("csrf_token={token}&country=FR")),
            ("/exports", format!("csrf_token={token}&selection=all")),
            ("/bulk-actions/1/revert", format!("csrf_token={token}")),
            ("/api/v1/exports", "{}".to_string()),
        ] {
            // A page of another site: refused before anything runs, even with the token.
            let resp = forged(path)
                .header("origin", "https://evil.example")
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
            let resp = forged(path)
                .header("sec-fetch-site", "cross-site")
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
        }
        // Without the form token, or with another session's, a form is refused.
        for body in [
            "country=FR".to_string(),
            "csrf_token=0123456789abcdef0123456789abcdef&country=FR".into(),
        ] {
            let resp = forged("/settings")
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        }
        let settings = get(&site, "/settings").await.text().await.unwrap();
        assert!(
            settings.contains(r#"value="US""#),
            "nothing changed the country"
        );
        assert!(settings.contains(&format!(r#"name="csrf_token" value="{token}""#)));
        // The same site's own form, with its token, is taken.
        let resp = post_form(&site, "/settings", &[("currency", "EUR")]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        // A form's body is not a file: text/plain (sent cross-site without asking) is refused.
        let resp = http()
            .post(format!("{}/imports/upload?name=a.csv", site.base))
            .header(reqwest::header::COOKIE, &site.cookie)
            .header("x-csrf-token", &token)
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(CSV)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let resp = http()
            .post(format!("{}/api/v1/imports/drafts", site.base))
            .bearer_auth(&site.key)
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(CSV)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // A multipart form with the file as a part is a file.
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(CSV.as_bytes().to_vec()).file_name("patients.csv"),
        );
        let resp = http()
            .post(format!("{}/api/v1/imports/drafts", site.base))
            .bearer_auth(&site.key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["file_name"], "patients.csv", "{v}");
        assert_eq!(v["records"], 2, "{v}");
        healthy(&site.base).await;
    }
}

// 6. -----------------------------------------------------------------------------------------

async fn login_from(base: &str, from: &str, email: &str, password: &str) -> reqwest::Response {
    filestore::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// 200 wrong passwords went through in 6 s, with no lockout and no `Retry-After`.
#[tokio::test]
async fn failed_logins_are_throttled_per_email_and_per_address() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        // Ten wrong passwords for one email, from one address …
        for _ in 0..10 {
            let resp = login_from(&base, "127.0.0.2", &email, "wrong password").await;
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        }
        // … and that email is refused from anywhere, even with the right password.
        let resp = login_from(&base, "127.0.0.3", &email, &password).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        // Ten failures from one address over many emails close that address too.
        for i in 0..10 {
            let resp = login_from(&base, "127.0.0.4", &format!("guess{i}@example.com"), "x").await;
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        }
        let resp = login_from(&base, "127.0.0.4", "someone@example.com", "x").await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(resp.headers().contains_key("retry-after"));
        // Another address and another email are not affected; a success is 303 with the
        // cookie.
        d.ok(
            &[
                "user",
                "create",
                "--location",
                "My Practice",
                "--email",
                "bea@example.com",
                "--name",
                "Bea",
                "--role",
                "user",
            ],
            "a long password for bea\n",
        );
        let resp = login_from(
            &base,
            "127.0.0.5",
            "bea@example.com",
            "a long password for bea",
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert!(session_cookie(&resp).is_some());
        healthy(&base).await;
    }
}

// 7. -----------------------------------------------------------------------------------------

/// On PostgreSQL a page of 2^63 wrapped the offset negative and a NUL byte failed the query:
/// both were 500s.
#[tokio::test]
async fn huge_pages_and_nul_bytes_are_answered_not_failed() {
    for d in each_backend().await {
        let site = site(&d).await;
        let page = get(&site, "/contacts?page=9223372036854775807").await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = get(&site, "/contacts?page=-9223372036854775808").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(
            get(&site, "/contacts?q=a%00b").await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let resp = http()
            .post(format!("{}/login", site.base))
            .form(&[("email", "a\u{0}@example.com"), ("password", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (status, v) = api(
            &site,
            reqwest::Method::POST,
            "/exports",
            Some(json!({"smart_list": "Lea\u{0}ds"})),
        )
        .await;
        assert_eq!(status, 422, "{v}");
        let (status, v) = api(
            &site,
            reqwest::Method::GET,
            "/contacts?offset=9223372036854775807",
            None,
        )
        .await;
        assert!(status < 500, "{v}");
        let (status, v) = api(
            &site,
            reqwest::Method::GET,
            "/bulk-actions/1/lines?after=18446744073709551615",
            None,
        )
        .await;
        assert!(status < 500, "{v}");
        healthy(&site.base).await;
    }
}

// 8. -----------------------------------------------------------------------------------------

/// Under the default umask the data directory was 0755 and the database, uploads and exports
/// 0644: any account on the machine could read the patients.
#[tokio::test]
async fn the_data_directory_is_its_owners_alone() {
    for d in each_backend().await {
        let site = site(&d).await;
        upload(&site, "a.csv", CSV.into()).await;
        let (status, v) = api(&site, reqwest::Method::POST, "/exports", Some(json!({}))).await;
        assert_eq!(status, 202, "{v}");
        let job = v["job_id"].as_i64().unwrap();
        wait_status(&site, job, &["completed"]).await;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let data = d.data_dir();
        assert_eq!(mode(&data), 0o700, "{}", data.display());
        assert_eq!(mode(&data.join("files")), 0o700);
        let mut seen = 0;
        for dir in [data.clone(), data.join("files")] {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                if entry.file_type().unwrap().is_file() {
                    assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
                    seen += 1;
                }
            }
        }
        assert!(seen >= 2, "an upload and an export at least");
        // A directory an older version left open is closed at the next start.
        drop(site);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        d.ok(&["jobs", "list", "--location", "My Practice"], "");
        assert_eq!(mode(&data), 0o700);
    }
}

// 9. -----------------------------------------------------------------------------------------

/// `user create` with an email that already had an account printed "Created…", kept the old
/// password without saying so, and the person could never reach the new location's role.
#[tokio::test]
async fn an_existing_account_gets_a_role_in_another_location_and_can_reach_it() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        d.ok(&["location", "create", "Second Spa"], "");
        let said = d.ok(
            &[
                "user",
                "create",
                "--location",
                "Second Spa",
                "--email",
                &email.to_uppercase(),
                "--name",
                "Admin",
                "--role",
                "user",
            ],
            "another password entirely\n",
        );
        assert!(said.contains("password is unchanged"), "{said}");
        assert!(!said.starts_with("Created"), "{said}");
        // The password is the one it had.
        let resp = login_from(&base, "127.0.0.6", &email, "another password entirely").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let cookie = login(&base, &email, &password).await;
        // A second time in the same location: exit 1, nothing changed.
        let out = d.run(
            &[
                "user",
                "create",
                "--location",
                "Second Spa",
                "--email",
                &email,
                "--name",
                "Admin",
                "--role",
                "admin",
            ],
            "whatever password\n",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("already a user of 'Second Spa'"));
        // The person switches to the other location and acts there with that role.
        let contacts = http()
            .get(format!("{base}/contacts"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            contacts.contains("Second Spa"),
            "the location switch is offered"
        );
        let store = d.store().await;
        let second = store.location_by_name("Second Spa").await.unwrap();
        let resp = http()
            .post(format!("{base}/location"))
            .header(reqwest::header::COOKIE, &cookie)
            .form(&[
                ("csrf_token", csrf(&cookie)),
                ("location", second.id.0.to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let settings = http()
            .get(format!("{base}/settings"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            settings.status(),
            StatusCode::FORBIDDEN,
            "a user in Second Spa"
        );
        // A location the person has no role in cannot be switched to.
        let third = store
            .create_location("Third", &domain::LocationSettings::default())
            .await
            .unwrap();
        let resp = http()
            .post(format!("{base}/location"))
            .header(reqwest::header::COOKIE, &cookie)
            .form(&[
                ("csrf_token", csrf(&cookie)),
                ("location", third.id.0.to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        store.close().await;
        healthy(&base).await;
    }
}

// 10. ----------------------------------------------------------------------------------------

/// No `Secure` cookie over HTTPS, no `no-store` on patient data, uploads kept forever, and
/// API errors that were not JSON.
#[tokio::test]
async fn cookies_caches_stale_uploads_and_api_errors() {
    for d in each_backend().await {
        let site = site(&d).await;
        let (email, password) = site.app.first_login.clone().unwrap();
        // Secure behind a proxy that says HTTPS, not over plain HTTP.
        let resp = http()
            .post(format!("{}/login", site.base))
            .header("x-forwarded-proto", "https")
            .form(&[("email", email.as_str()), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.contains("; Secure"), "{cookie}");
        let resp = http()
            .post(format!("{}/login", site.base))
            .form(&[("email", email.as_str()), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            !resp.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .contains("Secure")
        );
        // No page or API answer with patient data is kept by a cache.
        for resp in [
            get(&site, "/contacts").await,
            get(&site, "/bulk-actions").await,
        ] {
            assert_eq!(resp.headers()["cache-control"], "no-store");
        }
        let resp = http()
            .get(format!("{}/api/v1/contacts", site.base))
            .bearer_auth(&site.key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["cache-control"], "no-store");
        // Every API error is JSON: a path id that is not a number, a malformed body, a
        // method the route does not take, a route that does not exist.
        for (method, path, body) in [
            (reqwest::Method::GET, "/bulk-actions/abc", None),
            (reqwest::Method::POST, "/exports", Some("{")),
            (reqwest::Method::DELETE, "/contacts", None),
            (reqwest::Method::GET, "/no-such-route", None),
        ] {
            let mut req = http()
                .request(method.clone(), format!("{}/api/v1{path}", site.base))
                .bearer_auth(&site.key);
            if let Some(b) = body {
                req = req.header("content-type", "application/json").body(b);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            assert!(status.is_client_error(), "{method} {path}: {status}");
            let v: Value = resp
                .json()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            assert!(
                v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                "{v}"
            );
        }
        // A draft never submitted goes after 7 days, with its upload.
        let draft = upload(&site, "stale.csv", CSV.into()).await;
        let files = d.data_dir().join("files");
        let before = std::fs::read_dir(&files).unwrap().count();
        drop(site);
        exec_sql(
            &d,
            &format!("UPDATE files SET expires_at = 1 WHERE id = (SELECT file_id FROM import_drafts WHERE id = {draft})"),
        )
        .await;
        let app = spawn_app(&d);
        let cookie = login(&app.base, &email, &password).await;
        let mut gone = false;
        for _ in 0..100 {
            let resp = http()
                .get(format!("{}/imports/{draft}/map", app.base))
                .header(reqwest::header::COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            if resp.status() == StatusCode::NOT_FOUND {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(gone, "the stale draft was deleted");
        assert_eq!(std::fs::read_dir(&files).unwrap().count(), before - 1);
        healthy(&app.base).await;
    }
}
