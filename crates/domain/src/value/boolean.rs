//! Yes/no cells: Do Not Disturb and the per-channel DND columns (SPEC §5.6). The words are
//! compared ignoring ASCII case; anything else is a `boolean.invalid` warning (never a guess).

use super::{Read, read_with};
use crate::message::{Message, code};

const TRUE_WORDS: [&str; 6] = ["true", "yes", "y", "1", "dnd", "on"];
const FALSE_WORDS: [&str; 5] = ["false", "no", "n", "0", "off"];

/// A yes/no cell: `true/yes/y/1/dnd/on` or `false/no/n/0/off`, any case.
///
/// ```
/// use domain::value::read_boolean;
/// assert_eq!(read_boolean("DND").into_value(), Some(true));
/// assert_eq!(read_boolean("Off").into_value(), Some(false));
/// ```
pub fn read_boolean(raw: &str) -> Read<bool> {
    read_with(raw, |s| {
        if TRUE_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) {
            Ok(true)
        } else if FALSE_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) {
            Ok(false)
        } else {
            Err(Message::warning(
                code::BOOLEAN_INVALID,
                format!("“{s}” is not a yes/no value."),
                "Use true, yes, y, 1, dnd or on to turn it on; false, no, n, 0 or off to turn it off.",
            ))
        }
    })
}

#[cfg(test)]
mod tests;
