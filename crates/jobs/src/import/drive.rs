//! Running a job to its end through what happens to the database meanwhile (SPEC §9.5–§9.7).
//!
//! - A heartbeat renews the lease every third of its length, so a live job keeps it however
//!   long a chunk, a slow read or a wait for the database takes; only a dead or frozen process
//!   loses its job to another.
//! - When the database goes away (refused or cut connections, a server starting or stopping, a
//!   SQLite file locked past its busy timeout), the job waits and tries again with backoff —
//!   1, 2, 4 … 30 s — saying why on the job when the database takes that write, and in the log.
//!   It then continues from the checkpoint *the database* holds, as a resume would: a chunk
//!   whose commit was cut off is then either in it or not, never half, never twice. Lines whose
//!   commit went through without this process hearing so are read back from the line log for
//!   the report.
//! - When the disk is full, the chunk was rolled back; the job is paused with "disk full" and
//!   `jobs resume` continues it once there is room.

use std::time::Duration;

use domain::job::{JobStatus, LineRecord};
use store::{AfterChunk, Lease, LineTab, Store, StoreError};

use super::{ImportError, Prepared, Report, Resume, run, touched_by};

/// Waits between tries while the database is away.
const BACKOFF_SECS: &[u64] = &[1, 2, 4, 8, 16, 30];

/// Recoveries in a row that commit nothing before the same kind of failure: past this the
/// failure is not passing by itself, and the job stops (resumable) instead of looping.
const MAX_FRUITLESS_RECOVERIES: u32 = 8;

