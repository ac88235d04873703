//! SPEC §5 through a row: a mapped row → the contact input, one case per rule.

use std::collections::HashMap;

use domain::LocationSettings;
use domain::value::ReadContext;

use super::*;
use crate::mapping::map_columns;

fn ctx() -> RowContext {
    let read = ReadContext::new(
        &LocationSettings::default(),
        jiff::civil::date(2026, 11, 25),
    )
    .unwrap();
    let mut value_map = HashMap::new();
    value_map.insert(
        "contact_type".to_string(),
        HashMap::from([("customer".to_string(), "Patient".to_string())]),
    );
    RowContext {
        read,
        users: vec![(7, "ann@example.com".into(), "Ann Lee".into())],
        value_map,
        tags_for_all: vec!["Spring 2026".into()],
        date_orders: HashMap::new(),
        workbook: None,
        defaults: Vec::new(),
        promotable: (0..10).collect(),
    }
}

fn read(headers: &[&str], cells: &[&str]) -> ContactInput {
    let headers: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    let uses = map_columns(&headers, &vec![false; headers.len()], &[], &[], true).unwrap();
    let cells: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
    read_row(2, &cells, &uses, &ctx())
}

fn codes(i: &ContactInput) -> Vec<&'static str> {
    i.messages.iter().map(|m| m.code).collect()
}

#[test]
fn one_bad_cell_costs_that_field_not_the_row() {
    let i = read(
        &["First Name", "Email", "Phone", "Date of Birth"],
        &["Ann", "not-an-email", "(201) 555-0123 x12", "02/30/2024"],
    );
    assert_eq!(i.value("first_name"), Some("Ann"));
    assert_eq!(
        i.values.get("email"),
        None,
        "an invalid cell is absent, not blank"
    );
    assert_eq!(
        (i.value("phone"), i.value("phone_extension")),
        (Some("+12015550123"), Some("12"))
    );
    assert_eq!(codes(&i), ["email.invalid", "date.impossible"]);
    assert!(!i.has_error());
    assert_eq!(i.messages[0].field.as_deref(), Some("email"));
}

#[test]
fn the_rows_country_decides_its_phones_region() {
    let i = read(
        &["First Name", "Phone", "Country"],
        &["Ann", "020 7946 0958", "GB"],
    );
    assert_eq!(i.value("phone"), Some("+442079460958"));
    assert_eq!(i.value("country"), Some("GB"));
    // A refused country leaves the location's default (US).
    let i = read(
        &["First Name", "Phone", "Country"],
        &["Ann", "201-555-0123", "USA"],
    );
    assert_eq!(
        (i.value("phone"), i.values.get("country")),
        (Some("+12015550123"), None)
    );
    assert_eq!(codes(&i), ["country.not_exact"]);
}

#[test]
fn blanks_owner_dnd_tags_and_values() {
    let i = read(
        &[
            "First Name",
            "City",
            "Contact Owner",
            "DND",
            "DND Email",
            "Tags",
            "Type",
            "Notes",
        ],
        &[
            "Ann",
            "  ",
            "ann lee",
            "yes",
            "no",
            "vip, Botox. vip",
            "customer",
            "'=HYPERLINK(x)",
        ],
    );
    assert_eq!(
        i.values.get("city"),
        Some(&None),
        "a blank cell is a blank, not a missing field"
    );
    assert_eq!(i.value("owner"), Some("7"));
    assert_eq!(
        (i.dnd_all, i.value("dnd_email")),
        (Some(true), Some("false"))
    );
    assert_eq!(i.tags, ["vip", "Botox", "Spring 2026"]);
    assert_eq!(i.value("contact_type"), Some("Patient"), "--map-value");
    assert_eq!(
        i.note.as_deref(),
        Some("=HYPERLINK(x)"),
        "the export's formula guard is removed on import"
    );
    let unknown = read(&["First Name", "Owner"], &["Ann", "Nobody"]);
    assert_eq!(codes(&unknown), ["owner.unknown"]);
}

