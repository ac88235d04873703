use super::*;

#[test]
fn every_custom_type_token_round_trips() {
    for t in CustomFieldType::ALL {
        assert_eq!(t.token().parse::<CustomFieldType>(), Ok(t));
    }
    let err = "dropdown"
        .parse::<CustomFieldType>()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("single_option") && err.contains("dropdown"),
        "{err}"
    );
}

#[test]
fn default_keys() {
    let cases = [
        ("Patient Lifetime Value", "patient_lifetime_value"),
        ("Treatment of Interest", "treatment_of_interest"),
        ("DOB", "dob"),
        ("a--b  c", "a_b_c"),
        ("Café Notes", "café_notes"),
        ("__x__", "x"),
    ];
    for (label, key) in cases {
        assert_eq!(default_field_key(label), key, "label {label:?}");
    }
}

#[test]
fn standard_keys_are_unique_and_in_spec_order() {
    let mut keys: Vec<_> = STANDARD_CONTACT_FIELDS.iter().map(|f| f.key).collect();
    assert_eq!(keys[0], "contact_id");
    assert_eq!(keys.last(), Some(&"utm_content"));
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), STANDARD_CONTACT_FIELDS.len());
}
