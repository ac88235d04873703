//! Tests: SPEC §4 as tables of input → what is read, through one `check` helper; the
//! third-party corpora of `shared/testdata` as oracles; hostile inputs; properties.
//!
//! Every case is read twice — `inspect`, then the rows — and `render` cross-checks the two
//! (counts, sample rows), so each table line also tests that the two passes agree.

mod corpora;
mod hostile;
mod props;
mod rules;
mod workbooks;

use std::fmt::Write as _;
use std::io::Cursor;
use std::path::PathBuf;

use crate::{FileInfo, ReadOptions, Refusal, Row, inspect_reader, rows_reader};

/// Reads `bytes` and renders what was read, or `refused CODE: message`.
///
/// ```text
/// UTF-8 , records=2 blank=1
/// columns: id | name | ~
/// 2: "1" "Ann" ""
/// 3: blank
/// 4: "2" "" "" !encoding.invalid_byte@1
/// ```
/// `~` marks an ignored (fully blank) column, `''` a kept blank-headed column.
pub(crate) fn render(bytes: &[u8], opts: &ReadOptions) -> String {
    render_after(bytes, opts, 1)
}

pub(crate) fn render_after(bytes: &[u8], opts: &ReadOptions, after: u64) -> String {
    let info = match inspect_reader(Cursor::new(bytes.to_vec()), opts) {
        Ok(info) => info,
        Err(e) => return refused(&e),
    };
    let rows = match read_all(bytes, &info, after) {
        Ok(rows) => rows,
        Err(e) => return format!("rows failed: {}", refused(&e)),
    };
    if after == 1 {
        agree(&info, &rows);
    }
    let mut out = String::new();
    let delimiter = match info.delimiter {
        Some(b'\t') => "tab".to_owned(),
        Some(d) => (d as char).to_string(),
        None => "-".to_owned(),
    };
    let _ = writeln!(
        out,
        "{} {} records={} blank={}",
        info.encoding, delimiter, info.records, info.blank_rows
    );
    let columns: Vec<String> = info
        .columns
        .iter()
        .map(|c| match (c.ignored, c.header.as_str()) {
            (true, _) => "~".to_owned(),
            (false, "") => "''".to_owned(),
            (false, h) => h.to_owned(),
        })
        .collect();
    let _ = writeln!(out, "columns: {}", columns.join(" | "));
    for row in &rows {
        let _ = writeln!(out, "{}", render_row(row));
    }
    out
}

pub(crate) fn refused(e: &Refusal) -> String {
    format!("refused {}: {e}", e.code())
}

pub(crate) fn render_row(row: &Row) -> String {
    if row.blank {
        return format!("{}: blank", row.line);
    }
    let mut line = format!("{}:", row.line);
    for cell in &row.cells {
        let _ = write!(line, " {cell:?}");
    }
    for m in &row.messages {
        let _ = write!(line, " !{}@{}", m.code, m.column);
    }
    line
}

/// The rows, read with the iterator; `next_into` (which reuses one `Row`) must read the same.
pub(crate) fn read_all(bytes: &[u8], info: &FileInfo, after: u64) -> Result<Vec<Row>, Refusal> {
    let rows: Vec<Row> =
        rows_reader(Cursor::new(bytes.to_vec()), info, after)?.collect::<Result<_, _>>()?;
    let mut reused = rows_reader(Cursor::new(bytes.to_vec()), info, after)?;
    let mut row = Row::default();
    for expected in &rows {
        assert!(reused.next_into(&mut row)?, "next_into ended early");
        assert_eq!(&row, expected, "next_into reads what the iterator reads");
    }
    assert!(!reused.next_into(&mut row)?, "next_into reads no more rows");
    Ok(rows)
}

/// `inspect` and the rows must tell the same story.
fn agree(info: &FileInfo, rows: &[Row]) {
    let records = rows.iter().filter(|r| !r.blank).count() as u64;
    assert_eq!(info.records, records, "records counted by inspect vs rows");
    let blank = rows.iter().filter(|r| r.blank).count() as u64;
    assert_eq!(
        info.blank_rows, blank,
        "blank rows counted by inspect vs rows"
    );
    let sample: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.blank)
        .take(crate::SAMPLE_ROWS)
        .collect();
    assert_eq!(
        info.sample.iter().collect::<Vec<_>>(),
        sample,
        "sample rows"
    );
    let mut line = 1;
    for row in rows {
        assert!(row.line > line, "line numbers increase");
        line = row.line;
        assert_eq!(row.cells.len(), info.columns.len(), "one cell per column");
    }
}

/// Runs a table of `(name, input, expected)`: an expected text starting with `refused`, or
/// ending with `...`, must be a prefix of the result; any other must equal it (leading and
/// trailing blank lines and each line's indentation ignored). All failures are reported
/// together.
pub(crate) fn check(cases: &[(&str, Vec<u8>, &str)], opts: &ReadOptions) {
    let mut failures = String::new();
    for (name, input, expected) in cases {
        let actual = render(input, opts);
        if !matches(&actual, expected) {
            let _ = writeln!(
                failures,
                "--- {name}\nexpected:\n{}\nactual:\n{}",
                tidy(expected),
                shorten(&actual)
            );
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

pub(crate) fn matches(actual: &str, expected: &str) -> bool {
    let expected = tidy(expected);
    if let Some(prefix) = expected.strip_suffix("...") {
        tidy(actual).starts_with(prefix)
    } else if expected.starts_with("refused") || expected.starts_with("rows failed") {
        actual.starts_with(&expected)
    } else {
        tidy(actual) == expected
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(1500) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn tidy(text: &str) -> String {
    text.trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `shared/testdata`, beside the repository (`AESTHETIX_TESTDATA` overrides).
pub(crate) fn testdata() -> PathBuf {
    match std::env::var_os("AESTHETIX_TESTDATA") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"),
    }
}

pub(crate) fn corpus_file(relative: &str) -> Vec<u8> {
    let path = testdata().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "test data {} is missing ({e}); set AESTHETIX_TESTDATA to shared/testdata",
            path.display()
        )
    })
}

pub(crate) fn opts() -> ReadOptions {
    ReadOptions::default()
}
