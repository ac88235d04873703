//! `aesthetix import contacts` end to end, on both backends: what a migration operator runs,
//! and what the database and the report say afterwards (SPEC §4–§6, §13.1).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Deployment, each_backend, testdata};

fn write(d: &Deployment, name: &str, content: &[u8]) -> PathBuf {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn import(d: &Deployment, file: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import",
        "contacts",
        file.to_str().unwrap(),
        "--location",
        "Glow",
    ];
    args.extend_from_slice(extra);
    d.run(&args, "")
}

fn codes(line: &Value) -> Vec<String> {
    line["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_string())
        .collect()
}

async fn sql_count(d: &Deployment, table: &str) -> i64 {
    let store = d.store().await;
    let loc = store.location_by_name("Glow").await.unwrap();
    let n = match table {
        "contacts" => store.contacts_page(loc.id, None, 0, 1).await.unwrap().total,
        "jobs" => store.jobs(loc.id).await.unwrap().len() as i64,
        _ => unreachable!(),
    };
    store.close().await;
    n
}

#[tokio::test]
async fn the_reference_sample_imports_with_warnings_not_errors() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let sample = testdata("reference/sample-contacts.csv");
        let out_path = d.dir.path().join("report.json");
        // Its Status column holds New and Active, no options of ours: it is not auto-mapped
        // (SPEC §6.1), so the import needs "don't import unmatched columns", and says why.
        let out = import(&d, &sample, &["--report", out_path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "Status → not imported (its values (New, Active) are not options of Status)"
            ) && stderr.contains("'Status'"),
            "{stderr}"
        );
        let out = import(
            &d,
            &sample,
            &["--report", out_path.to_str().unwrap(), "--skip-unmapped"],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = report(&out_path);
        assert_eq!(r["status"], "completed");
        assert_eq!(r["encoding"], "UTF-8");
        assert_eq!(
            r["totals"],
            serde_json::json!({"rows": 2, "created": 2, "updated": 0, "skipped": 0, "errors": 0, "warnings": 2, "blank": 0})
        );
        let lines = r["lines"].as_array().unwrap();
        assert_eq!(lines[0]["line"], 2);
        assert_eq!(lines[0]["primary"], "Jane Doe");
        assert_eq!(lines[0]["action"], "created");
        assert!(lines[0]["record_id"].as_i64().unwrap() > 0);
        // Its phones are invalid there too: a warning, the rest imported.
        assert_eq!(codes(&lines[0]), ["phone.invalid_for_region"]);
        let job = r["job_id"].as_i64().unwrap();
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap();
        let j = store.job(loc.id, job).await.unwrap();
        assert_eq!(
            (
                j.status.as_str(),
                j.totals.created,
                j.totals.warnings,
                j.file_name.as_deref()
            ),
            ("completed", 2, 2, Some("sample-contacts.csv"))
        );
        let found = store
            .contacts_for_matching(loc.id, &[lines[0]["record_id"].as_i64().unwrap()], &[], &[])
            .await
            .unwrap();
        let jane = &found[0];
        assert_eq!(
            jane.values.get("company_name").map(String::as_str),
            Some("Glow Med Spa")
        );
        assert_eq!(
            jane.values.get("created_at").map(String::as_str),
            Some("2024-01-01")
        );
        assert_eq!(jane.values.get("phone"), None);
        assert_eq!(jane.tags, ["VIP", "Lead"]);
        store.close().await;
    }
}

