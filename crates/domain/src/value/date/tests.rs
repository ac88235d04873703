use super::*;
use crate::location::LocationSettings;
use crate::value::Outcome;

fn ctx(order: DateOrder, tz: &str, today: Date) -> ReadContext {
    let settings = LocationSettings {
        date_order: order,
        timezone: tz.into(),
        ..LocationSettings::default()
    };
    ReadContext::new(&settings, today).unwrap()
}

/// `expected`: the date as YYYY-MM-DD, "" for blank, or a message code.
fn check(ctx: &ReadContext, raw: &str, expected: &str) {
    let read = read_date(raw, ctx);
    let got = match &read.outcome {
        Outcome::Blank => String::new(),
        Outcome::Value(d) => d.to_string(),
        Outcome::Invalid => read.messages[0].code.to_string(),
    };
    assert_eq!(
        got, expected,
        "{raw:?} ({:?}, today {})",
        ctx.date_order, ctx.today
    );
    if !matches!(read.outcome, Outcome::Invalid) {
        assert!(read.messages.is_empty(), "{raw:?}");
    } else {
        assert_eq!(
            read.messages[0].value.as_deref(),
            Some(crate::value::trim(raw))
        );
    }
}

const TODAY: Date = jiff::civil::date(2026, 6, 1);

#[test]
fn mdy_cases() {
    let mdy = ctx(DateOrder::Mdy, "America/New_York", TODAY);
    let cases = [
        // SPEC §5.3's formats.
        ("2024-01-02", "2024-01-02"),
        ("01/02/2024", "2024-01-02"),
        ("1/2/2024", "2024-01-02"),
        ("01-02-2024", "2024-01-02"),
        ("2024/01/02", "2024-01-02"),
        ("01/02/24", "2024-01-02"),
        ("Jan 2, 2024", "2024-01-02"),
        ("2 January 2024", "2024-01-02"),
        ("2024-01-02 13:45", "2024-01-02"),
        ("2024-01-02 13:45:59", "2024-01-02"),
        // Month names: full, abbreviated, any case, day or month first, with weekday/ordinal.
        ("January 2, 2024", "2024-01-02"),
        ("jan 2 2024", "2024-01-02"),
        ("JAN. 2, 2024", "2024-01-02"),
        ("Sept 9, 2024", "2024-09-09"),
        ("Sep 9, 2024", "2024-09-09"),
        ("2 Jan 2024", "2024-01-02"),
        ("2-Jan-2024", "2024-01-02"),
        ("02-Jan-24", "2024-01-02"),
        ("Jan-02-2024", "2024-01-02"),
        ("Tuesday, January 2nd, 2024", "2024-01-02"),
        ("Tue, 2 Jan 2024", "2024-01-02"),
        ("March 1st 2024", "2024-03-01"),
        ("31 December 1999", "1999-12-31"),
        ("Jan 2, 2024 1:45 PM", "2024-01-02"),
        // Other separators and widths.
        ("2024-1-2", "2024-01-02"),
        ("2024.01.02", "2024-01-02"),
        ("12.31.2024", "2024-12-31"),
        ("12/31/2024", "2024-12-31"),
        ("  01/02/2024\t", "2024-01-02"),
        // Date-times: the time is dropped, or with an offset, the date is New York's.
        ("2024-01-02T13:45", "2024-01-02"),
        ("2024-01-02T13:45:00.123", "2024-01-02"),
        ("1/2/2024 13:45", "2024-01-02"),
        ("1/2/2024 1:45 AM", "2024-01-02"),
        ("1/2/2024 12:00am", "2024-01-02"),
        ("2024-01-02T03:00:00Z", "2024-01-01"),
        ("2024-01-02T05:00:00Z", "2024-01-02"),
        ("2024-01-02T04:59:59.999Z", "2024-01-01"),
        ("2024-01-02T23:30:00-05:00", "2024-01-02"),
        ("2024-01-02T23:30:00-06:00", "2024-01-03"),
        ("2024-01-02 23:30:00 -0600", "2024-01-03"),
        ("2024-01-02T08:00:00+09:00", "2024-01-01"),
        ("2024-01-02T08:00+09", "2024-01-01"),
        ("2024-07-02T03:59:00Z", "2024-07-01"),
        ("2024-07-02T04:00:00Z", "2024-07-02"),
        ("2024-01-02 13:45:00", "2024-01-02"),
        // Impossible dates.
        ("02/30/2024", "date.impossible"),
        ("02/29/2023", "date.impossible"),
        ("02/29/2024", "2024-02-29"),
        ("13/02/2024", "date.impossible"),
        ("00/10/2024", "date.impossible"),
        ("2024-02-30", "date.impossible"),
        ("2024-13-01", "date.impossible"),
        ("Feb 30, 2024", "date.impossible"),
        ("31 April 2024", "date.impossible"),
        ("2024-04-31 10:00", "date.impossible"),
        // Not dates.
        ("", ""),
        ("yesterday", "date.invalid"),
        ("20240102", "date.invalid"),
        ("2024-01", "date.invalid"),
        ("01/02", "date.invalid"),
        ("01/02/2024/5", "date.invalid"),
        ("01/02-2024", "date.invalid"),
        ("1/2/024", "date.invalid"),
        ("1/2/20245", "date.invalid"),
        ("001/02/2024", "date.invalid"),
        ("January 2024", "date.invalid"),
        ("Janu 2, 2024", "date.invalid"),
        ("Jan 22024", "date.invalid"),
        ("2024-01-02 25:00", "date.invalid"),
        ("2024-01-02 13:60", "date.invalid"),
        ("2024-01-02 13:5", "date.invalid"),
        ("2024-01-02 13:45 EST", "date.invalid"),
        ("2024-01-02T13:45+25:00", "date.invalid"),
        ("1/2/2024 13:45 PM", "date.invalid"),
        ("2024-01-02 noon", "date.invalid"),
        ("45292", "date.invalid"),
        ("2024-01-02Z", "date.invalid"),
        ("2024‐01‐02", "date.invalid"),
    ];
    for (raw, expected) in cases {
        check(&mdy, raw, expected);
    }
}

