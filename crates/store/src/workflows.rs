//! Workflows (SPEC §12): per location a name, a trigger, a status and ordered actions, and
//! the enrollments that run them (the runtime is in `runtime.rs`).
//!
//! Triggers and actions are written in the §13.1 syntax and stored that way (actions as a
//! JSON array of strings), so what an admin typed is what `workflow list` shows back; their
//! types and parsers are `domain::workflow`'s, re-exported here:
//! - triggers `tag-added:TAG`, `contact-created`, `import` (enrolled by an import's
//!   `--workflow`);
//! - actions `add-tag:TAG`, `remove-tag:TAG`, `send-sms:TEXT`, `send-email:SUBJECT|BODY` (the
//!   subject ends at the first `|`), `move-opportunity:PIPELINE/STAGE:DATE_FIELD` (the
//!   pipeline ends at the first `/`, the date field is after the last `:`).
//!
//! A contact is enrolled at most once per workflow (`UNIQUE (location_id, workflow_id,
//! contact_id, occasion)`, the occasion 0): enrolling again is a no-op, which is also what makes chains of
//! tag-added workflows terminate. A workflow triggered by an import is the exception: it
//! enrolls a contact once per import (the occasion is the import's job), so a regular
//! reconciliation import moves the board every time (SPEC §11). Only active workflows fire; the enrollments of a paused or draft workflow wait.

use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

use crate::error::conflict_on_unique;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

pub use domain::workflow::{
    ACTION_FORMS, Action, SyntaxError, TRIGGER_FORMS, Trigger, WorkflowStatus, parse_action,
    parse_trigger,
};

/// What defines a new workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWorkflow {
    pub name: String,
    pub trigger: Trigger,
    pub status: WorkflowStatus,
    pub actions: Vec<Action>,
}

/// A workflow of a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub id: i64,
    pub location_id: LocationId,
    pub name: String,
    pub trigger: Trigger,
    pub status: WorkflowStatus,
    pub actions: Vec<Action>,
    pub created_at: i64,
}

/// A workflow with how many contacts it enrolled and how many of them finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowSummary {
    pub workflow: Workflow,
    pub enrolled: i64,
    pub completed: i64,
}

/// One contact's enrollment in a workflow: the next step to run (0-based; equal to the
/// number of actions once done) and `active`, `completed` or `failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub id: i64,
    pub workflow_id: i64,
    pub contact_id: i64,
    pub job_id: Option<i64>,
    pub next_step: i64,
    pub status: String,
}

pub(crate) type WorkflowRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
);

const SELECT: &str = "SELECT id, location_id, name, trigger_kind, trigger_value, status, actions, created_at FROM workflows";

