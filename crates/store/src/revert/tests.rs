//! Reverting an import, on both backends: imports written through `apply_import_chunk` as the
//! import engine writes them, then reverted, and the location compared with its state before.

use std::collections::BTreeMap;

use domain::LocationSettings;

use crate::testing::{TestDb, each_backend};
use crate::*;

async fn location(db: &TestDb, name: &str) -> LocationId {
    db.store
        .create_location(name, &LocationSettings::default())
        .await
        .unwrap()
        .id
}

/// Field values as the engine writes them: the DND flags always present.
fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut v: BTreeMap<String, String> = ["dnd_sms", "dnd_email", "dnd_calls", "dnd_voicemail"]
        .iter()
        .map(|k| (k.to_string(), "false".to_string()))
        .collect();
    for (k, val) in pairs {
        v.insert(k.to_string(), val.to_string());
    }
    v
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// A contact an import creates, with tags, additional values and a note.
fn created(line: u64, pairs: &[(&str, &str)], extra: &[&str]) -> ContactWrite {
    ContactWrite {
        id: None,
        values: values(pairs),
        before: None,
        new_tags: strings(&["Imported"]),
        new_emails: strings(extra),
        new_phones: Vec::new(),
        notes: vec![format!("note of line {line}")],
        line,
    }
}

/// An update of a stored contact: `changes` set (or, with "", clear) fields; tags, an
/// additional email and phone and a note are added.
fn updated(
    c: &StoredContact,
    line: u64,
    changes: &[(&str, &str)],
    tag: &str,
    email: &str,
    phone: &str,
) -> ContactWrite {
    let mut v = c.values.clone();
    for (k, val) in changes {
        if val.is_empty() {
            v.remove(*k);
        } else {
            v.insert(k.to_string(), val.to_string());
        }
    }
    ContactWrite {
        id: Some(c.id),
        values: v,
        before: Some(c.values.clone()),
        new_tags: strings(&[tag]),
        new_emails: strings(&[email])
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        new_phones: strings(&[phone])
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        notes: vec![format!("note of line {line}")],
        line,
    }
}

