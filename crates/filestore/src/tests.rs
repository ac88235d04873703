//! Every test runs on both stores: the local directory, and a bucket of its own on a real
//! S3-protocol server (moto, see `testing`).

use std::path::PathBuf;

use futures_util::StreamExt;

use crate::testing::S3Server;
use crate::{FileStore, PART_BYTES, RANGE_BYTES};

struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let path = std::env::temp_dir().join(format!(
            "filestore-{test}-{}-{}",
            std::process::id(),
            crate::nonce()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The stores a test runs on, each with its own data directory.
fn stores(test: &str) -> Vec<(FileStore, Dir)> {
    let local = Dir::new(test);
    let mut all = vec![(FileStore::local(&local.0), local)];
    if let Some(server) = S3Server::get(test) {
        let dir = Dir::new(test);
        all.push((server.store(test, &dir.0), dir));
    }
    all
}

async fn read_all(files: &FileStore, name: &str) -> Vec<u8> {
    let mut d = files.open(name).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = d.stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(
        out.len() as u64,
        d.size,
        "the size said matches the bytes sent"
    );
    out
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_written_in_parts_is_visible_only_once_finished_and_reads_back_in_ranges() {
    for (files, _dir) in stores("parts") {
        // More than two parts and more than one range.
        let data = bytes(2 * PART_BYTES + RANGE_BYTES as usize / 3 + 17);
        let mut w = files.create("upload-1").await.unwrap();
        for piece in data.chunks(64 * 1024 + 5) {
            w.write(piece).await.unwrap();
        }
        assert!(
            files.open("upload-1").await.unwrap_err().is_not_found(),
            "{files:?}: nothing is visible before the end"
        );
        assert!(files.list("upload-").await.unwrap().is_empty(), "{files:?}");
        assert_eq!(w.finish().await.unwrap(), data.len() as u64);
        assert_eq!(read_all(&files, "upload-1").await, data, "{files:?}");
        assert_eq!(files.list("upload-").await.unwrap(), vec!["upload-1"]);
        let copy = files.local_copy("upload-1").await.unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), data, "{files:?}");
        files.delete("upload-1").await.unwrap();
        assert!(files.open("upload-1").await.unwrap_err().is_not_found());
        assert!(
            files
                .local_copy("upload-1")
                .await
                .unwrap_err()
                .is_not_found()
        );
        files.delete("upload-1").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writer_given_up_or_dropped_leaves_nothing() {
    for (files, _dir) in stores("abort") {
        let mut w = files.create("export-1-a.csv").await.unwrap();
        w.write(&bytes(PART_BYTES + 10)).await.unwrap();
        w.abort().await;
        let mut w = files.create("export-1-b.csv").await.unwrap();
        w.write(b"small").await.unwrap();
        drop(w);
        assert!(
            files.list("export-1-").await.unwrap().is_empty(),
            "{files:?}"
        );
        if let Some(dir) = files.local_dir() {
            assert_eq!(
                std::fs::read_dir(dir).unwrap().count(),
                0,
                "no partial file left"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn small_and_empty_files_and_listing_by_prefix() {
    for (files, _dir) in stores("small") {
        for (name, body) in [
            ("export-2-x.csv", &b"a,b\r\n"[..]),
            ("export-20-y.csv", b""),
            ("upload-9", b"z"),
        ] {
            let mut w = files.create(name).await.unwrap();
            w.write(body).await.unwrap();
            w.finish().await.unwrap();
            assert_eq!(read_all(&files, name).await, body, "{files:?} {name}");
        }
        let mut names = files.list("export-2-").await.unwrap();
        names.sort();
        assert_eq!(names, vec!["export-2-x.csv"], "{files:?}");
        assert_eq!(files.list("export-").await.unwrap().len(), 2, "{files:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_temporary_file_is_committed_whole() {
    for (files, dir) in stores("commit") {
        let temp = files.temp_path(".export-3-n.partial").unwrap();
        let data = bytes(PART_BYTES * 2 + 3);
        std::fs::write(&temp, &data).unwrap();
        let local = files.commit_temp(&temp, "export-3-n.csv").await.unwrap();
        assert_eq!(
            std::fs::read(&local).unwrap(),
            data,
            "{files:?}: a local copy"
        );
        assert!(!temp.exists(), "{files:?}: the temporary file is gone");
        assert_eq!(read_all(&files, "export-3-n.csv").await, data);
        let src = dir.0.join("src.csv");
        std::fs::write(&src, b"x,y").unwrap();
        assert_eq!(files.put_file("upload-4", &src).await.unwrap(), 3);
        assert_eq!(read_all(&files, "upload-4").await, b"x,y");
    }
}

#[test]
fn names_are_never_paths() {
    let dir = Dir::new("names");
    let files = FileStore::local(&dir.0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for bad in ["", "../x", "a/b", "..", "a\\b"] {
        assert!(rt.block_on(files.create(bad)).is_err(), "{bad:?}");
        assert!(rt.block_on(files.open(bad)).is_err(), "{bad:?}");
    }
}
