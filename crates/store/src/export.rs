//! The row source of an export (SPEC §7, §10), for any object the reader knows
//! ([`ObjectKind`]: contacts, opportunities): a location's records — all of them, contacts
//! matching §13.1 filters (a Smart List's, or the admin's own), the opportunities of one
//! pipeline, or explicit ids — read in keyset-paged batches of [`BATCH_ROWS`], so an export of
//! a million records never holds more than one batch in memory. The object decides the
//! statement's `FROM` (an opportunity's pipeline, stage and linked contact are joined, each
//! join on the same location) and which [`ExportField`]s exist; the rest — batches, lanes,
//! keyset, custom values — is one code path for every object. A selection by filters comes oldest first — by `(created_at, id)`,
//! along the index `contacts (location_id, created_at, id)` —, explicit ids by ascending id.
//!
//! Each batch is one statement over `contacts` (with `custom_values` read whole and the
//! wanted keys picked out in Rust, cheaper than a `json_extract` per key), then one side
//! statement per list field — tags, additional emails, additional phones, notes — over the
//! batch's contacts: by their id range when it is dense (one index range scan), else by their
//! ids. A location's tag names are read once per export.
//!
//! The store reads; it never formats. Each requested [`ExportField`] becomes one cell of text
//! per row, in the stored form the import writes: DND flags
//! `true`/`false`, Contact Owner a user id, Created Date as stored plus the row's creation time
//! in milliseconds, custom values as their stored text. Tags and additional emails and phones
//! come joined with `", "` — tags in the order the location first had them, the others in
//! their stored order —, and the latest note whole; choosing labels,
//! truncating, neutralising and quoting is the caller's (`jobs::export`).
//!
//! On SQLite the batches are read through `rusqlite` on blocking threads, on read-only
//! connections of their own (WAL lets them read beside the pool's writers): sqlx's SQLite
//! driver copies every value of every row through a channel (`sqlite3_value_dup`), which
//! measured about four times slower than `sqlite3 -csv` on a million rows, while rusqlite reads
//! the values where SQLite holds them. A round reads [`LANES`] batches at once, one per
//! connection. PostgreSQL reads the same statements through sqlx.
//!
//! Every statement is scoped by location: the contacts by `c.location_id = $1`; the side
//! statements by `location_id = $1` (written `+location_id`, so SQLite keeps to the index on
//! `contact_id`), except the tag links, scoped through the batch's contacts and the location's
//! own tags (see [`side_sql`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use sqlx::Row;

use domain::ObjectKind;

use crate::claims::{AfterChunk, Lease};
use crate::smart_lists::{Arg, Filter, where_sql};
use crate::{Db, LocationId, Result, Store, StoreError, now_ms, on_pool};

/// Contacts read per batch.
pub const BATCH_ROWS: usize = 1000;

/// Which contacts an export reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportScope {
    /// Those matching every filter (none: every contact of the location).
    Filters(Vec<Filter>),
    /// These ids (of the location; others are simply not found).
    Ids(Vec<i64>),
    /// The opportunities of one pipeline of the location (opportunities only).
    Pipeline(i64),
}

