//! The file store: where the product keeps the files it writes and reads back — uploads (an
//! import's file, a wizard draft's), export files — under names it generated, never a user's.
//!
//! Two places, one interface:
//! - the local directory `DATA_DIR/files` (the embedded default, one machine);
//! - an S3-compatible bucket (`s3://BUCKET/PREFIX`, SPEC §1's several machines), spoken through
//!   `object_store`, path-style so self-hosted servers (MinIO, Garage, Ceph, moto) work.
//!
//! What every caller can rely on, on both:
//! - a file becomes visible under its name only once it is whole: locally a temporary file
//!   beside it is synced and renamed; in S3 a multipart upload is invisible until its
//!   completion, which is atomic (a small file is one `PUT`, atomic too);
//! - nothing is held whole in memory: writes go out in parts of [`PART_BYTES`] (at most two in
//!   flight), reads come back as a stream, in ranges of [`RANGE_BYTES`] from S3;
//! - a reader that needs a seekable file (an import reading a workbook, the wizard's steps)
//!   asks for a [`FileStore::local_copy`]: the file itself locally, else a copy streamed into
//!   `DATA_DIR/cache` once and kept there (names are never reused, so a copy is never stale).
//!
//! It never decides what a file is or who may read it: callers look the name up in the
//! database, scoped by location, before they come here.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The size of one part of a multipart upload (S3's minimum but for the last part is 5 MiB).
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts of one upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;
/// How much one ranged read from S3 asks for.
pub const RANGE_BYTES: u64 = 8 * 1024 * 1024;
/// How much one chunk of a local file's stream carries.
const CHUNK: usize = 64 * 1024;

/// Why the file store could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file {0} is not in the file store")]
    NotFound(String),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the object store answered: {0}")]
    Remote(String),
    #[error("{0}")]
    Config(String),
}

impl FileError {
    pub fn is_not_found(&self) -> bool {
        match self {
            FileError::NotFound(_) => true,
            FileError::Io(e) => e.kind() == io::ErrorKind::NotFound,
            _ => false,
        }
    }
}

impl From<FileError> for io::Error {
    fn from(e: FileError) -> io::Error {
        match e {
            FileError::Io(e) => e,
            FileError::NotFound(n) => io::Error::new(
                io::ErrorKind::NotFound,
                format!("{n} is not in the file store"),
            ),
            e => io::Error::other(e.to_string()),
        }
    }
}

fn remote(e: object_store::Error) -> FileError {
    match e {
        object_store::Error::NotFound { path, .. } => FileError::NotFound(path),
        e => FileError::Remote(e.to_string()),
    }
}

/// Installs the process's TLS crypto provider (ring) once; later calls do nothing. The
/// object store's HTTPS client — and any other `reqwest` client of the process, which shares
/// its build — needs one before its first connection. `main` calls this at start.
#[expect(
    deprecated,
    reason = "rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange; \
              aws-lc-rs, which has it, is a large C build on two cores — revisit for AWS itself"
)]
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where and how to reach an S3-compatible bucket. Left-out values come from the usual
/// `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// The file store of a process: cheap to clone, shared by every task.
#[derive(Clone)]
pub struct FileStore(Arc<Inner>);

struct Inner {
    backend: Backend,
    /// Temporary files and (for S3) local copies; on the same disk as the local store.
    scratch: PathBuf,
}

