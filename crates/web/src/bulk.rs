//! The Bulk Actions pages (SPEC §9): the list with live progress, a job's detail with tabs
//! All / Success / Error / Warning over its line log (keyset pages), the error-log download,
//! and pause / resume / cancel / revert — each offered only when it applies.
//!
//! Admins only ([`AdminUser`]); every store call takes the session's location, so another
//! location's job is 404. Progress is polled (`GET /bulk-actions/progress`, JSON) by a few
//! lines of script; the pages work without it.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::ObjectKind;
use domain::job::{JobStatus, Operation};
use serde::Deserialize;
use serde_json::json;
use store::{Job, JobExtras, LineCounts, LineRecord, LineTab, LocationId, SessionInfo};

use crate::auth::AdminUser;
use crate::pages::{Nav, nav};
use crate::{AppError, AppState};

/// Lines per page of the detail's tabs.
const PAGE: u32 = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/bulk-actions", get(list))
        .route("/bulk-actions/progress", get(progress))
        .route("/notifications", get(notifications))
        .route("/bulk-actions/{job}", get(detail))
        .route("/bulk-actions/{job}/error-log", get(error_log))
        .route("/bulk-actions/{job}/{action}", post(act))
}

fn job_id(raw: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::NotFound("This Bulk Action was not found.".into()))
}

/// A time as the location reads it.
pub(crate) fn local_time(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub(crate) async fn location_tz(
    state: &AppState,
    location: LocationId,
) -> Result<jiff::tz::TimeZone, AppError> {
    let loc = state.store.location(location).await?;
    Ok(jiff::tz::TimeZone::get(&loc.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC))
}

/// A job as a row of the list and the head of the detail page.
struct JobRow {
    id: i64,
    name: String,
    /// The operation in words (`Import`, `Export`).
    operation: String,
    object: String,
    status: JobStatus,
    /// The status as the page shows it: the job's own, or `reverted` / `reverting`.
    shown: &'static str,
    reason: Option<String>,
    file_name: Option<String>,
    processed: i64,
    total: Option<i64>,
    /// 0–100.
    percent: i64,
    created: i64,
    updated: i64,
    skipped: i64,
    errors: i64,
    warnings: i64,
    blank: i64,
    created_by: Option<String>,
    created_at: String,
    finished_at: Option<String>,
    reverted_at: Option<String>,
    live: bool,
    /// A revert of the import is under way (in the background).
    reverting: bool,
    /// The job just submitted, marked in the list.
    highlight: bool,
    /// An export's file: offered, pending or expired ([`with_download`]).
    download: Download,
}

/// Whether an export's file can be downloaded (SPEC §10: 30 days after it was made).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Download {
    /// Not an export, or one that ended without a file (failed, cancelled).
    None,
    /// A live export: the link is rendered hidden and shown by the polling when it completes.
    Pending,
    Ready,
    /// Past its 30 days (or its file is gone): the download is disabled.
    Expired,
}

/// Looks up the file of a completed export (by the session's location).
async fn with_download(
    state: &AppState,
    location: LocationId,
    mut row: JobRow,
) -> Result<JobRow, AppError> {
    // A custom object's job shows the object's name (SPEC §8).
    if let Some(key) = row.object.strip_prefix("custom:")
        && let Ok(o) = state.store.custom_object(location, key).await
    {
        row.object = o.def.name;
    }
    if row.operation != "Export" {
        return Ok(row);
    }
    row.download = if row.live || row.status == JobStatus::Paused {
        Download::Pending
    } else if row.status == JobStatus::Completed {
        match state.store.job_file(location, row.id).await? {
            Some(f) if f.is_available(store::now_ms()) => Download::Ready,
            _ => Download::Expired,
        }
    } else {
        Download::None
    };
    Ok(row)
}

