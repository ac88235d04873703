//! The workflow runtime: runs the due steps of enrollments, and the outbox its messages go to.
//!
//! Invariant (exactly once): one step of one enrollment is one transaction. It starts by
//! claiming the step — `UPDATE enrollments SET next_step = next_step + 1 … WHERE next_step =
//! <the step>` — and then writes the step's effect (a tag added or removed, an outbox row, an
//! opportunity created or moved, the enrollments a new tag fires). Effect and claim commit
//! together or not at all, so a process killed at any point leaves either the step done once
//! or not done, and the next run (any process) does it. Two runners racing for one step: the
//! claim of the second matches no row and it moves on. `outbox` has `UNIQUE (enrollment_id,
//! step)` as a second lock on the door. The claim is the transaction's first statement, so on
//! SQLite it takes the write lock before reading anything.
//!
//! Messages are never sent here: `send-sms` / `send-email` write an outbox row, `queued`, or
//! `suppressed` with the reason when the contact is Unsubscribed, has the channel's DND flag,
//! has no phone / email, or (email) an address verified invalid. Handing queued messages to
//! the outside world is [`Store::deliver_outbox`]'s job, through a [`Transport`]; the
//! built-in [`RecordingTransport`] only records (messages stay `queued` in the outbox).
//!
//! Tags added by a workflow fire tag-added workflows: the contact is enrolled in every active
//! workflow triggered by the new tag, in the step's transaction (a tag the contact already
//! had fires nothing). A contact is enrolled at most once per tag-added workflow, so chains
//! end, loops included (only a workflow an import triggers enrolls again, once per import).

use std::collections::HashMap;
use std::future::Future;

use crate::workflows::{Action, Trigger, Workflow, WorkflowRow, enroll_on, from_row};
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};
use domain::pipeline::same_name;
use domain::workflow::{MessageChannel, Reach, suppression};

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Steps run (each committed with its effect).
    pub steps: u64,
    /// Enrollments that ran their last step.
    pub completed: u64,
    /// Messages put in the outbox as `queued`.
    pub queued: u64,
    /// Messages recorded as `suppressed`.
    pub suppressed: u64,
    /// Tags added to a contact that did not have them.
    pub tags_added: u64,
    pub tags_removed: u64,
    /// Opportunities created or moved.
    pub opportunities: u64,
    /// Enrollments made by tag-added triggers that the run's new tags fired.
    pub enrolled: u64,
}

/// Runs up to `limit` due steps of active enrollments in active workflows, of one location
/// or (`None`, for `serve` and workers) of every location. See the module docs for the
/// exactly-once rule. Same as [`Store::run_due_enrollments`].
pub async fn run_due_enrollments(
    store: &Store,
    location: Option<LocationId>,
    limit: u64,
) -> Result<RunSummary> {
    store.run_due_enrollments(location, limit).await
}

/// A message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub location_id: LocationId,
    pub enrollment_id: Option<i64>,
    pub step: i64,
    pub contact_id: Option<i64>,
    /// `sms` or `email`.
    pub channel: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// `queued`, `sent` or `suppressed`.
    pub status: String,
    /// Why a message was suppressed: `unsubscribed`, `dnd_sms`, `dnd_email`, `no_phone`,
    /// `no_email` or `email_invalid`.
    pub reason: Option<String>,
    /// The workflow that queued it (gone when the workflow was deleted).
    pub workflow: Option<String>,
    pub created_at: i64,
}

/// What a transport did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the provider: the outbox row becomes `sent`.
    Sent,
    /// Kept: the outbox row stays `queued` (the built-in transport, which only records).
    Recorded,
}

/// Sends messages from the outbox (an SMS gateway, an email provider). Called outside any
/// database transaction; a crash between sending and marking the row `sent` sends the message
/// again on the next delivery, so a transport should pass the outbox id to its provider as an
/// idempotency key.
pub trait Transport: Send + Sync {
    fn send(
        &self,
        message: &OutboxMessage,
    ) -> impl Future<Output = std::result::Result<Delivery, String>> + Send;
}

/// The built-in transport: the outbox row is the record; nothing leaves the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordingTransport;

impl Transport for RecordingTransport {
    async fn send(&self, _message: &OutboxMessage) -> std::result::Result<Delivery, String> {
        Ok(Delivery::Recorded)
    }
}

/// What [`Store::deliver_outbox`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliverySummary {
    pub sent: u64,
    pub recorded: u64,
    /// (outbox id, the transport's error); those rows stay `queued`.
    pub failed: Vec<(i64, String)>,
}

