//! SPEC §6.2–§6.5 as a table: existing contacts + lines → what each line did and what the
//! contacts hold afterwards.

use super::*;

/// An existing contact: `id`, then `key=value` pairs (`tags=a|b`).
fn existing(id: i64, pairs: &[(&str, &str)]) -> Existing {
    let mut e = Existing {
        id,
        ..Existing::default()
    };
    for (k, v) in pairs {
        match *k {
            "tags" => e.tags = v.split('|').map(str::to_string).collect(),
            _ => {
                e.values.insert(k.to_string(), v.to_string());
            }
        }
    }
    e
}

/// A line: `key=value` pairs; `key=` is a blank cell; `tags`, `note`, `dnd`, `contact_id`,
/// `emails` and `phones` are their own parts.
fn line(n: u64, pairs: &[(&str, &str)]) -> ContactInput {
    let mut input = ContactInput {
        line: n,
        ..ContactInput::default()
    };
    for (k, v) in pairs {
        match *k {
            "tags" => input.tags = v.split('|').map(str::to_string).collect(),
            "note" => input.note = Some(v.to_string()),
            "dnd" => input.dnd_all = Some(*v == "true"),
            "contact_id" => input.contact_id = Some(v.to_string()),
            "emails" => input.additional_emails = v.split('|').map(str::to_string).collect(),
            "phones" => input.additional_phones = v.split('|').map(str::to_string).collect(),
            _ => {
                input
                    .values
                    .insert(k.to_string(), (!v.is_empty()).then(|| v.to_string()));
            }
        }
    }
    let has = |k: &str| input.value(k).is_some();
    if !has("first_name") && !has("email") && !has("phone") {
        input
            .messages
            .push(Message::from_code(code::ROW_NO_IDENTIFIER));
    }
    input
}

/// Runs a plan and checks each line's `(action, codes)`; returns the plan for more checks.
fn check(
    snapshot: Vec<Existing>,
    opts: MatchOptions,
    lines: Vec<ContactInput>,
    expected: &[(Action, &[&str])],
) -> ChunkPlan {
    let plan = plan_chunk(lines, snapshot, &opts);
    assert_eq!(plan.lines.len(), expected.len());
    for (got, (action, codes)) in plan.lines.iter().zip(expected) {
        let got_codes: Vec<&str> = got.messages.iter().map(|m| m.code).collect();
        assert_eq!(
            (got.action, got_codes.as_slice()),
            (*action, *codes),
            "line {}: {:?}",
            got.line,
            got.messages
        );
        let status = if codes.is_empty() {
            LineStatus::Success
        } else if *action == Action::None {
            LineStatus::Error
        } else {
            LineStatus::Warning
        };
        assert_eq!(got.status, status, "line {}", got.line);
    }
    plan
}

fn opts(mode: Mode) -> MatchOptions {
    MatchOptions {
        mode,
        ..MatchOptions::default()
    }
}

fn contact(plan: &ChunkPlan, id: i64) -> &Planned {
    plan.contacts
        .iter()
        .find(|c| c.id == Some(id))
        .expect("contact in plan")
}

fn value<'a>(c: &'a Planned, k: &str) -> Option<&'a str> {
    c.values.get(k).map(String::as_str)
}

const JANE: &[(&str, &str)] = &[
    ("first_name", "Jane"),
    ("email", "jane@example.com"),
    ("phone", "+12015550123"),
];

#[test]
fn modes() {
    use Action::*;
    let e = || vec![existing(1, JANE)];
    // create: a match is skipped; a new row is created.
    check(
        e(),
        opts(Mode::Create),
        vec![
            line(2, &[("email", "JANE@example.com")]),
            line(3, &[("first_name", "Bob")]),
        ],
        &[(Skipped, &["match.existing_not_updated"]), (Created, &[])],
    );
    // upsert: the match is updated, the rest created.
    check(
        e(),
        opts(Mode::Upsert),
        vec![
            line(2, &[("email", "jane@example.com")]),
            line(3, &[("first_name", "Bob")]),
        ],
        &[(Updated, &[]), (Created, &[])],
    );
    // update: a row without a match is skipped.
    check(
        e(),
        opts(Mode::Update),
        vec![
            line(2, &[("phone", "+12015550123")]),
            line(3, &[("first_name", "Bob")]),
        ],
        &[(Updated, &[]), (Skipped, &["match.no_existing"])],
    );
}

