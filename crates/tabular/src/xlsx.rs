//! XLSX workbooks: a zip pre-scan, one sheet, its cells as text, streamed.
//!
//! Order matters. `calamine` reads every shared string and style when it opens a workbook, so
//! the archive is first walked with `zip`: each member is inflated into a byte counter (the
//! archive's declared sizes can lie) and refused past the cap, and every XML part that
//! declares a DTD or an entity is refused. Only then does `calamine` open it, and the sheet is
//! read cell by cell with `worksheet_cells_reader` — never `worksheet_range`, which allocates
//! the sheet's whole declared dimension — so a lone value at `XFD1048576` is refused when it is
//! met, never expanded. Nothing is ever written to disk.
//!
//! Cells become text the way a user sees them: dates stored as serial numbers become
//! `YYYY-MM-DD` (or `YYYY-MM-DD HH:MM:SS`; 1900 system with its 1900-02-29, or 1904), formula
//! cells give their cached value, numbers print without float noise (at most 15 significant
//! digits, like Excel), booleans are `true`/`false`, error cells their code (`#N/A`).

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{DataRef, ExcelDateTime, Reader, SheetType, SheetVisible, Xlsx, XlsxCellReader};

use crate::cells::{RowBuilder, header_text, is_blank};
use crate::{
    Column, FileInfo, FileKind, MAX_CELL_BYTES, MAX_COLUMNS, MAX_XLSX_ROWS, ReadOptions, Refusal,
    Row, SAMPLE_ROWS, Source,
};

fn invalid(detail: impl std::fmt::Display) -> Refusal {
    Refusal::XlsxInvalid {
        detail: detail.to_string().trim_end_matches('.').to_owned(),
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
        prescan(&mut reader, opts.max_xlsx_inflated_bytes)?;
        reader.seek(SeekFrom::Start(0))?;
        let mut workbook = open(reader)?;
        let sheet = choose_sheet(&workbook, opts.sheet.as_deref())?;
        let is_1904 = workbook.has_1904_epoch();
        let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(invalid)?;
        let mut summary = Summary::default();
        walk(&mut cells, is_1904, |index, cells| {
            summary.visit(index, cells)
        })?;
        summary.finish(sheet, len, is_1904)
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
    fn visit(&mut self, index: u32, cells: &[(usize, String)]) -> Result<bool, Refusal> {
        let Some(headers) = &self.headers else {
            // The first row holding a value: it must be row 1.
            if index != 0 {
                return Err(Refusal::HeaderBlank);
            }
            let width = cells.iter().map(|(c, _)| c + 1).max().unwrap_or(0);
            let mut headers = vec![String::new(); width];
            for (column, value) in cells {
                headers[*column] = header_text(value.as_bytes());
            }
            crate::text::check_duplicates(&headers)?;
            self.has_value = vec![false; headers.len()];
            self.headers = Some(headers);
            return Ok(true);
        };
        for (column, value) in cells {
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

    fn finish(self, sheet: String, len: u64, date_1904: bool) -> Result<FileInfo, Refusal> {
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
            },
        })
    }
}

