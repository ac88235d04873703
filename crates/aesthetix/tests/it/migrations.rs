//! Real exports, end to end on both backends (SPEC §5.3, §6.1, §9.3, §11, §13.1): exporters'
//! presets detected and carrying their settings, day-first dates, workbook serial dates,
//! saved templates, the onboarding migration, `split`, and the error-log loop through the API.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Deployment, each_backend, http, spawn_app, testdata};

fn write(d: &Deployment, name: &str, content: &[u8]) -> PathBuf {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `import contacts FILE --location Glow --report …` plus `extra`: (report, stderr).
fn import(d: &Deployment, file: &Path, extra: &[&str]) -> (Value, String) {
    let report = d.dir.path().join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut args = vec![
        "import",
        "contacts",
        s(file),
        "--location",
        "Glow",
        "--report",
        s(&report),
    ];
    args.extend_from_slice(extra);
    let out = d.run(&args, "");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap(),
        stderr,
    )
}

/// The stored contacts of a location, by first name: (values, tags, additional phones).
async fn contacts(
    d: &Deployment,
    location: &str,
) -> Vec<(
    std::collections::BTreeMap<String, String>,
    Vec<String>,
    Vec<String>,
)> {
    let store = d.store().await;
    let loc = store.location_by_name(location).await.unwrap();
    let mut ids: Vec<i64> = Vec::new();
    loop {
        let page = store
            .contacts_page(loc.id, None, ids.len() as i64, 500)
            .await
            .unwrap();
        ids.extend(page.contacts.iter().map(|c| c.id));
        if page.contacts.is_empty() || ids.len() as i64 >= page.total {
            break;
        }
    }
    let found = store
        .contacts_for_matching(loc.id, &ids, &[], &[])
        .await
        .unwrap();
    store.close().await;
    let mut all: Vec<_> = found
        .into_iter()
        .map(|c| (c.values.into_iter().collect(), c.tags, c.additional_phones))
        .collect();
    all.sort_by(
        |a: &(std::collections::BTreeMap<String, String>, _, _), b| {
            a.0.get("first_name").cmp(&b.0.get("first_name"))
        },
    );
    all
}

fn value<'a>(
    c: &'a (
        std::collections::BTreeMap<String, String>,
        Vec<String>,
        Vec<String>,
    ),
    key: &str,
) -> Option<&'a str> {
    c.0.get(key).map(String::as_str)
}

