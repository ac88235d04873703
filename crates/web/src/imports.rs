//! The import wizard's pages (SPEC §6.1, §6.6): upload → map → details → validate → submit,
//! each a thin page over [`jobs::wizard`], which the JSON API calls too.
//!
//! Every route takes [`AdminUser`] (403 for anyone else, before a byte of an upload is read)
//! and passes the session's location to the wizard, whose store calls filter on it: another
//! location's draft is 404. Forms are plain POSTs; the session cookie is `SameSite=Strict`, so
//! another site cannot post them with it.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::ObjectKind;
use jobs::wizard::{
    self, ColumnView, Details, FieldChoice, MappingView, ObjectChoice, OptionField, Problem,
    SubmitOptions, UnmatchedValue, Upload, Validation, ValueChoice, WizardError,
};
use serde::Deserialize;
use serde_json::json;
use store::SessionInfo;

use crate::auth::AdminUser;
use crate::limits::{UploadError, receive_upload};
use crate::pages::{Nav, nav};
use crate::{AppError, AppState};
use jobs::mapping::OrderFrom;

/// The wizard's pages (their bodies are small forms: see [`crate::limits::body_deadline`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports/new", get(new_import))
        .route("/imports/{draft}/map", get(map_page).post(save_map))
        .route("/imports/{draft}/sheet", post(choose_sheet))
        .route("/imports/{draft}/object", post(choose_object))
        .route("/imports/{draft}/preset", post(choose_preset))
        .route("/imports/{draft}/template", post(choose_template))
        .route(
            "/imports/{draft}/values",
            get(values_page).post(save_values),
        )
        .route(
            "/imports/{draft}/details",
            get(details_page).post(save_details),
        )
        .route("/imports/{draft}/review", get(review_page))
        .route("/imports/{draft}/validate", post(run_validation))
        .route("/imports/{draft}/submit", post(submit))
}

/// The upload route, whose body streams to the file store (see [`crate::limits`]).
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/imports/upload", post(upload))
        .route_layer(axum::middleware::from_fn(crate::limits::form_token_header))
}

impl From<WizardError> for AppError {
    fn from(e: WizardError) -> Self {
        match e {
            WizardError::NotFound(m) => AppError::NotFound(m),
            e if e.is_server_error() => AppError::Internal(e.to_string()),
            e => AppError::BadRequest(e.to_string()),
        }
    }
}

fn draft_id(raw: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::NotFound("This import was not found.".into()))
}

/// A form's fields by name, looked up in constant time (a form of a megabyte holds about
/// 100,000 fields: a scan per lookup would cost seconds). The first of two same-named fields
/// wins, as a linear search would.
pub(crate) struct FormFields(std::collections::HashMap<String, String>);

