//! `aesthetix export contacts`, `export opportunities` and `export schedule`: the CLI front
//! end of the one export engine (`jobs::export`), whatever the object. An export run here is a Bulk Action like any other: this
//! process holds its lease and runs it in the foreground, its file is kept in the file store
//! for 30 days, and a copy is written to `--output`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use filestore::FileStore;
use jobs::{ExportError, ExportRequest, Selection};
use store::{Lease, Store};

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Export a location's contacts to a CSV file (SPEC §10).
    Contacts(ExportContactsArgs),
    /// Export a location's opportunities, with their linked contacts, to a CSV file (SPEC §7).
    Opportunities(ExportOpportunitiesArgs),
    /// Export a location's companies to a CSV file (SPEC §8, §10).
    Companies(ExportRecordsArgs),
    /// Export the records of a custom object to a CSV file (SPEC §8, §10).
    Records(ExportCustomArgs),
    /// Recurring exports of a Smart List, started by `serve` or `worker`.
    Schedule {
        #[command(subcommand)]
        command: ScheduleCommand,
    },
}

#[derive(Args, Debug)]
pub struct ExportContactsArgs {
    #[arg(long)]
    location: String,
    /// The columns, by field key, in order (default: every standard field but contact_id,
    /// then the custom fields).
    #[arg(long, value_delimiter = ',', value_name = "KEY,KEY...")]
    columns: Option<Vec<String>>,
    /// Export the contacts of this Smart List (default: every contact).
    #[arg(long, conflicts_with = "filter")]
    smart_list: Option<String>,
    /// Export the contacts matching this filter (`tag=VIP`, …); repeat for more, all must hold.
    #[arg(long = "filter", value_name = "EXPR")]
    filter: Vec<String>,
    /// Where to write the CSV file.
    #[arg(long)]
    output: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportOpportunitiesArgs {
    #[arg(long)]
    location: String,
    /// Export the opportunities of this pipeline (default: every pipeline's), by name.
    #[arg(long)]
    pipeline: Option<String>,
    /// The columns, by field key, in order (default: every standard opportunity field, the
    /// opportunity custom fields, then the contact's contact_id, first_name, last_name, email
    /// and phone); a contact's field may be written contact.KEY.
    #[arg(long, value_delimiter = ',', value_name = "KEY,KEY...")]
    columns: Option<Vec<String>>,
    /// Where to write the CSV file.
    #[arg(long)]
    output: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum ScheduleCommand {
    /// Export a Smart List every day or every week.
    Create {
        #[arg(long)]
        location: String,
        #[arg(long)]
        smart_list: String,
        #[arg(long, value_parser = ["daily", "weekly"])]
        every: String,
        /// The columns, by field key, in order (default: the default columns).
        #[arg(long, value_delimiter = ',', value_name = "KEY,KEY...")]
        columns: Option<Vec<String>>,
        /// The first run, 'YYYY-MM-DD HH:MM' in the location's time zone (default: now).
        #[arg(long)]
        start: Option<String>,
    },
    /// A location's scheduled exports.
    List {
        #[arg(long)]
        location: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a scheduled export (its past runs stay in Bulk Actions).
    Delete {
        #[arg(long)]
        location: String,
        id: i64,
    },
}

/// A Smart List of the location by name, or a sentence naming the ones there are.
async fn smart_list(
    store: &Store,
    location: &store::Location,
    name: &str,
) -> anyhow::Result<store::SmartList> {
    match store.smart_list_by_name(location.id, name).await {
        Ok(list) => Ok(list),
        Err(e) if e.is_not_found() => bail!(
            "--smart-list '{name}' is not a Smart List of '{}'; its Smart Lists are: {}",
            location.name,
            store.smart_list_names(location.id).await?.join(", ")
        ),
        Err(e) => Err(e.into()),
    }
}

/// Runs `export contacts`; exit status per SPEC §13.1 (0 done, 1 could not run, 3 stopped).
pub async fn export_contacts(
    store: &Store,
    files: &FileStore,
    args: ExportContactsArgs,
) -> anyhow::Result<ExitCode> {
    let location = crate::cli::location_by_name(store, &args.location).await?;
    check_output(&args.output)?;
    let selection = match (&args.smart_list, args.filter.is_empty()) {
        (Some(name), _) => Selection::SmartList {
            id: smart_list(store, &location, name).await?.id,
        },
        (None, false) => Selection::Filters {
            filters: args.filter.clone(),
        },
        (None, true) => Selection::All,
    };
    let request = ExportRequest {
        object: domain::ObjectKind::Contact,
        selection,
        columns: args.columns.clone(),
    };
    export_to_file(store, files, &location, &request, &args.output).await
}

/// Runs `export opportunities`; exit status as `export contacts`.
pub async fn export_opportunities(
    store: &Store,
    files: &FileStore,
    args: ExportOpportunitiesArgs,
) -> anyhow::Result<ExitCode> {
    let location = crate::cli::location_by_name(store, &args.location).await?;
    check_output(&args.output)?;
    let selection = match &args.pipeline {
        None => Selection::All,
        Some(name) => match store.pipeline_by_name(location.id, name).await {
            Ok(p) => Selection::Pipeline { id: p.id },
            Err(e @ store::StoreError::NotFound(_)) => bail!("--pipeline: {e}"),
            Err(e) => return Err(e.into()),
        },
    };
    let request = ExportRequest {
        object: domain::ObjectKind::Opportunity,
        selection,
        columns: args.columns.clone(),
    };
    export_to_file(store, files, &location, &request, &args.output).await
}

#[derive(Args, Debug)]
pub struct ExportRecordsArgs {
    #[arg(long)]
    location: String,
    /// The columns, by field key, in order (default: record_id, the standard or primary
    /// fields, then the custom fields).
    #[arg(long, value_delimiter = ',', value_name = "KEY,KEY...")]
    columns: Option<Vec<String>>,
    /// Where to write the CSV file.
    #[arg(long)]
    output: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportCustomArgs {
    /// The custom object's key (see `aesthetix object list`).
    #[arg(long)]
    pub(crate) object: String,
    #[command(flatten)]
    pub(crate) args: ExportRecordsArgs,
}

/// Runs `export companies` (`object` None) or `export records --object KEY`; exit status as
/// `export contacts`.
pub async fn export_records(
    store: &Store,
    files: &FileStore,
    object: Option<String>,
    args: ExportRecordsArgs,
) -> anyhow::Result<ExitCode> {
    let location = crate::cli::location_by_name(store, &args.location).await?;
    check_output(&args.output)?;
    let request = ExportRequest {
        object: match object {
            None => domain::ObjectKind::Company,
            Some(key) => domain::ObjectKind::Custom(key),
        },
        selection: Selection::All,
        columns: args.columns.clone(),
    };
    export_to_file(store, files, &location, &request, &args.output).await
}

/// Refuses an `--output` that cannot be written before anything is recorded.
fn check_output(output: &Path) -> anyhow::Result<()> {
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!(
            "--output {}: the folder {} does not exist",
            output.display(),
            dir.display()
        );
    }
    if output.is_dir() {
        bail!(
            "--output {} is a folder; give a file name such as export.csv",
            output.display()
        );
    }
    Ok(())
}

/// Records the export as a Bulk Action this process holds, runs it in the foreground and
/// copies its file to `output`.
async fn export_to_file(
    store: &Store,
    files: &FileStore,
    location: &store::Location,
    request: &ExportRequest,
    output: &Path,
) -> anyhow::Result<ExitCode> {
    let owner = jobs::process_owner();
    let job = match jobs::create_export(store, location, request, None, Some(owner.clone())).await {
        Ok(job) => job,
        Err(ExportError::Invalid(m)) => bail!("{m}"),
        Err(e) => return Err(e.into()),
    };
    let lease = Lease {
        job_id: job,
        location_id: location.id,
        owner,
    };
    let outcome = run_in_foreground(store, files, lease).await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: the export stopped before the end: {e}");
            eprintln!(
                "It runs again from the start when `aesthetix serve` or `aesthetix worker` starts (job {job})."
            );
            return Ok(ExitCode::from(3));
        }
    };
    let Some(file) = outcome.file else {
        eprintln!(
            "The export stopped before the end: it is {} (job {job}).",
            outcome.status
        );
        return Ok(ExitCode::from(3));
    };
    copy_into_place(&file, output)?;
    println!(
        "Exported {} {} to {} (job {job}); the file can also be downloaded from Bulk Actions for {} days.",
        outcome.rows,
        jobs::export::records_word(&request.object, outcome.rows),
        output.display(),
        jobs::export::FILE_DAYS
    );
    Ok(ExitCode::SUCCESS)
}

/// `jobs resume JOB` for an export (SPEC §13.1): a paused export is queued again, then claimed
/// (at once from a dead process of this host, else once its lease lapsed) and written whole in
/// the foreground; the file is in Bulk Actions for 30 days.
pub async fn resume(store: &Store, files: &FileStore, job: i64) -> anyhow::Result<ExitCode> {
    let location = store
        .job_location(job)
        .await
        .with_context(|| format!("there is no job {job}"))?;
    let j = store.job(location, job).await?;
    if j.status == domain::job::JobStatus::Paused {
        store
            .resume_job(location, job)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    } else if !j.status.is_live() {
        bail!(
            "job {job} is {}; only a paused or interrupted export can be resumed",
            j.status
        );
    }
    let owner = jobs::process_owner();
    let dead = store
        .job_lease_owner(location, job)
        .await?
        .filter(|o| jobs::owner_is_dead(o));
    let Some(lease) = store
        .claim_job(location, job, &owner, dead.as_deref())
        .await?
    else {
        bail!(
            "job {job} is being run by another process; it can be resumed once that process stops (its lease lapses {} s after its last heartbeat)",
            store.lease_ms() / 1000
        );
    };
    let outcome = run_in_foreground(store, files, lease).await;
    match outcome {
        Ok(o) if o.file.is_some() => {
            println!(
                "Export {job} completed: {} {}; download it from Bulk Actions within {} days.",
                o.rows,
                jobs::export::records_word(&j.object, o.rows),
                jobs::export::FILE_DAYS
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(o) => {
            eprintln!(
                "The export stopped before the end: it is {} (job {job}).",
                o.status
            );
            Ok(ExitCode::from(3))
        }
        Err(e) => {
            eprintln!("error: the export stopped before the end: {e}");
            Ok(ExitCode::from(3))
        }
    }
}

/// Copies the finished file to `dest` through a temporary file beside it and a rename, so
/// `dest` never holds half an export. (The job's own file is synced before it is recorded;
/// this copy is the user's, written at the speed of the page cache.)
fn copy_into_place(file: &Path, dest: &Path) -> anyhow::Result<()> {
    let name = dest
        .file_name()
        .with_context(|| format!("--output {} names no file", dest.display()))?;
    let temp = dest.with_file_name(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let copied = std::fs::copy(file, &temp).and_then(|_| std::fs::rename(&temp, dest));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("could not write {}", dest.display()));
    }
    Ok(())
}

/// Runs `export schedule …`.
pub async fn schedule(store: &Store, command: ScheduleCommand) -> anyhow::Result<()> {
    match command {
        ScheduleCommand::Create {
            location,
            smart_list: list,
            every,
            columns,
            start,
        } => {
            let location = crate::cli::location_by_name(store, &location).await?;
            let list = smart_list(store, &location, &list).await?;
            let custom = store
                .custom_fields(location.id, &domain::ObjectKind::Contact)
                .await?;
            if let Some(cols) = &columns {
                jobs::export::format::columns(Some(cols), &custom)
                    .map_err(|e| anyhow::anyhow!("--columns: {e}"))?;
            }
            let tz = jiff::tz::TimeZone::get(&location.settings.timezone)
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let first = match start {
                None => store::now_ms(),
                Some(s) => jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", s.trim())
                    .ok()
                    .and_then(|dt| dt.to_zoned_datetime(tz.clone()).ok())
                    .map(|z| z.timestamp().as_millisecond())
                    .with_context(|| {
                        format!("--start '{s}' is not a time written 'YYYY-MM-DD HH:MM'")
                    })?,
            };
            let frequency = if every == "weekly" { "weekly" } else { "daily" };
            let schedule = store
                .create_export_schedule(
                    location.id,
                    &store::NewExportSchedule {
                        smart_list_id: list.id,
                        frequency,
                        columns: columns.unwrap_or_default(),
                        next_run_at: first,
                        created_by: None,
                    },
                )
                .await?;
            println!(
                "Scheduled export {} of '{}' {frequency}, first run {} (run by `aesthetix serve` or `aesthetix worker`).",
                schedule.id,
                list.name,
                show_time(first, &tz)
            );
            Ok(())
        }
        ScheduleCommand::List { location, json } => {
            let location = crate::cli::location_by_name(store, &location).await?;
            let tz = jiff::tz::TimeZone::get(&location.settings.timezone)
                .unwrap_or(jiff::tz::TimeZone::UTC);
            let lists: std::collections::HashMap<i64, String> = store
                .smart_lists(location.id)
                .await?
                .into_iter()
                .map(|(l, _)| (l.id, l.name))
                .collect();
            let schedules = store.export_schedules(location.id).await?;
            if json {
                let out: Vec<serde_json::Value> = schedules
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "id": s.id,
                            "smart_list": lists.get(&s.smart_list_id),
                            "frequency": s.frequency,
                            "columns": s.columns,
                            "next_run_at": show_time(s.next_run_at, &tz),
                            "last_job_id": s.last_job_id,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
            }
            if schedules.is_empty() {
                println!("No scheduled exports in '{}'.", location.name);
            }
            for s in schedules {
                println!(
                    "{:>5}  {:<7} {:<24} next {}  last job {}",
                    s.id,
                    s.frequency,
                    lists.get(&s.smart_list_id).map_or("?", String::as_str),
                    show_time(s.next_run_at, &tz),
                    s.last_job_id.map_or("-".to_string(), |j| j.to_string())
                );
            }
            Ok(())
        }
        ScheduleCommand::Delete { location, id } => {
            let location = crate::cli::location_by_name(store, &location).await?;
            store.delete_export_schedule(location.id, id).await?;
            println!("Deleted scheduled export {id}.");
            Ok(())
        }
    }
}

fn show_time(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

/// Runs an export this process holds, with a progress bar on a terminal.
async fn run_in_foreground(
    store: &Store,
    files: &FileStore,
    lease: Lease,
) -> Result<jobs::ExportOutcome, ExportError> {
    let bar = crate::cli::progress_bar("exporting", "contacts");
    let outcome = jobs::run_export(store, files, lease, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    outcome
}
