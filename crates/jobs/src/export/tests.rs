//! Exports end to end over a store, on both backends: the file's exact bytes, the job and its
//! recorded file, a cancelled run, schedules, the sweep, and the round trip of SPEC §10 as a
//! property over generated contacts.

use std::collections::BTreeMap;

use domain::{CustomFieldType, LocationSettings, ObjectKind, Role};
use store::testing::{TestDb, each_backend};
use store::{ChunkWrite, ContactWrite, NewCustomField, NewJob};

use super::*;

async fn location(db: &TestDb, name: &str) -> Location {
    db.store
        .create_location(name, &LocationSettings::default())
        .await
        .unwrap()
}

/// A contact to write: values, tags, additional emails, notes.
type Seed<'a> = (
    BTreeMap<String, String>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
);

/// Writes contacts as the import does, in one chunk.
async fn write(store: &Store, location: LocationId, contacts: Vec<Seed<'_>>) -> Vec<i64> {
    let job = store
        .create_job(
            location,
            &NewJob {
                operation: domain::job::Operation::Import,
                object: domain::ObjectKind::Contact,
                name: "seed".into(),
                options: "{}".into(),
                lease_owner: Some("seed".into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    let lease = Lease {
        job_id: job,
        location_id: location,
        owner: "seed".into(),
    };
    let write = ChunkWrite {
        contacts: contacts
            .into_iter()
            .map(|(values, tags, emails, notes)| ContactWrite {
                values,
                new_tags: tags.into_iter().map(String::from).collect(),
                new_emails: emails.into_iter().map(String::from).collect(),
                notes: notes.into_iter().map(String::from).collect(),
                line: 2,
                ..ContactWrite::default()
            })
            .collect(),
        checkpoint_line: 10,
        ..ChunkWrite::default()
    };
    store.apply_import_chunk(&lease, &write).await.unwrap().0
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Starts an export the way the CLI does (leased to this process) and runs it.
async fn export_now(
    store: &Store,
    files: &FileStore,
    location: &Location,
    request: &ExportRequest,
) -> ExportOutcome {
    let owner = crate::process_owner();
    let job = create_export(store, location, request, None, Some(owner.clone()))
        .await
        .unwrap();
    let lease = Lease {
        job_id: job,
        location_id: location.id,
        owner,
    };
    run_export(store, files, lease, |_, _| {}).await.unwrap()
}

#[tokio::test]
async fn the_file_is_exactly_the_spec_10_bytes() {
    for db in each_backend().await {
        let s = &db.store;
        let store_files = FileStore::local(db.dir.path());
        let files = files_dir(db.dir.path());
        let glow = location(&db, "Glow").await;
        let amy = s
            .create_user(glow.id, "amy@example.com", "Amy", "x", Role::Admin)
            .await
            .unwrap();
        let long_note = format!("{}tail", "n".repeat(253));
        write(
            s,
            glow.id,
            vec![
                (
                    values(&[
                        ("first_name", "Zoë"),
                        ("last_name", "O'Neil; Jr"),
                        ("email", "zoe@example.com"),
                        ("phone", "+12015550123"),
                        ("dnd_sms", "true"),
                        ("dnd_email", "true"),
                        ("dnd_calls", "true"),
                        ("dnd_voicemail", "true"),
                        ("owner", &amy.id.0.to_string()),
                        ("created_at", "2023-05-06"),
                        ("patient_lifetime_value", "1234.50"),
                        ("treatment_of_interest", "=cmd|' /C calc'!A0"),
                    ]),
                    vec!["VIP", "Botox"],
                    vec!["z2@example.com", "z3@example.com"],
                    vec!["old note", &long_note],
                ),
                (
                    values(&[
                        ("first_name", "-Bob"),
                        ("dnd_sms", "true"),
                        ("company_name", "Glow, \"Inc\""),
                    ]),
                    vec![],
                    vec![],
                    vec!["line one\nline two"],
                ),
            ],
        )
        .await;
        let request = ExportRequest {
            object: domain::ObjectKind::Contact,
            selection: Selection::All,
            columns: Some(
                [
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "additional_emails",
                    "company_name",
                    "dnd",
                    "dnd_sms",
                    "owner",
                    "tags",
                    "note",
                    "created_at",
                    "patient_lifetime_value",
                    "treatment_of_interest",
                ]
                .map(String::from)
                .to_vec(),
            ),
        };
        let done = export_now(s, &store_files, &glow, &request).await;
        assert_eq!((done.status.as_str(), done.rows), ("completed", 2));
        let bytes = std::fs::read(done.file.as_ref().unwrap()).unwrap();
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("America/New_York").unwrap())
            .date();
        let want = format!(
            "\u{feff}First Name,Last Name,Email,Phone,Additional Emails,Company Name,Do Not Disturb,DND SMS,\
             Contact Owner,Tags,Note,Created Date,Patient Lifetime Value,Treatment of Interest\r\n\
             Zoë,\"O'Neil; Jr\",zoe@example.com,+12015550123,\"z2@example.com, z3@example.com\",,true,true,\
             amy@example.com,\"VIP, Botox\",{},2023-05-06,1234.50,'=cmd|' /C calc'!A0\r\n\
             '-Bob,,,,,\"Glow, \"\"Inc\"\"\",false,true,,,\"line one\nline two\",{today},,\r\n",
            &long_note[..255]
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), want, "{:?}", s.backend());

        // The job, its file and the notice.
        let job = s.job(glow.id, done.job_id).await.unwrap();
        assert_eq!(
            (job.operation.as_str(), job.status.as_str()),
            ("export", "completed")
        );
        assert_eq!((job.totals.processed, job.total), (2, Some(2)));
        let file = s.job_file(glow.id, done.job_id).await.unwrap().unwrap();
        assert_eq!(file.download_name, format!("Contacts export {today}.csv"));
        assert_eq!(files.join(&file.stored_name), *done.file.as_ref().unwrap());
        assert_eq!(file.size_bytes as usize, want.len());
        let days = (file.expires_at.unwrap() - file.created_at) as f64 / 86_400_000.0;
        assert!((days - 30.0).abs() < 0.01, "{days}");
        let notes = s.notifications(glow.id, amy.id, true, 10).await.unwrap();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].text.contains("is ready: 2 contacts"),
            "{}",
            notes[0].text
        );
        // Nothing else is left in the file store.
        let names: Vec<String> = std::fs::read_dir(&files)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![file.stored_name.clone()]);

        // Selecting nobody gives the header alone, and still completes.
        let nobody = ExportRequest {
            object: domain::ObjectKind::Contact,
            selection: Selection::Filters {
                filters: vec!["tag=Nobody".into()],
            },
            columns: Some(vec!["first_name".into(), "email".into()]),
        };
        let done = export_now(s, &store_files, &glow, &nobody).await;
        assert_eq!((done.status.as_str(), done.rows), ("completed", 0));
        assert_eq!(
            std::fs::read(done.file.unwrap()).unwrap(),
            "\u{feff}First Name,Email\r\n".as_bytes()
        );

        // The default columns: every standard field but Contact ID, then the custom fields.
        let done = export_now(
            s,
            &store_files,
            &glow,
            &ExportRequest {
                object: domain::ObjectKind::Contact,
                selection: Selection::Ids { ids: vec![] },
                columns: None,
            },
        )
        .await;
        let text = std::fs::read_to_string(done.file.unwrap()).unwrap();
        assert!(
            text.starts_with("\u{feff}First Name,Last Name,Email,Phone,Phone Extension,"),
            "{text}"
        );
        assert!(
            text.ends_with(",UTM Content,Treatment of Interest,Patient Lifetime Value,New Lead Date,Patient Since,Next Appointment,Procedure Date\r\n"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_request_that_cannot_be_exported_is_refused_before_any_job() {
    for db in each_backend().await {
        let s = &db.store;
        let glow = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let theirs = s.smart_list_by_name(other.id, "Leads").await.unwrap();
        let cases: Vec<(ExportRequest, &str)> = vec![
            (
                ExportRequest {
                    object: domain::ObjectKind::Contact,
                    selection: Selection::All,
                    columns: Some(vec!["first_name".into(), "favourite_colour".into()]),
                },
                "'favourite_colour' is not a contact field",
            ),
            (
                ExportRequest {
                    object: domain::ObjectKind::Contact,
                    selection: Selection::SmartList { id: theirs.id },
                    columns: None,
                },
                "Smart List this export is for no longer exists",
            ),
            (
                ExportRequest {
                    object: domain::ObjectKind::Contact,
                    selection: Selection::Filters {
                        filters: vec!["colour=red".into()],
                    },
                    columns: None,
                },
                "'colour' is not a filter key",
            ),
            (
                ExportRequest {
                    object: domain::ObjectKind::Contact,
                    selection: Selection::Filters {
                        filters: vec!["field.colour=red".into()],
                    },
                    columns: None,
                },
                "names no contact field",
            ),
        ];
        for (request, words) in cases {
            let err = create_export(s, &glow, &request, None, None)
                .await
                .unwrap_err();
            assert!(matches!(err, ExportError::Invalid(_)), "{err:?}");
            assert!(err.to_string().contains(words), "{err}");
        }
        assert!(s.jobs(glow.id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_cancelled_export_leaves_no_file_and_a_queued_one_runs_in_the_worker_loop() {
    for db in each_backend().await {
        let s = &db.store;
        let store_files = FileStore::local(db.dir.path());
        let files = files_dir(db.dir.path());
        let glow = location(&db, "Glow").await;
        write(
            s,
            glow.id,
            vec![(values(&[("first_name", "Ann")]), vec![], vec![], vec![])],
        )
        .await;
        let request = ExportRequest {
            object: domain::ObjectKind::Contact,
            selection: Selection::All,
            columns: None,
        };
        let owner = crate::process_owner();
        let job = create_export(s, &glow, &request, None, Some(owner.clone()))
            .await
            .unwrap();
        s.request_cancel(glow.id, job).await.unwrap();
        let lease = Lease {
            job_id: job,
            location_id: glow.id,
            owner,
        };
        let done = run_export(s, &store_files, lease, |_, _| {}).await.unwrap();
        assert_eq!((done.status.as_str(), done.file), ("cancelled", None));
        assert_eq!(s.job(glow.id, job).await.unwrap().status, "cancelled");
        assert_eq!(s.job_file(glow.id, job).await.unwrap(), None);
        assert!(
            std::fs::read_dir(&files).map_or(true, |mut d| d.next().is_none()),
            "no file, not even a temporary one"
        );

        // Queued (the web's way): the worker loop claims and runs it.
        let job = create_export(s, &glow, &request, None, None).await.unwrap();
        assert_eq!(s.job(glow.id, job).await.unwrap().status, "queued");
        let worker = tokio::spawn(crate::work(
            s.clone(),
            crate::process_owner(),
            FileStore::local(db.dir.path()),
        ));
        let mut status = String::new();
        for _ in 0..100 {
            status = s.job(glow.id, job).await.unwrap().status.to_string();
            if status == "completed" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        worker.abort();
        assert_eq!(status, "completed");
        let file = s.job_file(glow.id, job).await.unwrap().unwrap();
        assert!(
            std::fs::read_to_string(files.join(&file.stored_name))
                .unwrap()
                .contains("\r\nAnn,")
        );
    }
}

#[tokio::test]
async fn the_sweep_deletes_files_past_their_30_days_and_marks_them() {
    for db in each_backend().await {
        let s = &db.store;
        let store_files = FileStore::local(db.dir.path());
        let glow = location(&db, "Glow").await;
        let request = ExportRequest {
            object: domain::ObjectKind::Contact,
            selection: Selection::All,
            columns: None,
        };
        let old = export_now(s, &store_files, &glow, &request).await;
        let fresh = export_now(s, &store_files, &glow, &request).await;
        assert_eq!(sweep_expired_files(s, &store_files).await.unwrap(), 0);
        let file = s.job_file(glow.id, old.job_id).await.unwrap().unwrap();
        store::testing::set_file_expiry(s, file.id, store::now_ms() - 1).await;
        assert_eq!(sweep_expired_files(s, &store_files).await.unwrap(), 1);
        assert!(!old.file.unwrap().exists());
        assert!(fresh.file.unwrap().exists());
        let gone = s.job_file(glow.id, old.job_id).await.unwrap().unwrap();
        assert!(gone.deleted_at.is_some());
        assert!(!gone.is_available(store::now_ms()));
        assert_eq!(sweep_expired_files(s, &store_files).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn in_s3_too_the_sweep_deletes_expired_exports_and_stale_uploads() {
    let Some(server) = filestore::testing::S3Server::get("the S3 sweep") else {
        return;
    };
    for db in each_backend().await {
        let s = &db.store;
        let files = server.store("sweep", db.dir.path());
        let glow = location(&db, "Glow").await;
        let request = ExportRequest {
            object: domain::ObjectKind::Contact,
            selection: Selection::All,
            columns: None,
        };
        let old = export_now(s, &files, &glow, &request).await;
        let fresh = export_now(s, &files, &glow, &request).await;
        let draft = crate::wizard::upload(
            s,
            &files,
            glow.id,
            None,
            "leads.csv",
            None,
            &b"First Name\nAnn\n"[..],
        )
        .await
        .unwrap();
        let upload = s.import_draft(glow.id, draft).await.unwrap().file;
        let old_file = s.job_file(glow.id, old.job_id).await.unwrap().unwrap();
        let fresh_file = s.job_file(glow.id, fresh.job_id).await.unwrap().unwrap();
        for name in [
            &old_file.stored_name,
            &fresh_file.stored_name,
            &upload.stored_name,
        ] {
            assert!(files.open(name).await.is_ok(), "{name} is in the bucket");
        }
        assert_eq!(sweep_expired_files(s, &files).await.unwrap(), 0);
        store::testing::set_file_expiry(s, old_file.id, store::now_ms() - 1).await;
        store::testing::set_file_expiry(s, upload.id, store::now_ms() - 1).await;
        assert_eq!(sweep_expired_files(s, &files).await.unwrap(), 2);
        for name in [&old_file.stored_name, &upload.stored_name] {
            assert!(files.open(name).await.unwrap_err().is_not_found(), "{name}");
        }
        assert!(!old.file.unwrap().exists(), "its local copy went too");
        assert!(files.open(&fresh_file.stored_name).await.is_ok());
        assert!(
            s.import_draft(glow.id, draft)
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
}

#[test]
fn a_schedule_runs_one_period_after_its_last_run_or_at_the_next_slot() {
    const H: i64 = 3_600_000;
    let cases: &[(i64, &str, i64, i64)] = &[
        (0, "daily", 1, 24 * H),
        (0, "weekly", 1, 7 * 24 * H),
        // Down for three and a half days: the next slot of the same rhythm after now.
        (0, "daily", 84 * H, 96 * H),
        (0, "daily", 96 * H, 120 * H),
        (5, "weekly", 30 * 24 * H, 5 + 35 * 24 * H),
    ];
    for &(due, frequency, now, want) in cases {
        assert_eq!(
            next_run(due, frequency, now),
            want,
            "{due} {frequency} {now}"
        );
    }
}

#[tokio::test]
async fn a_due_schedule_starts_one_export_of_its_smart_list() {
    for db in each_backend().await {
        let s = &db.store;
        let glow = location(&db, "Glow").await;
        let leads = s.smart_list_by_name(glow.id, "Leads").await.unwrap();
        let due = store::now_ms() - 1000;
        s.create_export_schedule(
            glow.id,
            &store::NewExportSchedule {
                smart_list_id: leads.id,
                frequency: "weekly",
                columns: vec!["email".into()],
                next_run_at: due,
                created_by: None,
            },
        )
        .await
        .unwrap();
        let (a, b) = tokio::join!(start_due_schedules(s), start_due_schedules(s));
        let started: Vec<i64> = a.unwrap().into_iter().chain(b.unwrap()).collect();
        assert_eq!(started.len(), 1);
        let job = s.job(glow.id, started[0]).await.unwrap();
        assert_eq!(
            (job.operation.as_str(), job.status.as_str()),
            ("export", "queued")
        );
        assert!(job.name.starts_with("Leads weekly export "), "{}", job.name);
        let request = read_options(&s.job_options(glow.id, job.id).await.unwrap(), job.id).unwrap();
        assert_eq!(
            request,
            ExportRequest {
                object: domain::ObjectKind::Contact,
                selection: Selection::SmartList { id: leads.id },
                columns: Some(vec!["email".into()]),
            }
        );
        let schedule = &s.export_schedules(glow.id).await.unwrap()[0];
        assert_eq!(schedule.next_run_at, due + 7 * DAY_MS);
        assert!(start_due_schedules(s).await.unwrap().is_empty());
    }
}

mod opportunities;
mod round_trip;