/// Inflates every member into a counter, refusing past `cap` bytes in total and on any XML
/// part that declares a DTD or an entity.
pub(crate) fn prescan<R: Read + Seek>(reader: &mut R, cap: u64) -> Result<(), Refusal> {
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
    Ok(())
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
        for &b in bytes {
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

fn open<R: Read + Seek>(reader: R) -> Result<Xlsx<BufReader<R>>, Refusal> {
    Xlsx::new(BufReader::with_capacity(1 << 16, reader)).map_err(invalid)
}

/// The sheet to read: the one chosen (exactly, else the only case-insensitive match), or the
/// only visible worksheet.
fn choose_sheet<R: Read + Seek>(
    workbook: &Xlsx<R>,
    chosen: Option<&str>,
) -> Result<String, Refusal> {
    let worksheets: Vec<_> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .collect();
    let names = |visible_only: bool| -> Vec<String> {
        worksheets
            .iter()
            .filter(|s| !visible_only || s.visible == SheetVisible::Visible)
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
/// holding a value (0-based index; cells as `(column, text)`, blank-text cells included),
/// refusing past the caps as soon as a cell holding a value crosses one. `visit` returns
/// false to stop.
fn walk<RS: Read + Seek>(
    cells: &mut XlsxCellReader<'_, RS>,
    is_1904: bool,
    mut visit: impl FnMut(u32, &[(usize, String)]) -> Result<bool, Refusal>,
) -> Result<(), Refusal> {
    let mut current: Option<u32> = None;
    let mut nonblank = false;
    let mut row: Vec<(usize, String)> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(invalid)? {
        let (index, column) = cell.get_position();
        let Some(value) = text(cell.get_value(), is_1904) else {
            continue;
        };
        let column = column as usize;
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
            Some(cur) if cur == index => {}
            Some(cur) if index < cur => {
                return Err(invalid(format!(
                    "row {line} comes after row {} in the sheet",
                    u64::from(cur) + 1
                )));
            }
            _ => {
                if let Some(cur) = current
                    && nonblank
                    && !visit(cur, &row)?
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
        visit(cur, &row)?;
    }
    Ok(())
}

/// A cell as text; `None` for a cell without a value.
pub(crate) fn text(value: &DataRef<'_>, is_1904: bool) -> Option<String> {
    Some(match value {
        DataRef::Empty => return None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => date_time(dt, is_1904),
        DataRef::Error(e) => e.to_string(),
    })
}

/// A number as Excel's General format shows it: at most 15 significant digits, no float
/// noise, no exponent (`2015550123.0` → `2015550123`, `0.1 + 0.2` → `0.3`).
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return (value as i64).to_string();
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    rounded.to_string()
}

/// A serial date-time as ISO text: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` when it has a time
/// part, `HH:MM:SS` for a time of day alone (a serial below 1). Durations and serials outside
/// Excel's range (before its epoch, after 9999-12-31) stay numbers.
pub(crate) fn date_time(value: &ExcelDateTime, is_1904: bool) -> String {
    let serial = value.as_f64();
    if value.is_duration() || !(0.0..2_958_466.0).contains(&serial) {
        return number(serial);
    }
    // Round to the second first, so 23:59:59.7 becomes the next day, not 23:59:59.
    let seconds = (serial * 86_400.0).round();
    let rounded = ExcelDateTime::new(
        seconds / 86_400.0,
        calamine::ExcelDateTimeType::DateTime,
        is_1904,
    );
    let (y, mo, d, h, mi, s, _) = rounded.to_ymd_hms_milli();
    if seconds < 86_400.0 {
        return format!("{h:02}:{mi:02}:{s:02}");
    }
    if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// One row of the sheet: cells placed by column, NULs removed with a warning.
fn build_row(builder: &RowBuilder<'_>, index: u32, cells: &[(usize, String)], width: usize) -> Row {
    let mut row = Row {
        line: u64::from(index) + 1,
        ..Row::default()
    };
    let mut blank = true;
    for (column, value) in cells {
        if *column >= width {
            continue;
        }
        if row.cells.len() <= *column {
            row.cells.resize(column + 1, String::new());
        }
        let value = builder
            .clean(*column, value, &mut row.messages)
            .into_owned();
        blank &= is_blank(&value);
        row.cells[*column] = value;
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

/// Rows of an inspected workbook. `calamine`'s cell reader borrows the workbook, so both live
/// on a producer thread that sends rows in batches through a bounded channel: memory stays
/// flat, and dropping `XlsxRows` stops the thread at its next send.
pub(crate) struct XlsxRows {
    rx: Receiver<Result<Vec<Row>, Refusal>>,
    batch: std::vec::IntoIter<Row>,
    done: bool,
}

const BATCH: usize = 512;

impl XlsxRows {
    pub(crate) fn spawn<R: Read + Seek + Send + 'static>(
        reader: R,
        info: &FileInfo,
        after: u64,
    ) -> XlsxRows {
        let (tx, rx) = sync_channel(2);
        let sheet = info.sheet.clone().unwrap_or_default();
        let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
        std::thread::spawn(move || {
            let result = guarded(|| produce(reader, &sheet, &headers, after, &tx));
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

fn produce<R: Read + Seek>(
    reader: R,
    sheet: &str,
    headers: &[String],
    after: u64,
    tx: &SyncSender<Result<Vec<Row>, Refusal>>,
) -> Result<(), Refusal> {
    let mut workbook = open(reader)?;
    let is_1904 = workbook.has_1904_epoch();
    let mut cells = workbook.worksheet_cells_reader(sheet).map_err(invalid)?;
    let builder = RowBuilder {
        headers,
        encoding: "xlsx",
    };
    let width = headers.len();
    let mut batch = Vec::with_capacity(BATCH);
    let mut last = 0u32;
    let mut stopped = false;
    walk(&mut cells, is_1904, |index, cells| {
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
                if batch.len() == BATCH && !send(tx, &mut batch) {
                    stopped = true;
                    return Ok(false);
                }
            }
        }
        last = index;
        if u64::from(index) + 1 > after {
            batch.push(build_row(&builder, index, cells, width));
            if batch.len() >= BATCH && !send(tx, &mut batch) {
                stopped = true;
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    if !stopped && !batch.is_empty() {
        send(tx, &mut batch);
    }
    Ok(())
}

/// Sends a batch; false when the receiver is gone.
fn send(tx: &SyncSender<Result<Vec<Row>, Refusal>>, batch: &mut Vec<Row>) -> bool {
    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
    tx.send(Ok(full)).is_ok()
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
