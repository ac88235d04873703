//! `aesthetix import contacts`: the CLI front end of the one import engine.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use engine::{Mode, parse_map_arg};
use filestore::FileStore;
use jobs::{ImportError, ImportRequest, LineRecord};
use store::Store;

#[derive(Args, Debug)]
pub struct ImportContactsArgs {
    /// The CSV, TSV, TXT or XLSX file.
    file: PathBuf,
    #[arg(long)]
    location: String,
    /// create (the default: nothing existing changes), upsert (update matches, create the
    /// rest), update (update matches only). A template's or preset's mode applies when not given.
    #[arg(long, value_parser = ["create", "upsert", "update"])]
    mode: Option<String>,
    /// Map a column: 'Header=field_key'; 'Header=' leaves an auto-mapped column out.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    map: Vec<String>,
    /// Don't import data in unmatched columns.
    #[arg(long)]
    pub(crate) skip_unmapped: bool,
    /// The sheet to read from a workbook with several.
    #[arg(long)]
    sheet: Option<String>,
    /// Map a file value of an option field to an option: 'field_key:File value=Option'.
    #[arg(long = "map-value", value_name = "KEY:VALUE=OPTION")]
    map_value: Vec<String>,
    /// Write this column only where the contact's field is blank.
    #[arg(long = "fill-only", value_name = "COLUMN")]
    fill_only: Vec<String>,
    /// A tag added to every imported contact (one tag, as given); repeat for more.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Blanks leave existing values alone instead of clearing them.
    #[arg(long)]
    no_update_empty: bool,
    /// Skip rows matched through their phone to a contact that existed before the import.
    #[arg(long)]
    skip_existing_phone: bool,
    /// Read, map, parse and match against current data; report what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the JSON report of every line to this file.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
    /// Enroll every contact the import creates or updates in this workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Create a Smart List of the contacts this import created or updated.
    #[arg(long)]
    smart_list: bool,
    /// Confirm enrolling contacts in the active workflows this import triggers.
    #[arg(long)]
    pub(crate) acknowledge_workflows: bool,
    /// Add the tags without triggering tag-added workflows.
    #[arg(long)]
    suppress_tag_triggers: bool,
    /// The exporter's preset to map the file with (google, outlook, thunderbird, apple, zoho,
    /// hubspot, mailchimp, square, mindbody, boulevard, zenoti, vagaro, nextech), or none;
    /// without it the preset is detected from the header row.
    #[arg(long, value_name = "NAME|none")]
    preset: Option<String>,
    /// Apply a saved template's choices (see `aesthetix template list`).
    #[arg(long, value_name = "NAME")]
    template: Option<String>,
    /// Read every date column in this day/month order, whatever its values say.
    #[arg(long, value_name = "MDY|DMY", value_parser = ["MDY", "DMY"])]
    date_order: Option<String>,
    /// Don't print the mapping before importing.
    #[arg(long)]
    pub(crate) quiet: bool,
}

impl ImportContactsArgs {
    /// The arguments of an import that `migrate` runs: one file, in upsert, with the options
    /// the migration shares.
    pub(crate) fn for_migration(file: PathBuf, location: String) -> ImportContactsArgs {
        ImportContactsArgs {
            file,
            location,
            mode: Some("upsert".into()),
            map: Vec::new(),
            skip_unmapped: false,
            sheet: None,
            map_value: Vec::new(),
            fill_only: Vec::new(),
            tags: Vec::new(),
            no_update_empty: false,
            skip_existing_phone: false,
            dry_run: false,
            report: None,
            workflow: None,
            smart_list: false,
            acknowledge_workflows: false,
            suppress_tag_triggers: false,
            preset: None,
            template: None,
            date_order: None,
            quiet: false,
        }
    }
}

fn parse_map_value(arg: &str) -> anyhow::Result<(String, String, String)> {
    let usage = || format!("--map-value '{arg}' must look like 'field_key:File value=Option'");
    let (key, rest) = arg.split_once(':').with_context(usage)?;
    let (from, to) = rest.rsplit_once('=').with_context(usage)?;
    if key.trim().is_empty() || from.trim().is_empty() || to.trim().is_empty() {
        bail!(usage());
    }
    Ok((
        key.trim().to_string(),
        from.trim().to_string(),
        to.trim().to_string(),
    ))
}

