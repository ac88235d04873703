//! The export benchmark of the export issue: 1,000,000 contacts with tags, notes, additional
//! emails and values in three custom fields, exported with the default columns by the release
//! `aesthetix export contacts` on SQLite, against `sqlite3 -csv` writing a comparable table —
//! the same 39 columns, already flattened (tags joined, latest note, DND as text) — alternating
//! in one run. Whole-process wall time and peak RSS (from `/usr/bin/time`).
//!
//! `cargo bench -p aesthetix --bench export` — options by environment: `BENCH_ROWS`
//! (1000000), `BENCH_RUNS` (3). Not part of `cargo test`.
//!
//! The file store: local by default; `AESTHETIX_FILE_STORE=s3://BUCKET/PREFIX` (with
//! `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), which the
//! benchmarked binary reads like any `aesthetix` command, runs it against an S3-compatible
//! bucket instead — the cost of the S3 store is the ratio of the two runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one command took: wall seconds, CPU seconds (user + system), peak RSS in MiB.
#[derive(Clone, Copy)]
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
    let start = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M %U %S")
        .arg("-o")
        .arg(&rss_file)
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("run /usr/bin/time");
    let wall = start.elapsed().as_secs_f64();
    assert!(status.success(), "benchmark command failed: {cmd:?}");
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

fn sqlite3(db: &Path, sql: &str) {
    let ok = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .stdout(Stdio::null())
        .status()
        .expect("sqlite3")
        .success();
    assert!(ok, "sqlite3 {}: {sql}", db.display());
}

/// The location's contacts, straight through SQL (setup, not measured): typical values,
/// three of the six starter custom fields filled, 1.5 tags a contact, a note for one in three,
/// an additional email for one in twenty.
fn seed(db: &Path, n: usize) {
    sqlite3(
        db,
        &format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
             INSERT INTO contacts (location_id, first_name, last_name, email, email_key, phone, company_name, \
             contact_type, status, source, city, state, postal_code, country, timezone, date_of_birth, \
             dnd_sms, custom_values, search_text, created_at, updated_at) \
             SELECT 1, 'First' || i, 'Last' || (i % 997), 'p' || i || '@example.com', 'p' || i || '@example.com', \
             '+1201' || printf('%07d', 2000000 + i), 'Glow Med Spa', CASE i % 3 WHEN 0 THEN 'Patient' ELSE 'Lead' END, \
             'Subscribed', 'Facebook', 'Austin', 'TX', '78701', 'US', 'America/Chicago', \
             printf('19%02d-%02d-%02d', 50 + i % 50, 1 + i % 12, 1 + i % 28), i % 10 = 0, \
             json_object('treatment_of_interest', 'Botox', 'patient_lifetime_value', printf('%d.%02d', i % 5000, i % 100), \
             'patient_since', '2023-04-05'), '', 1700000000000 + i * 1000, 1700000000000 + i * 1000 FROM s;\n\
             INSERT INTO tags (location_id, name, name_key, created_at) VALUES (1, 'VIP', 'vip', 0), \
             (1, 'Botox', 'botox', 0), (1, 'Filler', 'filler', 0), (1, 'Laser', 'laser', 0), (1, 'Lead Magnet', 'lead magnet', 0);\n\
             INSERT INTO contact_tags (contact_id, tag_id, location_id, created_at) SELECT id, 1 + id % 5, 1, 0 FROM contacts;\n\
             INSERT INTO contact_tags (contact_id, tag_id, location_id, created_at) SELECT id, 1 + (id + 2) % 5, 1, 0 FROM contacts WHERE id % 2 = 0;\n\
             INSERT INTO notes (location_id, contact_id, body, created_at) SELECT 1, id, \
             'Called about ' || id || ', wants a consult \"soon\".', 0 FROM contacts WHERE id % 3 = 0;\n\
             INSERT INTO contact_emails (contact_id, location_id, email, position) SELECT id, 1, 'alt' || id || '@example.org', 0 \
             FROM contacts WHERE id % 20 = 0;"
        ),
    );
}

