//! `location create`, `user create`, `field create`: what an operator types, and what they
//! see when they get it wrong.

use domain::{CustomFieldType, ObjectKind, Role};

use crate::support::each_backend;

#[tokio::test]
async fn an_operator_sets_up_a_location_users_and_fields() {
    for d in each_backend().await {
        let out = d.ok(
            &[
                "location",
                "create",
                "Glow Med Spa",
                "--country",
                "ca",
                "--timezone",
                "America/Toronto",
                "--currency",
                "CAD",
            ],
            "",
        );
        assert!(out.contains("Created location 'Glow Med Spa'"), "{out}");
        d.ok(
            &[
                "user",
                "create",
                "--location",
                "Glow Med Spa",
                "--email",
                "ann@example.com",
                "--name",
                "Ann Admin",
                "--role",
                "admin",
            ],
            "correct horse battery\n",
        );
        d.ok(
            &[
                "user",
                "create",
                "--location",
                "Glow Med Spa",
                "--email",
                "bob@example.com",
                "--name",
                "Bob",
                "--role",
                "user",
            ],
            "another password\n",
        );
        for ty in CustomFieldType::ALL {
            let label = format!("My {ty} field");
            let mut args = vec![
                "field",
                "create",
                "--location",
                "Glow Med Spa",
                "--object",
                "contact",
                "--label",
                &label,
                "--type",
                ty.token(),
            ];
            if ty.has_options() {
                args.extend(["--option", "Botox Consult", "--option", "Filler"]);
            }
            d.ok(&args, "");
        }
        d.ok(
            &[
                "field",
                "create",
                "--location",
                "Glow Med Spa",
                "--object",
                "company",
                "--label",
                "Tax ID",
                "--type",
                "text",
                "--key",
                "tax_id",
            ],
            "",
        );

        let store = d.store().await;
        let loc = store.location_by_name("Glow Med Spa").await.unwrap();
        assert_eq!(
            (
                loc.settings.country.as_str(),
                loc.settings.timezone.as_str(),
                loc.settings.currency.as_str()
            ),
            ("CA", "America/Toronto", "CAD")
        );
        let users: Vec<_> = store
            .location_users(loc.id)
            .await
            .unwrap()
            .into_iter()
            .map(|(u, r)| (u.email, r))
            .collect();
        assert_eq!(
            users,
            [
                ("ann@example.com".to_string(), Role::Admin),
                ("bob@example.com".to_string(), Role::User)
            ]
        );
        let (_, hash) = store
            .user_with_password("ann@example.com")
            .await
            .unwrap()
            .unwrap();
        assert!(
            web::verify_password("correct horse battery", &hash),
            "the password from stdin is the one stored"
        );
        let fields = store
            .custom_fields(loc.id, &ObjectKind::Contact)
            .await
            .unwrap();
        assert_eq!(
            fields.len(),
            6 + CustomFieldType::ALL.len(),
            "starter fields + one of each type"
        );
        let ms = fields
            .iter()
            .find(|f| f.key == "my_multi_select_field")
            .unwrap();
        assert_eq!(
            (ms.field_type, ms.options.clone()),
            (
                CustomFieldType::MultiSelect,
                vec!["Botox Consult".to_string(), "Filler".to_string()]
            )
        );
        let company = store
            .custom_fields(loc.id, &ObjectKind::Company)
            .await
            .unwrap();
        assert_eq!(
            company.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(),
            ["tax_id"]
        );
        store.close().await;
    }
}

#[tokio::test]
async fn mistakes_exit_1_with_a_plain_reason_and_change_nothing() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Main"], "");
        let cases: &[(&[&str], &str, &str)] = &[
            (&["location", "create", "Main"], "", "already exists"),
            (
                &["location", "create", "X", "--timezone", "america/new_york"],
                "",
                "America/New_York",
            ),
            (
                &["location", "create", "X", "--country", "USA"],
                "",
                "two-letter",
            ),
            (
                &[
                    "user",
                    "create",
                    "--location",
                    "Nowhere",
                    "--email",
                    "a@b.c",
                    "--name",
                    "A",
                    "--role",
                    "admin",
                ],
                "password1\n",
                "no location named 'Nowhere'; known locations: Main",
            ),
            (
                &[
                    "user",
                    "create",
                    "--location",
                    "Main",
                    "--email",
                    "a@b.c",
                    "--name",
                    "A",
                    "--role",
                    "admin",
                ],
                "short\n",
                "at least 8 characters",
            ),
            (
                &[
                    "user",
                    "create",
                    "--location",
                    "Main",
                    "--email",
                    "not-an-email",
                    "--name",
                    "A",
                    "--role",
                    "admin",
                ],
                "password1\n",
                "not an email address",
            ),
            (
                &[
                    "field",
                    "create",
                    "--location",
                    "Main",
                    "--object",
                    "contact",
                    "--label",
                    "Kind",
                    "--type",
                    "dropdown",
                ],
                "",
                "unknown field type 'dropdown'",
            ),
            (
                &[
                    "field",
                    "create",
                    "--location",
                    "Main",
                    "--object",
                    "contact",
                    "--label",
                    "Kind",
                    "--type",
                    "radio",
                ],
                "",
                "--option VALUE",
            ),
            (
                &[
                    "field",
                    "create",
                    "--location",
                    "Main",
                    "--object",
                    "contact",
                    "--label",
                    "Kind",
                    "--type",
                    "text",
                    "--option",
                    "A",
                ],
                "",
                "has no options",
            ),
            (
                &[
                    "field",
                    "create",
                    "--location",
                    "Main",
                    "--object",
                    "contact",
                    "--label",
                    "Kind",
                    "--type",
                    "radio",
                    "--option",
                    "A",
                    "--option",
                    "a",
                ],
                "",
                "given twice",
            ),
            (
                &[
                    "field",
                    "create",
                    "--location",
                    "Main",
                    "--object",
                    "contact",
                    "--label",
                    "Email",
                    "--type",
                    "text",
                ],
                "",
                "standard contact field",
            ),
            (
                &[
                    "field",
                    "create",
                    "--location",
                    "Main",
                    "--object",
                    "contact",
                    "--label",
                    "Patient Since",
                    "--type",
                    "date",
                ],
                "",
                "already exists",
            ),
            (
                &[
                    "field",
                    "create",
                    "--location",
                    "Main",
                    "--object",
                    "pets",
                    "--label",
                    "Name",
                    "--type",
                    "text",
                ],
                "",
                "not contact, opportunity, company",
            ),
        ];
        for (args, stdin, expected) in cases {
            let out = d.run(args, stdin);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "`{}`: {stderr}", args.join(" "));
            assert!(
                stderr.contains(expected),
                "`{}` should say {expected:?}, said: {stderr}",
                args.join(" ")
            );
            assert!(
                !stderr.contains("Error {") && !stderr.contains("Database("),
                "no debug output: {stderr}"
            );
        }
        let store = d.store().await;
        assert_eq!(store.locations().await.unwrap().len(), 1);
        assert_eq!(store.user_count().await.unwrap(), 0);
        let loc = store.location_by_name("Main").await.unwrap();
        assert_eq!(
            store
                .custom_fields(loc.id, &ObjectKind::Contact)
                .await
                .unwrap()
                .len(),
            6
        );
        store.close().await;

        let usage = d.run(&["location", "create"], "");
        assert_eq!(usage.status.code(), Some(2), "bad usage is clap's exit 2");
    }
}
