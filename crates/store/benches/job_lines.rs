//! `cargo bench -p store --bench job_lines`: how long a page of the line log takes at 200,000
//! lines on SQLite (SPEC §9.2 asks for under 200 ms), first and deep pages of every tab, and
//! the per-tab counts. Generated data: 10% warning and 5% error lines with ten cells each.
//! Not a test: numbers for the closing note, never asserted.

use std::time::{Duration, Instant};

use domain::LocationSettings;
use store::{ChunkWrite, LineTab, LineWrite, NewJob, Store, Totals};

const LINES: u64 = 200_000;
const PAGE: u32 = 100;

fn line(n: u64) -> LineWrite {
    let status = match n % 20 {
        0 => "error",
        1 | 2 => "warning",
        _ => "success",
    };
    let keep = status != "success";
    let cells: Vec<String> = (0..10).map(|c| format!("cell {c} of row {n}")).collect();
    LineWrite {
        line: n,
        status: status.parse().unwrap(),
        action: if status == "error" { "none" } else { "created" }.parse().unwrap(),
        record: None,
        primary: Some(format!("Person {n}")),
        messages: keep.then(|| {
            format!(
                r#"[{{"level":"{status}","code":"email.invalid","field":"Email","message":"'p{n}@' is not a valid email address.","resolution":"Use an address such as name@example.com."}}]"#
            )
        }),
        cells: keep.then(|| serde_json::to_string(&cells).unwrap()),
    }
}

/// The median of `runs` timings of `f`.
async fn time<F, Fut, T>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(f().await);
        all.push(start.elapsed());
    }
    all.sort();
    all[runs / 2]
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("aesthetix-bench-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite(&dir.join("aesthetix.db")).await.unwrap();
    let loc = store
        .create_location("Bench", &LocationSettings::default())
        .await
        .unwrap()
        .id;
    let job = store
        .create_job(
            loc,
            &NewJob {
                operation: domain::job::Operation::Import,
                object: domain::ObjectKind::Contact,
                name: "bench".into(),
                options: r#"{"headers":["a","b","c","d","e","f","g","h","i","j"]}"#.into(),
                lease_owner: Some("test".into()),
                ..NewJob::default()
            },
        )
        .await
        .unwrap();
    let lease = store::Lease {
        job_id: job,
        location_id: loc,
        owner: "test".into(),
    };
    let start = Instant::now();
    let mut n = 2;
    while n < LINES + 2 {
        let end = (n + 5_000).min(LINES + 2);
        let write = ChunkWrite {
            lines: (n..end).map(line).collect(),
            totals: Totals {
                processed: (end - n) as i64,
                ..Totals::default()
            },
            checkpoint_line: end - 1,
            ..ChunkWrite::default()
        };
        store.apply_import_chunk(&lease, &write).await.unwrap();
        n = end;
    }
    println!(
        "wrote {LINES} lines in {:.1} s (SQLite, WAL, synchronous=FULL)",
        start.elapsed().as_secs_f64()
    );

    let runs = 25;
    println!("page of {PAGE}, median of {runs} runs:");
    for tab in [
        LineTab::All,
        LineTab::Success,
        LineTab::Warning,
        LineTab::Error,
        LineTab::Problems,
    ] {
        for (label, after) in [("first", None), ("after line 190,000", Some(190_000))] {
            let t = time(runs, || store.job_lines_page(loc, job, tab, after, PAGE)).await;
            println!(
                "  {:<9} {label:<19} {:>8.2} ms",
                format!("{tab:?}"),
                t.as_secs_f64() * 1e3
            );
        }
    }
    let t = time(runs, || store.job_line_counts(loc, job)).await;
    println!(
        "  counts per tab              {:>8.2} ms",
        t.as_secs_f64() * 1e3
    );
    let t = time(5, || async {
        let mut after = None;
        let mut total = 0;
        loop {
            let page = store
                .job_lines_page(loc, job, LineTab::Problems, after, 500)
                .await
                .unwrap();
            total += page.len();
            if page.len() < 500 {
                break total;
            }
            after = page.last().map(|l| l.line);
        }
    })
    .await;
    println!(
        "  every problem line (30,000) in pages of 500: {:.0} ms",
        t.as_secs_f64() * 1e3
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
