//! Phone numbers (SPEC §5.10): a cell becomes an E.164 number, with its extension kept beside
//! it, or a warning that says why not.
//!
//! libphonenumber is the oracle. Its metadata comes from the `phonenumber` crate (metadata
//! 9.0.33, the oracle's version), but the parsing and validation steps are our own port of
//! libphonenumber's (`number`), because the crate's differ on real numbers (valid Russian
//! toll-free numbers, invalid Chinese ones; the list is in `number`'s doc). Before those steps,
//! the cell is read by SPEC §5.10's rules, which are stricter than libphonenumber's on letters
//! and looser on `00`: letters (vanity numbers) and spreadsheet scientific notation are
//! refused with a warning, never guessed at.
//!
//! Cost: the common North American cell takes a proven-equal table lookup (`nanp`); the rest
//! run libphonenumber's steps over patterns compiled once (`metadata`). Nothing here locks,
//! so readers scale across threads. This module does no I/O and never decides what happens to
//! the row: it returns the value or the message, and the caller adds the field key.

mod metadata;
mod nanp;
mod number;
mod pattern;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::message::Message;

/// A phone number that has been read: valid by libphonenumber's rules (holding one means so).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    e164: String,
    extension: Option<String>,
}

impl Phone {
    /// The number in E.164 form, such as `+12015550123`: what is stored, exported and matched.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The extension's digits (`12` for `x12`), kept for the `phone_extension` field.
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }

    /// The E.164 form, moved out (what a reader keeps, without copying it).
    pub fn into_e164(self) -> String {
        self.e164
    }
}

impl fmt::Display for Phone {
    /// E.164, then ` x` and the extension when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)?;
        match &self.extension {
            Some(ext) => write!(f, " x{ext}"),
            None => Ok(()),
        }
    }
}

/// The region a number without a country code is read in: an ISO 3166-1 alpha-2 code — the
/// row's Country when that column is mapped and accepted (SPEC §5.7), else the location's
/// default country.
///
/// Any two letters make a region; one without a telephone numbering plan of its own (`AQ`)
/// reads only numbers that carry their country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region([u8; 2]);

impl Region {
    /// The location default when none is set (SPEC §2).
    pub const US: Region = Region(*b"US");

