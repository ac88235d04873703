//! An import's lookups and chunk writes on PostgreSQL: set-based statements over arrays.
//!
//! Each kind of row a chunk writes — contacts created, contacts updated, tags and their links,
//! additional emails and phones, notes, provenance, journal, line results — goes in with ONE
//! statement whose parameters are one array per column (`INSERT … SELECT … FROM UNNEST($2,
//! $3, …)`, `UPDATE … FROM UNNEST(…)`), and the lookup reads by `= ANY($n)`. The statement
//! text no longer depends on how many rows a chunk has, so each is parsed and planned once per
//! connection and kept in sqlx's statement cache, and a chunk costs a fixed dozen round trips
//! whatever its size. Measured against the multi-row `VALUES` statements this replaces and
//! against `COPY … FROM STDIN` into a temporary table (BENCHMARKS.md, "PostgreSQL").
//! What is written, in which transaction, fenced how, is the same as on SQLite ([`super`]).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use domain::value::tag_key;
use sqlx::{PgConnection, PgPool, Row};

use super::{
    BOOL_COLUMNS, ChunkWrite, ContactWrite, LEASE_HELD_SQL, OWNER, RecordRef, StoredContact,
    TAKEN_MEANWHILE, TEXT_COLUMNS, action_of, custom_json, json, search_text, select_columns,
};
use crate::claims::{AfterChunk, Lease};
use crate::contacts::email_match_key;
use crate::error::conflict_on_unique;
use crate::{LocationId, Result, StoreError, now_ms};

/// How long each kind of statement of a chunk took and how many round trips it made: logged
/// at `debug` (`AESTHETIX_LOG=store::import=debug`), one event per chunk and per lookup, so a
/// slow import says where its time goes.
struct Phases {
    last: Instant,
    parts: Vec<(&'static str, u32, Duration)>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            last: Instant::now(),
            parts: Vec::new(),
        }
    }

    /// The time since the previous mark goes to `kind`, which made `trips` round trips.
    fn mark(&mut self, kind: &'static str, trips: u32) {
        let now = Instant::now();
        self.parts.push((kind, trips, now - self.last));
        self.last = now;
    }

    fn log(&self, what: &str, rows: usize) {
        if tracing::enabled!(target: "store::import", tracing::Level::DEBUG) {
            let parts: Vec<String> = self
                .parts
                .iter()
                .map(|(k, n, d)| format!("{k}={n}/{}us", d.as_micros()))
                .collect();
            tracing::debug!(target: "store::import", "{what} rows={rows} {}", parts.join(" "));
        }
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// A chunk's contacts as one array per column, in the order of [`super::insert_sql`] after
/// `location_id` (text columns, owner, DND flags, custom values, email key, search text).
struct ContactColumns<'a> {
    text: Vec<Vec<Option<&'a str>>>,
    owner: Vec<Option<i64>>,
    dnd: Vec<Vec<bool>>,
    custom: Vec<String>,
    email_key: Vec<Option<String>>,
    search: Vec<String>,
}

impl<'a> ContactColumns<'a> {
    fn of(rows: &[&'a BTreeMap<String, String>]) -> ContactColumns<'a> {
        let n = rows.len();
        let mut c = ContactColumns {
            text: TEXT_COLUMNS.iter().map(|_| Vec::with_capacity(n)).collect(),
            owner: Vec::with_capacity(n),
            dnd: BOOL_COLUMNS.iter().map(|_| Vec::with_capacity(n)).collect(),
            custom: Vec::with_capacity(n),
            email_key: Vec::with_capacity(n),
            search: Vec::with_capacity(n),
        };
        for v in rows {
            for ((k, _), col) in TEXT_COLUMNS.iter().zip(&mut c.text) {
                col.push(v.get(*k).map(String::as_str));
            }
            c.owner
                .push(v.get(OWNER).and_then(|s| s.parse::<i64>().ok()));
            for (k, col) in BOOL_COLUMNS.iter().zip(&mut c.dnd) {
                col.push(v.get(*k).is_some_and(|s| s == "true"));
            }
            c.custom.push(custom_json(v));
            c.email_key.push(v.get("email").map(|e| email_match_key(e)));
            c.search.push(search_text(v));
        }
        c
    }

    /// Binds every column, in order, to `q`.
    fn bind<'q>(self, mut q: PgQuery<'q>) -> PgQuery<'q> {
        for col in self.text {
            q = q.bind(col);
        }
        q = q.bind(self.owner);
        for col in self.dnd {
            q = q.bind(col);
        }
        q.bind(self.custom).bind(self.email_key).bind(self.search)
    }
}

