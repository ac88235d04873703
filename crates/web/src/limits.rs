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
    /// A body that is not a file (415): a form's `text/plain` or URL-encoded body — what a
    /// page of another site can post without asking — or no content type at all.
    #[error(
        "Send the file itself as the request body with a file content type (such as application/octet-stream, text/csv, or the workbook's type), or as a multipart form (multipart/form-data) with the file as a part."
    )]
    NotAFile,
    /// A multipart form without a file part.
    #[error(
        "The form holds no file. Send the file as a part with a file name (curl -F file=@patients.csv)."
    )]
    NoFilePart,
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
            UploadError::NotAFile => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UploadError::NoFilePart => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// A stable code for JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            UploadError::Wizard(e) => e.code(),
            UploadError::TooSlow => "upload.too_slow",
            UploadError::Interrupted => "upload.interrupted",
            UploadError::NotAFile => "upload.not_a_file",
            UploadError::NoFilePart => "upload.no_file",
        }
    }
}

/// How an upload's body carries the file, from its `Content-Type` (SPEC §13.2: uploads need
/// a multipart or file content type).
pub enum UploadBody {
    /// The body is the file.
    Raw,
    /// A multipart form with this boundary; its first part with a file name is the file.
    Multipart(String),
}

impl UploadBody {
    /// Reads the request's content type; a form's or none is [`UploadError::NotAFile`].
    pub fn of(headers: &axum::http::HeaderMap) -> Result<UploadBody, UploadError> {
        let Some(ct) = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(UploadError::NotAFile);
        };
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "multipart/form-data" => multer::parse_boundary(ct)
                .map(UploadBody::Multipart)
                .map_err(|_| UploadError::NotAFile),
            "" | "text/plain" | "application/x-www-form-urlencoded" => Err(UploadError::NotAFile),
            _ => Ok(UploadBody::Raw),
        }
    }

    /// The most the file can be, from the body's declared length: all of it, or for a form
    /// all but the envelope (a form's parts and headers take at most a few kilobytes).
    pub fn file_len_at_most(&self, declared: Option<u64>) -> Option<u64> {
        match self {
            UploadBody::Raw => declared,
            UploadBody::Multipart(_) => declared.map(|n| n.saturating_sub(64 * 1024)),
        }
    }
}

/// Streams an upload request's file into `upload` — the body itself, or the first file part
/// of a multipart form — enforcing the size limit (by [`Upload::write`]) and the pace above.
/// Returns the part's file name, when it came as one. On error what was written is removed
/// (the [`Upload`] is dropped by the caller).
pub async fn receive_upload(
    headers: &axum::http::HeaderMap,
    body: Body,
    upload: &mut Upload,
) -> Result<Option<String>, UploadError> {
    match UploadBody::of(headers)? {
        UploadBody::Raw => {
            receive_stream(body.into_data_stream(), upload).await?;
            Ok(None)
        }
        UploadBody::Multipart(boundary) => {
            let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
            let deadline = Instant::now() + UPLOAD_DEADLINE;
            loop {
                let next = tokio::time::timeout_at(deadline, form.next_field()).await;
                let field = match next {
                    Err(_) => return Err(UploadError::TooSlow),
                    Ok(Err(_)) => return Err(UploadError::Interrupted),
                    Ok(Ok(None)) => return Err(UploadError::NoFilePart),
                    Ok(Ok(Some(field))) => field,
                };
                let Some(name) = field.file_name().map(str::to_string) else {
                    continue;
                };
                receive_stream(field, upload).await?;
                return Ok(Some(name));
            }
        }
    }
}

async fn receive_stream<S, E>(stream: S, upload: &mut Upload) -> Result<(), UploadError>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, E>>,
{
    use futures_util::StreamExt;
    let mut stream = std::pin::pin!(stream);
    let deadline = Instant::now() + UPLOAD_DEADLINE;
    let mut window_end = Instant::now() + UPLOAD_WINDOW;
    let mut window_bytes: u64 = 0;
    loop {
        let next = tokio::time::timeout_at(window_end.min(deadline), stream.next()).await;
        let now = Instant::now();
        match next {
            Ok(None) => return Ok(()),
            Ok(Some(Err(_))) => return Err(UploadError::Interrupted),
            Ok(Some(Ok(data))) => {
                window_bytes += data.len() as u64;
                upload.write(&data).await?;
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
///
/// A POST of a signed-in browser must carry the session's form token (SPEC §13.2), in the
/// `csrf_token` field of its form or the `X-CSRF-Token` header, else it is refused with 403
/// before its handler runs. `POST /login` needs none (there is no session yet).
pub async fn body_deadline(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, MAX_FORM_BYTES));
    match read.await {
        Ok(Ok(bytes)) => {
            if needs_form_token(&parts) && !carries_form_token(&parts, &bytes) {
                return form_token_refused();
            }
            if crate::guard::body_has_nul(&parts.headers, &bytes) {
                return crate::guard::nul_refused(false);
            }
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

/// Middleware for routes whose body streams (the upload): the form token must come in the
/// `X-CSRF-Token` header, since the body is the file.
pub async fn form_token_header(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if needs_form_token(&parts) && !carries_form_token(&parts, &[]) {
        return form_token_refused();
    }
    next.run(Request::from_parts(parts, body)).await
}

fn needs_form_token(parts: &axum::http::request::Parts) -> bool {
    use axum::http::Method;
    !matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) && parts.uri.path() != "/login"
        && crate::auth::expected_form_token(&parts.headers).is_some()
}

/// Whether the request sends back its session's form token, in the header or, in a form
/// body, the `csrf_token` field.
fn carries_form_token(parts: &axum::http::request::Parts, body: &[u8]) -> bool {
    use crate::auth::{FORM_TOKEN_FIELD, FORM_TOKEN_HEADER, same_token};
    let Some(expected) = crate::auth::expected_form_token(&parts.headers) else {
        return true;
    };
    if let Some(sent) = parts
        .headers
        .get(FORM_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return same_token(sent.trim(), &expected);
    }
    let form = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    form && form_urlencoded::parse(body)
        .find(|(k, _)| k == FORM_TOKEN_FIELD)
        .is_some_and(|(_, v)| same_token(v.trim(), &expected))
}

fn form_token_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::response::Html(
            "<!doctype html><meta charset=\"utf-8\"><title>Not allowed</title>\
             <p>This form is out of date or did not come from this page, so it was not sent. \
             Go back, reload the page and try again.</p><p><a href=\"/\">Go to Aesthetix</a></p>",
        ),
    )
        .into_response()
}