/// Runs the command; exit status per SPEC §13.1 (0 done, 1 could not run, 3 stopped early).
pub async fn import_contacts(
    store: &Store,
    files: &FileStore,
    args: ImportContactsArgs,
) -> anyhow::Result<ExitCode> {
    let location = crate::cli::location_by_name(store, &args.location).await?;
    let mode =
        Mode::parse_user(args.mode.as_deref().unwrap_or("create")).map_err(anyhow::Error::msg)?;
    let date_order = args
        .date_order
        .as_deref()
        .map(str::parse::<domain::DateOrder>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let map = args
        .map
        .iter()
        .map(|m| parse_map_arg(m))
        .collect::<Result<Vec<_>, _>>()?;
    let map_values = args
        .map_value
        .iter()
        .map(|m| parse_map_value(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !args.file.is_file() {
        bail!("there is no file at {}", args.file.display());
    }
    let today = today_at(&location);
    let request = ImportRequest {
        location: Some(location.clone()),
        file_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file: args.file.clone(),
        name: None,
        sheet: args.sheet.clone(),
        max_file_bytes: None,
        mode,
        map,
        skip_unmapped: args.skip_unmapped,
        map_values,
        fill_only: args.fill_only.clone(),
        tags: args
            .tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        no_update_empty: args.no_update_empty,
        skip_existing_phone: args.skip_existing_phone,
        dry_run: args.dry_run,
        created_by: None,
        workflow: args.workflow.clone(),
        suppress_tag_triggers: args.suppress_tag_triggers,
        mode_given: args.mode.is_some(),
        preset: args.preset.clone(),
        template: args.template.clone(),
        date_order,
        ..ImportRequest::default()
    };
    run_prepared_import(store, files, &args, request, today).await
}

/// The date at the location (its time zone): what two-digit years and date-times are read
/// against (SPEC §5.3).
pub(crate) fn today_at(location: &store::Location) -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(
            jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .date()
}

/// Prepares and runs an import request made from `args`: prints the mapping (unless
/// `--quiet`), asks for the §6.6 acknowledgement, writes the report. `migrate` runs its two
/// files through here too.
pub(crate) async fn run_prepared_import(
    store: &Store,
    files: &FileStore,
    args: &ImportContactsArgs,
    request: ImportRequest,
    today: jiff::civil::Date,
) -> anyhow::Result<ExitCode> {
    let outcome = prepare_and_run(store, files, args, request, today).await?;
    Ok(outcome.code)
}

/// What an import run through [`prepare_and_run`] ended with.
pub(crate) struct Ran {
    pub code: ExitCode,
    pub report: Option<jobs::Report>,
}

pub(crate) async fn prepare_and_run(
    store: &Store,
    files: &FileStore,
    args: &ImportContactsArgs,
    request: ImportRequest,
    today: jiff::civil::Date,
) -> anyhow::Result<Ran> {
    let mut request = request;
    // A file over the limit is refused before it is copied anywhere (SPEC §4).
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("could not read {}", args.file.display()))?
        .len();
    let limit = request
        .max_file_bytes
        .unwrap_or(tabular::DEFAULT_MAX_FILE_BYTES);
    if size > limit {
        return Err(plain_for(
            ImportError::Refused(tabular::Refusal::TooLarge { size, limit }),
            &args.file,
        ));
    }
    if !args.dry_run {
        // The job has its own copy in the file store, so any process can resume it.
        let (name, local) = store_upload(files, &args.file).await?;
        request.stored_name = Some(name);
        if let Some(local) = local {
            request.file = local;
        }
    }
    let prepared = match jobs::prepare(store, request, today).await {
        Ok(p) => p,
        Err(ImportError::Columns { mapping, error }) => {
            if !args.quiet {
                print_mapping(&mapping);
            }
            bail!("{error}");
        }
        Err(e) => return Err(plain_for(e, &args.file)),
    };
    if !args.quiet {
        print_mapping(&prepared.mapping);
    }

    // SPEC §6.6: never a message flood the user did not confirm — checked, with the Smart
    // List made, by the one submit every front end uses; the job is then this process's to run.
    let triggered = jobs::triggered_workflows(store, &prepared)
        .await
        .map_err(plain)?;
    let submitted = if args.dry_run {
        None
    } else {
        let options = jobs::import::submit::SubmitOptions {
            acknowledge_workflows: args.acknowledge_workflows,
            idempotency_key: None,
            smart_list: args.smart_list,
        };
        let queue = jobs::import::submit::Queue::Here(jobs::process_owner());
        match jobs::import::submit::submit(
            store,
            &prepared,
            &options,
            Some(triggered.clone()),
            queue,
        )
        .await
        {
            Ok(s) => Some(s),
            Err(jobs::import::submit::SubmitError::AcknowledgementRequired(triggered)) => {
                let mut msg = String::from(
                    "this import would enroll contacts in active workflows, which may send them messages:\n",
                );
                for t in &triggered {
                    msg.push_str(&format!(
                        "  - {} ({}): {} contacts\n",
                        t.name, t.reason, t.contacts
                    ));
                }
                msg.push_str("Run it again with --acknowledge-workflows to enroll them, or with --suppress-tag-triggers to add the tags without triggering workflows.");
                bail!(msg);
            }
            Err(jobs::import::submit::SubmitError::Import(e)) => return Err(plain(e)),
            Err(e) => bail!("{e}"),
        }
    };

    let bar = crate::cli::progress_bar("importing", "rows");

    // The report's lines are written as they come, so memory stays flat however long the file.
    let mut report_out = args.report.as_deref().map(ReportFile::create).transpose()?;
    // An opportunities import also says what it did to opportunities (SPEC §7).
    let (mut opportunities_created, mut opportunities_updated) = (0u64, 0u64);
    let opportunities = prepared.opportunities.is_some();
    let sink = |line: LineRecord| {
        match line.opportunity_action {
            Some(domain::job::LineAction::Created) => opportunities_created += 1,
            Some(domain::job::LineAction::Updated) => opportunities_updated += 1,
            _ => {}
        }
        if let Some(r) = report_out.as_mut() {
            r.line(&line);
        }
    };
    let progress = |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let outcome = match submitted.as_ref().and_then(|s| s.lease.clone()) {
        Some(lease) => jobs::import::run_leased(store, &prepared, lease, sink, progress).await,
        None => jobs::run_import(store, &prepared, sink, progress).await,
    };
    bar.finish_and_clear();
    let report = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the import stopped before the end: {}", plain(e));
            eprintln!(
                "It can be resumed from its last checkpoint with `aesthetix jobs resume JOB` (see `aesthetix jobs list`)."
            );
            return Ok(Ran {
                code: ExitCode::from(3),
                report: None,
            });
        }
    };
    if let Some(r) = report_out {
        r.finish(&report)?;
    }

    let smart_list = submitted.and_then(|s| s.smart_list);
    let mut ran = store::RunSummary::default();
    if report.job_id.is_some() && !triggered.is_empty() {
        // A script sees the effects of the enrollments it made when the command returns (§12).
        const STEPS: u64 = 1000;
        loop {
            let r = store
                .run_due_enrollments(Some(prepared.location.id), STEPS)
                .await?;
            ran.steps += r.steps;
            ran.queued += r.queued;
            ran.suppressed += r.suppressed;
            if r.steps < STEPS {
                break;
            }
        }
    }

    let t = report.totals;
    let what = if args.dry_run {
        "Dry run (nothing written)"
    } else {
        "Imported"
    };
    let verbs = if args.dry_run {
        ("would create", "would update", "would skip")
    } else {
        ("created", "updated", "skipped")
    };
    println!(
        "{what}: {} rows — {} {}, {} {}, {} {}, {} errors, {} with warnings, {} blank{}",
        t.rows,
        t.created,
        verbs.0,
        t.updated,
        verbs.1,
        t.skipped,
        verbs.2,
        t.errors,
        t.warnings,
        t.blank,
        report
            .job_id
            .map(|j| format!(" (job {j})"))
            .unwrap_or_default()
    );
    if opportunities {
        let verbs = if args.dry_run {
            ("would be created", "updated")
        } else {
            ("created", "updated")
        };
        println!(
            "Opportunities: {opportunities_created} {}, {opportunities_updated} {}",
            verbs.0, verbs.1
        );
    }
    println!("File encoding: {}", report.encoding);
    for w in &triggered {
        let verb = if args.dry_run {
            "would enroll"
        } else {
            "enrolled"
        };
        println!(
            "Workflow {} ({}): {verb} {} contacts",
            w.name, w.reason, w.contacts
        );
    }
    if ran.steps > 0 {
        println!(
            "Workflow steps run: {} ({} messages queued, {} suppressed)",
            ran.steps, ran.queued, ran.suppressed
        );
    }
    if let Some(name) = smart_list {
        println!("Smart List created: {name}");
    }
    if report.status != domain::job::JobStatus::Completed {
        eprintln!(
            "The job stopped before the end: it is {}{}. `aesthetix jobs resume {}` continues it from its last checkpoint.",
            report.status,
            report
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            report.job_id.unwrap_or_default()
        );
        return Ok(Ran {
            code: ExitCode::from(3),
            report: Some(report),
        });
    }
    Ok(Ran {
        code: ExitCode::SUCCESS,
        report: Some(report),
    })
}

