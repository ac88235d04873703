use super::*;

fn def(key: &str, t: CustomFieldType, required: bool, unique: bool) -> CustomFieldDef {
    CustomFieldDef {
        key: key.into(),
        label: key.replace('_', " "),
        field_type: t,
        options: Vec::new(),
        required,
        unique,
    }
}

fn keys(s: &ObjectSchema) -> Vec<&str> {
    s.fields.iter().map(|f| f.key.as_str()).collect()
}

#[test]
fn each_standard_object_names_its_id_primary_and_identifiers() {
    /// (schema, stored form, name, id field, primary, identifiers)
    type Case = (
        ObjectSchema,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static [&'static str],
    );
    let cases: [Case; 3] = [
        (
            ObjectSchema::contact(&[]),
            "contact",
            "Contacts",
            "contact_id",
            None,
            &["email", "phone"],
        ),
        (
            ObjectSchema::opportunity(&[]),
            "opportunity",
            "Opportunities",
            "opportunity_id",
            Some("opportunity_name"),
            &[],
        ),
        (
            ObjectSchema::company(&[]),
            "company",
            "Companies",
            "record_id",
            Some("company_name"),
            &[],
        ),
    ];
    for (s, stored, name, id, primary, identifiers) in cases {
        assert_eq!(s.object.as_stored(), stored);
        assert_eq!(s.name, name, "{stored}");
        assert_eq!(s.id_field, id, "{stored}");
        assert_eq!(s.fields[0].key, id, "{stored}: the id field comes first");
        assert_eq!(s.fields[0].kind, FieldKind::Id, "{stored}");
        assert_eq!(s.primary.as_deref(), primary, "{stored}");
        assert_eq!(s.identifiers, identifiers, "{stored}");
    }
}

#[test]
fn contact_fields_are_spec_3_in_order_then_custom_fields() {
    let s = ObjectSchema::contact(&[def("patient_since", CustomFieldType::Date, true, true)]);
    let standard: Vec<&str> = STANDARD_CONTACT_FIELDS.iter().map(|f| f.key).collect();
    assert_eq!(&keys(&s)[..standard.len()], standard.as_slice());
    let last = s.fields.last().unwrap();
    assert_eq!(last.key, "patient_since");
    assert!(last.custom);
    // SPEC §8 declares required and unique on companies and custom objects only.
    assert!(!last.required && !last.unique && !last.never_cleared);
    assert_eq!(s.label("created_at"), Some("Created Date"));
}

#[test]
fn contact_never_cleared_is_spec_6_5() {
    let s = ObjectSchema::contact(&[]);
    let got: Vec<&str> = s.never_cleared().collect();
    assert_eq!(
        got,
        [
            "email",
            "phone",
            "contact_type",
            "status",
            "dnd_sms",
            "dnd_email",
            "dnd_calls",
            "dnd_voicemail"
        ]
    );
    assert!(s.required().next().is_none());
}

#[test]
fn list_valued_fields() {
    let s = ObjectSchema::contact(&[
        def("interests", CustomFieldType::MultiSelect, false, false),
        def("aliases", CustomFieldType::TextboxList, false, false),
        def("treatment", CustomFieldType::Text, false, false),
    ]);
    let lists: Vec<&str> = s
        .fields
        .iter()
        .filter(|f| f.list)
        .map(|f| f.key.as_str())
        .collect();
    assert_eq!(
        lists,
        [
            "additional_emails",
            "additional_phones",
            "tags",
            "interests",
            "aliases"
        ]
    );
}

#[test]
fn opportunity_fields_are_spec_7() {
    let s = ObjectSchema::opportunity(&[def("deal_score", CustomFieldType::Number, true, true)]);
    assert_eq!(
        keys(&s),
        [
            "opportunity_id",
            "opportunity_name",
            "pipeline",
            "stage",
            "opportunity_status",
            "opportunity_value",
            "opportunity_owner",
            "opportunity_source",
            "deal_score"
        ]
    );
    let never: Vec<&str> = s.never_cleared().collect();
    assert_eq!(never, ["opportunity_name", "pipeline", "stage"]);
    assert_eq!(
        s.field("opportunity_status").unwrap().options,
        ["Open", "Won", "Lost", "Abandoned"]
    );
    let custom = s.field("deal_score").unwrap();
    assert!(!custom.unique && !custom.required);
}

#[test]
fn company_fields_are_spec_8_then_custom_fields() {
    let s = ObjectSchema::company(&[
        def("npi", CustomFieldType::Text, false, true),
        def("tier", CustomFieldType::Text, true, false),
        def("billing_email", CustomFieldType::Email, false, true),
    ]);
    assert_eq!(
        keys(&s),
        [
            "record_id",
            "company_name",
            "email",
            "phone",
            "website",
            "address1",
            "city",
            "state",
            "postal_code",
            "country",
            "description",
            "npi",
            "tier",
            "billing_email"
        ]
    );
    let labels: Vec<&str> = s.fields[..11].iter().map(|f| f.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Record ID",
            "Company Name",
            "Email",
            "Phone",
            "Website",
            "Address",
            "City",
            "State",
            "Postal Code",
            "Country",
            "Description"
        ]
    );
    assert_eq!(s.field("description").unwrap().kind, FieldKind::LargeText);
    assert_eq!(s.field("country").unwrap().kind, FieldKind::Country);
    // Company Name is primary: required, never cleared. A company's custom field is never
    // required (SPEC §8: required is a custom object's), but may be unique.
    let required: Vec<&str> = s.required().map(|f| f.key.as_str()).collect();
    assert_eq!(required, ["company_name"]);
    let never: Vec<&str> = s.never_cleared().collect();
    assert_eq!(never, ["company_name"]);
    assert_eq!(s.identifiers, ["npi", "billing_email"]);
    let unique: Vec<&str> = s.unique().map(|f| f.key.as_str()).collect();
    assert_eq!(unique, ["npi", "billing_email"]);
}