/// One value an export reads per contact, as text (NULL when the contact has none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExportField {
    /// The contact's id.
    Id,
    /// A standard field kept in a text column, by field key (`first_name`, `created_at` for
    /// the imported Created Date, …).
    Text(&'static str),
    /// A per-channel DND flag (`dnd_sms`, …): `true` or `false`.
    Flag(&'static str),
    /// Contact Owner: the user id.
    Owner,
    /// When the row was created, in milliseconds since the epoch.
    CreatedMs,
    /// A custom field's stored value, by key.
    Custom(String),
    /// The tag names, joined with `", "` in the order they were added.
    Tags,
    /// The additional emails, joined with `", "` in their order.
    AdditionalEmails,
    /// The additional phones, joined with `", "` in their order.
    AdditionalPhones,
    /// The body of the contact's latest note, whole.
    LatestNote,
    /// A field of the record's linked contact (an opportunity's): `contact_id`, or the key of
    /// a standard contact field kept in a text column.
    Linked(&'static str),
}

/// An opportunity's standard fields kept in a column, by field key (SPEC §7): the expression
/// over `opportunities c`, `pipelines p`, `stages s`.
const OPPORTUNITY_COLUMNS: &[(&str, &str)] = &[
    ("opportunity_name", "c.name"),
    ("pipeline", "p.name"),
    ("stage", "s.name"),
    ("opportunity_status", "c.status"),
    ("opportunity_value", "c.monetary_value"),
    ("opportunity_source", "c.source"),
];

/// What an export of `object` reads from: its table as `c`, and what it joins. A company's
/// or custom object's records are `object_records` of that object, seen with a contact's
/// column names (`id` the record id, `custom_values` every field by key), so batches, keyset
/// and custom values read them as they read contacts.
fn from_clause(object: &ObjectKind) -> Result<String> {
    match object {
        ObjectKind::Contact => Ok("contacts c".into()),
        ObjectKind::Opportunity => Ok(
            "opportunities c JOIN pipelines p ON p.id = c.pipeline_id AND p.location_id = c.location_id \
             JOIN stages s ON s.id = c.stage_id AND s.location_id = c.location_id \
             LEFT JOIN contacts k ON k.id = c.contact_id AND k.location_id = c.location_id"
                .into(),
        ),
        other => {
            let stored = other.as_stored();
            // Keys are lower-case letters, digits and `_` (SPEC §13.1); anything else is no
            // object of ours, and never reaches the statement.
            if !stored
                .chars()
                .all(|ch| ch == '_' || ch == ':' || ch.is_alphanumeric())
            {
                return Err(StoreError::Invalid(format!(
                    "'{stored}' is not an object key"
                )));
            }
            Ok(format!(
                "(SELECT location_id, record_id AS id, created_at, field_values AS custom_values \
                 FROM object_records WHERE object = '{stored}') c"
            ))
        }
    }
}

/// A batch of rows: one id and one cell per requested field each, the text kept in one
/// buffer (no allocation per cell).
#[derive(Debug, Clone, Default)]
pub struct ExportBatch {
    width: usize,
    ids: Vec<i64>,
    /// Each row's `created_at`: the keyset of the next batch.
    created: Vec<i64>,
    text: String,
    /// Per cell, its byte range in `text`; `(u32::MAX, 0)` is NULL.
    spans: Vec<(u32, u32)>,
}

const NULL: (u32, u32) = (u32::MAX, 0);

impl ExportBatch {
    fn new(width: usize) -> ExportBatch {
        ExportBatch {
            width,
            ids: Vec::with_capacity(BATCH_ROWS),
            created: Vec::with_capacity(BATCH_ROWS),
            text: String::with_capacity(BATCH_ROWS * width * 12),
            spans: Vec::with_capacity(BATCH_ROWS * width),
        }
    }

    /// Starts a row with every cell NULL (but `created_ms`, when asked for); returns its
    /// index.
    fn begin_row(&mut self, id: i64, created: i64, created_ms: Option<usize>) -> usize {
        use std::fmt::Write;
        self.ids.push(id);
        self.created.push(created);
        self.spans.resize(self.spans.len() + self.width, NULL);
        let row = self.ids.len() - 1;
        if let Some(field) = created_ms {
            let start = self.text.len() as u32;
            let _ = write!(self.text, "{created}");
            self.spans[row * self.width + field] = (start, self.text.len() as u32);
        }
        row
    }

    /// Sets a cell of a row (a later value replaces an earlier one).
    fn set(&mut self, row: usize, field: usize, value: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(value);
        self.spans[row * self.width + field] = (start, self.text.len() as u32);
    }

    /// Appends `value` to a list cell, after `", "` when it holds one already. The cell must
    /// be the last one written (side queries come grouped by contact).
    fn append(&mut self, row: usize, field: usize, value: &str) {
        let span = &mut self.spans[row * self.width + field];
        if span.0 == u32::MAX {
            let start = self.text.len() as u32;
            self.text.push_str(value);
            *span = (start, self.text.len() as u32);
        } else {
            debug_assert_eq!(span.1 as usize, self.text.len(), "appends come grouped");
            self.text.push_str(", ");
            self.text.push_str(value);
            span.1 = self.text.len() as u32;
        }
    }

    /// (contact id, row) sorted by id, to file side rows under their contacts.
    fn rows_by_id(&self) -> Vec<(i64, usize)> {
        let mut rows: Vec<(i64, usize)> = self.ids.iter().copied().zip(0..).collect();
        rows.sort_unstable();
        rows
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The contact id of row `row`.
    pub fn id(&self, row: usize) -> i64 {
        self.ids[row]
    }

    /// The cell of row `row` for the `field`-th requested field.
    pub fn cell(&self, row: usize, field: usize) -> Option<&str> {
        let (start, end) = self.spans[row * self.width + field];
        (start != u32::MAX).then(|| &self.text[start as usize..end as usize])
    }
}

/// How a reader gets each requested field: a column of the main statement, a key of the
/// `custom_values` JSON, or a side statement over the batch's contacts.
#[derive(Debug, Clone, Default)]
struct Plan {
    /// The main statement's columns after `id, created_at`: (field index, expression).
    columns: Vec<(usize, String)>,
    /// Custom values, read from `custom_values` (selected last): (field index, key).
    custom: Vec<(usize, String)>,
    tags: Option<usize>,
    emails: Option<usize>,
    phones: Option<usize>,
    note: Option<usize>,
    /// `created_at` as text, from the keyset column.
    created_ms: Option<usize>,
}

impl Plan {
    /// How to read `fields` of `object`; a field the object does not have is `Invalid`.
    fn new(object: &ObjectKind, fields: &[ExportField]) -> Result<Plan> {
        let contact = *object == ObjectKind::Contact;
        let lacks = |field: &ExportField| {
            StoreError::Invalid(format!("an export of {object} cannot read {field:?}"))
        };
        let mut plan = Plan::default();
        for (i, field) in fields.iter().enumerate() {
            let column = match field {
                ExportField::Id => "CAST(c.id AS TEXT)".to_string(),
                ExportField::Text(key) if !contact => OPPORTUNITY_COLUMNS
                    .iter()
                    .find(|(k, _)| k == key)
                    .filter(|_| *object == ObjectKind::Opportunity)
                    .map(|(_, c)| (*c).to_string())
                    .ok_or_else(|| lacks(field))?,
                ExportField::Linked(key) if *object == ObjectKind::Opportunity => {
                    if *key == "contact_id" {
                        "CAST(k.id AS TEXT)".to_string()
                    } else {
                        crate::import::TEXT_COLUMNS
                            .iter()
                            .find(|(k, _)| k == key)
                            .map(|(_, c)| format!("k.{c}"))
                            .ok_or_else(|| lacks(field))?
                    }
                }
                ExportField::Linked(_)
                | ExportField::Flag(_)
                | ExportField::Tags
                | ExportField::AdditionalEmails
                | ExportField::AdditionalPhones
                | ExportField::LatestNote
                    if !contact =>
                {
                    return Err(lacks(field));
                }
                ExportField::Linked(_) => return Err(lacks(field)),
                ExportField::Text(key) => {
                    let column = crate::import::TEXT_COLUMNS
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, c)| *c)
                        .expect("ExportField::Text names a text column of contacts");
                    format!("c.{column}")
                }
                ExportField::Flag(column) => {
                    assert!(
                        crate::import::BOOL_COLUMNS.contains(column),
                        "ExportField::Flag names a DND column"
                    );
                    format!("CASE WHEN c.{column} THEN 'true' ELSE 'false' END")
                }
                ExportField::Owner => "CAST(c.owner_user_id AS TEXT)".into(),
                ExportField::CreatedMs => {
                    // Read as the keyset's `created_at` already.
                    plan.created_ms = Some(i);
                    continue;
                }
                ExportField::Custom(key) => {
                    plan.custom.push((i, key.clone()));
                    continue;
                }
                ExportField::Tags => {
                    plan.tags = Some(i);
                    continue;
                }
                ExportField::AdditionalEmails => {
                    plan.emails = Some(i);
                    continue;
                }
                ExportField::AdditionalPhones => {
                    plan.phones = Some(i);
                    continue;
                }
                ExportField::LatestNote => {
                    plan.note = Some(i);
                    continue;
                }
            };
            plan.columns.push((i, column));
        }
        Ok(plan)
    }
}

/// The main statement: the planned columns, the scope's condition, and the keyset.
fn batch_sql(plan: &Plan, from: &str, condition: &str, first_key: usize, ids: bool) -> String {
    let (keyset, order) = if ids {
        // An explicit selection: the next ids of the sorted list, each a parameter.
        (
            format!(
                "c.id IN ({})",
                (first_key..first_key + BATCH_ROWS)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "c.id",
        )
    } else {
        // Oldest first, along the index `contacts (location_id, created_at, id)`.
        (
            format!("(c.created_at, c.id) > (${first_key}, ${})", first_key + 1),
            "c.created_at, c.id",
        )
    };
    // Lanes after the first read the batches that follow it in the same round.
    let offset = if ids {
        String::new()
    } else {
        format!(" OFFSET ${}", first_key + 2)
    };
    let mut select = String::from("c.id, c.created_at");
    for (_, column) in &plan.columns {
        select.push_str(", ");
        select.push_str(column);
    }
    if !plan.custom.is_empty() {
        select.push_str(", c.custom_values");
    }
    format!(
        "SELECT {select} FROM {from} WHERE {condition} AND {keyset} ORDER BY {order} LIMIT {BATCH_ROWS}{offset}"
    )
}

/// Which side statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Tags,
    Emails,
    Phones,
    Note,
}

/// A side statement over a batch's contacts: `$1` the location (but for tags), then the
/// contacts by a range of ids (two parameters) or by a list of [`BATCH_ROWS`] ids. Rows come
/// grouped by contact, in the order their values are listed.
///
/// Tag links are read through the index on `(contact_id, tag_id)` alone, without their
/// `location_id` (whose lookup in the table would double the read): the contacts are the
/// batch's, read under the location; a link belongs to its contact's location; and a tag id
/// becomes a name only through the location's own tags, read under the location.
fn side_sql(side: Side, by_list: bool) -> String {
    let first = if side == Side::Tags { 1 } else { 2 };
    let contacts = if by_list {
        format!(
            "contact_id IN ({})",
            (first..first + BATCH_ROWS)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!("contact_id >= ${first} AND contact_id <= ${}", first + 1)
    };
    match side {
        Side::Tags => format!(
            "SELECT contact_id, tag_id FROM contact_tags WHERE {contacts} ORDER BY contact_id, tag_id"
        ),
        Side::Emails => format!(
            "SELECT contact_id, email FROM contact_emails WHERE {contacts} AND +location_id = $1 ORDER BY contact_id, position"
        ),
        Side::Phones => format!(
            "SELECT contact_id, phone FROM contact_phones WHERE {contacts} AND +location_id = $1 ORDER BY contact_id, position"
        ),
        Side::Note => format!(
            "SELECT contact_id, body FROM notes WHERE {contacts} AND +location_id = $1 ORDER BY contact_id, id"
        ),
    }
}

/// Whether a batch's ids are dense enough to read its side rows by range rather than by list.
fn by_range(ids: &[i64]) -> bool {
    match (ids.iter().min(), ids.iter().max()) {
        (Some(lo), Some(hi)) => hi - lo < 4 * ids.len() as i64 + 64,
        _ => true,
    }
}

/// The side statements' ids: the range `[lo, hi]`, or the list padded to [`BATCH_ROWS`]
/// with its last id (which changes nothing in an `IN`).
fn side_keys(ids: &[i64], range: bool) -> Vec<i64> {
    if range {
        vec![
            *ids.iter().min().expect("a batch with rows"),
            *ids.iter().max().expect("a batch with rows"),
        ]
    } else {
        let mut keys = ids.to_vec();
        let last = *keys.last().expect("a batch with rows");
        keys.resize(BATCH_ROWS, last);
        keys
    }
}

/// Reads the values of the keys a custom field export wants from a contact's
/// `custom_values` (a JSON object of field key → value), without allocating for a string
/// that holds no escape. A number or boolean is written as JSON writes it; a list, as its
/// elements joined with `", "`.
fn custom_values<'a>(
    json: &'a str,
    keys: &[(usize, String)],
    out: &mut Vec<Option<std::borrow::Cow<'a, str>>>,
) -> Result<()> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
    use std::borrow::Cow;

    struct Wanted<'k, 'o, 'a> {
        keys: &'k [(usize, String)],
        out: &'o mut Vec<Option<Cow<'a, str>>>,
    }
    impl<'de: 'a, 'a> DeserializeSeed<'de> for Wanted<'_, '_, 'a> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de: 'a, 'a> Visitor<'de> for Wanted<'_, '_, 'a> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object of custom values")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                match self.keys.iter().position(|(_, k)| *k == key) {
                    Some(i) => self.out[i] = map.next_value::<Text<'de>>()?.0,
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }

    /// One custom value as text.
    struct Text<'de>(Option<Cow<'de, str>>);
    impl<'de> serde::Deserialize<'de> for Text<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Text<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a custom value")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                    Ok(Text(Some(Cow::Borrowed(v))))
                }
                fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                    Ok(Text(Some(Cow::Owned(v.to_string()))))
                }
                fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                    Ok(Text(Some(Cow::Owned(v))))
                }
                fn visit_bool<E>(self, v: bool) -> Result<Text<'de>, E> {
                    Ok(Text(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
                }
                fn visit_i64<E>(self, v: i64) -> Result<Text<'de>, E> {
                    Ok(Text(Some(Cow::Owned(v.to_string()))))
                }
                fn visit_u64<E>(self, v: u64) -> Result<Text<'de>, E> {
                    Ok(Text(Some(Cow::Owned(v.to_string()))))
                }
                fn visit_f64<E>(self, v: f64) -> Result<Text<'de>, E> {
                    Ok(Text(Some(Cow::Owned(v.to_string()))))
                }
                fn visit_unit<E>(self) -> Result<Text<'de>, E> {
                    Ok(Text(None))
                }
                fn visit_seq<S: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: S,
                ) -> Result<Text<'de>, S::Error> {
                    let mut items: Vec<String> = Vec::new();
                    while let Some(Text(item)) = seq.next_element::<Text<'de>>()? {
                        items.extend(item.map(Cow::into_owned));
                    }
                    Ok(Text(
                        (!items.is_empty()).then(|| Cow::Owned(items.join(", "))),
                    ))
                }
            }
            d.deserialize_any(V)
        }
    }

    out.clear();
    out.resize(keys.len(), None);
    let mut de = serde_json::Deserializer::from_str(json);
    Wanted { keys, out }
        .deserialize(&mut de)
        .map_err(|e| StoreError::Corrupt(format!("custom_values: {e}")))
}

