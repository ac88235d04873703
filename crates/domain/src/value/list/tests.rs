use super::*;
use proptest::prelude::*;

/// `expected`: the pieces joined with `|`, or `None` for blank.
fn check(reader: fn(&str) -> Read<Vec<String>>, raw: &str, expected: Option<&str>) {
    let read = reader(raw);
    assert!(read.messages.is_empty(), "{raw:?}");
    assert_eq!(
        read.into_value().map(|v| v.join("|")).as_deref(),
        expected,
        "{raw:?}"
    );
}

#[test]
fn tag_cases() {
    let cases = [
        ("VIP", Some("VIP")),
        ("VIP,Botox", Some("VIP|Botox")),
        (" VIP ; Botox . Filler ", Some("VIP|Botox|Filler")),
        ("VIP,,;;..Botox", Some("VIP|Botox")),
        ("VIP, vip, Vip", Some("VIP")),
        ("vip, VIP", Some("vip")),
        ("Dr. Smith", Some("Dr|Smith")),
        ("send review", Some("send review")),
        ("a\tb,\tc\r\n", Some("a\tb|c")),
        ("ÉTÉ, été", Some("ÉTÉ")),
        ("", None),
        (" ,;. ", None),
    ];
    for (raw, expected) in cases {
        check(read_tags, raw, expected);
    }
}

#[test]
fn textbox_list_keeps_repeats_and_case() {
    check(read_textbox_list, "a, A, a", Some("a|A|a"));
    check(read_textbox_list, "one;two.three", Some("one|two|three"));
    check(read_textbox_list, ";", None);
}

#[test]
fn phone_list_cases() {
    let cases: [(&str, &[&str]); 5] = [
        ("+12015550123", &["+12015550123"]),
        (
            "201.555.0123, 201-555-0124",
            &["201.555.0123", "201-555-0124"],
        ),
        ("a;b, a ,, ;", &["a", "b"]),
        ("(201) 555-0123 x12", &["(201) 555-0123 x12"]),
        (" , ", &[]),
    ];
    for (raw, expected) in cases {
        assert_eq!(split_phone_list(raw), expected, "{raw:?}");
    }
}

proptest! {
    #[test]
    fn pieces_are_trimmed_non_empty_and_separator_free(raw in "[a-z ,;.\t\r\nÉ]{0,30}") {
        for piece in split_list(&raw) {
            prop_assert!(!piece.is_empty());
            prop_assert_eq!(piece, crate::value::trim(piece));
            prop_assert!(!piece.contains(LIST_SEPARATORS));
        }
    }

    #[test]
    fn tags_have_distinct_keys(raw in "[a-cA-C ,;.]{0,30}") {
        let tags = read_tags(&raw).into_value().unwrap_or_default();
        let mut keys: Vec<_> = tags.iter().map(|t| tag_key(t)).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), tags.len());
    }
}
