//! Store tests: every test runs on SQLite and, when configured, on PostgreSQL.

use domain::{CustomFieldType, LocationSettings, MatchOrder, ObjectKind, Role};

use crate::testing::{TestDb, each_backend};
use crate::*;

async fn location(db: &TestDb, name: &str) -> Location {
    db.store
        .create_location(name, &LocationSettings::default())
        .await
        .unwrap()
}

fn contact(first: &str, email: Option<&str>, phone: Option<&str>) -> NewContact {
    NewContact {
        first_name: Some(first.into()),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        ..NewContact::default()
    }
}

#[tokio::test]
async fn a_new_location_has_starter_fields_and_builtin_lists() {
    for db in each_backend().await {
        let loc = location(&db, "Glow Med Spa").await;
        let fields = db
            .store
            .custom_fields(loc.id, &ObjectKind::Contact)
            .await
            .unwrap();
        let labels: Vec<_> = fields
            .iter()
            .map(|f| (f.key.as_str(), f.field_type))
            .collect();
        assert_eq!(
            labels,
            [
                ("treatment_of_interest", CustomFieldType::Text),
                ("patient_lifetime_value", CustomFieldType::Monetary),
                ("new_lead_date", CustomFieldType::Date),
                ("patient_since", CustomFieldType::Date),
                ("next_appointment", CustomFieldType::Date),
                ("procedure_date", CustomFieldType::Date),
            ],
            "{:?}",
            db.backend()
        );
        let lists = db.store.smart_list_names(loc.id).await.unwrap();
        assert_eq!(lists, ["Leads", "Patients", "Mass SMS", "Mass Email"]);
        let again = db
            .store
            .create_location("Glow Med Spa", &LocationSettings::default())
            .await;
        assert!(again.unwrap_err().is_conflict());
    }
}

