//! An export of opportunities (SPEC §7, §10) through the one export engine, on both backends:
//! §7's default columns in order, the linked contact's fields, statuses as their labels, one
//! pipeline or all, chosen columns by key, refusals, and the job it records.

use super::*;

#[tokio::test]
async fn opportunities_export_with_their_contacts_in_the_spec_7_columns() {
    for db in each_backend().await {
        let s = &db.store;
        let store_files = FileStore::local(db.dir.path());
        let glow = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let amy = s
            .create_user(glow.id, "amy@example.com", "Amy", "x", Role::Admin)
            .await
            .unwrap();
        s.create_custom_field(
            glow.id,
            &NewCustomField {
                object: ObjectKind::Opportunity,
                key: "procedure".into(),
                label: "Procedure".into(),
                field_type: CustomFieldType::Text,
                options: vec![],
                required: false,
                unique: false,
            },
        )
        .await
        .unwrap();
        let ana = write(
            s,
            glow.id,
            vec![(
                values(&[
                    ("first_name", "Ana"),
                    ("last_name", "Silva"),
                    ("email", "ana@example.com"),
                    ("phone", "+12015550123"),
                ]),
                vec![],
                vec![],
                vec![],
            )],
        )
        .await[0];
        let stages = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let journey = s
            .create_pipeline(
                glow.id,
                "Surgical Journey",
                &stages(&["New Lead", "Consult Booked"]),
            )
            .await
            .unwrap();
        let botox = s
            .create_pipeline(glow.id, "Botox", &stages(&["Booked"]))
            .await
            .unwrap();
        let theirs = s
            .create_pipeline(other.id, "Theirs", &stages(&["A"]))
            .await
            .unwrap();
        let rhino = store::testing::insert_opportunity(
            s,
            glow.id,
            &journey.stages[1],
            journey.id,
            "Rhinoplasty",
            Some("8500.50"),
            Some(ana),
        )
        .await;
        let walk_in = store::testing::insert_opportunity(
            s,
            glow.id,
            &botox.stages[0],
            botox.id,
            "=Walk-in",
            None,
            None,
        )
        .await;
        store::testing::insert_opportunity(
            s,
            other.id,
            &theirs.stages[0],
            theirs.id,
            "Not ours",
            None,
            None,
        )
        .await;
        store::testing::set_opportunity(
            s,
            rhino,
            "won",
            Some(amy.id.0),
            Some("Instagram"),
            r#"{"procedure":"Rhinoplasty, open"}"#,
        )
        .await;

        let all = ExportRequest {
            object: ObjectKind::Opportunity,
            selection: Selection::All,
            columns: None,
        };
        let done = export_now(s, &store_files, &glow, &all).await;
        assert_eq!((done.status.as_str(), done.rows), ("completed", 2));
        let text = String::from_utf8(std::fs::read(done.file.as_ref().unwrap()).unwrap()).unwrap();
        let want = format!(
            "\u{feff}Opportunity ID,Opportunity Name,Pipeline,Stage,Opportunity Status,Opportunity Value,\
             Opportunity Owner,Opportunity Source,Procedure,Contact ID,First Name,Last Name,Email,Phone\r\n\
             {rhino},Rhinoplasty,Surgical Journey,Consult Booked,Won,8500.50,amy@example.com,Instagram,\
             \"Rhinoplasty, open\",{ana},Ana,Silva,ana@example.com,+12015550123\r\n\
             {walk_in},'=Walk-in,Botox,Booked,Open,,,,,,,,,\r\n"
        );
        assert_eq!(text, want, "{:?}", s.backend());
        let job = s.job(glow.id, done.job_id).await.unwrap();
        assert_eq!(job.object, ObjectKind::Opportunity);
        assert!(
            done.download_name.starts_with("Opportunities export "),
            "{}",
            done.download_name
        );
        let notes = s.notifications(glow.id, amy.id, true, 10).await.unwrap();
        assert!(
            notes[0].text.contains("is ready: 2 opportunities"),
            "{}",
            notes[0].text
        );

        // One pipeline, chosen columns (a contact's field by contact.KEY or bare).
        let one = ExportRequest {
            object: ObjectKind::Opportunity,
            selection: Selection::Pipeline { id: journey.id },
            columns: Some(
                ["opportunity_name", "stage", "contact.email", "first_name"]
                    .map(String::from)
                    .to_vec(),
            ),
        };
        let done = export_now(s, &store_files, &glow, &one).await;
        let text = String::from_utf8(std::fs::read(done.file.as_ref().unwrap()).unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}Opportunity Name,Stage,Email,First Name\r\nRhinoplasty,Consult Booked,ana@example.com,Ana\r\n"
        );
        assert!(
            done.download_name
                .starts_with("Surgical Journey opportunities export "),
            "{}",
            done.download_name
        );

        // Refused before anything is recorded: another location's pipeline, a Smart List or
        // filters, an unknown column, a pipeline for contacts.
        let jobs_before = s.jobs(glow.id).await.unwrap().len();
        for (request, part) in [
            (
                ExportRequest {
                    selection: Selection::Pipeline { id: theirs.id },
                    ..one.clone()
                },
                "no longer exists",
            ),
            (
                ExportRequest {
                    selection: Selection::Filters {
                        filters: vec!["tag=vip".into()],
                    },
                    ..all.clone()
                },
                "select contacts",
            ),
            (
                ExportRequest {
                    columns: Some(vec!["tags".into()]),
                    ..all.clone()
                },
                "'tags' is not an opportunity field",
            ),
            (
                ExportRequest {
                    object: ObjectKind::Contact,
                    columns: None,
                    ..one.clone()
                },
                "a pipeline selects opportunities",
            ),
        ] {
            let e = create_export(s, &glow, &request, None, None)
                .await
                .unwrap_err();
            assert!(e.to_string().contains(part), "{part}: {e}");
        }
        assert_eq!(s.jobs(glow.id).await.unwrap().len(), jobs_before);

        // An empty location's export is the header row only.
        let none = location(&db, "Empty").await;
        let done = export_now(s, &store_files, &none, &all).await;
        let text = String::from_utf8(std::fs::read(done.file.as_ref().unwrap()).unwrap()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
