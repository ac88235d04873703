//! The import benchmark of the import issues: the messy contacts file of `gen_contacts.py`
//! (beside this file: a quarter of its Country cells say `USA`, some phones lack an area code,
//! 5% of its rows repeat an earlier contact in another spelling) imported by the release
//! `aesthetix import contacts --mode upsert --skip-unmapped`, against the anchors of the import
//! issue, each measured in the same run, the commands alternating:
//! - SQLite, into an empty location and into one already holding `BENCH_EXISTING` contacts:
//!   `sqlite3 .import --csv` of the same file into a plain table with indexes on email and
//!   phone;
//! - PostgreSQL (when `BENCH_DATABASE_URL` or `AESTHETIX_TEST_DATABASE_URL` names a server, a
//!   fresh database per run): `psql \copy` of the same file into the same indexed table;
//! - the export of the imported contacts (10 columns, SQLite) against `sqlite3 -csv` of the
//!   same rows and columns from the same database;
//! - the companies import of issue 13 (at most 1.2× the contacts import, under 100 MB): the
//!   messy companies file of `gen_companies.py` (same row count, standard company fields plus
//!   `Tax ID` text and `Account Number` number, both declared unique; 5% of rows repeat an
//!   earlier company by its Tax ID in another case) imported by `aesthetix import companies
//!   --mode upsert` into an empty location holding those two fields, alternating with the
//!   others, on SQLite and on PostgreSQL; its ratio is to the contacts import of the same run
//!   on the same backend.
//!
//! Whole-process wall time, CPU time (user + system, of the measured process only: a
//! PostgreSQL server's work is not in it) and peak RSS (all from `/usr/bin/time`). Only the
//! ratios travel: the machine is shared, so each run's ratio is taken within the run and the
//! median of them printed.
//!
//! `cargo bench -p aesthetix --bench import` — options by environment: `BENCH_ROWS` (200000),
//! `BENCH_RUNS` (3), `BENCH_EXISTING` (1000000 contacts already in the location for the second
//! SQLite scenario; 0 skips it, which saves most of the time), `BENCH_VARIANTS` (`shipped`, the
//! default: the shipped import alone against the anchors; `all` adds, on the empty location,
//! the same file with `USA` written `US`, 10 times fewer and 10 times more checkpoints, and
//! `synchronous=NORMAL` — see [`variants`]), `BENCH_DATABASE_URL` (PostgreSQL; falls back to
//! `AESTHETIX_TEST_DATABASE_URL`; `none` skips it), `BENCH_BASELINE` (the path of another build
//! of `aesthetix`, say a copy of the binary before a change: it imports too, alternating, on the
//! empty location and on PostgreSQL, for before/after ratios from one run), `BENCH_COMPANIES`
//! (`0` skips the companies import). A quick run:
//! `BENCH_ROWS=20000 BENCH_RUNS=1 BENCH_EXISTING=0 cargo bench -p aesthetix --bench import`.
//! Not part of `cargo test`; needs `python3`, `sqlite3` and, for PostgreSQL, `psql`.
//!
//! The file store: local by default; `AESTHETIX_FILE_STORE=s3://BUCKET/PREFIX` (with
//! `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), which the
//! benchmarked binary reads like any `aesthetix` command, runs it against an S3-compatible
//! bucket instead — the cost of the S3 store is the ratio of the two runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one command took: wall seconds, CPU seconds (user + system), peak RSS in MiB.
#[derive(Clone, Copy, Default)]
struct Took {
    wall: f64,
    cpu: f64,
    rss: f64,
}

