//! Dates (SPEC §5.3) for date-picker fields, Date of Birth and Created Date.
//!
//! Accepted, with any of the listed separators:
//! - year first, always year-month-day: `2024-01-02`, `2024/1/2`, `2024.01.02`;
//! - numeric with the year last, in the location's day/month order: `01/02/2024`,
//!   `1/2/2024`, `01-02-2024`, `01.02.2024`, and two-digit years `01/02/24`;
//! - English month names, full or abbreviated (`Sept` too), month or day first, with an
//!   optional weekday and ordinal: `Jan 2, 2024`, `2 January 2024`, `2-Jan-24`,
//!   `Tuesday, January 2nd, 2024`;
//! - any of those followed by a time (` 13:45`, `T13:45:00.5`, ` 1:45 PM`), which is dropped —
//!   or by a time and an offset (`Z`, `+05:30`, `-0500`), in which case the date is the one
//!   in the location's time zone at that instant (`2024-01-02T03:00:00Z` is January 1 in New
//!   York). `YYYY-MM-DD HH:MM:SS`, what the XLSX reader writes for a date cell, is one of them.
//!
//! A two-digit year is the year with those last two digits in the hundred years ending ten
//! years after `today`'s year (today in 2026: `36` is 2036, `37` is 1937). A well-formed
//! date that is not in the calendar (`02/30/2024`, month 13) is `date.impossible`; anything
//! else is `date.invalid`.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::Offset;

use super::{Read, ReadContext, read_with};
use crate::location::DateOrder;
use crate::message::{Message, code};

/// A date cell, read with the location's date order and time zone.
///
/// ```
/// use domain::{LocationSettings, value::{ReadContext, read_date}};
/// use jiff::civil::date;
/// let ctx = ReadContext::new(&LocationSettings::default(), date(2026, 6, 1)).unwrap();
/// assert_eq!(read_date("01/02/55", &ctx).into_value(), Some(date(1955, 1, 2)));
/// assert_eq!(read_date("Jan 2, 2024", &ctx).into_value(), Some(date(2024, 1, 2)));
/// assert_eq!(read_date("02/30/2024", &ctx).messages[0].code, "date.impossible");
/// ```
pub fn read_date(raw: &str, ctx: &ReadContext) -> Read<Date> {
    read_date_in(raw, ctx, ctx.date_order)
}

/// A date cell read with a given day/month order instead of the location's: the order SPEC
/// §5.3 decided for its column ([`order_evidence`] is what decides it).
///
/// ```
/// use domain::{DateOrder, LocationSettings, value::{ReadContext, read_date_in}};
/// use jiff::civil::date;
/// let ctx = ReadContext::new(&LocationSettings::default(), date(2026, 6, 1)).unwrap();
/// assert_eq!(read_date_in("09/07/2014", &ctx, DateOrder::Dmy).into_value(), Some(date(2014, 7, 9)));
/// ```
pub fn read_date_in(raw: &str, ctx: &ReadContext, order: DateOrder) -> Read<Date> {
    read_with(raw, |s| parse_date(s, ctx, order))
}

/// Which day/month order a numeric date proves (SPEC §5.3): `Some(order)` when the value is a
/// real date only when read in that order (`20/01/1991` proves DMY, `01/20/1991` MDY); `None`
/// for a value both orders read (`09/07/2014`), neither reads, or that has no order (ISO,
/// month names).
///
/// ```
/// use domain::{DateOrder, value::order_evidence};
/// assert_eq!(order_evidence("20/01/1991"), Some(DateOrder::Dmy));
/// assert_eq!(order_evidence("1/20/91"), Some(DateOrder::Mdy));
/// assert_eq!(order_evidence("09/07/2014"), None);
/// assert_eq!(order_evidence("2014-07-09"), None);
/// ```
pub fn order_evidence(raw: &str) -> Option<DateOrder> {
    let toks = tokenize(super::trim(raw));
    use Tok::*;
    let [a, P(s1), b, P(s2), c, ..] = toks.as_slice() else {
        return None;
    };
    if s1 != s2 || !matches!(s1, '-' | '/' | '.') {
        return None;
    }
    let (first, second) = (num(a, 1..=2)?, num(b, 1..=2)?);
    // The year only has to be a year: a four- or two-digit number (which century does not
    // change whether a day exists, but for 29 February: 2000 stands for both).
    let year = match c {
        Num(n) if n.len() == 4 => n.parse().ok()?,
        Num(n) if n.len() == 2 => 2000 + n.parse::<i64>().ok()?,
        _ => return None,
    };
    let real = |month: i64, day: i64| {
        to_date(&Written {
            year,
            month,
            day,
            ordered: true,
        })
        .is_ok()
    };
    match (real(first, second), real(second, first)) {
        (true, false) => Some(DateOrder::Mdy),
        (false, true) => Some(DateOrder::Dmy),
        _ => None,
    }
}

