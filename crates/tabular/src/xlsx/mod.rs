//! XLSX workbooks: a zip pre-scan, one sheet, its cells as text, streamed.
//!
//! Order matters. The archive is first walked with `zip`: each member is inflated into a byte
//! counter (the archive's declared sizes can lie) and refused past the cap, and every XML part
//! that declares a DTD or an entity is refused. Only then is the workbook opened (`package`):
//! its sheet list, styles and shared strings — held compactly and charged to what is left of
//! the cap (`strings`) — and the sheet's cells are streamed from its part (`sheet`), so a lone
//! value at `XFD1048576` is refused when it is met, never expanded. Each time a cell uses a
//! shared string, the copy it stands for is charged too: a few KB of zip cannot expand into
//! gigabytes of text. Every part is read through `xml`, which refuses one piece of markup or
//! text longer than [`xml::MAX_EVENT_BYTES`] before buffering it. Nothing is ever written to
//! disk.
//!
//! Cells become text the way a user sees them (`serial`): dates stored as serial numbers
//! become `YYYY-MM-DD` (or `YYYY-MM-DD HH:MM:SS`; 1900 system with its 1900-02-29, or 1904),
//! formula cells give their cached value, numbers print without float noise (at most 15
//! significant digits, like Excel), booleans are `true`/`false`, error cells their code
//! (`#N/A`).

mod package;
mod serial;
mod sheet;
mod strings;
mod styles;
mod xml;

use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::cells::{RowBuilder, header_text, is_blank};
use crate::refusal::column_letters;
use crate::{
    Column, FileInfo, FileKind, MAX_CELL_BYTES, MAX_COLUMNS, MAX_XLSX_ROWS, ReadOptions, Refusal,
    Row, SAMPLE_ROWS, Source,
};
use package::Workbook;
use sheet::SheetCells;

#[cfg(test)]
pub(crate) use styles::{NumberKind, custom_kind};
#[cfg(test)]
pub(crate) use xml::MAX_EVENT_BYTES;

fn invalid(detail: impl std::fmt::Display) -> Refusal {
    Refusal::XlsxInvalid {
        detail: detail.to_string().trim_end_matches('.').to_owned(),
    }
}

/// What a workbook may still hold once its members are inflated: the inflated-size cap less
/// what they inflated to. The shared-string table (its text and offsets) and each use of a
/// shared string by a cell (the copy it stands for) are charged to it (SPEC §13.2).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    cap: u64,
    left: u64,
}

impl Budget {
    pub(crate) fn new(cap: u64, left: u64) -> Budget {
        Budget { cap, left }
    }

    /// Takes `bytes` from what is left, refusing the workbook past the cap.
    pub(crate) fn charge(&mut self, bytes: u64) -> Result<(), Refusal> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(self.exceeded()),
        }
    }

    pub(crate) fn exceeded(&self) -> Refusal {
        Refusal::XlsxTooLarge { limit: self.cap }
    }
}

/// Runs `f`, turning a panic inside the workbook reader into a refusal: no bytes may crash
/// the server.
fn guarded<T>(f: impl FnOnce() -> Result<T, Refusal>) -> Result<T, Refusal> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(invalid("the workbook reader stopped on malformed content")))
}

pub(crate) fn inspect<R: Read + Seek>(
    mut reader: R,
    len: u64,
    opts: &ReadOptions,
) -> Result<FileInfo, Refusal> {
    guarded(|| {
        let cap = opts.max_xlsx_inflated_bytes;
        let inflated = prescan(&mut reader, cap)?;
        let start = Budget::new(cap, cap - inflated);
        reader.seek(SeekFrom::Start(0))?;
        let mut budget = start;
        let mut workbook = Workbook::open(reader, &mut budget)?;
        let sheet = choose_sheet(&workbook, opts.sheet.as_deref())?;
        let mut cells = workbook.cells(&sheet)?;
        let mut summary = Summary::default();
        walk(&mut cells, &mut budget, |index, cells| {
            summary.visit(index, cells)
        })?;
        drop(cells);
        summary.finish(sheet, len, start, workbook.is_1904)
    })
}

/// What `inspect` gathers while walking the sheet.
#[derive(Default)]
struct Summary {
    headers: Option<Vec<String>>,
    has_value: Vec<bool>,
    last_nonblank: u32,
    records: u64,
    blank_rows: u64,
    sample: Vec<Row>,
}

