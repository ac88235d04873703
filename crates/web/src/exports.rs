//! The export pages (SPEC §10): `GET /exports/new` chooses the contacts (all, a Smart List,
//! filters, or ids — the /contacts page's checkboxes lead here with `?ids=`), the columns
//! (every standard and custom field, the default set pre-checked, in the order listed) and
//! starts the export through the one engine ([`jobs::create_export`], queued for `serve`'s
//! worker); the same page lists, adds and deletes scheduled exports of a Smart List; and
//! `POST /notifications/{id}/read` dismisses the header's "your export is ready" notice.
//! `?object=opportunity|company|KEY` is the page of another object (SPEC §7, §8): all its
//! records (an opportunity export may take one pipeline's) and its columns
//! (`jobs::export::column_choices`), posted to the same `/exports` with `object`.
//!
//! Admins only ([`AdminUser`], 403 for users on every route); every store call takes the
//! session's location, so another location's Smart List or schedule is not found. A request
//! the engine refuses (unknown Smart List, bad filter, no column) is shown on the page with
//! what to fix; nothing is queued.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::field::STANDARD_CONTACT_FIELDS;
use jobs::{ExportError, ExportRequest, Selection};
use serde::Deserialize;
use store::{LocationId, SessionInfo};

use crate::auth::AdminUser;
use crate::pages::{Nav, ObjectTab, nav, object_named, object_tabs, object_value};
use crate::{AppError, AppState};
use domain::ObjectKind;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/exports/new", get(new_export))
        .route("/exports", post(start_export))
        .route("/exports/schedules", post(create_schedule))
        .route("/exports/schedules/{id}/delete", post(delete_schedule))
        .route("/notifications/{id}/read", post(dismiss))
}

/// One column of the checkbox list.
struct ColumnChoice {
    key: String,
    label: String,
    custom: bool,
    checked: bool,
}

/// A scheduled export as listed.
struct ScheduleRow {
    id: i64,
    smart_list: String,
    frequency: String,
    next_run: String,
    last_job: Option<i64>,
}

/// What the form held, so a refused request is shown again as it was typed.
#[derive(Default)]
struct Entered {
    selection: String,
    smart_list: Option<i64>,
    tag: String,
    contact_type: String,
    status: String,
    dnd: String,
    created_after: String,
    created_before: String,
    source: String,
    /// `email` or `phone`: the contact has one.
    has: String,
    /// `valid`, `unverified`, `invalid`, or `not_invalid`.
    verification: String,
    /// Per channel (`dnd_sms`, …): `true`, `false` or empty.
    dnd_channels: Vec<(&'static str, &'static str, String)>,
    /// An import's Bulk Action id: the contacts it created or updated.
    import: String,
    /// A custom field and the value it must hold.
    field_key: String,
    field_value: String,
    /// Filters in the §13.1 syntax, one a line (the API's and scripts' form; the page has a
    /// control for each filter).
    expressions: String,
    ids: String,
}

const DND_CHANNELS: [(&str, &str); 4] = [
    ("dnd_sms", "SMS"),
    ("dnd_email", "Email"),
    ("dnd_calls", "Calls"),
    ("dnd_voicemail", "Voicemail"),
];

impl Entered {
    fn new() -> Entered {
        Entered {
            dnd_channels: DND_CHANNELS
                .iter()
                .map(|(k, l)| (*k, *l, String::new()))
                .collect(),
            ..Entered::default()
        }
    }
}

#[derive(Template)]
#[template(path = "export_new.html")]
struct ExportPage {
    nav: Nav,
    /// `(id, name, chosen)`.
    smart_lists: Vec<(i64, String, bool)>,
    columns: Vec<ColumnChoice>,
    schedules: Vec<ScheduleRow>,
    entered: Entered,
    error: Option<String>,
    schedule_error: Option<String>,
    notice: Option<String>,
    /// The location's custom contact fields: `(key, label)`.
    custom_fields: Vec<(String, String)>,
    /// The location's imports: `(job id, name)`, newest first.
    imports: Vec<(i64, String)>,
    /// The contacts picked on the Contacts page: `(id, name)`.
    picked: Vec<(i64, String)>,
    /// What may be exported: contacts and every other object; the one shown (`contact`).
    objects: Vec<ObjectTab>,
    shown: String,
}

