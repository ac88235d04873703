//! The runtime's promises, on both backends: every effect once per enrollment step, however
//! runs are cut short or raced; messages never to a contact who must not get them.

use std::sync::Mutex;

use domain::LocationSettings;

use super::*;
use crate::testing::{TestDb, each_backend};
use crate::workflows::{NewWorkflow, WorkflowStatus, parse_action, parse_trigger};
use crate::{ContactFlags, EmailVerification, NewContact};

async fn location(db: &TestDb) -> LocationId {
    db.store
        .create_location("Glow", &LocationSettings::default())
        .await
        .unwrap()
        .id
}

async fn create(
    db: &TestDb,
    loc: LocationId,
    name: &str,
    trigger: &str,
    actions: &[&str],
) -> Workflow {
    db.store
        .create_workflow(
            loc,
            &NewWorkflow {
                name: name.into(),
                trigger: parse_trigger(trigger).unwrap(),
                status: WorkflowStatus::Active,
                actions: actions.iter().map(|a| parse_action(a).unwrap()).collect(),
            },
        )
        .await
        .unwrap()
}

/// `n` reachable contacts (email and phone, Subscribed).
async fn reachable(db: &TestDb, loc: LocationId, n: usize, tag: &str) -> Vec<i64> {
    let contacts: Vec<NewContact> = (0..n)
        .map(|i| NewContact {
            first_name: Some(format!("{tag}{i}")),
            email: Some(format!("{tag}{i}@example.com").to_lowercase()),
            phone: Some(format!("+1202555{i:04}")),
            status: Some("Subscribed".into()),
            ..NewContact::default()
        })
        .collect();
    db.store.insert_contacts(loc, &contacts).await.unwrap()
}

/// (contact, channel, recipient, subject, body, status, reason) of every outbox row.
type Row = (
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
);

async fn outbox_rows(db: &TestDb, loc: LocationId) -> Vec<Row> {
    let mut rows: Vec<Row> = db
        .store
        .outbox(loc)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            (
                m.contact_id,
                m.channel,
                m.recipient,
                m.subject,
                m.body,
                m.status,
                m.reason,
            )
        })
        .collect();
    rows.sort();
    rows
}

fn row(
    contact: i64,
    channel: &str,
    recipient: Option<&str>,
    subject: Option<&str>,
    body: &str,
    reason: Option<&str>,
) -> Row {
    (
        Some(contact),
        channel.into(),
        recipient.map(Into::into),
        subject.map(Into::into),
        body.into(),
        if reason.is_some() {
            "suppressed"
        } else {
            "queued"
        }
        .into(),
        reason.map(Into::into),
    )
}

