//! SPEC §10's format rules as case tables: columns and labels, each cell's text, and the
//! bytes of records.

use super::*;
use domain::CustomFieldType;
use domain::ObjectKind;

fn custom(key: &str, label: &str, ty: CustomFieldType) -> CustomField {
    CustomField {
        id: 1,
        object: ObjectKind::Contact,
        key: key.into(),
        label: label.into(),
        field_type: ty,
        options: Vec::new(),
        required: false,
        unique: false,
    }
}

fn ctx() -> CellContext {
    CellContext {
        tz: jiff::tz::TimeZone::get("America/New_York").unwrap(),
        owners: [(7, "amy@example.com".to_string())].into_iter().collect(),
    }
}

#[test]
fn default_columns_are_every_standard_field_but_contact_id_in_table_order_then_custom() {
    let fields = [
        custom("patient_since", "Patient Since", CustomFieldType::Date),
        custom("ltv", "=Lifetime Value", CustomFieldType::Monetary),
    ];
    let cols = columns(None, &fields).unwrap();
    let labels: Vec<&str> = cols.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "First Name",
            "Last Name",
            "Email",
            "Phone",
            "Phone Extension",
            "Additional Emails",
            "Additional Phone Numbers",
            "Company Name",
            "Type of Contact",
            "Status",
            "Do Not Disturb",
            "DND SMS",
            "DND Email",
            "DND Calls",
            "DND Voicemail",
            "Contact Source",
            "Contact Owner",
            "Tags",
            "Note",
            "Date of Birth",
            "Created Date",
            "Address",
            "City",
            "State",
            "Postal Code",
            "Country",
            "Time Zone",
            "Website",
            "UTM Source",
            "UTM Medium",
            "UTM Campaign",
            "UTM Term",
            "UTM Content",
            "Patient Since",
            "=Lifetime Value",
        ]
    );
    // A header cell is neutralised like any other.
    let mut out = Vec::new();
    write_header(&mut out, &cols[33..]).unwrap();
    assert_eq!(out, b"Patient Since,'=Lifetime Value\r\n");
}

#[test]
fn chosen_columns_keep_their_order_and_unknown_ones_are_named() {
    let fields = [custom("ltv", "Lifetime Value", CustomFieldType::Monetary)];
    let keys = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let cols = columns(
        Some(&keys(&["ltv", "email", "contact_id", " tags "])),
        &fields,
    )
    .unwrap();
    let got: Vec<(&str, &str)> = cols
        .iter()
        .map(|c| (c.key.as_str(), c.label.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("ltv", "Lifetime Value"),
            ("email", "Email"),
            ("contact_id", "Contact ID"),
            ("tags", "Tags"),
        ]
    );
    let err = columns(Some(&keys(&["email", "colour"])), &fields).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("'colour' is not a contact field"), "{msg}");
    assert!(
        msg.contains("first_name") && msg.contains("ltv"),
        "lists the keys: {msg}"
    );
    assert_eq!(
        columns(Some(&keys(&["email", "email"])), &fields).unwrap_err(),
        ColumnError::Twice("email".into())
    );
    assert_eq!(columns(Some(&[]), &fields).unwrap_err(), ColumnError::Empty);
}

#[test]
fn planned_reads_are_shared_between_columns() {
    let keys: Vec<String> = ["dnd", "dnd_sms", "created_at", "first_name"]
        .map(String::from)
        .to_vec();
    let cols = columns(Some(&keys), &[]).unwrap();
    let (fields, positions) = plan_reads(&cols);
    assert_eq!(
        fields,
        [
            ExportField::Flag("dnd_sms"),
            ExportField::Flag("dnd_email"),
            ExportField::Flag("dnd_calls"),
            ExportField::Flag("dnd_voicemail"),
            ExportField::Text("created_at"),
            ExportField::CreatedMs,
            ExportField::Text("first_name"),
        ]
    );
    assert_eq!(
        positions,
        vec![vec![0, 1, 2, 3], vec![0], vec![4, 5], vec![6]]
    );
}

/// One cell case: the column kind, the values it reads, the text expected in the file
/// (after neutralising).
fn check(cell: Cell, reads: &[Option<&str>], want: &str) {
    let text = cell_text(&cell, reads, &ctx());
    assert_eq!(neutralise(&text), want, "{cell:?} {reads:?}");
}

