//! The worker loop (SPEC §9.5, §9.7) that `serve` runs and `aesthetix worker` is: it claims
//! jobs — imports and exports — that are queued, or whose runner died (a lapsed lease, or a
//! dead process of this host), and runs each from its checkpoint; between jobs it starts the
//! scheduled exports that are due and deletes export files past their 30 days.

use std::time::{Duration, Instant};

use domain::job::Operation;
use filestore::FileStore;
use store::Store;

use crate::export::{run_export, start_due_schedules, sweep_expired_files};
use crate::import::{claim_from_dead_process, run_claimed};

/// How often the loop looks for due schedules.
const SCHEDULES_EVERY: Duration = Duration::from_secs(30);
/// How often the loop deletes expired files.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// How long a local copy of a stored file (S3) may sit unused before the sweep removes it.
const SCRATCH_IDLE: Duration = Duration::from_secs(2 * 86_400);

/// Runs until the process stops. `files` is the file store uploads are read from and exports
/// written to. A job that fails is recorded on the job, not here.
pub async fn work(store: Store, owner: String, files: FileStore) {
    let mut schedules_at: Option<Instant> = None;
    let mut sweep_at: Option<Instant> = None;
    loop {
        if schedules_at.is_none_or(|t| t.elapsed() >= SCHEDULES_EVERY) {
            schedules_at = Some(Instant::now());
            match start_due_schedules(&store).await {
                Ok(jobs) if !jobs.is_empty() => {
                    tracing::info!(?jobs, "worker: started scheduled exports");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "worker: could not start scheduled exports"),
            }
        }
        if sweep_at.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
            sweep_at = Some(Instant::now());
            match sweep_expired_files(&store, &files).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(files = n, "worker: deleted expired export files"),
                Err(e) => tracing::warn!(error = %e, "worker: could not delete expired files"),
            }
            files.sweep_scratch(SCRATCH_IDLE).await;
        }
        // A migration's patients file starts once its leads file completed (SPEC §11).
        match crate::migration::advance(&store, &files).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(steps = n, "worker: moved migrations on"),
            Err(e) => tracing::warn!(error = %e, "worker: could not move migrations on"),
        }
        let claimed = match store.claim_next_job(&owner).await {
            Ok(Some(lease)) => Some(lease),
            Ok(None) => claim_from_dead_process(&store, &owner).await,
            Err(e) => {
                tracing::warn!(error = %e, "worker: could not look for jobs");
                None
            }
        };
        let Some(lease) = claimed else {
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        };
        let job = lease.job_id;
        let operation = match store.job(lease.location_id, job).await {
            Ok(j) => j.operation,
            Err(e) => {
                tracing::warn!(job, error = %e, "worker: could not read the job it claimed");
                continue;
            }
        };
        tracing::info!(job, %operation, "worker: running job");
        let stopped = if operation == Operation::Export {
            run_export(&store, &files, lease, |_, _| {})
                .await
                .err()
                .map(|e| e.to_string())
        } else {
            run_claimed(&store, &files, lease, |_| {}, |_, _| {})
                .await
                .err()
                .map(|e| e.to_string())
        };
        if let Some(error) = stopped {
            tracing::warn!(job, error, "worker: job stopped");
        }
    }
}
