//! `aesthetix migrate` (SPEC §11, §13.1): a location's onboarding migration — a leads file
//! then a patients file, each its own Bulk Action in Create & Update mode, the patients file
//! starting only once the leads file completed; an email or phone required on every line;
//! Type of Contact Lead or Patient where the file gives none (so a contact on both lists ends
//! a Patient, and a Patient never becomes a Lead); `--create-fields` makes a custom field for
//! each column that maps to nothing; `--dry-run` reports the patients file as it would run
//! after the leads file. The combined report: `{"leads", "patients", "created_fields"}`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use filestore::FileStore;
use jobs::LineRecord;
use jobs::migration::{self, List, MigrationOptions, NewField};
use store::Store;

use crate::import_cmd::{ImportContactsArgs, ReportFile, plain_for, print_mapping};

#[derive(Args, Debug)]
pub struct MigrateArgs {
    #[arg(long)]
    location: String,
    /// The leads list (marketing, SMS or email system): imported first, as Leads.
    #[arg(long)]
    leads: Option<PathBuf>,
    /// The patients list (EMR): imported second, as Patients.
    #[arg(long)]
    patients: Option<PathBuf>,
    /// The sheet to read from a file that is a workbook.
    #[arg(long)]
    sheet: Option<String>,
    /// Make a custom field for each column that maps to nothing, its type read from its values.
    #[arg(long)]
    create_fields: bool,
    /// Don't import data in unmatched columns.
    #[arg(long)]
    skip_unmapped: bool,
    /// A tag added to every imported contact; repeat for more.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Enroll every contact the migration creates or updates in this workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Confirm enrolling contacts in the active workflows the imports trigger.
    #[arg(long)]
    acknowledge_workflows: bool,
    /// Report what both files would do, the patients file as it would run after the leads
    /// file; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the combined JSON report: {"leads", "patients", "created_fields"}.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Don't print the mappings.
    #[arg(long)]
    quiet: bool,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub async fn migrate(
    store: &Store,
    file_store: &FileStore,
    args: MigrateArgs,
) -> anyhow::Result<ExitCode> {
    let location = crate::cli::location_by_name(store, &args.location).await?;
    let files: Vec<(List, PathBuf)> = [
        (List::Leads, args.leads.clone()),
        (List::Patients, args.patients.clone()),
    ]
    .into_iter()
    .filter_map(|(l, f)| Some((l, f?)))
    .collect();
    if files.is_empty() {
        bail!("give the files to migrate: --leads FILE, --patients FILE, or both");
    }
    for (_, f) in &files {
        if !f.is_file() {
            bail!("there is no file at {}", f.display());
        }
    }
    let today = crate::import_cmd::today_at(&location);
    let options = MigrationOptions {
        sheet: args.sheet.clone(),
        skip_unmapped: args.skip_unmapped,
        tags: args
            .tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        workflow: args.workflow.clone(),
        dry_run: args.dry_run,
    };
    let requests: Vec<(List, PathBuf, jobs::ImportRequest)> = files
        .iter()
        .map(|(list, f)| {
            (
                *list,
                f.clone(),
                migration::request(&location, *list, f.clone(), file_name(f), &options),
            )
        })
        .collect();

    // --create-fields: a field for each column that maps to nothing (in a dry run, named but
    // not made, and their columns left out of the dry run).
    let mut created: Vec<NewField> = Vec::new();
    // Per file, the columns fields are made for.
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); requests.len()];
    if args.create_fields {
        for (n, (_, f, request)) in requests.iter().enumerate() {
            let fields = migration::fields_for(store, &location, request, today)
                .await
                .map_err(|e| plain_for(e, f))?;
            for field in fields {
                columns[n].push(field.column.clone());
                if !created.iter().any(|c| c.key == field.key) {
                    created.push(field);
                }
            }
        }
        if !args.dry_run {
            migration::create_fields(store, &location, &created)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        for f in &created {
            println!(
                "{} custom field '{}' (key {}, type {}) for the column '{}'.",
                if args.dry_run {
                    "Would create"
                } else {
                    "Created"
                },
                f.column,
                f.key,
                f.field_type,
                f.column
            );
        }
    }

    let parts = if args.dry_run {
        dry_run(store, &args, requests, &columns, today).await?
    } else {
        run(store, file_store, &args, requests, today).await?
    };
    let code = parts.code;
    if let Some(path) = &args.report {
        write_report(path, &parts.reports, &created)?;
    }
    for tmp in parts.reports.iter().flatten() {
        let _ = std::fs::remove_file(tmp);
    }
    Ok(code)
}

/// What the two imports left: the exit status, and each list's report file (temporary).
struct Parts {
    code: ExitCode,
    /// Leads, then patients.
    reports: [Option<PathBuf>; 2],
}

fn slot(list: List) -> usize {
    match list {
        List::Leads => 0,
        List::Patients => 1,
    }
}