/// Runs an import of these chunks to `status`, returning the job and the ids written per chunk.
async fn import(
    s: &Store,
    loc: LocationId,
    chunks: Vec<Vec<ContactWrite>>,
    status: &str,
) -> (i64, Vec<Vec<i64>>) {
    let job = s
        .create_job(
            loc,
            &NewJob {
                operation: domain::job::Operation::Import,
                lease_owner: Some("test".into()),
                object: domain::ObjectKind::Contact,
                name: "test import".into(),
                options: "{}".into(),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (i, contacts) in chunks.into_iter().enumerate() {
        let chunk = ChunkWrite {
            contacts,
            checkpoint_line: (i as u64 + 1) * 100,
            ..ChunkWrite::default()
        };
        ids.push(
            s.apply_import_chunk(
                &crate::Lease {
                    job_id: job,
                    location_id: loc,
                    owner: "test".into(),
                },
                &chunk,
            )
            .await
            .unwrap()
            .0,
        );
    }
    if status != "running" {
        s.finish_job(loc, job, status.parse().unwrap(), None)
            .await
            .unwrap();
    }
    (job, ids)
}

async fn stored(s: &Store, loc: LocationId, id: i64) -> StoredContact {
    s.contacts_for_matching(loc, &[id], &[], &[])
        .await
        .unwrap()
        .remove(0)
}

fn without(dump: &[ContactDump], id: i64) -> Vec<ContactDump> {
    dump.iter()
        .filter(|c| c.contact.id != id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_revert_restores_the_location_except_what_changed_since() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let (_, seeded) = import(
            s,
            loc,
            vec![vec![
                created(
                    2,
                    &[
                        ("first_name", "Ann"),
                        ("email", "ann@example.com"),
                        ("phone", "+12015550101"),
                        ("city", "Austin"),
                        ("treatment", "Botox"),
                    ],
                    &["ann.work@example.com"],
                ),
                created(
                    3,
                    &[("first_name", "Bob"), ("email", "bob@example.com")],
                    &[],
                ),
                created(4, &[("first_name", "Cid"), ("phone", "+12015550103")], &[]),
            ]],
            "completed",
        )
        .await;
        let (ann, bob, cid) = (seeded[0][0], seeded[0][1], seeded[0][2]);
        s.set_contact_flags(
            loc,
            &[ann],
            &ContactFlags {
                email_verification: Some(EmailVerification::Valid),
                ..ContactFlags::default()
            },
        )
        .await
        .unwrap();
        let before = s.contacts_dump(loc).await.unwrap();
        assert_eq!(before.len(), 3);
        assert_eq!(before[0].email_verification, "valid");

        // The import under test: updates over two chunks (Ann twice), a contact it creates in
        // the first chunk and updates in the second, and custom field, DND and clearing changes.
        let a = stored(s, loc, ann).await;
        let b = stored(s, loc, bob).await;
        let c = stored(s, loc, cid).await;
        let (job, ids) = import(
            s,
            loc,
            vec![
                vec![
                    updated(
                        &a,
                        2,
                        &[("city", ""), ("treatment", "Fillers"), ("dnd_sms", "true")],
                        "Spring",
                        "ann.home@example.com",
                        "+12015550191",
                    ),
                    updated(&b, 3, &[("last_name", "Ray")], "VIP", "", ""),
                    created(
                        5,
                        &[("first_name", "Dee"), ("email", "dee@example.com")],
                        &["dee2@example.com"],
                    ),
                ],
                vec![],
            ],
            "running",
        )
        .await;
        let dee = ids[0][2];
        let a2 = stored(s, loc, ann).await;
        let d2 = stored(s, loc, dee).await;
        let chunk2 = ChunkWrite {
            contacts: vec![
                updated(&a2, 102, &[("owner", "")], "Autumn", "", ""),
                updated(&d2, 103, &[("city", "Waco")], "VIP", "", "+12015550199"),
                updated(
                    &c,
                    104,
                    &[("email", "cid@example.com"), ("dnd_calls", "true")],
                    "VIP",
                    "",
                    "",
                ),
            ],
            checkpoint_line: 200,
            ..ChunkWrite::default()
        };
        s.apply_import_chunk(
            &crate::Lease {
                job_id: job,
                location_id: loc,
                owner: "test".into(),
            },
            &chunk2,
        )
        .await
        .unwrap();
        s.finish_job(
            loc,
            job,
            domain::job::JobStatus::Cancelled,
            Some("cancelled by test"),
        )
        .await
        .unwrap();
        assert_eq!(
            stored(s, loc, ann)
                .await
                .values
                .get("treatment")
                .map(String::as_str),
            Some("Fillers")
        );

        // Bob is edited after the import: the revert must leave him as he is now.
        s.set_contact_custom_value(loc, bob, "treatment", Some("Peel".into()))
            .await
            .unwrap();
        let bob_now = s
            .contacts_dump(loc)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.contact.id == bob)
            .unwrap();

        // Another location's revert of this job finds nothing.
        assert!(
            s.revert_import(other, job)
                .await
                .unwrap_err()
                .is_not_found()
        );

        let report = s.revert_import(loc, job).await.unwrap();
        assert_eq!(report.deleted, [dee]);
        assert_eq!(report.restored, [ann, cid]);
        assert_eq!(
            report.conflicts,
            [RevertConflict {
                contact_id: bob,
                line: 3,
                reason: "changed since the import".into()
            }]
        );
        let after = s.contacts_dump(loc).await.unwrap();
        assert_eq!(without(&after, bob), without(&before, bob));
        assert_eq!(
            after.iter().find(|c| c.contact.id == bob),
            Some(&bob_now),
            "the contact changed since is untouched, tags and notes included"
        );
        assert_eq!(
            after[0].email_verification, "valid",
            "verification restored"
        );

        // Once only; the job says so.
        let again = s.revert_import(loc, job).await.unwrap_err();
        assert!(again.is_conflict(), "{again}");
        assert!(again.to_string().contains("already reverted"), "{again}");
        assert!(s.job_reverted_at(loc, job).await.unwrap().is_some());
        let effects = s.job_effects(loc, job).await.unwrap();
        assert_eq!(
            (effects.notes, effects.contacts),
            (1, 1),
            "only Bob keeps the job's note and provenance"
        );
    }
}

#[tokio::test]
async fn only_a_completed_or_cancelled_import_is_reverted() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow").await;
        let one = || vec![vec![created(2, &[("first_name", "Ann")], &[])]];
        let cases: &[(&str, Option<&str>)] = &[
            ("running", Some("job {} is running (cancel it first)")),
            (
                "failed",
                Some("job {} is failed; only a completed or cancelled"),
            ),
            ("completed", None),
            ("cancelled", None),
        ];
        for (status, refused) in cases {
            let (job, _) = import(s, loc, one(), status).await;
            let result = s.revert_import(loc, job).await;
            match refused {
                Some(words) => {
                    let e = result.unwrap_err();
                    let words = words.replace("{}", &job.to_string());
                    assert!(
                        e.is_conflict() && e.to_string().contains(&words),
                        "{status}: {e}"
                    );
                    assert_eq!(s.job_reverted_at(loc, job).await.unwrap(), None);
                }
                None => assert_eq!(result.unwrap().deleted.len(), 1, "{status}"),
            }
        }
        let export = s
            .create_job(
                loc,
                &NewJob {
                    operation: domain::job::Operation::Export,
                    object: domain::ObjectKind::Contact,
                    name: "export".into(),
                    options: "{}".into(),
                    ..NewJob::default()
                },
            )
            .await
            .unwrap();
        s.finish_job(loc, export, domain::job::JobStatus::Completed, None)
            .await
            .unwrap();
        let e = s.revert_import(loc, export).await.unwrap_err();
        assert!(
            e.to_string().contains("only an import can be reverted"),
            "{e}"
        );
        assert!(s.revert_import(loc, 9999).await.unwrap_err().is_not_found());
    }
}