/// The export page of an object other than contacts (SPEC §7, §8, §10): every record of it
/// (an opportunity export may take one pipeline's), the columns of its default set.
#[derive(Template)]
#[template(path = "export_object.html")]
struct ObjectExportPage {
    nav: Nav,
    objects: Vec<ObjectTab>,
    /// The object's `?object=` value and its name (`Companies`).
    shown: String,
    name: String,
    /// `(id, name, chosen)`; opportunities only.
    pipelines: Vec<(i64, String, bool)>,
    /// `(key, label, checked)`.
    columns: Vec<(String, String, bool)>,
    error: Option<String>,
}

fn local_time(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// The page, with the columns checked as `chosen` says (`None`: the default set).
async fn render(
    state: &AppState,
    session: &SessionInfo,
    chosen: Option<&[String]>,
    entered: Entered,
    error: Option<String>,
    schedule_error: Option<String>,
    notice: Option<String>,
) -> Result<String, AppError> {
    let loc = session.location_id;
    let location = state.store.location(loc).await?;
    let tz =
        jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let custom = state
        .store
        .custom_fields(loc, &domain::ObjectKind::Contact)
        .await?;
    let is_checked = |key: &str| match chosen {
        None => key != "contact_id",
        Some(keys) => keys.iter().any(|k| k == key),
    };
    let columns = STANDARD_CONTACT_FIELDS
        .iter()
        .map(|f| ColumnChoice {
            key: f.key.to_string(),
            label: f.label.to_string(),
            custom: false,
            checked: is_checked(f.key),
        })
        .chain(custom.iter().map(|f| ColumnChoice {
            key: f.key.clone(),
            label: f.label.clone(),
            custom: true,
            checked: is_checked(&f.key),
        }))
        .collect();
    let smart_lists: Vec<(i64, String)> = state
        .store
        .smart_lists(loc)
        .await?
        .into_iter()
        .map(|(l, _)| (l.id, l.name))
        .collect();
    let schedules = state
        .store
        .export_schedules(loc)
        .await?
        .into_iter()
        .map(|s| ScheduleRow {
            id: s.id,
            smart_list: smart_lists
                .iter()
                .find(|(id, _)| *id == s.smart_list_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| format!("Smart List {}", s.smart_list_id)),
            frequency: s.frequency,
            next_run: local_time(s.next_run_at, &tz),
            last_job: s.last_job_id,
        })
        .collect();
    let imports = state
        .store
        .jobs(loc)
        .await?
        .into_iter()
        .filter(|j| j.operation == "import")
        .map(|j| (j.id, j.name))
        .collect();
    let picked_ids: Vec<i64> = parse_ids(&entered.ids).unwrap_or_default();
    let picked = state
        .store
        .contacts_by_ids(loc, &picked_ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c.display_name()))
        .collect();
    let page = ExportPage {
        custom_fields: custom
            .iter()
            .map(|f| (f.key.clone(), f.label.clone()))
            .collect(),
        imports,
        picked,
        nav: nav(state, session, "export").await?,
        smart_lists: smart_lists
            .into_iter()
            .map(|(id, name)| (id, name, entered.smart_list == Some(id)))
            .collect(),
        columns,
        schedules,
        entered,
        error,
        schedule_error,
        notice,
        objects: object_tabs(state, loc).await?,
        shown: "contact".into(),
    };
    Ok(page.render()?)
}