impl JobRow {
    fn new(job: &Job, extras: Option<&JobExtras>, tz: &jiff::tz::TimeZone) -> JobRow {
        let t = job.totals;
        // Lines done of the file's lines (blank rows count as done lines).
        let percent = match job.total {
            Some(total) if total > 0 => {
                ((t.processed.saturating_sub(t.blank)).max(0) * 100 / total).clamp(0, 100)
            }
            _ if job.status == JobStatus::Completed => 100,
            _ => 0,
        };
        JobRow {
            id: job.id,
            name: job.name.clone(),
            operation: match job.operation {
                Operation::Import => "Import".into(),
                Operation::Export => "Export".into(),
            },
            object: match &job.object {
                ObjectKind::Contact => "Contacts".into(),
                ObjectKind::Opportunity => "Opportunities".into(),
                ObjectKind::Company => "Companies".into(),
                other => other.as_stored(),
            },
            status: job.status,
            shown: job.status.as_str(),
            reason: job.status_reason.clone(),
            file_name: job.file_name.clone(),
            processed: t.processed.saturating_sub(t.blank).max(0),
            total: job.total,
            percent: if job.status == JobStatus::Completed {
                100
            } else {
                percent
            },
            created: t.created,
            updated: t.updated,
            skipped: t.skipped,
            errors: t.errors,
            warnings: t.warnings,
            blank: t.blank,
            created_by: extras.and_then(|e| e.created_by.clone()),
            created_at: local_time(job.created_at, tz),
            finished_at: job.finished_at.map(|f| local_time(f, tz)),
            reverted_at: extras
                .and_then(|e| e.reverted_at)
                .map(|r| local_time(r, tz)),
            live: job.status.is_live(),
            reverting: false,
            highlight: false,
            download: Download::None,
        }
    }

    /// What the row says of a revert (issue 18): a reverted import reads `reverted` with
    /// what the revert did, not the status it had before; one being reverted reads
    /// `reverting` and is followed like a running job.
    fn with_revert(mut self, state: Option<&store::RevertState>) -> JobRow {
        let now = store::now_ms();
        let state = state.copied().unwrap_or_default();
        if self.reverted_at.is_some() {
            self.shown = "reverted";
            self.reason = Some(match state.counts {
                Some((deleted, restored, left)) => format!(
                    "the revert deleted {deleted} contact{} it added and restored {restored} contact{} it changed{}",
                    plural(deleted),
                    plural(restored),
                    match left {
                        0 => String::new(),
                        n => format!(
                            "; {n} contact{} changed since were left as they are",
                            plural(n)
                        ),
                    }
                ),
                None => "what it added was deleted and what it changed restored".into(),
            });
        } else if state.running(now) {
            self.shown = "reverting";
            self.reverting = true;
            self.reason =
                Some("deleting the contacts it added and restoring the ones it changed…".into());
        } else if state.stalled(now) {
            self.reason = Some(
                "a revert was started but did not finish, and changed nothing; revert again".into(),
            );
        }
        self
    }

    fn download_ready(&self) -> bool {
        self.download == Download::Ready
    }
    fn download_pending(&self) -> bool {
        self.download == Download::Pending
    }
    fn download_expired(&self) -> bool {
        self.download == Download::Expired
    }

    fn can_pause(&self) -> bool {
        self.live
    }
    fn can_resume(&self) -> bool {
        self.status == JobStatus::Paused
    }
    fn can_cancel(&self) -> bool {
        self.live || self.status == JobStatus::Paused
    }
    fn can_revert(&self) -> bool {
        !self.reverting
            && self.operation == "Import"
            && matches!(self.status, JobStatus::Completed | JobStatus::Cancelled)
            && self.reverted_at.is_none()
    }
    fn has_error_log(&self) -> bool {
        self.operation == "Import" && self.errors + self.warnings > 0
    }
}

