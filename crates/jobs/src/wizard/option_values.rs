//! The values of option fields (SPEC §6.1, beyond the reference): for each column mapped to an
//! option field (single option, radio, multi-select, checkbox, Type of Contact, Status), the
//! distinct file values that match no option, with how many rows hold each, and the option
//! the admin mapped each to. A mapped value then reads as its option in the import (the
//! engine's `value_map`, the CLI's `--map-value 'field_key:File value=Option'`); a value left
//! alone gives its line an `option.unknown` warning as before.
//!
//! Values are compared as the engine looks them up: trimmed and in lower case, so `botox
//! consult` and `Botox Consult ` are one value (shown by its first spelling in the file).

use std::collections::HashMap;
use std::path::Path;

use domain::field::FieldKind;
use domain::value::{Outcome, read_multi_option, read_single_option};
use engine::Target;
use filestore::FileStore;
use serde::{Deserialize, Serialize};
use store::{LocationId, Store};

use super::{
    WizardError, inspect, load, mapping, object_targets, read_settings, save, stored_path,
};

/// At most this many distinct unmatched values are listed per field; the rest are counted.
pub const MAX_VALUES_PER_FIELD: usize = 200;

/// One option field fed by a column of the file, and its values that match no option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionField {
    pub field_key: String,
    pub label: String,
    /// The header of the column that feeds it.
    pub column: String,
    pub options: Vec<String>,
    /// Distinct values matching no option, most frequent first (then in file order).
    pub values: Vec<UnmatchedValue>,
    /// Distinct unmatched values beyond [`MAX_VALUES_PER_FIELD`], not listed.
    pub more: u64,
}

/// A file value that matches no option of its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedValue {
    /// As first spelled in the file (trimmed).
    pub value: String,
    /// Rows holding it.
    pub rows: u64,
    /// The option it is mapped to, if the admin chose one.
    pub mapped_to: Option<String>,
}

/// The admin's choice for one value: map it to `option`, or (`None`) leave it unmapped.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ValueChoice {
    pub field_key: String,
    pub value: String,
    pub option: Option<String>,
}

fn is_option_kind(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::SingleOption | FieldKind::Radio | FieldKind::MultiSelect | FieldKind::Checkbox
    )
}

/// Whether `raw` (trimmed, not blank) reads as the field's options without a warning.
fn matches(kind: FieldKind, raw: &str, options: &[String]) -> bool {
    match kind {
        FieldKind::SingleOption | FieldKind::Radio => {
            let read = read_single_option(raw, options);
            matches!(read.outcome, Outcome::Value(_)) && read.messages.is_empty()
        }
        _ => {
            let read = read_multi_option(raw, options);
            matches!(read.outcome, Outcome::Value(_)) && read.messages.is_empty()
        }
    }
}

