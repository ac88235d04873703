//! Contacts that arrive one at a time (SPEC §12): `POST /api/v1/contacts` (an API key) and
//! `POST /hooks/{token}` (a location's secret webhook URL; JSON or form fields). Both take
//! field key or label → value, and run as an import of one line through the one import
//! engine — matching and merging (§6.4–§6.5), tag triggers and workflows included — so a
//! contact made here is made exactly as a file's line would be. The source is the channel
//! (`API`, `Webhook`) unless one is given; UTM parameters are fields like any other.
//!
//! The answer is the line of the §13.1 report without `line`: 201 when a contact was
//! created, 200 otherwise, 422 for an error line. More than [`PER_MINUTE`] requests in a
//! minute for one key or one webhook answer 429 with `Retry-After`, counted in the database
//! (`source_requests`) so that several web processes share one minute.

use std::path::PathBuf;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use serde_json::Value;
use store::LocationId;

use crate::AppState;
use crate::api::{ApiError, ApiKey};

/// Requests a minute one key or one webhook may send.
pub const PER_MINUTE: u32 = 60;

/// Counts a request of `source` against its minute, in the database so that every web
/// process counts the same minute; `Some(response)` is the 429 to answer instead.
async fn over_limit(state: &AppState, location: LocationId, source: &str) -> Option<Response> {
    let now = store::now_ms();
    match state
        .store
        .take_source_request(location, source, PER_MINUTE, now)
        .await
    {
        Ok(Ok(())) => None,
        Ok(Err(seconds)) => Some(too_many(seconds)),
        Err(e) => Some(ApiError::from(e).into_response()),
    }
}

/// Makes a webhook for `location` and returns its secret path, `/hooks/TOKEN` — the only
/// time it is seen (only the token's hash is stored).
pub async fn create_webhook(
    store: &store::Store,
    location: LocationId,
) -> Result<(String, store::Webhook), store::StoreError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hook = store
        .create_webhook(location, &crate::api::api_key_hash(&token))
        .await?;
    Ok((format!("/hooks/{token}"), hook))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/hooks/{token}", post(hook))
}

fn too_many(seconds: u64) -> Response {
    let mut r = ApiError::status(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "More than {PER_MINUTE} requests in a minute. Wait {seconds} second{} and send it again.",
            if seconds == 1 { "" } else { "s" }
        ),
    )
    .into_response();
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    r
}

