//! The mapping of a file's columns with its reasons (SPEC §6.1, §11), in two steps:
//!
//! 1. [`propose`] reads the headers only: per column, what the user chose (`--map`, the
//!    wizard), a saved template, an exporter's preset, or the header itself (a standard
//!    field's key or label, a custom field's label or key, a synonym) would map it to;
//! 2. [`resolve`] applies the rules that need more than one column or the values: a column
//!    whose first values never fit its option or date field is not auto-mapped (the caller
//!    reads them: [`Proposal::to_check`], `super::fit`); several email or phone columns rank
//!    into one primary and the additional values; a field other than the list fields is fed
//!    by one column only; a date given in three columns is combined.
//!
//! Every column ends with a [`Why`]: the words the mapping step and the CLI show.

use std::collections::HashMap;

use domain::field::FieldKind;

use super::synonyms::{MOBILE_HEADERS, SYNONYMS};
use super::{ColumnUse, ERROR_LOG_COLUMNS, MappingError, Target, normalise_header};
use crate::presets::{Col, DatePart, Preset};

/// Why a column feeds its field, or why it is not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The header is the field's key or label (standard or custom).
    SameName,
    /// The header is one of SPEC §6.1's synonyms.
    Synonym,
    /// The exporter's preset maps it (its name).
    Preset(&'static str),
    /// A saved template maps it (its name).
    Template(String),
    /// The user chose it (`--map`, the wizard's mapping step).
    Chosen,
    /// One of several email or phone columns (SPEC §6.1): `base` is why it is one, `note`
    /// where the ranking put it ("“Mobile” is the primary phone").
    Ranked { base: Box<Why>, note: String },
    // ---- Not imported --------------------------------------------------------------------
    /// A fully blank column.
    Blank,
    /// One of the five columns an error log adds (SPEC §9.3).
    ErrorLog,
    /// The user left it out (`--map 'Header='`, "Don't import this column"), or a template did.
    LeftOut(Box<Why>),
    /// No field has this name.
    NoField,
    /// The field takes one column and an earlier (or chosen) one feeds it.
    Taken { field: String, by: String },
    /// Its first values never fit the field (SPEC §6.1): the note says so.
    DoesNotFit(String),
    /// A column of the preset's exporter that no field takes.
    PresetSkip(&'static str),
    /// The preset maps it to a field this location does not have.
    PresetFieldMissing { preset: &'static str, key: String },
    /// A date given in three columns misses one of them, or its field is taken.
    PartsIncomplete(String),
}

impl Why {
    /// The reason in the user's words ("synonym", "preset Google Contacts", …).
    pub fn words(&self) -> String {
        match self {
            Why::SameName => "same name".into(),
            Why::Synonym => "synonym".into(),
            Why::Preset(name) => format!("preset {name}"),
            Why::Template(name) => format!("template {name}"),
            Why::Chosen => "your choice".into(),
            Why::Ranked { base, note } => format!("{}; {note}", base.words()),
            Why::Blank => "the column is empty".into(),
            Why::ErrorLog => "a column an error log adds".into(),
            Why::LeftOut(by) => match by.as_ref() {
                Why::Chosen => "left out by your choice".into(),
                other => format!("left out by the {}", other.words()),
            },
            Why::NoField => "no field has this name".into(),
            Why::Taken { field, by } => format!("{field} comes from “{by}”"),
            Why::DoesNotFit(note) => note.clone(),
            Why::PresetSkip(name) => format!("preset {name}: no field takes it"),
            Why::PresetFieldMissing { preset, key } => {
                format!("preset {preset}: this location has no field {key}")
            }
            Why::PartsIncomplete(note) => note.clone(),
        }
    }

    /// Whether the reason is automatic (names, synonyms, presets): only those yield to the
    /// values (SPEC §6.1 "a column whose values do not fit is not auto-mapped").
    fn automatic(&self) -> bool {
        matches!(self, Why::SameName | Why::Synonym | Why::Preset(_))
    }
}

/// One column's place in the import, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPlan {
    pub header: String,
    pub used: ColumnUse,
    pub why: Why,
}

impl ColumnPlan {
    /// `Header → Field (why)` or `Header → not imported (why)` (SPEC §13.1).
    pub fn line(&self) -> String {
        let header = if self.header.is_empty() {
            "(blank header)".to_string()
        } else {
            self.header.clone()
        };
        match &self.used {
            ColumnUse::Field(t) => format!("{header} → {} ({})", t.label, self.why.words()),
            ColumnUse::DatePart(t, part) => format!(
                "{header} → {} ({} of the date; {})",
                t.label,
                part.words(),
                self.why.words()
            ),
            ColumnUse::Unmatched | ColumnUse::Ignored => {
                format!("{header} → not imported ({})", self.why.words())
            }
        }
    }
}

/// A saved template's columns: `(header, field key | None for "don't import")`.
pub type TemplateColumns = [(String, Option<String>)];

/// What the mapping starts from.
#[derive(Debug, Clone, Copy)]
pub struct MappingInput<'a> {
    /// The trimmed header cells.
    pub headers: &'a [String],
    /// Fully blank columns.
    pub ignored: &'a [bool],
    /// The object's standard fields ([`super::contact_targets`] for contacts; the schema's
    /// standard fields for another object, SPEC §8).
    pub standard: &'a [Target],
    /// The location's custom fields of the object.
    pub custom: &'a [Target],
    /// The exporter's preset the file gets (SPEC §11), if any.
    pub preset: Option<&'static Preset>,
    /// A saved template: its name and its columns (header, field key or `None` for "don't
    /// import"), matched by header.
    pub template: Option<(&'a str, &'a TemplateColumns)>,
    /// The user's choices: `(header, Some(key) | None)`.
    pub overrides: &'a [(String, Option<String>)],
}

