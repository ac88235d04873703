//! Downloading a Bulk Action's file (SPEC §10): `GET /bulk-actions/{job}/download` for an
//! admin's session and `GET /api/v1/bulk-actions/{job}/download` for an API key, both of the
//! job's location. A link alone is never enough.
//!
//! - no session: the login page (pages) or 401 (API); a signed-in user who is not an admin:
//!   403 — both from the extractors, before anything is looked up;
//! - a job of another location, or one without a file: 404 — the store looks the job up by
//!   the caller's location, so another location's job is indistinguishable from none;
//! - a file past its 30 days, deleted by the sweep, or gone from disk: 410 with what to do;
//! - otherwise the file is streamed from the file store (never read whole into memory), with
//!   an RFC 6266 `Content-Disposition` that names it as the user knows it (`filename*` in
//!   UTF-8, and an ASCII `filename` for old clients).

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use store::{LocationId, StoredFile};

use crate::api::{ApiError, ApiKey};
use crate::auth::AdminUser;
use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/bulk-actions/{job}/download", get(page_download))
        .route("/api/v1/bulk-actions/{job}/download", get(api_download))
}

/// Why a download is not served, said for a person.
enum Refusal {
    NotFound(String),
    Gone(String),
    Internal(String),
}

async fn find(state: &AppState, location: LocationId, job: &str) -> Result<Found, Refusal> {
    let not_found = || {
        Refusal::NotFound(format!(
            "There is no Bulk Action {job} with a file to download in this location."
        ))
    };
    let Ok(job) = job.parse::<i64>() else {
        return Err(not_found());
    };
    let file = match state.store.job_file(location, job).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Err(match state.store.job(location, job).await {
                Ok(j)
                    if j.operation == domain::job::Operation::Export
                        && j.status != domain::job::JobStatus::Completed =>
                {
                    Refusal::NotFound(format!(
                        "Bulk Action {job} has no file yet: it is {}. The download appears once the export is completed.",
                        j.status
                    ))
                }
                _ => not_found(),
            });
        }
        Err(e) if e.is_not_found() => return Err(not_found()),
        Err(e) => return Err(Refusal::Internal(e.to_string())),
    };
    let gone = |file: &StoredFile| {
        let day = file
            .expires_at
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .map(|t| t.strftime("%Y-%m-%d").to_string());
        Refusal::Gone(match day {
            Some(day) => format!(
                "This file is no longer available: export files are kept for 30 days, and this one expired on {day}. Run the export again to get a new file."
            ),
            None => "This file is no longer available. Run the export again to get a new file."
                .to_string(),
        })
    };
    if !file.is_available(store::now_ms()) || !store::is_generated_name(&file.stored_name) {
        return Err(gone(&file));
    }
    match state.files.open(&file.stored_name).await {
        Ok(d) => Ok(Found { file, download: d }),
        Err(e) if e.is_not_found() => Err(gone(&file)),
        Err(e) => Err(Refusal::Internal(format!(
            "opening {} in the file store: {e}",
            file.stored_name
        ))),
    }
}

struct Found {
    file: StoredFile,
    download: filestore::Download,
}

/// The file as a streamed response (from S3, in ranges).
fn serve(found: Found) -> Response {
    let Found { file, download } = found;
    let mut response = Body::from_stream(download.stream).into_response();
    let headers = response.headers_mut();
    let content_type = if file.download_name.to_ascii_lowercase().ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&crate::download::content_disposition(&file.download_name))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(file.size_bytes.max(0) as u64),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /bulk-actions/{job}/download`: an admin of the job's location.
async fn page_download(
    AdminUser(session): AdminUser,
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> Response {
    match find(&state, session.location_id, &job).await {
        Ok(found) => serve(found),
        Err(Refusal::NotFound(m)) => AppError::NotFound(m).into_response(),
        Err(Refusal::Internal(m)) => AppError::Internal(m).into_response(),
        Err(Refusal::Gone(m)) => (StatusCode::GONE, Html(gone_page(&m))).into_response(),
    }
}

/// `GET /api/v1/bulk-actions/{job}/download`: an API key of the job's location.
async fn api_download(
    key: ApiKey,
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> Response {
    match find(&state, key.location_id, &job).await {
        Ok(found) => serve(found),
        Err(Refusal::NotFound(m)) => ApiError::NotFound(m).into_response(),
        Err(Refusal::Internal(m)) => ApiError::Internal(m).into_response(),
        Err(Refusal::Gone(m)) => (
            StatusCode::GONE,
            Json(json!({"error": {"code": "file.expired", "message": m}})),
        )
            .into_response(),
    }
}

/// The page a person sees for a download that is gone. The message holds no user value (a
/// job number and a date at most), and is escaped all the same.
fn gone_page(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>File no longer available</title></head>\
         <body><h1>File no longer available</h1><p>{escaped}</p><p><a href=\"/bulk-actions\">Back to Bulk Actions</a></p></body></html>\n"
    )
}
