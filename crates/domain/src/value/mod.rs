//! Reading cells by field type (SPEC §5). Every reader is a pure function: it returns the
//! typed value it could read, or a [`crate::message::Message`] saying why not. One bad cell
//! costs that field, never the row: the caller leaves the field out and keeps the message.

pub mod phone;
