//! The error log of an import (SPEC §9.3): a CSV of every failed or warned line with its
//! original cells, for the user to fix and import again.
//!
//! Format — the one SPEC §10 gives every CSV the product writes: UTF-8 with a BOM, comma
//! separated, CRLF after every record, RFC 4180 quoting (a field is quoted when it holds `,`
//! `"` CR LF — or `;` or a tab, which European Excel splits on — and inner quotes are doubled),
//! every cell, header included, neutralised against formula injection.
//!
//! Columns: the file's headers in their order, a `Contact ID` column when the file had none,
//! then the five of
//! `engine::mapping::ERROR_LOG_COLUMNS` (`Import Line`, `Import Status`, `Error Code`, `Import
//! Error`, `How to Fix`), the very names the importer ignores. A header that is itself one of
//! those five (an error log imported again) is left out: the importer ignored it, its values
//! are the last run's, and keeping it would give the next log the same header twice. One
//! record per warning or error line, in file order:
//! - `Import Line` is the line number as the report and a spreadsheet show it;
//! - `Import Status` is `error` or `warning`;
//! - a warned line that wrote a contact (created or updated it) carries its id in the file's
//!   own Contact ID column, or the one added, and its `How to Fix` ends with [`KEEP_THE_ID`]:
//!   the fixed log imported again with Add & Update updates that contact instead of making a
//!   second one. Error lines (nothing written) and skipped lines carry none;
//! - a line with several messages stays ONE record: `Error Code` holds the codes joined with
//!   `"; "`, `Import Error` and `How to Fix` the messages and fixes one per line (LF-separated
//!   inside the quoted cell), so the n-th code, message and fix belong together — a message may
//!   itself hold `;`, never a line break.
//!
//! Each original cell is written as the importer read it, neutralised:
//! `neutralise(unneutralise(cell))`. Importing the log again therefore reads exactly what
//! importing the original file read (the importer removes one `'`), and a cell that came from
//! one of our own exports (already `'=…`) is written unchanged.
//!
//! The log is streamed page by page from the store, so memory stays flat however many lines
//! the job has; [`save_error_log`] writes a temporary file beside the destination and renames
//! it into place, so the destination never holds a truncated log; the temporary file a killed
//! write left behind is removed by the next write of the same log.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use domain::job::{LineAction, LineStatus};
use domain::value::{needs_quotes_for_excel, neutralise, unneutralise};
use engine::mapping::{ERROR_LOG_COLUMNS, normalise_header};
use store::{LineRecord, LineTab, LocationId, Store, StoreError};

/// Lines read from the store per query while writing.
const PAGE: u32 = 500;

/// The column a warned line's contact id goes in (SPEC §9.3), when the file had none.
pub const ID_COLUMN: &str = "Contact ID";

/// The column a warned line's opportunity id goes in, for an opportunities import (SPEC §7),
/// when the file had none.
pub const OPPORTUNITY_ID_COLUMN: &str = "Opportunity ID";