#[tokio::test]
async fn refused_files_and_mappings_exit_1_and_write_nothing() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let unmatched = write(
            &d,
            "unmatched.csv",
            b"First Name,Email,Favourite Colour\nAnn,ann@example.com,blue\n",
        );
        let unclosed = write(
            &d,
            "unclosed.csv",
            b"First Name,Note\nAnn,ok\nBob,\"never closed\nCid,x\n",
        );
        let nothing = write(&d, "nothing.csv", b"Colour,Size\nblue,M\n");
        let header_only = write(&d, "header.csv", b"First Name,Email\n");
        let cases: &[(&PathBuf, &[&str], &str)] = &[
            (&unmatched, &[], "'Favourite Colour'"),
            (&unclosed, &[], "row 3"),
            (
                &nothing,
                &["--skip-unmapped"],
                "no column of the file matches a field",
            ),
            (&header_only, &[], "no rows"),
            (&unmatched, &["--sheet", "Sheet1"], "workbook"),
            (
                &unmatched,
                &["--map", "Favourite Colour=favourite"],
                "no field with the key 'favourite'",
            ),
            (
                &unmatched,
                &["--map", "First Name=email", "--map", "Email=email"],
                "mapped by two columns",
            ),
        ];
        for (file, extra, expected) in cases {
            let out = import(&d, file, extra);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{} {extra:?}: {stderr}",
                file.display()
            );
            assert!(
                stderr.to_lowercase().contains(&expected.to_lowercase()),
                "{} {extra:?} should say {expected:?}: {stderr}",
                file.display()
            );
        }
        let out = d.run(
            &[
                "import",
                "contacts",
                unmatched.to_str().unwrap(),
                "--location",
                "Nowhere",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(sql_count(&d, "contacts").await, 0);
        assert_eq!(
            sql_count(&d, "jobs").await,
            0,
            "a refused file leaves no half-created job"
        );
        // Unmapping the extra column lets the same file through.
        let out = import(&d, &unmatched, &["--map", "Favourite Colour="]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(sql_count(&d, "contacts").await, 1);
    }
}

#[tokio::test]
async fn upsert_updates_merges_and_keeps_what_the_spec_protects() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(
            &[
                "field",
                "create",
                "--location",
                "Glow",
                "--object",
                "contact",
                "--label",
                "Treatment",
                "--type",
                "single_option",
                "--option",
                "Consultation",
                "--option",
                "Botox",
            ],
            "",
        );
        let first = write(
            &d,
            "first.csv",
            b"First Name,Last Name,Email,Phone,Tags,Type,Status,Lead Source,City,Notes\n\
              Ann,Lee,ann@example.com,(201) 555-0123,VIP,Patient,Subscribed,Facebook,Austin,first visit\n\
              Bob,Ray,bob@example.com,201.555.0199,,Lead,Subscribed,Google,Dallas,\n",
        );
        d.ok(
            &[
                "import",
                "contacts",
                first.to_str().unwrap(),
                "--location",
                "Glow",
            ],
            "",
        );
        let second = write(
            &d,
            "second.csv",
            "Email,Phone,Tags,Type,Status,Lead Source,City,Treatment,Notes\n\
             ANN@example.com,,botox; vip,Lead,,Instagram,,Consultation,second visit\n\
             bob@example.com,+12015550123,,,,,Houston,botox consult,\n\
             cid@example.com,,,,,,,,\n\
             ann@example.com,,,,,,,,third line\n"
                .as_bytes(),
        );
        let out_path = d.dir.path().join("second.json");
        let out = d.run(
            &[
                "import",
                "contacts",
                second.to_str().unwrap(),
                "--location",
                "Glow",
                "--mode",
                "upsert",
                "--fill-only",
                "Lead Source",
                "--map-value",
                "treatment:Botox Consult=Botox",
                "--tag",
                "Spring 2026",
                "--report",
                out_path.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = report(&out_path);
        let lines = r["lines"].as_array().unwrap();
        let summary: Vec<(i64, &str, &str, Vec<String>)> = lines
            .iter()
            .map(|l| {
                (
                    l["line"].as_i64().unwrap(),
                    l["status"].as_str().unwrap(),
                    l["action"].as_str().unwrap(),
                    codes(l),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    2,
                    "warning",
                    "updated",
                    vec!["contact_type.no_downgrade".to_string()]
                ),
                (
                    3,
                    "warning",
                    "updated",
                    vec!["match.phone_belongs_to_other".to_string()]
                ),
                (4, "success", "created", vec![]),
                (
                    5,
                    "warning",
                    "updated",
                    vec!["match.merged_earlier_line".to_string()]
                ),
            ]
        );
        assert_eq!(
            r["totals"],
            serde_json::json!({"rows": 4, "created": 1, "updated": 3, "skipped": 0, "errors": 0, "warnings": 3, "blank": 0})
        );

        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap();
        let found = store
            .contacts_for_matching(
                loc.id,
                &[],
                &["ann@example.com".into(), "bob@example.com".into()],
                &[],
            )
            .await
            .unwrap();
        let (ann, bob) = (&found[0], &found[1]);
        let v = |c: &store::StoredContact, k: &str| c.values.get(k).cloned();
        // Blanks clear ordinary fields, but never the primary phone, Status or Type; a Lead
        // never downgrades a Patient; fill-only keeps the original source.
        assert_eq!(v(ann, "phone").as_deref(), Some("+12015550123"));
        assert_eq!(v(ann, "city"), None);
        assert_eq!(v(ann, "status").as_deref(), Some("Subscribed"));
        assert_eq!(v(ann, "contact_type").as_deref(), Some("Patient"));
        assert_eq!(v(ann, "source").as_deref(), Some("Facebook"));
        assert_eq!(
            v(ann, "treatment"),
            None,
            "line 5's blank Treatment cleared line 2's value"
        );
        assert_eq!(
            v(bob, "treatment").as_deref(),
            Some("Botox"),
            "--map-value maps the file value to the option"
        );
        assert_eq!(
            ann.tags,
            ["VIP", "botox", "Spring 2026"],
            "tags only added, matched ignoring case"
        );
        // Bob keeps his own phone: +12015550123 is Ann's.
        assert_eq!(v(bob, "phone").as_deref(), Some("+12015550199"));
        assert_eq!(v(bob, "city").as_deref(), Some("Houston"));
        store.close().await;

        // Notes are added, one per line; every update reset email verification; the journal
        // and provenance recorded each change.
        let job = r["job_id"].as_i64().unwrap();
        let effects = crate::support::job_effects(&d, job).await;
        assert_eq!(
            (
                effects.notes,
                effects.journal,
                effects.contacts,
                effects.lines
            ),
            (2, 3, 3, 4),
            "two notes for Ann; one journal row and one provenance row per contact written; one line result per row"
        );
    }
}

/// Line results without record ids (a dry run has none), in line order.
fn lines_without_ids(report: &Value) -> Vec<Value> {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l.as_object_mut().unwrap().remove("record_id");
            l
        })
        .collect()
}

