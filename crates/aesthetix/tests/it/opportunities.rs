//! Pipelines and the opportunities board (SPEC §7, §13.1, §13.2), on both backends: the
//! `pipeline` commands, the Settings page of pipelines, the API's list, and the board.

use crate::support::each_backend;

#[tokio::test]
async fn pipeline_create_and_list_as_the_command_line_says() {
    for d in each_backend().await {
        d.ok(&["location", "create", "Glow"], "");
        let out = d.ok(
            &[
                "pipeline",
                "create",
                "--location",
                "Glow",
                "--name",
                "Surgical Journey",
                "--stage",
                "New Lead",
                "--stage",
                "Consult Booked",
                "--stage",
                "Surgery Scheduled",
            ],
            "",
        );
        assert!(
            out.contains("Created pipeline 'Surgical Journey'")
                && out.contains("New Lead → Consult Booked → Surgery Scheduled"),
            "{out}"
        );
        d.ok(
            &[
                "pipeline",
                "create",
                "--location",
                "Glow",
                "--name",
                "Botox",
                "--stage",
                "Booked",
            ],
            "",
        );

        // Refusals: exit 1, the reason on stderr, nothing made.
        for (args, part) in [
            (
                vec!["--name", "surgical journey", "--stage", "X"],
                "already a pipeline named 'Surgical Journey'",
            ),
            (vec!["--name", " ", "--stage", "X"], "must not be blank"),
            (
                vec!["--name", "Fillers", "--stage", "A", "--stage", "a"],
                "given twice",
            ),
            (
                vec!["--name", "Fillers", "--stage", ""],
                "must not be blank",
            ),
        ] {
            let mut all = vec!["pipeline", "create", "--location", "Glow"];
            all.extend(args.iter().copied());
            let out = d.run(&all, "");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(stderr.contains(part), "{args:?}: {stderr}");
        }
        // No stage at all is a usage error (clap's own).
        let out = d.run(
            &[
                "pipeline",
                "create",
                "--location",
                "Glow",
                "--name",
                "Fillers",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(2));
        let out = d.run(&["pipeline", "list", "--location", "Nowhere"], "");
        assert_eq!(out.status.code(), Some(1));

        let text = d.ok(&["pipeline", "list", "--location", "Glow"], "");
        assert_eq!(
            text,
            "Surgical Journey: New Lead → Consult Booked → Surgery Scheduled\nBotox: Booked\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&d.ok(&["pipeline", "list", "--location", "Glow", "--json"], ""))
                .unwrap();
        let list = json.as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["name"], "Surgical Journey");
        let stages: Vec<&str> = list[0]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(stages, ["New Lead", "Consult Booked", "Surgery Scheduled"]);
        assert!(list[0]["id"].is_i64() && list[0]["stages"][0]["id"].is_i64());
    }
}

/// A form post: its status and where it redirects, or its body when it does not.
async fn post(
    base: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (reqwest::StatusCode, String) {
    let (status, location, body) = crate::support::form_post(base, path, cookie, form).await;
    (status, location.unwrap_or(body))
}

/// Two more sign-ins of the first location's deployment: a user of it, and an admin of
/// another location.
async fn staff_and_stranger(d: &crate::support::Deployment, base: &str) -> (String, String) {
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
    (
        crate::wizard::login(base, "staff@example.com", "a long password").await,
        crate::wizard::login(base, "other@example.com", "a long password").await,
    )
}

#[tokio::test]
async fn the_pipelines_page_adds_renames_and_reorders_for_admins_only() {
    use reqwest::StatusCode;
    for d in each_backend().await {
        let app = crate::support::spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = crate::wizard::login(&base, &email, &password).await;
        let (staff, other) = staff_and_stranger(&d, &base).await;
        let get = |path: &'static str, who: String| {
            let base = base.clone();
            async move { crate::support::page_get(&base, path, &who).await }
        };

        let (status, page) = get("/settings/pipelines", admin.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("No pipelines yet."), "{page}");
        let (_, settings) = get("/settings", admin.clone()).await;
        assert!(settings.contains(r#"href="/settings/pipelines""#));

        // Added with its stages, one a line (blank lines ignored).
        let (status, to) = post(
            &base,
            "/settings/pipelines",
            &admin,
            &[
                ("name", "Surgical Journey"),
                ("stages", "New Lead\r\n\r\nConsult Booked\nSurgery\n"),
            ],
        )
        .await;
        assert_eq!(
            (status, to.as_str()),
            (StatusCode::SEE_OTHER, "/settings/pipelines?done=pipeline")
        );
        // Refused, with the reason, and the form keeps what was typed.
        let (status, page) = post(
            &base,
            "/settings/pipelines",
            &admin,
            &[("name", "surgical journey"), ("stages", "Only")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("There is already a pipeline named"), "{page}");
        assert!(page.contains(">Only</textarea>"), "{page}");
        let (status, page) = post(
            &base,
            "/settings/pipelines",
            &admin,
            &[("name", "Botox"), ("stages", "A\na")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("is given twice"), "{page}");

        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let p = store
            .pipeline_by_name(loc, "Surgical Journey")
            .await
            .unwrap();
        let stage = |i: usize| p.stages[i].id;

        let rename = format!("/settings/pipelines/{}/rename", p.id);
        let (status, _) = post(&base, &rename, &admin, &[("name", "Surgery Journey")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _) = post(
            &base,
            &format!("/settings/stages/{}/rename", stage(2)),
            &admin,
            &[("name", "Surgery Scheduled")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, page) = post(
            &base,
            &format!("/settings/stages/{}/rename", stage(2)),
            &admin,
            &[("name", "new lead")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("already"), "{page}");
        let (status, _) = post(
            &base,
            &format!("/settings/pipelines/{}/stages", p.id),
            &admin,
            &[("name", "Follow-up")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, to) = post(
            &base,
            &format!("/settings/stages/{}/move", stage(0)),
            &admin,
            &[("to", "later")],
        )
        .await;
        assert_eq!(
            (status, to.as_str()),
            (StatusCode::SEE_OTHER, "/settings/pipelines?done=moved")
        );
        let (status, _) = post(
            &base,
            &format!("/settings/stages/{}/move", stage(0)),
            &admin,
            &[("to", "sideways")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let now = store.pipeline(loc, p.id).await.unwrap();
        assert_eq!(now.name, "Surgery Journey");
        assert_eq!(
            now.stages
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            [
                "Consult Booked",
                "New Lead",
                "Surgery Scheduled",
                "Follow-up"
            ]
        );
        let (_, page) = get("/settings/pipelines?done=moved", admin.clone()).await;
        for name in [
            "Surgery Journey",
            "Consult Booked",
            "Follow-up",
            "The stage was moved.",
        ] {
            assert!(page.contains(name), "{name}: {page}");
        }

        // Admins of this location only: a user is refused; another location's admin finds
        // nothing to change.
        assert_eq!(
            get("/settings/pipelines", staff.clone()).await.0,
            StatusCode::FORBIDDEN
        );
        for (path, form) in [
            (
                "/settings/pipelines".to_string(),
                vec![("name", "Mine"), ("stages", "A")],
            ),
            (rename.clone(), vec![("name", "Mine")]),
            (
                format!("/settings/stages/{}/move", stage(1)),
                vec![("to", "earlier")],
            ),
        ] {
            assert_eq!(
                post(&base, &path, &staff, &form).await.0,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let (_, theirs) = get("/settings/pipelines", other.clone()).await;
        assert!(theirs.contains("No pipelines yet."), "{theirs}");
        for (path, form) in [
            (rename.clone(), vec![("name", "Mine")]),
            (
                format!("/settings/pipelines/{}/stages", p.id),
                vec![("name", "Mine")],
            ),
            (
                format!("/settings/stages/{}/rename", stage(1)),
                vec![("name", "Mine")],
            ),
            (
                format!("/settings/stages/{}/move", stage(1)),
                vec![("to", "earlier")],
            ),
        ] {
            assert_eq!(
                post(&base, &path, &other, &form).await.0,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(store.pipeline(loc, p.id).await.unwrap(), now, "unchanged");

        // The API lists them, for its key's location only.
        let key = crate::api::create_key(&d, "My Practice");
        let (status, list) =
            crate::api::json(&base, reqwest::Method::GET, "/pipelines", &key).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            list,
            serde_json::json!([{
                "id": p.id,
                "name": "Surgery Journey",
                "stages": now.stages.iter().map(|s| serde_json::json!({"id": s.id, "name": s.name})).collect::<Vec<_>>(),
            }])
        );
        let theirs = crate::api::create_key(&d, "Other Spa");
        let (_, list) = crate::api::json(&base, reqwest::Method::GET, "/pipelines", &theirs).await;
        assert_eq!(list, serde_json::json!([]));
        let (status, _) =
            crate::api::json(&base, reqwest::Method::GET, "/pipelines", "ax_nope").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

/// Two pipelines made through the CLI — Surgical Journey (New Lead, Consult Booked) and Botox
/// (Booked) — and the store, location and both pipelines as the store reads them.
async fn two_pipelines(
    d: &crate::support::Deployment,
) -> (
    store::Store,
    store::LocationId,
    store::Pipeline,
    store::Pipeline,
) {
    for (name, stages) in [
        ("Surgical Journey", &["New Lead", "Consult Booked"][..]),
        ("Botox", &["Booked"][..]),
    ] {
        let mut args = vec![
            "pipeline",
            "create",
            "--location",
            "My Practice",
            "--name",
            name,
        ];
        for stage in stages {
            args.extend(["--stage", stage]);
        }
        d.ok(&args, "");
    }
    let store = d.store().await;
    let loc = store.location_by_name("My Practice").await.unwrap().id;
    let p = store
        .pipeline_by_name(loc, "Surgical Journey")
        .await
        .unwrap();
    let botox = store.pipeline_by_name(loc, "Botox").await.unwrap();
    (store, loc, p, botox)
}

#[tokio::test]
async fn the_board_shows_columns_and_moves_a_card_by_a_form_post() {
    use reqwest::StatusCode;
    for d in each_backend().await {
        let app = crate::support::spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = crate::wizard::login(&base, &email, &password).await;
        let (staff, other) = staff_and_stranger(&d, &base).await;

        let (status, page) = crate::support::page_get(&base, "/opportunities", &staff).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("no pipelines yet"), "{page}");
        assert!(page.contains(r#"href="/opportunities""#), "in the nav");

        let (store, loc, p, botox) = two_pipelines(&d).await;
        let ana = store
            .insert_contacts(
                loc,
                &[store::NewContact {
                    first_name: Some("Ana".into()),
                    last_name: Some("<Silva>".into()),
                    ..store::NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        let rhino = store::testing::insert_opportunity(
            &store,
            loc,
            &p.stages[0],
            p.id,
            "Rhinoplasty",
            Some("8500.5"),
            Some(ana),
        )
        .await;
        store::testing::insert_opportunity(
            &store,
            loc,
            &p.stages[0],
            p.id,
            "Facelift",
            Some("12000"),
            None,
        )
        .await;
        store::testing::insert_opportunity(
            &store,
            loc,
            &botox.stages[0],
            botox.id,
            "Botox 20u",
            Some("300"),
            None,
        )
        .await;

        // Any signed-in user of the location sees the first pipeline's board.
        let (status, page) = crate::support::page_get(&base, "/opportunities", &staff).await;
        assert_eq!(status, StatusCode::OK);
        let new_lead = page.split("data-stage=\"").nth(1).unwrap();
        assert!(new_lead.starts_with(&p.stages[0].id.to_string()), "{page}");
        assert!(
            new_lead.contains(r#"<span data-field="count">2</span>"#),
            "{page}"
        );
        assert!(
            new_lead.contains(r#"<span data-field="total">20,500.50</span> USD"#),
            "{page}"
        );
        assert!(new_lead.contains("8,500.50 USD"), "{page}");
        assert!(
            new_lead.contains(&format!(
                r#"<a href="/contacts/{ana}">Ana &#60;Silva&#62;</a>"#
            )) || new_lead.contains(&format!(
                r#"<a href="/contacts/{ana}">Ana &lt;Silva&gt;</a>"#
            )),
            "escaped, linked: {page}"
        );
        assert!(new_lead.contains(">Open</span>"), "{page}");
        assert!(!page.contains("Botox 20u"), "one pipeline at a time");
        let (_, page) = crate::support::page_get(
            &base,
            &format!("/opportunities?pipeline={}", botox.id),
            &staff,
        )
        .await;
        assert!(
            page.contains("Botox 20u") && !page.contains("Rhinoplasty"),
            "{page}"
        );
        assert_eq!(
            crate::support::page_get(
                &base,
                &format!("/opportunities?pipeline={}", p.id + 1000),
                &staff
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );

        // A move is a form post; it bumps the version and redirects to the board.
        let (_, v0) = store::testing::opportunity_stage_version(&store, rhino).await;
        let booked = p.stages[1].id.to_string();
        let (status, to) = post(
            &base,
            &format!("/opportunities/{rhino}/move"),
            &staff,
            &[("stage", &booked)],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            to,
            format!("/opportunities?pipeline={}&moved=1#card-{rhino}", p.id)
        );
        assert_eq!(
            store::testing::opportunity_stage_version(&store, rhino).await,
            (p.stages[1].id, v0 + 1)
        );
        let (_, page) =
            crate::support::page_get(&base, to.split('#').next().unwrap(), &admin).await;
        assert!(page.contains("The opportunity was moved."), "{page}");
        let booked_column = page.split("data-stage=\"").nth(2).unwrap();
        assert!(
            booked_column.contains("Rhinoplasty")
                && booked_column.contains(r#"<span data-field="count">1</span>"#),
            "{page}"
        );
        assert!(
            booked_column.contains(&format!(r#"id="card-{rhino}""#)),
            "{page}"
        );

        // Not to another pipeline's stage; not another location's card; not without a session.
        let (status, _) = post(
            &base,
            &format!("/opportunities/{rhino}/move"),
            &staff,
            &[("stage", &botox.stages[0].id.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = post(
            &base,
            &format!("/opportunities/{rhino}/move"),
            &other,
            &[("stage", &p.stages[0].id.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let resp = crate::support::http()
            .get(format!("{base}/opportunities"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            store::testing::opportunity_stage_version(&store, rhino).await,
            (p.stages[1].id, v0 + 1)
        );
    }
}

#[tokio::test]
async fn export_opportunities_writes_spec_7_columns_as_a_bulk_action_of_opportunities() {
    for d in each_backend().await {
        let app = crate::support::spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = crate::wizard::login(&base, &email, &password).await;
        let (store, loc, p, botox) = two_pipelines(&d).await;
        let ana = store
            .insert_contacts(
                loc,
                &[store::NewContact {
                    first_name: Some("Ana".into()),
                    email: Some("ana@example.com".into()),
                    ..store::NewContact::default()
                }],
            )
            .await
            .unwrap()[0];
        let rhino = store::testing::insert_opportunity(
            &store,
            loc,
            &p.stages[1],
            p.id,
            "Rhinoplasty",
            Some("8500.50"),
            Some(ana),
        )
        .await;
        store::testing::insert_opportunity(
            &store,
            loc,
            &botox.stages[0],
            botox.id,
            "Botox 20u",
            Some("300"),
            None,
        )
        .await;

        let out = d.dir.path().join("opps.csv");
        let said = d.ok(
            &[
                "export",
                "opportunities",
                "--location",
                "My Practice",
                "--pipeline",
                "surgical journey",
                "--output",
                out.to_str().unwrap(),
            ],
            "",
        );
        assert!(said.contains("Exported 1 opportunity to"), "{said}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            text,
            format!(
                "\u{feff}Opportunity ID,Opportunity Name,Pipeline,Stage,Opportunity Status,Opportunity Value,\
                 Opportunity Owner,Opportunity Source,Contact ID,First Name,Last Name,Email,Phone\r\n\
                 {rhino},Rhinoplasty,Surgical Journey,Consult Booked,Open,8500.50,,,{ana},Ana,,ana@example.com,\r\n"
            )
        );
        // Every pipeline without --pipeline.
        let all = d.dir.path().join("all.csv");
        let said = d.ok(
            &[
                "export",
                "opportunities",
                "--location",
                "My Practice",
                "--output",
                all.to_str().unwrap(),
            ],
            "",
        );
        assert!(said.contains("Exported 2 opportunities"), "{said}");

        // An unknown pipeline or column is exit 1 with the reason, and nothing is recorded.
        let jobs_before = d.ok(&["jobs", "list", "--location", "My Practice", "--json"], "");
        for (args, part) in [
            (vec!["--pipeline", "Fillers"], "'Surgical Journey', 'Botox'"),
            (
                vec!["--columns", "tags"],
                "'tags' is not an opportunity field",
            ),
        ] {
            let mut all_args = vec![
                "export",
                "opportunities",
                "--location",
                "My Practice",
                "--output",
                out.to_str().unwrap(),
            ];
            all_args.extend(args.iter().copied());
            let run = d.run(&all_args, "");
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(stderr.contains(part), "{args:?}: {stderr}");
        }
        let listed: serde_json::Value = serde_json::from_str(
            &d.ok(&["jobs", "list", "--location", "My Practice", "--json"], ""),
        )
        .unwrap();
        assert_eq!(
            listed,
            serde_json::from_str::<serde_json::Value>(&jobs_before).unwrap()
        );
        let newest = &listed.as_array().unwrap()[0];
        assert_eq!(
            (newest["operation"].as_str(), newest["object"].as_str()),
            (Some("export"), Some("opportunity"))
        );

        // Bulk Actions shows the object.
        let (_, page) = crate::support::page_get(&base, "/bulk-actions", &admin).await;
        assert!(page.contains("Export · Opportunities"), "{page}");
    }
}

/// A Nextech-style export: the preset's columns, one patient per row.
fn nextech_file(dir: &std::path::Path, name: &str, rows: &[&str]) -> String {
    let header = "Patient ID,First Name,Middle Name,Last Name,Email,Home Phone,Cell Phone,Work Phone,\
                  Address 1,Address 2,City,State,Zip,Birth Date,Gender,Referral Source,\
                  Patient Coordinator,Last Appointment,Next Appointment,Procedure Date";
    let path = dir.join(name);
    std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn nextech_reconciliation_moves_the_board_as_a_practice_expects() {
    for d in each_backend().await {
        let app = crate::support::spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = crate::wizard::login(&base, &email, &password).await;
        let create = |extra: &[&str]| {
            let mut args = vec![
                "workflow",
                "create",
                "--location",
                "My Practice",
                "--template",
                "nextech-reconciliation",
            ];
            args.extend(extra.iter().copied());
            d.run(&args, "")
        };

        // A pipeline named but missing, or an unknown template: exit 1, nothing made.
        let out = create(&["--pipeline", "Surgery"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("'Surgery'"));
        let out = d.run(
            &[
                "workflow",
                "create",
                "--location",
                "My Practice",
                "--template",
                "nope",
            ],
            "",
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("nextech-reconciliation"));
        assert_eq!(
            d.ok(
                &["pipeline", "list", "--location", "My Practice", "--json"],
                ""
            )
            .trim(),
            "[]"
        );

        // Without --pipeline: Surgical Journey, made with its four stages.
        let out = create(&[]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            said.contains(
                "Created pipeline 'Surgical Journey' with its stages: New Lead → Consult Booked → Surgery Scheduled → Surgery Completed."
            ),
            "{said}"
        );
        assert!(
            said.contains("move-opportunity:Surgical Journey/Consult Booked:next_appointment"),
            "{said}"
        );
        let again = create(&[]);
        assert_eq!(again.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&again.stderr).contains("already"));

        // A Nextech file imported with the workflow: Next Appointment → Consult Booked,
        // Procedure Date too → Surgery Scheduled (the later stage wins), neither → nothing.
        let file = nextech_file(
            d.dir.path(),
            "nextech-1.csv",
            &[
                "204518,Marcus,,Bell,marcus.bell@example.com,,(813) 555-0146,,,,Tampa,FL,33606,,,,,2024-05-02,2024-07-18,2024-08-09",
                "204519,Dana,,Ortiz,dana.ortiz@example.com,,(813) 555-0147,,,,Tampa,FL,33606,,,,,2024-05-03,2024-07-20,",
                "204520,Evan,,Lee,evan.lee@example.com,,(813) 555-0148,,,,Tampa,FL,33606,,,,,2024-05-04,,",
            ],
        );
        let import = |file: &str| {
            d.ok(
                &[
                    "import",
                    "contacts",
                    file,
                    "--location",
                    "My Practice",
                    "--preset",
                    "nextech",
                    "--workflow",
                    "Nextech reconciliation",
                    "--acknowledge-workflows",
                    "--skip-unmapped",
                    "--quiet",
                ],
                "",
            )
        };
        import(&file);
        d.ok(&["workflow", "run", "--location", "My Practice"], "");
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        let journey = store
            .pipeline_by_name(loc, "Surgical Journey")
            .await
            .unwrap();
        let columns = |board: store::Board| -> Vec<(String, Vec<String>)> {
            board
                .columns
                .into_iter()
                .map(|c| {
                    let mut who: Vec<String> =
                        c.cards.into_iter().map(|k| k.contact.unwrap().1).collect();
                    who.sort();
                    (c.stage.name, who)
                })
                .collect()
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            columns(store.board(loc, journey.id, 100).await.unwrap()),
            [
                ("New Lead".to_string(), s(&[])),
                ("Consult Booked".to_string(), s(&["Dana Ortiz"])),
                ("Surgery Scheduled".to_string(), s(&["Marcus Bell"])),
                ("Surgery Completed".to_string(), s(&[])),
            ]
        );
        // The board page says the same.
        let (_, page) = crate::support::page_get(&base, "/opportunities", &admin).await;
        let scheduled = page
            .split("data-stage=\"")
            .find(|c| c.contains(">Surgery Scheduled</h2>"))
            .unwrap();
        assert!(
            scheduled.contains("Marcus Bell") && !scheduled.contains("Dana Ortiz"),
            "{page}"
        );

        // A week later, the regular reconciliation: the practice imports its Nextech file
        // again with the same workflow. Dana's surgery is now booked and Evan has a consult:
        // the board moves for contacts the last import enrolled too (once per import each).
        let file = nextech_file(
            d.dir.path(),
            "nextech-2.csv",
            &[
                "204518,Marcus,,Bell,marcus.bell@example.com,,(813) 555-0146,,,,Tampa,FL,33606,,,,,2024-05-02,2024-07-18,2024-08-09",
                "204519,Dana,,Ortiz,dana.ortiz@example.com,,(813) 555-0147,,,,Tampa,FL,33606,,,,,2024-05-03,2024-07-20,2024-09-12",
                "204520,Evan,,Lee,evan.lee@example.com,,(813) 555-0148,,,,Tampa,FL,33606,,,,,2024-05-04,2024-07-25,",
            ],
        );
        import(&file);
        d.ok(&["workflow", "run", "--location", "My Practice"], "");
        assert_eq!(
            columns(store.board(loc, journey.id, 100).await.unwrap()),
            [
                ("New Lead".to_string(), s(&[])),
                ("Consult Booked".to_string(), s(&["Evan Lee"])),
                (
                    "Surgery Scheduled".to_string(),
                    s(&["Dana Ortiz", "Marcus Bell"])
                ),
                ("Surgery Completed".to_string(), s(&[])),
            ]
        );
        let workflow = store
            .workflow_by_name(loc, "Nextech reconciliation")
            .await
            .unwrap();
        let enrollments = store.enrollments(loc, workflow.id).await.unwrap();
        assert_eq!(
            enrollments.len(),
            6,
            "each contact once per import: {enrollments:?}"
        );
    }
}

#[tokio::test]
async fn the_workflows_page_adds_the_nextech_template_for_admins_only() {
    use reqwest::StatusCode;
    for d in each_backend().await {
        let app = crate::support::spawn_app(&d);
        let base = app.base.clone();
        let (email, password) = app.first_login.clone().unwrap();
        let admin = crate::wizard::login(&base, &email, &password).await;
        let (staff, _) = staff_and_stranger(&d, &base).await;
        let path = "/settings/workflows/template";
        let form = [("template", "nextech-reconciliation"), ("pipeline", "")];
        assert_eq!(
            post(&base, path, &staff, &form).await.0,
            StatusCode::FORBIDDEN
        );

        let (status, page) = post(
            &base,
            path,
            &admin,
            &[("template", "nextech-reconciliation"), ("pipeline", "Nope")],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.contains("&#39;Nope&#39;") || page.contains("'Nope'"),
            "{page}"
        );

        let (status, to) = post(&base, path, &admin, &form).await;
        assert_eq!(
            (status, to.as_str()),
            (StatusCode::SEE_OTHER, "/settings/workflows?done=template")
        );
        let (_, page) = crate::support::page_get(&base, &to, &admin).await;
        assert!(
            page.contains("Nextech reconciliation workflow was added"),
            "{page}"
        );
        assert!(
            page.contains("move-opportunity:Surgical Journey/Surgery Scheduled:procedure_date"),
            "{page}"
        );
        let store = d.store().await;
        let loc = store.location_by_name("My Practice").await.unwrap().id;
        assert_eq!(
            store
                .pipeline_by_name(loc, "Surgical Journey")
                .await
                .unwrap()
                .stages
                .len(),
            4
        );
        let (status, page) = post(&base, path, &admin, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("already"), "{page}");
    }
}