#[test]
fn dmy_cases() {
    let dmy = ctx(DateOrder::Dmy, "Europe/London", TODAY);
    let cases = [
        ("02/01/2024", "2024-01-02"),
        ("2/1/2024", "2024-01-02"),
        ("31/12/2024", "2024-12-31"),
        ("31.12.2024", "2024-12-31"),
        ("12/31/2024", "date.impossible"),
        ("02/01/24", "2024-01-02"),
        // Year-first and month names do not depend on the order.
        ("2024-01-02", "2024-01-02"),
        ("2024/01/02", "2024-01-02"),
        ("Jan 2, 2024", "2024-01-02"),
        ("2 January 2024", "2024-01-02"),
        ("2024-01-02T23:30:00-05:00", "2024-01-03"),
        ("2024-07-01T23:30:00Z", "2024-07-02"),
    ];
    for (raw, expected) in cases {
        check(&dmy, raw, expected);
    }
}

#[test]
fn two_digit_years_pivot_ten_years_ahead() {
    let in_2026 = ctx(DateOrder::Mdy, "America/New_York", TODAY);
    let cases = [
        ("01/02/55", "1955-01-02"),
        ("01/02/24", "2024-01-02"),
        ("01/02/36", "2036-01-02"),
        ("01/02/37", "1937-01-02"),
        ("01/02/00", "2000-01-02"),
        ("01/02/99", "1999-01-02"),
        ("01/02/26", "2026-01-02"),
        ("2 Jan 37", "1937-01-02"),
    ];
    for (raw, expected) in cases {
        check(&in_2026, raw, expected);
    }
    // The window moves with `today`, across a century too.
    let in_2095 = ctx(
        DateOrder::Mdy,
        "America/New_York",
        jiff::civil::date(2095, 1, 1),
    );
    check(&in_2095, "01/02/05", "2105-01-02");
    check(&in_2095, "01/02/06", "2006-01-02");
    check(&in_2095, "01/02/95", "2095-01-02");
    for (this_year, yy, year) in [
        (2026, 36, 2036),
        (2026, 37, 1937),
        (1999, 9, 2009),
        (1999, 10, 1910),
        (2090, 0, 2100),
    ] {
        assert_eq!(two_digit_year(yy, this_year), year, "{yy} in {this_year}");
    }
}

#[test]
fn messages_say_what_is_wrong() {
    let mdy = ctx(DateOrder::Mdy, "America/New_York", TODAY);
    let m = &read_date("02/30/2024", &mdy).messages[0];
    assert!(
        m.message.contains("February 2024 has no day 30"),
        "{}",
        m.message
    );
    assert!(m.resolution.contains("MM/DD/YYYY"), "{}", m.resolution);
    let m = &read_date("13/02/2024", &mdy).messages[0];
    assert!(m.message.contains("no month 13"), "{}", m.message);
    let dmy = ctx(DateOrder::Dmy, "Europe/Paris", TODAY);
    let m = &read_date("nope", &dmy).messages[0];
    assert!(m.resolution.contains("DD/MM/YYYY"), "{}", m.resolution);
}

