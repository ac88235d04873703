//! Companies and custom objects end to end (SPEC §8, §13.1), on both backends: `object
//! create` / `object list`, `field create --unique --required` and their refusals, `import
//! companies` and `import records --object KEY` through the one import engine (modes, Record
//! ID, the dedupe field, unique conflicts, required fields refusing the mapping, blanks, in-file
//! merges, dry run, revert), and two imports at once never leaving two records with one unique
//! value.

use std::path::PathBuf;

use domain::ObjectKind;
use serde_json::Value;

use crate::support::{Deployment, each_backend};

fn write(d: &Deployment, name: &str, content: &str) -> PathBuf {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn field(
    d: &Deployment,
    object: &str,
    label: &str,
    t: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "field",
        "create",
        "--location",
        "Glow",
        "--object",
        object,
        "--label",
        label,
        "--type",
        t,
    ];
    args.extend_from_slice(extra);
    d.run(&args, "")
}

/// Runs an import command with a report; returns (exit code, report or Null, stderr).
fn import(d: &Deployment, args: &[&str]) -> (i32, Value, String) {
    let report = d.dir.path().join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(&["--location", "Glow", "--report", report.to_str().unwrap()]);
    let out = d.run(&all, "");
    let r = std::fs::read(&report)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        r,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn line(r: &Value, n: u64) -> &Value {
    r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["line"] == n)
        .unwrap_or_else(|| panic!("no line {n} in {r}"))
}

fn codes(l: &Value) -> Vec<String> {
    l["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_string())
        .collect()
}

/// Every record of an object as (id, values) by id.
async fn records(d: &Deployment, object: &ObjectKind) -> Vec<(i64, Vec<(String, String)>)> {
    let store = d.store().await;
    let loc = store.location_by_name("Glow").await.unwrap().id;
    let out = store
        .records_page(loc, object, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.values.into_iter().collect()))
        .collect();
    store.close().await;
    out
}

