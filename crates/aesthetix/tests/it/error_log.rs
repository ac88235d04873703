//! The error log as a user meets it, on both backends (SPEC §9.2, §9.3, §10): an import with
//! error and warning lines → `aesthetix jobs errors` → the exact CSV bytes → a cell fixed in
//! the log → `aesthetix import contacts` of the log itself, whose five columns are ignored and
//! whose neutralised cells come back as the original text. And the line log paged per tab over
//! a generated import of a few thousand lines.

use std::path::{Path, PathBuf};

use serde_json::Value;
use store::LineTab;

use crate::support::{Deployment, each_backend};

fn write(d: &Deployment, name: &str, content: &[u8]) -> PathBuf {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Imports `file` into Glow with a report, which it returns.
fn import(d: &Deployment, file: &Path, extra: &[&str]) -> Value {
    let report = d.dir.path().join("report.json");
    let mut args = vec![
        "import",
        "contacts",
        path_str(file),
        "--location",
        "Glow",
        "--report",
        path_str(&report),
    ];
    args.extend_from_slice(extra);
    d.ok(&args, "");
    serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
}

/// A CSV field as SPEC §10 quotes it, written independently of the product's writer.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n', ';', '\t']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The five log columns the report's line `n` should give: line, status, codes, messages,
/// fixes (several messages: codes joined by "; ", messages and fixes one per line).
fn log_columns(report: &Value, n: u64) -> String {
    let line = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["line"] == n)
        .unwrap_or_else(|| panic!("line {n} in the report"));
    let messages = line["messages"].as_array().unwrap();
    let join = |key: &str, sep: &str| {
        messages
            .iter()
            .map(|m| m[key].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(sep)
    };
    let mut fixes = join("resolution", "\n");
    // A warned line that wrote its contact says to keep its Contact ID (SPEC §9.3).
    if line["status"] == "warning"
        && ["created", "updated"].contains(&line["action"].as_str().unwrap())
    {
        fixes.push_str(
            "\nAfter fixing, keep the Contact ID and import this file again with Add & Update",
        );
    }
    [
        n.to_string(),
        line["status"].as_str().unwrap().to_string(),
        join("code", "; "),
        join("message", "\n"),
        fixes,
    ]
    .iter()
    .map(|f| field(f))
    .collect::<Vec<_>>()
    .join(",")
}

const FILE: &str = "First Name,Last Name,Email,Phone,Notes,Tags,Company Name\r\n\
Ann,Lee,ann@example.com,+12015550123,Regular,VIP,Glow\r\n\
,=SUM(1),not-an-email,,\"first line\nsecond line\",VIP;Botox,@corp\r\n\
Zoë,Müller,zoe@example.com,12,\"Prefers Tuesdays, mornings\",+tag,東京 Spa\r\n\
,-minus,,,plain,@home,Café Zoë\r\n\
\r\n\
Bob,,bob@example.com,,,,\r\n";

#[tokio::test]
async fn the_error_log_is_exact_and_a_fixed_log_imports_cleanly() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let file = write(&d, "contacts.csv", FILE.as_bytes());
        let first = import(&d, &file, &[]);
        let statuses: Vec<(u64, &str)> = first["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["line"].as_u64().unwrap(), l["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            statuses,
            [
                (2, "success"),
                (3, "error"),
                (4, "warning"),
                (5, "error"),
                (7, "success")
            ],
            "{first:#}"
        );
        let job = first["job_id"].as_i64().unwrap().to_string();

        let log_path = d.dir.path().join("errors.csv");
        let out = d.ok(
            &["jobs", "errors", &job, "--output", path_str(&log_path)],
            "",
        );
        assert!(
            out.contains("Wrote 3 lines") && out.contains("errors: 2, warnings: 1"),
            "{out}"
        );
        let log = String::from_utf8(std::fs::read(&log_path).unwrap()).unwrap();
        // Zoë's warned line created her: it carries her Contact ID, in a column added after
        // the file's own (SPEC §9.3); the failed lines carry none.
        let zoe = first["lines"][2]["record_id"].as_i64().unwrap();
        let want = format!(
            "\u{feff}First Name,Last Name,Email,Phone,Notes,Tags,Company Name,Contact ID,\
             Import Line,Import Status,Error Code,Import Error,How to Fix\r\n\
             ,'=SUM(1),not-an-email,,\"first line\nsecond line\",\"VIP;Botox\",'@corp,,{}\r\n\
             Zoë,Müller,zoe@example.com,12,\"Prefers Tuesdays, mornings\",'+tag,東京 Spa,{zoe},{}\r\n\
             ,'-minus,,,plain,'@home,Café Zoë,,{}\r\n",
            log_columns(&first, 3),
            log_columns(&first, 4),
            log_columns(&first, 5),
        );
        assert_eq!(log, want, "{:?}", d.database_url);

        // The user fixes the two failed rows in the log (and Zoë's phone) and imports the log
        // itself, adding to what is there: no --skip-unmapped, no --map.
        let fixed = log
            .replace(
                "\r\n,'=SUM(1),not-an-email,",
                "\r\nCara,'=SUM(1),cara@example.com,",
            )
            .replace("zoe@example.com,12,", "zoe@example.com,+12015550124,")
            .replace("\r\n,'-minus,", "\r\nDan,'-minus,");
        let fixed_path = write(&d, "errors-fixed.csv", fixed.as_bytes());
        let second = import(&d, &fixed_path, &["--mode", "upsert"]);
        let results: Vec<(u64, &str, &str)> = second["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["line"].as_u64().unwrap(),
                    l["status"].as_str().unwrap(),
                    l["action"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            results,
            [
                (2, "success", "created"),
                (3, "success", "updated"),
                (4, "success", "created")
            ],
            "{second:#}"
        );
        // Zoë was found by the Contact ID her line carried: the same contact, updated.
        assert_eq!(second["lines"][1]["record_id"].as_i64(), Some(zoe));

        // What the rows hold is the original text, not the neutralised cell.
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap();
        let ids: Vec<i64> = second["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["record_id"].as_i64().unwrap())
            .collect();
        let contacts = store
            .contacts_for_matching(loc.id, &ids, &[], &[])
            .await
            .unwrap();
        let by_name = |first: &str| {
            contacts
                .iter()
                .find(|c| c.values.get("first_name").map(String::as_str) == Some(first))
                .unwrap_or_else(|| panic!("{first} among {contacts:?}"))
        };
        let value = |first: &str, key: &str| by_name(first).values.get(key).cloned();
        assert_eq!(value("Cara", "last_name").as_deref(), Some("=SUM(1)"));
        assert_eq!(value("Cara", "company_name").as_deref(), Some("@corp"));
        assert_eq!(by_name("Cara").tags, ["VIP", "Botox"]);
        assert_eq!(value("Dan", "last_name").as_deref(), Some("-minus"));
        assert_eq!(value("Dan", "company_name").as_deref(), Some("Café Zoë"));
        assert_eq!(by_name("Dan").tags, ["@home"]);
        assert_eq!(value("Zoë", "phone").as_deref(), Some("+12015550124"));
        assert_eq!(value("Zoë", "company_name").as_deref(), Some("東京 Spa"));
        assert_eq!(by_name("Zoë").tags, ["+tag"]);
        store.close().await;

        // The second import's log: its file's five log columns are not written twice.
        let job2 = second["job_id"].as_i64().unwrap().to_string();
        let log2_path = d.dir.path().join("errors-2.csv");
        let out = d.ok(
            &["jobs", "errors", &job2, "--output", path_str(&log2_path)],
            "",
        );
        assert!(out.contains("Wrote 0 lines"), "{out}");
        assert_eq!(
            std::fs::read_to_string(&log2_path).unwrap(),
            "\u{feff}First Name,Last Name,Email,Phone,Notes,Tags,Company Name,Contact ID,\
             Import Line,Import Status,Error Code,Import Error,How to Fix\r\n"
        );
    }
}

#[tokio::test]
async fn jobs_errors_refuses_an_unknown_job_and_an_unwritable_path() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let file = write(&d, "contacts.csv", FILE.as_bytes());
        let job = import(&d, &file, &[])["job_id"]
            .as_i64()
            .unwrap()
            .to_string();
        let out_path = d.dir.path().join("errors.csv");

        let out = d.run(
            &["jobs", "errors", "999999", "--output", path_str(&out_path)],
            "",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("there is no job 999999"), "{stderr}");
        assert!(!out_path.exists());

        let nowhere = d.dir.path().join("no-such-dir").join("errors.csv");
        let out = d.run(
            &["jobs", "errors", &job, "--output", path_str(&nowhere)],
            "",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("could not write the error log to") && stderr.contains("no-such-dir"),
            "{stderr}"
        );

        let out = d.run(&["jobs", "errors", &job], "");
        assert_eq!(out.status.code(), Some(2), "--output is required");
    }
}

