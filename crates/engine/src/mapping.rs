//! Column mapping (SPEC §6.1): which field each column of a file feeds.
//!
//! Auto-mapping compares headers with case, spaces and punctuation ignored, in this order: a
//! standard field's key or label, a custom field's label or key, then the closed synonym
//! table ([`synonyms`]); an exporter's preset or a saved template adds its own. Several email
//! or phone columns rank into one primary and the additional values; a field other than the
//! list fields takes one column, the first. The user's overrides (`--map 'Header=field_key'`,
//! `--map 'Header='`) win. [`plan`] does it with a reason per column; [`fit`] reads the values
//! that decide whether an option or date column auto-maps, and each date column's day/month
//! order.

pub mod fit;
pub mod plan;
pub mod synonyms;

use domain::field::{FieldKind, StandardField};

pub use plan::{ColumnPlan, MULTI_COLUMN_FIELDS, MappingInput, Proposal, Why};
pub use synonyms::{MOBILE_HEADERS, SYNONYMS};

/// A field a column can feed: standard, or one of the location's custom fields (by key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub options: Vec<String>,
    pub custom: bool,
}

impl Target {
    pub fn standard(f: &StandardField) -> Target {
        Target {
            key: f.key.to_string(),
            label: f.label.to_string(),
            kind: f.kind,
            options: f.options.iter().map(|s| s.to_string()).collect(),
            custom: false,
        }
    }
}

/// The standard contact fields (SPEC §3) as mapping targets, built once.
pub fn contact_targets() -> &'static [Target] {
    static TARGETS: std::sync::LazyLock<Vec<Target>> = std::sync::LazyLock::new(|| {
        domain::STANDARD_CONTACT_FIELDS
            .iter()
            .map(Target::standard)
            .collect()
    });
    &TARGETS
}

impl Target {
    /// A field of an object's schema as a mapping target.
    pub fn of(f: &domain::ObjectField) -> Target {
        Target {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: f.kind,
            options: f.options.clone(),
            custom: f.custom,
        }
    }
}

/// What one column of the file does in the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnUse {
    /// Feeds this field.
    Field(Target),
    /// Gives one part (year, month or day) of a date field whose other parts come from other
    /// columns (a preset's; SPEC §11: Thunderbird's Birth Year, Birth Month, Birth Day).
    DatePart(Target, crate::presets::DatePart),
    /// Matches no field (needs "Don't import data in unmatched columns").
    Unmatched,
    /// Neither mapped nor unmatched: a fully blank column, an error-log column (SPEC §9.3), or
    /// a column the user unmapped with `--map 'Header='`.
    Ignored,
}

/// The columns an error log adds (SPEC §9.3); the importer ignores them by name.
pub const ERROR_LOG_COLUMNS: &[&str] = &[
    "Import Line",
    "Import Status",
    "Error Code",
    "Import Error",
    "How to Fix",
];

/// A header with case, spaces and punctuation ignored.
pub fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A mapping problem that stops the import before any row is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("--map '{0}' names no column of the file; the columns are: {1}")]
    UnknownColumn(String, String),
    #[error("--map '{header}={key}': there is no field with the key '{key}'")]
    UnknownField { header: String, key: String },
    #[error("--map '{0}' must look like 'Header=field_key' (or 'Header=' to leave the column out)")]
    Malformed(String),
    #[error(
        "the field {label} is mapped by two columns, '{first}' and '{second}'; map it from one column only"
    )]
    FieldTwice {
        label: String,
        first: String,
        second: String,
    },
    #[error(
        "the column '{header}' is mapped to {label}, a {kind} field; files and signatures cannot be imported"
    )]
    NotImportable {
        header: String,
        label: String,
        kind: &'static str,
    },
    #[error(
        "these columns match no field: {0}. Map them with --map 'Header=field_key', or add --skip-unmapped to leave them out"
    )]
    Unmatched(String),
    #[error(
        "no column of the file matches a field; check that the first row holds the headers (e.g. First Name, Email, Phone)"
    )]
    NothingMapped,
    /// Fields the object needs are not mapped (SPEC §8), named by label.
    #[error(
        "these required fields are not mapped: {0}. Map a column to each with --map 'Header=field_key'"
    )]
    RequiredUnmapped(String),
}

/// Maps the columns of a file by their headers alone (no preset, no template, no values):
/// [`plan::propose`] then [`plan::resolve`] and [`plan::check`]. `headers` are the trimmed
/// header cells, `ignored` marks fully blank columns; `custom` are the location's custom
/// contact fields; `overrides` are `(header, Some(key) | None)` pairs from the user.
pub fn map_columns(
    headers: &[String],
    ignored: &[bool],
    custom: &[Target],
    overrides: &[(String, Option<String>)],
    skip_unmapped: bool,
) -> Result<Vec<ColumnUse>, MappingError> {
    let proposal = plan::propose(&MappingInput {
        headers,
        ignored,
        standard: contact_targets(),
        custom,
        preset: None,
        template: None,
        overrides,
    })?;
    let plans = plan::resolve(proposal, &std::collections::HashMap::new())?;
    plan::check(&plans, skip_unmapped)?;
    Ok(plans.into_iter().map(|p| p.used).collect())
}

/// Parses one `--map` argument: `Header=field_key`, or `Header=` to unmap.
pub fn parse_map_arg(arg: &str) -> Result<(String, Option<String>), MappingError> {
    let (header, key) = arg
        .rsplit_once('=')
        .ok_or_else(|| MappingError::Malformed(arg.to_string()))?;
    let header = header.trim();
    if header.is_empty() {
        return Err(MappingError::Malformed(arg.to_string()));
    }
    let key = key.trim();
    Ok((
        header.to_string(),
        (!key.is_empty()).then(|| key.to_string()),
    ))
}

#[cfg(test)]
mod tests;