/// Reads an export's contacts batch by batch: [`Store::export_reader`], then
/// [`ExportReader::next_batch`] until it returns `None`.
pub struct ExportReader {
    location: LocationId,
    width: usize,
    plan: Plan,
    /// The main statement's arguments after `$1`, before the keyset.
    args: Vec<Arg>,
    sql: String,
    /// The location's tags by id (read once; a location has few).
    tags: Arc<HashMap<i64, String>>,
    /// Explicit ids still to read, ascending (an id selection only).
    ids: Option<std::vec::IntoIter<i64>>,
    /// The last (created_at, id) read (a filter selection).
    after: (i64, i64),
    done: bool,
    /// Batches read and not yet handed out, in order.
    pending: std::collections::VecDeque<ExportBatch>,
    source: Source,
}

/// How many batches a reader reads at once, each on its own connection and thread: a round
/// reads the next `LANES` batches (by offset from the same keyset), so reading runs on as
/// many cores while the caller writes.
const LANES: usize = 2;

enum Source {
    /// Read-only connections, one per lane, each moved to a blocking thread for its batch.
    Sqlite(Vec<Option<rusqlite::Connection>>),
    Postgres(sqlx::PgPool),
}

impl Store {
    /// The condition of a scope over the object's table `c`, numbered from `$2`.
    async fn scope_condition(
        &self,
        location: LocationId,
        object: &ObjectKind,
        scope: &ExportScope,
    ) -> Result<(String, Vec<Arg>)> {
        let contact = *object == ObjectKind::Contact;
        match scope {
            ExportScope::Filters(filters) if contact => {
                let tz = self.location_tz(location).await?;
                where_sql(filters, &tz, self.backend())
            }
            ExportScope::Filters(filters) if filters.is_empty() => {
                Ok(("c.location_id = $1".into(), Vec::new()))
            }
            ExportScope::Filters(_) => Err(StoreError::Invalid(format!(
                "filters select contacts; an export of {object} cannot use them"
            ))),
            ExportScope::Ids(_) => Ok(("c.location_id = $1".into(), Vec::new())),
            ExportScope::Pipeline(id) if *object == ObjectKind::Opportunity => Ok((
                "c.location_id = $1 AND c.pipeline_id = $2".into(),
                vec![Arg::Int(*id)],
            )),
            ExportScope::Pipeline(_) => Err(StoreError::Invalid(format!(
                "a pipeline selects opportunities; an export of {object} cannot use one"
            ))),
        }
    }

