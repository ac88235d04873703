//! Onboarding migration (SPEC §11): a location's leads file and patients file, imported leads
//! first, then patients, each as its own Bulk Action in Create & Update mode, with an email or
//! phone required on every line and Type of Contact Lead / Patient where the file gives none.
//! This module holds what the CLI's `migrate` and the API share: the request of each file,
//! and `--create-fields` (a custom field for each column that maps to nothing, its type read
//! from its values).

use std::path::{Path, PathBuf};

use domain::field::{STANDARD_CONTACT_FIELDS, default_field_key};
use domain::job::JobStatus;
use domain::{CustomFieldType, ObjectKind};
use engine::infer::Inference;
use engine::presets::PresetChoice;
use engine::{ColumnUse, Mode, Target, Why};
use filestore::FileStore;
use serde::Serialize;
use store::{Location, NewCustomField, Store};
use tabular::ReadOptions;

use crate::import::{ImportError, ImportRequest};
use crate::mapping::MapRequest;

/// Which list a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum List {
    Leads,
    Patients,
}

impl List {
    /// The Type of Contact of its lines whose file gives none.
    pub fn contact_type(self) -> &'static str {
        match self {
            List::Leads => "Lead",
            List::Patients => "Patient",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            List::Leads => "leads",
            List::Patients => "patients",
        }
    }
}

/// What a migration is asked, besides its files.
#[derive(Debug, Clone, Default)]
pub struct MigrationOptions {
    /// The workbook sheet to read, for files that are workbooks.
    pub sheet: Option<String>,
    pub skip_unmapped: bool,
    pub tags: Vec<String>,
    pub workflow: Option<String>,
    pub dry_run: bool,
}

/// The import request of one file of a migration (SPEC §11): Create & Update, an identifier
/// required on every line, its list's Type of Contact where the file gives none. `--sheet`
/// applies to a workbook only (a migration may pair a workbook with a CSV).
pub fn request(
    location: &Location,
    list: List,
    file: PathBuf,
    file_name: String,
    options: &MigrationOptions,
) -> ImportRequest {
    let sheet = options.sheet.clone().filter(|_| is_workbook(&file));
    ImportRequest {
        location: Some(location.clone()),
        file,
        file_name,
        sheet,
        mode: Mode::Upsert,
        mode_given: true,
        skip_unmapped: options.skip_unmapped,
        tags: options.tags.clone(),
        workflow: options.workflow.clone(),
        dry_run: options.dry_run,
        line_defaults: vec![("contact_type".into(), list.contact_type().into())],
        require_identifier: true,
        ..ImportRequest::default()
    }
}

/// Whether a file is a workbook, by its content (SPEC §4).
pub fn is_workbook(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| &magic == b"PK\x03\x04")
}

/// A custom field `--create-fields` makes for a column that maps to nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewField {
    /// The column's header (the field's label).
    pub column: String,
    pub key: String,
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(skip)]
    pub kind: CustomFieldType,
    #[serde(skip)]
    pub options: Vec<String>,
}