/// The option fields the draft's mapping feeds, with their unmatched values (one pass over
/// the file, on a blocking thread; memory bounded by the listed values).
pub async fn option_values(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft_id: i64,
) -> Result<Vec<OptionField>, WizardError> {
    let view = mapping(store, files, location, draft_id).await?;
    let draft = store.import_draft(location, draft_id).await?;
    let mut settings = read_settings(&draft.settings)?;
    let (_, standard, custom) = object_targets(store, location, &settings.object).await?;
    let target = |key: &str| -> Option<Target> {
        standard
            .iter()
            .chain(custom.iter())
            .find(|t| t.key == key)
            .cloned()
    };
    // (column index, field) for every column mapped to an option field.
    let fields: Vec<(usize, Target)> = view
        .columns
        .iter()
        .filter_map(|c| {
            let t = target(c.chosen.as_deref()?)?;
            (is_option_kind(t.kind) && !t.options.is_empty()).then_some((c.index, t))
        })
        .collect();
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    // The count depends on which columns feed which options: kept with the draft for that,
    // so showing the step again does not read the file again (SPEC §13.2).
    let scanned_for = serde_json::to_string(
        &fields
            .iter()
            .map(|(i, t)| (i, &t.key, &t.options))
            .collect::<Vec<_>>(),
    )
    .expect("fields serialise");
    let counted = match &settings.option_scan {
        Some(kept) if kept.fields == scanned_for => kept.counted.clone(),
        _ => {
            let path = stored_path(files, &draft.file.stored_name).await?;
            let info = inspect(path.clone(), settings.sheet.clone()).await?;
            let scan_fields = fields.clone();
            let counted = tokio::task::spawn_blocking(move || scan(&path, &info, &scan_fields))
                .await
                .map_err(|e| std::io::Error::other(format!("reading the file stopped: {e}")))??;
            settings.option_scan = Some(OptionScan {
                fields: scanned_for,
                counted: counted.clone(),
            });
            if draft.job_id.is_none() {
                match save(store, location, draft_id, &settings).await {
                    Ok(()) | Err(WizardError::Submitted(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            counted
        }
    };
    let mapped: HashMap<(String, String), String> = settings
        .map_values
        .iter()
        .map(|(k, from, to)| ((k.clone(), from.trim().to_lowercase()), to.clone()))
        .collect();
    Ok(fields
        .into_iter()
        .zip(counted)
        .map(|((index, t), (values, more))| OptionField {
            column: view.columns[index].header.clone(),
            values: values
                .into_iter()
                .map(|(value, rows)| UnmatchedValue {
                    mapped_to: mapped.get(&(t.key.clone(), value.to_lowercase())).cloned(),
                    value,
                    rows,
                })
                .collect(),
            more,
            field_key: t.key,
            label: t.label,
            options: t.options,
        })
        .collect())
}

/// Per field: the listed (value, rows) most frequent first, and how many more distinct values
/// there were.
type Counted = Vec<(Vec<(String, u64)>, u64)>;

/// The unmatched values counted over the whole file, kept with the draft for the columns and
/// options they were counted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionScan {
    /// The fields counted, as `(column, field key, options)` in JSON.
    fields: String,
    counted: Counted,
}

fn scan(
    path: &Path,
    info: &tabular::FileInfo,
    fields: &[(usize, Target)],
) -> Result<Counted, WizardError> {
    // Per field: lower-cased value → (first spelling, rows, order first seen).
    let mut seen: Vec<HashMap<String, (String, u64, usize)>> = vec![HashMap::new(); fields.len()];
    let mut more: Vec<HashMap<String, ()>> = vec![HashMap::new(); fields.len()];
    let refused = |r: tabular::Refusal| WizardError::Refused(r.into());
    for row in tabular::rows(path, info).map_err(refused)? {
        let row = row.map_err(refused)?;
        if row.blank {
            continue;
        }
        for (i, (index, t)) in fields.iter().enumerate() {
            let raw = row
                .cells
                .get(*index)
                .map(|c| domain::value::trim(c))
                .unwrap_or("");
            if raw.is_empty() || matches(t.kind, raw, &t.options) {
                continue;
            }
            let key = raw.to_lowercase();
            let order = seen[i].len();
            if let Some(entry) = seen[i].get_mut(&key) {
                entry.1 += 1;
            } else if seen[i].len() < MAX_VALUES_PER_FIELD {
                seen[i].insert(key, (raw.to_string(), 1, order));
            } else if more[i].len() < 100_000 {
                more[i].insert(key, ());
            }
        }
    }
    Ok(seen
        .into_iter()
        .zip(more)
        .map(|(values, more)| {
            let mut values: Vec<(String, u64, usize)> = values.into_values().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
            (
                values.into_iter().map(|(v, n, _)| (v, n)).collect(),
                more.len() as u64,
            )
        })
        .collect())
}

/// Saves the admin's choices for unmatched values: each is mapped to an option of its field
/// (spelled as the option is) or, with `option: None`, no longer mapped. The field must be one
/// the draft's mapping feeds and the option one of its options.
pub async fn set_option_values(
    store: &Store,
    files: &FileStore,
    location: LocationId,
    draft_id: i64,
    choices: Vec<ValueChoice>,
) -> Result<(), WizardError> {
    let view = mapping(store, files, location, draft_id).await?;
    let (_, mut settings) = load(store, location, draft_id).await?;
    let (_, standard, custom) = object_targets(store, location, &settings.object).await?;
    for choice in choices {
        let key = choice.field_key.trim();
        let fed = view
            .columns
            .iter()
            .any(|c| c.chosen.as_deref() == Some(key));
        let target = standard
            .iter()
            .chain(custom.iter())
            .find(|t| t.key == key)
            .cloned()
            .filter(|t| fed && is_option_kind(t.kind));
        let Some(target) = target else {
            return Err(WizardError::Invalid {
                code: "option_values.field",
                message: format!(
                    "'{key}' is not an option field fed by a column of this file. Map a column to it first."
                ),
            });
        };
        let value = choice.value.trim().to_string();
        if value.is_empty() {
            return Err(WizardError::Invalid {
                code: "option_values.value",
                message: "A blank value cannot be mapped; blank cells leave the field empty."
                    .into(),
            });
        }
        settings.map_values.retain(|(k, from, _)| {
            !(k == key && from.trim().to_lowercase() == value.to_lowercase())
        });
        if let Some(option) = choice.option {
            let Some(option) = target
                .options
                .iter()
                .find(|o| o.to_lowercase() == option.trim().to_lowercase())
            else {
                return Err(WizardError::Invalid {
                    code: "option_values.option",
                    message: format!(
                        "'{}' is not an option of {}; the options are: {}.",
                        option.trim(),
                        target.label,
                        target.options.join(", ")
                    ),
                });
            };
            settings
                .map_values
                .push((key.to_string(), value, option.clone()));
        }
    }
    save(store, location, draft_id, &settings).await
}