#[test]
fn custom_object_is_record_id_primary_then_custom_fields_in_creation_order() {
    let d = CustomObjectDef::new("Treatments", "Treatment Name", None);
    assert_eq!(d.key, "treatments");
    assert_eq!(d.primary_key, "treatment_name");
    let s = ObjectSchema::custom_object(
        &d,
        &[
            def("price", CustomFieldType::Monetary, true, false),
            def("sku", CustomFieldType::Text, false, true),
            def("area", CustomFieldType::Text, false, false),
        ],
    );
    assert_eq!(s.object, ObjectKind::Custom("treatments".into()));
    assert_eq!(s.object.as_stored(), "custom:treatments");
    assert_eq!(s.name, "Treatments");
    assert_eq!(s.id_field, "record_id");
    assert_eq!(
        keys(&s),
        ["record_id", "treatment_name", "price", "sku", "area"]
    );
    assert_eq!(s.primary.as_deref(), Some("treatment_name"));
    assert_eq!(s.label("treatment_name"), Some("Treatment Name"));
    let required: Vec<&str> = s.required().map(|f| f.key.as_str()).collect();
    assert_eq!(required, ["treatment_name", "price"]);
    let never: Vec<&str> = s.never_cleared().collect();
    assert_eq!(never, ["treatment_name", "price"]);
    assert_eq!(s.identifiers, ["sku"]);
}

#[test]
fn custom_object_key_can_be_given() {
    let d = CustomObjectDef::new("Treatment Menu", "Name", Some("menu"));
    assert_eq!((d.key.as_str(), d.primary_key.as_str()), ("menu", "name"));
    let d = CustomObjectDef::new("Treatment Menu", "Name", None);
    assert_eq!(d.key, "treatment_menu");
}

