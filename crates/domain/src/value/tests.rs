use super::*;
use crate::message::Level;

/// A file of the repository's `testdata/` (SPEC's oracle corpora, see its README), as text:
/// the one way this crate's tests reach a corpus.
pub(crate) fn testdata(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/domain sits two folders below the repository's root");
    let full = root.join("testdata").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The records of a small RFC 4180 file without line breaks inside quotes (the testdata
/// CSVs), header included.
pub(crate) fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut fields = vec![String::new()];
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        chars.next();
                        fields.last_mut().unwrap().push('"');
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(String::new()),
                    _ => fields.last_mut().unwrap().push(c),
                }
            }
            fields
        })
        .collect()
}

#[test]
fn csv_rows_reads_quotes() {
    let rows = csv_rows("a,\"b, c\",\"d \"\"e\"\"\",\n");
    assert_eq!(rows, [["a", "b, c", "d \"e\"", ""]]);
}

#[test]
fn trim_cases() {
    let cases = [
        ("", ""),
        ("  ", ""),
        (" \t\r\n", ""),
        (" a b ", "a b"),
        ("\r\na\n\t", "a"),
        ("\u{a0}a\u{a0}", "\u{a0}a\u{a0}"),
        ("a\u{200b}", "a\u{200b}"),
        ("\u{3000}a", "\u{3000}a"),
    ];
    for (raw, trimmed) in cases {
        assert_eq!(trim(raw), trimmed, "{raw:?}");
        assert_eq!(
            non_blank(raw),
            Some(trimmed).filter(|t| !t.is_empty()),
            "{raw:?}"
        );
    }
}

#[test]
fn read_field_names_every_message() {
    let read = read_email_list("nope, also nope").field("additional_emails");
    assert_eq!(read.messages.len(), 2);
    assert!(
        read.messages
            .iter()
            .all(|m| m.field.as_deref() == Some("additional_emails"))
    );
    assert!(read.messages.iter().all(|m| m.level == Level::Warning));
    assert_eq!(read_text(" x ").map(|s| s.len()).into_value(), Some(1));
    assert!(read_text("").is_blank());
}

#[test]
fn context_from_settings() {
    let today = jiff::civil::date(2026, 3, 1);
    let ok = ReadContext::new(&LocationSettings::default(), today).unwrap();
    assert_eq!(
        (ok.country.as_str(), ok.currency.as_str(), ok.date_order),
        ("US", "USD", DateOrder::Mdy)
    );
    let bad = |f: fn(&mut LocationSettings)| {
        let mut s = LocationSettings::default();
        f(&mut s);
        ReadContext::new(&s, today).unwrap_err()
    };
    assert_eq!(
        bad(|s| s.country = "USA".into()),
        ContextError::Country("USA".into())
    );
    assert_eq!(
        bad(|s| s.country = "us".into()),
        ContextError::Country("us".into())
    );
    assert_eq!(
        bad(|s| s.currency = "usd".into()),
        ContextError::Currency("usd".into())
    );
    assert_eq!(
        bad(|s| s.timezone = "america/new_york".into()),
        ContextError::TimeZone("america/new_york".into())
    );
    assert_eq!(
        bad(|s| s.timezone = "localtime".into()),
        ContextError::TimeZone("localtime".into())
    );
}
