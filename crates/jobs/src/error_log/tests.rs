//! The error log's bytes, as case tables and end to end over a store on both backends.

use domain::LocationSettings;
use store::testing::each_backend;
use store::{ChunkWrite, LineWrite, NewJob, Totals};

use super::*;

fn check_record(fields: &[&str], want: &str) {
    let mut out = Vec::new();
    write_record(&mut out, fields).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), want, "{fields:?}");
}

#[test]
fn records_are_quoted_the_spec_10_way() {
    let cases: &[(&[&str], &str)] = &[
        (&["Ann", "Lee"], "Ann,Lee\r\n"),
        (&["", ""], ",\r\n"),
        (&["Lee, Ann"], "\"Lee, Ann\"\r\n"),
        (&["VIP;Botox"], "\"VIP;Botox\"\r\n"),
        (&["a\tb"], "\"a\tb\"\r\n"),
        (&["say \"hi\""], "\"say \"\"hi\"\"\"\r\n"),
        (&["two\nlines"], "\"two\nlines\"\r\n"),
        (&["cr\r\nlf"], "\"cr\r\nlf\"\r\n"),
        (&["Zoë", "東京"], "Zoë,東京\r\n"),
    ];
    for (fields, want) in cases {
        check_record(fields, want);
    }
}

#[test]
fn cells_are_written_as_the_importer_reads_them_neutralised() {
    let cases: &[(&str, &str)] = &[
        ("=SUM(1)", "'=SUM(1)"),
        ("+1 201", "'+1 201"),
        ("-5 off", "'-5 off"),
        ("@ann", "'@ann"),
        ("-12.5", "-12.5"),
        ("+12015550123", "+12015550123"),
        // Already neutralised (from one of our exports): read as `=1`, written back as it was.
        ("'=1", "'=1"),
        ("''=1", "''=1"),
        ("'tis", "'tis"),
        ("Ann", "Ann"),
    ];
    for (given, want) in cases {
        assert_eq!(cell(given), *want, "{given:?}");
        assert_eq!(unneutralise(&cell(given)), unneutralise(given), "{given:?}");
    }
}

