//! A worksheet's cells, streamed in file order from its part: each cell's position and its
//! text as a user sees it. Positions follow Excel's rules: a row's `r` gives its number, a
//! cell's `r` its reference (`B7`); without them, a row follows the one before it and a cell
//! the cell before it in the row.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::events::Event;

use super::serial::{date_time, number};
use super::strings::{SharedStrings, read_rich_text, unescape_excel};
use super::styles::NumberKind;
use super::xml::{Part, attribute_number, attributes};
use crate::Refusal;

/// One cell holding something.
pub(crate) struct Cell<'a> {
    /// 0-based row and column.
    pub(crate) row: u32,
    pub(crate) column: u32,
    /// The text; `None` for a cell without a value (`<c r="A1" s="3"/>`). A shared string is
    /// borrowed from the table: whoever keeps it makes the copy, which counts against the
    /// workbook's budget each time a cell uses it.
    pub(crate) text: Option<Cow<'a, str>>,
}

/// The `t` attribute of a cell.
enum CellType {
    /// `n`, or no `t`: a number; without `t`, text that is not a number stays text.
    Number {
        explicit: bool,
    },
    Shared,
    Bool,
    Error,
    IsoDate,
    Formula,
    Inline,
    Unknown(String),
}

pub(crate) struct SheetCells<'a, R: BufRead> {
    part: Part<R>,
    strings: &'a SharedStrings,
    kinds: &'a [NumberKind],
    is_1904: bool,
    /// The row being read, the row a row without `r` would be, the column a cell without `r`
    /// would be.
    row: u32,
    next_row: u32,
    next_column: u32,
    /// Scratch: the text of `<v>`, a run of rich text.
    value: String,
    run: String,
}