/// What a column would map to from the headers alone.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Candidate {
    /// Settled: not imported (blank, error log, left out).
    Fixed(Why),
    /// Chosen by the user or a template: neither ranked nor checked against the values.
    Chosen(Target, Why),
    /// Matched automatically.
    Auto {
        target: Target,
        why: Why,
        /// A mobile column (SPEC §6.1): first in line to be the primary phone.
        mobile: bool,
        /// Headed with the label or key of Additional Emails / Additional Phone Numbers: never
        /// the primary.
        additional: bool,
    },
    /// One part of a date given in three columns (a preset's).
    Part(Target, DatePart, Why),
    /// Matches nothing.
    Unmatched(Why),
}

/// The headers' proposal, before the values and the other columns have their say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    headers: Vec<String>,
    candidates: Vec<Candidate>,
    /// The object's standard fields (where the primary and additional email and phone
    /// fields come from, when the object has them).
    standard: Vec<Target>,
}

/// The field keys more than one column may feed (their values are joined in column order).
pub const MULTI_COLUMN_FIELDS: &[&str] = &["additional_emails", "additional_phones", "tags"];

fn is_multi(key: &str) -> bool {
    MULTI_COLUMN_FIELDS.contains(&key)
}

/// Whether a field's column is checked against its values (SPEC §6.1): option and date
/// fields.
pub fn checked_kind(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::SingleOption
            | FieldKind::Radio
            | FieldKind::MultiSelect
            | FieldKind::Checkbox
            | FieldKind::Date
    )
}