/// The array parameters `$first, …` of [`ContactColumns`], typed, and their column names.
fn contact_arrays(first: usize) -> (Vec<String>, Vec<&'static str>) {
    let mut types: Vec<&str> = TEXT_COLUMNS.iter().map(|_| "text").collect();
    types.push("bigint");
    types.extend(BOOL_COLUMNS.iter().map(|_| "boolean"));
    types.extend(["text", "text", "text"]);
    let mut names: Vec<&'static str> = TEXT_COLUMNS.iter().map(|(_, c)| *c).collect();
    names.push("owner_user_id");
    names.extend(BOOL_COLUMNS);
    names.extend(["custom_values", "email_key", "search_text"]);
    let params = types
        .iter()
        .enumerate()
        .map(|(k, t)| format!("${}::{t}[]", first + k))
        .collect();
    (params, names)
}

/// `INSERT INTO contacts … SELECT … FROM UNNEST(…) RETURNING id`: `$1` location, then the
/// [`ContactColumns`] arrays, then created/updated at.
fn insert_sql() -> String {
    let (params, names) = contact_arrays(2);
    let now = 2 + params.len();
    format!(
        "INSERT INTO contacts (location_id, {}, created_at, updated_at) \
         SELECT $1, u.*, ${now}, ${now} FROM UNNEST({}) AS u RETURNING id",
        names.join(", "),
        params.join(", ")
    )
}

/// `UPDATE contacts … FROM UNNEST(…) RETURNING id, version`: `$1` location, `$2` ids, then the
/// [`ContactColumns`] arrays, then updated at. Every update resets email verification (SPEC
/// §6.5) and bumps the version.
fn update_sql() -> String {
    let (params, names) = contact_arrays(3);
    let now = 3 + params.len();
    let sets: Vec<String> = names.iter().map(|c| format!("{c} = u.{c}")).collect();
    format!(
        "UPDATE contacts AS c SET {}, updated_at = ${now}, email_verification = 'unverified', \
         version = c.version + 1 \
         FROM UNNEST($2::bigint[], {}) AS u (id, {}) \
         WHERE c.id = u.id AND c.location_id = $1 RETURNING c.id, c.version",
        sets.join(", "),
        params.join(", "),
        names.join(", ")
    )
}

