//! Row → contact input (SPEC §5): every mapped cell read by its field's type. One bad cell
//! costs that field, never the row; the row fails only when what remains has no identifier.

use std::collections::{BTreeMap, HashMap};

use domain::DateOrder;
use domain::field::FieldKind;
use domain::message::{Message, code};
use domain::value::phone::{Region, parse_phone};
use domain::value::{self, Outcome, Read, ReadContext};

use crate::mapping::{ColumnUse, Target};
use crate::presets::DatePart;

/// What a row says about one contact, typed and checked. `values` holds every mapped scalar
/// field: `Some(text)` for a value in its stored form, `None` for a blank cell; a cell that
/// could not be read is absent (its warning is in `messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactInput {
    pub line: u64,
    /// The Contact ID cell, when mapped and not blank.
    pub contact_id: Option<String>,
    pub values: BTreeMap<String, Option<String>>,
    /// The all-channels Do Not Disturb column (SPEC §5.6), applied before per-channel ones.
    pub dnd_all: Option<bool>,
    pub tags: Vec<String>,
    pub additional_emails: Vec<String>,
    pub additional_phones: Vec<String>,
    pub note: Option<String>,
    pub messages: Vec<Message>,
    /// `email` / `phone` when the row's primary cell was blank and its first additional value
    /// stands in for it ([`promote_additional`]): it finds and creates the contact, but on an
    /// update it never replaces the contact's primary value (it is added as an additional
    /// value instead).
    pub promoted: Vec<&'static str>,
}

impl ContactInput {
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(|v| v.as_deref())
    }

    /// The line's primary value (SPEC §13.1): full name, else email, else phone.
    pub fn primary(&self) -> Option<String> {
        primary_of(|k| self.value(k).map(str::to_string))
    }

    pub fn has_error(&self) -> bool {
        self.messages
            .iter()
            .any(|m| m.level == domain::message::Level::Error)
    }
}

