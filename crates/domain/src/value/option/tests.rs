use super::*;
use crate::field::standard_field;
use crate::value::Outcome;

/// `expected`: `Ok(value)` (values joined with `|`), `Err(codes joined with ,)`, or `Ok("")`
/// for blank.
fn check<T: std::fmt::Debug>(
    read: Read<T>,
    show: fn(&T) -> String,
    input: &str,
    expected: (&str, &str),
) {
    let value = match &read.outcome {
        Outcome::Blank => String::new(),
        Outcome::Value(v) => show(v),
        Outcome::Invalid => "INVALID".into(),
    };
    let codes = read
        .messages
        .iter()
        .map(|m| m.code)
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!((value.as_str(), codes.as_str()), expected, "{input:?}");
}

#[test]
fn single_option_cases() {
    let contact_type = standard_field("contact_type").unwrap().options;
    let status = standard_field("status").unwrap().options;
    let custom = [
        "Consultation",
        "Follow-up",
        "Dr. Smith",
        "Botox, Filler",
        "Été",
    ];
    let cases: [(&[&str], &str, (&str, &str)); 18] = [
        (contact_type, "Lead", ("Lead", "")),
        (contact_type, "lead", ("Lead", "")),
        (contact_type, " PATIENT\t", ("Patient", "")),
        (contact_type, "Patient.", ("Patient", "")),
        (contact_type, "Client", ("INVALID", "option.unknown")),
        (
            contact_type,
            "Lead, Patient",
            ("INVALID", "option.multiple"),
        ),
        (contact_type, "Lead; other", ("INVALID", "option.multiple")),
        (contact_type, "", ("", "")),
        (status, "subscribed", ("Subscribed", "")),
        (status, "UNSUBSCRIBED", ("Unsubscribed", "")),
        (status, "Unsubscribe", ("INVALID", "option.unknown")),
        (status, "yes", ("INVALID", "option.unknown")),
        (&custom, "dr. smith", ("Dr. Smith", "")),
        (&custom, "botox, filler", ("Botox, Filler", "")),
        (&custom, "ÉTÉ", ("Été", "")),
        (&custom, "Botox Consult", ("INVALID", "option.unknown")),
        (&custom, "follow up", ("INVALID", "option.unknown")),
        (&[], "anything", ("INVALID", "option.unknown")),
    ];
    for (options, input, expected) in cases {
        check(
            read_single_option(input, options),
            |v| v.clone(),
            input,
            expected,
        );
    }
}

#[test]
fn multi_option_cases() {
    let options = ["Botox", "Filler", "Laser Hair Removal"];
    let cases = [
        ("Botox", ("Botox", "")),
        ("botox, FILLER", ("Botox|Filler", "")),
        ("Filler;Botox", ("Filler|Botox", "")),
        (
            "laser hair removal. botox",
            ("Laser Hair Removal|Botox", ""),
        ),
        ("Botox, botox, BOTOX", ("Botox", "")),
        ("Botox, Peel", ("Botox", "option.unknown")),
        (
            "Peel, Facial, Filler",
            ("Filler", "option.unknown,option.unknown"),
        ),
        ("Peel", ("INVALID", "option.unknown")),
        ("Peel; Facial", ("INVALID", "option.unknown,option.unknown")),
        (" ,; ", ("", "")),
        ("", ("", "")),
    ];
    for (input, expected) in cases {
        check(
            read_multi_option(input, &options),
            |v| v.join("|"),
            input,
            expected,
        );
    }
}

#[test]
fn unknown_message_lists_the_options_and_the_piece() {
    let read = read_multi_option("Botox, Peel", &["Botox", "Filler"]);
    let m = &read.messages[0];
    assert_eq!(m.value.as_deref(), Some("Peel"));
    assert!(
        m.message.contains("“Peel”") && m.message.contains("Botox, Filler"),
        "{}",
        m.message
    );
    let many: Vec<String> = (1..=25).map(|i| format!("Option {i}")).collect();
    let read = read_single_option("nope", &many);
    assert!(
        read.messages[0].message.contains("Option 20 and 5 more"),
        "{}",
        read.messages[0].message
    );
}
