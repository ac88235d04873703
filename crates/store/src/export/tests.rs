//! The export's row source, stored files, notifications, progress and schedules, on both
//! backends: every field read back as the import wrote it, batch by batch, and never a row of
//! another location.

use std::collections::BTreeMap;

use domain::{LocationSettings, Role};

use super::*;
use crate::testing::{TestDb, each_backend};
use crate::{ChunkWrite, ContactWrite, NewFile, NewJob, UserId, parse_filter};

/// What one generated contact was written with.
#[derive(Debug, Clone)]
struct Written {
    values: BTreeMap<String, String>,
    tags: Vec<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    notes: Vec<String>,
}

fn person(i: usize, seed: u64, owner: UserId) -> Written {
    let mut values = BTreeMap::new();
    values.insert("first_name".into(), format!("Pat{i}"));
    values.insert("email".into(), format!("pat{i}.{seed}@example.com"));
    if !i.is_multiple_of(3) {
        values.insert("phone".into(), format!("+1201{seed:03}{i:04}"));
    }
    if i.is_multiple_of(4) {
        values.insert("created_at".into(), "2023-05-06".into());
    }
    for (k, c) in ["dnd_sms", "dnd_email", "dnd_calls", "dnd_voicemail"]
        .iter()
        .enumerate()
    {
        values.insert(c.to_string(), i.is_multiple_of(k + 2).to_string());
    }
    if i.is_multiple_of(5) {
        values.insert("owner".into(), owner.0.to_string());
    }
    if i.is_multiple_of(2) {
        values.insert("treatment_of_interest".into(), format!("=Botox {i}; laser"));
        values.insert("patient_lifetime_value".into(), "1234.50".into());
    }
    Written {
        values,
        tags: match i % 3 {
            0 => vec![],
            1 => vec!["VIP".into()],
            _ => vec!["Zeta".into(), "VIP".into(), "Alpha".into()],
        },
        emails: if i.is_multiple_of(7) {
            vec![format!("b{i}@example.com"), format!("a{i}@example.com")]
        } else {
            vec![]
        },
        phones: if i.is_multiple_of(11) {
            vec![format!("+1917{seed:03}{i:04}")]
        } else {
            vec![]
        },
        notes: match i % 4 {
            0 => vec![],
            1 => vec![format!("only note {i}")],
            _ => vec![format!("first {i}"), format!("latest {i}\nsecond line")],
        },
    }
}

