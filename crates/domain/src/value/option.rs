//! Option fields (SPEC §5.12): single option and radio take exactly one value; multi-select
//! and checkbox take a list split as tags are ([`super::list::split_list`]). A value matches
//! an option ignoring case (Unicode lower case) and is stored in the option's own spelling.
//! Type of Contact (Lead, Patient) and Status (Subscribed, Unsubscribed) are read here with
//! their catalogue options ([`crate::field::StandardField::options`]).
//!
//! Mapping file values to options (`--map-value`, SPEC §6.1) happens before: the engine
//! replaces a mapped value by its option and then calls these readers.

use super::list::split_list;
use super::{Read, non_blank};
use crate::message::{Message, code};

/// A single option or radio cell: the option it names.
///
/// ```
/// use domain::value::read_single_option;
/// let options = ["Lead", "Patient"];
/// assert_eq!(read_single_option(" patient ", &options).into_value().as_deref(), Some("Patient"));
/// assert_eq!(read_single_option("Client", &options).messages[0].code, "option.unknown");
/// ```
pub fn read_single_option<S: AsRef<str>>(raw: &str, options: &[S]) -> Read<String> {
    let Some(s) = non_blank(raw) else {
        return Read::blank();
    };
    if let Some(option) = find(s, options) {
        return Read::value(option.to_owned());
    }
    let pieces = split_list(s);
    let matching: Vec<&str> = pieces.iter().filter_map(|p| find(p, options)).collect();
    match (pieces.len(), matching.len()) {
        (1, 1) => Read::value(matching[0].to_owned()),
        (n, m) if n > 1 && m > 0 => Read::invalid(
            Message::warning(
                code::OPTION_MULTIPLE,
                format!("“{s}” holds {n} values; this field takes one."),
                format!("Keep only one of: {}.", list_options(options)),
            )
            .value(s),
        ),
        _ => Read::invalid(unknown(s, options)),
    }
}

/// A multi-select or checkbox cell: the options it names, in order, each once. A piece
/// that names no option gets its own `option.unknown` warning and is left out; when no
/// piece names an option the cell is invalid.
///
/// ```
/// use domain::value::read_multi_option;
/// let options = ["Botox", "Filler", "Laser"];
/// let read = read_multi_option("filler; BOTOX, peel", &options);
/// assert_eq!(read.as_value().unwrap(), &["Filler", "Botox"]);
/// assert_eq!(read.messages[0].value.as_deref(), Some("peel"));
/// ```
pub fn read_multi_option<S: AsRef<str>>(raw: &str, options: &[S]) -> Read<Vec<String>> {
    let pieces = split_list(raw);
    if pieces.is_empty() {
        return Read::blank();
    }
    let mut chosen: Vec<String> = Vec::new();
    let mut messages = Vec::new();
    for piece in pieces {
        match find(piece, options) {
            Some(option) if chosen.iter().any(|c| c == option) => {}
            Some(option) => chosen.push(option.to_owned()),
            None => messages.push(unknown(piece, options)),
        }
    }
    let mut read = if chosen.is_empty() {
        Read {
            outcome: super::Outcome::Invalid,
            messages: Vec::new(),
        }
    } else {
        Read::value(chosen)
    };
    read.messages = messages;
    read
}

fn find<'o, S: AsRef<str>>(value: &str, options: &'o [S]) -> Option<&'o str> {
    let value = value.to_lowercase();
    options
        .iter()
        .map(AsRef::as_ref)
        .find(|o| o.to_lowercase() == value)
}

fn unknown<S: AsRef<str>>(value: &str, options: &[S]) -> Message {
    Message::warning(
        code::OPTION_UNKNOWN,
        format!("“{value}” is not an option of this field. Options: {}.", list_options(options)),
        "Use one of the options, map the value to an option in the mapping step, or add the option to the field.",
    )
    .value(value)
}

/// The options for a message: all of them up to 20, else the first 20 and a count.
fn list_options<S: AsRef<str>>(options: &[S]) -> String {
    const SHOWN: usize = 20;
    if options.is_empty() {
        return "none defined".into();
    }
    let mut list = options
        .iter()
        .take(SHOWN)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    if options.len() > SHOWN {
        list.push_str(&format!(" and {} more", options.len() - SHOWN));
    }
    list
}

#[cfg(test)]
mod tests;
