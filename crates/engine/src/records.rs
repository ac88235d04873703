//! Matching and merging a chunk of company or custom object rows (SPEC §8).
//!
//! Pure, like [`crate::decide`] for contacts: the caller looks the chunk's Record IDs and
//! unique values up in one batch and passes the records it found (with the line of this
//! import that last touched each); [`plan_records`] decides every line in file order against
//! that snapshot and what earlier lines did, and returns the records to write and one result
//! per line.
//!
//! - Record ID, when mapped and present, decides; an unknown one is a row error.
//! - Otherwise the dedupe field (a mapped unique field) finds the record; without one a row
//!   matches nothing.
//! - Every other mapped unique field is checked: a value another record holds fails that row
//!   only (`record.unique_conflict`).
//! - Modes as §8 says; a row matching a record an earlier line of this import wrote merges
//!   into it in every mode, with a warning naming that line.
//! - A blank never clears the primary field or a required field (a warning), and clears
//!   nothing at all with "don't update empty values".

use std::collections::{BTreeMap, HashMap};

use domain::ObjectSchema;
use domain::message::{Level, Message, code};
use domain::object::unique_value_key;

use crate::decide::{Action, LineResult, LineStatus, Mode};
use crate::record::ContactInput;

/// What a row says about one record, typed and checked: `values` holds every mapped field of
/// the object (`Some(text)` in its stored form, `None` for a blank cell; a cell that could not
/// be read is absent, its warning in `messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordInput {
    pub line: u64,
    /// The Record ID cell, when mapped and not blank.
    pub record_id: Option<String>,
    pub values: BTreeMap<String, Option<String>>,
    pub messages: Vec<Message>,
}

impl RecordInput {
    /// A row read by [`crate::read_record_with`], kept to the object's fields.
    pub fn from_read(input: ContactInput, schema: &ObjectSchema) -> RecordInput {
        RecordInput {
            line: input.line,
            record_id: input.contact_id,
            values: input
                .values
                .into_iter()
                .filter(|(k, _)| {
                    schema
                        .field(k)
                        .is_some_and(|f| f.kind != domain::FieldKind::Id)
                })
                .collect(),
            messages: input.messages,
        }
    }

    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(|v| v.as_deref())
    }
}

/// The rules of one records import (SPEC §8).
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    pub mode: Mode,
    /// "Don't update empty values": blanks leave existing data alone.
    pub no_update_empty: bool,
    /// The dedupe field: the mapped unique field that finds a record when Record ID does not
    /// decide. `None` matches nothing.
    pub dedupe: Option<String>,
    /// Every mapped unique field, in the object's field order.
    pub unique: Vec<String>,
}

/// A record as stored, with what this import already did to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExistingRecord {
    pub id: i64,
    /// Fields by key in their stored text form; blank fields absent.
    pub values: BTreeMap<String, String>,
    /// The line of this import that last created or updated it.
    pub touched_line: Option<u64>,
    /// Whether this import created it.
    pub created_by_import: bool,
}

/// A record the chunk writes: created (`id` is `None`) or updated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedRecord {
    pub id: Option<i64>,
    /// Values before this chunk (updates only), for the journal.
    pub before: Option<BTreeMap<String, String>>,
    pub values: BTreeMap<String, String>,
    pub touched_line: Option<u64>,
    pub created_by_import: bool,
    /// First line of this chunk that touched it.
    pub first_line: u64,
    /// Whether this chunk changed it (untouched snapshot entries are not written).
    pub touched: bool,
}

/// What a chunk of records decided. A line's `contact` is an index into `records`.
#[derive(Debug, Clone, Default)]
pub struct RecordPlan {
    pub records: Vec<PlannedRecord>,
    pub lines: Vec<LineResult>,
}

struct Working<'a> {
    schema: &'a ObjectSchema,
    opts: &'a RecordOptions,
    records: Vec<PlannedRecord>,
    by_id: HashMap<i64, usize>,
    /// (field key, value key) → record, for the mapped unique fields.
    by_unique: HashMap<(String, String), usize>,
}

