//! `aesthetix split FILE [--max-mb N] [--output-dir DIR] [--sheet NAME]` (SPEC §4, §11): a file
//! over the size limit becomes `NAME-part-1.csv`, `NAME-part-2.csv`, … in SPEC §10's format,
//! each with the header row, each under the limit, never cutting a record, rows in order. A
//! CSV (any encoding SPEC §4 reads) or a workbook's sheet may be split; the file is streamed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use domain::value::{neutralise, unneutralise};
use jobs::error_log::write_record;
use tabular::ReadOptions;

/// The import's limit (SPEC §4): a part must stay under it to be imported.
const LIMIT_MB: f64 = 30.0;

#[derive(Args, Debug)]
pub struct SplitArgs {
    /// The CSV, TSV, TXT or XLSX file to split.
    file: PathBuf,
    /// The largest part, in MB of 1,000,000 bytes (at most 30, the import's limit).
    #[arg(long, default_value = "29")]
    max_mb: f64,
    /// Where the parts go (default: beside the file).
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// The sheet to split, for a workbook with several.
    #[arg(long)]
    sheet: Option<String>,
}

/// One part being written.
struct Part {
    path: PathBuf,
    out: BufWriter<File>,
    bytes: u64,
    rows: u64,
}

fn open_part(dir: &Path, stem: &str, n: usize, header: &[u8]) -> anyhow::Result<Part> {
    let path = dir.join(format!("{stem}-part-{n}.csv"));
    if path.exists() {
        bail!(
            "{} exists already; move it away or choose another --output-dir",
            path.display()
        );
    }
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("could not write {}", path.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all(header)?;
    Ok(Part {
        path,
        out,
        bytes: header.len() as u64,
        rows: 0,
    })
}

fn close(part: Part, written: &mut Vec<(PathBuf, u64, u64)>) -> anyhow::Result<()> {
    let Part {
        path,
        mut out,
        bytes,
        rows,
    } = part;
    out.flush()
        .with_context(|| format!("could not write {}", path.display()))?;
    out.get_ref()
        .sync_all()
        .with_context(|| format!("could not write {}", path.display()))?;
    written.push((path, rows, bytes));
    Ok(())
}

/// A record in SPEC §10's format, each cell written as the importer reads it, neutralised.
fn record(cells: &[String]) -> Vec<u8> {
    let fields: Vec<String> = cells
        .iter()
        .map(|c| neutralise(unneutralise(c)).into_owned())
        .collect();
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 1).sum::<usize>() + 2);
    write_record(&mut out, &fields).expect("writing to memory");
    out
}

pub fn split(args: &SplitArgs) -> anyhow::Result<ExitCode> {
    if !(args.max_mb > 0.0 && args.max_mb <= LIMIT_MB) {
        bail!(
            "--max-mb must be more than 0 and at most {LIMIT_MB} (the import's limit); got {}",
            args.max_mb
        );
    }
    let max = (args.max_mb * 1_000_000.0).floor() as u64;
    if !args.file.is_file() {
        bail!("there is no file at {}", args.file.display());
    }
    let opts = ReadOptions {
        // A file is split because it is over the import's limit.
        max_file_bytes: u64::MAX,
        sheet: args.sheet.clone(),
        ..ReadOptions::default()
    };
    let info = tabular::inspect(&args.file, &opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = match &args.output_dir {
        Some(d) => d.clone(),
        None => args
            .file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let stem = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "file".into());

    let headers: Vec<String> = info.columns.iter().map(|c| c.header.clone()).collect();
    let mut header = "\u{feff}".as_bytes().to_vec();
    header.extend(record(&headers));
    if header.len() as u64 >= max {
        bail!(
            "the header row alone is {} bytes, more than --max-mb allows",
            header.len()
        );
    }

    let mut written: Vec<(PathBuf, u64, u64)> = Vec::new();
    let mut part = open_part(&dir, &stem, 1, &header)?;
    let mut rows = tabular::rows(&args.file, &info).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut row = tabular::Row::default();
    let mut problems = 0u64;
    while rows
        .next_into(&mut row)
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        if row.blank {
            continue;
        }
        for m in row
            .messages
            .iter()
            .filter(|m| m.code == "encoding.invalid_byte")
        {
            problems += 1;
            eprintln!("warning: row {}: {}", row.line, m.message);
        }
        let bytes = record(&row.cells);
        let len = bytes.len() as u64;
        if header.len() as u64 + len > max {
            bail!(
                "row {} alone is {len} bytes, more than a part of --max-mb {} can hold",
                row.line,
                args.max_mb
            );
        }
        if part.bytes + len > max {
            let n = written.len() + 2;
            close(part, &mut written)?;
            part = open_part(&dir, &stem, n, &header)?;
        }
        part.out
            .write_all(&bytes)
            .with_context(|| format!("could not write {}", part.path.display()))?;
        part.bytes += len;
        part.rows += 1;
    }
    close(part, &mut written)?;
    let total: u64 = written.iter().map(|(_, rows, _)| rows).sum();
    for (path, rows, bytes) in &written {
        println!("{}: {rows} rows, {bytes} bytes", path.display());
    }
    println!(
        "Split {} into {} parts ({total} rows), each with the header row.",
        args.file.display(),
        written.len()
    );
    if problems > 0 {
        eprintln!(
            "{problems} cells held bytes that are not text in the file's encoding; they were left empty (see the warnings above)."
        );
    }
    Ok(ExitCode::SUCCESS)
}
