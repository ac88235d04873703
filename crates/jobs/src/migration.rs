//! Onboarding migration (SPEC §11): a location's leads file and patients file, imported leads
//! first, then patients, each as its own Bulk Action in Create & Update mode, with an email or
//! phone required on every line and Type of Contact Lead / Patient where the file gives none.
//! This module holds what the CLI's `migrate` and the API share: the request of each file,
//! and `--create-fields` (a custom field for each column that maps to nothing, its type read
//! from its values).

use std::path::{Path, PathBuf};

use domain::field::{STANDARD_CONTACT_FIELDS, default_field_key};
use domain::{CustomFieldType, ObjectKind};
use engine::infer::Inference;
use engine::presets::PresetChoice;
use engine::{ColumnUse, Mode, Target, Why};
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
    let custom: Vec<Target> = store
        .custom_fields(location.id, &ObjectKind::Contact)
        .await?
        .into_iter()
        .map(|f| Target {
            key: f.key,
            label: f.label,
            kind: f.field_type.kind(),
            options: f.options,
            custom: true,
        })
        .collect();
    let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
    let ignored: Vec<bool> = info.columns.iter().map(|c| c.ignored).collect();
    let read = domain::value::ReadContext::new(&location.settings, today)
        .map_err(|e| ImportError::Invalid(format!("the location's settings: {e}")))?;
    let value_map = Default::default();
    let req = MapRequest {
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
