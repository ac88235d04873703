//! Reverting an import (SPEC §9.4): undoing, in ONE transaction, what a finished or cancelled
//! import wrote, from the journal `apply_import_chunk` kept in the same transactions.
//!
//! For every contact the job touched, the contact's current `version` is compared with the
//! `version_after` of the job's last journal row for it. Every change bumps `version`, so a
//! difference means someone (a user, a workflow step, a later import) changed it since: it is
//! left alone and reported with its line. Otherwise a contact the job created is deleted (its
//! tags, notes, additional values, enrollments and provenance go with it by cascade), and a
//! contact it updated gets back the values of the job's first journal row (`before_values`,
//! custom fields and derived columns included, and the email verification the import reset),
//! loses the tags, notes, additional emails and phones the job added, its enrollments by the
//! job that have not run a step, and its provenance row for the job.
//!
//! What a revert never does: touch a contact changed since, delete a message a workflow already
//! queued, or remove tag definitions (a tag the import created stays in the location's list).
//! The journal and the line results stay: they are the job's history.

use std::collections::{BTreeMap, HashMap};

use crate::contacts::email_match_key;
use crate::import::{BOOL_COLUMNS, OWNER, StoredContact, TEXT_COLUMNS};
use crate::import::{custom_json, search_text};
use crate::sql::params;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// How many ids go into one `IN (…)` list.
const ID_CHUNK: usize = 500;

/// What [`Store::revert_import`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevertReport {
    pub job_id: i64,
    /// Contacts the job created, now deleted (ascending ids).
    pub deleted: Vec<i64>,
    /// Contacts the job updated, now back to their values before it (ascending ids).
    pub restored: Vec<i64>,
    /// Contacts left alone, by line (and an opportunities import's opportunities, their
    /// reason naming the opportunity).
    pub conflicts: Vec<RevertConflict>,
    /// Opportunities an opportunities import created, now deleted (SPEC §7).
    pub opportunities_deleted: Vec<i64>,
    /// Opportunities it updated, now back to their values before it.
    pub opportunities_restored: Vec<i64>,
}

/// A contact a revert left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertConflict {
    pub contact_id: i64,
    /// The first file line of the job that wrote it.
    pub line: u64,
    pub reason: String,
}

/// A contact as a canonical dump shows it: every field, tags, additional values, email
/// verification and notes — what "an export equals the one before" is checked on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDump {
    pub contact: StoredContact,
    pub email_verification: String,
    /// Note bodies, oldest first.
    pub notes: Vec<String>,
}

/// One contact the job touched, from its first and last journal rows.
struct Touched {
    id: i64,
    line: u64,
    created: bool,
    before: Option<String>,
    verification_before: Option<String>,
    version_after: i64,
}

type JournalRow = (i64, i64, String, Option<String>, Option<String>, i64);

/// Per contact: the first journal row (line, action, values before) and the last one's
/// version, most recently changed first (the order an undo goes in).
const TOUCHED_SQL: &str = "SELECT f.entity_id, f.line, f.action, f.before_values, f.email_verification_before, l.version_after \
     FROM (SELECT entity_id, MIN(id) AS first_id, MAX(id) AS last_id FROM journal \
           WHERE location_id = $1 AND job_id = $2 AND entity = 'contact' GROUP BY entity_id) g \
     JOIN journal f ON f.id = g.first_id JOIN journal l ON l.id = g.last_id \
     ORDER BY g.last_id DESC";

/// `UPDATE` putting a contact back: $1 id, $2 location, $3 the version the job left, then
/// the columns in the order [`bind_restore!`] binds them. An owner who no longer exists is
/// restored as no owner.
fn restore_sql() -> String {
    let mut sets: Vec<String> = Vec::new();
    let mut n = 4;
    for (_, c) in TEXT_COLUMNS {
        sets.push(format!("{c} = ${n}"));
        n += 1;
    }
    sets.push(format!(
        "owner_user_id = (SELECT id FROM users WHERE id = ${n})"
    ));
    n += 1;
    for c in BOOL_COLUMNS {
        sets.push(format!("{c} = ${n}"));
        n += 1;
    }
    for c in [
        "custom_values",
        "email_key",
        "search_text",
        "email_verification",
        "updated_at",
    ] {
        sets.push(format!("{c} = ${n}"));
        n += 1;
    }
    format!(
        "UPDATE contacts SET {}, version = version + 1 \
         WHERE id = $1 AND location_id = $2 AND version = $3",
        sets.join(", ")
    )
}

