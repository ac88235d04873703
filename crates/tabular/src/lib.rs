//! tabular
