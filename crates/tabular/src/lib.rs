//! Bytes → header + rows: every file-level rule of SPEC §4.
//!
//! This crate owns reading an uploaded file: recognising its kind by content (an XLSX workbook
//! is a zip archive, anything else is delimited text), deciding its encoding once (SPEC §4's
//! exact rule), detecting the delimiter from the header line, parsing RFC 4180 quoting, reading
//! one sheet of a workbook behind a zip pre-scan, and refusing a whole file — with a stable code
//! and a message in the user's words — before anything is written.
//!
//! It never interprets a value (no trimming of values, no dates or phones: that is `domain`),
//! never maps headers to fields (that is `engine`), never writes anything anywhere (not even an
//! archive member to a temporary file), never holds a whole file in memory, and never panics on
//! any bytes. Reading a row never fails: a row carries [`CellMessage`]s; `Result` is only for a
//! [`Refusal`] of the whole file and for I/O.
//!
//! Two calls — [`inspect`], which validates the whole file and says what it holds, then
//! [`rows`] (or [`rows_after`], to resume after a checkpointed line), which streams the rows:
//!
//! ```no_run
//! use std::path::Path;
//! let path = Path::new("contacts.csv");
//! let info = tabular::inspect(path, &tabular::ReadOptions::default())?;
//! println!("{} rows in {}", info.records, info.encoding);
//! for row in tabular::rows(path, &info)? {
//!     let row = row?;
//!     if row.blank {
//!         continue;
//!     }
//!     println!("row {}: {:?}", row.line, row.cells);
//! }
//! # Ok::<(), tabular::Refusal>(())
//! ```
//!
//! Line numbers (`Row::line`) are the row numbers a spreadsheet shows (SPEC §13.1): the header
//! is row 1, the first record row 2, a record whose quoted cells hold line breaks is one row,
//! and blank rows keep their numbers. In a hot loop, [`Rows::next_into`] reuses one [`Row`].
//!
//! Why our own delimited-text parser rather than the `csv` crate: the `csv` crate silently
//! skips empty lines (so blank rows would lose their numbers), reads an unclosed quote to the
//! end of the file without saying so, and buffers a cell of any size. The parser in `parse`
//! follows the `csv` crate's quoting behaviour byte for byte — a property test checks it
//! against the `csv` crate — and adds exactly those three things.

mod cells;
mod charset;
mod decode;
mod parse;
mod refusal;
mod text;
mod xlsx;

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

pub use refusal::Refusal;

/// Size limit of a file (SPEC §4: 30 MB, a setting).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 30_000_000;
/// Total inflated size of a workbook's archive members (SPEC §4).
pub const DEFAULT_MAX_XLSX_INFLATED_BYTES: u64 = 200_000_000;
/// Largest cell, in bytes once decoded to UTF-8 (SPEC §4: 128 KB).
pub const MAX_CELL_BYTES: usize = 131_072;
/// Most columns a file may have (SPEC §4).
pub const MAX_COLUMNS: usize = 1_000;
/// Most rows a sheet may have, header included (SPEC §4).
pub const MAX_XLSX_ROWS: u64 = 1_048_576;
/// How many non-blank rows [`FileInfo::sample`] holds for the mapping preview.
pub const SAMPLE_ROWS: usize = 5;

/// What the caller may choose about reading a file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Refuse files larger than this many bytes (`file.too_large`).
    pub max_file_bytes: u64,
    /// Refuse workbooks whose archive members inflate to more than this many bytes in total,
    /// counted while inflating (`xlsx.too_large`).
    pub max_xlsx_inflated_bytes: u64,
    /// The sheet to read from a workbook (`--sheet NAME`, the wizard's picker). Required when a
    /// workbook has several sheets; refused on delimited text (`file.sheet_on_csv`).
    pub sheet: Option<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_xlsx_inflated_bytes: DEFAULT_MAX_XLSX_INFLATED_BYTES,
            sheet: None,
        }
    }
}

/// The kind of a file, recognised by its content, never by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Delimited text: CSV, TSV, Excel's "Unicode Text", …
    Delimited,
    /// An XLSX workbook.
    Xlsx,
}

/// One column of the file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header cell, trimmed (SPEC §4). Blank for a blank-headed column.
    pub header: String,
    /// A *fully blank column*: blank header and no value in any row. Callers ignore it (it is
    /// neither mapped nor reported as unmatched). A blank-headed column holding values is not
    /// ignored: it is an unmatched column (SPEC §6.1).
    pub ignored: bool,
}

