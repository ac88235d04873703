//! Importing contacts: prepare (read the file's header, refuse a bad file, map the columns)
//! then run (stream the rows in chunks: read → look up → decide → write one transaction).
//! `drive` keeps a job going through a database that goes away or a disk that fills up.

mod carry;
mod chunk;
mod drive;
pub mod opportunities;
mod records;
#[cfg(test)]
mod request_tests;
pub mod submit;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use domain::job::{JobStatus, LineMessage, LineRecord, Operation, TriggerReason};
use domain::message::Message;
use domain::value::{ReadContext, email_match_key};
use domain::{MatchOrder, ObjectKind, ObjectSchema};
use engine::records::{RecordInput, RecordOptions};
use engine::{
    ColumnUse, ContactInput, Existing, MappingError, MatchOptions, Mode, PresetChoice, RowCache,
    RowContext, Target, plan_chunk, read_record_with, read_row_with,
};
use filestore::FileStore;
use serde::Serialize;
use store::workflows::{Trigger, Workflow};
use store::{AfterChunk, Lease};
use store::{Location, NewJob, RecordRef, Store, StoreError, Totals, UserId};
use tabular::{FileInfo, ReadOptions, Refusal};

/// How many times a chunk is decided again when a concurrent import took one of its
/// identifiers first.
const CONFLICT_RETRIES: u32 = 5;

/// Rows decided and written together. Large enough that a transaction's fixed cost is
/// amortised, small enough that a crash loses little work and memory stays flat.
pub const CHUNK_ROWS: usize = 1000;

/// The most rows a chunk may have: a chunk's lookup binds up to two parameters a row (its
/// emails and phones) in one statement, and SQLite allows 32,766.
pub const MAX_CHUNK_ROWS: usize = 10_000;

/// Rows per chunk: [`CHUNK_ROWS`], or `AESTHETIX_CHUNK_ROWS` when set (at most
/// [`MAX_CHUNK_ROWS`]) — for the benchmark, which prices a checkpoint by comparing chunk sizes,
/// and for tests that want many checkpoints out of a small file.
pub fn chunk_rows() -> usize {
    std::env::var("AESTHETIX_CHUNK_ROWS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(CHUNK_ROWS, |n| n.min(MAX_CHUNK_ROWS))
}

/// Test hook: `AESTHETIX_TEST_CHUNK_PAUSE_MS=N` makes a written import wait N ms after each
/// committed chunk, so a test can act on the database between two chunks of a small file (an
/// import of a few thousand rows otherwise ends before a test can observe it mid-way).
fn chunk_pause() -> Option<std::time::Duration> {
    std::env::var("AESTHETIX_TEST_CHUNK_PAUSE_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(std::time::Duration::from_millis)
}

/// Everything an import is asked to do (SPEC §6.1, §13.1). Stored whole with its job (the
/// options' `request`), so any process can run or resume it: what belongs to one run — the
/// location read now, the size limit, a dry run, who asked, a template by name — is not kept,
/// and every other field reads back as its default when a job stored before it existed lacks
/// it.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ImportRequest {
    #[serde(skip)]
    pub location: Option<Location>,
    /// The file as this process reads it (a local path).
    pub file: PathBuf,
    /// The file's name in the file store, when it is kept there: what another process (a
    /// worker on another machine) reads when it resumes the job.
    #[serde(default)]
    pub stored_name: Option<String>,
    /// The name the user knows the file by (shown in Bulk Actions).
    pub file_name: String,
    /// Not kept: the job holds its name.
    #[serde(skip)]
    pub name: Option<String>,
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(skip)]
    pub max_file_bytes: Option<u64>,
    pub mode: Mode,
    /// `--map 'Header=key'` / `'Header='`.
    pub map: Vec<(String, Option<String>)>,
    pub skip_unmapped: bool,
    /// `--map-value 'key:File value=Option'`.
    pub map_values: Vec<(String, String, String)>,
    /// `--fill-only COLUMN` (column headers).
    pub fill_only: Vec<String>,
    pub tags: Vec<String>,
    pub no_update_empty: bool,
    pub skip_existing_phone: bool,
    /// A job is never a dry run.
    #[serde(skip)]
    pub dry_run: bool,
    #[serde(skip)]
    pub created_by: Option<UserId>,
    /// `--workflow NAME`: enroll every contact the import creates or updates.
    pub workflow: Option<String>,
    /// Add tags without firing tag-added workflows (SPEC §6.6).
    pub suppress_tag_triggers: bool,
    /// Whether `mode` is the user's choice (else a template's or a preset's may apply). Not
    /// kept: a job's stored mode is the one it runs with, whoever chose it.
    #[serde(skip)]
    pub mode_given: bool,
    /// `--preset NAME|none`: `None` detects the exporter from the header row (SPEC §11).
    #[serde(default)]
    pub preset: Option<String>,
    /// `--template NAME`: a saved template, applied by [`prepare`] (which then keeps its
    /// columns in `template_mapping` and clears this).
    #[serde(skip)]
    pub template: Option<String>,
    /// The applied template's name and columns.
    #[serde(default)]
    pub template_mapping: Option<crate::templates::AppliedTemplate>,
    /// `--date-order`: every date column read in this order (SPEC §5.3).
    #[serde(default)]
    pub date_order: Option<domain::DateOrder>,
    /// The wizard's order beside a date column: `(header, order)`.
    #[serde(default)]
    pub column_date_orders: Vec<(String, domain::DateOrder)>,
    /// `(field key, value)` for lines whose file gives none (a migration's Type of Contact).
    #[serde(default)]
    pub line_defaults: Vec<(String, String)>,
    /// Require an email or phone to create a contact, whatever the location's setting (SPEC
    /// §11's migration).
    #[serde(default)]
    pub require_identifier: bool,
    /// The object the rows are (SPEC §8: one object per import); contacts by default (and
    /// then not written, as jobs stored before objects had none).
    #[serde(default, skip_serializing_if = "is_contact")]
    pub object: ObjectKind,
    /// `--dedupe record_id|FIELD_KEY` (companies and custom objects): the unique field that
    /// finds existing records, or `record_id` for Record ID alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<String>,
    /// An opportunities import (SPEC §7) that writes the lines' contacts too
    /// (`--with-contacts`); without it the contact columns only find the contact to link.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_contacts: bool,
}

fn is_contact(o: &ObjectKind) -> bool {
    *o == ObjectKind::Contact
}

/// Why an import could not run at all (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Mapping(#[from] MappingError),
    /// The columns as mapped, and why the import cannot run with them (the CLI prints the
    /// mapping before the reason).
    #[error("{error}")]
    Columns {
        mapping: Box<crate::mapping::FileMapping>,
        error: MappingError,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Why an import failed for good, in the user's words: a refused file, a mapping or a request
/// as worded; a database failure as a reference to the log (its text never reaches a page).
pub(crate) fn failure_reason(e: &ImportError) -> String {
    match e {
        ImportError::Store(StoreError::Invalid(why)) => why.clone(),
        ImportError::Store(other) => format!(
            "The import stopped on an unexpected problem (reference {}). What it imported so far is kept; give the reference to whoever runs Aesthetix.",
            crate::incident("import failed", other)
        ),
        other => other.to_string(),
    }
}

impl ImportError {
    /// A stable code for the API: the file refusal's own, or the kind of problem.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Refused(r) => r.code(),
            ImportError::Mapping(_) | ImportError::Columns { .. } => "mapping.invalid",
            ImportError::Invalid(_) => "import.invalid",
            ImportError::Store(_) => "database.error",
        }
    }
}