macro_rules! bind_restore {
    ($q:expr, $v:expr, $verification:expr, $now:expr) => {{
        let v: &BTreeMap<String, String> = $v;
        let mut q = $q;
        for (k, _) in TEXT_COLUMNS {
            q = q.bind(v.get(*k).cloned());
        }
        q = q.bind(v.get(OWNER).and_then(|s| s.parse::<i64>().ok()));
        for c in BOOL_COLUMNS {
            q = q.bind(v.get(*c).map(|s| s == "true").unwrap_or(false));
        }
        q.bind(custom_json(v))
            .bind(v.get("email").map(|e| email_match_key(e)))
            .bind(search_text(v))
            .bind($verification)
            .bind($now)
    }};
}

/// Why a job cannot be reverted, from its (operation, status, reverted_at).
pub(crate) fn refusal(job_id: i64, row: Option<(String, String, Option<i64>)>) -> StoreError {
    let Some((operation, status, reverted_at)) = row else {
        return StoreError::not_found(format!("job {job_id}"));
    };
    let why = if operation != "import" {
        format!("job {job_id} is an {operation}; only an import can be reverted")
    } else if reverted_at.is_some() {
        format!("job {job_id} was already reverted")
    } else {
        let hint = match status.as_str() {
            "running" | "queued" | "paused" => " (cancel it first)",
            _ => "",
        };
        format!(
            "job {job_id} is {status}{hint}; only a completed or cancelled import can be reverted"
        )
    };
    StoreError::Conflict(why)
}