    /// `Region::new("us")` is `US`; anything but two ASCII letters is `None`.
    pub fn new(code: &str) -> Option<Region> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Region([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    /// The upper-case code, such as `US`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII letters")
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SPEC §5.10's examples all use this number.
const E164_EXAMPLE: &str = "with its country code, like +12015550123";

/// Reads one phone cell, as the import engine does for every phone field.
///
/// Trims spaces, tabs, CR and LF; accepts parentheses, dashes, dots, spaces, a leading `+`
/// and a leading `00` (read as `+` whatever the region); keeps an extension written `x12`,
/// `ext 12`, `ext. 12`, `extension 12`, `#12` or `;ext=12`. A number without a country code is
/// read in `region`. Anything that does not give a valid number is a warning; the caller sets
/// its `field`.
///
/// ```
/// use domain::value::phone::{parse_phone, Region};
///
/// let phone = parse_phone("(201) 555-0123 ext. 12", Region::US).unwrap();
/// assert_eq!(phone.e164(), "+12015550123");
/// assert_eq!(phone.extension(), Some("12"));
///
/// let gb = Region::new("GB").unwrap();
/// assert_eq!(parse_phone("020 7946 0958", gb).unwrap().e164(), "+442079460958");
///
/// let warning = parse_phone("1-800-FLOWERS", Region::US).unwrap_err();
/// assert_eq!(warning.code, "phone.letters");
/// ```
pub fn parse_phone(raw: &str, region: Region) -> Result<Phone, Message> {
    read(raw, region).map_err(|rejection| rejection.message(raw, region))
}

/// Why a cell is not a phone number, and what libphonenumber made of it when it parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) problem: Problem,
    /// libphonenumber's E.164 of an invalid number, `None` when it does not parse.
    pub(crate) e164: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Empty,
    NotANumber,
    Character(char),
    Letters,
    Scientific,
    /// The number's calling code is unknown, or it has none and the region no numbering plan.
    CountryCode {
        given: bool,
    },
    TooShort {
        local_only: bool,
        place: Option<String>,
    },
    TooLong {
        place: Option<String>,
    },
    InvalidForRegion {
        place: String,
    },
}

/// The whole reading: the fast path when it applies, else the cell rules and libphonenumber's
/// steps.
pub(crate) fn read(raw: &str, region: Region) -> Result<Phone, Rejection> {
    let cell = trim(raw);
    if let Some(e164) = nanp::fast_path().read(cell, region.as_str()) {
        return Ok(Phone {
            e164,
            extension: None,
        });
    }
    read_exact(cell, region)
}

/// The exact path alone (the fast path's oracle in the tests).
pub(crate) fn read_exact(cell: &str, region: Region) -> Result<Phone, Rejection> {
    let reject = |problem| Rejection {
        problem,
        e164: None,
    };
    let cell = trim(cell);
    if cell.is_empty() {
        return Err(reject(Problem::Empty));
    }
    // libphonenumber's MAX_INPUT_STRING_LENGTH.
    if cell.chars().count() > 250 {
        return Err(reject(Problem::TooLong { place: None }));
    }
    if is_scientific(cell) {
        return Err(reject(Problem::Scientific));
    }
    let cell = read_cell(cell).map_err(reject)?;

    let table = metadata::table();
    let default = table.region(region.as_str());
    let parsed = match number::read_digits(table, cell.plus, &cell.digits, default) {
        Ok(parsed) => parsed,
        Err(e) => {
            let given = cell.plus || cell.digits.starts_with(b"00") || default.is_some();
            return Err(reject(match e {
                number::ParseError::InvalidCountryCode => Problem::CountryCode { given },
                number::ParseError::TooShort => Problem::TooShort {
                    local_only: false,
                    place: None,
                },
                number::ParseError::TooLong => Problem::TooLong { place: None },
            }));
        }
    };
    if number::is_valid(table, &parsed) {
        return Ok(Phone {
            e164: parsed.e164(),
            extension: cell.extension,
        });
    }
    let place = if parsed.code_given {
        format!("+{}", parsed.country_code)
    } else {
        region.as_str().to_string()
    };
    let problem = match number::length_of(table, &parsed) {
        metadata::Length::TooShort => Problem::TooShort {
            local_only: false,
            place: Some(place),
        },
        metadata::Length::PossibleLocalOnly => Problem::TooShort {
            local_only: true,
            place: Some(place),
        },
        metadata::Length::TooLong => Problem::TooLong { place: Some(place) },
        metadata::Length::Possible | metadata::Length::Invalid => {
            Problem::InvalidForRegion { place }
        }
    };
    Err(Rejection {
        problem,
        e164: Some(parsed.e164()),
    })
}

impl Rejection {
    fn message(&self, raw: &str, region: Region) -> Message {
        let shown = trim(raw);
        let for_a = |place: &Option<String>| match place {
            Some(place) => format!("a {place} number"),
            None => "a phone number".to_string(),
        };
        let (code, message, resolution) = match &self.problem {
            Problem::Empty => (
                "phone.invalid",
                "The phone number is blank.".to_string(),
                format!("Enter the number {E164_EXAMPLE}, or leave the column unmapped."),
            ),
            Problem::NotANumber => (
                "phone.invalid",
                format!("“{shown}” is not a phone number."),
                format!("Enter the number {E164_EXAMPLE}."),
            ),
            Problem::Character(c) => (
                "phone.invalid",
                format!("“{shown}” is not a phone number: “{c}” is not part of one."),
                format!(
                    "Write one number per cell with digits, spaces, dashes, dots or parentheses; write the number {E164_EXAMPLE}."
                ),
            ),
            Problem::Letters => (
                "phone.letters",
                format!(
                    "“{shown}” contains letters; phone numbers are read from digits only, and letters (as in 1-800-FLOWERS) are not converted."
                ),
                format!(
                    "Replace the letters with their digits (1-800-FLOWERS is 1-800-356-9377) and put an extension after “x”; write the number {E164_EXAMPLE}."
                ),
            ),
            Problem::Scientific => (
                "phone.scientific",
                format!(
                    "“{shown}” is in scientific notation: the spreadsheet stored the phone number as a number and its last digits are lost."
                ),
                format!(
                    "Format the column as Text in the spreadsheet, type the numbers again and export the file again; write the number {E164_EXAMPLE}."
                ),
            ),
            Problem::CountryCode { given: true } => (
                "phone.unknown_country_code",
                format!("“{shown}” does not start with a known country code."),
                format!("Check the country code; write the number {E164_EXAMPLE}."),
            ),
            Problem::CountryCode { given: false } => (
                "phone.unknown_country_code",
                format!(
                    "“{shown}” has no country code, and {region} has no telephone numbering plan to read it with."
                ),
                format!("Add the country code; write the number {E164_EXAMPLE}."),
            ),
            Problem::TooShort {
                local_only: true,
                place,
            } => (
                "phone.too_short",
                format!(
                    "“{shown}” is too short for {}: the area code seems to be missing.",
                    for_a(place)
                ),
                format!("Add the area code; write the number {E164_EXAMPLE}."),
            ),
            Problem::TooShort {
                local_only: false,
                place,
            } => (
                "phone.too_short",
                format!("“{shown}” has too few digits for {}.", for_a(place)),
                format!(
                    "Check the digits and include the area code; write the number {E164_EXAMPLE}."
                ),
            ),
            Problem::TooLong { place } => (
                "phone.too_long",
                format!("“{shown}” has too many digits for {}.", for_a(place)),
                format!(
                    "Keep one number per cell and put an extension after “x”; write the number {E164_EXAMPLE}."
                ),
            ),
            Problem::InvalidForRegion { place } => (
                "phone.invalid_for_region",
                format!("“{shown}” is not a valid {place} number."),
                "Check the digits; a number of another country needs its country code, like +12015550123."
                    .to_string(),
            ),
        };
        Message::warning(code, message, resolution).value(raw)
    }
}

/// SPEC §5: spaces, tabs, CR and LF (and the other Unicode spaces, such as no-break space).
fn trim(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

/// Excel's `2.01555E+09`, `2E+09`, `2,01555E+09`.
fn is_scientific(cell: &str) -> bool {
    let Some((mantissa, exponent)) = cell.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let (whole, fraction) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction) && digits(exponent)
}

/// The digits of a cell, as libphonenumber extracts them, under SPEC §5.10's letter rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    plus: bool,
    digits: Vec<u8>,
    extension: Option<String>,
}

/// libphonenumber's `VALID_PUNCTUATION` (less `x`, which is an extension or a letter here) and
/// `*`: dropped between digits.
fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF0D}'..='\u{FF0F}'
            | ' ' | '\u{00A0}' | '\u{00AD}' | '\u{200B}' | '\u{2060}' | '\u{3000}'
            | '(' | ')' | '\u{FF08}' | '\u{FF09}' | '\u{FF3B}' | '\u{FF3D}'
            | '.' | '[' | ']' | '/' | '~' | '\u{2053}' | '\u{223C}' | '\u{FF5E}' | '*'
    )
}