/// A file that was read and mapped, ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: ImportRequest,
    pub location: Location,
    pub info: FileInfo,
    pub uses: Vec<ColumnUse>,
    /// The mapping with its reasons, the preset and the date columns' orders (SPEC §6.1).
    pub mapping: crate::mapping::FileMapping,
    pub row_context: RowContext,
    pub options: MatchOptions,
    /// The workflows this import enrolls contacts into.
    pub enroll: EnrollPlan,
    /// The object's schema: its fields as the location defines them (SPEC §3, §8).
    pub schema: ObjectSchema,
    /// The rules of a company or custom object import (`None` for contacts).
    pub records: Option<RecordOptions>,
    /// An opportunities import's columns per object, pipelines and rules (SPEC §7).
    pub opportunities: Option<opportunities::OpportunityPrep>,
}

/// Which active workflows an import enrolls contacts into, and why (SPEC §6.6, §12).
#[derive(Debug, Clone, Default)]
pub struct EnrollPlan {
    /// Tag-added workflows: (workflow, the tag's key). Empty when tag triggers are suppressed.
    pub on_tag: Vec<(Workflow, String)>,
    /// Contact-created workflows: every contact the import creates.
    pub on_create: Vec<Workflow>,
    /// The workflow the user chose: every contact the import creates or updates.
    pub chosen: Option<Workflow>,
}

impl EnrollPlan {
    pub fn is_empty(&self) -> bool {
        self.on_tag.is_empty() && self.on_create.is_empty() && self.chosen.is_none()
    }

    /// The workflows a contact of this import enrolls in, given what the import did to it.
    fn workflows_for(&self, created: bool, new_tags: &[String]) -> Vec<i64> {
        let mut ids = Vec::new();
        let keys: Vec<String> = new_tags.iter().map(|t| domain::value::tag_key(t)).collect();
        for (w, tag) in &self.on_tag {
            if keys.contains(tag) && !ids.contains(&w.id) {
                ids.push(w.id);
            }
        }
        if created {
            for w in &self.on_create {
                if !ids.contains(&w.id) {
                    ids.push(w.id);
                }
            }
        }
        if let Some(w) = &self.chosen
            && !ids.contains(&w.id)
        {
            ids.push(w.id);
        }
        ids
    }
}

/// An active workflow an import would enroll contacts into, and how many (SPEC §6.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TriggeredWorkflow {
    pub workflow_id: i64,
    pub name: String,
    /// Why it fires (stored and shown as `tag-added:VIP`, `contact-created`, or `chosen for
    /// this import`).
    pub reason: TriggerReason,
    /// Contacts it would newly enroll.
    pub contacts: u64,
}

impl Prepared {
    /// The headers of the file, in order.
    pub fn headers(&self) -> Vec<String> {
        self.info.columns.iter().map(|c| c.header.clone()).collect()
    }
}

/// The totals of SPEC §13.1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReportTotals {
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub errors: i64,
    pub warnings: i64,
    pub blank: i64,
}

impl From<Totals> for ReportTotals {
    fn from(t: Totals) -> Self {
        ReportTotals {
            rows: t.created + t.updated + t.skipped + t.errors + t.blank,
            created: t.created,
            updated: t.updated,
            skipped: t.skipped,
            errors: t.errors,
            warnings: t.warnings,
            blank: t.blank,
        }
    }
}

/// What an import did (the report without its lines, which go to the line sink).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub job_id: Option<i64>,
    pub status: JobStatus,
    pub encoding: &'static str,
    pub totals: ReportTotals,
    /// Column-level notices, once per column (SPEC §5.3 `date.order_from_file`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<crate::mapping::Notice>,
    /// Why a job stopped before its end (e.g. "disk full: …"), for the front end to say.
    #[serde(skip)]
    pub reason: Option<String>,
}

