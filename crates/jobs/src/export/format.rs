//! The export file format (SPEC §10), as pure functions: which columns an export has and in
//! what order, what each cell says, and how a record is written. No I/O but the writer it is
//! handed.
//!
//! - UTF-8 with a BOM, comma-separated, CRLF after every record, RFC 4180 quoting — and every
//!   field holding `;` or a tab quoted too (European Excel splits on `;`);
//! - the header holds each column's label (SPEC §3, or the custom field's label) in the order
//!   chosen; without a choice, every standard field but Contact ID in §3's table order, then
//!   the location's custom fields in their order;
//! - tags and additional emails/phones comma-separated, dates ISO (`YYYY-MM-DD`), booleans
//!   `true`/`false` (Do Not Disturb `true` when every channel is DND), money a plain decimal
//!   (as stored), the latest note truncated to 255 characters;
//! - every cell, header included, neutralised against formula injection
//!   ([`domain::value::neutralise`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use domain::ObjectKind;
use domain::field::{
    FieldKind, OPPORTUNITY_CONTACT_FIELDS, STANDARD_CONTACT_FIELDS, STANDARD_OPPORTUNITY_FIELDS,
    StandardField,
};
use domain::value::{needs_quotes_for_excel, neutralise};
use store::{CustomField, ExportField};

/// How many characters of the latest note an export keeps (SPEC §10).
pub const NOTE_CHARS: usize = 255;

/// What a column says, from the fields it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// The one field's text as it is (blank when absent).
    Plain,
    /// A `true`/`false` flag.
    Flag,
    /// Do Not Disturb: `true` when all four channel flags are.
    DndAll,
    /// Contact Owner: the user's email.
    Owner,
    /// Created Date: the stored date, else the day the contact was created, in the
    /// location's time zone.
    CreatedDate,
    /// The latest note, truncated to [`NOTE_CHARS`] characters.
    Note,
    /// An opportunity's status: its label (`Open`) for the stored word (`open`).
    Status,
}

/// One column of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub key: String,
    pub label: String,
    pub cell: Cell,
    /// The fields it reads, in the order [`Cell`] expects them.
    pub reads: Vec<ExportField>,
}

/// Why a column choice cannot be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnError {
    #[error(
        "'{key}' is not {what} field of this location; the fields are: {known}",
        known = known.join(", ")
    )]
    Unknown {
        key: String,
        /// "a contact", "an opportunity".
        what: &'static str,
        known: Vec<String>,
    },
    #[error("the column '{0}' is chosen twice")]
    Twice(String),
    #[error("choose at least one column")]
    Empty,
}

fn standard_column(f: &StandardField) -> Column {
    let (cell, reads) = match f.key {
        "contact_id" => (Cell::Plain, vec![ExportField::Id]),
        "additional_emails" => (Cell::Plain, vec![ExportField::AdditionalEmails]),
        "additional_phones" => (Cell::Plain, vec![ExportField::AdditionalPhones]),
        "dnd" => (
            Cell::DndAll,
            ["dnd_sms", "dnd_email", "dnd_calls", "dnd_voicemail"]
                .map(ExportField::Flag)
                .to_vec(),
        ),
        "dnd_sms" | "dnd_email" | "dnd_calls" | "dnd_voicemail" => {
            (Cell::Flag, vec![ExportField::Flag(f.key)])
        }
        "owner" => (Cell::Owner, vec![ExportField::Owner]),
        "tags" => (Cell::Plain, vec![ExportField::Tags]),
        "note" => (Cell::Note, vec![ExportField::LatestNote]),
        "created_at" => (
            Cell::CreatedDate,
            vec![ExportField::Text("created_at"), ExportField::CreatedMs],
        ),
        key => {
            debug_assert!(
                !matches!(f.kind, FieldKind::Boolean | FieldKind::Tags),
                "{key} has a column of its own"
            );
            (Cell::Plain, vec![ExportField::Text(f.key)])
        }
    };
    Column {
        key: f.key.to_string(),
        label: f.label.to_string(),
        cell,
        reads,
    }
}

