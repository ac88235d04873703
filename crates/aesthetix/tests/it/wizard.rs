//! The import wizard and Bulk Actions over HTTP, as a browser would drive them (forms and the
//! upload route), on both backends: the whole flow to a finished job run by `serve`'s worker,
//! admins only (403 for a user, 404 for another location's draft or job), hostile values and
//! file names, the size limit answered before the body, slow bodies timed out, and hostile
//! workbooks that leave the server answering.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{App, Deployment, each_backend, http, session_cookie, spawn_app};

pub(crate) async fn login(base: &str, email: &str, password: &str) -> String {
    let resp = http()
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    session_cookie(&resp).unwrap_or_else(|| panic!("{email} signs in"))
}

async fn get(base: &str, path: &str, cookie: &str) -> reqwest::Response {
    http()
        .get(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

async fn post_form(
    base: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http()
        .post(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", crate::support::csrf(cookie))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Uploads `bytes` as the browser's script does; returns the status and the JSON answer.
async fn upload(
    base: &str,
    cookie: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let resp = http()
        .post(format!("{base}/imports/upload?name={encoded}"))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", crate::support::csrf(cookie))
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

fn location_of(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Waits until job `id` is finished, through the pages' own progress route.
async fn wait_finished(base: &str, cookie: &str, id: i64) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let jobs: serde_json::Value =
            get(base, &format!("/bulk-actions/progress?job={id}"), cookie)
                .await
                .json()
                .await
                .unwrap();
        let job = jobs[0].clone();
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "job {id} did not finish: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A second location with its admin, and a user (not admin) in the first-run location.
fn people(d: &Deployment) {
    d.ok(&["location", "create", "Other Spa"], "");
    for (location, email, role) in [
        ("Other Spa", "other@example.com", "admin"),
        ("My Practice", "staff@example.com", "user"),
    ] {
        d.ok(
            &[
                "user",
                "create",
                "--location",
                location,
                "--email",
                email,
                "--name",
                email,
                "--role",
                role,
            ],
            "a long password\n",
        );
    }
}

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(2)>";

fn hostile_csv() -> String {
    format!(
        "First Name,Last Name,Email,Phone,Note,Favourite\r\n\
         \"{}\",Lee,ann@example.com,201-555-0101,\"{}\",x\r\n\
         Bob,\"{}\",bob@example.com,not a phone,ok,y\r\n\
         ,,,,\"{}\",z\r\n",
        SCRIPT,
        IMG.replace('"', "\"\""),
        IMG.replace('"', "\"\""),
        SCRIPT
    )
}

/// Asserts a page shows `value` only escaped.
fn assert_escaped(page: &str, html: &str) {
    assert!(!html.contains(SCRIPT), "{page}: a raw <script> in\n{html}");
    assert!(
        !html.contains("<img src=x"),
        "{page}: a raw <img> in\n{html}"
    );
}

#[tokio::test]
async fn the_wizard_to_a_finished_job_with_hostile_values_for_admins_only() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        people(&d);
        let staff = login(&base, "staff@example.com", "a long password").await;
        let other = login(&base, "other@example.com", "a long password").await;

        // Step 1: the upload page and the upload itself, with a name made to break things.
        let page = get(&base, "/imports/new", &admin).await;
        assert_eq!(page.status(), StatusCode::OK);
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(html.contains("Drag and drop your file here"));
        assert!(html.contains(r#"data-max-bytes="30000000""#));
        let evil_name = "a\"\r\nSet-Cookie: x=1<b>.csv";
        let (status, body) = upload(&base, &admin, evil_name, hostile_csv().into_bytes()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let draft = body["draft"].as_i64().unwrap();
        assert_eq!(body["next"], format!("/imports/{draft}/map"));
        let stored: Vec<String> = std::fs::read_dir(d.data_dir().join("files"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(stored.len(), 1);
        assert!(
            stored[0].starts_with("upload-") && !stored[0].contains("Set-Cookie"),
            "{stored:?}"
        );

        // Step 2: the proposed mapping: samples escaped, the unmatched column blocks Next.
        let map = get(&base, &format!("/imports/{draft}/map"), &admin).await;
        assert_eq!(map.status(), StatusCode::OK);
        let html = map.text().await.unwrap();
        assert_escaped("map", &html);
        assert!(
            html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("a&#34;Set-Cookie: x=1&#60;b&#62;.csv"),
            "the name, without its line break, shown escaped"
        );
        assert!(
            html.contains("— 3 rows,"),
            "the count in plain words: {html}"
        );
        assert!(
            html.contains(r#"<option value="email" selected>Email</option>"#),
            "auto-mapped"
        );
        let mut form: Vec<(String, String)> = vec![("columns".into(), "6".into())];
        for (i, key) in ["first_name", "last_name", "email", "phone", "note", ""]
            .iter()
            .enumerate()
        {
            form.push((format!("col_{i}"), key.to_string()));
        }
        let resp = http()
            .post(format!("{base}/imports/{draft}/map"))
            .header(reqwest::header::COOKIE, &admin)
            .header("x-csrf-token", crate::support::csrf(&admin))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("This column is not matched to a field: “Favourite”"),
            "{html}"
        );
        form.push(("skip_unmapped".into(), "on".into()));
        let resp = http()
            .post(format!("{base}/imports/{draft}/map"))
            .header(reqwest::header::COOKIE, &admin)
            .header("x-csrf-token", crate::support::csrf(&admin))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(location_of(&resp), format!("/imports/{draft}/details"));

        // Step 3 and 4: details, then the dry run.
        let html = get(&base, &format!("/imports/{draft}/details"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("resets its email verification status"),
            "{html}"
        );
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/details"),
            &admin,
            &[
                ("name", IMG),
                ("mode", "create"),
                ("tags", "web, spring"),
                ("workflow", ""),
            ],
        )
        .await;
        assert_eq!(location_of(&resp), format!("/imports/{draft}/review"));
        let html = get(&base, &format!("/imports/{draft}/review"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert_escaped("review", &html);
        assert!(
            html.contains(r#"<strong data-total="created">2</strong>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<strong data-total="failed">1</strong>row with errors"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<strong data-total="created">2</strong>new contacts"#),
            "{html}"
        );
        assert!(
            html.contains("Row needs at least one of First Name, Email or Phone"),
            "{html}"
        );
        assert!(
            !html.contains("workflow-warning"),
            "no workflow is triggered"
        );

        // Only admins of this location reach any of it.
        for path in [
            "/imports/new".to_string(),
            format!("/imports/{draft}/map"),
            format!("/imports/{draft}/details"),
            format!("/imports/{draft}/review"),
            "/bulk-actions".to_string(),
            "/bulk-actions/progress".to_string(),
        ] {
            assert_eq!(
                get(&base, &path, &staff).await.status(),
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let (status, _) = upload(&base, &staff, "x.csv", b"First Name\nAnn\n".to_vec()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            post_form(&base, &format!("/imports/{draft}/submit"), &staff, &[])
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        for path in [
            format!("/imports/{draft}/map"),
            format!("/imports/{draft}/details"),
            format!("/imports/{draft}/review"),
        ] {
            assert_eq!(
                get(&base, &path, &other).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(
            post_form(&base, &format!("/imports/{draft}/submit"), &other, &[])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let anonymous = http()
            .get(format!("{base}/imports/new"))
            .send()
            .await
            .unwrap();
        assert_eq!(location_of(&anonymous), "/login");

        // Step 5: submit; `serve`'s worker runs the job.
        let resp = post_form(&base, &format!("/imports/{draft}/submit"), &admin, &[]).await;
        let to = location_of(&resp);
        assert!(to.starts_with("/bulk-actions?submitted="), "{to}");
        let job: i64 = to.rsplit('=').next().unwrap().parse().unwrap();
        let done = wait_finished(&base, &admin, job).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(
            (done["created"].as_i64(), done["errors"].as_i64()),
            (Some(2), Some(1))
        );
        // Submitting again is the same job.
        let again = post_form(&base, &format!("/imports/{draft}/submit"), &admin, &[]).await;
        assert_eq!(
            location_of(&again),
            format!("/bulk-actions?submitted={job}")
        );

        let resp = get(&base, "/bulk-actions", &admin).await;
        let html = resp.text().await.unwrap();
        assert_escaped("bulk actions", &html);
        assert!(html.contains(&format!(r#"data-job="{job}""#)));
        assert!(
            html.contains("&#34;&#62;&#60;img src=x onerror=alert(2)&#62;"),
            "the name, escaped: {html}"
        );
        for tab in ["all", "error", "warning", "success"] {
            let resp = get(&base, &format!("/bulk-actions/{job}?tab={tab}"), &admin).await;
            assert_eq!(resp.status(), StatusCode::OK, "{tab}");
            assert_escaped(tab, &resp.text().await.unwrap());
        }
        let html = get(&base, &format!("/bulk-actions/{job}?tab=error"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(r#"<tr data-line="4">"#), "{html}");
        assert!(
            html.contains("Error (1)") && html.contains("All (3)"),
            "{html}"
        );
        assert!(
            html.contains("Revert import") && !html.contains(">Pause<"),
            "{html}"
        );

        // The error log: a download named the RFC 6266 way, nothing of the name in a header.
        let resp = get(&base, &format!("/bulk-actions/{job}/error-log"), &admin).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().get("set-cookie").is_none());
        let cd = resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            cd,
            "attachment; filename=\"a_Set-Cookie: x=1<b> errors.csv\"; filename*=UTF-8''a%22Set-Cookie%3A%20x%3D1%3Cb%3E%20errors.csv"
        );
        let csv = resp.text().await.unwrap();
        assert!(
            csv.starts_with(
                "\u{feff}First Name,Last Name,Email,Phone,Note,Favourite,Contact ID,Import Line"
            ),
            "{csv}"
        );
        assert!(csv.contains(",4,error,row.no_identifier,"), "{csv}");

        for path in [
            format!("/bulk-actions/{job}"),
            format!("/bulk-actions/{job}/error-log"),
            format!("/bulk-actions/progress?job={job}"),
        ] {
            assert_eq!(
                get(&base, &path, &staff).await.status(),
                StatusCode::FORBIDDEN,
                "{path}"
            );
            assert_eq!(
                get(&base, &path, &other).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert!(
            !get(&base, "/bulk-actions", &other)
                .await
                .text()
                .await
                .unwrap()
                .contains(&format!("data-job=\"{job}\"")),
            "another location's list does not show it"
        );
        for action in ["pause", "resume", "cancel", "revert"] {
            let path = format!("/bulk-actions/{job}/{action}");
            assert_eq!(
                post_form(&base, &path, &staff, &[]).await.status(),
                StatusCode::FORBIDDEN
            );
            assert_eq!(
                post_form(&base, &path, &other, &[]).await.status(),
                StatusCode::NOT_FOUND
            );
        }

        // Actions only when they apply: a finished job cannot be paused; it can be reverted once.
        let resp = post_form(&base, &format!("/bulk-actions/{job}/pause"), &admin, &[]).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert!(resp.text().await.unwrap().contains("is completed already"));
        let resp = post_form(&base, &format!("/bulk-actions/{job}/revert"), &admin, &[]).await;
        // The revert runs in the background (issue 18): the page answers at once and says
        // so, then reads "reverted" with what the revert did.
        assert_eq!(
            location_of(&resp),
            format!("/bulk-actions/{job}?done=revert-started")
        );
        let mut html = String::new();
        for _ in 0..100 {
            html = get(&base, &location_of(&resp), &admin)
                .await
                .text()
                .await
                .unwrap();
            if html.contains("badge reverted") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            html.contains("the revert deleted 2 contacts it added and restored 0 contacts"),
            "{html}"
        );
        assert!(!html.contains("is being reverted"), "{html}");
        assert!(!html.contains("Revert import"), "reverted once: {html}");
        let list = get(&base, "/bulk-actions", &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            list.contains("badge reverted"),
            "the list says reverted: {list}"
        );

        // A count of one reads in the singular: "1 row", never "1 rows".
        let (status, body) = upload(&base, &admin, "one.csv", b"First Name\nAnn\n".to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let html = get(&base, &format!("/imports/{}/map", body["draft"]), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("— 1 row,"), "{html}");
        assert!(!html.contains("1 rows"), "{html}");
        drop(app);
    }
}

/// Sends a request's head, then the body a byte a second; returns the status line the server
/// answered with and how long it took.
fn trickle(base: &str, path: &str, cookie: &str, content_type: &str) -> (String, Duration) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(900)))
        .unwrap();
    let token = crate::support::csrf(cookie);
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRF-Token: {token}\r\nContent-Type: {content_type}\r\nContent-Length: 100000\r\n\r\n"
    )
    .unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    while start.elapsed() < Duration::from_secs(60) {
        if s.write_all(b"a").is_err() {
            break;
        }
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&answer).to_string();
    (
        text.lines().next().unwrap_or_default().to_string(),
        start.elapsed(),
    )
}

/// Sends only a request's head announcing `length` bytes, and reads the answer.
fn head_only(base: &str, cookie: &str, length: u64) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let token = crate::support::csrf(cookie);
    write!(
        s,
        "POST /imports/upload?name=big.csv HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRF-Token: {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s
        .read(&mut buf)
        .expect("an answer before any of the body was sent");
    String::from_utf8_lossy(&buf[..n]).to_string()
}

/// Streams `length` bytes of a chunked body (no Content-Length) from another thread while
/// this one reads the answer.
fn chunked_upload(base: &str, cookie: &str, length: usize) -> String {
    let addr = base.trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let token = crate::support::csrf(cookie);
    write!(
        s,
        "POST /imports/upload?name=big.csv HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRF-Token: {token}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        let mut sent = 0;
        while sent < length {
            let n = chunk.len().min(length - sent);
            if write!(w, "{n:x}\r\n").is_err()
                || w.write_all(&chunk[..n]).is_err()
                || w.write_all(b"\r\n").is_err()
            {
                return;
            }
            sent += n;
        }
        let _ = w.write_all(b"0\r\n\r\n");
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let _ = s.shutdown(std::net::Shutdown::Both);
    let _ = writer.join();
    String::from_utf8_lossy(&answer).to_string()
}

fn files_in(d: &Deployment) -> usize {
    std::fs::read_dir(d.data_dir().join("files"))
        .map(|r| r.count())
        .unwrap_or(0)
}

async fn healthy(app: &App) {
    let resp = http()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A minimal workbook: one sheet whose XML is `sheet`.
fn workbook(sheet: &[u8]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default();
    let parts: [(&str, &[u8]); 5] = [
        ("[Content_Types].xml", br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#),
        ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
        ("xl/workbook.xml", br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
        ("xl/_rels/workbook.xml.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, bytes) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn sheet(rows: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
    )
    .into_bytes()
}

const HEADER_ROW: &str =
    r#"<row r="1"><c r="A1" t="inlineStr"><is><t>First Name</t></is></c></row>"#;

#[tokio::test]
async fn hostile_uploads_are_refused_and_the_server_keeps_answering() {
    for d in each_backend().await {
        hostile_uploads(&d).await;
    }
}

async fn hostile_uploads(d: &Deployment) {
    let app = spawn_app(d);
    let base = app.base.clone();
    let (email, password) = app.first_login.clone().unwrap();
    let admin = login(&base, &email, &password).await;

    // 31 MB announced: 413 before a byte of the body is sent.
    let answer = head_only(&base, &admin, 31_000_000);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("file.too_large"), "{answer}");
    // 31 MB streamed without a length: refused once it passes 30,000,000 bytes.
    let answer = chunked_upload(&base, &admin, 31_000_000);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(files_in(d), 0, "nothing of a refused upload is kept");
    healthy(&app).await;

    // A body trickled at one byte a second is cut off: an upload, and a form.
    let (b1, c1) = (base.clone(), admin.clone());
    let slow_upload = std::thread::spawn(move || {
        trickle(
            &b1,
            "/imports/upload?name=slow.csv",
            &c1,
            "application/octet-stream",
        )
    });
    let (b2, c2) = (base.clone(), admin.clone());
    let slow_form = std::thread::spawn(move || {
        trickle(&b2, "/settings", &c2, "application/x-www-form-urlencoded")
    });
    for (what, t) in [("upload", slow_upload), ("form", slow_form)] {
        let (status, took) = t.join().unwrap();
        assert!(
            status.starts_with("HTTP/1.1 408"),
            "{what}: {status:?} after {took:?}"
        );
        assert!(took < Duration::from_secs(40), "{what}: {took:?}");
    }
    assert_eq!(files_in(d), 0);
    healthy(&app).await;

    // File names are display data: never a path, shown cleaned and escaped.
    let long = format!("{}.csv", "n".repeat(300));
    for (given, shown) in [
        ("../../x.csv", "x.csv".to_string()),
        ("..\\..\\win.csv", "win.csv".to_string()),
        (long.as_str(), "n".repeat(200)),
        ("invoice\u{202E}vsc.exe", "invoicevsc.exe".to_string()),
    ] {
        let (status, body) = upload(&base, &admin, given, b"First Name\nAnn\n".to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{given}: {body}");
        let draft = body["draft"].as_i64().unwrap();
        let html = get(&base, &format!("/imports/{draft}/map"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!("<strong>{shown}</strong>")),
            "{given}: {html}"
        );
        assert!(!html.contains('\u{202E}'));
    }
    assert!(!d.dir.path().join("x.csv").exists() && !d.data_dir().join("x.csv").exists());
    let names: Vec<String> = std::fs::read_dir(d.data_dir().join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4);
    assert!(names.iter().all(|n| n.starts_with("upload-")), "{names:?}");

    // Hostile workbooks: a decompression bomb, a sparse cell at XFD1048576, a DTD. Each is
    // stored (it is only bytes), refused when read, and the server still answers.
    let bomb = {
        let mut rows = String::from(HEADER_ROW);
        rows.push_str(&" ".repeat(210_000_000));
        workbook(&sheet(&rows))
    };
    assert!(bomb.len() < 2_000_000, "a small file: {}", bomb.len());
    let sparse = workbook(&sheet(&format!(
        r#"{HEADER_ROW}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#
    )));
    let dtd = workbook(
        br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>"#,
    );
    for (name, bytes, code) in [
        ("bomb.xlsx", bomb, "xlsx.too_large"),
        ("sparse.xlsx", sparse, "file.too_many_columns"),
        ("dtd.xlsx", dtd, "xlsx.dtd"),
    ] {
        let (status, body) = upload(&base, &admin, name, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
        let draft = body["draft"].as_i64().unwrap();
        let resp = get(&base, &format!("/imports/{draft}/map"), &admin).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(code), "{name}: {html}");
        assert!(html.contains("Choose another file"), "{name}");
        healthy(&app).await;
    }
}

#[tokio::test]
async fn option_values_that_match_no_option_get_a_step_of_their_own() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        let csv = "First Name,Type\nAnn,Botox Consult\nBo,patient\nCy,<b>VIP</b>\n";
        let (status, body) = upload(&base, &admin, "types.csv", csv.as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let draft = body["draft"].as_i64().unwrap();
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/map"),
            &admin,
            &[
                ("columns", "2"),
                ("col_0", "first_name"),
                ("col_1", "contact_type"),
            ],
        )
        .await;
        assert_eq!(location_of(&resp), format!("/imports/{draft}/values"));
        let html = get(&base, &format!("/imports/{draft}/values"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("<strong>Botox Consult</strong>"), "{html}");
        assert!(
            html.contains("&#60;b&#62;VIP&#60;/b&#62;") && !html.contains("<b>VIP"),
            "{html}"
        );
        assert!(
            !html.contains("<strong>patient</strong>"),
            "a value matching an option is not listed"
        );
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/values"),
            &admin,
            &[
                ("f_0", "contact_type"),
                ("v_0", "Botox Consult"),
                ("o_0", "Wizard"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("is not an option of Type of Contact")
        );
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/values"),
            &admin,
            &[
                ("f_0", "contact_type"),
                ("v_0", "Botox Consult"),
                ("o_0", "Patient"),
                ("f_1", "contact_type"),
                ("v_1", "<b>VIP</b>"),
                ("o_1", ""),
            ],
        )
        .await;
        assert_eq!(location_of(&resp), format!("/imports/{draft}/details"));
        let resp = post_form(
            &base,
            &format!("/imports/{draft}/details"),
            &admin,
            &[("mode", "create")],
        )
        .await;
        assert_eq!(location_of(&resp), format!("/imports/{draft}/review"));
        let html = get(&base, &format!("/imports/{draft}/review"), &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(r#"<strong data-total="warnings">1</strong>"#),
            "only Cy's value: {html}"
        );
        let resp = post_form(&base, &format!("/imports/{draft}/submit"), &admin, &[]).await;
        let job: i64 = location_of(&resp)
            .rsplit('=')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            wait_finished(&base, &admin, job).await["status"],
            "completed"
        );
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap();
        let types: Vec<(String, Option<String>)> = store
            .contacts_dump(loc.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.contact.values["first_name"].clone(),
                    c.contact.values.get("contact_type").cloned(),
                )
            })
            .collect();
        assert!(
            types.contains(&("Ann".into(), Some("Patient".into()))),
            "{types:?}"
        );
        assert!(types.contains(&("Cy".into(), None)), "{types:?}");
        store.close().await;
    }
}
