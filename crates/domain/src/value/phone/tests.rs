//! SPEC §5.10 as a table, the libphonenumber corpora as oracles, and the proof that the NANP
//! fast path agrees with the exact path (and with the `phonenumber` crate) wherever it answers.

use proptest::prelude::*;

use super::metadata::table;
use super::nanp::fast_path;
use super::pattern::Pattern;
use super::*;

/// `expected`: the E.164 (with ` x12` when an extension is kept), or the message code.
#[track_caller]
fn check(region: &str, input: &str, expected: &str) {
    let region = Region::new(region).expect("two letters");
    let got = match parse_phone(input, region) {
        Ok(phone) => phone.to_string(),
        Err(message) => {
            assert_eq!(message.level, crate::message::Level::Warning, "{input:?}");
            assert_eq!(message.value.as_deref(), Some(input), "{input:?}");
            assert!(message.resolution.contains("+12015550123"), "{message:?}");
            assert!(!message.message.is_empty());
            message.code.to_string()
        }
    };
    assert_eq!(got, expected, "{input:?} read in {region}");
}

#[test]
fn spec_5_10_rules() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str)] = &[
        // Normalised to E.164; the layouts the user does not have to clean.
        ("US", "2015550123", "+12015550123"),
        ("US", "(201) 555-0123", "+12015550123"),
        ("US", "201.555.0123", "+12015550123"),
        ("US", "201 555 0123", "+12015550123"),
        ("US", "1-201-555-0123", "+12015550123"),
        ("US", "+1 (201) 555-0123", "+12015550123"),
        ("US", "+12015550123", "+12015550123"),
        // Trimmed: spaces, tabs, CR, LF.
        ("US", " \t201-555-0123\r\n", "+12015550123"),
        // A leading 00 is a + whatever the region (US dials 011)…
        ("US", "0012015550123", "+12015550123"),
        ("US", "00 44 20 7946 0958", "+442079460958"),
        ("DE", "0049 30 123456", "+4930123456"),
        // …and the region's own international prefix still works.
        ("US", "011 44 20 7946 0958", "+442079460958"),
        ("AU", "0011 44 20 7946 0958", "+442079460958"),
        // No country code: read in the given region (the row's Country, else the default).
        ("GB", "020 7946 0958", "+442079460958"),
        ("FR", "06 12 34 56 78", "+33612345678"),
        ("CA", "(416) 555-0123", "+14165550123"),
        ("US", "(416) 555-0123", "+14165550123"),
        ("US", "020 7946 0958", "phone.too_long"),
        // A country code overrides the region.
        ("GB", "+1 201 555 0123", "+12015550123"),
        ("GB", "1-201-555-0123", "phone.too_long"),
        // Extensions are kept, never dropped.
        ("US", "201-555-0123 x12", "+12015550123 x12"),
        ("US", "201-555-0123x12", "+12015550123 x12"),
        ("US", "(201) 555-0123 ext. 12", "+12015550123 x12"),
        ("US", "(201) 555-0123 ext 12", "+12015550123 x12"),
        ("US", "(201) 555-0123 EXT:12", "+12015550123 x12"),
        ("US", "201-555-0123 extension 12", "+12015550123 x12"),
        ("US", "201-555-0123 #12", "+12015550123 x12"),
        ("US", "201-555-0123;ext=12", "+12015550123 x12"),
        ("US", "tel:+1-201-555-0123;ext=12", "+12015550123 x12"),
        // Letters are a warning, never converted (vanity numbers, labels, placeholders).
        ("US", "1-800-FLOWERS", "phone.letters"),
        ("US", "201-555-CALL", "phone.letters"),
        ("US", "+1 201 555 0123 (mobile)", "phone.letters"),
        ("US", "Phone: 201 555 0123", "phone.letters"),
        ("US", "TEL:+1-201-555-0123", "+12015550123"),
        ("US", "N/A", "phone.letters"),
        // Excel's scientific notation is a warning.
        ("US", "2.01555E+09", "phone.scientific"),
        ("US", "2E+09", "phone.scientific"),
        // Too few / too many digits.
        ("US", "555-0123", "phone.too_short"),
        ("US", "201555012", "phone.too_short"),
        ("US", "+1 201", "phone.too_short"),
        ("US", "2015550123456789", "phone.too_long"),
        ("US", "1 (201) 555-0123 / (201) 555-0199", "phone.too_long"),
        ("US", "12015550123.0", "phone.too_long"),
        // Invalid for its region.
        ("US", "123-456-7890", "phone.invalid_for_region"),
        ("US", "(555) 555-5555", "phone.invalid_for_region"),
        ("US", "20155501234", "phone.too_long"),
        // Country codes.
        ("US", "+999 123 456 789", "phone.unknown_country_code"),
        ("AQ", "201 555 0123", "phone.unknown_country_code"),
        ("AQ", "+1 201 555 0123", "+12015550123"),
        // Not a phone number at all.
        ("US", "", "phone.invalid"),
        ("US", "   ", "phone.invalid"),
        ("US", "-", "phone.invalid"),
        ("US", "0", "phone.invalid"),
        ("US", "201,555,0123", "phone.invalid"),
        ("US", "201-555-0123 + 1", "phone.invalid"),
        // Spreadsheet leftovers libphonenumber reads through.
        ("US", "'2015550123", "+12015550123"),
        ("US", "=\"2015550123\"", "+12015550123"),
        ("US", "２０１５５５０１２３", "+12015550123"),
        ("US", "201\u{a0}555\u{a0}0123", "+12015550123"),
        ("US", "201–555–0123", "+12015550123"),
        // The divergence classes of the `phonenumber` crate (see `number`'s doc).
        ("RU", "8 (800) 123-45-67", "+78001234567"),
        ("RU", "+7 800 123-45-67", "+78001234567"),
        ("LT", "+370 800 12 345", "+37080012345"),
        ("RW", "250 123 456", "+250250123456"),
        ("CN", "101234567", "phone.invalid_for_region"),
        ("PH", "23234567", "phone.invalid_for_region"),
    ];
    for (region, input, expected) in cases {
        check(region, input, expected);
    }
}