fn custom_column(f: &CustomField) -> Column {
    Column {
        key: f.key.clone(),
        label: f.label.clone(),
        cell: Cell::Plain,
        reads: vec![ExportField::Custom(f.key.clone())],
    }
}

/// The columns of an export: the chosen keys in their order (standard keys, or the location's
/// contact custom fields' keys), or — `None` — the default set: every standard field but
/// Contact ID in §3's order, then every custom field.
pub fn columns(
    chosen: Option<&[String]>,
    custom: &[CustomField],
) -> Result<Vec<Column>, ColumnError> {
    let Some(keys) = chosen else {
        let mut out: Vec<Column> = STANDARD_CONTACT_FIELDS
            .iter()
            .filter(|f| f.key != "contact_id")
            .map(standard_column)
            .collect();
        out.extend(custom.iter().map(custom_column));
        return Ok(out);
    };
    if keys.is_empty() {
        return Err(ColumnError::Empty);
    }
    let mut out: Vec<Column> = Vec::with_capacity(keys.len());
    for key in keys {
        let key = key.trim();
        let column = match STANDARD_CONTACT_FIELDS.iter().find(|f| f.key == key) {
            Some(f) => standard_column(f),
            None => match custom.iter().find(|f| f.key == key) {
                Some(f) => custom_column(f),
                None => {
                    return Err(ColumnError::Unknown {
                        key: key.to_string(),
                        what: "a contact",
                        known: STANDARD_CONTACT_FIELDS
                            .iter()
                            .map(|f| f.key.to_string())
                            .chain(custom.iter().map(|f| f.key.clone()))
                            .collect(),
                    });
                }
            },
        };
        if out.iter().any(|c| c.key == column.key) {
            return Err(ColumnError::Twice(column.key));
        }
        out.push(column);
    }
    Ok(out)
}

/// The columns of an export of `object` (SPEC §7, §10): the chosen keys in their order, or —
/// `None` — the object's default set. `custom` are the object's custom fields.
pub fn columns_of(
    object: &ObjectKind,
    chosen: Option<&[String]>,
    custom: &[CustomField],
) -> Result<Vec<Column>, ColumnError> {
    match object {
        ObjectKind::Contact => columns(chosen, custom),
        ObjectKind::Opportunity => opportunity_columns(chosen, custom),
        other => Err(ColumnError::Unknown {
            key: other.as_stored(),
            what: "an exportable",
            known: vec!["contact".into(), "opportunity".into()],
        }),
    }
}

/// The columns of an export of a company's or custom object's records (SPEC §8, §10): the
/// chosen keys in their order, or — `None` — Record ID, the standard or primary fields, then
/// the custom fields, the object's field order. Every field but the id is read from the
/// record's values by key.
pub fn record_columns(
    schema: &domain::ObjectSchema,
    chosen: Option<&[String]>,
) -> Result<Vec<Column>, ColumnError> {
    let column = |f: &domain::ObjectField| Column {
        key: f.key.clone(),
        label: f.label.clone(),
        cell: Cell::Plain,
        reads: vec![if f.key == schema.id_field {
            ExportField::Id
        } else {
            ExportField::Custom(f.key.clone())
        }],
    };
    let Some(keys) = chosen else {
        return Ok(schema.fields.iter().map(column).collect());
    };
    if keys.is_empty() {
        return Err(ColumnError::Empty);
    }
    let mut out: Vec<Column> = Vec::with_capacity(keys.len());
    for key in keys {
        let key = key.trim();
        let f = schema.field(key).ok_or_else(|| ColumnError::Unknown {
            key: key.to_string(),
            what: "a",
            known: schema.fields.iter().map(|f| f.key.clone()).collect(),
        })?;
        if out.iter().any(|c| c.key == f.key) {
            return Err(ColumnError::Twice(f.key.clone()));
        }
        out.push(column(f));
    }
    Ok(out)
}