impl Summary {
    fn visit(&mut self, index: u32, cells: &mut [(usize, Cow<'_, str>)]) -> Result<bool, Refusal> {
        let Some(headers) = &self.headers else {
            // The first row holding a value: it must be row 1.
            if index != 0 {
                return Err(Refusal::HeaderBlank);
            }
            let width = cells.iter().map(|(c, _)| c + 1).max().unwrap_or(0);
            let mut headers = vec![String::new(); width];
            for (column, value) in cells.iter() {
                headers[*column] = header_text(value.as_bytes());
            }
            crate::text::check_duplicates(&headers)?;
            self.has_value = vec![false; headers.len()];
            self.headers = Some(headers);
            return Ok(true);
        };
        for (column, value) in cells.iter() {
            if is_blank(value) {
                continue;
            }
            if *column >= self.has_value.len() {
                self.has_value.resize(column + 1, false);
            }
            self.has_value[*column] = true;
        }
        self.blank_rows += u64::from(index - self.last_nonblank - 1);
        self.last_nonblank = index;
        self.records += 1;
        if self.sample.len() < SAMPLE_ROWS {
            let builder = RowBuilder {
                headers,
                encoding: "xlsx",
            };
            self.sample
                .push(build_row(&builder, index, cells, usize::MAX));
        }
        Ok(true)
    }

    fn finish(
        self,
        sheet: String,
        len: u64,
        budget: Budget,
        date_1904: bool,
    ) -> Result<FileInfo, Refusal> {
        let Some(headers) = self.headers else {
            return Err(Refusal::Empty);
        };
        if self.records == 0 {
            return Err(Refusal::NoRows);
        }
        let width = headers.len().max(self.has_value.len());
        let columns: Vec<Column> = (0..width)
            .map(|i| {
                let header = headers.get(i).cloned().unwrap_or_default();
                let value = self.has_value.get(i).copied().unwrap_or(false);
                Column {
                    ignored: header.is_empty() && !value,
                    header,
                }
            })
            .collect();
        let mut sample = self.sample;
        for row in &mut sample {
            row.cells.resize(width, String::new());
            // A cell right of the last column is blank here (else it would widen the sheet),
            // and the rows leave it unread: no warning about it either, e.g. its NULs.
            row.messages.retain(|m| m.column < width);
        }
        Ok(FileInfo {
            kind: FileKind::Xlsx,
            encoding: "xlsx",
            delimiter: None,
            sheet: Some(sheet),
            date_1904,
            columns,
            records: self.records,
            blank_rows: self.blank_rows,
            sample,
            source: Source {
                len,
                modified: None,
                text: None,
                xlsx_budget: Some(budget),
            },
        })
    }
}

/// Inflates every member into a counter, refusing past `cap` bytes in total and on any XML
/// part that declares a DTD or an entity; returns the inflated size.
pub(crate) fn prescan<R: Read + Seek>(reader: &mut R, cap: u64) -> Result<u64, Refusal> {
    reader.seek(SeekFrom::Start(0))?;
    let mut archive = zip::ZipArchive::new(&mut *reader).map_err(invalid)?;
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(invalid)?;
        if member.is_dir() {
            continue;
        }
        let name = member.name().map(|n| n.into_owned()).unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        let xml = lower.ends_with(".xml") || lower.ends_with(".rels");
        let mut scan = DeclarationScan::default();
        loop {
            let n = member.read(&mut buf).map_err(invalid)?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > cap {
                return Err(Refusal::XlsxTooLarge { limit: cap });
            }
            if xml && scan.feed(&buf[..n]) {
                return Err(Refusal::XlsxDtd { part: name });
            }
        }
    }
    Ok(total)
}

/// Finds `<!` followed by a letter — `<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`, … exist only in a
/// DTD; comments (`<!--`) and `<![CDATA[` do not match. NUL bytes are skipped, so the same
/// declaration in UTF-16 is found too.
#[derive(Default)]
struct DeclarationScan {
    /// 0: nothing, 1: after `<`, 2: after `<!`.
    state: u8,
}

impl DeclarationScan {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        let mut i = 0;
        while i < bytes.len() {
            if self.state == 0 {
                let Some(at) = memchr::memchr(b'<', &bytes[i..]) else {
                    return false;
                };
                i += at;
            }
            let b = bytes[i];
            i += 1;
            if b == 0 {
                continue;
            }
            if self.state == 2 && b.is_ascii_alphabetic() {
                return true;
            }
            self.state = match b {
                b'<' => 1,
                b'!' if self.state == 1 => 2,
                _ => 0,
            };
        }
        false
    }
}

