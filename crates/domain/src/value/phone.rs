//! Phone numbers (SPEC §5.10).