#[test]
fn identifier_rules() {
    use Action::*;
    check(
        vec![],
        opts(Mode::Upsert),
        vec![
            line(2, &[("last_name", "Only")]),
            line(3, &[("first_name", "F")]),
        ],
        &[(None, &["row.no_identifier"]), (Created, &[])],
    );
    let require = MatchOptions {
        require_unique_identifier: true,
        ..opts(Mode::Upsert)
    };
    check(
        vec![existing(1, &[("first_name", "Jane")])],
        require,
        vec![line(2, &[("first_name", "F")])],
        &[(None, &["row.unique_identifier_required"])],
    );
}

#[test]
fn contact_id_decides() {
    use Action::*;
    let plan = check(
        vec![
            existing(1, JANE),
            existing(2, &[("first_name", "Bob"), ("email", "bob@example.com")]),
        ],
        opts(Mode::Update),
        vec![
            // The id wins over an email that belongs to someone else; that email is not applied.
            line(
                2,
                &[
                    ("contact_id", "1"),
                    ("email", "bob@example.com"),
                    ("first_name", "Janet"),
                ],
            ),
            line(3, &[("contact_id", "99"), ("email", "jane@example.com")]),
            line(4, &[("contact_id", "abc"), ("first_name", "X")]),
        ],
        &[
            (Updated, &["match.email_belongs_to_other"]),
            (None, &["contact.unknown_id"]),
            (None, &["contact.unknown_id"]),
        ],
    );
    let jane = contact(&plan, 1);
    assert_eq!(
        (value(jane, "first_name"), value(jane, "email")),
        (Some("Janet"), Some("jane@example.com"))
    );
}

#[test]
fn email_first_then_phone_and_conflicts() {
    use Action::*;
    let bob = existing(
        2,
        &[
            ("first_name", "Bob"),
            ("email", "bob@example.com"),
            ("phone", "+12015550199"),
        ],
    );
    let plan = check(
        vec![existing(1, JANE), bob],
        opts(Mode::Upsert),
        vec![
            // Matched by email; the phone belongs to Bob: not applied, warned.
            line(
                2,
                &[
                    ("email", "jane@example.com"),
                    ("phone", "+12015550199"),
                    ("last_name", "Doe"),
                ],
            ),
        ],
        &[(Updated, &["match.phone_belongs_to_other"])],
    );
    assert_eq!(value(contact(&plan, 1), "phone"), Some("+12015550123"));
    assert_eq!(value(contact(&plan, 1), "last_name"), Some("Doe"));
}

#[test]
fn two_people_one_phone() {
    use Action::*;
    // A row whose email matches nobody while its phone belongs to Jane, who has another email:
    // another person — created without the phone, with a warning naming Jane.
    let plan = check(
        vec![existing(1, JANE)],
        opts(Mode::Upsert),
        vec![line(
            2,
            &[
                ("first_name", "John"),
                ("email", "john@example.com"),
                ("phone", "+12015550123"),
            ],
        )],
        &[(Created, &["match.second_identifier_other_person"])],
    );
    let john = plan.contacts.iter().find(|c| c.id.is_none()).unwrap();
    assert_eq!(
        (value(john, "email"), value(john, "phone")),
        (Some("john@example.com"), Option::None)
    );
    assert!(
        plan.lines[0].messages[0].message.contains("Jane"),
        "{}",
        plan.lines[0].messages[0].message
    );
    // Accepted when the row has no email, or the contact has none.
    check(
        vec![existing(1, JANE)],
        opts(Mode::Upsert),
        vec![line(2, &[("first_name", "J"), ("phone", "+12015550123")])],
        &[(Updated, &[])],
    );
    check(
        vec![existing(
            1,
            &[("first_name", "Jane"), ("phone", "+12015550123")],
        )],
        opts(Mode::Upsert),
        vec![line(
            2,
            &[("email", "jane@example.com"), ("phone", "+12015550123")],
        )],
        &[(Updated, &[])],
    );
    // Phone first: symmetric.
    let phone_first = MatchOptions {
        match_order: MatchOrder::PhoneFirst,
        ..opts(Mode::Upsert)
    };
    check(
        vec![existing(1, JANE)],
        phone_first,
        vec![line(
            2,
            &[
                ("first_name", "J2"),
                ("email", "jane@example.com"),
                ("phone", "+12015550100"),
            ],
        )],
        &[(Created, &["match.second_identifier_other_person"])],
    );
}

