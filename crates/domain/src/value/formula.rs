//! Spreadsheet formula injection (SPEC §10), for every CSV the product writes (exports,
//! error logs) and, in reverse, for every cell it imports.
//!
//! A cell that begins with `=`, `+`, `-`, `@`, tab, CR, LF or NUL could run as a formula in
//! Excel or Sheets, so it is written with a `'` in front — except a plain number
//! (`^[+-]?[0-9]+(\.[0-9]+)?$`, which also covers every E.164 phone such as `+12015550123`).
//! A value that already begins with `'`s followed by one of those characters gets one more
//! `'`, so that [`unneutralise`], which removes one such `'` on import, gives back exactly
//! what was exported: `unneutralise(&neutralise(x)) == x` for every string.

use std::borrow::Cow;

fn is_trigger(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '\0')
}

/// SPEC §10's "plainly a number": `^[+-]?[0-9]+(\.[0-9]+)?$`.
fn is_plain_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// Whether the value, after any leading `'`s, begins with a trigger character.
fn quotes_then_trigger(value: &str) -> bool {
    value.starts_with('\'') && value.trim_start_matches('\'').starts_with(is_trigger)
}

/// The text to write in a CSV cell so that no spreadsheet runs it as a formula.
///
/// ```
/// use domain::value::neutralise;
/// assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(neutralise("-12.5"), "-12.5");
/// assert_eq!(neutralise("+12015550123"), "+12015550123");
/// assert_eq!(neutralise("-1,234.56"), "'-1,234.56");
/// assert_eq!(neutralise("'=1"), "''=1");
/// assert_eq!(neutralise("Ann"), "Ann");
/// ```
pub fn neutralise(value: &str) -> Cow<'_, str> {
    let needs = match value.chars().next() {
        Some(c) if is_trigger(c) => !is_plain_number(value),
        Some('\'') => quotes_then_trigger(value),
        _ => false,
    };
    if needs {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// The imported text of a cell that may have been neutralised: one leading `'` removed from
/// a value that begins with one or more `'` followed by a trigger character.
///
/// ```
/// use domain::value::unneutralise;
/// assert_eq!(unneutralise("'=1+2"), "=1+2");
/// assert_eq!(unneutralise("''=1"), "'=1");
/// assert_eq!(unneutralise("'tis"), "'tis");
/// ```
pub fn unneutralise(value: &str) -> &str {
    if quotes_then_trigger(value) {
        &value[1..]
    } else {
        value
    }
}

/// Whether a CSV writer must quote the field: RFC 4180's reasons (`,` `"` CR LF) and SPEC
/// §10's for European Excel, which splits on `;` (and tab). A writer that quotes only when
/// this is true, and doubles inner quotes, writes what SPEC §10 asks.
///
/// ```
/// use domain::value::needs_quotes_for_excel;
/// assert!(needs_quotes_for_excel("VIP;Botox"));
/// assert!(needs_quotes_for_excel("a\tb"));
/// assert!(needs_quotes_for_excel("Lee, Ann"));
/// assert!(!needs_quotes_for_excel("Ann Lee"));
/// ```
pub fn needs_quotes_for_excel(value: &str) -> bool {
    // Byte by byte: every character looked for is ASCII, and no byte of a multi-byte UTF-8
    // character is ASCII (this runs for every cell of a million-row export).
    value
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n' | b';' | b'\t'))
}

#[cfg(test)]
mod tests;
