//! Text, large text and notes (SPEC §5.1, §5.9): kept as written (inner line breaks
//! included), trimmed at the ends; a value over the field's limit keeps its first characters
//! and gets a `text.truncated` warning. Limits count Unicode scalar values (`char`s), which
//! is what a user counts for accented letters.

use super::{Read, non_blank};
use crate::message::{Message, code};

/// Characters a text field holds (SPEC §5.1).
pub const TEXT_MAX_CHARS: usize = 255;
/// Characters a large text field holds (SPEC §5.1).
pub const LARGE_TEXT_MAX_CHARS: usize = 5_000;
/// Characters one imported note holds (SPEC §5.9).
pub const NOTE_MAX_CHARS: usize = 5_000;

/// A text field (SPEC §5.1).
///
/// ```
/// use domain::value::read_text;
/// assert_eq!(read_text("  Ann  ").into_value().as_deref(), Some("Ann"));
/// let long = read_text(&"x".repeat(300));
/// assert_eq!(long.as_value().unwrap().len(), 255);
/// assert_eq!(long.messages[0].code, "text.truncated");
/// ```
pub fn read_text(raw: &str) -> Read<String> {
    read_limited(raw, TEXT_MAX_CHARS, "text field")
}

/// A large text field (SPEC §5.1).
pub fn read_large_text(raw: &str) -> Read<String> {
    read_limited(raw, LARGE_TEXT_MAX_CHARS, "large text field")
}

/// The note column (SPEC §5.9).
pub fn read_note(raw: &str) -> Read<String> {
    read_limited(raw, NOTE_MAX_CHARS, "note")
}

fn read_limited(raw: &str, max_chars: usize, what: &str) -> Read<String> {
    let Some(s) = non_blank(raw) else {
        return Read::blank();
    };
    match s.char_indices().nth(max_chars) {
        None => Read::value(s.to_owned()),
        Some((cut, _)) => {
            let total = s.chars().count();
            Read::value(s[..cut].to_owned()).with_warning(
                Message::warning(
                    code::TEXT_TRUNCATED,
                    format!(
                        "The value has {total} characters; a {what} holds {max_chars}, so only the first {max_chars} were kept."
                    ),
                    format!("Shorten the value to at most {max_chars} characters."),
                )
                .value(s),
            )
        }
    }
}

#[cfg(test)]
mod tests;
