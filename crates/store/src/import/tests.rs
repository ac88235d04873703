//! A chunk's writes on both backends, where PostgreSQL's set-based statements could differ
//! from writing row by row in the chunk's order.

use std::collections::BTreeMap;

use domain::LocationSettings;

use crate::testing::each_backend;
use crate::*;

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

fn created(line: u64, pairs: &[(&str, &str)], emails: &[&str]) -> ContactWrite {
    ContactWrite {
        values: values(pairs),
        new_tags: strings(&["Imported"]),
        new_emails: strings(emails),
        line,
        ..ContactWrite::default()
    }
}

fn updated(c: &StoredContact, line: u64, pairs: &[(&str, &str)]) -> ContactWrite {
    let mut v = c.values.clone();
    for (k, val) in pairs {
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
        line,
        ..ContactWrite::default()
    }
}

/// One contact gives up its phone and another, later in the same chunk, takes it: written in
/// the chunk's order this succeeds on both backends (a single statement over both rows could
/// meet the second first, and the unique index would refuse it). Created contacts get their
/// ids in the chunk's order, and additional emails follow the contact's earlier ones.
#[tokio::test]
async fn a_chunk_writes_in_its_order() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = s
            .create_location("A", &LocationSettings::default())
            .await
            .unwrap()
            .id;
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
        let lease = Lease {
            job_id: job,
            location_id: loc,
            owner: "test".into(),
        };
        let first = ChunkWrite {
            contacts: (0..5)
                .map(|k| {
                    let phone = format!("+1201555010{k}");
                    let email = format!("c{k}@example.com");
                    created(
                        k + 1,
                        &[
                            ("first_name", &format!("C{k}")),
                            ("phone", &phone),
                            ("email", &email),
                        ],
                        &["a@example.com", "b@example.com"],
                    )
                })
                .collect(),
            checkpoint_line: 5,
            ..ChunkWrite::default()
        };
        let (ids, _) = s.apply_import_chunk(&lease, &first).await.unwrap();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        for (k, id) in ids.iter().enumerate() {
            let c = s
                .contacts_for_matching(loc, &[*id], &[], &[])
                .await
                .unwrap()
                .remove(0);
            assert_eq!(
                c.values["first_name"],
                format!("C{k}"),
                "{:?}",
                db.backend()
            );
            assert_eq!(c.tags, ["Imported"]);
        }

        let stored = s
            .contacts_for_matching(loc, &ids[..3], &[], &[])
            .await
            .unwrap();
        let mut give_up = updated(&stored[0], 6, &[("phone", "+12015550199")]);
        give_up.new_emails = strings(&["a@example.com", "c@example.com", "d@example.com"]);
        let take = updated(&stored[1], 7, &[("phone", "+12015550100")]);
        let keep = updated(&stored[2], 8, &[("last_name", "Kept")]);
        let second = ChunkWrite {
            contacts: vec![give_up, take, keep],
            checkpoint_line: 8,
            ..ChunkWrite::default()
        };
        let (written, _) = s.apply_import_chunk(&lease, &second).await.unwrap();
        assert_eq!(written, ids[..3]);
        let after = s
            .contacts_for_matching(loc, &ids[..3], &[], &[])
            .await
            .unwrap();
        assert_eq!(
            after[0].values["phone"],
            "+12015550199",
            "{:?}",
            db.backend()
        );
        assert_eq!(after[1].values["phone"], "+12015550100");
        assert_eq!(after[2].values["last_name"], "Kept");
        assert_eq!(
            after[0].additional_emails,
            [
                "a@example.com",
                "b@example.com",
                "c@example.com",
                "d@example.com"
            ]
        );
    }
}