#[tokio::test]
async fn exporters_files_get_their_preset_and_its_settings() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        // Vagaro: detected, named, mapped as documented, with the reference's settings.
        let vagaro = testdata("presets/vagaro.csv");
        let (r, stderr) = import(&d, &vagaro, &["--skip-unmapped"]);
        assert!(
            stderr.contains("Looks like a Vagaro export (preset vagaro).")
                && stderr.contains("Customer Since → Patient Since (preset Vagaro)")
                && stderr.contains("Gender → not imported (preset Vagaro: no field takes it)"),
            "{stderr}"
        );
        assert_eq!(r["lines"][0]["action"], "created", "{r:#}");
        let all = contacts(&d, "Glow").await;
        let lena = &all[0];
        assert_eq!(value(lena, "contact_type"), Some("Patient"));
        assert_eq!(value(lena, "patient_since"), Some("2021-03-15"));
        assert_eq!(value(lena, "phone"), Some("+14805550135"));
        assert_eq!(lena.1, ["Botox", "VIP", "patient", "send review"]);
        assert_eq!(lena.2, ["+14805550136"]);
        // Its mode is Create & Update: the same file again updates her.
        let (r, _) = import(&d, &vagaro, &["--skip-unmapped", "--quiet"]);
        assert_eq!(r["lines"][0]["action"], "updated", "{r:#}");
        assert_eq!(contacts(&d, "Glow").await.len(), 1);

        // Thunderbird: the mobile column is the primary phone, the birth columns one date.
        let (_, stderr) = import(
            &d,
            &testdata("presets/thunderbird.csv"),
            &["--skip-unmapped", "--quiet"],
        );
        assert!(!stderr.contains("Mapping:"), "--quiet: {stderr}");
        let all = contacts(&d, "Glow").await;
        let liam = all
            .iter()
            .find(|c| value(c, "first_name") == Some("Liam"))
            .unwrap();
        assert_eq!(value(liam, "date_of_birth"), Some("1990-07-15"));
        assert_eq!(value(liam, "phone"), Some("+12125550172"));
        assert_eq!(value(liam, "email"), Some("liam.okafor@example.com"));
        assert_eq!(liam.2, ["+12125550170", "+12125550171"]);

        // Google, old format: its columns, or none of them with --preset none.
        let google = testdata("presets/google-old.csv");
        let out = d.run(
            &[
                "import",
                "contacts",
                s(&google),
                "--location",
                "Glow",
                "--preset",
                "none",
                "--dry-run",
            ],
            "",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("E-mail 1 - Value → not imported (no field has this name)")
                && !stderr.contains("Looks like"),
            "{stderr}"
        );
        let (r, stderr) = import(&d, &google, &["--skip-unmapped", "--preset", "google"]);
        assert!(
            stderr.contains("E-mail 1 - Value → Email (preset Google Contacts)"),
            "{stderr}"
        );
        assert_eq!(r["totals"]["created"], 1);
        let out = d.run(
            &[
                "import",
                "contacts",
                s(&google),
                "--location",
                "Glow",
                "--preset",
                "salesforce",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("vagaro"));
    }
}

/// A workbook of one sheet whose rows are given as cells: a number is written as a number
/// cell with no style (no date format), anything else as an inline string.
fn workbook(rows: &[&[&str]], date_1904: bool) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = SimpleFileOptions::default();
    let mut part = |name: &str, body: &str| {
        z.start_file(name, opts).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    };
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    part(
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        "_rels/.rels",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        ),
    );
    let pr = if date_1904 {
        r#"<workbookPr date1904="1"/>"#
    } else {
        ""
    };
    part(
        "xl/workbook.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC}">{pr}<sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        ),
    );
    part(
        "xl/_rels/workbook.xml.rels",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
        ),
    );
    let mut data = String::new();
    for (r, row) in rows.iter().enumerate() {
        data.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, v) in row.iter().enumerate() {
            let at = format!("{}{}", (b'A' + c as u8) as char, r + 1);
            if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                data.push_str(&format!(r#"<c r="{at}"><v>{v}</v></c>"#));
            } else {
                data.push_str(&format!(
                    r#"<c r="{at}" t="inlineStr"><is><t>{v}</t></is></c>"#
                ));
            }
        }
        data.push_str("</row>");
    }
    part(
        "xl/worksheets/sheet1.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{data}</sheetData></worksheet>"#
        ),
    );
    z.finish().unwrap();
    out.into_inner()
}

