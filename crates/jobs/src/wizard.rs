//! The import wizard as a service (SPEC §6.1, §6.6, §9.6): the steps between "here is a file"
//! and "here is your Bulk Action", shared by the web pages and the JSON API so both behave
//! exactly alike — and like the CLI, whose engine (`prepare`, `dry_run`, the job's stored
//! request) they call.
//!
//! The steps, each a function over a **draft** (an upload and the choices made so far, a row
//! of `import_drafts` scoped by location):
//!
//! 1. [`Upload`] / [`upload`] — streams the body into `data-dir/files/` under a generated
//!    name, refusing past the size limit while streaming (and from a declared length before a
//!    byte is read), then records the file and a new draft. The user's file name is kept only
//!    as display data ([`display_file_name`]); it never becomes a path.
//! 2. [`mapping`] — reads the file (a refused file is [`WizardError::Refused`] with its §4
//!    code; a workbook with several sheets names them, see [`WizardError::sheet_choices`] and
//!    [`set_sheet`]) and proposes the mapping: per column the header, three sample values, the
//!    automatic field and the chosen one, plus the searchable list of fields.
//! 3. [`set_mapping`] — the admin's choice per column; unmapped columns are refused
//!    ([`WizardError::Unmatched`]) unless "Don't import data in unmatched columns" is on.
//! 4. [`set_details`] — name (default `Contacts import YYYY-MM-DD HH:MM`), Smart List, mode,
//!    skip-existing-phone, don't-update-empty, tags for all, workflow.
//! 5. [`validate`] — the dry run: what would be created, updated, skipped and failed, the
//!    first problems, and the active workflows the import would trigger with their counts.
//! 6. [`submit`] — creates the import job exactly as the CLI would, but queued for the worker
//!    loop (`serve`, `worker`), which runs it from its stored request. When §6.6 says so it
//!    requires the workflow acknowledgement ([`WizardError::AcknowledgementRequired`]). An
//!    `Idempotency-Key` returns the job an earlier submit with that key made; submitting a
//!    draft twice returns its one job.
//!
//! Every function takes the [`LocationId`] it acts for and every store call filters on it, so
//! another location's draft is [`WizardError::NotFound`]. Authorisation (admins only, SPEC §2)
//! is the caller's: the web's `AdminUser` extractor, the API's key.
//!
//! ```ignore
//! let mut up = wizard::Upload::begin(&files, content_length, wizard::MAX_UPLOAD_BYTES).await?;
//! while let Some(chunk) = body.next().await { up.write(&chunk?).await?; }
//! let draft = up.finish(&store, location, Some(user), "patients.csv").await?;
//! let view = wizard::mapping(&store, &files, location, draft).await?;
//! wizard::set_mapping(&store, &files, location, draft, columns, true).await?;
//! wizard::set_details(&store, location, draft, details).await?;
//! let checked = wizard::validate(&store, &files, location, draft).await?;
//! let job = wizard::submit(&store, &files, location, Some(user), draft,
//!     &wizard::SubmitOptions { acknowledge_workflows: true, idempotency_key: None }).await?;
//! ```

use filestore::FileStore;
use std::path::PathBuf;

use domain::DateOrder;
use domain::ObjectKind;
use domain::field::FieldKind;
use engine::mapping::fit::ScanResult;
use engine::presets::{PRESETS, PresetChoice};
use engine::{ColumnUse, Mode, Target};
use serde::{Deserialize, Serialize};
use store::{LocationId, Store, StoreError, UserId};
use tabular::{FileInfo, ReadOptions, Refusal};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::import::{ImportError, ImportRequest, TriggeredWorkflow};
use crate::mapping::{ColumnOrder, MapRequest, Notice};
use domain::job::{LineAction, LineMessage, LineRecord, LineStatus};

/// The largest file an import accepts (SPEC §4: 30,000,000 bytes).
pub const MAX_UPLOAD_BYTES: u64 = tabular::DEFAULT_MAX_FILE_BYTES;

/// How many sample values the mapping step shows per column.
pub const SAMPLES_PER_COLUMN: usize = 3;

/// How many problem lines a validation keeps to show.
pub const FIRST_PROBLEMS: usize = 20;

/// Why a wizard step did not happen. Every message is for the person using the wizard: what
/// is wrong and how to fix it; [`WizardError::code`] is stable for the API.
#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    /// `file.too_large`: refused before it was stored (from its declared length, or while
    /// streaming it).
    #[error(
        "The file is larger than {} bytes (30 MB), the limit. Split it into smaller files, each with the header row (aesthetix split FILE), and import them one by one.",
        thousands(*limit)
    )]
    TooLarge { limit: u64 },
    /// A file refused by SPEC §4, with its code.
    #[error("{0}")]
    Refused(FileRefusal),
    /// `mapping.unmatched`: columns without a field while "Don't import data in unmatched
    /// columns" is off. Holds the headers.
    #[error(
        "{} not matched to a field: {}. Choose a field for each, or check “Don't import data in unmatched columns” to leave them out.",
        if .0.len() == 1 { "This column is" } else { "These columns are" },
        .0.join(", ")
    )]
    Unmatched(Vec<String>),
    /// A choice that cannot be used (an unknown field, a field chosen twice, an unknown
    /// workflow…), with its code.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// `workflows.acknowledgement_required` (SPEC §6.6): the import would enroll contacts in
    /// active workflows; submit again acknowledging it (or suppress tag triggers).
    #[error("{}", acknowledgement_message(.0))]
    AcknowledgementRequired(Vec<TriggeredWorkflow>),
    /// `import.submitted`: the draft became a job already; its choices no longer change.
    #[error(
        "This import was submitted already (Bulk Action {0}). Start a new import to change anything."
    )]
    Submitted(i64),
    /// `not_found`: no such draft in this location.
    #[error("{0}")]
    NotFound(String),
    /// `storage.error`: the file store failed (a full disk, permissions).
    #[error("the file store failed: {0}")]
    Io(#[from] std::io::Error),
    /// `database.error`
    #[error("{0}")]
    Store(StoreError),
}

fn acknowledgement_message(triggered: &[TriggeredWorkflow]) -> String {
    let list: Vec<String> = triggered
        .iter()
        .map(|t| format!("{} ({} contacts, {})", t.name, t.contacts, t.reason))
        .collect();
    format!(
        "This import would enroll contacts in active workflows, which may send them messages: {}. Confirm that you want this, or turn on “suppress tag triggers”.",
        list.join("; ")
    )
}

impl WizardError {
    /// A stable code: the file refusal's own (`file.too_large`, `xlsx.several_sheets`, …) or
    /// the kind of problem.
    pub fn code(&self) -> &'static str {
        match self {
            WizardError::TooLarge { .. } => "file.too_large",
            WizardError::Refused(r) => r.code.0,
            WizardError::Unmatched(_) => "mapping.unmatched",
            WizardError::Invalid { code, .. } => code,
            WizardError::AcknowledgementRequired(_) => "workflows.acknowledgement_required",
            WizardError::Submitted(_) => "import.submitted",
            WizardError::NotFound(_) => "not_found",
            WizardError::Io(_) => "storage.error",
            WizardError::Store(_) => "database.error",
        }
    }

    /// Whether the server failed (rather than the request or the file being wrong).
    pub fn is_server_error(&self) -> bool {
        matches!(self, WizardError::Io(_) | WizardError::Store(_))
            || matches!(self, WizardError::Refused(r) if r.io)
    }

    /// A workbook with several sheets: their names, for a sheet picker.
    pub fn sheet_choices(&self) -> Option<&[String]> {
        match self {
            WizardError::Refused(r) if !r.sheets.is_empty() => Some(&r.sheets),
            _ => None,
        }
    }

    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        WizardError::Invalid {
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for WizardError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => {
                WizardError::NotFound(format!("{what} was not found in this location"))
            }
            other => WizardError::Store(other),
        }
    }
}

impl From<ImportError> for WizardError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Refused(r) => WizardError::Refused(r.into()),
            ImportError::Mapping(m) => WizardError::invalid("mapping.invalid", m.to_string()),
            ImportError::Columns { error, .. } => {
                WizardError::invalid("mapping.invalid", error.to_string())
            }
            ImportError::Invalid(m) => WizardError::invalid("import.invalid", m),
            ImportError::Store(s) => s.into(),
        }
    }
}

/// A file refused by SPEC §4, as the wizard keeps it with its draft: the refusal's stable
/// code and message, and a workbook's sheets when the refusal is that one must be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FileRefusal {
    pub code: RefusalCode,
    pub message: String,
    /// The sheets to choose from (`xlsx.several_sheets`), else empty.
    pub sheets: Vec<String>,
    /// The file could not be read at all (a server failure, never kept with the draft).
    #[serde(skip)]
    pub io: bool,
}

