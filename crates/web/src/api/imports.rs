//! `/api/v1/imports`: every step of the import wizard for integrators (SPEC §6.1, §6.6, §9.6,
//! §13.2), on the same service as the web pages ([`jobs::wizard`]), so an API import behaves
//! exactly like one made in the browser or from the CLI.
//!
//! Step by step, over a draft:
//! `POST /imports/drafts?file_name=NAME` (the file as the raw body) → `GET /imports/drafts/{draft}`
//! (columns, samples, proposed mapping, fields) → `PUT …/mapping` → (`GET`/`PUT
//! …/option-values`, file values mapped to options) → `PUT …/details` →
//! `POST …/validate` (the dry run) → `POST …/submit` (the Bulk Action).
//! Or in one request: `POST /imports?file_name=NAME&mode=…` uploads, maps automatically and
//! submits.
//!
//! Uploads are streamed to the file store chunk by chunk; a declared `Content-Length` over the
//! limit is answered 413 before a byte of the body is read, and a body that grows past it is
//! cut off with 413 as it crosses it. An `Idempotency-Key` on a submit — or on the one-request
//! import, where it is looked up before the body is read — returns the job the first request
//! with that key made.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use jobs::summary::job_json;
use jobs::wizard::{self, Details, SubmitOptions, WizardError};
use serde::Deserialize;
use serde_json::{Value, json};
use store::LocationId;

use super::{ApiError, ApiKey};
use crate::AppState;

/// The routes whose body is a file: streamed, never read whole.
pub(super) fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/imports", post(import_in_one_request))
        .route("/imports/drafts", post(upload))
}

/// The routes whose body (if any) is a small JSON document.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports/drafts/{draft}", get(draft))
        .route("/imports/drafts/{draft}/mapping", put(set_mapping))
        .route("/imports/drafts/{draft}/details", put(set_details))
        .route(
            "/imports/drafts/{draft}/option-values",
            get(option_values).put(set_option_values),
        )
        .route("/imports/drafts/{draft}/validate", post(validate))
        .route("/imports/drafts/{draft}/submit", post(submit))
        .route("/migrations", post(migrate))
}

