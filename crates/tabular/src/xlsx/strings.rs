//! The shared-string table, held compactly: every string in one `String`, and where each one
//! ends in a `Vec<u32>` — eight million one-letter strings hold 40 MB, not the 600 MB of a
//! `Vec<String>` (a heap allocation each). What the table holds counts against the same
//! budget as the workbook's inflated size (SPEC §13.2).
//!
//! Also here: reading a rich-text string (`<si>` of the table, `<is>` of an inline-string
//! cell) the way Excel shows it.

use std::io::BufRead;

use quick_xml::events::Event;

use super::Budget;
use super::xml::{Part, attributes};
use crate::Refusal;

#[derive(Default)]
pub(crate) struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    /// String `index` of the table.
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] as usize,
        };
        self.text.get(start..end)
    }

    /// Reads the `<si>` items of `sharedStrings.xml`, charging what the table holds to
    /// `budget` as it grows.
    pub(crate) fn read<R: BufRead>(
        part: &mut Part<R>,
        budget: &mut Budget,
    ) -> Result<SharedStrings, Refusal> {
        let mut table = SharedStrings::default();
        let mut run = String::new();
        loop {
            let is_item = match part.next()? {
                Event::Start(e) => e.local_name().as_ref() == b"si",
                Event::Eof => break,
                _ => false,
            };
            if !is_item {
                continue;
            }
            let before = table.text.len();
            read_rich_text(part, &mut run, &mut table.text)?;
            let end = u32::try_from(table.text.len()).map_err(|_| budget.exceeded())?;
            table.ends.push(end);
            budget.charge((table.text.len() - before + size_of::<u32>()) as u64)?;
        }
        Ok(table)
    }
}

/// After `<si>` or `<is>`: appends the string's text to `out` — its `<t>`, or the `<t>` of
/// each rich-text run `<r>` one after another — and reads to the element's end. Phonetic
/// runs (`<rPh>`, the reading of East Asian text) are not part of the text. A `<t>` without
/// `xml:space="preserve"` loses its leading and trailing spaces, tabs and line ends;
/// `_xHHHH_` escapes are decoded. `run` is scratch space.
pub(crate) fn read_rich_text<R: BufRead>(
    part: &mut Part<R>,
    run: &mut String,
    out: &mut String,
) -> Result<(), Refusal> {
    enum Next {
        Text { preserve: bool },
        Skip,
        Enter,
        Leave,
        Other,
    }
    let mut depth = 1usize;
    while depth > 0 {
        let next = match part.next()? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"t" => {
                    let [space] = attributes(&e, [b"xml:space"]);
                    Next::Text {
                        preserve: space == Some(b"preserve"),
                    }
                }
                b"rPh" => Next::Skip,
                _ => Next::Enter,
            },
            Event::End(_) => Next::Leave,
            Event::Eof => return Err(part.truncated()),
            _ => Next::Other,
        };
        match next {
            Next::Text { preserve } => {
                run.clear();
                part.text_into(run)?;
                let text = if preserve {
                    run.as_str()
                } else {
                    run.trim_matches([' ', '\t', '\r', '\n'])
                };
                unescape_excel(text, out);
            }
            Next::Skip => part.skip()?,
            Next::Enter => depth += 1,
            Next::Leave => depth -= 1,
            Next::Other => {}
        }
    }
    Ok(())
}

/// Appends `text` with Excel's `_xHHHH_` escapes decoded: four hex digits name a UTF-16 code
/// unit (`_x000D_` is a carriage return; a character beyond the BMP is a surrogate pair,
/// `_xD83D__xDE00_`), a lone surrogate becomes U+FFFD, and `_x005F_` is the escape for `_`
/// itself, so `_x005F_x000D_` reads `_x000D_`.
pub(crate) fn unescape_excel(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'_') {
        let at = i + offset;
        let Some(unit) = escape_at(bytes, at) else {
            i = at + 1;
            continue;
        };
        out.push_str(&text[copied..at]);
        let mut next = at + ESCAPE_LEN;
        let c = match unit {
            0xD800..=0xDBFF => match escape_at(bytes, next) {
                Some(low @ 0xDC00..=0xDFFF) => {
                    next += ESCAPE_LEN;
                    let high = u32::from(unit) - 0xD800;
                    char::from_u32(0x10000 + (high << 10) + (u32::from(low) - 0xDC00))
                }
                _ => None,
            },
            _ => char::from_u32(u32::from(unit)),
        };
        out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        copied = next;
        i = next;
    }
    out.push_str(&text[copied..]);
}

const ESCAPE_LEN: usize = "_xHHHH_".len();

/// The code unit of an `_xHHHH_` escape starting at `at`.
fn escape_at(bytes: &[u8], at: usize) -> Option<u16> {
    let escape = bytes.get(at..at + ESCAPE_LEN)?;
    if escape[0] != b'_' || escape[1] != b'x' || escape[6] != b'_' {
        return None;
    }
    escape[2..6].iter().try_fold(0u16, |unit, &d| {
        let digit = (d as char).to_digit(16)?;
        Some(unit << 4 | digit as u16)
    })
}