/// Why an error log could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ErrorLogError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("could not write the error log: {0}")]
    Write(#[from] io::Error),
    #[error("could not write the error log to {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ErrorLogError {
    /// The job is not there, or not the location's.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ErrorLogError::Store(e) if e.is_not_found())
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorLogSummary {
    /// Records below the header: the job's warning and error lines.
    pub lines: u64,
    pub errors: u64,
    pub warnings: u64,
}

/// Writes one CSV record the SPEC §10 way: quoted when [`needs_quotes_for_excel`], inner
/// quotes doubled, CRLF at the end. Fields are written as given (neutralise them first).
pub fn write_record<W: Write, S: AsRef<str>>(out: &mut W, fields: &[S]) -> io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let field = field.as_ref();
        if needs_quotes_for_excel(field) {
            out.write_all(b"\"")?;
            out.write_all(field.replace('"', "\"\"").as_bytes())?;
            out.write_all(b"\"")?;
        } else {
            out.write_all(field.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}

/// A cell as it goes into the log: what the importer read from it, neutralised.
fn cell(value: &str) -> Cow<'_, str> {
    neutralise(unneutralise(value))
}

/// The record id a line carries in the log (SPEC §9.3): a warned line that wrote a record
/// (created or updated it); never an error line, nor a line that was skipped.
fn written_record(line: &LineRecord) -> Option<i64> {
    (line.status == LineStatus::Warning
        && matches!(line.action, LineAction::Created | LineAction::Updated))
    .then_some(line.record_id)
    .flatten()
}

/// The opportunity a warned line of an opportunities import wrote (SPEC §7).
fn written_opportunity(line: &LineRecord) -> Option<i64> {
    (line.status == LineStatus::Warning)
        .then_some(line.opportunity_id)
        .flatten()
        .flatten()
}

/// The last fix of a line that carries its record's id (SPEC §9.3).
pub const KEEP_THE_ID: &str =
    "After fixing, keep the Contact ID and import this file again with Add & Update";

/// The log columns of one line: line, status, codes, messages, fixes.
fn log_fields(line: &LineRecord) -> [String; 5] {
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let codes: Vec<&str> = line.messages.iter().map(|m| m.code.as_ref()).collect();
    let messages: Vec<String> = line.messages.iter().map(|m| one_line(&m.message)).collect();
    let mut fixes: Vec<String> = line
        .messages
        .iter()
        .map(|m| one_line(&m.resolution))
        .collect();
    if written_record(line).is_some() {
        fixes.push(KEEP_THE_ID.to_string());
    }
    [
        line.line.to_string(),
        line.status.to_string(),
        codes.join("; "),
        messages.join("\n"),
        fixes.join("\n"),
    ]
}

/// Writes the error log of a job of `location` to `out`, page by page. A job without warning
/// or error lines gives the header alone. `out` is flushed, not closed.
pub async fn write_error_log<W: Write>(
    store: &Store,
    location: LocationId,
    job: i64,
    out: W,
) -> Result<ErrorLogSummary, ErrorLogError> {
    let headers = store.job_headers(location, job).await?;
    let log_names: Vec<String> = ERROR_LOG_COLUMNS
        .iter()
        .map(|h| normalise_header(h))
        .collect();
    // The file's columns the log keeps (all but an earlier log's own five).
    let kept: Vec<usize> = (0..headers.len())
        .filter(|i| !log_names.contains(&normalise_header(&headers[*i])))
        .collect();

    // The record's id goes in the file's own Contact ID column, else in one added after the
    // original columns (SPEC §9.3).
    let id_names = [normalise_header(ID_COLUMN), normalise_header("contact_id")];
    let own_id = kept
        .iter()
        .position(|i| id_names.contains(&normalise_header(&headers[*i])));
    // An opportunities import's log carries the opportunity's id too, likewise.
    let opportunities = store.job(location, job).await?.object == domain::ObjectKind::Opportunity;
    let opportunity_names = [
        normalise_header(OPPORTUNITY_ID_COLUMN),
        normalise_header("opportunity_id"),
    ];
    let own_opportunity_id = kept
        .iter()
        .position(|i| opportunity_names.contains(&normalise_header(&headers[*i])));
    let added_opportunity_id = opportunities && own_opportunity_id.is_none();

    let mut out = BufWriter::with_capacity(64 * 1024, out);
    out.write_all("\u{feff}".as_bytes())?;
    let mut header: Vec<Cow<'_, str>> = kept.iter().map(|i| cell(&headers[*i])).collect();
    if own_id.is_none() {
        header.push(Cow::Borrowed(ID_COLUMN));
    }
    if added_opportunity_id {
        header.push(Cow::Borrowed(OPPORTUNITY_ID_COLUMN));
    }
    header.extend(ERROR_LOG_COLUMNS.iter().map(|c| neutralise(c)));
    write_record(&mut out, &header)?;

    let mut summary = ErrorLogSummary::default();
    let mut after = None;
    let mut record: Vec<String> = Vec::with_capacity(kept.len() + ERROR_LOG_COLUMNS.len());
    loop {
        let page = store
            .job_lines_page(location, job, LineTab::Problems, after, PAGE)
            .await?;
        for line in &page {
            record.clear();
            let cells = line.cells.as_deref().unwrap_or_default();
            // One cell per column of the file (short rows read blanks, SPEC §4).
            for &i in &kept {
                record.push(cell(cells.get(i).map_or("", String::as_str)).into_owned());
            }
            let id = written_record(line).map(|id| id.to_string());
            match (own_id, id) {
                (Some(at), Some(id)) => record[at] = id,
                (None, id) => record.push(id.unwrap_or_default()),
                (Some(_), None) => {}
            }
            if opportunities {
                let id = written_opportunity(line).map(|id| id.to_string());
                match (own_opportunity_id, id) {
                    (Some(at), Some(id)) => record[at] = id,
                    (None, id) => record.push(id.unwrap_or_default()),
                    (Some(_), None) => {}
                }
            }
            record.extend(log_fields(line).iter().map(|f| neutralise(f).into_owned()));
            write_record(&mut out, &record)?;
            summary.lines += 1;
            match line.status {
                LineStatus::Error => summary.errors += 1,
                _ => summary.warnings += 1,
            }
        }
        // The crash tests kill the process here, with part of the log written.
        out.flush()?;
        store::failpoint::hit("error_log_page");
        if page.len() < PAGE as usize {
            break;
        }
        after = page.last().map(|l| l.line);
    }
    out.flush()?;
    Ok(summary)
}

/// Writes the error log of a job to `path`: into a temporary file beside it, synced, then
/// renamed over `path`, so that a write cut short (a kill, a full disk) leaves whatever was at
/// `path` before — never half a log.
pub async fn save_error_log(
    store: &Store,
    location: LocationId,
    job: i64,
    path: &Path,
) -> Result<ErrorLogSummary, ErrorLogError> {
    let file_error = |source| ErrorLogError::File {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .ok_or_else(|| file_error(io::Error::other("the path names no file")))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    remove_stale_partials(&dir, &prefix);
    let temp = dir.join(format!("{prefix}{}.partial", std::process::id()));
    let file = File::create(&temp).map_err(file_error)?;
    let written = async {
        let summary = write_error_log(store, location, job, &file)
            .await
            .map_err(|e| match e {
                ErrorLogError::Write(e) => file_error(e),
                e => e,
            })?;
        file.sync_all().map_err(file_error)?;
        store::failpoint::hit("error_log_before_rename");
        std::fs::rename(&temp, path).map_err(file_error)?;
        Ok(summary)
    }
    .await;
    drop(file);
    match written {
        Ok(summary) => {
            // Make the rename itself durable (best effort: not every platform opens directories).
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Removes the temporary files (`.NAME.PID.partial`) that earlier writes of the same log left
/// when their process was killed: those whose process no longer runs.
fn remove_stale_partials(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|n| n.strip_suffix(".partial"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests;
