//! Workflows: the trigger and action syntax as tables of cases, and definitions and
//! enrollments on both backends.

use domain::LocationSettings;

use super::*;
use crate::NewContact;
use crate::testing::{TestDb, each_backend};

async fn location(db: &TestDb, name: &str) -> crate::Location {
    db.store
        .create_location(name, &LocationSettings::default())
        .await
        .unwrap()
}

fn workflow(name: &str, trigger: &str, status: WorkflowStatus, actions: &[&str]) -> NewWorkflow {
    NewWorkflow {
        name: name.into(),
        trigger: parse_trigger(trigger).unwrap(),
        status,
        actions: actions.iter().map(|a| parse_action(a).unwrap()).collect(),
    }
}

#[tokio::test]
async fn workflows_are_defined_per_location_and_found_by_tag_case_insensitively() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let welcome = s
            .create_workflow(
                loc.id,
                &workflow(
                    "VIP welcome",
                    "tag-added:VIP",
                    WorkflowStatus::Active,
                    &["send-sms:Welcome, VIP!", "add-tag:Welcomed"],
                ),
            )
            .await
            .unwrap();
        s.create_workflow(
            loc.id,
            &workflow(
                "Paused VIP",
                "tag-added:vip",
                WorkflowStatus::Paused,
                &["add-tag:x"],
            ),
        )
        .await
        .unwrap();
        s.create_workflow(
            loc.id,
            &workflow(
                "Draft VIP",
                "tag-added:Vip",
                WorkflowStatus::Draft,
                &["add-tag:x"],
            ),
        )
        .await
        .unwrap();
        let botox = s
            .create_workflow(
                loc.id,
                &workflow(
                    "Botox",
                    "tag-added:botox",
                    WorkflowStatus::Active,
                    &["move-opportunity:Botox/Booked:next_appointment"],
                ),
            )
            .await
            .unwrap();
        s.create_workflow(
            other.id,
            &workflow(
                "Theirs",
                "tag-added:VIP",
                WorkflowStatus::Active,
                &["add-tag:x"],
            ),
        )
        .await
        .unwrap();

        assert_eq!(
            s.workflow_by_name(loc.id, "VIP welcome").await.unwrap(),
            welcome
        );
        assert!(
            s.workflow_by_name(loc.id, "Theirs")
                .await
                .unwrap_err()
                .is_not_found()
        );
        let dup = s
            .create_workflow(
                loc.id,
                &workflow(
                    "VIP welcome",
                    "import",
                    WorkflowStatus::Draft,
                    &["add-tag:x"],
                ),
            )
            .await
            .unwrap_err();
        assert!(dup.is_conflict(), "{dup}");
        let bad_field = s
            .create_workflow(
                loc.id,
                &workflow(
                    "Bad",
                    "import",
                    WorkflowStatus::Active,
                    &["move-opportunity:P/S:treatment_of_interest"],
                ),
            )
            .await
            .unwrap_err();
        assert!(bad_field.is_not_found(), "{bad_field}");
        assert!(
            bad_field.to_string().contains("next_appointment"),
            "{bad_field}"
        );

        let names = |ws: Vec<Workflow>| ws.into_iter().map(|w| w.name).collect::<Vec<_>>();
        assert_eq!(
            names(
                s.active_workflows_for_tags(loc.id, &["vip".into()])
                    .await
                    .unwrap()
            ),
            ["VIP welcome"],
            "only active ones, matched case-insensitively ({:?})",
            db.backend()
        );
        assert_eq!(
            names(
                s.active_workflows_for_tags(loc.id, &["BOTOX".into(), "VIP".into(), "none".into()])
                    .await
                    .unwrap()
            ),
            ["VIP welcome", "Botox"]
        );
        assert!(
            s.active_workflows_for_tags(loc.id, &["Filler".into()])
                .await
                .unwrap()
                .is_empty()
        );

        s.set_workflow_status(loc.id, botox.id, WorkflowStatus::Paused)
            .await
            .unwrap();
        assert_eq!(
            names(
                s.active_workflows_for_tags(loc.id, &["botox".into()])
                    .await
                    .unwrap()
            ),
            Vec::<String>::new()
        );
        assert!(
            s.set_workflow_status(other.id, botox.id, WorkflowStatus::Active)
                .await
                .unwrap_err()
                .is_not_found(),
            "another location's workflow is not found"
        );
        let listed: Vec<(String, String, String, i64)> = s
            .workflows(loc.id)
            .await
            .unwrap()
            .into_iter()
            .map(|w| {
                (
                    w.workflow.name,
                    w.workflow.trigger.to_string(),
                    w.workflow.status.to_string(),
                    w.enrolled,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("VIP welcome", "tag-added:VIP", "active", 0),
                ("Paused VIP", "tag-added:vip", "paused", 0),
                ("Draft VIP", "tag-added:Vip", "draft", 0),
                ("Botox", "tag-added:botox", "paused", 0),
            ]
            .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d))
        );
    }
}