/// W3C CSVW date/dateTime format tests, for the columns whose format is one of ours: each
/// value must read as the date in the expected JSON (DMY columns read with a DMY location).
#[test]
fn w3c_csvw_date_formats_agree() {
    let read = |f: &str| crate::value::tests::testdata(&format!("w3c-csvw-datatypes/tests/{f}"));
    // (test, column format, location order)
    let ours = [
        ("test188", "yyyy-MM-dd", DateOrder::Mdy),
        ("test188", "dd-MM-yyyy", DateOrder::Dmy),
        ("test188", "d-M-yyyy", DateOrder::Dmy),
        ("test188", "MM-dd-yyyy", DateOrder::Mdy),
        ("test188", "M-d-yyyy", DateOrder::Mdy),
        ("test188", "dd/MM/yyyy", DateOrder::Dmy),
        ("test188", "d/M/yyyy", DateOrder::Dmy),
        ("test188", "MM/dd/yyyy", DateOrder::Mdy),
        ("test188", "M/d/yyyy", DateOrder::Mdy),
        ("test188", "dd.MM.yyyy", DateOrder::Dmy),
        ("test188", "M.d.yyyy", DateOrder::Mdy),
        ("test190", "yyyy-MM-ddTHH:mm:ss", DateOrder::Mdy),
        ("test190", "yyyy-MM-dd HH:mm:ss", DateOrder::Mdy),
        ("test190", "dd-MM-yyyy HH:mm", DateOrder::Dmy),
        ("test190", "yyyy-MM-ddTHH:mm", DateOrder::Mdy),
        ("test190", "yyyy-MM-ddTHH:mm:ssXXX", DateOrder::Mdy),
        ("test190", "yyyy-MM-dd HH:mm:ss X", DateOrder::Mdy),
    ];
    let mut checked = 0;
    for (test, format, order) in ours {
        let csv = read(&format!("{test}.csv"));
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let values: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = header
            .iter()
            .position(|h| *h == format)
            .unwrap_or_else(|| panic!("{test}: {format}"));
        let json = read(&format!("{test}.json"));
        // The expected value of the column, as `"FORMAT": "VALUE"` in the JSON.
        let key = format!("\"{format}\": \"");
        let start = json
            .find(&key)
            .unwrap_or_else(|| panic!("{test}: {format} not in JSON"))
            + key.len();
        let expected = &json[start..start + 10];
        // The location's zone is the offset's own, so the instant's date is the written one.
        let zone = match () {
            _ if format.ends_with("XXX") => "America/Chicago", // -05:00 on 2015-03-15
            _ if format.ends_with(" X") => "Asia/Shanghai",    // +08:00
            _ => "UTC",
        };
        let ctx = ctx(order, zone, TODAY);
        check(&ctx, values[col], expected);
        checked += 1;
    }
    assert_eq!(checked, 17);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_date() -> impl Strategy<Value = Date> {
        // Every day from 1000-01-01 to 9999-12-31.
        (0i64..3_287_181).prop_map(|n| jiff::civil::date(1000, 1, 1) + jiff::Span::new().days(n))
    }

    proptest! {
        /// A date written in any accepted form reads back as itself.
        #[test]
        fn written_dates_read_back(d in any_date(), month_style in 0usize..3) {
            let mdy = ctx(DateOrder::Mdy, "America/New_York", TODAY);
            let dmy = ctx(DateOrder::Dmy, "America/New_York", TODAY);
            let (y, m, day) = (d.year(), d.month(), d.day());
            let name = MONTHS[m as usize - 1];
            let name = match month_style {
                0 => name.to_string(),
                1 => name[..3].to_string(),
                _ => name.to_uppercase(),
            };
            let iso = format!("{y:04}-{m:02}-{day:02}");
            let forms = [
                (&mdy, iso.clone()),
                (&mdy, format!("{y}/{m}/{day}")),
                (&mdy, format!("{m}/{day}/{y}")),
                (&mdy, format!("{m:02}-{day:02}-{y}")),
                (&dmy, format!("{day}/{m}/{y}")),
                (&dmy, format!("{day:02}.{m:02}.{y}")),
                (&mdy, format!("{name} {day}, {y}")),
                (&dmy, format!("{day} {name} {y}")),
                (&mdy, format!("{iso} 13:45:00")),
                (&mdy, format!("{iso}T12:00:00Z")),
            ];
            for (ctx, written) in forms {
                prop_assert_eq!(read_date(&written, ctx).into_value(), Some(d), "{}", written);
            }
        }

        /// A two-digit year lands in the hundred years that end ten years after today's.
        #[test]
        fn two_digit_years_stay_in_the_window(yy in 0i64..100, this_year in 1950i16..2200) {
            let today = jiff::civil::date(this_year, 7, 1);
            let c = ctx(DateOrder::Mdy, "America/New_York", today);
            let read = read_date(&format!("03/04/{yy:02}"), &c).into_value().unwrap();
            let year = i64::from(read.year());
            prop_assert_eq!(year.rem_euclid(100), yy);
            prop_assert!(year <= i64::from(this_year) + 10 && year > i64::from(this_year) - 90, "{}", year);
        }
    }
}

