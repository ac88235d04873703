//! Bulk Actions (SPEC §9): the jobs that import and export, run chunk by chunk with each
//! chunk's writes, line results and checkpoint committed together.
//!
//! This crate is where reading (`tabular`), deciding (`engine`) and writing (`store`) meet;
//! the CLI, the web wizard and the API all call the same functions here.

pub mod error_log;
pub mod export;
pub mod import;
pub mod mapping;
pub mod migration;
pub mod status;
pub mod summary;
pub mod templates;
pub mod wizard;
mod worker;
pub mod workflow_templates;

pub use domain::job::{LineMessage, LineRecord};
pub use error_log::{ErrorLogError, ErrorLogSummary, save_error_log, write_error_log};
pub use export::{ExportError, ExportOutcome, ExportRequest, Selection, create_export, run_export};
pub use import::{
    DryChain, EnrollPlan, ImportError, ImportRequest, Prepared, Report, TriggeredWorkflow,
    default_import_name, dry_run, dry_run_in, new_import_job, owner_is_dead, prepare,
    process_owner, resume_import, run_claimed, run_import, triggered_workflows,
};
pub use status::{StatusView, status_view};
pub use worker::work;

/// Logs an unexpected failure once, with a short reference, and returns the reference: what a
/// page, an API answer or a job's reason shows in its place (SPEC §13.2: internal error text
/// never reaches a page or an API response), so whoever met it can name it to whoever reads
/// the log.
pub fn incident(what: &str, detail: &dyn std::fmt::Display) -> String {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    let reference: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    tracing::error!(reference = %reference, error = %detail, "{what}");
    reference
}

/// The file store: uploads, exports and error logs under generated names.
pub fn files_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("files")
}