    /// How many of the location's records of `object` a scope selects (an export's total).
    pub async fn export_count(
        &self,
        location: LocationId,
        object: &ObjectKind,
        scope: &ExportScope,
    ) -> Result<i64> {
        let from = from_clause(object)?;
        match scope {
            ExportScope::Filters(filters) if *object == ObjectKind::Contact => {
                self.count_matching(location, filters).await
            }
            ExportScope::Ids(ids) => {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                let mut n = 0;
                for chunk in ids.chunks(BATCH_ROWS) {
                    let list = (2..chunk.len() + 2)
                        .map(|i| format!("${i}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "SELECT COUNT(*) FROM {from} WHERE c.location_id = $1 AND c.id IN ({list})"
                    );
                    let args: Vec<Arg> = chunk.iter().map(|id| Arg::Int(*id)).collect();
                    n += on_pool!(self, p => {
                        crate::smart_lists::bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).bind(location.0), &args)
                            .fetch_one(p)
                            .await
                    })?;
                }
                Ok(n)
            }
            _ => {
                let (condition, args) = self.scope_condition(location, object, scope).await?;
                let sql = format!("SELECT COUNT(*) FROM {from} WHERE {condition}");
                Ok(on_pool!(self, p => {
                    crate::smart_lists::bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).bind(location.0), &args)
                        .fetch_one(p)
                        .await
                })?)
            }
        }
    }

    /// Opens a reader over the records of `object` of `location` that `scope` selects,
    /// reading `fields` for each: oldest first, by ascending id for explicit ids.
    pub async fn export_reader(
        &self,
        location: LocationId,
        object: &ObjectKind,
        scope: &ExportScope,
        fields: &[ExportField],
    ) -> Result<ExportReader> {
        let from = from_clause(object)?;
        let plan = Plan::new(object, fields)?;
        let (condition, args) = self.scope_condition(location, object, scope).await?;
        let ids = match scope {
            ExportScope::Ids(ids) => {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                Some(ids)
            }
            ExportScope::Filters(_) | ExportScope::Pipeline(_) => None,
        };
        let sql = batch_sql(&plan, &from, &condition, args.len() + 2, ids.is_some());
        let tags: Vec<(i64, String)> = if plan.tags.is_some() {
            on_pool!(self, p => {
                sqlx::query_as("SELECT id, name FROM tags WHERE location_id = $1")
                    .bind(location.0)
                    .fetch_all(p)
                    .await
            })?
        } else {
            Vec::new()
        };
        let source = match &self.db {
            Db::Sqlite(pool) => {
                let path: PathBuf = pool.connect_options().get_filename().to_path_buf();
                let conns = tokio::task::spawn_blocking(move || {
                    (0..LANES)
                        .map(|_| open_reader(&path).map(Some))
                        .collect::<Result<Vec<_>>>()
                })
                .await
                .map_err(|e| StoreError::Corrupt(format!("the export reader stopped: {e}")))??;
                Source::Sqlite(conns)
            }
            Db::Postgres(pool) => Source::Postgres(pool.clone()),
        };
        Ok(ExportReader {
            location,
            width: fields.len(),
            plan,
            args,
            sql,
            tags: Arc::new(tags.into_iter().collect()),
            ids: ids.map(Vec::into_iter),
            after: (i64::MIN, i64::MIN),
            done: false,
            pending: std::collections::VecDeque::new(),
            source,
        })
    }
}