impl From<WizardError> for ApiError {
    fn from(e: WizardError) -> Self {
        let code = e.code();
        let message = e.to_string();
        let server_error = e.is_server_error();
        let sheets = e.sheet_choices().map(|names| json!({ "sheets": names }));
        match e {
            WizardError::TooLarge { .. } => {
                ApiError::status(StatusCode::PAYLOAD_TOO_LARGE, code, message)
            }
            WizardError::Refused(_) if !server_error => ApiError::Status {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code,
                message,
                details: sheets,
            },
            WizardError::Unmatched(columns) => ApiError::Status {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code,
                message,
                details: Some(json!({ "columns": columns })),
            },
            WizardError::Invalid { .. } => {
                ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            WizardError::AcknowledgementRequired(workflows) => ApiError::Status {
                status: StatusCode::CONFLICT,
                code,
                message,
                details: Some(json!({ "workflows": workflows })),
            },
            WizardError::Submitted(job) => ApiError::Status {
                status: StatusCode::CONFLICT,
                code,
                message,
                details: Some(json!({ "job_id": job })),
            },
            WizardError::NotFound(m) => ApiError::NotFound(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    /// The file's name as the user knows it (display only; never a path).
    file_name: Option<String>,
    /// The object the file holds (SPEC §8): `contact` (the default), `company`, or
    /// `custom:KEY`.
    object: Option<String>,
}

/// The body's declared length, if it declared one.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Streams the request body into the file store and starts a draft over it.
async fn store_upload(
    state: &AppState,
    location: LocationId,
    headers: &HeaderMap,
    file_name: Option<String>,
    object: Option<&str>,
    body: Body,
) -> Result<i64, ApiError> {
    // An object the location lacks is refused before a byte of the body is read.
    let object = match object.map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => Some(wizard::parse_object(&state.store, location, o).await?),
        None => None,
    };
    // The size refusal names `aesthetix split` with the user's file (SPEC §11).
    let refused = |e: crate::limits::UploadError| {
        ApiError::status(
            e.status(),
            e.code(),
            wizard::naming_file(&e.to_string(), file_name.as_deref()),
        )
    };
    // Refused here, before a byte of the body is read: a form's body, or one too large.
    let kind = crate::limits::UploadBody::of(headers).map_err(refused)?;
    let mut up = wizard::Upload::begin(
        &state.files,
        kind.file_len_at_most(content_length(headers)),
        wizard::MAX_UPLOAD_BYTES,
    )
    .await
    .map_err(|e| match e {
        WizardError::TooLarge { .. } => refused(crate::limits::UploadError::Wizard(e)),
        other => other.into(),
    })?;
    let part_name = crate::limits::receive_upload(headers, body, &mut up)
        .await
        .map_err(refused)?;
    let file_name = file_name.or(part_name);
    if up.received() == 0 {
        return Err(ApiError::status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file.empty",
            "The request body is empty: send the file's bytes as the body.",
        ));
    }
    let name = file_name.unwrap_or_else(|| "upload.csv".into());
    let draft = up.finish(&state.store, location, None, &name).await?;
    if let Some(object) = object {
        wizard::set_object(&state.store, location, draft, object).await?;
    }
    Ok(draft)
}

/// The headers of the columns that hold data but feed no field, as the file spells them.
fn unmatched_headers(view: &wizard::MappingView) -> Vec<String> {
    view.columns
        .iter()
        .filter(|c| !c.blank && !c.skipped && c.chosen.is_none())
        .map(|c| c.header.clone())
        .collect()
}

/// `mapping.unmatched` with the headers as the file spells them in `details.columns`.
async fn with_raw_unmatched(
    state: &AppState,
    location: LocationId,
    draft: i64,
    e: WizardError,
) -> ApiError {
    if !matches!(e, WizardError::Unmatched(_)) {
        return e.into();
    }
    let columns = match wizard::mapping(&state.store, &state.files, location, draft).await {
        Ok(view) => unmatched_headers(&view),
        Err(other) => return other.into(),
    };
    ApiError::Status {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: e.code(),
        message: e.to_string(),
        details: Some(json!({ "columns": columns })),
    }
}

/// The draft as the mapping step shows it, with its choices and its last validation.
async fn draft_json(state: &AppState, location: LocationId, draft: i64) -> Result<Value, ApiError> {
    let view = wizard::mapping(&state.store, &state.files, location, draft).await?;
    let details = wizard::details(&state.store, location, draft).await?;
    let validation = wizard::last_validation(&state.store, location, draft).await?;
    let unmatched = unmatched_headers(&view);
    Ok(json!({
        "id": draft,
        "file_name": view.file_name,
        "size_bytes": view.size_bytes,
        "encoding": view.encoding,
        "sheet": view.sheet,
        "records": view.records,
        "columns": view.columns,
        "unmatched": unmatched,
        "skip_unmapped": view.skip_unmapped,
        "fields": view.fields,
        "preset": view.preset,
        "detected": view.detected,
        "template": view.template,
        "templates": view.templates,
        "notices": view.notices,
        "details": details.details,
        "preset_note": details.preset_note,
        "default_name": details.default_name,
        "validation": validation,
        "job_id": view.job_id,
        "object": view.object,
        "objects": view.objects,
        "required": view.required,
        "dedupe": view.dedupe,
        "dedupe_choices": view.dedupe_choices,
    }))
}

/// `POST /api/v1/imports/drafts?file_name=NAME`: the file as the raw body → 201 with the
/// draft (columns, three samples each, the proposed mapping, the fields to choose from).
async fn upload(
    key: ApiKey,
    State(state): State<AppState>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let draft = store_upload(
        &state,
        key.location_id,
        &headers,
        q.file_name,
        q.object.as_deref(),
        body,
    )
    .await?;
    let view = draft_json(&state, key.location_id, draft).await;
    match view {
        Ok(v) => Ok((StatusCode::CREATED, Json(v)).into_response()),
        // The file is stored but cannot be read: say why, with the draft to choose a sheet on.
        Err(ApiError::Status {
            status,
            code,
            message,
            details,
        }) => {
            let mut details = details.unwrap_or_else(|| json!({}));
            details["draft_id"] = json!(draft);
            Err(ApiError::Status {
                status,
                code,
                message,
                details: Some(details),
            })
        }
        Err(e) => Err(e),
    }
}

/// `GET /api/v1/imports/drafts/{draft}`.
async fn draft(
    key: ApiKey,
    State(state): State<AppState>,
    Path(draft): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(draft_json(&state, key.location_id, draft).await?))
}

#[derive(Debug, Deserialize)]
struct MappingBody {
    /// Per column of the file, in order: the field key it feeds, or null for none.
    columns: Vec<Option<String>>,
    /// "Don't import data in unmatched columns".
    #[serde(default)]
    skip_unmapped: bool,
    /// The workbook sheet to read, for a workbook with several.
    #[serde(default)]
    sheet: Option<String>,
    /// The exporter's preset (SPEC §11): `"auto"` to detect it, `"none"`, or a preset's key.
    /// Absent: unchanged. Choosing one starts the mapping again from its proposal.
    #[serde(default)]
    preset: Option<String>,
    /// A saved template to apply (`""` for none). Absent: unchanged.
    #[serde(default)]
    template: Option<String>,
    /// The day/month order of date columns: `{"Header": "MDY" | "DMY" | null}` (SPEC §5.3).
    #[serde(default)]
    date_orders: Option<std::collections::BTreeMap<String, Option<String>>>,
    /// The object the file holds (`contact`, `company`, `custom:KEY`; SPEC §8). Absent:
    /// unchanged. Another object starts the mapping again against its fields.
    #[serde(default)]
    object: Option<String>,
    /// The unique field that finds existing records when several are mapped (SPEC §8), or
    /// `record_id`; `null` or absent: the first mapped unique field.
    #[serde(default)]
    dedupe: Option<String>,
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::status(StatusCode::BAD_REQUEST, "request.invalid", e.body_text()))
}

