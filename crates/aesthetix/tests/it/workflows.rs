//! `workflow create|list|set-status|run` and `outbox list` through the real binary, and the
//! runtime inside `serve`, killed mid-way and restarted, doubling nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use store::NewContact;

use crate::smart_lists::{fails, seed};
use crate::support::{each_backend, spawn_app};

/// (contact, channel, recipient, status, reason, workflow) of an `outbox list --json` row.
type OutboxRow = (i64, String, Option<String>, String, Option<String>, String);

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[tokio::test]
async fn an_admin_creates_workflows_and_the_outbox_shows_what_they_queued_or_suppressed() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let ids = seed(&d, "Glow").await;
        let out = d.ok(
            &[
                "workflow",
                "create",
                "--location",
                "Glow",
                "--name",
                "VIP welcome",
                "--trigger",
                "tag-added:VIP",
                "--action",
                "send-sms:Welcome to Glow!",
                "add-tag:Welcomed",
            ],
            "",
        );
        assert!(
            out.contains("Created workflow 'VIP welcome'") && out.contains("(active)"),
            "{out}"
        );
        d.ok(
            &[
                "workflow",
                "create",
                "--location",
                "Glow",
                "--name",
                "Book",
                "--trigger",
                "import",
                "--action",
                "move-opportunity:Botox/Booked:next_appointment",
                "--status",
                "draft",
            ],
            "",
        );
        let listed = json(&d.ok(&["workflow", "list", "--location", "Glow", "--json"], ""));
        assert_eq!(
            listed,
            serde_json::json!([
                {"id": listed[0]["id"], "name": "VIP welcome", "trigger": "tag-added:VIP", "status": "active",
                 "actions": ["send-sms:Welcome to Glow!", "add-tag:Welcomed"], "enrolled": 0, "completed": 0},
                {"id": listed[1]["id"], "name": "Book", "trigger": "import", "status": "draft",
                 "actions": ["move-opportunity:Botox/Booked:next_appointment"], "enrolled": 0, "completed": 0},
            ])
        );

        for (args, expected) in [
            (
                vec!["--trigger", "tag-removed:VIP", "--action", "add-tag:x"],
                "'tag-removed:VIP' is not a trigger",
            ),
            (
                vec!["--trigger", "import", "--action", "send-email:no body"],
                "separated by '|'",
            ),
            (
                vec!["--trigger", "import", "--action", "call:me"],
                "'call' is not an action",
            ),
            (
                vec![
                    "--trigger",
                    "import",
                    "--action",
                    "add-tag:x",
                    "--status",
                    "on",
                ],
                "active, paused or draft",
            ),
            (
                vec![
                    "--trigger",
                    "import",
                    "--action",
                    "move-opportunity:P/S:treatment_of_interest",
                ],
                "date field",
            ),
        ] {
            let mut all = vec!["workflow", "create", "--location", "Glow", "--name", "Bad"];
            all.extend(args);
            let err = fails(&d, &all);
            assert!(err.contains(expected), "{err}");
        }
        let dup = fails(
            &d,
            &[
                "workflow",
                "create",
                "--location",
                "Glow",
                "--name",
                "Book",
                "--trigger",
                "import",
                "--action",
                "add-tag:x",
            ],
        );
        assert!(dup.contains("already exists"), "{dup}");
        fails(&d, &["workflow", "list", "--location", "Nowhere"]);
        fails(&d, &["outbox", "list", "--location", "Nowhere"]);
        assert_eq!(
            json(&d.ok(&["workflow", "list", "--location", "Glow", "--json"], ""))
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // Enrolled as an import's flood guard would after acknowledgement, then run.
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap();
        let welcome = store.workflow_by_name(loc.id, "VIP welcome").await.unwrap();
        assert_eq!(
            store
                .enroll(loc.id, welcome.id, &ids, Some(1))
                .await
                .unwrap(),
            6
        );
        let ran = d.ok(&["workflow", "run", "--location", "Glow"], "");
        assert!(
            ran.contains(
                "Ran 12 workflow steps: 6 enrollments completed, 2 messages queued, 4 suppressed"
            ),
            "{ran}"
        );
        let outbox = json(&d.ok(&["outbox", "list", "--location", "Glow", "--json"], ""));
        let mut got: Vec<OutboxRow> = outbox
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["contact_id"].as_i64().unwrap(),
                    m["channel"].as_str().unwrap().to_string(),
                    m["recipient"].as_str().map(String::from),
                    m["status"].as_str().unwrap().to_string(),
                    m["reason"].as_str().map(String::from),
                    m["workflow"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        let r = |i: usize, to: Option<&str>, reason: Option<&str>| {
            (
                ids[i],
                "sms".to_string(),
                to.map(String::from),
                if reason.is_some() {
                    "suppressed"
                } else {
                    "queued"
                }
                .to_string(),
                reason.map(String::from),
                "VIP welcome".to_string(),
            )
        };
        assert_eq!(
            got,
            [
                r(0, Some("+12015550101"), None),
                r(1, Some("+12015550102"), Some("dnd_sms")),
                r(2, None, Some("no_phone")),
                r(3, Some("+12015550104"), Some("unsubscribed")),
                r(4, Some("+12015550105"), None),
                r(5, None, Some("no_phone")),
            ]
        );
        assert!(outbox[0]["body"] == "Welcome to Glow!" && outbox[0]["subject"].is_null());
        let text = d.ok(&["outbox", "list", "--location", "Glow"], "");
        assert!(text.contains("suppressed (dnd_sms)"), "{text}");

        // Again: nothing doubles.
        let again = d.ok(&["workflow", "run"], "");
        assert!(again.contains("Ran 0 workflow steps"), "{again}");
        assert_eq!(
            json(&d.ok(&["outbox", "list", "--location", "Glow", "--json"], ""))
                .as_array()
                .unwrap()
                .len(),
            6
        );
        assert_eq!(
            store.enroll(loc.id, welcome.id, &ids, None).await.unwrap(),
            0
        );

        // A draft workflow's enrolled contacts wait until it is made active.
        let book = store.workflow_by_name(loc.id, "Book").await.unwrap();
        store.enroll(loc.id, book.id, &ids, None).await.unwrap();
        assert!(
            d.ok(&["workflow", "run"], "")
                .contains("Ran 0 workflow steps")
        );
        d.ok(
            &[
                "workflow",
                "set-status",
                "--location",
                "Glow",
                "--name",
                "Book",
                "--status",
                "active",
            ],
            "",
        );
        assert!(
            d.ok(&["workflow", "run"], "")
                .contains("Ran 6 workflow steps")
        );
        let listed = json(&d.ok(&["workflow", "list", "--location", "Glow", "--json"], ""));
        assert_eq!(
            (
                listed[1]["enrolled"].as_i64(),
                listed[1]["completed"].as_i64()
            ),
            (Some(6), Some(6))
        );
        store.close().await;
    }
}