/// What [`inspect`] learned about a file; pass it to [`rows`] to read the rows.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub kind: FileKind,
    /// The encoding SPEC §4 chose, by its WHATWG label (`UTF-8`, `UTF-16LE`, `UTF-16BE`,
    /// `windows-1252`, `windows-1253`, …, `macintosh`), or `xlsx` for a workbook.
    pub encoding: &'static str,
    /// The delimiter detected from the header line (`,`, `;` or tab); `None` for a workbook.
    pub delimiter: Option<u8>,
    /// The sheet read from a workbook.
    pub sheet: Option<String>,
    /// A workbook in the 1904 date system (its serial numbers count days from 1904-01-01):
    /// the importer reads a number in a date column as a serial date (SPEC §5.3). False for
    /// delimited text.
    pub date_1904: bool,
    /// The columns; every [`Row::cells`] has exactly one cell per column.
    pub columns: Vec<Column>,
    /// Non-blank record rows (the header excluded).
    pub records: u64,
    /// Fully blank rows below the header (SPEC §4: skipped and counted as `blank`).
    pub blank_rows: u64,
    /// The first [`SAMPLE_ROWS`] non-blank record rows, for the mapping preview.
    pub sample: Vec<Row>,
    pub(crate) source: Source,
}

/// How to read the file again, and how to tell that it changed since it was inspected.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) len: u64,
    pub(crate) modified: Option<std::time::SystemTime>,
    pub(crate) text: Option<charset::Charset>,
    /// A workbook's budget once its members are inflated (the rows are read within it).
    pub(crate) xlsx_budget: Option<xlsx::Budget>,
}

/// One row below the header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    /// The row number a spreadsheet shows (SPEC §13.1): the header is 1, the first record 2.
    pub line: u64,
    /// Exactly one cell per [`FileInfo::columns`] entry: a short row is padded with `""`, a
    /// long row keeps its first cells. Values are as in the file — not trimmed, line breaks
    /// inside quoted cells kept exactly — except that NUL characters are removed and a cell
    /// holding an invalid byte is left out (`""`), each with a message.
    pub cells: Vec<String>,
    /// A fully blank row (an empty line, or only delimiters and whitespace). Blank rows are
    /// yielded so that callers can count them (their count is [`FileInfo::blank_rows`]); they
    /// carry no messages and are not imported. A workbook's empty rows after its last value
    /// are not rows at all, as in a spreadsheet.
    pub blank: bool,
    /// What reading this row found (never a reason to fail the row).
    pub messages: Vec<CellMessage>,
}

/// Something reading a row found, reported on its line (SPEC §5: a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellMessage {
    /// Stable code: `encoding.invalid_byte`, `cell.nul_removed` or `row.extra_cells`.
    pub code: &'static str,
    /// The column (0-based; for `row.extra_cells`, the first extra cell holding a value, which
    /// is at or past `columns.len()`).
    pub column: usize,
    /// What is wrong, in the user's words.
    pub message: String,
    /// How to fix it.
    pub resolution: &'static str,
}

/// Reads `path` from start to end and returns what callers need to map and import it, or the
/// [`Refusal`] of the whole file (SPEC §4): nothing that `inspect` accepted is refused later,
/// unless the file changes.
///
/// Memory stays flat as files grow: the file is streamed through fixed buffers. Delimited text
/// is in fact read twice — a byte count for the encoding decision (tens of milliseconds for
/// 30 MB), then the parse — and the lines of a legacy-encoded file that hold non-ASCII bytes
/// once more for the detector (at most 512 KiB of them). A workbook is inflated once by the
/// pre-scan, then its styles, shared strings and sheet are read.
pub fn inspect(path: &Path, opts: &ReadOptions) -> Result<FileInfo, Refusal> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.len() > opts.max_file_bytes {
        return Err(Refusal::TooLarge {
            size: meta.len(),
            limit: opts.max_file_bytes,
        });
    }
    let mut info = inspect_reader(file, opts)?;
    info.source.modified = meta.modified().ok();
    Ok(info)
}

/// Streams the rows of a file that [`inspect`] accepted, from the first row below the header.
///
/// Every row below the header is yielded once, blank rows included (`Row::blank`). An `Err`
/// item is I/O, or a refusal when the file changed since it was inspected; the iterator ends
/// after it.
pub fn rows(path: &Path, info: &FileInfo) -> Result<Rows, Refusal> {
    rows_after(path, info, 1)
}

/// Like [`rows`], but yields only rows whose `line` is greater than `line` — to resume a job
/// from a checkpoint. Earlier rows are parsed (to keep the numbering) but never built.
pub fn rows_after(path: &Path, info: &FileInfo, line: u64) -> Result<Rows, Refusal> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let modified = meta.modified().ok();
    if meta.len() != info.source.len
        || (info.source.modified.is_some() && modified != info.source.modified)
    {
        return Err(Refusal::Changed);
    }
    rows_reader(file, info, line)
}

