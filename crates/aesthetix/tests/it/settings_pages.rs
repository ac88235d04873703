//! The Settings pages (SPEC §13.2, issue 18), on both backends: custom fields and their
//! options, workflows and their status, Smart Lists with a live count, users, API keys — for
//! admins only.

use reqwest::StatusCode;

use crate::support::{each_backend, http, page_get as get, spawn_app};
use crate::wizard::login;

/// A form post: its status and where it redirects, or its body when it does not.
async fn post(base: &str, path: &str, cookie: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let (status, location, body) = crate::support::form_post(base, path, cookie, form).await;
    (status, location.unwrap_or(body))
}

#[tokio::test]
async fn settings_pages_do_what_the_command_line_did() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        d.ok(
            &[
                "workflow",
                "create",
                "--location",
                "My Practice",
                "--name",
                "VIP welcome",
                "--trigger",
                "tag-added:VIP",
                "--action",
                "add-tag:welcomed",
                "--status",
                "active",
            ],
            "",
        );
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;

        // A field with options, and one more option added later.
        let (status, to) = post(
            &base,
            "/settings/fields",
            &admin,
            &[
                ("label", "Skin Type"),
                ("type", "single_option"),
                ("options", "Oily\nDry\n"),
            ],
        )
        .await;
        assert_eq!(
            (status, to.as_str()),
            (StatusCode::SEE_OTHER, "/settings/fields?done=field")
        );
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let field = store
            .custom_fields(loc, &domain::ObjectKind::Contact)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.key == "skin_type")
            .unwrap();
        assert_eq!(field.options, ["Oily", "Dry"]);
        let (status, _) = post(
            &base,
            &format!("/settings/fields/{}/options", field.id),
            &admin,
            &[("option", "Combination")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, page) = post(
            &base,
            &format!("/settings/fields/{}/options", field.id),
            &admin,
            &[("option", "oily")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("already has the option"), "{page}");
        let (_, page) = get(&base, "/settings/fields", &admin).await;
        assert!(
            page.contains("Combination") && page.contains("Skin Type"),
            "{page}"
        );

        // A workflow's status.
        let (_, page) = get(&base, "/settings/workflows", &admin).await;
        assert!(
            page.contains("VIP welcome") && page.contains(">active<"),
            "{page}"
        );
        let id = store.workflow_by_name(loc, "VIP welcome").await.unwrap().id;
        let (status, _) = post(
            &base,
            &format!("/settings/workflows/{id}/status"),
            &admin,
            &[("status", "paused")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            store
                .workflow_by_name(loc, "VIP welcome")
                .await
                .unwrap()
                .status,
            store::WorkflowStatus::Paused
        );

        // A Smart List from form controls, counted live; a wrong date is refused in words.
        store
            .insert_contacts(
                loc,
                &[store::NewContact {
                    first_name: Some("Ann".into()),
                    email: Some("ann@example.com".into()),
                    source: Some("Facebook".into()),
                    ..store::NewContact::default()
                }],
            )
            .await
            .unwrap();
        let (_, count) = get(
            &base,
            "/settings/smart-lists/count?source=Facebook&has=email",
            &admin,
        )
        .await;
        assert_eq!(count, r#"{"count":1}"#);
        let (_, count) = get(
            &base,
            "/settings/smart-lists/count?created_after=2024-13-45",
            &admin,
        )
        .await;
        assert!(count.contains("\"error\""), "{count}");
        let (status, to) = post(
            &base,
            "/settings/smart-lists",
            &admin,
            &[
                ("name", "From Facebook"),
                ("source", "Facebook"),
                ("verification", "not_invalid"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
        let list = store
            .smart_list_by_name(loc, "From Facebook")
            .await
            .unwrap();
        assert_eq!(store.smart_list_count(loc, &list).await.unwrap(), 1);

        // A user, then a key shown once and revoked.
        let (status, _) = post(
            &base,
            "/settings/users",
            &admin,
            &[
                ("name", "Sam Staff"),
                ("email", "sam@example.com"),
                ("role", "user"),
                ("password", "a long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let sam = login(&base, "sam@example.com", "a long password").await;
        for path in ["/settings/fields", "/settings/users", "/settings/api-keys"] {
            assert_eq!(
                get(&base, path, &sam).await.0,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let (status, page) = post(&base, "/settings/api-keys", &admin, &[]).await;
        assert_eq!(status, StatusCode::OK);
        let marker = "<code style=\"font-size:1rem\">";
        let at = page.find(marker).unwrap() + marker.len();
        let key = page[at..].split('<').next().unwrap().to_string();
        assert!(key.starts_with("ax_"), "{key}");
        let api = http()
            .get(format!("{base}/api/v1/contacts"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::OK);
        let prefix = key.split('_').nth(1).unwrap().to_string();
        let (status, _) = post(
            &base,
            &format!("/settings/api-keys/{prefix}/revoke"),
            &admin,
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let api = http()
            .get(format!("{base}/api/v1/contacts"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
        store.close().await;
        drop(app);
    }
}

/// Posts a contact to a webhook's path; its status.
async fn hook(base: &str, path: &str) -> StatusCode {
    http()
        .post(format!("{base}{path}"))
        .json(&serde_json::json!({"first_name": "Ann", "email": "ann@example.com"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_webhooks_page_makes_a_webhook_shown_once_and_deletes_it() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        d.ok(&["location", "create", "Other Spa"], "");
        for (location, email, role) in [
            ("Other Spa", "other@example.com", "admin"),
            ("My Practice", "staff@example.com", "user"),
        ] {
            d.ok(
                &[
                    "user",
                    "create",
                    "--location",
                    location,
                    "--email",
                    email,
                    "--name",
                    email,
                    "--role",
                    role,
                ],
                "a long password\n",
            );
        }
        let staff = login(&base, "staff@example.com", "a long password").await;
        let other = login(&base, "other@example.com", "a long password").await;

        let (status, page) = get(&base, "/settings/webhooks", &admin).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("No webhooks yet."), "{page}");
        assert!(
            page.contains(r#"href="/settings/webhooks""#),
            "in the section list"
        );
        assert!(
            page.contains(&format!(
                r#"name="csrf_token" value="{}""#,
                crate::support::csrf(&admin)
            )),
            "the forms carry the form token"
        );

        // Made: its secret path shown once, on the answer; it takes a contact.
        let (status, page) = post(&base, "/settings/webhooks", &admin, &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let marker = "<code style=\"font-size:1rem;word-break:break-all\">";
        let at = page.find(marker).expect("the new webhook's path") + marker.len();
        let path = page[at..].split('<').next().unwrap().to_string();
        assert!(path.starts_with("/hooks/") && path.len() > 30, "{path}");
        assert_eq!(hook(&base, &path).await, StatusCode::CREATED);
        let (_, page) = get(&base, "/settings/webhooks", &admin).await;
        assert!(!page.contains(&path), "shown only once: {page}");
        let id: i64 = page
            .split("data-webhook=\"")
            .nth(1)
            .expect("listed")
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();

        // Admins of this location only: a user is refused, another location sees nothing.
        let delete = format!("/settings/webhooks/{id}/delete");
        assert_eq!(
            get(&base, "/settings/webhooks", &staff).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(&base, "/settings/webhooks", &staff, &[]).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(&base, &delete, &staff, &[]).await.0,
            StatusCode::FORBIDDEN
        );
        let (_, theirs) = get(&base, "/settings/webhooks", &other).await;
        assert!(theirs.contains("No webhooks yet."), "{theirs}");
        assert_eq!(
            post(&base, &delete, &other, &[]).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(hook(&base, &path).await, StatusCode::OK, "still in use");

        // Without the form token, nothing is deleted.
        let resp = http()
            .post(format!("{base}{delete}"))
            .header(reqwest::header::COOKIE, &admin)
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(hook(&base, &path).await, StatusCode::OK, "still in use");

        // Deleted: its URL is refused and the list no longer shows it.
        let (status, to) = post(&base, &delete, &admin, &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(to, "/settings/webhooks?done=webhook-deleted");
        let (_, page) = get(&base, &to, &admin).await;
        assert!(page.contains("The webhook was deleted"), "{page}");
        assert!(page.contains("No webhooks yet."), "{page}");
        assert_eq!(hook(&base, &path).await, StatusCode::NOT_FOUND);
        assert_eq!(
            post(&base, &delete, &admin, &[]).await.0,
            StatusCode::NOT_FOUND,
            "deleted once"
        );
        drop(app);
    }
}

/// The id of the user with `email` on the Users page.
fn user_id(page: &str, email: &str) -> String {
    page.split("<tr data-user=\"")
        .skip(1)
        .find(|row| row.contains(&format!("<td>{email}</td>")))
        .unwrap_or_else(|| panic!("{email} listed: {page}"))
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_role_changes_on_the_users_page_but_the_location_keeps_an_admin() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;
        d.ok(&["location", "create", "Other Spa"], "");
        for (location, who, role) in [
            ("Other Spa", "other@example.com", "admin"),
            ("My Practice", "staff@example.com", "user"),
        ] {
            d.ok(
                &[
                    "user",
                    "create",
                    "--location",
                    location,
                    "--email",
                    who,
                    "--name",
                    who,
                    "--role",
                    role,
                ],
                "a long password\n",
            );
        }
        let staff = login(&base, "staff@example.com", "a long password").await;
        let other = login(&base, "other@example.com", "a long password").await;
        let (_, page) = get(&base, "/settings/users", &admin).await;
        let me = format!("/settings/users/{}/role", user_id(&page, &email));
        let them = format!(
            "/settings/users/{}/role",
            user_id(&page, "staff@example.com")
        );

        // The only admin stays one, in plain words; nothing changes.
        let (status, page) = post(&base, &me, &admin, &[("role", "user")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(
            page.contains(
                "This location needs at least one admin: make someone else an admin first."
            ),
            "{page}"
        );
        assert_eq!(
            get(&base, "/settings/users", &admin).await.0,
            StatusCode::OK
        );
        let (status, page) = post(&base, &them, &admin, &[("role", "owner")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("Choose a role: admin or user."), "{page}");

        // Only this location's admins change roles.
        assert_eq!(
            post(&base, &them, &staff, &[("role", "admin")]).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(&base, &them, &other, &[("role", "admin")]).await.0,
            StatusCode::NOT_FOUND,
            "not a user of the other location"
        );
        assert_eq!(
            get(&base, "/settings/users", &staff).await.0,
            StatusCode::FORBIDDEN
        );

        // The staff member made an admin reaches Settings; then the first admin may step down.
        let (status, to) = post(&base, &them, &admin, &[("role", "admin")]).await;
        assert_eq!(
            (status, to.as_str()),
            (StatusCode::SEE_OTHER, "/settings/users?done=role")
        );
        let (status, page) = get(&base, "/settings/users?done=role", &staff).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("The role was changed."), "{page}");
        let (status, to) = post(&base, &me, &admin, &[("role", "user")]).await;
        assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/"));
        assert_eq!(
            get(&base, "/settings/users", &admin).await.0,
            StatusCode::FORBIDDEN
        );
        let (_, page) = get(&base, "/settings/users", &staff).await;
        assert!(
            page.contains(&format!(
                r#"aria-label="Role of {email}"><option value="user" selected>"#
            )),
            "{page}"
        );
        // And now the staff member is the one admin left.
        let (status, _) = post(&base, &them, &staff, &[("role", "user")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        drop(app);
    }
}

/// SPEC §8 from the Settings pages: a custom object defined, fields of it and of companies
/// made unique or required (the rules `object create` / `field create` keep, refused in words),
/// and an import of the object reading what the pages defined.
#[tokio::test]
async fn settings_define_objects_and_their_fields() {
    for d in each_backend().await {
        let app = spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = login(&base, &email, &password).await;

        let (status, to) = post(
            &base,
            "/settings/objects",
            &admin,
            &[
                ("name", "Treatments"),
                ("primary", "Treatment Name"),
                ("key", ""),
            ],
        )
        .await;
        assert_eq!(
            (status, to.as_str()),
            (
                StatusCode::SEE_OTHER,
                "/settings/fields?object=treatments&done=object"
            )
        );
        for (form, says) in [
            (
                [("name", "Treatments"), ("primary", "Name"), ("key", "")],
                "exists already",
            ),
            (
                [("name", "Company"), ("primary", "Name"), ("key", "")],
                "standard object",
            ),
            (
                [
                    ("name", "Cards"),
                    ("primary", "Code"),
                    ("key", "Gift Cards"),
                ],
                "lower-case",
            ),
            (
                [("name", "Cards"), ("primary", " "), ("key", "")],
                "primary field",
            ),
        ] {
            let (status, page) = post(&base, "/settings/objects", &admin, &form).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
            assert!(page.contains(says), "{form:?}: {page}");
        }

        let field =
            |object: &'static str, label: &'static str, t: &'static str, mark: &'static str| {
                let base = base.clone();
                let admin = admin.clone();
                async move {
                    let mut form = vec![("object", object), ("label", label), ("type", t)];
                    if !mark.is_empty() {
                        form.push((mark, "1"));
                    }
                    post(&base, "/settings/fields", &admin, &form).await
                }
            };
        assert_eq!(
            field("treatments", "Price", "monetary", "required").await,
            (
                StatusCode::SEE_OTHER,
                "/settings/fields?object=treatments&done=field".to_string()
            )
        );
        assert_eq!(
            field("treatments", "SKU", "text", "unique").await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            field("company", "NPI", "number", "unique").await,
            (
                StatusCode::SEE_OTHER,
                "/settings/fields?object=company&done=field".to_string()
            )
        );
        for (object, label, t, mark, says) in [
            (
                "treatments",
                "Notes",
                "large_text",
                "unique",
                "cannot be unique",
            ),
            ("company", "Tier", "text", "required", "custom object"),
            (
                "contact",
                "Code",
                "text",
                "unique",
                "companies and custom objects",
            ),
            ("company", "Website", "text", "", "standard company field"),
            ("treatments", "SKU", "text", "", "already exists"),
        ] {
            let (status, page) = field(object, label, t, mark).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{object} {label}");
            assert!(page.contains(says), "{object} {label}: {page}");
        }
        assert_eq!(
            field("nope", "X", "text", "").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&base, "/settings/fields?object=nope", &admin).await.0,
            StatusCode::NOT_FOUND
        );

        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let kind = domain::ObjectKind::Custom("treatments".into());
        let schema = store.object_schema(loc, &kind).await.unwrap();
        let marks: Vec<(&str, bool, bool)> = schema
            .fields
            .iter()
            .filter(|f| f.custom)
            .map(|f| (f.key.as_str(), f.required, f.unique))
            .collect();
        assert_eq!(marks, [("price", true, false), ("sku", false, true)]);
        let company = store
            .object_schema(loc, &domain::ObjectKind::Company)
            .await
            .unwrap();
        assert!(company.field("npi").is_some_and(|f| f.unique));

        let (_, page) = get(&base, "/settings/fields?object=treatments", &admin).await;
        assert!(
            page.contains("Primary field: <strong>Treatment Name</strong>")
                && page.contains("data-mark=\"required\"")
                && page.contains("data-mark=\"unique\"")
                && page.contains("id=\"required\""),
            "{page}"
        );
        let (_, page) = get(&base, "/settings/fields", &admin).await;
        assert!(
            !page.contains("id=\"unique\"") && !page.contains("id=\"required\""),
            "contacts offer neither mark: {page}"
        );
        let (_, page) = get(&base, "/settings/objects", &admin).await;
        assert!(
            page.contains("data-object=\"treatments\"")
                && page.contains("Price (required)")
                && page.contains("SKU (unique)"),
            "{page}"
        );

        // An import of the object reads what the pages defined: Price is required.
        let file = d.dir.path().join("treatments.csv");
        std::fs::write(&file, "Treatment Name,SKU\nBotox,S1\n").unwrap();
        let out = d.run(
            &[
                "import",
                "records",
                file.to_str().unwrap(),
                "--object",
                "treatments",
                "--location",
                "My Practice",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("Price"));
        std::fs::write(&file, "Treatment Name,SKU,Price\nBotox,S1,12\n").unwrap();
        d.ok(
            &[
                "import",
                "records",
                file.to_str().unwrap(),
                "--object",
                "treatments",
                "--location",
                "My Practice",
            ],
            "",
        );
        assert_eq!(store.record_count(loc, &kind).await.unwrap(), 1);
        let (_, page) = get(&base, "/settings/objects", &admin).await;
        assert!(
            page.contains("<a href=\"/objects/treatments\">1</a>"),
            "{page}"
        );

        // Admins only, on the server.
        let (status, _) = post(
            &base,
            "/settings/users",
            &admin,
            &[
                ("name", "Sam Staff"),
                ("email", "sam@example.com"),
                ("role", "user"),
                ("password", "a long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let sam = login(&base, "sam@example.com", "a long password").await;
        assert_eq!(
            get(&base, "/settings/objects", &sam).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, _) = post(
            &base,
            "/settings/objects",
            &sam,
            &[("name", "Memberships"), ("primary", "Plan"), ("key", "")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(store.custom_objects(loc).await.unwrap().len(), 1);
    }
}