#[tokio::test]
async fn an_sms_workflow_queues_one_message_per_contact_and_suppresses_who_must_not_get_one() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db).await;
        let ok = s
            .insert_contacts(
                loc,
                &[
                    NewContact {
                        first_name: Some("Ann".into()),
                        phone: Some("+12015550001".into()),
                        status: Some("Subscribed".into()),
                        ..NewContact::default()
                    },
                    NewContact {
                        first_name: Some("Bo".into()),
                        phone: Some("+12015550002".into()),
                        ..NewContact::default()
                    },
                ],
            )
            .await
            .unwrap();
        let dnd = s
            .insert_contacts(
                loc,
                &[NewContact {
                    phone: Some("+12015550003".into()),
                    status: Some("Subscribed".into()),
                    ..NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        s.set_contact_flags(
            loc,
            &[dnd],
            &ContactFlags::default().with_dnd(crate::DndChannel::Sms, true),
        )
        .await
        .unwrap();
        let email_dnd = s
            .insert_contacts(
                loc,
                &[NewContact {
                    phone: Some("+12015550005".into()),
                    ..NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        s.set_contact_flags(
            loc,
            &[email_dnd],
            &ContactFlags::default().with_dnd(crate::DndChannel::Email, true),
        )
        .await
        .unwrap();
        let unsubscribed = s
            .insert_contacts(
                loc,
                &[NewContact {
                    phone: Some("+12015550004".into()),
                    status: Some("Unsubscribed".into()),
                    ..NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        let no_phone = s
            .insert_contacts(
                loc,
                &[NewContact {
                    email: Some("nophone@example.com".into()),
                    ..NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        let w = create(
            &db,
            loc,
            "VIP welcome",
            "tag-added:VIP",
            &["send-sms:Welcome to Glow!"],
        )
        .await;
        let all = [ok[0], ok[1], dnd, email_dnd, unsubscribed, no_phone];
        assert_eq!(s.enroll(loc, w.id, &all, None).await.unwrap(), 6);

        let run = s.run_due_enrollments(Some(loc), 1000).await.unwrap();
        assert_eq!(
            (run.steps, run.completed, run.queued, run.suppressed),
            (6, 6, 3, 3),
            "{:?}",
            db.backend()
        );
        let body = "Welcome to Glow!";
        let mut want = vec![
            row(ok[0], "sms", Some("+12015550001"), None, body, None),
            row(ok[1], "sms", Some("+12015550002"), None, body, None),
            row(
                dnd,
                "sms",
                Some("+12015550003"),
                None,
                body,
                Some("dnd_sms"),
            ),
            row(email_dnd, "sms", Some("+12015550005"), None, body, None),
            row(
                unsubscribed,
                "sms",
                Some("+12015550004"),
                None,
                body,
                Some("unsubscribed"),
            ),
            row(no_phone, "sms", None, None, body, Some("no_phone")),
        ];
        want.sort();
        assert_eq!(outbox_rows(&db, loc).await, want);
        let messages = s.outbox(loc).await.unwrap();
        assert!(
            messages
                .iter()
                .all(|m| m.workflow.as_deref() == Some("VIP welcome"))
        );
        assert!(
            messages
                .iter()
                .all(|m| m.step == 0 && m.enrollment_id.is_some())
        );

        // Running again, or enrolling again, doubles nothing.
        assert_eq!(
            s.run_due_enrollments(Some(loc), 1000).await.unwrap(),
            RunSummary::default()
        );
        assert_eq!(s.enroll(loc, w.id, &all, None).await.unwrap(), 0);
        assert_eq!(s.run_due_enrollments(None, 1000).await.unwrap().steps, 0);
        assert_eq!(outbox_rows(&db, loc).await, want);
        assert!(
            s.enrollments(loc, w.id)
                .await
                .unwrap()
                .iter()
                .all(|e| e.status == "completed" && e.next_step == 1)
        );
    }
}

async fn outbox_count_per_step(db: &TestDb, loc: LocationId) -> Vec<(i64, i64, i64)> {
    on_pool!(db.store, p => {
        sqlx::query_as(
            "SELECT enrollment_id, step, COUNT(*) FROM outbox WHERE location_id = $1 GROUP BY enrollment_id, step ORDER BY enrollment_id, step",
        )
        .bind(loc.0)
        .fetch_all(p)
        .await
    })
    .unwrap()
}

#[tokio::test]
async fn a_run_cut_short_or_crashed_and_resumed_leaves_every_effect_exactly_once() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db).await;
        let ids = reachable(&db, loc, 10, "c").await;
        let w = create(
            &db,
            loc,
            "Three steps",
            "import",
            &[
                "send-sms:One",
                "add-tag:Welcomed",
                "send-email:Two|Body two",
            ],
        )
        .await;
        s.enroll(loc, w.id, &ids, Some(1)).await.unwrap();

        // Steps run enrollment by enrollment: 7 steps = all of the first two contacts and
        // the first step of the third. The 8th crashes after writing its effect.
        let crashed = s.run_steps(Some(loc), 1000, Some(8)).await;
        assert!(crashed.is_err(), "{:?}", db.backend());
        let progress =
            |es: Vec<crate::Enrollment>| es.iter().map(|e| e.next_step).collect::<Vec<_>>();
        assert_eq!(
            progress(s.enrollments(loc, w.id).await.unwrap()),
            [3, 3, 1, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            s.outbox(loc).await.unwrap().len(),
            5,
            "the crashed step's tag never landed"
        );
        assert_eq!(
            s.contact_tags(loc, ids[2]).await.unwrap(),
            Vec::<String>::new(),
            "the crashed step's tag was rolled back"
        );

        // Resume in small runs, as a worker with a limit would.
        let first = s.run_due_enrollments(Some(loc), 4).await.unwrap();
        assert_eq!(first.steps, 4);
        let second = s.run_due_enrollments(Some(loc), 1000).await.unwrap();
        assert_eq!(first.steps + second.steps, 30 - 7);
        assert_eq!(first.completed + second.completed, 8);
        assert_eq!(
            s.run_due_enrollments(Some(loc), 1000).await.unwrap().steps,
            0
        );

        let per_step = outbox_count_per_step(&db, loc).await;
        assert_eq!(per_step.len(), 20, "an SMS and an email per contact");
        assert!(
            per_step
                .iter()
                .all(|(_, step, n)| *n == 1 && (*step == 0 || *step == 2))
        );
        let messages = s.outbox(loc).await.unwrap();
        for id in &ids {
            let mine: Vec<(&str, &str)> = messages
                .iter()
                .filter(|m| m.contact_id == Some(*id))
                .map(|m| (m.channel.as_str(), m.body.as_str()))
                .collect();
            assert_eq!(
                mine,
                [("sms", "One"), ("email", "Body two")],
                "contact {id}"
            );
            assert_eq!(s.contact_tags(loc, *id).await.unwrap(), ["Welcomed"]);
        }
    }
}

#[tokio::test]
async fn two_runners_racing_do_every_step_once() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db).await;
        let ids = reachable(&db, loc, 40, "r").await;
        let w = create(
            &db,
            loc,
            "Race",
            "import",
            &["send-sms:A", "send-email:B|C", "add-tag:Done"],
        )
        .await;
        s.enroll(loc, w.id, &ids, None).await.unwrap();
        let (a, b) = tokio::join!(
            s.run_due_enrollments(None, 1000),
            s.run_due_enrollments(Some(loc), 1000)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        // A runner that found every remaining step taken stops; a third run finishes them.
        let c = s.run_due_enrollments(None, 1000).await.unwrap();
        assert_eq!(a.steps + b.steps + c.steps, 120, "{:?}", db.backend());
        assert_eq!(a.tags_added + b.tags_added + c.tags_added, 40);
        let per_step = outbox_count_per_step(&db, loc).await;
        assert_eq!(per_step.len(), 80);
        assert!(per_step.iter().all(|(_, _, n)| *n == 1));
    }
}

#[tokio::test]
async fn paused_and_draft_workflows_keep_their_enrollments_waiting() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db).await;
        let ids = reachable(&db, loc, 3, "p").await;
        let w = create(&db, loc, "Later", "import", &["send-sms:Hello"]).await;
        s.enroll(loc, w.id, &ids, None).await.unwrap();
        for status in [WorkflowStatus::Paused, WorkflowStatus::Draft] {
            s.set_workflow_status(loc, w.id, status).await.unwrap();
            assert_eq!(s.run_due_enrollments(None, 100).await.unwrap().steps, 0);
            assert!(s.outbox(loc).await.unwrap().is_empty(), "{status}");
        }
        s.set_workflow_status(loc, w.id, WorkflowStatus::Active)
            .await
            .unwrap();
        assert_eq!(s.run_due_enrollments(None, 100).await.unwrap().queued, 3);
    }
}

#[tokio::test]
async fn a_tag_added_by_a_workflow_fires_tag_workflows_and_loops_end() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db).await;
        let ids = reachable(&db, loc, 3, "t").await;
        // A adds VIP; VIP fires B, which texts and adds Loyal; Loyal fires C, which adds VIP
        // again (already there: fires nothing) and removes then re-adds Loyal, which fires C
        // itself again: no new enrollment, once per contact per workflow, so the loop ends.
        // A paused workflow on VIP never fires.
        let a = create(&db, loc, "A", "import", &["add-tag:VIP"]).await;
        let b = create(
            &db,
            loc,
            "B",
            "tag-added:vip",
            &["send-sms:Hi VIP", "add-tag:Loyal"],
        )
        .await;
        let c = create(
            &db,
            loc,
            "C",
            "tag-added:LOYAL",
            &["add-tag:VIP", "remove-tag:loyal", "add-tag:Loyal"],
        )
        .await;
        let paused = create(&db, loc, "Paused", "tag-added:VIP", &["send-sms:never"]).await;
        s.set_workflow_status(loc, paused.id, WorkflowStatus::Paused)
            .await
            .unwrap();
        s.enroll(loc, a.id, &ids, None).await.unwrap();

        let run = s.run_due_enrollments(Some(loc), 1000).await.unwrap();
        assert_eq!(run.steps, 3 + 3 * 2 + 3 * 3, "{:?}", db.backend());
        assert_eq!(
            run.enrolled,
            3 + 3,
            "B and C once each; C's own Loyal re-enrolls nobody"
        );
        assert_eq!(run.queued, 3);
        assert_eq!(run.tags_removed, 3);
        for wf in [&a, &b, &c] {
            let es = s.enrollments(loc, wf.id).await.unwrap();
            assert_eq!(es.len(), 3, "{}", wf.name);
            assert!(es.iter().all(|e| e.status == "completed"));
        }
        assert!(s.enrollments(loc, paused.id).await.unwrap().is_empty());
        for id in &ids {
            assert_eq!(s.contact_tags(loc, *id).await.unwrap(), ["Loyal", "VIP"]);
        }
        assert_eq!(s.run_due_enrollments(None, 1000).await.unwrap().steps, 0);
    }
}