/// An Excel serial date (SPEC §5.3: in a workbook, a number in a column mapped to a date field
/// is a serial date whether or not the cell carries a date format): days since 1899-12-30 in
/// the 1900 date system, counting Excel's nonexistent 1900-02-29 (serial 60, read as
/// 1900-03-01), or since 1904-01-01 in the 1904 system; a time of day (the fraction) is
/// dropped. `None` when the text is not a plain number or lies outside 1..=2958465
/// (9999-12-31).
///
/// ```
/// use domain::value::excel_serial_date;
/// use jiff::civil::date;
/// assert_eq!(excel_serial_date("29220", false), Some(date(1979, 12, 31)));
/// assert_eq!(excel_serial_date("1", false), Some(date(1900, 1, 1)));
/// assert_eq!(excel_serial_date("0", true), Some(date(1904, 1, 1)));
/// assert_eq!(excel_serial_date("12/31/1979", false), None);
/// ```
pub fn excel_serial_date(raw: &str, date_1904: bool) -> Option<Date> {
    let s = super::trim(raw);
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    if whole.is_empty()
        || whole.len() > 7
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let days: i64 = whole.parse().ok()?;
    if date_1904 {
        if days > 2_957_003 {
            return None;
        }
        return jiff::civil::date(1904, 1, 1)
            .checked_add(jiff::Span::new().days(days))
            .ok();
    }
    if !(1..=2_958_465).contains(&days) {
        return None;
    }
    // Excel counts 1900-02-29, which never was: serials from 61 on are one day behind, and 60
    // itself reads as the day after 28 February.
    let (epoch, days) = if days < 60 {
        (jiff::civil::date(1899, 12, 31), days)
    } else {
        (jiff::civil::date(1899, 12, 30), days.max(61))
    };
    epoch.checked_add(jiff::Span::new().days(days)).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Num(&'a str),
    /// ASCII letters.
    Word(&'a str),
    /// Any other single character.
    P(char),
    /// A run of spaces or tabs.
    Sp,
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let run = |pred: fn(char) -> bool| rest.find(|c: char| !pred(c)).unwrap_or(rest.len());
        let len = if c.is_ascii_digit() {
            let n = run(|c| c.is_ascii_digit());
            toks.push(Tok::Num(&rest[..n]));
            n
        } else if c.is_ascii_alphabetic() {
            let n = run(|c| c.is_ascii_alphabetic());
            toks.push(Tok::Word(&rest[..n]));
            n
        } else if c == ' ' || c == '\t' {
            toks.push(Tok::Sp);
            run(|c| c == ' ' || c == '\t')
        } else {
            toks.push(Tok::P(c));
            c.len_utf8()
        };
        rest = &rest[len..];
    }
    toks
}

/// A date as written, before the calendar check.
struct Written {
    year: i64,
    month: i64,
    day: i64,
    /// Whether day and month were placed by the location's date order.
    ordered: bool,
}

fn parse_date(s: &str, ctx: &ReadContext, order: DateOrder) -> Result<Date, Message> {
    let toks = tokenize(s);
    let (written, rest) = date_part(&toks, ctx, order).ok_or_else(|| invalid(s, order))?;
    let time = time_part(rest).ok_or_else(|| invalid(s, order))?;
    let date = to_date(&written).map_err(|why| impossible(s, &why, written.ordered, order))?;
    let Some((time, Some(offset))) = time else {
        return Ok(date);
    };
    let instant = offset
        .to_timestamp(DateTime::from_parts(date, time))
        .map_err(|_| invalid(s, order))?;
    Ok(instant.to_zoned_datetime(ctx.time_zone.clone()).date())
}

fn num(t: &Tok<'_>, lens: std::ops::RangeInclusive<usize>) -> Option<i64> {
    match t {
        Tok::Num(n) if lens.contains(&n.len()) => n.parse().ok(),
        _ => None,
    }
}

fn year(t: &Tok<'_>, ctx: &ReadContext) -> Option<i64> {
    match t {
        Tok::Num(n) if n.len() == 4 => n.parse().ok(),
        Tok::Num(n) if n.len() == 2 => {
            Some(two_digit_year(n.parse().ok()?, ctx.today.year().into()))
        }
        _ => None,
    }
}

/// The year ending in `yy` among the hundred years that end ten years after `this_year`.
fn two_digit_year(yy: i64, this_year: i64) -> i64 {
    let last = this_year + 10;
    last - (last - yy).rem_euclid(100)
}

fn date_part<'t, 'a>(
    toks: &'t [Tok<'a>],
    ctx: &ReadContext,
    order: DateOrder,
) -> Option<(Written, &'t [Tok<'a>])> {
    numeric_date(toks, ctx, order).or_else(|| month_name_date(toks, ctx))
}

