//! Row → contact input (SPEC §5): every mapped cell read by its field's type. One bad cell
//! costs that field, never the row; the row fails only when what remains has no identifier.

use std::collections::{BTreeMap, HashMap};

use domain::DateOrder;
use domain::field::FieldKind;
use domain::message::{Message, code};
use domain::value::phone::{Phone, Region, parse_phone};
use domain::value::{self, Email, Outcome, Read, ReadContext};

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

/// Reads one row. `cells` has one entry per column of `uses`. Reads every cell afresh; an
/// import reads its rows through [`read_row_with`] and one [`RowCache`].
pub fn read_row(line: u64, cells: &[String], uses: &[ColumnUse], ctx: &RowContext) -> ContactInput {
    read_row_with(line, cells, uses, ctx, &mut RowCache::off())
}

/// Reads one row, reading each distinct cell value of a column whose values repeat (see
/// [`RowCache`]) once: the same [`ContactInput`] as [`read_row`].
pub fn read_row_with(
    line: u64,
    cells: &[String],
    uses: &[ColumnUse],
    ctx: &RowContext,
    cache: &mut RowCache,
) -> ContactInput {
    let (mut input, stand_ins) = read_cells(line, cells, uses, ctx, cache);
    if !ctx.defaults.is_empty() {
        let region = row_region(cells, uses, ctx, cache);
        for (key, default) in &ctx.defaults {
            if input.value(key).is_none()
                && let Some(t) = domain::field::standard_field(key).map(Target::standard)
            {
                read_cell(&mut input, &t, default, region, ctx, None);
            }
        }
    }
    for tag in &ctx.tags_for_all {
        if !input.tags.iter().any(|t| value::same_tag(t, tag)) {
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

/// Reads one row of a company or custom object import (SPEC §8): every mapped cell by its
/// field's type, as [`read_row_with`] reads a contact's, without the contact's rules (line
/// defaults, tags for every row, additional values standing in for a primary, the row's
/// identifier). The Record ID cell is in `contact_id`.
pub fn read_record_with(
    line: u64,
    cells: &[String],
    uses: &[ColumnUse],
    ctx: &RowContext,
    cache: &mut RowCache,
) -> ContactInput {
    read_cells(line, cells, uses, ctx, cache).0
}

/// The region a row's phones are read in: its Country's, else the location's (SPEC §5.10).
fn row_region(
    cells: &[String],
    uses: &[ColumnUse],
    ctx: &RowContext,
    cache: &mut RowCache,
) -> Region {
    let mut region = Region::new(ctx.read.country.as_str()).unwrap_or(Region::US);
    for (column, (cell, u)) in cells.iter().zip(uses).enumerate() {
        if let ColumnUse::Field(t) = u
            && t.kind == FieldKind::Country
            && let Some(c) = cache
                .read(
                    column,
                    t,
                    value::unneutralise(cell),
                    ctx,
                    ctx.date_orders.get(&column).copied(),
                )
                .country
            && let Some(r) = Region::new(c.as_str())
        {
            region = r;
        }
    }
    region
}

/// Every mapped cell of a row read by its field's type, and the first value of each
/// promotable column (email, phone).
fn read_cells(
    line: u64,
    cells: &[String],
    uses: &[ColumnUse],
    ctx: &RowContext,
    cache: &mut RowCache,
) -> (ContactInput, (Option<String>, Option<String>)) {
    let mut input = ContactInput {
        line,
        ..ContactInput::default()
    };
    // The row's Country decides the region of its phones (SPEC §5.10), so read it first.
    let region = row_region(cells, uses, ctx, cache);
    let mut parts: Vec<(&Target, DatePart, &str)> = Vec::new();
    // The first value of a promotable column, per list: (email, phone).
    let mut stand_ins: (Option<String>, Option<String>) = (None, None);
    for (column, (cell, u)) in cells.iter().zip(uses).enumerate() {
        let raw = value::unneutralise(cell);
        match u {
            ColumnUse::Field(t) if repeats(t.kind) => {
                let order = ctx.date_orders.get(&column).copied();
                apply(&mut input, &t.key, &cache.read(column, t, raw, ctx, order));
            }
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
    (input, stand_ins)
}

/// The field kinds whose cells repeat down a column — a few countries, time zones, options,
/// owners, tag lists and dates in thousands of rows — and read the same whatever the row:
/// read through [`RowCache`], once per distinct value of a column.
fn repeats(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::Country
            | FieldKind::TimeZone
            | FieldKind::SingleOption
            | FieldKind::Radio
            | FieldKind::MultiSelect
            | FieldKind::Checkbox
            | FieldKind::User
            | FieldKind::Tags
            | FieldKind::Date
    )
}

/// What a cell of a [`repeats`] kind gives its row, whatever the row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CellRead {
    /// The field's stored value (`Some(None)`: blank); `None` leaves the field out (a cell that
    /// could not be read, or a Tags cell).
    value: Option<Option<String>>,
    /// A Tags cell's tags, merged into the row's.
    tags: Vec<String>,
    /// The cell's messages, naming the field.
    messages: Vec<Message>,
    /// A Country cell's country: the region of the row's phones.
    country: Option<domain::value::CountryCode>,
}

impl CellRead {
    /// About what it holds, in bytes, for [`RowCache`]'s bound.
    fn weight(&self, key: &str) -> usize {
        let message = |m: &Message| {
            m.field.as_ref().map_or(0, |f| f.len())
                + m.value.as_ref().map_or(0, String::len)
                + m.message.len()
                + m.resolution.len()
                + 96
        };
        128 + key.len()
            + self
                .value
                .as_ref()
                .and_then(Option::as_ref)
                .map_or(0, String::len)
            + self.tags.iter().map(|t| t.len() + 24).sum::<usize>()
            + self.messages.iter().map(message).sum::<usize>()
    }
}

/// Per column, what each distinct cell value of a [`repeats`] kind read as, so a file that
/// repeats itself — `USA` in a quarter of its Country cells, `Lead` or `Patient` in every Type
/// cell — reads each value once. Bounded: a column keeps at most [`RowCache::ENTRIES`] values
/// and about [`RowCache::BYTES`] bytes, and a cell longer than [`RowCache::LONGEST`] bytes is
/// never kept; past the bound, new values are read afresh each time (the first ones met stay,
/// which in a file that repeats itself are the ones that repeat). One per import, on the
/// thread that reads its rows; what it gives is what [`read_row`] gives.
#[derive(Debug)]
pub struct RowCache {
    columns: Vec<ColumnCache>,
    entries: usize,
    bytes: usize,
}

#[derive(Debug, Default)]
struct ColumnCache {
    reads: HashMap<Box<str>, CellRead>,
    bytes: usize,
}

impl Default for RowCache {
    fn default() -> Self {
        RowCache::new()
    }
}

impl RowCache {
    /// The most distinct values a column keeps.
    pub const ENTRIES: usize = 4096;
    /// About the most bytes a column's kept values hold.
    pub const BYTES: usize = 1 << 20;
    /// The longest cell kept, in bytes.
    pub const LONGEST: usize = 256;

    pub fn new() -> Self {
        RowCache::with_bounds(Self::ENTRIES, Self::BYTES)
    }

    /// A cache that keeps nothing: every cell is read afresh.
    pub fn off() -> Self {
        RowCache::with_bounds(0, 0)
    }

    /// A cache with other bounds (tests use small ones).
    pub fn with_bounds(entries: usize, bytes: usize) -> Self {
        RowCache {
            columns: Vec::new(),
            entries,
            bytes,
        }
    }

    /// How many values it keeps, over every column, and about how many bytes they hold.
    pub fn size(&self) -> (usize, usize) {
        self.columns
            .iter()
            .fold((0, 0), |(n, b), c| (n + c.reads.len(), b + c.bytes))
    }

    /// The cell of `column` (mapped to `t`, a [`repeats`] kind) as read: kept, or read now.
    fn read(
        &mut self,
        column: usize,
        t: &Target,
        raw: &str,
        ctx: &RowContext,
        order: Option<DateOrder>,
    ) -> std::borrow::Cow<'_, CellRead> {
        use std::borrow::Cow;
        if self.entries == 0 || raw.len() > Self::LONGEST {
            return Cow::Owned(read_repeating(t, raw, ctx, order));
        }
        if self.columns.len() <= column {
            self.columns.resize_with(column + 1, ColumnCache::default);
        }
        let (entries, bytes) = (self.entries, self.bytes);
        let c = &mut self.columns[column];
        // Looked up twice on a first meeting (once to miss, once to keep): a hit, by far the
        // common case, borrows the key instead of allocating one.
        if c.reads.contains_key(raw) {
            return Cow::Borrowed(&c.reads[raw]);
        }
        let read = read_repeating(t, raw, ctx, order);
        let weight = read.weight(raw);
        if c.reads.len() >= entries || c.bytes + weight > bytes {
            return Cow::Owned(read);
        }
        c.bytes += weight;
        Cow::Borrowed(c.reads.entry(raw.into()).or_insert(read))
    }
}

/// Gives the row what a cell of a [`repeats`] kind read as.
fn apply(input: &mut ContactInput, key: &str, read: &CellRead) {
    input.messages.extend(read.messages.iter().cloned());
    if let Some(v) = &read.value {
        input.values.insert(key.to_string(), v.clone());
    }
    for tag in &read.tags {
        if !input.tags.iter().any(|x| value::same_tag(x, tag)) {
            input.tags.push(tag.clone());
        }
    }
}

fn keep<T>(input: &mut ContactInput, t: &Target, read: Read<T>) -> Outcome<T> {
    named(&mut input.messages, t, read)
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
    if repeats(t.kind) {
        apply(input, key, &read_repeating(t, raw, ctx, order));
        return;
    }
    // A value the user mapped to an option (`--map-value`) reads as that option.
    let mapped;
    let raw = match mapped_value(ctx, key, raw) {
        Some(option) => {
            mapped = option;
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
            set(input, key, map_outcome(o, Phone::into_e164))
        }
        FieldKind::Email => {
            let o = keep(input, t, value::read_email(raw));
            set(input, key, map_outcome(o, Email::into_string))
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
        // Read by `read_repeating`.
        FieldKind::Date
        | FieldKind::SingleOption
        | FieldKind::Radio
        | FieldKind::MultiSelect
        | FieldKind::Checkbox
        | FieldKind::User
        | FieldKind::Tags
        | FieldKind::Country
        | FieldKind::TimeZone => {}
        // Refused at mapping (SPEC §5.14); never reached.
        FieldKind::FileUpload | FieldKind::Signature => {}
    }
}

/// Reads a cell of a [`repeats`] kind (any other kind reads as nothing).
fn read_repeating(t: &Target, raw: &str, ctx: &RowContext, order: Option<DateOrder>) -> CellRead {
    let key = t.key.as_str();
    let mapped;
    let raw = match mapped_value(ctx, key, raw) {
        Some(option) => {
            mapped = option;
            mapped.as_str()
        }
        None => raw,
    };
    let mut read = CellRead::default();
    let m = &mut read.messages;
    let outcome = match t.kind {
        FieldKind::Country => {
            let o = named(m, t, value::read_country(raw));
            if let Outcome::Value(c) = &o {
                read.country = Some(*c);
            }
            map_outcome(o, |c| c.as_str().to_string())
        }
        FieldKind::TimeZone => map_outcome(named(m, t, value::read_time_zone(raw)), |z| {
            z.as_str().to_string()
        }),
        FieldKind::SingleOption | FieldKind::Radio => {
            named(m, t, value::read_single_option(raw, &t.options))
        }
        FieldKind::MultiSelect | FieldKind::Checkbox => map_outcome(
            named(m, t, value::read_multi_option(raw, &t.options)),
            |v| v.join(", "),
        ),
        FieldKind::Date => {
            // In a workbook, a number in a date column is an Excel serial date (SPEC §5.3).
            let serial = ctx
                .workbook
                .and_then(|is_1904| value::excel_serial_date(raw, is_1904));
            let o = match serial {
                Some(d) => Outcome::Value(d),
                None => named(
                    m,
                    t,
                    value::read_date_in(raw, &ctx.read, order.unwrap_or(ctx.read.date_order)),
                ),
            };
            map_outcome(o, |d| d.to_string())
        }
        FieldKind::User => {
            let v = value::trim(raw);
            if v.is_empty() {
                Outcome::Blank
            } else if let Some((id, _, _)) = ctx.users.iter().find(|(_, email, name)| {
                email.eq_ignore_ascii_case(v) || name.to_lowercase() == v.to_lowercase()
            }) {
                Outcome::Value(id.to_string())
            } else {
                m.push(
                    Message::from_code(code::OWNER_UNKNOWN)
                        .field(key.to_string())
                        .value(v),
                );
                Outcome::Invalid
            }
        }
        FieldKind::Tags => {
            if let Outcome::Value(tags) = named(m, t, value::read_tags(raw)) {
                read.tags = tags;
            }
            // A Tags cell adds tags; it sets no field.
            Outcome::Invalid
        }
        // Not a kind that repeats: read by `read_cell`.
        _ => Outcome::Invalid,
    };
    read.value = match outcome {
        Outcome::Value(v) => Some(Some(v)),
        Outcome::Blank => Some(None),
        Outcome::Invalid => None,
    };
    read
}

/// The option a `--map-value` maps the cell to, if any (looked up only for a field that has
/// such a mapping, so other cells are not lower-cased for nothing).
fn mapped_value(ctx: &RowContext, key: &str, raw: &str) -> Option<String> {
    ctx.value_map
        .get(key)
        .and_then(|m| m.get(&value::trim(raw).to_lowercase()))
        .cloned()
}

/// A reader's outcome, its messages (named with the field) added to `messages`.
fn named<T>(messages: &mut Vec<Message>, t: &Target, read: Read<T>) -> Outcome<T> {
    if read.messages.is_empty() {
        return read.outcome;
    }
    let read = read.field(t.key.clone());
    messages.extend(read.messages);
    read.outcome
}

#[cfg(test)]
mod tests;
