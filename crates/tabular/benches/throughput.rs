//! Throughput of `inspect` + `rows` over generated contact files (200,000 rows, 12 columns,
//! ~27 MB, quoted multi-line notes): UTF-8 CSV, the same as Windows-1252, and an XLSX with
//! inline strings and one with shared strings (as Excel writes them).
//!
//! `cargo bench -p tabular --bench throughput` (numbers go in notes, never in a test).

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

const ROWS: usize = 200_000;

fn main() {
    // `cargo bench -p tabular --bench throughput -- csv` runs one kind only.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |kind: &str| only.as_deref().is_none_or(|o| o == kind);
    let dir = std::env::temp_dir().join(format!("tabular-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let csv = generate_csv();
    if wanted("csv") {
        let utf8 = dir.join("contacts.csv");
        std::fs::write(&utf8, &csv).unwrap();
        measure("UTF-8 CSV", &utf8);
    }
    if wanted("legacy") {
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(std::str::from_utf8(&csv).unwrap());
        let legacy = dir.join("contacts-1252.csv");
        std::fs::write(&legacy, &latin).unwrap();
        measure("Windows-1252 CSV", &legacy);
    }
    if wanted("xlsx") {
        let xlsx = dir.join("contacts.xlsx");
        std::fs::write(&xlsx, common::contacts(ROWS, false)).unwrap();
        measure("XLSX", &xlsx);
    }
    if wanted("xlsx-shared") {
        let xlsx = dir.join("contacts-shared.xlsx");
        std::fs::write(&xlsx, common::contacts(ROWS, true)).unwrap();
        measure("XLSX, shared", &xlsx);
    }

    let _ = std::fs::remove_dir_all(&dir);
}

fn measure(name: &str, path: &Path) {
    let size = std::fs::metadata(path).unwrap().len();
    let opts = tabular::ReadOptions {
        max_file_bytes: u64::MAX,
        ..tabular::ReadOptions::default()
    };
    let mut best = (f64::MAX, f64::MAX, f64::MAX);
    let mut cpu = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let start = Instant::now();
        let used = cpu_seconds();
        let info = tabular::inspect(path, &opts).unwrap();
        let inspected = start.elapsed().as_secs_f64();
        let inspect_cpu = cpu_seconds() - used;

        let start = Instant::now();
        let used = cpu_seconds();
        let mut cells = 0usize;
        for row in tabular::rows(path, &info).unwrap() {
            cells += row.unwrap().cells.len();
        }
        let iterated = start.elapsed().as_secs_f64();
        cpu = (cpu.0.min(inspect_cpu), cpu.1.min(cpu_seconds() - used));
        assert_eq!(cells, ROWS * info.columns.len());

        let start = Instant::now();
        let mut rows = tabular::rows(path, &info).unwrap();
        let mut row = tabular::Row::default();
        let mut count = 0usize;
        while rows.next_into(&mut row).unwrap() {
            count += 1;
        }
        let reused = start.elapsed().as_secs_f64();
        assert_eq!(count, ROWS);
        best = (
            best.0.min(inspected),
            best.1.min(iterated),
            best.2.min(reused),
        );
    }
    println!(
        "{name:>17}: {:5.1} MB; inspect {:.3} s (CPU {:.2} s); rows {:.3} s (CPU {:.2} s, {:.0} rows/s); next_into {:.3} s ({:.0} rows/s, {:.0} MB/s)",
        size as f64 / 1e6,
        best.0,
        cpu.0,
        best.1,
        cpu.1,
        ROWS as f64 / best.1,
        best.2,
        ROWS as f64 / best.2,
        size as f64 / 1e6 / best.2
    );
}

/// CPU time of the whole process (every thread), user and system, from `/proc/self/stat`:
/// on a shared machine it moves less than wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    // After the name: state is field 3, utime 14 and stime 15 (1-based, in clock ticks).
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) / 100.0
}

fn generate_csv() -> Vec<u8> {
    let mut out = Vec::with_capacity(30_000_000);
    out.extend_from_slice(b"First Name,Last Name,Email,Phone,Company,Street,City,State,Postal Code,Tags,Date of Birth,Notes\r\n");
    for i in 0..ROWS {
        let phone = match i % 4 {
            0 => format!("(555) {:03}-{:04}", i % 1000, i % 10_000),
            1 => format!("555.{:03}.{:04}", i % 1000, i % 10_000),
            2 => format!("+1 555 {:03} {:04} x12", i % 1000, i % 10_000),
            _ => format!("001555{:07}", i % 10_000_000),
        };
        let note = if i % 10 == 0 {
            format!(
                "\"Called on {}\r\nprefers \"\"text\"\" messages, follow up in spring\"",
                i % 28 + 1
            )
        } else {
            "Met at the open day".to_owned()
        };
        writeln!(
            out,
            "Renée{i},Müller,p{i}@example.com,{phone},Glow Aesthetics,{} Main Street,Springfield,IL,{:05},\"VIP, Botox\",19{:02}-0{}-1{},{note}\r",
            i % 9000 + 1,
            i % 100_000,
            i % 100,
            i % 9 + 1,
            i % 10,
        )
        .unwrap();
    }
    out
}