/// A read-only connection to the SQLite file, for reading beside the pool's writers.
fn open_reader(path: &std::path::Path) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // A scan reads each page once: a small cache per lane keeps memory flat.
    conn.pragma_update(None, "cache_size", "-8192")?;
    Ok(conn)
}

/// What one batch's statements need, owned so it can move to a blocking thread.
#[derive(Clone)]
struct BatchQuery {
    location: LocationId,
    width: usize,
    plan: Plan,
    sql: String,
    args: Vec<Arg>,
    keyset: Vec<i64>,
    tags: Arc<HashMap<i64, String>>,
}

impl BatchQuery {
    /// The side statements this batch runs: (side, field index).
    fn sides(&self) -> Vec<(Side, usize)> {
        [
            (Side::Tags, self.plan.tags),
            (Side::Emails, self.plan.emails),
            (Side::Phones, self.plan.phones),
            (Side::Note, self.plan.note),
        ]
        .into_iter()
        .filter_map(|(s, f)| Some((s, f?)))
        .collect()
    }

    /// Files one side row under its contact's row (rows of contacts not in the batch — in a
    /// range, another location's — are skipped).
    fn place(
        &self,
        batch: &mut ExportBatch,
        rows: &[(i64, usize)],
        side: Side,
        field: usize,
        contact: i64,
        value: SideValue<'_>,
    ) {
        let Ok(at) = rows.binary_search_by_key(&contact, |(id, _)| *id) else {
            return;
        };
        let row = rows[at].1;
        match (side, value) {
            (Side::Tags, SideValue::Id(tag)) => {
                if let Some(name) = self.tags.get(&tag) {
                    batch.append(row, field, name);
                }
            }
            (Side::Note, SideValue::Text(body)) => batch.set(row, field, body),
            (_, SideValue::Text(v)) => batch.append(row, field, v),
            (_, SideValue::Id(_)) => {}
        }
    }
}