#[tokio::test]
async fn a_contact_is_enrolled_once_per_workflow_and_only_in_its_location() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let ids = s
            .insert_contacts(loc.id, &vec![NewContact::default(); 5])
            .await
            .unwrap();
        let theirs = s
            .insert_contacts(other.id, &[NewContact::default()])
            .await
            .unwrap();
        let w = s
            .create_workflow(
                loc.id,
                &workflow("W", "tag-added:VIP", WorkflowStatus::Active, &["add-tag:x"]),
            )
            .await
            .unwrap();
        let their_w = s
            .create_workflow(
                other.id,
                &workflow("W", "tag-added:VIP", WorkflowStatus::Active, &["add-tag:x"]),
            )
            .await
            .unwrap();

        assert_eq!(s.enroll(loc.id, w.id, &ids[..3], Some(7)).await.unwrap(), 3);
        // Again, overlapping: only the new ones count.
        assert_eq!(s.enroll(loc.id, w.id, &ids, None).await.unwrap(), 2);
        assert_eq!(s.enroll(loc.id, w.id, &ids, None).await.unwrap(), 0);
        // Another location's contact or workflow enrolls nobody.
        assert_eq!(s.enroll(loc.id, w.id, &theirs, None).await.unwrap(), 0);
        assert_eq!(s.enroll(loc.id, their_w.id, &ids, None).await.unwrap(), 0);
        assert_eq!(s.enroll(other.id, w.id, &theirs, None).await.unwrap(), 0);

        let enrolled = s.enrollments(loc.id, w.id).await.unwrap();
        assert_eq!(
            enrolled
                .iter()
                .map(|e| (e.contact_id, e.job_id, e.next_step, e.status.as_str()))
                .collect::<Vec<_>>(),
            [
                (ids[0], Some(7), 0, "active"),
                (ids[1], Some(7), 0, "active"),
                (ids[2], Some(7), 0, "active"),
                (ids[3], None, 0, "active"),
                (ids[4], None, 0, "active"),
            ]
        );
        assert!(
            s.enrollments(other.id, their_w.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.enrolled_contacts(loc.id, w.id, &[ids[4], theirs[0], ids[0], 999_999])
                .await
                .unwrap(),
            [ids[0], ids[4]]
        );
        assert_eq!(s.workflows(loc.id).await.unwrap()[0].enrolled, 5);

        // A workflow an import triggers enrolls a contact once per import (SPEC §11's regular
        // reconciliation), and none is "already enrolled" for the next import's count.
        let by_import = s
            .create_workflow(
                loc.id,
                &workflow(
                    "Reconcile",
                    "import",
                    WorkflowStatus::Active,
                    &["add-tag:x"],
                ),
            )
            .await
            .unwrap();
        assert_eq!(
            s.enroll(loc.id, by_import.id, &ids[..2], Some(7))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            s.enroll(loc.id, by_import.id, &ids[..2], Some(7))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            s.enroll(loc.id, by_import.id, &ids[..3], Some(8))
                .await
                .unwrap(),
            3
        );
        assert_eq!(s.enrollments(loc.id, by_import.id).await.unwrap().len(), 5);
        assert!(
            s.enrolled_contacts(loc.id, by_import.id, &ids)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn enrolling_inside_a_callers_transaction_commits_or_rolls_back_with_it() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db, "Glow").await;
        let ids = s
            .insert_contacts(loc.id, &vec![NewContact::default(); 4])
            .await
            .unwrap();
        let w = s
            .create_workflow(
                loc.id,
                &workflow(
                    "W",
                    "contact-created",
                    WorkflowStatus::Active,
                    &["add-tag:x"],
                ),
            )
            .await
            .unwrap();
        // As the import engine does: its chunk's writes and the enrollments in one
        // transaction. First one that fails (rolled back), then one that commits.
        for commit in [false, true] {
            let added = match &s.db {
                crate::Db::Sqlite(p) => {
                    let mut tx = p.begin().await.unwrap();
                    let n = enroll_in_sqlite(&mut tx, loc.id, w.id, &ids[..2], Some(1))
                        .await
                        .unwrap();
                    if commit {
                        tx.commit().await.unwrap();
                    } else {
                        tx.rollback().await.unwrap();
                    }
                    n
                }
                crate::Db::Postgres(p) => {
                    let mut tx = p.begin().await.unwrap();
                    let n = enroll_in_postgres(&mut tx, loc.id, w.id, &ids[..2], Some(1))
                        .await
                        .unwrap();
                    if commit {
                        tx.commit().await.unwrap();
                    } else {
                        tx.rollback().await.unwrap();
                    }
                    n
                }
            };
            assert_eq!(added, 2);
            let now = s.enrolled_contacts(loc.id, w.id, &ids).await.unwrap();
            let want: &[i64] = if commit { &ids[..2] } else { &[] };
            assert_eq!(now, want, "commit {commit} on {:?}", db.backend());
        }
    }
}
