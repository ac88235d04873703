//! Bulk Actions (SPEC §9): the jobs that import and export, run chunk by chunk with each
//! chunk's writes, line results and checkpoint committed together.
//!
//! This crate is where reading (`tabular`), deciding (`engine`) and writing (`store`) meet;
//! the CLI, the web wizard and the API all call the same functions here.

pub mod error_log;
pub mod export;
pub mod import;
mod worker;

pub use error_log::{ErrorLogError, ErrorLogSummary, save_error_log, write_error_log};
pub use export::{
    ExportError, ExportOutcome, ExportRequest, Selection, create_export, files_dir, run_export,
};
pub use import::{
    EnrollPlan, ImportError, ImportRequest, Prepared, Report, ReportLine, ReportMessage,
    TriggeredWorkflow, prepare, process_owner, resume_import, run_claimed, run_import,
    triggered_workflows,
};
pub use worker::work;
