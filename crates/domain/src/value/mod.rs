//! Reading cells by field type (SPEC §5). Every reader is a pure function: it returns the
//! typed value it could read, or a [`crate::message::Message`] saying why not. One bad cell
//! costs that field, never the row: the caller leaves the field out and keeps the message.
//!
//! Conventions shared by every reader here:
//! - A reader takes the raw cell and returns a [`Read`]: [`Outcome::Blank`] ("no value",
//!   SPEC §6.5 decides what that means), [`Outcome::Value`] or [`Outcome::Invalid`], plus the
//!   warnings. A value may come with warnings (a truncated text, a list with one bad item);
//!   `Invalid` always has at least one.
//! - Cells are trimmed of spaces, tabs, CR and LF first ([`trim`]); nothing else is trimmed.
//! - Messages carry the trimmed value ([`crate::message::Message::value`]) but no field key:
//!   readers do not know which field they read. The caller names it with [`Read::field`].
//! - What a rule needs from the location or the clock comes in a [`ReadContext`]; a reader
//!   never reads the clock, the machine's time zone files or any other global.

pub mod boolean;
pub mod country;
pub mod date;
pub mod email;
pub mod formula;
pub mod list;
pub mod number;
pub mod option;
pub mod phone;
pub mod text;
pub mod timezone;

use std::borrow::Cow;

use crate::location::{DateOrder, LocationSettings};
use crate::message::Message;

pub use boolean::read_boolean;
pub use country::{CountryCode, read_country};
pub use date::{excel_serial_date, order_evidence, read_date, read_date_in};
pub use email::{Email, email_match_key, read_email, read_email_list};
pub use formula::{needs_quotes_for_excel, neutralise, unneutralise};
pub use list::{read_tags, read_textbox_list, same_tag, split_list, split_phone_list, tag_key};
pub use number::{CurrencyCode, Money, read_money, read_number};
pub use option::{read_multi_option, read_single_option};
pub use text::{read_large_text, read_note, read_text};
pub use timezone::{TimeZoneName, read_time_zone};

/// What a cell reader gave: the outcome and the messages for the line.
///
/// ```
/// use domain::value::{Outcome, read_boolean};
/// assert_eq!(read_boolean(" yes ").outcome, Outcome::Value(true));
/// assert_eq!(read_boolean("\t").outcome, Outcome::Blank);
/// let bad = read_boolean("maybe").field("dnd");
/// assert_eq!(bad.outcome, Outcome::Invalid);
/// assert_eq!(bad.messages[0].code, "boolean.invalid");
/// assert_eq!(bad.messages[0].field.as_deref(), Some("dnd"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Read<T> {
    pub outcome: Outcome<T>,
    /// Warnings for the line, in the order found. Never empty when `outcome` is `Invalid`.
    pub messages: Vec<Message>,
}

/// Whether a cell held no value, a value, or something that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// Blank after trimming: "no value".
    Blank,
    Value(T),
    /// Not readable: the field is left out of the record; the messages say why.
    Invalid,
}

impl<T> Read<T> {
    pub fn blank() -> Self {
        Read {
            outcome: Outcome::Blank,
            messages: Vec::new(),
        }
    }

    pub fn value(value: T) -> Self {
        Read {
            outcome: Outcome::Value(value),
            messages: Vec::new(),
        }
    }

    pub fn invalid(message: Message) -> Self {
        Read {
            outcome: Outcome::Invalid,
            messages: vec![message],
        }
    }