#[test]
fn a_row_needs_first_name_email_or_phone() {
    let i = read(&["Last Name", "Email", "Phone"], &["Lee", "bad@", "12"]);
    assert!(i.has_error());
    assert_eq!(codes(&i).last(), Some(&"row.no_identifier"));
    assert_eq!(i.primary().as_deref(), Some("Lee"));
    assert_eq!(
        read(&["Email"], &["A@Example.COM"]).value("email"),
        Some("A@example.com")
    );
}

#[test]
fn several_columns_feed_the_list_fields_in_column_order() {
    let i = read(
        &[
            "Email",
            "Work Email",
            "Home Email",
            "Phone",
            "Home Phone",
            "Tag",
            "Labels",
        ],
        &[
            "a@example.com",
            "b@example.com, c@example.com",
            "B@example.com",
            "(201) 555-0123",
            "(201) 555-0124",
            "vip",
            "VIP; spring",
        ],
    );
    assert_eq!(i.value("email"), Some("a@example.com"));
    assert_eq!(
        i.additional_emails,
        ["b@example.com", "c@example.com", "B@example.com"]
    );
    assert_eq!(i.additional_phones, ["+12015550124"]);
    assert_eq!(i.tags, ["vip", "spring", "Spring 2026"]);
}

fn read_with(uses: &[ColumnUse], cells: &[&str], ctx: &RowContext) -> ContactInput {
    let cells: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
    read_row(2, &cells, uses, ctx)
}

#[test]
fn a_date_in_three_columns_is_one_date() {
    let dob = Target::standard(domain::field::standard_field("date_of_birth").unwrap());
    let first = Target::standard(domain::field::standard_field("first_name").unwrap());
    let uses = [
        ColumnUse::Field(first),
        ColumnUse::DatePart(dob.clone(), DatePart::Year),
        ColumnUse::DatePart(dob.clone(), DatePart::Month),
        ColumnUse::DatePart(dob, DatePart::Day),
    ];
    let ctx = ctx();
    let i = read_with(&uses, &["Liam", "1990", "7", "15"], &ctx);
    assert_eq!(i.value("date_of_birth"), Some("1990-07-15"));
    let i = read_with(&uses, &["Liam", "", "", ""], &ctx);
    assert_eq!(
        i.values.get("date_of_birth"),
        Some(&None),
        "all blank: a blank date"
    );
    for bad in [
        ["1990", "2", "30"],
        ["1990", "", "15"],
        ["90", "July", "15"],
    ] {
        let i = read_with(&uses, &["Liam", bad[0], bad[1], bad[2]], &ctx);
        assert_eq!(i.values.get("date_of_birth"), None, "{bad:?}");
        assert_eq!(i.messages.len(), 1, "{bad:?}");
        assert!(i.messages[0].code.starts_with("date."), "{bad:?}");
    }
}

#[test]
fn a_column_reads_dates_in_its_own_order_and_workbook_numbers_as_serials() {
    let mut ctx = ctx();
    let i = read(&["Email", "Birthday"], &["a@example.com", "09/07/2014"]);
    assert_eq!(
        i.value("date_of_birth"),
        Some("2014-09-07"),
        "the location's order"
    );
    ctx.date_orders.insert(1, DateOrder::Dmy);
    let headers = ["Email".to_string(), "Birthday".to_string()];
    let uses = map_columns(&headers, &[false, false], &[], &[], true).unwrap();
    let i = read_with(&uses, &["a@example.com", "09/07/2014"], &ctx);
    assert_eq!(
        i.value("date_of_birth"),
        Some("2014-07-09"),
        "the column's order"
    );
    // A number in a workbook's date column is a serial date, with or without a date format.
    let i = read_with(&uses, &["a@example.com", "29220"], &ctx);
    assert_eq!(i.values.get("date_of_birth"), None, "not in a CSV");
    ctx.workbook = Some(false);
    let i = read_with(&uses, &["a@example.com", "29220"], &ctx);
    assert_eq!(i.value("date_of_birth"), Some("1979-12-31"));
}