/// A generated file: blank rows, rows with no identifier (errors) and bad phones (warnings).
fn generated(rows: u64) -> String {
    let mut s = String::from("First Name,Email,Phone\n");
    for i in 0..rows {
        match i % 11 {
            4 => s.push_str(",,\n"),                           // blank: no entry
            7 => s.push_str(&format!(",not-an-email-{i},\n")), // error
            2 | 9 => s.push_str(&format!("P{i},p{i}@example.com,12\n")), // warning
            _ => s.push_str(&format!("P{i},p{i}@example.com,\n")),
        }
    }
    s
}

#[tokio::test]
async fn pages_per_tab_cover_exactly_the_reports_lines() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let file = write(&d, "many.csv", generated(3_000).as_bytes());
        let report = import(&d, &file, &[]);
        let job = report["job_id"].as_i64().unwrap();
        let lines: Vec<(u64, String)> = report["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["line"].as_u64().unwrap(),
                    l["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(lines.iter().any(|l| l.1 == "error") && lines.iter().any(|l| l.1 == "warning"));

        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap().id;
        let counts = store.job_line_counts(loc, job).await.unwrap();
        for tab in LineTab::TABS {
            let want: Vec<u64> = lines
                .iter()
                .filter(|(_, s)| match tab {
                    LineTab::All => true,
                    LineTab::Success => s == "success",
                    LineTab::Warning => s == "warning",
                    _ => s == "error",
                })
                .map(|(n, _)| *n)
                .collect();
            assert_eq!(counts.of(tab), want.len() as u64, "{tab:?}");
            let mut got = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .job_lines_page(loc, job, tab, after, 97)
                    .await
                    .unwrap();
                got.extend(page.iter().map(|l| l.line));
                if page.len() < 97 {
                    break;
                }
                after = page.last().map(|l| l.line);
            }
            assert_eq!(got, want, "{tab:?} on {:?}", store.backend());
        }
        // Warning and error lines keep their cells; success lines are compact.
        let page = store
            .job_lines_page(loc, job, LineTab::All, None, 20)
            .await
            .unwrap();
        for l in &page {
            assert_eq!(l.cells.is_some(), l.status != "success", "{l:?}");
            assert_eq!(l.messages.is_empty(), l.status == "success", "{l:?}");
        }
        store.close().await;

        // The log has one record per problem line, in file order.
        let log_path = d.dir.path().join("errors.csv");
        d.ok(
            &[
                "jobs",
                "errors",
                &job.to_string(),
                "--output",
                path_str(&log_path),
            ],
            "",
        );
        let log = std::fs::read_to_string(&log_path).unwrap();
        let logged: Vec<u64> = log
            .split("\r\n")
            .skip(1)
            .filter(|r| !r.is_empty())
            .map(|r| r.split(',').nth(4).unwrap().parse().unwrap())
            .collect();
        let problems: Vec<u64> = lines
            .iter()
            .filter(|(_, s)| s != "success")
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(logged, problems);
    }
}
