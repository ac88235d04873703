//! `smart-list create|list|delete` through the real binary, on data seeded through the store.

use store::{ContactFlags, DndChannel, NewContact};

use crate::support::{Deployment, each_backend};

/// Runs a command that must fail with exit 1, returning its stderr.
pub fn fails(d: &Deployment, args: &[&str]) -> String {
    let out = d.run(args, "");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "`aesthetix {}` should exit 1: {stderr}",
        args.join(" ")
    );
    assert!(
        stderr.starts_with("error: ") && !stderr.contains("Database("),
        "a plain reason: {stderr}"
    );
    stderr
}

/// Six contacts in `location`: a, b VIP Patients (b SMS DND), c a Lead with no phone, d an
/// unsubscribed Lead without email, e a Patient from Facebook, f without Type or phone.
pub async fn seed(d: &Deployment, location: &str) -> Vec<i64> {
    let store = d.store().await;
    let loc = store.location_by_name(location).await.unwrap();
    let c = |email: Option<&str>, phone: Option<&str>, ty: Option<&str>, status: &str| NewContact {
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        contact_type: ty.map(Into::into),
        status: Some(status.into()),
        ..NewContact::default()
    };
    let ids = store
        .insert_contacts(
            loc.id,
            &[
                c(
                    Some("a@example.com"),
                    Some("+12015550101"),
                    Some("Patient"),
                    "Subscribed",
                ),
                c(
                    Some("b@example.com"),
                    Some("+12015550102"),
                    Some("Patient"),
                    "Subscribed",
                ),
                c(Some("c@example.com"), None, Some("Lead"), "Subscribed"),
                c(None, Some("+12015550104"), Some("Lead"), "Unsubscribed"),
                NewContact {
                    source: Some("Facebook".into()),
                    ..c(
                        Some("e@example.com"),
                        Some("+12015550105"),
                        Some("Patient"),
                        "Subscribed",
                    )
                },
                c(Some("f@example.com"), None, None, "Subscribed"),
            ],
        )
        .await
        .unwrap();
    store
        .add_tags(loc.id, &ids[..2], &["VIP".to_string()])
        .await
        .unwrap();
    store
        .set_contact_flags(
            loc.id,
            &[ids[1]],
            &ContactFlags::default().with_dnd(DndChannel::Sms, true),
        )
        .await
        .unwrap();
    store.close().await;
    ids
}

#[tokio::test]
async fn an_admin_saves_smart_lists_and_sees_their_counts() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        d.ok(&["location", "create", "Other"], "");
        seed(&d, "Glow").await;
        seed(&d, "Other").await;

        let out = d.ok(
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "VIP patients",
                "--filter",
                "tag=vip",
                "type=Patient",
            ],
            "",
        );
        assert!(out.contains("Created Smart List 'VIP patients'"), "{out}");
        assert!(out.contains(": 2 contacts."), "{out}");
        d.ok(
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "Facebook",
                "--filter",
                "source=facebook",
                "--filter",
                "has=phone",
            ],
            "",
        );

        let json = d.ok(&["smart-list", "list", "--location", "Glow", "--json"], "");
        let lists: serde_json::Value = serde_json::from_str(&json).unwrap();
        let got: Vec<(String, bool, i64)> = lists
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_string(),
                    l["builtin"].as_bool().unwrap(),
                    l["count"].as_i64().unwrap(),
                )
            })
            .collect();
        // a, b, e are Patients; c, d Leads. Mass SMS: a and e (b is SMS DND, d unsubscribed,
        // c and f have no phone). Mass Email: everyone with an email (all but d).
        let want: Vec<(String, bool, i64)> = [
            ("Leads", true, 2),
            ("Patients", true, 3),
            ("Mass SMS", true, 2),
            ("Mass Email", true, 5),
            ("VIP patients", false, 2),
            ("Facebook", false, 1),
        ]
        .map(|(n, b, c)| (n.to_string(), b, c))
        .to_vec();
        assert_eq!(got, want, "{:?}", d.database_url.is_some());
        assert_eq!(
            lists[4]["filters"],
            serde_json::json!(["tag=vip", "type=Patient"]),
            "filters read back as typed"
        );

        let text = d.ok(&["smart-list", "list", "--location", "Glow"], "");
        assert!(
            text.lines()
                .any(|l| l.starts_with("VIP patients") && l.contains(" 2 ")),
            "{text}"
        );

        // Mistakes: exit 1 with a plain reason, nothing saved.
        let bad = fails(
            &d,
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "X",
                "--filter",
                "colour=red",
            ],
        );
        assert!(
            bad.contains("'colour=red' is not a filter") && bad.contains("tag=TAG"),
            "{bad}"
        );
        let bad = fails(
            &d,
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "X",
                "--filter",
                "created_after=1/2/2024",
            ],
        );
        assert!(bad.contains("YYYY-MM-DD"), "{bad}");
        let unknown = fails(&d, &["smart-list", "list", "--location", "Nowhere"]);
        assert!(unknown.contains("no location named 'Nowhere'"), "{unknown}");
        let dup = fails(
            &d,
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "Facebook",
                "--filter",
                "tag=x",
            ],
        );
        assert!(dup.contains("already exists"), "{dup}");
        let field = fails(
            &d,
            &[
                "smart-list",
                "create",
                "--location",
                "Glow",
                "--name",
                "X",
                "--filter",
                "field.nope=1",
            ],
        );
        assert!(field.contains("'nope'"), "{field}");
        let builtin = fails(
            &d,
            &[
                "smart-list",
                "delete",
                "--location",
                "Glow",
                "--name",
                "Leads",
            ],
        );
        assert!(builtin.contains("built-in"), "{builtin}");
        d.ok(
            &[
                "smart-list",
                "delete",
                "--location",
                "Glow",
                "--name",
                "Facebook",
            ],
            "",
        );
        let after = d.ok(&["smart-list", "list", "--location", "Glow", "--json"], "");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&after)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            5
        );
        let missing = d.run(
            &["smart-list", "create", "--location", "Glow", "--name", "X"],
            "",
        );
        assert_eq!(
            missing.status.code(),
            Some(2),
            "--filter is required: clap's usage error"
        );
    }
}
