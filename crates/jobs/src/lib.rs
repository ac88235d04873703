//! Bulk Actions (SPEC §9): the jobs that import and export, run chunk by chunk with each
//! chunk's writes, line results and checkpoint committed together.
//!
//! This crate is where reading (`tabular`), deciding (`engine`) and writing (`store`) meet;
//! the CLI, the web wizard and the API all call the same functions here.

pub mod error_log;
pub mod import;
pub mod status;

pub use error_log::{ErrorLogError, ErrorLogSummary, save_error_log, write_error_log};
pub use import::{
    EnrollPlan, ImportError, ImportRequest, Prepared, Report, ReportLine, ReportMessage,
    TriggeredWorkflow, prepare, process_owner, resume_import, run_claimed, run_import,
    triggered_workflows, work,
};
pub use status::{StatusView, status_view};
