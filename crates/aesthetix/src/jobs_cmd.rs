//! `aesthetix jobs list|show`: a location's Bulk Actions from the command line (SPEC §13.1).

use anyhow::Context;
use clap::Subcommand;
use jobs::summary::job_json;
use store::Store;

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// The Bulk Actions of a location, newest first.
    List {
        #[arg(long)]
        location: String,
        /// Print JSON: [{"id", "operation", "object", "status", "file_name", "processed", "total", "totals"}].
        #[arg(long)]
        json: bool,
    },
    /// Pause a job: a running job stops at its next checkpoint.
    Pause { job: i64 },
    /// Resume a paused or interrupted import from its last checkpoint, in the foreground.
    Resume { job: i64 },
    /// Cancel a job: it stops and keeps what it already wrote.
    Cancel { job: i64 },
    /// Status, progress and totals of one job.
    Show {
        job: i64,
        #[arg(long)]
        json: bool,
    },
    /// Undo a completed or cancelled import: delete the contacts it created, restore those it
    /// updated, and list the ones changed since (left alone).
    Revert { job: i64 },
    /// Write the error-log CSV of an import: its error and warning lines with their original
    /// cells, to fix and import again (SPEC §9.3).
    Errors {
        job: i64,
        #[arg(long)]
        output: std::path::PathBuf,
    },
}

pub async fn run(store: &Store, command: JobsCommand) -> anyhow::Result<()> {
    match command {
        JobsCommand::Pause { job } | JobsCommand::Cancel { job } => {
            let pause = matches!(command, JobsCommand::Pause { .. });
            let location = store
                .job_location(job)
                .await
                .with_context(|| format!("there is no job {job}; `aesthetix jobs list --location NAME` lists a location's jobs"))?;
            let done = if pause {
                store.request_pause(location, job).await
            } else {
                store.request_cancel(location, job).await
            };
            let what = if pause { "paused" } else { "cancelled" };
            match done.map_err(|e| anyhow::anyhow!("{e}"))? {
                store::Requested::Done => println!("Job {job} is {what}."),
                store::Requested::Already => println!("Job {job} was {what} already."),
                store::Requested::AtNextCheckpoint => {
                    println!(
                        "Job {job} will be {what} at its next checkpoint (within a chunk of rows)."
                    )
                }
            }
        }
        JobsCommand::Resume { .. } => unreachable!("resume runs in the foreground: see cli.rs"),
        JobsCommand::List { location, json } => {
            let location = crate::cli::location_by_name(store, &location).await?;
            let jobs = store.jobs(location.id).await?;
            let now = store::now_ms();
            if json {
                let all: Vec<_> = jobs.iter().map(job_json).collect();
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if jobs.is_empty() {
                println!("No Bulk Actions yet in '{}'.", location.name);
            } else {
                println!(
                    "{:>6}  {:<9} {:<8} {:<10} {:>15}  name (file)",
                    "id", "operation", "object", "status", "processed"
                );
                for j in &jobs {
                    let progress = format!(
                        "{}/{}",
                        j.totals.processed,
                        j.total.map(|t| t.to_string()).unwrap_or("?".into())
                    );
                    let file = j
                        .file_name
                        .as_deref()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default();
                    let view = jobs::status_view(j, now);
                    println!(
                        "{:>6}  {:<9} {:<8} {:<10} {:>15}  {}{}",
                        j.id, j.operation, j.object, view.label, progress, j.name, file
                    );
                    if let Some(reason) = view.reason {
                        println!("{:>6}  {reason}", "");
                    }
                }
            }
        }
        JobsCommand::Show { job, json } => {
            let not_found = || {
                format!(
                    "there is no job {job}; `aesthetix jobs list --location NAME` lists a location's jobs"
                )
            };
            let location = store.job_location(job).await.with_context(not_found)?;
            let j = store.job(location, job).await.with_context(not_found)?;
            let now = store::now_ms();
            if json {
                println!("{}", serde_json::to_string_pretty(&job_json(&j))?);
            } else {
                let t = j.totals;
                let view = jobs::status_view(&j, now);
                println!("Job {} — {} {} \"{}\"", j.id, j.operation, j.object, j.name);
                println!(
                    "Status: {}{}",
                    view.label,
                    view.reason
                        .as_deref()
                        .map(|r| format!(" — {r}"))
                        .unwrap_or_default()
                );
                if let Some(at) = j.reverted_at {
                    let tz = store
                        .location(location)
                        .await
                        .ok()
                        .and_then(|l| jiff::tz::TimeZone::get(&l.settings.timezone).ok())
                        .unwrap_or(jiff::tz::TimeZone::UTC);
                    if let Ok(ts) = jiff::Timestamp::from_millisecond(at) {
                        println!(
                            "Reverted: {}",
                            ts.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M %Z")
                        );
                    }
                }
                if let Some(f) = &j.file_name {
                    println!("File: {f}");
                }
                println!(
                    "Progress: {} of {} rows",
                    t.processed,
                    j.total.map(|t| t.to_string()).unwrap_or("?".into())
                );
                println!(
                    "Totals: {} created, {} updated, {} skipped, {} errors, {} with warnings, {} blank",
                    t.created, t.updated, t.skipped, t.errors, t.warnings, t.blank
                );
            }
        }
        JobsCommand::Revert { job } => crate::revert_cmd::run(store, job).await?,
        JobsCommand::Errors { job, output } => {
            let not_found = || {
                format!(
                    "there is no job {job}; `aesthetix jobs list --location NAME` lists a location's jobs"
                )
            };
            let location = store.job_location(job).await.with_context(not_found)?;
            let written = jobs::save_error_log(store, location, job, &output).await?;
            println!(
                "Wrote {} lines of job {job} to {} (errors: {}, warnings: {}).",
                written.lines,
                output.display(),
                written.errors,
                written.warnings
            );
        }
    }
    Ok(())
}