fn opportunity_column(f: &StandardField) -> Column {
    let (cell, reads) = match f.key {
        "opportunity_id" => (Cell::Plain, vec![ExportField::Id]),
        "opportunity_owner" => (Cell::Owner, vec![ExportField::Owner]),
        "opportunity_status" => (Cell::Status, vec![ExportField::Text(f.key)]),
        key => (Cell::Plain, vec![ExportField::Text(key)]),
    };
    Column {
        key: f.key.to_string(),
        label: f.label.to_string(),
        cell,
        reads,
    }
}

/// A column of the opportunity's linked contact, by contact field key.
fn linked_column(key: &'static str) -> Column {
    let label = STANDARD_CONTACT_FIELDS
        .iter()
        .find(|f| f.key == key)
        .map_or(key, |f| f.label);
    Column {
        key: key.to_string(),
        label: label.to_string(),
        cell: Cell::Plain,
        reads: vec![ExportField::Linked(key)],
    }
}

/// An opportunity export's columns: without a choice, the standard opportunity fields, the
/// opportunity custom fields, then the linked contact's Contact ID, First Name, Last Name,
/// Email and Phone (SPEC §7). A chosen key may name its object (`opportunity.stage`,
/// `contact.email`); a bare key is the opportunity's when it has one, else the contact's.
fn opportunity_columns(
    chosen: Option<&[String]>,
    custom: &[CustomField],
) -> Result<Vec<Column>, ColumnError> {
    let Some(keys) = chosen else {
        let mut out: Vec<Column> = STANDARD_OPPORTUNITY_FIELDS
            .iter()
            .map(opportunity_column)
            .collect();
        out.extend(custom.iter().map(custom_column));
        out.extend(OPPORTUNITY_CONTACT_FIELDS.iter().map(|k| linked_column(k)));
        return Ok(out);
    };
    if keys.is_empty() {
        return Err(ColumnError::Empty);
    }
    let own = |key: &str| {
        STANDARD_OPPORTUNITY_FIELDS
            .iter()
            .find(|f| f.key == key)
            .map(opportunity_column)
            .or_else(|| custom.iter().find(|f| f.key == key).map(custom_column))
    };
    let linked = |key: &str| {
        OPPORTUNITY_CONTACT_FIELDS
            .iter()
            .find(|k| **k == key)
            .map(|k| linked_column(k))
    };
    let mut out: Vec<Column> = Vec::with_capacity(keys.len());
    for key in keys {
        let key = key.trim();
        let column = if let Some(k) = key.strip_prefix("opportunity.") {
            own(k)
        } else if let Some(k) = key.strip_prefix("contact.") {
            linked(k)
        } else {
            own(key).or_else(|| linked(key))
        };
        let Some(column) = column else {
            return Err(ColumnError::Unknown {
                key: key.to_string(),
                what: "an opportunity",
                known: STANDARD_OPPORTUNITY_FIELDS
                    .iter()
                    .map(|f| f.key.to_string())
                    .chain(custom.iter().map(|f| f.key.clone()))
                    .chain(
                        OPPORTUNITY_CONTACT_FIELDS
                            .iter()
                            .map(|k| format!("contact.{k}")),
                    )
                    .collect(),
            });
        };
        if out.iter().any(|c| c.key == column.key) {
            return Err(ColumnError::Twice(column.key));
        }
        out.push(column);
    }
    Ok(out)
}

/// The distinct fields a set of columns reads, and for each column the positions of its
/// fields in that list.
pub fn plan_reads(columns: &[Column]) -> (Vec<ExportField>, Vec<Vec<usize>>) {
    let mut fields: Vec<ExportField> = Vec::new();
    let positions = columns
        .iter()
        .map(|c| {
            c.reads
                .iter()
                .map(|f| match fields.iter().position(|x| x == f) {
                    Some(i) => i,
                    None => {
                        fields.push(f.clone());
                        fields.len() - 1
                    }
                })
                .collect()
        })
        .collect();
    (fields, positions)
}