/// Every day past the end of its month, and day 0, in every month of 1896–2104 (leap years
/// and the 1900/2000/2100 rules included) is impossible, never moved to another day.
#[test]
fn days_past_the_month_end_are_impossible() {
    let c = ctx(DateOrder::Mdy, "America/New_York", TODAY);
    for year in 1896..=2104 {
        for month in 1..=12 {
            let last = jiff::civil::date(year, month, 1).days_in_month();
            check(
                &c,
                &format!("{month}/{last}/{year}"),
                &format!("{year}-{month:02}-{last:02}"),
            );
            for day in (last + 1..=31).chain([0]) {
                check(&c, &format!("{month}/{day}/{year}"), "date.impossible");
            }
        }
    }
}

#[test]
fn order_evidence_names_the_only_order_a_value_reads_in() {
    use crate::value::order_evidence;
    let cases: &[(&str, Option<DateOrder>)] = &[
        ("20/01/1991", Some(DateOrder::Dmy)),
        ("13.02.2020", Some(DateOrder::Dmy)),
        ("01/20/1991", Some(DateOrder::Mdy)),
        ("2-29-24", Some(DateOrder::Mdy)),
        ("09/07/2014", None),
        ("31/31/2020", None),
        ("2014-07-09", None),
        ("Jan 20, 1991", None),
        ("20/01", None),
        ("", None),
        ("29/02/2023", None),
        ("29/02/2024", Some(DateOrder::Dmy)),
    ];
    for (raw, want) in cases {
        assert_eq!(order_evidence(raw), *want, "{raw}");
    }
}

#[test]
fn a_column_read_in_the_other_order() {
    use crate::value::read_date_in;
    let ctx = ctx(DateOrder::Mdy, "America/New_York", TODAY);
    assert_eq!(
        read_date_in("09/07/2014", &ctx, DateOrder::Dmy).into_value(),
        Some(jiff::civil::date(2014, 7, 9))
    );
    assert_eq!(
        read_date_in("09/07/2014", &ctx, DateOrder::Mdy).into_value(),
        Some(jiff::civil::date(2014, 9, 7))
    );
    let wrong = read_date_in("20/01/1991", &ctx, DateOrder::Mdy);
    assert_eq!(wrong.messages[0].code, "date.impossible");
    assert!(wrong.messages[0].resolution.contains("MM/DD/YYYY"));
}

#[test]
fn excel_serial_dates_in_both_date_systems() {
    use crate::value::excel_serial_date;
    let cases: &[(&str, bool, Option<Date>)] = &[
        ("29220", false, Some(jiff::civil::date(1979, 12, 31))),
        ("29220.75", false, Some(jiff::civil::date(1979, 12, 31))),
        ("1", false, Some(jiff::civil::date(1900, 1, 1))),
        ("59", false, Some(jiff::civil::date(1900, 2, 28))),
        ("60", false, Some(jiff::civil::date(1900, 3, 1))),
        ("61", false, Some(jiff::civil::date(1900, 3, 1))),
        ("45292", false, Some(jiff::civil::date(2024, 1, 1))),
        ("2958465", false, Some(jiff::civil::date(9999, 12, 31))),
        ("2958466", false, None),
        ("0", false, None),
        ("-5", false, None),
        ("1e5", false, None),
        ("0", true, Some(jiff::civil::date(1904, 1, 1))),
        ("27758", true, Some(jiff::civil::date(1979, 12, 31))),
        ("12/31/1979", false, None),
        ("", false, None),
    ];
    for (raw, is_1904, want) in cases {
        assert_eq!(
            excel_serial_date(raw, *is_1904),
            *want,
            "{raw} (1904: {is_1904})"
        );
    }
}