impl Store {
    /// Reverts an import of the location (SPEC §9.4), in one transaction, at most once: only a
    /// `completed` or `cancelled` import can be reverted (anything else is a
    /// [`StoreError::Conflict`] saying why; an unknown job is `NotFound`). Contacts changed
    /// since the import are left alone and reported (see the module docs).
    pub async fn revert_import(&self, location: LocationId, job_id: i64) -> Result<RevertReport> {
        // A company or custom object import is reverted from its own records (SPEC §8).
        let object = self.job(location, job_id).await?.object;
        if !matches!(
            object,
            domain::ObjectKind::Contact | domain::ObjectKind::Opportunity
        ) {
            return self.revert_records(location, job_id, &object).await;
        }
        let now = now_ms();
        let restore = restore_sql();
        let mut report = RevertReport {
            job_id,
            ..RevertReport::default()
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            // The claim first: it takes the write lock (SQLite) or the job's row lock
            // (PostgreSQL), so two reverts of one job run one after the other and the second
            // is refused.
            let claimed = sqlx::query(
                "UPDATE jobs SET reverted_at = $3 WHERE id = $1 AND location_id = $2 AND operation = 'import' \
                 AND status IN ('completed', 'cancelled') AND reverted_at IS NULL",
            )
            .bind(job_id)
            .bind(location.0)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                let row: Option<(String, String, Option<i64>)> =
                    sqlx::query_as("SELECT operation, status, reverted_at FROM jobs WHERE id = $1 AND location_id = $2")
                        .bind(job_id)
                        .bind(location.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                tx.rollback().await?;
                return Err(refusal(job_id, row));
            }
            // An opportunities import's opportunities first: their links to the contacts it
            // created are restored before those contacts go.
            crate::opportunity_import::revert_opportunities!(tx, location, job_id, now, report);
            let rows: Vec<JournalRow> = sqlx::query_as(TOUCHED_SQL)
                .bind(location.0)
                .bind(job_id)
                .fetch_all(&mut *tx)
                .await?;
            let current: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
                "SELECT id, version FROM contacts WHERE location_id = $1 AND id IN \
                 (SELECT entity_id FROM journal WHERE location_id = $1 AND job_id = $2 AND entity = 'contact')",
            )
            .bind(location.0)
            .bind(job_id)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
            let mut ran: HashMap<i64, String> = HashMap::new();
            let started: Vec<(i64, String)> = sqlx::query_as(
                "SELECT e.contact_id, w.name FROM enrollments e JOIN workflows w ON w.id = e.workflow_id \
                 WHERE e.location_id = $1 AND e.job_id = $2 AND e.next_step > 0 ORDER BY e.id",
            )
            .bind(location.0)
            .bind(job_id)
            .fetch_all(&mut *tx)
            .await?;
            for (contact, workflow) in started {
                ran.entry(contact).or_insert(workflow);
            }

            let mut deletes = Vec::new();
            let mut pending = Vec::new();
            for (id, line, action, before, verification_before, version_after) in rows {
                let t = Touched {
                    id,
                    line: line as u64,
                    created: action == "created",
                    before,
                    verification_before,
                    version_after,
                };
                let reason = domain::revert::conflict(domain::revert::Written {
                    version_now: current.get(&id).copied(),
                    version_after: t.version_after,
                    workflow_ran: ran.get(&id).map(String::as_str),
                });
                match reason {
                    Some(reason) => report.conflicts.push(RevertConflict { contact_id: id, line: t.line, reason }),
                    None if t.created => deletes.push(t),
                    None => pending.push(t),
                }
            }

            // Deleting first frees the emails and phones the job's new contacts hold.
            for t in deletes {
                let done = sqlx::query("DELETE FROM contacts WHERE id = $1 AND location_id = $2 AND version = $3")
                    .bind(t.id)
                    .bind(location.0)
                    .bind(t.version_after)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if done == 1 {
                    report.deleted.push(t.id);
                } else {
                    report.conflicts.push(RevertConflict { contact_id: t.id, line: t.line, reason: "changed since the import".into() });
                }
            }

            // Restores, most recently changed first. One whose earlier email or phone another
            // contact holds now waits for a later pass (that contact may be restored first);
            // what still collides when a pass changes nothing is reported.
            loop {
                let mut progress = false;
                let mut blocked = Vec::new();
                for t in pending {
                    let raw = t.before.as_deref().ok_or_else(|| {
                        StoreError::Corrupt(format!("journal of job {job_id}: no values before the update of contact {}", t.id))
                    })?;
                    let before: BTreeMap<String, String> = serde_json::from_str(raw)
                        .map_err(|e| StoreError::Corrupt(format!("journal of job {job_id}, contact {}: {e}", t.id)))?;
                    let email_key = before.get("email").map(|e| email_match_key(e));
                    let phone = before.get("phone").cloned();
                    let holder: Option<i64> = if email_key.is_some() || phone.is_some() {
                        sqlx::query_scalar(
                            "SELECT id FROM contacts WHERE location_id = $1 AND id <> $2 \
                             AND (email_key = $3 OR phone = $4) ORDER BY id LIMIT 1",
                        )
                        .bind(location.0)
                        .bind(t.id)
                        .bind(&email_key)
                        .bind(&phone)
                        .fetch_optional(&mut *tx)
                        .await?
                    } else {
                        None
                    };
                    if let Some(holder) = holder {
                        blocked.push((t, holder));
                        continue;
                    }
                    let verification = t.verification_before.as_deref().unwrap_or("unverified");
                    let q = sqlx::query(sqlx::AssertSqlSafe(restore.clone()))
                        .bind(t.id)
                        .bind(location.0)
                        .bind(t.version_after);
                    let done = bind_restore!(q, &before, verification, now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if done == 1 {
                        report.restored.push(t.id);
                        progress = true;
                    } else {
                        report.conflicts.push(RevertConflict { contact_id: t.id, line: t.line, reason: "changed since the import".into() });
                    }
                }
                if blocked.is_empty() || !progress {
                    for (t, holder) in blocked {
                        report.conflicts.push(RevertConflict {
                            contact_id: t.id,
                            line: t.line,
                            reason: format!("its email or phone before the import now belongs to contact {holder}"),
                        });
                    }
                    break;
                }
                pending = blocked.into_iter().map(|(t, _)| t).collect();
            }

            // What the job added to the contacts it restored.
            for ids in report.restored.chunks(ID_CHUNK) {
                let list = params(3, ids.len());
                for sql in [
                    format!("DELETE FROM contact_tags WHERE location_id = $1 AND added_by_job = $2 AND contact_id IN ({list})"),
                    format!("DELETE FROM notes WHERE location_id = $1 AND job_id = $2 AND contact_id IN ({list})"),
                    format!("DELETE FROM contact_emails WHERE location_id = $1 AND job_id = $2 AND contact_id IN ({list})"),
                    format!("DELETE FROM contact_phones WHERE location_id = $1 AND job_id = $2 AND contact_id IN ({list})"),
                    format!("DELETE FROM enrollments WHERE location_id = $1 AND job_id = $2 AND next_step = 0 AND contact_id IN ({list})"),
                    format!("DELETE FROM contact_imports WHERE location_id = $1 AND job_id = $2 AND contact_id IN ({list})"),
                ] {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(location.0).bind(job_id);
                    for id in ids {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            // What the revert did is recorded with it: a page that reads the job reverted also
            // reads its counts (issue 18's Bulk Actions that tell the truth).
            sqlx::query(
                "UPDATE jobs SET revert_started_at = NULL, revert_deleted = $3, revert_restored = $4, \
                 revert_left = $5 WHERE id = $1 AND location_id = $2",
            )
            .bind(job_id)
            .bind(location.0)
            .bind(report.deleted.len() as i64)
            .bind(report.restored.len() as i64)
            .bind(report.conflicts.len() as i64)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        report.deleted.sort_unstable();
        report.restored.sort_unstable();
        report.opportunities_deleted.sort_unstable();
        report.opportunities_restored.sort_unstable();
        report.conflicts.sort_by_key(|c| (c.line, c.contact_id));
        Ok(report)
    }

    /// When the job was reverted (ms since the epoch), if it was.
    pub async fn job_reverted_at(&self, location: LocationId, job_id: i64) -> Result<Option<i64>> {
        let row: Option<Option<i64>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT reverted_at FROM jobs WHERE id = $1 AND location_id = $2")
                .bind(job_id)
                .bind(location.0)
                .fetch_optional(p)
                .await
        })?;
        row.ok_or_else(|| StoreError::not_found(format!("job {job_id}")))
    }

    /// Every contact of the location, by ascending id, with tags, additional values, email
    /// verification and notes: a canonical dump that two states of a location compare by.
    pub async fn contacts_dump(&self, location: LocationId) -> Result<Vec<ContactDump>> {
        let ids: Vec<i64> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT id FROM contacts WHERE location_id = $1 ORDER BY id")
                .bind(location.0)
                .fetch_all(p)
                .await
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ID_CHUNK) {
            let contacts = self
                .contacts_for_matching(location, chunk, &[], &[])
                .await?;
            let list = params(2, chunk.len());
            let verification_sql = format!(
                "SELECT id, email_verification FROM contacts WHERE location_id = $1 AND id IN ({list})"
            );
            let notes_sql = format!(
                "SELECT contact_id, body FROM notes WHERE location_id = $1 AND contact_id IN ({list}) ORDER BY id"
            );
            let (verification, notes) = on_pool!(self, p => {
                let mut out = Vec::new();
                for sql in [&verification_sql, &notes_sql] {
                    let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql.clone())).bind(location.0);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    out.push(q.fetch_all(p).await?);
                }
                let notes = out.pop().unwrap_or_default();
                let verification = out.pop().unwrap_or_default();
                Ok::<_, StoreError>((verification, notes))
            })?;
            let verification: HashMap<i64, String> = verification.into_iter().collect();
            let mut by_contact: HashMap<i64, Vec<String>> = HashMap::new();
            for (id, body) in notes {
                by_contact.entry(id).or_default().push(body);
            }
            for contact in contacts {
                out.push(ContactDump {
                    email_verification: verification.get(&contact.id).cloned().unwrap_or_default(),
                    notes: by_contact.remove(&contact.id).unwrap_or_default(),
                    contact,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
