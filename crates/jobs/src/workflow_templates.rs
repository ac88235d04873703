//! The built-in workflow templates (SPEC §11), made over the store for every front end:
//! `nextech-reconciliation` — an import-triggered workflow that creates or moves each enrolled
//! contact's opportunity to Consult Booked when Next Appointment is set and to Surgery
//! Scheduled when Procedure Date is set (the later stage wins). Without a pipeline named, the
//! location's `Surgical Journey` is used, made with its four stages when missing.

use domain::pipeline::same_name;
use domain::workflow::templates::{
    NEXTECH_MOVES, NEXTECH_RECONCILIATION, NEXTECH_WORKFLOW_NAME, SURGICAL_JOURNEY,
    SURGICAL_JOURNEY_STAGES, nextech_reconciliation,
};
use store::{LocationId, NewWorkflow, Pipeline, Store, StoreError, Workflow, WorkflowStatus};

/// Why a template could not be made, in the user's words; nothing was made.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The templates there are.
pub const TEMPLATES: &[&str] = &[NEXTECH_RECONCILIATION];

/// Makes the workflow of template `name` in the location, over `pipeline` (by name, ignoring
/// case) or the template's own. Returns the workflow and the pipeline it moves opportunities
/// in, and whether that pipeline was made now.
pub async fn create_from_template(
    store: &Store,
    location: LocationId,
    name: &str,
    pipeline: Option<&str>,
) -> Result<(Workflow, Pipeline, bool), TemplateError> {
    if name.trim() != NEXTECH_RECONCILIATION {
        return Err(TemplateError::Refused(format!(
            "there is no workflow template '{}'; the templates are: {}",
            name.trim(),
            TEMPLATES.join(", ")
        )));
    }
    if store
        .workflow_by_name(location, NEXTECH_WORKFLOW_NAME)
        .await
        .is_ok()
    {
        return Err(TemplateError::Refused(format!(
            "this location has a workflow named '{NEXTECH_WORKFLOW_NAME}' already"
        )));
    }
    // The date fields first, so nothing is made for a workflow that cannot be.
    let fields = store
        .custom_fields(location, &domain::ObjectKind::Contact)
        .await?;
    for (_, key) in NEXTECH_MOVES {
        if !fields
            .iter()
            .any(|f| f.key == key && f.field_type == domain::CustomFieldType::Date)
        {
            return Err(TemplateError::Refused(format!(
                "the template needs the contact date field '{key}' (a starter field of new locations); create it with `aesthetix field create --object contact --type date --key {key} --label LABEL`"
            )));
        }
    }
    let (pipeline, made) = match pipeline {
        Some(name) => match store.pipeline_by_name(location, name).await {
            Ok(p) => (p, false),
            Err(e @ StoreError::NotFound(_)) => {
                return Err(TemplateError::Refused(format!("--pipeline: {e}")));
            }
            Err(e) => return Err(e.into()),
        },
        None => match store.pipeline_by_name(location, SURGICAL_JOURNEY).await {
            Ok(p) => (p, false),
            Err(e) if e.is_not_found() => {
                let stages: Vec<String> = SURGICAL_JOURNEY_STAGES
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                (
                    store
                        .create_pipeline(location, SURGICAL_JOURNEY, &stages)
                        .await?,
                    true,
                )
            }
            Err(e) => return Err(e.into()),
        },
    };
    let (trigger, actions) = nextech_reconciliation(&pipeline.name, |wanted| {
        pipeline
            .stages
            .iter()
            .find(|s| same_name(&s.name, wanted))
            .map(|s| s.name.clone())
    })
    .map_err(TemplateError::Refused)?;
    let workflow = store
        .create_workflow(
            location,
            &NewWorkflow {
                name: NEXTECH_WORKFLOW_NAME.to_string(),
                trigger,
                status: WorkflowStatus::Active,
                actions,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => TemplateError::Refused(m),
            other => other.into(),
        })?;
    Ok((workflow, pipeline, made))
}