/// The export page of `object` (not contacts), as `chosen` (columns) and `pipeline` say.
async fn render_object(
    state: &AppState,
    session: &SessionInfo,
    object: &ObjectKind,
    chosen: Option<&[String]>,
    pipeline: Option<i64>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let loc = session.location_id;
    let objects = object_tabs(state, loc).await?;
    let value = object_value(object);
    let name = objects
        .iter()
        .find(|t| t.value == value)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let columns = jobs::export::column_choices(&state.store, loc, object)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .into_iter()
        .map(|c| {
            let checked = chosen.is_none_or(|keys| keys.contains(&c.key));
            (c.key, c.label, checked)
        })
        .collect();
    let pipelines = if *object == ObjectKind::Opportunity {
        state
            .store
            .pipelines(loc)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name, pipeline == Some(p.id)))
            .collect()
    } else {
        Vec::new()
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ObjectExportPage {
        nav: nav(state, session, "export").await?,
        objects,
        shown: value,
        name,
        pipelines,
        columns,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `POST /exports` for an object other than contacts: `object`, `pipeline` (opportunities;
/// empty for every pipeline), `column` once per checked column in order.
async fn start_object_export(
    state: &AppState,
    session: &SessionInfo,
    object: ObjectKind,
    form: &[(String, String)],
) -> Result<Response, AppError> {
    let columns: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "column")
        .map(|(_, v)| v.clone())
        .collect();
    let pipeline: Option<i64> = form
        .iter()
        .find(|(k, _)| k == "pipeline")
        .and_then(|(_, v)| v.trim().parse().ok());
    let refuse = |message: String| {
        render_object(
            state,
            session,
            &object,
            Some(&columns),
            pipeline,
            Some(message),
        )
    };
    if columns.is_empty() {
        return refuse("Check at least one column to export.".into()).await;
    }
    let selection = match pipeline {
        Some(id) => Selection::Pipeline { id },
        None => Selection::All,
    };
    let location = state.store.location(session.location_id).await?;
    let request = ExportRequest {
        object: object.clone(),
        selection,
        columns: Some(columns.clone()),
    };
    match jobs::create_export(
        &state.store,
        &location,
        &request,
        Some(session.user.id),
        None,
    )
    .await
    {
        Ok(job) => Ok(Redirect::to(&format!("/bulk-actions?exported={job}")).into_response()),
        Err(ExportError::Invalid(message)) => refuse(sentence(&message)).await,
        Err(e) => Err(AppError::Internal(e.to_string())),
    }
}

async fn new_export(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let asked = q
        .iter()
        .find(|(k, _)| k == "object")
        .map(|(_, v)| v.as_str());
    match object_named(&state, session.location_id, asked).await? {
        None => {
            return Err(AppError::NotFound(
                "This location has no such object. Define it under Settings → Objects.".into(),
            ));
        }
        Some(ObjectKind::Contact) => {}
        Some(object) => return render_object(&state, &session, &object, None, None, None).await,
    }
    // `id` once per contact checked on /contacts, or `ids` typed in a link.
    let picked: Vec<&str> = q
        .iter()
        .filter(|(k, v)| (k == "id" || k == "ids") && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
        .collect();
    let entered = if picked.is_empty() {
        Entered {
            selection: "all".into(),
            ..Entered::new()
        }
    } else {
        Entered {
            selection: "ids".into(),
            ids: picked.join(", "),
            ..Entered::new()
        }
    };
    let scheduled = q.iter().find(|(k, _)| k == "scheduled").map(|(_, v)| v);
    let notice = match scheduled.map(String::as_str) {
        Some("added") => Some("The scheduled export was added.".to_string()),
        Some("deleted") => Some("The scheduled export was deleted.".to_string()),
        _ => None,
    };
    Ok(Html(render(&state, &session, None, entered, None, None, notice).await?).into_response())
}

/// Reads the export form: the selection and the columns in the order listed.
fn read_form(form: &[(String, String)]) -> (Entered, Vec<String>) {
    let mut e = Entered::new();
    let mut columns = Vec::new();
    let mut smart_list = String::new();
    let mut ids: Vec<&str> = Vec::new();
    for (k, v) in form {
        if let Some(c) = e.dnd_channels.iter_mut().find(|c| c.0 == k.as_str()) {
            c.2 = v.clone();
            continue;
        }
        match k.as_str() {
            "source" => e.source = v.clone(),
            "has" => e.has = v.clone(),
            "verification" => e.verification = v.clone(),
            "import" => e.import = v.clone(),
            "field_key" => e.field_key = v.clone(),
            "field_value" => e.field_value = v.clone(),
            // A contact picked from the list (one field per contact).
            "id" => ids.push(v.as_str()),
            "selection" => e.selection = v.clone(),
            "smart_list" => smart_list = v.clone(),
            "tag" => e.tag = v.clone(),
            "type" => e.contact_type = v.clone(),
            "status" => e.status = v.clone(),
            "dnd" => e.dnd = v.clone(),
            "created_after" => e.created_after = v.clone(),
            "created_before" => e.created_before = v.clone(),
            "expressions" => e.expressions = v.clone(),
            "ids" => e.ids = v.clone(),
            "column" => columns.push(v.clone()),
            _ => {}
        }
    }
    e.smart_list = smart_list.trim().parse().ok();
    if !ids.is_empty() {
        let mut all: Vec<&str> = vec![e.ids.as_str()];
        all.extend(ids);
        e.ids = all
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
    }
    (e, columns)
}

/// The §13.1 filter expressions the fields and the text box say (one expression a line).
fn filter_expressions(e: &Entered) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |key: &str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            out.push(format!("{key}={value}"));
        }
    };
    push("tag", &e.tag);
    push("type", &e.contact_type);
    push("status", &e.status);
    push("dnd", &e.dnd);
    push("created_after", &e.created_after);
    push("created_before", &e.created_before);
    push("source", &e.source);
    push("has", &e.has);
    for (key, _, value) in &e.dnd_channels {
        push(key, value);
    }
    push("import", &e.import);
    match e.verification.trim() {
        "" => {}
        "not_invalid" => out.push("verification!=invalid".into()),
        v => out.push(format!("verification={v}")),
    }
    if !e.field_key.trim().is_empty() {
        out.push(format!(
            "field.{}={}",
            e.field_key.trim(),
            e.field_value.trim()
        ));
    }
    out.extend(
        e.expressions
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from),
    );
    out
}