#[tokio::test]
async fn a_dry_run_in_many_chunks_decides_every_line_as_the_real_run_does() {
    // The messy file in 60 chunks: its in-file duplicates merge into contacts of much earlier
    // chunks, which a dry run finds only among what it carried (on disk) from those chunks.
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let file = crate::support::messy_file(&d);
        let mut reports = Vec::new();
        for dry in [true, false] {
            let path = d.dir.path().join(format!("report-{dry}.json"));
            let mut args = crate::support::import_args(&file);
            args.extend(["--report", path.to_str().unwrap()]);
            if dry {
                args.push("--dry-run");
            }
            let out = d
                .command(&args)
                .env("AESTHETIX_CHUNK_ROWS", "50")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            reports.push(report(&path));
        }
        let (dry, real) = (&reports[0], &reports[1]);
        assert_eq!(dry["totals"], real["totals"]);
        assert!(
            real["totals"]["updated"].as_i64().unwrap() > 100,
            "{}",
            real["totals"]
        );
        assert_eq!(lines_without_ids(dry), lines_without_ids(real));
    }
}

#[tokio::test]
async fn a_dry_run_reports_what_a_real_run_does_and_writes_nothing() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        // Over two chunks, with an in-file duplicate across them, a blank row and an error row.
        let mut csv = String::from("First Name,Email,Phone\n");
        for i in 0..1500 {
            csv.push_str(&format!("P{i},p{i}@example.com,\n"));
        }
        csv.push_str(",,\n");
        csv.push_str(",,not a phone\n");
        csv.push_str("Again,P7@EXAMPLE.com,2015550123\n");
        let file = write(&d, "big.csv", csv.as_bytes());
        let dry_path = d.dir.path().join("dry.json");
        let real_path = d.dir.path().join("real.json");
        d.ok(
            &[
                "import",
                "contacts",
                file.to_str().unwrap(),
                "--location",
                "Glow",
                "--dry-run",
                "--report",
                dry_path.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(sql_count(&d, "contacts").await, 0);
        assert_eq!(sql_count(&d, "jobs").await, 0);
        d.ok(
            &[
                "import",
                "contacts",
                file.to_str().unwrap(),
                "--location",
                "Glow",
                "--report",
                real_path.to_str().unwrap(),
            ],
            "",
        );
        let (dry, real) = (report(&dry_path), report(&real_path));
        assert_eq!(dry["totals"], real["totals"]);
        assert_eq!(
            real["totals"],
            serde_json::json!({"rows": 1503, "created": 1500, "updated": 1, "skipped": 0, "errors": 1, "warnings": 1, "blank": 1})
        );
        assert_eq!(dry["job_id"], Value::Null);
        assert_eq!(dry["status"], "completed");
        assert_eq!(
            lines_without_ids(&dry),
            lines_without_ids(&real),
            "same line results, record ids aside"
        );
        let last = real["lines"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (last["line"].as_i64(), last["action"].as_str()),
            (Some(1504), Some("updated"))
        );
        assert!(
            last["messages"][0]["message"]
                .as_str()
                .unwrap()
                .contains("line 9"),
            "{last}"
        );
        let err = &real["lines"].as_array().unwrap()[1500];
        assert_eq!(
            (
                err["line"].as_i64(),
                err["status"].as_str(),
                err["record_id"].is_null()
            ),
            (Some(1503), Some("error"), true)
        );
        assert_eq!(codes(err), ["phone.letters", "row.no_identifier"]);
        assert_eq!(sql_count(&d, "contacts").await, 1500);
    }
}

