//! How a job's state reads to a person (SPEC §9.1: the Bulk Actions list, `jobs list|show`):
//! the status to show and why, in words — the reason stored on the job (waiting for the
//! database, disk full, failed …), a pause or cancel on its way, a runner that stopped
//! checking in, or a revert.

use domain::job::{JobRequest, JobStatus};
use store::Job;

/// What a front end shows of a job's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    /// The stored status (`queued`, `running`, `paused`, `cancelled`, `completed`, `failed`),
    /// or `reverted` for an import that was reverted since.
    pub label: String,
    /// Why it is in that state, when there is something to say.
    pub reason: Option<String>,
}

/// The job's state as of `now_ms` (ms since the epoch).
pub fn status_view(job: &Job, now_ms: i64) -> StatusView {
    if job.reverted_at.is_some() {
        return StatusView {
            label: "reverted".into(),
            reason: Some(format!(
                "the import {} and was then reverted: the contacts it created are deleted and \
                 the fields it changed restored, less those of contacts changed since",
                match job.status {
                    JobStatus::Cancelled => "was cancelled",
                    _ => "completed",
                }
            )),
        };
    }
    let mut reasons: Vec<String> = Vec::new();
    if job.status == JobStatus::Running {
        match job.requested {
            Some(JobRequest::Pause) => {
                reasons.push("pause requested: it stops at its next checkpoint".into())
            }
            Some(JobRequest::Cancel) => {
                reasons.push("cancel requested: it stops at its next checkpoint".into())
            }
            None => {}
        }
        if let Some(r) = &job.status_reason {
            reasons.push(r.clone());
        }
        if let Some(expires) = job.lease_expires_at.filter(|e| *e < now_ms) {
            let silent = (now_ms - expires) / 1000;
            reasons.push(format!(
                "its process has not checked in for {silent} s more than its lease allows: it \
                 may be waiting for the database, or have stopped; `aesthetix jobs resume {}`, \
                 `serve` or a `worker` takes it over from its last checkpoint",
                job.id
            ));
        }
    } else if let Some(r) = &job.status_reason {
        reasons.push(r.clone());
    }
    StatusView {
        label: job.status.to_string(),
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
    }
}

#[cfg(test)]
mod tests;