fn is_plus(c: char) -> bool {
    c == '+' || c == '\u{FF0B}'
}

/// A decimal digit of any common script (full-width `２`, Arabic-Indic `٢`…) as ASCII;
/// libphonenumber reads every Unicode decimal digit.
fn digit(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8);
    }
    const ZEROS: &[u32] = &[
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
        0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0,
        0xAA50, 0xABF0, 0xFF10,
    ];
    let code = c as u32;
    ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .map(|zero| b'0' + (code - zero) as u8)
}

/// Splits a trimmed cell into `+`, digits and extension.
///
/// Like libphonenumber's `extractPossibleNumber`, what comes before the first digit or `+`
/// (`'`, `="`, `(`) and trailing punctuation (`"`, `.`) are dropped — but letters anywhere are
/// `Letters` (§5.10), except a leading `tel:` (RFC 3966) and an extension label.
fn read_cell(cell: &str) -> Result<Cell, Problem> {
    let cell = match cell.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => &cell[4..],
        _ => cell,
    };
    let cell = cell.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '#');
    let (body, extension) = split_extension(cell);

    let mut plus = false;
    let mut digits = Vec::new();
    let mut started = false;
    let mut only_digits = true;
    let mut last_was_plus = false;
    for c in body.chars() {
        let was_plus = std::mem::replace(&mut last_was_plus, false);
        if let Some(d) = digit(c) {
            digits.push(d);
            started = true;
        } else if c.is_alphabetic() {
            return Err(Problem::Letters);
        } else if is_plus(c) && (!started || was_plus) {
            // Leading pluses (libphonenumber takes `++1…` as `+1…`).
            plus = true;
            started = true;
            only_digits = false;
            last_was_plus = true;
        } else if started && !is_punctuation(c) {
            return Err(Problem::Character(c));
        } else if started {
            only_digits = false;
        }
        // Before the number starts: dropped, as libphonenumber does (`'`, `="`, `(`).
    }
    // libphonenumber's `isViablePhoneNumber`: two digits alone, or three digits or more.
    if digits.len() < 2 || (digits.len() == 2 && !only_digits) {
        return Err(Problem::NotANumber);
    }
    Ok(Cell {
        plus,
        digits,
        extension,
    })
}