#[test]
fn cells_say_what_spec_10_says() {
    let long: String = "é".repeat(300);
    let note_255: String = "é".repeat(255);
    let t = Some("true");
    let f = Some("false");
    let cases: Vec<(Cell, Vec<Option<&str>>, &str)> = vec![
        (Cell::Plain, vec![Some("Ann")], "Ann"),
        (Cell::Plain, vec![None], ""),
        // Phones are E.164, a plain "number": never prefixed.
        (Cell::Plain, vec![Some("+12015550123")], "+12015550123"),
        (Cell::Plain, vec![Some("-12.5")], "-12.5"),
        (Cell::Plain, vec![Some("1234.50")], "1234.50"),
        (Cell::Plain, vec![Some("-1,234.56")], "'-1,234.56"),
        (
            Cell::Plain,
            vec![Some("=HYPERLINK(\"x\")")],
            "'=HYPERLINK(\"x\")",
        ),
        (Cell::Plain, vec![Some("@ann")], "'@ann"),
        (Cell::Plain, vec![Some("+ call back")], "'+ call back"),
        (Cell::Plain, vec![Some("\tTab")], "'\tTab"),
        (Cell::Plain, vec![Some("'=1")], "''=1"),
        (Cell::Plain, vec![Some("'tis")], "'tis"),
        (Cell::Plain, vec![Some("VIP, Botox")], "VIP, Botox"),
        (Cell::Plain, vec![Some("2024-01-02")], "2024-01-02"),
        (Cell::Flag, vec![t], "true"),
        (Cell::Flag, vec![f], "false"),
        (Cell::Flag, vec![None], "false"),
        // Do Not Disturb: true only when every channel is.
        (Cell::DndAll, vec![t, t, t, t], "true"),
        (Cell::DndAll, vec![t, t, t, f], "false"),
        (Cell::DndAll, vec![f, f, f, f], "false"),
        (Cell::DndAll, vec![t, None, t, t], "false"),
        (Cell::Owner, vec![Some("7")], "amy@example.com"),
        (Cell::Owner, vec![Some("8")], ""),
        (Cell::Owner, vec![None], ""),
        // Created Date: the stored date, else the creation day in the location's zone
        // (2024-03-01T03:30Z is still Feb 29 in New York).
        (
            Cell::CreatedDate,
            vec![Some("2023-05-06"), Some("1709263800000")],
            "2023-05-06",
        ),
        (
            Cell::CreatedDate,
            vec![None, Some("1709263800000")],
            "2024-02-29",
        ),
        (Cell::CreatedDate, vec![None, None], ""),
        (Cell::Note, vec![Some("short")], "short"),
        (Cell::Note, vec![Some(long.as_str())], note_255.as_str()),
        (Cell::Note, vec![Some("=1+1")], "'=1+1"),
        (Cell::Note, vec![None], ""),
    ];
    for (cell, reads, want) in cases {
        check(cell, &reads, want);
    }
}

#[test]
fn notes_are_cut_at_255_characters_not_bytes() {
    assert_eq!(truncate_chars("abc", 2), "ab");
    assert_eq!(truncate_chars("abc", 3), "abc");
    assert_eq!(truncate_chars("", 3), "");
    let s = "😀".repeat(256);
    assert_eq!(truncate_chars(&s, NOTE_CHARS).chars().count(), 255);
    assert_eq!(truncate_chars(&s, NOTE_CHARS).len(), 255 * 4);
}

/// One record case: the fields, and the bytes expected.
fn check_field(value: &str, want: &str) {
    let mut out = Vec::new();
    write_field(&mut out, &neutralise(value)).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), want, "{value:?}");
}

#[test]
fn fields_are_quoted_per_rfc_4180_and_for_european_excel() {
    let cases: &[(&str, &str)] = &[
        ("Ann", "Ann"),
        ("", ""),
        ("Lee, Ann", "\"Lee, Ann\""),
        ("VIP;Botox", "\"VIP;Botox\""),
        ("a\tb", "\"a\tb\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("\"", "\"\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("cr\r\nlf", "\"cr\r\nlf\""),
        ("=1;2", "\"'=1;2\""),
        ("\tx", "\"'\tx\""),
        ("Zoë 東京", "Zoë 東京"),
    ];
    for (value, want) in cases {
        check_field(value, want);
    }
}

#[test]
fn a_row_is_its_columns_cells_with_crlf() {
    let keys: Vec<String> = ["first_name", "dnd", "tags", "note", "owner"]
        .map(String::from)
        .to_vec();
    let cols = columns(Some(&keys), &[]).unwrap();
    let (fields, positions) = plan_reads(&cols);
    let values: Vec<Option<&str>> = fields
        .iter()
        .map(|f| match f {
            ExportField::Text("first_name") => Some("=Ann"),
            ExportField::Flag(_) => Some("true"),
            ExportField::Tags => Some("VIP, Botox"),
            ExportField::LatestNote => Some("line 1\nline \"2\""),
            ExportField::Owner => Some("7"),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    write_row(
        &mut out,
        &cols,
        &positions,
        |i| values[i],
        &ctx(),
        &mut scratch,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "'=Ann,true,\"VIP, Botox\",\"line 1\nline \"\"2\"\"\",amy@example.com\r\n"
    );
}