#[tokio::test]
async fn dates_are_read_one_order_per_column() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Dublin", "--date-order", "DMY"], "");
        // The issue's file: a day-first Birthday column in a month-first location.
        let file = write(
            &d,
            "dmy.csv",
            b"First Name,Email,Birthday,Next Appointment\n\
              Ann,ann@example.com,09/07/2014,01/02/2025\n\
              Bob,bob@example.com,20/01/1991,03/04/2025\n",
        );
        let (r, stderr) = import(&d, &file, &[]);
        assert_eq!(r["totals"]["warnings"], 0, "{r:#}");
        assert_eq!(
            r["notices"],
            json!([{
                "code": "date.order_from_file",
                "column": "Birthday",
                "field": "date_of_birth",
                "message": "dates in “Birthday” are read day first (DD/MM/YYYY), as its values show (such as 20/01/1991)"
            }])
        );
        assert_eq!(
            stderr.matches("date.order_from_file").count(),
            1,
            "{stderr}"
        );
        let all = contacts(&d, "Glow").await;
        assert_eq!(value(&all[0], "date_of_birth"), Some("2014-07-09"));
        assert_eq!(value(&all[1], "date_of_birth"), Some("1991-01-20"));
        // The other column keeps the location's order.
        assert_eq!(value(&all[0], "next_appointment"), Some("2025-01-02"));

        // --date-order overrides the values: month first, and 20/01/1991 is no date.
        let (r, _) = import(
            &d,
            &file,
            &["--date-order", "MDY", "--mode", "upsert", "--quiet"],
        );
        assert!(r.get("notices").is_none(), "{r:#}");
        assert_eq!(r["lines"][1]["messages"][0]["code"], "date.impossible");
        let all = contacts(&d, "Glow").await;
        assert_eq!(value(&all[0], "date_of_birth"), Some("2014-09-07"));

        // A location created day-first reads 03/04/2001 as 3 April, with nothing to say.
        let report = d.dir.path().join("dublin.json");
        d.ok(
            &[
                "import",
                "contacts",
                s(&file),
                "--location",
                "Dublin",
                "--report",
                s(&report),
                "--quiet",
            ],
            "",
        );
        let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert!(r.get("notices").is_none(), "{r:#}");
        let all = contacts(&d, "Dublin").await;
        assert_eq!(value(&all[0], "date_of_birth"), Some("2014-07-09"));
        assert_eq!(value(&all[1], "next_appointment"), Some("2025-04-03"));

        // In a workbook, a number in a date column is a serial date, without a date format.
        for (name, is_1904, serial) in [
            ("serial.xlsx", false, "29220"),
            ("serial1904.xlsx", true, "27758"),
        ] {
            let book = write(
                &d,
                name,
                &workbook(
                    &[
                        &["First Name", "Email", "Birthday", "Visits"],
                        &["Cy", &format!("cy{is_1904}@example.com"), serial, "12"],
                    ],
                    is_1904,
                ),
            );
            let (r, _) = import(&d, &book, &["--skip-unmapped", "--quiet"]);
            assert_eq!(r["encoding"], "xlsx");
            assert_eq!(r["totals"]["warnings"], 0, "{r:#}");
        }
        let all = contacts(&d, "Glow").await;
        let cys: Vec<_> = all
            .iter()
            .filter(|c| value(c, "first_name") == Some("Cy"))
            .collect();
        assert_eq!(cys.len(), 2);
        for cy in cys {
            assert_eq!(value(cy, "date_of_birth"), Some("1979-12-31"));
        }
    }
}