#[test]
fn defaults_fill_what_the_file_does_not_give() {
    let mut ctx = ctx();
    ctx.defaults = vec![("contact_type".into(), "Patient".into())];
    let headers = ["Email".to_string(), "Type".to_string()];
    let uses = map_columns(&headers, &[false, false], &[], &[], true).unwrap();
    let i = read_with(&uses, &["a@example.com", ""], &ctx);
    assert_eq!(i.value("contact_type"), Some("Patient"));
    let i = read_with(&uses, &["a@example.com", "Lead"], &ctx);
    assert_eq!(
        i.value("contact_type"),
        Some("Lead"),
        "the file's own value stays"
    );
    let only_email = map_columns(&headers[..1], &[false], &[], &[], true).unwrap();
    let i = read_with(&only_email, &["a@example.com"], &ctx);
    assert_eq!(i.value("contact_type"), Some("Patient"));
}

#[test]
fn a_blank_primary_cell_takes_the_first_additional_value() {
    let i = read(
        &[
            "First Name",
            "Mobile",
            "Home Phone",
            "Work Phone",
            "Email",
            "Work Email",
        ],
        &[
            "Ann",
            "",
            "(201) 555-0100",
            "(201) 555-0101",
            "",
            "ann@work.example",
        ],
    );
    assert_eq!(i.value("phone"), Some("+12015550100"));
    assert_eq!(i.additional_phones, ["+12015550101"]);
    assert_eq!(i.value("email"), Some("ann@work.example"));
    assert!(i.additional_emails.is_empty());
    assert_eq!(i.promoted, ["email", "phone"]);
    let i = read(
        &["Mobile", "Home Phone"],
        &["(201) 555-0102", "(201) 555-0100"],
    );
    assert!(i.promoted.is_empty());
    assert_eq!(i.value("phone"), Some("+12015550102"));
}

/// The columns whose values repeat, each read through the cache: a standard field of every
/// kind it keeps, and a multi-select custom field.
fn repeating_columns() -> Vec<ColumnUse> {
    let standard = |key| {
        ColumnUse::Field(Target::standard(
            domain::field::standard_field(key).unwrap(),
        ))
    };
    vec![
        standard("first_name"),
        standard("country"),
        standard("timezone"),
        standard("contact_type"),
        standard("status"),
        standard("owner"),
        standard("tags"),
        standard("date_of_birth"),
        standard("phone"),
        ColumnUse::Field(Target {
            key: "treatment_of_interest".into(),
            label: "Treatment of Interest".into(),
            kind: FieldKind::MultiSelect,
            options: vec!["Botox".into(), "Filler".into(), "Laser Hair Removal".into()],
            custom: true,
        }),
    ]
}

