//! Sending a file as a download: streamed from disk in chunks (memory stays flat whatever its
//! size), named with RFC 6266's `filename*` so a name with quotes, line breaks, slashes or any
//! script never becomes a header injection or a path.

use std::path::{Path, PathBuf};

use axum::body::Bytes;
use futures_util::Stream;
use tokio::io::AsyncReadExt;

/// How much of a file one chunk of the body carries.
const CHUNK: usize = 64 * 1024;

/// The body of a download: `file` read to its end in 64 KiB chunks.
pub fn file_stream(file: tokio::fs::File) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266, RFC 8187): the quoted name keeps
/// only printable ASCII other than `"` and `\` (others become `_`), the extended one
/// percent-encodes every byte outside RFC 8187's attr-char. Path separators and control
/// characters never survive either form.
pub fn content_disposition(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' || jobs::wizard::is_bidi_control(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim();
    let cleaned = if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "download"
    } else {
        cleaned
    };
    let ascii: String = cleaned
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut extended = String::new();
    for b in cleaned.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            extended.push(b as char);
        } else {
            extended.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{extended}")
}

/// An import's error log (SPEC §9.3) as a streamed body, for the Bulk Actions page and the API
/// alike: written page by page to a fresh file under `DATA_DIR/tmp`, whose name is removed as
/// soon as it is open — the open file stays readable, memory stays flat, nothing is left behind.
pub async fn error_log_file(
    store: &store::Store,
    data_dir: &Path,
    location: store::LocationId,
    job: i64,
) -> Result<tokio::fs::File, jobs::ErrorLogError> {
    let path = temp_path(data_dir, "csv").map_err(|source| jobs::ErrorLogError::File {
        path: data_dir.join("tmp"),
        source,
    })?;
    let saved = jobs::save_error_log(store, location, job, &path).await;
    let opened = match saved {
        Ok(_) => tokio::fs::File::open(&path)
            .await
            .map_err(|source| jobs::ErrorLogError::File {
                path: path.clone(),
                source,
            }),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&path).await;
    opened
}

/// A fresh path under `data_dir/tmp/` with a random name: never derived from user input.
pub fn temp_path(data_dir: &Path, extension: &str) -> std::io::Result<PathBuf> {
    let dir = data_dir.join("tmp");
    std::fs::create_dir_all(&dir)?;
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(dir.join(format!("{name}.{extension}")))
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn hostile_names_never_escape_the_header_or_name_a_path() {
        let cases = [
            (
                "contacts.csv",
                "attachment; filename=\"contacts.csv\"; filename*=UTF-8''contacts.csv",
            ),
            (
                "../../x.csv",
                "attachment; filename=\".._.._x.csv\"; filename*=UTF-8''.._.._x.csv",
            ),
            (
                "a\"\r\nSet-Cookie: x=1.csv",
                "attachment; filename=\"a___Set-Cookie: x=1.csv\"; filename*=UTF-8''a%22__Set-Cookie%3A%20x%3D1.csv",
            ),
            (
                "Patienten Zürich.csv",
                "attachment; filename=\"Patienten Z_rich.csv\"; filename*=UTF-8''Patienten%20Z%C3%BCrich.csv",
            ),
            (
                "evil\u{202E}vsc.exe",
                "attachment; filename=\"evil_vsc.exe\"; filename*=UTF-8''evil_vsc.exe",
            ),
            (
                "..",
                "attachment; filename=\"download\"; filename*=UTF-8''download",
            ),
        ];
        for (name, want) in cases {
            let got = content_disposition(name);
            assert_eq!(got, want, "{name:?}");
            assert!(!got.contains('\r') && !got.contains('\n'));
        }
    }
}