#[test]
fn unique_only_on_text_email_phone_number() {
    let cases = [
        (CustomFieldType::Text, true),
        (CustomFieldType::Email, true),
        (CustomFieldType::Phone, true),
        (CustomFieldType::Number, true),
        (CustomFieldType::LargeText, false),
        (CustomFieldType::Monetary, false),
        (CustomFieldType::Date, false),
        (CustomFieldType::SingleOption, false),
        (CustomFieldType::MultiSelect, false),
        (CustomFieldType::TextboxList, false),
    ];
    for (t, ok) in cases {
        assert_eq!(may_be_unique(t), ok, "{t}");
        // A definition that says unique on a type that cannot be is not an identifier.
        let s = ObjectSchema::company(&[def("x", t, false, true)]);
        assert_eq!(s.field("x").unwrap().unique, ok, "{t}");
        assert_eq!(s.identifiers.len(), usize::from(ok), "{t}");
    }
}

#[test]
fn carried_fields_are_what_later_lines_read() {
    assert_eq!(
        ObjectSchema::contact(&[]).carried(),
        ["first_name", "last_name", "email", "phone", "contact_type"]
    );
    let s = ObjectSchema::company(&[
        def("npi", CustomFieldType::Text, false, true),
        def("tier", CustomFieldType::Text, false, false),
    ]);
    assert_eq!(s.carried(), ["company_name", "npi"]);
}

#[test]
fn import_requirements_are_spec_8() {
    let custom = [
        def("price", CustomFieldType::Number, true, false),
        def("sku", CustomFieldType::Text, false, true),
        def("code", CustomFieldType::Text, false, true),
    ];
    let object = ObjectSchema::custom_object(
        &CustomObjectDef::new("Treatments", "Treatment Name", None),
        &custom,
    );
    let company = ObjectSchema::company(&[def("vat", CustomFieldType::Text, false, true)]);
    /// (schema, update mode, mapped keys, requirements as (label, mapped))
    type Case<'a> = (&'a ObjectSchema, bool, &'a [&'a str], &'a [(&'a str, bool)]);
    let cases: [Case; 7] = [
        (&company, false, &[], &[("Company Name", false)]),
        (
            &company,
            false,
            &["company_name"],
            &[("Company Name", true)],
        ),
        (
            &company,
            true,
            &["company_name"],
            &[("Company Name", true), ("Record ID or vat", false)],
        ),
        (
            &company,
            true,
            &["company_name", "vat"],
            &[("Company Name", true), ("Record ID or vat", true)],
        ),
        (
            &object,
            false,
            &["treatment_name"],
            &[("Treatment Name", true), ("price", false)],
        ),
        (
            &object,
            true,
            &["record_id", "price", "treatment_name"],
            &[
                ("Treatment Name", true),
                ("price", true),
                ("Record ID or sku or code", true),
            ],
        ),
        (&ObjectSchema::contact(&[]), false, &[], &[]),
    ];
    for (i, (schema, update, mapped, want)) in cases.iter().enumerate() {
        let got: Vec<(String, bool)> = schema
            .import_requirements(*update, |k| mapped.contains(&k))
            .into_iter()
            .map(|r| (r.label, r.mapped))
            .collect();
        let want: Vec<(String, bool)> = want.iter().map(|(l, m)| (l.to_string(), *m)).collect();
        assert_eq!(got, want, "case {i}");
    }
}

#[test]
fn default_dedupe_is_the_first_mapped_unique_field_in_field_order() {
    let schema = ObjectSchema::company(&[
        def("vat", CustomFieldType::Text, false, true),
        def("duns", CustomFieldType::Text, false, true),
    ]);
    let cases: [(&[&str], Option<&str>); 4] = [
        (&[], None),
        (&["company_name"], None),
        (&["duns"], Some("duns")),
        (&["duns", "vat"], Some("vat")),
    ];
    for (mapped, want) in cases {
        let got = schema
            .default_dedupe(|k| mapped.contains(&k))
            .map(|f| f.key.as_str());
        assert_eq!(got, want, "{mapped:?}");
    }
}
