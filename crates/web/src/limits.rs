//! What a request body may cost the server: uploads stream to disk at a minimum pace, every
//! other body is small and must arrive within a deadline. Shared by the pages and the JSON
//! API.
//!
//! - An upload ([`receive_upload`]) is refused with 413 from its `Content-Length` before a
//!   byte of it is read ([`jobs::wizard::Upload::begin`]), and while streaming once it passes
//!   the limit. It must keep coming: at least [`MIN_UPLOAD_BYTES_PER_WINDOW`] bytes every
//!   [`UPLOAD_WINDOW`] and the whole body within [`UPLOAD_DEADLINE`], so a client trickling a
//!   byte a second is cut off (408) instead of holding a connection and a file open for days.
//! - Every other body goes through [`body_deadline`], a middleware that reads it whole (at most
//!   [`MAX_FORM_BYTES`]) within [`BODY_DEADLINE`] before the handler runs.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use jobs::wizard::{Upload, WizardError};
use tokio::time::Instant;

/// The window over which an upload's pace is measured.
pub const UPLOAD_WINDOW: Duration = Duration::from_secs(10);
/// The least an upload must deliver per window (1.6 KB/s: slower than any real connection).
pub const MIN_UPLOAD_BYTES_PER_WINDOW: u64 = 16 * 1024;
/// The longest an upload may take in all (30 MB at about 35 KB/s).
pub const UPLOAD_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// The longest any other request body may take to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(20);
/// The largest body a form or JSON request may have.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

/// Why an upload's body was not received.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Too large, or the file store failed.
    #[error("{0}")]
    Wizard(#[from] WizardError),
    /// The body came too slowly (408).
    #[error(
        "The upload was too slow and was stopped. Check your internet connection and try again."
    )]
    TooSlow,
    /// The client stopped sending (a closed connection, a malformed body).
    #[error("The upload was interrupted before the whole file arrived. Try again.")]
    Interrupted,
}

impl UploadError {
    /// The status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::Wizard(WizardError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Wizard(e) if e.is_server_error() => StatusCode::INTERNAL_SERVER_ERROR,
            UploadError::Wizard(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UploadError::TooSlow => StatusCode::REQUEST_TIMEOUT,
            UploadError::Interrupted => StatusCode::BAD_REQUEST,
        }
    }

    /// A stable code for JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            UploadError::Wizard(e) => e.code(),
            UploadError::TooSlow => "upload.too_slow",
            UploadError::Interrupted => "upload.interrupted",
        }
    }
}

/// Streams `body` into `upload`, enforcing the size limit (by [`Upload::write`]) and the pace
/// above. On error what was written is removed (the [`Upload`] is dropped by the caller).
pub async fn receive_upload(mut body: Body, upload: &mut Upload) -> Result<(), UploadError> {
    let deadline = Instant::now() + UPLOAD_DEADLINE;
    let mut window_end = Instant::now() + UPLOAD_WINDOW;
    let mut window_bytes: u64 = 0;
    loop {
        let next = tokio::time::timeout_at(window_end.min(deadline), body.frame()).await;
        let now = Instant::now();
        match next {
            Ok(None) => return Ok(()),
            Ok(Some(Err(_))) => return Err(UploadError::Interrupted),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    window_bytes += data.len() as u64;
                    upload.write(&data).await?;
                }
            }
            Err(_) => {}
        }
        if now >= deadline {
            return Err(UploadError::TooSlow);
        }
        if now >= window_end {
            if window_bytes < MIN_UPLOAD_BYTES_PER_WINDOW {
                return Err(UploadError::TooSlow);
            }
            window_bytes = 0;
            window_end = now + UPLOAD_WINDOW;
        }
    }
}

/// Middleware: reads a request's body whole, at most [`MAX_FORM_BYTES`] within
/// [`BODY_DEADLINE`], before the handler runs; a slower body is answered 408, a larger one
/// 413. Not for upload routes, which stream ([`receive_upload`]).
pub async fn body_deadline(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, MAX_FORM_BYTES));
    match read.await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "This request is larger than this form accepts, or it was interrupted.",
        )
            .into_response(),
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            "The request took too long to arrive and was stopped. Try again.",
        )
            .into_response(),
    }
}
