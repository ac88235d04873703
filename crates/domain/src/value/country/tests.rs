use super::*;
use crate::value::Outcome;
use crate::value::tests::{csv_rows, testdata};

const TABLE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/value/country/table.rs");

/// Renders `table.rs` from `countries.csv`. This is the generator: run
/// `UPDATE_COUNTRY_TABLE=1 cargo test -p domain country::tests::table_is_generated_from_the_csv`
/// to rewrite the table after the CSV changes; without the variable the test fails when the
/// committed table differs from what the CSV gives.
fn render_table(csv: &str) -> String {
    let rows = csv_rows(csv);
    assert_eq!(
        rows[0],
        [
            "alpha_2",
            "alpha_3",
            "numeric",
            "iso_codes_name",
            "iso_codes_official_name",
            "iso_codes_common_name",
            "cldr_en_name"
        ]
    );
    let mut out = String::from(
        "// @generated from testdata/iso3166/countries.csv by `render_table` in\n\
         // country/tests.rs (UPDATE_COUNTRY_TABLE=1 cargo test -p domain\n\
         // country::tests::table_is_generated_from_the_csv). Do not edit by hand.\n\n\
         use super::Country;\n\n\
         /// ISO 3166-1 (Debian iso-codes via pycountry 26.2.16) with CLDR 47 English names, by alpha-2.\n\
         pub const COUNTRIES: &[Country] = &[\n",
    );
    let mut names: Vec<(String, String)> = Vec::new();
    for r in &rows[1..] {
        out.push_str(&format!(
            "    Country {{ alpha2: {:?}, alpha3: {:?}, numeric: {:?}, iso_name: {:?}, iso_official_name: {:?}, iso_common_name: {:?}, cldr_name: {:?} }},\n",
            r[0], r[1], r[2], r[3], r[4], r[5], r[6]
        ));
        for name in [&r[3], &r[6]] {
            names.push((name.replace('\u{2019}', "'"), r[0].clone()));
        }
    }
    names.sort();
    names.dedup();
    out.push_str(
        "];\n\n/// Accepted names (iso-codes short name, CLDR English name), U+2019 written as U+0027,\n\
         /// sorted for binary search, with their alpha-2 code.\n\
         pub(super) const ACCEPTED_NAMES: &[(&str, &str)] = &[\n",
    );
    for (name, code) in names {
        out.push_str(&format!("    ({name:?}, {code:?}),\n"));
    }
    out.push_str("];\n");
    out
}

