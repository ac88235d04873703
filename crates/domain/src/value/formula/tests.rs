use super::*;
use proptest::prelude::*;

fn check(value: &str, exported: &str) {
    assert_eq!(neutralise(value), exported, "neutralise({value:?})");
    assert_eq!(unneutralise(exported), value, "unneutralise({exported:?})");
}

#[test]
fn neutralise_cases() {
    let cases = [
        // Triggers.
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+A1", "'+A1"),
        ("-A1", "'-A1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("\0x", "'\0x"),
        ("=", "'="),
        ("-", "'-"),
        ("+", "'+"),
        // Plain numbers and E.164 phones are left alone.
        ("-12.5", "-12.5"),
        ("+12.5", "+12.5"),
        ("-0", "-0"),
        ("+12015550123", "+12015550123"),
        ("+442071838750", "+442071838750"),
        // Not plainly numbers.
        ("-1,234.56", "'-1,234.56"),
        ("-12.", "'-12."),
        ("-.5", "'-.5"),
        ("+1 201 555 0123", "'+1 201 555 0123"),
        ("+1-201-555-0123", "'+1-201-555-0123"),
        ("-1e5", "'-1e5"),
        ("--1", "'--1"),
        ("+-1", "'+-1"),
        // Already quoted values get one more quote.
        ("'=1", "''=1"),
        ("''=1", "'''=1"),
        ("'-12.5", "''-12.5"),
        ("'+12015550123", "''+12015550123"),
        ("'\tx", "''\tx"),
        // Nothing to do.
        ("Ann", "Ann"),
        ("", ""),
        ("'", "'"),
        ("''", "''"),
        ("'tis", "'tis"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("12.5", "12.5"),
        ("1,234.56", "1,234.56"),
    ];
    for (value, exported) in cases {
        check(value, exported);
    }
}

#[test]
fn unneutralise_on_import_cases() {
    // What a user may type in a file that never went through `neutralise`.
    let cases = [
        ("'=1", "=1"),
        ("'-12.5", "-12.5"),
        ("'abc", "'abc"),
        ("'", "'"),
        ("'''@x", "''@x"),
        ("x'=1", "x'=1"),
    ];
    for (cell, read) in cases {
        assert_eq!(unneutralise(cell), read, "{cell:?}");
    }
}

proptest! {
    #[test]
    fn round_trip(x in "\\PC*") {
        let written = neutralise(&x);
        prop_assert_eq!(unneutralise(&written), x.as_str());
    }

    #[test]
    fn round_trip_on_formula_like_values(x in "['=+\\-@\t\r\n\0]{0,4}[0-9.,a ]{0,6}") {
        let written = neutralise(&x);
        prop_assert_eq!(unneutralise(&written), x.as_str());
    }

    /// Nothing written starts with a trigger unless it is plainly a number.
    #[test]
    fn nothing_written_runs_as_a_formula(x in "['=+\\-@\t\r\n\0]{0,3}[0-9.,a ]{0,6}") {
        let out = neutralise(&x);
        if out.starts_with(is_trigger) {
            prop_assert!(is_plain_number(&out), "{:?}", out);
        }
    }
}
