//! Numbers and date serials as the text a user sees in Excel.

/// A number as Excel's General format shows it: at most 15 significant digits, no float
/// noise, no exponent (`2015550123.0` → `2015550123`, `0.1 + 0.2` → `0.3`).
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return (value as i64).to_string();
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    rounded.to_string()
}

/// The last day each date system reaches, 9999-12-31, as a serial.
const LAST_DAY_1900: i64 = 2_958_465;
const LAST_DAY_1904: i64 = 2_957_003;

/// A serial date-time as ISO text: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` when it has a time
/// part, `HH:MM:SS` for a time of day alone (a serial below 1), rounded to the second.
/// Serials outside Excel's range (before its epoch, after 9999-12-31) stay numbers.
///
/// The 1900 system counts 1900-01-01 as day 1 and, like Lotus 1-2-3 before it, has a day 60
/// that is 1900-02-29; the 1904 system counts 1904-01-01 as day 0.
pub(crate) fn date_time(serial: f64, is_1904: bool) -> String {
    let last = if is_1904 {
        LAST_DAY_1904
    } else {
        LAST_DAY_1900
    };
    if !(0.0..(last + 1) as f64).contains(&serial) {
        return number(serial);
    }
    // Round to the second first, so 23:59:59.7 becomes the next day, not 23:59:59.
    let seconds = (serial * 86_400.0).round() as i64;
    let (day, time) = (seconds / 86_400, seconds % 86_400);
    if day > last {
        return number(serial);
    }
    let (h, mi, s) = (time / 3600, time / 60 % 60, time % 60);
    if day == 0 {
        return format!("{h:02}:{mi:02}:{s:02}");
    }
    let (y, mo, d) = match (is_1904, day) {
        (true, _) => civil(day + days_from_civil(1904, 1, 1)),
        (false, 60) => (1900, 2, 29),
        (false, 1..=59) => civil(day + days_from_civil(1899, 12, 31)),
        (false, _) => civil(day + days_from_civil(1899, 12, 30)),
    };
    if time == 0 {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