/// A `--report` file (SPEC §13.1) written as the lines come: `{"lines": [...], "job_id", …}`,
/// through a temporary file renamed into place once whole.
pub(crate) struct ReportFile {
    out: BufWriter<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
    first: bool,
    error: Option<std::io::Error>,
}

impl ReportFile {
    pub(crate) fn create(path: &Path) -> anyhow::Result<ReportFile> {
        let tmp = path.with_extension("json.partial");
        let f = std::fs::File::create(&tmp)
            .with_context(|| format!("could not write the report {}", path.display()))?;
        let mut out = BufWriter::new(f);
        out.write_all(b"{\"lines\": [")?;
        Ok(ReportFile {
            out,
            tmp,
            path: path.to_path_buf(),
            first: true,
            error: None,
        })
    }

    pub(crate) fn line(&mut self, line: &LineRecord) {
        let sep: &[u8] = if self.first { b"\n" } else { b",\n" };
        self.first = false;
        let res = self.out.write_all(sep).and_then(|_| {
            serde_json::to_writer(&mut self.out, line).map_err(std::io::Error::other)
        });
        if let Err(e) = res {
            self.error.get_or_insert(e);
        }
    }

    pub(crate) fn finish(mut self, report: &jobs::Report) -> anyhow::Result<()> {
        if let Some(e) = self.error {
            bail!("could not write the report: {e}");
        }
        let rest = serde_json::to_string(report)?;
        // `rest` is `{"job_id":…}`: append its members after the lines.
        write!(self.out, "\n], {}", &rest[1..])?;
        self.out.flush()?;
        drop(self.out);
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("could not write the report {}", self.path.display()))?;
        Ok(())
    }
}

