//! From a record's cells to a [`Row`]: one cell per column, NULs removed, cells holding an
//! invalid byte left out, extra cells checked — each with its [`CellMessage`].
//!
//! Shared by delimited text and workbooks so that every backend reports the same codes.
//! Values are never trimmed here (that belongs to the value readers in `domain`); only header
//! cells are (SPEC §4).

use std::borrow::Cow;

use crate::parse::Record;
use crate::refusal::{column_letters, place};
use crate::{CellMessage, Row};

/// Whitespace, for blank cells and header trimming: Unicode White_Space (`char::is_whitespace`:
/// space, tab, CR, LF, VT, FF, NBSP, …), so a cell a user sees as empty is blank. NUL counts
/// as nothing, since it is removed from every value.
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c == '\0')
}

/// [`is_blank`] over the bytes of a cell; bytes that are not UTF-8 are a value.
pub(crate) fn is_blank_bytes(bytes: &[u8]) -> bool {
    // Most cells start with an ASCII letter or digit: decided at the first byte.
    match bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\0'))
    {
        None => true,
        Some(i) if bytes[i] < 0x80 && !matches!(bytes[i], 0x0B | 0x0C) => false,
        Some(i) => std::str::from_utf8(&bytes[i..]).is_ok_and(is_blank),
    }
}

/// A header cell: decoded (an invalid byte shows as U+FFFD, so the column can still be
/// named), NULs removed, trimmed.
pub(crate) fn header_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.replace('\0', "").trim().to_owned()
}

/// Builds rows and their messages; knows the headers to name columns in messages.
pub(crate) struct RowBuilder<'a> {
    pub(crate) headers: &'a [String],
    /// The file's encoding label, to say which encoding a left-out cell broke.
    pub(crate) encoding: &'static str,
}

impl RowBuilder<'_> {
    /// Turns one record into `row` (its cells, blank flag and messages), reusing the
    /// buffers `row` already has. Cells past the headers are extra.
    pub(crate) fn text_row(&self, record: &Record, row: &mut Row) {
        row.line = record.line;
        row.messages.clear();
        // One validation for the whole record: a cell of a valid record is valid unless it
        // cuts a character in two (only possible when its neighbour is invalid too).
        let whole = std::str::from_utf8(record.bytes()).ok();
        let width = self.headers.len();
        row.cells.truncate(width);
        let mut blank = true;
        let mut extra = None;
        for (column, range) in record.ranges().enumerate() {
            let bytes = &record.bytes()[range.clone()];
            if column >= width {
                if extra.is_none() && !is_blank_bytes(bytes) {
                    extra = Some(column);
                }
                continue;
            }
            let text = whole
                .and_then(|w| w.get(range))
                .or_else(|| std::str::from_utf8(bytes).ok());
            let value = match text {
                Some(text) => {
                    let value = self.clean(column, text, &mut row.messages);
                    blank &= is_blank(&value);
                    value
                }
                None => {
                    row.messages.push(self.invalid_byte(column));
                    blank = false;
                    Cow::Borrowed("")
                }
            };
            match row.cells.get_mut(column) {
                Some(cell) => {
                    cell.clear();
                    cell.push_str(&value);
                }
                None => row.cells.push(value.into_owned()),
            }
        }
        let read = record.len().min(width);
        for cell in row.cells.iter_mut().skip(read) {
            cell.clear();
        }
        self.finish(extra, blank, row);
    }

    /// Pads the row, adds the extra-cells warning, and settles whether it is blank.
    pub(crate) fn finish(&self, extra: Option<usize>, blank: bool, row: &mut Row) {
        while row.cells.len() < self.headers.len() {
            row.cells.push(String::new());
        }
        if let Some(column) = extra {
            row.messages.push(CellMessage {
                code: "row.extra_cells",
                column,
                message: format!(
                    "The row has a value in column {}, right of the last column with a header; cells right of the last column were not read.",
                    column_letters(column)
                ),
                resolution: "Give that column a header, or move the value under the right header, and import the file again.",
            });
        }
        row.blank = blank && extra.is_none();
        if row.blank {
            row.messages.clear();
        }
    }

    /// Removes NUL characters from a value, with a warning.
    pub(crate) fn clean<'t>(
        &self,
        column: usize,
        text: &'t str,
        messages: &mut Vec<CellMessage>,
    ) -> Cow<'t, str> {
        if text.as_bytes().contains(&0) {
            messages.push(CellMessage {
                code: "cell.nul_removed",
                column,
                message: format!(
                    "{}: the cell held NUL characters, which were removed.",
                    capitalised(&place(column, self.header(column)))
                ),
                resolution: "Nothing to do. To keep the file clean, remove the NUL characters from it.",
            });
            text.replace('\0', "").into()
        } else {
            text.into()
        }
    }

    fn invalid_byte(&self, column: usize) -> CellMessage {
        CellMessage {
            code: "encoding.invalid_byte",
            column,
            message: format!(
                "{}: the cell holds bytes that are not valid {} text, so it was left out.",
                capitalised(&place(column, self.header(column))),
                self.encoding
            ),
            resolution: "Save the file as CSV UTF-8 and import it again.",
        }
    }

    fn header(&self, column: usize) -> &str {
        self.headers.get(column).map_or("", String::as_str)
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