#[test]
fn table_is_generated_from_the_csv() {
    let expected = render_table(&testdata("iso3166/countries.csv"));
    if std::env::var_os("UPDATE_COUNTRY_TABLE").is_some() {
        std::fs::write(TABLE_PATH, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(TABLE_PATH).unwrap();
    assert!(
        committed == expected,
        "country/table.rs differs from countries.csv; regenerate it (see render_table)"
    );
    assert_eq!(COUNTRIES.len(), 249);
}

#[test]
fn table_is_sorted_and_names_are_unambiguous() {
    assert!(
        COUNTRIES.windows(2).all(|w| w[0].alpha2 < w[1].alpha2),
        "binary search needs alpha-2 order"
    );
    assert!(
        table::ACCEPTED_NAMES.windows(2).all(|w| w[0].0 < w[1].0),
        "one country per name, sorted"
    );
    for c in COUNTRIES {
        assert!(
            c.alpha2.len() == 2 && c.alpha2.bytes().all(|b| b.is_ascii_uppercase()),
            "{c:?}"
        );
        assert!(!c.iso_name.is_empty() && !c.cldr_name.is_empty(), "{c:?}");
    }
}

fn check(raw: &str, expected: &str) {
    let read = read_country(raw);
    let got = match &read.outcome {
        Outcome::Blank => String::new(),
        Outcome::Value(c) => c.as_str().to_string(),
        Outcome::Invalid => {
            let m = &read.messages[0];
            match m.code {
                "country.not_exact" => format!(
                    "suggest {}",
                    m.message
                        .split('“')
                        .nth(2)
                        .unwrap()
                        .split('”')
                        .next()
                        .unwrap()
                ),
                code => code.to_string(),
            }
        }
    };
    assert_eq!(got, expected, "{raw:?}");
}

#[test]
fn country_cases() {
    let cases = [
        ("United States", "US"),
        ("US", "US"),
        (" US ", "US"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("North Korea", "KP"),
        ("Korea, Democratic People's Republic of", "KP"),
        ("Korea, Democratic People’s Republic of", "KP"),
        ("Côte d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),
        ("Türkiye", "TR"),
        ("Antigua & Barbuda", "AG"),
        ("Antigua and Barbuda", "AG"),
        ("St. Helena", "SH"),
        ("Åland Islands", "AX"),
        ("", ""),
        // Close misses: refused with a suggestion.
        ("USA", "suggest United States"),
        ("U.S.", "suggest United States"),
        ("U.S.A.", "suggest United States"),
        ("united states", "suggest United States"),
        ("UNITED STATES", "suggest United States"),
        ("us", "suggest United States"),
        ("United States of America", "suggest United States"),
        ("America", "suggest United States"),
        ("840", "suggest United States"),
        ("UK", "suggest United Kingdom"),
        ("Great Britain", "suggest United Kingdom"),
        ("England", "suggest United Kingdom"),
        ("Holland", "suggest Netherlands"),
        ("Turkey", "suggest Türkiye"),
        ("Cote d'Ivoire", "suggest Côte d'Ivoire"),
        ("Côte d‘Ivoire", "suggest Côte d'Ivoire"),
        ("korea, republic of", "suggest Korea, Republic of"),
        ("Republic of Korea", "country.unknown"),
        ("Republic of Moldova", "suggest Moldova"),
        ("Bolivia, Plurinational State of", "BO"),
        ("Plurinational State of Bolivia", "suggest Bolivia"),
        ("Netherlands, Kingdom of the", "suggest Netherlands"),
        // Unknown.
        ("Narnia", "country.unknown"),
        ("XK", "country.unknown"),
        ("EU", "country.unknown"),
        ("Korea", "country.unknown"),
        ("America/New_York", "country.unknown"),
        ("United\u{a0}States", "suggest United States"),
        ("...", "country.unknown"),
    ];
    for (raw, expected) in cases {
        check(raw, expected);
    }
}

/// `country_cases.csv`: an input is accepted exactly when one of the three lists equals it,
/// as that list's country; every other input is refused (the padded ` US ` is read after
/// SPEC §5's trim, and so is accepted).
#[test]
fn oracle_country_cases() {
    let rows = csv_rows(&testdata("iso3166/country_cases.csv"));
    assert_eq!(
        rows[0][..4],
        [
            "input",
            "iso_codes_name_exact",
            "alpha2_exact",
            "cldr_en_name_exact"
        ]
    );
    for r in &rows[1..] {
        let input = r[0].as_str();
        let listed = r[1..4].iter().find(|c| !c.is_empty()).map(String::as_str);
        let read = read_country(input);
        let trimmed = crate::value::trim(input);
        let expected = match listed {
            Some(code) => Outcome::Value(code),
            None if trimmed.is_empty() => Outcome::Blank,
            None if trimmed != input => {
                Outcome::Value(accepted(trimmed).expect("padded accepted value").as_str())
            }
            None => Outcome::Invalid,
        };
        assert_eq!(
            read.map(|c| c.as_str()).outcome,
            expected,
            "{input:?} ({})",
            r[4]
        );
    }
    assert_eq!(rows.len() - 1, 37);
}

/// Every code and every accepted name of every country reads as that country, with either
/// apostrophe; their lower-case spellings are refused with that country suggested.
#[test]
fn every_listed_name_and_code_is_accepted() {
    let mut checked = 0;
    for c in COUNTRIES {
        for name in [c.alpha2, c.iso_name, c.cldr_name] {
            for spelling in [
                name.to_string(),
                name.replace('\'', "\u{2019}"),
                name.replace('\u{2019}', "'"),
            ] {
                assert_eq!(
                    read_country(&spelling).into_value().map(|x| x.as_str()),
                    Some(c.alpha2),
                    "{spelling:?}"
                );
                checked += 1;
            }
            let lower = name.to_lowercase();
            if accepted(&lower).is_none() {
                let read = read_country(&lower);
                assert_eq!(read.messages[0].code, "country.not_exact", "{lower:?}");
                assert!(
                    read.messages[0]
                        .message
                        .contains(&format!("“{}”", c.alpha2)),
                    "{lower:?}"
                );
            }
        }
    }
    assert_eq!(checked, 249 * 3 * 3);
}

#[test]
fn suggestion_keys_name_one_country() {
    let mut seen = std::collections::HashMap::new();
    for c in COUNTRIES {
        for n in [
            c.alpha2,
            c.alpha3,
            c.numeric,
            c.iso_name,
            c.iso_official_name,
            c.iso_common_name,
            c.cldr_name,
        ] {
            if !n.is_empty()
                && let Some(other) = seen.insert(fold(n), c.alpha2)
            {
                assert_eq!(other, c.alpha2, "{n:?} folds like a name of {other}");
            }
        }
    }
    for (alias, code) in ALIASES {
        assert!(
            seen.get(*alias).is_none_or(|c| c == code),
            "alias {alias} shadows a name"
        );
        assert!(CountryCode::from_alpha2(code).is_some());
    }
}

/// The folded lookup built once ([`folded_names`]) suggests what scanning every name of the
/// table did, for every name, code and official or common name of every country in several
/// spellings, and for cells that are no country.
#[test]
fn folded_lookup_suggests_what_the_scan_did() {
    fn scan(s: &str) -> Option<(&'static str, &'static str)> {
        let key = fold(s);
        if key.is_empty() {
            return None;
        }
        let alias = ALIASES
            .iter()
            .find(|(a, _)| *a == key)
            .and_then(|(_, code)| CountryCode::from_alpha2(code));
        let country = alias.map(|c| c.country()).or_else(|| {
            COUNTRIES.iter().find(|c| {
                [
                    c.alpha2,
                    c.alpha3,
                    c.numeric,
                    c.iso_name,
                    c.iso_official_name,
                    c.iso_common_name,
                    c.cldr_name,
                ]
                .iter()
                .any(|n| !n.is_empty() && fold(n) == key)
            })
        })?;
        let name = if fold(country.iso_name) == key {
            country.iso_name
        } else {
            country.cldr_name
        };
        Some((name, country.alpha2))
    }
    let mut cells: Vec<String> = ["", "USA", "U.S.", "uk", "Atlantis", "12", "--", "ÜSÄ"]
        .map(String::from)
        .to_vec();
    for c in COUNTRIES {
        for n in [
            c.alpha2,
            c.alpha3,
            c.numeric,
            c.iso_name,
            c.iso_official_name,
            c.iso_common_name,
            c.cldr_name,
        ] {
            cells.extend([
                n.to_string(),
                n.to_lowercase(),
                n.to_uppercase(),
                format!("{n}."),
                n.replace(' ', ""),
            ]);
        }
    }
    for (alias, _) in ALIASES {
        cells.push(alias.to_uppercase());
    }
    for cell in &cells {
        assert_eq!(suggest(cell), scan(cell), "{cell:?}");
    }
}
