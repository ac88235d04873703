//! The opportunities board (SPEC §7, §13.2 `GET /opportunities`): for any signed-in user of the
//! location, one pipeline at a time (`?pipeline=ID`, else the first), one column per stage
//! with its count and value total, a card per opportunity — name, value, status, its contact's
//! name linking to the contact's page. Moving a card is a form post (`POST
//! /opportunities/{id}/move`, `stage`), so the board works without the script; the move bumps
//! the opportunity's version, so a revert of the import that wrote it leaves it alone.
//!
//! The columns sit in a box that scrolls sideways by itself, so the page never does, at 390
//! pixels as at 1366.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::pipeline::{OpportunityStatus, show_amount};

use crate::auth::CurrentUser;
use crate::pages::{Nav, nav};
use crate::{AppError, AppState};

/// Cards shown per column; the count and total cover them all.
pub(crate) const CARDS_PER_COLUMN: i64 = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/opportunities", get(board))
        .route("/opportunities/{id}/move", post(move_card))
}

struct CardView {
    id: i64,
    name: String,
    value: Option<String>,
    status: &'static str,
    status_class: &'static str,
    contact: Option<(i64, String)>,
}

struct ColumnView {
    stage_id: i64,
    name: String,
    count: i64,
    total: String,
    /// How many of `count` are not shown.
    hidden: i64,
    cards: Vec<CardView>,
}

#[derive(Template)]
#[template(path = "opportunities.html")]
struct BoardPage {
    nav: Nav,
    /// `(id, name, chosen)`.
    pipelines: Vec<(i64, String, bool)>,
    pipeline_id: i64,
    pipeline_name: String,
    currency: String,
    columns: Vec<ColumnView>,
    /// `(stage id, name)`, for every card's move form.
    stages: Vec<(i64, String)>,
    moved: bool,
}

#[derive(serde::Deserialize, Default)]
struct BoardQuery {
    pipeline: Option<String>,
    moved: Option<String>,
}

#[derive(Template)]
#[template(path = "opportunities_empty.html")]
struct NoPipelines {
    nav: Nav,
}

async fn board(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let location = session.location_id;
    let pipelines = state.store.pipelines(location).await?;
    let nav = nav(&state, &session, "opportunities").await?;
    let Some(first) = pipelines.first() else {
        return Ok(Html(NoPipelines { nav }.render()?).into_response());
    };
    let chosen = match q
        .pipeline
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => first.id,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|id| pipelines.iter().any(|p| p.id == *id))
            .ok_or_else(|| {
                AppError::NotFound("There is no such pipeline in this location.".into())
            })?,
    };
    let board = state
        .store
        .board(location, chosen, CARDS_PER_COLUMN)
        .await?;
    let currency = state.store.location(location).await?.settings.currency;
    let columns = board
        .columns
        .into_iter()
        .map(|c| ColumnView {
            stage_id: c.stage.id,
            name: c.stage.name,
            count: c.count,
            total: c
                .total
                .map(show_amount)
                .unwrap_or_else(|| "too large to add up".to_string()),
            hidden: c.count - c.cards.len() as i64,
            cards: c
                .cards
                .into_iter()
                .map(|card| {
                    let status = card.status.parse::<OpportunityStatus>().ok();
                    CardView {
                        id: card.id,
                        name: card.name,
                        value: card
                            .value
                            .as_deref()
                            .and_then(|v| v.trim().parse().ok())
                            .map(show_amount),
                        status: status.map_or("Open", OpportunityStatus::label),
                        status_class: match status {
                            Some(OpportunityStatus::Won) => "completed",
                            Some(OpportunityStatus::Lost) => "failed",
                            Some(OpportunityStatus::Abandoned) => "reverted",
                            _ => "queued",
                        },
                        contact: card.contact,
                    }
                })
                .collect(),
        })
        .collect();
    let page = BoardPage {
        nav,
        pipelines: pipelines
            .iter()
            .map(|p| (p.id, p.name.clone(), p.id == chosen))
            .collect(),
        pipeline_id: chosen,
        pipeline_name: board.pipeline.name.clone(),
        stages: board
            .pipeline
            .stages
            .iter()
            .map(|s| (s.id, s.name.clone()))
            .collect(),
        currency,
        columns,
        moved: q.moved.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(serde::Deserialize)]
struct MoveForm {
    #[serde(default)]
    stage: String,
}

/// `POST /opportunities/{id}/move` (`stage`: a stage id of the opportunity's pipeline): back
/// to the board of that pipeline.
async fn move_card(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, AppError> {
    let no_such = || AppError::NotFound("There is no such opportunity in this location.".into());
    let id: i64 = id.parse().map_err(|_| no_such())?;
    let stage: i64 =
        form.stage.trim().parse().map_err(|_| {
            AppError::BadRequest("Choose the stage to move the opportunity to.".into())
        })?;
    let pipeline = match state
        .store
        .move_opportunity(session.location_id, id, stage)
        .await
    {
        Ok((pipeline, _)) => pipeline,
        Err(e) if e.is_not_found() => return Err(no_such()),
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!(
        "/opportunities?pipeline={pipeline}&moved=1#card-{id}"
    ))
    .into_response())
}
