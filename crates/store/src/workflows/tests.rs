//! Workflows: the trigger and action syntax as tables of cases, and definitions and
//! enrollments on both backends.

use domain::LocationSettings;

use super::*;
use crate::NewContact;
use crate::testing::{TestDb, each_backend};

fn check_trigger(s: &str, expected: Result<Trigger, &str>) {
    match (parse_trigger(s), expected) {
        (Ok(t), Ok(want)) => {
            assert_eq!(t, want, "{s}");
            assert_eq!(parse_trigger(&t.to_string()), Ok(t), "{s} round-trips");
        }
        (Err(e), Err(words)) => {
            let msg = e.to_string();
            assert!(msg.contains(words), "{s}: {msg}");
            assert!(
                msg.contains("tag-added:TAG, contact-created and import"),
                "{msg}"
            );
        }
        (got, want) => panic!("{s}: got {got:?}, expected {want:?}"),
    }
}

fn check_action(s: &str, expected: Result<Action, &str>) {
    match (parse_action(s), expected) {
        (Ok(a), Ok(want)) => {
            assert_eq!(a, want, "{s}");
            assert_eq!(parse_action(&a.to_string()), Ok(a), "{s} round-trips");
        }
        (Err(e), Err(words)) => {
            let msg = e.to_string();
            assert!(msg.contains(words), "{s}: {msg}");
            assert!(msg.contains(&format!("'{s}' is not an action")), "{msg}");
            assert!(msg.contains("send-email:SUBJECT|BODY"), "{msg}");
        }
        (got, want) => panic!("{s}: got {got:?}, expected {want:?}"),
    }
}

#[test]
fn trigger_syntax() {
    check_trigger("tag-added:VIP", Ok(Trigger::TagAdded("VIP".into())));
    check_trigger(
        "tag-added: Botox Fans ",
        Ok(Trigger::TagAdded("Botox Fans".into())),
    );
    check_trigger("contact-created", Ok(Trigger::ContactCreated));
    check_trigger("import", Ok(Trigger::Import));
    check_trigger("tag-added", Err("needs a tag"));
    check_trigger("tag-added:", Err("needs a tag"));
    check_trigger("import:x", Err("'import' takes no value"));
    check_trigger("tag-removed:VIP", Err("'tag-removed' is not a trigger"));
    check_trigger("", Err("is not a trigger"));
}

#[test]
fn action_syntax() {
    check_action("add-tag:VIP", Ok(Action::AddTag("VIP".into())));
    check_action(
        "remove-tag: New Lead",
        Ok(Action::RemoveTag("New Lead".into())),
    );
    check_action(
        "send-sms:Hi! Reply STOP to opt out: thanks",
        Ok(Action::SendSms("Hi! Reply STOP to opt out: thanks".into())),
    );
    check_action(
        "send-email:Welcome|Dear patient | see you soon",
        Ok(Action::SendEmail {
            subject: "Welcome".into(),
            body: "Dear patient | see you soon".into(),
        }),
    );
    check_action(
        "move-opportunity:Botox/Booked:next_appointment",
        Ok(Action::MoveOpportunity {
            pipeline: "Botox".into(),
            stage: "Booked".into(),
            date_field: "next_appointment".into(),
        }),
    );
    check_action(
        "move-opportunity:Fillers/Follow-up 2/3 weeks:procedure_date",
        Ok(Action::MoveOpportunity {
            pipeline: "Fillers".into(),
            stage: "Follow-up 2/3 weeks".into(),
            date_field: "procedure_date".into(),
        }),
    );
    check_action("add-tag", Err("no ':'"));
    check_action("add-tag:", Err("'add-tag' needs a tag"));
    check_action("send-sms: ", Err("needs the text"));
    check_action("send-email:No body", Err("separated by '|'"));
    check_action("send-email:|Body", Err("a subject"));
    check_action("send-email:Subject|", Err("a body"));
    check_action(
        "move-opportunity:Botox:next_appointment",
        Err("separated by '/'"),
    );
    check_action(
        "move-opportunity:Botox/Booked",
        Err("PIPELINE/STAGE:DATE_FIELD"),
    );
    check_action("move-opportunity:/Booked:x", Err("a pipeline"));
    check_action(
        "move-opportunity:Botox/Booked:next-appt",
        Err("not a custom field key"),
    );
    check_action("call:+12015550123", Err("'call' is not an action"));
}

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
                &workflow("W", "import", WorkflowStatus::Active, &["add-tag:x"]),
            )
            .await
            .unwrap();
        let their_w = s
            .create_workflow(
                other.id,
                &workflow("W", "import", WorkflowStatus::Active, &["add-tag:x"]),
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
                &workflow("W", "import", WorkflowStatus::Active, &["add-tag:x"]),
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