/// What a committed step did, added to the run's summary after the commit.
#[derive(Debug, Default)]
struct StepEffect {
    claimed: bool,
    completed: bool,
    queued: bool,
    suppressed: bool,
    tag_added: bool,
    tag_removed: bool,
    opportunity: bool,
    enrolled: u64,
}

/// Enrollments fetched per query.
const DUE_BATCH: u64 = 100;

/// The id of the location's tag with this name's key, created when missing.
macro_rules! tag_id {
    ($conn:expr, $location:expr, $name:expr, $now:expr) => {{
        let key = domain::value::tag_key($name);
        sqlx::query(
            "INSERT INTO tags (location_id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (location_id, name_key) DO NOTHING",
        )
        .bind($location)
        .bind(domain::value::trim($name))
        .bind(&key)
        .bind($now)
        .execute(&mut *$conn)
        .await?;
        let id: i64 =
            sqlx::query_scalar("SELECT id FROM tags WHERE location_id = $1 AND name_key = $2")
                .bind($location)
                .bind(&key)
                .fetch_one(&mut *$conn)
                .await?;
        id
    }};
}

type ContactRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    bool,
    String,
    String,
);

impl Store {
    /// Runs up to `limit` due steps (see the module docs); `location` `None` runs every
    /// location's (the worker loop of `serve`).
    pub async fn run_due_enrollments(
        &self,
        location: Option<LocationId>,
        limit: u64,
    ) -> Result<RunSummary> {
        self.run_steps(location, limit, None).await
    }

    /// The runtime, with a way for tests to crash: when `crash_at` is `Some(n)`, the n-th step
    /// of this run writes its effect and then fails before committing, as a killed process
    /// would, and the run ends with that error.
    pub(crate) async fn run_steps(
        &self,
        location: Option<LocationId>,
        limit: u64,
        crash_at: Option<u64>,
    ) -> Result<RunSummary> {
        let mut summary = RunSummary::default();
        let mut workflows: HashMap<i64, Workflow> = HashMap::new();
        let mut attempts = 0u64;
        while summary.steps < limit {
            let due = self
                .due_enrollments(location, DUE_BATCH.min(limit - summary.steps))
                .await?;
            if due.is_empty() {
                break;
            }
            let mut progressed = false;
            for (enrollment, workflow_id, location_id, contact, mut step) in due {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    workflows.entry(workflow_id)
                {
                    slot.insert(
                        self.workflow_by_id(LocationId(location_id), workflow_id)
                            .await?,
                    );
                }
                let w = &workflows[&workflow_id];
                while summary.steps < limit {
                    attempts += 1;
                    let crash = crash_at == Some(attempts);
                    let effect = self.run_step(w, enrollment, contact, step, crash).await?;
                    if !effect.claimed {
                        break;
                    }
                    progressed = true;
                    summary.steps += 1;
                    summary.completed += u64::from(effect.completed);
                    summary.queued += u64::from(effect.queued);
                    summary.suppressed += u64::from(effect.suppressed);
                    summary.tags_added += u64::from(effect.tag_added);
                    summary.tags_removed += u64::from(effect.tag_removed);
                    summary.opportunities += u64::from(effect.opportunity);
                    summary.enrolled += effect.enrolled;
                    if effect.completed {
                        break;
                    }
                    step += 1;
                }
            }
            if !progressed {
                // Every due enrollment was taken by another runner meanwhile; let it work.
                break;
            }
        }
        Ok(summary)
    }

