//! Why a whole file is refused (SPEC §4), with a stable code and a message in the user's
//! words: what is wrong, where (row, column, header), and how to fix it.
//!
//! A message never contains a Rust debug string; row numbers are the ones a spreadsheet shows.

use std::fmt;
use std::io;

/// A refusal of the whole file, or an I/O failure while reading it.
///
/// `code()` is stable (the report, the API's 422 body and the CLI rely on it); `Display` is
/// the message for the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// `file.too_large`
    #[error(
        "The file is {} bytes; the limit is {} bytes. Split the file into smaller parts, each with the header row: aesthetix split FILE",
        thousands(*size),
        thousands(*limit)
    )]
    TooLarge { size: u64, limit: u64 },

    /// `file.empty`
    #[error(
        "The file is empty. Choose the file that holds your contacts: a header row, then one row per contact."
    )]
    Empty,

    /// `file.binary`: more than a quarter NUL bytes without a UTF-16 byte-order mark.
    #[error(
        "The file is not readable text: more than a quarter of its bytes are NUL, as in UTF-16 text saved without a byte-order mark, or a file that is not text at all. Save it as CSV UTF-8."
    )]
    Binary,

    /// `file.not_text`: neither text nor a workbook — an image, a PDF, an archive, a program
    /// (by its signature, or by the control bytes text never holds).
    #[error(
        "The file is {}, not a CSV file or an Excel workbook, so it cannot be imported. Choose the CSV or Excel (.xlsx) file that holds your contacts.",
        what.unwrap_or("not text")
    )]
    NotText { what: Option<&'static str> },

    /// `file.not_utf8_multibyte`: a multi-byte legacy encoding (Shift_JIS, GBK, Big5, EUC-KR, …).
    #[error(
        "The file is encoded in {encoding}, which is not read, to avoid garbled names. Save it as CSV UTF-8."
    )]
    MultiByteLegacy { encoding: &'static str },

    /// `file.old_excel`: an OLE compound file — an old `.xls` or a password-protected workbook.
    #[error(
        "The file is an old Excel workbook (.xls) or a password-protected workbook, which cannot be read. Save it as CSV UTF-8, or as an Excel workbook (.xlsx) without a password."
    )]
    OldExcel,

    /// `file.quote_unclosed`: a quote opens a cell that is never closed.
    #[error(
        "Row {line}, {}: a quote (\") opens a cell that is never closed, so every row after it would be read into that one cell. Close the quote or remove it, and save the file again.",
        place(*column, header)
    )]
    QuoteUnclosed {
        line: u64,
        column: usize,
        header: String,
    },

    /// `file.cell_too_large`: a cell over 131,072 bytes once decoded.
    #[error(
        "Row {line}, {}: the cell holds more than {} bytes, the limit. Shorten it; if it was not meant to be this long, look for a misplaced quote (\") before it.",
        place(*column, header),
        thousands(*limit as u64)
    )]
    CellTooLarge {
        line: u64,
        column: usize,
        header: String,
        limit: usize,
    },

    /// `file.too_many_columns`: a value past the 1,000th column (or a header that wide).
    #[error(
        "Row {line} reaches column {} ({}); the limit is {} columns. Delete the columns you do not need and save the file again.",
        column_letters(*column),
        thousands(*column as u64 + 1),
        thousands(*limit as u64)
    )]
    TooManyColumns {
        line: u64,
        column: usize,
        limit: usize,
    },

    /// `file.header_blank`
    #[error(
        "The first row is blank. The first row must hold the column headers (such as First Name, Email, Phone): add them, or delete the blank rows above them."
    )]
    HeaderBlank,

    /// `file.header_duplicate`: two columns with the same header.
    #[error(
        "Two columns have the same header: {}. Rename or delete the duplicates so each header appears once.",
        duplicates_text(duplicates)
    )]
    HeaderDuplicate {
        /// Each repeated header with the columns (0-based) that carry it.
        duplicates: Vec<(String, Vec<usize>)>,
    },

    /// `file.no_rows`: a header and nothing under it.
    #[error(
        "The file has no rows: it holds a header row and nothing under it. Add your contacts below the header row."
    )]
    NoRows,

    /// `file.sheet_on_csv`: a sheet was chosen for a file that is not a workbook.
    #[error(
        "A sheet was chosen, but this file is delimited text (CSV), not an Excel workbook, and has no sheets. Import it without choosing a sheet."
    )]
    SheetOnText,

    /// `xlsx.several_sheets`
    #[error(
        "The workbook has several sheets: {}. Choose the one to import (the sheet picker, or --sheet NAME).",
        quoted_list(names)
    )]
    SeveralSheets { names: Vec<String> },

    /// `xlsx.sheet_not_found`
    #[error(
        "The workbook has no sheet named \"{name}\". Its sheets are: {}. Choose one of them.",
        quoted_list(names)
    )]
    SheetNotFound { name: String, names: Vec<String> },

    /// `xlsx.dtd`: an XML part declares a DTD or an entity.
    #[error(
        "The workbook part \"{part}\" declares a DTD or an entity, which is refused for safety. Open the workbook in Excel and save it again as .xlsx, or save the sheet as CSV UTF-8."
    )]
    XlsxDtd { part: String },

    /// `xlsx.too_large`: the archive inflates past the cap (a decompression bomb, or simply
    /// too much data).
    #[error(
        "The workbook unpacks to more than {} bytes, the limit. Save the sheet as CSV UTF-8, or split it into smaller workbooks.",
        thousands(*limit)
    )]
    XlsxTooLarge { limit: u64 },

    /// `xlsx.too_many_rows`: a value past row 1,048,576.
    #[error(
        "The sheet has a value in row {}; the limit is {} rows. Split the sheet into smaller files.",
        thousands(*line),
        thousands(*limit)
    )]
    XlsxTooManyRows { line: u64, limit: u64 },

    /// `xlsx.invalid`: a zip archive that is not a readable XLSX workbook.
    #[error(
        "The file is a zip archive but not a readable Excel workbook (it may be damaged, or another kind of file such as .ods or .docx). Open it in Excel and save it as .xlsx or CSV UTF-8. (The reader said: {detail}.)"
    )]
    XlsxInvalid { detail: String },

    /// `file.changed`: the file is not the one that was inspected.
    #[error("The file changed after it was checked. Upload it again.")]
    Changed,

    /// `file.io`: the file could not be read.
    #[error("The file could not be read: {0}.")]
    Io(#[from] io::Error),
}

