//! SPEC §8 as case tables: modes, Record ID, the dedupe field, unique conflicts, required and
//! primary fields, blanks, in-file merges.

use super::*;
use domain::object::{CustomFieldDef, CustomObjectDef};
use domain::{CustomFieldType, ObjectSchema};

fn def(key: &str, label: &str, t: CustomFieldType, required: bool, unique: bool) -> CustomFieldDef {
    CustomFieldDef {
        key: key.into(),
        label: label.into(),
        field_type: t,
        options: Vec::new(),
        required,
        unique,
    }
}

/// Companies with two unique fields, NPI (text) then Billing Email (email), and a Tier.
fn companies() -> ObjectSchema {
    ObjectSchema::company(&[
        def("npi", "NPI", CustomFieldType::Text, false, true),
        def(
            "billing_email",
            "Billing Email",
            CustomFieldType::Email,
            false,
            true,
        ),
        def("tier", "Tier", CustomFieldType::Text, false, false),
        def(
            "main_phone",
            "Main Phone",
            CustomFieldType::Phone,
            false,
            true,
        ),
    ])
}

fn treatments() -> ObjectSchema {
    ObjectSchema::custom_object(
        &CustomObjectDef::new("Treatments", "Treatment Name", None),
        &[
            def("price", "Price", CustomFieldType::Monetary, true, false),
            def("sku", "SKU", CustomFieldType::Text, false, true),
        ],
    )
}

fn row(line: u64, cells: &[(&str, Option<&str>)]) -> RecordInput {
    let mut input = RecordInput {
        line,
        ..RecordInput::default()
    };
    for (k, v) in cells {
        if *k == "record_id" {
            input.record_id = v.map(str::to_string);
        } else {
            input.values.insert(k.to_string(), v.map(str::to_string));
        }
    }
    input
}

fn existing(id: i64, values: &[(&str, &str)]) -> ExistingRecord {
    ExistingRecord {
        id,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ExistingRecord::default()
    }
}

fn opts(mode: Mode, dedupe: Option<&str>, unique: &[&str]) -> RecordOptions {
    RecordOptions {
        mode,
        no_update_empty: false,
        dedupe: dedupe.map(str::to_string),
        unique: unique.iter().map(|s| s.to_string()).collect(),
    }
}

fn codes(l: &LineResult) -> Vec<&'static str> {
    l.messages.iter().map(|m| m.code).collect()
}