/// Full name, else email, else phone, from a field lookup.
pub fn primary_of(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    let name = [get("first_name"), get("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !name.trim().is_empty() {
        return Some(name);
    }
    get("email").or_else(|| get("phone"))
}

/// What reading rows needs besides the cells: the location's context and users, the import's
/// value mappings and tags for every row.
#[derive(Debug, Clone)]
pub struct RowContext {
    pub read: ReadContext,
    /// The location's users: (user id, email, full name), for Contact Owner (SPEC §5.5).
    pub users: Vec<(i64, String, String)>,
    /// `--map-value`: field key → (file value in lower case → option).
    pub value_map: HashMap<String, HashMap<String, String>>,
    /// `--tag`: tags added to every row, each as given.
    pub tags_for_all: Vec<String>,
    /// Per column, the day/month order its dates are read in when it is not the location's
    /// (SPEC §5.3: decided per column, from its values or the user's choice).
    pub date_orders: HashMap<usize, DateOrder>,
    /// `Some(date_1904)` for a workbook: a number in a date column is an Excel serial date
    /// (SPEC §5.3).
    pub workbook: Option<bool>,
    /// `(field key, value)`: what a line gets when its file gives none (a preset's or a
    /// migration's Type of Contact, SPEC §11), read as a cell of that field.
    pub defaults: Vec<(String, String)>,
    /// The columns of additional emails or phones whose first value may stand in for a blank
    /// primary ([`promote_additional`]): those ranked additional among several email or phone
    /// columns — never one headed Additional Emails / Additional Phone Numbers, which is
    /// additional by its own name (an export's, SPEC §10's round trip).
    pub promotable: std::collections::HashSet<usize>,
}

/// Reads one row. `cells` has one entry per column of `uses`.
pub fn read_row(line: u64, cells: &[String], uses: &[ColumnUse], ctx: &RowContext) -> ContactInput {
    let mut input = ContactInput {
        line,
        ..ContactInput::default()
    };
    // The row's Country decides the region of its phones (SPEC §5.10), so read it first.
    let mut region = Region::new(ctx.read.country.as_str()).unwrap_or(Region::US);
    for (cell, u) in cells.iter().zip(uses) {
        if let ColumnUse::Field(t) = u
            && t.kind == FieldKind::Country
            && let Outcome::Value(c) = value::read_country(value::unneutralise(cell)).outcome
            && let Some(r) = Region::new(c.as_str())
        {
            region = r;
        }
    }
    let mut parts: Vec<(&Target, DatePart, &str)> = Vec::new();
    // The first value of a promotable column, per list: (email, phone).
    let mut stand_ins: (Option<String>, Option<String>) = (None, None);
    for (column, (cell, u)) in cells.iter().zip(uses).enumerate() {
        let raw = value::unneutralise(cell);
        match u {
            ColumnUse::Field(t) => {
                let order = ctx.date_orders.get(&column).copied();
                let before = (input.additional_emails.len(), input.additional_phones.len());
                read_cell(&mut input, t, raw, region, ctx, order);
                if ctx.promotable.contains(&column) {
                    if stand_ins.0.is_none() {
                        stand_ins.0 = input.additional_emails.get(before.0).cloned();
                    }
                    if stand_ins.1.is_none() {
                        stand_ins.1 = input.additional_phones.get(before.1).cloned();
                    }
                }
            }
            ColumnUse::DatePart(t, part) => parts.push((t, *part, value::trim(raw))),
            ColumnUse::Unmatched | ColumnUse::Ignored => {}
        }
    }
    if !parts.is_empty() {
        read_date_parts(&mut input, &parts, ctx);
    }
    for (key, default) in &ctx.defaults {
        if input.value(key).is_none()
            && let Some(t) = domain::field::standard_field(key).map(Target::standard)
        {
            read_cell(&mut input, &t, default, region, ctx, None);
        }
    }
    for tag in &ctx.tags_for_all {
        if !input
            .tags
            .iter()
            .any(|t| value::tag_key(t) == value::tag_key(tag))
        {
            input.tags.push(tag.clone());
        }
    }
    promote_additional(&mut input, stand_ins);
    let has = |k: &str| input.value(k).is_some();
    if !has("first_name") && !has("email") && !has("phone") {
        input
            .messages
            .push(Message::from_code(code::ROW_NO_IDENTIFIER));
    }
    input
}

fn keep<T>(input: &mut ContactInput, t: &Target, read: Read<T>) -> Outcome<T> {
    let read = read.field(t.key.clone());
    input.messages.extend(read.messages);
    read.outcome
}

fn set(input: &mut ContactInput, key: &str, outcome: Outcome<String>) {
    match outcome {
        Outcome::Value(v) => {
            input.values.insert(key.to_string(), Some(v));
        }
        Outcome::Blank => {
            input.values.insert(key.to_string(), None);
        }
        Outcome::Invalid => {}
    }
}

fn map_outcome<T, U>(o: Outcome<T>, f: impl FnOnce(T) -> U) -> Outcome<U> {
    match o {
        Outcome::Value(v) => Outcome::Value(f(v)),
        Outcome::Blank => Outcome::Blank,
        Outcome::Invalid => Outcome::Invalid,
    }
}

fn read_phone_cell(raw: &str, region: Region, key: &str) -> Read<domain::value::phone::Phone> {
    let trimmed = value::trim(raw);
    if trimmed.is_empty() {
        return Read::blank();
    }
    match parse_phone(trimmed, region) {
        Ok(p) => Read::value(p),
        Err(m) => Read::invalid(m.field(key.to_string())),
    }
}

/// A row whose primary email (or phone) cell gives nothing while a column ranked additional
/// among several email (or phone) columns gives one: that column's first value stands in for
/// the primary, so the row is found and made by it — a file with several email or phone
/// columns (SPEC §6.1) whose first column is blank on a line still identifies that line's
/// person, and importing the file again finds the contact it made instead of making another.
fn promote_additional(input: &mut ContactInput, stand_ins: (Option<String>, Option<String>)) {
    let (email, phone) = stand_ins;
    if let Some(e) = email.filter(|_| input.value("email").is_none()) {
        input.additional_emails.retain(|x| *x != e);
        input.values.insert("email".into(), Some(e));
        input.promoted.push("email");
    }
    if let Some(p) = phone.filter(|_| input.value("phone").is_none()) {
        input.additional_phones.retain(|x| *x != p);
        input.values.insert("phone".into(), Some(p));
        input.promoted.push("phone");
    }
}

/// A date given in three columns (year, month, day; SPEC §11), read as `YYYY-MM-DD`. All
/// three blank is a blank date; some blank, or not numbers, is `date.invalid` naming them.
fn read_date_parts(
    input: &mut ContactInput,
    parts: &[(&Target, DatePart, &str)],
    ctx: &RowContext,
) {
    let mut keys: Vec<&str> = parts.iter().map(|(t, ..)| t.key.as_str()).collect();
    keys.dedup();
    for key in keys {
        let mine: Vec<&(&Target, DatePart, &str)> =
            parts.iter().filter(|(t, ..)| t.key == key).collect();
        let t = mine[0].0;
        let get = |p: DatePart| {
            mine.iter()
                .find(|(_, q, _)| *q == p)
                .map(|(_, _, v)| *v)
                .unwrap_or("")
        };
        let (y, m, d) = (
            get(DatePart::Year),
            get(DatePart::Month),
            get(DatePart::Day),
        );
        if y.is_empty() && m.is_empty() && d.is_empty() {
            set(input, key, Outcome::Blank);
            continue;
        }
        let numeric = |v: &str, len: std::ops::RangeInclusive<usize>| {
            len.contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
        };
        // Written as ISO (`1985-03-07`) so the date reader checks the calendar; parts that
        // are not numbers give the reader what was written, which it refuses.
        let raw = if numeric(y, 4..=4) && numeric(m, 1..=2) && numeric(d, 1..=2) {
            format!("{y}-{m:0>2}-{d:0>2}")
        } else {
            format!("{y}-{m}-{d}")
        };
        let o = keep(input, t, value::read_date(&raw, &ctx.read));
        set(input, key, map_outcome(o, |d| d.to_string()));
    }
}

fn read_cell(
    input: &mut ContactInput,
    t: &Target,
    raw: &str,
    region: Region,
    ctx: &RowContext,
    order: Option<DateOrder>,
) {
    let key = t.key.as_str();
    // A value the user mapped to an option (`--map-value`) reads as that option.
    let mapped;
    let raw = match ctx
        .value_map
        .get(key)
        .and_then(|m| m.get(&value::trim(raw).to_lowercase()))
    {
        Some(option) => {
            mapped = option.clone();
            mapped.as_str()
        }
        None => raw,
    };
    match t.kind {
        FieldKind::Id => {
            let v = value::trim(raw);
            if !v.is_empty() {
                input.contact_id = Some(v.to_string());
            }
        }
        FieldKind::Text => {
            let o = keep(input, t, value::read_text(raw));
            set(input, key, o)
        }
        FieldKind::LargeText if key == "note" => {
            if let Outcome::Value(n) = keep(input, t, value::read_note(raw)) {
                input.note = Some(n);
            }
        }
        FieldKind::LargeText => {
            let o = keep(input, t, value::read_large_text(raw));
            set(input, key, o)
        }
        FieldKind::Number => {
            let o = keep(input, t, value::read_number(raw));
            set(input, key, map_outcome(o, |d| d.normalize().to_string()))
        }
        FieldKind::Monetary => {
            let o = keep(input, t, value::read_money(raw, &ctx.read));
            set(input, key, map_outcome(o, |m| m.amount.to_string()))
        }
        FieldKind::Date => {
            // In a workbook, a number in a date column is an Excel serial date (SPEC §5.3).
            let serial = ctx
                .workbook
                .and_then(|is_1904| value::excel_serial_date(raw, is_1904));
            let o = match serial {
                Some(d) => Outcome::Value(d),
                None => keep(
                    input,
                    t,
                    value::read_date_in(raw, &ctx.read, order.unwrap_or(ctx.read.date_order)),
                ),
            };
            set(input, key, map_outcome(o, |d| d.to_string()))
        }
        FieldKind::SingleOption | FieldKind::Radio => {
            let o = keep(input, t, value::read_single_option(raw, &t.options));
            set(input, key, o)
        }
        FieldKind::MultiSelect | FieldKind::Checkbox => {
            let o = keep(input, t, value::read_multi_option(raw, &t.options));
            set(input, key, map_outcome(o, |v| v.join(", ")))
        }
        FieldKind::TextboxList => {
            let o = keep(input, t, value::read_textbox_list(raw));
            set(input, key, map_outcome(o, |v| v.join(", ")))
        }
        FieldKind::Phone => {
            let o = keep(input, t, read_phone_cell(raw, region, key));
            if key == "phone" {
                match &o {
                    Outcome::Value(p) => {
                        if let Some(ext) = p.extension() {
                            input
                                .values
                                .insert("phone_extension".into(), Some(ext.to_string()));
                        }
                    }
                    Outcome::Blank => {}
                    Outcome::Invalid => {}
                }
            }
            set(input, key, map_outcome(o, |p| p.e164().to_string()))
        }
        FieldKind::Email => {
            let o = keep(input, t, value::read_email(raw));
            set(input, key, map_outcome(o, |e| e.as_str().to_string()))
        }
        FieldKind::EmailList => {
            // Several columns may feed it (SPEC §6.1): joined in column order, each once.
            if let Outcome::Value(list) = keep(input, t, value::read_email_list(raw)) {
                for e in list {
                    if !input.additional_emails.iter().any(|x| x == e.as_str()) {
                        input.additional_emails.push(e.as_str().to_string());
                    }
                }
            }
        }
        FieldKind::PhoneList => {
            for piece in value::split_phone_list(raw) {
                if let Outcome::Value(p) = keep(input, t, read_phone_cell(piece, region, key))
                    && !input.additional_phones.iter().any(|x| x == p.e164())
                {
                    input.additional_phones.push(p.e164().to_string());
                }
            }
        }
        FieldKind::Boolean => {
            let o = keep(input, t, value::read_boolean(raw));
            if key == "dnd" {
                if let Outcome::Value(b) = o {
                    input.dnd_all = Some(b);
                }
            } else {
                set(input, key, map_outcome(o, |b| b.to_string()))
            }
        }
        FieldKind::User => {
            let v = value::trim(raw);
            if v.is_empty() {
                input.values.insert(key.to_string(), None);
            } else if let Some((id, _, _)) = ctx.users.iter().find(|(_, email, name)| {
                email.eq_ignore_ascii_case(v) || name.to_lowercase() == v.to_lowercase()
            }) {
                input.values.insert(key.to_string(), Some(id.to_string()));
            } else {
                input.messages.push(
                    Message::from_code(code::OWNER_UNKNOWN)
                        .field(key.to_string())
                        .value(v),
                );
            }
        }
        FieldKind::Tags => {
            if let Outcome::Value(tags) = keep(input, t, value::read_tags(raw)) {
                for tag in tags {
                    if !input
                        .tags
                        .iter()
                        .any(|x| value::tag_key(x) == value::tag_key(&tag))
                    {
                        input.tags.push(tag);
                    }
                }
            }
        }
        FieldKind::Country => {
            let o = keep(input, t, value::read_country(raw));
            set(input, key, map_outcome(o, |c| c.as_str().to_string()))
        }
        FieldKind::TimeZone => {
            let o = keep(input, t, value::read_time_zone(raw));
            set(input, key, map_outcome(o, |z| z.as_str().to_string()))
        }
        // Refused at mapping (SPEC §5.14); never reached.
        FieldKind::FileUpload | FieldKind::Signature => {}
    }
}

#[cfg(test)]
mod tests;