pub(crate) fn from_row(r: WorkflowRow) -> Result<Workflow> {
    let (id, location, name, kind, value, status, actions, created_at) = r;
    let corrupt = |what: String| StoreError::Corrupt(format!("workflow '{name}': {what}"));
    let trigger = match (kind.as_str(), value) {
        ("tag-added", Some(tag)) => Trigger::TagAdded(tag),
        ("contact-created", _) => Trigger::ContactCreated,
        ("import", _) => Trigger::Import,
        (other, _) => return Err(corrupt(format!("trigger '{other}'"))),
    };
    let exprs: Vec<String> =
        serde_json::from_str(&actions).map_err(|e| corrupt(format!("actions: {e}")))?;
    let actions = exprs
        .iter()
        .map(|a| parse_action(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(Workflow {
        id,
        location_id: LocationId(location),
        status: status.parse().map_err(corrupt)?,
        name,
        trigger,
        actions,
        created_at,
    })
}

/// The statement that enrolls contacts, written once for both backends: `$1` location,
/// `$2` workflow, `$3` job (or NULL), `$4` now (ms), `$5…` the contact ids. Contacts or a
/// workflow of another location enroll nobody; an existing enrollment is left alone. A
/// workflow triggered by an import enrolls a contact once per import (its `occasion` is the
/// job), every other one once ever (migration 22).
pub const ENROLL_SQL: &str = "INSERT INTO enrollments (location_id, workflow_id, contact_id, job_id, next_step, status, run_after, created_at, occasion) \
     SELECT c.location_id, w.id, c.id, $3, 0, 'active', $4, $4, \
            CASE WHEN w.trigger_kind = 'import' AND $3 IS NOT NULL THEN $3 ELSE 0 END \
     FROM contacts c JOIN workflows w ON w.location_id = c.location_id AND w.id = $2 \
     WHERE c.location_id = $1 AND c.id IN ({ids}) \
     ON CONFLICT (location_id, workflow_id, contact_id, occasion) DO NOTHING";

pub(crate) const ENROLL_CHUNK: usize = 1000;

pub(crate) fn enroll_sql(n: usize) -> String {
    let ids = (5..5 + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    ENROLL_SQL.replace("{ids}", &ids)
}

/// Runs [`ENROLL_SQL`] over `contact_ids` in chunks on one connection (or transaction).
macro_rules! enroll_on {
    ($conn:expr, $location:expr, $workflow:expr, $ids:expr, $job:expr, $now:expr) => {{
        let mut added: u64 = 0;
        for chunk in $ids.chunks($crate::workflows::ENROLL_CHUNK) {
            let mut q = sqlx::query(sqlx::AssertSqlSafe($crate::workflows::enroll_sql(
                chunk.len(),
            )))
            .bind($location.0)
            .bind($workflow)
            .bind($job)
            .bind($now);
            for id in chunk {
                q = q.bind(*id);
            }
            added += q.execute(&mut *$conn).await?.rows_affected();
        }
        Ok::<u64, StoreError>(added)
    }};
}
pub(crate) use enroll_on;

/// [`Store::enroll`] inside a transaction the caller holds on SQLite (pass `&mut *tx`), so
/// an import chunk's writes and its enrollments commit together. Returns how many
/// enrollments are new.
pub async fn enroll_in_sqlite(
    conn: &mut SqliteConnection,
    location: LocationId,
    workflow_id: i64,
    contact_ids: &[i64],
    job_id: Option<i64>,
) -> Result<u64> {
    enroll_on!(conn, location, workflow_id, contact_ids, job_id, now_ms())
}

/// [`enroll_in_sqlite`] for PostgreSQL.
pub async fn enroll_in_postgres(
    conn: &mut PgConnection,
    location: LocationId,
    workflow_id: i64,
    contact_ids: &[i64],
    job_id: Option<i64>,
) -> Result<u64> {
    enroll_on!(conn, location, workflow_id, contact_ids, job_id, now_ms())
}

impl Store {
    /// Defines a workflow. Its name must be new in the location (a conflict otherwise); a
    /// `move-opportunity` action must name a contact custom field of type date (not found
    /// otherwise).
    pub async fn create_workflow(&self, location: LocationId, w: &NewWorkflow) -> Result<Workflow> {
        let name = w.name.trim();
        let fields = self
            .custom_fields(location, &domain::ObjectKind::Contact)
            .await?;
        for action in &w.actions {
            if let Action::MoveOpportunity { date_field, .. } = action {
                let is_date = fields
                    .iter()
                    .any(|f| f.key == *date_field && f.field_type == domain::CustomFieldType::Date);
                if !is_date {
                    let dates: Vec<&str> = fields
                        .iter()
                        .filter(|f| f.field_type == domain::CustomFieldType::Date)
                        .map(|f| f.key.as_str())
                        .collect();
                    return Err(StoreError::not_found(format!(
                        "a contact date field with key '{date_field}' (date fields: {})",
                        dates.join(", ")
                    )));
                }
            }
        }
        let actions: Vec<String> = w.actions.iter().map(Action::to_string).collect();
        let actions = serde_json::to_string(&actions).expect("strings serialise");
        let trigger_value = match &w.trigger {
            Trigger::TagAdded(tag) => Some(tag.as_str()),
            _ => None,
        };
        let now = now_ms();
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO workflows (location_id, name, trigger_kind, trigger_value, status, actions, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(location.0)
            .bind(name)
            .bind(w.trigger.kind())
            .bind(trigger_value)
            .bind(w.status.as_str())
            .bind(&actions)
            .bind(now)
            .fetch_one(p)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("a workflow named '{name}' already exists")))
        })?;
        Ok(Workflow {
            id,
            location_id: location,
            name: name.to_string(),
            trigger: w.trigger.clone(),
            status: w.status,
            actions: w.actions.clone(),
            created_at: now,
        })
    }

    /// A location's workflows in the order they were made, with their enrollment counts.
    pub async fn workflows(&self, location: LocationId) -> Result<Vec<WorkflowSummary>> {
        type Row = (
            i64,
            i64,
            String,
            String,
            Option<String>,
            String,
            String,
            i64,
            i64,
            i64,
        );
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT w.id, w.location_id, w.name, w.trigger_kind, w.trigger_value, w.status, w.actions, w.created_at, \
                 (SELECT COUNT(*) FROM enrollments e WHERE e.workflow_id = w.id AND e.location_id = $1), \
                 (SELECT COUNT(*) FROM enrollments e WHERE e.workflow_id = w.id AND e.location_id = $1 AND e.status = 'completed') \
                 FROM workflows w WHERE w.location_id = $1 ORDER BY w.id",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(a, b, c, d, e, f, g, h, enrolled, completed)| {
                Ok(WorkflowSummary {
                    workflow: from_row((a, b, c, d, e, f, g, h))?,
                    enrolled,
                    completed,
                })
            })
            .collect()
    }

    /// A location's workflow by its exact name.
    pub async fn workflow_by_name(&self, location: LocationId, name: &str) -> Result<Workflow> {
        let row: Option<WorkflowRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE location_id = $1 AND name = $2")))
                .bind(location.0)
                .bind(name)
                .fetch_optional(p)
                .await
        })?;
        from_row(row.ok_or_else(|| StoreError::not_found(format!("a workflow named '{name}'")))?)
    }

    /// Changes a workflow's status. Pausing stops its steps at once (a step in flight
    /// finishes); activating lets its waiting enrollments run.
    pub async fn set_workflow_status(
        &self,
        location: LocationId,
        workflow_id: i64,
        status: WorkflowStatus,
    ) -> Result<()> {
        let done = on_pool!(self, p => {
            sqlx::query("UPDATE workflows SET status = $3 WHERE location_id = $1 AND id = $2")
                .bind(location.0)
                .bind(workflow_id)
                .bind(status.as_str())
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::not_found(format!("workflow {workflow_id}")));
        }
        Ok(())
    }

    /// The location's active workflows, in the order they were made.
    pub async fn active_workflows(&self, location: LocationId) -> Result<Vec<Workflow>> {
        let rows: Vec<WorkflowRow> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE location_id = $1 AND status = 'active' ORDER BY id"
            )))
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter().map(from_row).collect()
    }

    /// The location's active workflows triggered by adding any of `tags` (compared by
    /// [`domain::value::tag_key`], so `vip` finds a workflow on `VIP`). Paused and draft
    /// workflows are never returned: they do not fire (SPEC §6.6).
    pub async fn active_workflows_for_tags(
        &self,
        location: LocationId,
        tags: &[String],
    ) -> Result<Vec<Workflow>> {
        let keys: std::collections::HashSet<String> =
            tags.iter().map(|t| domain::value::tag_key(t)).collect();
        Ok(self
            .active_workflows(location)
            .await?
            .into_iter()
            .filter(|w| matches!(&w.trigger, Trigger::TagAdded(t) if keys.contains(&domain::value::tag_key(t))))
            .collect())
    }

    /// Enrolls the location's contacts in `contact_ids` in a workflow of the location, once
    /// per contact: a contact already enrolled (whatever the state of that enrollment) is
    /// left alone. Returns how many enrollments are new. `job_id` is the import that enrolled
    /// them, if any. To enroll inside another transaction, see [`enroll_in_sqlite`] /
    /// [`enroll_in_postgres`].
    pub async fn enroll(
        &self,
        location: LocationId,
        workflow_id: i64,
        contact_ids: &[i64],
        job_id: Option<i64>,
    ) -> Result<u64> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let conn = &mut *tx;
            let added = enroll_on!(conn, location, workflow_id, contact_ids, job_id, now)?;
            tx.commit().await?;
            Ok(added)
        })
    }

    /// Which of `contact_ids` are already enrolled in the workflow (ascending), so that a
    /// count of new enrollments (SPEC §6.6) leaves them out. None for a workflow an import
    /// triggers: the next import enrolls them all again.
    pub async fn enrolled_contacts(
        &self,
        location: LocationId,
        workflow_id: i64,
        contact_ids: &[i64],
    ) -> Result<Vec<i64>> {
        let mut out = Vec::new();
        for chunk in contact_ids.chunks(ENROLL_CHUNK) {
            let ids = (3..3 + chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT e.contact_id FROM enrollments e JOIN workflows w ON w.id = e.workflow_id \
                 WHERE e.location_id = $1 AND e.workflow_id = $2 AND e.occasion = 0 AND w.trigger_kind <> 'import' \
                 AND e.contact_id IN ({ids}) ORDER BY e.contact_id"
            );
            let found: Vec<i64> = on_pool!(self, p => {
                let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(location.0).bind(workflow_id);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(p).await
            })?;
            out.extend(found);
        }
        out.sort_unstable();
        Ok(out)
    }

    /// A workflow's enrollments, by contact id.
    pub async fn enrollments(
        &self,
        location: LocationId,
        workflow_id: i64,
    ) -> Result<Vec<Enrollment>> {
        type Row = (i64, i64, i64, Option<i64>, i64, String);
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, workflow_id, contact_id, job_id, next_step, status FROM enrollments \
                 WHERE location_id = $1 AND workflow_id = $2 ORDER BY contact_id",
            )
            .bind(location.0)
            .bind(workflow_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, workflow_id, contact_id, job_id, next_step, status)| Enrollment {
                    id,
                    workflow_id,
                    contact_id,
                    job_id,
                    next_step,
                    status,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests;
