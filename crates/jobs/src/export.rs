//! Exporting records (SPEC §7, §10): an export is a Bulk Action (operation Export) of one
//! object — contacts, opportunities — whose whole request lives in the job's options, so any
//! process — the CLI that started it, `serve`, a `worker` — can run it, and run it again after
//! a crash. The object decides the columns ([`format::columns_of`]), what may select its
//! records ([`Selection`]) and the store's row source; the run itself is the same for all.
//!
//! [`create_export`] checks the request and records the job (queued for a worker, or leased
//! to the caller); [`run_export`] runs a job this process holds the lease of: it reads the
//! contacts batch by batch (`store::ExportReader`, one batch read ahead on its own task),
//! writes each record as [`format`] says into a temporary file in the file store, and only
//! when the last one is written syncs it, renames it to its generated name and — in one
//! transaction — completes the job, records the file with its 30-day expiry and leaves a
//! notification. So a killed export never leaves a truncated file downloadable, and a
//! restarted one (the checkpoint is the job, not a line) writes the whole file again.
//!
//! Progress (processed/total) is recorded at most once a second; that write is also the
//! lease's heartbeat and where a pause or cancel is settled.

pub mod format;

#[cfg(test)]
use crate::files_dir;
use filestore::FileStore;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use domain::ObjectKind;
use domain::job::{JobStatus, Operation};
use serde::{Deserialize, Serialize};
use store::{
    AfterChunk, ExportScope, Lease, Location, LocationId, NewFile, NewJob, Store, StoreError,
    UserId, parse_filter,
};

use format::{CellContext, Column, ColumnError};

/// How long an export's file can be downloaded (SPEC §10).
pub const FILE_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// How often a running export records its progress (and renews its lease).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Which contacts an export selects (SPEC §10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Every contact of the location ("select all").
    All,
    /// A Smart List of the location, as it is when the export runs.
    SmartList { id: i64 },
    /// Advanced filters, in the §13.1 syntax (`tag=VIP`, …), all of which must hold.
    Filters { filters: Vec<String> },
    /// Records picked one by one.
    Ids { ids: Vec<i64> },
    /// The opportunities of one pipeline (opportunities only).
    Pipeline { id: i64 },
}

/// What an export is asked to do; kept whole in the job's options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRequest {
    /// The object exported (an export stored before objects were named is of contacts).
    #[serde(default = "contacts")]
    pub object: ObjectKind,
    pub selection: Selection,
    /// Column keys in the order chosen; `None` for the default columns.
    pub columns: Option<Vec<String>>,
}

fn contacts() -> ObjectKind {
    ObjectKind::Contact
}

/// The object's records, in the plural: "contacts", "opportunities" (one: "contact").
pub fn records_word(object: &ObjectKind, n: u64) -> String {
    let (one, many) = match object {
        ObjectKind::Contact => ("contact", "contacts"),
        ObjectKind::Opportunity => ("opportunity", "opportunities"),
        ObjectKind::Company => ("company", "companies"),
        ObjectKind::Custom(_) => ("record", "records"),
    };
    (if n == 1 { one } else { many }).to_string()
}

/// Why an export could not be started or finished.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The request cannot be exported (unknown column, Smart List, filter…); nothing written.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("could not write the export file {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<ColumnError> for ExportError {
    fn from(e: ColumnError) -> Self {
        ExportError::Invalid(e.to_string())
    }
}

/// Why an export failed for good, in the user's words: the request's own problem as it
/// was worded, anything else as a reference to the log.
fn failure_reason(e: &ExportError) -> String {
    match e {
        ExportError::Invalid(why) | ExportError::Store(StoreError::Invalid(why)) => why.clone(),
        other => format!(
            "The export stopped on an unexpected problem (reference {}). Start it again; if it stops again, give the reference to whoever runs Aesthetix.",
            crate::incident("export failed", other)
        ),
    }
}

/// How a run of an export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOutcome {
    pub job_id: i64,
    /// Completed, paused or cancelled.
    pub status: JobStatus,
    /// Contacts written.
    pub rows: u64,
    /// The finished file in the file store (completed only).
    pub file: Option<PathBuf>,
    pub download_name: String,
}

/// The job options an export is stored with.
pub fn job_options(request: &ExportRequest) -> String {
    serde_json::json!({ "export": request }).to_string()
}