/// Writes `n` generated contacts through the import's write path and returns them with ids.
async fn write_people(
    db: &TestDb,
    location: LocationId,
    n: usize,
    seed: u64,
    owner: UserId,
) -> Vec<(i64, Written)> {
    let s = &db.store;
    let job = s
        .create_job(
            location,
            &NewJob {
                operation: domain::job::Operation::Import,
                object: domain::ObjectKind::Contact,
                name: "seed".into(),
                options: "{}".into(),
                lease_owner: Some("test".into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    let lease = Lease {
        job_id: job,
        location_id: location,
        owner: "test".into(),
    };
    let people: Vec<Written> = (0..n).map(|i| person(i, seed, owner)).collect();
    let mut out = Vec::new();
    for (c, chunk) in people.chunks(500).enumerate() {
        let write = ChunkWrite {
            contacts: chunk
                .iter()
                .map(|w| ContactWrite {
                    values: w.values.clone(),
                    new_tags: w.tags.clone(),
                    new_emails: w.emails.clone(),
                    new_phones: w.phones.clone(),
                    notes: w.notes.clone(),
                    line: 2,
                    ..ContactWrite::default()
                })
                .collect(),
            checkpoint_line: (c as u64 + 1) * 500,
            ..ChunkWrite::default()
        };
        let (ids, _) = s.apply_import_chunk(&lease, &write).await.unwrap();
        out.extend(ids.into_iter().zip(chunk.iter().cloned()));
    }
    out
}

const FIELDS: fn() -> Vec<ExportField> = || {
    vec![
        ExportField::Id,
        ExportField::Text("first_name"),
        ExportField::Text("email"),
        ExportField::Text("phone"),
        ExportField::Text("created_at"),
        ExportField::CreatedMs,
        ExportField::Flag("dnd_sms"),
        ExportField::Flag("dnd_email"),
        ExportField::Flag("dnd_calls"),
        ExportField::Flag("dnd_voicemail"),
        ExportField::Owner,
        ExportField::Custom("treatment_of_interest".into()),
        ExportField::Custom("patient_lifetime_value".into()),
        ExportField::Tags,
        ExportField::AdditionalEmails,
        ExportField::AdditionalPhones,
        ExportField::LatestNote,
    ]
};

/// What reading `w` must give, field by field in [`FIELDS`] order (CreatedMs unchecked).
fn expected(id: i64, w: &Written) -> Vec<Option<String>> {
    let v = |k: &str| w.values.get(k).cloned();
    let joined = |xs: &[String]| (!xs.is_empty()).then(|| xs.join(", "));
    vec![
        Some(id.to_string()),
        v("first_name"),
        v("email"),
        v("phone"),
        v("created_at"),
        None,
        v("dnd_sms"),
        v("dnd_email"),
        v("dnd_calls"),
        v("dnd_voicemail"),
        v("owner"),
        v("treatment_of_interest"),
        v("patient_lifetime_value"),
        joined(&w.tags),
        joined(&w.emails),
        joined(&w.phones),
        w.notes.last().cloned(),
    ]
}

async fn read_all(
    s: &Store,
    location: LocationId,
    scope: &ExportScope,
    fields: &[ExportField],
) -> (Vec<Vec<Option<String>>>, Vec<usize>) {
    let mut reader = s
        .export_reader(location, &domain::ObjectKind::Contact, scope, fields)
        .await
        .unwrap();
    let mut rows = Vec::new();
    let mut sizes = Vec::new();
    while let Some(batch) = reader.next_batch().await.unwrap() {
        sizes.push(batch.len());
        for r in 0..batch.len() {
            let mut row = vec![Some(batch.id(r).to_string())];
            row.extend((0..fields.len()).map(|f| batch.cell(r, f).map(String::from)));
            rows.push(row);
        }
    }
    (rows, sizes)
}

async fn location(db: &TestDb, name: &str) -> crate::Location {
    db.store
        .create_location(name, &LocationSettings::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn reads_every_field_in_keyset_batches_and_only_the_locations_contacts() {
    for db in each_backend().await {
        let s = &db.store;
        let glow = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let owner = s
            .create_user(glow.id, "amy@example.com", "Amy", "x", Role::Admin)
            .await
            .unwrap();
        // The other location's contacts come first, between and after: they must never show.
        let theirs = write_people(&db, other.id, 30, 2, owner.id).await;
        let ours = write_people(&db, glow.id, 2300, 1, owner.id).await;
        write_people(&db, other.id, 30, 3, owner.id).await;

        let fields = FIELDS();
        let all = ExportScope::Filters(Vec::new());
        let (rows, sizes) = read_all(s, glow.id, &all, &fields).await;
        assert_eq!(sizes, vec![1000, 1000, 300], "{:?}", db.backend());
        assert_eq!(
            s.export_count(glow.id, &domain::ObjectKind::Contact, &all)
                .await
                .unwrap(),
            2300
        );
        assert_eq!(rows.len(), ours.len());
        // Tags come in the order they were added: in one chunk, the order the location
        // first had each tag.
        let mut first_seen: Vec<String> = Vec::new();
        for (_, w) in &ours {
            for t in &w.tags {
                if !first_seen.contains(t) {
                    first_seen.push(t.clone());
                }
            }
        }
        for ((id, w), row) in ours.iter().zip(&rows) {
            let mut w = w.clone();
            w.tags
                .sort_by_key(|t| first_seen.iter().position(|x| x == t));
            let mut want = expected(*id, &w);
            want.insert(0, Some(id.to_string()));
            let mut got = row.clone();
            // Created at: milliseconds of a row written just now.
            let ms: i64 = got[6].take().unwrap().parse().unwrap();
            assert!(ms > 1_700_000_000_000);
            assert_eq!(got, want, "{:?} contact {id}", db.backend());
        }

        // By filters: the Smart List semantics, evaluated in SQL.
        let vip = ExportScope::Filters(vec![parse_filter("tag=vip").unwrap()]);
        let (rows, _) = read_all(s, glow.id, &vip, &[ExportField::Tags]).await;
        let want: Vec<i64> = ours
            .iter()
            .filter(|(_, w)| w.tags.iter().any(|t| t == "VIP"))
            .map(|(id, _)| *id)
            .collect();
        let got: Vec<i64> = rows
            .iter()
            .map(|r| r[0].as_ref().unwrap().parse().unwrap())
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            s.export_count(glow.id, &domain::ObjectKind::Contact, &vip)
                .await
                .unwrap(),
            want.len() as i64
        );

        // By ids: another location's ids and repeats are not read; order is by id.
        let mut ids: Vec<i64> = ours.iter().rev().step_by(3).map(|(id, _)| *id).collect();
        ids.push(theirs[0].0);
        ids.push(ours[5].0);
        ids.push(ours[5].0);
        let mut want: Vec<i64> = ours.iter().rev().step_by(3).map(|(id, _)| *id).collect();
        want.push(ours[5].0);
        want.sort_unstable();
        want.dedup();
        let scope = ExportScope::Ids(ids);
        let (rows, _) = read_all(s, glow.id, &scope, &[ExportField::Text("first_name")]).await;
        let got: Vec<i64> = rows
            .iter()
            .map(|r| r[0].as_ref().unwrap().parse().unwrap())
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            s.export_count(glow.id, &domain::ObjectKind::Contact, &scope)
                .await
                .unwrap(),
            want.len() as i64
        );

        // Ids far apart: the side values are read by list rather than by range.
        let sparse: Vec<usize> = vec![0, 1001, 2299];
        let scope = ExportScope::Ids(sparse.iter().map(|i| ours[*i].0).collect());
        let (rows, _) = read_all(s, glow.id, &scope, &fields).await;
        assert_eq!(rows.len(), 3);
        for (i, row) in sparse.iter().zip(&rows) {
            let (id, w) = &ours[*i];
            let mut w = w.clone();
            w.tags
                .sort_by_key(|t| first_seen.iter().position(|x| x == t));
            let mut want = expected(*id, &w);
            want.insert(0, Some(id.to_string()));
            let mut got = row.clone();
            got[6] = None;
            assert_eq!(got, want, "{:?} contact {id}", db.backend());
        }

        // A location without contacts reads nothing (no batch at all).
        let empty = location(&db, "Empty").await;
        let (rows, sizes) = read_all(s, empty.id, &all, &fields).await;
        assert!(rows.is_empty() && sizes.is_empty());
        let (rows, _) = read_all(s, empty.id, &ExportScope::Ids(vec![ours[0].0]), &fields).await;
        assert!(rows.is_empty(), "ids of another location are not read");
    }
}

async fn export_job(s: &Store, location: LocationId, created_by: Option<UserId>) -> Lease {
    let job = s
        .create_job(
            location,
            &NewJob {
                operation: domain::job::Operation::Export,
                object: domain::ObjectKind::Contact,
                name: "Contacts export".into(),
                file_name: Some("Contacts export.csv".into()),
                options: "{}".into(),
                created_by,
                lease_owner: Some("runner".into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    Lease {
        job_id: job,
        location_id: location,
        owner: "runner".into(),
    }
}

fn export_file(job: i64, expires_at: i64) -> NewFile {
    NewFile {
        kind: "export",
        stored_name: format!("export-{job}-abc.csv"),
        download_name: "Contacts export.csv".into(),
        size_bytes: 42,
        expires_at: Some(expires_at),
    }
}

#[tokio::test]
async fn a_completed_export_records_its_file_and_notifies_in_one_step() {
    for db in each_backend().await {
        let s = &db.store;
        let glow = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let amy = s
            .create_user(glow.id, "amy@example.com", "Amy", "x", Role::Admin)
            .await
            .unwrap();
        let bob = s
            .create_user(glow.id, "bob@example.com", "Bob", "x", Role::Admin)
            .await
            .unwrap();
        let lease = export_job(s, glow.id, Some(amy.id)).await;
        assert_eq!(s.job_file(glow.id, lease.job_id).await.unwrap(), None);

        // Progress is fenced on the lease and renews it.
        assert_eq!(
            s.export_progress(&lease, 10, Some(30)).await.unwrap(),
            AfterChunk::Running
        );
        let job = s.job(glow.id, lease.job_id).await.unwrap();
        assert_eq!((job.totals.processed, job.total), (10, Some(30)));
        let stranger = Lease {
            owner: "someone else".into(),
            ..lease.clone()
        };
        assert!(matches!(
            s.export_progress(&stranger, 20, None).await,
            Err(StoreError::LeaseLost(_))
        ));
        let far = now_ms() + 30 * 86_400_000;
        assert!(matches!(
            s.complete_export(&stranger, &export_file(lease.job_id, far), 30, "ready")
                .await,
            Err(StoreError::LeaseLost(_))
        ));
        assert_eq!(s.job_file(glow.id, lease.job_id).await.unwrap(), None);

        let id = s
            .complete_export(
                &lease,
                &export_file(lease.job_id, far),
                30,
                "Your export is ready",
            )
            .await
            .unwrap();
        let job = s.job(glow.id, lease.job_id).await.unwrap();
        assert_eq!(job.status, "completed");
        assert_eq!((job.totals.processed, job.total), (30, Some(30)));
        let file = s.job_file(glow.id, lease.job_id).await.unwrap().unwrap();
        assert_eq!(file.id, id);
        assert_eq!(file.stored_name, format!("export-{}-abc.csv", lease.job_id));
        assert_eq!(file.download_name, "Contacts export.csv");
        assert_eq!(file.job_id, Some(lease.job_id));
        assert!(file.is_available(now_ms()));
        assert!(!file.is_available(far));
        // Another location neither sees the job nor the file.
        assert!(
            s.job_file(other.id, lease.job_id)
                .await
                .unwrap_err()
                .is_not_found()
        );

        // The notice is Amy's; Bob does not see it.
        let amys = s.notifications(glow.id, amy.id, true, 10).await.unwrap();
        assert_eq!(amys.len(), 1);
        assert_eq!(amys[0].text, "Your export is ready");
        assert_eq!(amys[0].kind, "export_ready");
        assert_eq!(amys[0].job_id, Some(lease.job_id));
        assert_eq!(
            amys[0].link.as_deref(),
            Some(format!("/bulk-actions/{}", lease.job_id).as_str())
        );
        assert!(
            s.notifications(glow.id, bob.id, false, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.mark_notification_read(glow.id, bob.id, amys[0].id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        s.mark_notification_read(glow.id, amy.id, amys[0].id)
            .await
            .unwrap();
        assert!(
            s.notifications(glow.id, amy.id, true, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.notifications(glow.id, amy.id, false, 10).await.unwrap()[0]
                .read_at
                .is_some()
        );

        // An export nobody in particular started (CLI, schedule) tells every admin.
        let lease2 = export_job(s, glow.id, None).await;
        s.complete_export(
            &lease2,
            &export_file(lease2.job_id, far),
            0,
            "Scheduled export ready",
        )
        .await
        .unwrap();
        for user in [amy.id, bob.id] {
            let n = s.notifications(glow.id, user, true, 10).await.unwrap();
            assert_eq!(n.len(), 1, "{user:?}");
            assert_eq!(n[0].job_id, Some(lease2.job_id));
        }
        assert!(
            s.notifications(other.id, amy.id, false, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // The sweep finds files past their expiry, of every location, until marked deleted.
        let lease3 = export_job(s, other.id, None).await;
        let past = now_ms() - 1;
        s.complete_export(&lease3, &export_file(lease3.job_id, past), 0, "ready")
            .await
            .unwrap();
        let expired = s.expired_files(now_ms(), 100).await.unwrap();
        assert_eq!(
            expired.iter().map(|f| f.job_id).collect::<Vec<_>>(),
            vec![Some(lease3.job_id)]
        );
        let f = &expired[0];
        assert!(!f.is_available(now_ms()));
        s.mark_file_deleted(glow.id, f.id, now_ms()).await.unwrap();
        assert_eq!(
            s.expired_files(now_ms(), 100).await.unwrap().len(),
            1,
            "scoped by location"
        );
        s.mark_file_deleted(other.id, f.id, now_ms()).await.unwrap();
        assert!(s.expired_files(now_ms(), 100).await.unwrap().is_empty());
        let gone = s.job_file(other.id, lease3.job_id).await.unwrap().unwrap();
        assert!(gone.deleted_at.is_some());
        assert_eq!(s.expired_files(far + 1, 100).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn a_pause_or_cancel_is_settled_at_the_next_progress() {
    for db in each_backend().await {
        let s = &db.store;
        let glow = location(&db, "Glow").await;
        let lease = export_job(s, glow.id, None).await;
        s.request_cancel(glow.id, lease.job_id).await.unwrap();
        assert_eq!(
            s.export_progress(&lease, 5, None).await.unwrap(),
            AfterChunk::Cancelled
        );
        assert_eq!(
            s.job(glow.id, lease.job_id).await.unwrap().status,
            "cancelled"
        );
        assert!(matches!(
            s.export_progress(&lease, 6, None).await,
            Err(StoreError::LeaseLost(_))
        ));
        let lease = export_job(s, glow.id, None).await;
        s.request_pause(glow.id, lease.job_id).await.unwrap();
        assert_eq!(
            s.export_progress(&lease, 5, None).await.unwrap(),
            AfterChunk::Paused
        );
        assert_eq!(s.job(glow.id, lease.job_id).await.unwrap().status, "paused");
    }
}

#[tokio::test]
async fn each_scheduled_run_starts_once_however_many_processes_try() {
    for db in each_backend().await {
        let s = &db.store;
        let glow = location(&db, "Glow").await;
        let other = location(&db, "Other").await;
        let leads = s.smart_list_by_name(glow.id, "Leads").await.unwrap();
        let theirs = s.smart_list_by_name(other.id, "Leads").await.unwrap();
        let new = crate::NewExportSchedule {
            smart_list_id: theirs.id,
            frequency: "daily",
            columns: vec!["first_name".into(), "email".into()],
            next_run_at: 1_000,
            created_by: None,
        };
        assert!(
            s.create_export_schedule(glow.id, &new)
                .await
                .unwrap_err()
                .is_not_found(),
            "another location's Smart List"
        );
        let schedule = s
            .create_export_schedule(
                glow.id,
                &crate::NewExportSchedule {
                    smart_list_id: leads.id,
                    ..new.clone()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            s.export_schedules(glow.id).await.unwrap(),
            vec![schedule.clone()]
        );
        assert!(s.export_schedules(other.id).await.unwrap().is_empty());
        assert_eq!(s.due_export_schedules(999).await.unwrap(), vec![]);
        let due = s.due_export_schedules(5_000).await.unwrap();
        assert_eq!(due, vec![schedule.clone()]);

        let job = crate::ScheduledJob {
            name: "Leads export".into(),
            file_name: "Leads export.csv".into(),
            options: "{}".into(),
        };
        // Four processes see the same due run at once: one starts it.
        let (a, b, c, d) = tokio::join!(
            s.start_scheduled_export(&due[0], 1_000 + 86_400_000, &job),
            s.start_scheduled_export(&due[0], 1_000 + 86_400_000, &job),
            s.start_scheduled_export(&due[0], 1_000 + 86_400_000, &job),
            s.start_scheduled_export(&due[0], 1_000 + 86_400_000, &job),
        );
        let started: Vec<i64> = [a, b, c, d]
            .into_iter()
            .filter_map(|r| r.unwrap())
            .collect();
        assert_eq!(started.len(), 1, "{:?}", db.backend());
        let queued = s.job(glow.id, started[0]).await.unwrap();
        assert_eq!(
            (queued.operation.as_str(), queued.status.as_str()),
            ("export", "queued")
        );
        let after = &s.export_schedules(glow.id).await.unwrap()[0];
        assert_eq!(after.next_run_at, 1_000 + 86_400_000);
        assert_eq!(after.last_job_id, Some(started[0]));
        assert!(s.due_export_schedules(5_000).await.unwrap().is_empty());
        // A stale view of the same run starts nothing.
        assert_eq!(
            s.start_scheduled_export(&due[0], 9, &job).await.unwrap(),
            None
        );

        assert!(
            s.delete_export_schedule(other.id, schedule.id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        s.delete_export_schedule(glow.id, schedule.id)
            .await
            .unwrap();
        assert!(s.export_schedules(glow.id).await.unwrap().is_empty());
    }
}

/// One custom-values case: the stored JSON, the keys wanted, the values expected.
fn check_custom(json: &str, keys: &[&str], want: &[Option<&str>]) {
    let keys: Vec<(usize, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (i, k.to_string()))
        .collect();
    let mut out = Vec::new();
    custom_values(json, &keys, &mut out).unwrap();
    let got: Vec<Option<&str>> = out.iter().map(|v| v.as_deref()).collect();
    assert_eq!(got, want, "{json}");
}

#[test]
fn custom_values_are_picked_out_of_the_stored_json() {
    check_custom(
        r#"{"a":"x","b":"y"}"#,
        &["b", "a", "c"],
        &[Some("y"), Some("x"), None],
    );
    check_custom(r#"{}"#, &["a"], &[None]);
    check_custom(
        r#"{"a":"line\nbreak \"q\" \u00e9"}"#,
        &["a"],
        &[Some("line\nbreak \"q\" é")],
    );
    check_custom(
        r#"{"n":12.5,"i":-3,"t":true,"f":false,"z":null}"#,
        &["n", "i", "t", "f", "z"],
        &[Some("12.5"), Some("-3"), Some("true"), Some("false"), None],
    );
    check_custom(
        r#"{"l":["Face","Neck"],"skip":{"x":[1,2]},"e":[]}"#,
        &["l", "e"],
        &[Some("Face, Neck"), None],
    );
    check_custom(r#"{"k\u0065y":"v"}"#, &["key"], &[Some("v")]);
    let mut out = Vec::new();
    let err = custom_values("not json", &[(0, "a".into())], &mut out).unwrap_err();
    assert!(err.to_string().contains("custom_values"), "{err}");
}

#[test]
fn side_values_are_read_by_range_when_the_ids_are_dense() {
    assert!(by_range(&[5, 6, 7, 9]));
    assert!(by_range(&(1..=1000).rev().collect::<Vec<_>>()));
    assert!(!by_range(&[1, 100_000]));
    assert_eq!(side_keys(&[9, 5, 7], true), vec![5, 9]);
    let list = side_keys(&[9, 5, 7], false);
    assert_eq!(list.len(), BATCH_ROWS);
    assert_eq!(&list[..4], &[9, 5, 7, 7]);
}
