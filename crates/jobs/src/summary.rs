//! A Bulk Action as JSON: the one shape `jobs list --json`, `jobs show --json` and the API's
//! `/api/v1/bulk-actions` print (SPEC §13.1: `{"id", "operation", "object", "status",
//! "file_name", "processed", "total", "totals"}`, with the name and the status's reason).

use serde_json::{Value, json};
use store::{Job, LineRecord};

/// `totals` of SPEC §13.1: `rows` = created + updated + skipped + errors + blank.
pub fn totals_json(job: &Job) -> Value {
    let t = job.totals;
    json!({
        "rows": t.created + t.updated + t.skipped + t.errors + t.blank,
        "created": t.created,
        "updated": t.updated,
        "skipped": t.skipped,
        "errors": t.errors,
        "warnings": t.warnings,
        "blank": t.blank,
    })
}

/// One job, as listed. `status` is the stored one of SPEC §13.1 (a reverted import stays
/// `completed` or `cancelled`, with `reverted` and `reverted_at`); `status_reason` says why
/// it waits, stopped or failed, in words ([`crate::status_view`]).
pub fn job_json(job: &Job) -> Value {
    let view = crate::status_view(job, store::now_ms());
    json!({
        "id": job.id,
        "name": job.name,
        "operation": job.operation,
        "object": job.object,
        "status": job.status,
        "status_reason": view.reason,
        "reverted": job.reverted_at.is_some(),
        "reverted_at": job.reverted_at,
        "file_name": job.file_name,
        "processed": job.totals.processed,
        "total": job.total,
        "totals": totals_json(job),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    })
}

/// One line of a job's log, shaped as a `--report` line (SPEC §13.1), plus the original
/// cells of a warning or error line.
pub fn line_json(line: &LineRecord) -> Value {
    json!({
        "line": line.line,
        "status": line.status,
        "action": line.action,
        "record_id": line.record_id,
        "primary": line.primary,
        "messages": line.messages.iter().map(|m| json!({
            "level": m.level,
            "code": m.code,
            "field": m.field,
            "message": m.message,
            "resolution": m.resolution,
        })).collect::<Vec<_>>(),
        "cells": line.cells,
    })
}