#[tokio::test]
async fn move_opportunity_creates_or_moves_only_when_the_date_field_is_set() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db).await;
        let ids = reachable(&db, loc, 2, "o").await;
        s.set_contact_custom_value(
            loc,
            ids[0],
            "next_appointment",
            Some(serde_json::json!("2025-03-01")),
        )
        .await
        .unwrap();
        s.set_contact_custom_value(loc, ids[1], "next_appointment", Some(serde_json::json!("")))
            .await
            .unwrap();
        let book = create(
            &db,
            loc,
            "Book",
            "import",
            &["move-opportunity:Botox/Booked:next_appointment"],
        )
        .await;
        let show = create(
            &db,
            loc,
            "Show",
            "import",
            // The pipeline is matched by name ignoring case (SPEC §7).
            &["move-opportunity:BOTOX/Showed:next_appointment"],
        )
        .await;
        s.enroll(loc, book.id, &ids, None).await.unwrap();
        let run = s.run_due_enrollments(None, 100).await.unwrap();
        assert_eq!((run.steps, run.opportunities), (2, 1), "{:?}", db.backend());

        let opportunities = || async {
            on_pool!(s, p => {
                sqlx::query_as::<_, (i64, Option<i64>, String, String, String, String)>(
                    "SELECT o.id, o.contact_id, o.name, o.status, pl.name, st.name FROM opportunities o \
                     JOIN pipelines pl ON pl.id = o.pipeline_id JOIN stages st ON st.id = o.stage_id \
                     WHERE o.location_id = $1 ORDER BY o.id",
                )
                .bind(loc.0)
                .fetch_all(p)
                .await
            })
            .unwrap()
        };
        let created = opportunities().await;
        assert_eq!(created.len(), 1);
        let (opp, contact, name, status, pipeline, stage) = created[0].clone();
        assert_eq!(
            (
                contact,
                name.as_str(),
                status.as_str(),
                pipeline.as_str(),
                stage.as_str()
            ),
            (Some(ids[0]), "o0", "open", "Botox", "Booked")
        );

        s.enroll(loc, show.id, &ids, None).await.unwrap();
        assert_eq!(
            s.run_due_enrollments(None, 100)
                .await
                .unwrap()
                .opportunities,
            1
        );
        let moved = opportunities().await;
        assert_eq!(moved.len(), 1, "moved, not created again");
        assert_eq!(
            (moved[0].0, moved[0].4.as_str(), moved[0].5.as_str()),
            (opp, "Botox", "Showed")
        );
        assert_eq!(s.pipelines(loc).await.unwrap().len(), 1);
    }
}