impl From<Refusal> for FileRefusal {
    fn from(r: Refusal) -> Self {
        let sheets = match &r {
            Refusal::SeveralSheets { names } => names.clone(),
            _ => Vec::new(),
        };
        FileRefusal {
            code: RefusalCode(r.code()),
            message: r.to_string(),
            sheets,
            io: r.is_io(),
        }
    }
}

/// One of `tabular`'s stable refusal codes. A stored one that is not (written by another
/// version) fails to read, and the file is read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalCode(pub &'static str);

impl Serialize for RefusalCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for RefusalCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Refusal::CODES
            .iter()
            .copied()
            .find(|c| *c == code)
            .map(RefusalCode)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown refusal code {code}")))
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The draft's choices.

/// The details step (SPEC §6.1): everything about the import besides the mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Details {
    /// The import's name; `None` gives `Contacts import YYYY-MM-DD HH:MM`.
    pub name: Option<String>,
    /// Create a Smart List of the contacts this import creates or updates.
    pub smart_list: bool,
    /// `create` (the default), `upsert` or `update` (SPEC §6.3).
    pub mode: String,
    pub skip_existing_phone: bool,
    pub no_update_empty: bool,
    /// Tags added to every imported contact, each as given.
    pub tags: Vec<String>,
    /// A workflow (by name) to enroll every contact the import creates or updates in.
    pub workflow: Option<String>,
    /// Add the tags without triggering tag-added workflows (SPEC §6.6).
    pub suppress_tag_triggers: bool,
}

impl Default for Details {
    fn default() -> Self {
        Details {
            name: None,
            smart_list: false,
            mode: Mode::Create.token().to_string(),
            skip_existing_phone: false,
            no_update_empty: false,
            tags: Vec::new(),
            workflow: None,
            suppress_tag_triggers: false,
        }
    }
}

/// Everything chosen for a draft so far, stored as its settings JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DraftSettings {
    /// The workbook sheet to read.
    pub sheet: Option<String>,
    /// Per column of the file, the field key it feeds (`None`: not imported). `None` until a
    /// mapping is saved: the automatic mapping applies.
    pub columns: Option<Vec<Option<String>>>,
    /// "Don't import data in unmatched columns".
    pub skip_unmapped: bool,
    /// `(field key, file value, option)`: option values mapped by hand (SPEC §6.1).
    pub map_values: Vec<(String, String, String)>,
    /// Columns (by header) written only where the contact's field is blank (SPEC §6.5).
    pub fill_only: Vec<String>,
    pub details: Details,
    /// The last validation, with the settings it ran on.
    pub validated: Option<Validation>,
    /// What reading the file found, for the sheet it was read with (SPEC §13.2: a draft's
    /// file is read once per step, never once per request). Not a choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection: Option<Inspection>,
    /// The option fields' unmatched values, for the mapping they were counted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option_scan: Option<option_values::OptionScan>,
    /// The exporter's preset (SPEC §11): `None` detects it, `none`, or a preset's key.
    pub preset: Option<String>,
    /// The saved template applied: its name and its columns (kept here, so the draft does
    /// not change if the template does).
    pub template: Option<crate::templates::AppliedTemplate>,
    /// The day/month order chosen beside a date column (by header, SPEC §5.3).
    pub date_orders: Vec<(String, DateOrder)>,
    /// Whether the details step was saved: its mode is then the admin's, not a preset's.
    pub details_saved: bool,
    /// A migration's file (SPEC §11): `(field key, value)` for lines whose file gives none
    /// (Type of Contact Lead or Patient), and an email or phone required on every line.
    pub line_defaults: Vec<(String, String)>,
    pub require_identifier: bool,
    /// What the file's values said about the mapping (SPEC §5.3, §6.1), for the questions it
    /// was asked (its key). Not a choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_scan: Option<(String, ScanResult)>,
    /// The object the file's rows are (SPEC §8: one object per import); contacts unless the
    /// first step chose another.
    pub object: ObjectKind,
    /// The unique field that finds existing records when several are mapped (SPEC §8's
    /// dedupe field); `None`: the first mapped one in the object's field order.
    pub dedupe: Option<String>,
}

/// What inspecting a draft's file found: enough to show the mapping step without reading the
/// file again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// The sheet asked for when the file was read (`None`: the only one).
    pub sheet_asked: Option<String>,
    pub found: Result<FileSummary, FileRefusal>,
}

/// A readable file, as the mapping step shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub encoding: String,
    pub sheet: Option<String>,
    pub records: u64,
    pub columns: Vec<ColumnSummary>,
}

/// One column of a readable file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSummary {
    pub header: String,
    /// A fully blank column.
    pub ignored: bool,
    /// Up to [`SAMPLES_PER_COLUMN`] values from the first rows.
    pub samples: Vec<String>,
}

impl FileSummary {
    fn of(info: &FileInfo) -> Self {
        FileSummary {
            encoding: info.encoding.to_string(),
            sheet: info.sheet.clone(),
            records: info.records,
            columns: info
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| ColumnSummary {
                    header: c.header.clone(),
                    ignored: c.ignored,
                    samples: samples(info, i),
                })
                .collect(),
        }
    }
}

impl DraftSettings {
    /// The choices that decide what an import does, as one string: a validation holds for
    /// the settings it was run on only.
    fn fingerprint(&self) -> String {
        let mut s = self.clone();
        s.validated = None;
        s.inspection = None;
        s.option_scan = None;
        s.values_scan = None;
        serde_json::to_string(&s).expect("settings serialise")
    }
}

fn read_settings(json: &str) -> Result<DraftSettings, WizardError> {
    serde_json::from_str(json).map_err(|e| {
        WizardError::Store(StoreError::Corrupt(format!(
            "the settings of an import draft: {e}"
        )))
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Upload.

/// An upload being streamed into the file store ([`filestore::Writer`]: a local partial file
/// renamed at the end, or an S3 multipart upload completed at the end). Dropped before
/// [`Upload::finish`], nothing of it stays.
pub struct Upload {
    files: FileStore,
    stored_name: String,
    writer: Option<filestore::Writer>,
    written: u64,
    limit: u64,
}

impl Upload {
    /// Starts an upload of at most `limit` bytes. A `declared` length (Content-Length) over
    /// the limit is refused at once, before anything is read or written.
    pub async fn begin(
        files: &FileStore,
        declared: Option<u64>,
        limit: u64,
    ) -> Result<Upload, WizardError> {
        if declared.is_some_and(|n| n > limit) {
            return Err(WizardError::TooLarge { limit });
        }
        let stored_name = generated_name();
        let writer = files.create(&stored_name).await.map_err(io_error)?;
        Ok(Upload {
            files: files.clone(),
            stored_name,
            writer: Some(writer),
            written: 0,
            limit,
        })
    }

    /// Appends a piece of the body; past the limit the upload is refused and what was
    /// written is removed (the limit is enforced while streaming, on both stores).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), WizardError> {
        self.written += chunk.len() as u64;
        if self.written > self.limit {
            self.discard().await;
            return Err(WizardError::TooLarge { limit: self.limit });
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the upload was closed"))?;
        if let Err(e) = writer.write(chunk).await {
            self.discard().await;
            return Err(io_error(e).into());
        }
        Ok(())
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.written
    }

    /// Completes the upload: the file becomes visible under its generated name, is recorded
    /// with `original_name` (display only), and a draft is started over it. Returns the
    /// draft's id.
    pub async fn finish(
        mut self,
        store: &Store,
        location: LocationId,
        user: Option<UserId>,
        original_name: &str,
    ) -> Result<i64, WizardError> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| std::io::Error::other("the upload was closed"))?;
        writer.finish().await.map_err(io_error)?;
        let recorded = async {
            let f = store
                .create_file(
                    location,
                    "upload",
                    &display_file_name(original_name),
                    &self.stored_name,
                    self.written as i64,
                )
                .await?;
            let settings = serde_json::to_string(&DraftSettings::default()).expect("serialise");
            store
                .create_import_draft(location, user, f.id, &settings)
                .await
        }
        .await;
        match recorded {
            Ok(draft) => Ok(draft),
            Err(e) => {
                let _ = self.files.delete(&self.stored_name).await;
                Err(e.into())
            }
        }
    }

    async fn discard(&mut self) {
        if let Some(w) = self.writer.take() {
            w.abort().await;
        }
    }
}

fn io_error(e: filestore::FileError) -> std::io::Error {
    e.into()
}

/// Streams `body` into the file store ([`Upload`]) and starts a draft over it. `declared` is
/// the body's announced length, if any.
pub async fn upload(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    user: Option<UserId>,
    original_name: &str,
    declared: Option<u64>,
    mut body: impl AsyncRead + Unpin,
) -> Result<i64, WizardError> {
    let mut up = Upload::begin(files, declared, MAX_UPLOAD_BYTES).await?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = body.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        up.write(&buf[..n]).await?;
    }
    up.finish(store, location, user, original_name).await
}

