//! How job states read: one case per line.

use super::*;
use store::{LocationId, Totals};

fn job(status: &str) -> Job {
    Job {
        id: 7,
        location_id: LocationId(1),
        operation: domain::job::Operation::Import,
        object: domain::ObjectKind::Contact,
        name: "n".into(),
        status: status.parse().unwrap(),
        status_reason: None,
        file_name: None,
        total: None,
        totals: Totals::default(),
        checkpoint_line: 0,
        created_at: 0,
        finished_at: None,
        requested: None,
        lease_expires_at: None,
        reverted_at: None,
    }
}

/// (job, now, label, reason contains)
#[test]
fn status_views() {
    let check = |j: Job, now: i64, label: &str, reason: Option<&str>| {
        let v = status_view(&j, now);
        assert_eq!(v.label, label, "{j:?}");
        match reason {
            None => assert_eq!(v.reason, None, "{j:?}"),
            Some(part) => {
                let got = v.reason.unwrap_or_default();
                assert!(got.contains(part), "{got:?} lacks {part:?}");
            }
        }
    };
    check(job("completed"), 0, "completed", None);
    check(job("running"), 0, "running", None);
    let mut reverted = job("completed");
    reverted.reverted_at = Some(5);
    check(
        reverted,
        10,
        "reverted",
        Some("completed and was then reverted"),
    );
    let mut paused = job("paused");
    paused.status_reason = Some("disk full: no room".into());
    check(paused, 0, "paused", Some("disk full: no room"));
    let mut failed = job("failed");
    failed.status_reason = Some("the file is gone".into());
    check(failed, 0, "failed", Some("the file is gone"));
    let mut waiting = job("running");
    waiting.status_reason =
        Some("Waiting for the database: connection refused — retrying in 4 s".into());
    waiting.lease_expires_at = Some(100_000);
    check(waiting.clone(), 50_000, "running", Some("retrying in 4 s"));
    check(
        waiting,
        112_000,
        "running",
        Some("has not checked in for 12 s"),
    );
    let mut pausing = job("running");
    pausing.requested = Some(JobRequest::Pause);
    check(pausing, 0, "running", Some("pause requested"));
}