fn numeric_date<'t, 'a>(
    toks: &'t [Tok<'a>],
    ctx: &ReadContext,
    order: DateOrder,
) -> Option<(Written, &'t [Tok<'a>])> {
    use Tok::*;
    let [a, P(s1), b, P(s2), c, rest @ ..] = toks else {
        return None;
    };
    if s1 != s2 || !matches!(s1, '-' | '/' | '.') {
        return None;
    }
    if let (Num(y), Some(month), Some(day)) = (a, num(b, 1..=2), num(c, 1..=2))
        && y.len() == 4
    {
        return Some((
            Written {
                year: y.parse().ok()?,
                month,
                day,
                ordered: false,
            },
            rest,
        ));
    }
    let (first, second, year) = (num(a, 1..=2)?, num(b, 1..=2)?, year(c, ctx)?);
    let (month, day) = match order {
        DateOrder::Mdy => (first, second),
        DateOrder::Dmy => (second, first),
    };
    Some((
        Written {
            year,
            month,
            day,
            ordered: true,
        },
        rest,
    ))
}

fn month_name_date<'t, 'a>(
    toks: &'t [Tok<'a>],
    ctx: &ReadContext,
) -> Option<(Written, &'t [Tok<'a>])> {
    use Tok::*;
    // After an optional weekday.
    let toks = match toks {
        [Word(w), rest @ ..] if is_weekday(w) => skip_separators(rest),
        _ => toks,
    };
    let (month, day, rest) = match toks {
        [Word(m), rest @ ..] => {
            let month = month_number(m)?;
            let rest = skip_separators(rest);
            let (day, rest) = day_with_ordinal(rest)?;
            (month, day, rest)
        }
        _ => {
            let (day, rest) = day_with_ordinal(toks)?;
            let [Word(m), rest @ ..] = skip_separators(rest) else {
                return None;
            };
            (month_number(m)?, day, rest)
        }
    };
    let after_day = skip_separators(rest);
    if after_day.len() == rest.len() {
        return None; // the day and the year need something between them
    }
    let [y, rest @ ..] = after_day else {
        return None;
    };
    Some((
        Written {
            year: year(y, ctx)?,
            month,
            day,
            ordered: false,
        },
        rest,
    ))
}

fn day_with_ordinal<'t, 'a>(toks: &'t [Tok<'a>]) -> Option<(i64, &'t [Tok<'a>])> {
    let [d, rest @ ..] = toks else { return None };
    let day = num(d, 1..=2)?;
    match rest {
        [Tok::Word(w), rest @ ..]
            if ["st", "nd", "rd", "th"]
                .iter()
                .any(|o| w.eq_ignore_ascii_case(o)) =>
        {
            Some((day, rest))
        }
        _ => Some((day, rest)),
    }
}