fn read_options(options: &str, job: i64) -> Result<ExportRequest, ExportError> {
    let value: serde_json::Value = serde_json::from_str(options).map_err(|e| {
        ExportError::Invalid(format!(
            "export {job} cannot run: its options are unreadable ({e})"
        ))
    })?;
    serde_json::from_value(value["export"].clone()).map_err(|e| {
        ExportError::Invalid(format!(
            "export {job} cannot run: its options are unreadable ({e})"
        ))
    })
}

fn location_tz(location: &Location) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Checks a request against the location as it is now: the columns exist, the Smart List or
/// pipeline is the location's, the filters read and name existing fields, the selection fits
/// the object. Returns the columns, the scope and what the export is of (a Smart List's or a
/// pipeline's name, for file names).
async fn resolve(
    store: &Store,
    location: LocationId,
    request: &ExportRequest,
) -> Result<(Vec<Column>, ExportScope, Option<String>), ExportError> {
    let object = &request.object;
    let custom = store.custom_fields(location, object).await?;
    let columns = match object {
        ObjectKind::Company | ObjectKind::Custom(_) => {
            let schema = match store.object_schema(location, object).await {
                Ok(s) => s,
                Err(e) if e.is_not_found() => return Err(ExportError::Invalid(e.to_string())),
                Err(e) => return Err(e.into()),
            };
            format::record_columns(&schema, request.columns.as_deref())?
        }
        _ => format::columns_of(object, request.columns.as_deref(), &custom)?,
    };
    let contacts_only = matches!(
        request.selection,
        Selection::SmartList { .. } | Selection::Filters { .. }
    );
    if contacts_only && *object != ObjectKind::Contact {
        return Err(ExportError::Invalid(format!(
            "Smart Lists and filters select contacts; an export of {} selects all of them, one pipeline's, or chosen ids",
            records_word(object, 2)
        )));
    }
    let (scope, list) = match &request.selection {
        Selection::All => (ExportScope::Filters(Vec::new()), None),
        Selection::SmartList { id } => match store.smart_list_by_id(location, *id).await {
            // A list whose saved filters cannot run selects nothing — never everyone.
            Ok(list) if list.unreadable.is_some() => {
                return Err(ExportError::Invalid(list.unreadable.unwrap_or_default()));
            }
            Ok(list) => (ExportScope::Filters(list.filters), Some(list.name)),
            Err(e) if e.is_not_found() => {
                return Err(ExportError::Invalid(
                    "the Smart List this export is for no longer exists; choose another one and export again".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        },
        Selection::Filters { filters } => {
            let filters = filters
                .iter()
                .map(|f| parse_filter(f))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ExportError::Invalid(e.to_string()))?;
            for f in &filters {
                if let store::Condition::Field { key, .. } = &f.condition
                    && !custom.iter().any(|c| &c.key == key)
                {
                    return Err(ExportError::Invalid(format!(
                        "the filter '{f}' names no contact field of this location; the custom field keys are: {}",
                        custom
                            .iter()
                            .map(|c| c.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
            (ExportScope::Filters(filters), None)
        }
        Selection::Ids { ids } => (ExportScope::Ids(ids.clone()), None),
        Selection::Pipeline { id } if *object == ObjectKind::Opportunity => {
            match store.pipeline(location, *id).await {
                Ok(p) => (ExportScope::Pipeline(p.id), Some(p.name)),
                Err(e) if e.is_not_found() => {
                    return Err(ExportError::Invalid(
                        "the pipeline this export is for no longer exists; choose another one and export again".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Selection::Pipeline { .. } => {
            return Err(ExportError::Invalid(format!(
                "a pipeline selects opportunities, not {}",
                records_word(object, 2)
            )));
        }
    };
    Ok((columns, scope, list))
}

/// A column a form offers for an export of an object other than contacts: the key that
/// chooses it and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnChoice {
    pub key: String,
    pub label: String,
}

/// The columns an export of `object` may hold, in the default set's order (SPEC §7, §8, §10):
/// an opportunity's own fields, then its linked contact's (chosen as `contact.KEY`); a
/// company's or custom object's fields in the object's order. Contacts have their own page.
pub async fn column_choices(
    store: &Store,
    location: LocationId,
    object: &ObjectKind,
) -> Result<Vec<ColumnChoice>, ExportError> {
    let columns = match object {
        ObjectKind::Company | ObjectKind::Custom(_) => {
            let schema = match store.object_schema(location, object).await {
                Ok(s) => s,
                Err(e) if e.is_not_found() => return Err(ExportError::Invalid(e.to_string())),
                Err(e) => return Err(e.into()),
            };
            format::record_columns(&schema, None)?
        }
        _ => format::columns_of(object, None, &store.custom_fields(location, object).await?)?,
    };
    Ok(columns
        .into_iter()
        .map(|c| {
            let linked = matches!(c.reads.first(), Some(store::ExportField::Linked(_)));
            ColumnChoice {
                key: if linked {
                    format!("contact.{}", c.key)
                } else {
                    c.key
                },
                label: if linked {
                    format!("{} (contact)", c.label)
                } else {
                    c.label
                },
            }
        })
        .collect())
}

/// Records an export of `location` as a Bulk Action after checking the request (SPEC §10).
/// With `lease_owner` the caller holds the job and runs it itself ([`run_export`]; the CLI),
/// else it is queued for `serve` or a `worker` (the web, the API).
pub async fn create_export(
    store: &Store,
    location: &Location,
    request: &ExportRequest,
    created_by: Option<UserId>,
    lease_owner: Option<String>,
) -> Result<i64, ExportError> {
    let (_, _, list) = resolve(store, location.id, request).await?;
    let now = jiff::Timestamp::now().to_zoned_datetime(location_tz(location));
    let what = match (&request.object, list) {
        (ObjectKind::Contact, Some(list)) => list,
        (ObjectKind::Opportunity, Some(pipeline)) => format!("{pipeline} opportunities"),
        (object, _) => {
            let mut word = records_word(object, 2);
            word[..1].make_ascii_uppercase();
            word
        }
    };
    // Two exports of one minute are told apart by a number (issue 18).
    let (name, file_name) = store
        .distinct_job_name(
            location.id,
            &format!("{what} export {}", now.strftime("%Y-%m-%d %H:%M")),
            &download_name(&what, now.date()),
        )
        .await?;
    Ok(store
        .create_job(
            location.id,
            &NewJob {
                operation: Operation::Export,
                object: request.object.clone(),
                name,
                file_name: Some(file_name),
                options: job_options(request),
                total: None,
                created_by,
                lease_owner,
            },
        )
        .await?)
}

/// The name an export's file is downloaded as: `Contacts export 2026-11-25.csv`.
pub fn download_name(what: &str, day: jiff::civil::Date) -> String {
    let clean: String = what
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\') {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!("{} export {day}.csv", clean.trim())
}

/// Removes what an interrupted run of this job left: its temporary file, and a finished file
/// it stored but never recorded. Recorded files are kept.
async fn clear_leftovers(files: &FileStore, job: i64, recorded: &[String]) {
    let temp = format!(".export-{job}-");
    if let Ok(dir) = files.temp_path("")
        && let Ok(entries) = std::fs::read_dir(&dir)
    {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&temp) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    match files.list(&format!("export-{job}-")).await {
        Ok(names) => {
            for name in names.iter().filter(|n| !recorded.contains(n)) {
                let _ = files.delete(name).await;
            }
        }
        Err(e) => tracing::warn!(job, error = %e, "could not list an export's leftovers"),
    }
}

fn nonce() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs an export job this process holds the lease of, from the start (a restarted export
/// writes its whole file again). `progress(written, total)` after each batch.
///
/// A job whose request no longer makes sense (a deleted Smart List or custom field) or whose
/// file cannot be written ends `failed` with the reason; a database failure leaves it running
/// for the next process to take over once the lease lapses (SPEC §9.6).
pub async fn run_export(
    store: &Store,
    files: &FileStore,
    lease: Lease,
    mut progress: impl FnMut(u64, u64),
) -> Result<ExportOutcome, ExportError> {
    let job = store.job(lease.location_id, lease.job_id).await?;
    let result = export(store, files, &lease, &job, &mut progress).await;
    match &result {
        Ok(_) => {}
        Err(ExportError::Store(StoreError::LeaseLost(_))) => {}
        // The database or the disk failing passes: the next run writes the file again.
        Err(ExportError::Store(e)) if e.unavailable().is_some() || e.is_disk_full() => {
            let words = e
                .unavailable()
                .unwrap_or_else(|| "the database's disk is full".to_string());
            let _ = store
                .set_job_reason(&lease, Some(&format!("interrupted: {words}")))
                .await;
        }
        Err(ExportError::File { .. }) => {
            let _ = store
                .set_job_reason(
                    &lease,
                    Some("interrupted: the export file could not be written"),
                )
                .await;
            tracing::warn!(job = lease.job_id, error = ?result.as_ref().err(), "export interrupted");
        }
        // Anything else would fail the same way on every run (SPEC §13.2): the job ends
        // `failed` with a plain reason, never retried.
        Err(e) => {
            let _ = store
                .finish_leased_job(&lease, JobStatus::Failed, Some(&failure_reason(e)))
                .await;
        }
    }
    result
}

async fn export(
    store: &Store,
    files: &FileStore,
    lease: &Lease,
    job: &store::Job,
    progress: &mut impl FnMut(u64, u64),
) -> Result<ExportOutcome, ExportError> {
    let (location_id, job_id) = (lease.location_id, lease.job_id);
    let request = read_options(&store.job_options(location_id, job_id).await?, job_id)?;
    let location = store.location(location_id).await?;
    let (columns, scope, _) = resolve(store, location_id, &request).await?;
    let download_name = job
        .file_name
        .clone()
        .unwrap_or_else(|| format!("Contacts export {job_id}.csv"));
    let stopped = |status| ExportOutcome {
        job_id,
        status,
        rows: 0,
        file: None,
        download_name: download_name.clone(),
    };

    let object = &request.object;
    let total = store.export_count(location_id, object, &scope).await?;
    match store.export_progress(lease, 0, Some(total)).await? {
        AfterChunk::Running => {}
        AfterChunk::Paused => return Ok(stopped(JobStatus::Paused)),
        AfterChunk::Cancelled => return Ok(stopped(JobStatus::Cancelled)),
    }
    let total = total as u64;
    progress(0, total);
    let ctx = CellContext {
        tz: location_tz(&location),
        owners: store
            .location_users(location_id)
            .await?
            .into_iter()
            .map(|(u, _)| (u.id.0, u.email))
            .collect(),
    };
    let (fields, positions) = format::plan_reads(&columns);

    let file_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::File {
            path: path.clone(),
            source,
        }
    };
    clear_leftovers(
        files,
        job_id,
        &store.job_stored_names(location_id, job_id).await?,
    )
    .await;
    let nonce = nonce();
    let partial = format!(".export-{job_id}-{nonce}.partial");
    let temp = files
        .temp_path(&partial)
        .map_err(file_error(Path::new(&partial)))?;
    let stored_name = format!("export-{job_id}-{nonce}.csv");

    let mut reader = store
        .export_reader(location_id, object, &scope, &fields)
        .await?;
    // One batch is read ahead while the previous one is written.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let read_ahead = tokio::spawn(async move {
        loop {
            let next = reader.next_batch().await;
            let last = !matches!(next, Ok(Some(_)));
            if tx.send(next).await.is_err() || last {
                return;
            }
        }
    });

    let written = async {
        let file = File::create(&temp).map_err(file_error(&temp))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let io = file_error(&temp);
        out.write_all(format::BOM.as_bytes()).map_err(&io)?;
        format::write_header(&mut out, &columns).map_err(&io)?;
        let mut rows: u64 = 0;
        let mut last_progress = Instant::now();
        while let Some(batch) = rx.recv().await {
            let Some(batch) = batch? else { break };
            // A column's values of one row (one allocation per batch).
            let mut scratch = Vec::with_capacity(4);
            for r in 0..batch.len() {
                format::write_row(
                    &mut out,
                    &columns,
                    &positions,
                    |i| batch.cell(r, i),
                    &ctx,
                    &mut scratch,
                )
                .map_err(&io)?;
            }
            rows += batch.len() as u64;
            store::failpoint::hit("export_batch");
            progress(rows, total.max(rows));
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                match store.export_progress(lease, rows as i64, None).await? {
                    AfterChunk::Running => {}
                    AfterChunk::Paused => return Ok(Err(JobStatus::Paused)),
                    AfterChunk::Cancelled => return Ok(Err(JobStatus::Cancelled)),
                }
            }
        }
        let file = out.into_inner().map_err(|e| ExportError::File {
            path: temp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(&io)?;
        Ok::<_, ExportError>(Ok(rows))
    }
    .await;
    read_ahead.abort();
    let rows = match written {
        Ok(Ok(rows)) => rows,
        Ok(Err(status)) => {
            let _ = std::fs::remove_file(&temp);
            return Ok(stopped(status));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };

    // Visible whole or not at all: a rename locally, a completed multipart upload in S3.
    let path = files
        .commit_temp(&temp, &stored_name)
        .await
        .map_err(|e| ExportError::File {
            path: PathBuf::from(&stored_name),
            source: e.into(),
        })?;
    store::failpoint::hit("export_after_rename");
    let size = std::fs::metadata(&path).map_err(file_error(&path))?.len();
    let expires_at = store::now_ms() + FILE_DAYS * DAY_MS;
    let recorded = store
        .complete_export(
            lease,
            &NewFile {
                kind: "export",
                stored_name: stored_name.clone(),
                download_name: download_name.clone(),
                size_bytes: size as i64,
                expires_at: Some(expires_at),
            },
            rows as i64,
            &ready_text(&job.name, object, rows),
        )
        .await;
    if let Err(e) = recorded {
        // Never recorded, so never downloadable: the next run writes its own.
        let _ = files.delete(&stored_name).await;
        return Err(e.into());
    }
    progress(rows, rows);
    Ok(ExportOutcome {
        job_id,
        status: JobStatus::Completed,
        rows,
        file: Some(path),
        download_name,
    })
}

/// The notification of a finished export.
fn ready_text(name: &str, object: &ObjectKind, rows: u64) -> String {
    let records = records_word(object, rows);
    format!(
        "Your export \"{name}\" is ready: {rows} {records}. Download it from Bulk Actions within {FILE_DAYS} days."
    )
}

/// Deletes the files of every location whose time is over — exports after their 30 days
/// (SPEC §10), uploads of drafts never submitted after 7 (SPEC §13.2) — and marks them
/// deleted, then deletes those drafts; run periodically by `serve` and `worker`. Returns how
/// many files were deleted.
pub async fn sweep_expired_files(store: &Store, files: &FileStore) -> Result<u64, StoreError> {
    let mut deleted = 0;
    loop {
        let now = store::now_ms();
        let expired = store.expired_files(now, 500).await?;
        let n = expired.len();
        for f in expired {
            if store::is_generated_name(&f.stored_name) {
                match files.delete(&f.stored_name).await {
                    Ok(()) => {}
                    Err(e) => {
                        tracing::warn!(file = f.id, error = %e, "could not delete an expired file");
                        continue;
                    }
                }
            }
            store.mark_file_deleted(f.location_id, f.id, now).await?;
            deleted += 1;
        }
        if n < 500 {
            // Drafts never submitted whose upload just went (SPEC §13.2) go with it.
            let drafts = store.delete_swept_drafts().await?;
            if drafts > 0 {
                tracing::info!(drafts, "deleted import drafts never submitted");
            }
            return Ok(deleted);
        }
    }
}

/// When a schedule runs next after the run due at `due`: one period later, or — when the
/// process was down for longer — the first slot of the same rhythm after `now`.
pub fn next_run(due: i64, frequency: &str, now: i64) -> i64 {
    let period = if frequency == "weekly" {
        7 * DAY_MS
    } else {
        DAY_MS
    };
    let mut next = due + period;
    if next <= now {
        next += ((now - next) / period + 1) * period;
    }
    next
}

/// Starts every due scheduled export (SPEC §10, beyond the reference) as a queued export
/// Bulk Action of its Smart List; each run starts once however many processes call this.
/// Returns the jobs this call started.
pub async fn start_due_schedules(store: &Store) -> Result<Vec<i64>, StoreError> {
    let now = store::now_ms();
    let mut started = Vec::new();
    for schedule in store.due_export_schedules(now).await? {
        let list = match store
            .smart_list_by_id(schedule.location_id, schedule.smart_list_id)
            .await
        {
            Ok(l) => l,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let location = store.location(schedule.location_id).await?;
        let request = ExportRequest {
            object: ObjectKind::Contact,
            selection: Selection::SmartList { id: list.id },
            columns: (!schedule.columns.is_empty()).then(|| schedule.columns.clone()),
        };
        let at = jiff::Timestamp::from_millisecond(schedule.next_run_at)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_zoned_datetime(location_tz(&location));
        let job = store::ScheduledJob {
            name: format!(
                "{} {} export {}",
                list.name,
                schedule.frequency,
                at.strftime("%Y-%m-%d %H:%M")
            ),
            file_name: download_name(&list.name, at.date()),
            options: job_options(&request),
        };
        let next = next_run(schedule.next_run_at, &schedule.frequency, now);
        if let Some(id) = store.start_scheduled_export(&schedule, next, &job).await? {
            started.push(id);
        }
    }
    Ok(started)
}

#[cfg(test)]
mod tests;