impl Proposal {
    /// The columns whose automatic field must be checked against their first values: option
    /// and date fields (SPEC §6.1).
    pub fn to_check(&self) -> Vec<(usize, Target)> {
        self.candidates
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Candidate::Auto { target, .. } if checked_kind(target.kind) => {
                    Some((i, target.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Every column that may feed a date field, chosen or automatic: their day/month order is
    /// read from their values (SPEC §5.3).
    pub fn date_columns(&self) -> Vec<usize> {
        self.candidates
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Candidate::Auto { target, .. } | Candidate::Chosen(target, _)
                    if target.kind == FieldKind::Date =>
                {
                    Some(i)
                }
                _ => None,
            })
            .collect()
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }
}

/// Every field a header can name, by normalised header, in SPEC §6.1's order: a standard
/// field's key or label, a custom field's label or key, then the synonyms.
struct NameIndex {
    by_name: HashMap<String, (Target, Why)>,
}

impl NameIndex {
    fn new(standard: &[Target], custom: &[Target]) -> NameIndex {
        let mut by_name: HashMap<String, (Target, Why)> = HashMap::new();
        // Inserted in reverse priority so that the earlier kinds win. A synonym names a
        // standard field of the object it maps for (Company and Zip fit a company's fields).
        for (key, names) in SYNONYMS {
            let Some(f) = standard.iter().find(|f| f.key == *key) else {
                continue;
            };
            for n in *names {
                by_name.insert(normalise_header(n), (f.clone(), Why::Synonym));
            }
        }
        for c in custom {
            by_name.insert(normalise_header(&c.key), (c.clone(), Why::SameName));
            by_name.insert(normalise_header(&c.label), (c.clone(), Why::SameName));
        }
        for f in standard {
            by_name.insert(normalise_header(&f.label), (f.clone(), Why::SameName));
            by_name.insert(normalise_header(&f.key), (f.clone(), Why::SameName));
        }
        NameIndex { by_name }
    }

    fn get(&self, norm: &str) -> Option<&(Target, Why)> {
        self.by_name.get(norm).filter(|_| !norm.is_empty())
    }
}

fn field_by_key(key: &str, standard: &[Target], custom: &[Target]) -> Option<Target> {
    standard
        .iter()
        .chain(custom)
        .find(|f| f.key == key)
        .cloned()
}

/// Whether a (normalised) header is the label or key of Additional Emails / Additional Phone
/// Numbers: such a column always stays additional (SPEC §6.1).
pub fn names_additional_field(norm: &str) -> bool {
    ["additional_emails", "additional_phones"].iter().any(|k| {
        let f = domain::field::standard_field(k).expect("standard field");
        norm == normalise_header(f.key) || norm == normalise_header(f.label)
    })
}

/// Step 1: what each column would map to from the headers alone. Fails only on a `--map`
/// that names no column or no field.
pub fn propose(input: &MappingInput<'_>) -> Result<Proposal, MappingError> {
    let headers = input.headers;
    let index = NameIndex::new(input.standard, input.custom);
    let error_log: Vec<String> = ERROR_LOG_COLUMNS
        .iter()
        .map(|h| normalise_header(h))
        .collect();
    let mobile: Vec<String> = MOBILE_HEADERS.iter().map(|h| normalise_header(h)).collect();

    // The user's choices, by column.
    let mut chosen: HashMap<usize, Option<Target>> = HashMap::new();
    for (header, key) in input.overrides {
        let col = headers
            .iter()
            .position(|h| h == header)
            .or_else(|| {
                headers
                    .iter()
                    .position(|h| normalise_header(h) == normalise_header(header))
            })
            .ok_or_else(|| MappingError::UnknownColumn(header.clone(), headers.join(", ")))?;
        let target = match key {
            None => None,
            Some(key) => Some(field_by_key(key, input.standard, input.custom).ok_or_else(
                || MappingError::UnknownField {
                    header: header.clone(),
                    key: key.clone(),
                },
            )?),
        };
        chosen.insert(col, target);
    }

    let mut candidates = Vec::with_capacity(headers.len());
    for (i, header) in headers.iter().enumerate() {
        let norm = normalise_header(header);
        let candidate = if input.ignored.get(i).copied().unwrap_or(false) {
            Candidate::Fixed(Why::Blank)
        } else if error_log.contains(&norm) {
            Candidate::Fixed(Why::ErrorLog)
        } else if let Some(choice) = chosen.get(&i) {
            match choice {
                Some(t) => Candidate::Chosen(t.clone(), Why::Chosen),
                None => Candidate::Fixed(Why::LeftOut(Box::new(Why::Chosen))),
            }
        } else if let Some(c) = template_candidate(input, &norm) {
            c
        } else if let Some(c) = preset_candidate(input, &index, header, &norm) {
            c
        } else if let Some((target, why)) = index.get(&norm) {
            Candidate::Auto {
                target: target.clone(),
                why: why.clone(),
                mobile: *why == Why::Synonym && mobile.contains(&norm),
                additional: names_additional_field(&norm),
            }
        } else {
            Candidate::Unmatched(Why::NoField)
        };
        candidates.push(candidate);
    }
    Ok(Proposal {
        headers: headers.to_vec(),
        candidates,
        standard: input.standard.to_vec(),
    })
}

/// A saved template's choice for a column, when it saved that header and its field still
/// exists (a template naming a field since deleted lets the column auto-map).
fn template_candidate(input: &MappingInput<'_>, norm: &str) -> Option<Candidate> {
    let (name, columns) = input.template?;
    let (_, key) = columns
        .iter()
        .find(|(h, _)| !norm.is_empty() && normalise_header(h) == norm)?;
    let why = Why::Template(name.to_string());
    match key {
        None => Some(Candidate::Fixed(Why::LeftOut(Box::new(why)))),
        Some(key) => field_by_key(key, input.standard, input.custom)
            .map(|t| Candidate::Chosen(t, Why::Template(name.into()))),
    }
}

/// The preset's mapping of a column. A column the preset skips still maps when a standard or
/// custom field has its very name.
fn preset_candidate(
    input: &MappingInput<'_>,
    index: &NameIndex,
    header: &str,
    norm: &str,
) -> Option<Candidate> {
    let preset = input.preset?;
    let why = Why::Preset(preset.name);
    let auto = |target: Target, mobile: bool| Candidate::Auto {
        additional: names_additional_field(norm),
        target,
        why: why.clone(),
        mobile,
    };
    match preset.column(header)? {
        Col::Field(key) => Some(match field_by_key(key, input.standard, input.custom) {
            Some(t) => auto(t, false),
            None => Candidate::Unmatched(Why::PresetFieldMissing {
                preset: preset.name,
                key: key.to_string(),
            }),
        }),
        Col::Mobile => Some(auto(
            field_by_key("phone", input.standard, input.custom).expect("standard field"),
            true,
        )),
        Col::Part(key, part) => Some(match field_by_key(key, input.standard, input.custom) {
            Some(t) => Candidate::Part(t, part, why),
            None => Candidate::Unmatched(Why::PresetFieldMissing {
                preset: preset.name,
                key: key.to_string(),
            }),
        }),
        Col::Skip => match index.get(norm) {
            Some((t, Why::SameName)) => Some(Candidate::Auto {
                target: t.clone(),
                why: Why::SameName,
                mobile: false,
                additional: names_additional_field(norm),
            }),
            _ => Some(Candidate::Unmatched(Why::PresetSkip(preset.name))),
        },
    }
}

/// Step 2: the mapping. `unfit` holds, per column, the note of an automatic option or date
/// column whose values never fit (from `super::fit`). Fails only when the user chose one
/// field for two columns; [`check`] then says whether the import can run.
pub fn resolve(
    proposal: Proposal,
    unfit: &HashMap<usize, String>,
) -> Result<Vec<ColumnPlan>, MappingError> {
    let Proposal {
        headers,
        candidates,
        standard,
    } = proposal;
    let n = headers.len();
    let mut plans: Vec<Option<ColumnPlan>> = vec![None; n];
    let plan = |i: usize, used: ColumnUse, why: Why| ColumnPlan {
        header: headers[i].clone(),
        used,
        why,
    };
    // Single-column fields already fed, by key → column.
    let mut taken: HashMap<String, usize> = HashMap::new();

    // 1. What is settled, and the user's and templates' choices.
    for (i, c) in candidates.iter().enumerate() {
        match c {
            Candidate::Fixed(why) => plans[i] = Some(plan(i, ColumnUse::Ignored, why.clone())),
            Candidate::Unmatched(why) => {
                plans[i] = Some(plan(i, ColumnUse::Unmatched, why.clone()))
            }
            Candidate::Chosen(t, why) => {
                if !is_multi(&t.key) {
                    if let Some(&other) = taken.get(&t.key) {
                        return Err(MappingError::FieldTwice {
                            label: t.label.clone(),
                            first: headers[other].clone(),
                            second: headers[i].clone(),
                        });
                    }
                    taken.insert(t.key.clone(), i);
                }
                plans[i] = Some(plan(i, ColumnUse::Field(t.clone()), why.clone()));
            }
            _ => {}
        }
    }

    // 2. Automatic columns whose values never fit their field are not auto-mapped.
    let mut auto: Vec<(usize, Target, Why, bool, bool)> = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        if let Candidate::Auto {
            target,
            why,
            mobile,
            additional,
        } = c
        {
            match unfit.get(&i) {
                Some(note) if why.automatic() => {
                    plans[i] = Some(plan(i, ColumnUse::Unmatched, Why::DoesNotFit(note.clone())))
                }
                _ => auto.push((i, target.clone(), why.clone(), *mobile, *additional)),
            }
        }
    }

    // 3. Several email or phone columns: one primary, the rest additional.
    for (primary_key, extra_key, kind) in [
        ("email", "additional_emails", "email"),
        ("phone", "additional_phones", "phone"),
    ] {
        let group: Vec<&(usize, Target, Why, bool, bool)> = auto
            .iter()
            .filter(|(_, t, ..)| t.key == primary_key || t.key == extra_key)
            .collect();
        if group.is_empty() {
            continue;
        }
        let eligible = |(_, _, _, _, additional): &&&(usize, Target, Why, bool, bool)| !additional;
        let primary: Option<usize> = if taken.contains_key(primary_key) {
            None
        } else {
            group
                .iter()
                .filter(eligible)
                .find(|(_, _, _, mobile, _)| *mobile)
                .or_else(|| {
                    group
                        .iter()
                        .filter(eligible)
                        .find(|(_, t, ..)| t.key == primary_key)
                })
                .or_else(|| group.iter().find(eligible))
                .map(|(i, ..)| *i)
        };
        let Some(primary_target) = field_by_key(primary_key, &standard, &[]) else {
            continue;
        };
        // An object without the additional field (a company) leaves the other columns of
        // the kind to step 5, where the first keeps the field.
        let Some(extra_target) = field_by_key(extra_key, &standard, &[]) else {
            continue;
        };
        let primary_header = primary
            .map(|p| headers[p].clone())
            .or_else(|| taken.get(primary_key).map(|c| headers[*c].clone()));
        let several = group.len() > 1 || taken.contains_key(primary_key);
        for (i, t, why, mobile, _) in group {
            if Some(*i) == primary {
                taken.insert(primary_key.to_string(), *i);
                let why = if !several || t.key == primary_key && !*mobile {
                    why.clone()
                } else if *mobile {
                    Why::Ranked {
                        base: Box::new(why.clone()),
                        note: format!("the mobile column is the primary {kind}"),
                    }
                } else {
                    Why::Ranked {
                        base: Box::new(why.clone()),
                        note: format!("the first {kind} column is the primary {kind}"),
                    }
                };
                plans[*i] = Some(plan(*i, ColumnUse::Field(primary_target.clone()), why));
            } else {
                let why = if t.key == primary_key {
                    Why::Ranked {
                        base: Box::new(why.clone()),
                        note: match &primary_header {
                            Some(h) => format!("“{h}” is the primary {kind}"),
                            None => format!("another column is the primary {kind}"),
                        },
                    }
                } else {
                    why.clone()
                };
                plans[*i] = Some(plan(*i, ColumnUse::Field(extra_target.clone()), why));
            }
        }
    }

    // 4. A date given in three columns (Thunderbird's Birth Year, Month, Day).
    let mut parts: Vec<(usize, Target, DatePart, Why)> = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        if let Candidate::Part(t, part, why) = c {
            parts.push((i, t.clone(), *part, why.clone()));
        }
    }
    let mut part_fields: Vec<String> = parts.iter().map(|(_, t, ..)| t.key.clone()).collect();
    part_fields.dedup();
    for key in part_fields {
        let mine: Vec<&(usize, Target, DatePart, Why)> =
            parts.iter().filter(|(_, t, ..)| t.key == key).collect();
        let label = mine[0].1.label.clone();
        let complete = [DatePart::Year, DatePart::Month, DatePart::Day]
            .iter()
            .all(|p| mine.iter().any(|(_, _, q, _)| q == p));
        let mut seen: Vec<DatePart> = Vec::new();
        for (i, t, part, why) in mine {
            let problem = if let Some(by) = taken.get(&key) {
                Some(format!("{label} comes from “{}”", headers[*by]))
            } else if !complete {
                Some(format!(
                    "{label} needs its year, month and day columns; one is missing"
                ))
            } else if seen.contains(part) {
                Some(format!(
                    "another column gives the {} of {label}",
                    part.words()
                ))
            } else {
                None
            };
            seen.push(*part);
            plans[*i] = Some(match problem {
                Some(note) => plan(*i, ColumnUse::Unmatched, Why::PartsIncomplete(note)),
                None => plan(*i, ColumnUse::DatePart(t.clone(), *part), why.clone()),
            });
        }
        if plans
            .iter()
            .flatten()
            .any(|p| matches!(&p.used, ColumnUse::DatePart(t, _) if t.key == key))
        {
            let first = plans
                .iter()
                .position(|p| {
                    matches!(p, Some(ColumnPlan { used: ColumnUse::DatePart(t, _), .. }) if t.key == key)
                })
                .expect("a part is mapped");
            taken.insert(key.clone(), first);
        }
    }

