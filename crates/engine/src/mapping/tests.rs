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
            ColumnUse::DatePart(t, p) => format!("{}.{}", t.key, p.words()),
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
    // Two email columns: the first is the primary email, the other an additional one.
    check(
        &["Email", "E-mail Address"],
        &[],
        &["email", "additional_emails"],
    );
    // Two columns on another field: the first keeps it.
    check(&["Notes", "Comments"], &[], &["note", "?"]);
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
    // Taking an auto-mapped field for another column leaves the first one unmapped — or, for
    // an email or phone column, makes it an additional value.
    check(
        &["Email", "Work Email"],
        &["Work Email=email"],
        &["additional_emails", "email"],
    );
    check(
        &["Company", "Employer"],
        &["Employer=company_name"],
        &["?", "company_name"],
    );
    // The list fields take several chosen columns.
    check(
        &["A", "B", "Email"],
        &["A=tags", "B=tags"],
        &["tags", "tags", "email"],
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

/// The plan of a header row: `(field key or "?"/"-", why words)` per column.
fn plan_of(
    headers: &[&str],
    preset: Option<&'static crate::presets::Preset>,
    unfit: &[(usize, &str)],
) -> Vec<(String, String)> {
    let headers: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    let custom = [
        custom("patient_since", "Patient Since", FieldKind::Date),
        custom("next_appointment", "Next Appointment", FieldKind::Date),
    ];
    let proposal = plan::propose(&MappingInput {
        headers: &headers,
        standard: crate::mapping::contact_targets(),
        ignored: &vec![false; headers.len()],
        custom: &custom,
        preset,
        template: None,
        overrides: &[],
    })
    .unwrap();
    let unfit = unfit.iter().map(|(i, n)| (*i, n.to_string())).collect();
    plan::resolve(proposal, &unfit)
        .unwrap()
        .into_iter()
        .map(|p| {
            let key = keys(std::slice::from_ref(&p.used)).remove(0);
            (key, p.why.words())
        })
        .collect()
}

fn keys_of(plan: &[(String, String)]) -> Vec<&str> {
    plan.iter().map(|(k, _)| k.as_str()).collect()
}

/// SPEC §6.1's rules for several columns of one kind, as a table: headers → fields.
#[test]
fn several_email_and_phone_columns() {
    let cases: &[(&[&str], &[&str])] = &[
        // The first column that maps to Email is the primary; every other is additional.
        (
            &["Secondary Email", "Primary Email", "Work Email"],
            &["additional_emails", "email", "additional_emails"],
        ),
        (
            &["Email", "Email 2", "Email 3"],
            &["email", "additional_emails", "additional_emails"],
        ),
        // No column maps to Email: the first of the others is the primary.
        (
            &["Home Email", "Work Email"],
            &["email", "additional_emails"],
        ),
        // …unless it is headed with Additional Emails' own name: that always stays additional.
        (
            &["Additional Emails", "Work Email"],
            &["additional_emails", "email"],
        ),
        (&["Additional Emails"], &["additional_emails"]),
        // A mobile column is the primary phone, wherever it stands.
        (
            &["Phone", "Home Phone", "Mobile"],
            &["additional_phones", "additional_phones", "phone"],
        ),
        (
            &["Cell Phone", "Phone Number"],
            &["phone", "additional_phones"],
        ),
        // No mobile: the first that maps to Phone.
        (
            &["Home Phone", "Primary Phone", "Work Phone"],
            &["additional_phones", "phone", "additional_phones"],
        ),
        // Neither: the first of the others.
        (
            &["Business Phone", "Home Phone"],
            &["phone", "additional_phones"],
        ),
        (
            &["Additional Phone Numbers", "Day Phone"],
            &["additional_phones", "phone"],
        ),
        // Tags and the additional values take several columns, in column order.
        (&["Tag", "Labels", "Tags"], &["tags", "tags", "tags"]),
        // The file: every identity column is kept.
        (
            &[
                "E-mail 1 - Value",
                "EmailID",
                "Primary Phone",
                "Home Phone",
                "Business Phone",
            ],
            &[
                "?",
                "email",
                "phone",
                "additional_phones",
                "additional_phones",
            ],
        ),
    ];
    for (headers, want) in cases {
        let plan = plan_of(headers, None, &[]);
        assert_eq!(keys_of(&plan), *want, "{headers:?}");
    }
    // The reasons say what the ranking did.
    let plan = plan_of(&["Phone", "Mobile"], None, &[]);
    assert_eq!(plan[0].1, "same name; “Mobile” is the primary phone");
    assert_eq!(plan[1].1, "synonym; the mobile column is the primary phone");
}

#[test]
fn columns_whose_values_do_not_fit_are_not_auto_mapped() {
    let note = "its values (Active, Inactive) are not options of Status";
    let plan = plan_of(&["Email", "Status", "Contact Type"], None, &[(1, note)]);
    assert_eq!(keys_of(&plan), ["email", "?", "contact_type"]);
    assert_eq!(plan[1].1, note);
    // A later column may then take the field the unfit one would have had.
    let plan = plan_of(&["Birthday", "DOB"], None, &[(0, "not dates")]);
    assert_eq!(keys_of(&plan), ["?", "date_of_birth"]);
}

#[test]
fn reasons_name_where_a_mapping_comes_from() {
    let plan = plan_of(
        &[
            "first_name",
            "Surname",
            "Patient Since",
            "Favourite Colour",
            "Import Line",
        ],
        None,
        &[],
    );
    let why: Vec<&str> = plan.iter().map(|(_, w)| w.as_str()).collect();
    assert_eq!(
        why,
        [
            "same name",
            "synonym",
            "same name",
            "no field has this name",
            "a column an error log adds"
        ]
    );
    let plan = plan_of(
        &["E-mail 1 - Value", "E-mail 1 - Type", "Notes"],
        crate::presets::by_name("google"),
        &[],
    );
    assert_eq!(keys_of(&plan), ["email", "?", "note"]);
    assert_eq!(plan[0].1, "preset Google Contacts");
    assert_eq!(plan[1].1, "preset Google Contacts: no field takes it");
}

#[test]
fn templates_and_choices_come_before_names() {
    let headers: Vec<String> = ["Email", "Mobile", "Visit"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let template = vec![
        ("mobile".to_string(), None),
        ("Visit".to_string(), Some("created_at".to_string())),
        ("Gone".to_string(), Some("email".to_string())),
    ];
    let proposal = plan::propose(&MappingInput {
        headers: &headers,
        standard: crate::mapping::contact_targets(),
        ignored: &[false, false, false],
        custom: &[],
        preset: None,
        template: Some(("Weekly Vagaro", &template)),
        overrides: &[("Email".to_string(), Some("additional_emails".to_string()))],
    })
    .unwrap();
    let plans = plan::resolve(proposal, &Default::default()).unwrap();
    let lines: Vec<String> = plans.iter().map(ColumnPlan::line).collect();
    assert_eq!(
        lines,
        [
            "Email → Additional Emails (your choice)",
            "Mobile → not imported (left out by the template Weekly Vagaro)",
            "Visit → Created Date (template Weekly Vagaro)",
        ]
    );
}