/// `PUT /api/v1/imports/drafts/{draft}/mapping` `{"columns": [key|null…], "skip_unmapped",
/// "sheet"}` → the draft. Unmatched columns without `skip_unmapped` are 422
/// `mapping.unmatched` naming them (the choice is kept).
async fn set_mapping(
    key: ApiKey,
    State(state): State<AppState>,
    Path(draft): Path<i64>,
    body: Result<Json<MappingBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(body)?;
    if let Some(object) = body.object.as_deref() {
        let object = wizard::parse_object(&state.store, key.location_id, object).await?;
        wizard::set_object(&state.store, key.location_id, draft, object).await?;
    }
    wizard::set_dedupe(&state.store, key.location_id, draft, body.dedupe).await?;
    if let Some(sheet) = body.sheet {
        wizard::set_sheet(&state.store, key.location_id, draft, Some(sheet)).await?;
    }
    if let Some(template) = body.template {
        wizard::set_template(&state.store, key.location_id, draft, Some(template)).await?;
    }
    if let Some(preset) = body.preset {
        let choice = Some(preset).filter(|p| !p.trim().is_empty() && p.trim() != "auto");
        wizard::set_preset(&state.store, key.location_id, draft, choice).await?;
    }
    if let Some(orders) = body.date_orders {
        let mut chosen = Vec::new();
        for (header, order) in orders {
            let order = match order.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(o) => Some(o.parse::<domain::DateOrder>().map_err(|e| {
                    ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, "mapping.date_order", e)
                })?),
            };
            chosen.push((header, order));
        }
        wizard::set_date_orders(&state.store, key.location_id, draft, chosen).await?;
    }
    if let Err(e) = wizard::set_mapping(
        &state.store,
        &state.files,
        key.location_id,
        draft,
        body.columns,
        body.skip_unmapped,
    )
    .await
    {
        return Err(with_raw_unmatched(&state, key.location_id, draft, e).await);
    }
    Ok(Json(draft_json(&state, key.location_id, draft).await?))
}

/// `GET /api/v1/imports/drafts/{draft}/option-values`: for each column mapped to an option
/// field, the distinct file values that match no option, with their row counts and the
/// option each is mapped to (SPEC §6.1).
async fn option_values(
    key: ApiKey,
    State(state): State<AppState>,
    Path(draft): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let fields = wizard::option_values(&state.store, &state.files, key.location_id, draft).await?;
    Ok(Json(json!({ "fields": fields })))
}

#[derive(Debug, Deserialize)]
struct OptionValuesBody {
    values: Vec<wizard::ValueChoice>,
}

/// `PUT /api/v1/imports/drafts/{draft}/option-values` `{"values": [{"field_key", "value",
/// "option"}]}`: maps each file value to an option (`option: null` leaves it unmapped) →
/// the fields and values as `GET` shows them.
async fn set_option_values(
    key: ApiKey,
    State(state): State<AppState>,
    Path(draft): Path<i64>,
    body: Result<Json<OptionValuesBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(body)?;
    wizard::set_option_values(
        &state.store,
        &state.files,
        key.location_id,
        draft,
        body.values,
    )
    .await?;
    option_values(key, State(state), Path(draft)).await
}

