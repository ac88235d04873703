//! The §13.1 trigger and action syntax, and who a step must not message: tables of cases.

use super::*;

fn check_trigger(s: &str, expected: Result<Trigger, &str>) {
    match (parse_trigger(s), expected) {
        (Ok(t), Ok(want)) => {
            assert_eq!(t, want, "{s}");
            assert_eq!(parse_trigger(&t.to_string()), Ok(t), "{s} round-trips");
        }
        (Err(e), Err(words)) => {
            let msg = e.to_string();
            assert!(msg.contains(words), "{s}: {msg}");
            assert!(
                msg.contains("tag-added:TAG, contact-created and import"),
                "{msg}"
            );
        }
        (got, want) => panic!("{s}: got {got:?}, expected {want:?}"),
    }
}

fn check_action(s: &str, expected: Result<Action, &str>) {
    match (parse_action(s), expected) {
        (Ok(a), Ok(want)) => {
            assert_eq!(a, want, "{s}");
            assert_eq!(parse_action(&a.to_string()), Ok(a), "{s} round-trips");
        }
        (Err(e), Err(words)) => {
            let msg = e.to_string();
            assert!(msg.contains(words), "{s}: {msg}");
            assert!(msg.contains(&format!("'{s}' is not an action")), "{msg}");
            assert!(msg.contains("send-email:SUBJECT|BODY"), "{msg}");
        }
        (got, want) => panic!("{s}: got {got:?}, expected {want:?}"),
    }
}

#[test]
fn trigger_syntax() {
    check_trigger("tag-added:VIP", Ok(Trigger::TagAdded("VIP".into())));
    check_trigger(
        "tag-added: Botox Fans ",
        Ok(Trigger::TagAdded("Botox Fans".into())),
    );
    check_trigger("contact-created", Ok(Trigger::ContactCreated));
    check_trigger("import", Ok(Trigger::Import));
    check_trigger("tag-added", Err("needs a tag"));
    check_trigger("tag-added:", Err("needs a tag"));
    check_trigger("import:x", Err("'import' takes no value"));
    check_trigger("tag-removed:VIP", Err("'tag-removed' is not a trigger"));
    check_trigger("", Err("is not a trigger"));
}

#[test]
fn action_syntax() {
    check_action("add-tag:VIP", Ok(Action::AddTag("VIP".into())));
    check_action(
        "remove-tag: New Lead",
        Ok(Action::RemoveTag("New Lead".into())),
    );
    check_action(
        "send-sms:Hi! Reply STOP to opt out: thanks",
        Ok(Action::SendSms("Hi! Reply STOP to opt out: thanks".into())),
    );
    check_action(
        "send-email:Welcome|Dear patient | see you soon",
        Ok(Action::SendEmail {
            subject: "Welcome".into(),
            body: "Dear patient | see you soon".into(),
        }),
    );
    check_action(
        "move-opportunity:Botox/Booked:next_appointment",
        Ok(Action::MoveOpportunity {
            pipeline: "Botox".into(),
            stage: "Booked".into(),
            date_field: "next_appointment".into(),
        }),
    );
    check_action(
        "move-opportunity:Fillers/Follow-up 2/3 weeks:procedure_date",
        Ok(Action::MoveOpportunity {
            pipeline: "Fillers".into(),
            stage: "Follow-up 2/3 weeks".into(),
            date_field: "procedure_date".into(),
        }),
    );
    check_action("add-tag", Err("no ':'"));
    check_action("add-tag:", Err("'add-tag' needs a tag"));
    check_action("send-sms: ", Err("needs the text"));
    check_action("send-email:No body", Err("separated by '|'"));
    check_action("send-email:|Body", Err("a subject"));
    check_action("send-email:Subject|", Err("a body"));
    check_action(
        "move-opportunity:Botox:next_appointment",
        Err("separated by '/'"),
    );
    check_action(
        "move-opportunity:Botox/Booked",
        Err("PIPELINE/STAGE:DATE_FIELD"),
    );
    check_action("move-opportunity:/Booked:x", Err("a pipeline"));
    check_action(
        "move-opportunity:Botox/Booked:next-appt",
        Err("not a custom field key"),
    );
    check_action("call:+12015550123", Err("'call' is not an action"));
}