async fn job(store: &Store, location: LocationId, headers: &[&str], lines: Vec<LineWrite>) -> i64 {
    let options = serde_json::json!({ "mode": "create", "headers": headers });
    let job = store
        .create_job(
            location,
            &NewJob {
                operation: domain::job::Operation::Import,
                object: domain::ObjectKind::Contact,
                name: "test".into(),
                options: options.to_string(),
                lease_owner: Some("test".into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    let lease = store::Lease {
        job_id: job,
        location_id: location,
        owner: "test".into(),
    };
    for chunk in lines.chunks(300) {
        let write = ChunkWrite {
            lines: chunk.to_vec(),
            totals: Totals {
                processed: chunk.len() as i64,
                ..Totals::default()
            },
            checkpoint_line: chunk.last().unwrap().line,
            ..ChunkWrite::default()
        };
        store.apply_import_chunk(&lease, &write).await.unwrap();
    }
    job
}

fn problem(
    line: u64,
    status: &'static str,
    messages: &[(&str, &str, &str)],
    cells: &[&str],
) -> LineWrite {
    let messages: Vec<_> = messages
        .iter()
        .map(|(code, message, resolution)| {
            serde_json::json!({"level": status, "code": code, "field": null, "message": message, "resolution": resolution})
        })
        .collect();
    LineWrite {
        line,
        status: status.parse().unwrap(),
        action: if status == "error" { "none" } else { "created" }
            .parse()
            .unwrap(),
        record: None,
        primary: None,
        messages: Some(serde_json::to_string(&messages).unwrap()),
        cells: Some(serde_json::to_string(cells).unwrap()),
    }
}

fn success(line: u64) -> LineWrite {
    LineWrite {
        line,
        status: domain::job::LineStatus::Success,
        action: domain::job::LineAction::Created,
        record: None,
        primary: Some(format!("Person {line}")),
        messages: None,
        cells: None,
    }
}

async fn log_of(store: &Store, location: LocationId, job: i64) -> (String, ErrorLogSummary) {
    let mut out = Vec::new();
    let summary = write_error_log(store, location, job, &mut out)
        .await
        .unwrap();
    (String::from_utf8(out).unwrap(), summary)
}

#[tokio::test]
async fn the_log_holds_each_problem_line_once_with_its_cells_and_messages() {
    for db in each_backend().await {
        let store = &db.store;
        let loc = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let id = job(
            store,
            loc,
            &["First Name", "=Formula", "Tags"],
            vec![
                success(2),
                problem(
                    3,
                    "error",
                    &[
                        (
                            "email.invalid",
                            "'ann@' is not an email address; it has no domain.",
                            "Write the whole address.",
                        ),
                        (
                            "phone.invalid",
                            "'12' is too short.",
                            "-Give the full number.",
                        ),
                    ],
                    &["Ann", "=SUM(1)", "VIP;Botox"],
                ),
                success(4),
                // A short row: the missing cells read blank.
                problem(
                    6,
                    "warning",
                    &[("option.unknown", "Not an option.", "Pick one.")],
                    &["Zoë"],
                ),
            ],
        )
        .await;
        let (log, summary) = log_of(store, loc, id).await;
        assert_eq!(
            log,
            "\u{feff}First Name,'=Formula,Tags,Contact ID,Import Line,Import Status,Error Code,Import Error,How to Fix\r\n\
             Ann,'=SUM(1),\"VIP;Botox\",,3,error,\"email.invalid; phone.invalid\",\
             \"'ann@' is not an email address; it has no domain.\n'12' is too short.\",\
             \"Write the whole address.\n-Give the full number.\"\r\n\
             Zoë,,,,6,warning,option.unknown,Not an option.,Pick one.\r\n",
            "{:?}",
            db.backend()
        );
        assert_eq!(
            summary,
            ErrorLogSummary {
                lines: 2,
                errors: 1,
                warnings: 1
            }
        );
    }
}

#[tokio::test]
async fn an_earlier_logs_columns_are_not_written_twice_and_many_pages_stream_in_order() {
    for db in each_backend().await {
        let store = &db.store;
        let loc = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        // The file was itself an error log: its five columns were ignored on import.
        let headers = [
            "Email",
            "Import Line",
            "Import Status",
            "Error Code",
            "import error",
            "How to Fix",
        ];
        let lines: Vec<LineWrite> = (2..2_000u64)
            .map(|n| {
                if n % 3 == 0 {
                    problem(
                        n,
                        "error",
                        &[("email.invalid", "bad", "fix")],
                        &[&format!("p{n}@"), "7", "error", "x", "y", "z"],
                    )
                } else {
                    success(n)
                }
            })
            .collect();
        let id = job(store, loc, &headers, lines).await;
        let (log, summary) = log_of(store, loc, id).await;
        let records: Vec<&str> = log.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(
            records[0],
            "\u{feff}Email,Contact ID,Import Line,Import Status,Error Code,Import Error,How to Fix"
        );
        let want: Vec<String> = (2..2_000u64)
            .filter(|n| n % 3 == 0)
            .map(|n| format!("p{n}@,,{n},error,email.invalid,bad,fix"))
            .collect();
        assert_eq!(records[1..], want[..]);
        assert_eq!(summary.lines, want.len() as u64);
    }
}

#[tokio::test]
async fn saving_replaces_the_file_whole_or_leaves_it_alone() {
    for db in each_backend().await {
        let store = &db.store;
        let loc = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let id = job(
            store,
            loc,
            &["Email"],
            vec![problem(
                2,
                "error",
                &[("email.invalid", "bad", "fix")],
                &["x@"],
            )],
        )
        .await;
        let dir = db.dir.path();
        let path = dir.join("errors.csv");
        std::fs::write(&path, "before").unwrap();

        // An unknown job: the error is the store's, and the old file stays.
        let e = save_error_log(store, loc, id + 1, &path).await.unwrap_err();
        assert!(e.is_not_found(), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before");

        let summary = save_error_log(store, loc, id, &path).await.unwrap();
        assert_eq!(summary.lines, 1);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "\u{feff}Email,Contact ID,Import Line,Import Status,Error Code,Import Error,How to Fix\r\nx@,,2,error,email.invalid,bad,fix\r\n"
        );

        // A directory that is not there: a plain reason naming the path.
        let nowhere = dir.join("missing").join("errors.csv");
        let e = save_error_log(store, loc, id, &nowhere).await.unwrap_err();
        assert!(matches!(e, ErrorLogError::File { .. }), "{e}");
        assert!(e.to_string().contains("missing/errors.csv"), "{e}");

        // Nothing but the log itself is left in the directory (no temporary file).
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("errors"))
            .collect();
        assert_eq!(names, ["errors.csv"]);
    }
}

#[tokio::test]
async fn warned_lines_that_wrote_a_contact_carry_its_id() {
    for db in each_backend().await {
        let store = &db.store;
        let loc = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let contact = store
            .insert_contacts(
                loc,
                &[store::NewContact {
                    first_name: Some("Zoë".into()),
                    ..store::NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        let written = |line: u64, action: &'static str, cells: &[&str]| LineWrite {
            action: action.parse().unwrap(),
            record: Some(store::RecordRef::Id(contact)),
            ..problem(
                line,
                "warning",
                &[("phone.invalid", "Too short.", "Give the whole number.")],
                cells,
            )
        };
        // No Contact ID column: one is added after the original columns.
        let id = job(
            store,
            loc,
            &["First Name", "Phone"],
            vec![
                written(2, "created", &["Zoë", "12"]),
                written(3, "skipped", &["Zoë", "12"]),
                problem(
                    4,
                    "error",
                    &[("row.no_identifier", "Nothing.", "Add one.")],
                    &["", ""],
                ),
            ],
        )
        .await;
        let (log, _) = log_of(store, loc, id).await;
        assert_eq!(
            log,
            format!(
                "\u{feff}First Name,Phone,Contact ID,Import Line,Import Status,Error Code,Import Error,How to Fix\r\n\
                 Zoë,12,{contact},2,warning,phone.invalid,Too short.,\"Give the whole number.\n{KEEP_THE_ID}\"\r\n\
                 Zoë,12,,3,warning,phone.invalid,Too short.,Give the whole number.\r\n\
                 ,,,4,error,row.no_identifier,Nothing.,Add one.\r\n"
            ),
            "{:?}",
            db.backend()
        );
        assert!(
            KEEP_THE_ID
                .ends_with("keep the Contact ID and import this file again with Add & Update")
        );
        // The file's own Contact ID column holds it.
        let id = job(
            store,
            loc,
            &["contact_id", "First Name"],
            vec![written(2, "updated", &["", "Zoë"])],
        )
        .await;
        let (log, _) = log_of(store, loc, id).await;
        assert_eq!(
            log.split("\r\n").nth(1).unwrap(),
            format!(
                "{contact},Zoë,2,warning,phone.invalid,Too short.,\"Give the whole number.\n{KEEP_THE_ID}\""
            )
        );
        assert!(
            log.starts_with("\u{feff}contact_id,First Name,Import Line,"),
            "{log}"
        );
    }
}
