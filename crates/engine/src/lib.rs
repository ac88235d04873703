//! The import engine (SPEC §6): mapping, row → record, matching and merging, line results.
//! Pure over data: it never opens a connection.
