//! A file mapped end to end: headers, preset, the pass over the values, each date column's
//! order and the lines the CLI prints.

use super::*;
use domain::LocationSettings;
use store::testing::TempDir;

fn read_ctx(order: DateOrder) -> ReadContext {
    let settings = LocationSettings {
        date_order: order,
        ..LocationSettings::default()
    };
    ReadContext::new(&settings, jiff::civil::date(2026, 6, 1)).unwrap()
}

async fn map(csv: &str, order: DateOrder, date_order: Option<DateOrder>) -> FileMapping {
    let dir = TempDir::new("jobs-mapping");
    let path = dir.path().join("file.csv");
    std::fs::write(&path, csv).unwrap();
    let info = tabular::inspect(&path, &tabular::ReadOptions::default()).unwrap();
    let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
    let ignored: Vec<bool> = info.columns.iter().map(|c| c.ignored).collect();
    let req = MapRequest {
        headers: &headers,
        ignored: &ignored,
        custom: &[],
        preset: PresetChoice::Detect,
        template: None,
        overrides: &[],
        value_map: &HashMap::new(),
        date_order,
        column_date_orders: &[],
    };
    map_file(&path, &info, &req, &read_ctx(order), None)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn a_day_first_column_in_a_month_first_location_says_so_once() {
    let csv = "Email,Birthday,Created\na@x.example,09/07/2014,01/02/2020\nb@x.example,20/01/1991,03/04/2021\n";
    let m = map(csv, DateOrder::Mdy, None).await;
    assert_eq!(
        m.date_orders(DateOrder::Mdy),
        HashMap::from([(1, DateOrder::Dmy)])
    );
    assert_eq!(m.notices.len(), 1, "{:?}", m.notices);
    assert_eq!(m.notices[0].code, "date.order_from_file");
    assert_eq!(m.notices[0].field, "date_of_birth");
    assert!(m.notices[0].message.contains("20/01/1991"));
    let lines = m.lines();
    assert_eq!(
        lines[1],
        "Birthday → Date of Birth (synonym) — dates read DMY, as the column's values show (date.order_from_file)"
    );
    assert_eq!(lines[2], "Created → Created Date (synonym)");
    // --date-order overrides the values.
    let m = map(csv, DateOrder::Mdy, Some(DateOrder::Mdy)).await;
    assert!(m.notices.is_empty());
    assert!(m.date_orders(DateOrder::Mdy).is_empty());
    assert!(m.lines()[1].ends_with("— dates read MDY, as chosen"));
}

#[tokio::test]
async fn foreign_option_and_date_columns_stay_unmapped_with_a_note() {
    let csv = "EmailID,Status,Contact Type,Birth Day,Primary Phone,Home Phone\n\
               a@x.example,Active,customer,15,(201) 555-0123,(201) 555-0124\n\
               b@x.example,Inactive,customer,3,,\n";
    let m = map(csv, DateOrder::Mdy, None).await;
    let lines = m.lines();
    assert_eq!(
        lines,
        [
            "EmailID → Email (synonym)",
            "Status → not imported (its values (Active, Inactive) are not options of Status)",
            "Contact Type → not imported (its values (customer) are not options of Type of Contact)",
            "Birth Day → not imported (its values (15, 3) are not dates, so it is not mapped to Date of Birth)",
            "Primary Phone → Phone (synonym)",
            "Home Phone → Additional Phone Numbers (synonym)",
        ]
    );
    assert!(engine::mapping::plan::check(&m.plans, false).is_err());
    assert!(engine::mapping::plan::check(&m.plans, true).is_ok());
}

#[tokio::test]
async fn an_exporters_file_is_named_and_mapped_by_its_preset() {
    let csv = "First Name,Last Name,Primary Email,Secondary Email,Mobile Number,Birth Year,Birth Month,Birth Day\n\
               Liam,Okafor,liam@x.example,l@y.example,(212) 555-0172,1990,7,15\n";
    let m = map(csv, DateOrder::Mdy, None).await;
    assert_eq!(m.preset.map(|p| p.key), Some("thunderbird"));
    assert_eq!(
        m.lines()[0],
        "Looks like a Thunderbird export (preset thunderbird)."
    );
    // The preset's Birth Day is a part of a date: never checked as a date on its own.
    assert!(matches!(m.plans[7].used, ColumnUse::DatePart(..)));
}
