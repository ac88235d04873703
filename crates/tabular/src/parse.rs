//! RFC 4180 records from UTF-8 bytes, one spreadsheet row each, and the delimiter of the
//! header line.
//!
//! The quoting behaviour is the `csv` crate's (and Excel's, and CPython's): a quote opens a
//! quoted cell only at the start of a cell; inside one, `""` is a quote and line breaks are
//! data; after the closing quote, other bytes are appended as plain data (`"a"b` reads `ab`);
//! `\r`, `\n` and `\r\n` all end a record. Three things differ on purpose:
//!
//! - an empty line is a record (one empty cell), so blank rows keep their numbers (§13.1);
//! - a quote still open at the end of the input is reported with the row and column where it
//!   opened, instead of silently swallowing the rest of the file;
//! - a cell stops growing at [`MAX_CELL_BYTES`] + 1 and cells past [`MAX_COLUMNS`] are not
//!   kept (only whether one held a value), so a hostile line never grows memory.
//!
//! This module knows bytes only; decoding cells to text is `cells`' job.

use crate::{MAX_CELL_BYTES, MAX_COLUMNS};

/// The delimiters SPEC §4 accepts, in tie-break order: the rarer a character is in ordinary
/// header text, the stronger a sign it is the delimiter.
const CANDIDATES: [u8; 3] = [b'\t', b';', b','];

/// The delimiter of a header line: the candidate (`,`, `;`, tab) found most often outside
/// quoted cells in the first record; ties go to tab, then `;`, then `,`; a line with none of
/// them is comma-separated (one column). `head` holds the first record (or a prefix of it).
pub(crate) fn detect_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut state = State::StartField;
    for &b in head {
        match state {
            State::StartRecord | State::AfterCr | State::StartField | State::InField => {
                if let Some(k) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[k] += 1;
                    state = State::StartField;
                } else if b == b'\r' || b == b'\n' {
                    break;
                } else if b == b'"' && state == State::StartField {
                    state = State::InQuoted;
                } else {
                    state = State::InField;
                }
            }
            State::InQuoted => {
                if b == b'"' {
                    state = State::QuoteInQuoted;
                }
            }
            State::QuoteInQuoted => {
                if b == b'"' {
                    state = State::InQuoted;
                } else if let Some(k) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[k] += 1;
                    state = State::StartField;
                } else if b == b'\r' || b == b'\n' {
                    break;
                } else {
                    state = State::InField;
                }
            }
        }
    }
    let mut best = b',';
    let mut best_count = 0;
    for (k, &c) in CANDIDATES.iter().enumerate() {
        if counts[k] > best_count {
            best = c;
            best_count = counts[k];
        }
    }
    best
}

/// Length of the first record in `bytes` (terminator included), if it ends within them.
pub(crate) fn first_record_end(bytes: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\r' | b'\n' if !in_quotes => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first byte of a record.
    StartRecord,
    /// Just after a `\r` that ended a record: a `\n` here completes a CRLF.
    AfterCr,
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
}

/// The cells of one record, in one reused buffer (like `csv::ByteRecord`).
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// The spreadsheet row number of this record.
    pub(crate) line: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Cells read, kept or not.
    pub(crate) fields: usize,
    /// The first cell that grew past [`MAX_CELL_BYTES`].
    pub(crate) too_large: Option<usize>,
    /// The first cell past [`MAX_COLUMNS`] that holds a value.
    pub(crate) overflow: Option<usize>,
}

impl Record {
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.fields = 0;
        self.too_large = None;
        self.overflow = None;
    }

    /// Number of cells kept (at most [`MAX_COLUMNS`]).
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.ranges().map(|r| &self.bytes[r])
    }

    /// Where each kept cell lies in [`Record::bytes`].
    pub(crate) fn ranges(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(self.ends.iter().copied()).map(|(s, e)| s..e)
    }

    /// The kept cells, one after the other.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn field_start(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) {
        let len = self.bytes.len() - self.field_start();
        if len + bytes.len() <= MAX_CELL_BYTES {
            self.bytes.extend_from_slice(bytes);
        } else if self.too_large.is_none() {
            self.too_large = Some(self.fields);
        }
    }

    fn end_field(&mut self) {
        let column = self.fields;
        self.fields += 1;
        if column < MAX_COLUMNS {
            self.ends.push(self.bytes.len());
        } else {
            let start = self.field_start();
            if self.overflow.is_none() && !crate::cells::is_blank_bytes(&self.bytes[start..]) {
                self.overflow = Some(column);
            }
            self.bytes.truncate(start);
        }
    }
}