#[test]
fn messages_name_the_problem() {
    let m = parse_phone("555-0123", Region::US).unwrap_err();
    assert_eq!(
        m.message,
        "“555-0123” is too short for a US number: the area code seems to be missing."
    );
    assert_eq!(
        m.resolution,
        "Add the area code; write the number with its country code, like +12015550123."
    );
    assert_eq!(m.field, None, "the caller sets the field");
    let m = parse_phone("+44 12", Region::US).unwrap_err();
    assert_eq!(
        (m.code, m.message.as_str()),
        (
            "phone.too_short",
            "“+44 12” has too few digits for a +44 number."
        )
    );
}

#[test]
fn region_codes() {
    assert_eq!(
        Region::new("gb").map(|r| r.to_string()),
        Some("GB".to_string())
    );
    assert_eq!(Region::new("USA"), None);
    assert_eq!(Region::new("1A"), None);
    assert_eq!(Region::new(""), None);
}

#[test]
fn patterns_match_like_java() {
    let p = Pattern::parse("\\d{3}|\\d{5}").unwrap();
    // `matches()` finds the second alternative where a leftmost-first `find` stops at the first.
    assert!(p.full_match(b"12345"));
    assert!(!p.full_match(b"1234"));
    // The national prefix rules: group 1 only when the 7-digit form is the whole number.
    let npp = Pattern::parse("([2-7]\\d{6})$|1").unwrap();
    let local = npp.looking_at(b"4651234").unwrap();
    assert_eq!((local.end, local.groups[1]), (7, Some((0, 7))));
    let trunk = npp.looking_at(b"18695551234").unwrap();
    assert_eq!((trunk.end, trunk.groups[1]), (1, None));
    assert!(npp.looking_at(b"8695551234").is_none());
    let ws = Pattern::parse("\n  (?:\n 1505|\n [279]\\d{3}\n )\\d{4}").unwrap();
    assert!(ws.full_match(b"15051234") && !ws.full_match(b"1505123"));
    assert!(Pattern::parse("(?=1)").is_err());
}

#[test]
fn every_region_of_the_metadata_is_read() {
    let t = table();
    // 245 regions and 9 non-geographic calling codes, as in the example corpus.
    assert_eq!(t.regions.len(), 254);
    assert_eq!(t.regions.iter().filter(|r| r.id == "001").count(), 9);
    assert_eq!(t.main_for_code(1).map(|r| r.id.as_str()), Some("US"));
    assert_eq!(t.main_for_code(7).map(|r| r.id.as_str()), Some("RU"));
}

