//! The pages of companies and custom objects (SPEC §8, §13.2), for any signed-in user of the
//! location: `/companies` and `/objects/{key}` list an object's records by Record ID in
//! numbered pages; `/companies/{id}` and `/objects/{key}/{id}` show one record, every field of
//! the object's schema in field order; `/objects` lists the location's custom objects.
//!
//! An object or record the location does not have is a 404 with a plain sentence, whatever
//! another location holds: every read is scoped by the session's location in the store.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use domain::{FieldKind, ObjectKind, ObjectSchema};
use serde::Deserialize;
use store::{LocationId, ShownRecord};

use crate::auth::CurrentUser;
use crate::bulk::{local_time, location_tz};
use crate::pages::{Nav, nav, url_encode};
use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/companies", get(companies))
        .route("/companies/{id}", get(company))
        .route("/objects", get(objects))
        .route("/objects/{key}", get(custom_records))
        .route("/objects/{key}/{id}", get(custom_record))
}

/// Records per page of a list.
const PER_PAGE: i64 = 50;
/// Fields shown on a list after Record ID and the primary field.
const LIST_FIELDS: usize = 4;

/// An object the location has: its schema, its list's path, the nav entry it lights.
struct Object {
    schema: ObjectSchema,
    path: String,
    active: &'static str,
}

async fn company_object(state: &AppState, location: LocationId) -> Result<Object, AppError> {
    Ok(Object {
        schema: state
            .store
            .object_schema(location, &ObjectKind::Company)
            .await?,
        path: "/companies".into(),
        active: "companies",
    })
}

