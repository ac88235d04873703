//! Objects and their fields through the API (SPEC §8: custom objects are defined by the CLI,
//! the Settings pages and the API): `GET /api/v1/objects` lists the key's location's objects
//! with their fields, `POST /api/v1/objects` defines a custom object, `POST
//! /api/v1/objects/{object}/fields` a custom field of any object. The rules are `object create`'s
//! and `field create`'s (`domain::object::define`), refused with 422 in the same words.

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::object::define::{FieldRequest, check_field, check_object, describe};
use domain::{CustomFieldType, ObjectKind};
use serde::Deserialize;
use store::NewCustomField;

use super::{ApiError, ApiKey};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/objects", get(list).post(create_object))
        .route("/objects/{object}/fields", post(create_field))
}

fn refused(why: String) -> ApiError {
    ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, "definition.invalid", why)
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::status(StatusCode::BAD_REQUEST, "request.invalid", e.body_text()))
}

/// The object a path names: `contact`, `opportunity`, `company` or a custom object's key.
async fn object_named(state: &AppState, key: &ApiKey, name: &str) -> Result<ObjectKind, ApiError> {
    Ok(match name {
        "contact" => ObjectKind::Contact,
        "opportunity" => ObjectKind::Opportunity,
        "company" => ObjectKind::Company,
        other => {
            // `custom_object` names the location's objects when the key is not one of them.
            state
                .store
                .custom_object(key.location_id, other)
                .await
                .map_err(|e| match e {
                    store::StoreError::NotFound(why) => ApiError::NotFound(why),
                    other => other.into(),
                })?;
            ObjectKind::Custom(other.to_string())
        }
    })
}

/// `GET /api/v1/objects`: the standard objects (contact, opportunity, company) and the
/// location's custom objects, each with its primary field and custom fields in order.
async fn list(key: ApiKey, State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut objects = vec![
        ObjectKind::Contact,
        ObjectKind::Opportunity,
        ObjectKind::Company,
    ];
    for o in state.store.custom_objects(key.location_id).await? {
        objects.push(ObjectKind::Custom(o.def.key));
    }
    let mut schemas = Vec::with_capacity(objects.len());
    for o in &objects {
        schemas.push(state.store.object_schema(key.location_id, o).await?);
    }
    let all: Vec<_> = schemas.iter().map(describe).collect();
    Ok(Json(all).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectBody {
    name: String,
    /// The primary field's label.
    primary: String,
    key: Option<String>,
}

/// `POST /api/v1/objects` → 201 with the object; 422 for a definition SPEC §8 refuses, 409 for
/// a key the location has already.
async fn create_object(
    key: ApiKey,
    State(state): State<AppState>,
    b: Result<Json<ObjectBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let b = body(b)?;
    let def = check_object(&b.name, &b.primary, b.key.as_deref()).map_err(refused)?;
    let made = state
        .store
        .create_custom_object(key.location_id, &def)
        .await?;
    let schema = state
        .store
        .object_schema(key.location_id, &ObjectKind::Custom(made.def.key))
        .await?;
    Ok((StatusCode::CREATED, Json(describe(&schema))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldBody {
    label: String,
    /// A `field create --type` token (`text`, `single_option`, …).
    #[serde(rename = "type")]
    field_type: String,
    key: Option<String>,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    required: bool,
}

/// `POST /api/v1/objects/{object}/fields` → 201 with the object as it now is; 404 for an
/// object the location does not have, 422 for a field SPEC §8 refuses.
async fn create_field(
    key: ApiKey,
    State(state): State<AppState>,
    Path(object): Path<String>,
    b: Result<Json<FieldBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let object = object_named(&state, &key, &object).await?;
    let b = body(b)?;
    let field_type: CustomFieldType = b
        .field_type
        .parse()
        .map_err(|e: domain::field::UnknownFieldType| refused(e.to_string()))?;
    let schema = state.store.object_schema(key.location_id, &object).await?;
    let def = check_field(
        &schema,
        FieldRequest {
            label: b.label,
            key: b.key,
            field_type,
            options: b.options,
            unique: b.unique,
            required: b.required,
        },
    )
    .map_err(refused)?;
    state
        .store
        .create_custom_field(
            key.location_id,
            &NewCustomField {
                object: object.clone(),
                key: def.key,
                label: def.label,
                field_type: def.field_type,
                options: def.options,
                required: def.required,
                unique: def.unique,
            },
        )
        .await?;
    let schema = state.store.object_schema(key.location_id, &object).await?;
    Ok((StatusCode::CREATED, Json(describe(&schema))).into_response())
}