/// `aesthetix split 'my contacts.csv'`: the command that splits the user's own file (SPEC
/// §11), quoted for a shell when it needs it.
pub fn split_command(file: &str) -> String {
    let plain = !file.is_empty()
        && file
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./+,@%=:".contains(c));
    if plain {
        format!("aesthetix split {file}")
    } else {
        format!("aesthetix split '{}'", file.replace('\'', "'\\''"))
    }
}

/// A refusal's message with `aesthetix split FILE` naming the user's file, when known (the
/// 30 MB refusal, SPEC §11).
pub fn naming_file(message: &str, file: Option<&str>) -> String {
    match file.map(display_file_name).filter(|f| !f.is_empty()) {
        Some(f) => message.replace("aesthetix split FILE", &split_command(&f)),
        None => message.to_string(),
    }
}

/// A name for a stored file: time and randomness, nothing of the user's.
fn generated_name() -> String {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).expect("the operating system provides random bytes");
    let hex: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    format!("upload-{}-{hex}", jiff::Timestamp::now().as_millisecond())
}

/// The name an uploaded file is shown by: the last part of what the browser or client sent
/// (never a path), without control or bidirectional-override characters (so a name cannot
/// break a header or disguise its extension), at most 200 characters; `upload` when nothing
/// is left.
pub fn display_file_name(given: &str) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or(given);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(200)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "upload".to_string()
    } else {
        cleaned.to_string()
    }
}

/// Unicode's bidirectional controls (the right-to-left override among them), which can make
/// `gpj.exe` read as `exe.jpg`: kept out of every file name shown or sent.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

// ---------------------------------------------------------------------------------------------
// 2. The file and its proposed mapping.

/// A field a column can be mapped to, for the searchable list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChoice {
    pub key: String,
    pub label: String,
    /// What kind of value it holds, in words (`phone`, `date`, `single option`…).
    pub kind: &'static str,
    pub custom: bool,
    /// The import cannot run without a column mapped to it (SPEC §8: a primary or required
    /// field).
    pub required: bool,
    /// Its values are unique among the object's records (SPEC §8): it can find them.
    pub unique: bool,
}

/// An object a file can be imported into (SPEC §8: one object per import), as the first step
/// offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectChoice {
    /// The object's stored form (`contact`, `company`, `custom:KEY`): what a form posts, the
    /// API takes and Bulk Actions shows.
    pub key: String,
    /// What the admin calls it: `Contacts`, `Companies`, a custom object's name.
    pub name: String,
}

/// The objects the wizard imports into, in the order it offers them: Contacts, Companies,
/// then the location's custom objects in the order they were made. (Another object joins the
/// wizard by a line here, once `import::prepare` takes it.)
pub async fn object_choices(
    store: &Store,
    location: LocationId,
) -> Result<Vec<ObjectChoice>, WizardError> {
    let mut out = vec![
        ObjectChoice {
            key: ObjectKind::Contact.as_stored(),
            name: "Contacts".into(),
        },
        ObjectChoice {
            key: ObjectKind::Company.as_stored(),
            name: "Companies".into(),
        },
    ];
    for o in store.custom_objects(location).await? {
        out.push(ObjectChoice {
            key: ObjectKind::Custom(o.def.key.clone()).as_stored(),
            name: o.def.name,
        });
    }
    Ok(out)
}

