//! The JSON API under `/api/v1` (SPEC §13.2) and the API keys that authenticate it (SPEC §2).
//!
//! Invariants:
//! - Only an API key authenticates `/api/v1`: `Authorization: Bearer KEY`. A session cookie
//!   does not; a request without a live key is answered 401 with a JSON error.
//! - A key acts for its own location only: every handler takes the [`ApiKey`] and passes its
//!   location to the store, which filters on it.
//! - A key is shown once, when made ([`create_api_key`]); the database keeps its prefix and
//!   the SHA-256 of the whole key. Revoking takes effect on the next request: every request
//!   looks its key up.
//!
//! Keys look like `ax_k3j9x2ab_<32 letters and digits>`: the 8 characters after `ax_` are the
//! prefix that names the key (`apikey revoke --location NAME k3j9x2ab`).

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use store::{ApiKeyInfo, LocationId, Store, StoreError};

use crate::AppState;

mod bulk_actions;
mod exports;
mod imports;
mod objects;
mod openapi;

/// A freshly made key: the key itself (shown once), its prefix and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub key: String,
    pub prefix: String,
    pub hash: String,
}

const PREFIX_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `n` characters drawn uniformly from `alphabet` (bytes that would bias the draw are
/// thrown away).
fn random_chars(alphabet: &[u8], n: usize) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf).expect("the operating system provides random bytes");
        for b in buf {
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// The SHA-256 (hex) of a whole key: what the database keeps.
pub fn api_key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes a new random key (not stored).
pub fn generate_api_key() -> NewApiKey {
    let prefix = random_chars(PREFIX_ALPHABET, 8);
    let key = format!("ax_{prefix}_{}", random_chars(SECRET_ALPHABET, 32));
    let hash = api_key_hash(&key);
    NewApiKey { key, prefix, hash }
}

/// The prefix an operator means: `k3j9x2ab`, `ax_k3j9x2ab` or the whole key all name the
/// same key.
pub fn api_key_prefix(given: &str) -> &str {
    let given = given.trim();
    let rest = given.strip_prefix("ax_").unwrap_or(given);
    rest.split('_').next().unwrap_or(rest)
}

/// Makes a key for `location`, stores its prefix and hash, and returns the key — the only
/// time it is seen.
pub async fn create_api_key(
    store: &Store,
    location: LocationId,
) -> Result<(String, ApiKeyInfo), StoreError> {
    let mut attempt = 0;
    loop {
        let new = generate_api_key();
        match store.insert_api_key(location, &new.prefix, &new.hash).await {
            Ok(info) => return Ok((new.key, info)),
            // Two keys drew the same 8-character prefix (about one in 2.8 trillion): draw again.
            Err(e) if e.is_conflict() && attempt < 3 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Compares two strings in time that depends only on their length.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// An error of the JSON API: `{"error": {"code", "message"}}` with its status (SPEC §13.2).
/// `code` is stable (scripts rely on it); `message` says what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Unauthorized {
        code: &'static str,
        message: &'static str,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Any other status with its own stable code: 409 for a job in the wrong state, 410 for a
    /// file that expired, 413 for a file over the limit, 422 for a refused file.
    #[error("{message}")]
    Status {
        status: StatusCode,
        code: &'static str,
        message: String,
        /// What a client needs to act on it (the columns unmatched, the workflows an import
        /// would trigger…), sent as `error.details`.
        details: Option<serde_json::Value>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Status {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} was not found")),
            StoreError::Conflict(msg) => ApiError::status(StatusCode::CONFLICT, "conflict", msg),
            StoreError::Invalid(msg) => {
                ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, "request.invalid", msg)
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let details = match &self {
            ApiError::Status { details, .. } => details.clone(),
            _ => None,
        };
        let (status, code, message) = match &self {
            ApiError::Unauthorized { code, message } => {
                (StatusCode::UNAUTHORIZED, *code, message.to_string())
            }
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "request.invalid", m.clone()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
            ApiError::Status {
                status,
                code,
                message,
                ..
            } => (*status, *code, message.clone()),
            ApiError::Internal(detail) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!(
                    "Aesthetix could not finish this request (reference {}); the server log says why.",
                    jobs::incident("API request failed", detail)
                ),
            ),
        };
        let mut error = json!({"code": code, "message": message});
        if let Some(details) = details {
            error["details"] = details;
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The location an API request acts for, proven by a live key in `Authorization: Bearer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub location_id: LocationId,
    pub prefix: String,
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let missing = ApiError::Unauthorized {
            code: "auth.api_key_required",
            message: "This API needs an API key: send `Authorization: Bearer KEY` (make one with `aesthetix apikey create --location NAME`).",
        };
        let invalid = ApiError::Unauthorized {
            code: "auth.api_key_invalid",
            message: "This API key is not valid: it is unknown or was revoked.",
        };
        let header = parts.headers.get(AUTHORIZATION).ok_or(missing)?;
        let value = header.to_str().map_err(|_| ApiError::Unauthorized {
            code: "auth.api_key_invalid",
            message: "This API key is not valid: it is unknown or was revoked.",
        })?;
        let key = match value.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
            _ => {
                return Err(ApiError::Unauthorized {
                    code: "auth.api_key_required",
                    message: "Send the API key as `Authorization: Bearer KEY`.",
                });
            }
        };
        if !key.starts_with("ax_") {
            return Err(invalid);
        }
        let Some((info, hash)) = state.store.live_api_key(api_key_prefix(key)).await? else {
            return Err(invalid);
        };
        if !same(&hash, &api_key_hash(key)) {
            return Err(invalid);
        }
        Ok(ApiKey {
            location_id: info.location_id,
            prefix: info.prefix,
        })
    }
}

/// The API's routes. Every body but an upload's is read whole within a deadline before its
/// handler runs ([`body_deadline`]); uploads stream to the file store at a minimum pace
/// ([`crate::limits::receive_upload`]).
pub(crate) fn routes() -> Router<AppState> {
    let json = Router::new()
        .route("/smart-lists", get(smart_lists))
        .route("/pipelines", get(pipelines))
        .route("/contacts", get(contacts).post(crate::inbound::api_contact))
        .merge(bulk_actions::routes())
        .merge(imports::routes())
        .merge(exports::routes())
        .merge(objects::routes())
        .route_layer(axum::middleware::from_fn(body_deadline));
    Router::new().nest(
        "/api/v1",
        json.merge(imports::upload_routes())
            .route("/openapi.json", get(openapi::document))
            .fallback(not_found),
    )
}

/// [`crate::limits::body_deadline`] for the API: the same limits, answered as JSON errors.
async fn body_deadline(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use crate::limits::{BODY_DEADLINE, MAX_FORM_BYTES};
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, MAX_FORM_BYTES));
    match read.await {
        Ok(Ok(bytes)) => {
            if crate::guard::body_has_nul(&parts.headers, &bytes) {
                return crate::guard::nul_refused(true);
            }
            next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => ApiError::status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            format!("This request's body is larger than {MAX_FORM_BYTES} bytes, or it was interrupted. Send files to the upload routes."),
        )
        .into_response(),
        Err(_) => ApiError::status(
            StatusCode::REQUEST_TIMEOUT,
            "request.too_slow",
            format!("The request's body did not arrive within {} s and was stopped. Try again.", BODY_DEADLINE.as_secs()),
        )
        .into_response(),
    }
}

async fn not_found(_key: ApiKey) -> ApiError {
    ApiError::NotFound("no such API route".into())
}

/// `GET /api/v1/smart-lists`: the key's location's Smart Lists with their counts.
async fn smart_lists(
    key: ApiKey,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let lists = state.store.smart_lists(key.location_id).await?;
    Ok(Json(serde_json::Value::Array(
        lists
            .into_iter()
            .map(|(l, count)| {
                json!({
                    "id": l.id,
                    "name": l.name,
                    "builtin": l.builtin,
                    "filters": l.filter_exprs(),
                    "count": count,
                })
            })
            .collect(),
    )))
}

/// `GET /api/v1/pipelines`: the key's location's pipelines, oldest first, each with its
/// stages in order (SPEC §7).
async fn pipelines(
    key: ApiKey,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let pipelines = state.store.pipelines(key.location_id).await?;
    Ok(Json(serde_json::Value::Array(
        pipelines
            .into_iter()
            .map(|p| {
                json!({
                    "id": p.id,
                    "name": p.name,
                    "stages": p
                        .stages
                        .into_iter()
                        .map(|s| json!({"id": s.id, "name": s.name}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
    )))
}

#[derive(Debug, Deserialize)]
struct Paging {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The largest page `GET /api/v1/contacts` returns.
const MAX_LIMIT: i64 = 200;

/// `GET /api/v1/contacts?limit=&offset=`: a page of the key's location's contacts, newest
/// first (limit 1–200, default 50).
async fn contacts(
    key: ApiKey,
    State(state): State<AppState>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(paging) = paging.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = paging.limit.unwrap_or(50);
    let offset = paging.offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {limit}"
        )));
    }
    if offset < 0 {
        return Err(ApiError::BadRequest(format!(
            "offset must be 0 or more, not {offset}"
        )));
    }
    let page = state
        .store
        .contacts_page(key.location_id, None, offset, limit)
        .await?;
    Ok(Json(json!({
        "contacts": page.contacts.iter().map(|c| json!({
            "id": c.id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "email": c.email,
            "phone": c.phone,
            "contact_type": c.contact_type,
            "status": c.status,
            "created_at": c.created_at,
        })).collect::<Vec<_>>(),
        "total": page.total,
        "limit": limit,
        "offset": offset,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape_and_name_their_prefix() {
        let k = generate_api_key();
        assert_eq!(k.key.len(), 3 + 8 + 1 + 32);
        assert!(k.key.starts_with(&format!("ax_{}_", k.prefix)));
        assert!(k.prefix.bytes().all(|b| PREFIX_ALPHABET.contains(&b)));
        assert_eq!(k.hash, api_key_hash(&k.key));
        assert_ne!(generate_api_key().key, k.key);
        for given in [
            k.prefix.clone(),
            format!("ax_{}", k.prefix),
            k.key.clone(),
            format!(" {} ", k.key),
        ] {
            assert_eq!(api_key_prefix(&given), k.prefix, "{given}");
        }
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