/// The fields a file's columns that map to nothing would become (SPEC §11), their types read
/// from their values in one pass. A blank-headed column, and one whose key a field already
/// has, gets none.
pub async fn fields_for(
    store: &Store,
    location: &Location,
    request: &ImportRequest,
    today: jiff::civil::Date,
) -> Result<Vec<NewField>, ImportError> {
    let opts = ReadOptions {
        sheet: request.sheet.clone(),
        ..ReadOptions::default()
    };
    let path = request.file.clone();
    let info = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || tabular::inspect(&path, &opts))
            .await
            .map_err(|e| ImportError::Invalid(format!("reading the file stopped: {e}")))??
    };
    let custom: Vec<Target> = crate::wizard::custom_targets(store, location.id).await?;
    let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
    let ignored: Vec<bool> = info.columns.iter().map(|c| c.ignored).collect();
    let read = domain::value::ReadContext::new(&location.settings, today)
        .map_err(|e| ImportError::Invalid(format!("the location's settings: {e}")))?;
    let value_map = Default::default();
    let req = MapRequest {
        standard: engine::mapping::contact_targets(),
        headers: &headers,
        ignored: &ignored,
        custom: &custom,
        preset: PresetChoice::parse(request.preset.as_deref()).map_err(ImportError::Invalid)?,
        template: None,
        overrides: &request.map,
        value_map: &value_map,
        date_order: request.date_order,
        column_date_orders: &[],
    };
    let (mapping, _) = crate::mapping::map_file(&path, &info, &req, &read, None).await?;
    let taken = |key: &str| {
        STANDARD_CONTACT_FIELDS.iter().any(|f| f.key == key) || custom.iter().any(|c| c.key == key)
    };
    let mut wanted: Vec<(usize, String, String)> = Vec::new();
    for (i, p) in mapping.plans.iter().enumerate() {
        let maps_to_nothing = p.used == ColumnUse::Unmatched
            && matches!(
                p.why,
                Why::NoField | Why::PresetSkip(_) | Why::PresetFieldMissing { .. }
            );
        let key = default_field_key(&p.header);
        if maps_to_nothing && !p.header.is_empty() && !key.is_empty() && !taken(&key) {
            wanted.push((i, p.header.clone(), key));
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let columns: Vec<usize> = wanted.iter().map(|(i, ..)| *i).collect();
    let inferred = tokio::task::spawn_blocking(move || {
        let mut each: Vec<Inference> = vec![Inference::default(); columns.len()];
        let mut rows = tabular::rows(&path, &info)?;
        let mut row = tabular::Row::default();
        while rows.next_into(&mut row)? {
            if row.blank {
                continue;
            }
            for (inference, c) in each.iter_mut().zip(&columns) {
                if let Some(cell) = row.cells.get(*c) {
                    inference.feed(cell, &read);
                }
            }
        }
        Ok::<_, tabular::Refusal>(each.into_iter().map(Inference::finish).collect::<Vec<_>>())
    })
    .await
    .map_err(|e| ImportError::Invalid(format!("reading the file stopped: {e}")))??;
    Ok(wanted
        .into_iter()
        .zip(inferred)
        .map(|((_, column, key), inferred)| NewField {
            column,
            key,
            field_type: inferred.field_type.token().to_string(),
            kind: inferred.field_type,
            options: inferred.options,
        })
        .collect())
}

/// Creates the fields, skipping a key created meanwhile (the other file of the migration may
/// have had the same column).
pub async fn create_fields(
    store: &Store,
    location: &Location,
    fields: &[NewField],
) -> Result<(), ImportError> {
    for f in fields {
        let exists = store
            .custom_fields(location.id, &ObjectKind::Contact)
            .await?
            .iter()
            .any(|c| c.key == f.key);
        if exists {
            continue;
        }
        store
            .create_custom_field(
                location.id,
                &NewCustomField {
                    object: ObjectKind::Contact,
                    key: f.key.clone(),
                    label: f.column.clone(),
                    field_type: f.kind,
                    options: f.options.clone(),
                    required: false,
                    unique: false,
                },
            )
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The migration over uploaded drafts (the API's `POST /api/v1/migrations`).

/// What a migration over drafts started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Started {
    /// The leads file's Bulk Action (queued), when there is a leads file.
    pub leads_job: Option<i64>,
    /// The patients file's Bulk Action, when it started at once (no leads file).
    pub patients_job: Option<i64>,
    /// The patients draft waiting for the leads job to complete, when it waits.
    pub patients_waits_for: Option<i64>,
    pub created_fields: Vec<NewField>,
}

/// A dry run's result per file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checked {
    pub leads: Option<crate::import::Report>,
    pub patients: Option<crate::import::Report>,
    pub created_fields: Vec<NewField>,
    pub triggered: Vec<crate::import::TriggeredWorkflow>,
}

fn wizard_error(e: ImportError) -> crate::wizard::WizardError {
    e.into()
}

/// A migration over uploaded drafts (SPEC §11): each draft becomes its list's file; with
/// `create_fields`, a field is made for each column that maps to nothing (named, not made, in a
/// dry run, and left out of it). A dry run reports both files, the patients file as it would
/// run after the leads file. Otherwise the leads file is queued as a Bulk Action and the
/// patients file waits for it to complete (the worker loop submits it: [`advance`]); without a
/// leads file the patients file is queued at once.
#[allow(clippy::too_many_arguments)]
pub async fn over_drafts(
    store: &Store,
    files: &FileStore,
    location: store::LocationId,
    leads: Option<i64>,
    patients: Option<i64>,
    options: &MigrationOptions,
    make_fields: bool,
    acknowledge_workflows: bool,
) -> Result<Result<Started, Checked>, crate::wizard::WizardError> {
    use crate::wizard::{self, WizardError};
    let drafts: Vec<(List, i64)> = [(List::Leads, leads), (List::Patients, patients)]
        .into_iter()
        .filter_map(|(l, d)| Some((l, d?)))
        .collect();
    if drafts.is_empty() {
        return Err(WizardError::invalid(
            "migration.no_files",
            "Give the drafts to migrate: leads_draft, patients_draft, or both (upload each file with POST /imports/drafts first).",
        ));
    }
    let loc = store.location(location).await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(
            jiff::tz::TimeZone::get(&loc.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .date();
    for (list, draft) in &drafts {
        wizard::set_migration(store, location, *draft, *list, options).await?;
    }
    let mut created: Vec<NewField> = Vec::new();
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); drafts.len()];
    if make_fields {
        for (n, (_, draft)) in drafts.iter().enumerate() {
            let mut request = wizard::import_request(store, files, location, *draft, true).await?;
            // The wizard leaves the columns it has no field for out by name; here they are
            // the ones to make fields for.
            request.map.retain(|(_, k)| k.is_some());
            request.skip_unmapped = true;
            for f in fields_for(store, &loc, &request, today)
                .await
                .map_err(wizard_error)?
            {
                columns[n].push(f.column.clone());
                if !created.iter().any(|c| c.key == f.key) {
                    created.push(f);
                }
            }
        }
    }
    if options.dry_run {
        let mut chain = crate::import::DryChain::open().map_err(wizard_error)?;
        let mut checked = Checked {
            leads: None,
            patients: None,
            created_fields: created,
            triggered: Vec::new(),
        };
        for (n, (list, draft)) in drafts.iter().enumerate() {
            let mut request = wizard::import_request(store, files, location, *draft, true).await?;
            // The columns the wizard left out only because no field takes them count as
            // unmatched again, but for the ones fields would be made for.
            let view = wizard::mapping(store, files, location, *draft).await?;
            let unmatched: Vec<&String> = view
                .columns
                .iter()
                .filter(|c| c.auto.is_none() && c.chosen.is_none())
                .map(|c| &c.header)
                .collect();
            request
                .map
                .retain(|(h, k)| k.is_some() || columns[n].contains(h) || !unmatched.contains(&h));
            let prepared = crate::import::prepare(store, request, today)
                .await
                .map_err(wizard_error)?;
            let (report, triggered) =
                crate::import::dry_run_in(store, &prepared, Some(&mut chain), |_| {})
                    .await
                    .map_err(wizard_error)?;
            checked.triggered.extend(triggered);
            match list {
                List::Leads => checked.leads = Some(report),
                List::Patients => checked.patients = Some(report),
            }
        }
        return Ok(Err(checked));
    }
    if !created.is_empty() {
        create_fields(store, &loc, &created)
            .await
            .map_err(wizard_error)?;
    }
    let submit = |draft: i64| async move {
        wizard::submit(
            store,
            files,
            location,
            None,
            draft,
            &wizard::SubmitOptions {
                acknowledge_workflows,
                idempotency_key: None,
            },
        )
        .await
    };
    let mut started = Started {
        leads_job: None,
        patients_job: None,
        patients_waits_for: None,
        created_fields: created,
    };
    match (leads, patients) {
        (Some(l), p) => {
            // Checked now, so a refusal (an unmatched column, a workflow to acknowledge) is
            // said before anything is queued.
            if let Some(p) = p {
                wizard::validate(store, files, location, p).await?;
            }
            let job = submit(l).await?.job_id;
            started.leads_job = Some(job);
            if let Some(p) = p {
                store
                    .add_migration_step(location, job, p, acknowledge_workflows)
                    .await?;
                started.patients_waits_for = Some(job);
            }
        }
        (None, Some(p)) => started.patients_job = Some(submit(p).await?.job_id),
        (None, None) => unreachable!("checked above"),
    }
    Ok(Ok(started))
}

/// Moves waiting migrations on (the worker loop calls it): a patients file whose leads job
/// completed is submitted; one whose leads job ended otherwise (failed, cancelled) stops,
/// saying why. Returns how many steps it ended.
pub async fn advance(store: &Store, files: &FileStore) -> Result<usize, store::StoreError> {
    let mut ended = 0;
    for step in store.waiting_migration_steps().await? {
        let location = step.location_id;
        let job = match store.job(location, step.after_job).await {
            Ok(j) => j,
            Err(e) if e.is_not_found() => {
                if store
                    .end_migration_step(
                        location,
                        step.id,
                        "stopped",
                        None,
                        Some("the leads job is gone"),
                    )
                    .await?
                {
                    ended += 1;
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        match job.status {
            JobStatus::Completed => {
                let submitted = crate::wizard::submit(
                    store,
                    files,
                    location,
                    None,
                    step.draft_id,
                    &crate::wizard::SubmitOptions {
                        acknowledge_workflows: step.acknowledge_workflows,
                        idempotency_key: None,
                    },
                )
                .await;
                let (status, job_id, reason) = match submitted {
                    Ok(s) => ("submitted", Some(s.job_id), None),
                    Err(e) if e.is_server_error() => {
                        tracing::warn!(step = step.id, error = %e, "migration: the patients file could not be submitted yet");
                        continue;
                    }
                    Err(e) => ("stopped", None, Some(e.to_string())),
                };
                if store
                    .end_migration_step(location, step.id, status, job_id, reason.as_deref())
                    .await?
                {
                    ended += 1;
                }
            }
            JobStatus::Failed | JobStatus::Cancelled => {
                let reason = format!(
                    "the leads file's Bulk Action {} ended {}; the patients file was not imported",
                    step.after_job, job.status
                );
                if store
                    .end_migration_step(location, step.id, "stopped", None, Some(&reason))
                    .await?
                {
                    ended += 1;
                }
            }
            _ => {}
        }
    }
    Ok(ended)
}