/// [`inspect`] over any seekable reader (tests read from memory).
pub(crate) fn inspect_reader<R: Read + Seek + Send + 'static>(
    mut reader: R,
    opts: &ReadOptions,
) -> Result<FileInfo, Refusal> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    if len > opts.max_file_bytes {
        return Err(Refusal::TooLarge {
            size: len,
            limit: opts.max_file_bytes,
        });
    }
    if len == 0 {
        return Err(Refusal::Empty);
    }
    let mut magic = [0u8; 8];
    let n = read_up_to(&mut reader, &mut magic)?;
    reader.seek(SeekFrom::Start(0))?;
    match sniff_kind(&magic[..n]) {
        Sniffed::Zip => xlsx::inspect(reader, len, opts),
        Sniffed::Compound => Err(Refusal::OldExcel),
        Sniffed::Other(what) => Err(Refusal::NotText { what: Some(what) }),
        Sniffed::Text => {
            let mut head = vec![0u8; 8192];
            let n = read_up_to(&mut reader, &mut head)?;
            reader.seek(SeekFrom::Start(0))?;
            if !looks_like_text(&head[..n]) {
                return Err(Refusal::NotText { what: None });
            }
            if opts.sheet.is_some() {
                return Err(Refusal::SheetOnText);
            }
            text::inspect(reader, len)
        }
    }
}

/// Whether the start of a file can be text: without a UTF-16 byte-order mark, text holds
/// almost no C0 control bytes besides tab, line ends and form feed (NULs are the
/// `file.binary` rule's), while compressed or binary data holds about one in ten.
fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let controls = head
        .iter()
        .filter(|&&b| {
            b != 0 && b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0B | 0x0C | 0x1A)
        })
        .count();
    controls * 20 <= head.len()
}

/// [`rows_after`] over any seekable reader.
pub(crate) fn rows_reader<R: Read + Seek + Send + 'static>(
    mut reader: R,
    info: &FileInfo,
    after: u64,
) -> Result<Rows, Refusal> {
    reader.seek(SeekFrom::Start(0))?;
    let inner = match (info.kind, info.source.text) {
        (FileKind::Delimited, Some(charset)) => {
            RowsInner::Text(Box::new(text::TextRows::new(reader, info, charset, after)))
        }
        _ => RowsInner::Xlsx(xlsx::XlsxRows::spawn(reader, info, after)),
    };
    Ok(Rows { inner })
}

/// The rows of a file, streamed: see [`rows`].
pub struct Rows {
    inner: RowsInner,
}

enum RowsInner {
    Text(Box<text::TextRows>),
    Xlsx(xlsx::XlsxRows),
}

impl Rows {
    /// Reads the next row into `row`, reusing its buffers (no allocation per cell once the
    /// buffers have grown); returns false at the end. The same rows as the iterator, for hot
    /// loops:
    ///
    /// ```no_run
    /// # let (path, info): (&std::path::Path, tabular::FileInfo) = todo!();
    /// let mut rows = tabular::rows(path, &info)?;
    /// let mut row = tabular::Row::default();
    /// while rows.next_into(&mut row)? {
    ///     // use `row`
    /// }
    /// # Ok::<(), tabular::Refusal>(())
    /// ```
    pub fn next_into(&mut self, row: &mut Row) -> Result<bool, Refusal> {
        match &mut self.inner {
            RowsInner::Text(rows) => rows.next_into(row),
            RowsInner::Xlsx(rows) => match rows.next() {
                Some(Ok(next)) => {
                    *row = next;
                    Ok(true)
                }
                Some(Err(e)) => Err(e),
                None => Ok(false),
            },
        }
    }
}

impl Iterator for Rows {
    type Item = Result<Row, Refusal>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            RowsInner::Text(rows) => {
                let mut row = Row::default();
                match rows.next_into(&mut row) {
                    Ok(true) => Some(Ok(row)),
                    Ok(false) => None,
                    Err(e) => Some(Err(e)),
                }
            }
            RowsInner::Xlsx(rows) => rows.next(),
        }
    }
}

enum Sniffed {
    Zip,
    Compound,
    /// A kind of file that is neither text nor a workbook, in words ("a PNG image").
    Other(&'static str),
    Text,
}

/// Signatures of files people pick by mistake instead of their spreadsheet.
const NOT_TEXT: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (&[0xFF, 0xD8, 0xFF], "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (&[0x1F, 0x8B], "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
];

fn sniff_kind(magic: &[u8]) -> Sniffed {
    if magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06") {
        Sniffed::Zip
    } else if magic.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // OLE compound file: an old .xls, or an encrypted (password-protected) .xlsx.
        Sniffed::Compound
    } else if let Some((_, what)) = NOT_TEXT.iter().find(|(sig, _)| magic.starts_with(sig)) {
        Sniffed::Other(what)
    } else {
        Sniffed::Text
    }
}

/// Fills `buf` as far as the reader allows; returns how many bytes were read.
pub(crate) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