enum SideValue<'a> {
    Id(i64),
    Text(&'a str),
}

impl ExportReader {
    /// The next batch of at most [`BATCH_ROWS`] contacts, or `None` after the last.
    pub async fn next_batch(&mut self) -> Result<Option<ExportBatch>> {
        while self.pending.is_empty() && !self.done {
            self.read_round().await?;
        }
        Ok(self.pending.pop_front())
    }

    /// Reads the next [`LANES`] batches at once and queues the ones with rows.
    async fn read_round(&mut self) -> Result<()> {
        let mut queries = Vec::with_capacity(LANES);
        for lane in 0..LANES {
            // The keyset: the next ids of an explicit selection, else "after the last row
            // read", this lane's batch into the round.
            let keyset: Vec<i64> = match &mut self.ids {
                Some(ids) => {
                    let mut next: Vec<i64> = ids.by_ref().take(BATCH_ROWS).collect();
                    let Some(&last) = next.last() else { break };
                    // A short list binds its last id again for the missing parameters.
                    next.resize(BATCH_ROWS, last);
                    next
                }
                None => vec![self.after.0, self.after.1, (lane * BATCH_ROWS) as i64],
            };
            queries.push(BatchQuery {
                location: self.location,
                width: self.width,
                plan: self.plan.clone(),
                sql: self.sql.clone(),
                args: self.args.clone(),
                keyset,
                tags: self.tags.clone(),
            });
        }
        if queries.is_empty() {
            self.done = true;
            return Ok(());
        }
        let batches: Vec<ExportBatch> = match &mut self.source {
            Source::Sqlite(conns) => {
                let mut running = Vec::with_capacity(queries.len());
                for (query, slot) in queries.into_iter().zip(conns.iter_mut()) {
                    let conn = slot
                        .take()
                        .expect("a lane's connection is back after each round");
                    running.push(tokio::task::spawn_blocking(move || {
                        let batch = read_sqlite(&conn, &query);
                        (conn, batch)
                    }));
                }
                let mut out = Vec::with_capacity(running.len());
                let mut failed = None;
                for (handle, slot) in running.into_iter().zip(conns.iter_mut()) {
                    let (conn, batch) = handle.await.map_err(|e| {
                        StoreError::Corrupt(format!("the export reader stopped: {e}"))
                    })?;
                    *slot = Some(conn);
                    match batch {
                        Ok(b) => out.push(b),
                        Err(e) => failed = failed.or(Some(e)),
                    }
                }
                if let Some(e) = failed {
                    return Err(e);
                }
                out
            }
            Source::Postgres(pool) => {
                let running: Vec<_> = queries
                    .into_iter()
                    .map(|q| {
                        let pool = pool.clone();
                        tokio::spawn(async move { read_postgres(&pool, &q).await })
                    })
                    .collect();
                let mut out = Vec::with_capacity(LANES);
                for handle in running {
                    out.push(handle.await.map_err(|e| {
                        StoreError::Corrupt(format!("the export reader stopped: {e}"))
                    })??);
                }
                out
            }
        };
        match &self.ids {
            // Ids of other locations (or deleted since) are simply absent; go on to the next.
            Some(ids) => {
                if ids.len() == 0 {
                    self.done = true;
                }
            }
            None => {
                if batches.iter().any(|b| b.len() < BATCH_ROWS) {
                    self.done = true;
                }
                if let Some(last) = batches.iter().rev().find(|b| !b.is_empty()) {
                    self.after = (
                        *last.created.last().expect("a batch with rows"),
                        *last.ids.last().expect("a batch with rows"),
                    );
                }
            }
        }
        self.pending
            .extend(batches.into_iter().filter(|b| !b.is_empty()));
        Ok(())
    }
}

