//! The line log read back, on both backends: every tab paged at several sizes covers exactly
//! its lines, in order, with no gap and no duplicate; counts agree; other locations see nothing.

use domain::LocationSettings;

use super::*;
use crate::testing::each_backend;
use crate::{ChunkWrite, LineWrite, NewJob, Totals};

/// The status of generated line `n`: mostly successes, some warnings, a few errors.
fn status(n: u64) -> &'static str {
    match n % 13 {
        3 | 9 => "warning",
        7 => "error",
        _ => "success",
    }
}

/// Line numbers as a file with blank rows has them: every 17th row is blank (no entry).
fn lines(rows: u64) -> Vec<u64> {
    (2..rows + 2).filter(|n| n % 17 != 0).collect()
}

fn line_write(n: u64) -> LineWrite {
    let s = status(n);
    let keep = s != "success";
    LineWrite {
        line: n,
        status: s.parse().unwrap(),
        action: if s == "error" { "none" } else { "created" }.parse().unwrap(),
        record: None,
        primary: Some(format!("Person {n}")),
        messages: keep.then(|| {
            format!(
                r#"[{{"level":"{s}","code":"test.{s}","field":"Email","message":"line {n}","resolution":"fix {n}"}}]"#
            )
        }),
        cells: keep.then(|| format!(r#"["Person {n}","=SUM({n})","a;b"]"#)),
    }
}

/// Writes a job of `rows` generated lines, in chunks as an import does.
async fn job_with_lines(store: &Store, location: LocationId, rows: u64) -> i64 {
    let job = store
        .create_job(
            location,
            &NewJob {
                operation: domain::job::Operation::Import,
                object: domain::ObjectKind::Contact,
                name: "generated".into(),
                options: r#"{"mode":"create","headers":["Name","Formula","Tags"]}"#.into(),
                lease_owner: Some("test".into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    let lease = crate::Lease {
        job_id: job,
        location_id: location,
        owner: "test".into(),
    };
    for chunk in lines(rows).chunks(500) {
        let write = ChunkWrite {
            lines: chunk.iter().map(|n| line_write(*n)).collect(),
            totals: Totals {
                processed: chunk.len() as i64,
                ..Totals::default()
            },
            checkpoint_line: *chunk.last().unwrap(),
            ..ChunkWrite::default()
        };
        store.apply_import_chunk(&lease, &write).await.unwrap();
    }
    job
}

fn wanted(rows: u64, tab: LineTab) -> Vec<u64> {
    lines(rows)
        .into_iter()
        .filter(|n| match tab {
            LineTab::All => true,
            LineTab::Problems => status(*n) != "success",
            t => status(*n) == status_of(t),
        })
        .collect()
}

#[tokio::test]
async fn every_tab_pages_through_exactly_its_lines_in_order() {
    const ROWS: u64 = 3_000;
    for db in each_backend().await {
        let store = &db.store;
        let loc = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let job = job_with_lines(store, loc, ROWS).await;
        for tab in [
            LineTab::All,
            LineTab::Success,
            LineTab::Warning,
            LineTab::Error,
            LineTab::Problems,
        ] {
            let want = wanted(ROWS, tab);
            for size in [1u32, 7, 100, 999, 5_000] {
                if size == 1 && want.len() > 400 {
                    continue; // thousands of one-line round trips prove nothing more
                }
                let mut got = Vec::new();
                let mut after = None;
                loop {
                    let page = store
                        .job_lines_page(loc, job, tab, after, size)
                        .await
                        .unwrap();
                    assert!(page.len() <= size as usize);
                    got.extend(page.iter().map(|l| l.line));
                    if page.len() < size as usize {
                        break;
                    }
                    after = page.last().map(|l| l.line);
                }
                assert_eq!(
                    got,
                    want,
                    "{tab:?} in pages of {size} on {:?}",
                    db.backend()
                );
            }
        }
        let counts = store.job_line_counts(loc, job).await.unwrap();
        for tab in LineTab::TABS {
            assert_eq!(counts.of(tab), wanted(ROWS, tab).len() as u64, "{tab:?}");
        }
        assert_eq!(counts.all, counts.success + counts.warning + counts.error);
    }
}

#[tokio::test]
async fn a_line_comes_back_as_it_was_written() {
    for db in each_backend().await {
        let store = &db.store;
        let loc = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let job = job_with_lines(store, loc, 40).await;
        let page = store
            .job_lines_page(loc, job, LineTab::All, Some(6), 4)
            .await
            .unwrap();
        let got: Vec<_> = page
            .iter()
            .map(|l| (l.line, l.status.as_str(), l.action.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (7, "error", "none"),
                (8, "success", "created"),
                (9, "warning", "created"),
                (10, "success", "created"),
            ]
        );
        let success = &page[1];
        assert_eq!(success.primary.as_deref(), Some("Person 8"));
        assert_eq!((success.messages.len(), &success.cells), (0, &None));

        let error = store
            .job_lines_page(loc, job, LineTab::Error, None, 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(
            error,
            LineRecord {
                line: 7, // the first line with n % 13 == 7
                status: domain::job::LineStatus::Error,
                action: domain::job::LineAction::None,
                record_id: None,
                primary: Some("Person 7".into()),
                messages: vec![LineMessage {
                    level: domain::message::Level::Error,
                    code: "test.error".into(),
                    field: Some("Email".into()),
                    message: "line 7".into(),
                    resolution: "fix 7".into(),
                }],
                cells: Some(vec!["Person 7".into(), "=SUM(7)".into(), "a;b".into()]),
                opportunity_id: None,
                opportunity_action: None,
            }
        );
        assert_eq!(
            store.job_headers(loc, job).await.unwrap(),
            ["Name", "Formula", "Tags"]
        );
        // Past the last line: an empty page, not an error.
        let past = store
            .job_lines_page(loc, job, LineTab::All, Some(1_000), 10)
            .await
            .unwrap();
        assert!(past.is_empty());
    }
}

#[tokio::test]
async fn another_locations_job_is_not_found() {
    for db in each_backend().await {
        let store = &db.store;
        let glow = store
            .create_location("Glow", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let other = store
            .create_location("Other", &LocationSettings::default())
            .await
            .unwrap()
            .id;
        let job = job_with_lines(store, glow, 30).await;
        for tab in LineTab::TABS {
            let e = store
                .job_lines_page(other, job, tab, None, 10)
                .await
                .unwrap_err();
            assert!(e.is_not_found(), "{tab:?}: {e}");
        }
        assert!(
            store
                .job_line_counts(other, job)
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            store
                .job_headers(other, job)
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            store
                .job_lines_page(glow, job + 1, LineTab::All, None, 10)
                .await
                .unwrap_err()
                .is_not_found()
        );
        // A job with no lines yet: empty, not missing.
        let empty = store
            .create_job(
                glow,
                &NewJob {
                    operation: domain::job::Operation::Export,
                    object: domain::ObjectKind::Contact,
                    name: "empty".into(),
                    options: "{}".into(),
                    ..NewJob::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            store.job_line_counts(glow, empty).await.unwrap(),
            LineCounts::default()
        );
        assert!(store.job_headers(glow, empty).await.unwrap().is_empty());
        assert!(
            store
                .job_lines_page(glow, empty, LineTab::Problems, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