#[test]
fn skip_existing_phone() {
    use Action::*;
    let o = MatchOptions {
        skip_existing_phone: true,
        ..opts(Mode::Upsert)
    };
    check(
        vec![existing(
            1,
            &[("first_name", "Jane"), ("phone", "+12015550123")],
        )],
        o.clone(),
        vec![line(2, &[("first_name", "J"), ("phone", "+12015550123")])],
        &[(Skipped, &["match.shared_phone_skipped"])],
    );
    // Matched by email: not concerned.
    check(
        vec![existing(1, JANE)],
        o.clone(),
        vec![line(2, &[("email", "jane@example.com")])],
        &[(Updated, &[])],
    );
    // A contact this import created earlier is its own: merged.
    check(
        vec![],
        o,
        vec![
            line(2, &[("first_name", "A"), ("phone", "+12015550123")]),
            line(3, &[("first_name", "B"), ("phone", "+12015550123")]),
        ],
        &[(Created, &[]), (Updated, &["match.merged_earlier_line"])],
    );
}

#[test]
fn in_file_duplicates_merge_in_every_mode() {
    use Action::*;
    for mode in [Mode::Create, Mode::Upsert] {
        let plan = check(
            vec![],
            opts(mode),
            vec![
                line(
                    2,
                    &[
                        ("first_name", "Ann"),
                        ("email", "ann@example.com"),
                        ("tags", "VIP"),
                        ("note", "first"),
                    ],
                ),
                line(
                    3,
                    &[
                        ("email", "ANN@example.com"),
                        ("last_name", "Lee"),
                        ("tags", "vip|Botox"),
                        ("note", "second"),
                    ],
                ),
            ],
            &[(Created, &[]), (Updated, &["match.merged_earlier_line"])],
        );
        assert!(plan.lines[1].messages[0].message.contains("line 2"));
        let ann = plan.contacts.iter().find(|c| c.touched).unwrap();
        assert_eq!(
            (value(ann, "first_name"), value(ann, "last_name")),
            (Some("Ann"), Some("Lee"))
        );
        assert_eq!(ann.tags, ["VIP", "Botox"], "tags union, case-insensitive");
        assert_eq!(
            ann.notes,
            [(2, "first".to_string()), (3, "second".to_string())]
        );
        assert_eq!(plan.lines[1].contact, plan.lines[0].contact);
    }
    // A contact an earlier chunk of this import touched merges too, even in create mode.
    let mut earlier = existing(5, &[("first_name", "Ann"), ("email", "ann@example.com")]);
    earlier.touched_line = Some(7);
    earlier.created_by_import = true;
    let plan = check(
        vec![earlier],
        opts(Mode::Create),
        vec![line(
            900,
            &[("email", "ann@example.com"), ("city", "Austin")],
        )],
        &[(Updated, &["match.merged_earlier_line"])],
    );
    assert!(plan.lines[0].messages[0].message.contains("line 7"));
}