/// The contacts of the location with one of these ids, primary email match keys or primary
/// phones, by ascending id, with their tags and additional values: four statements whatever
/// the chunk's size (see [`super::ImportSession::contacts_for_matching`]).
pub(crate) async fn contacts_for_matching(
    p: &PgPool,
    location: LocationId,
    ids: &[i64],
    email_keys: &[String],
    phones: &[String],
) -> Result<Vec<StoredContact>> {
    let mut phases = Phases::new();
    // One SELECT per identifier, joined by UNION, so each uses its own unique index (an OR
    // across the three would scan the location's contacts).
    let cols = select_columns();
    let sql = format!(
        "SELECT {cols} FROM contacts WHERE location_id = $1 AND id = ANY($2) \
         UNION SELECT {cols} FROM contacts WHERE location_id = $1 AND email_key = ANY($3) \
         UNION SELECT {cols} FROM contacts WHERE location_id = $1 AND phone = ANY($4) ORDER BY 1"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(location.0)
        .bind(ids)
        .bind(email_keys)
        .bind(phones)
        .fetch_all(p)
        .await?;
    let mut contacts = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = BTreeMap::new();
        let mut i = 1;
        for (key, _) in TEXT_COLUMNS {
            if let Some(v) = row.try_get::<Option<String>, _>(i)? {
                values.insert(key.to_string(), v);
            }
            i += 1;
        }
        if let Some(v) = row.try_get::<Option<String>, _>(i)? {
            values.insert(OWNER.to_string(), v);
        }
        i += 1;
        for c in BOOL_COLUMNS {
            values.insert(c.to_string(), row.try_get::<bool, _>(i)?.to_string());
            i += 1;
        }
        let custom: String = row.try_get(i)?;
        let custom: BTreeMap<String, String> = serde_json::from_str(&custom)
            .map_err(|e| StoreError::Corrupt(format!("custom_values: {e}")))?;
        values.extend(custom);
        contacts.push(StoredContact {
            id: row.try_get(0)?,
            values,
            ..StoredContact::default()
        });
    }
    phases.mark("contacts", 1);
    if contacts.is_empty() {
        phases.log("lookup", 0);
        return Ok(contacts);
    }
    let found: Vec<i64> = contacts.iter().map(|c| c.id).collect();
    // `+ct.location_id` as on SQLite (see `sqlite::contacts_for_matching`): PostgreSQL reads
    // it as the same number.
    let side = [
        "SELECT ct.contact_id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id \
         WHERE +ct.location_id = $1 AND ct.contact_id = ANY($2) ORDER BY ct.created_at, t.id",
        "SELECT contact_id, email FROM contact_emails WHERE location_id = $1 AND contact_id = ANY($2) ORDER BY position",
        "SELECT contact_id, phone FROM contact_phones WHERE location_id = $1 AND contact_id = ANY($2) ORDER BY position",
    ];
    let pos: HashMap<i64, usize> = contacts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    for (k, sql) in side.into_iter().enumerate() {
        let rows: Vec<(i64, String)> = sqlx::query_as(sql)
            .bind(location.0)
            .bind(&found)
            .fetch_all(p)
            .await?;
        for (id, v) in rows {
            let c = &mut contacts[pos[&id]];
            match k {
                0 => c.tags.push(v),
                1 => c.additional_emails.push(v),
                _ => c.additional_phones.push(v),
            }
        }
    }
    phases.mark("side", 3);
    phases.log("lookup", contacts.len());
    Ok(contacts)
}

/// Whether an update changes the contact's email match key or phone, the two values a unique
/// index holds: such updates are made one at a time in the chunk's order, so one contact
/// giving up a value another takes in the same chunk succeeds as it does on SQLite (a single
/// statement would update the rows in whatever order its plan reads them).
fn changes_unique_value(c: &ContactWrite) -> bool {
    let Some(before) = &c.before else {
        return true;
    };
    let key = |v: &BTreeMap<String, String>| v.get("email").map(|e| email_match_key(e));
    key(before) != key(&c.values) || before.get("phone") != c.values.get("phone")
}