fn part_report(args: &MigrateArgs, list: List) -> Option<PathBuf> {
    args.report.as_ref().map(|r| {
        let mut name = r.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".{}.part", list.words()));
        r.with_file_name(name)
    })
}

/// The migration: each file as its own Bulk Action, the second only once the first completed.
async fn run(
    store: &Store,
    files: &FileStore,
    args: &MigrateArgs,
    requests: Vec<(List, PathBuf, jobs::ImportRequest)>,
    today: jiff::civil::Date,
) -> anyhow::Result<Parts> {
    let mut reports: [Option<PathBuf>; 2] = [None, None];
    for (list, file, request) in requests {
        println!("{} file ({}):", capitalised(list.words()), file.display());
        let mut import_args = ImportContactsArgs::for_migration(file, args.location.clone());
        import_args.report = part_report(args, list);
        import_args.acknowledge_workflows = args.acknowledge_workflows;
        import_args.quiet = args.quiet;
        import_args.skip_unmapped = args.skip_unmapped;
        let ran = crate::import_cmd::prepare_and_run(store, files, &import_args, request, today)
            .await
            .with_context(|| format!("the {} file", list.words()))?;
        reports[slot(list)] = import_args.report.clone().filter(|_| ran.report.is_some());
        let completed = ran
            .report
            .as_ref()
            .is_some_and(|r| r.status == domain::job::JobStatus::Completed);
        if !completed {
            if list == List::Leads && args.patients.is_some() {
                eprintln!(
                    "The patients file was not imported: it starts only once the leads file has completed."
                );
            }
            return Ok(Parts {
                code: ran.code,
                reports,
            });
        }
    }
    Ok(Parts {
        code: ExitCode::SUCCESS,
        reports,
    })
}

/// The dry run: both files, the patients file as it would run after the leads file (what the
/// leads file would have written stands in for it).
async fn dry_run(
    store: &Store,
    args: &MigrateArgs,
    requests: Vec<(List, PathBuf, jobs::ImportRequest)>,
    created: &[Vec<String>],
    today: jiff::civil::Date,
) -> anyhow::Result<Parts> {
    let mut chain = jobs::DryChain::open().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut reports: [Option<PathBuf>; 2] = [None, None];
    for (n, (list, file, mut request)) in requests.into_iter().enumerate() {
        println!("{} file ({}):", capitalised(list.words()), file.display());
        // The columns fields would be made for are left out of the dry run.
        for column in &created[n] {
            request.map.push((column.clone(), None));
        }
        let prepared = match jobs::prepare(store, request, today).await {
            Ok(p) => p,
            Err(jobs::ImportError::Columns { mapping, error }) => {
                if !args.quiet {
                    print_mapping(&mapping);
                }
                bail!("the {} file: {error}", list.words());
            }
            Err(e) => return Err(plain_for(e, &file)),
        };
        if !args.quiet {
            print_mapping(&prepared.mapping);
        }
        let path = part_report(args, list);
        let mut out = path.as_deref().map(ReportFile::create).transpose()?;
        let (report, triggered) =
            jobs::dry_run_in(store, &prepared, Some(&mut chain), |line: LineRecord| {
                if let Some(o) = out.as_mut() {
                    o.line(&line);
                }
            })
            .await
            .map_err(|e| plain_for(e, &file))?;
        if let Some(o) = out {
            o.finish(&report)?;
        }
        reports[slot(list)] = path;
        let t = report.totals;
        println!(
            "Dry run (nothing written): {} rows — {} would create, {} would update, {} would skip, {} errors, {} with warnings, {} blank",
            t.rows, t.created, t.updated, t.skipped, t.errors, t.warnings, t.blank
        );
        for w in &triggered {
            println!(
                "Workflow {} ({}): would enroll {} contacts",
                w.name, w.reason, w.contacts
            );
        }
    }
    Ok(Parts {
        code: ExitCode::SUCCESS,
        reports,
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `{"leads": REPORT or null, "patients": REPORT or null, "created_fields": [...]}`, each
/// report copied from its own file (never held whole), through a temporary file.
fn write_report(
    path: &Path,
    reports: &[Option<PathBuf>; 2],
    created: &[NewField],
) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.partial");
    let write = || -> anyhow::Result<()> {
        let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
        for (i, (name, part)) in ["leads", "patients"].iter().zip(reports).enumerate() {
            write!(out, "{}\"{name}\": ", if i == 0 { "{" } else { ", " })?;
            match part {
                Some(p) => {
                    let mut f = std::fs::File::open(p)?;
                    std::io::copy(&mut f, &mut out)?;
                }
                None => out.write_all(b"null")?,
            }
        }
        write!(
            out,
            ", \"created_fields\": {}}}",
            serde_json::to_string(created)?
        )?;
        out.flush()?;
        Ok(())
    };
    write().with_context(|| format!("could not write the report {}", path.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("could not write the report {}", path.display()))?;
    Ok(())
}