#[test]
fn what_an_update_changes() {
    use Action::*;
    let jane = || {
        existing(
            1,
            &[
                ("first_name", "Jane"),
                ("email", "jane@example.com"),
                ("phone", "+12015550123"),
                ("city", "Austin"),
                ("source", "Facebook"),
                ("status", "Subscribed"),
                ("contact_type", "Patient"),
                ("dnd_sms", "true"),
                ("tags", "VIP"),
            ],
        )
    };
    let blanks = &[
        ("email", "jane@example.com"),
        ("phone", ""),
        ("city", ""),
        ("status", ""),
        ("contact_type", ""),
        ("dnd_sms", ""),
        ("source", "Google"),
    ];
    // Blanks clear, except the fields a blank never changes.
    let plan = check(
        vec![jane()],
        opts(Mode::Upsert),
        vec![line(2, blanks)],
        &[(Updated, &[])],
    );
    let c = contact(&plan, 1);
    assert_eq!(value(c, "city"), Option::None);
    assert_eq!(
        (
            value(c, "phone"),
            value(c, "status"),
            value(c, "contact_type"),
            value(c, "dnd_sms"),
            value(c, "source")
        ),
        (
            Some("+12015550123"),
            Some("Subscribed"),
            Some("Patient"),
            Some("true"),
            Some("Google")
        )
    );
    assert_eq!(
        c.before.as_ref().unwrap().get("city").map(String::as_str),
        Some("Austin"),
        "journal keeps the before"
    );
    // Don't update empty values: blanks leave everything alone.
    let keep = MatchOptions {
        no_update_empty: true,
        ..opts(Mode::Upsert)
    };
    let plan = check(vec![jane()], keep, vec![line(2, blanks)], &[(Updated, &[])]);
    assert_eq!(value(contact(&plan, 1), "city"), Some("Austin"));
    // Fill only if empty: the original source stays; a blank field is filled.
    let fill = MatchOptions {
        fill_only: ["source".to_string(), "state".to_string()].into(),
        ..opts(Mode::Upsert)
    };
    let plan = check(
        vec![jane()],
        fill,
        vec![line(
            2,
            &[
                ("email", "jane@example.com"),
                ("source", "Google"),
                ("state", "TX"),
            ],
        )],
        &[(Updated, &[])],
    );
    assert_eq!(
        (
            value(contact(&plan, 1), "source"),
            value(contact(&plan, 1), "state")
        ),
        (Some("Facebook"), Some("TX"))
    );
    // Lead never downgrades a Patient.
    let plan = check(
        vec![jane()],
        opts(Mode::Upsert),
        vec![line(
            2,
            &[("email", "jane@example.com"), ("contact_type", "Lead")],
        )],
        &[(Updated, &["contact_type.no_downgrade"])],
    );
    assert_eq!(value(contact(&plan, 1), "contact_type"), Some("Patient"));
    // Lead → Patient is fine.
    let lead = existing(1, &[("email", "l@example.com"), ("contact_type", "Lead")]);
    let plan = check(
        vec![lead],
        opts(Mode::Upsert),
        vec![line(
            2,
            &[("email", "l@example.com"), ("contact_type", "Patient")],
        )],
        &[(Updated, &[])],
    );
    assert_eq!(value(contact(&plan, 1), "contact_type"), Some("Patient"));
}

#[test]
fn dnd_all_applies_before_channels_and_lists_append() {
    use Action::*;
    let plan = check(
        vec![existing(1, JANE)],
        opts(Mode::Upsert),
        vec![line(
            2,
            &[
                ("email", "jane@example.com"),
                ("dnd", "true"),
                ("dnd_email", "false"),
                ("emails", "JANE@example.com|work@example.com"),
                ("phones", "+12015550123|+12015550111"),
            ],
        )],
        &[(Updated, &[])],
    );
    let c = contact(&plan, 1);
    let dnd: Vec<_> = DND_CHANNELS.iter().map(|k| value(c, k)).collect();
    assert_eq!(
        dnd,
        [Some("true"), Some("false"), Some("true"), Some("true")]
    );
    assert_eq!(
        c.new_emails,
        ["work@example.com"],
        "the primary is not repeated"
    );
    assert_eq!(c.new_phones, ["+12015550111"]);
    // A new contact's DND channels default to off, or all on with DND.
    let plan = check(
        vec![],
        opts(Mode::Create),
        vec![line(2, &[("first_name", "N"), ("dnd", "true")])],
        &[(Created, &[])],
    );
    assert!(
        DND_CHANNELS
            .iter()
            .all(|k| value(&plan.contacts[0], k) == Some("true"))
    );
}