enum Backend {
    Local {
        dir: PathBuf,
    },
    S3 {
        client: Arc<dyn ObjectStore>,
        /// The key prefix, without a trailing `/` (empty for the bucket's root).
        prefix: String,
        url: String,
    },
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl FileStore {
    /// The local store: `data_dir/files`.
    pub fn local(data_dir: &Path) -> FileStore {
        let dir = data_dir.join("files");
        FileStore(Arc::new(Inner {
            scratch: dir.clone(),
            backend: Backend::Local { dir },
        }))
    }

    /// A store in an S3-compatible bucket; local copies and temporary files go under
    /// `data_dir/cache`. Nothing is sent until the first use.
    pub fn s3(settings: &S3Settings, data_dir: &Path) -> Result<FileStore, FileError> {
        let rest = settings.url.strip_prefix("s3://").ok_or_else(|| {
            FileError::Config(format!(
                "--file-store must be s3://BUCKET/PREFIX (got '{}')",
                settings.url
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(FileError::Config(format!(
                "--file-store names no bucket (got '{}'); write s3://BUCKET/PREFIX",
                settings.url
            )));
        }
        install_tls_provider();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = &settings.endpoint {
            b = b.with_endpoint(e);
        }
        if let Some(r) = &settings.region {
            b = b.with_region(r);
        }
        if let Some(k) = &settings.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = &settings.secret_access_key {
            b = b.with_secret_access_key(s);
        }
        // A self-hosted server named by a plain http:// address.
        if b.get_config_value(&AmazonS3ConfigKey::Endpoint)
            .is_some_and(|e| e.starts_with("http://"))
        {
            b = b.with_allow_http(true);
        }
        let client = b
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|e| FileError::Config(format!("the S3 file store cannot be used: {e}")))?;
        Ok(FileStore(Arc::new(Inner {
            scratch: data_dir.join("cache"),
            backend: Backend::S3 {
                client: Arc::new(client),
                prefix: prefix.trim_matches('/').to_string(),
                url: settings.url.clone(),
            },
        })))
    }

    /// Where files are kept, for logs and messages.
    pub fn describe(&self) -> String {
        match &self.0.backend {
            Backend::Local { dir } => dir.display().to_string(),
            Backend::S3 { url, .. } => url.clone(),
        }
    }

    /// The directory of the local store (`None` for S3).
    pub fn local_dir(&self) -> Option<&Path> {
        match &self.0.backend {
            Backend::Local { dir } => Some(dir),
            Backend::S3 { .. } => None,
        }
    }

    fn key(&self, prefix: &str, name: &str) -> ObjectPath {
        if prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{prefix}/{name}"))
        }
    }

    /// A path for a temporary file named `file_name` in the scratch directory (created when
    /// missing), to be moved in with [`FileStore::commit_temp`]. For the local store it is
    /// beside the files, so the move is a rename.
    pub fn temp_path(&self, file_name: &str) -> io::Result<PathBuf> {
        std::fs::create_dir_all(&self.0.scratch)?;
        Ok(self.0.scratch.join(file_name))
    }

    /// Moves a finished temporary file (already synced) into the store as `name`: visible
    /// whole or not at all. Returns a local path holding it: the file itself in the local
    /// store; for S3 the temporary file, kept as the local copy [`FileStore::local_copy`]
    /// would give.
    pub async fn commit_temp(&self, temp: &Path, name: &str) -> Result<PathBuf, FileError> {
        check_name(name)?;
        match &self.0.backend {
            Backend::Local { dir } => {
                let dest = dir.join(name);
                tokio::fs::rename(temp, &dest).await?;
                sync_dir(dir).await;
                Ok(dest)
            }
            Backend::S3 { .. } => {
                if let Err(e) = self.put_file(name, temp).await {
                    let _ = tokio::fs::remove_file(temp).await;
                    return Err(e);
                }
                let copy = self.0.scratch.join(name);
                if tokio::fs::rename(temp, &copy).await.is_err() {
                    let _ = tokio::fs::remove_file(temp).await;
                }
                Ok(copy)
            }
        }
    }

    /// Starts writing `name`; nothing is visible under it until [`Writer::finish`].
    pub async fn create(&self, name: &str) -> Result<Writer, FileError> {
        check_name(name)?;
        let inner = match &self.0.backend {
            Backend::Local { dir } => {
                tokio::fs::create_dir_all(dir).await?;
                let partial = dir.join(format!("{name}.partial"));
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&partial)
                    .await?;
                WriterInner::Local {
                    file: Some(file),
                    partial,
                    dest: dir.join(name),
                    dir: dir.clone(),
                }
            }
            Backend::S3 { client, prefix, .. } => WriterInner::S3 {
                client: client.clone(),
                path: self.key(prefix, name),
                pending: Vec::new(),
                upload: None,
            },
        };
        Ok(Writer {
            inner,
            written: 0,
            done: false,
        })
    }

    /// Copies the local file `src` into the store as `name`, streamed. Returns its size.
    pub async fn put_file(&self, name: &str, src: &Path) -> Result<u64, FileError> {
        let mut file = tokio::fs::File::open(src).await?;
        let mut out = self.create(name).await?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    out.abort().await;
                    return Err(e.into());
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = out.write(&buf[..n]).await {
                out.abort().await;
                return Err(e);
            }
        }
        out.finish().await
    }