    // 5. Every other automatic column: the first keeps a single-column field.
    for (i, t, why, _, _) in auto {
        if plans[i].is_some() {
            continue;
        }
        if !is_multi(&t.key) {
            if let Some(&by) = taken.get(&t.key) {
                plans[i] = Some(plan(
                    i,
                    ColumnUse::Unmatched,
                    Why::Taken {
                        field: t.label.clone(),
                        by: headers[by].clone(),
                    },
                ));
                continue;
            }
            taken.insert(t.key.clone(), i);
        }
        plans[i] = Some(plan(i, ColumnUse::Field(t), why));
    }

    Ok(plans
        .into_iter()
        .map(|p| p.expect("every column has a plan"))
        .collect())
}

/// The checks that stop an import before any row is read: a file or signature field, no
/// column mapped, unmatched columns without "Don't import data in unmatched columns".
pub fn check(plans: &[ColumnPlan], skip_unmapped: bool) -> Result<(), MappingError> {
    for p in plans {
        if let ColumnUse::Field(t) = &p.used
            && matches!(t.kind, FieldKind::FileUpload | FieldKind::Signature)
        {
            return Err(MappingError::NotImportable {
                header: p.header.clone(),
                label: t.label.clone(),
                kind: if t.kind == FieldKind::FileUpload {
                    "file upload"
                } else {
                    "signature"
                },
            });
        }
    }
    if !plans
        .iter()
        .any(|p| matches!(p.used, ColumnUse::Field(_) | ColumnUse::DatePart(..)))
    {
        return Err(MappingError::NothingMapped);
    }
    let unmatched: Vec<String> = plans
        .iter()
        .enumerate()
        .filter(|(_, p)| p.used == ColumnUse::Unmatched)
        .map(|(i, p)| {
            if p.header.is_empty() {
                format!("(blank header, column {})", i + 1)
            } else {
                format!("'{}'", p.header)
            }
        })
        .collect();
    if !unmatched.is_empty() && !skip_unmapped {
        return Err(MappingError::Unmatched(unmatched.join(", ")));
    }
    Ok(())
}