    /// Active enrollments of active workflows whose time has come, oldest first:
    /// (enrollment, workflow, location, contact, next step).
    async fn due_enrollments(
        &self,
        location: Option<LocationId>,
        limit: u64,
    ) -> Result<Vec<(i64, i64, i64, i64, i64)>> {
        let scope = if location.is_some() {
            " AND e.location_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT e.id, e.workflow_id, e.location_id, e.contact_id, e.next_step FROM enrollments e \
             JOIN workflows w ON w.id = e.workflow_id AND w.location_id = e.location_id \
             WHERE e.status = 'active' AND w.status = 'active' AND e.run_after <= $1{scope} \
             ORDER BY e.id LIMIT {limit}"
        );
        Ok(on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(now_ms());
            if let Some(l) = location {
                q = q.bind(l.0);
            }
            q.fetch_all(p).await
        })?)
    }

    async fn workflow_by_id(&self, location: LocationId, id: i64) -> Result<Workflow> {
        let row = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, location_id, name, trigger_kind, trigger_value, status, actions, created_at \
                 FROM workflows WHERE location_id = $1 AND id = $2",
            )
            .bind(location.0)
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        from_row(row.ok_or_else(|| StoreError::not_found(format!("workflow {id}")))?)
    }

    /// Claims and runs step `step` of one enrollment in one transaction (module docs).
    async fn run_step(
        &self,
        w: &Workflow,
        enrollment: i64,
        contact: i64,
        step: i64,
        crash: bool,
    ) -> Result<StepEffect> {
        let location = w.location_id.0;
        let steps = w.actions.len() as i64;
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut effect = StepEffect::default();
            if step >= steps {
                // Nothing left to run (a workflow without actions): finish the enrollment.
                let done = sqlx::query("UPDATE enrollments SET status = 'completed' WHERE id = $1 AND status = 'active' AND next_step = $2")
                    .bind(enrollment)
                    .bind(step)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                effect.claimed = done > 0;
                effect.completed = done > 0;
                return Ok(effect);
            }
            let claimed = sqlx::query(
                "UPDATE enrollments SET next_step = next_step + 1, \
                 status = CASE WHEN next_step + 1 >= $3 THEN 'completed' ELSE 'active' END \
                 WHERE id = $1 AND next_step = $2 AND status = 'active' \
                 AND EXISTS (SELECT 1 FROM workflows w WHERE w.id = enrollments.workflow_id AND w.status = 'active')",
            )
            .bind(enrollment)
            .bind(step)
            .bind(steps)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                return Ok(effect);
            }
            effect.claimed = true;
            effect.completed = step + 1 >= steps;
            let read_contact = sqlx::query_as::<_, ContactRow>(
                "SELECT first_name, last_name, email, phone, status, dnd_sms, dnd_email, email_verification, custom_values \
                 FROM contacts WHERE location_id = $1 AND id = $2",
            )
            .bind(location)
            .bind(contact);
            match &w.actions[step as usize] {
                Action::AddTag(tag) => {
                    let tag_id = tag_id!(tx, location, tag, now);
                    let added = sqlx::query(
                        "INSERT INTO contact_tags (contact_id, tag_id, location_id, added_by_job, created_at) \
                         SELECT c.id, $3, c.location_id, NULL, $4 FROM contacts c WHERE c.location_id = $1 AND c.id = $2 \
                         ON CONFLICT (contact_id, tag_id) DO NOTHING",
                    )
                    .bind(location)
                    .bind(contact)
                    .bind(tag_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if added > 0 {
                        effect.tag_added = true;
                        sqlx::query("UPDATE contacts SET version = version + 1, updated_at = $3 WHERE location_id = $1 AND id = $2")
                            .bind(location)
                            .bind(contact)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        // The new tag fires the location's active tag-added workflows on it.
                        let rows: Vec<WorkflowRow> = sqlx::query_as(
                            "SELECT id, location_id, name, trigger_kind, trigger_value, status, actions, created_at \
                             FROM workflows WHERE location_id = $1 AND status = 'active' AND trigger_kind = 'tag-added'",
                        )
                        .bind(location)
                        .fetch_all(&mut *tx)
                        .await?;
                        let key = domain::value::tag_key(tag);
                        for row in rows {
                            let fired = from_row(row)?;
                            if matches!(&fired.trigger, Trigger::TagAdded(t) if domain::value::tag_key(t) == key) {
                                let conn = &mut *tx;
                                effect.enrolled += enroll_on!(conn, w.location_id, fired.id, [contact], None::<i64>, now)?;
                            }
                        }
                    }
                }
                Action::RemoveTag(tag) => {
                    let removed = sqlx::query(
                        "DELETE FROM contact_tags WHERE location_id = $1 AND contact_id = $2 \
                         AND tag_id IN (SELECT id FROM tags WHERE location_id = $1 AND name_key = $3)",
                    )
                    .bind(location)
                    .bind(contact)
                    .bind(domain::value::tag_key(tag))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if removed > 0 {
                        effect.tag_removed = true;
                        sqlx::query("UPDATE contacts SET version = version + 1, updated_at = $3 WHERE location_id = $1 AND id = $2")
                            .bind(location)
                            .bind(contact)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                Action::SendSms(_) | Action::SendEmail { .. } => {
                    let (channel, subject, body) = match &w.actions[step as usize] {
                        Action::SendSms(text) => (MessageChannel::Sms, None, text.as_str()),
                        Action::SendEmail { subject, body } => {
                            (MessageChannel::Email, Some(subject.as_str()), body.as_str())
                        }
                        _ => unreachable!("matched above"),
                    };
                    let row = read_contact.fetch_optional(&mut *tx).await?;
                    let reach = row
                        .map(|(_, _, email, phone, status, dnd_sms, dnd_email, email_verification, _)| Reach {
                            email,
                            phone,
                            status,
                            dnd_sms,
                            dnd_email,
                            email_verification,
                        })
                        .unwrap_or_default();
                    let reason = suppression(channel, &reach);
                    let (channel_name, recipient) = match channel {
                        MessageChannel::Sms => ("sms", reach.phone.clone()),
                        MessageChannel::Email => ("email", reach.email.clone()),
                    };
                    let status = if reason.is_some() { "suppressed" } else { "queued" };
                    let written = sqlx::query(
                        "INSERT INTO outbox (location_id, enrollment_id, step, contact_id, channel, recipient, subject, body, \
                         status, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                         ON CONFLICT (enrollment_id, step) DO NOTHING",
                    )
                    .bind(location)
                    .bind(enrollment)
                    .bind(step)
                    .bind(contact)
                    .bind(channel_name)
                    .bind(recipient.filter(|r| !r.trim().is_empty()))
                    .bind(subject)
                    .bind(body)
                    .bind(status)
                    .bind(reason)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    effect.queued = written > 0 && reason.is_none();
                    effect.suppressed = written > 0 && reason.is_some();
                }
                Action::MoveOpportunity {
                    pipeline,
                    stage,
                    date_field,
                } => {
                    let row = read_contact.fetch_optional(&mut *tx).await?;
                    if let Some((first, last, email, phone, _, _, _, _, custom)) = row {
                        let values: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&custom)
                            .map_err(|e| StoreError::Corrupt(format!("custom values of contact {contact}: {e}")))?;
                        let set = match values.get(date_field) {
                            None | Some(serde_json::Value::Null) => false,
                            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
                            Some(_) => true,
                        };
                        if set {
                            // Matched by name ignoring case (SPEC §7); made when missing.
                            let known: Vec<(i64, String)> =
                                sqlx::query_as("SELECT id, name FROM pipelines WHERE location_id = $1 ORDER BY id")
                                    .bind(location)
                                    .fetch_all(&mut *tx)
                                    .await?;
                            let pipeline_id: i64 = match known.iter().find(|(_, n)| same_name(n, pipeline)) {
                                Some((id, _)) => *id,
                                None => {
                                    sqlx::query(
                                        "INSERT INTO pipelines (location_id, name, created_at) VALUES ($1, $2, $3) \
                                         ON CONFLICT (location_id, name) DO NOTHING",
                                    )
                                    .bind(location)
                                    .bind(pipeline)
                                    .bind(now)
                                    .execute(&mut *tx)
                                    .await?;
                                    sqlx::query_scalar("SELECT id FROM pipelines WHERE location_id = $1 AND name = $2")
                                        .bind(location)
                                        .bind(pipeline)
                                        .fetch_one(&mut *tx)
                                        .await?
                                }
                            };
                            let stages: Vec<(i64, String)> = sqlx::query_as(
                                "SELECT id, name FROM stages WHERE location_id = $1 AND pipeline_id = $2 ORDER BY position, id",
                            )
                            .bind(location)
                            .bind(pipeline_id)
                            .fetch_all(&mut *tx)
                            .await?;
                            let stage_id: i64 = match stages.iter().find(|(_, n)| same_name(n, stage)) {
                                Some((id, _)) => *id,
                                None => {
                                    sqlx::query(
                                        "INSERT INTO stages (location_id, pipeline_id, name, position) \
                                         SELECT $1, $2, $3, COALESCE(MAX(position) + 1, 0) FROM stages WHERE pipeline_id = $2 \
                                         ON CONFLICT (pipeline_id, name) DO NOTHING",
                                    )
                                    .bind(location)
                                    .bind(pipeline_id)
                                    .bind(stage)
                                    .execute(&mut *tx)
                                    .await?;
                                    sqlx::query_scalar("SELECT id FROM stages WHERE pipeline_id = $1 AND name = $2")
                                        .bind(pipeline_id)
                                        .bind(stage)
                                        .fetch_one(&mut *tx)
                                        .await?
                                }
                            };
                            let existing: Option<(i64, i64)> = sqlx::query_as(
                                "SELECT id, stage_id FROM opportunities WHERE location_id = $1 AND contact_id = $2 \
                                 AND pipeline_id = $3 ORDER BY id LIMIT 1",
                            )
                            .bind(location)
                            .bind(contact)
                            .bind(pipeline_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                            match existing {
                                Some((_, at)) if at == stage_id => {}
                                Some((id, _)) => {
                                    sqlx::query(
                                        "UPDATE opportunities SET stage_id = $3, updated_at = $4, version = version + 1 \
                                         WHERE location_id = $1 AND id = $2",
                                    )
                                    .bind(location)
                                    .bind(id)
                                    .bind(stage_id)
                                    .bind(now)
                                    .execute(&mut *tx)
                                    .await?;
                                    effect.opportunity = true;
                                }
                                None => {
                                    let name = [first, last]
                                        .into_iter()
                                        .flatten()
                                        .filter(|s| !s.trim().is_empty())
                                        .collect::<Vec<_>>()
                                        .join(" ");
                                    let name = [Some(name), email, phone]
                                        .into_iter()
                                        .flatten()
                                        .find(|s| !s.trim().is_empty())
                                        .unwrap_or_else(|| format!("Contact {contact}"));
                                    sqlx::query(
                                        "INSERT INTO opportunities (location_id, pipeline_id, stage_id, name, status, contact_id, \
                                         created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $6)",
                                    )
                                    .bind(location)
                                    .bind(pipeline_id)
                                    .bind(stage_id)
                                    .bind(name)
                                    .bind(contact)
                                    .bind(now)
                                    .execute(&mut *tx)
                                    .await?;
                                    effect.opportunity = true;
                                }
                            }
                        }
                    }
                }
            }
            if crash {
                // A killed process: the effect is written but never committed.
                drop(tx);
                return Err(StoreError::Corrupt("simulated crash before the step committed".into()));
            }
            tx.commit().await?;
            Ok(effect)
        })
    }

    /// The location's outbox, oldest first.
    pub async fn outbox(&self, location: LocationId) -> Result<Vec<OutboxMessage>> {
        self.outbox_where(Some(location), None, i64::MAX).await
    }

    async fn outbox_where(
        &self,
        location: Option<LocationId>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        type Row = (
            i64,
            i64,
            Option<i64>,
            i64,
            Option<i64>,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
            Option<String>,
            Option<String>,
            i64,
        );
        let mut conds = Vec::new();
        if location.is_some() {
            conds.push("o.location_id = $1".to_string());
        }
        if status.is_some() {
            conds.push(format!("o.status = ${}", conds.len() + 1));
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let sql = format!(
            "SELECT o.id, o.location_id, o.enrollment_id, o.step, o.contact_id, o.channel, o.recipient, o.subject, \
             o.body, o.status, o.reason, w.name, o.created_at FROM outbox o \
             LEFT JOIN enrollments e ON e.id = o.enrollment_id AND e.location_id = o.location_id \
             LEFT JOIN workflows w ON w.id = e.workflow_id AND w.location_id = o.location_id \
             {filter} ORDER BY o.id LIMIT {limit}"
        );
        let rows: Vec<Row> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            if let Some(l) = location {
                q = q.bind(l.0);
            }
            if let Some(s) = status {
                q = q.bind(s);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxMessage {
                id: r.0,
                location_id: LocationId(r.1),
                enrollment_id: r.2,
                step: r.3,
                contact_id: r.4,
                channel: r.5,
                recipient: r.6,
                subject: r.7,
                body: r.8,
                status: r.9,
                reason: r.10,
                workflow: r.11,
                created_at: r.12,
            })
            .collect())
    }

    /// Hands up to `limit` queued messages (of one location, or every one) to `transport`,
    /// oldest first, and marks the ones it sent `sent`. Suppressed messages are never handed
    /// over. A message the transport fails stays queued and is reported.
    pub async fn deliver_outbox<T: Transport>(
        &self,
        location: Option<LocationId>,
        transport: &T,
        limit: i64,
    ) -> Result<DeliverySummary> {
        let mut summary = DeliverySummary::default();
        for message in self.outbox_where(location, Some("queued"), limit).await? {
            match transport.send(&message).await {
                Ok(Delivery::Sent) => {
                    on_pool!(self, p => {
                        sqlx::query("UPDATE outbox SET status = 'sent' WHERE id = $1 AND location_id = $2 AND status = 'queued'")
                            .bind(message.id)
                            .bind(message.location_id.0)
                            .execute(p)
                            .await
                            .map(|r| r.rows_affected())
                    })?;
                    summary.sent += 1;
                }
                Ok(Delivery::Recorded) => summary.recorded += 1,
                Err(e) => summary.failed.push((message.id, e)),
            }
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests;