/// Reads the object a request names — its stored form (`contact`, `company`,
/// `custom:KEY`), `contacts` / `companies`, or a custom object's bare key as the CLI's
/// `--object KEY` takes it — and checks the location has it (`import.object`, naming the
/// objects it has, when not).
pub async fn parse_object(
    store: &Store,
    location: LocationId,
    given: &str,
) -> Result<ObjectKind, WizardError> {
    let given = given.trim();
    let choices = object_choices(store, location).await?;
    let lower = given.to_lowercase();
    let wanted = match lower.as_str() {
        "contact" | "contacts" => Some(ObjectKind::Contact),
        "company" | "companies" => Some(ObjectKind::Company),
        _ => ObjectKind::from_stored(given)
            .filter(|o| matches!(o, ObjectKind::Custom(_)))
            .or_else(|| Some(ObjectKind::Custom(given.to_string()))),
    };
    match wanted {
        Some(o) if choices.iter().any(|c| c.key == o.as_stored()) => Ok(o),
        _ => Err(WizardError::invalid(
            "import.object",
            format!(
                "“{given}” is not an object of this location that a file can be imported into. Choose one of: {}.",
                choices
                    .iter()
                    .map(|c| format!("{} ({})", c.name, c.key))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The schema of the object a draft imports into, and its fields as the mapping takes them:
/// the standard ones (contacts': with what their synonyms need) and the custom ones. An
/// object the location no longer has is `import.object`.
pub(crate) async fn object_targets(
    store: &Store,
    location: LocationId,
    object: &ObjectKind,
) -> Result<(domain::ObjectSchema, Vec<Target>, Vec<Target>), WizardError> {
    let schema = match store.object_schema(location, object).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => {
            return Err(WizardError::invalid("import.object", e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let custom: Vec<Target> = schema
        .fields
        .iter()
        .filter(|f| f.custom)
        .map(Target::of)
        .collect();
    let standard: Vec<Target> = if *object == ObjectKind::Contact {
        engine::mapping::contact_targets().to_vec()
    } else {
        schema
            .fields
            .iter()
            .filter(|f| !f.custom)
            .map(Target::of)
            .collect()
    };
    Ok((schema, standard, custom))
}

/// One column of the file in the mapping step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnView {
    /// 0-based position in the file.
    pub index: usize,
    /// The header cell (blank for a blank-headed column).
    pub header: String,
    /// Up to three non-blank values from the first rows.
    pub samples: Vec<String>,
    /// The field the header maps to automatically (SPEC §6.1).
    pub auto: Option<String>,
    /// The field chosen now (the automatic one until a mapping is saved).
    pub chosen: Option<String>,
    /// A fully blank column (no header, no value): neither mapped nor unmatched.
    pub blank: bool,
    /// Why the column maps to its automatic field, or why it is not imported ("synonym",
    /// "preset Google Contacts", "its values (Active) are not options of Status"…).
    pub why: String,
    /// For a part of a date given in three columns: `year`, `month` or `day`.
    pub part: Option<String>,
    /// Neither mapped nor unmatched: a column an error log adds (SPEC §9.3), ignored by name.
    pub skipped: bool,
    /// A date column: the order its dates are read in, and why.
    pub date_order: Option<ColumnOrder>,
    /// The column's `date.order_from_file` notice, when its values chose the order.
    pub notice: Option<String>,
}

/// A preset as the mapping step names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresetInfo {
    pub key: &'static str,
    pub name: &'static str,
    /// "Looks like a Google Contacts export".
    pub looks_like: String,
}

impl PresetInfo {
    fn of(p: &engine::Preset) -> PresetInfo {
        PresetInfo {
            key: p.key,
            name: p.name,
            looks_like: p.looks_like(),
        }
    }
}

/// The mapping step: the file as read, its columns, and the fields to choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappingView {
    pub draft_id: i64,
    /// The user's name for the file (display only).
    pub file_name: String,
    pub size_bytes: i64,
    /// The encoding SPEC §4 chose, or `xlsx`.
    pub encoding: String,
    pub sheet: Option<String>,
    /// Non-blank record rows.
    pub records: u64,
    pub columns: Vec<ColumnView>,
    pub fields: Vec<FieldChoice>,
    pub skip_unmapped: bool,
    /// The job, once the draft was submitted.
    pub job_id: Option<i64>,
    /// The exporter the header row looks like (SPEC §11), whatever was chosen.
    pub detected: Option<PresetInfo>,
    /// The preset the mapping uses.
    pub preset: Option<PresetInfo>,
    /// The choice: `None` (detect), `none`, or a preset's key.
    pub preset_choice: Option<String>,
    /// Every built-in preset, to choose another.
    pub presets: Vec<PresetInfo>,
    /// The saved template applied, and the location's templates to pick from.
    pub template: Option<String>,
    pub templates: Vec<String>,
    /// Column notices (SPEC §5.3 `date.order_from_file`).
    pub notices: Vec<Notice>,
    /// The object the rows are imported into, and the objects to choose from (SPEC §8).
    pub object: ObjectChoice,
    pub objects: Vec<ObjectChoice>,
    /// What must be mapped before the import can go on (SPEC §8: the primary field, a custom
    /// object's required fields; in Update mode Record ID or a unique field), each with
    /// whether it is.
    pub required: Vec<domain::object::Requirement>,
    /// The mapped unique fields, in field order, when there are several: the admin chooses
    /// which finds existing records (SPEC §8). Empty otherwise.
    pub dedupe_choices: Vec<FieldChoice>,
    /// The dedupe field in use: the admin's choice, else the first mapped unique field.
    pub dedupe: Option<String>,
}

impl MappingView {
    /// Whether the rows are contacts (presets, templates and fill-only apply to them only).
    pub fn is_contacts(&self) -> bool {
        self.object.key == ObjectKind::Contact.as_stored()
    }

    /// The labels of what must be mapped and is not.
    pub fn required_unmapped(&self) -> Vec<String> {
        self.required
            .iter()
            .filter(|r| !r.mapped)
            .map(|r| r.label.clone())
            .collect()
    }
}

impl MappingView {
    /// Columns that hold data but feed no field.
    pub fn unmatched(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| !c.blank && !c.skipped && c.chosen.is_none())
            .map(column_name)
            .collect()
    }
}

fn column_name(c: &ColumnView) -> String {
    if c.header.is_empty() {
        format!("(blank header, column {})", c.index + 1)
    } else {
        format!("“{}”", c.header)
    }
}

fn kind_words(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Id => "record id",
        FieldKind::Text => "text",
        FieldKind::LargeText => "large text",
        FieldKind::Number => "number",
        FieldKind::Monetary => "money",
        FieldKind::Date => "date",
        FieldKind::SingleOption => "single option",
        FieldKind::Radio => "radio",
        FieldKind::MultiSelect => "multi-select",
        FieldKind::Checkbox => "checkbox",
        FieldKind::TextboxList => "textbox list",
        FieldKind::Phone => "phone",
        FieldKind::Email => "email",
        FieldKind::PhoneList => "phone list",
        FieldKind::EmailList => "email list",
        FieldKind::Boolean => "yes / no",
        FieldKind::User => "user",
        FieldKind::Tags => "tags",
        FieldKind::Country => "country",
        FieldKind::TimeZone => "time zone",
        FieldKind::FileUpload => "file upload",
        FieldKind::Signature => "signature",
    }
}

fn importable(kind: FieldKind) -> bool {
    !matches!(kind, FieldKind::FileUpload | FieldKind::Signature)
}

/// The location's custom contact fields, as the mapping takes them.
pub(crate) async fn custom_targets(
    store: &Store,
    location: LocationId,
) -> Result<Vec<Target>, StoreError> {
    Ok(store
        .custom_fields(location, &ObjectKind::Contact)
        .await?
        .into_iter()
        .map(|f| Target {
            key: f.key,
            label: f.label,
            kind: f.field_type.kind(),
            options: f.options,
            custom: true,
        })
        .collect())
}

/// Every field a column can feed: the object's standard fields (SPEC §3, §8), then the
/// location's custom fields of it (files and signatures cannot be imported, SPEC §5.14).
fn field_choices(schema: &domain::ObjectSchema) -> Vec<FieldChoice> {
    schema
        .fields
        .iter()
        .filter(|f| importable(f.kind))
        .map(|f| FieldChoice {
            kind: kind_words(f.kind),
            key: f.key.clone(),
            label: f.label.clone(),
            custom: f.custom,
            required: f.required,
            unique: f.unique,
        })
        .collect()
}

/// What must be mapped (SPEC §8) with `chosen` as the columns' fields, in `mode`.
fn requirements(
    schema: &domain::ObjectSchema,
    mode: &str,
    chosen: &[Option<String>],
) -> Vec<domain::object::Requirement> {
    if schema.object == ObjectKind::Contact {
        return Vec::new();
    }
    let update = Mode::parse_user(mode).is_ok_and(|m| m == Mode::Update);
    schema.import_requirements(update, |k| chosen.iter().flatten().any(|c| c == k))
}

/// `mapping.required`: what must be mapped and is not, named by label (SPEC §8).
fn required_unmapped_error(object: &str, missing: &[String]) -> WizardError {
    WizardError::invalid(
        "mapping.required",
        format!(
            "An import of {object} needs a column mapped to {}: {}. Choose a column for {}.",
            if missing.len() == 1 {
                "this field"
            } else {
                "each of these fields"
            },
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "each" }
        ),
    )
}

/// The draft's stored file, on this machine's disk (for S3, a local copy).
async fn stored_path(files: &FileStore, stored_name: &str) -> Result<PathBuf, WizardError> {
    Ok(files.local_copy(stored_name).await.map_err(io_error)?)
}

/// How many files the wizard reads at once, whoever asks: reading a workbook holds its shared
/// strings (at most the inflated-size cap, held compactly) and a core, so a burst of uploads
/// waits its turn instead of multiplying the peak (SPEC §13.2).
static READING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn inspect(path: PathBuf, sheet: Option<String>) -> Result<FileInfo, WizardError> {
    let opts = ReadOptions {
        sheet,
        max_file_bytes: MAX_UPLOAD_BYTES,
        ..ReadOptions::default()
    };
    let _turn = READING
        .acquire()
        .await
        .map_err(|e| std::io::Error::other(format!("reading the file stopped: {e}")))?;
    tokio::task::spawn_blocking(move || tabular::inspect(&path, &opts))
        .await
        .map_err(|e| std::io::Error::other(format!("reading the file stopped: {e}")))?
        .map_err(|r| WizardError::Refused(r.into()))
}

/// What the draft's file holds, read once and kept with the draft: the kept inspection when it
/// was made for the sheet now chosen, else the file is read and the result kept (a refusal
/// too; a failure to read it at all is not kept).
async fn inspected(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft: &store::ImportDraft,
    settings: &mut DraftSettings,
) -> Result<FileSummary, WizardError> {
    if let Some(kept) = &settings.inspection
        && kept.sheet_asked == settings.sheet
    {
        return kept.found.clone().map_err(WizardError::Refused);
    }
    let found = match inspect(
        stored_path(files, &draft.file.stored_name).await?,
        settings.sheet.clone(),
    )
    .await
    {
        Ok(info) => Ok(FileSummary::of(&info)),
        Err(WizardError::Refused(r)) if !r.io => Err(r),
        Err(e) => return Err(e),
    };
    settings.inspection = Some(Inspection {
        sheet_asked: settings.sheet.clone(),
        found: found.clone(),
    });
    if draft.job_id.is_none() {
        match save(store, location, draft.id, settings).await {
            Ok(()) | Err(WizardError::Submitted(_)) => {}
            Err(e) => return Err(e),
        }
    }
    found.map_err(WizardError::Refused)
}

fn samples(info: &FileInfo, column: usize) -> Vec<String> {
    info.sample
        .iter()
        .filter_map(|row| row.cells.get(column))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .take(SAMPLES_PER_COLUMN)
        .map(|v| {
            if v.chars().count() > 80 {
                format!("{}…", v.chars().take(80).collect::<String>())
            } else {
                v.to_string()
            }
        })
        .collect()
}

/// Reads the draft's file and proposes its mapping (step 2). A refused file is
/// [`WizardError::Refused`]; a workbook with several sheets and none chosen is refused with
/// their names ([`WizardError::sheet_choices`]).
pub async fn mapping(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft_id: i64,
) -> Result<MappingView, WizardError> {
    let draft = store.import_draft(location, draft_id).await?;
    let mut settings = read_settings(&draft.settings)?;
    let info = inspected(store, files, location, &draft, &mut settings).await?;
    let (schema, standard, custom) = object_targets(store, location, &settings.object).await?;
    let loc = store.location(location).await?;
    let auto = auto_mapping(
        store,
        files,
        location,
        &draft,
        &mut settings,
        &info,
        (&standard, &custom),
        &loc,
    )
    .await?;
    let templates = store
        .templates(location)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let chosen = match &settings.columns {
        Some(c) if c.len() == info.columns.len() => c.clone(),
        _ => auto
            .plans
            .iter()
            .map(|p| match &p.used {
                ColumnUse::Field(t) if importable(t.kind) => Some(t.key.clone()),
                ColumnUse::DatePart(t, _) => Some(t.key.clone()),
                _ => None,
            })
            .collect(),
    };
    let columns = info
        .columns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let plan = &auto.plans[i];
            let (auto_key, part) = match &plan.used {
                ColumnUse::Field(t) if importable(t.kind) => (Some(t.key.clone()), None),
                ColumnUse::DatePart(t, part) => {
                    (Some(t.key.clone()), Some(part.words().to_string()))
                }
                _ => (None, None),
            };
            let skipped = !c.ignored && plan.used == ColumnUse::Ignored;
            let notice = auto
                .notices
                .iter()
                .find(|n| n.column == c.header)
                .map(|n| n.message.clone());
            ColumnView {
                index: i,
                chosen: if c.ignored || skipped {
                    None
                } else {
                    chosen[i].clone()
                },
                blank: c.ignored,
                why: plan.why.words(),
                part,
                skipped,
                date_order: auto.orders.get(&i).copied(),
                notice,
                header: c.header,
                samples: c.samples,
                auto: auto_key,
            }
        })
        .collect::<Vec<ColumnView>>();
    let chosen: Vec<Option<String>> = columns.iter().map(|c| c.chosen.clone()).collect();
    let fields = field_choices(&schema);
    let is_mapped = |k: &str| chosen.iter().flatten().any(|c| c == k);
    let mapped_unique: Vec<FieldChoice> = fields
        .iter()
        .filter(|f| f.unique && is_mapped(&f.key))
        .cloned()
        .collect();
    let dedupe = settings
        .dedupe
        .clone()
        .filter(|k| *k == schema.id_field || mapped_unique.iter().any(|f| f.key == *k))
        .or_else(|| mapped_unique.first().map(|f| f.key.clone()));
    let objects = object_choices(store, location).await?;
    let object = objects
        .iter()
        .find(|o| o.key == settings.object.as_stored())
        .cloned()
        .unwrap_or_else(|| ObjectChoice {
            key: settings.object.as_stored(),
            name: schema.name.clone(),
        });
    Ok(MappingView {
        required: requirements(&schema, &settings.details.mode, &chosen),
        dedupe_choices: if mapped_unique.len() > 1 {
            mapped_unique
        } else {
            Vec::new()
        },
        dedupe,
        object,
        objects,
        draft_id,
        file_name: draft.file.download_name,
        size_bytes: draft.file.size_bytes,
        encoding: info.encoding,
        sheet: info.sheet,
        records: info.records,
        columns,
        fields,
        skip_unmapped: settings.skip_unmapped,
        job_id: draft.job_id,
        detected: auto.detected.map(PresetInfo::of),
        preset: auto.preset.map(PresetInfo::of),
        preset_choice: settings.preset.clone(),
        presets: PRESETS.iter().map(PresetInfo::of).collect(),
        template: settings.template.as_ref().map(|(n, _)| n.clone()),
        templates,
        notices: auto.notices,
    })
}

