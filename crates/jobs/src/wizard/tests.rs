//! The wizard's steps over a store on both backends: the size limit while streaming, the
//! proposed mapping, unmatched columns, the dry run, the flood guard's acknowledgement, and a
//! submitted job that the worker's own code runs to the CLI's result.

use domain::LocationSettings;
use store::testing::{TempDir, each_backend};
use store::{NewWorkflow, WorkflowStatus, parse_action, parse_trigger};

use super::*;
use crate::files_dir;
use std::path::Path;

const CSV: &str = "First Name,E-mail,Cell,Favourite Colour,Tags\n\
Ann,ann@example.com,201-555-0101,red,vip\n\
Bob,bob@example.com,201-555-0102,blue,\n\
Cy,not-an-email,,green,\n\
,,,,\n\
,,,orange,\n";

async fn setup(store: &Store) -> (LocationId, LocationId) {
    let glow = store
        .create_location("Glow", &LocationSettings::default())
        .await
        .unwrap();
    let other = store
        .create_location("Other", &LocationSettings::default())
        .await
        .unwrap();
    (glow.id, other.id)
}

async fn upload_str(store: &Store, dir: &Path, loc: LocationId, name: &str, body: &str) -> i64 {
    upload(
        store,
        &FileStore::local(dir),
        loc,
        None,
        name,
        None,
        body.as_bytes(),
    )
    .await
    .unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(files_dir(dir))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn display_names_are_names_not_paths() {
    let long = "a".repeat(300) + ".csv";
    let cases: &[(&str, &str)] = &[
        ("patients.csv", "patients.csv"),
        ("../../x.csv", "x.csv"),
        ("C:\\Users\\ann\\Desktop\\leads.csv", "leads.csv"),
        ("a\"\r\nSet-Cookie: x=1.csv", "a\"Set-Cookie: x=1.csv"),
        ("invoice\u{202E}vsc.exe", "invoicevsc.exe"),
        ("..", "upload"),
        ("", "upload"),
        ("/", "upload"),
        ("Zoë 東京.xlsx", "Zoë 東京.xlsx"),
    ];
    for (given, want) in cases {
        assert_eq!(display_file_name(given), *want, "{given:?}");
    }
    assert_eq!(display_file_name(&long).chars().count(), 200);
}

#[tokio::test]
async fn uploads_past_the_limit_are_refused_and_leave_nothing() {
    let dir = TempDir::new("wizard-upload");
    // Declared too large: refused before anything is written.
    let err = Upload::begin(
        &FileStore::local(dir.path()),
        Some(MAX_UPLOAD_BYTES + 1),
        MAX_UPLOAD_BYTES,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), "file.too_large");
    assert!(err.to_string().contains("30,000,000 bytes"), "{err}");
    assert!(files_in(dir.path()).is_empty());
    // Streamed past the limit: refused, and the partial file is gone.
    let mut up = Upload::begin(&FileStore::local(dir.path()), None, 10)
        .await
        .unwrap();
    up.write(b"0123456789").await.unwrap();
    assert_eq!(up.write(b"x").await.unwrap_err().code(), "file.too_large");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
    // Dropped midway (a client that went away): nothing stays.
    let mut up = Upload::begin(&FileStore::local(dir.path()), None, 10)
        .await
        .unwrap();
    up.write(b"01").await.unwrap();
    drop(up);
    assert!(files_in(dir.path()).is_empty());
}