/// Every cell of a corpus CSV file under `testdata/`.
fn corpus_cells(file: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/engine sits two folders below the repository's root")
        .join("testdata")
        .join(file);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// Cells for the repeating columns: the country, time zone and date corpora, the generator's
/// spellings, and what an option, owner or tag column holds, good and bad.
fn corpus() -> Vec<String> {
    let mut cells = corpus_cells("iso3166/country_cases.csv");
    cells.extend(corpus_cells("iana-tz/tz_cases.csv"));
    for f in ["test188.csv", "test190.csv"] {
        cells.extend(corpus_cells(&format!("w3c-csvw-datatypes/tests/{f}")));
    }
    cells.extend(
        [
            "",
            " ",
            "USA",
            "US",
            "United States",
            "U.S.",
            "Lead",
            "patient",
            "Customer",
            "Lead, Patient",
            "Subscribed",
            "subscribed",
            "Unsubscribed",
            "ann@example.com",
            "Ann Lee",
            "ANN LEE",
            "bob",
            "VIP",
            "VIP, botox",
            "filler; VIP, vip",
            "send review",
            "Botox",
            "botox, Laser Hair Removal",
            "peel",
            "07/14/2016",
            "13/01/2020",
            "02/30/2024",
            "1985-03-07",
            "=SUM(A1)",
            "'=1+2",
            "(201) 555-0123",
            "+1 212 555 0199",
            "917570",
            "Ann",
        ]
        .map(String::from),
    );
    cells
}

proptest::proptest! {
    /// What a row reads as through the cache — a roomy one and one so small that most values
    /// pass it by — is what it reads as afresh, row after row of corpus cells.
    #[test]
    fn cached_reads_are_the_uncached_reads(
        picks in proptest::collection::vec(proptest::collection::vec(0usize..10_000, 10), 1..60),
    ) {
        let cells = corpus();
        let uses = repeating_columns();
        let ctx = ctx();
        let mut roomy = RowCache::new();
        let mut small = RowCache::with_bounds(3, 2_000);
        for (n, pick) in picks.iter().enumerate() {
            let row: Vec<String> = pick.iter().map(|i| cells[i % cells.len()].clone()).collect();
            let line = n as u64 + 2;
            let fresh = read_row(line, &row, &uses, &ctx);
            proptest::prop_assert_eq!(&read_row_with(line, &row, &uses, &ctx, &mut roomy), &fresh);
            proptest::prop_assert_eq!(&read_row_with(line, &row, &uses, &ctx, &mut small), &fresh);
        }
    }
}

/// Every corpus cell in every repeating column, twice through one cache (the second time from
/// it), reads as it does afresh.
#[test]
fn every_corpus_cell_reads_the_same_from_the_cache() {
    let uses = repeating_columns();
    let ctx = ctx();
    let mut cache = RowCache::new();
    for round in 0..2 {
        for cell in corpus() {
            let row = vec![cell; uses.len()];
            assert_eq!(
                read_row_with(2, &row, &uses, &ctx, &mut cache),
                read_row(2, &row, &uses, &ctx),
                "{:?}, round {round}",
                row[0]
            );
        }
    }
    assert!(cache.size().0 > 0, "the second round read from the cache");
}

/// However many distinct values a column holds, the cache keeps at most its bounds: entries
/// per column, about its bytes per column, and no cell longer than the longest it keeps.
#[test]
fn the_cache_stays_bounded() {
    let uses = repeating_columns();
    let ctx = ctx();
    let repeating = uses
        .iter()
        .filter(|u| matches!(u, ColumnUse::Field(t) if repeats(t.kind)))
        .count();
    let mut cache = RowCache::new();
    for i in 0..3 * RowCache::ENTRIES {
        // Distinct in every column, half of them with a message (the heavier entries).
        let cell = if i % 2 == 0 {
            format!("{:02}/{:02}/{}", i % 12 + 1, i % 28 + 1, 1900 + i)
        } else {
            format!("Nowhere {i}")
        };
        let row = vec![cell; uses.len()];
        let _ = read_row_with(2, &row, &uses, &ctx, &mut cache);
    }
    let (entries, bytes) = cache.size();
    assert!(
        entries <= repeating * RowCache::ENTRIES,
        "{entries} values kept"
    );
    assert!(bytes <= repeating * RowCache::BYTES, "{bytes} bytes kept");
    assert!(
        entries >= RowCache::ENTRIES,
        "it keeps values until full: {entries}"
    );

    let mut small = RowCache::with_bounds(5, 1_000);
    let long = "x".repeat(RowCache::LONGEST + 1);
    for i in 0..100 {
        let row = vec![format!("Place {i}"); uses.len()];
        let _ = read_row_with(2, &row, &uses, &ctx, &mut small);
        let _ = read_row_with(2, &vec![long.clone(); uses.len()], &uses, &ctx, &mut small);
    }
    let (entries, bytes) = small.size();
    assert!(entries <= 5 * repeating, "{entries}");
    assert!(bytes <= 1_000 * repeating, "{bytes}");
    assert_eq!(RowCache::off().size(), (0, 0));
}