/// The automatic mapping of the draft's file (SPEC §6.1, §11): by name, synonyms, the preset
/// and the template, checked against the values, each date column's order. The pass over the
/// values is kept with the draft for the questions it answered, so the file is read again
/// only when they change (another template, preset, custom field or value mapping).
#[allow(clippy::too_many_arguments)]
async fn auto_mapping(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft: &store::ImportDraft,
    settings: &mut DraftSettings,
    info: &FileSummary,
    (standard, custom): (&[Target], &[Target]),
    loc: &store::Location,
) -> Result<crate::mapping::FileMapping, WizardError> {
    let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
    let ignored: Vec<bool> = info.columns.iter().map(|c| c.ignored).collect();
    let mut value_map: std::collections::HashMap<
        String,
        std::collections::HashMap<String, String>,
    > = std::collections::HashMap::new();
    for (key, from, to) in &settings.map_values {
        value_map
            .entry(key.clone())
            .or_default()
            .insert(from.trim().to_lowercase(), to.clone());
    }
    // Exporters' presets describe contact files.
    let preset = if settings.object == ObjectKind::Contact {
        PresetChoice::parse(settings.preset.as_deref()).unwrap_or(PresetChoice::Detect)
    } else {
        PresetChoice::None
    };
    let template = settings
        .template
        .as_ref()
        .map(|(n, c)| (n.as_str(), c.as_slice()));
    let req = MapRequest {
        standard,
        headers: &headers,
        ignored: &ignored,
        custom,
        preset,
        template,
        overrides: &[],
        value_map: &value_map,
        date_order: None,
        column_date_orders: &settings.date_orders,
    };
    let key = crate::mapping::scan_key(&req).map_err(ImportError::from)?;
    let read = domain::value::ReadContext::new(&loc.settings, today(loc)).map_err(|e| {
        WizardError::invalid(
            "location.settings",
            format!("The location's settings cannot be used to read values: {e}"),
        )
    })?;
    let known = settings
        .values_scan
        .as_ref()
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.clone());
    // Nothing to ask the values (no option or date column): the file is not read again.
    let nothing_to_read = crate::mapping::propose(&req)
        .map(|(_, _, scan)| scan.is_empty())
        .map_err(ImportError::from)?;
    let known = known.or_else(|| nothing_to_read.then(ScanResult::default));
    let fresh = known.is_none();
    let (mapping, values) = if fresh {
        // The values are read from the file: inspected again (its rows are not kept with the
        // draft), within the same limit on files read at once.
        let path = stored_path(files, &draft.file.stored_name).await?;
        let file = inspect(path.clone(), settings.sheet.clone()).await?;
        let _turn = READING
            .acquire()
            .await
            .map_err(|e| std::io::Error::other(format!("reading the file stopped: {e}")))?;
        crate::mapping::map_file(&path, &file, &req, &read, None).await?
    } else {
        let values = known.unwrap_or_default();
        let mapping =
            crate::mapping::map_known(&req, read.date_order, &values).map_err(ImportError::from)?;
        (mapping, values)
    };
    if fresh && draft.job_id.is_none() {
        settings.values_scan = Some((key, values));
        match save(store, location, draft.id, settings).await {
            Ok(()) | Err(WizardError::Submitted(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(mapping)
}

async fn save(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    settings: &DraftSettings,
) -> Result<(), WizardError> {
    let json = serde_json::to_string(settings).expect("settings serialise");
    match store.update_import_draft(location, draft_id, &json).await {
        Err(StoreError::Conflict(_)) => {
            let job = store.import_draft(location, draft_id).await?.job_id;
            Err(WizardError::Submitted(job.unwrap_or_default()))
        }
        other => Ok(other?),
    }
}

async fn load(
    store: &Store,
    location: LocationId,
    draft_id: i64,
) -> Result<(store::ImportDraft, DraftSettings), WizardError> {
    let draft = store.import_draft(location, draft_id).await?;
    if let Some(job) = draft.job_id {
        return Err(WizardError::Submitted(job));
    }
    let settings = read_settings(&draft.settings)?;
    Ok((draft, settings))
}

/// Chooses the workbook sheet to read (`None`: the only one). The mapping starts again from
/// the automatic one, since the columns change with the sheet.
pub async fn set_sheet(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    sheet: Option<String>,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    settings.sheet = sheet
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    settings.columns = None;
    settings.inspection = None;
    settings.option_scan = None;
    settings.values_scan = None;
    save(store, location, draft_id, &settings).await
}

/// Chooses the object the file's rows are imported into (SPEC §8; the first step). Another
/// object than the draft's starts the mapping again from the automatic one against its fields,
/// and drops what belonged to the other: value mappings, fill-only columns, the template, the
/// dedupe field, and the options only contacts have (tags, workflow, Smart List).
pub async fn set_object(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    object: ObjectKind,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    // Checked against the location's objects (and named in words when it has no such one).
    object_targets(store, location, &object).await?;
    if settings.object == object {
        return Ok(());
    }
    settings.object = object;
    settings.columns = None;
    settings.option_scan = None;
    settings.values_scan = None;
    settings.map_values.clear();
    settings.fill_only.clear();
    settings.template = None;
    settings.dedupe = None;
    settings.validated = None;
    let d = &mut settings.details;
    d.tags.clear();
    d.workflow = None;
    d.smart_list = false;
    d.skip_existing_phone = false;
    d.suppress_tag_triggers = false;
    save(store, location, draft_id, &settings).await
}

/// Chooses the dedupe field (SPEC §8: which mapped unique field finds existing records, or
/// `record_id` for Record ID alone); `None` goes back to the first mapped unique field. A
/// key that is not a unique field of the draft's object is `mapping.dedupe`, naming the
/// ones it has; whether a column feeds it is checked with the mapping ([`set_mapping`]).
pub async fn set_dedupe(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    dedupe: Option<String>,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    let dedupe = dedupe
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if let Some(k) = &dedupe {
        let (schema, _, _) = object_targets(store, location, &settings.object).await?;
        let ok = *k == schema.id_field || schema.field(k).is_some_and(|f| f.unique);
        if !ok {
            let known: Vec<String> = schema
                .field(&schema.id_field)
                .into_iter()
                .chain(schema.unique())
                .map(|f| format!("{} ({})", f.label, f.key))
                .collect();
            return Err(WizardError::invalid(
                "mapping.dedupe",
                format!(
                    "“{k}” is not a unique field of {}, so it cannot find existing records. Choose one of: {}.",
                    schema.name,
                    known.join(", ")
                ),
            ));
        }
    }
    settings.dedupe = dedupe;
    save(store, location, draft_id, &settings).await
}

/// Saves the admin's mapping (step 3): per column of the file, in order, the key of the field
/// it feeds or `None`. A field may feed from one column only; files and signatures cannot be
/// imported. The choice is saved even when columns are left unmatched, but then, unless
/// `skip_unmapped` ("Don't import data in unmatched columns"), it answers
/// [`WizardError::Unmatched`] naming them: the import cannot go on.
pub async fn set_mapping(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft_id: i64,
    columns: Vec<Option<String>>,
    skip_unmapped: bool,
) -> Result<(), WizardError> {
    // The view first: reading the file keeps what it found with the draft, which the
    // settings loaded after it then carry.
    let view = mapping(store, files, location, draft_id).await?;
    let (_, mut settings) = load(store, location, draft_id).await?;
    if columns.len() != view.columns.len() {
        return Err(WizardError::invalid(
            "mapping.invalid",
            format!(
                "The file has {} columns but a choice was given for {}. Choose a field (or none) for each column.",
                view.columns.len(),
                columns.len()
            ),
        ));
    }
    let mut chosen: Vec<Option<String>> = Vec::with_capacity(columns.len());
    let mut taken: Vec<(String, usize)> = Vec::new();
    for (i, choice) in columns.into_iter().enumerate() {
        let col = &view.columns[i];
        let choice = choice
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        let Some(key) = choice.filter(|_| !col.blank && !col.skipped) else {
            chosen.push(None);
            continue;
        };
        let Some(field) = view.fields.iter().find(|f| f.key == key) else {
            return Err(WizardError::invalid(
                "mapping.unknown_field",
                format!(
                    "The column {} is mapped to “{key}”, which is not a field of this location. Choose a field from the list.",
                    column_name(col)
                ),
            ));
        };
        // Tags and the additional values take several columns (SPEC §6.1), and a date's three
        // parts one each.
        let several = engine::mapping::MULTI_COLUMN_FIELDS.contains(&key.as_str())
            || (col.part.is_some() && col.auto.as_deref() == Some(key.as_str()));
        if let Some((_, first)) = taken.iter().find(|(k, _)| *k == key).filter(|_| !several) {
            return Err(WizardError::invalid(
                "mapping.field_twice",
                format!(
                    "{} is chosen for two columns, {} and {}. A field can be filled from one column only: change one of them.",
                    field.label,
                    column_name(&view.columns[*first]),
                    column_name(col)
                ),
            ));
        }
        taken.push((key.clone(), i));
        chosen.push(Some(key));
    }
    if taken.is_empty() {
        return Err(WizardError::invalid(
            "mapping.nothing_mapped",
            "No column is matched to a field. Choose a field for at least one column (such as First Name, Email or Phone).",
        ));
    }
    settings.columns = Some(chosen.clone());
    settings.skip_unmapped = skip_unmapped;
    save(store, location, draft_id, &settings).await?;
    // What the object needs (SPEC §8), and the dedupe field fed by a column.
    let (schema, _, _) = object_targets(store, location, &settings.object).await?;
    let missing: Vec<String> = requirements(&schema, &settings.details.mode, &chosen)
        .into_iter()
        .filter(|r| !r.mapped)
        .map(|r| r.label)
        .collect();
    if !missing.is_empty() {
        return Err(required_unmapped_error(&schema.name, &missing));
    }
    if let Some(k) = settings.dedupe.as_deref()
        && k != schema.id_field
        && !chosen.iter().flatten().any(|c| c == k)
    {
        let label = schema.label(k).unwrap_or(k);
        return Err(WizardError::invalid(
            "mapping.dedupe",
            format!(
                "{label} is chosen to find existing records, but no column is mapped to it. Map a column to {label}, or choose another field to find records by."
            ),
        ));
    }
    let unmatched: Vec<String> = view
        .columns
        .iter()
        .zip(&chosen)
        .filter(|(c, k)| !c.blank && !c.skipped && k.is_none())
        .map(|(c, _)| column_name(c))
        .collect();
    if !unmatched.is_empty() && !skip_unmapped {
        return Err(WizardError::Unmatched(unmatched));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 4. Details.

/// The details step: the choices so far, the default name, and the workflows to choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailsView {
    pub details: Details,
    /// What the file's preset does besides mapping (SPEC §11: Vagaro's and Nextech's
    /// settings), in words.
    pub preset_note: Option<String>,
    /// The name the import gets when none is given.
    pub default_name: String,
    /// The location's workflows by name, with their status (`active`, `paused`, `draft`).
    pub workflows: Vec<(String, String)>,
    /// The name of the object imported into (`Contacts`, `Companies`, …), and whether it is
    /// contacts: tags, workflows, the Smart List and phone matching are theirs only.
    pub object: String,
    pub contacts: bool,
}

fn time_zone(location: &store::Location) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// What a preset does besides mapping, in words (none for most).
fn preset_note(p: &engine::Preset) -> Option<String> {
    let s = p.settings;
    let mut parts = Vec::new();
    if let Some(kind) = s.contact_type {
        parts.push(format!(
            "sets Type of Contact to {kind} on every line whose file gives none"
        ));
    }
    if !s.tags.is_empty() {
        parts.push(format!("adds the tags {}", s.tags.join(" and ")));
    }
    if let Some(mode) = s.mode {
        parts.push(format!(
            "imports in {} mode unless you choose another",
            mode_words(mode)
        ));
    }
    if s.no_update_empty == Some(false) {
        parts.push("lets blank cells clear values (don't update empty values off)".into());
    }
    (!parts.is_empty()).then(|| format!("The {} preset {}.", p.name, parts.join(", ")))
}

fn mode_words(mode: Mode) -> &'static str {
    match mode {
        Mode::Create => "Add New",
        Mode::Upsert => "Add New and Update Existing",
        Mode::Update => "Update Existing",
    }
}

/// Makes the draft one file of an onboarding migration (SPEC §11): Create & Update, an email
/// or phone required on every line, its list's Type of Contact where the file gives none,
/// the migration's tags, workflow and "don't import unmatched columns".
pub async fn set_migration(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    list: crate::migration::List,
    options: &crate::migration::MigrationOptions,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    settings.line_defaults = vec![("contact_type".into(), list.contact_type().into())];
    settings.require_identifier = true;
    settings.skip_unmapped = options.skip_unmapped;
    settings.details.mode = Mode::Upsert.token().to_string();
    settings.details_saved = true;
    settings.details.tags = options.tags.clone();
    settings.details.workflow = options.workflow.clone();
    save(store, location, draft_id, &settings).await
}

/// The import a draft makes, as the engine takes it (a dry run when `dry_run`), its columns
/// without a field left out by name — whatever "don't import data in unmatched columns" says:
/// the engine's own check then decides (a migration leaves out the columns it makes fields
/// for).
pub async fn import_request(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft_id: i64,
    dry_run: bool,
) -> Result<ImportRequest, WizardError> {
    mapping(store, files, location, draft_id).await?;
    let (draft, mut settings) = load(store, location, draft_id).await?;
    let skip = settings.skip_unmapped;
    settings.skip_unmapped = true;
    let mut req = request(store, files, location, None, &draft, &settings, dry_run).await?;
    req.skip_unmapped = skip;
    Ok(req)
}

/// Chooses the exporter's preset (SPEC §11): `None` detects it from the header row, `none`
/// uses none, or a preset's key or name. The mapping starts again from the automatic one.
pub async fn set_preset(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    choice: Option<String>,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    let choice = PresetChoice::parse(choice.as_deref().filter(|c| !c.trim().is_empty()))
        .map_err(|e| WizardError::invalid("mapping.preset", e.replace("--preset ", "")))?;
    settings.preset = choice.token().map(str::to_string);
    settings.columns = None;
    settings.option_scan = None;
    save(store, location, draft_id, &settings).await
}

/// Applies a saved template (SPEC §11) — its mapping by header, value mappings, fill-only
/// columns, mode and options, tags, workflow, preset and date orders — or, with `None`, stops
/// using one. The mapping starts again from the automatic one, the template's included.
pub async fn set_template(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    name: Option<String>,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    settings.columns = None;
    settings.option_scan = None;
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        settings.template = None;
        return save(store, location, draft_id, &settings).await;
    };
    let t = crate::templates::load(store, location, &name)
        .await
        .map_err(|e| match e {
            crate::templates::TemplateError::Invalid(m) => {
                WizardError::invalid("mapping.template", m)
            }
            crate::templates::TemplateError::Store(s) => s.into(),
        })?;
    settings.template = Some((name, t.columns.clone()));
    settings.map_values = t.map_values.clone();
    settings.fill_only = t.fill_only.clone();
    settings.skip_unmapped = t.skip_unmapped;
    if t.preset.is_some() {
        settings.preset = t.preset.clone();
    }
    settings.date_orders = t.column_date_orders.clone();
    let d = &mut settings.details;
    if let Some(mode) = &t.mode {
        d.mode = mode.clone();
        settings.details_saved = true;
    }
    d.no_update_empty = t.no_update_empty;
    d.skip_existing_phone = t.skip_existing_phone;
    d.suppress_tag_triggers = t.suppress_tag_triggers;
    d.tags = t.tags.clone();
    d.workflow = t.workflow.clone();
    save(store, location, draft_id, &settings).await
}

/// The order chosen beside each date column (SPEC §5.3), by header: `None` lets the values
/// (else the location) decide.
pub async fn set_date_orders(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    orders: Vec<(String, Option<DateOrder>)>,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    settings.date_orders = orders
        .into_iter()
        .filter_map(|(h, o)| Some((h, o?)))
        .collect();
    save(store, location, draft_id, &settings).await
}

/// The columns (by header) whose values are written only where the contact's field is blank
/// (SPEC §6.5, the CLI's `--fill-only`), chosen beside each column on the mapping step.
pub async fn set_fill_only(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    headers: Vec<String>,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    settings.fill_only = headers;
    save(store, location, draft_id, &settings).await
}

/// Saves the draft's choices as a template of the location (the details step's "Save these
/// choices as a template"): its columns as mapped, value mappings, fill-only columns, mode and
/// options, tags, workflow, preset and date orders. Returns whether a template of that name
/// was replaced.
pub async fn save_as_template(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft_id: i64,
    name: &str,
) -> Result<bool, WizardError> {
    let view = mapping(store, files, location, draft_id).await?;
    let settings = settings(store, location, draft_id).await?;
    let d = &settings.details;
    let choices = crate::templates::Choices {
        columns: view
            .columns
            .iter()
            .filter(|c| !c.blank && !c.skipped && !c.header.is_empty() && c.part.is_none())
            .map(|c| (c.header.clone(), c.chosen.clone()))
            .collect(),
        map_values: settings.map_values.clone(),
        fill_only: settings.fill_only.clone(),
        mode: Some(d.mode.clone()),
        skip_unmapped: settings.skip_unmapped,
        no_update_empty: d.no_update_empty,
        skip_existing_phone: d.skip_existing_phone,
        tags: d.tags.clone(),
        workflow: d.workflow.clone(),
        suppress_tag_triggers: d.suppress_tag_triggers,
        preset: settings.preset.clone(),
        date_order: None,
        column_date_orders: settings.date_orders.clone(),
    };
    crate::templates::save(store, location, name, &choices, None)
        .await
        .map_err(|e| match e {
            crate::templates::TemplateError::Invalid(m) => {
                WizardError::invalid("details.template", m)
            }
            crate::templates::TemplateError::Store(s) => s.into(),
        })
}

/// The details step's choices and what it offers.
pub async fn details(
    store: &Store,
    location: LocationId,
    draft_id: i64,
) -> Result<DetailsView, WizardError> {
    let draft = store.import_draft(location, draft_id).await?;
    let settings = read_settings(&draft.settings)?;
    let loc = store.location(location).await?;
    let workflows = store
        .workflows(location)
        .await?
        .into_iter()
        .map(|w| (w.workflow.name, w.workflow.status.to_string()))
        .collect();
    let preset = settings
        .inspection
        .as_ref()
        .and_then(|i| i.found.as_ref().ok())
        .and_then(|f| {
            let headers: Vec<String> = f.columns.iter().map(|c| c.header.clone()).collect();
            PresetChoice::parse(settings.preset.as_deref())
                .unwrap_or(PresetChoice::Detect)
                .resolve(&headers)
        });
    let mut details = settings.details;
    if let (Some(p), false) = (preset, settings.details_saved)
        && let Some(mode) = p.settings.mode
    {
        details.mode = mode.token().to_string();
    }
    let object = match object_targets(store, location, &settings.object).await {
        Ok((schema, _, _)) => schema.name,
        Err(_) => "Contacts".to_string(),
    };
    Ok(DetailsView {
        preset_note: preset.and_then(preset_note),
        details,
        default_name: crate::import::default_import_name_of(&object, &time_zone(&loc)),
        workflows,
        contacts: settings.object == ObjectKind::Contact,
        object,
    })
}

/// Saves the details step (step 4): the mode must be `create`, `upsert` or `update`, the
/// workflow one of the location's; a blank name means the default; tags are trimmed, blank
/// ones dropped.
pub async fn set_details(
    store: &Store,
    location: LocationId,
    draft_id: i64,
    details: Details,
) -> Result<(), WizardError> {
    let (_, mut settings) = load(store, location, draft_id).await?;
    let mode: Mode = details.mode.trim().parse().map_err(|_| {
        WizardError::invalid(
            "details.mode",
            format!(
                "“{}” is not an import mode. Choose Add New (create), Add New and Update Existing (upsert) or Update Existing (update).",
                details.mode
            ),
        )
    })?;
    let name = details
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(WizardError::invalid(
            "details.name",
            "The import name is longer than 200 characters. Shorten it.",
        ));
    }
    let mut tags: Vec<String> = Vec::new();
    for t in details.tags {
        let t = t.trim().to_string();
        if !t.is_empty() && !tags.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
            tags.push(t);
        }
    }
    let workflow = details
        .workflow
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty());
    if let Some(w) = &workflow {
        match store.workflow_by_name(location, w).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {
                return Err(WizardError::invalid(
                    "details.workflow",
                    format!(
                        "There is no workflow named “{w}” in this location. Choose one from the list, or none."
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if settings.object != ObjectKind::Contact {
        let given: Vec<&str> = [
            (!tags.is_empty(), "tags"),
            (workflow.is_some(), "a workflow"),
            (details.smart_list, "a Smart List"),
            (details.skip_existing_phone, "skipping existing phones"),
            (details.suppress_tag_triggers, "suppressing tag triggers"),
        ]
        .into_iter()
        .filter_map(|(on, what)| on.then_some(what))
        .collect();
        if !given.is_empty() {
            let (schema, _, _) = object_targets(store, location, &settings.object).await?;
            return Err(WizardError::invalid(
                "details.contacts_only",
                format!(
                    "Only an import of contacts takes {}. An import of {} takes a name, the mode and “don't update empty values”: leave the others out.",
                    given.join(", "),
                    schema.name
                ),
            ));
        }
    }
    settings.details_saved = true;
    settings.details = Details {
        name,
        smart_list: details.smart_list,
        mode: mode.token().to_string(),
        skip_existing_phone: details.skip_existing_phone,
        no_update_empty: details.no_update_empty,
        tags,
        workflow,
        suppress_tag_triggers: details.suppress_tag_triggers,
    };
    save(store, location, draft_id, &settings).await
}

// ---------------------------------------------------------------------------------------------
// 5. Validate.

/// A line of the dry run that is not a plain success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub line: u64,
    /// Warning or error.
    pub status: LineStatus,
    pub action: LineAction,
    pub primary: Option<String>,
    pub messages: Vec<LineMessage>,
}

impl From<&LineRecord> for Problem {
    fn from(l: &LineRecord) -> Self {
        Problem {
            line: l.line,
            status: l.status,
            action: l.action,
            primary: l.primary.clone(),
            messages: l.messages.clone(),
        }
    }
}

/// What the dry run found (SPEC §6.1 "validate first"): exactly what a real run would do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Lines created or updated with warnings (also counted under their action).
    pub warnings: i64,
    pub blank: i64,
    /// The encoding SPEC §4 chose, or `xlsx`.
    pub encoding: String,
    /// The first warning and error lines, in file order.
    pub first_problems: Vec<Problem>,
    /// Active workflows the import would enroll contacts in, with how many (SPEC §6.6).
    pub triggered: Vec<TriggeredWorkflow>,
    /// When it ran (ms since the epoch).
    pub at: i64,
    /// The settings it ran on.
    fingerprint: String,
}

impl Validation {
    /// Whether submitting needs the workflow acknowledgement (SPEC §6.6).
    pub fn needs_acknowledgement(&self) -> bool {
        !self.triggered.is_empty()
    }

    /// Existing contacts the import would update: each has its email verification reset to
    /// `unverified` (SPEC §6.5), which the details step warns about.
    pub fn verification_resets(&self) -> i64 {
        self.updated
    }
}

/// The import as the engine takes it, from the draft.
async fn request(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    user: Option<UserId>,
    draft: &store::ImportDraft,
    settings: &DraftSettings,
    dry_run: bool,
) -> Result<ImportRequest, WizardError> {
    let view = mapping(store, files, location, draft.id).await?;
    let missing = view.required_unmapped();
    if !missing.is_empty() {
        return Err(required_unmapped_error(&view.object.name, &missing));
    }
    let unmatched = view.unmatched();
    if !unmatched.is_empty() && !settings.skip_unmapped {
        return Err(WizardError::Unmatched(unmatched));
    }
    // Every column the admin decided on is an explicit choice; a column without a field is
    // left out (the check above is where "unmatched" is decided). A part of a date in three
    // columns, kept as proposed, is left to the preset that proposed it.
    let map: Vec<(String, Option<String>)> = view
        .columns
        .iter()
        .filter(|c| !c.blank && !c.skipped && !c.header.is_empty())
        .filter(|c| !(c.part.is_some() && c.chosen == c.auto))
        .map(|c| (c.header.clone(), c.chosen.clone()))
        .collect();
    let path = stored_path(files, &draft.file.stored_name).await?;
    let d = &settings.details;
    // What only contacts have stays out of another object's request (its details step does
    // not offer it).
    let contacts = settings.object == ObjectKind::Contact;
    let only_contacts = |v: Vec<String>| if contacts { v } else { Vec::new() };
    Ok(ImportRequest {
        location: Some(store.location(location).await?),
        file: path,
        stored_name: Some(draft.file.stored_name.clone()),
        file_name: draft.file.download_name.clone(),
        name: d.name.clone(),
        sheet: settings.sheet.clone(),
        max_file_bytes: Some(MAX_UPLOAD_BYTES),
        mode: Mode::parse_user(&d.mode).map_err(|e| WizardError::invalid("details.mode", e))?,
        map,
        skip_unmapped: settings.skip_unmapped,
        map_values: settings.map_values.clone(),
        fill_only: only_contacts(settings.fill_only.clone()),
        tags: only_contacts(d.tags.clone()),
        no_update_empty: d.no_update_empty,
        skip_existing_phone: contacts && d.skip_existing_phone,
        dry_run,
        created_by: user,
        workflow: d.workflow.clone().filter(|_| contacts),
        suppress_tag_triggers: d.suppress_tag_triggers,
        mode_given: settings.details_saved,
        preset: settings.preset.clone(),
        template_mapping: settings.template.clone(),
        column_date_orders: settings.date_orders.clone(),
        line_defaults: settings.line_defaults.clone(),
        require_identifier: settings.require_identifier,
        object: settings.object.clone(),
        dedupe: view.dedupe.clone(),
        ..ImportRequest::default()
    })
}

fn today(location: &store::Location) -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(time_zone(location))
        .date()
}

/// Runs the dry run (step 5) over the whole file against current data, writing nothing but
/// its result on the draft, and returns it.
pub async fn validate(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft_id: i64,
) -> Result<Validation, WizardError> {
    // Read (or recall) the file before loading the settings this saves, so they carry it.
    mapping(store, files, location, draft_id).await?;
    let (draft, mut settings) = load(store, location, draft_id).await?;
    let req = request(store, files, location, None, &draft, &settings, true).await?;
    let today = today(req.location.as_ref().expect("set above"));
    let prepared = crate::import::prepare(store, req, today).await?;
    let mut first_problems = Vec::new();
    let (report, triggered) = crate::import::dry_run(store, &prepared, |line| {
        if first_problems.len() < FIRST_PROBLEMS && line.status != engine::LineStatus::Success {
            first_problems.push(Problem::from(&line));
        }
    })
    .await?;
    let t = report.totals;
    let validation = Validation {
        rows: t.rows,
        created: t.created,
        updated: t.updated,
        skipped: t.skipped,
        failed: t.errors,
        warnings: t.warnings,
        blank: t.blank,
        encoding: report.encoding.to_string(),
        first_problems,
        triggered,
        at: store::now_ms(),
        fingerprint: settings.fingerprint(),
    };
    settings.validated = Some(validation.clone());
    save(store, location, draft_id, &settings).await?;
    Ok(validation)
}

/// The draft's last validation, when it still holds for the draft's settings.
pub async fn last_validation(
    store: &Store,
    location: LocationId,
    draft_id: i64,
) -> Result<Option<Validation>, WizardError> {
    let draft = store.import_draft(location, draft_id).await?;
    let settings = read_settings(&draft.settings)?;
    let fingerprint = settings.fingerprint();
    Ok(settings.validated.filter(|v| v.fingerprint == fingerprint))
}

/// The draft's choices as saved.
pub async fn settings(
    store: &Store,
    location: LocationId,
    draft_id: i64,
) -> Result<DraftSettings, WizardError> {
    let draft = store.import_draft(location, draft_id).await?;
    read_settings(&draft.settings)
}

// ---------------------------------------------------------------------------------------------
// 6. Submit.

/// How a draft is submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitOptions {
    /// The admin confirmed enrolling contacts in the workflows the import triggers (SPEC §6.6).
    pub acknowledge_workflows: bool,
    /// SPEC §9.6: a submit with a key the location used before returns that job.
    pub idempotency_key: Option<String>,
}