/// Prints the mapping to stderr (SPEC §13.1): the preset, then `Header → Field (why)` or
/// `Header → not imported (why)`, one column a line.
pub(crate) fn print_mapping(mapping: &jobs::mapping::FileMapping) {
    eprintln!("Mapping:");
    for line in mapping.lines() {
        eprintln!("  {line}");
    }
}

/// Copies an imported file into the file store under a generated name (never the user's file
/// name), streamed. Returns the name, and the copy's path when the store is local (the run
/// then reads its copy; with S3 it reads the user's file, and a resume elsewhere the copy).
pub async fn store_upload(
    files: &FileStore,
    file: &Path,
) -> anyhow::Result<(String, Option<PathBuf>)> {
    let stamp = jiff::Timestamp::now().as_nanosecond();
    let name = format!("upload-{stamp}-{}", std::process::id());
    files.put_file(&name, file).await.with_context(|| {
        format!(
            "could not copy {} into the file store {}",
            file.display(),
            files.describe()
        )
    })?;
    let local = files
        .local_dir()
        .map(|d| d.join(&name))
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    Ok((name, local))
}

/// Runs `jobs resume JOB` in the foreground, like an import (SPEC §13.1).
pub async fn resume(store: &Store, files: &FileStore, job: i64) -> anyhow::Result<ExitCode> {
    store
        .job_location(job)
        .await
        .with_context(|| format!("there is no job {job}"))?;
    let bar = crate::cli::progress_bar("importing", "rows");
    let outcome = jobs::resume_import(
        store,
        files,
        job,
        |_| {},
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await;
    bar.finish_and_clear();
    let report = match outcome {
        Ok(r) => r,
        Err(ImportError::Store(e)) if e.is_conflict() || e.is_not_found() => bail!("{e}"),
        Err(ImportError::Invalid(m)) => bail!("{m}"),
        Err(e) => {
            eprintln!("error: the job stopped before the end: {}", plain(e));
            return Ok(ExitCode::from(3));
        }
    };
    let t = report.totals;
    println!(
        "Job {job} {}: {} rows — {} created, {} updated, {} skipped, {} errors, {} with warnings, {} blank",
        report.status, t.rows, t.created, t.updated, t.skipped, t.errors, t.warnings, t.blank
    );
    if report.status != domain::job::JobStatus::Completed {
        eprintln!(
            "The job stopped before the end: it is {}{}.",
            report.status,
            report
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// An import error for a person, the file too large naming `aesthetix split` with the user's
/// own file (SPEC §11).
pub(crate) fn plain_for(e: ImportError, file: &Path) -> anyhow::Error {
    match e {
        ImportError::Refused(r @ tabular::Refusal::TooLarge { .. }) => anyhow::anyhow!(
            "{}",
            r.to_string()
                .replace("aesthetix split FILE", &split_command(file))
        ),
        other => plain(other),
    }
}

/// `aesthetix split 'my contacts.csv'`: the command that splits the user's file.
pub(crate) fn split_command(file: &Path) -> String {
    jobs::wizard::split_command(&file.display().to_string())
}

/// An import error as one sentence for a person.
fn plain(e: ImportError) -> anyhow::Error {
    match e {
        ImportError::Store(s) if s.is_disk_full() => {
            anyhow::anyhow!("the disk is full ({s}); free some space for the database")
        }
        ImportError::Store(s) => match s.unavailable() {
            Some(why) => anyhow::anyhow!("the database is unavailable: {why}"),
            None => anyhow::anyhow!("the database failed: {s}"),
        },
        other => anyhow::anyhow!("{other}"),
    }
}

/// `import companies` / `import records --object KEY` (SPEC §8, §13.1): one object per import,
/// through the same engine as contacts.
#[derive(Args, Debug)]
pub struct ImportRecordsArgs {
    /// The CSV, TSV, TXT or XLSX file.
    file: PathBuf,
    #[arg(long)]
    location: String,
    /// create (the default: nothing existing changes), upsert (update matches, create the
    /// rest), update (update matches only).
    #[arg(long, value_parser = ["create", "upsert", "update"])]
    mode: Option<String>,
    /// The field that finds existing records: record_id, or a unique field's key. Default:
    /// the first mapped unique field in the object's field order.
    #[arg(long, value_name = "record_id|FIELD_KEY")]
    dedupe: Option<String>,
    /// Map a column: 'Header=field_key'; 'Header=' leaves an auto-mapped column out.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    map: Vec<String>,
    /// Don't import data in unmatched columns.
    #[arg(long)]
    skip_unmapped: bool,
    /// The sheet to read from a workbook with several.
    #[arg(long)]
    sheet: Option<String>,
    /// Map a file value of an option field to an option: 'field_key:File value=Option'.
    #[arg(long = "map-value", value_name = "KEY:VALUE=OPTION")]
    map_value: Vec<String>,
    /// Blanks leave existing values alone instead of clearing them.
    #[arg(long)]
    no_update_empty: bool,
    /// Apply a saved template's choices (see `aesthetix template list`).
    #[arg(long, value_name = "NAME")]
    template: Option<String>,
    /// Read, map, parse and match against current data; report what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the JSON report of every line to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Don't print the mapping before importing.
    #[arg(long)]
    quiet: bool,
}

/// `import records`: the arguments of `import companies` and the custom object's key.
#[derive(Args, Debug)]
pub struct ImportCustomArgs {
    /// The custom object's key (see `aesthetix object list`).
    #[arg(long)]
    pub(crate) object: String,
    #[command(flatten)]
    pub(crate) args: ImportRecordsArgs,
}

/// Runs `import companies` (`object` None) or `import records --object KEY`.
pub async fn import_records(
    store: &Store,
    files: &FileStore,
    object: Option<String>,
    args: ImportRecordsArgs,
) -> anyhow::Result<ExitCode> {
    let location = crate::cli::location_by_name(store, &args.location).await?;
    let object = match object {
        None => domain::ObjectKind::Company,
        Some(key) => domain::ObjectKind::Custom(key),
    };
    let mode =
        Mode::parse_user(args.mode.as_deref().unwrap_or("create")).map_err(anyhow::Error::msg)?;
    let map = args
        .map
        .iter()
        .map(|m| parse_map_arg(m))
        .collect::<Result<Vec<_>, _>>()?;
    let map_values = args
        .map_value
        .iter()
        .map(|m| parse_map_value(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !args.file.is_file() {
        bail!("there is no file at {}", args.file.display());
    }
    let today = today_at(&location);
    let request = ImportRequest {
        location: Some(location.clone()),
        file_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file: args.file.clone(),
        sheet: args.sheet.clone(),
        mode,
        mode_given: args.mode.is_some(),
        map,
        skip_unmapped: args.skip_unmapped,
        map_values,
        no_update_empty: args.no_update_empty,
        dry_run: args.dry_run,
        template: args.template.clone(),
        object,
        dedupe: args.dedupe.clone(),
        ..ImportRequest::default()
    };
    // The shared front end reads the file, dry run, report and quiet flags from these.
    let mut shared = ImportContactsArgs::for_migration(args.file.clone(), args.location.clone());
    shared.mode = args.mode.clone();
    shared.skip_unmapped = args.skip_unmapped;
    shared.dry_run = args.dry_run;
    shared.report = args.report.clone();
    shared.quiet = args.quiet;
    run_prepared_import(store, files, &shared, request, today).await
}

/// `import opportunities FILE [--with-contacts] --confirm` (SPEC §7, §13.1): the options of
/// `import contacts`; `--map` takes `contact.KEY` / `opportunity.KEY`.
#[derive(Args, Debug)]
pub struct ImportOpportunitiesArgs {
    #[command(flatten)]
    pub(crate) args: ImportContactsArgs,
    /// Write the lines' contacts too (else the contact columns only find the contact to link).
    #[arg(long)]
    with_contacts: bool,
    /// Run the import. Without it the command runs a dry run, says how many opportunities
    /// would be created and updated, and stops with exit status 1.
    #[arg(long)]
    confirm: bool,
}

/// Runs `import opportunities`: without `--confirm` (and without `--dry-run`) a dry run that
/// counts the opportunities it would create and update, then exit 1; nothing is written.
pub async fn import_opportunities(
    store: &Store,
    files: &FileStore,
    opts: ImportOpportunitiesArgs,
) -> anyhow::Result<ExitCode> {
    let args = &opts.args;
    let location = crate::cli::location_by_name(store, &args.location).await?;
    let mode =
        Mode::parse_user(args.mode.as_deref().unwrap_or("create")).map_err(anyhow::Error::msg)?;
    let date_order = args
        .date_order
        .as_deref()
        .map(str::parse::<domain::DateOrder>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let map = args
        .map
        .iter()
        .map(|m| parse_map_arg(m))
        .collect::<Result<Vec<_>, _>>()?;
    let map_values = args
        .map_value
        .iter()
        .map(|m| parse_map_value(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !args.file.is_file() {
        bail!("there is no file at {}", args.file.display());
    }
    let today = today_at(&location);
    let request = ImportRequest {
        location: Some(location.clone()),
        file_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file: args.file.clone(),
        sheet: args.sheet.clone(),
        mode,
        mode_given: args.mode.is_some(),
        map,
        skip_unmapped: args.skip_unmapped,
        map_values,
        fill_only: args.fill_only.clone(),
        tags: args
            .tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        no_update_empty: args.no_update_empty,
        skip_existing_phone: args.skip_existing_phone,
        dry_run: args.dry_run,
        workflow: args.workflow.clone(),
        suppress_tag_triggers: args.suppress_tag_triggers,
        template: args.template.clone(),
        date_order,
        object: domain::ObjectKind::Opportunity,
        with_contacts: opts.with_contacts,
        ..ImportRequest::default()
    };
    if opts.confirm || args.dry_run {
        return run_prepared_import(store, files, args, request, today).await;
    }
    // SPEC §7: the user confirms knowing how many opportunities the import would write.
    let prepared = match jobs::prepare(store, request, today).await {
        Ok(p) => p,
        Err(ImportError::Columns { mapping, error }) => {
            if !args.quiet {
                print_mapping(&mapping);
            }
            bail!("{error}");
        }
        Err(e) => return Err(plain_for(e, &args.file)),
    };
    if !args.quiet {
        print_mapping(&prepared.mapping);
    }
    let (mut created, mut updated) = (0u64, 0u64);
    let (report, _) = jobs::dry_run(store, &prepared, |line: LineRecord| {
        match line.opportunity_action {
            Some(domain::job::LineAction::Created) => created += 1,
            Some(domain::job::LineAction::Updated) => updated += 1,
            _ => {}
        }
    })
    .await
    .map_err(plain)?;
    let t = report.totals;
    println!(
        "Dry run (nothing written): {} rows — {created} opportunities would be created and {updated} updated; {} errors, {} with warnings",
        t.rows, t.errors, t.warnings
    );
    eprintln!(
        "error: nothing was imported: an opportunities import must be confirmed. It would create {created} and update {updated} opportunities; run the same command again with --confirm to import."
    );
    Ok(ExitCode::from(1))
}
