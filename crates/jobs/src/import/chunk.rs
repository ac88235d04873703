//! A decided chunk → what it writes (SPEC §6.7, §9.5): the contacts, one line result per line,
//! the chunk's totals and its workflow enrollments. Pure: no database, no file; the import
//! loop (`import::run`) reads, looks up, decides with `engine::plan_chunk`, builds the chunk
//! here and hands it to `store::ImportSession::apply_import_chunk`.

use std::collections::HashMap;

use domain::ObjectSchema;
use domain::job::{LineAction, LineMessage, LineStatus};
use domain::object::unique_value_key;
use engine::records::RecordPlan;
use engine::{ChunkPlan, LineResult};
use store::{
    ChunkWrite, ContactWrite, LineWrite, RecordChunkWrite, RecordRef, RecordWrite, Totals,
};

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
    let (lines, totals) = line_writes(
        &plan.lines,
        |i| match plan.contacts[i].id {
            Some(id) => RecordRef::Id(id),
            None => RecordRef::Written(write_index[&i]),
        },
        cells,
        blank,
    );
    write.lines = lines;
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

/// The line results of a decided chunk and the totals they make, for every object: every
/// line counts once as processed, and once as created, updated, skipped or an error (an
/// error line's action is `none`); a warning line counts among the warnings too. A line's
/// record is `record_of(index into the plan's records)`. Warning and error lines keep their
/// messages and original cells.
pub(crate) fn line_writes(
    lines: &[LineResult],
    record_of: impl Fn(usize) -> RecordRef,
    cells: &HashMap<u64, Vec<String>>,
    blank: i64,
) -> (Vec<LineWrite>, Totals) {
    let mut totals = Totals {
        blank,
        ..Totals::default()
    };
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
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
        let keep = l.status != LineStatus::Success;
        out.push(LineWrite {
            line: l.line,
            status: l.status,
            action: l.action,
            record: l.contact.map(&record_of),
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
    (out, totals)
}

/// What [`build_record_chunk`] gives the loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct BuiltRecords {
    pub write: RecordChunkWrite,
    /// Index into the plan's records → index into `write.records`, for each record written.
    pub write_index: HashMap<usize, usize>,
}

/// Builds the writes of a decided chunk of company or custom object rows (SPEC §8): the
/// records it touched (in plan order), each with its primary value and the unique values it
/// holds after and before — what the database's uniqueness rows follow — and the line
/// results and totals as for contacts ([`line_writes`]). `keep_values` as in
/// [`build_chunk`].
pub(crate) fn build_record_chunk(
    plan: &mut RecordPlan,
    schema: &ObjectSchema,
    blank: i64,
    checkpoint_line: u64,
    cells: &HashMap<u64, Vec<String>>,
    keep_values: bool,
) -> BuiltRecords {
    let unique_of = |values: &std::collections::BTreeMap<String, String>| -> Vec<(String, String)> {
        schema
            .unique()
            .filter_map(|f| {
                let v = values.get(&f.key)?;
                Some((f.key.clone(), unique_value_key(f.kind, v)))
            })
            .collect()
    };
    let mut write = RecordChunkWrite {
        object: Some(schema.object.clone()),
        checkpoint_line,
        ..RecordChunkWrite::default()
    };
    let mut write_index: HashMap<usize, usize> = HashMap::new();
    for (i, r) in plan.records.iter_mut().enumerate() {
        if !r.touched {
            continue;
        }
        write_index.insert(i, write.records.len());
        let values = if keep_values {
            r.values.clone()
        } else {
            std::mem::take(&mut r.values)
        };
        let before = r.before.take();
        write.records.push(RecordWrite {
            id: r.id,
            primary: schema
                .primary
                .as_deref()
                .and_then(|p| values.get(p))
                .cloned()
                .unwrap_or_default(),
            unique_after: unique_of(&values),
            unique_before: before.as_ref().map(&unique_of).unwrap_or_default(),
            values,
            before,
            line: r.first_line,
        });
    }
    let (lines, totals) = line_writes(
        &plan.lines,
        |i| match plan.records[i].id {
            Some(id) => RecordRef::Id(id),
            None => RecordRef::Written(write_index[&i]),
        },
        cells,
        blank,
    );
    write.lines = lines;
    write.totals = totals;
    BuiltRecords { write, write_index }
}

#[cfg(test)]
mod tests;
