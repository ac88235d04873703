//! `/api/v1/bulk-actions`: a location's jobs, their line logs and error logs, and the
//! pause / resume / cancel / revert operations (SPEC §9, §13.2) — the same store calls the
//! CLI's `jobs` commands and the Bulk Actions pages make.
//!
//! Every handler takes the [`ApiKey`] and passes its location to the store, so a job of
//! another location is answered 404, exactly like a job that does not exist.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jobs::summary::{job_json, line_json};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{LineTab, LocationId, Requested, Store};

use super::{ApiError, ApiKey};
use crate::AppState;
use crate::download::content_disposition;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/bulk-actions", get(list))
        .route("/bulk-actions/{job}", get(show))
        .route("/bulk-actions/{job}/lines", get(lines))
        .route("/bulk-actions/{job}/error-log", get(error_log))
        .route("/bulk-actions/{job}/pause", post(pause))
        .route("/bulk-actions/{job}/resume", post(resume))
        .route("/bulk-actions/{job}/cancel", post(cancel))
        .route("/bulk-actions/{job}/revert", post(revert))
}

fn no_job(job: i64) -> ApiError {
    ApiError::NotFound(format!(
        "there is no Bulk Action {job} in this API key's location; GET /api/v1/bulk-actions lists them"
    ))
}

/// The job of the key's location, as JSON with its line counts per tab.
async fn job_detail(store: &Store, location: LocationId, job: i64) -> Result<Value, ApiError> {
    let j = store
        .job(location, job)
        .await
        .map_err(|e| map_missing(e, job))?;
    let counts = store.job_line_counts(location, job).await?;
    let mut v = job_json(&j);
    v["lines"] = json!({
        "all": counts.all,
        "success": counts.success,
        "error": counts.error,
        "warning": counts.warning,
    });
    Ok(v)
}

/// `GET /api/v1/bulk-actions`: the location's jobs, newest first.
async fn list(key: ApiKey, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let jobs = state.store.jobs(key.location_id).await?;
    Ok(Json(json!({
        "bulk_actions": jobs.iter().map(job_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/bulk-actions/{job}`: status, progress, totals and line counts.
async fn show(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(job_detail(&state.store, key.location_id, job).await?))
}

#[derive(Debug, Deserialize)]
struct LinesQuery {
    tab: Option<String>,
    after: Option<u64>,
    limit: Option<u32>,
}

/// The default and the largest page of `GET …/lines`.
const DEFAULT_LINES: u32 = 100;
const MAX_LINES: u32 = 1000;

/// `GET /api/v1/bulk-actions/{job}/lines?tab=all|success|error|warning&after=LINE&limit=N`:
/// a page of the line log in file order. `next_after` is the `after` of the next page, or
/// null on the last page.
async fn lines(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<i64>,
    query: Result<Query<LinesQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let tab = match q.tab.as_deref().unwrap_or("all") {
        "all" => LineTab::All,
        "success" => LineTab::Success,
        "error" => LineTab::Error,
        "warning" => LineTab::Warning,
        other => {
            return Err(ApiError::BadRequest(format!(
                "tab must be all, success, error or warning, not '{other}'"
            )));
        }
    };
    let limit = q.limit.unwrap_or(DEFAULT_LINES);
    if !(1..=MAX_LINES).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LINES}, not {limit}"
        )));
    }
    let page = state
        .store
        .job_lines_page(key.location_id, job, tab, q.after, limit)
        .await
        .map_err(|e| map_missing(e, job))?;
    let next_after = if page.len() == limit as usize {
        page.last().map(|l| l.line)
    } else {
        None
    };
    Ok(Json(json!({
        "lines": page.iter().map(line_json).collect::<Vec<_>>(),
        "next_after": next_after,
    })))
}

/// `GET /api/v1/bulk-actions/{job}/error-log`: the error-log CSV (SPEC §9.3), written to a
/// temporary file page by page and streamed from it, so memory stays flat however long it is.
async fn error_log(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<i64>,
) -> Result<Response, ApiError> {
    let j = state
        .store
        .job(key.location_id, job)
        .await
        .map_err(|e| map_missing(e, job))?;
    if j.operation != domain::job::Operation::Import {
        return Err(ApiError::status(
            StatusCode::CONFLICT,
            "job.not_an_import",
            format!(
                "Bulk Action {job} is an {}; only an import has an error log",
                j.operation
            ),
        ));
    }
    let file = crate::download::error_log_file(&state.store, &state.data_dir, key.location_id, job)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let name = format!("{} - errors.csv", j.name);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, content_disposition(&name)),
        ],
        Body::from_stream(crate::download::file_stream(file)),
    )
        .into_response())
}

/// What a pause or cancel did: `done` (the job was not running and is now in the new status),
/// `already`, or `at_next_checkpoint` (the running process stops there).
fn requested_json(r: Requested) -> &'static str {
    match r {
        Requested::Done => "done",
        Requested::Already => "already",
        Requested::AtNextCheckpoint => "at_next_checkpoint",
    }
}

/// `POST /api/v1/bulk-actions/{job}/pause`: a running job stops at its next checkpoint.
async fn pause(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = state
        .store
        .request_pause(key.location_id, job)
        .await
        .map_err(|e| map_missing(e, job))?;
    respond(&state.store, key.location_id, job, requested_json(r)).await
}

/// `POST /api/v1/bulk-actions/{job}/cancel`: stops and keeps what was written.
async fn cancel(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = state
        .store
        .request_cancel(key.location_id, job)
        .await
        .map_err(|e| map_missing(e, job))?;
    respond(&state.store, key.location_id, job, requested_json(r)).await
}

/// `POST /api/v1/bulk-actions/{job}/resume`: a paused job is queued again; the worker loop of
/// `serve` (or an `aesthetix worker`) continues it from its checkpoint.
async fn resume(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    state
        .store
        .resume_job(key.location_id, job)
        .await
        .map_err(|e| map_missing(e, job))?;
    respond(&state.store, key.location_id, job, "queued").await
}

/// `POST /api/v1/bulk-actions/{job}/revert`: undoes a completed or cancelled import (SPEC
/// §9.4) and says what was deleted, restored, and left alone.
async fn revert(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let report = state
        .store
        .revert_import(key.location_id, job)
        .await
        .map_err(|e| map_missing(e, job))?;
    Ok(Json(json!({
        "job_id": report.job_id,
        "deleted": report.deleted,
        "restored": report.restored,
        "left_alone": report.conflicts.iter().map(|c| json!({
            "line": c.line,
            "contact_id": c.contact_id,
            "reason": c.reason,
        })).collect::<Vec<_>>(),
    })))
}

/// A store error about `job`: not found (or another location's) is 404 `not_found`; a job in
/// the wrong state for the operation is 409 `job.wrong_status`.
fn map_missing(e: store::StoreError, job: i64) -> ApiError {
    if e.is_not_found() {
        no_job(job)
    } else if e.is_conflict() {
        ApiError::status(StatusCode::CONFLICT, "job.wrong_status", e.to_string())
    } else {
        e.into()
    }
}

async fn respond(
    store: &Store,
    location: LocationId,
    job: i64,
    result: &str,
) -> Result<Json<Value>, ApiError> {
    let detail = job_detail(store, location, job).await?;
    Ok(Json(json!({ "result": result, "bulk_action": detail })))
}
