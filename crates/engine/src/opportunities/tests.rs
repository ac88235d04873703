use super::*;

fn schema() -> ObjectSchema {
    ObjectSchema::opportunity(&[])
}

fn pipelines() -> Vec<PipelineNames> {
    vec![
        PipelineNames {
            id: 1,
            name: "Surgical Journey".into(),
            stages: vec![(10, "Consult".into()), (11, "Booked".into())],
        },
        PipelineNames {
            id: 2,
            name: "Injectables".into(),
            stages: vec![(20, "New".into())],
        },
    ]
}

fn row(line: u64, id: Option<&str>, cells: &[(&str, Option<&str>)]) -> RecordInput {
    RecordInput {
        line,
        record_id: id.map(str::to_string),
        values: cells
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect(),
        messages: Vec::new(),
    }
}

fn existing() -> ExistingOpportunity {
    ExistingOpportunity {
        id: 7,
        values: [
            (NAME, "Facelift"),
            (PIPELINE, "Surgical Journey"),
            (STAGE, "Consult"),
            (STATUS, "Open"),
            ("opportunity_value", "5000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        contact_id: Some(3),
        touched_line: None,
    }
}

fn plan(mode: Mode, no_update_empty: bool, rows: Vec<RecordInput>) -> OpportunityPlan {
    let contacts = vec![LineContact::Existing(42); rows.len()];
    plan_opportunities(
        rows,
        &contacts,
        vec![existing()],
        &pipelines(),
        &schema(),
        OpportunityOptions {
            mode,
            no_update_empty,
        },
    )
}

fn codes(l: &OpportunityLine) -> Vec<&'static str> {
    l.messages.iter().map(|m| m.code).collect()
}

type Cells = &'static [(&'static str, Option<&'static str>)];

const FULL: Cells = &[
    (NAME, Some("Botox")),
    (PIPELINE, Some("injectables")),
    (STAGE, Some("NEW")),
];

/// The modes of SPEC §7 on the opportunity part, as a table: (mode, Opportunity ID cell,
/// action, message codes).
#[test]
fn modes_decide_the_opportunity_part() {
    let cases: &[(Mode, Option<&str>, Action, &[&str])] = &[
        (Mode::Create, None, Action::Created, &[]),
        (Mode::Upsert, None, Action::Created, &[]),
        (
            Mode::Update,
            None,
            Action::Skipped,
            &[code::OPPORTUNITY_NO_EXISTING],
        ),
        (
            Mode::Create,
            Some("7"),
            Action::Skipped,
            &[code::OPPORTUNITY_EXISTING_NOT_UPDATED],
        ),
        (Mode::Upsert, Some("7"), Action::Updated, &[]),
        (Mode::Update, Some("7"), Action::Updated, &[]),
        (
            Mode::Upsert,
            Some("99"),
            Action::None,
            &[code::OPPORTUNITY_UNKNOWN_ID],
        ),
        (
            Mode::Create,
            Some("x"),
            Action::None,
            &[code::OPPORTUNITY_UNKNOWN_ID],
        ),
    ];
    for (mode, id, action, want) in cases {
        let p = plan(*mode, false, vec![row(2, *id, FULL)]);
        assert_eq!(
            (p.lines[0].action, codes(&p.lines[0]).as_slice()),
            (*action, *want),
            "{mode:?} {id:?}"
        );
    }
}

/// Pipeline and stage match by name ignoring case; unknown ones name the valid names; a new
/// opportunity needs a name, a pipeline and a stage.
#[test]
fn pipeline_and_stage_are_matched_by_name() {
    let p = plan(Mode::Create, false, vec![row(2, None, FULL)]);
    let o = &p.opportunities[p.lines[0].opportunity.unwrap()];
    assert_eq!((o.pipeline_id, o.stage_id), (2, 20));
    assert_eq!(o.values[PIPELINE], "Injectables");
    assert_eq!(o.values[STAGE], "New");
    assert_eq!(o.values[STATUS], "Open", "default status");
    assert_eq!(o.contact, LineContact::Existing(42));

    let cases: &[(Cells, &str, &str)] = &[
        (
            &[
                (NAME, Some("A")),
                (PIPELINE, Some("Laser")),
                (STAGE, Some("New")),
            ],
            code::OPPORTUNITY_UNKNOWN_PIPELINE,
            "“Surgical Journey”, “Injectables”",
        ),
        (
            &[
                (NAME, Some("A")),
                (PIPELINE, Some("Injectables")),
                (STAGE, Some("Consult")),
            ],
            code::OPPORTUNITY_UNKNOWN_STAGE,
            "its stages are: “New”",
        ),
        (
            &[
                (NAME, None),
                (PIPELINE, Some("Injectables")),
                (STAGE, Some("New")),
            ],
            code::OPPORTUNITY_REQUIRED_MISSING,
            "Opportunity Name",
        ),
        (
            &[(NAME, Some("A")), (STAGE, Some("New"))],
            code::OPPORTUNITY_REQUIRED_MISSING,
            "Pipeline",
        ),
    ];
    for (cells, want, says) in cases {
        let p = plan(Mode::Create, false, vec![row(2, None, cells)]);
        let l = &p.lines[0];
        assert_eq!(l.action, Action::None, "{cells:?}");
        assert_eq!(codes(l), vec![*want]);
        assert!(
            l.messages[0].message.contains(says),
            "{}",
            l.messages[0].message
        );
        assert!(p.opportunities.iter().all(|o| !o.touched));
    }
}

/// An update changes only what its cells give: a blank clears an ordinary field (not with
/// "don't update empty values") and never the name, pipeline, stage or status; a stage is
/// looked for in the pipeline the row ends in.
#[test]
fn an_update_changes_only_what_its_cells_give() {
    let p = plan(
        Mode::Upsert,
        false,
        vec![row(
            2,
            Some("7"),
            &[
                (NAME, None),
                (STAGE, Some("booked")),
                ("opportunity_value", None),
                (STATUS, None),
            ],
        )],
    );
    let o = &p.opportunities[p.lines[0].opportunity.unwrap()];
    assert_eq!(p.lines[0].action, Action::Updated);
    assert_eq!(o.values[NAME], "Facelift");
    assert_eq!(o.values[STAGE], "Booked");
    assert_eq!((o.pipeline_id, o.stage_id), (1, 11));
    assert!(!o.values.contains_key("opportunity_value"));
    assert_eq!(o.values[STATUS], "Open");
    assert_eq!(
        codes(&p.lines[0]),
        vec![
            code::OPPORTUNITY_BLANK_NOT_CLEARED,
            code::OPPORTUNITY_BLANK_NOT_CLEARED
        ]
    );
    assert_eq!(
        o.contact,
        LineContact::Existing(42),
        "linked to the line's contact"
    );

    let kept = plan(
        Mode::Upsert,
        true,
        vec![row(
            2,
            Some("7"),
            &[("opportunity_value", None), (NAME, None)],
        )],
    );
    let o = &kept.opportunities[kept.lines[0].opportunity.unwrap()];
    assert_eq!(o.values["opportunity_value"], "5000");
    assert!(kept.lines[0].messages.is_empty());

    // Moving to a pipeline without the current stage needs a stage of that pipeline.
    let moved = plan(
        Mode::Upsert,
        false,
        vec![row(2, Some("7"), &[(PIPELINE, Some("Injectables"))])],
    );
    assert_eq!(
        codes(&moved.lines[0]),
        vec![code::OPPORTUNITY_UNKNOWN_STAGE]
    );
    assert_eq!(moved.lines[0].action, Action::None);
}

/// A line updating an opportunity an earlier line of the import wrote updates it in every
/// mode (the earlier line's write is this import's own).
#[test]
fn a_later_line_meets_the_earlier_lines_opportunity() {
    let p = plan(
        Mode::Upsert,
        false,
        vec![
            row(2, Some("7"), &[(STAGE, Some("Booked"))]),
            row(3, Some("7"), &[("opportunity_source", Some("Ads"))]),
        ],
    );
    assert_eq!(p.lines[0].opportunity, p.lines[1].opportunity);
    let o = &p.opportunities[p.lines[1].opportunity.unwrap()];
    assert_eq!(
        (
            o.values[STAGE].as_str(),
            o.values["opportunity_source"].as_str()
        ),
        ("Booked", "Ads")
    );
    assert_eq!(o.first_line, 2);
}

fn contact_part(action: Action, messages: Vec<Message>) -> LineResult {
    LineResult {
        line: 2,
        status: if action == Action::None {
            LineStatus::Error
        } else if messages.is_empty() {
            LineStatus::Success
        } else {
            LineStatus::Warning
        },
        action,
        contact: (action != Action::None).then_some(0),
        primary: Some("Ann".into()),
        messages,
    }
}

fn opp_part(action: Action, messages: Vec<Message>) -> OpportunityLine {
    OpportunityLine {
        line: 2,
        action,
        opportunity: matches!(action, Action::Created | Action::Updated).then_some(0),
        primary: Some("Botox".into()),
        messages,
    }
}

/// SPEC §7's line results as a table: (contact part, opportunity part) → (status, action).
#[test]
fn one_line_one_result() {
    let warn = || vec![Message::from_code(code::MATCH_EXISTING_NOT_UPDATED)];
    let err = || vec![Message::from_code(code::OPPORTUNITY_UNKNOWN_PIPELINE)];
    let cases: Vec<(Option<LineResult>, OpportunityLine, LineStatus, Action)> = vec![
        (
            Some(contact_part(Action::Created, vec![])),
            opp_part(Action::Created, vec![]),
            LineStatus::Success,
            Action::Created,
        ),
        (
            Some(contact_part(Action::Updated, vec![])),
            opp_part(Action::None, err()),
            LineStatus::Warning,
            Action::Updated,
        ),
        (
            Some(contact_part(Action::Skipped, warn())),
            opp_part(Action::Created, vec![]),
            LineStatus::Warning,
            Action::Skipped,
        ),
        (
            Some(contact_part(
                Action::None,
                vec![Message::from_code(code::ROW_NO_IDENTIFIER)],
            )),
            opp_part(Action::Created, vec![]),
            LineStatus::Warning,
            Action::Created,
        ),
        (
            Some(contact_part(Action::Skipped, warn())),
            opp_part(Action::None, err()),
            LineStatus::Error,
            Action::None,
        ),
        (
            Some(contact_part(Action::Skipped, warn())),
            opp_part(
                Action::Skipped,
                vec![Message::from_code(code::OPPORTUNITY_EXISTING_NOT_UPDATED)],
            ),
            LineStatus::Error,
            Action::None,
        ),
        (
            None,
            opp_part(Action::Created, vec![]),
            LineStatus::Success,
            Action::Created,
        ),
        (
            None,
            opp_part(
                Action::Skipped,
                vec![Message::from_code(code::OPPORTUNITY_NO_EXISTING)],
            ),
            LineStatus::Warning,
            Action::Skipped,
        ),
        (
            None,
            opp_part(Action::None, err()),
            LineStatus::Error,
            Action::None,
        ),
    ];
    for (i, (c, o, status, action)) in cases.into_iter().enumerate() {
        let r = combine(c, &o);
        assert_eq!((r.status, r.action), (status, action), "case {i}");
    }
    // The opportunity's messages follow the contact's.
    let r = combine(
        Some(contact_part(Action::Updated, warn())),
        &opp_part(Action::None, err()),
    );
    assert_eq!(
        r.messages.iter().map(|m| m.code).collect::<Vec<_>>(),
        vec![
            code::MATCH_EXISTING_NOT_UPDATED,
            code::OPPORTUNITY_UNKNOWN_PIPELINE
        ]
    );
    // Without contacts, a contact found nowhere is a warning on a written opportunity.
    let mut o = opp_part(Action::Created, vec![]);
    contact_not_found(&mut o);
    let r = combine(None, &o);
    assert_eq!(r.status, LineStatus::Warning);
    assert_eq!(r.messages[0].code, code::OPPORTUNITY_CONTACT_NOT_FOUND);
}