    /// The value, when one was read.
    pub fn as_value(&self) -> Option<&T> {
        match &self.outcome {
            Outcome::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_value(self) -> Option<T> {
        match self.outcome {
            Outcome::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_blank(&self) -> bool {
        matches!(self.outcome, Outcome::Blank)
    }

    /// Names the field on every message (readers do not know their field's key).
    pub fn field(mut self, key: impl Into<Cow<'static, str>>) -> Self {
        let key = key.into();
        for m in &mut self.messages {
            m.field = Some(key.clone());
        }
        self
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Read<U> {
        let outcome = match self.outcome {
            Outcome::Blank => Outcome::Blank,
            Outcome::Value(v) => Outcome::Value(f(v)),
            Outcome::Invalid => Outcome::Invalid,
        };
        Read {
            outcome,
            messages: self.messages,
        }
    }

    pub(crate) fn with_warning(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }
}

/// Trims what SPEC §5 trims from every cell: spaces, tabs, CR and LF at both ends (and
/// nothing else: a no-break space or a zero-width space stays and makes, say, a time zone
/// name unreadable).
///
/// ```
/// assert_eq!(domain::value::trim(" \t Ann \r\n"), "Ann");
/// assert_eq!(domain::value::trim("\u{a0}Ann"), "\u{a0}Ann");
/// ```
pub fn trim(raw: &str) -> &str {
    raw.trim_matches([' ', '\t', '\r', '\n'])
}

/// The trimmed cell, or `None` when it is blank.
pub fn non_blank(raw: &str) -> Option<&str> {
    Some(trim(raw)).filter(|s| !s.is_empty())
}

/// Runs a parser over the trimmed, non-blank cell; a failure's message gets the value.
pub(crate) fn read_with<T>(raw: &str, parse: impl FnOnce(&str) -> Result<T, Message>) -> Read<T> {
    match non_blank(raw) {
        None => Read::blank(),
        Some(s) => match parse(s) {
            Ok(v) => Read::value(v),
            Err(m) => Read::invalid(m.value(s)),
        },
    }
}

/// What the readers need to know about the location and the day (SPEC §2, §5.2, §5.3).
#[derive(Debug, Clone)]
pub struct ReadContext {
    /// Region for phones without a country code (SPEC §5.10).
    pub country: CountryCode,
    /// Day/month order of numeric dates (SPEC §5.3).
    pub date_order: DateOrder,
    /// The only currency monetary cells may be in (SPEC §5.2).
    pub currency: CurrencyCode,
    /// Where a date-time with an offset is turned into a date (SPEC §5.3); always from the
    /// built-in tz database ([`TimeZoneName::time_zone`]).
    pub time_zone: jiff::tz::TimeZone,
    /// The current date, for the two-digit-year rule (SPEC §5.3). Passed in: parsers never
    /// read the clock.
    pub today: jiff::civil::Date,
}

/// A location setting that cannot drive the readers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("the location's country {0:?} is not an ISO 3166-1 alpha-2 code")]
    Country(String),
    #[error("the location's currency {0:?} is not a three-letter ISO 4217 code")]
    Currency(String),
    #[error("the location's time zone {0:?} is not a name of the built-in tz database")]
    TimeZone(String),
}

impl ReadContext {
    /// The context of a location on a given day.
    ///
    /// ```
    /// use domain::{LocationSettings, value::ReadContext};
    /// let today = jiff::civil::date(2026, 3, 1);
    /// let ctx = ReadContext::new(&LocationSettings::default(), today).unwrap();
    /// assert_eq!(ctx.country.as_str(), "US");
    /// assert_eq!(ctx.time_zone.iana_name(), Some("America/New_York"));
    /// ```
    pub fn new(
        settings: &LocationSettings,
        today: jiff::civil::Date,
    ) -> Result<Self, ContextError> {
        Ok(ReadContext {
            country: CountryCode::from_alpha2(&settings.country)
                .ok_or_else(|| ContextError::Country(settings.country.clone()))?,
            date_order: settings.date_order,
            currency: CurrencyCode::new(&settings.currency)
                .ok_or_else(|| ContextError::Currency(settings.currency.clone()))?,
            time_zone: TimeZoneName::from_exact(&settings.timezone)
                .ok_or_else(|| ContextError::TimeZone(settings.timezone.clone()))?
                .time_zone(),
            today,
        })
    }
}

#[cfg(test)]
mod tests;
