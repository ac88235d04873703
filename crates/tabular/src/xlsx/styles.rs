//! Which cells hold dates: a cell's style (`s`, an index into `cellXfs` of `styles.xml`)
//! names a number format, built in or custom (`numFmts`), and a number under a date or time
//! format is a date serial.

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::events::Event;

use super::xml::{Part, attribute_number, attribute_text, attributes};
use crate::Refusal;

/// What a number format makes of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberKind {
    /// Shown as a number.
    Plain,
    /// A date, a time of day, or both.
    Date,
    /// Elapsed time (`[h]:mm:ss`): stays a number.
    Duration,
}

/// The number kind of each cell style, by index; a style not listed is [`NumberKind::Plain`].
pub(crate) fn read<R: BufRead>(part: &mut Part<R>) -> Result<Vec<NumberKind>, Refusal> {
    let mut custom: HashMap<u64, NumberKind> = HashMap::new();
    let mut kinds = Vec::new();
    // `<xf>` also appears in `cellStyleXfs` and `<numFmt>` in `dxfs` (conditional formats):
    // only those of `cellXfs` and `numFmts` count.
    let mut in_cell_xfs = false;
    let mut in_num_fmts = false;
    loop {
        match part.next()? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"numFmts" => in_num_fmts = true,
                b"numFmt" if in_num_fmts => {
                    let [id, code] = attributes(&e, [b"numFmtId", b"formatCode"]);
                    if let (Some(id), Some(code)) = (id.and_then(attribute_number), code) {
                        custom.insert(id, custom_kind(&attribute_text(code)?));
                    }
                }
                b"cellXfs" => in_cell_xfs = true,
                b"xf" if in_cell_xfs => {
                    let [id] = attributes(&e, [b"numFmtId"]);
                    let kind = id
                        .and_then(attribute_number)
                        .map_or(NumberKind::Plain, |id| {
                            custom.get(&id).copied().unwrap_or_else(|| builtin_kind(id))
                        });
                    kinds.push(kind);
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"cellXfs" => in_cell_xfs = false,
                b"numFmts" => in_num_fmts = false,
                _ => {}
            },
            Event::Eof => return Ok(kinds),
            _ => {}
        }
    }
}

/// Excel's built-in formats: 14–22 dates and times (`mm-dd-yy` … `m/d/yy h:mm`), 45 and 47
/// (`mm:ss`, `mmss.0`), 27–36 and 50–58 the East Asian dates; 46 is `[h]:mm:ss`.
fn builtin_kind(id: u64) -> NumberKind {
    match id {
        14..=22 | 27..=36 | 45 | 47 | 50..=58 => NumberKind::Date,
        46 => NumberKind::Duration,
        _ => NumberKind::Plain,
    }
}

/// A custom format code's kind, from its first section (the one for positive numbers): a
/// date or time token — `y`, `m`, `d`, `h`, `s` in either case, `AM/PM`, `A/P` — outside a
/// quoted literal (`"…"`), an escaped character (`\x`), a padding or fill character (`_x`,
/// `*x`) and a bracket (`[Red]`, `[$-409]`, `[>=100]`) makes a date; an elapsed-time bracket
/// (`[h]`, `[mm]`, `[ss]`) met first makes a duration.
pub(crate) fn custom_kind(code: &str) -> NumberKind {
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ';' => break,
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += 1;
                }
            }
            '\\' | '_' | '*' => i += 1,
            '[' => {
                let close = chars[i..].iter().position(|&c| c == ']');
                let inside = &chars[i + 1..close.map_or(chars.len(), |p| i + p)];
                if let [first, rest @ ..] = inside
                    && matches!(first.to_ascii_lowercase(), 'h' | 'm' | 's')
                    && rest.iter().all(|c| c.eq_ignore_ascii_case(first))
                {
                    return NumberKind::Duration;
                }
                i += inside.len() + 1;
            }
            'y' | 'm' | 'd' | 'h' | 's' | 'Y' | 'M' | 'D' | 'H' | 'S' => return NumberKind::Date,
            'a' | 'A' => {
                let ahead: String = chars[i..chars.len().min(i + 5)].iter().collect();
                let ahead = ahead.to_ascii_lowercase();
                if ahead.starts_with("am/pm") || ahead.starts_with("a/p") {
                    return NumberKind::Date;
                }
            }
            _ => {}
        }
        i += 1;
    }
    NumberKind::Plain
}
