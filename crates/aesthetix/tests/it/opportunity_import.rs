//! `import opportunities` (SPEC §7, §13.1), on both backends, through the real binary: the
//! confirmation, each line rule with and without `--with-contacts`, the modes of the
//! opportunity part, revert, a crash mid-import resumed, and the export → import round trip.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{Deployment, each_backend};

fn write(d: &Deployment, name: &str, content: &str) -> PathBuf {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Runs an import with a report; (exit status, report, stderr).
fn import(d: &Deployment, args: &[&str]) -> (i32, Value, String) {
    let report = d.dir.path().join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(&[
        "--location",
        "Glow",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ]);
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

/// The location's newest import (exports are jobs too).
async fn newest_import(store: &store::Store, loc: store::LocationId) -> i64 {
    store
        .jobs(loc)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.operation == domain::job::Operation::Import)
        .unwrap()
        .id
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
        .map(|m| {
            m.iter()
                .map(|m| m["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn setup(d: &Deployment) {
    d.ok(&["location", "create", "Glow"], "");
    d.ok(
        &[
            "pipeline",
            "create",
            "--location",
            "Glow",
            "--name",
            "Surgical Journey",
            "--stage",
            "Consult",
            "--stage",
            "Booked",
        ],
        "",
    );
}

/// The location's opportunities as `export opportunities` writes them, without the ids
/// (which differ between two databases that made the same rows).
fn opportunities(d: &Deployment, location: &str) -> String {
    let out = d.dir.path().join(format!("opps-{location}.csv"));
    d.ok(
        &[
            "export",
            "opportunities",
            "--location",
            location,
            "--columns",
            "opportunity_name,pipeline,stage,opportunity_status,opportunity_value,opportunity_source,first_name,last_name,email,phone",
            "--output",
            out.to_str().unwrap(),
        ],
        "",
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut rows: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let header = rows.remove(0).to_string();
    rows.sort_unstable();
    format!("{header}\n{}", rows.join("\n"))
}

const WITH_CONTACTS: &str = "First Name,Email,Deal Name,Pipeline,Pipeline Stage,Amount\n\
    Bea,bea@example.com,Facelift,surgical journey,consult,5000\n\
    Cal,cal@example.com,Botox,Laser,Consult,100\n\
    Dee,dee@example.com,Lift,Surgical Journey,Surgery,1\n\
    ,,Walk-in,Surgical Journey,Booked,\n\
    Ann,ann@example.com,Peel,Surgical Journey,Booked,10\n\
    ,,,Surgical Journey,Booked,\n";

/// SPEC §7 line by line with --with-contacts: the confirmation first (a dry run that counts,
/// exit 1, nothing written), then one result per line — both parts written, the contact
/// written and the opportunity refused (unknown pipeline or stage, naming the valid names), the
/// opportunity written without a contact, the contact skipped in Add New mode, nothing written.
#[tokio::test]
async fn with_contacts_each_line_gets_one_result() {
    for d in each_backend().await {
        setup(&d);
        let ann = write(&d, "ann.csv", "First Name,Email\nAnn,ann@example.com\n");
        d.ok(
            &[
                "import",
                "contacts",
                ann.to_str().unwrap(),
                "--location",
                "Glow",
                "--quiet",
            ],
            "",
        );
        let file = write(&d, "deals.csv", WITH_CONTACTS);
        let f = file.to_str().unwrap();

        let jobs_before = d.ok(&["jobs", "list", "--location", "Glow", "--json"], "");
        let (code, _, stderr) = import(&d, &["import", "opportunities", f, "--with-contacts"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("It would create 3 and update 0 opportunities")
                && stderr.contains("--confirm"),
            "{stderr}"
        );
        assert_eq!(
            d.ok(&["jobs", "list", "--location", "Glow", "--json"], ""),
            jobs_before,
            "nothing written without --confirm"
        );

        let said = d.ok(
            &[
                "import",
                "opportunities",
                f,
                "--with-contacts",
                "--dry-run",
                "--location",
                "Glow",
                "--quiet",
            ],
            "",
        );
        assert!(
            said.contains("Opportunities: 3 would be created, 0 updated"),
            "{said}"
        );
        let (code, r, stderr) = import(
            &d,
            &["import", "opportunities", f, "--with-contacts", "--confirm"],
        );
        assert_eq!(code, 0, "{stderr}");
        let expect: &[(u64, &str, &str, &[&str], bool)] = &[
            (2, "success", "created", &[], true),
            (
                3,
                "warning",
                "created",
                &["opportunity.unknown_pipeline"],
                false,
            ),
            (
                4,
                "warning",
                "created",
                &["opportunity.unknown_stage"],
                false,
            ),
            (5, "warning", "created", &["row.no_identifier"], true),
            (
                6,
                "warning",
                "skipped",
                &["match.existing_not_updated"],
                true,
            ),
            (
                7,
                "error",
                "none",
                &["row.no_identifier", "opportunity.required_missing"],
                false,
            ),
        ];
        for (n, status, action, want, has_opportunity) in expect {
            let l = line(&r, *n);
            assert_eq!(
                (l["status"].as_str(), l["action"].as_str(), codes(l)),
                (
                    Some(*status),
                    Some(*action),
                    want.iter().map(|s| s.to_string()).collect::<Vec<_>>()
                ),
                "line {n}: {l}"
            );
            assert_eq!(
                l["opportunity_id"].is_i64(),
                *has_opportunity,
                "line {n}: {l}"
            );
            assert!(
                l.get("opportunity_id").is_some(),
                "line {n} names it, null or not"
            );
        }
        let pipeline_msg = line(&r, 3)["messages"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            pipeline_msg.contains("“Surgical Journey”"),
            "{pipeline_msg}"
        );
        let stage_msg = line(&r, 4)["messages"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(stage_msg.contains("“Consult”, “Booked”"), "{stage_msg}");
        // The line's record is its contact; line 5 has none.
        assert!(line(&r, 2)["record_id"].is_i64());
        assert!(line(&r, 5)["record_id"].is_null());
        assert_eq!(r["totals"]["created"], 4, "{r}");

        assert_eq!(
            opportunities(&d, "Glow"),
            "Opportunity Name,Pipeline,Stage,Opportunity Status,Opportunity Value,Opportunity Source,First Name,Last Name,Email,Phone\n\
             Facelift,Surgical Journey,Consult,Open,5000,,Bea,,bea@example.com,\n\
             Peel,Surgical Journey,Booked,Open,10,,Ann,,ann@example.com,\n\
             Walk-in,Surgical Journey,Booked,Open,,,,,,"
        );

        // The error log carries each warned line's Contact ID and Opportunity ID.
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap().id;
        let job = newest_import(&store, loc).await;
        let log = d.dir.path().join("errors.csv");
        d.ok(
            &[
                "jobs",
                "errors",
                &job.to_string(),
                "--output",
                log.to_str().unwrap(),
            ],
            "",
        );
        let log = std::fs::read_to_string(&log).unwrap();
        let rows: Vec<&str> = log.split("\r\n").collect();
        assert!(
            rows[0].ends_with("Amount,Contact ID,Opportunity ID,Import Line,Import Status,Error Code,Import Error,How to Fix"),
            "{log}"
        );
        let walk_in = line(&r, 5)["opportunity_id"].as_i64().unwrap();
        assert!(
            rows[3].starts_with(&format!(
                ",,Walk-in,Surgical Journey,Booked,,,{walk_in},5,warning,"
            )),
            "{log}"
        );
        let cal = line(&r, 3)["record_id"].as_i64().unwrap();
        assert!(
            rows[1].contains(&format!(",100,{cal},,3,warning,")),
            "{log}"
        );

        // Revert: the opportunities it created go, and so do the contacts.
        let out = d.ok(&["jobs", "revert", &job.to_string()], "");
        assert!(
            out.contains("Deleted 3 contact(s) it created")
                && out.contains("Opportunities: deleted 3 it created; restored 0 it updated."),
            "{out}"
        );
        assert_eq!(
            opportunities(&d, "Glow"),
            "Opportunity Name,Pipeline,Stage,Opportunity Status,Opportunity Value,Opportunity Source,First Name,Last Name,Email,Phone\n"
        );
        store.close().await;
    }
}

/// Without --with-contacts the contact columns only find the contact (SPEC §6.4): found →
/// linked; found nowhere → created unlinked with `opportunity.contact_not_found`; the line's
/// record is the opportunity. Then the modes of the opportunity part: Opportunity ID updates
/// only what its cells give (upsert, update), is skipped in Add New, an unknown one is an
/// error; no ID in Update mode is skipped. A revert puts the updated opportunity back.
#[tokio::test]
async fn without_contacts_the_contact_columns_only_find() {
    for d in each_backend().await {
        setup(&d);
        let ann = write(&d, "ann.csv", "First Name,Email\nAnn,ann@example.com\n");
        d.ok(
            &[
                "import",
                "contacts",
                ann.to_str().unwrap(),
                "--location",
                "Glow",
                "--quiet",
            ],
            "",
        );
        let file = write(
            &d,
            "deals.csv",
            "Email,Opportunity Name,Pipeline,Stage,Opportunity Source\n\
             ANN@example.com,Facelift,Surgical Journey,Consult,Ads\n\
             zed@example.com,Botox,Surgical Journey,Consult,\n",
        );
        let (code, r, stderr) = import(
            &d,
            &[
                "import",
                "opportunities",
                file.to_str().unwrap(),
                "--confirm",
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(line(&r, 2)["status"], "success", "{r}");
        assert_eq!(line(&r, 2)["record_id"], line(&r, 2)["opportunity_id"]);
        assert_eq!(codes(line(&r, 3)), vec!["opportunity.contact_not_found"]);
        assert_eq!(line(&r, 3)["action"], "created");
        let facelift = line(&r, 2)["opportunity_id"].as_i64().unwrap();
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap().id;
        assert_eq!(
            store.contacts_page(loc, None, 0, 50).await.unwrap().total,
            1,
            "no contact written"
        );

        // --map names the object; a contact field other than the finding ones needs
        // --with-contacts.
        let (code, _, stderr) = import(
            &d,
            &[
                "import",
                "opportunities",
                file.to_str().unwrap(),
                "--confirm",
                "--map",
                "Opportunity Source=contact.source",
            ],
        );
        assert_eq!(code, 1);
        assert!(stderr.contains("--with-contacts"), "{stderr}");

        let updates = write(
            &d,
            "updates.csv",
            &format!(
                "Opportunity ID,Stage,Opportunity Source,Opportunity Name\n\
                 {facelift},booked,,\n\
                 999999,Booked,,\n\
                 ,Booked,,New one\n"
            ),
        );
        let u = updates.to_str().unwrap();
        let (_, r, _) = import(&d, &["import", "opportunities", u, "--confirm"]);
        assert_eq!(codes(line(&r, 2)), vec!["opportunity.existing_not_updated"]);
        assert_eq!(line(&r, 2)["action"], "skipped");
        assert_eq!(codes(line(&r, 3)), vec!["opportunity.unknown_id"]);
        assert_eq!(line(&r, 3)["status"], "error");

        let (code, r, stderr) = import(
            &d,
            &[
                "import",
                "opportunities",
                u,
                "--confirm",
                "--mode",
                "update",
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(line(&r, 2)["action"], "updated", "{r}");
        assert_eq!(
            codes(line(&r, 2)),
            vec!["opportunity.blank_not_cleared"],
            "the name never becomes blank"
        );
        assert_eq!(line(&r, 4)["action"], "skipped");
        assert_eq!(codes(line(&r, 4)), vec!["opportunity.no_existing"]);
        let after_update = opportunities(&d, "Glow");
        assert!(
            after_update.contains("Facelift,Surgical Journey,Booked,Open,,,Ann,,ann@example.com,"),
            "stage moved, source cleared, still Ann's: {after_update}"
        );

        let job = newest_import(&store, loc).await;
        let out = d.ok(&["jobs", "revert", &job.to_string()], "");
        assert!(
            out.contains("Opportunities: deleted 0 it created; restored 1 it updated."),
            "{out}"
        );
        let reverted = opportunities(&d, "Glow");
        assert!(
            reverted.contains("Facelift,Surgical Journey,Consult,Open,,Ads,Ann,,ann@example.com,"),
            "{reverted}"
        );
        store.close().await;
    }
}

/// An import killed between chunks (a fail point aborting the process right after a commit,
/// then before and after later commits) and resumed with `jobs resume` ends as an
/// uninterrupted run does: the same contacts, opportunities and links.
#[tokio::test]
async fn a_killed_opportunities_import_resumes_to_the_uninterrupted_result() {
    for (reference, crashed) in each_backend().await.into_iter().zip(each_backend().await) {
        let mut csv = String::from("First Name,Email,Deal Name,Pipeline,Stage,Amount\n");
        for i in 0..40 {
            csv.push_str(&format!(
                "P{i},p{i}@example.com,Deal {i},Surgical Journey,{},{i}00\n",
                if i % 2 == 0 { "Consult" } else { "Booked" }
            ));
        }
        // Line 42 is line 2's contact again, with a deal of its own (a merge across the
        // interruptions).
        csv.push_str("P0,P0@example.com,Deal again,Surgical Journey,Booked,1\n");
        let mut files = Vec::new();
        for d in [&reference, &crashed] {
            setup(d);
            files.push(write(d, "deals.csv", &csv));
        }
        let args = |f: &PathBuf| {
            vec![
                "import".to_string(),
                "opportunities".into(),
                f.to_str().unwrap().into(),
                "--with-contacts".into(),
                "--confirm".into(),
                "--location".into(),
                "Glow".into(),
                "--quiet".into(),
            ]
        };
        let a = args(&files[0]);
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

        let b = args(&files[1]);
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
            (40, 1, 0),
            "line 42 merges into line 2's contact"
        );
        store.close().await;
        let got = opportunities(&crashed, "Glow");
        assert_eq!(got, opportunities(&reference, "Glow"));
        assert_eq!(got.lines().count(), 42, "41 opportunities and the header");
    }
}

/// `export opportunities` → `import opportunities --with-contacts --confirm` into an empty
/// location (the id columns left out: those ids are the other location's) reproduces the
/// contacts, the opportunities and their links (SPEC §7).
#[tokio::test]
async fn an_export_re_imported_with_contacts_reproduces_the_location() {
    for d in each_backend().await {
        setup(&d);
        d.ok(&["location", "create", "Copy"], "");
        d.ok(
            &[
                "pipeline",
                "create",
                "--location",
                "Copy",
                "--name",
                "Surgical Journey",
                "--stage",
                "Consult",
                "--stage",
                "Booked",
            ],
            "",
        );
        let file = write(
            &d,
            "deals.csv",
            "First Name,Last Name,Email,Phone,Deal Name,Pipeline,Stage,Opportunity Status,Amount,Opportunity Source\n\
             Ann,Lee,ann@example.com,(201) 555-0123,Facelift,Surgical Journey,Consult,Won,5000.50,Ads\n\
             Ann,Lee,ann@example.com,(201) 555-0123,Peel,Surgical Journey,Booked,Open,10,\n\
             Bob,,,+1 201 555 0199,Botox,Surgical Journey,Booked,Lost,,Referral\n",
        );
        let (code, _, stderr) = import(
            &d,
            &[
                "import",
                "opportunities",
                file.to_str().unwrap(),
                "--with-contacts",
                "--confirm",
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        let out = d.dir.path().join("export.csv");
        d.ok(
            &[
                "export",
                "opportunities",
                "--location",
                "Glow",
                "--output",
                out.to_str().unwrap(),
            ],
            "",
        );
        let out_s = out.to_str().unwrap();
        let run = d.run(
            &[
                "import",
                "opportunities",
                out_s,
                "--location",
                "Copy",
                "--with-contacts",
                "--confirm",
                "--quiet",
                "--map",
                "Opportunity ID=",
                "--map",
                "Contact ID=",
            ],
            "",
        );
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let glow = opportunities(&d, "Glow");
        assert_eq!(glow.lines().count(), 4, "{glow}");
        assert_eq!(opportunities(&d, "Copy"), glow);
        let store = d.store().await;
        let count = |name: &'static str| {
            let store = store.clone();
            async move {
                let loc = store.location_by_name(name).await.unwrap().id;
                store.contacts_page(loc, None, 0, 50).await.unwrap().total
            }
        };
        assert_eq!((count("Glow").await, count("Copy").await), (2, 2));
        store.close().await;
    }
}
