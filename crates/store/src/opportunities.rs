//! The opportunities board (SPEC §7): a pipeline's opportunities by stage — each column's count
//! and value total over all of them, its cards the most recently changed first, at most a page
//! of them — and a card moved to another stage of its pipeline. A move bumps the
//! opportunity's `version`, as every change does, so a revert of an import that wrote it
//! leaves it alone (`domain::revert::conflict`).

use domain::pipeline::Decimal;

use crate::pipelines::{Pipeline, Stage};
use crate::{LocationId, Result, Store, StoreError, now_ms, on_pool};

/// One opportunity as a card of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCard {
    pub id: i64,
    pub name: String,
    /// The stored word: `open`, `won`, `lost`, `abandoned`.
    pub status: String,
    /// The exact decimal as stored.
    pub value: Option<String>,
    /// The linked contact: id and the name to show (full name, else email, else phone).
    pub contact: Option<(i64, String)>,
}

/// One stage's column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardColumn {
    pub stage: Stage,
    /// Opportunities at this stage (all of them, not only the cards shown).
    pub count: i64,
    /// The total of their values; `None` when it overflows.
    pub total: Option<Decimal>,
    /// The most recently changed first, at most the board's page.
    pub cards: Vec<BoardCard>,
}

/// A pipeline's board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub pipeline: Pipeline,
    pub columns: Vec<BoardColumn>,
}

type CardRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// An opportunity's stage and value, for a column's count and total.
type StageValue = (i64, Option<String>);

fn card((id, name, status, value, contact, first, last, email, phone): CardRow) -> BoardCard {
    let full = [first, last]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let contact = contact.map(|c| {
        let shown = [Some(full), email, phone]
            .into_iter()
            .flatten()
            .find(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("Contact {c}"));
        (c, shown)
    });
    BoardCard {
        id,
        name,
        status,
        value,
        contact,
    }
}

impl Store {
    /// The board of a pipeline of the location: one column per stage in order, at most
    /// `cards_per_column` cards each.
    pub async fn board(
        &self,
        location: LocationId,
        pipeline: i64,
        cards_per_column: i64,
    ) -> Result<Board> {
        let pipeline = self.pipeline(location, pipeline).await?;
        let (values, cards): (Vec<StageValue>, Vec<Vec<CardRow>>) = on_pool!(self, p => {
            let values = sqlx::query_as(
                "SELECT stage_id, monetary_value FROM opportunities WHERE location_id = $1 AND pipeline_id = $2",
            )
            .bind(location.0)
            .bind(pipeline.id)
            .fetch_all(p)
            .await?;
            let mut cards = Vec::with_capacity(pipeline.stages.len());
            for stage in &pipeline.stages {
                let rows: Vec<CardRow> = sqlx::query_as(
                    "SELECT o.id, o.name, o.status, o.monetary_value, o.contact_id, \
                     k.first_name, k.last_name, k.email, k.phone \
                     FROM opportunities o LEFT JOIN contacts k ON k.id = o.contact_id AND k.location_id = $1 \
                     WHERE o.location_id = $1 AND o.pipeline_id = $2 AND o.stage_id = $3 \
                     ORDER BY o.updated_at DESC, o.id DESC LIMIT $4",
                )
                .bind(location.0)
                .bind(pipeline.id)
                .bind(stage.id)
                .bind(cards_per_column)
                .fetch_all(p)
                .await?;
                cards.push(rows);
            }
            Ok::<_, StoreError>((values, cards))
        })?;
        let columns = pipeline
            .stages
            .iter()
            .zip(cards)
            .map(|(stage, rows)| {
                let mine = values.iter().filter(|(s, _)| *s == stage.id);
                BoardColumn {
                    stage: stage.clone(),
                    count: mine.clone().count() as i64,
                    total: domain::pipeline::total_value(mine.filter_map(|(_, v)| v.as_deref())),
                    cards: rows.into_iter().map(card).collect(),
                }
            })
            .collect();
        Ok(Board { pipeline, columns })
    }

    /// Moves an opportunity of the location to another stage of its own pipeline, bumping its
    /// version. Returns its pipeline, and false when it was at that stage already (nothing
    /// changes). A stage of
    /// another pipeline (or location) is `Invalid`; an unknown opportunity `NotFound`.
    pub async fn move_opportunity(
        &self,
        location: LocationId,
        opportunity: i64,
        stage: i64,
    ) -> Result<(i64, bool)> {
        let now = now_ms();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let at: Option<(i64, i64)> = sqlx::query_as(
                "SELECT pipeline_id, stage_id FROM opportunities WHERE location_id = $1 AND id = $2",
            )
            .bind(location.0)
            .bind(opportunity)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((pipeline, current)) = at else {
                return Err(StoreError::not_found(format!("opportunity {opportunity}")));
            };
            let fits: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM stages WHERE location_id = $1 AND id = $2 AND pipeline_id = $3",
            )
            .bind(location.0)
            .bind(stage)
            .bind(pipeline)
            .fetch_optional(&mut *tx)
            .await?;
            if fits.is_none() {
                return Err(StoreError::Invalid(
                    "that stage is not a stage of the opportunity's pipeline; choose one of its own stages".into(),
                ));
            }
            if current == stage {
                return Ok((pipeline, false));
            }
            sqlx::query(
                "UPDATE opportunities SET stage_id = $3, updated_at = $4, version = version + 1 \
                 WHERE location_id = $1 AND id = $2",
            )
            .bind(location.0)
            .bind(opportunity)
            .bind(stage)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>((pipeline, true))
        })
    }
}
