//! The Settings pages beyond the location's own settings (SPEC §13.2, issue 18): custom
//! fields and their options, workflows with their status, Smart Lists (filters as form
//! controls, with a live count), users and roles, API keys and webhooks — what only the command line
//! could do before. Admins only, like `/settings`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::{CustomFieldType, ObjectKind, Role};
use store::{NewCustomField, SessionInfo, WorkflowStatus};

use crate::auth::AdminUser;
use crate::pages::{Nav, ObjectTab, nav, object_named, object_tabs, object_value};
use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/fields", get(fields_page).post(create_field))
        .route("/settings/fields/{id}/options", post(add_option))
        .route("/settings/objects", get(objects_page).post(create_object))
        .route("/settings/workflows", get(workflows_page))
        .route("/settings/workflows/{id}/status", post(set_status))
        .route("/settings/workflows/template", post(create_from_template))
        .route(
            "/settings/smart-lists",
            get(smart_lists_page).post(create_list),
        )
        .route("/settings/smart-lists/count", get(live_count))
        .route("/settings/users", get(users_page).post(create_user))
        .route("/settings/users/{id}/role", post(change_role))
        .route("/settings/api-keys", get(keys_page).post(create_key))
        .route("/settings/api-keys/{prefix}/revoke", post(revoke_key))
        .route("/settings/webhooks", get(hooks_page).post(create_hook))
        .route("/settings/webhooks/{id}/delete", post(delete_hook))
}

struct FieldRow {
    id: i64,
    label: String,
    key: String,
    kind: &'static str,
    options: Vec<String>,
    takes_options: bool,
    required: bool,
    unique: bool,
}

/// A custom object on the objects page.
struct ObjectRow {
    key: String,
    name: String,
    primary: String,
    /// Its custom fields' labels, with ` (required)` / ` (unique)` marks.
    fields: Vec<String>,
    records: i64,
}

struct WorkflowRow {
    id: i64,
    name: String,
    trigger: String,
    actions: Vec<String>,
    status: &'static str,
    enrolled: i64,
    completed: i64,
}

struct ListRow {
    name: String,
    filters: Vec<String>,
    count: Option<i64>,
    builtin: bool,
    problem: Option<String>,
}

struct HookRow {
    id: i64,
    created: String,
}