#[derive(Template)]
#[template(path = "bulk_list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<JobRow>,
    submitted: Option<i64>,
    exported: Option<i64>,
    live: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    submitted: Option<i64>,
    exported: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, AppError> {
    let loc = session.location_id;
    let tz = location_tz(&state, loc).await?;
    let jobs = state.store.jobs(loc).await?;
    let extras = state.store.job_extras(loc).await?;
    let reverts = state.store.revert_states(loc).await?;
    let mut rows: Vec<JobRow> = Vec::with_capacity(jobs.len());
    for j in &jobs {
        let row = JobRow {
            highlight: q.submitted == Some(j.id) || q.exported == Some(j.id),
            ..JobRow::new(j, extras.get(&j.id), &tz).with_revert(reverts.get(&j.id))
        };
        rows.push(with_download(&state, loc, row).await?);
    }
    let page = ListPage {
        nav: nav(&state, &session, "bulk").await?,
        live: rows.iter().any(|r| r.live || r.reverting),
        submitted: q.submitted.filter(|id| rows.iter().any(|r| r.id == *id)),
        exported: q.exported.filter(|id| rows.iter().any(|r| r.id == *id)),
        rows,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
struct ProgressQuery {
    job: Option<i64>,
}

/// `GET /bulk-actions/progress[?job=ID]`: the location's jobs' status and totals, for the
/// pages' polling.
async fn progress(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<ProgressQuery>,
) -> Result<Response, AppError> {
    let loc = session.location_id;
    let tz = location_tz(&state, loc).await?;
    let jobs = match q.job {
        Some(id) => vec![state.store.job(loc, id).await?],
        None => state.store.jobs(loc).await?,
    };
    let extras = state.store.job_extras(loc).await?;
    let reverts = state.store.revert_states(loc).await?;
    let all: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| {
            let r = JobRow::new(j, extras.get(&j.id), &tz).with_revert(reverts.get(&j.id));
            json!({
                "id": r.id,
                "status": r.status,
                "status_reason": r.reason,
                "processed": r.processed,
                "total": r.total,
                "percent": r.percent,
                "created": r.created,
                "updated": r.updated,
                "skipped": r.skipped,
                "errors": r.errors,
                "warnings": r.warnings,
                "operation": j.operation,
            })
        })
        .collect();
    Ok(([(CACHE_CONTROL, "no-store")], Json(all)).into_response())
}

/// `GET /notifications`: the admin's unread notices, as the header shows them, for the pages'
/// polling (an export's "ready" notice appears without a reload).
async fn notifications(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
) -> Result<Response, AppError> {
    let list: Vec<serde_json::Value> =
        crate::exports::notices(&state, session.location_id, session.user.id)
            .await?
            .into_iter()
            .map(|n| json!({"id": n.id, "text": n.text, "job": n.job}))
            .collect();
    Ok(([(CACHE_CONTROL, "no-store")], Json(list)).into_response())
}

/// One line of a tab, ready to show.
struct LineView {
    line: LineRecord,
    /// `(header, value)` of the original row, for warning and error lines.
    cells: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "bulk_detail.html")]
struct DetailPage {
    nav: Nav,
    job: JobRow,
    tab: &'static str,
    tabs: Vec<(&'static str, &'static str, u64)>,
    lines: Vec<LineView>,
    next_after: Option<u64>,
    page: u64,
    pages: u64,
    /// The page numbers linked below the lines (`None`: a gap, shown as "…").
    page_links: Vec<Option<u64>>,
    search: String,
    search_url: String,
    notice: Option<String>,
    error: Option<String>,
}

/// The pages to link: the first two, the two around `page`, the last two, with gaps.
fn page_links(page: u64, pages: u64) -> Vec<Option<u64>> {
    let mut wanted: Vec<u64> = vec![1, 2, pages.saturating_sub(1), pages];
    wanted.extend(page.saturating_sub(2)..=page.saturating_add(2));
    wanted.retain(|p| (1..=pages).contains(p));
    wanted.sort_unstable();
    wanted.dedup();
    let mut out: Vec<Option<u64>> = Vec::new();
    let mut last = 0;
    for p in wanted {
        if p > last + 1 {
            out.push(None);
        }
        out.push(Some(p));
        last = p;
    }
    out
}

#[derive(Deserialize)]
struct DetailQuery {
    tab: Option<String>,
    after: Option<u64>,
    page: Option<u64>,
    q: Option<String>,
    done: Option<String>,
    deleted: Option<u64>,
    restored: Option<u64>,
    left: Option<u64>,
}

fn tab_of(name: &str) -> (LineTab, &'static str) {
    match name {
        "success" => (LineTab::Success, "success"),
        "error" => (LineTab::Error, "error"),
        "warning" => (LineTab::Warning, "warning"),
        _ => (LineTab::All, "all"),
    }
}