/// A resumable record parser: feed it chunks, it fills a [`Record`] and says when one ends.
#[derive(Debug)]
pub(crate) struct Parser {
    delimiter: u8,
    state: State,
    /// Row number of the next record.
    line: u64,
    /// Where the quote of the current quoted cell opened (row, column).
    quote: (u64, usize),
}

/// A quote still open at the end of the input: its row and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unclosed {
    pub(crate) line: u64,
    pub(crate) column: usize,
}

impl Parser {
    pub(crate) fn new(delimiter: u8) -> Parser {
        Parser {
            delimiter,
            state: State::StartRecord,
            line: 1,
            quote: (1, 0),
        }
    }

    /// Parses from `input` into `record`; returns the bytes consumed and whether a record
    /// ended (then `record` is complete and the rest of `input` is untouched).
    pub(crate) fn feed(&mut self, input: &[u8], record: &mut Record) -> (usize, bool) {
        let delimiter = self.delimiter;
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::AfterCr if input[i] == b'\n' => {
                    i += 1;
                    self.state = State::StartRecord;
                }
                State::StartRecord | State::AfterCr => {
                    record.line = self.line;
                    self.state = State::StartField;
                }
                State::StartField => {
                    let b = input[i];
                    i += 1;
                    if b == b'"' {
                        self.quote = (self.line, record.fields);
                        self.state = State::InQuoted;
                    } else if b == delimiter {
                        record.end_field();
                    } else if b == b'\n' || b == b'\r' {
                        return (i, self.end_record(b, record));
                    } else {
                        record.push(&[b]);
                        self.state = State::InField;
                    }
                }
                State::InField => {
                    let rest = &input[i..];
                    let n = rest
                        .iter()
                        .position(|&c| c == delimiter || c == b'\n' || c == b'\r')
                        .unwrap_or(rest.len());
                    record.push(&rest[..n]);
                    i += n;
                    if let Some(&b) = input.get(i) {
                        i += 1;
                        if b == delimiter {
                            record.end_field();
                            self.state = State::StartField;
                        } else {
                            return (i, self.end_record(b, record));
                        }
                    }
                }
                State::InQuoted => {
                    let rest = &input[i..];
                    let n = rest.iter().position(|&c| c == b'"').unwrap_or(rest.len());
                    record.push(&rest[..n]);
                    i += n;
                    if i < input.len() {
                        i += 1;
                        self.state = State::QuoteInQuoted;
                    }
                }
                State::QuoteInQuoted => {
                    let b = input[i];
                    i += 1;
                    if b == b'"' {
                        record.push(b"\"");
                        self.state = State::InQuoted;
                    } else if b == delimiter {
                        record.end_field();
                        self.state = State::StartField;
                    } else if b == b'\n' || b == b'\r' {
                        return (i, self.end_record(b, record));
                    } else {
                        record.push(&[b]);
                        self.state = State::InField;
                    }
                }
            }
        }
        (input.len(), false)
    }

    fn end_record(&mut self, terminator: u8, record: &mut Record) -> bool {
        record.end_field();
        self.line += 1;
        self.state = if terminator == b'\r' {
            State::AfterCr
        } else {
            State::StartRecord
        };
        true
    }

    /// At the end of the input: whether a last record (without a line end) ended, or the
    /// quote that was never closed.
    pub(crate) fn finish(&mut self, record: &mut Record) -> Result<bool, Unclosed> {
        match self.state {
            State::StartRecord | State::AfterCr => Ok(false),
            State::InQuoted => Err(Unclosed {
                line: self.quote.0,
                column: self.quote.1,
            }),
            State::StartField | State::InField | State::QuoteInQuoted => {
                record.end_field();
                self.line += 1;
                self.state = State::StartRecord;
                Ok(true)
            }
        }
    }
}