/// What a submit did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submitted {
    pub job_id: i64,
    /// False when the job existed already (the draft was submitted before, or the
    /// Idempotency-Key was used before).
    pub created: bool,
    /// The Smart List made from this import, when asked for.
    pub smart_list: Option<String>,
}

impl From<crate::import::submit::SubmitError> for WizardError {
    fn from(e: crate::import::submit::SubmitError) -> Self {
        use crate::import::submit::SubmitError;
        match e {
            SubmitError::KeyTooLong => {
                WizardError::invalid("request.idempotency_key", e.to_string())
            }
            SubmitError::AcknowledgementRequired(t) => WizardError::AcknowledgementRequired(t),
            SubmitError::Import(i) => i.into(),
        }
    }
}

/// Submits the draft (step 6) through the one front door every import takes
/// ([`crate::import::submit::submit`]): the job is created exactly as the CLI's (same request,
/// same options), queued for the worker loop, which runs it in the background. The key is
/// looked up first, before the file is read; the workflows the import triggers (SPEC §6.6)
/// are the draft's validation's when it still holds, else counted now.
pub async fn submit(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    user: Option<UserId>,
    draft_id: i64,
    options: &SubmitOptions,
) -> Result<Submitted, WizardError> {
    let key = options.idempotency_key.as_deref();
    if let Some(job_id) = crate::import::submit::job_for_key(store, location, key).await? {
        return Ok(Submitted {
            job_id,
            created: false,
            smart_list: None,
        });
    }
    let draft = store.import_draft(location, draft_id).await?;
    if let Some(job) = draft.job_id {
        return Ok(Submitted {
            job_id: job,
            created: false,
            smart_list: None,
        });
    }
    let settings = read_settings(&draft.settings)?;
    let req = request(store, files, location, user, &draft, &settings, false).await?;
    let today = today(req.location.as_ref().expect("set above"));
    let prepared = crate::import::prepare(store, req, today).await?;
    let fingerprint = settings.fingerprint();
    let triggered = settings
        .validated
        .as_ref()
        .filter(|v| v.fingerprint == fingerprint)
        .map(|v| v.triggered.clone());
    let submitted = crate::import::submit::submit(
        store,
        &prepared,
        &crate::import::submit::SubmitOptions {
            acknowledge_workflows: options.acknowledge_workflows,
            idempotency_key: options.idempotency_key.clone(),
            smart_list: settings.details.smart_list,
        },
        triggered,
        crate::import::submit::Queue::Draft(draft_id),
    )
    .await?;
    Ok(Submitted {
        job_id: submitted.job_id,
        created: submitted.created,
        smart_list: submitted.smart_list,
    })
}

mod option_values;
pub use option_values::{
    MAX_VALUES_PER_FIELD, OptionField, UnmatchedValue, ValueChoice, option_values,
    set_option_values,
};

#[cfg(test)]
mod tests;
