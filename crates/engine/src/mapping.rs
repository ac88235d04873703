//! Column mapping (SPEC §6.1): which field each column of a file feeds.
//!
//! Auto-mapping compares headers with case, spaces and punctuation ignored, in this order: a
//! standard field's key or label, a custom field's label or key, then the closed synonym
//! table. When two columns auto-map to one field the first keeps it. The user's overrides
//! (`--map 'Header=field_key'`, `--map 'Header='`) come last and win.

use std::collections::HashMap;

use domain::field::{FieldKind, STANDARD_CONTACT_FIELDS, StandardField};

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

/// What one column of the file does in the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnUse {
    /// Feeds this field.
    Field(Target),
    /// Matches no field (needs "Don't import data in unmatched columns").
    Unmatched,
    /// Neither mapped nor unmatched: a fully blank column, an error-log column (SPEC §9.3), or
    /// a column the user unmapped with `--map 'Header='`.
    Ignored,
}

/// The synonym table of SPEC §6.1: the complete list.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    ("first_name", &["First", "Firstname", "Given Name"]),
    ("last_name", &["Last", "Lastname", "Surname", "Family Name"]),
    (
        "email",
        &["E-mail", "Email Address", "E-mail Address", "Mail"],
    ),
    (
        "phone",
        &[
            "Phone Number",
            "Mobile",
            "Mobile Phone",
            "Mobile Number",
            "Cell",
            "Cell Phone",
            "Telephone",
            "Tel",
        ],
    ),
    (
        "company_name",
        &[
            "Company",
            "Business",
            "Business Name",
            "Organization",
            "Organisation",
        ],
    ),
    ("contact_type", &["Type", "Contact Type"]),
    ("source", &["Source", "Lead Source", "Contact Source"]),
    ("owner", &["Owner", "Assigned To"]),
    ("postal_code", &["Zip", "Zip Code", "Postcode"]),
    ("date_of_birth", &["DOB", "Birthday", "Birth Date"]),
    ("address1", &["Address 1", "Street", "Street Address"]),
    ("state", &["Province", "Region"]),
    ("created_at", &["Created", "Date Created", "Created At"]),
    ("timezone", &["Timezone", "TZ"]),
    ("tags", &["Tag"]),
    ("note", &["Notes"]),
    ("additional_emails", &["Other Emails", "Secondary Email"]),
    (
        "additional_phones",
        &["Additional Phones", "Other Phones", "Secondary Phone"],
    ),
];

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
}

/// Maps the columns of a file. `headers` are the trimmed header cells, `ignored` marks fully
/// blank columns; `custom` are the location's custom contact fields; `overrides` are
/// `(header, Some(key) | None)` pairs from the user.
pub fn map_columns(
    headers: &[String],
    ignored: &[bool],
    custom: &[Target],
    overrides: &[(String, Option<String>)],
    skip_unmapped: bool,
) -> Result<Vec<ColumnUse>, MappingError> {
    let mut index: HashMap<String, Target> = HashMap::new();
    // Inserted in reverse priority so that the earlier kinds win: synonyms, custom, standard.
    for (key, names) in SYNONYMS {
        let f = STANDARD_CONTACT_FIELDS
            .iter()
            .find(|f| f.key == *key)
            .expect("synonyms name standard fields");
        for n in *names {
            index.insert(normalise_header(n), Target::standard(f));
        }
    }
    for c in custom {
        index.insert(normalise_header(&c.key), c.clone());
        index.insert(normalise_header(&c.label), c.clone());
    }
    for f in STANDARD_CONTACT_FIELDS {
        index.insert(normalise_header(f.label), Target::standard(f));
        index.insert(normalise_header(f.key), Target::standard(f));
    }
    let error_log: Vec<String> = ERROR_LOG_COLUMNS
        .iter()
        .map(|h| normalise_header(h))
        .collect();

    let mut uses: Vec<ColumnUse> = Vec::with_capacity(headers.len());
    let mut taken: HashMap<String, usize> = HashMap::new();
    for (i, header) in headers.iter().enumerate() {
        let norm = normalise_header(header);
        let used = if ignored.get(i).copied().unwrap_or(false) || error_log.contains(&norm) {
            ColumnUse::Ignored
        } else if let Some(t) = index.get(&norm).filter(|_| !norm.is_empty()) {
            if taken.contains_key(&t.key) {
                ColumnUse::Unmatched
            } else {
                taken.insert(t.key.clone(), i);
                ColumnUse::Field(t.clone())
            }
        } else {
            ColumnUse::Unmatched
        };
        uses.push(used);
    }

    for (header, key) in overrides {
        let col = headers
            .iter()
            .position(|h| h == header)
            .or_else(|| {
                headers
                    .iter()
                    .position(|h| normalise_header(h) == normalise_header(header))
            })
            .ok_or_else(|| MappingError::UnknownColumn(header.clone(), headers.join(", ")))?;
        if let ColumnUse::Field(old) = &uses[col] {
            taken.remove(&old.key);
        }
        match key {
            None => uses[col] = ColumnUse::Ignored,
            Some(key) => {
                let target = STANDARD_CONTACT_FIELDS
                    .iter()
                    .find(|f| f.key == key)
                    .map(Target::standard)
                    .or_else(|| custom.iter().find(|c| &c.key == key).cloned())
                    .ok_or_else(|| MappingError::UnknownField {
                        header: header.clone(),
                        key: key.clone(),
                    })?;
                if let Some(&other) = taken.get(&target.key) {
                    if overrides.iter().any(|(h, _)| h == &headers[other]) {
                        return Err(MappingError::FieldTwice {
                            label: target.label.clone(),
                            first: headers[other].clone(),
                            second: headers[col].clone(),
                        });
                    }
                    // The user's choice wins over an automatic one.
                    uses[other] = ColumnUse::Unmatched;
                }
                taken.insert(target.key.clone(), col);
                uses[col] = ColumnUse::Field(target);
            }
        }
    }

    for (i, u) in uses.iter().enumerate() {
        if let ColumnUse::Field(t) = u
            && matches!(t.kind, FieldKind::FileUpload | FieldKind::Signature)
        {
            return Err(MappingError::NotImportable {
                header: headers[i].clone(),
                label: t.label.clone(),
                kind: if t.kind == FieldKind::FileUpload {
                    "file upload"
                } else {
                    "signature"
                },
            });
        }
    }
    let unmatched: Vec<String> = uses
        .iter()
        .enumerate()
        .filter(|(_, u)| **u == ColumnUse::Unmatched)
        .map(|(i, _)| {
            if headers[i].is_empty() {
                format!("(blank header, column {})", i + 1)
            } else {
                format!("'{}'", headers[i])
            }
        })
        .collect();
    if !uses.iter().any(|u| matches!(u, ColumnUse::Field(_))) {
        return Err(MappingError::NothingMapped);
    }
    if !unmatched.is_empty() && !skip_unmapped {
        return Err(MappingError::Unmatched(unmatched.join(", ")));
    }
    Ok(uses)
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
