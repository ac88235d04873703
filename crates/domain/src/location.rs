//! Location settings (SPEC §2) and roles.

use std::fmt;
use std::str::FromStr;

/// Day/month order for ambiguous dates (SPEC §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DateOrder {
    #[default]
    #[serde(rename = "MDY")]
    Mdy,
    #[serde(rename = "DMY")]
    Dmy,
}

/// Which identifier finds an existing contact first (SPEC §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchOrder {
    #[default]
    EmailFirst,
    PhoneFirst,
}

/// A user's role in one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
}

macro_rules! token_enum {
    ($ty:ty, $what:literal, $($variant:path => $token:literal),+) => {
        impl $ty {
            pub fn token(self) -> &'static str {
                match self { $($variant => $token),+ }
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($token => Ok($variant),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " '{}'; use one of: {}"),
                        s,
                        [$($token),+].join(", ")
                    )),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.token())
            }
        }
    };
}

token_enum!(DateOrder, "date order", DateOrder::Mdy => "MDY", DateOrder::Dmy => "DMY");
token_enum!(MatchOrder, "match order", MatchOrder::EmailFirst => "email_first", MatchOrder::PhoneFirst => "phone_first");
token_enum!(Role, "role", Role::Admin => "admin", Role::User => "user");

/// A location's settings, with SPEC §2's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationSettings {
    /// ISO 3166-1 alpha-2 code used to read phones without a country code.
    pub country: String,
    /// IANA time zone name.
    pub timezone: String,
    /// ISO 4217 code.
    pub currency: String,
    pub date_order: DateOrder,
    pub match_order: MatchOrder,
    /// Whether creating a contact needs an email or a phone (SPEC §6.2).
    pub require_unique_identifier: bool,
}

impl Default for LocationSettings {
    fn default() -> Self {
        LocationSettings {
            country: "US".into(),
            timezone: "America/New_York".into(),
            currency: "USD".into(),
            date_order: DateOrder::Mdy,
            match_order: MatchOrder::EmailFirst,
            require_unique_identifier: false,
        }
    }
}

/// Whether `code` is an assigned ISO 3166-1 alpha-2 country code (upper case), the form a
/// location's default country is stored in: `US` is, `XX` and `us` are not.
///
/// ```
/// use domain::location::is_country_code;
/// assert!(is_country_code("US") && is_country_code("GB"));
/// assert!(!is_country_code("XX") && !is_country_code("us") && !is_country_code("USA"));
/// ```
pub fn is_country_code(code: &str) -> bool {
    crate::value::country::CountryCode::from_alpha2(code).is_some()
}

/// Checks that `name` is exactly (case included) a zone name of the tz database built into
/// the binary, never the machine's own zone files (SPEC §5.8). The error says what to use.
///
/// ```
/// use domain::location::check_time_zone;
/// assert!(check_time_zone("America/New_York").is_ok());
/// assert!(check_time_zone("america/new_york").unwrap_err().contains("America/New_York"));
/// ```
pub fn check_time_zone(name: &str) -> Result<(), String> {
    match jiff::tz::db().get(name) {
        Ok(tz) if tz.iana_name() == Some(name) => Ok(()),
        Ok(tz) => Err(format!(
            "“{name}” is not written exactly as the time zone database names it; use “{}”.",
            tz.iana_name()
                .unwrap_or("an IANA name such as America/New_York")
        )),
        Err(_) => Err(format!(
            "“{name}” is not a time zone name. Use an IANA name such as America/New_York or Europe/London."
        )),
    }
}