impl Working<'_> {
    fn key_of(&self, field: &str, value: &str) -> (String, String) {
        let kind = self
            .schema
            .field(field)
            .map(|f| f.kind)
            .unwrap_or(domain::FieldKind::Text);
        (field.to_string(), unique_value_key(kind, value))
    }

    fn index(&mut self, i: usize) {
        if let Some(id) = self.records[i].id {
            self.by_id.insert(id, i);
        }
        for u in &self.opts.unique {
            if let Some(v) = self.records[i].values.get(u) {
                let k = self.key_of(u, v);
                self.by_unique.entry(k).or_insert(i);
            }
        }
    }

    fn unindex(&mut self, i: usize) {
        for u in &self.opts.unique {
            if let Some(v) = self.records[i].values.get(u) {
                let k = self.key_of(u, v);
                if self.by_unique.get(&k) == Some(&i) {
                    self.by_unique.remove(&k);
                }
            }
        }
    }

    fn primary(&self, i: usize) -> Option<String> {
        let p = self.schema.primary.as_deref()?;
        self.records[i].values.get(p).cloned()
    }

    /// How a message names a record: its primary value and id, or the line that created it.
    fn describe(&self, i: usize) -> String {
        let r = &self.records[i];
        let name = self
            .primary(i)
            .map(|p| format!("“{p}” "))
            .unwrap_or_default();
        match r.id {
            Some(id) if id > 0 => format!("{name}(record {id})"),
            _ => format!("{name}(the record line {} creates)", r.first_line),
        }
    }

    fn label(&self, key: &str) -> String {
        self.schema.label(key).unwrap_or(key).to_string()
    }
}

/// Decides every line of a chunk, in file order (see the module docs).
pub fn plan_records(
    inputs: Vec<RecordInput>,
    snapshot: Vec<ExistingRecord>,
    schema: &ObjectSchema,
    opts: &RecordOptions,
) -> RecordPlan {
    let mut w = Working {
        schema,
        opts,
        records: Vec::with_capacity(snapshot.len()),
        by_id: HashMap::new(),
        by_unique: HashMap::new(),
    };
    for e in snapshot {
        let i = w.records.len();
        w.records.push(PlannedRecord {
            id: Some(e.id),
            values: e.values,
            touched_line: e.touched_line,
            created_by_import: e.created_by_import,
            ..PlannedRecord::default()
        });
        w.index(i);
    }
    let mut lines = Vec::with_capacity(inputs.len());
    for input in inputs {
        lines.push(plan_line(&mut w, input));
    }
    RecordPlan {
        records: w.records,
        lines,
    }
}

fn result(
    line: u64,
    action: Action,
    record: Option<usize>,
    primary: Option<String>,
    messages: Vec<Message>,
) -> LineResult {
    let status = if messages.iter().any(|m| m.level == Level::Error) {
        LineStatus::Error
    } else if messages.is_empty() {
        LineStatus::Success
    } else {
        LineStatus::Warning
    };
    LineResult {
        line,
        status,
        action: if status == LineStatus::Error {
            Action::None
        } else {
            action
        },
        contact: record,
        primary,
        messages,
    }
}