    /// A local, seekable path holding `name`: the file itself in the local store; else a
    /// copy in `DATA_DIR/cache`, downloaded (streamed) the first time and reused after.
    pub async fn local_copy(&self, name: &str) -> Result<PathBuf, FileError> {
        check_name(name)?;
        match &self.0.backend {
            Backend::Local { dir } => {
                let path = dir.join(name);
                match tokio::fs::metadata(&path).await {
                    Ok(_) => Ok(path),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        Err(FileError::NotFound(name.to_string()))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Backend::S3 { .. } => {
                let copy = self.0.scratch.join(name);
                if tokio::fs::metadata(&copy).await.is_ok() {
                    // Kept while it is used: the cache sweep removes copies idle for days.
                    let _ = touch(&copy);
                    return Ok(copy);
                }
                tokio::fs::create_dir_all(&self.0.scratch).await?;
                let partial = self.0.scratch.join(format!(
                    ".{name}.{}-{}.partial",
                    std::process::id(),
                    nonce()
                ));
                let fetched = async {
                    let mut download = self.open(name).await?;
                    let mut out = tokio::fs::File::create(&partial).await?;
                    while let Some(chunk) = download.stream.next().await {
                        out.write_all(&chunk?).await?;
                    }
                    out.flush().await?;
                    out.sync_all().await?;
                    tokio::fs::rename(&partial, &copy).await?;
                    Ok::<_, FileError>(())
                }
                .await;
                if let Err(e) = fetched {
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(e);
                }
                Ok(copy)
            }
        }
    }

    /// Opens `name` for reading as a stream of chunks, with its size.
    pub async fn open(&self, name: &str) -> Result<Download, FileError> {
        check_name(name)?;
        match &self.0.backend {
            Backend::Local { dir } => {
                let path = dir.join(name);
                let file = match tokio::fs::File::open(&path).await {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Err(FileError::NotFound(name.to_string()));
                    }
                    Err(e) => return Err(e.into()),
                };
                let size = file.metadata().await?.len();
                Ok(Download {
                    size,
                    stream: Box::pin(file_stream(file)),
                })
            }
            Backend::S3 { client, prefix, .. } => {
                let path = self.key(prefix, name);
                let size = client.head(&path).await.map_err(remote)?.size;
                Ok(Download {
                    size,
                    stream: Box::pin(ranged_stream(client.clone(), path, size)),
                })
            }
        }
    }

    /// Deletes `name` (and a local copy of it); a name already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), FileError> {
        check_name(name)?;
        match &self.0.backend {
            Backend::Local { dir } => match tokio::fs::remove_file(dir.join(name)).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
            Backend::S3 { client, prefix, .. } => {
                let _ = tokio::fs::remove_file(self.0.scratch.join(name)).await;
                match client.delete(&self.key(prefix, name)).await {
                    Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                    Err(e) => Err(remote(e)),
                }
            }
        }
    }

    /// The names in the store that start with `start` (never a file still being written).
    pub async fn list(&self, start: &str) -> Result<Vec<String>, FileError> {
        match &self.0.backend {
            Backend::Local { dir } => {
                let mut names = Vec::new();
                let mut entries = match tokio::fs::read_dir(dir).await {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(names),
                    Err(e) => return Err(e.into()),
                };
                while let Some(entry) = entries.next_entry().await? {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with(start) && !name.ends_with(".partial") {
                        names.push(name);
                    }
                }
                Ok(names)
            }
            Backend::S3 { client, prefix, .. } => {
                // Keys come back in order: start just before `start`, stop past its range.
                let base = (!prefix.is_empty()).then(|| ObjectPath::from(prefix.as_str()));
                let offset = self.key(prefix, start);
                let mut listing = client.list_with_offset(base.as_ref(), &offset);
                let mut names = Vec::new();
                while let Some(meta) = listing.next().await {
                    let meta = meta.map_err(remote)?;
                    let Some(name) = meta.location.filename() else {
                        continue;
                    };
                    if !name.starts_with(start) {
                        break;
                    }
                    names.push(name.to_string());
                }
                Ok(names)
            }
        }
    }

    /// Removes what the scratch directory holds of this store beyond `max_age` unused: local
    /// copies of S3 files, and temporary files a killed process left. The local store's
    /// scratch directory is the store itself, so there only `.…partial` files go.
    pub async fn sweep_scratch(&self, max_age: std::time::Duration) -> usize {
        let local = matches!(self.0.backend, Backend::Local { .. });
        let Ok(mut entries) = tokio::fs::read_dir(&self.0.scratch).await else {
            return 0;
        };
        let mut removed = 0;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if local && !(name.starts_with('.') && name.ends_with(".partial")) {
                continue;
            }
            let idle = entry
                .metadata()
                .await
                .ok()
                .filter(|m| m.is_file())
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok());
            if idle.is_some_and(|d| d > max_age)
                && tokio::fs::remove_file(entry.path()).await.is_ok()
            {
                removed += 1;
            }
        }
        removed
    }
}

/// A file being written into the store. Dropped before [`Writer::finish`], nothing becomes
/// visible (the local partial file is removed, an S3 multipart upload is aborted).
pub struct Writer {
    inner: WriterInner,
    written: u64,
    done: bool,
}

enum WriterInner {
    Local {
        file: Option<tokio::fs::File>,
        partial: PathBuf,
        dest: PathBuf,
        dir: PathBuf,
    },
    S3 {
        client: Arc<dyn ObjectStore>,
        path: ObjectPath,
        /// The first bytes, until they make a part: a small file is then one `PUT`.
        pending: Vec<u8>,
        upload: Option<WriteMultipart>,
    },
}

