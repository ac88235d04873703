//! Numbered pages and a search over a Bulk Action's line log (issue 18: 50 lines a page with
//! only "Next", no page count, no search).
//!
//! A numbered page finds the line it starts at by its position in the tab's index, then reads
//! on with the keyset page of [`Store::job_lines_page`]. A search (in the row's contact, its
//! messages and its original cells, case-insensitive) filters the same tab and pages by
//! position.

use crate::job_lines::{COLUMNS, Row, record, status_of};
use crate::{LineRecord, LineTab, LocationId, Result, Store, StoreError, on_pool};

/// A page of lines and how many lines the tab (or the search) holds in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePage {
    pub lines: Vec<LineRecord>,
    pub total: u64,
}

fn tab_filter(tab: LineTab) -> &'static str {
    match tab {
        LineTab::All => "",
        LineTab::Success | LineTab::Warning | LineTab::Error => " AND l.status = $3",
        LineTab::Problems => " AND l.status <> 'success'",
    }
}

fn like(search: &str) -> String {
    let mut p = String::from("%");
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// The lines of `tab` from position `offset` (0-based), at most `limit`, and how many the
    /// tab holds; with `search`, only the lines whose contact, messages or original cells
    /// contain it. A job that is not the location's is not found.
    pub async fn job_lines_at(
        &self,
        location: LocationId,
        job: i64,
        tab: LineTab,
        search: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> Result<LinePage> {
        let limit = limit.clamp(1, crate::MAX_PAGE);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let status = status_of(tab);
        let filter = tab_filter(tab);
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        let Some(search) = search else {
            let total = self.job_line_counts(location, job).await?.of(tab);
            let sql = format!(
                "SELECT l.line FROM job_lines l JOIN jobs j ON j.id = l.job_id \
                 WHERE j.location_id = $1 AND l.job_id = $2{filter} ORDER BY l.line LIMIT 1 OFFSET {offset}"
            );
            let start: Option<i64> = on_pool!(self, p => {
                let q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(location.0).bind(job);
                let q = if status.is_empty() { q } else { q.bind(status) };
                q.fetch_optional(p).await
            })?;
            let lines = match start {
                Some(line) => {
                    self.job_lines_page(location, job, tab, Some((line - 1).max(0) as u64), limit)
                        .await?
                }
                None => Vec::new(),
            };
            return Ok(LinePage { lines, total });
        };
        let pattern = like(search);
        let problems = if tab == LineTab::Problems {
            " AND l.status <> 'success'"
        } else {
            ""
        };
        let matching = format!(
            "FROM job_lines l JOIN jobs j ON j.id = l.job_id \
             WHERE j.location_id = $1 AND l.job_id = $2 \
             AND (CAST($3 AS TEXT) = '' OR l.status = $3){problems} \
             AND (LOWER(COALESCE(l.primary_value, '')) LIKE $4 ESCAPE '\\' \
               OR LOWER(COALESCE(l.messages, '')) LIKE $4 ESCAPE '\\' \
               OR LOWER(COALESCE(l.cells, '')) LIKE $4 ESCAPE '\\' \
               OR CAST(l.record_id AS TEXT) = $5)"
        );
        let list =
            format!("SELECT {COLUMNS} {matching} ORDER BY l.line LIMIT {limit} OFFSET {offset}");
        let count = format!("SELECT COUNT(*) {matching}");
        let exact = search.to_string();
        let (rows, total): (Vec<Row>, i64) = on_pool!(self, p => {
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(list.clone()))
                .bind(location.0)
                .bind(job)
                .bind(status)
                .bind(&pattern)
                .bind(&exact)
                .fetch_all(p)
                .await?;
            let total = sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
                .bind(location.0)
                .bind(job)
                .bind(status)
                .bind(&pattern)
                .bind(&exact)
                .fetch_one(p)
                .await?;
            Ok::<_, StoreError>((rows, total))
        })?;
        if total == 0 {
            self.job_options(location, job).await?;
        }
        Ok(LinePage {
            lines: rows
                .into_iter()
                .map(|r| record(job, r))
                .collect::<Result<_>>()?,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}
