use super::*;
use crate::value::Outcome;

fn check(raw: &str, expected: Outcome<bool>) {
    let read = read_boolean(raw);
    assert_eq!(read.outcome, expected, "{raw:?}");
    match expected {
        Outcome::Invalid => {
            assert_eq!(read.messages.len(), 1);
            assert_eq!(read.messages[0].code, "boolean.invalid");
            assert_eq!(
                read.messages[0].value.as_deref(),
                Some(crate::value::trim(raw))
            );
        }
        _ => assert!(read.messages.is_empty(), "{raw:?}: {:?}", read.messages),
    }
}

#[test]
fn boolean_cases() {
    use Outcome::*;
    let cases = [
        ("true", Value(true)),
        ("TRUE", Value(true)),
        ("Yes", Value(true)),
        ("y", Value(true)),
        ("Y", Value(true)),
        ("1", Value(true)),
        ("dnd", Value(true)),
        ("DND", Value(true)),
        ("on", Value(true)),
        (" On\t", Value(true)),
        ("false", Value(false)),
        ("FALSE", Value(false)),
        ("no", Value(false)),
        ("N", Value(false)),
        ("0", Value(false)),
        ("off", Value(false)),
        ("OFF\r\n", Value(false)),
        ("", Blank),
        ("  ", Blank),
        ("maybe", Invalid),
        ("yes please", Invalid),
        ("2", Invalid),
        ("1.0", Invalid),
        ("t", Invalid),
        ("f", Invalid),
        ("ye s", Invalid),
        ("ı", Invalid),
    ];
    for (raw, expected) in cases {
        check(raw, expected);
    }
}