impl<'a, R: BufRead> SheetCells<'a, R> {
    pub(crate) fn new(
        mut part: Part<R>,
        strings: &'a SharedStrings,
        kinds: &'a [NumberKind],
        is_1904: bool,
    ) -> Result<SheetCells<'a, R>, Refusal> {
        loop {
            match part.next()? {
                Event::Start(e) if e.local_name().as_ref() == b"sheetData" => break,
                Event::Eof => return Err(part.refuse("the sheet has no <sheetData>")),
                _ => {}
            }
        }
        Ok(SheetCells {
            part,
            strings,
            kinds,
            is_1904,
            row: 0,
            next_row: 0,
            next_column: 0,
            value: String::new(),
            run: String::new(),
        })
    }

    /// The next cell, `None` at the end of the sheet's data.
    pub(crate) fn next_cell(&mut self) -> Result<Option<Cell<'a>>, Refusal> {
        enum Next {
            Row(Option<u64>),
            Cell {
                at: Option<Result<(u32, u32), ()>>,
                style: Option<u64>,
                kind: CellType,
            },
            End,
            Other,
        }
        loop {
            let next = match self.part.next()? {
                Event::Start(e) => match e.local_name().as_ref() {
                    b"row" => {
                        let [r] = attributes(&e, [b"r"]);
                        Next::Row(r.map(|r| attribute_number(r).unwrap_or(0)))
                    }
                    b"c" => {
                        let [r, s, t] = attributes(&e, [b"r", b"s", b"t"]);
                        Next::Cell {
                            at: r.map(|r| reference(r).ok_or(())),
                            style: s.map(|s| attribute_number(s).unwrap_or(0)),
                            kind: cell_type(t),
                        }
                    }
                    _ => Next::Other,
                },
                Event::End(e) if e.local_name().as_ref() == b"sheetData" => Next::End,
                Event::Eof => return Err(self.part.truncated()),
                _ => Next::Other,
            };
            match next {
                Next::Row(number) => {
                    self.row = match number {
                        None => self.next_row,
                        Some(n @ 1..=0x1_0000_0000) => (n - 1) as u32,
                        Some(_) => return Err(self.part.refuse("a row number is not valid")),
                    };
                    self.next_row = self.row.saturating_add(1);
                    self.next_column = 0;
                }
                Next::Cell { at, style, kind } => {
                    let (row, column) = match at {
                        None => (self.row, self.next_column),
                        Some(Ok(at)) => at,
                        Some(Err(())) => {
                            return Err(self.part.refuse("a cell reference is not valid"));
                        }
                    };
                    self.row = row;
                    self.next_row = row.saturating_add(1);
                    self.next_column = column.saturating_add(1);
                    let text = self.value(style, kind)?;
                    return Ok(Some(Cell { row, column, text }));
                }
                Next::End => return Ok(None),
                Next::Other => {}
            }
        }
    }

    /// After `<c>`: reads the cell to its end and returns its text.
    fn value(
        &mut self,
        style: Option<u64>,
        kind: CellType,
    ) -> Result<Option<Cow<'a, str>>, Refusal> {
        enum Child {
            Value,
            InlineString,
            Other,
            End,
            Skip,
        }
        let mut has_value = false;
        let mut inline = None;
        loop {
            let child = match self.part.next()? {
                Event::Start(e) => match e.local_name().as_ref() {
                    b"v" => Child::Value,
                    b"is" => Child::InlineString,
                    // `<f>` (the formula: its cached value is `<v>`), `<extLst>`, …
                    _ => Child::Skip,
                },
                // Every child is read to its end, so this one is `</c>`.
                Event::End(_) => Child::End,
                Event::Eof => return Err(self.part.truncated()),
                _ => Child::Other,
            };
            match child {
                Child::Value => {
                    self.value.clear();
                    self.part.text_into(&mut self.value)?;
                    has_value = true;
                }
                Child::InlineString => {
                    let mut text = String::new();
                    read_rich_text(&mut self.part, &mut self.run, &mut text)?;
                    inline = Some(text);
                }
                Child::Skip => self.part.skip()?,
                Child::Other => {}
                Child::End => break,
            }
        }
        if let Some(text) = inline {
            return Ok(Some(Cow::Owned(text)));
        }
        if !has_value || matches!(kind, CellType::Inline) {
            return Ok(None);
        }
        let v = self.value.as_str();
        let text = match kind {
            CellType::Shared => {
                let index = v.trim();
                if index.is_empty() {
                    return Ok(None);
                }
                let strings: &'a SharedStrings = self.strings;
                let text = index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| strings.get(i))
                    .ok_or_else(|| {
                        self.part.refuse(format_args!(
                            "a cell uses shared string {index}, which the workbook does not have"
                        ))
                    })?;
                return Ok(Some(Cow::Borrowed(text)));
            }
            CellType::Bool => match v.trim() {
                "" => return Ok(None),
                "0" => "false".to_owned(),
                "1" => "true".to_owned(),
                b if b.eq_ignore_ascii_case("false") => "false".to_owned(),
                b if b.eq_ignore_ascii_case("true") => "true".to_owned(),
                _ => return Err(self.part.refuse(format_args!("a boolean cell holds {v:?}"))),
            },
            CellType::Error if v.is_empty() => return Ok(None),
            CellType::Error | CellType::IsoDate => v.to_owned(),
            CellType::Formula => {
                let mut text = String::with_capacity(v.len());
                unescape_excel(v, &mut text);
                text
            }
            CellType::Number { explicit } => {
                if v.is_empty() {
                    return Ok(None);
                }
                match v.parse::<f64>() {
                    Ok(n) => {
                        let kind = style
                            .and_then(|s| self.kinds.get(usize::try_from(s).ok()?))
                            .copied()
                            .unwrap_or(NumberKind::Plain);
                        match kind {
                            NumberKind::Date => date_time(n, self.is_1904),
                            NumberKind::Plain | NumberKind::Duration => number(n),
                        }
                    }
                    Err(_) if !explicit => v.to_owned(),
                    Err(_) => {
                        return Err(self.part.refuse(format_args!("a number cell holds {v:?}")));
                    }
                }
            }
            CellType::Inline => return Ok(None),
            CellType::Unknown(t) => {
                return Err(self
                    .part
                    .refuse(format_args!("a cell has the unknown type {t:?}")));
            }
        };
        Ok(Some(Cow::Owned(text)))
    }
}

fn cell_type(t: Option<&[u8]>) -> CellType {
    match t {
        None => CellType::Number { explicit: false },
        Some(b"n") => CellType::Number { explicit: true },
        Some(b"s") => CellType::Shared,
        Some(b"b") => CellType::Bool,
        Some(b"e") => CellType::Error,
        Some(b"d") => CellType::IsoDate,
        Some(b"str") => CellType::Formula,
        Some(b"inlineStr") => CellType::Inline,
        Some(other) => CellType::Unknown(String::from_utf8_lossy(other).into_owned()),
    }
}

/// A cell reference (`B7`, `xfd1048576`) as 0-based (row, column).
fn reference(r: &[u8]) -> Option<(u32, u32)> {
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (column, row) = r.split_at(letters);
    let column = column.iter().try_fold(0u32, |n, b| {
        n.checked_mul(26)?
            .checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)
    })?;
    let row = u32::try_from(attribute_number(row)?).ok()?;
    Some((row.checked_sub(1)?, column.checked_sub(1)?))
}
