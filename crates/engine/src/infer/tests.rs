//! SPEC §11's rule for the type of a created field, as a table.

use super::*;
use domain::LocationSettings;

fn infer(values: &[&str]) -> Inferred {
    let ctx =
        ReadContext::new(&LocationSettings::default(), jiff::civil::date(2026, 6, 1)).unwrap();
    let mut i = Inference::default();
    for v in values {
        i.feed(v, &ctx);
    }
    i.finish()
}

fn repeat(values: &[&str], n: usize) -> Vec<&'static str> {
    values
        .iter()
        .cycle()
        .take(n)
        .map(|v| &*Box::leak(v.to_string().into_boxed_str()))
        .collect()
}

#[test]
fn a_created_field_takes_the_type_its_values_show() {
    use CustomFieldType::*;
    let long = "x".repeat(256);
    let mut mostly_dates = repeat(&["2024-01-02"], 19);
    mostly_dates.push("soon");
    let mut some_dates = repeat(&["2024-01-02"], 18);
    some_dates.extend(["soon", "later"]);
    let cases: Vec<(Vec<&str>, CustomFieldType)> = vec![
        // 95% dates (either day/month order) is a date; 90% is not.
        (mostly_dates, Date),
        (some_dates, Text),
        (vec!["20/01/1991", "01/20/1991", "Jan 2, 2024", ""], Date),
        (vec!["12", "-3.5", "1,234.56"], Number),
        (vec!["$1,200.00", "$35", "99.50 USD"], Monetary),
        (vec!["yes", "No", "TRUE", "y"], Checkbox),
        (repeat(&["Botox", "Filler", "Laser"], 50), SingleOption),
        // Under 50 rows, few values are still text.
        (repeat(&["Botox", "Filler", "Laser"], 49), Text),
        (vec!["short", long.as_str()], LargeText),
        (vec!["Ann", "Bob"], Text),
        (vec!["", "  "], Text),
    ];
    for (values, want) in cases {
        assert_eq!(infer(&values).field_type, want, "{values:?}");
    }
    let many: Vec<String> = (0..60).map(|i| format!("value {}", i % 21)).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        infer(&many).field_type,
        Text,
        "21 distinct values are no options"
    );
    let options = infer(&repeat(&["Botox", "botox", "Filler"], 60)).options;
    assert_eq!(options, ["Botox", "Filler"]);
    assert_eq!(infer(&["Yes", "no", "yes"]).options, ["Yes", "no"]);
}
