use super::*;
use crate::value::Outcome;

/// `expected`: the stored address, "" for blank, or `Err(reason fragment)`.
fn check(raw: &str, expected: Result<&str, &str>) {
    let read = read_email(raw);
    match (&read.outcome, expected) {
        (Outcome::Value(e), Ok(want)) => {
            assert_eq!(e.as_str(), want, "{raw:?}");
            assert!(read.messages.is_empty());
        }
        (Outcome::Blank, Ok("")) => assert!(read.messages.is_empty()),
        (Outcome::Invalid, Err(why)) => {
            let m = &read.messages[0];
            assert_eq!(m.code, "email.invalid", "{raw:?}");
            assert!(m.message.contains(why), "{raw:?}: {}", m.message);
            assert_eq!(m.value.as_deref(), Some(crate::value::trim(raw)));
        }
        (got, want) => panic!("{raw:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn email_cases() {
    let long_local = format!("{}@example.com", "a".repeat(65));
    let too_long = format!(
        "{}@{}.com",
        "a".repeat(64),
        "b".repeat(63).repeat(3).chars().collect::<String>()
    );
    let cases: Vec<(&str, Result<&str, &str>)> = vec![
        ("ann@example.com", Ok("ann@example.com")),
        ("  ann@example.com \r\n", Ok("ann@example.com")),
        ("Ann.Lee@Example.COM", Ok("Ann.Lee@example.com")),
        (
            "ann+promo@mail.example.co.uk",
            Ok("ann+promo@mail.example.co.uk"),
        ),
        ("o'brien@example.ie", Ok("o'brien@example.ie")),
        ("élodie@Exemple.FR", Ok("élodie@exemple.fr")),
        ("ann@BÜCHER.de", Ok("ann@bücher.de")),
        ("\"ann lee\"@example.com", Ok("\"ann lee\"@example.com")),
        ("", Ok("")),
        (" \t", Ok("")),
        ("ann", Err("has no @")),
        ("ann@", Err("nothing comes after the @")),
        ("@example.com", Err("nothing comes before the @")),
        ("ann@example", Err("domain has no dot")),
        ("ann@localhost", Err("domain has no dot")),
        ("ann@@example.com", Err("more than one @")),
        ("ann@x@example.com", Err("more than one @")),
        ("ann lee@example.com", Err("contains a space")),
        ("ann@example..com", Err("empty part")),
        ("ann@.example.com", Err("")),
        ("Ann Lee <ann@example.com>", Err("holds a name")),
        ("ann@[192.168.0.1]", Err("")),
        ("ann@example.com.", Err("empty part")),
        ("mailto:ann@example.com", Err("")),
        // The crate allows `_` in a domain label (DNS does; host names do not): accepted.
        ("ann@exa_mple.com", Ok("ann@exa_mple.com")),
        (&long_local, Err("")),
        (&too_long, Err("longer than 254")),
    ];
    for (raw, expected) in cases {
        check(raw, expected);
    }
}

#[test]
fn match_key_is_unicode_lower_case_of_the_whole_address() {
    let cases = [
        ("Ann@Example.com", "ann@example.com"),
        ("ANN@EXAMPLE.COM", "ann@example.com"),
        ("Élodie@exemple.fr", "élodie@exemple.fr"),
        ("STRASSE@example.de", "strasse@example.de"),
        ("ΣΟΦΙΑ@example.gr", "σοφια@example.gr"),
    ];
    for (address, key) in cases {
        assert_eq!(email_match_key(address), key, "{address:?}");
    }
    let a = Email::parse("Ann@Example.com").unwrap();
    let b = Email::parse("ann@EXAMPLE.COM").unwrap();
    assert_ne!(a, b, "the local part is kept as written");
    assert_eq!(a.match_key(), b.match_key());
}

#[test]
fn email_list_cases() {
    let cases: [(&str, &str, &[&str]); 7] = [
        ("a@x.com", "a@x.com", &[]),
        ("a@x.com,b@y.org", "a@x.com|b@y.org", &[]),
        (" a@x.com ; b@Y.org ", "a@x.com|b@y.org", &[]),
        ("a@x.com, A@X.COM", "a@x.com", &[]),
        ("a@x.com, nope, b@", "a@x.com", &["nope", "b@"]),
        ("nope", "INVALID", &["nope"]),
        (" , ; ", "", &[]),
    ];
    for (raw, expected, bad) in cases {
        let read = read_email_list(raw);
        let got = match &read.outcome {
            Outcome::Blank => String::new(),
            Outcome::Invalid => "INVALID".into(),
            Outcome::Value(v) => v.iter().map(Email::as_str).collect::<Vec<_>>().join("|"),
        };
        assert_eq!(got, expected, "{raw:?}");
        let values: Vec<_> = read
            .messages
            .iter()
            .map(|m| m.value.as_deref().unwrap())
            .collect();
        assert_eq!(values, bad, "{raw:?}");
        assert!(read.messages.iter().all(|m| m.code == "email.invalid"));
    }
}
