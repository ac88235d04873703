//! The Settings page of pipelines (SPEC §7, §13.2): add a pipeline with its stages, rename
//! pipelines and stages, add a stage, move a stage earlier or later — each a plain form post
//! (no script needed) answered with a redirect, or the page again with the refusal. Admins
//! only, checked by [`AdminUser`]; every store call is scoped by the session's location.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use store::{SessionInfo, StoreError};

use crate::auth::AdminUser;
use crate::pages::{Nav, nav};
use crate::{AppError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/pipelines", axum::routing::get(page).post(create))
        .route("/settings/pipelines/{id}/rename", post(rename_pipeline))
        .route("/settings/pipelines/{id}/stages", post(add_stage))
        .route("/settings/stages/{id}/rename", post(rename_stage))
        .route("/settings/stages/{id}/move", post(move_stage))
}

#[derive(Template)]
#[template(path = "settings_pipelines.html")]
struct PipelinesPage {
    nav: Nav,
    sections: &'static [(&'static str, &'static str)],
    notice: Option<&'static str>,
    error: Option<String>,
    pipelines: Vec<store::Pipeline>,
    /// What the add form held when it was refused: (name, stages one a line).
    draft: (String, String),
}

#[derive(serde::Deserialize, Default)]
struct Done {
    done: Option<String>,
}

fn done_words(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "pipeline" => "The pipeline was added.",
        "renamed" => "The name was changed.",
        "stage" => "The stage was added at the end.",
        "moved" => "The stage was moved.",
        _ => return None,
    })
}

async fn view(
    state: &AppState,
    session: &SessionInfo,
    notice: Option<&'static str>,
    error: Option<String>,
    draft: (String, String),
) -> Result<Response, AppError> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = PipelinesPage {
        nav: nav(state, session, "settings").await?,
        sections: &crate::settings::SECTIONS,
        notice,
        error,
        pipelines: state.store.pipelines(session.location_id).await?,
        draft,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn page(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Query(q): Query<Done>,
) -> Result<Response, AppError> {
    view(
        &state,
        &session,
        done_words(q.done.as_deref()),
        None,
        Default::default(),
    )
    .await
}

/// A change's answer: to `done` (a redirect that shows its notice) when it was made, else the
/// page again with the reason in the user's words (422).
async fn settle(
    state: &AppState,
    session: &SessionInfo,
    result: Result<(), StoreError>,
    done: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(Redirect::to(done).into_response()),
        Err(e) => {
            let why = refusal(e)?;
            view(state, session, None, Some(why), Default::default()).await
        }
    }
}

/// A refusal of the store as a sentence for the page; anything else is the error it is.
fn refusal(e: StoreError) -> Result<String, AppError> {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => {
            let mut chars = m.chars();
            let mut s: String = match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect(),
                None => String::new(),
            };
            if !s.ends_with('.') {
                s.push('.');
            }
            Ok(s)
        }
        other => Err(other.into()),
    }
}

fn id_of(raw: &str, what: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::NotFound(format!("There is no such {what}.")))
}

fn not_found(what: &'static str) -> impl Fn(StoreError) -> StoreError {
    move |e| {
        if e.is_not_found() {
            StoreError::NotFound(format!("that {what}"))
        } else {
            e
        }
    }
}

#[derive(serde::Deserialize)]
struct NewPipeline {
    #[serde(default)]
    name: String,
    /// One stage a line, in order.
    #[serde(default)]
    stages: String,
}

/// `POST /settings/pipelines`: `name`, `stages` (one a line).
async fn create(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Form(form): Form<NewPipeline>,
) -> Result<Response, AppError> {
    let stages: Vec<String> = form
        .stages
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    match state
        .store
        .create_pipeline(session.location_id, &form.name, &stages)
        .await
    {
        Ok(_) => Ok(Redirect::to("/settings/pipelines?done=pipeline").into_response()),
        Err(e) => {
            let why = refusal(e)?;
            view(
                &state,
                &session,
                None,
                Some(why),
                (form.name.clone(), form.stages.clone()),
            )
            .await
        }
    }
}

#[derive(serde::Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
}

/// `POST /settings/pipelines/{id}/rename`: `name`.
async fn rename_pipeline(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, AppError> {
    let id = id_of(&id, "pipeline")?;
    let done = state
        .store
        .rename_pipeline(session.location_id, id, &form.name)
        .await
        .map(|_| ())
        .map_err(not_found("pipeline"));
    settle(&state, &session, done, "/settings/pipelines?done=renamed").await
}

/// `POST /settings/pipelines/{id}/stages`: `name`, added at the end.
async fn add_stage(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, AppError> {
    let id = id_of(&id, "pipeline")?;
    let done = state
        .store
        .add_stage(session.location_id, id, &form.name)
        .await
        .map(|_| ())
        .map_err(not_found("pipeline"));
    settle(&state, &session, done, "/settings/pipelines?done=stage").await
}

/// `POST /settings/stages/{id}/rename`: `name`.
async fn rename_stage(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, AppError> {
    let id = id_of(&id, "stage")?;
    let done = state
        .store
        .rename_stage(session.location_id, id, &form.name)
        .await
        .map(|_| ())
        .map_err(not_found("stage"));
    settle(&state, &session, done, "/settings/pipelines?done=renamed").await
}

#[derive(serde::Deserialize)]
struct MoveForm {
    /// `earlier` or `later`.
    #[serde(default)]
    to: String,
}

/// `POST /settings/stages/{id}/move`: `to` = `earlier` or `later`.
async fn move_stage(
    State(state): State<AppState>,
    AdminUser(session): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, AppError> {
    let id = id_of(&id, "stage")?;
    let earlier = match form.to.as_str() {
        "earlier" => true,
        "later" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Move a stage earlier or later.".into(),
            ));
        }
    };
    state
        .store
        .move_stage(session.location_id, id, earlier)
        .await
        .map_err(not_found("stage"))?;
    Ok(Redirect::to("/settings/pipelines?done=moved").into_response())
}
