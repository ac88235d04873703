//! The import benchmark of the import-engine issue: a generated 200,000-row messy contacts
//! file imported by the release `aesthetix` binary on SQLite, against `sqlite3`'s own
//! `.import --csv` of the same file into a plain table with indexes on email and phone,
//! alternating in one run. Whole-process wall time and peak RSS (from `/usr/bin/time`).
//! Each run also imports the file with 10 times fewer and 10 times more checkpoints, and with
//! `synchronous=NORMAL` instead of `FULL`, to price what the Bulk Actions issue asks about (see
//! [`variants`]).
//!
//! `cargo bench --bench import` — options by environment: `BENCH_ROWS` (200000),
//! `BENCH_RUNS` (3), `BENCH_EXISTING` (1000000 contacts already in the location for the
//! second scenario; 0 skips it), `BENCH_VARIANTS` (`all`, or `shipped` for the shipped import
//! alone against `sqlite3`). Not part of `cargo test`.
//!
//! The file store: local by default; `AESTHETIX_FILE_STORE=s3://BUCKET/PREFIX` (with
//! `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), which the
//! benchmarked binary reads like any `aesthetix` command, runs it against an S3-compatible
//! bucket instead — the cost of the S3 store is the ratio of the two runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ann", "Bob", "Cara", "Dan", "Eve", "Finn", "Gia", "Hugo", "Ivy", "Jon", "Kai", "Lia", "Zoë",
    "José",
];
const LAST: &[&str] = &[
    "Lee", "Ray", "Stone", "Diaz", "Nguyen", "Smith", "O'Neil", "Müller", "Khan", "Brown",
];
const AREAS: &[&str] = &[
    "201", "212", "305", "415", "512", "617", "702", "818", "917", "972",
];
const TAGS: &[&str] = &["VIP", "Botox", "Filler, VIP", "Laser", "", "Consult; Botox"];

fn phone(rng: &mut Rng, area: &str, exchange: u64, line: u64) -> String {
    match rng.below(100) {
        0..=24 => format!("({area}) {exchange}-{line:04}"),
        25..=44 => format!("{area}.{exchange}.{line:04}"),
        45..=59 => format!("1-{area}-{exchange}-{line:04}"),
        60..=69 => format!("+1 {area} {exchange} {line:04}"),
        70..=74 => format!("001{area}{exchange}{line:04}"),
        75..=79 => format!("{area}-{exchange}-{line:04} x{}", rng.below(99) + 1),
        80..=95 => format!("{area}{exchange}{line:04}"),
        _ => format!("{exchange}-{line:04}"), // no area code: invalid (~4%)
    }
}

/// Writes the messy file: 12 columns, ~5% in-file duplicates (email case, phone format),
/// messy phones, quoted multi-line notes.
fn generate(path: &Path, rows: usize) {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut out = String::with_capacity(rows * 150);
    out.push_str("First Name,Last Name,Email,Phone,Company,Tags,Type,Status,Lead Source,City,Date of Birth,Notes\r\n");
    for i in 0..rows {
        let dup = i > 100 && rng.below(100) < 5;
        let n = if dup { rng.below(i as u64) as usize } else { i };
        let mut r = Rng(n as u64 * 2_654_435_761 + 1);
        let first = r.pick(FIRST);
        let last = r.pick(LAST);
        let area = r.pick(AREAS);
        let exchange = 200 + (n as u64 / 10_000) % 800;
        let line = n as u64 % 10_000;
        let mut email = format!(
            "{}.{}{}@example.com",
            first.to_lowercase(),
            last.to_lowercase().replace('\'', ""),
            n
        );
        if dup && rng.below(2) == 0 {
            email = email.to_uppercase();
        }
        let ph = phone(&mut rng, area, exchange, line);
        let tags = rng.pick(TAGS);
        let kind = if rng.below(3) == 0 { "Patient" } else { "Lead" };
        let status = if rng.below(10) == 0 {
            "Unsubscribed"
        } else {
            "Subscribed"
        };
        let source = rng.pick(&["Facebook", "Google", "Instagram", "Referral", "Walk-in"]);
        let city = rng.pick(&["Austin", "Dallas", "Miami", "New York", "Boston"]);
        let dob = format!(
            "{:02}/{:02}/{}",
            rng.below(12) + 1,
            rng.below(28) + 1,
            1950 + rng.below(55)
        );
        let note = if rng.below(3) == 0 {
            format!(
                "\"Seen {dob}, asked about \"\"{tags}\"\".\nFollow up {} wks.\"",
                rng.below(8) + 1
            )
        } else {
            format!(
                "Prefers {} appts",
                rng.pick(&["morning", "evening", "weekend"])
            )
        };
        let _ = write!(
            out,
            "{first},{last},{email},\"{ph}\",Glow,\"{tags}\",{kind},{status},{source},{city},{dob},{note}\r\n"
        );
    }
    std::fs::write(path, out).expect("write the benchmark file");
}