/// Contact ids typed or carried from /contacts: numbers separated by commas, spaces or lines.
fn parse_ids(text: &str) -> Result<Vec<i64>, String> {
    let mut ids = Vec::new();
    for part in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        match part.parse::<i64>() {
            Ok(id) if id > 0 => {
                if !ids.contains(&id) {
                    ids.push(id)
                }
            }
            _ => {
                return Err(format!(
                    "'{part}' is not a contact ID. Enter contact IDs as numbers separated by commas, or pick contacts on the Contacts page."
                ));
            }
        }
    }
    if ids.is_empty() {
        return Err("Check at least one contact, or pick contacts on the Contacts page.".into());
    }
    Ok(ids)
}

/// The selection the form asks for, or what to fix.
fn selection(e: &Entered) -> Result<Selection, String> {
    match e.selection.as_str() {
        "all" => Ok(Selection::All),
        "smart_list" => match e.smart_list {
            Some(id) => Ok(Selection::SmartList { id }),
            None => Err("Choose the Smart List to export.".into()),
        },
        "filters" => {
            let filters = filter_expressions(e);
            if filters.is_empty() {
                Err("Set at least one filter, or choose \"All contacts\".".into())
            } else {
                Ok(Selection::Filters { filters })
            }
        }
        "ids" => parse_ids(&e.ids).map(|ids| Selection::Ids { ids }),
        _ => Err("Choose which contacts to export.".into()),
    }
}