impl FormFields {
    pub(crate) fn new(fields: Vec<(String, String)>) -> Self {
        let mut map = std::collections::HashMap::with_capacity(fields.len());
        for (k, v) in fields {
            map.entry(k).or_insert(v);
        }
        FormFields(map)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// The steps, for the step indicator.
const STEPS: [&str; 4] = ["Upload", "Map columns", "Details", "Validate & submit"];

// ---------------------------------------------------------------------------------------------
// Upload.

#[derive(Template)]
#[template(path = "import_upload.html")]
struct UploadPage {
    nav: Nav,
    steps: [&'static str; 4],
    step: usize,
    max_bytes: u64,
    /// The object chosen (SPEC §8), and the ones to choose from.
    object: ObjectChoice,
    objects: Vec<ObjectChoice>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NewQuery {
    /// The object the file holds (`contact`, `company`, `custom:KEY`); contacts when absent.
    object: Option<String>,
}

/// The first step: which object the file holds (a plain GET form, so it works without the
/// script), then the file.
async fn new_import(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let loc = session.location_id;
    let objects = wizard::object_choices(&state.store, loc).await?;
    let (chosen, error) = match q.object.as_deref().filter(|o| !o.trim().is_empty()) {
        None => (ObjectKind::Contact, None),
        Some(given) => match wizard::parse_object(&state.store, loc, given).await {
            Ok(o) => (o, None),
            Err(e @ WizardError::Invalid { .. }) => (ObjectKind::Contact, Some(e.to_string())),
            Err(e) => return Err(e.into()),
        },
    };
    let object = objects
        .iter()
        .find(|o| o.key == chosen.as_stored())
        .cloned()
        .unwrap_or_else(|| objects[0].clone());
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = UploadPage {
        nav: nav(&state, &session, "import").await?,
        steps: STEPS,
        step: 0,
        max_bytes: wizard::MAX_UPLOAD_BYTES,
        object,
        objects,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct UploadQuery {
    name: Option<String>,
    /// The object the file holds (SPEC §8), as the first step chose it.
    object: Option<String>,
}

/// `POST /imports/upload?name=FILE_NAME` with the file as the raw body: 201 with
/// `{"draft", "next"}`, or an error as `{"error": {"code", "message"}}` — 413 for a file over
/// the limit (from `Content-Length`, before the body is read), 408 for a body that trickles.
async fn upload(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let given_name = q.name.clone();
    let loc = session.location_id;
    let received = async {
        // Refused before a byte is read: an object the location lacks, a form's body.
        let object = match q.object.as_deref().filter(|o| !o.trim().is_empty()) {
            Some(o) => Some(wizard::parse_object(&state.store, loc, o).await?),
            None => None,
        };
        let kind = crate::limits::UploadBody::of(&headers)?;
        let declared = kind.file_len_at_most(declared);
        let mut up = Upload::begin(&state.files, declared, wizard::MAX_UPLOAD_BYTES).await?;
        let part_name = receive_upload(&headers, body, &mut up).await?;
        let name = q.name.or(part_name).unwrap_or_default();
        let draft = up
            .finish(&state.store, loc, Some(session.user.id), &name)
            .await?;
        if let Some(object) = object {
            wizard::set_object(&state.store, loc, draft, object).await?;
        }
        Ok::<_, UploadError>(draft)
    }
    .await;
    match received {
        Ok(draft) => (
            StatusCode::CREATED,
            Json(json!({"draft": draft, "next": format!("/imports/{draft}/map")})),
        )
            .into_response(),
        Err(e) => {
            let status = e.status();
            let message = if status.is_server_error() {
                tracing::error!(error = %e, "upload failed");
                "Aesthetix could not store the file. Try again; if it keeps happening, the server log says why.".to_string()
            } else {
                // The size refusal names `aesthetix split` with the user's file.
                wizard::naming_file(&e.to_string(), given_name.as_deref())
            };
            (
                status,
                Json(json!({"error": {"code": e.code(), "message": message}})),
            )
                .into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Map.

/// A column's row on the mapping page.
struct MapRow {
    column: ColumnView,
    /// The header as shown: `(blank header, column N)` for a blank one.
    name: String,
    /// A date column's order chosen beside it (`MDY`, `DMY`), or empty.
    order_chosen: String,
    /// The words of the default choice: the order the values (or the location) give.
    order_words: String,
    /// "Fill only if empty" is checked for the column (SPEC §6.5).
    fill_only: bool,
}

#[derive(Template)]
#[template(path = "import_map.html")]
struct MapPage {
    nav: Nav,
    steps: [&'static str; 4],
    step: usize,
    draft: i64,
    view: MappingView,
    rows: Vec<MapRow>,
    fields: Vec<FieldChoice>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "import_refused.html")]
struct RefusedPage {
    nav: Nav,
    steps: [&'static str; 4],
    step: usize,
    draft: i64,
    message: String,
    code: &'static str,
    sheets: Vec<String>,
    /// The name of the file as the admin chose it, so the refusal names it.
    file_name: String,
}

impl MapRow {
    fn is_chosen(&self, key: &str) -> bool {
        self.column.chosen.as_deref() == Some(key)
    }
}

fn map_rows(view: &MappingView) -> Vec<MapRow> {
    view.columns
        .iter()
        .map(|c| MapRow {
            name: if c.header.is_empty() {
                format!("(blank header, column {})", c.index + 1)
            } else {
                c.header.clone()
            },
            order_chosen: match c.date_order {
                Some(o) if o.from == OrderFrom::Chosen => o.order.to_string(),
                _ => String::new(),
            },
            order_words: match c.date_order {
                Some(o) if o.from == OrderFrom::File => format!(
                    "{} first, as its values show",
                    if o.order == domain::DateOrder::Dmy {
                        "day"
                    } else {
                        "month"
                    }
                ),
                _ => "as the location reads dates".to_string(),
            },
            fill_only: false,
            column: c.clone(),
        })
        .collect()
}

async fn render_map(
    state: &AppState,
    session: &SessionInfo,
    draft: i64,
    view: MappingView,
    error: Option<String>,
) -> Result<Response, AppError> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = MapPage {
        nav: nav(state, session, "import").await?,
        steps: STEPS,
        step: 1,
        draft,
        rows: {
            let fill_only = wizard::settings(&state.store, session.location_id, draft)
                .await?
                .fill_only;
            let mut rows = map_rows(&view);
            for r in &mut rows {
                r.fill_only = !r.column.header.is_empty() && fill_only.contains(&r.column.header);
            }
            rows
        },
        fields: view.fields.clone(),
        view,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// A refused file (or a workbook that needs its sheet chosen), as a page.
async fn render_refused(
    state: &AppState,
    session: &SessionInfo,
    draft: i64,
    e: WizardError,
) -> Result<Response, AppError> {
    match e {
        WizardError::Submitted(job) => {
            return Ok(Redirect::to(&format!("/bulk-actions/{job}")).into_response());
        }
        WizardError::Refused(_) => {}
        other => return Err(other.into()),
    }
    let page = RefusedPage {
        nav: nav(state, session, "import").await?,
        steps: STEPS,
        step: 1,
        draft,
        sheets: e
            .sheet_choices()
            .map(<[String]>::to_vec)
            .unwrap_or_default(),
        code: e.code(),
        message: e.to_string(),
        file_name: state
            .store
            .import_draft(session.location_id, draft)
            .await
            .map(|d| d.file.download_name)
            .unwrap_or_default(),
    };
    let status = if page.sheets.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn map_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    match wizard::mapping(&state.store, &state.files, session.location_id, draft).await {
        Ok(view) if view.job_id.is_some() => Ok(Redirect::to(&format!(
            "/bulk-actions/{}",
            view.job_id.unwrap_or_default()
        ))
        .into_response()),
        Ok(view) => render_map(&state, &session, draft, view, None).await,
        Err(e) => render_refused(&state, &session, draft, e).await,
    }
}

#[derive(Deserialize)]
struct SheetForm {
    sheet: String,
}

#[derive(Deserialize)]
struct ObjectForm {
    #[serde(default)]
    object: String,
}

#[derive(Deserialize)]
struct PresetForm {
    /// Empty: detect from the header row; `none`; or a preset's key (SPEC §11).
    #[serde(default)]
    preset: String,
}

#[derive(Deserialize)]
struct TemplateForm {
    /// A saved template's name; empty for none.
    #[serde(default)]
    template: String,
}

/// The mapping step's object choice (SPEC §8): another object starts the mapping again
/// against its fields.
async fn choose_object(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<ObjectForm>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    let loc = session.location_id;
    let chosen = match wizard::parse_object(&state.store, loc, &form.object).await {
        Ok(object) => wizard::set_object(&state.store, loc, draft, object).await,
        Err(e) => Err(e),
    };
    back_to_map(&state, &session, draft, chosen).await
}

/// The mapping step's preset choice: the mapping starts again with it.
async fn choose_preset(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<PresetForm>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    let choice = Some(form.preset).filter(|p| !p.trim().is_empty());
    let chosen = wizard::set_preset(&state.store, session.location_id, draft, choice).await;
    back_to_map(&state, &session, draft, chosen).await
}

/// The mapping step's template picker (SPEC §11): its choices apply, the mapping starts
/// again with its columns.
async fn choose_template(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<TemplateForm>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    let name = Some(form.template).filter(|t| !t.trim().is_empty());
    let chosen = wizard::set_template(&state.store, session.location_id, draft, name).await;
    back_to_map(&state, &session, draft, chosen).await
}

/// After a choice on the mapping step: the step again, with the choice's error if any.
async fn back_to_map(
    state: &AppState,
    session: &SessionInfo,
    draft: i64,
    chosen: Result<(), WizardError>,
) -> Result<Response, AppError> {
    match chosen {
        Ok(()) => Ok(Redirect::to(&format!("/imports/{draft}/map")).into_response()),
        Err(e @ WizardError::Invalid { .. }) => {
            let view =
                wizard::mapping(&state.store, &state.files, session.location_id, draft).await?;
            render_map(state, session, draft, view, Some(e.to_string())).await
        }
        Err(e) => render_refused(state, session, draft, e).await,
    }
}

async fn choose_sheet(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<SheetForm>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    match wizard::set_sheet(&state.store, session.location_id, draft, Some(form.sheet)).await {
        Ok(()) => Ok(Redirect::to(&format!("/imports/{draft}/map")).into_response()),
        Err(e) => render_refused(&state, &session, draft, e).await,
    }
}

/// The mapping form: `columns` (how many), `col_N` (a field key, or empty), `order_N` (a date
/// column's day/month order: `MDY`, `DMY`, or empty to let its values decide),
/// `skip_unmapped`.
///
/// The form's own count never sizes anything (SPEC §13.2): it must equal the number of
/// columns of the draft's file, which is looked up first; `col_N` past it are ignored.
async fn save_map(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    let form = FormFields::new(form);
    let get = |name: &str| form.get(name);
    let (file_columns, headers, ignored) =
        match wizard::mapping(&state.store, &state.files, session.location_id, draft).await {
            Ok(view) => (
                view.columns.len(),
                view.columns
                    .iter()
                    .map(|c| (c.header.clone(), c.date_order.is_some()))
                    .collect::<Vec<_>>(),
                view.columns
                    .iter()
                    .map(|c| c.blank || c.skipped)
                    .collect::<Vec<_>>(),
            ),
            Err(e) => return render_refused(&state, &session, draft, e).await,
        };
    let given = get("columns").map(str::trim).unwrap_or("");
    if given != file_columns.to_string() {
        return Err(AppError::BadRequest(format!(
            "This mapping form is for a file with another number of columns (the file has {file_columns}). Open the mapping step again and choose a field for each column."
        )));
    }
    // `-` is "Don't import this column": the column is left out by choice. When every column
    // without a field was left out that way, nothing is unmatched and Next is not blocked
    // (issue 18), as if "Don't import data in unmatched columns" were checked.
    let raw: Vec<&str> = (0..file_columns)
        .map(|i| get(&format!("col_{i}")).map(str::trim).unwrap_or(""))
        .collect();
    let columns: Vec<Option<String>> = raw
        .iter()
        .map(|v| Some(v.to_string()).filter(|v| !v.is_empty() && v != "-"))
        .collect();
    let all_chosen = raw
        .iter()
        .zip(&ignored)
        .all(|(v, ignored)| !v.is_empty() || *ignored);
    let skip = get("skip_unmapped").is_some() || all_chosen;
    // The order beside each date column (SPEC §5.3).
    let orders: Vec<(String, Option<domain::DateOrder>)> = headers
        .iter()
        .enumerate()
        .filter(|(_, (h, dated))| *dated && !h.is_empty())
        .map(|(i, (h, _))| {
            let order = get(&format!("order_{i}")).and_then(|o| o.trim().parse().ok());
            (h.clone(), order)
        })
        .collect();
    if let Err(e) = wizard::set_date_orders(&state.store, session.location_id, draft, orders).await
    {
        return render_refused(&state, &session, draft, e).await;
    }
    // "Fill only if empty" beside a column that feeds a field (SPEC §6.5, the CLI's
    // --fill-only).
    let fill_only: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, (h, _))| {
            !h.is_empty() && columns[*i].is_some() && get(&format!("fill_{i}")).is_some()
        })
        .map(|(_, (h, _))| h.clone())
        .collect();
    if let Err(e) = wizard::set_fill_only(&state.store, session.location_id, draft, fill_only).await
    {
        return render_refused(&state, &session, draft, e).await;
    }
    // The dedupe field, when several unique fields were mapped (SPEC §8): kept only while
    // a column still feeds it, else the first mapped unique field applies.
    let dedupe = get("dedupe")
        .map(str::trim)
        .filter(|k| columns.iter().flatten().any(|c| c == k))
        .map(str::to_string);
    let saved = match wizard::set_dedupe(&state.store, session.location_id, draft, dedupe).await {
        Ok(()) => {
            wizard::set_mapping(
                &state.store,
                &state.files,
                session.location_id,
                draft,
                columns.clone(),
                skip,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => {
            // Option fields with file values that match no option get a step of their own.
            let fields =
                wizard::option_values(&state.store, &state.files, session.location_id, draft)
                    .await?;
            let next = if fields.iter().any(|f| !f.values.is_empty()) {
                "values"
            } else {
                "details"
            };
            Ok(Redirect::to(&format!("/imports/{draft}/{next}")).into_response())
        }
        Err(e @ (WizardError::Unmatched(_) | WizardError::Invalid { .. })) => {
            let mut view =
                wizard::mapping(&state.store, &state.files, session.location_id, draft).await?;
            // Show what the admin chose, even where it could not be saved.
            if columns.len() == view.columns.len() {
                for (c, chosen) in view.columns.iter_mut().zip(columns) {
                    c.chosen = chosen;
                }
            }
            view.skip_unmapped = skip;
            render_map(&state, &session, draft, view, Some(e.to_string())).await
        }
        Err(e) => render_refused(&state, &session, draft, e).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Option values (SPEC §6.1): file values of option fields that match no option.

#[derive(Template)]
#[template(path = "import_values.html")]
struct ValuesPage {
    nav: Nav,
    steps: [&'static str; 4],
    step: usize,
    draft: i64,
    /// Each field with its listed values, numbered across the form.
    fields: Vec<(OptionField, Vec<(usize, UnmatchedValue)>)>,
    error: Option<String>,
}

async fn render_values(
    state: &AppState,
    session: &SessionInfo,
    draft: i64,
    error: Option<String>,
) -> Result<Response, AppError> {
    let mut n = 0;
    let fields = wizard::option_values(&state.store, &state.files, session.location_id, draft)
        .await?
        .into_iter()
        .filter(|f| !f.values.is_empty())
        .map(|f| {
            let values = f
                .values
                .iter()
                .map(|v| {
                    n += 1;
                    (n - 1, v.clone())
                })
                .collect();
            (f, values)
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ValuesPage {
        nav: nav(state, session, "import").await?,
        steps: STEPS,
        step: 1,
        draft,
        fields,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// A draft submitted already has nothing left to choose: its pages lead to its Bulk Action.
async fn submitted_redirect(
    state: &AppState,
    session: &SessionInfo,
    draft: i64,
) -> Result<Option<Response>, AppError> {
    let job = state
        .store
        .import_draft(session.location_id, draft)
        .await?
        .job_id;
    Ok(job.map(|job| Redirect::to(&format!("/bulk-actions/{job}")).into_response()))
}

async fn values_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    if let Some(to_job) = submitted_redirect(&state, &session, draft).await? {
        return Ok(to_job);
    }
    match render_values(&state, &session, draft, None).await {
        Err(AppError::BadRequest(_)) => {
            Ok(Redirect::to(&format!("/imports/{draft}/map")).into_response())
        }
        other => other,
    }
}

/// The values form: per listed value `f_N` (field key), `v_N` (the file value) and `o_N`
/// (an option, or empty to leave the value as it is).
async fn save_values(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    let form = FormFields::new(form);
    let get = |name: &str| form.get(name).map(str::to_string);
    let mut choices = Vec::new();
    for i in 0.. {
        let (Some(field_key), Some(value)) = (get(&format!("f_{i}")), get(&format!("v_{i}")))
        else {
            break;
        };
        let option = get(&format!("o_{i}")).filter(|o| !o.trim().is_empty());
        choices.push(ValueChoice {
            field_key,
            value,
            option,
        });
    }
    match wizard::set_option_values(
        &state.store,
        &state.files,
        session.location_id,
        draft,
        choices,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/imports/{draft}/details")).into_response()),
        Err(WizardError::Submitted(job)) => {
            Ok(Redirect::to(&format!("/bulk-actions/{job}")).into_response())
        }
        Err(e @ WizardError::Invalid { .. }) => {
            render_values(&state, &session, draft, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Details.

#[derive(Template)]
#[template(path = "import_details.html")]
struct DetailsPage {
    nav: Nav,
    steps: [&'static str; 4],
    step: usize,
    draft: i64,
    details: Details,
    tags: String,
    default_name: String,
    workflows: Vec<(String, String)>,
    /// Existing contacts a validation found the import would update.
    resets: Option<i64>,
    /// What the file's preset does besides mapping (SPEC §11).
    preset_note: Option<String>,
    error: Option<String>,
    /// The object imported into (`Contacts`, `Companies`…), whether it is contacts, and how
    /// one and several of its records are called on the page.
    object: String,
    contacts: bool,
    noun: &'static str,
    nouns: String,
}

async fn render_details(
    state: &AppState,
    session: &SessionInfo,
    draft: i64,
    details: Option<Details>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let view = wizard::details(&state.store, session.location_id, draft).await?;
    let settings = wizard::settings(&state.store, session.location_id, draft).await?;
    let details = details.unwrap_or(view.details);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = DetailsPage {
        nav: nav(state, session, "import").await?,
        steps: STEPS,
        step: 2,
        draft,
        tags: details.tags.join(", "),
        details,
        default_name: view.default_name,
        workflows: view.workflows,
        resets: settings.validated.map(|v| v.verification_resets()),
        preset_note: view.preset_note,
        error,
        noun: if view.contacts { "contact" } else { "record" },
        nouns: if view.contacts {
            "contacts".into()
        } else {
            view.object.clone()
        },
        contacts: view.contacts,
        object: view.object,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn details_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    if let Some(to_job) = submitted_redirect(&state, &session, draft).await? {
        return Ok(to_job);
    }
    render_details(&state, &session, draft, None, None).await
}

#[derive(Deserialize)]
struct DetailsForm {
    #[serde(default)]
    name: String,
    smart_list: Option<String>,
    #[serde(default)]
    mode: String,
    skip_existing_phone: Option<String>,
    no_update_empty: Option<String>,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    workflow: String,
    suppress_tag_triggers: Option<String>,
    /// "Save these choices as a template": its name, or empty.
    #[serde(default)]
    template_name: String,
}

/// Saves the details (and, when named, the choices as a template) and runs the validation (the
/// dry run), then shows its result.
async fn save_details(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<DetailsForm>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    let details = Details {
        name: Some(form.name),
        smart_list: form.smart_list.is_some(),
        mode: if form.mode.is_empty() {
            "create".into()
        } else {
            form.mode
        },
        skip_existing_phone: form.skip_existing_phone.is_some(),
        no_update_empty: form.no_update_empty.is_some(),
        tags: form.tags.split(',').map(|t| t.trim().to_string()).collect(),
        workflow: Some(form.workflow),
        suppress_tag_triggers: form.suppress_tag_triggers.is_some(),
    };
    let loc = session.location_id;
    let result = async {
        wizard::set_details(&state.store, loc, draft, details.clone()).await?;
        let template = form.template_name.trim();
        if !template.is_empty() {
            wizard::save_as_template(&state.store, &state.files, loc, draft, template).await?;
        }
        wizard::validate(&state.store, &state.files, loc, draft).await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/imports/{draft}/review")).into_response()),
        Err(WizardError::Submitted(job)) => {
            Ok(Redirect::to(&format!("/bulk-actions/{job}")).into_response())
        }
        Err(e @ WizardError::Refused(_)) => render_refused(&state, &session, draft, e).await,
        Err(e) if !e.is_server_error() && !matches!(e, WizardError::NotFound(_)) => {
            let mut details = details;
            details.tags.retain(|t| !t.is_empty());
            render_details(&state, &session, draft, Some(details), Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Validate and submit.

#[derive(Template)]
#[template(path = "import_review.html")]
struct ReviewPage {
    nav: Nav,
    steps: [&'static str; 4],
    step: usize,
    draft: i64,
    file_name: String,
    name: String,
    mode: String,
    validation: Option<Validation>,
    problems: Vec<Problem>,
    /// The workflows it would start: name, contacts, why.
    triggered: Vec<(String, u64, String)>,
    error: Option<String>,
    /// The object imported into, and how one of its records is called.
    object: String,
    noun: &'static str,
}

/// The labels of the location's contact fields by key: how a message names its field to
/// the admin.
pub(crate) async fn field_labels(
    state: &AppState,
    location: store::LocationId,
) -> Result<std::collections::HashMap<String, String>, AppError> {
    field_labels_of(state, location, &ObjectKind::Contact).await
}

/// [`field_labels`] of any object (SPEC §8).
pub(crate) async fn field_labels_of(
    state: &AppState,
    location: store::LocationId,
    object: &ObjectKind,
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let schema = state.store.object_schema(location, object).await?;
    Ok(schema
        .fields
        .into_iter()
        .map(|f| (f.key, f.label))
        .collect())
}

fn mode_words(mode: &str, nouns: &str) -> String {
    match mode {
        "upsert" => format!("Add new and update existing {nouns}"),
        "update" => format!("Update existing {nouns} only"),
        _ => format!("Add new {nouns} only"),
    }
}

async fn render_review(
    state: &AppState,
    session: &SessionInfo,
    draft: i64,
    error: Option<String>,
) -> Result<Response, AppError> {
    let loc = session.location_id;
    let d = state.store.import_draft(loc, draft).await?;
    if let Some(job) = d.job_id {
        return Ok(Redirect::to(&format!("/bulk-actions/{job}")).into_response());
    }
    let settings = wizard::settings(&state.store, loc, draft).await?;
    let validation = wizard::last_validation(&state.store, loc, draft).await?;
    let details = wizard::details(&state.store, loc, draft).await?;
    let default_name = details.default_name;
    let nouns = if details.contacts {
        "contacts".to_string()
    } else {
        details.object.clone()
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ReviewPage {
        nav: nav(state, session, "import").await?,
        steps: STEPS,
        step: 3,
        draft,
        file_name: d.file.download_name,
        name: settings.details.name.clone().unwrap_or(default_name),
        mode: mode_words(&settings.details.mode, &nouns),
        noun: if details.contacts {
            "contact"
        } else {
            "record"
        },
        object: details.object,
        problems: {
            let labels = field_labels_of(state, loc, &settings.object).await?;
            let mut problems = validation
                .as_ref()
                .map(|v| v.first_problems.clone())
                .unwrap_or_default();
            for m in problems.iter_mut().flat_map(|p| p.messages.iter_mut()) {
                if let Some(label) = m.field.as_ref().and_then(|f| labels.get(f)) {
                    m.field = Some(label.clone());
                }
            }
            problems
        },
        triggered: validation
            .iter()
            .flat_map(|v| &v.triggered)
            .map(|t| {
                // A workflow the admin chose for the whole import enrolls every contact,
                // whatever else would start it (issue 18).
                let reason = if settings.details.workflow.as_deref() == Some(t.name.as_str()) {
                    domain::job::TriggerReason::Chosen.words()
                } else {
                    t.reason.words()
                };
                (t.name.clone(), t.contacts, reason)
            })
            .collect(),
        validation,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn review_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    render_review(&state, &session, draft, None).await
}

async fn run_validation(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    match wizard::validate(&state.store, &state.files, session.location_id, draft).await {
        Ok(_) => Ok(Redirect::to(&format!("/imports/{draft}/review")).into_response()),
        Err(WizardError::Submitted(job)) => {
            Ok(Redirect::to(&format!("/bulk-actions/{job}")).into_response())
        }
        Err(e @ WizardError::Refused(_)) => render_refused(&state, &session, draft, e).await,
        Err(e) if !e.is_server_error() && !matches!(e, WizardError::NotFound(_)) => {
            render_review(&state, &session, draft, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct SubmitForm {
    acknowledge: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(draft): Path<String>,
    axum::Form(form): axum::Form<SubmitForm>,
) -> Result<Response, AppError> {
    let draft = draft_id(&draft)?;
    let options = SubmitOptions {
        acknowledge_workflows: form.acknowledge.is_some(),
        idempotency_key: None,
    };
    let submitted = wizard::submit(
        &state.store,
        &state.files,
        session.location_id,
        Some(session.user.id),
        draft,
        &options,
    )
    .await;
    match submitted {
        Ok(s) => Ok(Redirect::to(&format!("/bulk-actions?submitted={}", s.job_id)).into_response()),
        Err(e @ WizardError::Refused(_)) => render_refused(&state, &session, draft, e).await,
        Err(e) if !e.is_server_error() && !matches!(e, WizardError::NotFound(_)) => {
            render_review(&state, &session, draft, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}
