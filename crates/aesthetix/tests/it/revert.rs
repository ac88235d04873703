//! `aesthetix jobs revert JOB` end to end, on both backends (SPEC §9.4): import over existing
//! contacts, edit one of them afterwards, revert, and the location is as it was before the
//! import except that one contact, which is reported and left as it is.

use std::path::{Path, PathBuf};

use crate::support::{Deployment, each_backend};

fn write(d: &Deployment, name: &str, content: &str) -> PathBuf {
    let path = d.dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Imports `file` into Glow and returns the job id from the report.
fn import(d: &Deployment, file: &Path, extra: &[&str]) -> i64 {
    let report = d.dir.path().join("report.json");
    let mut args = vec![
        "import",
        "contacts",
        file.to_str().unwrap(),
        "--location",
        "Glow",
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    d.ok(&args, "");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["totals"]["errors"], 0, "{r}");
    r["job_id"].as_i64().unwrap()
}

fn without(dump: &[store::ContactDump], id: i64) -> Vec<store::ContactDump> {
    dump.iter()
        .filter(|c| c.contact.id != id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn revert_restores_the_location_except_the_contact_edited_since() {
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
                "text",
            ],
            "",
        );
        let first = write(
            &d,
            "first.csv",
            "First Name,Last Name,Email,Phone,Tags,City,Treatment,Notes\n\
             Ann,Lee,ann@example.com,(201) 555-0101,VIP,Austin,Botox,first visit\n\
             Bob,Ray,bob@example.com,(201) 555-0102,,Dallas,,\n\
             Cid,Poe,cid@example.com,,,Waco,Peel,\n",
        );
        import(&d, &first, &[]);
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap().id;
        let ann = store.contacts_dump(loc).await.unwrap()[0].contact.id;
        store
            .set_contact_flags(
                loc,
                &[ann],
                &store::ContactFlags {
                    email_verification: Some(store::EmailVerification::Valid),
                    ..store::ContactFlags::default()
                },
            )
            .await
            .unwrap();
        let before = store.contacts_dump(loc).await.unwrap();
        store.close().await;

        // Upsert over Ann, Bob and Cid — fields, a custom field, tags, additional values,
        // notes — and create Dee.
        let second = write(
            &d,
            "second.csv",
            "Email,Last Name,City,Treatment,Tags,Additional Emails,Additional Phones,Notes\n\
             ann@example.com,Lee-Smith,,Fillers,Spring,ann.work@example.com,(201) 555-0191,second visit\n\
             bob@example.com,,Houston,Botox,VIP,,,called\n\
             cid@example.com,Poe,Waco,Peel,Spring,,,\n\
             dee@example.com,Doe,Austin,Botox,New,dee2@example.com,,hello\n",
        );
        let job = import(&d, &second, &["--mode", "upsert", "--tag", "Spring 2026"]);

        let store = d.store().await;
        let during = store.contacts_dump(loc).await.unwrap();
        assert_eq!(during.len(), 4);
        assert_eq!(
            during[0].email_verification, "unverified",
            "the import reset it"
        );
        let bob = during[1].contact.id;
        // Bob is edited after the import.
        store
            .add_tags(loc, &[bob], &["Called back".to_string()])
            .await
            .unwrap();
        let bob_now = store.contacts_dump(loc).await.unwrap()[1].clone();
        store.close().await;

        let out = d.ok(&["jobs", "revert", &job.to_string()], "");
        assert!(
            out.contains("Deleted 1 contact(s) it created; restored 2 contact(s) it updated."),
            "{out}"
        );
        assert!(
            out.contains(&format!("line 3: contact {bob} — changed since the import")),
            "{out}"
        );

        let store = d.store().await;
        let after = store.contacts_dump(loc).await.unwrap();
        assert_eq!(without(&after, bob), without(&before, bob));
        assert_eq!(
            after[1], bob_now,
            "the contact edited since is left as it is"
        );
        assert_eq!(after[0].email_verification, "valid");
        assert_eq!(
            after[0].contact.values.get("treatment").map(String::as_str),
            Some("Botox")
        );

        // The Bulk Actions list and the job itself say it was reverted; the JSON keeps the
        // SPEC's status and adds when.
        let list: serde_json::Value =
            serde_json::from_str(&d.ok(&["jobs", "list", "--location", "Glow", "--json"], ""))
                .unwrap();
        let listed = list
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == job)
            .unwrap();
        assert_eq!(listed["status"], "completed");
        assert_eq!(listed["reverted"], true);
        assert!(listed["reverted_at"].as_i64().is_some());
        assert!(
            listed["status_reason"]
                .as_str()
                .unwrap()
                .contains("was then reverted"),
            "{listed}"
        );
        let text = d.ok(&["jobs", "list", "--location", "Glow"], "");
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{job} ")))
            .unwrap();
        assert!(row.contains(" reverted "), "{text}");
        let shown = d.ok(&["jobs", "show", &job.to_string()], "");
        assert!(
            shown.contains("Status: reverted — the import completed and was then reverted"),
            "{shown}"
        );
        assert!(shown.contains("\nReverted: "), "{shown}");

        // Twice is refused; so is a job still running.
        let again = d.run(&["jobs", "revert", &job.to_string()], "");
        assert_eq!(again.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(stderr.contains("already reverted"), "{stderr}");
        let running = store
            .create_job(
                loc,
                &store::NewJob {
                    operation: domain::job::Operation::Import,
                    object: domain::ObjectKind::Contact,
                    name: "still running".into(),
                    options: "{}".into(),
                    lease_owner: Some("another process".into()),
                    ..store::NewJob::default()
                },
            )
            .await
            .unwrap();
        store.close().await;
        let out = d.run(&["jobs", "revert", &running.to_string()], "");
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is running (cancel it first)"), "{stderr}");
        let out = d.run(&["jobs", "revert", "987654"], "");
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("there is no job 987654"));
    }
}