/// Reads the file's header, refuses a bad file and maps the columns. Nothing is written.
pub async fn prepare(
    store: &Store,
    mut request: ImportRequest,
    today: jiff::civil::Date,
) -> Result<Prepared, ImportError> {
    let location = request
        .location
        .clone()
        .ok_or_else(|| ImportError::Invalid("no location given".into()))?;
    let opts = ReadOptions {
        sheet: request.sheet.clone(),
        max_file_bytes: request
            .max_file_bytes
            .unwrap_or(tabular::DEFAULT_MAX_FILE_BYTES),
        ..ReadOptions::default()
    };
    let file = request.file.clone();
    let info = tokio::task::spawn_blocking(move || tabular::inspect(&file, &opts))
        .await
        .map_err(|e| ImportError::Invalid(format!("reading the file stopped: {e}")))??;
    let schema = match store.object_schema(location.id, &request.object).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => return Err(ImportError::Invalid(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let is_opportunities = request.object == ObjectKind::Opportunity;
    let is_records = !matches!(request.object, ObjectKind::Contact) && !is_opportunities;
    // An opportunities import maps against both objects (SPEC §7).
    let contact_schema = if is_opportunities {
        Some(
            store
                .object_schema(location.id, &ObjectKind::Contact)
                .await?,
        )
    } else {
        None
    };
    let mut custom: Vec<Target> = schema
        .fields
        .iter()
        .filter(|f| f.custom)
        .map(Target::of)
        .collect();
    let standard: Vec<Target> = if let Some(contact) = &contact_schema {
        let (standard, both_custom) =
            opportunities::targets(&schema, contact, request.with_contacts);
        custom = both_custom;
        request.map =
            opportunities::translate_map(&request.map, &schema, contact, request.with_contacts)?;
        // Exporters' presets describe contact files.
        request.preset = Some("none".into());
        standard
    } else if is_records {
        schema
            .fields
            .iter()
            .filter(|f| !f.custom)
            .map(Target::of)
            .collect()
    } else {
        engine::mapping::contact_targets().to_vec()
    };
    if is_records {
        // What only contacts have (SPEC §8's flags are mode, map, skip-unmapped, sheet,
        // map-value, no-update-empty, template, dry-run, report).
        let refused = [
            (!request.fill_only.is_empty(), "--fill-only"),
            (!request.tags.is_empty(), "--tag"),
            (request.workflow.is_some(), "--workflow"),
            (request.skip_existing_phone, "--skip-existing-phone"),
        ];
        if let Some((_, flag)) = refused.iter().find(|(on, _)| *on) {
            return Err(ImportError::Invalid(format!(
                "{flag} applies to contacts only; {} imports take the mode, --map, --map-value, --no-update-empty, --dedupe and --template",
                schema.name
            )));
        }
        // Exporters' presets describe contact files.
        request.preset = Some("none".into());
    }
    if is_opportunities && !request.with_contacts {
        let refused = [
            (!request.fill_only.is_empty(), "--fill-only"),
            (!request.tags.is_empty(), "--tag"),
            (request.workflow.is_some(), "--workflow"),
            (request.skip_existing_phone, "--skip-existing-phone"),
        ];
        if let Some((_, flag)) = refused.iter().find(|(on, _)| *on) {
            return Err(ImportError::Invalid(format!(
                "{flag} changes contacts; add --with-contacts to write the lines' contacts too"
            )));
        }
    }
    if !is_opportunities && request.with_contacts {
        return Err(ImportError::Invalid(
            "--with-contacts applies to `import opportunities` only".into(),
        ));
    }
    let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
    let ignored: Vec<bool> = info.columns.iter().map(|c| c.ignored).collect();
    // A saved template's choices, then the exporter's preset (SPEC §11).
    if let Some(name) = request.template.take() {
        crate::templates::load(store, location.id, &name)
            .await
            .and_then(|t| t.apply(&name, &mut request))
            .map_err(|e| ImportError::Invalid(e.to_string()))?;
    }
    let preset_choice =
        PresetChoice::parse(request.preset.as_deref()).map_err(ImportError::Invalid)?;
    let preset = preset_choice.resolve(&headers);
    if let Some(p) = preset {
        apply_preset(p, &mut request);
    }
    let read = ReadContext::new(&location.settings, today).map_err(|e| {
        ImportError::Invalid(format!(
            "the location's settings cannot be used to read values: {e}"
        ))
    })?;
    let mut given_values: HashMap<String, HashMap<String, String>> = HashMap::new();
    for (key, from, to) in &request.map_values {
        given_values
            .entry(key.clone())
            .or_default()
            .insert(from.trim().to_lowercase(), to.clone());
    }
    let template = request
        .template_mapping
        .as_ref()
        .map(|(n, c)| (n.as_str(), c.as_slice()));
    let map_request = crate::mapping::MapRequest {
        standard: &standard,
        headers: &headers,
        ignored: &ignored,
        custom: &custom,
        preset: preset_choice,
        template,
        overrides: &request.map,
        value_map: &given_values,
        date_order: request.date_order,
        column_date_orders: &request.column_date_orders,
    };
    let (mapping, _) =
        crate::mapping::map_file(&request.file, &info, &map_request, &read, None).await?;
    if let Err(error) = engine::mapping::plan::check(&mapping.plans, request.skip_unmapped) {
        return Err(ImportError::Columns {
            mapping: Box::new(mapping),
            error,
        });
    }
    let uses = mapping.uses();
    let records = if is_records {
        match record_options(&schema, &uses, &request) {
            Ok(o) => Some(o),
            Err(RecordsRefusal::Columns(error)) => {
                return Err(ImportError::Columns {
                    mapping: Box::new(mapping),
                    error,
                });
            }
            Err(RecordsRefusal::Invalid(why)) => return Err(ImportError::Invalid(why)),
        }
    } else {
        None
    };

    let mut fill_only = HashSet::new();
    for column in &request.fill_only {
        let i = headers
            .iter()
            .position(|h| {
                h == column || engine::normalise_header(h) == engine::normalise_header(column)
            })
            .ok_or_else(|| {
                ImportError::Invalid(format!(
                    "--fill-only '{column}' names no column of the file; the columns are: {}",
                    headers.join(", ")
                ))
            })?;
        match &uses[i] {
            ColumnUse::Field(t) => {
                fill_only.insert(t.key.clone());
            }
            _ => {
                return Err(ImportError::Invalid(format!(
                    "--fill-only '{column}': that column is not mapped to a field"
                )));
            }
        }
    }
    let mut value_map: HashMap<String, HashMap<String, String>> = HashMap::new();
    for (key, from, to) in &request.map_values {
        let target = uses
            .iter()
            .find_map(|u| match u {
                ColumnUse::Field(t) if &t.key == key => Some(t),
                _ => None,
            })
            .ok_or_else(|| {
                ImportError::Invalid(format!(
                    "--map-value '{key}:…': no column of the file is mapped to the field '{key}'"
                ))
            })?;
        let option = target
            .options
            .iter()
            .find(|o| o.eq_ignore_ascii_case(to.trim()))
            .ok_or_else(|| {
                ImportError::Invalid(format!(
                    "--map-value '{key}:{from}={to}': '{to}' is not an option of {}; the options are: {}",
                    target.label,
                    target.options.join(", ")
                ))
            })?;
        value_map
            .entry(key.clone())
            .or_default()
            .insert(from.trim().to_lowercase(), option.clone());
    }
    let users = store
        .location_users(location.id)
        .await?
        .into_iter()
        .map(|(u, _)| (u.id.0, u.email, u.name))
        .collect();
    let row_context = RowContext {
        date_orders: mapping.date_orders(read.date_order),
        read,
        users,
        value_map,
        tags_for_all: request.tags.clone(),
        workbook: (info.kind == tabular::FileKind::Xlsx).then_some(info.date_1904),
        defaults: request.line_defaults.clone(),
        promotable: mapping.promotable(),
    };
    let opportunity_prep = if is_opportunities {
        let (contact_uses, opportunity_uses) = opportunities::split_uses(&uses, &schema);
        Some(opportunities::OpportunityPrep {
            with_contacts: request.with_contacts,
            contact_uses,
            opportunity_uses,
            pipelines: opportunities::pipelines(store, location.id).await?,
            options: engine::opportunities::OpportunityOptions {
                mode: request.mode,
                no_update_empty: request.no_update_empty,
            },
        })
    } else {
        None
    };
    let finds_only = is_opportunities && !request.with_contacts;
    let options = MatchOptions {
        // Without --with-contacts the contact part only finds a line's contact (SPEC §7).
        mode: if finds_only {
            Mode::Update
        } else {
            request.mode
        },
        match_order: location.settings.match_order,
        no_update_empty: request.no_update_empty,
        fill_only,
        skip_existing_phone: request.skip_existing_phone,
        require_unique_identifier: !finds_only
            && (location.settings.require_unique_identifier || request.require_identifier),
    };
    let mut enroll = EnrollPlan::default();
    // Workflows enroll contacts (SPEC §12): a records import triggers none.
    let workflows = if is_records || finds_only {
        Vec::new()
    } else {
        store.active_workflows(location.id).await?
    };
    for w in workflows {
        match &w.trigger {
            Trigger::TagAdded(tag) if !request.suppress_tag_triggers => {
                let key = domain::value::tag_key(tag);
                enroll.on_tag.push((w, key));
            }
            Trigger::ContactCreated => enroll.on_create.push(w),
            _ => {}
        }
    }
    if let Some(name) = &request.workflow {
        match store.workflow_by_name(location.id, name).await {
            Ok(w) => enroll.chosen = Some(w),
            Err(e) if e.is_not_found() => {
                let known: Vec<String> = store
                    .workflows(location.id)
                    .await?
                    .into_iter()
                    .map(|s| s.workflow.name)
                    .collect();
                return Err(ImportError::Invalid(if known.is_empty() {
                    format!(
                        "--workflow '{name}': this location has no workflows; create one with `aesthetix workflow create`"
                    )
                } else {
                    format!(
                        "--workflow '{name}' is not a workflow of this location; its workflows are: {}",
                        known.join(", ")
                    )
                }));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Prepared {
        request,
        location,
        info,
        uses,
        mapping,
        row_context,
        options,
        enroll,
        schema,
        records,
        opportunities: opportunity_prep,
    })
}

/// Why a records import cannot run with its mapping.
enum RecordsRefusal {
    /// The mapping lacks a field the object needs (the CLI prints the mapping first).
    Columns(MappingError),
    Invalid(String),
}

/// The rules of a company or custom object import from its mapping (SPEC §8): every required
/// field mapped (the primary field, a custom object's required fields; Record ID or a unique
/// field in Update mode), and the dedupe field — `--dedupe`, else the first mapped unique
/// field in the object's field order.
fn record_options(
    schema: &ObjectSchema,
    uses: &[ColumnUse],
    request: &ImportRequest,
) -> Result<RecordOptions, RecordsRefusal> {
    let mapped = |key: &str| {
        uses.iter().any(|u| match u {
            ColumnUse::Field(t) | ColumnUse::DatePart(t, _) => t.key == key,
            _ => false,
        })
    };
    let missing: Vec<String> = schema
        .import_requirements(request.mode == Mode::Update, mapped)
        .into_iter()
        .filter(|r| !r.mapped)
        .map(|r| r.label)
        .collect();
    let unique: Vec<String> = schema
        .unique()
        .filter(|f| mapped(&f.key))
        .map(|f| f.key.clone())
        .collect();
    if !missing.is_empty() {
        return Err(RecordsRefusal::Columns(MappingError::RequiredUnmapped(
            missing.join(", "),
        )));
    }
    let dedupe = match request.dedupe.as_deref() {
        None => unique.first().cloned(),
        Some(k) if k == schema.id_field => None,
        Some(k) => {
            let known: Vec<String> = std::iter::once(schema.id_field.clone())
                .chain(schema.unique().map(|f| f.key.clone()))
                .collect();
            match schema.field(k) {
                Some(f) if f.unique && mapped(k) => Some(k.to_string()),
                Some(f) if f.unique => {
                    return Err(RecordsRefusal::Invalid(format!(
                        "--dedupe '{k}': no column of the file is mapped to {}; map one, or choose another of: {}",
                        f.label,
                        known.join(", ")
                    )));
                }
                _ => {
                    return Err(RecordsRefusal::Invalid(format!(
                        "--dedupe '{k}' is not a unique field of {}; choose one of: {}",
                        schema.name,
                        known.join(", ")
                    )));
                }
            }
        }
    };
    Ok(RecordOptions {
        mode: request.mode,
        no_update_empty: request.no_update_empty,
        dedupe,
        unique,
    })
}

/// A preset's settings (SPEC §11: Vagaro's and Nextech's): its mode unless the user chose one,
/// its "don't update empty values" unless the user turned it on, its tags beside the user's,
/// and its Type of Contact for lines whose file gives none (unless the request says another,
/// as a migration does). Applying it twice changes nothing (a resumed job prepares again).
fn apply_preset(preset: &engine::Preset, request: &mut ImportRequest) {
    let s = preset.settings;
    if let (false, Some(mode)) = (request.mode_given, s.mode) {
        request.mode = mode;
    }
    if let Some(no_update_empty) = s.no_update_empty {
        request.no_update_empty |= no_update_empty;
    }
    for tag in s.tags {
        if !request
            .tags
            .iter()
            .any(|t| domain::value::tag_key(t) == domain::value::tag_key(tag))
        {
            request.tags.push(tag.to_string());
        }
    }
    if let Some(kind) = s.contact_type
        && !request
            .line_defaults
            .iter()
            .any(|(k, _)| k == "contact_type")
    {
        request
            .line_defaults
            .push(("contact_type".to_string(), kind.to_string()));
    }
}

/// What this import already did to a contact: its latest line, and whether it created it.
#[derive(Debug, Clone, Copy)]
struct Touched {
    line: u64,
    created: bool,
}

/// What a job already did, from its line log: what a resumed run starts from.
async fn touched_by(
    store: &Store,
    location: store::LocationId,
    job: i64,
) -> Result<HashMap<i64, Touched>, StoreError> {
    let object = store.job(location, job).await?.object;
    let touched = match object {
        // An opportunities import's lines name their contacts (none without contacts).
        ObjectKind::Contact | ObjectKind::Opportunity => store.job_touched(location, job).await?,
        other => store.records_touched(location, job, &other).await?,
    };
    Ok(touched
        .into_iter()
        .map(|(id, line, created)| {
            (
                id,
                Touched {
                    line: line as u64,
                    created,
                },
            )
        })
        .collect())
}

/// The name an import gets when the user gives none (SPEC §6.1): `Contacts import YYYY-MM-DD
/// HH:MM`, in the location's time zone.
pub fn default_import_name(time_zone: &jiff::tz::TimeZone) -> String {
    default_import_name_of("Contacts", time_zone)
}

/// [`default_import_name`] for an object by its name (`Companies import …`).
pub fn default_import_name_of(object: &str, time_zone: &jiff::tz::TimeZone) -> String {
    let now = jiff::Timestamp::now().to_zoned_datetime(time_zone.clone());
    format!("{object} import {}", now.strftime("%Y-%m-%d %H:%M"))
}

/// The Bulk Action a prepared import runs as: its name, the file's name, and options holding
/// the whole request, so any process can run it (`lease_owner: None` queues it for a worker).
pub fn new_import_job(prepared: &Prepared, lease_owner: Option<String>) -> NewJob {
    let name = prepared.request.name.clone().unwrap_or_else(|| {
        default_import_name_of(&prepared.schema.name, &prepared.row_context.read.time_zone)
    });
    // The columns as mapped (by header), for a template saved from this job; a part of a
    // date in three columns is left to its preset.
    let mapping: Vec<(String, Option<String>)> = prepared
        .mapping
        .plans
        .iter()
        .filter(|p| !p.header.is_empty())
        .filter_map(|p| match &p.used {
            ColumnUse::Field(t) => Some((p.header.clone(), Some(t.key.clone()))),
            ColumnUse::DatePart(..) => None,
            ColumnUse::Unmatched | ColumnUse::Ignored => Some((p.header.clone(), None)),
        })
        .collect();
    let options = serde_json::json!({
        "headers": prepared.headers(),
        "encoding": prepared.info.encoding,
        "request": &prepared.request,
        "mapping": mapping,
        "notices": prepared.mapping.notices,
        "preset": prepared.mapping.preset.map(|p| p.key),
    });
    NewJob {
        operation: Operation::Import,
        object: prepared.request.object.clone(),
        name,
        file_name: Some(prepared.request.file_name.clone()),
        options: options.to_string(),
        total: Some(prepared.info.records as i64),
        created_by: prepared.request.created_by,
        lease_owner,
    }
}

/// Runs a prepared import to the end: a Bulk Action job (none for a dry run), every row
/// decided and written chunk by chunk. Each line's result goes to `sink` in file order;
/// `progress(processed_lines, total_lines)` after each chunk.
pub async fn run_import(
    store: &Store,
    prepared: &Prepared,
    sink: impl FnMut(LineRecord),
    progress: impl FnMut(u64, u64),
) -> Result<Report, ImportError> {
    if prepared.request.dry_run {
        let (mut sink, mut progress) = (sink, progress);
        let end = run(
            store,
            prepared,
            None,
            &mut sink,
            &mut progress,
            |_, _| {},
            None,
        )
        .await?;
        return Ok(Report {
            job_id: None,
            status: JobStatus::Completed,
            encoding: prepared.info.encoding,
            totals: end.totals.into(),
            notices: prepared.mapping.notices.clone(),
            reason: None,
        });
    }
    let owner = process_owner();
    let job_id = store
        .create_job(
            prepared.location.id,
            &new_import_job(prepared, Some(owner.clone())),
        )
        .await?;
    let lease = Lease {
        job_id,
        location_id: prepared.location.id,
        owner,
    };
    run_leased(store, prepared, lease, sink, progress).await
}

/// Runs a job this process created and holds the lease of ([`submit::Queue::Here`]) from its
/// first line to the end, as [`run_import`] does.
pub async fn run_leased(
    store: &Store,
    prepared: &Prepared,
    lease: Lease,
    sink: impl FnMut(LineRecord),
    progress: impl FnMut(u64, u64),
) -> Result<Report, ImportError> {
    drive::drive(
        store,
        prepared,
        Resume {
            lease,
            after_line: 0,
            touched: HashMap::new(),
        },
        sink,
        progress,
    )
    .await
}

/// A job being run: its lease, the last line already committed, what it already did.
struct Resume {
    lease: Lease,
    after_line: u64,
    touched: HashMap<i64, Touched>,
}

/// Who this process is, as a lease owner: host, process id and a random nonce.
pub fn process_owner() -> String {
    let host =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into());
    let mut nonce = [0u8; 4];
    let _ = getrandom::fill(&mut nonce);
    format!(
        "{}/{}/{:08x}",
        host.trim(),
        std::process::id(),
        u32::from_be_bytes(nonce)
    )
}

/// Whether a lease owner is a process of this host that no longer runs (then its job can be
/// taken over at once instead of waiting for the lease to lapse).
pub fn owner_is_dead(owner: &str) -> bool {
    let mut parts = owner.split('/');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    let here = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    host == here.trim()
        && pid
            .parse::<u32>()
            .is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// How a resumed job ended for the caller.
pub struct Resumed {
    pub report: Report,
    pub location: store::LocationId,
}

/// Resumes an interrupted or paused import job from its last checkpoint (SPEC §9.4, §9.5):
/// puts a paused job back in the queue, claims it (taking over from a dead process of this
/// host at once, else only once its lease lapsed), and runs the rest of the file, no line
/// twice and none skipped.
pub async fn resume_import(
    store: &Store,
    files: &FileStore,
    job_id: i64,
    sink: impl FnMut(LineRecord),
    progress: impl FnMut(u64, u64),
) -> Result<Report, ImportError> {
    let location_id = store.job_location(job_id).await?;
    let job = store.job(location_id, job_id).await?;
    if job.operation != Operation::Import {
        return Err(ImportError::Invalid(format!(
            "job {job_id} is an {}, not an import",
            job.operation
        )));
    }
    store.resume_job(location_id, job_id).await?;
    let owner = process_owner();
    let dead = store
        .job_lease_owner(location_id, job_id)
        .await?
        .filter(|o| owner_is_dead(o));
    let lease = store.claim_job(location_id, job_id, &owner, dead.as_deref()).await?.ok_or_else(|| {
        ImportError::Invalid(format!(
            "job {job_id} is being run by another process; it can be resumed once that process stops (its lease lapses {} s after its last heartbeat)",
            store.lease_ms() / 1000
        ))
    })?;
    run_claimed(store, files, lease, sink, progress).await
}

/// Runs the rest of a job this process holds the lease of (from `jobs resume`, or a worker
/// that claimed it), from its checkpoint to the end.
pub async fn run_claimed(
    store: &Store,
    files: &FileStore,
    lease: Lease,
    sink: impl FnMut(LineRecord),
    progress: impl FnMut(u64, u64),
) -> Result<Report, ImportError> {
    let (location_id, job_id) = (lease.location_id, lease.job_id);
    // A pause or cancel asked of the job before its last runner stopped is settled first.
    let settled = store.settle_request(&lease).await?;
    let job = store.job(location_id, job_id).await?;
    if settled != AfterChunk::Running {
        return Ok(Report {
            job_id: Some(job_id),
            status: if settled == AfterChunk::Paused {
                JobStatus::Paused
            } else {
                JobStatus::Cancelled
            },
            encoding: "",
            totals: job.totals.into(),
            notices: Vec::new(),
            reason: None,
        });
    }
    let location = store.location(location_id).await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(
            jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .date();
    let options: serde_json::Value =
        serde_json::from_str(&store.job_options(location_id, job_id).await?).map_err(|e| {
            ImportError::Invalid(format!(
                "job {job_id} cannot be resumed: its options are unreadable ({e})"
            ))
        })?;
    let mut request: ImportRequest =
        serde_json::from_value(options["request"].clone()).map_err(|e| {
            ImportError::Invalid(format!(
                "job {job_id} cannot be resumed: its options are unreadable ({e})"
            ))
        })?;
    // The file from the file store (a worker on another machine reads its own copy); a job
    // recorded before files had names there reads its path.
    if let Some(name) = &request.stored_name {
        request.file = match files.local_copy(name).await {
            Ok(path) => path,
            Err(e) if e.is_not_found() => {
                let e = ImportError::Invalid(format!(
                    "the file of job {job_id} is no longer in the file store"
                ));
                let _ = store
                    .finish_leased_job(&lease, JobStatus::Failed, Some(&failure_reason(&e)))
                    .await;
                return Err(e);
            }
            // Another process, or this one later, takes the job over once the store answers.
            Err(e) => {
                return Err(ImportError::Invalid(format!(
                    "the file of job {job_id} could not be read from the file store: {e}"
                )));
            }
        };
    }
    request.location = Some(location);
    request.name = Some(job.name.clone());
    // The stored mode is the one the job ran with, whoever chose it.
    request.mode_given = true;
    let prepared = match prepare(store, request, today).await {
        Ok(p) => p,
        Err(e) => {
            let _ = store
                .finish_leased_job(&lease, JobStatus::Failed, Some(&failure_reason(&e)))
                .await;
            return Err(e);
        }
    };
    let touched = touched_by(store, location_id, job_id).await?;
    let after_line = job.checkpoint_line as u64;
    drive::drive(
        store,
        &prepared,
        Resume {
            lease,
            after_line,
            touched,
        },
        sink,
        progress,
    )
    .await
}

/// Which active workflows this import would enroll contacts into, and how many each: a dry
/// run of the whole file, counting only contacts not enrolled already (SPEC §6.6). Empty
/// when the import triggers no workflow.
pub async fn triggered_workflows(
    store: &Store,
    prepared: &Prepared,
) -> Result<Vec<TriggeredWorkflow>, ImportError> {
    if prepared.enroll.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dry_run(store, prepared, |_| {}).await?.1)
}

/// A dry run of the whole file (SPEC §6.1 "validate first"): what a real run would do, each
/// line to `sink`, and the workflows it would trigger with their counts (SPEC §6.6). Nothing
/// is written, whatever `prepared.request.dry_run` says.
pub async fn dry_run(
    store: &Store,
    prepared: &Prepared,
    sink: impl FnMut(LineRecord),
) -> Result<(Report, Vec<TriggeredWorkflow>), ImportError> {
    dry_run_in(store, prepared, None, sink).await
}

/// What earlier dry runs decided, for a dry run that continues them: SPEC §11's migration
/// reports its patients file as it would run after its leads file. The contacts the earlier
/// files would have created or updated are found as if they existed, and count as contacts
/// that existed before this file (not as its own earlier lines).
pub struct DryChain {
    carry: carry::DryCarry,
    next_id: i64,
    /// Contacts carried by this run (the rest came from earlier runs).
    this_run: HashSet<i64>,
}

impl DryChain {
    pub fn open() -> Result<DryChain, ImportError> {
        Ok(DryChain {
            carry: carry::DryCarry::open()?,
            next_id: -1,
            this_run: HashSet::new(),
        })
    }

    fn begin_run(&mut self) {
        self.this_run.clear();
    }

    fn get(&mut self, id: i64) -> Result<Option<Existing>, StoreError> {
        let mut found = self.carry.get(id)?;
        if let Some(e) = found.as_mut()
            && !self.this_run.contains(&id)
        {
            e.touched_line = None;
            e.created_by_import = false;
        }
        Ok(found)
    }

    fn by_email(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        self.carry.by_email(key)
    }

    fn by_phone(&mut self, phone: &str) -> Result<Option<i64>, StoreError> {
        self.carry.by_phone(phone)
    }

    fn put(&mut self, contacts: &[carry::CarriedContact]) -> Result<(), StoreError> {
        self.this_run.extend(contacts.iter().map(|c| c.existing.id));
        self.carry.put(contacts)
    }
}

/// A dry run continuing `chain` (the earlier files' dry runs), or a dry run of its own.
pub async fn dry_run_in(
    store: &Store,
    prepared: &Prepared,
    chain: Option<&mut DryChain>,
    sink: impl FnMut(LineRecord),
) -> Result<(Report, Vec<TriggeredWorkflow>), ImportError> {
    let mut per_workflow: HashMap<i64, HashSet<i64>> = HashMap::new();
    let mut sink = sink;
    let end = run(
        store,
        prepared,
        None,
        &mut sink,
        &mut |_, _| {},
        |contact, workflows| {
            for w in workflows {
                per_workflow.entry(*w).or_default().insert(contact);
            }
        },
        chain,
    )
    .await?;
    let report = Report {
        job_id: None,
        status: JobStatus::Completed,
        encoding: prepared.info.encoding,
        totals: end.totals.into(),
        notices: prepared.mapping.notices.clone(),
        reason: None,
    };
    let triggered = count_triggered(store, prepared, per_workflow).await?;
    Ok((report, triggered))
}

async fn count_triggered(
    store: &Store,
    prepared: &Prepared,
    mut per_workflow: HashMap<i64, HashSet<i64>>,
) -> Result<Vec<TriggeredWorkflow>, ImportError> {
    let fires = |w: &Workflow| match &w.trigger {
        Trigger::TagAdded(tag) => TriggerReason::TagAdded(tag.clone()),
        Trigger::ContactCreated => TriggerReason::ContactCreated,
        Trigger::Import => TriggerReason::Chosen,
    };
    let mut all: Vec<(&Workflow, TriggerReason)> = Vec::new();
    for (w, _) in &prepared.enroll.on_tag {
        all.push((w, fires(w)));
    }
    for w in &prepared.enroll.on_create {
        all.push((w, fires(w)));
    }
    if let Some(w) = &prepared.enroll.chosen {
        all.push((w, TriggerReason::Chosen));
    }
    let mut out: Vec<TriggeredWorkflow> = Vec::new();
    for (w, reason) in all {
        if out.iter().any(|t| t.workflow_id == w.id) {
            continue;
        }
        let contacts = per_workflow.remove(&w.id).unwrap_or_default();
        // Contacts that exist already may be enrolled already: those are not counted again.
        let existing: Vec<i64> = contacts.iter().copied().filter(|id| *id > 0).collect();
        let enrolled = store
            .enrolled_contacts(prepared.location.id, w.id, &existing)
            .await?
            .len();
        let count = contacts.len() as u64 - enrolled as u64;
        if count > 0 {
            out.push(TriggeredWorkflow {
                workflow_id: w.id,
                name: w.name.clone(),
                reason,
                contacts: count,
            });
        }
    }
    Ok(out)
}

/// How one pass of the import loop ended without an error.
struct RunEnd {
    /// `Some` when a pause or cancel stopped the job at a checkpoint.
    stopped: Option<AfterChunk>,
    /// What this pass did (a dry run's report; a job's totals are the job row's).
    totals: Totals,
}

/// A row as the reader thread read it: a contact's or a record's (SPEC §8), as the object's
/// schema says.
enum RowInput {
    Contact(ContactInput),
    Record(RecordInput),
    /// An opportunities import's row: its contact columns and its opportunity columns.
    Both(ContactInput, RecordInput),
}

impl RowInput {
    fn messages(&mut self) -> &mut Vec<Message> {
        match self {
            RowInput::Contact(c) => &mut c.messages,
            RowInput::Record(r) => &mut r.messages,
            RowInput::Both(c, _) => &mut c.messages,
        }
    }
}

/// One chunk of rows, read: what the object's part of the loop decides and writes.
struct ReadChunk {
    contacts: Vec<ContactInput>,
    /// Companies' and custom objects' rows, or an opportunities import's opportunity columns
    /// (one per contact, in the same order).
    records: Vec<RecordInput>,
    /// The rows' original cells by line (kept for warning and error lines).
    cells: HashMap<u64, Vec<String>>,
    blank: i64,
    checkpoint_line: u64,
}

/// What the object's part did with a chunk: one result per line in file order, the chunk's
/// totals, and a pause or cancel settled with its checkpoint.
struct ChunkDone {
    lines: Vec<LineRecord>,
    totals: Totals,
    stopped: Option<AfterChunk>,
}

/// The per-object part of the loop, chosen by the object: look the chunk's match keys up,
/// decide, build the writes, write them with the checkpoint (or, in a dry run, carry what
/// later chunks must find).
enum ObjectPart<'a, E: FnMut(i64, &[i64])> {
    Contacts(Box<ContactChunks<'a, E>>),
    Records(Box<records::RecordChunks<'a>>),
}

impl<E: FnMut(i64, &[i64])> ObjectPart<'_, E> {
    async fn chunk(&mut self, read: ReadChunk) -> Result<ChunkDone, ImportError> {
        match self {
            ObjectPart::Contacts(c) => c.chunk(read).await,
            ObjectPart::Records(r) => r.chunk(read).await,
        }
    }
}

/// The import loop: from the line after the job's checkpoint (the start for a dry run) to the
/// end of the file or a pause or cancel. `None` for `job` is a dry run, which writes nothing;
/// `enrolled(contact, workflows)` hears, per contact written, the workflows it enrolls in (ids
/// are negative for a dry run's new contacts). Finishing the job is the caller's
/// ([`drive::drive`]).
///
/// The loop is every object's: reading (a thread a chunk ahead), chunking, the line results,
/// the totals, progress and stopping at a settled pause or cancel. What differs per object —
/// reading a row into a contact or a record, the lookup, the decision and the writes — is the
/// [`ObjectPart`] the object's schema chooses.
async fn run(
    store: &Store,
    prepared: &Prepared,
    job: Option<Resume>,
    sink: &mut impl FnMut(LineRecord),
    progress: &mut impl FnMut(u64, u64),
    enrolled: impl FnMut(i64, &[i64]),
    chain: Option<&mut DryChain>,
) -> Result<RunEnd, ImportError> {
    let dry = job.is_none();
    let after_line = job.as_ref().map(|j| j.after_line).unwrap_or(0);
    let (lease, touched) = match job {
        Some(j) => (Some(j.lease), j.touched),
        None => (None, HashMap::new()),
    };
    let chunk_rows = chunk_rows();
    let mut stopped: Option<AfterChunk> = None;

    let total_lines = prepared.info.records + prepared.info.blank_rows;
    type Rows = Vec<(tabular::Row, Option<RowInput>)>;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Rows, Refusal>>(2);
    let path = prepared.request.file.clone();
    let info = prepared.info.clone();
    let uses = prepared.uses.clone();
    let row_context = prepared.row_context.clone();
    let record_schema = prepared.records.is_some().then(|| prepared.schema.clone());
    let both = prepared.opportunities.as_ref().map(|o| {
        (
            o.contact_uses.clone(),
            o.opportunity_uses.clone(),
            prepared.schema.clone(),
        )
    });
    // Reading — the file's rows, and every cell read by its field's type (pure) — runs on its
    // own thread, a chunk ahead of deciding and writing, so the two share the cores.
    let reader = tokio::task::spawn_blocking(move || {
        let mut rows = match tabular::rows_after(&path, &info, after_line) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        // Each distinct country, option, owner, tag list, date … of a column is read once.
        let mut cache = RowCache::new();
        loop {
            let mut chunk = Vec::with_capacity(chunk_rows);
            for _ in 0..chunk_rows {
                match rows.next() {
                    Some(Ok(row)) => {
                        let input = (!row.blank).then(|| match (&record_schema, &both) {
                            (_, Some((contact_uses, opportunity_uses, schema))) => RowInput::Both(
                                read_row_with(
                                    row.line,
                                    &row.cells,
                                    contact_uses,
                                    &row_context,
                                    &mut cache,
                                ),
                                RecordInput::from_read(
                                    read_record_with(
                                        row.line,
                                        &row.cells,
                                        opportunity_uses,
                                        &row_context,
                                        &mut cache,
                                    ),
                                    schema,
                                ),
                            ),
                            (None, None) => RowInput::Contact(read_row_with(
                                row.line,
                                &row.cells,
                                &uses,
                                &row_context,
                                &mut cache,
                            )),
                            (Some(schema), None) => RowInput::Record(RecordInput::from_read(
                                read_record_with(
                                    row.line,
                                    &row.cells,
                                    &uses,
                                    &row_context,
                                    &mut cache,
                                ),
                                schema,
                            )),
                        });
                        chunk.push((row, input));
                    }
                    Some(Err(e)) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                    None => break,
                }
            }
            let last = chunk.len() < chunk_rows;
            if (!chunk.is_empty() && tx.blocking_send(Ok(chunk)).is_err()) || last {
                return;
            }
        }
    });

    // A dry run's earlier chunks wrote nothing: what they decided stands in for it.
    // (Contacts carry it in a DryChain; records in their own part.)
    let mut own_chain;
    let carry: Option<&mut DryChain> = if !dry || prepared.records.is_some() {
        None
    } else {
        match chain {
            Some(chain) => Some(chain),
            None => {
                own_chain = DryChain::open()?;
                Some(&mut own_chain)
            }
        }
    };
    let mut totals = Totals::default();
    let mut done_lines = after_line.saturating_sub(1);
    let headers = prepared.headers();

    let result: Result<(), ImportError> = async {
        let mut part: ObjectPart<'_, _> = match &prepared.records {
            None => ObjectPart::Contacts(Box::new(
                ContactChunks::open(store, prepared, lease, touched, carry, enrolled)
                    .await?
                    .with_opportunities(store),
            )),
            Some(options) => ObjectPart::Records(Box::new(records::RecordChunks::new(
                store, prepared, options, lease, touched,
            ))),
        };
        let pause = chunk_pause();
        while let Some(chunk) = rx.recv().await {
            let rows = chunk?;
            let checkpoint_line = rows.last().map(|r| r.0.line).unwrap_or(0);
            done_lines += rows.len() as u64;
            let mut read = ReadChunk {
                contacts: Vec::new(),
                records: Vec::new(),
                cells: HashMap::new(),
                blank: 0,
                checkpoint_line,
            };
            for (row, input) in rows {
                let Some(mut input) = input else {
                    read.blank += 1;
                    continue;
                };
                for m in &row.messages {
                    let field = headers.get(m.column).cloned().unwrap_or_default();
                    let mut msg = Message::warning(m.code, m.message.clone(), m.resolution);
                    if !field.is_empty() {
                        msg = msg.field(field);
                    }
                    input.messages().insert(0, msg);
                }
                read.cells.insert(row.line, row.cells);
                match input {
                    RowInput::Contact(c) => read.contacts.push(c),
                    RowInput::Record(r) => read.records.push(r),
                    RowInput::Both(c, r) => {
                        read.contacts.push(c);
                        read.records.push(r);
                    }
                }
            }
            let done = part.chunk(read).await?;
            for l in done.lines {
                sink(l);
            }
            totals += done.totals;
            progress(done_lines, total_lines);
            if done.stopped.is_some() {
                stopped = done.stopped;
                break;
            }
            if let (false, Some(pause)) = (dry, pause) {
                tokio::time::sleep(pause).await;
            }
        }
        Ok(())
    }
    .await;
    drop(rx);
    let _ = reader.await;

    result.map(|()| RunEnd { stopped, totals })
}

/// The contacts' part of the loop (SPEC §6): one batched lookup by id, email and phone, then
/// `plan_chunk`, `chunk::build_chunk`, and the write through one `store::ImportSession` for
/// the whole run; a dry run carries what it decided in its [`DryChain`].
struct ContactChunks<'a, E: FnMut(i64, &[i64])> {
    prepared: &'a Prepared,
    /// One connection for the whole run: its statements are prepared once (SQLite).
    session: store::ImportSession,
    /// `None` for a dry run.
    lease: Option<Lease>,
    touched: HashMap<i64, Touched>,
    carry: Option<&'a mut DryChain>,
    enrolled: E,
    /// The fields a dry run carries from chunk to chunk: those a later line's decision reads.
    carried: Vec<&'static str>,
    /// An opportunities import's opportunity half (SPEC §7).
    opportunities: Option<opportunities::OpportunityHalf<'a>>,
}

impl<'a, E: FnMut(i64, &[i64])> ContactChunks<'a, E> {
    async fn open(
        store: &Store,
        prepared: &'a Prepared,
        lease: Option<Lease>,
        touched: HashMap<i64, Touched>,
        mut carry: Option<&'a mut DryChain>,
        enrolled: E,
    ) -> Result<ContactChunks<'a, E>, ImportError> {
        if let Some(c) = carry.as_mut() {
            c.begin_run();
        }
        Ok(ContactChunks {
            prepared,
            session: store.import_session().await?,
            lease,
            touched,
            carry,
            enrolled,
            carried: domain::object::contact_standard().carried(),
            opportunities: None,
        })
    }

    /// The contacts' part of an opportunities import: the same, with the opportunity half.
    fn with_opportunities(mut self, store: &'a Store) -> Self {
        let prepared = self.prepared;
        self.opportunities = prepared
            .opportunities
            .as_ref()
            .map(|prep| opportunities::OpportunityHalf::new(store, prep, &prepared.schema));
        self
    }

    async fn chunk(&mut self, read: ReadChunk) -> Result<ChunkDone, ImportError> {
        let prepared = self.prepared;
        let location = prepared.location.id;
        let dry = self.lease.is_none();
        let ReadChunk {
            contacts: inputs,
            records: opportunity_inputs,
            cells,
            blank,
            checkpoint_line,
        } = read;
        let mut stopped = None;
        let mut attempt = 0u32;
        let (plan, write, write_index, enroll_of, ids, chunk_totals, outcomes) = loop {
            attempt += 1;
            // One batched lookup for the whole chunk.
            let ids: Vec<i64> = inputs
                .iter()
                .filter_map(|i| i.contact_id.as_ref()?.parse().ok())
                .collect();
            let emails: Vec<String> = inputs
                .iter()
                .filter_map(|i| i.value("email").map(email_match_key))
                .collect();
            let phones: Vec<String> = inputs
                .iter()
                .filter_map(|i| i.value("phone").map(str::to_string))
                .collect();
            let found = self
                .session
                .contacts_for_matching(location, &ids, &emails, &phones)
                .await?;
            let mut snapshot: Vec<Existing> = Vec::with_capacity(found.len());
            let mut seen: HashSet<i64> = HashSet::new();
            for c in found {
                if let Some(carry) = self.carry.as_mut()
                    && let Some(carried) = carry.get(c.id)?
                {
                    seen.insert(c.id);
                    snapshot.push(carried);
                    continue;
                }
                let t = self.touched.get(&c.id).copied();
                seen.insert(c.id);
                snapshot.push(Existing {
                    id: c.id,
                    values: c.values,
                    tags: c.tags,
                    additional_emails: c.additional_emails,
                    additional_phones: c.additional_phones,
                    touched_line: t.map(|t| t.line),
                    created_by_import: t.is_some_and(|t| t.created),
                });
            }
            if let Some(carry) = self.carry.as_mut() {
                // Looked up by id, email and phone, never by walking all that was carried.
                let mut wanted: Vec<i64> = ids.clone();
                for e in &emails {
                    wanted.extend(carry.by_email(e)?);
                }
                for p in &phones {
                    wanted.extend(carry.by_phone(p)?);
                }
                for id in wanted {
                    if seen.insert(id)
                        && let Some(carried) = carry.get(id)?
                    {
                        snapshot.push(carried);
                    }
                }
            }

            let mut plan = plan_chunk(inputs.clone(), snapshot, &prepared.options);
            // An opportunities import decides its opportunities against the contacts' plan
            // and makes each line's one result before the chunk is built.
            let decided = match &self.opportunities {
                Some(half) => {
                    let snapshot = half.lookup(location, &opportunity_inputs).await?;
                    Some(half.decide(&mut plan, &inputs, opportunity_inputs.clone(), snapshot))
                }
                None => None,
            };

            let chunk::BuiltChunk {
                mut write,
                write_index,
                enroll_of,
            } = chunk::build_chunk(
                &mut plan,
                blank,
                checkpoint_line,
                &cells,
                &prepared.enroll,
                dry,
            );
            let chunk_totals = write.totals;
            if let (Some(half), Some(decided)) = (&self.opportunities, &decided) {
                half.write(decided, &mut write, &write_index);
            }

            let write = Arc::new(write);
            let mut ids: Vec<i64> = match &self.lease {
                Some(lease) => {
                    let (ids, after) =
                        match self.session.apply_import_chunk(lease, write.clone()).await {
                            Ok(done) => done,
                            // Another import took one of this chunk's emails or phones between the
                            // lookup and the write (the unique index refused it, and the chunk was
                            // rolled back): look up again and decide again, so the rows merge into
                            // that contact instead of duplicating it.
                            Err(e) if e.is_conflict() && attempt < CONFLICT_RETRIES => continue,
                            Err(e) => return Err(e.into()),
                        };
                    if after != AfterChunk::Running {
                        stopped = Some(after);
                    }
                    ids
                }
                None => write
                    .contacts
                    .iter()
                    .map(|c| {
                        c.id.unwrap_or_else(|| {
                            let chain = self.carry.as_mut().expect("a dry run has its chain");
                            chain.next_id -= 1;
                            chain.next_id + 1
                        })
                    })
                    .collect(),
            };
            // The ids are the contacts' then the opportunities'.
            let opportunity_ids = ids.split_off(write.contacts.len().min(ids.len()));
            let outcomes = match (&mut self.opportunities, &decided) {
                (Some(half), Some(decided)) => {
                    let opportunity_ids = if self.lease.is_some() {
                        opportunity_ids
                    } else {
                        half.dry_ids(&write)
                    };
                    let by_object = !half.finds_only();
                    Some((
                        opportunities::OpportunityHalf::line_outcomes(
                            decided,
                            &write,
                            &opportunity_ids,
                        ),
                        by_object,
                    ))
                }
                _ => None,
            };
            break (
                plan,
                write,
                write_index,
                enroll_of,
                ids,
                chunk_totals,
                outcomes,
            );
        };
        let mut to_carry = Vec::new();
        for (plan_i, write_i) in &write_index {
            let c = &plan.contacts[*plan_i];
            let id = ids[*write_i];
            if let Some(workflows) = enroll_of.get(write_i).filter(|w| !w.is_empty()) {
                (self.enrolled)(id, workflows);
            }
            let created = c.created_by_import;
            self.touched.insert(
                id,
                Touched {
                    line: c.touched_line.unwrap_or(c.first_line),
                    created,
                },
            );
            if self.carry.is_some() {
                // Only what later lines' decisions read is carried: identifiers, name,
                // type, fill-only fields, tags.
                let values = c
                    .values
                    .iter()
                    .filter(|(k, _)| {
                        self.carried.contains(&k.as_str())
                            || prepared.options.fill_only.contains(*k)
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                to_carry.push(carry::CarriedContact {
                    existing: Existing {
                        id,
                        values,
                        tags: c.tags.clone(),
                        additional_emails: Vec::new(),
                        additional_phones: Vec::new(),
                        touched_line: c.touched_line,
                        created_by_import: created,
                    },
                    email_key: c.values.get("email").map(|e| email_match_key(e)),
                    phone: c.values.get("phone").cloned(),
                });
            }
        }
        if let Some(carry) = self.carry.as_mut() {
            carry.put(&to_carry)?;
        }
        let lines = plan
            .lines
            .iter()
            .zip(&write.lines)
            .enumerate()
            .map(|(k, (l, w))| {
                let mut record = line_record(l, w, &ids);
                if let Some((outcomes, with_contacts)) = &outcomes {
                    let (id, action) = outcomes[k];
                    record.opportunity_id = Some(id);
                    record.opportunity_action = Some(action);
                    // Without contacts the line's record is its opportunity (SPEC §7).
                    if !with_contacts {
                        record.record_id = id;
                    }
                }
                record
            })
            .collect();
        Ok(ChunkDone {
            lines,
            totals: chunk_totals,
            stopped,
        })
    }
}

/// A decided line as the sink hears it: its written record's id (none for a dry run's new
/// records, whose ids are negative).
fn line_record(l: &engine::LineResult, w: &store::LineWrite, ids: &[i64]) -> LineRecord {
    let record_id = w.record.map(|r| match r {
        RecordRef::Id(id) => id,
        RecordRef::Written(i) => ids[i],
    });
    LineRecord {
        line: l.line,
        status: l.status,
        action: l.action,
        record_id: record_id.filter(|id| *id > 0),
        primary: l.primary.clone(),
        messages: l.messages.iter().map(LineMessage::from).collect(),
        cells: None,
        opportunity_id: None,
        opportunity_action: None,
    }
}

/// A running job whose lease holder is a dead process of this host, claimed at once.
pub(crate) async fn claim_from_dead_process(store: &Store, owner: &str) -> Option<Lease> {
    let running = store.running_jobs().await.ok()?;
    for (job, location, holder) in running {
        if let Some(holder) = holder.filter(|h| owner_is_dead(h))
            && let Ok(Some(lease)) = store.claim_job(location, job, owner, Some(&holder)).await
        {
            return Some(lease);
        }
    }
    None
}

/// The location's match order, for callers that describe it.
pub fn describe_match_order(order: MatchOrder) -> &'static str {
    match order {
        MatchOrder::EmailFirst => "email, then phone",
        MatchOrder::PhoneFirst => "phone, then email",
    }
}
