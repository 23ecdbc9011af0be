//! The `pitsense-ingest` binary (a real child process listening on loopback) receiving what the
//! `pitsense upload` logic sends, and its `catalog` subcommand listing sizes and SHA-256.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;

use pitsense_cloud_link::queue::Priority;
use pitsense_cloud_link::upload_command::{UploadRequest, run_upload};
use sha2::{Digest, Sha256};

/// Kills the child (by its own handle) when the test ends, passed or not.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn pitsense_ingest_stores_and_catalogues_what_the_upload_command_sends() {
    const PORT: u16 = 27_477;
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let _ingest = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
            .args(["--listen", &format!("tcp/127.0.0.1:{PORT}"), "--store"])
            .arg(&store)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let files: Vec<_> = (0..3)
        .map(|i| common::write_test_episode(work.path(), &format!("e{i}.mcap"), 40 + i, 8, 3000))
        .collect();
    let request = UploadRequest {
        connect: vec![format!("tcp/127.0.0.1:{PORT}")],
        queue_dir: work.path().join("queue"),
        files: files.clone(),
        priority: Priority::High,
        once: true,
        truck_id: "truck-11".into(),
        quota_bytes: 1 << 30,
        chunk_size_bytes: 64 * 1024,
        rate_limit_bytes_per_s: None,
        tls: None,
    };
    // The ingest may still be starting: the uploader backs off until it answers.
    let outcome = run_upload(&request, &AtomicBool::new(false)).unwrap();
    assert_eq!((outcome.enqueued, outcome.uploaded, outcome.failed, outcome.still_queued), (3, 3, 0, 0));
    assert!(!outcome.has_failures());

    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["catalog", "--json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut listed: Vec<(String, u64, String)> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(row["truck_id"], "truck-11");
            assert_eq!(row["priority"], "high");
            (
                row["file_name"].as_str().unwrap().to_owned(),
                row["size_bytes"].as_u64().unwrap(),
                row["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    listed.sort();
    let expected: Vec<(String, u64, String)> = files
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                bytes.len() as u64,
                format!("{:x}", Sha256::digest(&bytes)),
            )
        })
        .collect();
    assert_eq!(listed, expected);

    // The table form names each SHA-256 and the total.
    let table = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["catalog", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    for (_, _, sha) in &expected {
        assert!(table.contains(sha.as_str()), "{table}");
    }
    let total: u64 = expected.iter().map(|(_, size, _)| size).sum();
    assert!(table.contains(&format!("3 episodes, {total} bytes")), "{table}");
}

#[test]
fn the_catalog_of_a_folder_that_is_no_store_is_an_error() {
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["catalog", "--store"])
        .arg(work.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no catalog"));
}
