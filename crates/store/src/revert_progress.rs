//! A revert as Bulk Actions shows it (issue 18): the web starts a revert in the background
//! and answers at once; these functions mark it under way, keep what it did when it ends, and
//! let the page tell a revert in progress, one done (with its counts) and one that stopped.
//!
//! The revert itself ([`Store::revert_import`]) stays one transaction; these marks are
//! written beside it. A process that dies mid-revert leaves only `revert_started_at`, which
//! [`RevertState::stalled`] recognises so the page offers the revert again.

use std::collections::HashMap;

use crate::revert::RevertReport;
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// How long a revert may be marked under way before the page says it stopped (a revert of
/// hundreds of thousands of contacts takes seconds, not minutes).
pub const REVERT_STALLED_MS: i64 = 15 * 60 * 1000;

/// Where an import's revert stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevertState {
    /// When the revert now under way was started.
    pub started_at: Option<i64>,
    /// What the finished revert did: (deleted, restored, left alone).
    pub counts: Option<(i64, i64, i64)>,
}

impl RevertState {
    /// A revert marked under way for longer than [`REVERT_STALLED_MS`]: its process stopped.
    pub fn stalled(&self, now: i64) -> bool {
        self.started_at
            .is_some_and(|s| now.saturating_sub(s) > REVERT_STALLED_MS)
    }

    /// A revert under way now.
    pub fn running(&self, now: i64) -> bool {
        self.started_at.is_some() && !self.stalled(now)
    }
}

type Row = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

fn state((_, started_at, deleted, restored, left): Row) -> RevertState {
    RevertState {
        started_at,
        counts: deleted.map(|d| (d, restored.unwrap_or(0), left.unwrap_or(0))),
    }
}

impl Store {
    /// Marks the revert of the location's import `job` as under way. `false` when a revert
    /// of it is already under way (and not stalled) or it was reverted: nothing to start.
    pub async fn mark_revert_started(&self, location: LocationId, job: i64) -> Result<bool> {
        let now = now_ms();
        let changed = on_pool!(self, p => {
            sqlx::query(
                "UPDATE jobs SET revert_started_at = $3 WHERE location_id = $1 AND id = $2 \
                 AND reverted_at IS NULL AND (revert_started_at IS NULL OR revert_started_at < $4)",
            )
            .bind(location.0)
            .bind(job)
            .bind(now)
            .bind(now - REVERT_STALLED_MS)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(changed == 1)
    }

    /// Ends the mark of [`Store::mark_revert_started`]: with the revert's report when it
    /// was done, without when it failed.
    pub async fn mark_revert_ended(
        &self,
        location: LocationId,
        job: i64,
        report: Option<&RevertReport>,
    ) -> Result<()> {
        let counts = report.map(|r| {
            (
                r.deleted.len() as i64,
                r.restored.len() as i64,
                r.conflicts.len() as i64,
            )
        });
        on_pool!(self, p => {
            sqlx::query(
                "UPDATE jobs SET revert_started_at = NULL, \
                 revert_deleted = COALESCE($3, revert_deleted), revert_restored = COALESCE($4, revert_restored), \
                 revert_left = COALESCE($5, revert_left) WHERE location_id = $1 AND id = $2",
            )
            .bind(location.0)
            .bind(job)
            .bind(counts.map(|c| c.0))
            .bind(counts.map(|c| c.1))
            .bind(counts.map(|c| c.2))
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Where the revert of each of the location's imports stands, by job id (jobs never
    /// reverted are left out).
    pub async fn revert_states(&self, location: LocationId) -> Result<HashMap<i64, RevertState>> {
        let rows: Vec<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, revert_started_at, revert_deleted, revert_restored, revert_left FROM jobs \
                 WHERE location_id = $1 AND (revert_started_at IS NOT NULL OR revert_deleted IS NOT NULL)",
            )
            .bind(location.0)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(|r| (r.0, state(r))).collect())
    }

    /// [`Store::revert_states`] of one job; not found for another location's.
    pub async fn revert_state(&self, location: LocationId, job: i64) -> Result<RevertState> {
        let row: Option<Row> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, revert_started_at, revert_deleted, revert_restored, revert_left FROM jobs \
                 WHERE location_id = $1 AND id = $2",
            )
            .bind(location.0)
            .bind(job)
            .fetch_optional(p)
            .await
        })?;
        row.map(state)
            .ok_or_else(|| StoreError::not_found(format!("job {job}")))
    }
}