#[tokio::test]
async fn templates_are_saved_from_a_job_listed_and_applied() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let first = write(
            &d,
            "week1.csv",
            b"Client,E-mail,Visit,Colour\nAnn,ann@example.com,2024-01-05,red\n",
        );
        let (r, _) = import(
            &d,
            &first,
            &[
                "--map",
                "Client=first_name",
                "--map",
                "Visit=created_at",
                "--map",
                "Colour=",
                "--tag",
                "weekly",
                "--mode",
                "upsert",
                "--quiet",
            ],
        );
        let job = r["job_id"].as_i64().unwrap().to_string();
        let out = d.ok(
            &[
                "template",
                "save",
                "--location",
                "Glow",
                "--name",
                "Weekly Spa",
                "--from-job",
                &job,
            ],
            "",
        );
        assert!(out.contains("Saved template 'Weekly Spa'"), "{out}");
        let out = d.ok(
            &[
                "template",
                "save",
                "--location",
                "Glow",
                "--name",
                "Weekly Spa",
                "--from-job",
                &job,
            ],
            "",
        );
        assert!(out.contains("Replaced"), "{out}");
        let listed: Value =
            serde_json::from_str(&d.ok(&["template", "list", "--location", "Glow", "--json"], ""))
                .unwrap();
        let names: Vec<(&str, bool)> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap(), t["builtin"].as_bool().unwrap()))
            .collect();
        assert_eq!(names[0], ("Weekly Spa", false));
        assert!(names.contains(&("Vagaro", true)) && names.contains(&("Google Contacts", true)));
        assert_eq!(names.len(), 14);
        let text = d.ok(&["template", "list", "--location", "Glow"], "");
        assert!(
            text.contains("Nextech (built-in preset; --preset nextech)"),
            "{text}"
        );

        // The next file: its saved columns by header, a new column by name, the template's
        // tag and mode (Create & Update: Ann is updated, not skipped).
        let second = write(
            &d,
            "week2.csv",
            b"Client,E-mail,Phone,Visit,Colour\nAnn,ann@example.com,(201) 555-0123,2024-02-01,blue\n",
        );
        let (r, stderr) = import(&d, &second, &["--template", "Weekly Spa"]);
        for line in [
            "Client → First Name (template Weekly Spa)",
            "Visit → Created Date (template Weekly Spa)",
            "Colour → not imported (left out by the template Weekly Spa)",
            "Phone → Phone (same name)",
        ] {
            assert!(stderr.contains(line), "{line}: {stderr}");
        }
        assert_eq!(r["lines"][0]["action"], "updated", "{r:#}");
        let all = contacts(&d, "Glow").await;
        assert_eq!(all.len(), 1);
        assert_eq!(value(&all[0], "phone"), Some("+12015550123"));
        assert_eq!(all[0].1, ["weekly"]);
        let out = d.run(
            &[
                "import",
                "contacts",
                s(&second),
                "--location",
                "Glow",
                "--template",
                "Nope",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("Weekly Spa"));
    }
}

#[tokio::test]
async fn the_migration_imports_leads_then_patients() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let leads = write(
            &d,
            "leads.csv",
            b"First Name,Email,Phone,Lead Status\n\
              Ann,ann@example.com,,Hot\n\
              Bob,,(201) 555-0101,Cold\n\
              Nobody,,,Warm\n",
        );
        let patients = write(
            &d,
            "patients.csv",
            b"First Name,Email,Last Visit\nAnn,ANN@example.com,2024-01-05\nCy,cy@example.com,2024-02-01\n",
        );
        let report = d.dir.path().join("migration.json");
        let read =
            || -> Value { serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap() };
        let base = [
            "migrate",
            "--location",
            "Glow",
            "--leads",
            s(&leads),
            "--patients",
            s(&patients),
            "--create-fields",
            "--report",
            s(&report),
            "--quiet",
        ];

        // The dry run: both files, the patients file as it would run after the leads file.
        let mut args = base.to_vec();
        args.push("--dry-run");
        let out = d.ok(&args, "");
        assert!(
            out.contains("Would create custom field 'Lead Status'"),
            "{out}"
        );
        let r = read();
        assert_eq!(
            r["created_fields"],
            json!([
                {"column": "Lead Status", "key": "lead_status", "type": "text"},
                {"column": "Last Visit", "key": "last_visit", "type": "date"}
            ])
        );
        assert_eq!(r["leads"]["job_id"], Value::Null);
        assert_eq!(r["leads"]["totals"]["created"], 2);
        assert_eq!(r["leads"]["totals"]["errors"], 1);
        assert_eq!(
            r["leads"]["lines"][2]["messages"][0]["code"], "row.unique_identifier_required",
            "{r:#}"
        );
        let actions: Vec<&str> = r["patients"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["updated", "created"],
            "Ann is the leads file's: {r:#}"
        );
        assert!(
            contacts(&d, "Glow").await.is_empty(),
            "a dry run writes nothing"
        );
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap();
        assert!(store.jobs(loc.id).await.unwrap().is_empty());
        assert!(
            !store
                .custom_fields(loc.id, &domain::ObjectKind::Contact)
                .await
                .unwrap()
                .iter()
                .any(|f| f.key == "lead_status")
        );
        store.close().await;

        // The migration: two Bulk Actions, leads first.
        d.ok(&base, "");
        let r = read();
        let (leads_job, patients_job) = (
            r["leads"]["job_id"].as_i64().unwrap(),
            r["patients"]["job_id"].as_i64().unwrap(),
        );
        assert!(leads_job < patients_job);
        assert_eq!(r["patients"]["lines"][0]["action"], "updated");
        let all = contacts(&d, "Glow").await;
        let kinds: Vec<(Option<&str>, Option<&str>)> = all
            .iter()
            .map(|c| (value(c, "first_name"), value(c, "contact_type")))
            .collect();
        assert_eq!(
            kinds,
            [
                (Some("Ann"), Some("Patient")),
                (Some("Bob"), Some("Lead")),
                (Some("Cy"), Some("Patient"))
            ]
        );
        assert_eq!(value(&all[0], "lead_status"), Some("Hot"));
        assert_eq!(value(&all[0], "last_visit"), Some("2024-01-05"));

        // The leads file again: a Patient never becomes a Lead.
        let again = d.dir.path().join("again.json");
        d.ok(
            &[
                "migrate",
                "--location",
                "Glow",
                "--leads",
                s(&leads),
                "--report",
                s(&again),
                "--quiet",
            ],
            "",
        );
        let r: Value = serde_json::from_slice(&std::fs::read(&again).unwrap()).unwrap();
        assert_eq!(r["patients"], Value::Null);
        assert_eq!(r["created_fields"], json!([]));
        assert_eq!(
            r["leads"]["lines"][0]["messages"][0]["code"], "contact_type.no_downgrade",
            "{r:#}"
        );
        assert_eq!(contacts(&d, "Glow").await.len(), 3);
        assert_eq!(
            value(&contacts(&d, "Glow").await[0], "contact_type"),
            Some("Patient")
        );

        let out = d.run(&["migrate", "--location", "Glow"], "");
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--leads FILE"));
    }
}