/// Runs `cmd` under `/usr/bin/time`.
fn timed(cmd: &mut Command) -> Took {
    let rss_file = std::env::temp_dir().join(format!("bench-rss-{}", std::process::id()));
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M %U %S")
        .arg("-o")
        .arg(&rss_file)
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let start = Instant::now();
    let out = timed.output().expect("run /usr/bin/time");
    let wall = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "benchmark command failed: {cmd:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(&rss_file).unwrap_or_default();
    let numbers: Vec<f64> = report
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .map(|n| n.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| numbers.get(i).copied().unwrap_or(0.0);
    Took {
        wall,
        cpu: at(1) + at(2),
        rss: at(0) / 1024.0,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn aesthetix(data: &Path, database_url: Option<&str>, args: &[&str]) -> Command {
    binary(None, data, database_url, args)
}

/// `aesthetix`, or another build of it (`BENCH_BASELINE`), with its data and database.
fn binary(
    program: Option<&Path>,
    data: &Path,
    database_url: Option<&str>,
    args: &[&str],
) -> Command {
    let mut c = Command::new(program.unwrap_or(Path::new(env!("CARGO_BIN_EXE_aesthetix"))));
    c.arg("--data-dir").arg(data);
    match database_url {
        Some(url) => c.arg("--database-url").arg(url),
        None => c.env_remove("AESTHETIX_DATABASE_URL"),
    };
    c.args(args);
    c
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run a setup command");
    assert!(
        out.status.success(),
        "setup command failed: {cmd:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn import_args(file: &Path) -> Vec<&str> {
    vec![
        "import",
        "contacts",
        file.to_str().unwrap(),
        "--location",
        "Bench",
        "--mode",
        "upsert",
        "--skip-unmapped",
        "--quiet",
    ]
}

/// The companies import: upsert, deduped on the first unique field (`Tax ID`).
fn companies_import_args(file: &Path) -> Vec<&str> {
    vec![
        "import",
        "companies",
        file.to_str().unwrap(),
        "--location",
        "Bench",
        "--mode",
        "upsert",
        "--skip-unmapped",
        "--quiet",
    ]
}

/// Creates the location `Bench` with the companies file's two unique custom fields (setup,
/// not measured).
fn companies_setup(data: &Path, database_url: Option<&str>) {
    run_ok(&mut aesthetix(
        data,
        database_url,
        &["location", "create", "Bench"],
    ));
    for (label, kind) in [("Tax ID", "text"), ("Account Number", "number")] {
        run_ok(&mut aesthetix(
            data,
            database_url,
            &[
                "field",
                "create",
                "--location",
                "Bench",
                "--object",
                "company",
                "--label",
                label,
                "--type",
                kind,
                "--unique",
            ],
        ));
    }
}

/// A generator's file (`gen_NAME.py` beside this one), made once per row count (`python3`,
/// deterministic).
fn generate(work: &Path, name: &str, rows: usize) -> PathBuf {
    let file = work.join(format!("{name}-{rows}.csv"));
    if !file.exists() {
        let partial = work.join(format!("{name}-{rows}.csv.part"));
        run_ok(
            Command::new("python3")
                .arg(format!(
                    "{}/benches/gen_{name}.py",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .arg(rows.to_string())
                .arg(&partial),
        );
        std::fs::rename(&partial, &file).unwrap();
    }
    file
}

/// The same file with every Country cell `USA` written `US` (the only cells that say `,USA,`).
fn without_usa(work: &Path, file: &Path) -> PathBuf {
    let out = work.join("contacts-us.csv");
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(&out, text.replace(",USA,", ",US,")).unwrap();
    out
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
    run_ok(
        Command::new("sqlite3")
            .arg(data.join("aesthetix.db"))
            .arg(sql),
    );
}

/// The anchors' table: the file's 12 columns, indexes on email and phone.
const ANCHOR_TABLE: &str = "CREATE TABLE t (first_name text, last_name text, email text, phone text, \
     company text, tags text, status text, created text, treatment text, ltv text, country text, notes text);\n\
     CREATE INDEX t_email ON t (email);\nCREATE INDEX t_phone ON t (phone);\n";

fn sqlite3_import(work: &Path, file: &Path) -> Command {
    let db = work.join("anchor.db");
    let _ = std::fs::remove_file(&db);
    let script = work.join("anchor.sql");
    std::fs::write(
        &script,
        format!(
            "{ANCHOR_TABLE}.import --csv --skip 1 {} t\n",
            file.display()
        ),
    )
    .unwrap();
    let mut c = Command::new("sqlite3");
    c.arg(&db).arg(format!(".read {}", script.display()));
    c
}

/// One way of running the SQLite import besides the shipped one: its file and environment.
struct Variant {
    name: &'static str,
    us_file: bool,
    env: Vec<(&'static str, &'static str)>,
    /// Another build of `aesthetix` (`BENCH_BASELINE`) instead of this one.
    program: Option<PathBuf>,
}

/// `BENCH_BASELINE`: another build of `aesthetix` (say, the one before a change) imported
/// alternately with this one in every run, for before/after ratios taken in one run.
fn baseline() -> Option<PathBuf> {
    std::env::var_os("BENCH_BASELINE").map(PathBuf::from)
}

/// The ways the `all` runs import besides the shipped one (a checkpoint every 1,000 rows,
/// `synchronous=FULL`), each as a ratio to the shipped import of the same run:
/// - the file with `USA` written `US`: what reading the `USA` cells costs;
/// - chunked checkpoints (SPEC §9.5): 10 times fewer checkpoints (10,000 rows a chunk, the
///   most a chunk may hold) and 10 times more (100 rows); the slope between them prices one;
/// - `synchronous=NORMAL`, which in WAL mode skips the fsync at each commit.
fn variants(all: bool) -> Vec<Variant> {
    let mut v = vec![Variant {
        name: "as shipped",
        us_file: false,
        env: vec![],
        program: None,
    }];
    if let Some(baseline) = baseline() {
        v.push(Variant {
            name: "the baseline build (BENCH_BASELINE)",
            us_file: false,
            env: vec![],
            program: Some(baseline),
        });
    }
    if all {
        v.extend([
            Variant {
                name: "the file with USA written US",
                us_file: true,
                env: vec![],
                program: None,
            },
            Variant {
                name: "a checkpoint every 10,000 rows",
                us_file: false,
                env: vec![("AESTHETIX_CHUNK_ROWS", "10000")],
                program: None,
            },
            Variant {
                name: "a checkpoint every 100 rows",
                us_file: false,
                env: vec![("AESTHETIX_CHUNK_ROWS", "100")],
                program: None,
            },
            Variant {
                name: "synchronous=NORMAL",
                us_file: false,
                env: vec![("AESTHETIX_SQLITE_SYNCHRONOUS", "normal")],
                program: None,
            },
        ]);
    }
    v
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn show(t: &Took) -> String {
    format!(
        "{:.2} s wall, {:.2} s CPU, peak {:.0} MiB",
        t.wall, t.cpu, t.rss
    )
}

/// The medians of a series of measurements.
fn summary(xs: &[Took]) -> Took {
    Took {
        wall: median(xs.iter().map(|t| t.wall).collect()),
        cpu: median(xs.iter().map(|t| t.cpu).collect()),
        rss: median(xs.iter().map(|t| t.rss).collect()),
    }
}

/// The export's 10 columns, and the same rows and columns read by `sqlite3 -csv`.
const EXPORT_COLUMNS: &str = "first_name,last_name,email,phone,company_name,status,country,tags,treatment_of_interest,patient_lifetime_value";
const EXPORT_SQL: &str = "SELECT c.first_name, c.last_name, c.email, c.phone, c.company_name, c.status, c.country, \
     (SELECT group_concat(t.name, ', ') FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id), \
     json_extract(c.custom_values, '$.treatment_of_interest'), json_extract(c.custom_values, '$.patient_lifetime_value') \
     FROM contacts c WHERE c.location_id = 1 ORDER BY c.id;";

/// The SQLite scenarios: the import against `sqlite3 .import`, and (on the empty location)
/// the export of what it imported against `sqlite3 -csv` and, given its file, the companies
/// import against the contacts import.
fn sqlite_scenario(
    name: &str,
    files: (&Path, &Path),
    companies: Option<&Path>,
    work: &Path,
    runs: usize,
    existing: usize,
    all: bool,
) {
    let template = work.join("template");
    let _ = std::fs::remove_dir_all(&template);
    run_ok(&mut aesthetix(
        &template,
        None,
        &["location", "create", "Bench"],
    ));
    if existing > 0 {
        seed_existing(&template, existing);
    }
    let companies_template = work.join("template-companies");
    if companies.is_some() {
        let _ = std::fs::remove_dir_all(&companies_template);
        companies_setup(&companies_template, None);
    }
    let (mut company_took, mut company_ratios) = (Vec::new(), Vec::new());
    let variants = variants(all);
    let mut ours: Vec<Vec<Took>> = vec![Vec::new(); variants.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut cpu_ratios = Vec::new();
    let mut theirs = Vec::new();
    let (mut export, mut csv, mut export_ratios) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // The commands alternate, each run starting with another, so a slow moment of the
        // shared machine does not always fall on the same one.
        // After the variants: sqlite3 .import, then the companies import.
        let companies_at = variants.len() + 1;
        let n = companies_at + usize::from(companies.is_some());
        let mut this_run = vec![Took::default(); n];
        for k in 0..n {
            let v = (run + k) % n;
            if v == variants.len() {
                this_run[v] = timed(&mut sqlite3_import(work, files.0));
                continue;
            }
            if let (true, Some(file)) = (v == companies_at, companies) {
                let data = work.join("run-companies");
                let _ = std::fs::remove_dir_all(&data);
                copy_dir(&companies_template, &data);
                this_run[v] = timed(&mut aesthetix(&data, None, &companies_import_args(file)));
                if run == 0 {
                    println!(
                        "  companies imported: {} records from the file's rows",
                        count_companies(&data)
                    );
                }
                let _ = std::fs::remove_dir_all(&data);
                continue;
            }
            let data = work.join(format!("run-{v}"));
            let _ = std::fs::remove_dir_all(&data);
            copy_dir(&template, &data);
            let file = if variants[v].us_file {
                files.1
            } else {
                files.0
            };
            let mut cmd = binary(
                variants[v].program.as_deref(),
                &data,
                None,
                &import_args(file),
            );
            for (key, value) in &variants[v].env {
                cmd.env(key, value);
            }
            this_run[v] = timed(&mut cmd);
            if v == 0 && existing == 0 {
                let out = work.join("export.csv");
                let mut ex = aesthetix(
                    &data,
                    None,
                    &[
                        "export",
                        "contacts",
                        "--location",
                        "Bench",
                        "--columns",
                        EXPORT_COLUMNS,
                        "--output",
                        out.to_str().unwrap(),
                    ],
                );
                let mut sq = Command::new("sqlite3");
                sq.arg("-csv")
                    .arg("-header")
                    .arg(data.join("aesthetix.db"))
                    .arg(format!(".once {}", work.join("sqlite3.csv").display()))
                    .arg(EXPORT_SQL);
                let (e, s) = if run % 2 == 0 {
                    let e = timed(&mut ex);
                    (e, timed(&mut sq))
                } else {
                    let s = timed(&mut sq);
                    (timed(&mut ex), s)
                };
                export_ratios.push(e.wall / s.wall);
                export.push(e);
                csv.push(s);
            }
            let _ = std::fs::remove_dir_all(&data);
        }
        let anchor = this_run[variants.len()];
        theirs.push(anchor);
        ratios[0].push(this_run[0].wall / anchor.wall);
        cpu_ratios.push(this_run[0].cpu / anchor.cpu);
        for v in 1..variants.len() {
            ratios[v].push(this_run[v].wall / this_run[0].wall);
        }
        for (v, t) in this_run.iter().take(variants.len()).enumerate() {
            ours[v].push(*t);
        }
        println!(
            "  run {run}: ours {} | sqlite3 .import {} → {:.2}×",
            show(&this_run[0]),
            show(&anchor),
            this_run[0].wall / anchor.wall
        );
        if companies.is_some() {
            let c = this_run[companies_at];
            company_ratios.push(c.wall / this_run[0].wall);
            company_took.push(c);
            println!(
                "  run {run}: companies {} → {:.2}× the contacts import",
                show(&c),
                c.wall / this_run[0].wall
            );
        }
    }
    println!("{name} ({runs} runs; medians; ratios are medians of per-run ratios):");
    println!("  sqlite3 .import: {}", show(&summary(&theirs)));
    for (v, variant) in variants.iter().enumerate() {
        let ratio = if v == 0 {
            format!(
                "{:.2}× sqlite3 .import wall ({:.2}× its CPU)",
                median(ratios[0].clone()),
                median(cpu_ratios.clone())
            )
        } else {
            format!("{:.3}× as shipped", median(ratios[v].clone()))
        };
        println!("  {}: {} — {ratio}", variant.name, show(&summary(&ours[v])));
    }
    if all {
        let rows = env_or("BENCH_ROWS", 200_000usize);
        let checkpoints = |chunk: usize| rows.div_ceil(chunk) as f64;
        let at = |name: &str| variants.iter().position(|v| v.name == name).unwrap();
        let slope: Vec<f64> = ours[at("a checkpoint every 10,000 rows")]
            .iter()
            .zip(&ours[at("a checkpoint every 100 rows")])
            .map(|(few, many)| {
                (many.wall - few.wall) / (checkpoints(100) - checkpoints(10_000)) * 1000.0
            })
            .collect();
        println!(
            "  one checkpoint costs {:.2} ms (slope from 10,000 rows a chunk to 100)",
            median(slope)
        );
    }
    if !company_took.is_empty() {
        println!(
            "  companies import (2 unique fields, upsert): {} — {:.2}× the contacts import wall",
            show(&summary(&company_took)),
            median(company_ratios)
        );
    }
    if !export.is_empty() {
        println!(
            "  export of the imported contacts, 10 columns: {} vs sqlite3 -csv {} — {:.2}×",
            show(&summary(&export)),
            show(&summary(&csv)),
            median(export_ratios)
        );
    }
}

/// How many companies a data dir's SQLite database holds.
fn count_companies(data: &Path) -> String {
    let out = Command::new("sqlite3")
        .arg(data.join("aesthetix.db"))
        .arg("SELECT count(*) FROM object_records WHERE object = 'company';")
        .output()
        .expect("run sqlite3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `psql` against `url` with its database replaced by `db`.
fn psql(url: &str, db: &str) -> Command {
    let mut c = Command::new("psql");
    c.arg("-X")
        .arg("-q")
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-d")
        .arg(with_database(url, db));
    c
}

/// The URL with its database path replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The PostgreSQL scenario: the import into a fresh database per run against `psql \copy`
/// into the indexed table (a fresh database too), alternating; with `BENCH_BASELINE`, that
/// build's import too; given its file, the companies import (a fresh database too).
fn postgres_scenario(url: &str, file: &Path, companies: Option<&Path>, work: &Path, runs: usize) {
    let admin_db = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, db)| db.split('?').next().unwrap_or("postgres").to_string())
        .filter(|db| !db.is_empty())
        .unwrap_or_else(|| "postgres".to_string());
    let prefix = format!("aesthetix_bench_{}", std::process::id());
    // 0: ours, 1: psql \copy, 2: the baseline build, then the companies import.
    let programs: Vec<Option<PathBuf>> =
        std::iter::once(None).chain(baseline().map(Some)).collect();
    let companies_at = programs.len() + 1;
    let n = companies_at + usize::from(companies.is_some());
    let (mut company_took, mut company_ratios) = (Vec::new(), Vec::new());
    let mut took: Vec<Vec<Took>> = vec![Vec::new(); n];
    let (mut ratios, mut before) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let mut this_run = vec![Took::default(); n];
        for k in 0..n {
            let which = (run + k) % n;
            let db = format!("{prefix}_{run}_{which}");
            run_ok(
                psql(url, &admin_db)
                    .arg("-c")
                    .arg(format!("CREATE DATABASE {db}")),
            );
            if which == 1 {
                let script = work.join("anchor-pg.sql");
                std::fs::write(
                    &script,
                    format!(
                        "{ANCHOR_TABLE}\\copy t FROM '{}' WITH (FORMAT csv, HEADER true)\n",
                        file.display()
                    ),
                )
                .unwrap();
                this_run[1] = timed(psql(url, &db).arg("-f").arg(&script));
            } else if let (true, Some(companies)) = (which == companies_at, companies) {
                let data = work.join("pg-data");
                let _ = std::fs::remove_dir_all(&data);
                let db_url = with_database(url, &db);
                companies_setup(&data, Some(&db_url));
                this_run[which] = timed(&mut aesthetix(
                    &data,
                    Some(&db_url),
                    &companies_import_args(companies),
                ));
                let _ = std::fs::remove_dir_all(&data);
            } else {
                let program = programs[if which == 0 { 0 } else { 1 }].as_deref();
                let data = work.join("pg-data");
                let _ = std::fs::remove_dir_all(&data);
                let db_url = with_database(url, &db);
                run_ok(&mut binary(
                    program,
                    &data,
                    Some(&db_url),
                    &["location", "create", "Bench"],
                ));
                this_run[which] = timed(&mut binary(
                    program,
                    &data,
                    Some(&db_url),
                    &import_args(file),
                ));
                let _ = std::fs::remove_dir_all(&data);
            }
            run_ok(
                psql(url, &admin_db)
                    .arg("-c")
                    .arg(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")),
            );
        }
        println!(
            "  run {run}: ours {} | psql \\copy {} → {:.2}×",
            show(&this_run[0]),
            show(&this_run[1]),
            this_run[0].wall / this_run[1].wall
        );
        ratios.push(this_run[0].wall / this_run[1].wall);
        if programs.len() > 1 {
            before.push(this_run[2].wall / this_run[0].wall);
        }
        if companies.is_some() {
            let c = this_run[companies_at];
            company_ratios.push(c.wall / this_run[0].wall);
            company_took.push(c);
            println!(
                "  run {run}: companies {} → {:.2}× the contacts import",
                show(&c),
                c.wall / this_run[0].wall
            );
        }
        for (i, t) in this_run.into_iter().enumerate() {
            took[i].push(t);
        }
    }
    println!(
        "PostgreSQL, empty location ({runs} runs; medians; ratios are medians of per-run ratios):"
    );
    println!("  psql \\copy: {}", show(&summary(&took[1])));
    println!(
        "  as shipped: {} — {:.2}× psql \\copy wall",
        show(&summary(&took[0])),
        median(ratios)
    );
    if programs.len() > 1 {
        println!(
            "  the baseline build (BENCH_BASELINE): {} — {:.3}× as shipped",
            show(&summary(&took[2])),
            median(before)
        );
    }
    if !company_took.is_empty() {
        println!(
            "  companies import (2 unique fields, upsert): {} — {:.2}× the contacts import wall",
            show(&summary(&company_took)),
            median(company_ratios)
        );
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
    let rows: usize = env_or("BENCH_ROWS", 200_000);
    let runs: usize = env_or("BENCH_RUNS", 3);
    let existing: usize = env_or("BENCH_EXISTING", 1_000_000);
    let all = std::env::var("BENCH_VARIANTS").is_ok_and(|v| v == "all");
    let database_url = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("AESTHETIX_TEST_DATABASE_URL"))
        .ok()
        .filter(|u| u != "none" && !u.is_empty());
    let work: PathBuf = std::env::temp_dir().join("aesthetix-bench");
    std::fs::create_dir_all(&work).unwrap();
    let file = generate(&work, "contacts", rows);
    let companies =
        (env_or("BENCH_COMPANIES", 1usize) != 0).then(|| generate(&work, "companies", rows));
    let us = if all {
        without_usa(&work, &file)
    } else {
        file.clone()
    };
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(
        size <= 30_000_000,
        "the generated file ({size} bytes) is over the 30 MB import limit; lower BENCH_ROWS"
    );
    println!(
        "file: gen_contacts.py {rows} rows, {:.1} MB",
        size as f64 / 1e6
    );
    if let Some(companies) = &companies {
        let size = std::fs::metadata(companies).unwrap().len();
        assert!(
            size <= 30_000_000,
            "the companies file ({size} bytes) is over the 30 MB import limit; lower BENCH_ROWS"
        );
        println!(
            "file: gen_companies.py {rows} rows, {:.1} MB",
            size as f64 / 1e6
        );
    }
    sqlite_scenario(
        "SQLite, empty location",
        (&file, &us),
        companies.as_deref(),
        &work,
        runs,
        0,
        all,
    );
    if existing > 0 {
        sqlite_scenario(
            &format!("SQLite, location with {existing} contacts"),
            (&file, &us),
            None,
            &work,
            runs,
            existing,
            false,
        );
    }
    match &database_url {
        Some(url) => postgres_scenario(url, &file, companies.as_deref(), &work, runs),
        None => {
            println!("PostgreSQL: skipped (set BENCH_DATABASE_URL or AESTHETIX_TEST_DATABASE_URL)")
        }
    }
}