/// A transport that keeps what it is handed.
#[derive(Default)]
struct Collecting(Mutex<Vec<(String, Option<String>, String)>>);

impl Transport for Collecting {
    async fn send(&self, m: &OutboxMessage) -> std::result::Result<Delivery, String> {
        if m.body == "fail" {
            return Err("the provider said no".into());
        }
        self.0
            .lock()
            .unwrap()
            .push((m.channel.clone(), m.recipient.clone(), m.body.clone()));
        Ok(Delivery::Sent)
    }
}

#[tokio::test]
async fn delivery_hands_queued_messages_to_the_transport_and_never_suppressed_ones() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = location(&db).await;
        let ids = reachable(&db, loc, 3, "d").await;
        s.set_contact_flags(
            loc,
            &[ids[2]],
            &ContactFlags {
                email_verification: Some(EmailVerification::Invalid),
                ..ContactFlags::default()
            },
        )
        .await
        .unwrap();
        let w = create(&db, loc, "Mail", "import", &["send-email:Hello|Welcome"]).await;
        s.enroll(loc, w.id, &ids, None).await.unwrap();
        s.run_due_enrollments(None, 100).await.unwrap();

        // The built-in transport only records: everything stays queued.
        let recorded = s
            .deliver_outbox(Some(loc), &RecordingTransport, 100)
            .await
            .unwrap();
        assert_eq!((recorded.sent, recorded.recorded), (0, 2));
        let statuses = |ms: Vec<OutboxMessage>| {
            ms.into_iter()
                .map(|m| (m.status, m.reason))
                .collect::<Vec<_>>()
        };
        let queued = || ("queued".to_string(), None);
        let invalid = || ("suppressed".to_string(), Some("email_invalid".to_string()));
        assert_eq!(
            statuses(s.outbox(loc).await.unwrap()),
            [queued(), queued(), invalid()]
        );

        let t = Collecting::default();
        let delivered = s.deliver_outbox(None, &t, 100).await.unwrap();
        assert_eq!(delivered.sent, 2, "{:?}", db.backend());
        assert_eq!(
            t.0.lock().unwrap().clone(),
            [
                (
                    "email".to_string(),
                    Some("d0@example.com".to_string()),
                    "Welcome".to_string()
                ),
                (
                    "email".to_string(),
                    Some("d1@example.com".to_string()),
                    "Welcome".to_string()
                ),
            ]
        );
        let sent = || ("sent".to_string(), None);
        assert_eq!(
            statuses(s.outbox(loc).await.unwrap()),
            [sent(), sent(), invalid()]
        );
        assert_eq!(s.deliver_outbox(None, &t, 100).await.unwrap().sent, 0);
    }
}
