//! Delimited text: encoding, delimiter, header rules and the rows, streamed.
//!
//! `inspect` validates everything that refuses a whole file and counts the rows; `TextRows`
//! reads the same records again for the import. Both go through `RecordReader`, so they can
//! never disagree on where a row starts or what it holds.

use std::collections::HashMap;
use std::io::{BufRead, Read, Seek};

use crate::cells::{RowBuilder, header_text, is_blank_bytes};
use crate::charset::{self, Charset};
use crate::parse::{self, Parser, Record};
use crate::{Column, FileInfo, FileKind, Refusal, Row, SAMPLE_ROWS, Source, decode};

/// The header line is looked for within this many bytes; the delimiter is detected from
/// what was found (a longer first record is refused later for its size anyway).
const HEAD_LIMIT: usize = 1 << 20;

/// Records of a text file, from its first (the header) to its last.
pub(crate) struct RecordReader {
    src: Box<dyn BufRead + Send>,
    /// Bytes read ahead to detect the delimiter, parsed before the rest of `src`.
    head: Vec<u8>,
    head_pos: usize,
    parser: Parser,
    delimiter: u8,
}

impl RecordReader {
    pub(crate) fn open<R: Read + Send + 'static>(
        reader: R,
        charset: Charset,
    ) -> Result<RecordReader, Refusal> {
        let mut src = decode::utf8_stream(reader, charset)?;
        let mut head = Vec::new();
        loop {
            let buf = src.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let take = buf.len().min(HEAD_LIMIT - head.len());
            head.extend_from_slice(&buf[..take]);
            src.consume(take);
            if head.len() >= HEAD_LIMIT || parse::first_record_end(&head).is_some() {
                break;
            }
        }
        let delimiter = parse::detect_delimiter(&head);
        Ok(RecordReader {
            src,
            head,
            head_pos: 0,
            parser: Parser::new(delimiter),
            delimiter,
        })
    }

    /// The delimiter detected from the header line.
    pub(crate) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Reads the next record into `record`; false at the end of the file.
    pub(crate) fn read(&mut self, record: &mut Record) -> Result<bool, Refusal> {
        record.clear();
        if self.head_pos < self.head.len() {
            let (n, done) = self.parser.feed(&self.head[self.head_pos..], record);
            self.head_pos += n;
            if self.head_pos == self.head.len() {
                self.head = Vec::new();
                self.head_pos = 0;
            }
            if done {
                return Ok(true);
            }
        }
        loop {
            let buf = self.src.fill_buf()?;
            if buf.is_empty() {
                return self
                    .parser
                    .finish(record)
                    .map_err(|u| Refusal::QuoteUnclosed {
                        line: u.line,
                        column: u.column,
                        header: String::new(),
                    });
            }
            let (n, done) = self.parser.feed(buf, record);
            self.src.consume(n);
            if done {
                return Ok(true);
            }
        }
    }
}

/// Refusals a record itself carries (sizes), named with the headers when known.
fn check(record: &Record, headers: &[String]) -> Result<(), Refusal> {
    if let Some(column) = record.too_large {
        return Err(Refusal::CellTooLarge {
            line: record.line,
            column,
            header: headers.get(column).cloned().unwrap_or_default(),
            limit: crate::MAX_CELL_BYTES,
        });
    }
    if let Some(column) = record.overflow {
        return Err(Refusal::TooManyColumns {
            line: record.line,
            column,
            limit: crate::MAX_COLUMNS,
        });
    }
    Ok(())
}

fn name_quote(refusal: Refusal, headers: &[String]) -> Refusal {
    match refusal {
        Refusal::QuoteUnclosed { line, column, .. } => Refusal::QuoteUnclosed {
            line,
            column,
            header: if line > 1 {
                headers.get(column).cloned().unwrap_or_default()
            } else {
                String::new()
            },
        },
        other => other,
    }
}