fn v(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn objects_and_fields_are_defined_with_spec_8s_rules() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let made = d.ok(
            &[
                "object",
                "create",
                "--location",
                "Glow",
                "--name",
                "Treatments",
                "--primary",
                "Treatment Name",
            ],
            "",
        );
        assert!(
            made.contains("treatments") && made.contains("treatment_name"),
            "{made}"
        );
        d.ok(
            &[
                "object",
                "create",
                "--location",
                "Glow",
                "--name",
                "Rooms",
                "--primary",
                "Room",
                "--key",
                "room",
            ],
            "",
        );
        // A key twice, a bad key, a standard object's name: exit 1 with the reason.
        for (args, says) in [
            (
                vec!["--name", "Treatments", "--primary", "X"],
                "already exists",
            ),
            (
                vec!["--name", "T", "--primary", "X", "--key", "Bad Key"],
                "lower-case",
            ),
            (
                vec!["--name", "Company", "--primary", "X"],
                "standard object",
            ),
            (vec!["--name", "T", "--primary", "Record ID"], "Record ID"),
        ] {
            let mut all = vec!["object", "create", "--location", "Glow"];
            all.extend(args);
            let out = d.run(&all, "");
            assert_eq!(out.status.code(), Some(1), "{all:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(says), "{all:?}: {err}");
        }

        assert!(
            field(&d, "treatments", "Price", "monetary", &["--required"])
                .status
                .success()
        );
        assert!(
            field(&d, "treatments", "SKU", "text", &["--unique"])
                .status
                .success()
        );
        assert!(
            field(&d, "company", "NPI", "number", &["--unique"])
                .status
                .success()
        );
        // (object, label, type, flags, what the refusal says)
        let refused: [(&str, &str, &str, &[&str], &str); 6] = [
            (
                "treatments",
                "Notes",
                "large_text",
                &["--unique"],
                "cannot be unique",
            ),
            (
                "company",
                "Since",
                "date",
                &["--unique"],
                "cannot be unique",
            ),
            (
                "contact",
                "Code",
                "text",
                &["--unique"],
                "companies and custom objects",
            ),
            ("company", "Tier", "text", &["--required"], "custom object"),
            (
                "opportunity",
                "Tier",
                "text",
                &["--required"],
                "custom object",
            ),
            ("company", "Website", "text", &[], "standard company field"),
        ];
        for (object, label, t, flags, says) in refused {
            let out = field(&d, object, label, t, flags);
            assert_eq!(out.status.code(), Some(1), "{object} {label}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(says), "{object} {label}: {err}");
        }
        let out = field(&d, "nope", "X", "text", &[]);
        assert_eq!(out.status.code(), Some(1));

        let list: Value =
            serde_json::from_str(&d.ok(&["object", "list", "--location", "Glow", "--json"], ""))
                .unwrap();
        assert_eq!(list[0]["key"], "treatments");
        assert_eq!(list[0]["name"], "Treatments");
        assert_eq!(list[0]["primary"]["label"], "Treatment Name");
        assert_eq!(list[0]["primary"]["key"], "treatment_name");
        let fields: Vec<(String, bool, bool)> = list[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["key"].as_str().unwrap().to_string(),
                    f["required"].as_bool().unwrap(),
                    f["unique"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            fields,
            [("price".into(), true, false), ("sku".into(), false, true)]
        );
        assert_eq!(list[1]["key"], "room");
        let plain = d.ok(&["object", "list", "--location", "Glow"], "");
        assert!(
            plain.contains("Treatments") && plain.contains("SKU"),
            "{plain}"
        );
    }
}

#[tokio::test]
async fn companies_import_by_modes_dedupe_and_unique_fields() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        assert!(
            field(&d, "company", "NPI", "text", &["--unique"])
                .status
                .success()
        );
        assert!(
            field(&d, "company", "Billing Email", "email", &["--unique"])
                .status
                .success()
        );
        assert!(field(&d, "company", "Tier", "text", &[]).status.success());
        let first = write(
            &d,
            "companies.csv",
            "Company Name,Phone,NPI,Billing Email,Tier,Description\n\
             Glow Spa,(201) 555-0123,N1,a@glow.com,Gold,First\n\
             Lux Clinic,,N2,b@lux.com,Silver,\n\
             ,,N3,c@x.com,,\n\
             Glow Spa Again,,n1,,Platinum,\n",
        );
        let (code, r, err) = import(&d, &["import", "companies", first.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(r["totals"]["created"], 2, "{r}");
        assert_eq!(r["totals"]["errors"], 1, "{r}");
        assert_eq!(r["totals"]["updated"], 1, "{r}");
        assert_eq!(line(&r, 2)["action"], "created");
        assert_eq!(line(&r, 2)["primary"], "Glow Spa");
        assert_eq!(line(&r, 2)["record_id"], 1);
        assert_eq!(codes(line(&r, 4)), ["record.primary_missing"]);
        // In-file merge, in create mode, naming the earlier line.
        let merged = line(&r, 5);
        assert_eq!(
            (merged["status"].as_str(), merged["action"].as_str()),
            (Some("warning"), Some("updated"))
        );
        assert_eq!(codes(merged), ["record.merged_earlier_line"]);
        assert!(
            merged["messages"][0]["message"]
                .as_str()
                .unwrap()
                .contains("line 2")
        );
        let job = r["job_id"].as_i64().unwrap();
        let got = records(&d, &ObjectKind::Company).await;
        assert_eq!(
            got,
            [
                // The merged line's blanks cleared Phone, Billing Email and Description (no
                // --no-update-empty); a blank never clears Company Name.
                (
                    1,
                    v(&[
                        ("company_name", "Glow Spa Again"),
                        ("npi", "n1"),
                        ("tier", "Platinum"),
                    ])
                ),
                (
                    2,
                    v(&[
                        ("company_name", "Lux Clinic"),
                        ("npi", "N2"),
                        ("billing_email", "b@lux.com"),
                        ("tier", "Silver"),
                    ])
                ),
            ]
        );
        // Bulk Actions names the object.
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap().id;
        let j = store.job(loc, job).await.unwrap();
        assert_eq!(j.object, ObjectKind::Company);
        assert!(j.name.starts_with("Companies import"), "{}", j.name);
        store.close().await;

        // Upsert, deduped on Billing Email: the row matching record 2 by email but holding
        // record 1's NPI fails alone; blanks clear Tier but never Company Name.
        let second = write(
            &d,
            "second.csv",
            "Company Name,NPI,Billing Email,Tier\n\
             Lux Renamed,N1,B@LUX.com,\n\
             ,N2,b@lux.com,\n\
             New Co,N4,d@new.com,Bronze\n",
        );
        let (code, r, err) = import(
            &d,
            &[
                "import",
                "companies",
                second.to_str().unwrap(),
                "--mode",
                "upsert",
                "--dedupe",
                "billing_email",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let conflict = line(&r, 2);
        assert_eq!(conflict["status"], "error");
        assert_eq!(codes(conflict), ["record.unique_conflict"]);
        let m = &conflict["messages"][0];
        assert_eq!(m["field"], "npi");
        assert!(m["message"].as_str().unwrap().contains("record 1"), "{m}");
        let blank = line(&r, 3);
        assert_eq!(blank["action"], "updated");
        assert_eq!(codes(blank), ["record.blank_not_cleared"]);
        assert_eq!(line(&r, 4)["action"], "created");
        let got = records(&d, &ObjectKind::Company).await;
        assert_eq!(
            got[1].1,
            v(&[
                ("company_name", "Lux Clinic"),
                ("npi", "N2"),
                ("billing_email", "b@lux.com")
            ])
        );
        assert_eq!(got[2].0, 3);

        // Update mode: Record ID decides; an unknown one fails that row; no match is skipped.
        // (The primary field is mapped in every mode, SPEC §8's mapping screen.)
        let third = write(
            &d,
            "third.csv",
            "Record ID,Company Name,Tier,NPI\n3,New Co,Gold,\n99,X,Gold,\n,Y,Gold,N9\n",
        );
        let (code, r, err) = import(
            &d,
            &[
                "import",
                "companies",
                third.to_str().unwrap(),
                "--mode",
                "update",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(line(&r, 2)["action"], "updated");
        assert_eq!(codes(line(&r, 3)), ["record.unknown_id"]);
        assert_eq!(codes(line(&r, 4)), ["record.no_existing"]);

        // Create mode over an existing record: skipped with a warning.
        let again = write(&d, "again.csv", "Company Name,NPI\nWhoever,n2\n");
        let (_, r, _) = import(&d, &["import", "companies", again.to_str().unwrap()]);
        assert_eq!(codes(line(&r, 2)), ["record.existing_not_updated"]);
        assert_eq!(line(&r, 2)["record_id"], 2);

        // A file that cannot run: exit 1 naming the reason, nothing written.
        let before = records(&d, &ObjectKind::Company).await;
        let no_name = write(&d, "noname.csv", "NPI,Tier\nN7,Gold\n");
        let (code, _, err) = import(&d, &["import", "companies", no_name.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert!(err.contains("Company Name"), "{err}");
        let (code, _, err) = import(
            &d,
            &[
                "import",
                "companies",
                again.to_str().unwrap(),
                "--dedupe",
                "tier",
            ],
        );
        assert_eq!(code, 1);
        assert!(err.contains("not a unique field"), "{err}");
        let update_unmatched = write(&d, "upd.csv", "Company Name,Tier\nX,Gold\n");
        let (code, _, err) = import(
            &d,
            &[
                "import",
                "companies",
                update_unmatched.to_str().unwrap(),
                "--mode",
                "update",
            ],
        );
        assert_eq!(code, 1);
        assert!(err.contains("Record ID or NPI or Billing Email"), "{err}");
        assert_eq!(records(&d, &ObjectKind::Company).await, before);

        // A dry run reports what a real run would do and writes nothing.
        let dry = write(
            &d,
            "dry.csv",
            "Company Name,NPI\nDry One,N10\nDry Two,n10\n",
        );
        let (code, r, _) = import(
            &d,
            &["import", "companies", dry.to_str().unwrap(), "--dry-run"],
        );
        assert_eq!(code, 0);
        assert_eq!(r["job_id"], Value::Null);
        assert_eq!(r["totals"]["created"], 1);
        assert_eq!(line(&r, 3)["action"], "updated");
        assert_eq!(records(&d, &ObjectKind::Company).await, before);
    }
}

#[tokio::test]
async fn custom_object_records_need_their_required_fields_and_revert() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(
            &[
                "object",
                "create",
                "--location",
                "Glow",
                "--name",
                "Treatments",
                "--primary",
                "Treatment Name",
            ],
            "",
        );
        assert!(
            field(&d, "treatments", "Price", "monetary", &["--required"])
                .status
                .success()
        );
        assert!(
            field(&d, "treatments", "SKU", "text", &["--unique"])
                .status
                .success()
        );
        let kind = ObjectKind::Custom("treatments".into());

        // Required fields unmapped: the import refuses, naming each by its label.
        let no_price = write(&d, "noprice.csv", "SKU\nS1\n");
        let (code, _, err) = import(
            &d,
            &[
                "import",
                "records",
                no_price.to_str().unwrap(),
                "--object",
                "treatments",
            ],
        );
        assert_eq!(code, 1);
        assert!(
            err.contains("Price") && err.contains("Treatment Name"),
            "{err}"
        );
        let (code, _, err) = import(
            &d,
            &[
                "import",
                "records",
                no_price.to_str().unwrap(),
                "--object",
                "nope",
            ],
        );
        assert_eq!(code, 1);
        assert!(err.contains("treatments"), "{err}");

        let first = write(
            &d,
            "treatments.csv",
            "Treatment Name,Price,SKU\nBotox,$12.50,S1\nFiller,,S2\n",
        );
        let (code, r, err) = import(
            &d,
            &[
                "import",
                "records",
                first.to_str().unwrap(),
                "--object",
                "treatments",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(line(&r, 2)["action"], "created");
        assert_eq!(codes(line(&r, 3)), ["record.required_missing"]);
        let after_first = records(&d, &kind).await;
        assert_eq!(
            after_first,
            [(
                1,
                v(&[
                    ("treatment_name", "Botox"),
                    ("price", "12.50"),
                    ("sku", "S1")
                ])
            )]
        );

        // An upsert that updates Botox and creates Peel, then its revert: as before it.
        let second = write(
            &d,
            "second.csv",
            "Treatment Name,Price,SKU\nBotox Cosmetic,14,s1\nPeel,30,S3\n",
        );
        let (code, r, err) = import(
            &d,
            &[
                "import",
                "records",
                second.to_str().unwrap(),
                "--object",
                "treatments",
                "--mode",
                "upsert",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(r["totals"]["updated"], 1);
        assert_eq!(r["totals"]["created"], 1);
        let job = r["job_id"].as_i64().unwrap().to_string();
        d.ok(&["jobs", "revert", &job], "");
        assert_eq!(records(&d, &kind).await, after_first);
        // The unique values went back with it: S3 is free, S1 still Botox's.
        let third = write(
            &d,
            "third.csv",
            "Treatment Name,Price,SKU\nPeel,30,S3\nX,1,S1\n",
        );
        let (_, r, _) = import(
            &d,
            &[
                "import",
                "records",
                third.to_str().unwrap(),
                "--object",
                "treatments",
            ],
        );
        assert_eq!(line(&r, 2)["action"], "created");
        assert_eq!(line(&r, 2)["record_id"], 3, "ids are never reused");
        assert_eq!(codes(line(&r, 3)), ["record.existing_not_updated"]);
    }
}

/// Two imports of one object into one location at the same time, each file giving the same
/// unique values to new records: however they interleave, no two records share a value.
#[tokio::test]
async fn two_imports_at_once_never_leave_two_records_with_one_unique_value() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        assert!(
            field(&d, "company", "NPI", "text", &["--unique"])
                .status
                .success()
        );
        let mut a = String::from("Company Name,NPI\n");
        let mut b = String::from("Company Name,NPI\n");
        for i in 0..600 {
            a.push_str(&format!("A{i},N{i}\n"));
            b.push_str(&format!("B{i},n{}\n", 599 - i));
        }
        let fa = write(&d, "a.csv", &a);
        let fb = write(&d, "b.csv", &b);
        let spawn = |f: &PathBuf| {
            d.command(&[
                "import",
                "companies",
                f.to_str().unwrap(),
                "--location",
                "Glow",
                "--mode",
                "upsert",
                "--quiet",
            ])
            .env("AESTHETIX_CHUNK_ROWS", "50")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        };
        let (ca, cb) = (spawn(&fa), spawn(&fb));
        let (oa, ob) = (
            ca.wait_with_output().unwrap(),
            cb.wait_with_output().unwrap(),
        );
        assert!(
            oa.status.success(),
            "{}",
            String::from_utf8_lossy(&oa.stderr)
        );
        assert!(
            ob.status.success(),
            "{}",
            String::from_utf8_lossy(&ob.stderr)
        );
        let got = records(&d, &ObjectKind::Company).await;
        assert_eq!(got.len(), 600, "one record per NPI");
        let mut npis: Vec<String> = got
            .iter()
            .map(|(_, vals)| {
                vals.iter()
                    .find(|(k, _)| k == "npi")
                    .unwrap()
                    .1
                    .to_lowercase()
            })
            .collect();
        npis.sort();
        npis.dedup();
        assert_eq!(npis.len(), 600);
    }
}

/// A companies import killed before and after a chunk's commit, then resumed, ends with what
/// an uninterrupted run gives: every line once, and a later line merging into the record an
/// earlier chunk (of an earlier process) created, naming its line.
#[tokio::test]
async fn a_killed_companies_import_resumes_to_the_uninterrupted_result() {
    for (reference, crashed) in each_backend().await.into_iter().zip(each_backend().await) {
        let mut csv = String::from("Company Name,NPI,Tier\n");
        for i in 0..40 {
            csv.push_str(&format!("Co {i},N{i},T{i}\n"));
        }
        // Line 42 is line 2's company again (a merge across the interruptions).
        csv.push_str("Co 0 Again,n0,Gold\n");
        let mut runs = Vec::new();
        for d in [&reference, &crashed] {
            d.ok(&["location", "create", "Glow"], "");
            assert!(
                field(d, "company", "NPI", "text", &["--unique"])
                    .status
                    .success()
            );
            assert!(field(d, "company", "Tier", "text", &[]).status.success());
            runs.push(write(d, "companies.csv", &csv));
        }
        let args = |f: &PathBuf| {
            vec![
                "import".to_string(),
                "companies".into(),
                f.to_str().unwrap().into(),
                "--location".into(),
                "Glow".into(),
                "--quiet".into(),
            ]
        };
        let a: Vec<String> = args(&runs[0]);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = reference
            .command(&a)
            .env("AESTHETIX_CHUNK_ROWS", "10")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let b: Vec<String> = args(&runs[1]);
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let status = crashed
            .command(&b)
            .env("AESTHETIX_CHUNK_ROWS", "10")
            .env("AESTHETIX_FAILPOINT", "chunk_after_commit:1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), None, "the fail point aborts the process");
        let store = crashed.store().await;
        let loc = store.location_by_name("Glow").await.unwrap().id;
        let job = store.jobs(loc).await.unwrap()[0].id;
        for point in ["chunk_before_commit:2", "chunk_after_commit:2"] {
            let status = crashed
                .command(&["jobs", "resume", &job.to_string()])
                .env("AESTHETIX_CHUNK_ROWS", "10")
                .env("AESTHETIX_FAILPOINT", point)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert_eq!(status.code(), None, "{point}");
        }
        let out = crashed
            .command(&["jobs", "resume", &job.to_string()])
            .env("AESTHETIX_CHUNK_ROWS", "10")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j = store.job(loc, job).await.unwrap();
        assert_eq!(j.status, domain::job::JobStatus::Completed);
        assert_eq!(
            (j.totals.created, j.totals.updated, j.totals.errors),
            (40, 1, 0)
        );
        let warned = store
            .job_lines_page(loc, job, store::LineTab::Warning, None, 10)
            .await
            .unwrap();
        assert_eq!(warned.len(), 1);
        assert_eq!(warned[0].line, 42);
        assert_eq!(warned[0].record_id, Some(1));
        assert_eq!(warned[0].messages[0].code, "record.merged_earlier_line");
        assert!(warned[0].messages[0].message.contains("line 2"));
        store.close().await;
        assert_eq!(
            records(&crashed, &ObjectKind::Company).await,
            records(&reference, &ObjectKind::Company).await
        );
    }
}

/// `export companies` / `export records --object KEY` write §10's format with §8's default
/// columns, and an export re-imported into an empty location gives the same records (its
/// Record ID column left out: those ids are the other location's).
#[tokio::test]
async fn an_export_re_imported_into_an_empty_location_gives_the_same_records() {
    for d in each_backend().await {
        for loc in ["Glow", "Copy"] {
            d.ok(&["location", "create", loc], "");
            for (object, label, t, flags) in [
                ("company", "NPI", "text", &["--unique"][..]),
                ("company", "Tier", "text", &[][..]),
            ] {
                let mut args = vec![
                    "field",
                    "create",
                    "--location",
                    loc,
                    "--object",
                    object,
                    "--label",
                    label,
                    "--type",
                    t,
                ];
                args.extend_from_slice(flags);
                d.ok(&args, "");
            }
        }
        let file = write(
            &d,
            "companies.csv",
            "Company Name,Email,Phone,Country,City,Description,NPI,Tier\n\
             Glow Spa,info@glow.com,(201) 555-0123,US,Hoboken,\"Two floors; \"\"VIP\"\" lounge\",N1,Gold\n\
             =Lux,,,,,,N2,\n",
        );
        let (code, r, err) = import(&d, &["import", "companies", file.to_str().unwrap()]);
        assert_eq!(
            (code, r["totals"]["created"].as_i64()),
            (0, Some(2)),
            "{err}"
        );
        let out = d.dir.path().join("export.csv");
        d.ok(
            &[
                "export",
                "companies",
                "--location",
                "Glow",
                "--output",
                out.to_str().unwrap(),
            ],
            "",
        );
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let header = text.split("\r\n").next().unwrap();
        assert_eq!(
            header,
            "Record ID,Company Name,Email,Phone,Website,Address,City,State,Postal Code,Country,Description,NPI,Tier"
        );
        assert!(text.contains("'=Lux"), "neutralised: {text}");
        d.ok(
            &[
                "import",
                "companies",
                out.to_str().unwrap(),
                "--location",
                "Copy",
                "--map",
                "Record ID=",
            ],
            "",
        );
        let store = d.store().await;
        let glow = store.location_by_name("Glow").await.unwrap().id;
        let copy = store.location_by_name("Copy").await.unwrap().id;
        let values = |page: Vec<store::StoredRecord>| -> Vec<_> {
            page.into_iter().map(|r| (r.id, r.values)).collect()
        };
        let a = values(
            store
                .records_page(glow, &ObjectKind::Company, 0, 100)
                .await
                .unwrap(),
        );
        let b = values(
            store
                .records_page(copy, &ObjectKind::Company, 0, 100)
                .await
                .unwrap(),
        );
        assert_eq!(a.len(), 2);
        assert_eq!(a, b);
        store.close().await;

        // A custom object's default columns: Record ID, its primary field, its custom fields.
        d.ok(
            &[
                "object",
                "create",
                "--location",
                "Glow",
                "--name",
                "Treatments",
                "--primary",
                "Treatment Name",
            ],
            "",
        );
        d.ok(
            &[
                "field",
                "create",
                "--location",
                "Glow",
                "--object",
                "treatments",
                "--label",
                "Price",
                "--type",
                "monetary",
                "--required",
            ],
            "",
        );
        let t = write(&d, "t.csv", "Treatment Name,Price\nBotox,12.5\n");
        let (code, _, err) = import(
            &d,
            &[
                "import",
                "records",
                t.to_str().unwrap(),
                "--object",
                "treatments",
            ],
        );
        assert_eq!(code, 0, "{err}");
        d.ok(
            &[
                "export",
                "records",
                "--object",
                "treatments",
                "--location",
                "Glow",
                "--output",
                out.to_str().unwrap(),
            ],
            "",
        );
        let text = String::from_utf8(std::fs::read(&out).unwrap()[3..].to_vec()).unwrap();
        assert_eq!(text, "Record ID,Treatment Name,Price\r\n1,Botox,12.5\r\n");
    }
}
