//! The chunk builder as tables of cases: what each line writes, what the chunk counts, and
//! which workflows each written contact enrolls in.

use std::collections::BTreeMap;

use domain::message::Message;
use engine::{LineResult, Planned};
use store::LocationId;
use store::workflows::{Trigger, Workflow, WorkflowStatus};

use super::*;

fn workflow(id: i64, trigger: Trigger) -> Workflow {
    Workflow {
        id,
        location_id: LocationId(1),
        name: format!("w{id}"),
        trigger,
        status: WorkflowStatus::Active,
        actions: Vec::new(),
        created_at: 0,
    }
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The plan of one chunk: contact 0 updated (tag VIP added), contact 1 created (a note),
/// contact 2 matched and left as it was; one line per status and action.
fn plan() -> ChunkPlan {
    let contacts = vec![
        Planned {
            id: Some(10),
            before: Some(values(&[("first_name", "Ann")])),
            values: values(&[("first_name", "Anne")]),
            new_tags: vec!["VIP".into()],
            touched: true,
            first_line: 2,
            ..Planned::default()
        },
        Planned {
            id: None,
            values: values(&[("first_name", "Bob")]),
            new_tags: vec!["Imported".into()],
            notes: vec![(3, "called twice".into())],
            new_emails: vec!["bob.work@example.com".into()],
            touched: true,
            created_by_import: true,
            first_line: 3,
            ..Planned::default()
        },
        Planned {
            id: Some(11),
            values: values(&[("first_name", "Cid")]),
            first_line: 4,
            ..Planned::default()
        },
    ];
    let line = |line, status, action, contact, messages: Vec<Message>| LineResult {
        line,
        status,
        action,
        contact,
        primary: Some(format!("line {line}")),
        messages,
    };
    ChunkPlan {
        contacts,
        lines: vec![
            line(2, LineStatus::Success, LineAction::Updated, Some(0), vec![]),
            line(
                3,
                LineStatus::Warning,
                LineAction::Created,
                Some(1),
                vec![
                    Message::warning("phone.invalid", "Too short.", "Give it whole.")
                        .field("phone"),
                ],
            ),
            line(4, LineStatus::Success, LineAction::Skipped, Some(2), vec![]),
            line(
                5,
                LineStatus::Error,
                LineAction::None,
                None,
                vec![Message::error(
                    "row.no_identifier",
                    "No identifier.",
                    "Add one.",
                )],
            ),
        ],
    }
}

fn cells() -> HashMap<u64, Vec<String>> {
    (2..=5).map(|l| (l, vec![format!("cell of {l}")])).collect()
}

/// (line, record written, messages kept, cells kept)
#[test]
fn each_line_writes_its_record_and_keeps_messages_and_cells_only_when_not_a_success() {
    let mut plan = plan();
    let built = build_chunk(&mut plan, 0, 5, &cells(), &EnrollPlan::default(), false);
    let cases: &[(u64, Option<RecordRef>, bool, bool)] = &[
        (2, Some(RecordRef::Id(10)), false, false),
        (3, Some(RecordRef::Written(1)), true, true),
        (4, Some(RecordRef::Id(11)), false, false),
        (5, None, true, true),
    ];
    assert_eq!(built.write.lines.len(), cases.len());
    for (w, &(line, record, messages, cells)) in built.write.lines.iter().zip(cases) {
        assert_eq!(w.line, line);
        assert_eq!(w.record, record, "line {line}");
        assert_eq!(w.messages.is_some(), messages, "line {line}");
        assert_eq!(w.cells.is_some(), cells, "line {line}");
        assert_eq!(w.primary.as_deref(), Some(format!("line {line}").as_str()));
    }
    let warned: Vec<LineMessage> =
        serde_json::from_str(built.write.lines[1].messages.as_deref().unwrap()).unwrap();
    assert_eq!(warned[0].code, "phone.invalid");
    assert_eq!(warned[0].field.as_deref(), Some("phone"));
    assert_eq!(
        built.write.lines[3].cells.as_deref(),
        Some(r#"["cell of 5"]"#)
    );
}

#[test]
fn only_touched_contacts_are_written_and_a_real_run_moves_their_values() {
    // (keep values, what the plan holds of contact 0's values afterwards)
    let cases: &[(bool, usize)] = &[(false, 0), (true, 1)];
    for &(keep, left) in cases {
        let mut plan = plan();
        let built = build_chunk(&mut plan, 0, 5, &cells(), &EnrollPlan::default(), keep);
        let w = &built.write.contacts;
        assert_eq!(w.len(), 2, "contact 2 was not touched");
        assert_eq!((w[0].id, w[1].id), (Some(10), None));
        assert_eq!(w[0].values, values(&[("first_name", "Anne")]));
        assert_eq!(w[0].before, Some(values(&[("first_name", "Ann")])));
        assert_eq!(w[1].notes, vec!["called twice".to_string()]);
        assert_eq!(w[1].new_emails, vec!["bob.work@example.com".to_string()]);
        assert_eq!((w[0].line, w[1].line), (2, 3));
        assert_eq!(built.write_index, HashMap::from([(0, 0), (1, 1)]));
        assert_eq!(plan.contacts[0].values.len(), left, "keep values: {keep}");
        assert_eq!(plan.contacts[0].new_tags, vec!["VIP".to_string()]);
    }
}

#[test]
fn totals_count_every_line_once_and_the_blank_lines_given() {
    let mut plan = plan();
    let built = build_chunk(&mut plan, 2, 7, &cells(), &EnrollPlan::default(), false);
    assert_eq!(built.write.checkpoint_line, 7);
    assert_eq!(
        built.write.totals,
        Totals {
            processed: 4,
            created: 1,
            updated: 1,
            skipped: 1,
            errors: 1,
            warnings: 1,
            blank: 2,
        }
    );
}

/// (enroll plan, enrollments written, workflows per written contact)
#[test]
fn enrollments_follow_tags_creation_and_the_chosen_workflow() {
    let on_tag = || {
        vec![(
            workflow(7, Trigger::TagAdded("vip".into())),
            "vip".to_string(),
        )]
    };
    let on_create = || vec![workflow(8, Trigger::ContactCreated)];
    let chosen = || Some(workflow(9, Trigger::Import));
    type Case = (EnrollPlan, Vec<(i64, Vec<usize>)>, [Vec<i64>; 2]);
    let cases: Vec<Case> = vec![
        (EnrollPlan::default(), vec![], [vec![], vec![]]),
        (
            EnrollPlan {
                on_tag: on_tag(),
                ..EnrollPlan::default()
            },
            vec![(7, vec![0])],
            [vec![7], vec![]],
        ),
        (
            EnrollPlan {
                on_create: on_create(),
                ..EnrollPlan::default()
            },
            vec![(8, vec![1])],
            [vec![], vec![8]],
        ),
        (
            EnrollPlan {
                on_tag: on_tag(),
                on_create: on_create(),
                chosen: chosen(),
            },
            vec![(7, vec![0]), (8, vec![1]), (9, vec![0, 1])],
            [vec![7, 9], vec![8, 9]],
        ),
    ];
    for (enroll, enrollments, per_contact) in cases {
        let mut plan = plan();
        let built = build_chunk(&mut plan, 0, 5, &cells(), &enroll, false);
        assert_eq!(built.write.enrollments, enrollments);
        for (i, want) in per_contact.iter().enumerate() {
            assert_eq!(built.enroll_of[&i], *want, "contact {i}");
        }
    }
}