struct KeyRow {
    prefix: String,
    created: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_section.html")]
struct SectionPage {
    nav: Nav,
    section: &'static str,
    title: &'static str,
    notice: Option<String>,
    error: Option<String>,
    fields: Vec<FieldRow>,
    field_types: Vec<(&'static str, &'static str)>,
    /// The objects the fields page can show, and the one it shows (its `?object=` value).
    field_objects: Vec<ObjectTab>,
    field_object: String,
    /// The shown object's name, in the plural (`Contacts`, `Treatments`).
    field_object_name: String,
    /// Whether the shown object's new fields may be unique (companies, custom objects) and
    /// required (custom objects).
    may_unique: bool,
    may_require: bool,
    /// A custom object's primary field, shown above its custom fields.
    primary_field: Option<String>,
    custom_objects: Vec<ObjectRow>,
    workflows: Vec<WorkflowRow>,
    lists: Vec<ListRow>,
    /// The location's custom contact fields `(key, label)`, for a Smart List's filter.
    custom: Vec<(String, String)>,
    /// `(user id, name, email, role)`.
    users: Vec<(i64, String, String, &'static str)>,
    keys: Vec<KeyRow>,
    /// A key just made: shown once.
    new_key: Option<String>,
    /// The location's webhooks in use.
    hooks: Vec<HookRow>,
    /// A webhook just made: its secret path, shown once.
    new_hook: Option<String>,
    /// The location's pipelines `(name)`, for the Nextech template's choice.
    pipelines: Vec<String>,
    sections: &'static [(&'static str, &'static str)],
}

impl SectionPage {
    fn new(nav: Nav, section: &'static str, title: &'static str) -> SectionPage {
        SectionPage {
            nav,
            section,
            title,
            sections: &SECTIONS,
            notice: None,
            error: None,
            fields: Vec::new(),
            field_types: Vec::new(),
            field_objects: Vec::new(),
            field_object: "contact".into(),
            field_object_name: String::new(),
            may_unique: false,
            may_require: false,
            primary_field: None,
            custom_objects: Vec::new(),
            workflows: Vec::new(),
            lists: Vec::new(),
            custom: Vec::new(),
            users: Vec::new(),
            keys: Vec::new(),
            new_key: None,
            hooks: Vec::new(),
            new_hook: None,
            pipelines: Vec::new(),
        }
    }
}

pub(crate) const SECTIONS: [(&str, &str); 9] = [
    ("/settings", "Location"),
    ("/settings/fields", "Custom fields"),
    ("/settings/objects", "Objects"),
    ("/settings/pipelines", "Pipelines"),
    ("/settings/workflows", "Workflows"),
    ("/settings/smart-lists", "Smart Lists"),
    ("/settings/users", "Users"),
    ("/settings/api-keys", "API keys"),
    ("/settings/webhooks", "Webhooks"),
];

fn when(state_tz: &jiff::tz::TimeZone, ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned_datetime(state_tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

async fn tz(state: &AppState, session: &SessionInfo) -> Result<jiff::tz::TimeZone, AppError> {
    let location = state.store.location(session.location_id).await?;
    Ok(jiff::tz::TimeZone::get(&location.settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC))
}

#[derive(serde::Deserialize, Default)]
struct Notice {
    done: Option<String>,
}

fn done_words(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "field" => "The field was added.",
            "object" => "The object was added. Give it fields below, then import its records.",
            "option" => "The option was added.",
            "status" => "The workflow's status was changed.",
            "template" => "The Nextech reconciliation workflow was added. Import a Nextech file with it to move the board.",
            "list" => "The Smart List was saved.",
            "user" => "The user was added. Give them their email and password to sign in.",
            "role" => "The role was changed.",
            "revoked" => "The key was revoked: requests with it are refused from now on.",
            "webhook-deleted" => {
                "The webhook was deleted: posts to its URL are refused from now on."
            }
            _ => return None,
        }
        .to_string(),
    )
}

/// A store refusal as a sentence for the page.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

// ---- Custom fields -------------------------------------------------------------------------

/// The fields page of an object, with its notice.
fn fields_url(object: &ObjectKind, done: &str) -> String {
    match object {
        ObjectKind::Contact => format!("/settings/fields?done={done}"),
        other => format!(
            "/settings/fields?object={}&done={done}",
            object_value(other)
        ),
    }
}

async fn fields_view(
    state: &AppState,
    session: &SessionInfo,
    object: &ObjectKind,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let fields = state
        .store
        .custom_fields(session.location_id, object)
        .await?
        .into_iter()
        .map(|f| FieldRow {
            takes_options: f.field_type.has_options(),
            id: f.id,
            kind: kind_words(f.field_type),
            label: f.label,
            key: f.key,
            options: f.options,
            required: f.required,
            unique: f.unique,
        })
        .collect();
    let field_objects = object_tabs(state, session.location_id).await?;
    let primary_field = match object {
        ObjectKind::Custom(key) => Some(
            state
                .store
                .custom_object(session.location_id, key)
                .await?
                .def
                .primary_label,
        ),
        _ => None,
    };
    let value = object_value(object);
    let field_object_name = field_objects
        .iter()
        .find(|t| t.value == value)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SectionPage {
        notice,
        error,
        fields,
        field_types: CustomFieldType::ALL
            .iter()
            .filter(|t| !matches!(t, CustomFieldType::FileUpload | CustomFieldType::Signature))
            .map(|t| (t.token(), kind_words(*t)))
            .collect(),
        field_objects,
        field_object: value,
        field_object_name,
        may_unique: matches!(object, ObjectKind::Company | ObjectKind::Custom(_)),
        may_require: matches!(object, ObjectKind::Custom(_)),
        primary_field,
        ..SectionPage::new(
            nav(state, session, "settings").await?,
            "fields",
            "Custom fields",
        )
    };
    Ok((status, Html(page.render()?)).into_response())
}

fn kind_words(t: CustomFieldType) -> &'static str {
    match t {
        CustomFieldType::Text => "Text",
        CustomFieldType::LargeText => "Large text",
        CustomFieldType::Number => "Number",
        CustomFieldType::Monetary => "Money",
        CustomFieldType::Date => "Date",
        CustomFieldType::SingleOption => "One option (list)",
        CustomFieldType::Radio => "One option (buttons)",
        CustomFieldType::MultiSelect => "Several options",
        CustomFieldType::Checkbox => "Checkboxes",
        CustomFieldType::TextboxList => "List of texts",
        CustomFieldType::Phone => "Phone",
        CustomFieldType::Email => "Email",
        CustomFieldType::FileUpload => "File upload",
        CustomFieldType::Signature => "Signature",
    }
}

#[derive(serde::Deserialize, Default)]
struct FieldsQuery {
    done: Option<String>,
    object: Option<String>,
}

async fn fields_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<FieldsQuery>,
) -> Result<Response, AppError> {
    let Some(object) = object_named(&state, session.location_id, q.object.as_deref()).await? else {
        return Err(AppError::NotFound(
            "This location has no such object. Define it under Settings → Objects.".into(),
        ));
    };
    fields_view(
        &state,
        &session,
        &object,
        done_words(q.done.as_deref()),
        None,
    )
    .await
}

