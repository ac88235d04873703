//! SPEC §6.1 (values that never fit keep a column unmapped) and §5.3 (one day/month order per
//! column) as tables.

use super::*;
use domain::LocationSettings;
use domain::field::standard_field;

fn ctx(workbook: Option<bool>) -> FitContext {
    FitContext {
        read: ReadContext::new(&LocationSettings::default(), jiff::civil::date(2026, 6, 1))
            .unwrap(),
        value_map: HashMap::from([(
            "contact_type".to_string(),
            HashMap::from([("customer".to_string(), "Patient".to_string())]),
        )]),
        workbook,
    }
}

fn field(key: &str) -> Target {
    Target::standard(standard_field(key).unwrap())
}

fn scan(target: &Target, values: &[&str], workbook: Option<bool>) -> ScanResult {
    let mut s = Scan::new(vec![(0, target.clone())], vec![]);
    let ctx = ctx(workbook);
    for v in values {
        s.feed(&[v.to_string()], &ctx);
    }
    s.finish()
}

#[test]
fn a_column_fits_when_one_of_its_first_values_does() {
    let status = field("status");
    let dob = field("date_of_birth");
    let kind = field("contact_type");
    // (field, values, workbook date system, the note when they do not fit)
    type Case<'a> = (&'a Target, &'a [&'a str], Option<bool>, Option<&'a str>);
    let cases: &[Case] = &[
        // Zoho's Status: never an option of ours.
        (
            &status,
            &["Active", "Inactive", "Active", ""],
            None,
            Some("its values (Active, Inactive) are not options of Status"),
        ),
        // One value that fits is enough; case does not matter.
        (&status, &["Active", "unsubscribed"], None, None),
        // A value the user mapped to an option fits.
        (&kind, &["customer"], None, None),
        (
            &kind,
            &["customer-ish", "vendor"],
            None,
            Some("its values (customer-ish, vendor) are not options of Type of Contact"),
        ),
        // Thunderbird's Birth Day: a day of the month, never a date.
        (
            &dob,
            &["15", "3", "22", "9"],
            None,
            Some("its values (15, 3, 22) are not dates, so it is not mapped to Date of Birth"),
        ),
        // Dates in either order fit; so do month names.
        (&dob, &["20/01/1991"], None, None),
        (&dob, &["Jan 2, 1991"], None, None),
        // In a workbook a number is a serial date.
        (&dob, &["29220"], Some(false), None),
        // A column with no value stays mapped (SPEC §4).
        (&status, &["", "  "], None, None),
    ];
    for (target, values, workbook, want) in cases {
        let result = scan(target, values, *workbook);
        let got = result.unfit.first().map(|(_, n)| n.as_str());
        assert_eq!(got, *want, "{} {values:?}", target.key);
    }
}

#[test]
fn only_the_first_thousand_values_decide() {
    let status = field("status");
    let mut values = vec!["Active"; FIT_VALUES];
    values.push("Subscribed");
    assert_eq!(scan(&status, &values, None).unfit.len(), 1);
    values.swap(0, FIT_VALUES);
    assert!(scan(&status, &values, None).unfit.is_empty());
    let mut s = Scan::new(vec![(0, status)], vec![]);
    let ctx = ctx(None);
    for _ in 0..FIT_VALUES {
        assert!(!s.settled());
        s.feed(&["Active".to_string()], &ctx);
    }
    assert!(s.settled(), "a thousand values decide");
}

/// Column values → (order read in, from the file?) for a location in `location`'s order.
#[test]
fn one_day_month_order_per_column() {
    use DateOrder::{Dmy, Mdy};
    let cases: &[(DateOrder, &[&str], (DateOrder, bool))] = &[
        // The file: 09/07/2014 alone says nothing; 20/01/1991 proves DMY.
        (Mdy, &["09/07/2014", "20/01/1991"], (Dmy, true)),
        (Mdy, &["09/07/2014", "03/04/2001"], (Mdy, false)),
        // Proof both ways: the location's order, and the misfits warn line by line.
        (Mdy, &["20/01/1991", "01/20/1991"], (Mdy, false)),
        (Dmy, &["01/20/1991", "02/03/2004"], (Mdy, true)),
        (Dmy, &["20/01/1991"], (Dmy, false)),
        // ISO and month names prove nothing.
        (Mdy, &["1991-01-20", "Jan 20, 1991", ""], (Mdy, false)),
    ];
    for (location, values, want) in cases {
        let mut s = Scan::new(vec![], vec![0]);
        let ctx = ctx(None);
        for v in *values {
            s.feed(&[v.to_string()], &ctx);
        }
        let result = s.finish();
        assert_eq!(
            result.date(0).unwrap().order(*location),
            *want,
            "{values:?}"
        );
    }
    let mut s = Scan::new(vec![], vec![0]);
    s.feed(&["20/01/1991".to_string()], &ctx(None));
    assert!(
        !s.settled(),
        "one proof: later values may prove the other order"
    );
    s.feed(&["01/20/1991".to_string()], &ctx(None));
    assert!(s.settled(), "proof both ways: nothing more to learn");
    let e = s.finish().dates.remove(0);
    assert_eq!(e.example(Dmy), Some("20/01/1991"));
    assert_eq!(
        order_notice("Birthday", Dmy, e.example(Dmy)),
        "dates in “Birthday” are read day first (DD/MM/YYYY), as its values show (such as 20/01/1991)"
    );
}