#[tokio::test]
async fn jobs_list_and_show_describe_the_import() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let file = write(
            &d,
            "a.csv",
            b"First Name,Email\nAnn,ann@example.com\n,\nBob,bad@\n",
        );
        d.ok(
            &[
                "import",
                "contacts",
                file.to_str().unwrap(),
                "--location",
                "Glow",
            ],
            "",
        );
        let list: Value =
            serde_json::from_str(&d.ok(&["jobs", "list", "--location", "Glow", "--json"], ""))
                .unwrap();
        let job = &list[0];
        assert_eq!(
            (
                job["operation"].as_str(),
                job["object"].as_str(),
                job["status"].as_str(),
                job["file_name"].as_str()
            ),
            (
                Some("import"),
                Some("contact"),
                Some("completed"),
                Some("a.csv")
            )
        );
        assert_eq!(
            (job["processed"].as_i64(), job["total"].as_i64()),
            (Some(2), Some(2))
        );
        assert_eq!(
            job["totals"],
            serde_json::json!({"rows": 3, "created": 2, "updated": 0, "skipped": 0, "errors": 0, "warnings": 1, "blank": 1})
        );
        let id = job["id"].as_i64().unwrap().to_string();
        let shown = d.ok(&["jobs", "show", &id], "");
        assert!(
            shown.contains("Status: completed") && shown.contains("2 created"),
            "{shown}"
        );
        let missing = d.run(&["jobs", "show", "4242"], "");
        assert_eq!(missing.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no job 4242"));
    }
}

#[tokio::test]
async fn workbooks_import_their_one_chosen_sheet_with_dates_read_as_dates() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let map = [
            "--map",
            "text=first_name",
            "--map",
            "date=date_of_birth",
            "--skip-unmapped",
        ];
        let out_path = d.dir.path().join("xlsx.json");
        let mut args = vec!["--report", out_path.to_str().unwrap()];
        args.extend(map);
        let out = import(&d, &testdata("csvkit-examples/test.xlsx"), &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = report(&out_path);
        assert_eq!(r["encoding"], "xlsx");
        let first = &r["lines"][0];
        assert_eq!(
            (first["line"].as_i64(), first["primary"].as_str()),
            (Some(2), Some("Chicago Reader"))
        );
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap();
        let c = store
            .contacts_for_matching(loc.id, &[first["record_id"].as_i64().unwrap()], &[], &[])
            .await
            .unwrap();
        assert_eq!(
            c[0].values.get("date_of_birth").map(String::as_str),
            Some("1971-01-01"),
            "an Excel serial date is a date"
        );
        store.close().await;

        // Several sheets: refused naming them, until one is chosen.
        let sheets = testdata("csvkit-examples/sheets.xlsx");
        let refused = import(&d, &sheets, &map);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("data"), "{stderr}");
        let mut chosen = vec!["--sheet", "data"];
        chosen.extend(map);
        let out = import(&d, &sheets, &chosen);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn two_imports_at_once_never_duplicate_a_contact() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        // The same 2,000 people in both files, in opposite orders, so the two imports race for
        // the same emails and phones chunk after chunk.
        let rows: Vec<String> = (0..2000)
            .map(|i| format!("P{i},p{i}@example.com,(201) 555-{:04}", i % 10_000))
            .collect();
        let forward = write(
            &d,
            "a.csv",
            format!("First Name,Email,Phone\n{}\n", rows.join("\n")).as_bytes(),
        );
        let mut reversed = rows.clone();
        reversed.reverse();
        let backward = write(
            &d,
            "b.csv",
            format!("First Name,Email,Phone\n{}\n", reversed.join("\n")).as_bytes(),
        );
        let spawn = |file: &PathBuf| {
            d.command(&[
                "import",
                "contacts",
                file.to_str().unwrap(),
                "--location",
                "Glow",
                "--mode",
                "upsert",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        };
        let (a, b) = (spawn(&forward), spawn(&backward));
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(
            sql_count(&d, "contacts").await,
            2000,
            "every person once, whoever wrote first"
        );
        let list: Value =
            serde_json::from_str(&d.ok(&["jobs", "list", "--location", "Glow", "--json"], ""))
                .unwrap();
        for job in list.as_array().unwrap() {
            assert_eq!(job["status"], "completed");
            assert_eq!(job["totals"]["errors"], 0);
            let t = &job["totals"];
            assert_eq!(
                t["created"].as_i64().unwrap() + t["updated"].as_i64().unwrap(),
                2000
            );
        }
    }
}
