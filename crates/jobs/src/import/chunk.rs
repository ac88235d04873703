//! A decided chunk → what it writes (SPEC §6.7, §9.5): the contacts, one line result per line,
//! the chunk's totals and its workflow enrollments. Pure: no database, no file; the import
//! loop (`import::run`) reads, looks up, decides with `engine::plan_chunk`, builds the chunk
//! here and hands it to `store::ImportSession::apply_import_chunk`.

use std::collections::HashMap;

use domain::job::{LineAction, LineMessage, LineStatus};
use engine::ChunkPlan;
use store::{ChunkWrite, ContactWrite, LineWrite, RecordRef, Totals};

use super::EnrollPlan;

/// What [`build_chunk`] gives the loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct BuiltChunk {
    pub write: ChunkWrite,
    /// Index into the plan's contacts → index into `write.contacts`, for each contact written.
    pub write_index: HashMap<usize, usize>,
    /// Index into `write.contacts` → the workflows that contact enrolls in.
    pub enroll_of: HashMap<usize, Vec<i64>>,
}

/// Builds the writes of a decided chunk.
///
/// - `blank` is the chunk's blank lines, counted by the reader (they have no line result);
/// - `cells` are the rows' original cells by line, kept for warning and error lines only;
/// - `keep_values`: a dry run keeps each contact's values in the plan (it carries them to
///   later chunks); a real run moves them into the write.
///
/// Only contacts the chunk touched are written. A line's record is the contact's id, or the
/// index of the contact this chunk creates. Every line counts once as processed, and once as
/// created, updated, skipped or an error (an error line's action is `none`); a warning line
/// counts among the warnings too. A contact enrolls once per workflow, and the enrollments are
/// sorted, so the same chunk always writes the same rows.
pub(crate) fn build_chunk(
    plan: &mut ChunkPlan,
    blank: i64,
    checkpoint_line: u64,
    cells: &HashMap<u64, Vec<String>>,
    enroll: &EnrollPlan,
    keep_values: bool,
) -> BuiltChunk {
    let mut write = ChunkWrite {
        checkpoint_line,
        ..ChunkWrite::default()
    };
    let mut write_index: HashMap<usize, usize> = HashMap::new();
    for (i, c) in plan.contacts.iter_mut().enumerate() {
        if !c.touched {
            continue;
        }
        write_index.insert(i, write.contacts.len());
        // After this the plan is read only for ids, lines, tags and new tags — and, in a dry
        // run, for the values it carries on to later chunks — so the rest moves into the
        // write.
        let values = if keep_values {
            c.values.clone()
        } else {
            std::mem::take(&mut c.values)
        };
        write.contacts.push(ContactWrite {
            id: c.id,
            values,
            before: c.before.take(),
            new_tags: c.new_tags.clone(),
            new_emails: std::mem::take(&mut c.new_emails),
            new_phones: std::mem::take(&mut c.new_phones),
            notes: std::mem::take(&mut c.notes)
                .into_iter()
                .map(|(_, n)| n)
                .collect(),
            line: c.first_line,
        });
    }
    let mut totals = Totals {
        blank,
        ..Totals::default()
    };
    for l in &plan.lines {
        totals.processed += 1;
        match l.action {
            LineAction::Created => totals.created += 1,
            LineAction::Updated => totals.updated += 1,
            LineAction::Skipped => totals.skipped += 1,
            LineAction::None => totals.errors += 1,
        }
        if l.status == LineStatus::Warning {
            totals.warnings += 1;
        }
        let record = l.contact.map(|i| match plan.contacts[i].id {
            Some(id) => RecordRef::Id(id),
            None => RecordRef::Written(write_index[&i]),
        });
        let keep = l.status != LineStatus::Success;
        write.lines.push(LineWrite {
            line: l.line,
            status: l.status,
            action: l.action,
            record,
            primary: l.primary.clone(),
            messages: keep.then(|| {
                serde_json::to_string(&l.messages.iter().map(LineMessage::from).collect::<Vec<_>>())
                    .expect("messages serialise")
            }),
            cells: keep
                .then(|| cells.get(&l.line))
                .flatten()
                .map(|c| serde_json::to_string(c).expect("strings serialise")),
        });
    }
    write.totals = totals;
    let mut by_workflow: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut enroll_of: HashMap<usize, Vec<i64>> = HashMap::new();
    for (plan_i, write_i) in &write_index {
        let c = &plan.contacts[*plan_i];
        let workflows = enroll.workflows_for(c.id.is_none(), &c.new_tags);
        for w in &workflows {
            by_workflow.entry(*w).or_default().push(*write_i);
        }
        enroll_of.insert(*write_i, workflows);
    }
    let mut enrollments: Vec<(i64, Vec<usize>)> = by_workflow.into_iter().collect();
    for (_, written) in enrollments.iter_mut() {
        written.sort_unstable();
    }
    enrollments.sort();
    write.enrollments = enrollments;
    BuiltChunk {
        write,
        write_index,
        enroll_of,
    }
}

#[cfg(test)]
mod tests;