impl Store {
    /// An export's heartbeat (SPEC §9.1, §9.7): records how many contacts it has written (and
    /// the total, once counted) and renews the lease, fenced on it — a process that lost its
    /// lease learns it here and stops. A pause or cancel requested meanwhile is settled in the
    /// same transaction: the job is paused or cancelled and its lease released.
    pub async fn export_progress(
        &self,
        lease: &Lease,
        processed: i64,
        total: Option<i64>,
    ) -> Result<AfterChunk> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let requested: Option<Option<String>> = sqlx::query_scalar(
                "UPDATE jobs SET processed = $4, total = COALESCE($5, total), lease_expires_at = $6, status_reason = NULL \
                 WHERE id = $1 AND location_id = $2 AND status = 'running' AND lease_owner = $3 RETURNING requested",
            )
            .bind(lease.job_id)
            .bind(lease.location_id.0)
            .bind(&lease.owner)
            .bind(processed)
            .bind(total)
            .bind(now + self.lease_ms())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(requested) = requested else {
                return Err(crate::claims::lease_lost(lease.job_id));
            };
            let after = crate::import::after_chunk(requested.as_deref());
            if after != AfterChunk::Running {
                let (status, finished) = crate::import::settled(after, now);
                sqlx::query(crate::import::SETTLE_SQL)
                    .bind(lease.job_id)
                    .bind(status)
                    .bind(finished)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(after)
        })
    }
}

/// Binds `$N` parameters by name (to SQLite they are named parameters, numbered in the
/// order they first appear, not by N).
fn bind_named(
    stmt: &mut rusqlite::CachedStatement<'_>,
    n: usize,
    value: &dyn rusqlite::ToSql,
) -> Result<()> {
    if let Some(i) = stmt.parameter_index(&format!("${n}"))? {
        stmt.raw_bind_parameter(i, value)?;
    }
    Ok(())
}

