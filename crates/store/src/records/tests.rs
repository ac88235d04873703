//! Records are written per location and object, ids the location's own; unique values are the
//! database's to enforce, on both backends.

use std::collections::BTreeMap;

use domain::job::{LineAction, LineStatus, Operation};
use domain::{LocationSettings, ObjectKind};

use crate::testing::each_backend;
use crate::{
    Lease, LineWrite, LocationId, NewJob, RecordChunkWrite, RecordRef, RecordWrite, Store, Totals,
};

async fn leased_job(store: &Store, location: LocationId, object: &ObjectKind) -> Lease {
    let job = store
        .create_job(
            location,
            &NewJob {
                operation: Operation::Import,
                object: object.clone(),
                name: "records".into(),
                options: "{}".into(),
                lease_owner: Some("test".into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    Lease {
        job_id: job,
        location_id: location,
        owner: "test".into(),
    }
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn create(name: &str, npi: &str, line: u64) -> RecordWrite {
    RecordWrite {
        id: None,
        values: values(&[("company_name", name), ("npi", npi)]),
        before: None,
        primary: name.into(),
        unique_after: vec![("npi".into(), npi.to_lowercase())],
        unique_before: Vec::new(),
        line,
    }
}

fn chunk(object: &ObjectKind, records: Vec<RecordWrite>, checkpoint: u64) -> RecordChunkWrite {
    let lines = (0..records.len())
        .map(|i| LineWrite {
            line: records[i].line,
            status: LineStatus::Success,
            action: LineAction::Created,
            record: Some(RecordRef::Written(i)),
            primary: Some(records[i].primary.clone()),
            messages: None,
            cells: None,
        })
        .collect();
    RecordChunkWrite {
        object: Some(object.clone()),
        totals: Totals {
            processed: records.len() as i64,
            created: records.len() as i64,
            ..Totals::default()
        },
        records,
        lines,
        checkpoint_line: checkpoint,
    }
}

#[tokio::test]
async fn ids_are_the_locations_own_and_unique_values_are_enforced() {
    for db in each_backend().await {
        let store: &Store = &db.store;
        let a = store
            .create_location("A", &LocationSettings::default())
            .await
            .unwrap();
        let b = store
            .create_location("B", &LocationSettings::default())
            .await
            .unwrap();
        let company = ObjectKind::Company;
        let treatments = ObjectKind::Custom("treatments".into());
        let lease = leased_job(store, a.id, &company).await;
        let (ids, _) = store
            .apply_record_chunk(
                &lease,
                &chunk(
                    &company,
                    vec![create("Glow", "N1", 2), create("Lux", "N2", 3)],
                    3,
                ),
            )
            .await
            .unwrap();
        assert_eq!(ids, [1, 2]);
        // Another object, another location: their own ids from 1.
        let lease_b = leased_job(store, b.id, &company).await;
        let (ids_b, _) = store
            .apply_record_chunk(&lease_b, &chunk(&company, vec![create("Glow", "N1", 2)], 2))
            .await
            .unwrap();
        assert_eq!(ids_b, [1], "unique per location");
        let lease_t = leased_job(store, a.id, &treatments).await;
        let (ids_t, _) = store
            .apply_record_chunk(
                &lease_t,
                &chunk(&treatments, vec![create("Botox", "N1", 2)], 2),
            )
            .await
            .unwrap();
        assert_eq!(ids_t, [1], "unique per object");

        // A second record with N1 in A's companies is refused as a whole: nothing of the
        // chunk is written, the checkpoint does not move.
        let lease2 = leased_job(store, a.id, &company).await;
        let err = store
            .apply_record_chunk(
                &lease2,
                &chunk(
                    &company,
                    vec![create("Third", "N3", 2), create("Dup", "n1", 3)],
                    3,
                ),
            )
            .await
            .unwrap_err();
        assert!(err.is_conflict(), "{err}");
        assert_eq!(store.record_count(a.id, &company).await.unwrap(), 2);
        assert_eq!(
            store
                .job(a.id, lease2.job_id)
                .await
                .unwrap()
                .checkpoint_line,
            0
        );

        // Found by id and by unique value; scoped by location and object.
        let found = store
            .records_for_matching(a.id, &company, &[2], &[("npi".into(), "n1".into())])
            .await
            .unwrap();
        let got: Vec<(i64, &str)> = found
            .iter()
            .map(|r| (r.id, r.values["company_name"].as_str()))
            .collect();
        assert_eq!(got, [(1, "Glow"), (2, "Lux")]);
        assert!(
            store
                .records_for_matching(b.id, &company, &[2], &[("npi".into(), "n2".into())])
                .await
                .unwrap()
                .is_empty()
        );

        // An update moves its unique value; the old one is free again. Ids are never reused:
        // the refused chunk's ids were rolled back with it, so the next is 3.
        let mut moved = RecordWrite {
            id: Some(1),
            values: values(&[("company_name", "Glow"), ("npi", "N9")]),
            before: Some(values(&[("company_name", "Glow"), ("npi", "N1")])),
            primary: "Glow".into(),
            unique_after: vec![("npi".into(), "n9".into())],
            unique_before: vec![("npi".into(), "n1".into())],
            line: 2,
        };
        let mut c = chunk(&company, vec![moved.clone(), create("New", "N1", 3)], 3);
        c.lines[0].record = Some(RecordRef::Id(1));
        let (ids, _) = store.apply_record_chunk(&lease2, &c).await.unwrap();
        assert_eq!(ids, [1, 3]);
        let page = store.records_page(a.id, &company, 0, 10).await.unwrap();
        let got: Vec<(i64, &str, i64)> = page
            .iter()
            .map(|r| (r.id, r.values["npi"].as_str(), r.version))
            .collect();
        assert_eq!(got, [(1, "N9", 2), (2, "N2", 1), (3, "N1", 1)]);
        // Record 2 cannot take N9 now.
        moved.id = Some(2);
        moved.before = Some(values(&[("npi", "N2")]));
        moved.unique_before = vec![("npi".into(), "n2".into())];
        let mut c = chunk(&company, vec![moved], 4);
        c.lines[0].record = Some(RecordRef::Id(2));
        assert!(
            store
                .apply_record_chunk(&lease2, &c)
                .await
                .unwrap_err()
                .is_conflict()
        );
    }
}

/// Two chunks of two jobs, at the same time, giving one value to two new records: one
/// commits, the other is refused (and its import decides again), on both backends.
#[tokio::test]
async fn two_chunks_at_once_never_leave_two_records_with_one_unique_value() {
    for db in each_backend().await {
        let store: &Store = &db.store;
        let a = store
            .create_location("A", &LocationSettings::default())
            .await
            .unwrap();
        let company = ObjectKind::Company;
        for round in 0..5 {
            let l1 = leased_job(store, a.id, &company).await;
            let l2 = leased_job(store, a.id, &company).await;
            let npi = format!("R{round}");
            let c1 = chunk(&company, vec![create("One", &npi, 2)], 2);
            let c2 = chunk(&company, vec![create("Two", &npi, 2)], 2);
            let (r1, r2) = tokio::join!(
                store.apply_record_chunk(&l1, &c1),
                store.apply_record_chunk(&l2, &c2)
            );
            let ok = [r1.is_ok(), r2.is_ok()];
            assert_eq!(ok.iter().filter(|o| **o).count(), 1, "round {round}");
            for r in [r1, r2] {
                if let Err(e) = r {
                    assert!(e.is_conflict(), "{e}");
                }
            }
            let holders = store
                .records_for_matching(a.id, &company, &[], &[("npi".into(), npi.to_lowercase())])
                .await
                .unwrap();
            assert_eq!(holders.len(), 1);
        }
    }
}

#[tokio::test]
async fn the_pages_read_a_locations_own_records_by_id() {
    for db in each_backend().await {
        let store: &Store = &db.store;
        let a = store
            .create_location("A", &LocationSettings::default())
            .await
            .unwrap();
        let b = store
            .create_location("B", &LocationSettings::default())
            .await
            .unwrap();
        let company = ObjectKind::Company;
        let treatments = ObjectKind::Custom("treatments".into());
        let lease = leased_job(store, a.id, &company).await;
        store
            .apply_record_chunk(
                &lease,
                &chunk(
                    &company,
                    vec![
                        create("Glow", "N1", 2),
                        create("Lux", "N2", 3),
                        create("Aura", "N3", 4),
                    ],
                    4,
                ),
            )
            .await
            .unwrap();
        let page = store.records_by_id(a.id, &company, 1, 5).await.unwrap();
        let got: Vec<(i64, &str)> = page.iter().map(|r| (r.id, r.primary.as_str())).collect();
        assert_eq!(got, [(2, "Lux"), (3, "Aura")]);
        assert_eq!(
            page[0].values,
            values(&[("company_name", "Lux"), ("npi", "N2")])
        );
        assert!(page[0].created_at > 0 && page[0].updated_at >= page[0].created_at);
        let one = store
            .shown_record(a.id, &company, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((one.id, one.primary.as_str()), (1, "Glow"));
        // Another location, another object: nothing of A's.
        assert!(
            store
                .records_by_id(b.id, &company, 0, 5)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.shown_record(b.id, &company, 1).await.unwrap(), None);
        assert_eq!(
            store.shown_record(a.id, &treatments, 1).await.unwrap(),
            None
        );
        assert_eq!(store.shown_record(a.id, &company, 4).await.unwrap(), None);
    }
}
