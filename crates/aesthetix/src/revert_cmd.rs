//! `aesthetix jobs revert JOB`: undo an import (SPEC §9.4) and say what was undone and what
//! was left alone. The work is `Store::revert_import`, one transaction; this only prints.

use anyhow::Context;
use store::Store;

pub async fn run(store: &Store, job: i64) -> anyhow::Result<()> {
    let not_found = || {
        format!(
            "there is no job {job}; `aesthetix jobs list --location NAME` lists a location's jobs"
        )
    };
    let location = store.job_location(job).await.with_context(not_found)?;
    let report = match store.revert_import(location, job).await {
        Ok(r) => r,
        Err(e) if e.is_conflict() => anyhow::bail!("cannot revert: {e}"),
        Err(e) => return Err(e).with_context(|| format!("could not revert job {job}")),
    };
    println!("Reverted job {job}.");
    println!(
        "Deleted {} contact(s) it created; restored {} contact(s) it updated.",
        report.deleted.len(),
        report.restored.len()
    );
    if !report.deleted.is_empty() {
        println!("Deleted: {}", ids(&report.deleted));
    }
    if !report.restored.is_empty() {
        println!("Restored: {}", ids(&report.restored));
    }
    if !report.opportunities_deleted.is_empty() || !report.opportunities_restored.is_empty() {
        println!(
            "Opportunities: deleted {} it created; restored {} it updated.",
            report.opportunities_deleted.len(),
            report.opportunities_restored.len()
        );
    }
    if report.conflicts.is_empty() {
        println!("Nothing was left alone.");
    } else {
        println!("Left alone ({}):", report.conflicts.len());
        for c in &report.conflicts {
            println!("  line {}: contact {} — {}", c.line, c.contact_id, c.reason);
        }
    }
    Ok(())
}

fn ids(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