/// `PUT /api/v1/imports/drafts/{draft}/details` with the details step's choices (name,
/// smart_list, mode, skip_existing_phone, no_update_empty, tags, workflow,
/// suppress_tag_triggers) → the draft.
async fn set_details(
    key: ApiKey,
    State(state): State<AppState>,
    Path(draft): Path<i64>,
    body: Result<Json<Details>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let details = json_body(body)?;
    wizard::set_details(&state.store, key.location_id, draft, details).await?;
    Ok(Json(draft_json(&state, key.location_id, draft).await?))
}

/// `POST /api/v1/imports/drafts/{draft}/validate`: the dry run — what a real run would
/// create, update, skip and fail, the first problems, and the workflows it would trigger.
async fn validate(
    key: ApiKey,
    State(state): State<AppState>,
    Path(draft): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let v = wizard::validate(&state.store, &state.files, key.location_id, draft).await?;
    let resets = v.verification_resets();
    let mut out = serde_json::to_value(&v).map_err(|e| ApiError::Internal(e.to_string()))?;
    out["needs_acknowledgement"] = json!(!v.triggered.is_empty());
    out["verification_resets"] = json!(resets);
    Ok(Json(out))
}

#[derive(Debug, Default, Deserialize)]
struct SubmitBody {
    #[serde(default)]
    acknowledge_workflows: bool,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.to_string())).map_err(|_| {
            ApiError::status(
                StatusCode::BAD_REQUEST,
                "request.idempotency_key",
                "The Idempotency-Key must be plain ASCII text, such as a UUID.",
            )
        }),
    }
}

/// 202 with the Bulk Action for a new job, 200 with it for a job an earlier request made.
async fn submitted(
    state: &AppState,
    location: LocationId,
    s: wizard::Submitted,
) -> Result<Response, ApiError> {
    let job = state.store.job(location, s.job_id).await?;
    let status = if s.created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "job_id": s.job_id,
            "created": s.created,
            "smart_list": s.smart_list,
            "bulk_action": job_json(&job),
        })),
    )
        .into_response())
}

/// `POST /api/v1/imports/drafts/{draft}/submit` `{"acknowledge_workflows": bool}`, with an
/// optional `Idempotency-Key` header: creates the import's Bulk Action (queued for the
/// workers) and answers 202 at once; the same key, or the same draft, answers 200 with the
/// same job. 409 `workflows.acknowledgement_required` lists the workflows and counts when the
/// import would trigger them (SPEC §6.6).
async fn submit(
    key: ApiKey,
    State(state): State<AppState>,
    Path(draft): Path<i64>,
    headers: HeaderMap,
    body: Option<Json<SubmitBody>>,
) -> Result<Response, ApiError> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let options = SubmitOptions {
        acknowledge_workflows: body.acknowledge_workflows,
        idempotency_key: idempotency_key(&headers)?,
    };
    let s = wizard::submit(
        &state.store,
        &state.files,
        key.location_id,
        None,
        draft,
        &options,
    )
    .await?;
    submitted(&state, key.location_id, s).await
}

/// The one-request import's options, as query parameters.
#[derive(Debug, Default, Deserialize)]
struct OneRequest {
    file_name: Option<String>,
    name: Option<String>,
    mode: Option<String>,
    #[serde(default)]
    skip_unmapped: bool,
    #[serde(default)]
    skip_existing_phone: bool,
    #[serde(default)]
    no_update_empty: bool,
    /// One tag for every contact (SPEC §13.1's `--tag`, as given).
    tag: Option<String>,
    workflow: Option<String>,
    #[serde(default)]
    smart_list: bool,
    #[serde(default)]
    acknowledge_workflows: bool,
    #[serde(default)]
    suppress_tag_triggers: bool,
    /// The object the file holds (SPEC §8): `contact` (the default), `company`, `custom:KEY`.
    object: Option<String>,
    /// The unique field that finds existing records (SPEC §8's `--dedupe`).
    dedupe: Option<String>,
}