fn skip_separators<'t, 'a>(mut toks: &'t [Tok<'a>]) -> &'t [Tok<'a>] {
    while let [Tok::Sp | Tok::P(',' | '-' | '/' | '.'), rest @ ..] = toks {
        toks = rest;
    }
    toks
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_number(word: &str) -> Option<i64> {
    let w = word.to_ascii_lowercase();
    if w == "sept" {
        return Some(9);
    }
    let i = MONTHS
        .iter()
        .position(|m| w == *m || (w.len() == 3 && m.starts_with(&w)))?;
    Some(i as i64 + 1)
}

fn is_weekday(word: &str) -> bool {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let w = word.to_ascii_lowercase();
    matches!(w.as_str(), "tues" | "thur" | "thurs")
        || DAYS
            .iter()
            .any(|d| w == *d || (w.len() == 3 && d.starts_with(&w)))
}

/// A time with the offset it was written with, if any.
type TimeOfDay = (Time, Option<Offset>);

/// `None`: not a time; `Some(None)`: no time; `Some(Some((time, offset)))`.
fn time_part(toks: &[Tok<'_>]) -> Option<Option<TimeOfDay>> {
    use Tok::*;
    let toks = match toks {
        [] => return Some(None),
        [Sp, rest @ ..] => rest,
        [Word(t), rest @ ..] if t.eq_ignore_ascii_case("t") => rest,
        _ => return None,
    };
    let (hour, minute, toks) = match toks {
        [h, P(':'), m, rest @ ..] => (num(h, 1..=2)?, num(m, 2..=2)?, rest),
        _ => return None,
    };
    let (second, nanos, toks) = match toks {
        [P(':'), s, P('.' | ','), Num(frac), rest @ ..] if frac.len() <= 9 => {
            let nanos = format!("{frac:0<9}").parse().ok()?;
            (num(s, 2..=2)?, nanos, rest)
        }
        [P(':'), s, rest @ ..] => (num(s, 2..=2)?, 0, rest),
        _ => (0, 0, toks),
    };
    let (hour, toks) = match toks {
        [Sp, Word(ampm), rest @ ..] | [Word(ampm), rest @ ..] if is_ampm(ampm) => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            let pm = ampm.eq_ignore_ascii_case("pm");
            (hour % 12 + if pm { 12 } else { 0 }, rest)
        }
        _ => (hour, toks),
    };
    let offset = match toks {
        [] => None,
        [Sp, rest @ ..] | rest => Some(offset(rest)?),
    };
    let time = Time::new(
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    Some(Some((time, offset)))
}

fn is_ampm(w: &str) -> bool {
    w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm")
}

fn offset(toks: &[Tok<'_>]) -> Option<Offset> {
    use Tok::*;
    let (sign, hours, minutes) = match toks {
        [Word(z)] if z.eq_ignore_ascii_case("z") => return Some(Offset::UTC),
        [P(s @ ('+' | '-')), Num(hh), P(':'), Num(mm)] if hh.len() == 2 && mm.len() == 2 => {
            (*s, *hh, *mm)
        }
        [P(s @ ('+' | '-')), Num(hhmm)] if hhmm.len() == 4 => (*s, &hhmm[..2], &hhmm[2..]),
        [P(s @ ('+' | '-')), Num(hh)] if hh.len() == 2 => (*s, *hh, "00"),
        _ => return None,
    };
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = (hours * 60 + minutes) * 60;
    Offset::from_seconds(if sign == '-' { -seconds } else { seconds }).ok()
}

/// The calendar check; the error says what does not exist.
fn to_date(w: &Written) -> Result<Date, String> {
    if !(1..=12).contains(&w.month) {
        return Err(format!("there is no month {}", w.month));
    }
    let month_name = {
        let m = MONTHS[w.month as usize - 1];
        format!("{}{}", m[..1].to_ascii_uppercase(), &m[1..])
    };
    let year = i16::try_from(w.year).map_err(|_| format!("the year {} is out of range", w.year))?;
    Date::new(year, w.month as i8, i8::try_from(w.day).unwrap_or(0))
        .map_err(|_| format!("{month_name} {} has no day {}", w.year, w.day))
}

fn order_words(order: DateOrder) -> (&'static str, &'static str) {
    match order {
        DateOrder::Mdy => ("MM/DD/YYYY", "01/02/2024"),
        DateOrder::Dmy => ("DD/MM/YYYY", "02/01/2024"),
    }
}

fn invalid(s: &str, order: DateOrder) -> Message {
    let (order, example) = order_words(order);
    Message::warning(
        code::DATE_INVALID,
        format!("“{s}” is not a date in an accepted format."),
        format!("Use YYYY-MM-DD such as 2024-01-02, {order} such as {example}, or Jan 2, 2024."),
    )
}

fn impossible(s: &str, why: &str, ordered: bool, order: DateOrder) -> Message {
    let (order, _) = order_words(order);
    let resolution = if ordered {
        format!("Check the day and the month: this column is read as {order}.")
    } else {
        "Check the day and the month.".to_string()
    };
    Message::warning(
        code::DATE_IMPOSSIBLE,
        format!("“{s}” is not a date: {why}."),
        resolution,
    )
}

#[cfg(test)]
mod tests;
