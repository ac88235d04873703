//! Multi-value cells: tags (SPEC §5.4), textbox lists and the pieces of multi-select
//! cells (SPEC §5.12), and the additional-phones column (SPEC §5.13).
//!
//! Tags and option lists split on commas, semicolons and periods; each piece is trimmed
//! ([`super::trim`]) and empty pieces are dropped. A cell with no piece left is blank.
//! Matching tags against a location's existing tags (case-insensitively, new ones created)
//! is the engine's job; [`tag_key`] is the key it compares.

use super::Read;

/// The separators of tags and multi-value option cells (SPEC §5.4, §5.12).
pub const LIST_SEPARATORS: [char; 3] = [',', ';', '.'];

/// The separators of the additional emails / phones columns (SPEC §5.13 says comma; a
/// semicolon is accepted too, because Outlook and many exports use it and neither an email
/// address nor a phone number contains one). A period is not one: `201.555.0123`.
pub const CONTACT_LIST_SEPARATORS: [char; 2] = [',', ';'];

/// The trimmed, non-empty pieces of a tag or option-list cell, in order, duplicates kept.
///
/// ```
/// assert_eq!(domain::value::split_list(" VIP; botox. ,filler "), ["VIP", "botox", "filler"]);
/// ```
pub fn split_list(raw: &str) -> Vec<&str> {
    split_on(raw, &LIST_SEPARATORS)
}

/// The pieces of an additional-phones cell, trimmed, empty ones dropped, exact repeats
/// dropped (two spellings of one number are the same number only once parsed; the caller
/// dedupes on E.164 after `value::phone`).
///
/// ```
/// assert_eq!(
///     domain::value::split_phone_list("(201) 555-0123, +1 201.555.0124;(201) 555-0123"),
///     ["(201) 555-0123", "+1 201.555.0124"]
/// );
/// ```
pub fn split_phone_list(raw: &str) -> Vec<&str> {
    let mut pieces = split_on(raw, &CONTACT_LIST_SEPARATORS);
    let mut seen = std::collections::HashSet::new();
    pieces.retain(|p| seen.insert(*p));
    pieces
}

pub(crate) fn split_on<'a>(raw: &'a str, separators: &[char]) -> Vec<&'a str> {
    raw.split(separators)
        .map(super::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The key two tags are compared by: the Unicode lower case of the trimmed tag (SPEC §5.4
/// "matched case-insensitively").
///
/// ```
/// assert_eq!(domain::value::tag_key(" VIP Ünique "), "vip ünique");
/// ```
pub fn tag_key(tag: &str) -> String {
    super::trim(tag).to_lowercase()
}

/// Whether two spellings are one tag (their [`tag_key`]s are equal), without allocating when
/// both are ASCII.
///
/// ```
/// use domain::value::same_tag;
/// assert!(same_tag(" VIP", "vip"));
/// assert!(same_tag("Émile", "éMILE"));
/// assert!(!same_tag("VIP", "VIP2"));
/// ```
pub fn same_tag(a: &str, b: &str) -> bool {
    let (a, b) = (super::trim(a), super::trim(b));
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// A Tags cell (SPEC §5.4): its pieces, the first spelling of each tag kept when the cell
/// repeats it in another case (`VIP, vip` is one tag).
///
/// ```
/// use domain::value::read_tags;
/// assert_eq!(read_tags("VIP, vip; Botox.").into_value().unwrap(), ["VIP", "Botox"]);
/// assert!(read_tags(" , ;. ").is_blank());
/// ```
pub fn read_tags(raw: &str) -> Read<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let tags: Vec<String> = split_list(raw)
        .into_iter()
        .filter(|t| seen.insert(tag_key(t)))
        .map(str::to_owned)
        .collect();
    if tags.is_empty() {
        Read::blank()
    } else {
        Read::value(tags)
    }
}

/// A textbox-list custom field (SPEC §5.12): its pieces as written, in order.
pub fn read_textbox_list(raw: &str) -> Read<Vec<String>> {
    let items: Vec<String> = split_list(raw).into_iter().map(str::to_owned).collect();
    if items.is_empty() {
        Read::blank()
    } else {
        Read::value(items)
    }
}

#[cfg(test)]
mod tests;