/// The comparable table: the export's 39 default columns, already flattened, in a database of
/// its own.
fn flatten(from: &Path, to: &Path) {
    let _ = std::fs::remove_file(to);
    sqlite3(
        to,
        &format!(
            "ATTACH '{}' AS a;\n\
             CREATE TABLE flat AS SELECT c.first_name AS \"First Name\", c.last_name AS \"Last Name\", c.email AS \"Email\", \
             c.phone AS \"Phone\", c.phone_extension AS \"Phone Extension\", \
             (SELECT group_concat(e.email, ', ') FROM a.contact_emails e WHERE e.contact_id = c.id) AS \"Additional Emails\", \
             (SELECT group_concat(p.phone, ', ') FROM a.contact_phones p WHERE p.contact_id = c.id) AS \"Additional Phone Numbers\", \
             c.company_name AS \"Company Name\", c.contact_type AS \"Type of Contact\", c.status AS \"Status\", \
             CASE WHEN c.dnd_sms AND c.dnd_email AND c.dnd_calls AND c.dnd_voicemail THEN 'true' ELSE 'false' END AS \"Do Not Disturb\", \
             CASE WHEN c.dnd_sms THEN 'true' ELSE 'false' END AS \"DND SMS\", \
             CASE WHEN c.dnd_email THEN 'true' ELSE 'false' END AS \"DND Email\", \
             CASE WHEN c.dnd_calls THEN 'true' ELSE 'false' END AS \"DND Calls\", \
             CASE WHEN c.dnd_voicemail THEN 'true' ELSE 'false' END AS \"DND Voicemail\", \
             c.source AS \"Contact Source\", '' AS \"Contact Owner\", \
             (SELECT group_concat(t.name, ', ') FROM a.contact_tags ct JOIN a.tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id) AS \"Tags\", \
             (SELECT n.body FROM a.notes n WHERE n.contact_id = c.id ORDER BY n.id DESC LIMIT 1) AS \"Note\", \
             c.date_of_birth AS \"Date of Birth\", date(c.created_at / 1000, 'unixepoch') AS \"Created Date\", \
             c.address1 AS \"Address\", c.city AS \"City\", c.state AS \"State\", c.postal_code AS \"Postal Code\", \
             c.country AS \"Country\", c.timezone AS \"Time Zone\", c.website AS \"Website\", c.utm_source AS \"UTM Source\", \
             c.utm_medium AS \"UTM Medium\", c.utm_campaign AS \"UTM Campaign\", c.utm_term AS \"UTM Term\", \
             c.utm_content AS \"UTM Content\", json_extract(c.custom_values, '$.treatment_of_interest') AS \"Treatment of Interest\", \
             json_extract(c.custom_values, '$.patient_lifetime_value') AS \"Patient Lifetime Value\", \
             NULL AS \"New Lead Date\", json_extract(c.custom_values, '$.patient_since') AS \"Patient Since\", \
             NULL AS \"Next Appointment\", NULL AS \"Procedure Date\" FROM a.contacts c ORDER BY c.id;",
            from.display()
        ),
    );
}

fn aesthetix(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aesthetix"));
    c.arg("--data-dir").arg(data).args(args);
    c
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
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let work: PathBuf = std::env::temp_dir().join("aesthetix-bench-export");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let data = work.join("data");
    let ok = aesthetix(&data, &["location", "create", "Bench"])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let db = data.join("aesthetix.db");
    let t = Instant::now();
    seed(&db, rows);
    let flat = work.join("flat.db");
    flatten(&db, &flat);
    println!(
        "setup: {rows} contacts and the comparable table in {:.1} s (not measured)",
        t.elapsed().as_secs_f64()
    );

    let ours_out = work.join("ours.csv");
    let theirs_out = work.join("theirs.csv");
    let (mut ours, mut theirs): (Vec<Took>, Vec<Took>) = (vec![], vec![]);
    for run in 0..runs {
        let mut sqlite = Command::new("sqlite3");
        sqlite
            .arg("-csv")
            .arg("-header")
            .arg(&flat)
            .arg(format!(".once {}", theirs_out.display()))
            .arg("SELECT * FROM flat");
        let mut export = aesthetix(
            &data,
            &[
                "export",
                "contacts",
                "--location",
                "Bench",
                "--output",
                ours_out.to_str().unwrap(),
            ],
        );
        // Alternate which goes first, so neither always meets a warmer cache.
        let (s, o) = if run % 2 == 0 {
            let s = timed(&mut sqlite);
            (s, timed(&mut export))
        } else {
            let o = timed(&mut export);
            (timed(&mut sqlite), o)
        };
        let (a, b) = (
            std::fs::metadata(&ours_out).unwrap().len(),
            std::fs::metadata(&theirs_out).unwrap().len(),
        );
        println!(
            "run {run}: aesthetix {:.2} s wall, {:.2} s CPU, {:.0} MiB, {:.0} MB | sqlite3 -csv {:.2} s wall, {:.2} s CPU, {:.0} MiB, {:.0} MB",
            o.wall,
            o.cpu,
            o.rss,
            a as f64 / 1e6,
            s.wall,
            s.cpu,
            s.rss,
            b as f64 / 1e6
        );
        ours.push(o);
        theirs.push(s);
        // Each run's file would stay 30 days; the benchmark keeps only the last.
        let _ = std::fs::remove_dir_all(data.join("files"));
        let _ = std::fs::remove_dir_all(data.join("cache"));
    }
    let pick = |xs: &[Took], f: fn(&Took) -> f64| median(xs.iter().map(f).collect());
    let wall_ratio = median(
        ours.iter()
            .zip(&theirs)
            .map(|(o, s)| o.wall / s.wall)
            .collect(),
    );
    let cpu_ratio = median(
        ours.iter()
            .zip(&theirs)
            .map(|(o, s)| o.cpu / s.cpu)
            .collect(),
    );
    let t = pick(&ours, |t| t.wall);
    let u = pick(&theirs, |t| t.wall);
    println!(
        "export of {rows} contacts: aesthetix {t:.2} s = {:.0}k rows/s (peak RSS {:.0} MiB) vs sqlite3 -csv {u:.2} s = {:.0}k rows/s (peak RSS {:.0} MiB) — median ratio {wall_ratio:.2}× wall, {cpu_ratio:.2}× CPU over {runs} runs",
        rows as f64 / t / 1000.0,
        pick(&ours, |t| t.rss),
        rows as f64 / u / 1000.0,
        pick(&theirs, |t| t.rss),
    );
}