/// What the page says after an action on the job, in words of its operation: an export keeps
/// no partial file, so a cancelled one leaves none and a resumed one starts its file again.
///
/// A notice of something requested says what happened once it has: "will pause…" becomes
/// "is paused" when the job is paused (the page reloads when the job's status changes).
fn notice_for(q: &DetailQuery, operation: Operation, status: &str) -> Option<String> {
    let export = operation == Operation::Export;
    let what = if export { "export" } else { "import" };
    let done = match (q.done.as_deref()?, status) {
        ("pause-requested", "paused") => "paused",
        ("cancel-requested", "cancelled") => "cancelled",
        ("pause-requested" | "cancel-requested", "completed" | "failed") => return None,
        ("revert-started", "reverted") => return None,
        (done, _) => done,
    };
    Some(match done {
        // An export keeps no partial file: resuming writes it again from the start.
        "paused" if export => {
            "The export is paused. Resume it to write its file from the start.".into()
        }
        "paused" => "The import is paused. Resume it to continue from where it stopped.".into(),
        "pause-requested" => {
            format!("The {what} will pause after the rows it is working on now.")
        }
        "resumed" if export => "The export will write its file again from the start.".into(),
        "resumed" => "The import will continue from where it stopped.".into(),
        "cancelled" if export => "The export is cancelled; it made no file.".into(),
        "cancelled" => "The import is cancelled. What it imported so far is kept.".into(),
        "cancel-requested" if export => {
            "The export will stop after the rows it is working on now; it will make no file.".into()
        }
        "cancel-requested" => {
            "The import will stop after the rows it is working on now; what it imported is kept."
                .into()
        }
        "revert-started" => {
            "The import is being reverted. This page shows what the revert did when it is done."
                .into()
        }
        "reverted" => format!(
            "The import was reverted: {} contacts it added were deleted, {} contacts it changed were restored{}.",
            q.deleted.unwrap_or(0),
            q.restored.unwrap_or(0),
            match q.left.unwrap_or(0) {
                0 => String::new(),
                n => format!(
                    ", and {n} contacts changed since were left as they are (see the rows below)"
                ),
            }
        ),
        _ => return None,
    })
}