#[tokio::test]
async fn a_primary_value_taken_since_or_moved_by_the_import_is_handled() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow").await;
        let (_, seeded) = import(
            s,
            loc,
            vec![vec![
                created(2, &[("first_name", "Ann"), ("email", "a@example.com")], &[]),
                created(3, &[("first_name", "Bob"), ("email", "b@example.com")], &[]),
                created(4, &[("first_name", "Cid"), ("phone", "+12015550103")], &[]),
            ]],
            "completed",
        )
        .await;
        let (ann, bob, cid) = (seeded[0][0], seeded[0][1], seeded[0][2]);
        let before = s.contacts_dump(loc).await.unwrap();
        // The import moves a@ from Ann to Bob (Ann first, in an earlier chunk), and gives Cid
        // a new phone, whose old one someone else takes afterwards.
        let a = stored(s, loc, ann).await;
        let b = stored(s, loc, bob).await;
        let c = stored(s, loc, cid).await;
        let (job, _) = import(
            s,
            loc,
            vec![
                vec![
                    updated(&a, 2, &[("email", "a2@example.com")], "T", "", ""),
                    updated(&c, 4, &[("phone", "+12015550199")], "T", "", ""),
                ],
                vec![updated(&b, 3, &[("email", "a@example.com")], "T", "", "")],
            ],
            "completed",
        )
        .await;
        let (_, taken) = import(
            s,
            loc,
            vec![vec![created(
                2,
                &[("first_name", "Eve"), ("phone", "+12015550103")],
                &[],
            )]],
            "completed",
        )
        .await;
        let eve = taken[0][0];
        let report = s.revert_import(loc, job).await.unwrap();
        assert_eq!(report.restored, [ann, bob]);
        assert_eq!(
            report.conflicts,
            [RevertConflict {
                contact_id: cid,
                line: 4,
                reason: format!(
                    "its email or phone before the import now belongs to contact {eve}"
                ),
            }]
        );
        let after = s.contacts_dump(loc).await.unwrap();
        assert_eq!(after[..2], before[..2], "Ann and Bob as before");
        assert_eq!(
            after[2].contact.values.get("phone").map(String::as_str),
            Some("+12015550199")
        );
    }
}

