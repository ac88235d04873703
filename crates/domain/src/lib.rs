//! The vocabulary of Aesthetix: the field catalogue (SPEC §3), location settings (SPEC §2), and
//! how every field type reads a cell (SPEC §5) with the messages a user sees.
//!
//! This crate does no I/O: no files, no database, no clock reads hidden in a parser (the
//! current date is passed in where a rule needs it). Everything here is a pure function over
//! data, so the rules can be tested as tables of cases.

pub mod field;
pub mod job;
pub mod location;
pub mod message;
pub mod object;
pub mod pipeline;
pub mod revert;
pub mod smart_list;
pub mod value;
pub mod workflow;

pub use field::{CustomFieldType, FieldKind, ObjectKind, STANDARD_CONTACT_FIELDS, StandardField};
pub use location::{DateOrder, LocationSettings, MatchOrder, Role};
pub use object::{CustomFieldDef, CustomObjectDef, ObjectField, ObjectSchema};