/// What a line did: status, action, the id of the record it names (`Some(0)` for one this
/// chunk creates), its message codes.
type Outcome = (LineStatus, Action, Option<i64>, Vec<&'static str>);

fn outcome(plan: &RecordPlan, n: usize) -> Outcome {
    let l = &plan.lines[n];
    (
        l.status,
        l.action,
        l.contact.map(|i| plan.records[i].id.unwrap_or(0)),
        codes(l),
    )
}

#[test]
fn modes_against_one_existing_company() {
    use Action::{Created, Skipped, Updated};
    use LineStatus::{Success, Warning};
    let snapshot = || vec![existing(7, &[("company_name", "Glow"), ("npi", "A1")])];
    // (mode, row's NPI, expected)
    let cases: [(Mode, &str, Outcome); 6] = [
        (
            Mode::Create,
            "a1",
            (
                Warning,
                Skipped,
                Some(7),
                vec![code::RECORD_EXISTING_NOT_UPDATED],
            ),
        ),
        (Mode::Create, "B2", (Success, Created, Some(0), vec![])),
        (Mode::Upsert, "A1", (Success, Updated, Some(7), vec![])),
        (Mode::Upsert, "B2", (Success, Created, Some(0), vec![])),
        (Mode::Update, "A1", (Success, Updated, Some(7), vec![])),
        (
            Mode::Update,
            "B2",
            (Warning, Skipped, None, vec![code::RECORD_NO_EXISTING]),
        ),
    ];
    for (mode, npi, want) in cases {
        let plan = plan_records(
            vec![row(
                2,
                &[("company_name", Some("Glow Spa")), ("npi", Some(npi))],
            )],
            snapshot(),
            &companies(),
            &opts(mode, Some("npi"), &["npi"]),
        );
        assert_eq!(outcome(&plan, 0), want, "{mode:?} {npi}");
        let touched: Vec<&PlannedRecord> = plan.records.iter().filter(|r| r.touched).collect();
        match want.1 {
            Updated => {
                assert_eq!(touched.len(), 1);
                assert_eq!(touched[0].values["company_name"], "Glow Spa");
                assert_eq!(
                    touched[0].before.as_ref().unwrap()["company_name"],
                    "Glow",
                    "the journal keeps the values before"
                );
            }
            Created => assert_eq!(touched[0].id, None),
            _ => assert!(touched.is_empty()),
        }
    }
}

#[test]
fn record_id_decides_and_an_unknown_one_fails_the_row() {
    let schema = companies();
    let snapshot = vec![
        existing(7, &[("company_name", "Glow"), ("npi", "A1")]),
        existing(9, &[("company_name", "Other"), ("npi", "Z9")]),
    ];
    let plan = plan_records(
        vec![
            // Record ID wins over the dedupe field's value (Z9 is record 9's, yet the row is 7:
            // so Z9 conflicts).
            row(2, &[("record_id", Some("7")), ("npi", Some("A1"))]),
            row(3, &[("record_id", Some("8")), ("company_name", Some("X"))]),
            row(4, &[("record_id", Some("abc"))]),
            row(5, &[("record_id", Some("7")), ("npi", Some("z9"))]),
        ],
        snapshot,
        &schema,
        &opts(Mode::Upsert, Some("npi"), &["npi"]),
    );
    assert_eq!(
        outcome(&plan, 0),
        (LineStatus::Success, Action::Updated, Some(7), vec![])
    );
    for n in [1, 2] {
        assert_eq!(
            outcome(&plan, n),
            (
                LineStatus::Error,
                Action::None,
                None,
                vec![code::RECORD_UNKNOWN_ID]
            )
        );
    }
    assert_eq!(
        plan.lines[1].messages[0].field.as_deref(),
        Some("record_id")
    );
    assert_eq!(plan.lines[1].messages[0].value.as_deref(), Some("8"));
    let l = &plan.lines[3];
    assert_eq!(l.status, LineStatus::Error);
    assert_eq!(codes(l), [code::RECORD_UNIQUE_CONFLICT]);
    assert!(
        l.messages[0].message.contains("record 9"),
        "{:?}",
        l.messages
    );
}

#[test]
fn the_dedupe_field_is_the_one_chosen_and_other_unique_fields_are_checked() {
    let schema = companies();
    let snapshot = || {
        vec![
            existing(
                1,
                &[
                    ("company_name", "A"),
                    ("npi", "N1"),
                    ("billing_email", "a@x.com"),
                ],
            ),
            existing(
                2,
                &[
                    ("company_name", "B"),
                    ("npi", "N2"),
                    ("billing_email", "b@x.com"),
                ],
            ),
        ]
    };
    // Matched by NPI to 1, while its billing email is 2's: that row fails, naming field, value
    // and record 2; the next row goes on.
    let plan = plan_records(
        vec![
            row(
                2,
                &[("npi", Some("N1")), ("billing_email", Some("B@X.com"))],
            ),
            row(3, &[("npi", Some("N2")), ("tier", Some("Gold"))]),
        ],
        snapshot(),
        &schema,
        &opts(Mode::Upsert, Some("npi"), &["npi", "billing_email"]),
    );
    let l = &plan.lines[0];
    assert_eq!((l.status, l.action), (LineStatus::Error, Action::None));
    let m = &l.messages[0];
    assert_eq!(m.code, code::RECORD_UNIQUE_CONFLICT);
    assert_eq!(m.field.as_deref(), Some("billing_email"));
    assert_eq!(m.value.as_deref(), Some("B@X.com"));
    assert!(
        m.message.contains("Billing Email") && m.message.contains("record 2"),
        "{}",
        m.message
    );
    assert_eq!(
        outcome(&plan, 1),
        (LineStatus::Success, Action::Updated, Some(2), vec![])
    );
    assert!(
        !plan.records[0].touched,
        "nothing of the failed row is written"
    );

    // With Billing Email as the dedupe field, the same row is record 2 — and its NPI, record
    // 1's, conflicts instead.
    let plan = plan_records(
        vec![row(
            2,
            &[("npi", Some("N1")), ("billing_email", Some("B@X.com"))],
        )],
        snapshot(),
        &schema,
        &opts(
            Mode::Upsert,
            Some("billing_email"),
            &["npi", "billing_email"],
        ),
    );
    assert_eq!(plan.lines[0].messages[0].field.as_deref(), Some("npi"));
    assert!(plan.lines[0].messages[0].message.contains("record 1"));
}

#[test]
fn unique_values_match_case_insensitively_and_phones_on_e164() {
    let schema = companies();
    let snapshot = vec![existing(
        4,
        &[
            ("company_name", "Glow"),
            ("npi", "Straße-1"),
            ("billing_email", "Ann@Example.com"),
            ("main_phone", "+12015550123"),
        ],
    )];
    for (dedupe, value) in [
        ("npi", "STRASSE-1"),
        ("npi", "straße-1"),
        ("billing_email", "ann@EXAMPLE.COM"),
        ("main_phone", "+12015550123"),
    ] {
        let plan = plan_records(
            vec![row(2, &[(dedupe, Some(value))])],
            snapshot.clone(),
            &schema,
            &opts(Mode::Update, Some(dedupe), &[dedupe]),
        );
        // Unicode lower case, not case folding: ß and SS differ.
        let want = if value == "STRASSE-1" { None } else { Some(4) };
        assert_eq!(outcome(&plan, 0).2, want, "{dedupe} {value}");
    }
}

#[test]
fn without_a_dedupe_field_companies_match_nobody() {
    let schema = companies();
    let snapshot = vec![existing(1, &[("company_name", "Glow")])];
    let plan = plan_records(
        vec![row(2, &[("company_name", Some("Glow"))])],
        snapshot.clone(),
        &schema,
        &opts(Mode::Upsert, None, &[]),
    );
    assert_eq!(outcome(&plan, 0).1, Action::Created);
    let plan = plan_records(
        vec![row(2, &[("company_name", Some("Glow"))])],
        snapshot,
        &schema,
        &opts(Mode::Update, None, &[]),
    );
    assert_eq!(
        outcome(&plan, 0),
        (
            LineStatus::Warning,
            Action::Skipped,
            None,
            vec![code::RECORD_NO_EXISTING]
        )
    );
}

#[test]
fn a_new_record_needs_its_primary_and_required_fields() {
    let schema = treatments();
    let plan = plan_records(
        vec![
            row(
                2,
                &[("treatment_name", Some("Botox")), ("price", Some("12"))],
            ),
            row(3, &[("treatment_name", None), ("price", Some("12"))]),
            row(4, &[("treatment_name", Some("Filler")), ("price", None)]),
            row(5, &[("sku", Some("S1"))]),
        ],
        Vec::new(),
        &schema,
        &opts(Mode::Create, Some("sku"), &["sku"]),
    );
    assert_eq!(outcome(&plan, 0).1, Action::Created);
    assert_eq!(codes(&plan.lines[1]), [code::RECORD_PRIMARY_MISSING]);
    assert!(
        plan.lines[1].messages[0].message.contains("Treatment Name"),
        "{:?}",
        plan.lines[1].messages
    );
    assert_eq!(codes(&plan.lines[2]), [code::RECORD_REQUIRED_MISSING]);
    assert!(plan.lines[2].messages[0].message.contains("Price"));
    assert_eq!(
        codes(&plan.lines[3]),
        [code::RECORD_PRIMARY_MISSING, code::RECORD_REQUIRED_MISSING]
    );
    for n in 1..4 {
        assert_eq!(plan.lines[n].action, Action::None);
    }
    assert_eq!(plan.records.iter().filter(|r| r.touched).count(), 1);
}

#[test]
fn blanks_never_clear_primary_or_required_fields() {
    let schema = treatments();
    let snapshot = || {
        vec![existing(
            3,
            &[
                ("treatment_name", "Botox"),
                ("price", "12"),
                ("sku", "S1"),
                ("area", "x"),
            ],
        )]
    };
    // (don't update empty values, expected codes, what is left)
    let cases: [(bool, Vec<&str>, &[&str]); 2] = [
        (
            false,
            vec![
                code::RECORD_BLANK_NOT_CLEARED,
                code::RECORD_BLANK_NOT_CLEARED,
            ],
            &["area", "price", "sku", "treatment_name"],
        ),
        (true, vec![], &["area", "price", "sku", "treatment_name"]),
    ];
    for (no_update_empty, want_codes, left) in cases {
        let mut o = opts(Mode::Update, Some("sku"), &["sku"]);
        o.no_update_empty = no_update_empty;
        let plan = plan_records(
            vec![row(
                2,
                &[
                    ("sku", Some("S1")),
                    ("treatment_name", None),
                    ("price", None),
                ],
            )],
            snapshot(),
            &schema,
            &o,
        );
        assert_eq!(codes(&plan.lines[0]), want_codes);
        assert_eq!(plan.lines[0].action, Action::Updated);
        let keys: Vec<&str> = plan.records[0].values.keys().map(String::as_str).collect();
        assert_eq!(keys, left);
        let fields: Vec<Option<&str>> = plan.lines[0]
            .messages
            .iter()
            .map(|m| m.field.as_deref())
            .collect();
        if !no_update_empty {
            assert_eq!(fields, [Some("price"), Some("treatment_name")]);
        }
    }
    // Any other field is cleared by a blank when the option is off.
    let plan = plan_records(
        vec![row(2, &[("sku", Some("S1")), ("area", None)])],
        snapshot(),
        &treatments(),
        &opts(Mode::Update, Some("sku"), &["sku"]),
    );
    assert!(!plan.records[0].values.contains_key("area"));
}

#[test]
fn rows_of_one_file_merge_with_a_warning_naming_the_earlier_line() {
    let schema = companies();
    for mode in [Mode::Create, Mode::Upsert] {
        let plan = plan_records(
            vec![
                row(2, &[("company_name", Some("Glow")), ("npi", Some("N1"))]),
                row(3, &[("company_name", Some("Other")), ("npi", Some("N2"))]),
                row(4, &[("npi", Some("n1")), ("tier", Some("Gold"))]),
            ],
            Vec::new(),
            &schema,
            &opts(mode, Some("npi"), &["npi"]),
        );
        assert_eq!(outcome(&plan, 0).1, Action::Created);
        let l = &plan.lines[2];
        assert_eq!(
            (l.status, l.action, l.contact),
            (LineStatus::Warning, Action::Updated, plan.lines[0].contact),
            "{mode:?}"
        );
        assert_eq!(codes(l), [code::RECORD_MERGED_EARLIER_LINE]);
        assert!(
            l.messages[0].message.contains("line 2"),
            "{}",
            l.messages[0].message
        );
        let r = &plan.records[plan.lines[0].contact.unwrap()];
        assert_eq!(r.values["tier"], "Gold");
        assert_eq!(r.values["company_name"], "Glow");
        assert_eq!(l.primary.as_deref(), Some("Glow"));
    }
    // A record this import touched in an earlier chunk merges too (its line comes from the
    // snapshot).
    let mut earlier = existing(5, &[("company_name", "Glow"), ("npi", "N1")]);
    earlier.touched_line = Some(40);
    earlier.created_by_import = true;
    let plan = plan_records(
        vec![row(1002, &[("npi", Some("N1"))])],
        vec![earlier],
        &schema,
        &opts(Mode::Create, Some("npi"), &["npi"]),
    );
    assert_eq!(outcome(&plan, 0).1, Action::Updated);
    assert!(plan.lines[0].messages[0].message.contains("line 40"));
}

#[test]
fn two_new_rows_with_one_unique_value_conflict_within_the_file() {
    let schema = companies();
    // Different NPIs (the dedupe field), one billing email: the second row fails, naming the
    // record the first line creates.
    let plan = plan_records(
        vec![
            row(
                2,
                &[
                    ("company_name", Some("A")),
                    ("npi", Some("N1")),
                    ("billing_email", Some("x@y.com")),
                ],
            ),
            row(
                3,
                &[
                    ("company_name", Some("B")),
                    ("npi", Some("N2")),
                    ("billing_email", Some("X@Y.com")),
                ],
            ),
        ],
        Vec::new(),
        &schema,
        &opts(Mode::Create, Some("npi"), &["npi", "billing_email"]),
    );
    assert_eq!(outcome(&plan, 0).1, Action::Created);
    let l = &plan.lines[1];
    assert_eq!(codes(l), [code::RECORD_UNIQUE_CONFLICT]);
    assert!(
        l.messages[0].message.contains("line 2"),
        "{}",
        l.messages[0].message
    );
    assert_eq!(plan.records.len(), 1);
}

#[test]
fn an_update_moves_a_unique_value() {
    let schema = companies();
    // Record 1 gives up N1 for N3 (matched by Record ID); a later row may then take N1.
    let plan = plan_records(
        vec![
            row(2, &[("record_id", Some("1")), ("npi", Some("N3"))]),
            row(3, &[("company_name", Some("New")), ("npi", Some("N1"))]),
        ],
        vec![existing(1, &[("company_name", "Old"), ("npi", "N1")])],
        &schema,
        &opts(Mode::Upsert, Some("npi"), &["npi"]),
    );
    assert_eq!(outcome(&plan, 0).1, Action::Updated);
    assert_eq!(
        outcome(&plan, 1),
        (LineStatus::Success, Action::Created, Some(0), vec![])
    );
}

#[test]
fn from_read_keeps_the_objects_fields_only() {
    let schema = companies();
    let mut read = ContactInput {
        line: 2,
        contact_id: Some("12".into()),
        ..ContactInput::default()
    };
    read.values
        .insert("company_name".into(), Some("Glow".into()));
    read.values
        .insert("phone".into(), Some("+12015550123".into()));
    // The phone reader splits an extension off into a contact field companies lack.
    read.values
        .insert("phone_extension".into(), Some("12".into()));
    let input = RecordInput::from_read(read, &schema);
    assert_eq!(input.record_id.as_deref(), Some("12"));
    let keys: Vec<&str> = input.values.keys().map(String::as_str).collect();
    assert_eq!(keys, ["company_name", "phone"]);
}
