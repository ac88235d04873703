//! The companies' and custom objects' part of the import loop (SPEC §8): one batched lookup
//! of the chunk's Record IDs and unique values, `engine::records::plan_records`,
//! `chunk::build_record_chunk`, and the write with the checkpoint in one transaction
//! (`Store::apply_record_chunk`). Everything else — reading, chunking, line results, totals,
//! pause and cancel, resume — is the shared loop's (`import::run`).
//!
//! A dry run writes nothing, so what its earlier chunks decided is carried here: per record
//! only what a later line's decision reads (the object's `carried` fields: the primary field
//! and the unique values), looked up by id and by unique value.

use std::collections::HashMap;

use domain::object::unique_value_key;
use engine::records::{ExistingRecord, RecordOptions, plan_records};
use store::{AfterChunk, Lease, Store};

use super::chunk::{BuiltRecords, build_record_chunk};
use super::{CONFLICT_RETRIES, ChunkDone, ImportError, Prepared, ReadChunk, Touched, line_record};

/// What a dry run's earlier chunks decided about records.
#[derive(Default)]
struct DryRecords {
    /// Carried records by id (negative for those the dry run would create).
    records: HashMap<i64, ExistingRecord>,
    /// (field key, value key) → record id.
    by_unique: HashMap<(String, String), i64>,
    next_id: i64,
}

pub(super) struct RecordChunks<'a> {
    store: &'a Store,
    prepared: &'a Prepared,
    options: &'a RecordOptions,
    /// `None` for a dry run.
    lease: Option<Lease>,
    touched: HashMap<i64, Touched>,
    dry: Option<DryRecords>,
}

impl<'a> RecordChunks<'a> {
    pub(super) fn new(
        store: &'a Store,
        prepared: &'a Prepared,
        options: &'a RecordOptions,
        lease: Option<Lease>,
        touched: HashMap<i64, Touched>,
    ) -> RecordChunks<'a> {
        let dry = lease.is_none().then(|| DryRecords {
            next_id: -1,
            ..DryRecords::default()
        });
        RecordChunks {
            store,
            prepared,
            options,
            lease,
            touched,
            dry,
        }
    }

    pub(super) async fn chunk(&mut self, read: ReadChunk) -> Result<ChunkDone, ImportError> {
        let schema = &self.prepared.schema;
        let location = self.prepared.location.id;
        let ReadChunk {
            records: inputs,
            cells,
            blank,
            checkpoint_line,
            ..
        } = read;
        // The chunk's match keys: its Record IDs and every mapped unique value.
        let ids: Vec<i64> = inputs
            .iter()
            .filter_map(|i| i.record_id.as_ref()?.trim().parse().ok())
            .collect();
        let mut unique: Vec<(String, String)> = Vec::new();
        for input in &inputs {
            for key in &self.options.unique {
                if let (Some(v), Some(f)) = (input.value(key), schema.field(key)) {
                    unique.push((key.clone(), unique_value_key(f.kind, v)));
                }
            }
        }
        let mut attempt = 0u32;
        let mut stopped = None;
        let (plan, built, written) = loop {
            attempt += 1;
            let found = self
                .store
                .records_for_matching(location, &schema.object, &ids, &unique)
                .await?;
            let mut snapshot: Vec<ExistingRecord> = Vec::with_capacity(found.len());
            let mut seen = std::collections::HashSet::new();
            for r in found {
                seen.insert(r.id);
                if let Some(carried) = self.dry.as_ref().and_then(|d| d.records.get(&r.id)) {
                    snapshot.push(carried.clone());
                    continue;
                }
                let t = self.touched.get(&r.id).copied();
                snapshot.push(ExistingRecord {
                    id: r.id,
                    values: r.values,
                    touched_line: t.map(|t| t.line),
                    created_by_import: t.is_some_and(|t| t.created),
                });
            }
            if let Some(d) = &self.dry {
                let wanted = ids
                    .iter()
                    .copied()
                    .chain(unique.iter().filter_map(|k| d.by_unique.get(k).copied()));
                for id in wanted {
                    if seen.insert(id)
                        && let Some(carried) = d.records.get(&id)
                    {
                        snapshot.push(carried.clone());
                    }
                }
            }
            let mut plan = plan_records(inputs.clone(), snapshot, schema, self.options);
            let built = build_record_chunk(
                &mut plan,
                schema,
                blank,
                checkpoint_line,
                &cells,
                self.dry.is_some(),
            );
            let written: Vec<i64> = match (&self.lease, self.dry.as_mut()) {
                (Some(lease), _) => {
                    match self.store.apply_record_chunk(lease, &built.write).await {
                        Ok((ids, after)) => {
                            if after != AfterChunk::Running {
                                stopped = Some(after);
                            }
                            ids
                        }
                        // Another import took one of these unique values between the lookup and
                        // the write (the database refused it and the chunk rolled back): look up
                        // and decide again, so the rows meet that record.
                        Err(e) if e.is_conflict() && attempt < CONFLICT_RETRIES => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                (None, Some(d)) => built
                    .write
                    .records
                    .iter()
                    .map(|r| {
                        r.id.unwrap_or_else(|| {
                            d.next_id -= 1;
                            d.next_id + 1
                        })
                    })
                    .collect(),
                (None, None) => unreachable!("a dry run carries its records"),
            };
            break (plan, built, written);
        };
        let BuiltRecords { write, write_index } = built;
        let carried = schema.carried();
        for (plan_i, write_i) in &write_index {
            let r = &plan.records[*plan_i];
            let id = written[*write_i];
            self.touched.insert(
                id,
                Touched {
                    line: r.touched_line.unwrap_or(r.first_line),
                    created: r.created_by_import,
                },
            );
            if let Some(d) = self.dry.as_mut() {
                let record = ExistingRecord {
                    id,
                    values: r
                        .values
                        .iter()
                        .filter(|(k, _)| carried.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    touched_line: r.touched_line,
                    created_by_import: r.created_by_import,
                };
                if let Some(old) = d.records.get(&id) {
                    for (k, v) in &old.values {
                        if let Some(f) = schema.field(k).filter(|f| f.unique) {
                            d.by_unique
                                .remove(&(k.clone(), unique_value_key(f.kind, v)));
                        }
                    }
                }
                for (k, v) in &record.values {
                    if let Some(f) = schema.field(k).filter(|f| f.unique) {
                        d.by_unique
                            .insert((k.clone(), unique_value_key(f.kind, v)), id);
                    }
                }
                d.records.insert(id, record);
            }
        }
        let lines = plan
            .lines
            .iter()
            .zip(&write.lines)
            .map(|(l, w)| line_record(l, w, &written))
            .collect();
        Ok(ChunkDone {
            lines,
            totals: write.totals,
            stopped,
        })
    }
}
