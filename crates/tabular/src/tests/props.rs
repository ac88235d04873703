//! Properties: any bytes give a refusal or rows, never a panic; the two passes agree; our
//! parser reads what the `csv` crate reads, wherever SPEC §4 does not say otherwise; how the
//! input is cut into buffers never changes what is read.

use std::io::Cursor;

use proptest::prelude::*;

use super::{opts, render};
use crate::parse::{Parser, Record};

/// Text made of the characters that matter to a CSV reader.
fn csvish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(","),
            Just(";"),
            Just("\t"),
            Just("\""),
            Just("\n"),
            Just("\r"),
            Just("\r\n"),
            Just(" "),
            Just("a"),
            Just("bc"),
            Just("é"),
            Just("\0"),
        ],
        0..80,
    )
    .prop_map(|parts| parts.concat())
}

/// All records of `input`, fed in chunks of `chunk` bytes; `None` for an unclosed quote.
fn parse_all(input: &[u8], delimiter: u8, chunk: usize) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut parser = Parser::new(delimiter);
    let mut record = Record::default();
    let mut out = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        let mut rest = piece;
        loop {
            let (n, done) = parser.feed(rest, &mut record);
            rest = &rest[n..];
            if done {
                out.push(record.iter().map(<[u8]>::to_vec).collect());
                record.clear();
            } else {
                break;
            }
        }
    }
    match parser.finish(&mut record) {
        Ok(true) => out.push(record.iter().map(<[u8]>::to_vec).collect()),
        Ok(false) => {}
        Err(_) => return None,
    }
    Some(out)
}

fn is_empty_line(record: &[Vec<u8>]) -> bool {
    record.len() == 1 && record[0].is_empty()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_give_a_refusal_or_rows(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let out = render(&bytes, &opts());
        prop_assert!(!out.starts_with("rows failed"), "{}", out);
    }

    #[test]
    fn any_csvish_text_gives_a_refusal_or_rows(text in csvish()) {
        let out = render(text.as_bytes(), &opts());
        prop_assert!(!out.starts_with("rows failed"), "{}", out);
    }

    #[test]
    fn any_bytes_behind_a_zip_signature_give_a_refusal_or_rows(
        bytes in proptest::collection::vec(any::<u8>(), 0..300)
    ) {
        let mut file = b"PK\x03\x04".to_vec();
        file.extend_from_slice(&bytes);
        let out = render(&file, &opts());
        prop_assert!(out.starts_with("refused"), "{}", out);
    }

    /// The `csv` crate is the reference: same records, except that it skips empty lines
    /// (we keep them as blank rows) and reads an unclosed quote to the end (we refuse).
    #[test]
    fn our_parser_reads_what_the_csv_crate_reads(text in csvish(), delimiter in prop_oneof![Just(b','), Just(b';'), Just(b'\t')]) {
        let Some(ours) = parse_all(text.as_bytes(), delimiter, usize::MAX) else {
            return Ok(());
        };
        let theirs: Vec<Vec<Vec<u8>>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes())
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect();
        let ours: Vec<_> = ours.into_iter().filter(|r| !is_empty_line(r)).collect();
        let theirs: Vec<_> = theirs.into_iter().filter(|r| !is_empty_line(r)).collect();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn buffer_boundaries_never_change_records(text in csvish(), chunk in 1usize..9) {
        prop_assert_eq!(
            parse_all(text.as_bytes(), b',', chunk),
            parse_all(text.as_bytes(), b',', usize::MAX)
        );
    }

    /// The byte counts behind the encoding decision do not depend on where reads stop.
    #[test]
    fn utf8_counts_are_exact(prefix in 0usize..8, text in "\\PC{0,40}", junk in proptest::collection::vec(0x80u8..0xC0, 0..3)) {
        // Pad so that the text straddles the counter's 64 KiB buffer boundary.
        let mut bytes = vec![b'a'; (1 << 16) - prefix];
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(&junk);
        let stats = crate::charset::count(&mut Cursor::new(&bytes)).unwrap();
        let multibyte = text.chars().filter(|c| c.len_utf8() > 1).count() as u64;
        prop_assert_eq!(stats.multibyte, multibyte);
        prop_assert_eq!(stats.invalid, junk.len() as u64);
        prop_assert_eq!(stats.total, bytes.len() as u64);
    }
}

/// A cell of a generated sheet, as a function of its row number: mostly well-formed cells of
/// every type, sometimes an odd reference (column past the caps, row 0, no row, another row).
#[derive(Debug, Clone)]
struct Cell {
    column: &'static str,
    row: Option<u64>,
    kind: String,
    value: String,
    style: u8,
}

impl Cell {
    fn xml(&self, number: usize) -> String {
        let number = self.row.unwrap_or(number as u64);
        let (column, kind, value, style) = (self.column, &self.kind, &self.value, self.style);
        let inner = if kind.contains("inlineStr") {
            format!("<is><t>{value}</t></is>")
        } else {
            format!("<v>{value}</v>")
        };
        format!(r#"<c r="{column}{number}"{kind} s="{style}">{inner}</c>"#)
    }
}

fn xml_cell() -> impl Strategy<Value = Cell> {
    let column = prop_oneof![
        40 => prop_oneof![Just("A"), Just("B"), Just("C"), Just("E"), Just("ALL")],
        1 => prop_oneof![Just("ALM"), Just("XFD"), Just("")],
    ];
    let row = prop_oneof![
        40 => Just(None),
        1 => prop_oneof![Just(Some(0u64)), Just(Some(1_048_577)), Just(Some(3))],
    ];
    let typed = prop_oneof![
        48 => "-?[0-9]{1,9}(\\.[0-9]{1,6})?".prop_map(|v| (String::new(), v)),
        4 => Just((r#" t="b""#.to_owned(), "1".to_owned())),
        4 => Just((r#" t="e""#.to_owned(), "#N/A".to_owned())),
        4 => Just((r#" t="s""#.to_owned(), "0".to_owned())),
        4 => Just((r#" t="d""#.to_owned(), "2024-01-02T03:04:05".to_owned())),
        32 => "[ a-zA-Z0-9é\u{0}&<]{0,12}".prop_map(|s| {
            let escaped = s.replace('&', "&amp;").replace('<', "&lt;").replace('\0', "_x0000_");
            (r#" t="inlineStr""#.to_owned(), escaped)
        }),
        1 => "[0-9.eE+a-z-]{0,8}".prop_map(|v| (r#" t="n""#.to_owned(), v)),
    ];
    (column, row, typed, 0u8..6).prop_map(|(column, row, (kind, value), style)| Cell {
        column,
        row,
        kind,
        value,
        style,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any cells in a well-formed workbook give a refusal or rows, never a panic, and the two
    /// passes agree (checked inside `render`).
    #[test]
    fn any_cells_in_a_workbook_give_a_refusal_or_rows(
        rows in proptest::collection::vec(proptest::collection::vec(xml_cell(), 0..5), 0..8),
        shared in proptest::collection::vec("[a-z ]{0,6}", 1..3),
    ) {
        let rows: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, cells)| {
                let cells: String = cells.iter().map(|cell| cell.xml(i + 1)).collect();
                format!(r#"<row r="{}">{cells}</row>"#, i + 1)
            })
            .collect();
        let strings: Vec<&str> = shared.iter().map(String::as_str).collect();
        let book = super::workbooks::Book::default().shared_strings(&strings).sheet("S", &rows).build();
        let out = render(&book, &opts());
        prop_assert!(!out.starts_with("rows failed"), "{}", out);
    }
}
