//! The import engine (SPEC §6): mapping columns to fields, reading a row into a typed contact
//! input, and deciding per line — create, update, skip or fail — against a snapshot of what
//! exists.
//!
//! Invariant: this crate never opens a connection or a file. The caller (the `jobs` crate)
//! reads rows with `tabular`, looks a chunk's identifiers up in the store, asks
//! [`plan_chunk`] what to do, and writes the plan in one transaction.

pub mod decide;
pub mod infer;
pub mod mapping;
pub mod opportunities;
pub mod presets;
pub mod record;
pub mod records;

pub use decide::{
    Action, ChunkPlan, Existing, LineResult, LineStatus, MatchOptions, Mode, Planned, plan_chunk,
};
pub use mapping::{
    ColumnPlan, ColumnUse, MappingError, MappingInput, Target, Why, map_columns, normalise_header,
    parse_map_arg,
};
pub use presets::{Preset, PresetChoice};
pub use record::{
    ContactInput, RowCache, RowContext, primary_of, read_record_with, read_row, read_row_with,
};