/// `POST /api/v1/imports?file_name=…&mode=…&tag=…&skip_unmapped=true&acknowledge_workflows=true`
/// with the file as the raw body: upload, automatic mapping and submit in one request, as
/// `aesthetix import contacts` does. With an `Idempotency-Key` the same key returns the first
/// request's job without reading the body again.
async fn import_in_one_request(
    key: ApiKey,
    State(state): State<AppState>,
    query: Result<Query<OneRequest>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let idem = idempotency_key(&headers)?;
    // Looked up before the body is read, by the one check every submit makes.
    if let Some(job) =
        jobs::import::submit::job_for_key(&state.store, key.location_id, idem.as_deref())
            .await
            .map_err(WizardError::from)?
    {
        let s = wizard::Submitted {
            job_id: job,
            created: false,
            smart_list: None,
        };
        return submitted(&state, key.location_id, s).await;
    }
    let location = key.location_id;
    let draft = store_upload(
        &state,
        location,
        &headers,
        q.file_name,
        q.object.as_deref(),
        body,
    )
    .await?;
    wizard::set_dedupe(&state.store, location, draft, q.dedupe).await?;
    let view = wizard::mapping(&state.store, &state.files, location, draft).await?;
    let columns: Vec<Option<String>> = view.columns.iter().map(|c| c.chosen.clone()).collect();
    // Without a mode, the exporter's preset may give one (Vagaro's and Nextech's, SPEC §11).
    let preset_mode = view
        .preset
        .as_ref()
        .and_then(|p| engine::presets::by_name(p.key))
        .and_then(|p| p.settings.mode)
        .map(|m| m.token().to_string());
    if let Err(e) = wizard::set_mapping(
        &state.store,
        &state.files,
        location,
        draft,
        columns,
        q.skip_unmapped,
    )
    .await
    {
        return Err(with_raw_unmatched(&state, location, draft, e).await);
    }
    let details = Details {
        name: q.name,
        smart_list: q.smart_list,
        mode: q.mode.or(preset_mode).unwrap_or_else(|| "create".into()),
        skip_existing_phone: q.skip_existing_phone,
        no_update_empty: q.no_update_empty,
        tags: q.tag.into_iter().collect(),
        workflow: q.workflow,
        suppress_tag_triggers: q.suppress_tag_triggers,
    };
    wizard::set_details(&state.store, location, draft, details).await?;
    let s = wizard::submit(
        &state.store,
        &state.files,
        location,
        None,
        draft,
        &SubmitOptions {
            acknowledge_workflows: q.acknowledge_workflows,
            idempotency_key: idem,
        },
    )
    .await?;
    submitted(&state, location, s).await
}

#[derive(Debug, Deserialize)]
struct MigrationBody {
    /// The leads list's draft (uploaded with `POST /imports/drafts`): imported first, as Leads.
    #[serde(default)]
    leads_draft: Option<i64>,
    /// The patients list's draft: imported once the leads file completed, as Patients.
    #[serde(default)]
    patients_draft: Option<i64>,
    #[serde(default)]
    create_fields: bool,
    #[serde(default)]
    skip_unmapped: bool,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default)]
    acknowledge_workflows: bool,
    #[serde(default)]
    dry_run: bool,
}

/// `POST /api/v1/migrations`: a location's onboarding migration (SPEC §11) over uploaded
/// drafts — leads first, then patients, each its own Bulk Action in Create & Update mode, an
/// email or phone required on every line. A dry run answers 200 with both files' reports (the
/// patients file as it would run after the leads file); otherwise 202 with the leads job and
/// the patients draft waiting for it (the worker submits it once the leads job completed).
async fn migrate(
    key: ApiKey,
    State(state): State<AppState>,
    body: Result<Json<MigrationBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let options = jobs::migration::MigrationOptions {
        sheet: None,
        skip_unmapped: body.skip_unmapped,
        tags: body
            .tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        workflow: body.workflow.filter(|w| !w.trim().is_empty()),
        dry_run: body.dry_run,
    };
    let outcome = jobs::migration::over_drafts(
        &state.store,
        &state.files,
        key.location_id,
        body.leads_draft,
        body.patients_draft,
        &options,
        body.create_fields,
        body.acknowledge_workflows,
    )
    .await?;
    Ok(match outcome {
        Err(checked) => (
            StatusCode::OK,
            Json(json!({
                "dry_run": true,
                "leads": checked.leads,
                "patients": checked.patients,
                "created_fields": checked.created_fields,
                "triggered_workflows": checked.triggered,
            })),
        )
            .into_response(),
        Ok(started) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "dry_run": false,
                "leads_job": started.leads_job,
                "patients_job": started.patients_job,
                "patients_waits_for": started.patients_waits_for,
                "created_fields": started.created_fields,
            })),
        )
            .into_response(),
    })
}
