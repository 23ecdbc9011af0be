//! Recovery of damaged episodes from `regressions/` in the shared data (B16: a chunk with a wrong
//! `uncompressed_size` in the middle of a finished file).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pitsense_cloud_link::recover;

/// `regressions/<id>/<file>` under the data root, or `None` (with a message) when absent.
fn regression_input(id: &str, file: &str) -> Option<PathBuf> {
    let path = common::data_root().join("regressions").join(id).join(file);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent (set PITSENSE_DATA to the shared data root)", path.display());
        None
    }
}

/// Messages per topic read back with the `mcap` crate's stream reader (an independent reader).
fn topics_read_back(path: &Path) -> BTreeMap<String, u64> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = BTreeMap::new();
    for message in mcap::MessageStream::new(&bytes).unwrap() {
        *out.entry(message.unwrap().channel.topic.clone()).or_insert(0) += 1;
    }
    out
}

/// B16: `episode_full.mcap` holds 170 messages in 3 zstd chunks (written by the Python `mcap`
/// package) and one metadata record; the damaged copy raises chunk 2's `uncompressed_size` by 1000.
/// Expected: chunks 1 and 3 and the metadata record are kept, chunk 2 (at byte 44555) is skipped
/// and named. The expected counts come from reading the intact file with the `mcap` crate and
/// from reading chunk 2 of the intact file on its own.
#[test]
fn a_damaged_chunk_is_skipped_and_the_chunks_and_metadata_after_it_are_kept() {
    let Some(full) = regression_input("B16", "episode_full.mcap") else { return };
    let Some(damaged) = regression_input("B16", "b16d_chunk2_usize_plus1000.mcap") else { return };
    let full_bytes = std::fs::read(&full).unwrap();
    let summary = mcap::Summary::read(&full_bytes).unwrap().unwrap();
    let starts: Vec<u64> = summary.chunk_indexes.iter().map(|c| c.chunk_start_offset).collect();
    assert_eq!(starts, [35, 44555, 88888]);
    // Messages per topic in the intact file, and in its chunk 2 alone.
    let all = topics_read_back(&full);
    assert_eq!(all.values().sum::<u64>(), 170);
    let mut in_chunk2: BTreeMap<String, u64> = BTreeMap::new();
    for message in summary.stream_chunk(&full_bytes, &summary.chunk_indexes[1]).unwrap() {
        *in_chunk2.entry(message.unwrap().channel.topic.clone()).or_insert(0) += 1;
    }
    let mut expected = all.clone();
    for (topic, count) in &in_chunk2 {
        let left = expected.get_mut(topic).unwrap();
        *left -= count;
        if *left == 0 {
            expected.remove(topic);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("recovered.mcap");
    let report = recover(&damaged, &output).unwrap();
    assert_eq!(report.chunks_kept, 2, "{report:?}");
    assert_eq!(report.metadata_kept, 1, "{report:?}");
    assert_eq!(report.message_counts, expected);
    assert_eq!(report.chunks_skipped.len(), 1, "{report:?}");
    assert_eq!(report.chunks_skipped[0].offset, 44555);
    assert_eq!(topics_read_back(&output), expected);
    let out_bytes = std::fs::read(&output).unwrap();
    let out_summary = mcap::Summary::read(&out_bytes).unwrap().unwrap();
    assert_eq!(out_summary.stats.unwrap().metadata_count, 1);

    // The intact file recovers whole.
    let report = recover(&full, &dir.path().join("whole.mcap")).unwrap();
    assert_eq!(report.message_counts, all);
    assert!(report.chunks_skipped.is_empty());
}