#[tokio::test]
async fn enrollments_that_ran_a_step_keep_their_contact() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow").await;
        let w = s
            .create_workflow(
                loc,
                &NewWorkflow {
                    name: "Welcome".into(),
                    trigger: Trigger::Import,
                    status: WorkflowStatus::Active,
                    actions: vec![Action::SendSms("Hi".into())],
                },
            )
            .await
            .unwrap();
        let (_, seeded) = import(
            s,
            loc,
            vec![vec![created(2, &[("first_name", "Ann")], &[])]],
            "completed",
        )
        .await;
        let ann = stored(s, loc, seeded[0][0]).await;
        let job = s
            .create_job(
                loc,
                &NewJob {
                    operation: domain::job::Operation::Import,
                    lease_owner: Some("test".into()),
                    object: domain::ObjectKind::Contact,
                    name: "with workflow".into(),
                    options: "{}".into(),
                    ..NewJob::default()
                },
            )
            .await
            .unwrap();
        let chunk = ChunkWrite {
            contacts: vec![
                updated(&ann, 2, &[("city", "Austin")], "T", "", ""),
                created(3, &[("first_name", "Bob")], &[]),
                created(4, &[("first_name", "Cid")], &[]),
            ],
            enrollments: vec![(w.id, vec![0, 1, 2])],
            checkpoint_line: 4,
            ..ChunkWrite::default()
        };
        let ids = s
            .apply_import_chunk(
                &crate::Lease {
                    job_id: job,
                    location_id: loc,
                    owner: "test".into(),
                },
                &chunk,
            )
            .await
            .unwrap()
            .0;
        s.finish_job(loc, job, domain::job::JobStatus::Completed, None)
            .await
            .unwrap();
        // Cid's welcome has gone out; Ann's and Bob's have not.
        on_pool!(s, p => {
            sqlx::query("UPDATE enrollments SET next_step = 1, status = 'completed' WHERE contact_id = $1")
                .bind(ids[2])
                .execute(p)
                .await
                .unwrap()
                .rows_affected()
        });
        let report = s.revert_import(loc, job).await.unwrap();
        assert_eq!(report.deleted, [ids[1]]);
        assert_eq!(report.restored, [ids[0]]);
        assert_eq!(
            report.conflicts,
            [RevertConflict {
                contact_id: ids[2],
                line: 4,
                reason: "workflow 'Welcome' has already run a step for it".into()
            }]
        );
        let left: Vec<i64> = s
            .enrollments(loc, w.id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.contact_id)
            .collect();
        assert_eq!(left, [ids[2]]);
    }
}

/// On PostgreSQL the journal's email verification is read inside the chunk's transaction with
/// the row locked: a verification committed while the chunk waits for the row is what the
/// journal records, and what a revert restores (a read before the transaction recorded the
/// stale `unverified`, and the revert lost the verification).
#[tokio::test]
async fn the_journal_keeps_the_verification_committed_while_the_chunk_waited() {
    use sqlx::Connection as _;
    let Some(db) = crate::testing::postgres().await else {
        return;
    };
    let s = &db.store;
    let loc = location(&db, "Glow").await;
    let (_, seeded) = import(
        s,
        loc,
        vec![vec![created(
            2,
            &[("first_name", "Ann"), ("email", "ann@example.com")],
            &[],
        )]],
        "completed",
    )
    .await;
    let ann = seeded[0][0];
    let a = stored(s, loc, ann).await;

    // Another session verifies Ann's email and holds its transaction open.
    let mut other = sqlx::PgConnection::connect(db.database_url.as_deref().unwrap())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("UPDATE contacts SET email_verification = 'valid' WHERE id = $1")
        .bind(ann)
        .execute(&mut other)
        .await
        .unwrap();

    let job = s
        .create_job(
            loc,
            &NewJob {
                operation: domain::job::Operation::Import,
                lease_owner: Some("test".into()),
                object: domain::ObjectKind::Contact,
                name: "test import".into(),
                options: "{}".into(),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    let chunk = ChunkWrite {
        contacts: vec![updated(&a, 2, &[("city", "Austin")], "VIP", "", "")],
        checkpoint_line: 100,
        ..ChunkWrite::default()
    };
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            let lease = crate::Lease {
                job_id: job,
                location_id: loc,
                owner: "test".into(),
            };
            s.apply_import_chunk(&lease, &chunk).await.map(|_| ())
        })
    };
    // The chunk reaches Ann's row and waits for the other session.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!writer.is_finished(), "the chunk waits for the row lock");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    writer.await.unwrap().unwrap();

    let journal: Option<String> = sqlx::query_scalar(
        "SELECT email_verification_before FROM journal WHERE job_id = $1 AND entity_id = $2",
    )
    .bind(job)
    .bind(ann)
    .fetch_one(&mut other)
    .await
    .unwrap();
    assert_eq!(journal.as_deref(), Some("valid"));
    s.finish_job(loc, job, domain::job::JobStatus::Completed, None)
        .await
        .unwrap();
    s.revert_import(loc, job).await.unwrap();
    let after = s.contacts_dump(loc).await.unwrap();
    assert_eq!(
        after[0].email_verification, "valid",
        "verification restored"
    );
}