// ---- The corpora -------------------------------------------------------------------------

/// The rows of one corpus file as maps from header to cell (RFC 4180 quoting, one line a row).
fn corpus(name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let text = crate::value::tests::testdata(&format!("libphonenumber-examples/{name}"));
    let mut lines = text.lines().map(split_csv_line);
    let header = lines.next().expect("a header");
    lines
        .map(|cells| header.iter().cloned().zip(cells).collect())
        .collect()
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let cell = cells.last_mut().expect("a cell");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => cells.push(String::new()),
            _ => cell.push(c),
        }
    }
    cells
}

/// What libphonenumber's corpus columns hold: the E.164 it parsed (None when it threw) and
/// whether the number is valid.
fn outcome(input: &str, region: &str) -> (Option<String>, bool) {
    let region = Region::new(region).expect("a region");
    match read(input, region) {
        Ok(phone) => (Some(phone.e164().to_string()), true),
        Err(rejection) => (rejection.e164, false),
    }
}

/// Reads each input through both paths; where the fast path answers it must equal the exact
/// path. Returns how many the fast path answered.
fn fast_agrees(inputs: &[(String, String)]) -> usize {
    let mut answered = 0;
    for (input, region) in inputs {
        let region = Region::new(region).expect("a region");
        if let Some(fast) = fast_path().read(trim(input), region.as_str()) {
            answered += 1;
            let exact = read_exact(input, region).map(|p| p.e164().to_string());
            assert_eq!(
                Ok(fast),
                exact.map_err(|r| r.problem),
                "{input:?} in {region}"
            );
        }
    }
    answered
}

/// Two invalid examples whose national form does not parse back to the example in
/// libphonenumber itself: the corpus' `e164` column is the example number, but
/// `phonenumbers.parse("01624 75678", "IM")` (9.0.33) keeps the `0` (stripping it would leave
/// 9 digits, too short for IM), giving `+440162475678`. We hold to libphonenumber's parse.
const NOT_ROUND_TRIPPED: &[(&str, &str, &str)] = &[
    ("IM", "01624 75678", "+440162475678"),
    ("JE", "01534 45678", "+440153445678"),
];