/// A SQLite value as text: a custom value may be a JSON number (or boolean, as 1/0 — our own
/// writes never store those).
fn sqlite_text(v: rusqlite::types::ValueRef<'_>) -> Result<Option<std::borrow::Cow<'_, str>>> {
    use rusqlite::types::ValueRef;
    use std::borrow::Cow;
    Ok(match v {
        ValueRef::Null | ValueRef::Blob(_) => None,
        ValueRef::Text(t) => {
            Some(Cow::Borrowed(std::str::from_utf8(t).map_err(|e| {
                StoreError::Corrupt(format!("a contact value is not UTF-8: {e}"))
            })?))
        }
        ValueRef::Integer(v) => Some(Cow::Owned(v.to_string())),
        ValueRef::Real(v) => Some(Cow::Owned(v.to_string())),
    })
}

fn read_sqlite(conn: &rusqlite::Connection, q: &BatchQuery) -> Result<ExportBatch> {
    use rusqlite::types::ValueRef;
    let text = sqlite_text;
    let mut batch = ExportBatch::new(q.width);
    {
        let mut stmt = conn.prepare_cached(&q.sql)?;
        bind_named(&mut stmt, 1, &q.location.0)?;
        for (k, a) in q.args.iter().enumerate() {
            match a {
                Arg::Int(v) => bind_named(&mut stmt, k + 2, v)?,
                Arg::Text(s) => bind_named(&mut stmt, k + 2, s)?,
            }
        }
        let first = q.args.len() + 2;
        for (k, key) in q.keyset.iter().enumerate() {
            bind_named(&mut stmt, first + k, key)?;
        }
        let mut result = stmt.raw_query();
        let custom_at = 2 + q.plan.columns.len();
        while let Some(r) = result.next()? {
            let row = batch.begin_row(r.get(0)?, r.get(1)?, q.plan.created_ms);
            for (k, (field, _)) in q.plan.columns.iter().enumerate() {
                if let Some(v) = text(r.get_ref(2 + k)?)? {
                    batch.set(row, *field, &v);
                }
            }
            if !q.plan.custom.is_empty()
                && let Some(json) = text(r.get_ref(custom_at)?)?
            {
                let mut custom = Vec::with_capacity(q.plan.custom.len());
                custom_values(&json, &q.plan.custom, &mut custom)?;
                for ((field, _), v) in q.plan.custom.iter().zip(&custom) {
                    if let Some(v) = v {
                        batch.set(row, *field, v);
                    }
                }
            }
        }
    }
    if batch.is_empty() {
        return Ok(batch);
    }
    let range = by_range(&batch.ids);
    let keys = side_keys(&batch.ids, range);
    let rows = batch.rows_by_id();
    for (side, field) in q.sides() {
        let mut stmt = conn.prepare_cached(&side_sql(side, !range))?;
        let first = if side == Side::Tags {
            1
        } else {
            bind_named(&mut stmt, 1, &q.location.0)?;
            2
        };
        for (k, key) in keys.iter().enumerate() {
            bind_named(&mut stmt, first + k, key)?;
        }
        let mut result = stmt.raw_query();
        while let Some(r) = result.next()? {
            let contact: i64 = r.get(0)?;
            let value = match r.get_ref(1)? {
                ValueRef::Integer(id) => SideValue::Id(id),
                v => match text(v)? {
                    Some(std::borrow::Cow::Borrowed(t)) => SideValue::Text(t),
                    _ => continue,
                },
            };
            q.place(&mut batch, &rows, side, field, contact, value);
        }
    }
    Ok(batch)
}

async fn read_postgres(pool: &sqlx::PgPool, q: &BatchQuery) -> Result<ExportBatch> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(q.sql.clone())).bind(q.location.0);
    for a in &q.args {
        query = match a {
            Arg::Int(i) => query.bind(*i),
            Arg::Text(s) => query.bind(s.clone()),
        };
    }
    for key in &q.keyset {
        query = query.bind(*key);
    }
    let result = query.fetch_all(pool).await?;
    let mut batch = ExportBatch::new(q.width);
    let custom_at = 2 + q.plan.columns.len();
    for r in &result {
        let row = batch.begin_row(r.try_get(0)?, r.try_get(1)?, q.plan.created_ms);
        for (k, (field, _)) in q.plan.columns.iter().enumerate() {
            if let Some(v) = r.try_get::<Option<&str>, _>(2 + k)? {
                batch.set(row, *field, v);
            }
        }
        if !q.plan.custom.is_empty()
            && let Some(json) = r.try_get::<Option<&str>, _>(custom_at)?
        {
            let mut custom = Vec::with_capacity(q.plan.custom.len());
            custom_values(json, &q.plan.custom, &mut custom)?;
            for ((field, _), v) in q.plan.custom.iter().zip(&custom) {
                if let Some(v) = v {
                    batch.set(row, *field, v);
                }
            }
        }
    }
    if batch.is_empty() {
        return Ok(batch);
    }
    let range = by_range(&batch.ids);
    let keys = side_keys(&batch.ids, range);
    let rows = batch.rows_by_id();
    for (side, field) in q.sides() {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(side_sql(side, !range)));
        if side != Side::Tags {
            query = query.bind(q.location.0);
        }
        for key in &keys {
            query = query.bind(*key);
        }
        for r in query.fetch_all(pool).await? {
            let contact: i64 = r.try_get(0)?;
            let value = if side == Side::Tags {
                SideValue::Id(r.try_get(1)?)
            } else {
                SideValue::Text(r.try_get(1)?)
            };
            q.place(&mut batch, &rows, side, field, contact, value);
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests;