/// A sentence for a person from the engine's refusal.
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(c.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

async fn start_export(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let asked = form
        .iter()
        .find(|(k, _)| k == "object")
        .map(|(_, v)| v.as_str());
    match object_named(&state, session.location_id, asked).await? {
        None => {
            return Err(AppError::NotFound(
                "This location has no such object. Define it under Settings → Objects.".into(),
            ));
        }
        Some(ObjectKind::Contact) => {}
        Some(object) => return start_object_export(&state, &session, object, &form).await,
    }
    let (entered, columns) = read_form(&form);
    let refuse = |entered: Entered, columns: Vec<String>, message: String| {
        let state = state.clone();
        let session = session.clone();
        async move {
            let html = render(
                &state,
                &session,
                Some(&columns),
                entered,
                Some(message),
                None,
                None,
            )
            .await?;
            Ok::<Response, AppError>((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    };
    let selection = match selection(&entered) {
        Ok(s) => s,
        Err(message) => return refuse(entered, columns, message).await,
    };
    let location = state.store.location(session.location_id).await?;
    let request = ExportRequest {
        object: domain::ObjectKind::Contact,
        selection,
        columns: Some(columns.clone()),
    };
    match jobs::create_export(
        &state.store,
        &location,
        &request,
        Some(session.user.id),
        None,
    )
    .await
    {
        Ok(job) => Ok(Redirect::to(&format!("/bulk-actions?exported={job}")).into_response()),
        Err(ExportError::Invalid(message)) => refuse(entered, columns, sentence(&message)).await,
        Err(ExportError::Store(e)) if e.is_not_found() => {
            refuse(
                entered,
                columns,
                "That Smart List is not one of this location's; choose another one.".into(),
            )
            .await
        }
        Err(e) => Err(AppError::Internal(e.to_string())),
    }
}

#[derive(Deserialize)]
struct ScheduleForm {
    smart_list: Option<String>,
    frequency: String,
    /// `YYYY-MM-DDTHH:MM` in the location's time zone; now when blank.
    start: Option<String>,
}

async fn create_schedule(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    axum::Form(form): axum::Form<ScheduleForm>,
) -> Result<Response, AppError> {
    let loc = session.location_id;
    let location = state.store.location(loc).await?;
    let tz =
        jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let refuse = |message: &str| {
        let state = state.clone();
        let session = session.clone();
        let message = message.to_string();
        async move {
            let html = render(
                &state,
                &session,
                None,
                Entered {
                    selection: "all".into(),
                    ..Entered::new()
                },
                None,
                Some(message),
                None,
            )
            .await?;
            Ok::<Response, AppError>((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    };
    let Some(list) = form
        .smart_list
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
    else {
        return refuse("Choose the Smart List to export on a schedule.").await;
    };
    let frequency = match form.frequency.as_str() {
        "daily" => "daily",
        "weekly" => "weekly",
        _ => return refuse("Choose how often: daily or weekly.").await,
    };
    let first = match form
        .start
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => store::now_ms(),
        Some(s) => match jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", s)
            .ok()
            .and_then(|dt| dt.to_zoned_datetime(tz.clone()).ok())
        {
            Some(z) => z.timestamp().as_millisecond(),
            None => {
                return refuse("The first run is not a date and time; pick one, or leave it empty to start now.").await;
            }
        },
    };
    match state
        .store
        .create_export_schedule(
            loc,
            &store::NewExportSchedule {
                smart_list_id: list,
                frequency,
                columns: Vec::new(),
                next_run_at: first,
                created_by: Some(session.user.id),
            },
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/exports/new?scheduled=added").into_response()),
        Err(e) if e.is_not_found() => {
            refuse("That Smart List is not one of this location's; choose another one.").await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete_schedule(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("This scheduled export was not found.".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    match state
        .store
        .delete_export_schedule(session.location_id, id)
        .await
    {
        Ok(()) => Ok(Redirect::to("/exports/new?scheduled=deleted").into_response()),
        Err(e) if e.is_not_found() => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// Marks a notification read and goes back to the page it was dismissed on.
async fn dismiss(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("This notification was not found.".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    match state
        .store
        .mark_notification_read(session.location_id, session.user.id, id)
        .await
    {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return Err(not_found()),
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&back(&headers)).into_response())
}

/// The path of the page a form was posted from (only a path of this site), else Bulk Actions.
fn back(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.parse::<Uri>().ok())
        .and_then(|u| u.path_and_query().map(|p| p.as_str().to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\"))
        .unwrap_or_else(|| "/bulk-actions".to_string())
}

/// An unread "export ready" notice for the header.
pub(crate) struct Notice {
    pub(crate) id: i64,
    pub(crate) text: String,
    pub(crate) job: Option<i64>,
}

/// The unread notices of an admin of `location` (newest first, a few).
pub(crate) async fn notices(
    state: &AppState,
    location: LocationId,
    user: store::UserId,
) -> Result<Vec<Notice>, AppError> {
    Ok(state
        .store
        .notifications(location, user, true, 3)
        .await?
        .into_iter()
        .map(|n| Notice {
            id: n.id,
            text: n.text,
            job: n.job_id,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_numbers_separated_by_commas_or_spaces() {
        assert_eq!(parse_ids("3, 5\n7 3"), Ok(vec![3, 5, 7]));
        assert!(
            parse_ids("3, x")
                .unwrap_err()
                .contains("'x' is not a contact ID")
        );
        assert!(parse_ids(" ,").is_err());
        assert!(parse_ids("-2").is_err());
    }

    #[test]
    fn the_filter_fields_become_expressions_before_the_typed_ones() {
        let e = Entered {
            tag: " VIP ".into(),
            contact_type: "Patient".into(),
            dnd: "false".into(),
            created_after: "2024-01-01".into(),
            expressions: "source=Facebook\n\n field.colour=red \n".into(),
            ..Entered::default()
        };
        assert_eq!(
            filter_expressions(&e),
            [
                "tag=VIP",
                "type=Patient",
                "dnd=false",
                "created_after=2024-01-01",
                "source=Facebook",
                "field.colour=red"
            ]
        );
    }

    #[test]
    fn each_filter_control_becomes_its_expression() {
        let mut e = Entered::new();
        e.source = "Facebook".into();
        e.has = "email".into();
        e.verification = "not_invalid".into();
        e.dnd_channels[0].2 = "false".into();
        e.import = "12".into();
        e.field_key = "skin_type".into();
        e.field_value = " Oily ".into();
        assert_eq!(
            filter_expressions(&e),
            [
                "source=Facebook",
                "has=email",
                "dnd_sms=false",
                "import=12",
                "verification!=invalid",
                "field.skin_type=Oily"
            ]
        );
        let (read, _) = read_form(&[
            ("selection".into(), "ids".into()),
            ("id".into(), "3".into()),
            ("id".into(), "5".into()),
            ("dnd_calls".into(), "true".into()),
        ]);
        assert_eq!(read.ids, "3, 5");
        assert_eq!(read.dnd_channels[2].2, "true");
    }

    #[test]
    fn a_selection_needs_what_it_names() {
        let e = |selection: &str| Entered {
            selection: selection.into(),
            ..Entered::default()
        };
        assert_eq!(selection(&e("all")), Ok(Selection::All));
        assert!(selection(&e("smart_list")).is_err());
        assert!(selection(&e("filters")).is_err());
        assert!(selection(&e("ids")).is_err());
        assert!(selection(&e("")).is_err());
    }

    #[test]
    fn a_dismissed_notice_goes_back_to_a_page_of_this_site_only() {
        let from = |referer: &str| {
            let mut h = HeaderMap::new();
            h.insert(axum::http::header::REFERER, referer.parse().unwrap());
            back(&h)
        };
        assert_eq!(
            from("http://crm.example/contacts?page=2"),
            "/contacts?page=2"
        );
        assert_eq!(from("http://crm.example//evil.example/x"), "/bulk-actions");
        assert_eq!(from("http://crm.example/\\evil.example"), "/bulk-actions");
        assert_eq!(back(&HeaderMap::new()), "/bulk-actions");
    }

    #[test]
    fn the_form_is_read_in_order() {
        let form: Vec<(String, String)> = [
            ("selection", "smart_list"),
            ("smart_list", "4"),
            ("column", "email"),
            ("column", "first_name"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let (e, cols) = read_form(&form);
        assert_eq!(selection(&e), Ok(Selection::SmartList { id: 4 }));
        assert_eq!(cols, ["email", "first_name"]);
    }
}
