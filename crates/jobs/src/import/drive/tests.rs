//! The heartbeat on both backends: a live job keeps its lease through a gap longer than the
//! lease (a slow chunk, a slow read, a wait), and loses it once the heartbeat stops.

use std::time::Duration;

use domain::LocationSettings;
use store::testing::each_backend;
use store::{Lease, NewJob};

use super::Heartbeat;

#[tokio::test]
async fn a_heartbeat_keeps_a_live_jobs_lease_and_only_a_dead_one_lapses() {
    for db in each_backend().await {
        let s = db.store.clone().with_lease_ms(300);
        let loc = s
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let job_id = s
            .create_job(
                loc,
                &NewJob {
                    operation: domain::job::Operation::Import,
                    object: domain::ObjectKind::Contact,
                    name: "slow import".into(),
                    options: "{}".into(),
                    lease_owner: Some("host/1/a".into()),
                    ..NewJob::default()
                },
            )
            .await
            .unwrap();
        let lease = Lease {
            job_id,
            location_id: loc,
            owner: "host/1/a".into(),
        };
        let heartbeat = Heartbeat::start(&s, &lease);
        // Five lease lengths without a chunk: another worker looks for work all along.
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(
                s.claim_next_job("host/2/b").await.unwrap(),
                None,
                "{:?}: a live job was taken over",
                s.backend()
            );
        }
        drop(heartbeat);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let taken = s.claim_next_job("host/2/b").await.unwrap();
        assert_eq!(taken.map(|l| l.job_id), Some(job_id));
    }
}