#[test]
fn example_numbers_agree_with_libphonenumber() {
    let rows = corpus("example_numbers.csv");
    assert_eq!(rows.len(), 1386);
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut inputs = Vec::new();
    let mut not_round_tripped = 0;
    for row in &rows {
        let mut expected = (Some(row["e164"].clone()), row["expected_valid"] == "true");
        let region = row["region"].as_str();
        if let Some((_, _, parsed)) = NOT_ROUND_TRIPPED
            .iter()
            .find(|(r, n, _)| *r == region && *n == row["national"])
        {
            assert_eq!(row["expected_valid"], "false");
            let got = outcome(&row["national"], region);
            assert_eq!(got, (Some(parsed.to_string()), false), "{region}");
            not_round_tripped += 1;
            checked += 1;
            expected.0 = Some(row["e164"].clone());
            for (input, region) in [
                (&row["international"], region),
                (&row["e164"], region),
                (&row["e164"], "ZZ"),
            ] {
                checked += 1;
                assert_eq!(outcome(input, region), expected, "{region} {input:?}");
            }
            continue;
        }
        // Non-geographic entities have no national form; `ZZ` is "no default region".
        let forms: Vec<(&str, &str)> = if region == "001" {
            vec![(&row["international"], "ZZ"), (&row["e164"], "ZZ")]
        } else {
            vec![
                (&row["national"], region),
                (&row["international"], region),
                (&row["e164"], region),
                (&row["e164"], "ZZ"),
            ]
        };
        for (input, region) in forms {
            checked += 1;
            inputs.push((input.to_string(), region.to_string()));
            let got = outcome(input, region);
            if got != expected {
                failures.push(format!(
                    "{region} {input:?}: got {got:?}, libphonenumber {expected:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(not_round_tripped, NOT_ROUND_TRIPPED.len());
    assert_eq!(checked, 1386 * 4 - 9 * 2);
    assert!(fast_agrees(&inputs) > 0);
}

#[test]
fn the_crates_divergences_are_corrected() {
    let rows = corpus("rust_phonenumber_0.3.10_divergences.csv");
    assert_eq!(rows.len(), 44);
    let mut inputs = Vec::new();
    for row in &rows {
        let region = match row["default_region"].as_str() {
            "" => "ZZ",
            r => r,
        };
        let input = row["input"].as_str();
        let lib_e164 = Some(row["libphonenumber_e164"].clone()).filter(|e| !e.is_empty());
        let expected = (lib_e164, row["libphonenumber_validity"] == "valid");
        assert_eq!(outcome(input, region), expected, "{region} {input:?}");

        // The row still describes the crate: it really gets these wrong.
        let id = region.parse::<phonenumber::country::Id>().ok();
        let crate_says = match phonenumber::parse(id, input) {
            Ok(n) => (
                n.format().mode(phonenumber::Mode::E164).to_string(),
                if n.is_valid() { "valid" } else { "invalid" }.to_string(),
            ),
            Err(_) => (String::new(), String::new()),
        };
        assert_eq!(crate_says.0, row["rust_e164"], "{region} {input:?}");
        if !crate_says.1.is_empty() {
            assert_eq!(crate_says.1, row["rust_validity"], "{region} {input:?}");
        }
        inputs.push((input.to_string(), region.to_string()));
    }
    fast_agrees(&inputs);
}

#[test]
fn messy_inputs_agree_with_libphonenumber_except_where_5_10_decides() {
    // Where SPEC §5.10 overrides libphonenumber: a leading `00` is `+` (libphonenumber reads
    // it as a national number under US), and letters are a warning (libphonenumber turns
    // them into digits, or into a longer invalid number for a trailing label).
    #[rustfmt::skip]
    let overrides: &[(&str, &str)] = &[
        ("0012015550123", "+12015550123"),
        ("00 44 20 7946 0958", "+442079460958"),
        ("1-800-FLOWERS", "phone.letters"),
        ("201-555-CALL", "phone.letters"),
        ("+1 201 555 0123 (mobile)", "phone.letters"),
    ];
    let rows = corpus("messy_inputs_libphonenumber.csv");
    assert_eq!(rows.len(), 50);
    let mut inputs = Vec::new();
    for row in &rows {
        let (region, input) = (row["default_region"].as_str(), row["input"].as_str());
        inputs.push((input.to_string(), region.to_string()));
        let lib_e164 = Some(row["lib_e164"].clone()).filter(|e| !e.is_empty());
        let lib = (lib_e164, row["lib_valid"] == "true");
        if let Some((_, ours)) = overrides.iter().find(|(i, _)| *i == input) {
            check(region, input, ours);
            let ours_valid = ours.starts_with('+');
            assert!(
                lib.1 != ours_valid || lib.0.as_deref() != Some(ours),
                "{input:?} needs no override"
            );
            continue;
        }
        assert_eq!(
            outcome(input, region),
            lib,
            "{region} {input:?} ({})",
            row["description"]
        );
        let extension = Region::new(region)
            .and_then(|r| parse_phone(input, r).ok())
            .and_then(|p| p.extension().map(str::to_string));
        assert_eq!(
            extension.unwrap_or_default(),
            row["lib_extension"],
            "{input:?}"
        );
    }
    assert!(fast_agrees(&inputs) > 0);
}

/// 3,000 generated cells with libphonenumber's answers (see the file's header): mutated example
/// numbers of every region read in random regions, and NANP cells in common layouts.
#[test]
fn generated_cells_agree_with_libphonenumber() {
    let data = include_str!("libphonenumber_differential.tsv");
    let mut inputs = Vec::new();
    let mut failures = Vec::new();
    for line in data.lines().filter(|l| !l.starts_with('#')) {
        let cells: Vec<&str> = line.split('\t').collect();
        let [region, input, e164, valid] = cells[..] else {
            panic!("{line:?}")
        };
        let expected = (
            Some(e164.to_string()).filter(|e| !e.is_empty()),
            valid == "true",
        );
        let got = outcome(input, region);
        if got != expected {
            failures.push(format!(
                "{region} {input:?}: got {got:?}, libphonenumber {expected:?}"
            ));
        }
        inputs.push((input.to_string(), region.to_string()));
    }
    assert_eq!(inputs.len(), 3000);
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(fast_agrees(&inputs) > 100);
}

// ---- The fast path -------------------------------------------------------------------------

#[test]
fn fast_path_takes_the_common_cases_and_only_those() {
    let fast = fast_path();
    for region in ["US", "CA", "PR", "JM"] {
        assert!(fast.regions().iter().any(|r| r == region), "{region}");
    }
    let area_codes: Vec<usize> = fast.valid_area_codes().collect();
    assert!(area_codes.contains(&201) && area_codes.contains(&416) && area_codes.contains(&800));
    // Validity depends on more than the area code there: the exact path decides.
    for mixed in [274, 472, 983, 523, 658] {
        assert!(!area_codes.contains(&mixed), "{mixed}");
    }
    assert_eq!(
        fast.read("(201) 555-0123", "US").as_deref(),
        Some("+12015550123")
    );
    assert_eq!(
        fast.read("1.201.555.0123", "CA").as_deref(),
        Some("+12015550123")
    );
    assert_eq!(
        fast.read("+1 201 555 0123", "GB").as_deref(),
        Some("+12015550123")
    );
    for (input, region) in [
        ("201 555 0123", "GB"),
        ("201 555 0123 x12", "US"),
        ("201 155 0123", "US"),
        ("0012015550123", "US"),
        ("555 555 5555", "US"),
        ("1 201 555 01234", "US"),
    ] {
        assert_eq!(fast.read(input, region), None, "{input:?} in {region}");
    }
}

/// Strings a US-heavy contact file holds: NANP digits in every usual layout, with some of the
/// odd ones (`00`, `011`, extensions, a stray letter) and other default regions.
fn nanp_ish() -> impl Strategy<Value = (String, String)> {
    let area = prop_oneof![
        3 => proptest::sample::select(fast_path().valid_area_codes().collect::<Vec<_>>()),
        1 => 0..1000usize,
    ];
    let prefix = proptest::sample::select(vec![
        "", "", "", "1", "1-", "1 ", "+1", "+1 ", "+1-", "+", "00 1 ", "011 1 ", "+ 1", "(1)", "1.",
    ]);
    let sep = proptest::sample::select(vec!["", " ", "-", ".", ") ", " - ", "/", "  "]);
    let suffix = proptest::sample::select(vec![
        "", "", "", " x12", "#4", " ext. 7", "0", " ", ")", "a",
    ]);
    let region = proptest::sample::select(vec![
        "US", "US", "CA", "PR", "JM", "AG", "DO", "GB", "DE", "ZZ", "AQ",
    ]);
    (
        prefix,
        proptest::bool::ANY,
        area,
        0..1000usize,
        sep.clone(),
        sep,
        0..10000usize,
        suffix,
        region,
    )
        .prop_map(
            |(prefix, paren, area, exchange, s1, s2, line, suffix, region)| {
                let area = if paren {
                    format!("({area:03})")
                } else {
                    format!("{area:03}")
                };
                (
                    format!("{prefix}{area}{s1}{exchange:03}{s2}{line:04}{suffix}"),
                    region.to_string(),
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Wherever the fast path answers, the exact path and the `phonenumber` crate give the same
    /// E.164, and both say valid.
    #[test]
    fn fast_path_agrees_with_the_exact_path_and_the_crate((input, region) in nanp_ish()) {
        if let Some(fast) = fast_path().read(trim(&input), &region) {
            let region = Region::new(&region).unwrap();
            let exact = read_exact(&input, region).map(|p| (p.e164().to_string(), p.extension().map(str::to_string)));
            prop_assert_eq!(exact, Ok((fast.clone(), None)));

            // The crate's own reading of the cell, where its grammar takes the layout: it
            // refuses some that libphonenumber reads, such as `+1201-200-0000` (a `+` and four
            // digits before a dash); then its reading of the E.164 form.
            let id = region.as_str().parse::<phonenumber::country::Id>().ok();
            let by_crate = phonenumber::parse(id, &input)
                .or_else(|_| phonenumber::parse(None, &fast))
                .expect("the crate parses the E.164 form");
            prop_assert!(by_crate.is_valid());
            prop_assert_eq!(by_crate.format().mode(phonenumber::Mode::E164).to_string(), fast);
        }
    }
}
