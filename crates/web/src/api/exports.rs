//! `POST /api/v1/exports`: an integrator starts an export (SPEC §10) of contacts, opportunities
//! (all, or one pipeline's), companies or a custom object's records (`"object"`) — the same
//! [`jobs::export::create_export`] the CLI and the export page call. It is queued as a Bulk
//! Action for the workers; `GET /api/v1/bulk-actions/{job}` follows it and
//! `GET /api/v1/bulk-actions/{job}/download` fetches the file once it is completed (with a key
//! of the same location; 410 after 30 days).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use domain::ObjectKind;
use jobs::export::{ExportError, ExportRequest, Selection};
use jobs::summary::job_json;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, ApiKey};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/exports", post(start))
}

/// Which contacts and columns: at most one of `smart_list` (its name), `filters` (SPEC §13.1
/// expressions, all of which must hold) and `ids`; none of them exports every contact.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportBody {
    smart_list: Option<String>,
    filters: Option<Vec<String>>,
    ids: Option<Vec<i64>>,
    /// Column keys in order; absent for the default columns.
    columns: Option<Vec<String>>,
    /// What is exported: `contact` (the default), `opportunity`, `company` or a custom
    /// object's key (SPEC §7, §8).
    object: Option<String>,
    /// Opportunities only: one pipeline's, by name.
    pipeline: Option<String>,
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Invalid(m) => {
                ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, "export.invalid", m)
            }
            ExportError::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// `POST /api/v1/exports` → 202 with the queued Bulk Action.
async fn start(
    key: ApiKey,
    State(state): State<AppState>,
    body: Result<Json<ExportBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = body
        .map(|Json(b)| b)
        .map_err(|e| ApiError::status(StatusCode::BAD_REQUEST, "request.invalid", e.body_text()))?;
    let chosen = [
        body.smart_list.is_some(),
        body.filters.is_some(),
        body.ids.is_some(),
    ];
    if chosen.iter().filter(|c| **c).count() > 1 {
        return Err(ApiError::status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "export.invalid",
            "Choose the contacts one way: smart_list, filters or ids (or none of them for every contact).",
        ));
    }
    let location = state.store.location(key.location_id).await?;
    let object = match body.object.as_deref().map(str::trim) {
        None | Some("contact" | "contacts") => ObjectKind::Contact,
        Some("opportunity" | "opportunities") => ObjectKind::Opportunity,
        Some("company" | "companies") => ObjectKind::Company,
        Some(other) => match state.store.custom_object(location.id, other).await {
            Ok(o) => ObjectKind::Custom(o.def.key),
            Err(store::StoreError::NotFound(why)) => {
                return Err(ApiError::status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "export.invalid",
                    format!("{why}; or export contact, opportunity or company"),
                ));
            }
            Err(e) => return Err(e.into()),
        },
    };
    let selection = if let Some(name) = body.pipeline {
        match state.store.pipeline_by_name(location.id, &name).await {
            Ok(p) if chosen.iter().all(|c| !c) => Selection::Pipeline { id: p.id },
            Ok(_) => {
                return Err(ApiError::status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "export.invalid",
                    "Choose the opportunities one way: pipeline or ids (or neither for every opportunity).",
                ));
            }
            Err(e) if e.is_not_found() => {
                return Err(ApiError::status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "export.invalid",
                    format!(
                        "There is no pipeline named '{name}' in this location; GET /api/v1/pipelines lists them."
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    } else if let Some(name) = body.smart_list {
        match state.store.smart_list_by_name(location.id, &name).await {
            Ok(list) => Selection::SmartList { id: list.id },
            Err(e) if e.is_not_found() => {
                return Err(ApiError::status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "export.invalid",
                    format!(
                        "There is no Smart List named '{name}' in this location; GET /api/v1/smart-lists lists them."
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    } else if let Some(filters) = body.filters {
        Selection::Filters { filters }
    } else if let Some(ids) = body.ids {
        Selection::Ids { ids }
    } else {
        Selection::All
    };
    let request = ExportRequest {
        object,
        selection,
        columns: body.columns,
    };
    let job = jobs::export::create_export(&state.store, &location, &request, None, None).await?;
    let j = state.store.job(location.id, job).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job_id": job, "bulk_action": job_json(&j) })),
    )
        .into_response())
}