async fn render_detail(
    state: &AppState,
    session: &SessionInfo,
    id: i64,
    q: &DetailQuery,
    error: Option<String>,
) -> Result<Response, AppError> {
    let loc = session.location_id;
    let job = state.store.job(loc, id).await?;
    let tz = location_tz(state, loc).await?;
    let extras = state.store.job_extras(loc).await?;
    let revert = state.store.revert_state(loc, id).await?;
    let row = with_download(
        state,
        loc,
        JobRow::new(&job, extras.get(&id), &tz).with_revert(Some(&revert)),
    )
    .await?;
    let (tab, tab_name) = tab_of(q.tab.as_deref().unwrap_or("all"));
    let search = q.q.as_deref().map(str::trim).unwrap_or("").to_string();
    // Numbered pages (issue 18); an `after` link of an older page still reads on from there.
    let mut page_no = q.page.unwrap_or(1).max(1);
    let mut pages = 1u64;
    let (counts, lines, headers) = if job.operation == Operation::Import {
        let counts = state.store.job_line_counts(loc, id).await?;
        let lines = match q.after {
            Some(after) if search.is_empty() => {
                state
                    .store
                    .job_lines_page(loc, id, tab, Some(after), PAGE)
                    .await?
            }
            _ => {
                let per = u64::from(PAGE);
                let mut found = state
                    .store
                    .job_lines_at(
                        loc,
                        id,
                        tab,
                        Some(search.as_str()),
                        (page_no - 1).saturating_mul(per),
                        PAGE,
                    )
                    .await?;
                pages = found.total.div_ceil(per).max(1);
                if page_no > pages {
                    page_no = pages;
                    found = state
                        .store
                        .job_lines_at(
                            loc,
                            id,
                            tab,
                            Some(search.as_str()),
                            (page_no - 1) * per,
                            PAGE,
                        )
                        .await?;
                }
                found.lines
            }
        };
        let headers = state.store.job_headers(loc, id).await?;
        (counts, lines, headers)
    } else {
        (LineCounts::default(), Vec::new(), Vec::new())
    };
    let labels = crate::imports::field_labels(state, loc).await?;
    let mut lines = lines;
    for m in lines.iter_mut().flat_map(|l| l.messages.iter_mut()) {
        if let Some(label) = m.field.as_ref().and_then(|f| labels.get(f)) {
            m.field = Some(label.clone());
        }
    }
    let next_after = (q.after.is_some() && search.is_empty() && lines.len() == PAGE as usize)
        .then(|| lines.last().map(|l| l.line))
        .flatten();
    let lines = lines
        .into_iter()
        .map(|l| LineView {
            cells: l
                .cells
                .as_deref()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_empty())
                .map(|(i, v)| {
                    (
                        headers
                            .get(i)
                            .cloned()
                            .unwrap_or_else(|| format!("Column {}", i + 1)),
                        v.clone(),
                    )
                })
                .collect(),
            line: l,
        })
        .collect();
    let notice = notice_for(q, job.operation, row.shown);
    let page = DetailPage {
        nav: nav(state, session, "bulk").await?,
        tabs: vec![
            ("all", "All", counts.all),
            ("success", "Success", counts.success),
            ("error", "Error", counts.error),
            ("warning", "Warning", counts.warning),
        ],
        job: row,
        tab: tab_name,
        lines,
        next_after,
        page: page_no,
        pages,
        page_links: page_links(page_no, pages),
        search_url: crate::pages::url_encode(&search),
        search,
        notice,
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn detail(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(job): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let id = job_id(&job)?;
    render_detail(&state, &session, id, &q, None).await
}

/// `POST /bulk-actions/{job}/pause|resume|cancel|revert`.
async fn act(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path((job, action)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = job_id(&job)?;
    let loc = session.location_id;
    let store = &state.store;
    // Another location's job is not found, whatever the action.
    let current = store.job(loc, id).await?;
    let done: Result<String, store::StoreError> = match action.as_str() {
        "pause" => store.request_pause(loc, id).await.map(|r| match r {
            store::Requested::AtNextCheckpoint => "pause-requested".into(),
            _ => "paused".into(),
        }),
        "cancel" => store.request_cancel(loc, id).await.map(|r| match r {
            store::Requested::AtNextCheckpoint => "cancel-requested".into(),
            _ => "cancelled".into(),
        }),
        "resume" => store.resume_job(loc, id).await.map(|()| "resumed".into()),
        // A revert of a large import takes seconds: it runs in the background and the page
        // follows it (issue 18), instead of holding the request until it is done.
        "revert" if current.operation == Operation::Import => {
            if current.reverted_at.is_some() {
                Err(store::StoreError::Conflict(
                    "this import was already reverted".into(),
                ))
            } else if !matches!(current.status.as_str(), "completed" | "cancelled") {
                Err(store::StoreError::Conflict(format!(
                    "this import is {}{}; only a completed or cancelled import can be reverted",
                    current.status,
                    if matches!(current.status.as_str(), "running" | "queued" | "paused") {
                        " (cancel it first)"
                    } else {
                        ""
                    }
                )))
            } else if store.mark_revert_started(loc, id).await? {
                let store = store.clone();
                tokio::spawn(async move {
                    let result = store.revert_import(loc, id).await;
                    if let Err(e) = &result {
                        tracing::error!(job = id, error = %e, "reverting an import failed");
                    }
                    if let Err(e) = store.mark_revert_ended(loc, id, result.as_ref().ok()).await {
                        tracing::error!(job = id, error = %e, "recording the end of a revert failed");
                    }
                });
                Ok("revert-started".into())
            } else {
                Ok("revert-started".into())
            }
        }
        _ => return Err(AppError::NotFound("There is no such action.".into())),
    };
    match done {
        Ok(done) => Ok(Redirect::to(&format!("/bulk-actions/{id}?done={done}")).into_response()),
        Err(store::StoreError::Conflict(message)) => {
            let q = DetailQuery {
                tab: None,
                after: None,
                page: None,
                q: None,
                done: None,
                deleted: None,
                restored: None,
                left: None,
            };
            render_detail(&state, &session, id, &q, Some(sentence(&message))).await
        }
        Err(e) => Err(e.into()),
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A store message as a sentence: capitalised, ending with a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The error log's name: the file's own name with ` errors` before its extension, as CSV.
fn error_log_name(file_name: Option<&str>, job: i64) -> String {
    match file_name {
        Some(f) if !f.is_empty() => {
            let stem = f
                .rsplit_once('.')
                .map(|(s, _)| s)
                .filter(|s| !s.is_empty())
                .unwrap_or(f);
            format!("{stem} errors.csv")
        }
        _ => format!("import-{job}-errors.csv"),
    }
}

/// `GET /bulk-actions/{job}/error-log`: the SPEC §9.3 CSV, written to the file store and
/// streamed from there, never held whole in memory.
async fn error_log(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(job): Path<String>,
) -> Result<Response, AppError> {
    let id = job_id(&job)?;
    let loc = session.location_id;
    let j = state.store.job(loc, id).await?;
    if j.operation != Operation::Import {
        return Err(AppError::NotFound(
            "Only an import has an error log.".into(),
        ));
    }
    let file = crate::download::error_log_file(&state.store, &state.data_dir, loc, id)
        .await
        .map_err(|e| match e {
            e if e.is_not_found() => AppError::NotFound("This Bulk Action was not found.".into()),
            e => AppError::Internal(format!("writing the error log: {e}")),
        })?;
    let stream = crate::download::file_stream(file);
    let name = error_log_name(j.file_name.as_deref(), id);
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                crate::download::content_disposition(&name),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_logs_are_named_after_the_file() {
        assert_eq!(error_log_name(Some("leads.csv"), 3), "leads errors.csv");
        assert_eq!(error_log_name(Some(".csv"), 3), ".csv errors.csv");
        assert_eq!(error_log_name(None, 3), "import-3-errors.csv");
    }

    #[test]
    fn store_messages_read_as_sentences() {
        assert_eq!(
            sentence(
                "job 3 is completed already; only a queued, running or paused job can be paused"
            ),
            "Job 3 is completed already; only a queued, running or paused job can be paused."
        );
    }

    /// An export's page never speaks of imported rows kept or of continuing where it stopped:
    /// an export keeps no partial file.
    #[test]
    fn notices_speak_of_the_jobs_own_operation() {
        let done = |d: &str| DetailQuery {
            tab: None,
            after: None,
            page: None,
            q: None,
            done: Some(d.into()),
            deleted: None,
            restored: None,
            left: None,
        };
        for d in [
            "paused",
            "pause-requested",
            "resumed",
            "cancelled",
            "cancel-requested",
        ] {
            let import = notice_for(&done(d), Operation::Import, "running").unwrap();
            let export = notice_for(&done(d), Operation::Export, "running").unwrap();
            assert!(import.starts_with("The import "), "{import}");
            assert!(export.starts_with("The export "), "{export}");
            assert!(
                !export.contains("imported") && !export.contains("where it stopped"),
                "{export}"
            );
        }
        assert_eq!(
            notice_for(&done("cancelled"), Operation::Export, "cancelled").unwrap(),
            "The export is cancelled; it made no file."
        );
        // A notice of what was asked says what happened once it has (issue 18).
        assert_eq!(
            notice_for(&done("pause-requested"), Operation::Import, "paused").unwrap(),
            "The import is paused. Resume it to continue from where it stopped."
        );
        assert_eq!(
            notice_for(&done("revert-started"), Operation::Import, "reverted"),
            None
        );
        assert_eq!(
            page_links(5, 9),
            [
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                Some(9)
            ]
        );
        assert_eq!(
            page_links(1, 4000),
            [Some(1), Some(2), Some(3), None, Some(3999), Some(4000)]
        );
        assert!(
            notice_for(&done("cancelled"), Operation::Import, "cancelled")
                .unwrap()
                .contains("is kept")
        );
    }
}