/// The extension at the end of a cell: `x12`, `ext 12`, `ext. 12`, `extn 12`, `extension 12`,
/// `#12`, `;ext=12` (libphonenumber's labels in English; up to 20 digits after a word, 9
/// after `x` or `#`, an optional `#` after them).
fn split_extension(cell: &str) -> (&str, Option<String>) {
    let unmarked = cell.strip_suffix('#').unwrap_or(cell);
    let digits_start = unmarked
        .char_indices()
        .rev()
        .take_while(|&(_, c)| digit(c).is_some())
        .last()
        .map(|(i, _)| i);
    let Some(digits_start) = digits_start else {
        return (cell, None);
    };
    let ext: String = unmarked[digits_start..]
        .chars()
        .filter_map(digit)
        .map(char::from)
        .collect();
    let before = unmarked[..digits_start].trim_end_matches([' ', '\u{00A0}', '\t', ',', '-']);
    if let Some(body) = before.strip_suffix(";ext=") {
        return if ext.len() <= 20 {
            (body, Some(ext))
        } else {
            (cell, None)
        };
    }
    let before = before
        .strip_suffix([':', '.', '\u{FF0E}'])
        .unwrap_or(before);
    for (label, max) in [
        ("extension", 20),
        ("extn", 20),
        ("ext", 20),
        ("x", 9),
        ("#", 9),
    ] {
        let Some(at) = before.len().checked_sub(label.len()) else {
            continue;
        };
        if !before.as_bytes()[at..].eq_ignore_ascii_case(label.as_bytes()) || ext.len() > max {
            continue;
        }
        // The label is ASCII, so `at` is a character boundary.
        let body = &before[..at];
        if body.chars().next_back().is_some_and(char::is_alphabetic) {
            continue;
        }
        return (
            body.trim_end_matches([' ', '\u{00A0}', '\t', ',']),
            Some(ext),
        );
    }
    (cell, None)
}
