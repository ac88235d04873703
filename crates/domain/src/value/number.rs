//! Numbers and money (SPEC §5.2), read into exact decimals (`rust_decimal`, never a float).
//!
//! A number is an optional sign, digits, and an optional point with decimals: `1234`,
//! `-12.5`, `.5`. Commas may group the whole part in threes (`1,234,567.89`) — every group
//! but the first exactly three digits. Anything else made only of digits and separators
//! (`1.234,56`, `12,5`, `1 234`, `1,23`) is another locale's format: a
//! `number.locale_format` warning, never a reinterpretation (`12,5` could be 12.5 or 125).
//!
//! A monetary value may also carry one currency marker before or after the number (`$1,234.56`,
//! `1234.56 USD`, `-$5`, `USD 5`, `5€`). The marker must name the location's currency: its
//! ISO 4217 code (any case) or one of its symbols. Another currency (`€5` in a USD location,
//! `5 EUR`) is a `money.other_currency` warning, never converted.

use std::fmt;

use rust_decimal::Decimal;

use super::{Read, ReadContext, read_with};
use crate::message::{Message, code};

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    /// `Some` for three upper-case ASCII letters (`USD`); this does not check the code is
    /// assigned by ISO 4217.
    pub fn new(code: &str) -> Option<CurrencyCode> {
        let b: [u8; 3] = code.as_bytes().try_into().ok()?;
        b.iter()
            .all(u8::is_ascii_uppercase)
            .then_some(CurrencyCode(b))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact amount in the location's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub amount: Decimal,
    pub currency: CurrencyCode,
}

/// Currency symbols and the ISO 4217 codes that write amounts with them. A symbol is
/// accepted when the location's currency is among its codes.
const SYMBOLS: &[(&str, &[&str])] = &[
    (
        "$",
        &[
            "USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP", "TWD", "BSD",
            "BBD", "BZD", "BMD", "BND", "KYD", "FJD", "GYD", "JMD", "LRD", "NAD", "SBD", "SRD",
            "TTD", "XCD", "UYU", "CUP", "DOP",
        ],
    ),
    ("US$", &["USD"]),
    ("C$", &["CAD"]),
    ("CA$", &["CAD"]),
    ("A$", &["AUD"]),
    ("AU$", &["AUD"]),
    ("NZ$", &["NZD"]),
    ("HK$", &["HKD"]),
    ("S$", &["SGD"]),
    ("MX$", &["MXN"]),
    ("R$", &["BRL"]),
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("¥", &["JPY", "CNY"]),
    ("JP¥", &["JPY"]),
    ("CN¥", &["CNY"]),
    ("₹", &["INR"]),
    ("₩", &["KRW"]),
    ("₽", &["RUB"]),
    ("₺", &["TRY"]),
    ("₪", &["ILS"]),
    ("₱", &["PHP"]),
    ("฿", &["THB"]),
    ("₫", &["VND"]),
    ("₦", &["NGN"]),
    ("₴", &["UAH"]),
    ("₡", &["CRC"]),
    ("zł", &["PLN"]),
    ("Kč", &["CZK"]),
    ("Ft", &["HUF"]),
    ("kr", &["SEK", "NOK", "DKK", "ISK"]),
    ("R", &["ZAR"]),
];

/// A number field (SPEC §5.2).
///
/// ```
/// use domain::value::read_number;
/// use rust_decimal::Decimal;
/// assert_eq!(read_number("1,234.56").into_value(), Some(Decimal::new(123456, 2)));
/// assert_eq!(read_number("1.234,56").messages[0].code, "number.locale_format");
/// ```
pub fn read_number(raw: &str) -> Read<Decimal> {
    read_with(raw, parse_number)
}

/// A monetary field (SPEC §5.2), in the location's currency.
///
/// ```
/// use domain::{LocationSettings, value::{ReadContext, read_money}};
/// use rust_decimal::Decimal;
/// let ctx = ReadContext::new(&LocationSettings::default(), jiff::civil::date(2026, 1, 1)).unwrap();
/// assert_eq!(read_money("$1,234.56", &ctx).into_value().unwrap().amount, Decimal::new(123456, 2));
/// assert_eq!(read_money("1234.56 EUR", &ctx).messages[0].code, "money.other_currency");
/// ```
pub fn read_money(raw: &str, ctx: &ReadContext) -> Read<Money> {
    let currency = ctx.currency;
    read_with(raw, |s| {
        parse_money(s, currency).map(|amount| Money { amount, currency })
    })
}

fn parse_number(s: &str) -> Result<Decimal, Message> {
    parse_decimal(s).map_err(|e| e.message(s))
}