async fn custom_object(
    state: &AppState,
    location: LocationId,
    key: &str,
) -> Result<Object, AppError> {
    let missing = || {
        AppError::NotFound(format!(
            "This location has no object “{key}”. Its objects are listed under Objects."
        ))
    };
    // A key with characters no key has cannot name an object (nor reach a query).
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(missing());
    }
    let o = match state.store.custom_object(location, key).await {
        Ok(o) => o,
        Err(e) if e.is_not_found() => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    Ok(Object {
        schema: state
            .store
            .object_schema(location, &ObjectKind::Custom(o.def.key.clone()))
            .await?,
        path: format!("/objects/{}", url_encode(&o.def.key)),
        active: "objects",
    })
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

struct ListRow {
    id: i64,
    primary: String,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    nav: Nav,
    name: String,
    path: String,
    primary_label: String,
    columns: Vec<String>,
    rows: Vec<ListRow>,
    total: i64,
    page: i64,
    pages: i64,
    prev_page: Option<i64>,
    next_page: Option<i64>,
}

/// The fields a list shows after Record ID and the primary field: the first few of the
/// schema, in field order.
fn list_fields(schema: &ObjectSchema) -> Vec<(String, String)> {
    schema
        .fields
        .iter()
        .filter(|f| f.kind != FieldKind::Id && Some(&f.key) != schema.primary.as_ref())
        .take(LIST_FIELDS)
        .map(|f| (f.key.clone(), f.label.clone()))
        .collect()
}

async fn list(
    state: &AppState,
    session: &store::SessionInfo,
    object: Object,
    q: PageQuery,
) -> Result<Html<String>, AppError> {
    let kind = &object.schema.object;
    let total = state.store.record_count(session.location_id, kind).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    // A page past the last shows the last page; the offset never overflows.
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let records = state
        .store
        .records_by_id(session.location_id, kind, (page - 1) * PER_PAGE, PER_PAGE)
        .await?;
    let fields = list_fields(&object.schema);
    let rows = records
        .into_iter()
        .map(|r| ListRow {
            id: r.id,
            cells: fields
                .iter()
                .map(|(k, _)| r.values.get(k).cloned().unwrap_or_default())
                .collect(),
            primary: r.primary,
        })
        .collect();
    let schema = &object.schema;
    let primary_label = schema
        .primary
        .as_deref()
        .and_then(|k| schema.label(k))
        .unwrap_or("Name")
        .to_string();
    let view = RecordsPage {
        nav: nav(state, session, object.active).await?,
        name: schema.name.clone(),
        path: object.path,
        primary_label,
        columns: fields.into_iter().map(|(_, label)| label).collect(),
        rows,
        total,
        page,
        pages,
        prev_page: (page > 1).then(|| page - 1),
        next_page: (page < pages).then(|| page + 1),
    };
    Ok(Html(view.render()?))
}

struct ShownField {
    label: String,
    value: String,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    nav: Nav,
    name: String,
    path: String,
    id: i64,
    title: String,
    fields: Vec<ShownField>,
    created: String,
    updated: String,
}

/// Every field of the schema in field order, Record ID first; a list field's values as stored
/// (joined).
fn shown_fields(schema: &ObjectSchema, record: &ShownRecord) -> Vec<ShownField> {
    schema
        .fields
        .iter()
        .map(|f| ShownField {
            label: f.label.clone(),
            value: if f.kind == FieldKind::Id {
                record.id.to_string()
            } else {
                record.values.get(&f.key).cloned().unwrap_or_default()
            },
        })
        .collect()
}

async fn show(
    state: &AppState,
    session: &store::SessionInfo,
    object: Object,
    raw_id: &str,
) -> Result<Html<String>, AppError> {
    let missing = || {
        AppError::NotFound(format!(
            "{} has no record with Record ID “{raw_id}” in this location.",
            object.schema.name
        ))
    };
    let id: i64 = raw_id.trim().parse().map_err(|_| missing())?;
    let record = state
        .store
        .shown_record(session.location_id, &object.schema.object, id)
        .await?
        .ok_or_else(missing)?;
    let tz = location_tz(state, session.location_id).await?;
    let title = if record.primary.is_empty() {
        format!("Record {}", record.id)
    } else {
        record.primary.clone()
    };
    let view = RecordPage {
        nav: nav(state, session, object.active).await?,
        fields: shown_fields(&object.schema, &record),
        name: object.schema.name.clone(),
        path: object.path,
        id: record.id,
        title,
        created: local_time(record.created_at, &tz),
        updated: local_time(record.updated_at, &tz),
    };
    Ok(Html(view.render()?))
}

async fn companies(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, AppError> {
    let object = company_object(&state, session.location_id).await?;
    list(&state, &session, object, q).await
}

async fn company(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let object = company_object(&state, session.location_id).await?;
    show(&state, &session, object, &id).await
}

async fn custom_records(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(key): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, AppError> {
    let object = custom_object(&state, session.location_id, &key).await?;
    list(&state, &session, object, q).await
}

async fn custom_record(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path((key, id)): Path<(String, String)>,
) -> Result<Html<String>, AppError> {
    let object = custom_object(&state, session.location_id, &key).await?;
    show(&state, &session, object, &id).await
}

struct ObjectRow {
    path: String,
    name: String,
    key: String,
    primary_label: String,
    records: i64,
}

#[derive(Template)]
#[template(path = "objects.html")]
struct ObjectsPage {
    nav: Nav,
    rows: Vec<ObjectRow>,
}

/// `/objects`: the location's custom objects, each with its record count.
async fn objects(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Html<String>, AppError> {
    let mut rows = Vec::new();
    for o in state.store.custom_objects(session.location_id).await? {
        let records = state
            .store
            .record_count(session.location_id, &ObjectKind::Custom(o.def.key.clone()))
            .await?;
        rows.push(ObjectRow {
            path: format!("/objects/{}", url_encode(&o.def.key)),
            name: o.def.name,
            key: o.def.key,
            primary_label: o.def.primary_label,
            records,
        });
    }
    let view = ObjectsPage {
        nav: nav(&state, &session, "objects").await?,
        rows,
    };
    Ok(Html(view.render()?))
}