#[tokio::test]
async fn the_wizard_from_upload_to_a_queued_job_that_runs_like_the_cli() {
    for db in each_backend().await {
        let store = &db.store;
        let dir = TempDir::new("wizard-flow");
        let (glow, other) = setup(store).await;
        store
            .create_workflow(
                glow,
                &NewWorkflow {
                    name: "VIP welcome".into(),
                    trigger: parse_trigger("tag-added:VIP").unwrap(),
                    status: WorkflowStatus::Active,
                    actions: vec![parse_action("add-tag:welcomed").unwrap()],
                },
            )
            .await
            .unwrap();

        let draft = upload_str(store, dir.path(), glow, "../../leads.csv", CSV).await;
        let stored = files_in(dir.path());
        assert_eq!(stored.len(), 1);
        assert!(stored[0].starts_with("upload-") && !stored[0].contains("leads"));

        // Another location sees nothing of it.
        assert_eq!(
            mapping(store, &FileStore::local(dir.path()), other, draft)
                .await
                .unwrap_err()
                .code(),
            "not_found"
        );

        let view = mapping(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap();
        assert_eq!(view.file_name, "leads.csv");
        assert_eq!(view.records, 4, "the fully blank row is not a record");
        assert_eq!(view.encoding, "UTF-8");
        let auto: Vec<Option<&str>> = view.columns.iter().map(|c| c.auto.as_deref()).collect();
        assert_eq!(
            auto,
            [
                Some("first_name"),
                Some("email"),
                Some("phone"),
                None,
                Some("tags")
            ]
        );
        assert_eq!(view.columns[0].samples, ["Ann", "Bob", "Cy"]);
        assert_eq!(view.columns[4].samples, ["vip"]);
        assert_eq!(view.unmatched(), ["“Favourite Colour”"]);
        assert!(view.fields.iter().any(|f| f.key == "date_of_birth"));
        assert!(
            view.fields
                .iter()
                .any(|f| f.key == "treatment_of_interest" && f.custom),
            "the location's custom fields are offered"
        );

        // Unmatched columns block the import until they are skipped.
        let mut columns: Vec<Option<String>> =
            view.columns.iter().map(|c| c.chosen.clone()).collect();
        let err = set_mapping(
            store,
            &FileStore::local(dir.path()),
            glow,
            draft,
            columns.clone(),
            false,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "mapping.unmatched");
        assert!(err.to_string().contains("“Favourite Colour”"), "{err}");
        assert_eq!(
            validate(store, &FileStore::local(dir.path()), glow, draft)
                .await
                .unwrap_err()
                .code(),
            "mapping.unmatched"
        );
        let mut twice = columns.clone();
        twice[3] = Some("email".into());
        let err = set_mapping(
            store,
            &FileStore::local(dir.path()),
            glow,
            draft,
            twice,
            true,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "mapping.field_twice");
        assert!(
            err.to_string().contains("Email is chosen for two columns"),
            "{err}"
        );
        // The fix an admin makes: the colour is their treatment of interest.
        columns[3] = Some("treatment_of_interest".into());
        set_mapping(
            store,
            &FileStore::local(dir.path()),
            glow,
            draft,
            columns,
            false,
        )
        .await
        .unwrap();
        assert!(
            mapping(store, &FileStore::local(dir.path()), glow, draft)
                .await
                .unwrap()
                .unmatched()
                .is_empty()
        );

        let err = set_details(
            store,
            glow,
            draft,
            Details {
                workflow: Some("Nope".into()),
                ..Details::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "details.workflow");
        set_details(
            store,
            glow,
            draft,
            Details {
                name: Some("  Spring leads ".into()),
                smart_list: true,
                mode: "upsert".into(),
                tags: vec![" spring ".into(), "".into(), "Spring".into()],
                ..Details::default()
            },
        )
        .await
        .unwrap();
        let d = details(store, glow, draft).await.unwrap();
        assert_eq!(d.details.name.as_deref(), Some("Spring leads"));
        assert_eq!(d.details.tags, ["spring"]);
        assert!(d.default_name.starts_with("Contacts import "));
        assert_eq!(
            d.workflows,
            [("VIP welcome".to_string(), "active".to_string())]
        );

        let v = validate(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap();
        assert_eq!(
            (v.rows, v.created, v.updated, v.skipped, v.failed, v.blank),
            (5, 3, 0, 0, 1, 1),
            "{v:?}"
        );
        assert_eq!(v.warnings, 1, "Cy's email");
        let lines: Vec<(u64, &str)> = v
            .first_problems
            .iter()
            .map(|p| (p.line, p.status.as_str()))
            .collect();
        assert_eq!(lines, [(4, "warning"), (6, "error")]);
        assert_eq!(v.first_problems[1].messages[0].code, "row.no_identifier");
        assert_eq!(v.triggered.len(), 1, "{:?}", v.triggered);
        assert_eq!(
            (v.triggered[0].name.as_str(), v.triggered[0].contacts),
            ("VIP welcome", 1)
        );
        assert!(v.needs_acknowledgement());
        assert_eq!(
            last_validation(store, glow, draft).await.unwrap(),
            Some(v.clone())
        );
        assert!(
            store.contacts_dump(glow).await.unwrap().is_empty(),
            "a dry run writes nothing"
        );

        // The flood guard: no job without the acknowledgement.
        let err = submit(
            store,
            &FileStore::local(dir.path()),
            glow,
            None,
            draft,
            &SubmitOptions::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "workflows.acknowledgement_required");
        assert!(err.to_string().contains("VIP welcome (1 contacts"), "{err}");
        assert!(store.jobs(glow).await.unwrap().is_empty());

        let ack = SubmitOptions {
            acknowledge_workflows: true,
            idempotency_key: Some("k-1".into()),
        };
        let done = submit(
            store,
            &FileStore::local(dir.path()),
            glow,
            None,
            draft,
            &ack,
        )
        .await
        .unwrap();
        assert!(done.created);
        assert_eq!(done.smart_list.as_deref(), Some("Spring leads"));
        let job = store.job(glow, done.job_id).await.unwrap();
        assert_eq!(
            (
                job.status.as_str(),
                job.name.as_str(),
                job.file_name.as_deref(),
                job.total
            ),
            ("queued", "Spring leads", Some("leads.csv"), Some(4))
        );
        // Submitting again, by key or by draft, is the same job; the draft no longer changes.
        assert_eq!(
            submit(
                store,
                &FileStore::local(dir.path()),
                glow,
                None,
                draft,
                &ack
            )
            .await
            .unwrap()
            .job_id,
            done.job_id
        );
        assert_eq!(
            set_details(store, glow, draft, Details::default())
                .await
                .unwrap_err()
                .code(),
            "import.submitted"
        );
        let again = upload_str(store, dir.path(), glow, "leads.csv", CSV).await;
        let same_key = submit(
            store,
            &FileStore::local(dir.path()),
            glow,
            None,
            again,
            &ack,
        )
        .await
        .unwrap();
        assert_eq!((same_key.job_id, same_key.created), (done.job_id, false));

        // The worker's code runs it from its stored request.
        let lease = store.claim_next_job("test-worker").await.unwrap().unwrap();
        assert_eq!(lease.job_id, done.job_id);
        let report = crate::run_claimed(
            store,
            &FileStore::local(dir.path()),
            lease,
            |_| {},
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!(report.status, "completed");
        assert_eq!(
            (
                report.totals.created,
                report.totals.errors,
                report.totals.blank
            ),
            (3, 1, 1)
        );
        let contacts = store.contacts_dump(glow).await.unwrap();
        let ann = contacts
            .iter()
            .find(|c| c.contact.values.get("first_name").map(String::as_str) == Some("Ann"))
            .unwrap();
        assert_eq!(
            ann.contact
                .values
                .get("treatment_of_interest")
                .map(String::as_str),
            Some("red"),
            "the mapping the admin fixed"
        );
        assert!(ann.contact.tags.iter().any(|t| t == "spring"));
        let list = store
            .smart_list_by_name(glow, "Spring leads")
            .await
            .unwrap();
        assert_eq!(store.smart_list_count(glow, &list).await.unwrap(), 3);
        let enrolled = store
            .enrolled_contacts(glow, v.triggered[0].workflow_id, &[ann.contact.id])
            .await
            .unwrap();
        assert_eq!(enrolled.len(), 1, "Ann's VIP tag enrolled her");
    }
}

#[tokio::test]
async fn refused_files_and_workbook_sheets() {
    for db in each_backend().await {
        let store = &db.store;
        let dir = TempDir::new("wizard-refused");
        let (glow, _) = setup(store).await;
        let draft = upload_str(store, dir.path(), glow, "x.csv", "First Name,Email\n").await;
        let err = mapping(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "file.no_rows");
        assert!(err.to_string().starts_with("The file has no rows"), "{err}");
        assert!(!err.is_server_error());
        let draft = upload_str(store, dir.path(), glow, "x.csv", "Colour,Size\nred,1\n").await;
        let view = mapping(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap();
        assert!(view.columns.iter().all(|c| c.chosen.is_none()));
        let err = set_mapping(
            store,
            &FileStore::local(dir.path()),
            glow,
            draft,
            vec![None, None],
            true,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "mapping.nothing_mapped");
        assert_eq!(
            set_sheet(store, glow, draft, Some("Sheet1".into()))
                .await
                .map(|_| ())
                .ok(),
            Some(())
        );
        assert_eq!(
            mapping(store, &FileStore::local(dir.path()), glow, draft)
                .await
                .unwrap_err()
                .code(),
            "file.sheet_on_csv"
        );
    }
}

/// SPEC §13.2: a draft's file is read once per step, not once per request. Once the mapping
/// step has read it, showing that step again (the page, the API's GET) answers from what the
/// draft kept — proven by replacing the stored file with one that reads differently.
#[tokio::test]
async fn a_draft_keeps_what_reading_its_file_found() {
    for db in each_backend().await {
        let store = &db.store;
        let dir = TempDir::new("wizard-kept");
        let (glow, _) = setup(store).await;
        let draft = upload_str(store, dir.path(), glow, "leads.csv", CSV).await;
        let first = mapping(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap();
        let stored = files_dir(dir.path()).join(&files_in(dir.path())[0]);
        std::fs::write(&stored, "Only,Two\nx,y\n").unwrap();
        let again = mapping(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap();
        assert_eq!(again, first, "the mapping step read the file again");
        // Saving the mapping keeps it too (it reads the view before its settings).
        let columns = first.columns.iter().map(|c| c.auto.clone()).collect();
        set_mapping(
            store,
            &FileStore::local(dir.path()),
            glow,
            draft,
            columns,
            true,
        )
        .await
        .unwrap();
        let kept = settings(store, glow, draft).await.unwrap();
        assert!(kept.inspection.is_some(), "saving the mapping dropped it");
        assert_eq!(
            mapping(store, &FileStore::local(dir.path()), glow, draft)
                .await
                .unwrap()
                .columns
                .len(),
            first.columns.len()
        );
        // Choosing a sheet reads the file again.
        set_sheet(store, glow, draft, None).await.unwrap();
        std::fs::write(&stored, "").unwrap();
        let err = mapping(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "file.empty");
        // A refusal is kept as well: a fixed file under it changes nothing until re-uploaded.
        std::fs::write(&stored, CSV).unwrap();
        let err = mapping(store, &FileStore::local(dir.path()), glow, draft)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "file.empty");
    }
}
