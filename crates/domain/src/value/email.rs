//! Email addresses (SPEC §5.11, §5.13, §6.4): trimmed, the domain lower-cased, the syntax
//! checked by the `email_address` crate (RFC 5322 addr-spec) with three stricter choices for a
//! contact list: the domain needs a dot (`ann@localhost` is a typo, not a patient), and
//! neither a display name (`Ann <ann@example.com>`) nor an IP-literal domain is accepted.
//! The local part is kept as written: only the domain is case-insensitive by standard.
//!
//! Matching (SPEC §6.4) compares [`email_match_key`], the Unicode lower case of the whole
//! address, computed here so SQLite and PostgreSQL never disagree about case folding.

use std::fmt;

use email_address::{EmailAddress, Options};

use super::list::{CONTACT_LIST_SEPARATORS, split_on};
use super::{Read, read_with};
use crate::message::{Message, code};

/// The longest address SMTP can deliver to (RFC 5321 §4.5.3.1.3 path limit less `<>`).
pub const EMAIL_MAX_LEN: usize = 254;

/// A syntactically valid email address with a lower-case domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Email(String);

impl Email {
    /// Parses a trimmed address; the error says why in the user's words.
    ///
    /// ```
    /// use domain::value::Email;
    /// assert_eq!(Email::parse("Ann.Lee@Example.COM").unwrap().as_str(), "Ann.Lee@example.com");
    /// assert!(Email::parse("ann@example").is_err());
    /// ```
    /// The address, moved out (what a reader keeps, without copying it).
    pub fn into_string(self) -> String {
        self.0
    }

    pub fn parse(s: &str) -> Result<Email, String> {
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("it has no @".into());
        };
        let address = format!("{local}@{}", domain.to_lowercase());
        if address.len() > EMAIL_MAX_LEN {
            return Err(format!("it is longer than {EMAIL_MAX_LEN} characters"));
        }
        let options = Options::default()
            .with_required_tld()
            .without_domain_literal()
            .without_display_text();
        EmailAddress::parse_with_options(&address, options).map_err(|e| {
            use email_address::Error as E;
            match e {
                E::DomainTooFew => "its domain has no dot (such as example.com)".to_string(),
                E::LocalPartEmpty => "nothing comes before the @".into(),
                E::DomainEmpty => "nothing comes after the @".into(),
                E::SubDomainEmpty => {
                    "its domain has an empty part (two dots in a row, or a dot at an end)".into()
                }
                E::UnsupportedDisplayName | E::MissingDisplayName | E::MissingEndBracket => {
                    "it holds a name as well as the address".into()
                }
                E::InvalidCharacter if s.chars().any(char::is_whitespace) => {
                    "it contains a space".into()
                }
                E::InvalidCharacter if local.contains('@') => "it has more than one @".into(),
                other => other.to_string().trim_end_matches('.').to_lowercase(),
            }
        })?;
        Ok(Email(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key contacts are matched on (SPEC §6.4); see [`email_match_key`].
    pub fn match_key(&self) -> String {
        email_match_key(&self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Unicode lower case of the whole address: two addresses match (SPEC §6.4) when their
/// keys are equal. Applied to stored addresses too, so it takes any `&str`.
///
/// ```
/// assert_eq!(domain::value::email_match_key("Ann.LEE@Example.com"), "ann.lee@example.com");
/// assert_eq!(domain::value::email_match_key("ÉLODIE@exemple.fr"), "élodie@exemple.fr");
/// ```
pub fn email_match_key(address: &str) -> String {
    address.to_lowercase()
}

/// A primary email cell (SPEC §5.11).
pub fn read_email(raw: &str) -> Read<Email> {
    read_with(raw, |s| Email::parse(s).map_err(|why| invalid(s, &why)))
}

/// An additional-emails cell (SPEC §5.13): comma- (or semicolon-) separated addresses, each
/// read as [`read_email`]; repeats (same [`email_match_key`]) kept once. A bad address gets
/// its own warning and is left out; when no address is readable the cell is invalid.
///
/// ```
/// use domain::value::read_email_list;
/// let read = read_email_list("a@x.com, A@X.COM; nope, b@y.org");
/// let emails: Vec<_> = read.as_value().unwrap().iter().map(|e| e.as_str()).collect();
/// assert_eq!(emails, ["a@x.com", "b@y.org"]);
/// assert_eq!(read.messages[0].value.as_deref(), Some("nope"));
/// ```
pub fn read_email_list(raw: &str) -> Read<Vec<Email>> {
    let pieces = split_on(raw, &CONTACT_LIST_SEPARATORS);
    if pieces.is_empty() {
        return Read::blank();
    }
    let mut emails: Vec<Email> = Vec::new();
    let mut messages = Vec::new();
    for piece in pieces {
        match Email::parse(piece) {
            Ok(e) if emails.iter().any(|x| x.match_key() == e.match_key()) => {}
            Ok(e) => emails.push(e),
            Err(why) => messages.push(invalid(piece, &why).value(piece)),
        }
    }
    let outcome = if emails.is_empty() {
        super::Outcome::Invalid
    } else {
        super::Outcome::Value(emails)
    };
    Read { outcome, messages }
}

fn invalid(s: &str, why: &str) -> Message {
    Message::warning(
        code::EMAIL_INVALID,
        format!("“{s}” is not a valid email address: {why}."),
        "Use an address such as name@example.com, with no spaces and one @.",
    )
}

#[cfg(test)]
mod tests;
