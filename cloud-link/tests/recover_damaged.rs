//! Recovery of damaged episodes from `regressions/` in the shared data (F01: a record inside a
//! zstd chunk claiming a huge length, found by fuzzing; B16: a chunk with a wrong
//! `uncompressed_size` in the middle of a finished file). Kept in its own test binary: before the
//! fix F01 aborted the whole process ("memory allocation of ... bytes failed").
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

/// Peak resident set of this process (`VmHWM` in /proc/self/status), in bytes.
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// F01: the 79-byte file is MCAP magic + one chunk (compression `zstd`, 18 compressed bytes,
/// `uncompressed_size` 9). The 9 decompressed bytes are one record header: opcode 0x05 (message)
/// and a length of 2^50 (or 3 GiB in the variant) with 0 bytes left in the chunk. Bytes 8..79 of
/// the file are that single chunk record (9-byte header + 62-byte body), so nothing is left after
/// it. The right outcome: the chunk is skipped and named, nothing else is lost, the process lives
/// and memory stays bounded.
#[test]
fn a_chunk_whose_inner_record_claims_a_huge_length_is_skipped_not_allocated() {
    for (file, claimed) in
        [("min-zstd-inner-record-len.mcap", 1u64 << 50), ("min-zstd-inner-record-len-3GiB.mcap", 3u64 << 30)]
    {
        let Some(input) = regression_input("F01", file) else { return };
        let bytes = std::fs::read(&input).unwrap();
        assert_eq!(bytes.len(), 79);
        // The claimed length, read independently at decompressed offset 1 of the chunk.
        let inner = zstd::decode_all(&bytes[61..79]).unwrap();
        assert_eq!(inner.len(), 9);
        assert_eq!(inner[0], 0x05);
        assert_eq!(u64::from_le_bytes(inner[1..9].try_into().unwrap()), claimed);

        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("recovered.mcap");
        let report = recover(&input, &output).unwrap();
        assert_eq!(report.chunks_kept, 0, "{file}");
        assert_eq!(report.message_count(), 0, "{file}");
        assert_eq!(report.chunks_skipped.len(), 1, "{file}: {report:?}");
        let skipped = &report.chunks_skipped[0];
        assert_eq!(skipped.offset, 8, "{file}");
        assert_eq!(skipped.length, 71, "{file}");
        assert!(
            skipped.reason.contains(&claimed.to_string()) && skipped.reason.contains("0x05"),
            "{file}: the reason names the record and its length: {}",
            skipped.reason
        );
        assert_eq!(report.stopped_because, "end of file", "{file}");
        // The output is a valid, empty MCAP.
        assert!(topics_read_back(&output).is_empty());
    }
    // Nothing of the claimed size was ever allocated (the 3 GiB variant would show in VmHWM).
    let peak = peak_resident_bytes();
    assert!(peak < 512 * 1024 * 1024, "peak resident set {peak} bytes");
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
    assert!(report.chunks_skipped[0].reason.contains("uncompressed"), "{}", report.chunks_skipped[0].reason);
    assert_eq!(topics_read_back(&output), expected);
    let out_bytes = std::fs::read(&output).unwrap();
    let out_summary = mcap::Summary::read(&out_bytes).unwrap().unwrap();
    assert_eq!(out_summary.stats.unwrap().metadata_count, 1);

    // The intact file recovers whole.
    let report = recover(&full, &dir.path().join("whole.mcap")).unwrap();
    assert_eq!(report.message_counts, all);
    assert!(report.chunks_skipped.is_empty());
}