/// `POST /api/v1/contacts`: a JSON object of field key or label → value.
pub(crate) async fn api_contact(
    key: ApiKey,
    State(state): State<AppState>,
    body: Bytes,
) -> Response {
    if let Some(refused) = over_limit(&state, key.location_id, &format!("key:{}", key.prefix)).await
    {
        return refused;
    }
    let fields = match json_fields(&body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    match upsert_one(&state, key.location_id, fields, "API").await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// `POST /hooks/{token}`: JSON, or form fields, of field key or label → value.
async fn hook(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let unknown = || {
        ApiError::NotFound(
            "There is no webhook at this address. Check the URL you were given.".into(),
        )
        .into_response()
    };
    if token.len() > 200 {
        return unknown();
    }
    let hook = match state
        .store
        .live_webhook(&crate::api::api_key_hash(&token))
        .await
    {
        Ok(Some(h)) => h,
        Ok(None) => return unknown(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(refused) = over_limit(&state, hook.location_id, &format!("hook:{}", hook.id)).await
    {
        return refused;
    }
    let read = tokio::time::timeout(
        crate::limits::BODY_DEADLINE,
        axum::body::to_bytes(body, crate::limits::MAX_FORM_BYTES),
    )
    .await;
    let bytes = match read {
        Ok(Ok(b)) => b,
        _ => {
            return ApiError::status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request.too_large",
                "The request body is too large or too slow. Send one contact's fields, as JSON or a form.",
            )
            .into_response();
        }
    };
    if crate::guard::body_has_nul(&headers, &bytes) {
        return crate::guard::nul_refused(true);
    }
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let fields = if form {
        form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    } else {
        match json_fields(&bytes) {
            Ok(f) => f,
            Err(e) => return e.into_response(),
        }
    };
    match upsert_one(&state, hook.location_id, fields, "Webhook").await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// A JSON object's members as (field, text): strings as they are, numbers and booleans as
/// written, null as blank; anything else is refused.
fn json_fields(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let bad = |m: &str| ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, "request.invalid", m);
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        bad("The body is not JSON. Send a JSON object of field → value, such as {\"email\": \"ann@example.com\"}.")
    })?;
    let Value::Object(map) = value else {
        return Err(bad(
            "The body must be a JSON object of field → value, such as {\"email\": \"ann@example.com\"}.",
        ));
    };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        let text = match v {
            Value::String(s) => s,
            Value::Null => String::new(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            Value::Object(_) => {
                return Err(bad(&format!(
                    "The field “{k}” holds an object; give each field a text, number or list."
                )));
            }
        };
        out.push((k, text));
    }
    Ok(out)
}

/// One CSV cell, quoted.
fn cell(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `fields` as an import of one line (Add & Update) and answers its report line.
async fn upsert_one(
    state: &AppState,
    location: LocationId,
    mut fields: Vec<(String, String)>,
    channel: &str,
) -> Result<Response, ApiError> {
    let unprocessable =
        |code: &'static str, m: String| ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, code, m);
    fields.retain(|(k, _)| !k.trim().is_empty());
    if fields.is_empty() {
        return Err(unprocessable(
            "request.empty",
            "No fields were sent. Send at least an email, a phone or a first name.".into(),
        ));
    }
    if fields.len() > 200 {
        return Err(unprocessable(
            "request.too_many_fields",
            "More than 200 fields were sent; a contact has fewer. Send only the contact's fields."
                .into(),
        ));
    }
    let names_source = |k: &str| {
        let k = k.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        matches!(k.as_str(), "source" | "contact source" | "lead source")
    };
    if !fields
        .iter()
        .any(|(k, v)| names_source(k) && !v.trim().is_empty())
    {
        fields.retain(|(k, _)| !names_source(k));
        fields.push(("source".into(), channel.to_string()));
    }
    let location = state.store.location(location).await?;
    let mut text = fields
        .iter()
        .map(|(k, _)| cell(k))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    text.push_str(
        &fields
            .iter()
            .map(|(_, v)| cell(v))
            .collect::<Vec<_>>()
            .join(","),
    );
    text.push('\n');
    let dir = state.data_dir.join("inbound");
    std::fs::create_dir_all(&dir)
        .map_err(|e| ApiError::Internal(format!("making {}: {e}", dir.display())))?;
    let mut random = [0u8; 12];
    getrandom::fill(&mut random).map_err(|e| ApiError::Internal(format!("randomness: {e}")))?;
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("contact-{name}.csv"));
    std::fs::write(&path, text)
        .map_err(|e| ApiError::Internal(format!("writing {}: {e}", path.display())))?;
    let _file = TempFile(path.clone());
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(
            jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .date();
    let request = jobs::ImportRequest {
        location: Some(location),
        file: path,
        file_name: format!("{channel} request"),
        name: Some(format!("Contact from the {channel}")),
        mode: engine::Mode::Upsert,
        mode_given: true,
        preset: Some("none".into()),
        ..jobs::ImportRequest::default()
    };
    let prepared = match jobs::prepare(&state.store, request, today).await {
        Ok(p) => p,
        Err(jobs::ImportError::Store(e)) => return Err(e.into()),
        Err(e @ jobs::ImportError::Columns { .. }) => {
            return Err(unprocessable(
                "request.unknown_field",
                format!(
                    "{e} Use a field's key (such as first_name, email, utm_source) or its label."
                ),
            ));
        }
        Err(e) => return Err(unprocessable("request.invalid", e.to_string())),
    };
    let mut line = None;
    jobs::run_import(&state.store, &prepared, |l| line = Some(l), |_, _| {})
        .await
        .map_err(|e| match e {
            jobs::ImportError::Store(e) => e.into(),
            other => ApiError::Internal(other.to_string()),
        })?;
    let Some(line) = line else {
        return Err(unprocessable(
            "request.empty",
            "Every field sent was blank. Send at least an email, a phone or a first name.".into(),
        ));
    };
    let mut body = serde_json::to_value(&line)
        .map_err(|e| ApiError::Internal(format!("a report line: {e}")))?;
    if let Some(o) = body.as_object_mut() {
        o.remove("line");
    }
    let status = match (body["status"].as_str(), body["action"].as_str()) {
        (Some("error"), _) => StatusCode::UNPROCESSABLE_ENTITY,
        (_, Some("created")) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_become_cells() {
        let mut f = json_fields(
            br#"{"email": "a@b.co", "age": 31, "vip": true, "tags": ["A", "B"], "x": null}"#,
        )
        .unwrap();
        f.sort();
        assert_eq!(
            f,
            [
                ("age".to_string(), "31".to_string()),
                ("email".into(), "a@b.co".into()),
                ("tags".into(), "A, B".into()),
                ("vip".into(), "true".into()),
                ("x".into(), "".into()),
            ]
        );
        assert!(json_fields(b"[1]").is_err());
        assert!(json_fields(br#"{"a": {"b": 1}}"#).is_err());
    }
}
