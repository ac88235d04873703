use super::*;

#[test]
fn codes_are_unique_and_well_formed() {
    let mut seen = std::collections::HashSet::new();
    for info in CODES {
        assert!(seen.insert(info.code), "duplicate code {}", info.code);
        let (area, problem) = info.code.split_once('.').expect("area.problem");
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        assert!(ok(area) && ok(problem), "malformed code {}", info.code);
        assert!(
            !info.message.is_empty() && !info.message.ends_with('.'),
            "{}",
            info.code
        );
        assert!(
            info.resolution.ends_with('.'),
            "{}: resolution is a sentence",
            info.code
        );
        assert!(info.spec.starts_with('§'), "{}", info.code);
    }
}

/// Every `pub const` of `message::code` has its row in CODES, and every row its constant, so
/// a code used anywhere through the constants is documented.
#[test]
fn every_code_constant_is_in_the_table() {
    let source = include_str!("../message.rs");
    let constants: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter(|l| l.contains(": &str = \""))
        .map(|l| l.split('"').nth(1).unwrap())
        .collect();
    assert_eq!(constants.len(), CODES.len(), "constants {constants:?}");
    for c in constants {
        assert!(code_info(c).is_some(), "{c} has no row in CODES");
    }
}

#[test]
fn spec_wordings() {
    let cases = [
        (
            code::ROW_NO_IDENTIFIER,
            Level::Error,
            "Row needs at least one of First Name, Email or Phone",
        ),
        (
            code::MATCH_EXISTING_NOT_UPDATED,
            Level::Warning,
            "Existing contact; not updated in Add New mode",
        ),
        (
            code::CONTACT_UNKNOWN_ID,
            Level::Error,
            "No contact of this location has this Contact ID",
        ),
        (
            code::PHONE_TOO_SHORT,
            Level::Warning,
            "The number has too few digits for its country (often a missing area code)",
        ),
    ];
    for (code, level, message) in cases {
        let m = Message::from_code(code);
        assert_eq!(
            (m.code, m.level, m.message.as_str()),
            (code, level, message)
        );
    }
    assert!(
        code_info(code::PHONE_INVALID)
            .unwrap()
            .resolution
            .contains("+12015550123")
    );
}

#[test]
#[should_panic(expected = "not in CODES")]
fn from_code_refuses_an_undocumented_code() {
    let _ = Message::from_code("made.up");
}