#[tokio::test]
async fn split_makes_parts_under_the_limit_that_import_whole() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let mut csv = String::from("First Name,Email,Notes\r\n");
        for i in 0..3_000 {
            csv.push_str(&format!(
                "P{i},p{i}@example.com,\"=SUM({i}), a note\nover two lines\"\r\n"
            ));
        }
        let file = write(&d, "all contacts.csv", csv.as_bytes());
        let parts_dir = d.dir.path().join("parts");
        let out = d.ok(
            &[
                "split",
                s(&file),
                "--max-mb",
                "0.05",
                "--output-dir",
                s(&parts_dir),
            ],
            "",
        );
        assert!(out.contains("into 4 parts (3000 rows)"), "{out}");
        let mut rows = 0;
        for n in 1..=4 {
            let part = parts_dir.join(format!("all contacts-part-{n}.csv"));
            let bytes = std::fs::read(&part).unwrap();
            assert!(bytes.len() <= 50_000, "{}", bytes.len());
            assert!(bytes.starts_with("\u{feff}First Name,Email,Notes\r\n".as_bytes()));
            assert!(
                out.contains(&format!("all contacts-part-{n}.csv: ")),
                "{out}"
            );
            let (r, _) = import(&d, &part, &["--quiet"]);
            assert_eq!(r["totals"]["errors"], 0);
            rows += r["totals"]["created"].as_i64().unwrap();
        }
        assert_eq!(rows, 3_000);
        let all = contacts(&d, "Glow").await;
        assert_eq!(all.len(), 3_000);
        assert!(all.iter().any(|c| value(c, "note").is_none()));
        // Splitting again into the same place does not overwrite the parts.
        let out = d.run(
            &[
                "split",
                s(&file),
                "--max-mb",
                "0.05",
                "--output-dir",
                s(&parts_dir),
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
        // A workbook sheet splits too; one part when it fits.
        let out = d.ok(
            &[
                "split",
                s(&testdata("csvkit-examples/test.xlsx")),
                "--output-dir",
                s(&d.dir.path().join("xlsx")),
            ],
            "",
        );
        assert!(out.contains("into 1 parts"), "{out}");

        // A file over 30 MB is refused naming `split` with the user's own file.
        let big = d.dir.path().join("big export.csv");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(30_000_001)
            .unwrap();
        let out = d.run(&["import", "contacts", s(&big), "--location", "Glow"], "");
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("aesthetix split '{}'", big.display())),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn an_error_log_fixed_and_imported_again_through_the_api_makes_no_duplicate() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let key = d
            .ok(&["apikey", "create", "--location", "Glow"], "")
            .trim()
            .to_string();
        let file = write(
            &d,
            "messy.csv",
            b"First Name,Email,Phone,Status\nAnn,ann@example.com,12,Subscribed\nBob,not-an-email,,Subscribed\n",
        );
        let (r, _) = import(&d, &file, &["--quiet"]);
        let job = r["job_id"].as_i64().unwrap().to_string();
        let log = d.dir.path().join("log.csv");
        d.ok(&["jobs", "errors", &job, "--output", s(&log)], "");
        let text = std::fs::read_to_string(&log).unwrap();
        // Both warned lines made their contacts: each carries its Contact ID; the log has the
        // header and one record per problem line.
        let ann = r["lines"][0]["record_id"].as_i64().unwrap();
        let bob = r["lines"][1]["record_id"].as_i64().unwrap();
        assert_eq!(
            text.matches(",warning,").count() + text.matches(",error,").count(),
            2,
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "Ann,ann@example.com,12,Subscribed,{ann},2,warning"
            )) && text.contains(&format!("Bob,not-an-email,,Subscribed,{bob},3,warning")),
            "{text}"
        );
        let fixed = text
            .replace("ann@example.com,12,", "ann@example.com,(201) 555-0123,")
            .replace("not-an-email", "bob@example.com");

        let app = spawn_app(&d);
        let client = http();
        let auth = format!("Bearer {key}");
        let draft: Value = client
            .post(format!(
                "{}/api/v1/imports/drafts?file_name=log.csv",
                app.base
            ))
            .header("Authorization", &auth)
            .header("Content-Type", "text/csv")
            .body(fixed)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The log's five columns are neither mapped nor unmatched; Contact ID maps by name.
        assert_eq!(draft["unmatched"], json!([]), "{draft:#}");
        let skipped: Vec<&str> = draft["columns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["skipped"] == true)
            .map(|c| c["header"].as_str().unwrap())
            .collect();
        assert_eq!(
            skipped,
            [
                "Import Line",
                "Import Status",
                "Error Code",
                "Import Error",
                "How to Fix"
            ]
        );
        let id = draft["id"].as_i64().unwrap();
        let columns: Vec<Value> = draft["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["chosen"].clone())
            .collect();
        assert_eq!(columns[4], json!("contact_id"));
        let put = client
            .put(format!("{}/api/v1/imports/drafts/{id}/mapping", app.base))
            .header("Authorization", &auth)
            .json(&json!({"columns": columns}))
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success(), "{}", put.text().await.unwrap());
        let details = client
            .put(format!("{}/api/v1/imports/drafts/{id}/details", app.base))
            .header("Authorization", &auth)
            .json(&json!({"mode": "upsert"}))
            .send()
            .await
            .unwrap();
        assert!(
            details.status().is_success(),
            "{}",
            details.text().await.unwrap()
        );
        let submitted: Value = client
            .post(format!("{}/api/v1/imports/drafts/{id}/submit", app.base))
            .header("Authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let job = submitted["job_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{submitted:#}"));
        let store = d.store().await;
        let done = crate::support::wait_for_job(&store, job, 60, "the re-import", |j| {
            j.status == "completed"
        })
        .await;
        assert_eq!(done.status, "completed");
        assert_eq!(
            (done.totals.updated, done.totals.created),
            (2, 0),
            "{done:?}"
        );
        store.close().await;
        let all = contacts(&d, "Glow").await;
        assert_eq!(all.len(), 2, "no duplicate of Ann");
        assert_eq!(value(&all[0], "phone"), Some("+12015550123"));
        assert_eq!(value(&all[1], "email"), Some("bob@example.com"));
    }
}

#[tokio::test]
async fn the_api_runs_a_migration_over_uploaded_drafts() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let key = d
            .ok(&["apikey", "create", "--location", "Glow"], "")
            .trim()
            .to_string();
        let app = spawn_app(&d);
        let client = http();
        let auth = format!("Bearer {key}");
        let upload = |name: &'static str, body: &'static str| {
            let client = client.clone();
            let url = format!("{}/api/v1/imports/drafts?file_name={name}", app.base);
            let auth = auth.clone();
            async move {
                let v: Value = client
                    .post(url)
                    .header("Authorization", auth)
                    .header("Content-Type", "text/csv")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v["id"].as_i64().unwrap_or_else(|| panic!("{v:#}"))
            }
        };
        let leads = upload(
            "leads.csv",
            "First Name,Email,Interest\nAnn,ann@example.com,Botox\nBob,bob@example.com,Filler\n",
        )
        .await;
        let patients = upload(
            "patients.csv",
            "First Name,Email\nAnn,ann@example.com\nCy,cy@example.com\n",
        )
        .await;
        let migrate = |body: Value| {
            let client = client.clone();
            let url = format!("{}/api/v1/migrations", app.base);
            let auth = auth.clone();
            async move {
                let resp = client
                    .post(url)
                    .header("Authorization", auth)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.unwrap())
            }
        };
        let (status, v) = migrate(json!({
            "leads_draft": leads, "patients_draft": patients, "create_fields": true, "dry_run": true
        }))
        .await;
        assert_eq!(status, 200, "{v:#}");
        assert_eq!(v["leads"]["totals"]["created"], 2, "{v:#}");
        assert_eq!(v["patients"]["totals"]["updated"], 1, "{v:#}");
        assert_eq!(v["patients"]["totals"]["created"], 1, "{v:#}");
        assert_eq!(
            v["created_fields"],
            json!([{"column": "Interest", "key": "interest", "type": "text"}])
        );
        let (status, v) = migrate(json!({"dry_run": true})).await;
        assert_eq!(status, 422, "{v:#}");
        assert_eq!(v["error"]["code"], "migration.no_files");

        let (status, v) = migrate(json!({
            "leads_draft": leads, "patients_draft": patients, "create_fields": true
        }))
        .await;
        assert_eq!(status, 202, "{v:#}");
        let leads_job = v["leads_job"].as_i64().unwrap();
        assert_eq!(v["patients_waits_for"], leads_job);
        let store = d.store().await;
        crate::support::wait_for_job(&store, leads_job, 60, "the leads file", |j| {
            j.status == "completed"
        })
        .await;
        // The worker submits the patients file once the leads file completed.
        let patients_job = crate::support::wait_for_new_job(&store, Some(leads_job), 60).await;
        let done =
            crate::support::wait_for_job(&store, patients_job, 60, "the patients file", |j| {
                j.status == "completed"
            })
            .await;
        assert_eq!(
            (done.totals.updated, done.totals.created),
            (1, 1),
            "{done:?}"
        );
        store.close().await;
        let all = contacts(&d, "Glow").await;
        let kinds: Vec<(Option<&str>, Option<&str>, Option<&str>)> = all
            .iter()
            .map(|c| {
                (
                    value(c, "first_name"),
                    value(c, "contact_type"),
                    value(c, "interest"),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (Some("Ann"), Some("Patient"), Some("Botox")),
                (Some("Bob"), Some("Lead"), Some("Filler")),
                (Some("Cy"), Some("Patient"), None)
            ]
        );
    }
}
