//! The per-line log of a Bulk Action (SPEC §9.2), read back: pages per tab, counts per tab,
//! and the file's headers that the error log (SPEC §9.3) writes above the original cells.
//!
//! Pages are keyset-paged by line number, never by `OFFSET`, so the 1,000th page costs what the
//! first does: the All tab walks the primary key `(job_id, line)`, a status tab walks the index
//! `job_lines_status (job_id, status, line)`. Every query joins `jobs` on the location, so a
//! job id from another location reads as not found.
//!
//! This module only reads; the lines are written with their chunk by
//! [`Store::apply_import_chunk`](crate::Store::apply_import_chunk).

use crate::{LocationId, Result, Store, StoreError, on_pool};

/// Which lines a page holds: the four tabs of the Bulk Actions detail (SPEC §9.2), and the
/// error log's selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineTab {
    All,
    Success,
    Warning,
    Error,
    /// Warning and error lines together, in file order: what the error log holds. Not a tab of
    /// the detail page.
    Problems,
}

impl LineTab {
    /// The four tabs of the detail page, in the order it shows them.
    pub const TABS: [LineTab; 4] = [
        LineTab::All,
        LineTab::Success,
        LineTab::Error,
        LineTab::Warning,
    ];
}

pub use domain::job::{LineMessage, LineRecord};

/// How many lines each tab holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    pub all: u64,
    pub success: u64,
    pub warning: u64,
    pub error: u64,
}

impl LineCounts {
    pub fn of(&self, tab: LineTab) -> u64 {
        match tab {
            LineTab::All => self.all,
            LineTab::Success => self.success,
            LineTab::Warning => self.warning,
            LineTab::Error => self.error,
            LineTab::Problems => self.warning + self.error,
        }
    }
}

/// The most lines one page may ask for.
pub const MAX_PAGE: u32 = 10_000;

pub(crate) const COLUMNS: &str = "l.line, l.status, l.action, l.record_id, l.primary_value, l.messages, l.cells, l.opportunity_id";

/// The statement of a tab's page: `$1` location, `$2` job, `$3` the line after which the page
/// starts (0 for the first page), `$4` the page size, `$5` the status of a single-status tab.
fn page_sql(tab: LineTab) -> String {
    let filter = match tab {
        LineTab::All => "",
        // One status: the (job_id, status, line) index gives the lines in order.
        LineTab::Success | LineTab::Warning | LineTab::Error => " AND l.status = $5",
        // `<>` keeps the planner on the primary key, already in line order: every page reads
        // on from where the last stopped, so the whole log is one pass however many pages.
        LineTab::Problems => " AND l.status <> 'success'",
    };
    format!(
        "SELECT {COLUMNS} FROM job_lines l JOIN jobs j ON j.id = l.job_id \
         WHERE j.location_id = $1 AND l.job_id = $2 AND l.line > $3{filter} \
         ORDER BY l.line LIMIT $4"
    )
}

pub(crate) fn status_of(tab: LineTab) -> &'static str {
    match tab {
        LineTab::Success => "success",
        LineTab::Warning => "warning",
        LineTab::Error => "error",
        LineTab::All | LineTab::Problems => "",
    }
}

pub(crate) type Row = (
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

pub(crate) fn record(job: i64, row: Row) -> Result<LineRecord> {
    let (line, status, action, record_id, primary, messages, cells, opportunity_id) = row;
    let corrupt = |what: &str, e: serde_json::Error| {
        StoreError::Corrupt(format!("the {what} of line {line} of job {job}: {e}"))
    };
    let messages = match messages.as_deref() {
        None | Some("") => Vec::new(),
        Some(json) => serde_json::from_str(json).map_err(|e| corrupt("messages", e))?,
    };
    let cells = match cells.as_deref() {
        None => None,
        Some(json) => Some(serde_json::from_str(json).map_err(|e| corrupt("cells", e))?),
    };
    let word = |what: &str, e: domain::job::UnknownWord| {
        StoreError::Corrupt(format!("the {what} of line {line} of job {job}: {e}"))
    };
    Ok(LineRecord {
        line: u64::try_from(line).unwrap_or_default(),
        status: status.parse().map_err(|e| word("status", e))?,
        action: action.parse().map_err(|e| word("action", e))?,
        record_id,
        primary,
        messages,
        cells,
        // An opportunities import's written opportunity (SPEC §7); absent otherwise.
        opportunity_id: opportunity_id.map(Some),
        opportunity_action: None,
    })
}

impl Store {
    /// A page of a job's line log: at most `limit` lines of `tab` whose line number is greater
    /// than `after_line` (`None` for the first page), in file order. The next page starts after
    /// the last line returned; a page shorter than `limit` is the last.
    ///
    /// A job that is not the location's is [`StoreError::NotFound`].
    pub async fn job_lines_page(
        &self,
        location: LocationId,
        job: i64,
        tab: LineTab,
        after_line: Option<u64>,
        limit: u32,
    ) -> Result<Vec<LineRecord>> {
        let limit = i64::from(limit.clamp(1, MAX_PAGE));
        let after = after_line.map_or(0, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let sql = page_sql(tab);
        let status = status_of(tab);
        let rows: Vec<Row> = on_pool!(self, p => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(location.0)
                .bind(job)
                .bind(after)
                .bind(limit);
            let q = if status.is_empty() { q } else { q.bind(status) };
            q.fetch_all(p).await
        })?;
        if rows.is_empty() {
            // Tell an empty page from a job that is not there (or not the location's).
            self.job_options(location, job).await?;
        }
        rows.into_iter().map(|r| record(job, r)).collect()
    }

    /// How many lines each tab of a job holds.
    pub async fn job_line_counts(&self, location: LocationId, job: i64) -> Result<LineCounts> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT l.status, COUNT(*) FROM job_lines l JOIN jobs j ON j.id = l.job_id \
                 WHERE j.location_id = $1 AND l.job_id = $2 GROUP BY l.status",
            )
            .bind(location.0)
            .bind(job)
            .fetch_all(p)
            .await
        })?;
        if rows.is_empty() {
            self.job_options(location, job).await?;
        }
        let mut counts = LineCounts::default();
        for (status, n) in rows {
            let n = u64::try_from(n).unwrap_or_default();
            match status.as_str() {
                "success" => counts.success = n,
                "warning" => counts.warning = n,
                "error" => counts.error = n,
                _ => {}
            }
            counts.all += n;
        }
        Ok(counts)
    }

    /// The headers of the job's file, in order (its `options` JSON's `headers`): the columns
    /// each line's `cells` follow. Empty for a job that read no file.
    pub async fn job_headers(&self, location: LocationId, job: i64) -> Result<Vec<String>> {
        let options = self.job_options(location, job).await?;
        let value: serde_json::Value = serde_json::from_str(&options)
            .map_err(|e| StoreError::Corrupt(format!("the options of job {job}: {e}")))?;
        match value.get("headers") {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(h) => serde_json::from_value(h.clone()).map_err(|e| {
                StoreError::Corrupt(format!("the headers in the options of job {job}: {e}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests;