fn plan_line(w: &mut Working<'_>, input: RecordInput) -> LineResult {
    let mut msgs = input.messages.clone();
    let row_primary = w
        .schema
        .primary
        .as_deref()
        .and_then(|p| input.value(p))
        .map(str::to_string);
    if msgs.iter().any(|m| m.level == Level::Error) {
        return result(input.line, Action::None, None, row_primary, msgs);
    }

    // 1. Which record the row is: Record ID, else the dedupe field.
    let target: Option<usize> = if let Some(raw) = &input.record_id {
        match raw
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| w.by_id.get(&id))
        {
            Some(i) => Some(*i),
            None => {
                let mut m = Message::from_code(code::RECORD_UNKNOWN_ID)
                    .field(w.schema.id_field.clone())
                    .value(raw.clone());
                m.message = format!("No record of {} has the Record ID “{raw}”", w.schema.name);
                msgs.push(m);
                return result(input.line, Action::None, None, row_primary, msgs);
            }
        }
    } else {
        w.opts
            .dedupe
            .as_deref()
            .and_then(|d| input.value(d).map(|v| w.key_of(d, v)))
            .and_then(|k| w.by_unique.get(&k).copied())
    };

    // 2. The other mapped unique fields: a value another record holds fails this row only.
    for u in &w.opts.unique {
        let Some(v) = input.value(u) else { continue };
        let k = w.key_of(u, v);
        if let Some(&owner) = w.by_unique.get(&k)
            && Some(owner) != target
        {
            let mut m = Message::from_code(code::RECORD_UNIQUE_CONFLICT)
                .field(u.clone())
                .value(v.to_string());
            m.message = format!(
                "{} “{v}” already belongs to {}; {} must be unique",
                w.label(u),
                w.describe(owner),
                w.label(u)
            );
            msgs.push(m);
        }
    }
    if msgs.iter().any(|m| m.level == Level::Error) {
        return result(input.line, Action::None, None, row_primary, msgs);
    }

    match target {
        Some(i) => {
            if let Some(earlier) = w.records[i].touched_line {
                let mut m = Message::from_code(code::RECORD_MERGED_EARLIER_LINE);
                m.message = format!("{} (line {earlier})", m.message.trim_end_matches('.'));
                msgs.push(m);
            } else if w.opts.mode == Mode::Create {
                msgs.push(Message::from_code(code::RECORD_EXISTING_NOT_UPDATED));
                let primary = w.primary(i);
                return result(input.line, Action::Skipped, Some(i), primary, msgs);
            }
            update(w, i, &input, &mut msgs);
            let primary = w.primary(i);
            result(input.line, Action::Updated, Some(i), primary, msgs)
        }
        None if w.opts.mode == Mode::Update => {
            msgs.push(Message::from_code(code::RECORD_NO_EXISTING));
            result(input.line, Action::Skipped, None, row_primary, msgs)
        }
        None => {
            // A new record needs its primary field and every required field.
            for f in w.schema.required() {
                if input.value(&f.key).is_some() {
                    continue;
                }
                let is_primary = w.schema.primary.as_deref() == Some(f.key.as_str());
                let mut m = Message::from_code(if is_primary {
                    code::RECORD_PRIMARY_MISSING
                } else {
                    code::RECORD_REQUIRED_MISSING
                })
                .field(f.key.clone());
                m.message = format!("A new record needs {}; this row gives none", f.label);
                msgs.push(m);
            }
            if msgs.iter().any(|m| m.level == Level::Error) {
                return result(input.line, Action::None, None, row_primary, msgs);
            }
            let i = w.records.len();
            w.records.push(PlannedRecord {
                id: None,
                before: None,
                values: input
                    .values
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                    .collect(),
                touched_line: Some(input.line),
                created_by_import: true,
                first_line: input.line,
                touched: true,
            });
            w.index(i);
            let primary = w.primary(i);
            result(input.line, Action::Created, Some(i), primary, msgs)
        }
    }
}

/// Applies a row to a record (SPEC §8 "Don't update empty values").
fn update(w: &mut Working<'_>, i: usize, input: &RecordInput, msgs: &mut Vec<Message>) {
    w.unindex(i);
    let r = &mut w.records[i];
    if r.id.is_some() && r.before.is_none() && !r.touched {
        r.before = Some(r.values.clone());
    }
    if !r.touched {
        r.first_line = input.line;
    }
    r.touched = true;
    r.touched_line = Some(input.line);
    for (k, v) in &input.values {
        match v {
            Some(v) => {
                r.values.insert(k.clone(), v.clone());
            }
            None if w.opts.no_update_empty => {}
            None if w.schema.is_never_cleared(k) => {
                let label = w.schema.label(k).unwrap_or(k);
                let mut m = Message::from_code(code::RECORD_BLANK_NOT_CLEARED).field(k.clone());
                m.message = format!(
                    "{label} is blank, but it is never emptied by an import; the cell was ignored"
                );
                msgs.push(m);
            }
            None => {
                r.values.remove(k);
            }
        }
    }
    w.index(i);
}

#[cfg(test)]
mod tests;
