//! SPEC §6.1 mapping as a table: headers → the field each column feeds.

use super::*;
use domain::field::FieldKind;

fn custom(key: &str, label: &str, kind: FieldKind) -> Target {
    Target {
        key: key.into(),
        label: label.into(),
        kind,
        options: vec![],
        custom: true,
    }
}

fn keys(uses: &[ColumnUse]) -> Vec<String> {
    uses.iter()
        .map(|u| match u {
            ColumnUse::Field(t) => t.key.clone(),
            ColumnUse::Unmatched => "?".into(),
            ColumnUse::Ignored => "-".into(),
        })
        .collect()
}

fn check(headers: &[&str], overrides: &[&str], expected: &[&str]) {
    let headers: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    let ignored = vec![false; headers.len()];
    let overrides: Vec<_> = overrides
        .iter()
        .map(|o| parse_map_arg(o).unwrap())
        .collect();
    let custom = [
        custom("patient_since", "Patient Since", FieldKind::Date),
        custom("mobile", "Mobile", FieldKind::Phone),
    ];
    let uses = map_columns(&headers, &ignored, &custom, &overrides, true).unwrap();
    assert_eq!(
        keys(&uses),
        expected,
        "headers {headers:?} with {overrides:?}"
    );
}

#[test]
fn auto_mapping_order_and_synonyms() {
    check(
        &["First Name", "LAST_NAME", "e-mail", "Phone Number"],
        &[],
        &["first_name", "last_name", "email", "phone"],
    );
    check(
        &["Company", "Lead Source", "Zip", "DOB", "Tag", "Notes"],
        &[],
        &[
            "company_name",
            "source",
            "postal_code",
            "date_of_birth",
            "tags",
            "note",
        ],
    );
    // A custom field's label comes before the synonyms: "Mobile" is the custom field here.
    check(
        &["Mobile", "patient since"],
        &[],
        &["mobile", "patient_since"],
    );
    // Two columns on one field: the first keeps it.
    check(&["Email", "E-mail Address"], &[], &["email", "?"]);
    check(
        &["Type of Contact", "Contact Type"],
        &[],
        &["contact_type", "?"],
    );
    // Error-log columns are ignored by name (SPEC §9.3).
    check(
        &[
            "Email",
            "Import Line",
            "import status",
            "Error Code",
            "Import Error",
            "How to Fix",
        ],
        &[],
        &["email", "-", "-", "-", "-", "-"],
    );
    check(
        &["Email", "Favourite Colour", ""],
        &[],
        &["email", "?", "?"],
    );
}

#[test]
fn overrides_win() {
    check(
        &["Email", "Cell"],
        &["Cell=additional_phones"],
        &["email", "additional_phones"],
    );
    check(&["Email", "Phone"], &["Phone="], &["email", "-"]);
    // Taking an auto-mapped field for another column leaves the first one unmapped.
    check(
        &["Email", "Work Email"],
        &["Work Email=email"],
        &["?", "email"],
    );
    check(
        &["Email", "Colour"],
        &["colour=patient_since"],
        &["email", "patient_since"],
    );
}

#[test]
fn mapping_errors() {
    let h = |hs: &[&str]| hs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let run =
        |headers: &[&str], overrides: &[(&str, Option<&str>)], skip: bool, custom: &[Target]| {
            let headers = h(headers);
            let ov: Vec<_> = overrides
                .iter()
                .map(|(a, b)| (a.to_string(), b.map(str::to_string)))
                .collect();
            map_columns(&headers, &vec![false; headers.len()], custom, &ov, skip)
        };
    assert!(
        matches!(run(&["Email", "Colour"], &[], false, &[]), Err(MappingError::Unmatched(s)) if s == "'Colour'")
    );
    assert!(matches!(
        run(&["Colour"], &[], true, &[]),
        Err(MappingError::NothingMapped)
    ));
    assert!(matches!(
        run(&["Email"], &[("Nope", Some("email"))], true, &[]),
        Err(MappingError::UnknownColumn(..))
    ));
    assert!(matches!(
        run(&["Email"], &[("Email", Some("nope"))], true, &[]),
        Err(MappingError::UnknownField { .. })
    ));
    assert!(matches!(
        run(
            &["A", "B"],
            &[("A", Some("email")), ("B", Some("email"))],
            true,
            &[]
        ),
        Err(MappingError::FieldTwice { .. })
    ));
    let sig = [custom("consent", "Consent", FieldKind::Signature)];
    let err = run(&["Email", "Consent"], &[], true, &sig).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
    assert!(parse_map_arg("nothing").is_err());
    assert_eq!(
        parse_map_arg("A=B=c").unwrap(),
        ("A=B".to_string(), Some("c".to_string()))
    );
}