/// The sheet to read: the one chosen (exactly, else the only case-insensitive match), or the
/// only visible worksheet.
fn choose_sheet<R: Read + Seek>(
    workbook: &Workbook<R>,
    chosen: Option<&str>,
) -> Result<String, Refusal> {
    let worksheets: Vec<_> = workbook.sheets.iter().filter(|s| s.worksheet).collect();
    let names = |visible_only: bool| -> Vec<String> {
        worksheets
            .iter()
            .filter(|s| !visible_only || s.visible)
            .map(|s| s.name.clone())
            .collect()
    };
    if let Some(chosen) = chosen {
        if let Some(s) = worksheets.iter().find(|s| s.name == chosen) {
            return Ok(s.name.clone());
        }
        let folded: Vec<_> = worksheets
            .iter()
            .filter(|s| s.name.to_lowercase() == chosen.to_lowercase())
            .collect();
        if let [only] = folded.as_slice() {
            return Ok(only.name.clone());
        }
        return Err(Refusal::SheetNotFound {
            name: chosen.to_owned(),
            names: names(false),
        });
    }
    let visible = names(true);
    match visible.as_slice() {
        [only] => Ok(only.clone()),
        [] => match names(false).as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(invalid("the workbook has no worksheet")),
            _ => Err(Refusal::SeveralSheets {
                names: names(false),
            }),
        },
        _ => Err(Refusal::SeveralSheets { names: visible }),
    }
}