fn parse_money(s: &str, currency: CurrencyCode) -> Result<Decimal, Message> {
    let not_number = |c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '+' | '-'));
    // A sign may come before the marker: `-$5`.
    let (lead_sign, rest) = match s.strip_prefix(['+', '-']) {
        Some(rest) if rest.starts_with(not_number) => (&s[..1], rest),
        _ => ("", s),
    };
    let core_start = rest.find(|c: char| !not_number(c)).unwrap_or(rest.len());
    let (prefix, rest) = rest.split_at(core_start);
    let core_end = rest
        .rfind(|c: char| c.is_ascii_digit() || matches!(c, '.' | ','))
        .map_or(0, |i| i + 1);
    let (core, suffix) = rest.split_at(core_end);
    for marker in [prefix, suffix]
        .map(|m| m.trim_matches(' '))
        .into_iter()
        .filter(|m| !m.is_empty())
    {
        match marker_currency(marker, currency) {
            Marker::Ours => {}
            Marker::Other(names) => {
                return Err(Message::warning(
                    code::MONEY_OTHER_CURRENCY,
                    format!("“{s}” is in {names}, not in the location's currency ({currency})."),
                    format!(
                        "Convert the amount to {currency} and write it without the other currency's symbol or code."
                    ),
                ));
            }
            Marker::Unknown => {
                return Err(Message::warning(
                    code::NUMBER_INVALID,
                    format!("“{s}” is not an amount: “{marker}” is not a currency symbol or code."),
                    format!(
                        "Write the amount with digits and, if you like, {currency} or its symbol, such as 1,234.56 {currency}."
                    ),
                ));
            }
        }
    }
    if !lead_sign.is_empty() && core.starts_with(['+', '-']) {
        return Err(NumberError::NotNumber.message(s));
    }
    let signed = format!("{lead_sign}{core}");
    parse_decimal(&signed).map_err(|e| e.message(s))
}

enum Marker {
    Ours,
    Other(String),
    Unknown,
}

fn marker_currency(marker: &str, currency: CurrencyCode) -> Marker {
    if marker.len() == 3 && marker.bytes().all(|b| b.is_ascii_alphabetic()) {
        return if marker.eq_ignore_ascii_case(currency.as_str()) {
            Marker::Ours
        } else if marker.bytes().all(|b| b.is_ascii_uppercase()) {
            Marker::Other(marker.to_owned())
        } else {
            Marker::Unknown
        };
    }
    match SYMBOLS.iter().find(|(symbol, _)| *symbol == marker) {
        Some((_, codes)) if codes.contains(&currency.as_str()) => Marker::Ours,
        Some((_, codes)) => Marker::Other(codes.join(" or ")),
        None => Marker::Unknown,
    }
}

enum NumberError {
    NotNumber,
    Locale,
    TooLarge,
}

impl NumberError {
    fn message(self, s: &str) -> Message {
        match self {
            NumberError::NotNumber => Message::warning(
                code::NUMBER_INVALID,
                format!("“{s}” is not a number."),
                "Write the number with digits, an optional minus sign and a decimal point, such as 1234, -12.5 or 1,234.56.",
            ),
            NumberError::TooLarge => Message::warning(
                code::NUMBER_INVALID,
                format!("“{s}” has more digits than a number field holds (28)."),
                "Round the number or shorten it to at most 28 digits.",
            ),
            NumberError::Locale => Message::warning(
                code::NUMBER_LOCALE_FORMAT,
                format!("“{s}” is written in another locale's number format, so it was not read."),
                "Use a point for decimals and commas only between groups of three digits, such as 1,234.56.",
            ),
        }
    }
}

/// `[+-]? (digits | d{1,3}(,ddd)+ | ε) (. digits)?`, at least one digit.
fn parse_decimal(s: &str) -> Result<Decimal, NumberError> {
    let (sign, body) = match s.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let int_ok = if int.contains(',') {
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or("");
        digits(first) && first.len() <= 3 && groups.all(|g| g.len() == 3 && digits(g))
    } else {
        digits(int) || (int.is_empty() && frac.is_some())
    };
    if !int_ok || !frac.is_none_or(digits) {
        return Err(if looks_like_a_number(s) {
            NumberError::Locale
        } else {
            NumberError::NotNumber
        });
    }
    let int: String = int.chars().filter(|&c| c != ',').collect();
    let int = if int.is_empty() { "0" } else { &int };
    let text = match frac {
        Some(f) => format!("{sign}{int}.{f}"),
        None => format!("{sign}{int}"),
    };
    Decimal::from_str_exact(&text).map_err(|_| NumberError::TooLarge)
}

/// Digits and the separators other locales use (`.` `,` `'` space, no-break spaces), after
/// an optional sign: the shape of a number written for another locale.
fn looks_like_a_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    body.chars().any(|c| c.is_ascii_digit())
        && body.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '.' | ',' | '\'' | ' ' | '\u{a0}' | '\u{202f}')
        })
}

#[cfg(test)]
mod tests;