impl Writer {
    /// Appends `buf`.
    pub async fn write(&mut self, buf: &[u8]) -> Result<(), FileError> {
        self.written += buf.len() as u64;
        match &mut self.inner {
            WriterInner::Local { file, .. } => {
                let file = file
                    .as_mut()
                    .ok_or_else(|| io::Error::other("the file was closed"))?;
                file.write_all(buf).await?;
            }
            WriterInner::S3 {
                client,
                path,
                pending,
                upload,
            } => match upload {
                Some(up) => {
                    up.wait_for_capacity(PARTS_IN_FLIGHT)
                        .await
                        .map_err(remote)?;
                    up.write(buf);
                }
                None => {
                    pending.extend_from_slice(buf);
                    if pending.len() >= PART_BYTES {
                        let started = client.put_multipart(path).await.map_err(remote)?;
                        let mut up = WriteMultipart::new_with_chunk_size(started, PART_BYTES);
                        up.write(pending);
                        *pending = Vec::new();
                        *upload = Some(up);
                    }
                }
            },
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes the file visible under its name, whole. Returns its size.
    pub async fn finish(mut self) -> Result<u64, FileError> {
        self.done = true;
        match &mut self.inner {
            WriterInner::Local {
                file,
                partial,
                dest,
                dir,
            } => {
                let mut f = file
                    .take()
                    .ok_or_else(|| io::Error::other("the file was closed"))?;
                let done = async {
                    f.flush().await?;
                    f.sync_all().await?;
                    drop(f);
                    tokio::fs::rename(&*partial, &*dest).await
                }
                .await;
                if let Err(e) = done {
                    let _ = tokio::fs::remove_file(&*partial).await;
                    return Err(e.into());
                }
                sync_dir(dir).await;
            }
            WriterInner::S3 {
                client,
                path,
                pending,
                upload,
            } => match upload.take() {
                Some(up) => {
                    up.finish().await.map_err(remote)?;
                }
                None => {
                    let body = PutPayload::from(std::mem::take(pending));
                    client.put(path, body).await.map_err(remote)?;
                }
            },
        }
        Ok(self.written)
    }

    /// Gives the file up: nothing becomes visible.
    pub async fn abort(mut self) {
        self.done = true;
        match &mut self.inner {
            WriterInner::Local { file, partial, .. } => {
                drop(file.take());
                let _ = tokio::fs::remove_file(&*partial).await;
            }
            WriterInner::S3 { upload, .. } => {
                if let Some(up) = upload.take() {
                    let _ = up.abort().await;
                }
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match &mut self.inner {
            WriterInner::Local { file, partial, .. } => {
                drop(file.take());
                let _ = std::fs::remove_file(&*partial);
            }
            WriterInner::S3 { upload, .. } => {
                // Never completed, so never visible; abort it to free the parts stored.
                if let (Some(up), Ok(rt)) = (upload.take(), tokio::runtime::Handle::try_current()) {
                    rt.spawn(async move {
                        let _ = up.abort().await;
                    });
                }
            }
        }
    }
}

/// A file being read: its size and its bytes as a stream.
pub struct Download {
    pub size: u64,
    pub stream: Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Download({} bytes)", self.size)
    }
}

/// A local file read to its end in 64 KiB chunks.
fn file_stream(file: tokio::fs::File) -> impl Stream<Item = io::Result<Bytes>> + Send {
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

/// An object read in ranges of [`RANGE_BYTES`], each streamed as it arrives.
fn ranged_stream(
    client: Arc<dyn ObjectStore>,
    path: ObjectPath,
    size: u64,
) -> impl Stream<Item = io::Result<Bytes>> + Send {
    let ranges: Vec<std::ops::Range<u64>> = (0..size.div_ceil(RANGE_BYTES))
        .map(|i| i * RANGE_BYTES..((i + 1) * RANGE_BYTES).min(size))
        .collect();
    futures_util::stream::iter(ranges)
        .then(move |range| {
            let (client, path) = (client.clone(), path.clone());
            async move {
                let options = GetOptions {
                    range: Some(GetRange::Bounded(range)),
                    ..GetOptions::default()
                };
                let got = client.get_opts(&path, options).await.map_err(remote)?;
                Ok::<_, FileError>(got.into_stream().map_err(|e| io::Error::from(remote(e))))
            }
        })
        .map_err(io::Error::from)
        .try_flatten()
}

/// Names are the product's own: plain file names, never a path.
fn check_name(name: &str) -> Result<(), FileError> {
    if name.is_empty() || name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(FileError::Config(format!(
            "'{name}' is not a file store name"
        )));
    }
    Ok(())
}

/// Makes a rename durable (best effort: not every platform opens directories).
async fn sync_dir(dir: &Path) {
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
}

fn touch(path: &Path) -> io::Result<()> {
    std::fs::File::options()
        .append(true)
        .open(path)?
        .set_modified(std::time::SystemTime::now())
}

fn nonce() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;