/// Walks the sheet's cells in file order and calls `visit(row_index, cells)` once per row
/// holding a value (0-based index; cells as `(column, text)` in column order, blank-text cells
/// included, shared strings borrowed; `visit` may take the texts), refusing past the caps as
/// soon as a cell holding a value crosses one, and charging every use of a shared string to
/// `budget`. `visit` returns false to stop.
fn walk<'a, R: std::io::BufRead>(
    cells: &mut SheetCells<'a, R>,
    budget: &mut Budget,
    mut visit: impl FnMut(u32, &mut [(usize, Cow<'a, str>)]) -> Result<bool, Refusal>,
) -> Result<(), Refusal> {
    let mut current: Option<u32> = None;
    let mut nonblank = false;
    let mut row: Vec<(usize, Cow<'a, str>)> = Vec::new();
    while let Some(cell) = cells.next_cell()? {
        let (index, column) = (cell.row, cell.column as usize);
        let Some(value) = cell.text else {
            continue;
        };
        if let Cow::Borrowed(shared) = value {
            // Charged whether or not this pass copies it, so both passes agree.
            budget.charge(shared.len() as u64)?;
        }
        let blank = is_blank(&value);
        if blank && column >= MAX_COLUMNS {
            continue;
        }
        let line = u64::from(index) + 1;
        if column >= MAX_COLUMNS {
            return Err(Refusal::TooManyColumns {
                line,
                column,
                limit: MAX_COLUMNS,
            });
        }
        if line > MAX_XLSX_ROWS {
            if blank {
                continue;
            }
            return Err(Refusal::XlsxTooManyRows {
                line,
                limit: MAX_XLSX_ROWS,
            });
        }
        if value.len() > MAX_CELL_BYTES {
            return Err(Refusal::CellTooLarge {
                line,
                column,
                header: String::new(),
                limit: MAX_CELL_BYTES,
            });
        }
        match current {
            Some(cur) if cur == index => {
                // A row holds each column once, left to right (as Excel writes it): a row
                // cannot grow past its 1,000 columns by repeating one.
                if let Some((last, _)) = row.last()
                    && column <= *last
                {
                    return Err(invalid(format!(
                        "in row {line}, column {} comes after column {}",
                        column_letters(column),
                        column_letters(*last)
                    )));
                }
            }
            Some(cur) if index < cur => {
                return Err(invalid(format!(
                    "row {line} comes after row {} in the sheet",
                    u64::from(cur) + 1
                )));
            }
            _ => {
                if let Some(cur) = current
                    && nonblank
                    && !visit(cur, &mut row)?
                {
                    return Ok(());
                }
                row.clear();
                nonblank = false;
                current = Some(index);
            }
        }
        nonblank |= !blank;
        row.push((column, value));
    }
    if let Some(cur) = current
        && nonblank
    {
        visit(cur, &mut row)?;
    }
    Ok(())
}

/// One row of the sheet: cells placed by column, NULs removed with a warning. The texts are
/// moved out of `cells`; only shared strings are copied.
fn build_row(
    builder: &RowBuilder<'_>,
    index: u32,
    cells: &mut [(usize, Cow<'_, str>)],
    width: usize,
) -> Row {
    let mut row = Row {
        line: u64::from(index) + 1,
        ..Row::default()
    };
    let mut blank = true;
    for (column, value) in cells {
        let column = *column;
        if column >= width {
            continue;
        }
        if row.cells.len() <= column {
            row.cells.resize(column + 1, String::new());
        }
        let cleaned = match builder.clean(column, value, &mut row.messages) {
            Cow::Owned(cleaned) => Some(cleaned),
            Cow::Borrowed(_) => None,
        };
        let value = cleaned.unwrap_or_else(|| std::mem::take(value).into_owned());
        blank &= is_blank(&value);
        row.cells[column] = value;
    }
    row.blank = blank;
    if blank {
        row.messages.clear();
    }
    if width != usize::MAX {
        row.cells.resize(width, String::new());
    }
    row
}

/// Rows of an inspected workbook. The cell reader borrows the workbook (its archive and
/// shared strings), so both live on a producer thread that sends rows in batches through a
/// bounded channel — at most [`BATCH`] rows or about [`BATCH_BYTES`] of text a batch, so memory
/// stays flat however long the rows are — and parses while the caller works. Dropping
/// `XlsxRows` stops the thread at its next send.
pub(crate) struct XlsxRows {
    rx: Receiver<Result<Vec<Row>, Refusal>>,
    batch: std::vec::IntoIter<Row>,
    done: bool,
}

const BATCH: usize = 512;
const BATCH_BYTES: usize = 1 << 20;

impl XlsxRows {
    pub(crate) fn spawn<R: Read + Seek + Send + 'static>(
        reader: R,
        info: &FileInfo,
        after: u64,
    ) -> XlsxRows {
        let (tx, rx) = sync_channel(2);
        let sheet = info.sheet.clone().unwrap_or_default();
        let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
        let budget = info.source.xlsx_budget.unwrap_or(Budget::new(
            crate::DEFAULT_MAX_XLSX_INFLATED_BYTES,
            crate::DEFAULT_MAX_XLSX_INFLATED_BYTES,
        ));
        std::thread::spawn(move || {
            let result = guarded(|| produce(reader, &sheet, &headers, after, budget, &tx));
            if let Err(e) = result {
                let _ = tx.send(Err(e));
            }
        });
        XlsxRows {
            rx,
            batch: Vec::new().into_iter(),
            done: false,
        }
    }
}

/// Reads the rows below the header as `inspect` did (the same budget, so nothing it accepted
/// is refused here unless the file changed) and sends those after line `after`.
fn produce<R: Read + Seek>(
    reader: R,
    sheet: &str,
    headers: &[String],
    after: u64,
    mut budget: Budget,
    tx: &SyncSender<Result<Vec<Row>, Refusal>>,
) -> Result<(), Refusal> {
    let mut workbook = Workbook::open(reader, &mut budget)?;
    let mut cells = workbook.cells(sheet)?;
    let builder = RowBuilder {
        headers,
        encoding: "xlsx",
    };
    let width = headers.len();
    let mut batch = Batch::default();
    let mut last = 0u32;
    let mut stopped = false;
    walk(&mut cells, &mut budget, |index, cells| {
        if index == 0 {
            return Ok(true);
        }
        if cells.iter().any(|(c, v)| *c >= width && !is_blank(v)) {
            return Err(Refusal::Changed);
        }
        for gap in last + 1..index {
            if u64::from(gap) + 1 > after {
                batch.push(Row {
                    line: u64::from(gap) + 1,
                    cells: vec![String::new(); width],
                    blank: true,
                    messages: Vec::new(),
                });
                if batch.full() && !batch.send(tx) {
                    stopped = true;
                    return Ok(false);
                }
            }
        }
        last = index;
        if u64::from(index) + 1 > after {
            batch.push(build_row(&builder, index, cells, width));
            if batch.full() && !batch.send(tx) {
                stopped = true;
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    if !stopped && !batch.rows.is_empty() {
        batch.send(tx);
    }
    Ok(())
}

/// The rows the producer is gathering, and the bytes of text they hold.
#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, row: Row) {
        self.bytes += row.cells.iter().map(String::len).sum::<usize>();
        self.rows.push(row);
    }

    fn full(&self) -> bool {
        self.rows.len() >= BATCH || self.bytes >= BATCH_BYTES
    }

    /// Sends the batch; false when the receiver is gone.
    fn send(&mut self, tx: &SyncSender<Result<Vec<Row>, Refusal>>) -> bool {
        self.bytes = 0;
        let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(BATCH));
        tx.send(Ok(rows)).is_ok()
    }
}

impl Iterator for XlsxRows {
    type Item = Result<Row, Refusal>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.batch.next() {
                return Some(Ok(row));
            }
            if self.done {
                return None;
            }
            match self.rx.recv() {
                Ok(Ok(batch)) => self.batch = batch.into_iter(),
                Ok(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Err(_) => {
                    self.done = true;
                    return None;
                }
            }
        }
    }
}
