use super::*;
use crate::value::Outcome;

type Reader = fn(&str) -> Read<String>;

/// `expected`: the kept value's length in chars and its first char, or "blank"; plus the code.
fn check(reader: Reader, raw: &str, expected: Option<&str>, code: Option<&str>) {
    let read = reader(raw);
    let got = match &read.outcome {
        Outcome::Value(v) => Some(v.as_str()),
        Outcome::Blank => None,
        Outcome::Invalid => panic!("text is never invalid: {raw:?}"),
    };
    assert_eq!(got, expected, "value of {raw:?}");
    assert_eq!(
        read.messages.first().map(|m| m.code),
        code,
        "code of {raw:?}"
    );
}

#[test]
fn text_cases() {
    let x255 = "é".repeat(255);
    let x256 = format!("{x255}z");
    let with_padding = format!(" \t{x255}\r\n");
    let cases: &[(Reader, &str, Option<&str>, Option<&str>)] = &[
        (read_text, "", None, None),
        (read_text, " \t\r\n ", None, None),
        (read_text, "  Ann Lee \r\n", Some("Ann Lee"), None),
        (
            read_text,
            "line one\nline two",
            Some("line one\nline two"),
            None,
        ),
        (read_text, "\u{a0}Ann", Some("\u{a0}Ann"), None),
        (read_text, &x255, Some(&x255), None),
        (read_text, &with_padding, Some(&x255), None),
        (read_text, &x256, Some(&x255), Some("text.truncated")),
    ];
    for &(reader, raw, expected, code) in cases {
        check(reader, raw, expected, code);
    }
}

#[test]
fn large_text_and_note_keep_5000_chars() {
    let five_k = "a".repeat(5_000);
    let over = format!("{five_k}bcd");
    for reader in [read_large_text as Reader, read_note] {
        check(reader, &five_k, Some(&five_k), None);
        check(reader, &over, Some(&five_k), Some("text.truncated"));
        check(reader, "   ", None, None);
    }
    let read = read_note(&over);
    assert!(
        read.messages[0].message.contains("5003 characters"),
        "{}",
        read.messages[0].message
    );
    assert_eq!(read.messages[0].value.as_deref(), Some(over.as_str()));
}
