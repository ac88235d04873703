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
        standard: engine::mapping::contact_targets(),
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

/// The file imported twice in upsert doubled every contact: whatever an export with
/// several email and phone columns holds — one row per person, their emails and phones
/// spread over the columns in any order, any cell blank (the first email or phone column
/// included), emails in other spellings — importing it again in Create & Update never changes
/// the number of contacts.
mod reimport {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    use store::testing::{TestDb, each_backend};

    use crate::import::{ImportRequest, prepare, run_import};

    const HEADERS: &[&str] = &[
        "First Name",
        "E-mail 1 - Value",
        "Email",
        "Secondary Email",
        "Work Email",
        "Primary Phone",
        "Mobile",
        "Home Phone",
        "Business Phone",
    ];

    /// One person of an export: their own emails and phones (no two people share one; the
    /// spelling of an email varies), one row each — the shape of a real export — with the
    /// identifiers spread over the file's columns, any of them blank.
    #[derive(Debug, Clone)]
    struct Person {
        emails: Vec<String>,
        phones: Vec<String>,
    }

    fn person(k: usize) -> impl Strategy<Value = Person> {
        (
            prop::collection::vec((0..2usize, any::<bool>()), 0..3),
            prop::collection::vec((0..10usize, any::<bool>()), 0..3),
        )
            .prop_map(move |(emails, phones)| Person {
                emails: emails
                    .into_iter()
                    .map(|(j, upper)| {
                        let e = format!("p{k}.{j}@example.com");
                        if upper { e.to_uppercase() } else { e }
                    })
                    .collect(),
                phones: phones
                    .into_iter()
                    .map(|(j, e164)| {
                        if e164 {
                            format!("+120155501{k}{j}")
                        } else {
                            format!("(201) 555-01{k}{j}")
                        }
                    })
                    .collect(),
            })
    }

    /// A header row (a subset of the columns, in order) and one row per person that gives an
    /// identifier, each cell a random one of the person's values of its kind, or blank.
    fn file() -> impl Strategy<Value = String> {
        let columns =
            prop::sample::subsequence((1..HEADERS.len()).collect::<Vec<_>>(), 1..HEADERS.len());
        let people = (1..10usize).prop_flat_map(|n| (0..n).map(person).collect::<Vec<_>>());
        let picks = prop::collection::vec(prop::collection::vec(0..4usize, HEADERS.len()), 12);
        (columns, people, picks).prop_map(|(mut columns, people, picks)| {
            columns.insert(0, 0);
            let mut csv = columns
                .iter()
                .map(|c| HEADERS[*c])
                .collect::<Vec<_>>()
                .join(",");
            csv.push('\n');
            for (p, pick) in people.iter().zip(&picks) {
                let cells: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let pool = match c {
                            0 => return "Ann".to_string(),
                            1..=4 => &p.emails,
                            _ => &p.phones,
                        };
                        pool.get(pick[*c]).cloned().unwrap_or_default()
                    })
                    .collect();
                if cells[1..].iter().all(String::is_empty) {
                    continue;
                }
                csv.push_str(&cells.join(","));
                csv.push('\n');
            }
            csv
        })
    }

    async fn count(db: &TestDb, location: store::LocationId) -> i64 {
        db.store
            .contacts_page(location, None, 0, 1)
            .await
            .unwrap()
            .total
    }

    async fn one_case(db: &TestDb, case: usize, csv: String) -> Result<(), TestCaseError> {
        if csv.lines().count() < 2 {
            return Ok(());
        }
        let location = db
            .store
            .create_location(&format!("Spa {case}"), &domain::LocationSettings::default())
            .await
            .unwrap();
        let path = db.dir.path().join(format!("case-{case}.csv"));
        std::fs::write(&path, &csv).unwrap();
        let today = jiff::civil::date(2026, 6, 1);
        let mut counts = Vec::new();
        for _ in 0..2 {
            let request = ImportRequest {
                location: Some(location.clone()),
                file: path.clone(),
                file_name: "case.csv".into(),
                mode: engine::Mode::Upsert,
                mode_given: true,
                skip_unmapped: true,
                ..ImportRequest::default()
            };
            let prepared = prepare(&db.store, request, today).await.unwrap();
            run_import(&db.store, &prepared, |_| {}, |_, _| {})
                .await
                .unwrap();
            counts.push(count(db, location.id).await);
        }
        prop_assert_eq!(counts[0], counts[1], "{}", csv);
        Ok(())
    }

    #[test]
    fn importing_a_file_again_in_upsert_never_changes_the_number_of_contacts() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        for db in runtime.block_on(each_backend()) {
            let mut runner = TestRunner::new(Config {
                cases: 48,
                failure_persistence: None,
                ..Config::default()
            });
            let case = std::sync::atomic::AtomicUsize::new(0);
            let result = runner.run(&file(), |csv| {
                let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                runtime.block_on(one_case(&db, n, csv))
            });
            if let Err(e) = result {
                panic!("{:?}: {e}", db.backend());
            }
        }
    }
}