/// `POST /settings/fields`: `object` (as `?object=`; contacts when absent), `label`, `type` (a
/// `field create` token), `options` (one a line), `unique`, `required` (checkboxes). The rules
/// are `field create`'s (`domain::object::define::check_field`).
async fn create_field(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let Some(object) = object_named(&state, session.location_id, Some(&get("object"))).await?
    else {
        return Err(AppError::NotFound(
            "This location has no such object. Define it under Settings → Objects.".into(),
        ));
    };
    let refuse = |message: String| fields_view(&state, &session, &object, None, Some(message));
    let Ok(field_type) = get("type").parse::<CustomFieldType>() else {
        return refuse("Choose the kind of value the field holds.".into()).await;
    };
    let schema = state
        .store
        .object_schema(session.location_id, &object)
        .await?;
    let request = domain::object::define::FieldRequest {
        label: get("label"),
        key: None,
        field_type,
        options: get("options").lines().map(String::from).collect(),
        unique: !get("unique").is_empty(),
        required: !get("required").is_empty(),
    };
    let def = match domain::object::define::check_field(&schema, request) {
        Ok(def) => def,
        Err(why) => return refuse(sentence(&why)).await,
    };
    let new = NewCustomField {
        object: object.clone(),
        key: def.key,
        label: def.label,
        field_type: def.field_type,
        options: def.options,
        required: def.required,
        unique: def.unique,
    };
    match state
        .store
        .create_custom_field(session.location_id, &new)
        .await
    {
        Ok(_) => Ok(Redirect::to(&fields_url(&object, "field")).into_response()),
        Err(e) if e.is_conflict() => {
            refuse(format!(
                "A field with the key “{}” exists already. Choose another label.",
                new.key
            ))
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct OptionForm {
    option: String,
    /// The field's object (as `?object=`), for the page to return to.
    #[serde(default)]
    object: Option<String>,
}

async fn add_option(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<OptionForm>,
) -> Result<Response, AppError> {
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::NotFound("There is no such field.".into()))?;
    let object = object_named(&state, session.location_id, form.object.as_deref())
        .await?
        .unwrap_or(ObjectKind::Contact);
    match state
        .store
        .add_custom_field_option(session.location_id, id, &form.option)
        .await
    {
        Ok(_) => Ok(Redirect::to(&fields_url(&object, "option")).into_response()),
        Err(e) if e.is_not_found() => Err(AppError::NotFound("There is no such field.".into())),
        Err(store::StoreError::Conflict(m) | store::StoreError::Invalid(m)) => {
            fields_view(&state, &session, &object, None, Some(sentence(&m))).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- Custom objects ------------------------------------------------------------------------

async fn objects_view(
    state: &AppState,
    session: &SessionInfo,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let mut custom_objects = Vec::new();
    for o in state.store.custom_objects(session.location_id).await? {
        let kind = ObjectKind::Custom(o.def.key.clone());
        let schema = state
            .store
            .object_schema(session.location_id, &kind)
            .await?;
        let records = state.store.record_count(session.location_id, &kind).await?;
        custom_objects.push(ObjectRow {
            fields: schema
                .fields
                .iter()
                .filter(|f| f.custom)
                .map(|f| {
                    let marks: Vec<&str> = [(f.required, "required"), (f.unique, "unique")]
                        .into_iter()
                        .filter_map(|(on, word)| on.then_some(word))
                        .collect();
                    if marks.is_empty() {
                        f.label.clone()
                    } else {
                        format!("{} ({})", f.label, marks.join(", "))
                    }
                })
                .collect(),
            key: o.def.key,
            name: o.def.name,
            primary: o.def.primary_label,
            records,
        });
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SectionPage {
        notice,
        error,
        custom_objects,
        ..SectionPage::new(nav(state, session, "settings").await?, "objects", "Objects")
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn objects_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    objects_view(&state, &session, done_words(q.done.as_deref()), None).await
}

#[derive(serde::Deserialize)]
struct ObjectForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    primary: String,
    #[serde(default)]
    key: String,
}

/// `POST /settings/objects`: `name`, `primary` (the primary field's label), `key` (optional);
/// the rules are `object create`'s (`domain::object::define::check_object`). On success the
/// new object's fields page, to give it fields.
async fn create_object(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Form(form): Form<ObjectForm>,
) -> Result<Response, AppError> {
    let key = Some(form.key.as_str()).filter(|k| !k.trim().is_empty());
    let def = match domain::object::define::check_object(&form.name, &form.primary, key) {
        Ok(def) => def,
        Err(why) => return objects_view(&state, &session, None, Some(sentence(&why))).await,
    };
    match state
        .store
        .create_custom_object(session.location_id, &def)
        .await
    {
        Ok(made) => Ok(
            Redirect::to(&fields_url(&ObjectKind::Custom(made.def.key), "object")).into_response(),
        ),
        Err(e) if e.is_conflict() => {
            let why = format!(
                "An object with the key “{}” exists already. Choose another name or key.",
                def.key
            );
            objects_view(&state, &session, None, Some(why)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- Workflows -----------------------------------------------------------------------------

async fn workflows_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    let workflows = workflow_rows(&state, &session).await?;
    workflows_view(
        &state,
        &session,
        done_words(q.done.as_deref()),
        None,
        workflows,
    )
    .await
}

async fn workflow_rows(
    state: &AppState,
    session: &SessionInfo,
) -> Result<Vec<WorkflowRow>, AppError> {
    Ok(state
        .store
        .workflows(session.location_id)
        .await?
        .into_iter()
        .map(|s| WorkflowRow {
            id: s.workflow.id,
            name: s.workflow.name,
            trigger: s.workflow.trigger.to_string(),
            actions: s.workflow.actions.iter().map(ToString::to_string).collect(),
            status: s.workflow.status.as_str(),
            enrolled: s.enrolled,
            completed: s.completed,
        })
        .collect())
}

async fn workflows_view(
    state: &AppState,
    session: &SessionInfo,
    notice: Option<String>,
    error: Option<String>,
    workflows: Vec<WorkflowRow>,
) -> Result<Response, AppError> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SectionPage {
        notice,
        error,
        workflows,
        pipelines: state
            .store
            .pipelines(session.location_id)
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect(),
        ..SectionPage::new(
            nav(state, session, "settings").await?,
            "workflows",
            "Workflows",
        )
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(serde::Deserialize)]
struct TemplateForm {
    #[serde(default)]
    template: String,
    /// A pipeline's name; blank for the template's own.
    #[serde(default)]
    pipeline: String,
}

/// `POST /settings/workflows/template`: `template` (`nextech-reconciliation`), `pipeline`
/// (optional) — the same maker as `workflow create --template`.
async fn create_from_template(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Form(form): Form<TemplateForm>,
) -> Result<Response, AppError> {
    let pipeline = Some(form.pipeline.trim()).filter(|p| !p.is_empty());
    match jobs::workflow_templates::create_from_template(
        &state.store,
        session.location_id,
        &form.template,
        pipeline,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/settings/workflows?done=template").into_response()),
        Err(jobs::workflow_templates::TemplateError::Refused(why)) => {
            let workflows = workflow_rows(&state, &session).await?;
            workflows_view(&state, &session, None, Some(sentence(&why)), workflows).await
        }
        Err(jobs::workflow_templates::TemplateError::Store(e)) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct StatusForm {
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::NotFound("There is no such workflow.".into()))?;
    let status = match form.status.as_str() {
        "active" => WorkflowStatus::Active,
        "paused" => WorkflowStatus::Paused,
        "draft" => WorkflowStatus::Draft,
        _ => {
            return Err(AppError::BadRequest(
                "Choose active, paused or draft.".into(),
            ));
        }
    };
    state
        .store
        .set_workflow_status(session.location_id, id, status)
        .await
        .map_err(|e| {
            if e.is_not_found() {
                AppError::NotFound("There is no such workflow.".into())
            } else {
                e.into()
            }
        })?;
    Ok(Redirect::to("/settings/workflows?done=status").into_response())
}

// ---- Smart Lists ---------------------------------------------------------------------------

/// The §13.1 filter expressions a Smart List form's controls say.
fn list_filters(form: &[(String, String)]) -> Vec<String> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    let mut out = Vec::new();
    for key in [
        "tag",
        "type",
        "status",
        "has",
        "source",
        "dnd",
        "dnd_sms",
        "dnd_email",
        "dnd_calls",
        "dnd_voicemail",
        "created_after",
        "created_before",
    ] {
        let v = get(key);
        if !v.is_empty() {
            out.push(format!("{key}={v}"));
        }
    }
    match get("verification") {
        "" => {}
        "not_invalid" => out.push("verification!=invalid".into()),
        v => out.push(format!("verification={v}")),
    }
    if !get("field_key").is_empty() {
        out.push(format!("field.{}={}", get("field_key"), get("field_value")));
    }
    out
}

fn parse_all(exprs: &[String]) -> Result<Vec<store::Filter>, String> {
    exprs
        .iter()
        .map(|e| {
            store::parse_filter(e).map_err(|e| {
                format!(
                    "{}.",
                    e.problem
                        .split(". Filters are")
                        .next()
                        .unwrap_or(&e.problem)
                        .trim_end_matches('.')
                )
            })
        })
        .collect()
}

async fn lists_view(
    state: &AppState,
    session: &SessionInfo,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let loc = session.location_id;
    let lists = state
        .store
        .smart_lists(loc)
        .await?
        .into_iter()
        .map(|(l, count)| ListRow {
            filters: l.filters.iter().map(ToString::to_string).collect(),
            count: l.unreadable.is_none().then_some(count),
            problem: l.unreadable.clone(),
            builtin: l.builtin,
            name: l.name,
        })
        .collect();
    let custom = state
        .store
        .custom_fields(loc, &ObjectKind::Contact)
        .await?
        .into_iter()
        .map(|f| (f.key, f.label))
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SectionPage {
        notice,
        error,
        lists,
        custom,
        ..SectionPage::new(
            nav(state, session, "settings").await?,
            "smart-lists",
            "Smart Lists",
        )
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn smart_lists_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    lists_view(&state, &session, done_words(q.done.as_deref()), None).await
}

async fn create_list(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let name = form
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    if name.is_empty() {
        return lists_view(
            &state,
            &session,
            None,
            Some("Give the Smart List a name.".into()),
        )
        .await;
    }
    let exprs = list_filters(&form);
    if exprs.is_empty() {
        return lists_view(
            &state,
            &session,
            None,
            Some("Set at least one filter: a list without one would hold every contact.".into()),
        )
        .await;
    }
    let filters = match parse_all(&exprs) {
        Ok(f) => f,
        Err(m) => return lists_view(&state, &session, None, Some(m)).await,
    };
    match state
        .store
        .create_smart_list(session.location_id, &name, &filters)
        .await
    {
        Ok(_) => Ok(Redirect::to("/settings/smart-lists?done=list").into_response()),
        Err(
            store::StoreError::Conflict(m)
            | store::StoreError::Invalid(m)
            | store::StoreError::NotFound(m),
        ) => lists_view(&state, &session, None, Some(sentence(&m))).await,
        Err(e) => Err(e.into()),
    }
}

/// `GET /settings/smart-lists/count?…`: how many contacts the form's filters hold now, for
/// the page's live count: `{"count"}`, or `{"error"}` in plain words.
async fn live_count(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(form): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let exprs = list_filters(&form);
    let body = match parse_all(&exprs) {
        Err(m) => serde_json::json!({ "error": m }),
        Ok(filters) => match state
            .store
            .count_matching(session.location_id, &filters)
            .await
        {
            Ok(n) => serde_json::json!({ "count": n }),
            Err(
                store::StoreError::Invalid(m)
                | store::StoreError::NotFound(m)
                | store::StoreError::Conflict(m),
            ) => serde_json::json!({ "error": sentence(&m) }),
            Err(e) => return Err(e.into()),
        },
    };
    Ok(([(CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

// ---- Users ---------------------------------------------------------------------------------

async fn users_view(
    state: &AppState,
    session: &SessionInfo,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let users = state
        .store
        .location_users(session.location_id)
        .await?
        .into_iter()
        .map(|(u, role)| {
            (
                u.id.0,
                u.name,
                u.email,
                if role == Role::Admin { "admin" } else { "user" },
            )
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SectionPage {
        notice,
        error,
        users,
        ..SectionPage::new(
            nav(state, session, "settings").await?,
            "users",
            "Users and roles",
        )
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn users_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    users_view(&state, &session, done_words(q.done.as_deref()), None).await
}

#[derive(serde::Deserialize)]
struct UserForm {
    name: String,
    email: String,
    role: String,
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Form(form): Form<UserForm>,
) -> Result<Response, AppError> {
    let refuse = |m: &str| users_view(&state, &session, None, Some(m.to_string()));
    let email = form.email.trim().to_string();
    if form.name.trim().is_empty() || !email.contains('@') {
        return refuse("Give the person's name and email address.").await;
    }
    let role = match form.role.as_str() {
        "admin" => Role::Admin,
        "user" => Role::User,
        _ => return refuse("Choose a role: admin or user.").await,
    };
    if form.password.chars().count() < 12 {
        return refuse("The password needs at least 12 characters.").await;
    }
    let password = form.password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))?;
    match state
        .store
        .create_user(session.location_id, &email, form.name.trim(), &hash, role)
        .await
    {
        Ok(_) => Ok(Redirect::to("/settings/users?done=user").into_response()),
        Err(e) if e.is_conflict() => {
            refuse(&format!("{email} is a user of this location already.")).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct RoleForm {
    role: String,
}

/// `POST /settings/users/{id}/role`: a user's role in this location. The store refuses to
/// leave the location without an admin; the page says so in its words.
async fn change_role(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let role = match form.role.as_str() {
        "admin" => Role::Admin,
        "user" => Role::User,
        _ => {
            return users_view(
                &state,
                &session,
                None,
                Some("Choose a role: admin or user.".into()),
            )
            .await;
        }
    };
    match state
        .store
        .set_role(session.location_id, store::UserId(id), role)
        .await
    {
        // An admin who made themselves a user has no Settings any more.
        Ok(()) if id == session.user.id.0 && role != Role::Admin => {
            Ok(Redirect::to("/").into_response())
        }
        Ok(()) => Ok(Redirect::to("/settings/users?done=role").into_response()),
        Err(e) if e.is_not_found() => Err(AppError::NotFound(
            "There is no such user in this location.".into(),
        )),
        Err(store::StoreError::Invalid(m)) => {
            users_view(&state, &session, None, Some(sentence(&m))).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- API keys ------------------------------------------------------------------------------

async fn keys_view(
    state: &AppState,
    session: &SessionInfo,
    notice: Option<String>,
    new_key: Option<String>,
) -> Result<Response, AppError> {
    let tz = tz(state, session).await?;
    let keys = state
        .store
        .api_keys(session.location_id)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            prefix: k.prefix,
            created: when(&tz, k.created_at),
            revoked: k.revoked_at.map(|r| when(&tz, r)),
        })
        .collect();
    let page = SectionPage {
        notice,
        keys,
        new_key,
        ..SectionPage::new(
            nav(state, session, "settings").await?,
            "api-keys",
            "API keys",
        )
    };
    Ok(Html(page.render()?).into_response())
}

async fn keys_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    keys_view(&state, &session, done_words(q.done.as_deref()), None).await
}

/// `POST /settings/api-keys`: makes a key and shows it once, on the answer itself (never in
/// a URL).
async fn create_key(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
) -> Result<Response, AppError> {
    let (key, _) = crate::api::create_api_key(&state.store, session.location_id).await?;
    keys_view(
        &state,
        &session,
        Some("A new key was made. Copy it now: it is not shown again.".into()),
        Some(key),
    )
    .await
}

async fn revoke_key(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(prefix): Path<String>,
) -> Result<Response, AppError> {
    state
        .store
        .revoke_api_key(session.location_id, crate::api::api_key_prefix(&prefix))
        .await
        .map_err(|e| {
            if e.is_not_found() {
                AppError::NotFound("There is no such key in this location.".into())
            } else {
                e.into()
            }
        })?;
    Ok(Redirect::to("/settings/api-keys?done=revoked").into_response())
}

// ---- Webhooks (SPEC §12) -------------------------------------------------------------------

async fn hooks_view(
    state: &AppState,
    session: &SessionInfo,
    notice: Option<String>,
    new_hook: Option<String>,
) -> Result<Response, AppError> {
    let tz = tz(state, session).await?;
    let hooks = state
        .store
        .webhooks(session.location_id)
        .await?
        .into_iter()
        .filter(|h| h.revoked_at.is_none())
        .map(|h| HookRow {
            id: h.id,
            created: when(&tz, h.created_at),
        })
        .collect();
    let page = SectionPage {
        notice,
        hooks,
        new_hook,
        ..SectionPage::new(
            nav(state, session, "settings").await?,
            "webhooks",
            "Webhooks",
        )
    };
    Ok(Html(page.render()?).into_response())
}

async fn hooks_page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Notice>,
) -> Result<Response, AppError> {
    hooks_view(&state, &session, done_words(q.done.as_deref()), None).await
}

/// `POST /settings/webhooks`: makes a webhook as `aesthetix webhook create` does and shows its
/// secret path once, on the answer itself (never in a URL).
async fn create_hook(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
) -> Result<Response, AppError> {
    let (path, _) = crate::inbound::create_webhook(&state.store, session.location_id).await?;
    hooks_view(
        &state,
        &session,
        Some("A new webhook was made. Copy its URL now: it is not shown again.".into()),
        Some(path),
    )
    .await
}

async fn delete_hook(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    state
        .store
        .revoke_webhook(session.location_id, id)
        .await
        .map_err(|e| {
            if e.is_not_found() {
                AppError::NotFound("There is no such webhook in this location.".into())
            } else {
                e.into()
            }
        })?;
    Ok(Redirect::to("/settings/webhooks?done=webhook-deleted").into_response())
}
