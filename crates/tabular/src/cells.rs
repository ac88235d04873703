//! From a record's cells to a [`Row`]: one cell per column, NULs removed, cells holding an
//! invalid byte left out, extra cells checked — each with its [`CellMessage`].
//!
//! Shared by delimited text and workbooks so that every backend reports the same codes.
//! Values are never trimmed here (that belongs to the value readers in `domain`); only header
//! cells are (SPEC §4).

use crate::refusal::{column_letters, place};
use crate::{CellMessage, Row};

/// Whitespace, for blank cells and header trimming: Unicode White_Space (`char::is_whitespace`:
/// space, tab, CR, LF, VT, FF, NBSP, …), so a cell a user sees as empty is blank.
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// [`is_blank`] over the bytes of a cell; bytes that are not UTF-8 are a value.
pub(crate) fn is_blank_bytes(bytes: &[u8]) -> bool {
    if bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        return true;
    }
    std::str::from_utf8(bytes).is_ok_and(is_blank)
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
    /// Turns the cells of one record into `row` (its cells, blank flag and messages).
    /// `cells` yields the record's cells in order; cells past the headers are extra.
    pub(crate) fn text_row<'c>(
        &self,
        line: u64,
        cells: impl Iterator<Item = &'c [u8]>,
        row: &mut Row,
    ) {
        row.line = line;
        row.cells.clear();
        row.messages.clear();
        let mut blank = true;
        let mut extra = None;
        for (column, bytes) in cells.enumerate() {
            if column >= self.headers.len() {
                if extra.is_none() && !is_blank_bytes(bytes) {
                    extra = Some(column);
                }
                continue;
            }
            let (text, value) = match std::str::from_utf8(bytes) {
                Ok(text) => {
                    let value = self.clean(column, text, &mut row.messages);
                    (value.into_owned(), true)
                }
                Err(_) => {
                    row.messages.push(self.invalid_byte(column));
                    (String::new(), false)
                }
            };
            blank &= value && is_blank(&text);
            row.cells.push(text);
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
    ) -> std::borrow::Cow<'t, str> {
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