#[test]
fn who_must_not_be_messaged() {
    let reach = |f: &dyn Fn(&mut Reach)| {
        let mut r = Reach {
            email: Some("ann@example.com".into()),
            phone: Some("+12015550123".into()),
            status: Some("Subscribed".into()),
            email_verification: "valid".into(),
            ..Reach::default()
        };
        f(&mut r);
        r
    };
    use MessageChannel::{Email, Sms};
    let cases: &[(&str, MessageChannel, Reach, Option<&str>)] = &[
        ("reachable by SMS", Sms, reach(&|_| {}), None),
        ("reachable by email", Email, reach(&|_| {}), None),
        (
            "no status is not unsubscribed",
            Sms,
            reach(&|r| r.status = None),
            None,
        ),
        (
            "unsubscribed",
            Sms,
            reach(&|r| r.status = Some("Unsubscribed".into())),
            Some("unsubscribed"),
        ),
        (
            "unsubscribed, email",
            Email,
            reach(&|r| r.status = Some("Unsubscribed".into())),
            Some("unsubscribed"),
        ),
        (
            "SMS DND",
            Sms,
            reach(&|r| r.dnd_sms = true),
            Some("dnd_sms"),
        ),
        (
            "SMS DND does not stop email",
            Email,
            reach(&|r| r.dnd_sms = true),
            None,
        ),
        (
            "email DND",
            Email,
            reach(&|r| r.dnd_email = true),
            Some("dnd_email"),
        ),
        (
            "email DND does not stop SMS",
            Sms,
            reach(&|r| r.dnd_email = true),
            None,
        ),
        (
            "no phone",
            Sms,
            reach(&|r| r.phone = None),
            Some("no_phone"),
        ),
        (
            "blank phone",
            Sms,
            reach(&|r| r.phone = Some(" ".into())),
            Some("no_phone"),
        ),
        (
            "no email",
            Email,
            reach(&|r| r.email = None),
            Some("no_email"),
        ),
        (
            "invalid email",
            Email,
            reach(&|r| r.email_verification = "invalid".into()),
            Some("email_invalid"),
        ),
        (
            "unverified email is sent",
            Email,
            reach(&|r| r.email_verification = "unverified".into()),
            None,
        ),
        (
            "unsubscribed wins over DND",
            Sms,
            reach(&|r| {
                r.dnd_sms = true;
                r.status = Some("Unsubscribed".into());
            }),
            Some("unsubscribed"),
        ),
    ];
    for (what, channel, r, want) in cases {
        assert_eq!(suppression(*channel, r), *want, "{what}");
    }
}

#[test]
fn nextech_reconciliation_moves_to_consult_then_surgery_in_the_pipelines_spelling() {
    use super::templates::nextech_reconciliation;
    let stages = |s: &str| match s.to_lowercase().as_str() {
        "consult booked" => Some("CONSULT BOOKED".to_string()),
        "surgery scheduled" => Some("Surgery scheduled".to_string()),
        _ => None,
    };
    let (trigger, actions) = nextech_reconciliation("Journey", stages).unwrap();
    assert_eq!(trigger, Trigger::Import);
    assert_eq!(
        actions.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "move-opportunity:Journey/CONSULT BOOKED:next_appointment",
            "move-opportunity:Journey/Surgery scheduled:procedure_date",
        ],
        "in order, so when both dates are set the later stage wins"
    );
    for a in &actions {
        assert_eq!(
            &parse_action(&a.to_string()).unwrap(),
            a,
            "stored and read back"
        );
    }
    let missing = nextech_reconciliation("Journey", |s: &str| {
        (s == "Consult Booked").then(|| s.to_string())
    })
    .unwrap_err();
    assert!(
        missing.contains("no stage 'Surgery Scheduled'"),
        "{missing}"
    );
    let slash = nextech_reconciliation("A/B", |s: &str| Some(s.to_string())).unwrap_err();
    assert!(slash.contains("'/'"), "{slash}");
}
