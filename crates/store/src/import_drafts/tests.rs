//! Drafts and their submit, on both backends: scoped by location, one job per draft however
//! often it is submitted, and one job per Idempotency-Key (SPEC §9.6).

use domain::LocationSettings;

use super::*;
use crate::testing::each_backend;

fn import_job(name: &str) -> NewJob {
    NewJob {
        operation: domain::job::Operation::Import,
        object: domain::ObjectKind::Contact,
        name: name.into(),
        file_name: Some("../../x.csv".into()),
        options: "{}".into(),
        total: Some(3),
        ..NewJob::default()
    }
}

#[tokio::test]
async fn drafts_are_the_locations_own_and_submit_once() {
    for db in each_backend().await {
        let store = &db.store;
        let glow = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap();
        let other = store
            .create_location("Other", &LocationSettings::default())
            .await
            .unwrap();
        let file = store
            .create_file(glow.id, "upload", "../../x.csv", "upload-1", 42)
            .await
            .unwrap();
        assert_eq!(
            store.stored_file(glow.id, file.id).await.unwrap(),
            file,
            "{:?}",
            db.backend()
        );
        assert!(
            store
                .stored_file(other.id, file.id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            store
                .create_import_draft(other.id, None, file.id, "{}")
                .await
                .unwrap_err()
                .is_not_found(),
            "a draft cannot point at another location's file"
        );
        let draft = store
            .create_import_draft(glow.id, None, file.id, r#"{"a":1}"#)
            .await
            .unwrap();
        let d = store.import_draft(glow.id, draft).await.unwrap();
        assert_eq!(d.file.download_name, "../../x.csv");
        assert_eq!(d.settings, r#"{"a":1}"#);
        assert_eq!(d.job_id, None);
        assert!(
            store
                .import_draft(other.id, draft)
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            store
                .update_import_draft(other.id, draft, "{}")
                .await
                .unwrap_err()
                .is_not_found()
        );
        store
            .update_import_draft(glow.id, draft, r#"{"b":2}"#)
            .await
            .unwrap();
        assert_eq!(
            store.import_draft(glow.id, draft).await.unwrap().settings,
            r#"{"b":2}"#
        );

        assert!(
            store
                .submit_import_draft(other.id, draft, &import_job("x"), None)
                .await
                .unwrap_err()
                .is_not_found()
        );
        let (job, created) = store
            .submit_import_draft(glow.id, draft, &import_job("first"), None)
            .await
            .unwrap();
        assert!(created);
        let j = store.job(glow.id, job).await.unwrap();
        assert_eq!(
            (j.status.as_str(), j.name.as_str(), j.total),
            ("queued", "first", Some(3))
        );
        assert_eq!(j.file_name.as_deref(), Some("../../x.csv"));
        assert_eq!(
            store
                .submit_import_draft(glow.id, draft, &import_job("again"), None)
                .await
                .unwrap(),
            (job, false),
            "a draft submitted twice has one job"
        );
        assert_eq!(
            store.import_draft(glow.id, draft).await.unwrap().job_id,
            Some(job)
        );
        assert!(
            store
                .update_import_draft(glow.id, draft, "{}")
                .await
                .unwrap_err()
                .is_conflict(),
            "a submitted draft no longer changes"
        );
        assert_eq!(store.jobs(glow.id).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_idempotency_key_names_one_job_per_location() {
    for db in each_backend().await {
        let store = &db.store;
        let glow = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap();
        let other = store
            .create_location("Other", &LocationSettings::default())
            .await
            .unwrap();
        let mut drafts = Vec::new();
        for (loc, n) in [(glow.id, 1), (glow.id, 2), (other.id, 3)] {
            let f = store
                .create_file(loc, "upload", "a.csv", &format!("upload-{n}"), 1)
                .await
                .unwrap();
            drafts.push(
                store
                    .create_import_draft(loc, None, f.id, "{}")
                    .await
                    .unwrap(),
            );
        }
        let (first, created) = store
            .submit_import_draft(glow.id, drafts[0], &import_job("a"), Some("key-1"))
            .await
            .unwrap();
        assert!(created);
        // The same key on another draft of the location: the job made then.
        assert_eq!(
            store
                .submit_import_draft(glow.id, drafts[1], &import_job("b"), Some("key-1"))
                .await
                .unwrap(),
            (first, false),
            "{:?}",
            db.backend()
        );
        assert_eq!(
            store.import_draft(glow.id, drafts[1]).await.unwrap().job_id,
            None
        );
        assert_eq!(
            store
                .job_by_idempotency_key(glow.id, "key-1")
                .await
                .unwrap(),
            Some(first)
        );
        // Another location's key space is its own.
        assert_eq!(
            store
                .job_by_idempotency_key(other.id, "key-1")
                .await
                .unwrap(),
            None
        );
        let (theirs, created) = store
            .submit_import_draft(other.id, drafts[2], &import_job("c"), Some("key-1"))
            .await
            .unwrap();
        assert!(created && theirs != first);

        // Concurrent submits with one key: one job.
        let f = store
            .create_file(glow.id, "upload", "a.csv", "upload-9", 1)
            .await
            .unwrap();
        let mut handles = Vec::new();
        for _ in 0..4 {
            let d = store
                .create_import_draft(glow.id, None, f.id, "{}")
                .await
                .unwrap();
            let s = store.clone();
            let loc = glow.id;
            handles.push(tokio::spawn(async move {
                s.submit_import_draft(loc, d, &import_job("race"), Some("key-2"))
                    .await
                    .unwrap()
                    .0
            }));
        }
        let mut ids = Vec::new();
        for h in handles {
            ids.push(h.await.unwrap());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
    }
}
