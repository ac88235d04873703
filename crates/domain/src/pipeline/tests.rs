use super::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn a_pipeline_is_checked_and_trimmed() {
    type Case = (
        &'static str,
        &'static [&'static str],
        Result<(&'static str, &'static [&'static str]), &'static str>,
    );
    let cases: &[Case] = &[
        (
            " Surgical Journey ",
            &["New Lead", " Consult Booked"],
            Ok(("Surgical Journey", &["New Lead", "Consult Booked"])),
        ),
        ("Botox", &["Booked"], Ok(("Botox", &["Booked"]))),
        ("", &["A"], Err("the pipeline's name must not be blank")),
        ("   ", &["A"], Err("the pipeline's name must not be blank")),
        ("Botox", &[], Err("needs at least one stage")),
        (
            "Botox",
            &["A", " "],
            Err("a stage's name must not be blank"),
        ),
        (
            "Botox",
            &["Booked", "booked"],
            Err("the stage 'booked' is given twice ('Booked')"),
        ),
        ("Botox", &["Ä", "ä"], Err("given twice")),
        ("Bo\ttox", &["A"], Err("control character")),
    ];
    for (name, stages, want) in cases {
        let got = check_pipeline(name, &s(stages));
        match (want, &got) {
            (Ok((n, st)), Ok((gn, gst))) => {
                assert_eq!(gn, n, "{name:?}");
                assert_eq!(gst, &s(st), "{name:?}");
            }
            (Err(part), Err(msg)) => assert!(msg.contains(part), "{name:?}: {msg}"),
            _ => panic!("{name:?} {stages:?}: {got:?}, wanted {want:?}"),
        }
    }
    let long = "x".repeat(MAX_NAME_CHARS + 1);
    assert!(
        check_pipeline(&long, &s(&["A"]))
            .unwrap_err()
            .contains("longer than 100")
    );
    assert!(check_pipeline(&"x".repeat(MAX_NAME_CHARS), &s(&["A"])).is_ok());
}

#[test]
fn names_compare_ignoring_case_and_outer_spaces() {
    assert!(same_name("Surgical Journey", " surgical journey"));
    assert!(same_name("ÉTÉ", "été"));
    assert!(!same_name("Botox", "Botox 2"));
}

#[test]
fn statuses_read_their_word_or_label_in_any_case() {
    for (raw, want) in [
        ("open", Some(OpportunityStatus::Open)),
        ("Won", Some(OpportunityStatus::Won)),
        (" LOST ", Some(OpportunityStatus::Lost)),
        ("abandoned", Some(OpportunityStatus::Abandoned)),
        ("closed", None),
        ("", None),
    ] {
        assert_eq!(raw.parse::<OpportunityStatus>().ok(), want, "{raw:?}");
    }
    assert_eq!(OpportunityStatus::Abandoned.label(), "Abandoned");
    assert_eq!(OpportunityStatus::Abandoned.as_stored(), "abandoned");
}

#[test]
fn totals_are_exact() {
    assert_eq!(
        total_value(["0.10", "0.20", "", "n/a", "1500"]).map(|d| d.to_string()),
        Some("1500.30".to_string())
    );
    assert_eq!(total_value([]), Some(Decimal::ZERO));
    assert_eq!(
        total_value(["79228162514264337593543950335", "1"]),
        None,
        "overflow is no total, never a wrong one"
    );
}

#[test]
fn amounts_show_grouped_with_two_decimals() {
    for (raw, want) in [
        ("0", "0.00"),
        ("5", "5.00"),
        ("999.5", "999.50"),
        ("1000", "1,000.00"),
        ("12500.004", "12,500.00"),
        ("1234567.891", "1,234,567.89"),
        ("-2500", "-2,500.00"),
        ("-0.001", "0.00"),
    ] {
        assert_eq!(show_amount(raw.parse().unwrap()), want, "{raw}");
    }
}