/// Keeps a lease alive until dropped: a task renewing it every third of its length.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(store: &Store, lease: &Lease) -> Heartbeat {
        let (store, lease) = (store.clone(), lease.clone());
        let every = Duration::from_millis((store.lease_ms() / 3).max(1) as u64);
        Heartbeat(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store.renew_lease(&lease).await {
                    Ok(true) => {}
                    // Paused, cancelled or finished at a checkpoint, or taken over after a
                    // lapse: the runner finds out at its next write, which is fenced.
                    Ok(false) => break,
                    // The database is away: the runner meets it too, and waits.
                    Err(e) => tracing::debug!(job = lease.job_id, error = %e, "heartbeat failed"),
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a job this process holds the lease of from `resume` to its end, then records how it
/// ended: completed; paused or cancelled at a checkpoint; paused with "disk full"; failed
/// (a problem with the file or its options). A database failure that does not pass leaves
/// the job running under a lease that lapses, for the next process to resume.
pub(super) async fn drive(
    store: &Store,
    prepared: &Prepared,
    resume: Resume,
    mut sink: impl FnMut(LineRecord),
    mut progress: impl FnMut(u64, u64),
) -> Result<Report, ImportError> {
    let lease = resume.lease.clone();
    let location = lease.location_id;
    let _heartbeat = Heartbeat::start(store, &lease);
    // The last line handed to `sink`, to replay what a commit cut off from us wrote.
    let mut reported = resume.after_line;
    let mut resume = Some(resume);
    let mut fruitless = 0u32;
    let mut backoff = 0usize;
    let outcome: Result<Option<AfterChunk>, ImportError> = loop {
        let from = resume.as_ref().map_or(0, |r| r.after_line);
        let result = {
            let mut report_line = |l: LineRecord| {
                reported = l.line;
                sink(l)
            };
            run(
                store,
                prepared,
                resume.take(),
                &mut report_line,
                &mut progress,
                |_, _| {},
                None,
            )
            .await
        };
        let e = match result {
            Ok(end) => break Ok(end.stopped),
            Err(ImportError::Store(e)) => e,
            Err(other) => break Err(other),
        };
        if e.is_disk_full() {
            let reason = format!(
                "disk full: there was no room to write the next rows ({}), so none of them was \
                 written; free some space for the database, then resume the job",
                database_words(&e)
            );
            tracing::warn!(job = lease.job_id, "{reason}");
            if store.pause_leased_job(&lease, &reason).await.is_err() {
                // Not even that could be written: the lease lapses and the next process to
                // claim the job meets the full disk, or room, in its turn.
                break Err(e.into());
            }
            let job = store.job(location, lease.job_id).await?;
            return Ok(Report {
                job_id: Some(lease.job_id),
                status: JobStatus::Paused,
                encoding: prepared.info.encoding,
                totals: job.totals.into(),
                notices: prepared.mapping.notices.clone(),
                reason: Some(reason),
            });
        }
        let Some(why) = e.unavailable() else {
            break Err(e.into());
        };
        let reloaded = match wait_for_database(store, &lease, why, &mut backoff).await {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        // Lines a commit wrote that this process never heard back about.
        let checkpoint = reloaded.checkpoint();
        if checkpoint > reported {
            replay_lines(store, &lease, reported, checkpoint, &mut sink).await?;
            reported = checkpoint;
        }
        match reloaded {
            Reloaded::Running(r) => {
                if r.after_line > from {
                    fruitless = 0;
                    backoff = 0;
                } else {
                    fruitless += 1;
                    if fruitless > MAX_FRUITLESS_RECOVERIES {
                        break Err(e.into());
                    }
                }
                resume = Some(r);
            }
            Reloaded::Stopped(after, _) => break Ok(Some(after)),
        }
    };
    let job_id = lease.job_id;
    let status = match outcome {
        Ok(None) => {
            store
                .finish_leased_job(&lease, JobStatus::Completed, None)
                .await?;
            JobStatus::Completed
        }
        Ok(Some(AfterChunk::Paused)) => JobStatus::Paused,
        Ok(Some(_)) => JobStatus::Cancelled,
        Err(ImportError::Store(e)) if e.is_lease_lost() => return Err(e.into()),
        Err(ImportError::Store(e))
            if e.unavailable().is_some() || e.is_disk_full() || e.is_conflict() =>
        {
            // The database failed for now: the job keeps its checkpoint and is resumed by the
            // next process once its lease lapses (SPEC §9.6); it is not marked failed.
            let _ = store
                .set_job_reason(
                    &lease,
                    Some(&format!("interrupted: {}", database_words(&e))),
                )
                .await;
            return Err(e.into());
        }
        // Anything else would fail the same way on every run (SPEC §13.2): the job ends
        // `failed` with a plain reason and is never retried.
        Err(e) => {
            let _ = store
                .finish_leased_job(&lease, JobStatus::Failed, Some(&super::failure_reason(&e)))
                .await;
            return Err(e);
        }
    };
    // The job's totals cover every run of it, the resumed ones included.
    let job = store.job(location, job_id).await?;
    Ok(Report {
        job_id: Some(job_id),
        status,
        encoding: prepared.info.encoding,
        totals: job.totals.into(),
        notices: prepared.mapping.notices.clone(),
        reason: None,
    })
}

/// A database error in words, without sqlx's wrapping.
fn database_words(e: &StoreError) -> String {
    match e {
        StoreError::Database(sqlx) => match sqlx.as_database_error() {
            Some(db) => db.message().to_string(),
            None => sqlx.to_string(),
        },
        other => other.to_string(),
    }
}

/// Where a job stands once the database answers again.
enum Reloaded {
    /// Still this process's to run, from this checkpoint.
    Running(Resume),
    /// Its last chunk's commit — whose answer was lost — settled a pause or cancel; with the
    /// checkpoint it stopped at.
    Stopped(AfterChunk, u64),
}

impl Reloaded {
    fn checkpoint(&self) -> u64 {
        match self {
            Reloaded::Running(r) => r.after_line,
            Reloaded::Stopped(_, line) => *line,
        }
    }
}

/// Waits, with backoff, until the database answers, saying why on the job (when the database
/// takes that write) and in the log; then reads where the job stands.
async fn wait_for_database(
    store: &Store,
    lease: &Lease,
    mut why: String,
    backoff: &mut usize,
) -> Result<Reloaded, ImportError> {
    loop {
        let wait = BACKOFF_SECS[(*backoff).min(BACKOFF_SECS.len() - 1)];
        *backoff += 1;
        let reason = format!("Waiting for the database: {why} — retrying in {wait} s");
        tracing::warn!(job = lease.job_id, "{reason}");
        // A database that refuses connections cannot take this write: then only the log says it.
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            store.set_job_reason(lease, Some(&reason)),
        )
        .await;
        tokio::time::sleep(Duration::from_secs(wait)).await;
        if let Err(e) = store.probe().await {
            match e.unavailable() {
                Some(w) => {
                    why = w;
                    continue;
                }
                None => return Err(e.into()),
            }
        }
        match reload(store, lease).await {
            Ok(r) => return Ok(r),
            Err(e) => match e.unavailable() {
                Some(w) => why = w,
                None => return Err(e.into()),
            },
        }
    }
}

/// Where the job stands in the database: its checkpoint and what it did, as a resume reads it.
async fn reload(store: &Store, lease: &Lease) -> Result<Reloaded, StoreError> {
    let job = store.job(lease.location_id, lease.job_id).await?;
    let checkpoint = job.checkpoint_line as u64;
    match job.status {
        JobStatus::Paused => return Ok(Reloaded::Stopped(AfterChunk::Paused, checkpoint)),
        JobStatus::Cancelled => return Ok(Reloaded::Stopped(AfterChunk::Cancelled, checkpoint)),
        _ => {}
    }
    let owner = store
        .job_lease_owner(lease.location_id, lease.job_id)
        .await?;
    if job.status != JobStatus::Running || owner.as_deref() != Some(lease.owner.as_str()) {
        // Taken over while this process could not reach the database.
        return Err(StoreError::LeaseLost(lease.job_id));
    }
    let touched = touched_by(store, lease.location_id, lease.job_id).await?;
    Ok(Reloaded::Running(Resume {
        lease: lease.clone(),
        after_line: checkpoint,
        touched,
    }))
}

/// Hands `sink` the stored results of the lines after `after` up to `upto`.
async fn replay_lines(
    store: &Store,
    lease: &Lease,
    after: u64,
    upto: u64,
    sink: &mut impl FnMut(LineRecord),
) -> Result<(), ImportError> {
    const PAGE: u32 = 500;
    let mut from = after;
    loop {
        let page = store
            .job_lines_page(
                lease.location_id,
                lease.job_id,
                LineTab::All,
                Some(from),
                PAGE,
            )
            .await?;
        for l in &page {
            if l.line > upto {
                return Ok(());
            }
            sink(report_line(l)?);
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => from = last.line,
            _ => return Ok(()),
        }
    }
}

/// A stored line result as the report gives it (without its cells).
fn report_line(l: &LineRecord) -> Result<LineRecord, ImportError> {
    Ok(LineRecord {
        cells: None,
        ..l.clone()
    })
}

#[cfg(test)]
mod tests;