/// Polls `f` every 20 ms until it is true or `limit` passes.
async fn wait_until<F: Future<Output = bool>>(limit: Duration, mut f: impl FnMut() -> F) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn serve_runs_due_steps_and_a_killed_serve_resumes_without_doubling_any() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(
            &[
                "workflow",
                "create",
                "--location",
                "Glow",
                "--name",
                "Drip",
                "--trigger",
                "import",
                "--action",
                "send-sms:One",
                "add-tag:Dripped",
                "send-email:Two|Body two",
            ],
            "",
        );
        let store = d.store().await;
        let loc = store.location_by_name("Glow").await.unwrap();
        let contacts: Vec<NewContact> = (0..300)
            .map(|i| NewContact {
                email: Some(format!("p{i}@example.com")),
                phone: Some(format!("+1202555{i:04}")),
                status: Some("Subscribed".into()),
                ..NewContact::default()
            })
            .collect();
        let ids = store.insert_contacts(loc.id, &contacts).await.unwrap();
        let drip = store.workflow_by_name(loc.id, "Drip").await.unwrap();
        store.enroll(loc.id, drip.id, &ids, None).await.unwrap();

        // Start serving, and kill it (SIGKILL) as soon as it has done some of the work.
        let app = spawn_app(&d);
        let started = wait_until(Duration::from_secs(60), || async {
            !store.outbox(loc.id).await.unwrap().is_empty()
        })
        .await;
        drop(app);
        assert!(started, "serve ran due steps within 60 s");
        let at_kill = store.outbox(loc.id).await.unwrap().len();

        // A new serve resumes where the killed one stopped.
        let app = spawn_app(&d);
        let finished = wait_until(Duration::from_secs(120), || async {
            store.outbox(loc.id).await.unwrap().len() >= 600
                && store
                    .enrollments(loc.id, drip.id)
                    .await
                    .unwrap()
                    .iter()
                    .all(|e| e.status == "completed")
        })
        .await;
        drop(app);
        assert!(
            finished,
            "the restarted serve finished the work (killed at {at_kill} messages)"
        );
        let messages = store.outbox(loc.id).await.unwrap();
        assert_eq!(
            messages.len(),
            600,
            "an SMS and an email per contact, none doubled"
        );
        let mut per_step: HashMap<(Option<i64>, i64), usize> = HashMap::new();
        for m in &messages {
            *per_step.entry((m.enrollment_id, m.step)).or_default() += 1;
            assert_eq!(m.status, "queued");
        }
        assert!(per_step.values().all(|n| *n == 1));
        for id in ids.iter().step_by(37) {
            assert_eq!(store.contact_tags(loc.id, *id).await.unwrap(), ["Dripped"]);
        }
        eprintln!(
            "serve was killed with {at_kill} of 600 messages written ({})",
            if d.database_url.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            }
        );
        store.close().await;
    }
}
