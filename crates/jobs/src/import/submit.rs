//! One front door for an import that becomes a Bulk Action (SPEC §6.6, §9.6, §12): the CLI,
//! the wizard and the API (through the wizard) all submit a prepared import here, so the
//! `Idempotency-Key` check, the workflow acknowledgement and the Smart List are written once.
//! How the job then runs is the caller's: queued for the worker loop and bound to its draft
//! ([`Queue::Draft`]), or leased to this process, which runs it at once ([`Queue::Here`],
//! then [`super::run_leased`]).

use store::{Lease, LocationId, Store, StoreError};

use super::{ImportError, Prepared, TriggeredWorkflow, new_import_job, triggered_workflows};

/// How an import is submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitOptions {
    /// The admin confirmed enrolling contacts in the workflows the import triggers (SPEC §6.6).
    pub acknowledge_workflows: bool,
    /// SPEC §9.6: a submit with a key the location used before returns that job.
    pub idempotency_key: Option<String>,
    /// Make a Smart List of the contacts the import creates or updates (SPEC §6.1).
    pub smart_list: bool,
}

/// Where the job goes.
#[derive(Debug, Clone)]
pub enum Queue {
    /// Queued for the worker loop, and the draft it came from marked submitted (at most once).
    Draft(i64),
    /// Leased to this process (its lease owner), which runs it now.
    Here(String),
}

/// What a submit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub job_id: i64,
    /// False when the job existed already (the key, or the draft, was submitted before).
    pub created: bool,
    /// The Smart List made for the import, when asked for.
    pub smart_list: Option<String>,
    /// [`Queue::Here`]: this process's lease on the new job.
    pub lease: Option<Lease>,
}

/// Why an import was not submitted (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// `request.idempotency_key`
    #[error(
        "The Idempotency-Key is longer than 255 characters. Use a shorter key, such as a UUID."
    )]
    KeyTooLong,
    /// `workflows.acknowledgement_required` (SPEC §6.6): the import would enroll contacts in
    /// these active workflows; each front end asks in its own words.
    #[error("the import would enroll contacts in active workflows")]
    AcknowledgementRequired(Vec<TriggeredWorkflow>),
    #[error("{0}")]
    Import(#[from] ImportError),
}

impl From<StoreError> for SubmitError {
    fn from(e: StoreError) -> Self {
        SubmitError::Import(e.into())
    }
}

/// An `Idempotency-Key` as given (SPEC §9.6): trimmed, blank as none, at most 255 characters.
pub fn idempotency_key(given: Option<&str>) -> Result<Option<&str>, SubmitError> {
    match given.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) if k.len() > 255 => Err(SubmitError::KeyTooLong),
        other => Ok(other),
    }
}

/// The job an earlier submit with this key made in the location, if any (checked before
/// anything costly: reading the file, or the body of a one-request import).
pub async fn job_for_key(
    store: &Store,
    location: LocationId,
    given: Option<&str>,
) -> Result<Option<i64>, SubmitError> {
    match idempotency_key(given)? {
        Some(key) => Ok(store.job_by_idempotency_key(location, key).await?),
        None => Ok(None),
    }
}

/// Submits a prepared import: the job of an earlier submit with the same key; else, when the
/// import would enroll contacts in active workflows (`triggered`, from a dry run that still
/// holds, else counted now) without the acknowledgement, refused; else the job is created as
/// `queue` says and, when asked for and new, its Smart List made (its filter `import=JOB`
/// fills as the job runs; a name taken already gets the job's number).
pub async fn submit(
    store: &Store,
    prepared: &Prepared,
    options: &SubmitOptions,
    triggered: Option<Vec<TriggeredWorkflow>>,
    queue: Queue,
) -> Result<Submitted, SubmitError> {
    let location = prepared.location.id;
    let key = idempotency_key(options.idempotency_key.as_deref())?;
    if let Some(job_id) = job_for_key(store, location, key).await? {
        return Ok(Submitted {
            job_id,
            created: false,
            smart_list: None,
            lease: None,
        });
    }
    let triggered = match triggered {
        Some(t) => t,
        None => triggered_workflows(store, prepared).await?,
    };
    if !triggered.is_empty() && !options.acknowledge_workflows {
        return Err(SubmitError::AcknowledgementRequired(triggered));
    }
    let (job, job_id, created, lease) = match queue {
        Queue::Draft(draft) => {
            let job = new_import_job(prepared, None);
            let (id, created) = store
                .submit_import_draft(location, draft, &job, key)
                .await?;
            (job, id, created, None)
        }
        Queue::Here(owner) => {
            let job = new_import_job(prepared, Some(owner.clone()));
            let id = store.create_job(location, &job).await?;
            let lease = Lease {
                job_id: id,
                location_id: location,
                owner,
            };
            (job, id, true, Some(lease))
        }
    };
    let mut smart_list = None;
    if created && options.smart_list {
        let mut name = job.name.clone();
        for attempt in 0..2 {
            match store
                .create_import_smart_list(location, job_id, &name)
                .await
            {
                Ok(list) => {
                    smart_list = Some(list.name);
                    break;
                }
                Err(e) if e.is_conflict() && attempt == 0 => {
                    name = format!("{} (Bulk Action {job_id})", job.name);
                }
                Err(e) => {
                    tracing::warn!(job = job_id, error = %e, "the import's Smart List was not created");
                    break;
                }
            }
        }
    }
    Ok(Submitted {
        job_id,
        created,
        smart_list,
        lease,
    })
}
