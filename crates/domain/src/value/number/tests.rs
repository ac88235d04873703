use super::*;
use crate::location::LocationSettings;
use crate::value::Outcome;
use proptest::prelude::*;

/// `expected`: the decimal as text (scale kept), "" for blank, or a message code.
fn show(read: &Read<Decimal>) -> String {
    match &read.outcome {
        Outcome::Blank => String::new(),
        Outcome::Value(d) => d.to_string(),
        Outcome::Invalid => read.messages[0].code.to_string(),
    }
}

fn check(raw: &str, expected: &str) {
    let read = read_number(raw);
    assert_eq!(show(&read), expected, "{raw:?}");
    if let Outcome::Invalid = read.outcome {
        assert_eq!(
            read.messages[0].value.as_deref(),
            Some(crate::value::trim(raw))
        );
    } else {
        assert!(read.messages.is_empty());
    }
}

fn ctx(currency: &str) -> ReadContext {
    let settings = LocationSettings {
        currency: currency.into(),
        ..LocationSettings::default()
    };
    ReadContext::new(&settings, jiff::civil::date(2026, 1, 1)).unwrap()
}

fn check_money(currency: &str, raw: &str, expected: &str) {
    let read = read_money(raw, &ctx(currency));
    let got = show(&read.map(|m| {
        assert_eq!(m.currency.as_str(), currency);
        m.amount
    }));
    assert_eq!(got, expected, "{raw:?} in {currency}");
}

#[test]
fn number_cases() {
    let cases = [
        ("1234", "1234"),
        ("-12.5", "-12.5"),
        ("+12.5", "12.5"),
        ("1,234.56", "1234.56"),
        ("1,234", "1234"),
        ("12,345,678.9", "12345678.9"),
        ("0", "0"),
        ("0.50", "0.50"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("007", "7"),
        (" 42 \r\n", "42"),
        ("0.1", "0.1"),
        (
            "79228162514264337593543950335",
            "79228162514264337593543950335",
        ),
        ("", ""),
        ("\t", ""),
        // Another locale's format: a warning, never reinterpreted.
        ("1.234,56", "number.locale_format"),
        ("1.234.567", "number.locale_format"),
        ("12,5", "number.locale_format"),
        ("1,23", "number.locale_format"),
        ("1,2345", "number.locale_format"),
        ("1234,567.8", "number.locale_format"),
        (",123", "number.locale_format"),
        ("1,234.", "number.locale_format"),
        ("1 234", "number.locale_format"),
        ("1\u{a0}234,5", "number.locale_format"),
        ("1'234.50", "number.locale_format"),
        ("-1.234,5", "number.locale_format"),
        ("12.", "number.locale_format"),
        // Not numbers at all.
        ("abc", "number.invalid"),
        ("12abc", "number.invalid"),
        ("1e5", "number.invalid"),
        ("1.5E+3", "number.invalid"),
        ("NaN", "number.invalid"),
        ("INF", "number.invalid"),
        ("--5", "number.invalid"),
        ("+-5", "number.invalid"),
        ("5-", "number.invalid"),
        ("$12", "number.invalid"),
        ("12%", "number.invalid"),
        ("-", "number.invalid"),
        (".", "number.invalid"),
        ("١٢٣", "number.invalid"),
        ("79228162514264337593543950336", "number.invalid"),
        ("0.00000000000000000000000000001", "number.invalid"),
    ];
    for (raw, expected) in cases {
        check(raw, expected);
    }
}

#[test]
fn money_cases() {
    let cases = [
        ("USD", "$1,234.56", "1234.56"),
        ("USD", "1234.56 USD", "1234.56"),
        ("USD", "1234.56USD", "1234.56"),
        ("USD", "USD 1234.56", "1234.56"),
        ("USD", "usd 12", "12"),
        ("USD", "US$12", "12"),
        ("USD", "$ 12", "12"),
        ("USD", "-$12.50", "-12.50"),
        ("USD", "$-12.50", "-12.50"),
        ("USD", "+$5", "5"),
        ("USD", "1234", "1234"),
        ("USD", "$1,234.567", "1234.567"),
        ("USD", "€12", "money.other_currency"),
        ("USD", "12 EUR", "money.other_currency"),
        ("USD", "£1,000", "money.other_currency"),
        ("USD", "C$12", "money.other_currency"),
        ("USD", "12 lbs", "number.invalid"),
        ("USD", "12 dollars", "number.invalid"),
        ("USD", "$", "number.invalid"),
        ("USD", "-$-5", "number.invalid"),
        ("USD", "$1.234,56", "number.locale_format"),
        ("USD", "$12,5", "number.locale_format"),
        ("USD", "about $12", "number.invalid"),
        ("EUR", "€12", "12"),
        ("EUR", "12 €", "12"),
        ("EUR", "12,50 €", "number.locale_format"),
        ("EUR", "$12", "money.other_currency"),
        ("CAD", "$12", "12"),
        ("CAD", "C$12", "12"),
        ("CAD", "US$12", "money.other_currency"),
        ("GBP", "£12.99", "12.99"),
        ("JPY", "¥1,000", "1000"),
        ("SEK", "100 kr", "100"),
        ("USD", "", ""),
    ];
    for (currency, raw, expected) in cases {
        check_money(currency, raw, expected);
    }
}

#[test]
fn other_currency_message_names_both_currencies() {
    let read = read_money("€12", &ctx("USD"));
    let m = &read.messages[0];
    assert!(
        m.message.contains("EUR") && m.message.contains("USD"),
        "{}",
        m.message
    );
    assert_eq!(m.value.as_deref(), Some("€12"));
}

#[test]
fn currency_codes() {
    assert_eq!(
        CurrencyCode::new("USD").map(|c| c.to_string()).as_deref(),
        Some("USD")
    );
    for bad in ["usd", "US", "USDX", "U$D", ""] {
        assert!(CurrencyCode::new(bad).is_none(), "{bad:?}");
    }
}

proptest! {
    /// Any decimal written as Rust prints it, or with grouping commas, reads back exactly.
    #[test]
    fn written_numbers_read_back(units in any::<i64>(), scale in 0u32..10) {
        let d = Decimal::new(units, scale);
        let plain = d.to_string();
        prop_assert_eq!(read_number(&plain).into_value(), Some(d));
        let (sign, rest) = plain.strip_prefix('-').map_or(("", plain.as_str()), |r| ("-", r));
        let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let written = format!("{sign}{grouped}{}", frac.map(|f| format!(".{f}")).unwrap_or_default());
        prop_assert_eq!(read_number(&written).into_value(), Some(d), "{}", written);
    }
}
