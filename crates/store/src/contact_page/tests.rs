//! A contact's page and its edits, on both backends.

use std::collections::BTreeMap;

use domain::LocationSettings;

use crate::testing::each_backend;
use crate::*;

fn change(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect()
}

#[tokio::test]
async fn an_edit_writes_fields_bumps_the_version_and_refuses_stale_or_taken_values() {
    for db in each_backend().await {
        let s = &db.store;
        let loc = s
            .create_location("A", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let other = s
            .create_location("B", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let ids = s
            .insert_contacts(
                loc,
                &[
                    NewContact {
                        first_name: Some("Ann".into()),
                        email: Some("ann@example.com".into()),
                        source: Some("Facebook".into()),
                        ..NewContact::default()
                    },
                    NewContact {
                        first_name: Some("Bob".into()),
                        phone: Some("+12015550123".into()),
                        ..NewContact::default()
                    },
                ],
            )
            .await
            .unwrap();
        let (ann, bob) = (ids[0], ids[1]);
        let page = s.contact_detail(loc, ann).await.unwrap();
        assert_eq!(
            page.contact.values.get("source").map(String::as_str),
            Some("Facebook")
        );
        assert!(page.notes.is_empty() && page.imports.is_empty());
        assert!(page.opportunities.is_empty());
        // An opportunity linked to her is on her page (SPEC §13.2).
        on_pool!(s, p => {
            let pipe: i64 = sqlx::query_scalar(
                "INSERT INTO pipelines (location_id, name, created_at) VALUES ($1, 'Treatments', 0) RETURNING id",
            )
            .bind(loc.0)
            .fetch_one(p)
            .await
            .unwrap();
            let stage: i64 = sqlx::query_scalar(
                "INSERT INTO stages (location_id, pipeline_id, name, position) VALUES ($1, $2, 'Consult', 0) RETURNING id",
            )
            .bind(loc.0)
            .bind(pipe)
            .fetch_one(p)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO opportunities (location_id, pipeline_id, stage_id, name, monetary_value, contact_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'Botox', '450.00', $4, 0, 0)",
            )
            .bind(loc.0)
            .bind(pipe)
            .bind(stage)
            .bind(ann)
            .execute(p)
            .await
            .unwrap();
        });
        let with = s.contact_detail(loc, ann).await.unwrap();
        assert_eq!(with.opportunities.len(), 1);
        let o = &with.opportunities[0];
        assert_eq!(
            (
                o.name.as_str(),
                o.pipeline.as_str(),
                o.stage.as_str(),
                o.status.as_str(),
                o.value.as_deref()
            ),
            ("Botox", "Treatments", "Consult", "open", Some("450.00"))
        );
        assert!(
            s.contact_detail(other, ann)
                .await
                .unwrap_err()
                .is_not_found(),
            "another location's contact is not found"
        );

        s.update_contact_fields(
            loc,
            ann,
            page.version,
            &change(&[
                ("source", Some("Walk-in")),
                ("last_name", Some("Lee")),
                ("email", Some("Ann.Lee@Example.com")),
                ("dnd_sms", Some("true")),
                ("treatment_of_interest", Some("Botox")),
            ]),
        )
        .await
        .unwrap();
        let after = s.contact_detail(loc, ann).await.unwrap();
        let v = |k: &str| after.contact.values.get(k).cloned();
        assert_eq!(v("source").as_deref(), Some("Walk-in"));
        assert_eq!(v("last_name").as_deref(), Some("Lee"));
        assert_eq!(v("dnd_sms").as_deref(), Some("true"));
        assert_eq!(v("treatment_of_interest").as_deref(), Some("Botox"));
        assert_eq!(after.version, page.version + 1, "an edit bumps the version");
        // The new email matches (case-insensitively) and the new name is searchable.
        assert_eq!(
            s.contacts_by_emails(loc, &["ann.lee@example.com".into()])
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            s.contacts_page(loc, Some("ann lee"), 0, 10)
                .await
                .unwrap()
                .total,
            1
        );

        // An edit made against the old version is refused, and writes nothing.
        let stale = s
            .update_contact_fields(
                loc,
                ann,
                page.version,
                &change(&[("source", Some("Stale"))]),
            )
            .await
            .unwrap_err();
        assert!(stale.is_conflict(), "{stale}");
        // Clearing a custom field, and a phone another contact holds.
        s.update_contact_fields(
            loc,
            ann,
            after.version,
            &change(&[("treatment_of_interest", None)]),
        )
        .await
        .unwrap();
        let now = s.contact_detail(loc, ann).await.unwrap();
        assert_eq!(now.contact.values.get("treatment_of_interest"), None);
        assert_eq!(
            now.contact.values.get("source").map(String::as_str),
            Some("Walk-in")
        );
        let taken = s
            .update_contact_fields(
                loc,
                ann,
                now.version,
                &change(&[("phone", Some("+12015550123"))]),
            )
            .await
            .unwrap_err();
        assert!(taken.is_conflict(), "{taken}");
        assert_eq!(
            s.contact_detail(loc, ann).await.unwrap().version,
            now.version,
            "a refused edit writes nothing"
        );
        assert!(
            s.update_contact_fields(other, bob, 1, &change(&[("source", Some("x"))]))
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
}