/// Runs `cmd` under `/usr/bin/time`, returning (wall seconds, peak RSS in MiB).
fn timed(cmd: &mut Command) -> (f64, f64) {
    let rss_file = std::env::temp_dir().join(format!("bench-rss-{}", std::process::id()));
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let start = Instant::now();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(program)
        .args(args)
        .stdout(std::process::Stdio::null());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let status = timed.status().expect("run /usr/bin/time");
    let secs = start.elapsed().as_secs_f64();
    assert!(status.success(), "benchmark command failed: {cmd:?}");
    let kib: f64 = std::fs::read_to_string(&rss_file)
        .unwrap_or_default()
        .trim()
        .lines()
        .last()
        .unwrap_or("0")
        .parse()
        .unwrap_or(0.0);
    (secs, kib / 1024.0)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn aesthetix(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aesthetix"));
    c.arg("--data-dir").arg(data).args(args);
    c
}

/// Adds `n` contacts to the first location of a fresh data dir, straight through SQL (setup,
/// not measured), with emails and phones that never collide with the file's.
fn seed_existing(data: &Path, n: usize) {
    let sql = format!(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
         INSERT INTO contacts (location_id, first_name, email, email_key, phone, search_text, created_at, updated_at) \
         SELECT 1, 'Existing', 'existing' || i || '@example.org', 'existing' || i || '@example.org', \
         '+1340' || printf('%07d', i), 'existing', 0, 0 FROM s;"
    );
    let ok = Command::new("sqlite3")
        .arg(data.join("aesthetix.db"))
        .arg(sql)
        .status()
        .expect("sqlite3")
        .success();
    assert!(ok, "seeding existing contacts");
}

/// One way of running the import, measured against the shipped one: the environment it
/// runs with.
struct Variant {
    name: &'static str,
    env: Vec<(&'static str, String)>,
}

/// The ways each run imports the file, besides `sqlite3`: as shipped (a checkpoint — the
/// chunk's writes, its line log and the job's checkpoint committed in one transaction — every
/// 1,000 rows, `synchronous=FULL`), then what SPEC §9.5 asks the price of:
/// - chunked checkpoints: the same import with 10 times fewer checkpoints (10,000 rows a
///   chunk, the most a chunk may hold) and 10 times more (100 rows). Everything else is the
///   same work — same writes, same line log — so the difference is what a checkpoint costs
///   (its commit and fsyncs, the job-row update, and the fixed cost of a chunk's lookups and
///   statements), and the slope between them prices one checkpoint;
/// - `synchronous=FULL`: the shipped chunks with `synchronous=NORMAL`, which in WAL mode skips
///   the fsync at each commit (a power cut may then lose the last commits; a crash of the
///   process still loses nothing).
fn variants() -> Vec<Variant> {
    let env = |k: &'static str, v: &str| vec![(k, v.to_string())];
    vec![
        Variant {
            name: "as shipped: a checkpoint every 1,000 rows, synchronous=FULL",
            env: vec![],
        },
        Variant {
            name: "a checkpoint every 10,000 rows",
            env: env("AESTHETIX_CHUNK_ROWS", "10000"),
        },
        Variant {
            name: "a checkpoint every 100 rows",
            env: env("AESTHETIX_CHUNK_ROWS", "100"),
        },
        Variant {
            name: "synchronous=NORMAL, a checkpoint every 1,000 rows",
            env: env("AESTHETIX_SQLITE_SYNCHRONOUS", "normal"),
        },
    ]
}

fn scenario(name: &str, file: &Path, work: &Path, runs: usize, rows: usize, existing: usize) {
    let template = work.join(format!("template-{name}"));
    let _ = std::fs::remove_dir_all(&template);
    let ok = aesthetix(&template, &["location", "create", "Bench"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    if existing > 0 {
        seed_existing(&template, existing);
    }
    let mut variants = variants();
    if std::env::var("BENCH_VARIANTS").is_ok_and(|v| v == "shipped") {
        variants.truncate(1);
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut rss: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    // Per run: each variant's time over the shipped one's, and the shipped one's over sqlite3's.
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut theirs = Vec::new();
    // Per run: the cost of one checkpoint (the slope from 10,000 rows a chunk to 100), and
    // what the shipped import's checkpoints cost beyond the 10,000-row one's, as a share of it.
    let checkpoints = |chunk: usize| rows.div_ceil(chunk) as f64;
    let mut per_checkpoint = Vec::new();
    let mut shipped_share = Vec::new();
    for run in 0..runs {
        let sqlite_db = work.join(format!("sqlite3-{name}-{run}.db"));
        let _ = std::fs::remove_file(&sqlite_db);
        let script = format!(
            "CREATE TABLE t (first_name, last_name, email, phone, company, tags, type, status, source, city, dob, notes);\n\
             CREATE INDEX t_email ON t (email);\nCREATE INDEX t_phone ON t (phone);\n.import --csv --skip 1 {} t\n",
            file.display()
        );
        let script_path = work.join("import.sql");
        std::fs::write(&script_path, script).unwrap();
        let mut sqlite = Command::new("sqlite3");
        sqlite
            .arg(&sqlite_db)
            .arg(format!(".read {}", script_path.display()));
        let (t_sqlite, _) = timed(&mut sqlite);
        theirs.push(t_sqlite);
        let _ = std::fs::remove_file(&sqlite_db);

        // The variants alternate, each run starting with another, so a slow moment of the
        // shared machine does not always fall on the same one.
        let mut this_run = vec![0.0; variants.len()];
        for k in 0..variants.len() {
            let v = (run + k) % variants.len();
            let data = work.join(format!("run-{name}-{run}-{v}"));
            let _ = std::fs::remove_dir_all(&data);
            copy_dir(&template, &data);
            let mut cmd = aesthetix(
                &data,
                &[
                    "import",
                    "contacts",
                    file.to_str().unwrap(),
                    "--location",
                    "Bench",
                    "--skip-unmapped",
                ],
            );
            for (key, value) in &variants[v].env {
                cmd.env(key, value);
            }
            let (t, mb) = timed(&mut cmd);
            this_run[v] = t;
            times[v].push(t);
            rss[v].push(mb);
            let _ = std::fs::remove_dir_all(&data);
        }
        ratios[0].push(this_run[0] / t_sqlite);
        for v in 1..variants.len() {
            ratios[v].push(this_run[v] / this_run[0]);
        }
        if variants.len() > 2 {
            let c = (this_run[2] - this_run[1]) / (checkpoints(100) - checkpoints(10_000));
            per_checkpoint.push(c);
            shipped_share.push(c * (checkpoints(1000) - checkpoints(10_000)) / this_run[0]);
        }
    }
    println!("{name} ({runs} runs; medians; ratios are medians of per-run ratios):");
    println!("  sqlite3 .import: {:.2} s", median(theirs));
    for (v, variant) in variants.iter().enumerate() {
        let ratio = if v == 0 {
            format!("{:.2}x sqlite3 .import", median(ratios[0].clone()))
        } else {
            format!("{:.3}x as shipped", median(ratios[v].clone()))
        };
        println!(
            "  {}: {:.2} s, peak RSS {:.0} MiB — {ratio}",
            variant.name,
            median(times[v].clone()),
            median(rss[v].clone()),
        );
    }
    if per_checkpoint.is_empty() {
        return;
    }
    println!(
        "  one checkpoint costs {:.2} ms (slope from 10,000 rows a chunk to 100); the shipped \
         {} checkpoints cost {:.1}% of its time beyond what {} would",
        median(per_checkpoint) * 1000.0,
        checkpoints(1000),
        median(shipped_share) * 100.0,
        checkpoints(10_000)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "file store: {}",
        std::env::var("AESTHETIX_FILE_STORE").unwrap_or_else(|_| "local (--data-dir)".into())
    );
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let existing: usize = std::env::var("BENCH_EXISTING")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let work: PathBuf = std::env::temp_dir().join("aesthetix-bench");
    std::fs::create_dir_all(&work).unwrap();
    let file = work.join(format!("contacts-{rows}.csv"));
    generate(&file, rows);
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(
        size <= 30_000_000,
        "the generated file ({size} bytes) is over the 30 MB import limit; lower BENCH_ROWS"
    );
    println!("file: {rows} rows, {:.1} MB", size as f64 / 1e6);
    scenario("empty location", &file, &work, runs, rows, 0);
    if existing > 0 {
        scenario(
            &format!("location with {existing} contacts"),
            &file,
            &work,
            runs,
            rows,
            existing,
        );
    }
}
