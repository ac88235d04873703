//! Location settings (SPEC §2) and roles.

use std::fmt;
use std::str::FromStr;

/// Day/month order for ambiguous dates (SPEC §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    #[default]
    Mdy,
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
