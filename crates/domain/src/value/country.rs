//! Countries (SPEC §5.7): a cell must equal, exactly, an accepted name or an ISO 3166-1
//! alpha-2 code. Accepted names are Debian iso-codes' ISO 3166-1 short names and CLDR's
//! English names; a curly apostrophe (U+2019) and a straight one (U+0027) count as the same
//! character, so `Côte d'Ivoire` and `Côte d’Ivoire` are both accepted.
//!
//! Nothing else is accepted, however close — `USA`, `U.S.`, `united states`, `us` — but a
//! close miss gets a `country.not_exact` warning that names the accepted value to use, found
//! by comparing a folded form (lower case, no accents, letters and digits only) with every
//! name, official name, common name, code and a few colloquial names (`UK`, `Holland`).
//!
//! The list is one table, [`COUNTRIES`], generated into `country/table.rs` from
//! `testdata/iso3166/countries.csv` by a test (see `country/tests.rs`), which also
//! fails when the committed table and the CSV differ.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use super::{Read, read_with};
use crate::message::{Message, code};

#[rustfmt::skip]
mod table;

pub use table::COUNTRIES;

/// One ISO 3166-1 entry. Empty strings stand for names a source does not give.
#[derive(Debug, PartialEq, Eq)]
pub struct Country {
    pub alpha2: &'static str,
    pub alpha3: &'static str,
    pub numeric: &'static str,
    /// Debian iso-codes' short name (`Korea, Republic of`): accepted.
    pub iso_name: &'static str,
    /// iso-codes' official name (`Republic of Korea`): suggested, not accepted.
    pub iso_official_name: &'static str,
    /// iso-codes' common name (`South Korea`): suggested, not accepted (unless CLDR's too).
    pub iso_common_name: &'static str,
    /// CLDR's English name (`South Korea`): accepted.
    pub cldr_name: &'static str,
}

/// An accepted country, by its ISO 3166-1 alpha-2 code.
#[derive(Clone, Copy)]
pub struct CountryCode(&'static Country);

impl CountryCode {
    /// The country whose alpha-2 code is exactly `code` (`US`, not `us`).
    pub fn from_alpha2(code: &str) -> Option<CountryCode> {
        COUNTRIES
            .binary_search_by(|c| c.alpha2.cmp(code))
            .ok()
            .map(|i| CountryCode(&COUNTRIES[i]))
    }

    pub fn as_str(&self) -> &'static str {
        self.0.alpha2
    }

    pub fn country(&self) -> &'static Country {
        self.0
    }
}

impl PartialEq for CountryCode {
    fn eq(&self, other: &Self) -> bool {
        self.0.alpha2 == other.0.alpha2
    }
}

impl Eq for CountryCode {}

impl Hash for CountryCode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.alpha2.hash(state);
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.0.alpha2)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.alpha2)
    }
}

/// The accepted country a name or code denotes exactly (after the apostrophe rule).
///
/// ```
/// use domain::value::country::accepted;
/// assert_eq!(accepted("South Korea").unwrap().as_str(), "KR");
/// assert_eq!(accepted("Korea, Republic of").unwrap().as_str(), "KR");
/// assert_eq!(accepted("Côte d’Ivoire").unwrap().as_str(), "CI");
/// assert!(accepted("USA").is_none());
/// ```
pub fn accepted(s: &str) -> Option<CountryCode> {
    if s.len() == 2 {
        return CountryCode::from_alpha2(s);
    }
    let name = s.replace('\u{2019}', "'");
    let i = table::ACCEPTED_NAMES
        .binary_search_by(|(n, _)| (*n).cmp(name.as_str()))
        .ok()?;
    CountryCode::from_alpha2(table::ACCEPTED_NAMES[i].1)
}

/// A Country cell (SPEC §5.7).
///
/// ```
/// use domain::value::read_country;
/// assert_eq!(read_country("United States").into_value().unwrap().as_str(), "US");
/// let usa = read_country("USA");
/// assert_eq!(usa.messages[0].code, "country.not_exact");
/// assert!(usa.messages[0].message.contains("“United States”"));
/// ```
pub fn read_country(raw: &str) -> Read<CountryCode> {
    read_with(raw, |s| {
        accepted(s).ok_or_else(|| match suggest(s) {
            Some((name, code)) => Message::warning(
                code::COUNTRY_NOT_EXACT,
                format!("“{s}” is not written as the accepted list writes it; use “{name}” or “{code}”."),
                format!("Write the country exactly as “{name}” or “{code}”."),
            ),
            None => Message::warning(
                code::COUNTRY_UNKNOWN,
                format!("“{s}” is not a country name or ISO 3166-1 alpha-2 code."),
                "Use the country's name, such as United States, or its two-letter code, such as US.",
            ),
        })
    })
}

/// Colloquial and former names (folded) that deserve a suggestion.
const ALIASES: &[(&str, &str)] = &[
    ("america", "US"),
    ("unitedstatesofamerica", "US"),
    ("uk", "GB"),
    ("greatbritain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("northernireland", "GB"),
    ("holland", "NL"),
    ("thenetherlands", "NL"),
    ("netherlandskingdomofthe", "NL"),
    ("turkey", "TR"),
    ("ivorycoast", "CI"),
    ("czechrepublic", "CZ"),
    ("swaziland", "SZ"),
    ("burma", "MM"),
    ("macedonia", "MK"),
    ("capeverde", "CV"),
    ("easttimor", "TL"),
    ("vatican", "VA"),
    ("uae", "AE"),
];

/// The accepted name and code that a close miss meant, if one is clear.
fn suggest(s: &str) -> Option<(&'static str, &'static str)> {
    let key = fold(s);
    if key.is_empty() {
        return None;
    }
    let alias = ALIASES
        .iter()
        .find(|(a, _)| *a == key)
        .and_then(|(_, code)| CountryCode::from_alpha2(code));
    let country = alias
        .map(|c| c.country())
        .or_else(|| folded_names().get(key.as_str()).map(|&i| &COUNTRIES[i]))?;
    let name = if fold(country.iso_name) == key {
        country.iso_name
    } else {
        country.cldr_name
    };
    Some((name, country.alpha2))
}

/// Every name, official name, common name and code of [`COUNTRIES`], folded, to the index of
/// the first country (in table order) that has it: built once, so a close miss costs one
/// lookup instead of folding some 1,700 names (it was two thirds of the CPU of importing a
/// file whose Country cells say `USA`).
fn folded_names() -> &'static HashMap<String, usize> {
    static FOLDED: OnceLock<HashMap<String, usize>> = OnceLock::new();
    FOLDED.get_or_init(|| {
        let mut map = HashMap::new();
        for (i, c) in COUNTRIES.iter().enumerate() {
            for n in [
                c.alpha2,
                c.alpha3,
                c.numeric,
                c.iso_name,
                c.iso_official_name,
                c.iso_common_name,
                c.cldr_name,
            ] {
                if !n.is_empty() {
                    map.entry(fold(n)).or_insert(i);
                }
            }
        }
        map
    })
}

/// Lower case, accents dropped, only letters and digits kept: `Côte d'Ivoire` → `cotedivoire`.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .filter(|c| c.is_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests;