impl Refusal {
    /// Every code [`Refusal::code`] gives, so a code stored as text can be read back as one.
    pub const CODES: &'static [&'static str] = &[
        "file.too_large",
        "file.empty",
        "file.binary",
        "file.not_text",
        "file.not_utf8_multibyte",
        "file.old_excel",
        "file.quote_unclosed",
        "file.cell_too_large",
        "file.too_many_columns",
        "file.header_blank",
        "file.header_duplicate",
        "file.no_rows",
        "file.sheet_on_csv",
        "xlsx.several_sheets",
        "xlsx.sheet_not_found",
        "xlsx.dtd",
        "xlsx.too_large",
        "xlsx.too_many_rows",
        "xlsx.invalid",
        "file.changed",
        "file.io",
    ];

    /// The stable code of this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge { .. } => "file.too_large",
            Refusal::Empty => "file.empty",
            Refusal::Binary => "file.binary",
            Refusal::NotText { .. } => "file.not_text",
            Refusal::MultiByteLegacy { .. } => "file.not_utf8_multibyte",
            Refusal::OldExcel => "file.old_excel",
            Refusal::QuoteUnclosed { .. } => "file.quote_unclosed",
            Refusal::CellTooLarge { .. } => "file.cell_too_large",
            Refusal::TooManyColumns { .. } => "file.too_many_columns",
            Refusal::HeaderBlank => "file.header_blank",
            Refusal::HeaderDuplicate { .. } => "file.header_duplicate",
            Refusal::NoRows => "file.no_rows",
            Refusal::SheetOnText => "file.sheet_on_csv",
            Refusal::SeveralSheets { .. } => "xlsx.several_sheets",
            Refusal::SheetNotFound { .. } => "xlsx.sheet_not_found",
            Refusal::XlsxDtd { .. } => "xlsx.dtd",
            Refusal::XlsxTooLarge { .. } => "xlsx.too_large",
            Refusal::XlsxTooManyRows { .. } => "xlsx.too_many_rows",
            Refusal::XlsxInvalid { .. } => "xlsx.invalid",
            Refusal::Changed => "file.changed",
            Refusal::Io(_) => "file.io",
        }
    }

    /// True for [`Refusal::Io`]: the file could not be read, rather than being refused.
    pub fn is_io(&self) -> bool {
        matches!(self, Refusal::Io(_))
    }
}

/// Spreadsheet column letters for a 0-based index: 0 → `A`, 26 → `AA`, 16383 → `XFD`.
pub(crate) fn column_letters(column: usize) -> String {
    let mut n = column + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// `column C ("Email")`, or `column C` when the header is blank or unknown.
pub(crate) fn place(column: usize, header: &str) -> String {
    if header.is_empty() {
        format!("column {}", column_letters(column))
    } else {
        format!("column {} (\"{}\")", column_letters(column), header)
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn duplicates_text(duplicates: &[(String, Vec<usize>)]) -> String {
    struct Dup<'a>(&'a str, &'a [usize]);
    impl fmt::Display for Dup<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let columns: Vec<String> = self.1.iter().map(|&c| column_letters(c)).collect();
            match columns.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    write!(
                        f,
                        "\"{}\" (columns {} and {})",
                        self.0,
                        rest.join(", "),
                        last
                    )
                }
                _ => write!(f, "\"{}\" (column {})", self.0, columns.join(", ")),
            }
        }
    }
    duplicates
        .iter()
        .map(|(name, cols)| Dup(name, cols).to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::Refusal;

    #[test]
    fn every_code_is_listed_once() {
        let all = [
            Refusal::TooLarge { size: 2, limit: 1 },
            Refusal::Empty,
            Refusal::Binary,
            Refusal::NotText { what: None },
            Refusal::MultiByteLegacy {
                encoding: "Shift_JIS",
            },
            Refusal::OldExcel,
            Refusal::QuoteUnclosed {
                line: 2,
                column: 0,
                header: String::new(),
            },
            Refusal::CellTooLarge {
                line: 2,
                column: 0,
                header: String::new(),
                limit: 1,
            },
            Refusal::TooManyColumns {
                line: 1,
                column: 1000,
                limit: 1000,
            },
            Refusal::HeaderBlank,
            Refusal::HeaderDuplicate { duplicates: vec![] },
            Refusal::NoRows,
            Refusal::SheetOnText,
            Refusal::SeveralSheets { names: vec![] },
            Refusal::SheetNotFound {
                name: String::new(),
                names: vec![],
            },
            Refusal::XlsxDtd {
                part: String::new(),
            },
            Refusal::XlsxTooLarge { limit: 1 },
            Refusal::XlsxTooManyRows { line: 2, limit: 1 },
            Refusal::XlsxInvalid {
                detail: String::new(),
            },
            Refusal::Changed,
            Refusal::Io(std::io::Error::other("x")),
        ];
        let codes: Vec<&str> = all.iter().map(Refusal::code).collect();
        assert_eq!(codes, Refusal::CODES);
    }
}