#[tokio::test]
async fn location_settings_round_trip() {
    for db in each_backend().await {
        let loc = location(&db, "Main").await;
        assert_eq!(db.store.location_by_name("Main").await.unwrap(), loc);
        let settings = LocationSettings {
            country: "CA".into(),
            timezone: "America/Toronto".into(),
            currency: "CAD".into(),
            date_order: domain::DateOrder::Dmy,
            match_order: MatchOrder::PhoneFirst,
            require_unique_identifier: true,
        };
        db.store
            .update_location_settings(loc.id, &settings)
            .await
            .unwrap();
        assert_eq!(db.store.location(loc.id).await.unwrap().settings, settings);
        assert!(
            db.store
                .location_by_name("main")
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            db.store
                .update_location_settings(LocationId(9999), &settings)
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
}

#[tokio::test]
async fn users_memberships_and_sessions() {
    for db in each_backend().await {
        let a = location(&db, "A").await;
        let b = location(&db, "B").await;
        let s = &db.store;
        assert_eq!(s.user_count().await.unwrap(), 0);
        let ann = s
            .create_user(a.id, "Ann@Example.com", "Ann", "hash1", Role::Admin)
            .await
            .unwrap();
        // The same person joins another location; their password stays.
        let again = s
            .create_user(b.id, "ann@example.com", "Ann", "hash2", Role::User)
            .await
            .unwrap();
        assert_eq!(again.id, ann.id);
        assert!(
            s.create_user(a.id, "ANN@example.com", "Ann", "x", Role::User)
                .await
                .unwrap_err()
                .is_conflict()
        );
        let (found, hash) = s
            .user_with_password("ann@EXAMPLE.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.id, hash.as_str()), (ann.id, "hash1"));
        let roles: Vec<_> = s
            .memberships(ann.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.location_name, m.role))
            .collect();
        assert_eq!(
            roles,
            [
                ("A".to_string(), Role::Admin),
                ("B".to_string(), Role::User)
            ]
        );

        s.create_session("tok", ann.id, b.id, now_ms() + 60_000)
            .await
            .unwrap();
        let session = s.session("tok").await.unwrap().unwrap();
        assert_eq!((session.location_id, session.role), (b.id, Role::User));
        s.create_session("old", ann.id, a.id, now_ms() - 1)
            .await
            .unwrap();
        assert_eq!(
            s.session("old").await.unwrap(),
            None,
            "an expired session is no session"
        );
        s.delete_session("tok").await.unwrap();
        assert_eq!(s.session("tok").await.unwrap(), None);
    }
}

#[tokio::test]
async fn custom_fields_of_every_type_are_scoped_by_location_and_object() {
    for db in each_backend().await {
        let a = location(&db, "A").await;
        let b = location(&db, "B").await;
        for ty in CustomFieldType::ALL {
            let f = NewCustomField {
                object: ObjectKind::Company,
                key: format!("f_{}", ty.token()),
                label: format!("F {ty}"),
                field_type: ty,
                options: if ty.has_options() {
                    vec!["Botox".into(), "Filler".into()]
                } else {
                    vec![]
                },
                required: false,
                unique: ty == CustomFieldType::Email,
            };
            db.store.create_custom_field(a.id, &f).await.unwrap();
        }
        let fields = db
            .store
            .custom_fields(a.id, &ObjectKind::Company)
            .await
            .unwrap();
        assert_eq!(fields.len(), CustomFieldType::ALL.len());
        let radio = fields
            .iter()
            .find(|f| f.field_type == CustomFieldType::Radio)
            .unwrap();
        assert_eq!(radio.options, ["Botox", "Filler"]);
        assert!(
            fields
                .iter()
                .find(|f| f.field_type == CustomFieldType::Email)
                .unwrap()
                .unique
        );
        assert!(
            db.store
                .custom_fields(b.id, &ObjectKind::Company)
                .await
                .unwrap()
                .is_empty()
        );
        let dup = NewCustomField {
            label: "Other".into(),
            ..fields_new(&fields[0])
        };
        assert!(
            db.store
                .create_custom_field(a.id, &dup)
                .await
                .unwrap_err()
                .is_conflict()
        );
        // The same key is fine in another location, or on another object.
        db.store.create_custom_field(b.id, &dup).await.unwrap();
        db.store
            .create_custom_field(
                a.id,
                &NewCustomField {
                    object: ObjectKind::Custom("pets".into()),
                    ..dup
                },
            )
            .await
            .unwrap();
    }
}

fn fields_new(f: &CustomField) -> NewCustomField {
    NewCustomField {
        object: f.object.clone(),
        key: f.key.clone(),
        label: f.label.clone(),
        field_type: f.field_type,
        options: f.options.clone(),
        required: f.required,
        unique: f.unique,
    }
}

#[tokio::test]
async fn primary_email_and_phone_are_unique_per_location() {
    for db in each_backend().await {
        let a = location(&db, "A").await;
        let b = location(&db, "B").await;
        let s = &db.store;
        s.insert_contacts(
            a.id,
            &[contact(
                "Jane",
                Some("Jane@Example.com"),
                Some("+12015550123"),
            )],
        )
        .await
        .unwrap();
        // Another case of the same email, and the same phone, conflict — and the whole chunk
        // is rolled back, so the first (valid) contact of the chunk is not written either.
        for dup in [
            contact("J", Some("jane@example.COM"), None),
            contact("J", None, Some("+12015550123")),
        ] {
            let err = s
                .insert_contacts(a.id, &[contact("Ok", Some("ok@example.com"), None), dup])
                .await
                .unwrap_err();
            assert!(err.is_conflict(), "{err}");
        }
        assert_eq!(s.contacts_page(a.id, None, 0, 50).await.unwrap().total, 1);
        // Blank identifiers never conflict, and another location may hold the same values.
        s.insert_contacts(
            a.id,
            &[
                contact("No Id 1", None, None),
                contact("No Id 2", None, None),
            ],
        )
        .await
        .unwrap();
        s.insert_contacts(
            b.id,
            &[contact(
                "Jane B",
                Some("jane@example.com"),
                Some("+12015550123"),
            )],
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn batched_lookups_never_cross_locations() {
    for db in each_backend().await {
        let a = location(&db, "A").await;
        let b = location(&db, "B").await;
        let s = &db.store;
        let ids = s
            .insert_contacts(
                a.id,
                &[
                    contact("One", Some("one@example.com"), Some("+12015550101")),
                    contact("Two", Some("two@example.com"), Some("+12015550102")),
                    contact("Three", None, Some("+12015550103")),
                ],
            )
            .await
            .unwrap();
        let other = s
            .insert_contacts(
                b.id,
                &[contact(
                    "Other",
                    Some("one@example.com"),
                    Some("+12015550102"),
                )],
            )
            .await
            .unwrap();

        let by_email = s
            .contacts_by_emails(
                a.id,
                &[
                    "ONE@example.com".into(),
                    "nobody@example.com".into(),
                    "two@example.com".into(),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            by_email.iter().map(|c| c.id).collect::<Vec<_>>(),
            [ids[0], ids[1]]
        );
        let by_phone = s
            .contacts_by_phones(a.id, &["+12015550102".into(), "+12015550103".into()])
            .await
            .unwrap();
        assert_eq!(
            by_phone.iter().map(|c| c.id).collect::<Vec<_>>(),
            [ids[1], ids[2]]
        );
        let by_id = s
            .contacts_by_ids(a.id, &[ids[2], other[0], 424242])
            .await
            .unwrap();
        assert_eq!(
            by_id.iter().map(|c| c.id).collect::<Vec<_>>(),
            [ids[2]],
            "another location's id is not found"
        );
        assert!(s.contacts_by_emails(a.id, &[]).await.unwrap().is_empty());
        let b_only = s
            .contacts_by_phones(b.id, &["+12015550101".into(), "+12015550102".into()])
            .await
            .unwrap();
        assert_eq!(b_only.iter().map(|c| c.id).collect::<Vec<_>>(), other);
    }
}

#[tokio::test]
async fn contacts_page_searches_and_pages() {
    for db in each_backend().await {
        let a = location(&db, "A").await;
        let b = location(&db, "B").await;
        let s = &db.store;
        let many: Vec<_> = (0..25)
            .map(|i| {
                contact(
                    &format!("Person{i:02}"),
                    Some(&format!("p{i}@example.com")),
                    None,
                )
            })
            .collect();
        s.insert_contacts(a.id, &many).await.unwrap();
        s.insert_contacts(a.id, &[contact("Zoë 100%_off", None, Some("+12015550199"))])
            .await
            .unwrap();
        s.insert_contacts(b.id, &[contact("Person99", None, None)])
            .await
            .unwrap();

        let page = s.contacts_page(a.id, None, 0, 10).await.unwrap();
        assert_eq!((page.total, page.contacts.len()), (26, 10));
        assert_eq!(
            page.contacts[0].display_name(),
            "Zoë 100%_off",
            "newest first"
        );
        let last = s.contacts_page(a.id, None, 20, 10).await.unwrap();
        assert_eq!(last.contacts.len(), 6);

        let found = s.contacts_page(a.id, Some("PERSON1"), 0, 50).await.unwrap();
        assert_eq!(found.total, 10, "Person10..Person19");
        assert_eq!(
            s.contacts_page(a.id, Some("zoë"), 0, 50)
                .await
                .unwrap()
                .total,
            1
        );
        assert_eq!(
            s.contacts_page(a.id, Some("100%_"), 0, 50)
                .await
                .unwrap()
                .total,
            1,
            "LIKE wildcards are literal"
        );
        assert_eq!(
            s.contacts_page(a.id, Some("%"), 0, 50).await.unwrap().total,
            1
        );
        assert_eq!(
            s.contacts_page(a.id, Some("5550199"), 0, 50)
                .await
                .unwrap()
                .total,
            1
        );
        // A phone as people write it finds the E.164 number (issue 18).
        for written in [
            "(201) 555-0199",
            "201.555.0199",
            "+1 201 555 0199",
            "2015550199",
        ] {
            assert_eq!(
                s.contacts_page(a.id, Some(written), 0, 50)
                    .await
                    .unwrap()
                    .total,
                1,
                "{written}"
            );
        }
        assert_eq!(
            s.contacts_page(a.id, Some("(201) 555-0100"), 0, 50)
                .await
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            s.contacts_page(a.id, Some("person99"), 0, 50)
                .await
                .unwrap()
                .total,
            0,
            "another location's contact"
        );
    }
}

#[tokio::test]
async fn a_role_changes_but_a_location_keeps_an_admin() {
    use domain::Role;
    for db in each_backend().await {
        let s = &db.store;
        let spa = s
            .create_location("Spa", &LocationSettings::default())
            .await
            .unwrap();
        let other = s
            .create_location("Other", &LocationSettings::default())
            .await
            .unwrap();
        let ann = s
            .create_user(spa.id, "ann@example.com", "Ann", "h", Role::Admin)
            .await
            .unwrap();
        let bob = s
            .create_user(spa.id, "bob@example.com", "Bob", "h", Role::User)
            .await
            .unwrap();
        let role_of = |users: Vec<(crate::User, Role)>, id: crate::UserId| {
            users.into_iter().find(|(u, _)| u.id == id).map(|(_, r)| r)
        };
        // The last admin stays one.
        let refused = s.set_role(spa.id, ann.id, Role::User).await.unwrap_err();
        assert!(
            refused.to_string().contains("at least one admin"),
            "{refused}"
        );
        // Bob made an admin, then Ann may become a user.
        s.set_role(spa.id, bob.id, Role::Admin).await.unwrap();
        s.set_role(spa.id, ann.id, Role::User).await.unwrap();
        let users = s.location_users(spa.id).await.unwrap();
        assert_eq!(role_of(users.clone(), ann.id), Some(Role::User));
        assert_eq!(role_of(users, bob.id), Some(Role::Admin));
        assert!(
            s.set_role(spa.id, bob.id, Role::User)
                .await
                .unwrap_err()
                .to_string()
                .contains("at least one admin")
        );
        // Only a user of the location.
        assert!(
            s.set_role(other.id, bob.id, Role::User)
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
}