pub(crate) fn inspect<R: Read + Seek + Send + 'static>(
    mut reader: R,
    len: u64,
) -> Result<FileInfo, Refusal> {
    let charset = charset::decide(&mut reader)?;
    let mut records = RecordReader::open(reader, charset)?;
    let mut record = Record::default();

    if !records.read(&mut record)? {
        return Err(Refusal::Empty);
    }
    check(&record, &[])?;
    let headers: Vec<String> = record.iter().map(header_text).collect();
    if headers.iter().all(String::is_empty) {
        return Err(blank_header(&mut records, &mut record));
    }
    check_duplicates(&headers)?;

    let builder = RowBuilder {
        headers: &headers,
        encoding: charset.encoding.name(),
    };
    let mut has_value = vec![false; headers.len()];
    let (mut count, mut blank_rows) = (0u64, 0u64);
    let mut sample = Vec::new();
    loop {
        match records.read(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(name_quote(e, &headers)),
        }
        check(&record, &headers)?;
        let mut blank = true;
        for (column, cell) in record.iter().enumerate() {
            if !is_blank_bytes(cell) {
                blank = false;
                if let Some(seen) = has_value.get_mut(column) {
                    *seen = true;
                }
            }
        }
        if blank {
            blank_rows += 1;
            continue;
        }
        count += 1;
        if sample.len() < SAMPLE_ROWS {
            let mut row = Row::default();
            builder.text_row(&record, &mut row);
            sample.push(row);
        }
    }
    if count == 0 {
        return Err(Refusal::NoRows);
    }
    let columns = headers
        .iter()
        .zip(&has_value)
        .map(|(header, &value)| Column {
            header: header.clone(),
            ignored: header.is_empty() && !value,
        })
        .collect();
    Ok(FileInfo {
        kind: FileKind::Delimited,
        encoding: charset.encoding.name(),
        delimiter: Some(records.delimiter()),
        sheet: None,
        date_1904: false,
        columns,
        records: count,
        blank_rows,
        sample,
        source: Source {
            len,
            modified: None,
            text: Some(charset),
            xlsx_budget: None,
        },
    })
}

/// The header row is blank: the file is empty if every row is, else its header is missing.
fn blank_header(records: &mut RecordReader, record: &mut Record) -> Refusal {
    loop {
        match records.read(record) {
            Ok(true) if record.overflow.is_some() || record.iter().any(|c| !is_blank_bytes(c)) => {
                return Refusal::HeaderBlank;
            }
            Ok(true) => {}
            Ok(false) => return Refusal::Empty,
            // An unreadable rest (an unclosed quote) is not blank either.
            Err(_) => return Refusal::HeaderBlank,
        }
    }
}

pub(crate) fn check_duplicates(headers: &[String]) -> Result<(), Refusal> {
    let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut order = Vec::new();
    for (column, header) in headers.iter().enumerate() {
        if header.is_empty() {
            continue;
        }
        let columns = seen.entry(header).or_default();
        if columns.len() == 1 {
            order.push(header.as_str());
        }
        columns.push(column);
    }
    if order.is_empty() {
        return Ok(());
    }
    Err(Refusal::HeaderDuplicate {
        duplicates: order
            .into_iter()
            .map(|h| (h.to_owned(), seen.remove(h).unwrap_or_default()))
            .collect(),
    })
}

/// The rows of an inspected text file.
pub(crate) struct TextRows {
    records: Option<RecordReader>,
    record: Record,
    headers: Vec<String>,
    encoding: &'static str,
    after: u64,
    /// A refusal to yield next (opening failed), then nothing.
    pending: Option<Refusal>,
    failed: bool,
}

impl TextRows {
    pub(crate) fn new<R: Read + Send + 'static>(
        reader: R,
        info: &FileInfo,
        charset: Charset,
        after: u64,
    ) -> TextRows {
        let mut rows = TextRows {
            records: None,
            record: Record::default(),
            headers: info.columns.iter().map(|c| c.header.clone()).collect(),
            encoding: charset.encoding.name(),
            after,
            pending: None,
            failed: false,
        };
        match RecordReader::open(reader, charset) {
            Ok(records) => rows.records = Some(records),
            Err(e) => rows.pending = Some(e),
        }
        rows
    }

    /// Reads the next row into `row`, reusing its buffers; false at the end. After an
    /// `Err`, always false.
    pub(crate) fn next_into(&mut self, row: &mut Row) -> Result<bool, Refusal> {
        if let Some(e) = self.pending.take() {
            self.failed = true;
            return Err(e);
        }
        if self.failed {
            return Ok(false);
        }
        let result = self.read_into(row);
        self.failed = result.is_err();
        result
    }

    fn read_into(&mut self, row: &mut Row) -> Result<bool, Refusal> {
        let Some(records) = self.records.as_mut() else {
            return Ok(false);
        };
        loop {
            if !records
                .read(&mut self.record)
                .map_err(|e| name_quote(e, &self.headers))?
            {
                return Ok(false);
            }
            if self.record.line == 1 {
                if self.record.len() != self.headers.len() {
                    return Err(Refusal::Changed);
                }
                continue;
            }
            check(&self.record, &self.headers)?;
            if self.record.line <= self.after {
                continue;
            }
            let builder = RowBuilder {
                headers: &self.headers,
                encoding: self.encoding,
            };
            builder.text_row(&self.record, row);
            return Ok(true);
        }
    }
}