/// Applies one chunk of an import in a single transaction, as
/// [`super::ImportSession::apply_import_chunk`] describes.
pub(crate) async fn apply_import_chunk(
    p: &PgPool,
    lease: &Lease,
    lease_ms: i64,
    chunk: &ChunkWrite,
) -> Result<(Vec<i64>, AfterChunk)> {
    let now = now_ms();
    let location = lease.location_id;
    let job_id = lease.job_id;
    let mut phases = Phases::new();
    let mut tx = p.begin().await?;
    phases.mark("begin", 1);
    // The lease first, without locking the job's row (the heartbeat must never wait behind a
    // chunk): a process that lost its lease writes nothing.
    let held: Option<i64> = sqlx::query_scalar(LEASE_HELD_SQL)
        .bind(job_id)
        .bind(location.0)
        .bind(&lease.owner)
        .fetch_optional(&mut *tx)
        .await?;
    if held.is_none() {
        return Err(crate::claims::lease_lost(job_id));
    }
    phases.mark("lease", 1);
    let n = chunk.contacts.len();
    // Every update resets email verification (SPEC §6.5): the journal keeps what it was, read
    // inside this transaction with the rows locked, so a change committed meanwhile is what it
    // records (as the SQLite writer does).
    let verification = email_verifications(&mut tx, location, chunk).await?;
    phases.mark("verification", 1);
    let mut ids = vec![0i64; n];
    let mut versions = vec![1i64; n];

    // Creates, in one statement: within it ids are assigned in row order, so the returned ids
    // sorted ascending belong to the rows in order.
    let creates: Vec<usize> = (0..n).filter(|i| chunk.contacts[*i].id.is_none()).collect();
    if !creates.is_empty() {
        let rows: Vec<&BTreeMap<String, String>> =
            creates.iter().map(|i| &chunk.contacts[*i].values).collect();
        let q = sqlx::query(sqlx::AssertSqlSafe(insert_sql())).bind(location.0);
        let mut got: Vec<i64> = ContactColumns::of(&rows)
            .bind(q)
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || TAKEN_MEANWHILE.into()))?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, sqlx::Error>>()?;
        got.sort_unstable();
        for (k, &i) in creates.iter().enumerate() {
            ids[i] = got[k];
        }
    }
    phases.mark("creates", u32::from(!creates.is_empty()));

    // Updates: those that keep their email and phone in one statement, the others one by one.
    // (A contact a chunk updates twice, which the engine never writes, goes one by one too.)
    let mut seen = std::collections::HashSet::new();
    let (one_by_one, together): (Vec<usize>, Vec<usize>) = (0..n)
        .filter(|i| chunk.contacts[*i].id.is_some())
        .partition(|i| {
            let c = &chunk.contacts[*i];
            changes_unique_value(c) | !seen.insert(c.id)
        });
    let mut trips = 0;
    if !together.is_empty() {
        trips += 1;
        let rows: Vec<&BTreeMap<String, String>> = together
            .iter()
            .map(|i| &chunk.contacts[*i].values)
            .collect();
        let wanted: Vec<i64> = together
            .iter()
            .map(|i| chunk.contacts[*i].id.expect("an update"))
            .collect();
        let q = sqlx::query(sqlx::AssertSqlSafe(update_sql()))
            .bind(location.0)
            .bind(&wanted);
        let got: HashMap<i64, i64> = ContactColumns::of(&rows)
            .bind(q)
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || TAKEN_MEANWHILE.into()))?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<std::result::Result<_, sqlx::Error>>()?;
        for (&i, &id) in together.iter().zip(&wanted) {
            ids[i] = id;
            versions[i] = *got
                .get(&id)
                .ok_or_else(|| StoreError::not_found(format!("contact {id}")))?;
        }
    }
    // One by one through the single-row statement, whose plan PostgreSQL keeps: planning the
    // array statement afresh for one row cost more than the row.
    for i in one_by_one {
        trips += 1;
        let c = &chunk.contacts[i];
        let id = c.id.expect("an update");
        let v = &c.values;
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(super::update_sql()))
            .bind(id)
            .bind(location.0);
        for (k, _) in TEXT_COLUMNS {
            q = q.bind(v.get(*k).map(String::as_str));
        }
        q = q.bind(v.get(OWNER).and_then(|s| s.parse::<i64>().ok()));
        for k in BOOL_COLUMNS {
            q = q.bind(v.get(*k).is_some_and(|s| s == "true"));
        }
        let version: Option<i64> = q
            .bind(custom_json(v))
            .bind(v.get("email").map(|e| email_match_key(e)))
            .bind(search_text(v))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || TAKEN_MEANWHILE.into()))?;
        ids[i] = id;
        versions[i] = version.ok_or_else(|| StoreError::not_found(format!("contact {id}")))?;
    }
    phases.mark("updates", trips);
    let action = |i: usize| action_of(&chunk.contacts[i]);

    // Tags: every new tag of the chunk created once, then linked.
    let mut tag_names: Vec<String> = Vec::new();
    let mut tag_keys: Vec<String> = Vec::new();
    for c in &chunk.contacts {
        for t in &c.new_tags {
            let key = tag_key(t);
            if !tag_keys.contains(&key) {
                tag_keys.push(key);
                tag_names.push(t.clone());
            }
        }
    }
    if !tag_names.is_empty() {
        sqlx::query(
            "INSERT INTO tags (location_id, name, name_key, created_at) \
             SELECT $1, u.name, u.name_key, $4 FROM UNNEST($2::text[], $3::text[]) AS u (name, name_key) \
             ON CONFLICT (location_id, name_key) DO NOTHING",
        )
        .bind(location.0)
        .bind(&tag_names)
        .bind(&tag_keys)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let tag_ids: HashMap<String, i64> = sqlx::query_as(
            "SELECT name_key, id FROM tags WHERE location_id = $1 AND name_key = ANY($2)",
        )
        .bind(location.0)
        .bind(&tag_keys)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let (contacts, tags): (Vec<i64>, Vec<i64>) = chunk
            .contacts
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.new_tags.iter().map(move |t| (i, t)))
            .map(|(i, t)| (ids[i], tag_ids[&tag_key(t)]))
            .unzip();
        sqlx::query(
            "INSERT INTO contact_tags (contact_id, tag_id, location_id, added_by_job, created_at) \
             SELECT u.contact_id, u.tag_id, $1, $2, $3 FROM UNNEST($4::bigint[], $5::bigint[]) AS u (contact_id, tag_id) \
             ON CONFLICT (contact_id, tag_id) DO NOTHING",
        )
        .bind(location.0)
        .bind(job_id)
        .bind(now)
        .bind(&contacts)
        .bind(&tags)
        .execute(&mut *tx)
        .await?;
    }
    phases.mark("tags", if tag_names.is_empty() { 0 } else { 3 });

    // Additional emails and phones, appended after the contact's last: the statement sees the
    // positions as they were before it, so each contact's new values take the next ones in
    // turn.
    let mut trips = 0;
    for (table, column) in [("contact_emails", "email"), ("contact_phones", "phone")] {
        let mut contacts: Vec<i64> = Vec::new();
        let mut added: Vec<&str> = Vec::new();
        let mut nth: Vec<i64> = Vec::new();
        for (i, c) in chunk.contacts.iter().enumerate() {
            let values = if column == "email" {
                &c.new_emails
            } else {
                &c.new_phones
            };
            for (k, v) in values.iter().enumerate() {
                contacts.push(ids[i]);
                added.push(v);
                nth.push(k as i64 + 1);
            }
        }
        if contacts.is_empty() {
            continue;
        }
        trips += 1;
        let sql = format!(
            "INSERT INTO {table} (contact_id, location_id, {column}, position, job_id) \
             SELECT u.contact_id, $1, u.value, \
             (SELECT COALESCE(MAX(position), -1) FROM {table} WHERE contact_id = u.contact_id) + u.nth, $2 \
             FROM UNNEST($3::bigint[], $4::text[], $5::bigint[]) AS u (contact_id, value, nth) \
             ON CONFLICT (contact_id, {column}) DO NOTHING"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(location.0)
            .bind(job_id)
            .bind(&contacts)
            .bind(&added)
            .bind(&nth)
            .execute(&mut *tx)
            .await?;
    }
    phases.mark("additional", trips);

    let (note_contacts, note_bodies): (Vec<i64>, Vec<&str>) = chunk
        .contacts
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.notes.iter().map(move |body| (i, body)))
        .map(|(i, body)| (ids[i], body.as_str()))
        .unzip();
    if !note_contacts.is_empty() {
        sqlx::query(
            "INSERT INTO notes (location_id, contact_id, body, job_id, created_at) \
             SELECT $1, u.contact_id, u.body, $2, $3 FROM UNNEST($4::bigint[], $5::text[]) AS u (contact_id, body)",
        )
        .bind(location.0)
        .bind(job_id)
        .bind(now)
        .bind(&note_contacts)
        .bind(&note_bodies)
        .execute(&mut *tx)
        .await?;
    }
    phases.mark("notes", u32::from(!note_contacts.is_empty()));

    let actions: Vec<&str> = (0..n).map(action).collect();
    if n > 0 {
        sqlx::query(
            "INSERT INTO contact_imports (contact_id, job_id, location_id, action) \
             SELECT u.contact_id, $1, $2, u.action FROM UNNEST($3::bigint[], $4::text[]) AS u (contact_id, action) \
             ON CONFLICT (contact_id, job_id) DO NOTHING",
        )
        .bind(job_id)
        .bind(location.0)
        .bind(&ids)
        .bind(&actions)
        .execute(&mut *tx)
        .await?;
    }
    phases.mark("contact_imports", u32::from(n > 0));

    if n > 0 {
        // A created contact's journal row needs no values: revert deletes it.
        let lines: Vec<i64> = chunk.contacts.iter().map(|c| c.line as i64).collect();
        let before: Vec<Option<String>> = chunk
            .contacts
            .iter()
            .map(|c| c.before.as_ref().map(json))
            .collect();
        let after: Vec<Option<String>> = chunk
            .contacts
            .iter()
            .map(|c| c.before.as_ref().map(|_| json(&c.values)))
            .collect();
        let verified: Vec<Option<&str>> = chunk
            .contacts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.before
                    .as_ref()
                    .and_then(|_| verification.get(&ids[i]).map(String::as_str))
            })
            .collect();
        sqlx::query(
            "INSERT INTO journal (location_id, job_id, line, entity, entity_id, action, before_values, \
             after_values, version_after, created_at, email_verification_before) \
             SELECT $1, $2, u.line, 'contact', u.entity_id, u.action, u.before_values, u.after_values, \
             u.version_after, $3, u.verification \
             FROM UNNEST($4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[]) \
             AS u (line, entity_id, action, before_values, after_values, version_after, verification)",
        )
        .bind(location.0)
        .bind(job_id)
        .bind(now)
        .bind(&lines)
        .bind(&ids)
        .bind(&actions)
        .bind(&before)
        .bind(&after)
        .bind(&versions)
        .bind(&verified)
        .execute(&mut *tx)
        .await?;
    }
    phases.mark("journal", u32::from(n > 0));

    for (workflow, written) in &chunk.enrollments {
        let contact_ids: Vec<i64> = written.iter().map(|i| ids[*i]).collect();
        let conn = &mut *tx;
        crate::workflows::enroll_on!(conn, location, *workflow, &contact_ids, Some(job_id), now)?;
    }
    phases.mark("enrollments", chunk.enrollments.len() as u32);

    let opportunity_ids =
        crate::opportunity_import::write_postgres(&mut tx, location, job_id, now, chunk, &ids)
            .await?;
    phases.mark("opportunities", chunk.opportunities.len() as u32);
    let line_opportunities =
        crate::opportunity_import::line_opportunity_ids(chunk, &opportunity_ids);
    if !chunk.lines.is_empty() {
        let lines = &chunk.lines;
        let records: Vec<Option<i64>> = lines
            .iter()
            .map(|l| {
                l.record.map(|r| match r {
                    RecordRef::Id(id) => id,
                    RecordRef::Written(i) => ids[i],
                })
            })
            .collect();
        sqlx::query(
            "INSERT INTO job_lines (job_id, line, status, action, record_id, primary_value, messages, cells, opportunity_id) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[])",
        )
        .bind(job_id)
        .bind(lines.iter().map(|l| l.line as i64).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.status.as_str()).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.action.as_str()).collect::<Vec<_>>())
        .bind(records)
        .bind(lines.iter().map(|l| l.primary.as_deref()).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.messages.as_deref()).collect::<Vec<_>>())
        .bind(lines.iter().map(|l| l.cells.as_deref()).collect::<Vec<_>>())
        .bind(&line_opportunities)
        .execute(&mut *tx)
        .await?;
    }
    phases.mark("job_lines", u32::from(!chunk.lines.is_empty()));

    // The checkpoint last, fenced on the lease again: it holds the job's row lock only for the
    // commit. Had the lease lapsed and another process claimed the job meanwhile, it matches
    // nothing and the whole chunk rolls back.
    let after = crate::import::checkpoint_chunk!(
        tx,
        job_id,
        location,
        chunk.totals,
        chunk.checkpoint_line,
        lease,
        lease_ms,
        now
    );
    phases.mark("checkpoint", 1);
    crate::failpoint::hit("chunk_before_commit");
    tx.commit().await?;
    phases.mark("commit", 1);
    phases.log("chunk", n);
    crate::failpoint::hit("chunk_after_commit");
    if after != AfterChunk::Running {
        crate::failpoint::hit("settle_after_commit");
    }
    ids.extend(opportunity_ids);
    Ok((ids, after))
}

/// The email verification of the contacts a chunk updates, where it is not `unverified`:
/// what the journal keeps so a revert can restore it. The rows are locked (`FOR UPDATE`, in id
/// order) so nothing changes them between this read and the chunk's update; the filter on
/// `unverified` is applied here, not in SQL, so a row changed by a transaction this read waited
/// for is judged by its committed value.
async fn email_verifications(
    conn: &mut PgConnection,
    location: LocationId,
    chunk: &ChunkWrite,
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = chunk
        .contacts
        .iter()
        .filter(|c| c.before.is_some())
        .filter_map(|c| c.id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, email_verification FROM contacts WHERE location_id = $1 AND id = ANY($2) \
         ORDER BY id FOR UPDATE",
    )
    .bind(location.0)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, v)| v != "unverified")
        .collect())
}
