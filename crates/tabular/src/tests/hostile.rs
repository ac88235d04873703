//! The public path-based API end to end, and inputs shaped to hit buffer boundaries.

use std::path::PathBuf;

use super::{opts, render, render_row};
use crate::{FileKind, ReadOptions, inspect, rows, rows_after};

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("tabular-test-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn inspect_then_rows_from_a_path() {
    let file = TempFile::new("contacts.csv", b"Name;Email\nAnn;a@x.io\n\nBo;b@x.io\n");
    let info = inspect(&file.0, &ReadOptions::default()).unwrap();
    assert_eq!(info.kind, FileKind::Delimited);
    assert_eq!((info.encoding, info.delimiter), ("UTF-8", Some(b';')));
    assert_eq!((info.records, info.blank_rows), (2, 1));
    let lines: Vec<String> = rows(&file.0, &info)
        .unwrap()
        .map(|r| render_row(&r.unwrap()))
        .collect();
    assert_eq!(
        lines,
        ["2: \"Ann\" \"a@x.io\"", "3: blank", "4: \"Bo\" \"b@x.io\""]
    );
    let resumed: Vec<u64> = rows_after(&file.0, &info, 3)
        .unwrap()
        .map(|r| r.unwrap().line)
        .collect();
    assert_eq!(resumed, [4]);

    // The file changed after it was inspected: refused, never misread.
    std::fs::write(&file.0, b"Name;Email\nAnn;a@x.io\n\nBo;b@x.io\nCy;c@x.io\n").unwrap();
    let changed = rows(&file.0, &info).err().unwrap();
    assert_eq!(changed.code(), "file.changed");

    let big = TempFile::new("big.csv", &[b'a'; 101]);
    let small = ReadOptions {
        max_file_bytes: 100,
        ..ReadOptions::default()
    };
    assert_eq!(
        inspect(&big.0, &small).unwrap_err().code(),
        "file.too_large"
    );
    let missing = inspect(&file.0.with_extension("missing"), &opts()).unwrap_err();
    assert!(missing.is_io());
}

#[test]
fn a_workbook_from_a_path() {
    use super::workbooks::{Book, row, s};
    let book = Book::default()
        .sheet(
            "Patients",
            &[row(&[s("A1", "Name")]), row(&[s("A2", "Ann")])],
        )
        .build();
    let file = TempFile::new("contacts.xlsx", &book);
    let info = inspect(&file.0, &opts()).unwrap();
    assert_eq!((info.kind, info.encoding), (FileKind::Xlsx, "xlsx"));
    assert_eq!(info.sheet.as_deref(), Some("Patients"));
    let cells: Vec<Vec<String>> = rows(&file.0, &info)
        .unwrap()
        .map(|r| r.unwrap().cells)
        .collect();
    assert_eq!(cells, [["Ann"]]);
}

/// A CRLF cut between two 64 KiB buffers is one line end, not a blank row; a multi-byte
/// character cut between buffers is one character.
#[test]
fn line_ends_and_characters_cut_by_buffers() {
    for shift in 0..4 {
        let mut file = b"a,b\n".to_vec();
        let filler = (1 << 16) - file.len() - 4 - shift;
        file.extend_from_slice(b"x,");
        file.extend(std::iter::repeat_n(b'y', filler));
        file.extend_from_slice("é\r\nz,é\r\n".as_bytes());
        let out = render(&file, &opts());
        assert!(
            out.starts_with("UTF-8 , records=2 blank=0\n"),
            "{shift}: {}",
            &out[..60]
        );
        assert!(out.ends_with("é\"\n3: \"z\" \"é\"\n"), "{shift}");
    }
    // UTF-16: the decoder's output crosses buffers too.
    let text = format!("a\tb\r\n{}\tʤ\r\n", "é".repeat(40_000));
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let out = render(&utf16, &opts());
    assert!(out.starts_with("UTF-16LE tab records=1 blank=0\n"));
    assert!(out.ends_with("\" \"ʤ\"\n"));
}

/// A first line longer than the delimiter look-ahead is still read (and refused for its size
/// if a cell is too large), never buffered whole.
#[test]
fn a_header_longer_than_the_look_ahead() {
    let header: Vec<String> = (0..900).map(|i| format!("{i:0>1200}")).collect();
    let file = format!("{}\n{}\n", header.join(";"), vec!["v"; 900].join(";"));
    assert!(file.len() > 1 << 20);
    let out = render(file.as_bytes(), &opts());
    assert!(
        out.starts_with("UTF-8 ; records=1 blank=0"),
        "{}",
        &out[..80]
    );
}

/// The legacy decoders stream: a Windows-1252 file larger than every buffer.
#[test]
fn a_large_legacy_file() {
    let mut text = String::from("Name,City\n");
    for i in 0..20_000 {
        text.push_str(&format!("Renée {i},Zürich\n"));
    }
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    let out = render(&bytes, &opts());
    assert!(out.starts_with("windows-1252 , records=20000 blank=0"));
    assert!(out.ends_with("20001: \"Renée 19999\" \"Zürich\"\n"));
}