/// What cells need besides the row: the location's time zone and its users' emails.
#[derive(Debug, Clone)]
pub struct CellContext {
    pub tz: jiff::tz::TimeZone,
    /// User id → email, for Contact Owner.
    pub owners: HashMap<i64, String>,
}

/// The first `n` characters of `s`.
pub fn truncate_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The text of one cell (before neutralising). `reads` are the column's fields' values, in
/// the order of its [`Column::reads`].
pub fn cell_text<'a>(cell: &Cell, reads: &[Option<&'a str>], ctx: &CellContext) -> Cow<'a, str> {
    let first = reads.first().copied().flatten();
    match cell {
        Cell::Plain => Cow::Borrowed(first.unwrap_or("")),
        Cell::Flag => Cow::Borrowed(if first == Some("true") {
            "true"
        } else {
            "false"
        }),
        Cell::DndAll => Cow::Borrowed(
            if !reads.is_empty() && reads.iter().all(|r| *r == Some("true")) {
                "true"
            } else {
                "false"
            },
        ),
        Cell::Owner => first
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| ctx.owners.get(&id))
            .map_or(Cow::Borrowed(""), |e| Cow::Owned(e.clone())),
        Cell::CreatedDate => match first.filter(|d| !d.is_empty()) {
            Some(stored) => Cow::Borrowed(stored),
            None => reads
                .get(1)
                .copied()
                .flatten()
                .and_then(|ms| ms.parse::<i64>().ok())
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .map_or(Cow::Borrowed(""), |t| {
                    Cow::Owned(t.to_zoned_datetime(ctx.tz.clone()).date().to_string())
                }),
        },
        Cell::Note => Cow::Borrowed(truncate_chars(first.unwrap_or(""), NOTE_CHARS)),
        Cell::Status => Cow::Borrowed(
            first
                .and_then(|s| s.parse::<domain::pipeline::OpportunityStatus>().ok())
                .map_or(first.unwrap_or(""), |s| s.label()),
        ),
    }
}

/// The UTF-8 byte order mark every CSV the product writes begins with.
pub const BOM: &str = "\u{feff}";

/// Writes one field the SPEC §10 way: quoted when [`needs_quotes_for_excel`], inner quotes
/// doubled. The value is written as given (neutralise it first).
pub fn write_field<W: Write>(out: &mut W, value: &str) -> io::Result<()> {
    if needs_quotes_for_excel(value) {
        out.write_all(b"\"")?;
        let mut rest = value;
        while let Some(i) = rest.find('"') {
            out.write_all(&rest.as_bytes()[..=i])?;
            out.write_all(b"\"")?;
            rest = &rest[i + 1..];
        }
        out.write_all(rest.as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(value.as_bytes())
    }
}

/// Writes the header record: every column's label, neutralised.
pub fn write_header<W: Write>(out: &mut W, columns: &[Column]) -> io::Result<()> {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_field(out, &neutralise(&c.label))?;
    }
    out.write_all(b"\r\n")
}

/// Writes one contact's record: each column's [`cell_text`], neutralised. `value(i)` is the
/// row's value of the `i`-th planned field ([`plan_reads`]).
pub fn write_row<'a, W: Write>(
    out: &mut W,
    columns: &[Column],
    positions: &[Vec<usize>],
    value: impl Fn(usize) -> Option<&'a str>,
    ctx: &CellContext,
    scratch: &mut Vec<Option<&'a str>>,
) -> io::Result<()> {
    for (i, (c, at)) in columns.iter().zip(positions).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if c.cell == Cell::Plain {
            // Most columns: the value as it is.
            write_field(out, &neutralise(value(at[0]).unwrap_or("")))?;
            continue;
        }
        scratch.clear();
        scratch.extend(at.iter().map(|p| value(*p)));
        let text = cell_text(&c.cell, scratch, ctx);
        write_field(out, &neutralise(&text))?;
    }
    out.write_all(b"\r\n")
}

#[cfg(test)]
mod tests;
