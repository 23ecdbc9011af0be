//! The fuzz targets' entry points (`pitsense_cloud_link::fuzzing`) over their committed seeds
//! (`fuzz/seeds/`, written by `fuzz/make_seeds.py` with the Python `mcap` package), every prefix
//! of a seed episode, seeded byte mutations, and the regression inputs found by fuzzing; on
//! stable Rust in every test run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pitsense_cloud_link::EpisodeReader;
use pitsense_cloud_link::episode::EpisodeMessage;
use pitsense_cloud_link::fuzzing::{
    fuzz_episode_reader, fuzz_recover, fuzz_upload_protocol, upload_requests,
};
use pitsense_cloud_link::ingest::Store;
use pitsense_cloud_link::truck_to_cloud::{IngestReply, parse_request_key};

fn seed(target: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target).join(name)
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read(path).unwrap()).collect()
}

/// Deterministic byte mutations of `input` (splitmix64): flips, overwrites with boundary bytes,
/// truncations and duplicated spans, as a fuzzer's first mutations are.
fn mutations(input: &[u8], count: usize, mut state: u64) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (0..count).map(move |_| {
        let mut out = input.to_vec();
        if out.is_empty() {
            return out;
        }
        for _ in 0..1 + next() % 4 {
            let at = (next() % out.len() as u64) as usize;
            match next() % 4 {
                0 => out[at] ^= 1 << (next() % 8),
                1 => out[at] = [0x00, 0xFF, 0x7F, 0x80][(next() % 4) as usize],
                2 => out.truncate(at.max(1)),
                _ => {
                    let end = (at + 1 + (next() % 16) as usize).min(out.len());
                    let span = out[at..end].to_vec();
                    out.splice(at..at, span);
                }
            }
        }
        out
    })
}

/// The seed episode reads back as the script wrote it: 3 clouds of 2 points, 3 images, 3
/// detection lists, and the episode metadata.
#[test]
fn the_seed_episode_reads_back_as_written() {
    let reader =
        EpisodeReader::open(&seed("episode_reader", "episode_zstd.mcap")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reader.metadata().truck_id, "truck-7");
    assert_eq!(reader.metadata().trigger_reason, "manual");
    let mut kinds = BTreeMap::new();
    for read in reader {
        let read = read.unwrap_or_else(|e| panic!("{e}"));
        let kind = match &read.message {
            EpisodeMessage::PointCloud(cloud) => {
                let first = cloud.points[0];
                assert_eq!(
                    (cloud.points.len(), first.x_m, first.y_m, first.z_m, first.intensity),
                    (2, 1.0, 2.0, 0.5, 10.0)
                );
                "cloud"
            }
            EpisodeMessage::CompressedImage(image) => {
                assert_eq!(
                    (image.format.as_str(), image.data.as_slice()),
                    ("jpeg", &b"\xff\xd8\xff\xd9"[..])
                );
                "image"
            }
            EpisodeMessage::Detections2d { detections, .. } => {
                assert_eq!(detections.len(), 1);
                "detections"
            }
            other => panic!("unexpected {other:?}"),
        };
        *kinds.entry(kind).or_insert(0) += 1;
    }
    assert_eq!(kinds, BTreeMap::from([("cloud", 3), ("detections", 3), ("image", 3)]));
}

/// Recovery of every prefix of the seed episode (a recorder killed at any byte) succeeds, its
/// output reads back with the messages its report counts (checked inside `fuzz_recover`), and
/// a longer prefix never keeps fewer messages.
#[test]
fn every_prefix_of_an_episode_recovers() {
    let bytes = std::fs::read(seed("mcap_recover", "episode_zstd.mcap")).unwrap();
    let mut previous = 0;
    for end in (8..=bytes.len()).step_by(3).chain([bytes.len()]) {
        fuzz_recover(&bytes[..end]);
        let out = tempfile::NamedTempFile::new().unwrap();
        let input = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(input.path(), &bytes[..end]).unwrap();
        let report = pitsense_cloud_link::recover(input.path(), out.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(report.message_count() >= previous, "prefix {end}: {} < {previous}", report.message_count());
        previous = report.message_count();
    }
    assert_eq!(previous, 9, "the whole file keeps all 9 messages");
}

/// Seeds and their mutations through the MCAP entry points; then the inputs fuzzing found
/// (F01) and the damaged episode of B16 from the shared data.
#[test]
fn mcap_seeds_mutations_and_regressions_pass_the_entry_points() {
    for (index, input) in seeds("mcap_recover").iter().chain(&seeds("episode_reader")).enumerate() {
        for mutated in mutations(input, 300, index as u64) {
            fuzz_recover(&mutated);
            fuzz_episode_reader(&mutated);
        }
    }
    let regressions = pitsense_testkit::data_root().join("regressions");
    if !regressions.is_dir() {
        eprintln!("skipped the regression inputs: no {} (set PITSENSE_DATA)", regressions.display());
        return;
    }
    for (id, file) in [
        ("F01", "min-zstd-inner-record-len.mcap"),
        ("F01", "min-zstd-inner-record-len-3GiB.mcap"),
        ("B16", "b16d_chunk2_usize_plus1000.mcap"),
    ] {
        let bytes = std::fs::read(regressions.join(id).join(file)).unwrap();
        fuzz_recover(&bytes);
        fuzz_episode_reader(&bytes);
    }
}

/// The transfer seed, request by request through a fresh ingest store: the hand-derived answers
/// of a 10-byte episode in 4-byte chunks.
#[test]
fn the_transfer_seed_is_stored_by_the_ingest() {
    let bytes = std::fs::read(seed("upload_protocol", "transfer")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let mut replies = Vec::new();
    for (now_ns, (key, payload, attachment)) in (0..).zip(upload_requests(&bytes[1..])) {
        let request = parse_request_key(std::str::from_utf8(key).unwrap()).expect("a request key");
        replies.push(store.handle(&request, payload, attachment, now_ns).unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(replies.len(), 5);
    assert_eq!(
        replies[..4],
        [
            IngestReply::Resume { next_chunk: 0 },
            IngestReply::Ack { next_chunk: 1 },
            IngestReply::Ack { next_chunk: 2 },
            IngestReply::Ack { next_chunk: 3 }
        ]
    );
    // recorded_ns 1 764 806 400 s is 20 426 days after the epoch: 2025-12-04.
    assert!(
        matches!(&replies[4], IngestReply::Stored { store_path }
            if store_path.starts_with("truck-7/2025-12-04/e-") && store_path.ends_with(".mcap")),
        "{:?}",
        replies[4]
    );
    for (index, input) in seeds("upload_protocol").iter().enumerate() {
        for mutated in mutations(input, 200, 100 + index as u64) {
            fuzz_upload_protocol(&mutated);
        }
    }
}

/// Found by the mutations above: the `mcap` crate's indexed reader panicked ("copy_from_slice:
/// source slice length (353) does not match destination slice length (65377)") on an
/// uncompressed chunk whose index declares another uncompressed size, and reserves whatever
/// size a compressed chunk's index declares. The reader now refuses such a summary by name, and
/// recovery (which ignores the summary) still gets all 9 messages back.
#[test]
fn a_chunk_index_with_a_wrong_uncompressed_size_is_refused_not_a_panic() {
    let mut bytes = std::fs::read(seed("episode_reader", "episode_plain.mcap")).unwrap();
    // Footer (MCAP specification "Footer"): opcode 0x02, length 20, summary_start u64,
    // summary_offset_start u64, summary_crc u32; then the 8-byte magic.
    let footer = bytes.len() - 8 - 29;
    assert_eq!(bytes[footer], 0x02);
    let summary_start = u64::from_le_bytes(bytes[footer + 9..footer + 17].try_into().unwrap()) as usize;
    bytes[footer + 25..footer + 29].fill(0); // CRC 0: not checked
    // The first chunk index record (opcode 0x08) in the summary; its body ends with
    // compressed_size u64 and uncompressed_size u64 ("Chunk Index").
    let mut at = summary_start;
    while bytes[at] != 0x08 {
        at += 9 + u64::from_le_bytes(bytes[at + 1..at + 9].try_into().unwrap()) as usize;
    }
    let end = at + 9 + u64::from_le_bytes(bytes[at + 1..at + 9].try_into().unwrap()) as usize;
    let declared = u64::from_le_bytes(bytes[end - 8..end].try_into().unwrap());
    bytes[end - 8..end].copy_from_slice(&(declared + 65_024).to_le_bytes());

    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.mcap");
    std::fs::write(&damaged, &bytes).unwrap();
    let error = EpisodeReader::open(&damaged).map(|_| ()).unwrap_err().to_string();
    // The first chunk follows the magic (8 bytes) and the header record: 9-byte prefix, profile
    // "" (4) and library "pitsense fuzz seeds" (4 + 19): byte 44.
    let expected = format!(
        "chunk index 0 (chunk at byte 44) is uncompressed but declares {declared} bytes compressed and {} uncompressed",
        declared + 65_024
    );
    assert!(error.contains(&expected) && error.contains("pitsense episode recover"), "{error}");
    let report = pitsense_cloud_link::recover(&damaged, &dir.path().join("recovered.mcap")).unwrap();
    assert_eq!(report.message_count(), 9, "{report:?}");
    fuzz_episode_reader(&bytes);
}

/// A file the `fuzz/` targets made crash (libFuzzer's artifact, kept in `tests/data/fuzz_found/`).
fn fuzz_found(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz_found").join(name)).unwrap()
}

/// The process's peak resident memory (VmHWM), bytes.
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// Found by `mcap_recover` after 1,400 runs: a mutated episode holding two schema records with
/// id 1 and different names (`pitsense.Detections2d`, `pitsmnse.Detections2d`). Recovery failed
/// as a whole ("Schema ... has multiple records that don't match"); now the first one wins, the
/// other is counted as left out, and every message is kept.
#[test]
fn a_schema_id_seen_twice_with_other_contents_is_left_out_not_a_failure() {
    let bytes = fuzz_found("recover_conflicting_schema.mcap");
    fuzz_recover(&bytes);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mcap");
    std::fs::write(&input, &bytes).unwrap();
    let report =
        pitsense_cloud_link::recover(&input, &dir.path().join("out.mcap")).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.records_skipped >= 1, "{report:?}");
    assert!(report.message_count() > 0, "{report:?}");
}

/// Found by `episode_reader` (an out-of-memory at 2 GB after 4,600 runs, and a 13 s input):
/// 4 kB files whose chunk indexes declare contents of up to 128 MiB each, in overlapping time
/// ranges, which the `mcap` crate's indexed reader holds at once. Now refused at open by the
/// declared total against the file's size, with the way to repair it, in bounded memory.
#[test]
fn chunk_indexes_declaring_far_more_than_the_file_holds_are_refused_in_bounded_memory() {
    for name in ["reader_oom_declared_sizes.mcap", "reader_slow_declared_sizes.mcap"] {
        let bytes = fuzz_found(name);
        assert!(bytes.len() < 8192, "{name}: {} bytes", bytes.len());
        fuzz_episode_reader(&bytes);
        let opened = EpisodeReader::from_reader(std::io::Cursor::new(&bytes), Path::new(name));
        if let Ok(reader) = opened {
            // Whatever still opens reads to its end.
            for _ in reader {}
        }
    }
    let peak = peak_resident_bytes();
    assert!(peak < 1 << 30, "peak resident memory {peak} bytes");
}

/// Found by `episode_reader` when the fixed target was fuzzed again (22,000 runs): chunk indexes
/// whose declared sizes add up past 2^64. The sum of the declared sizes overflowed (a panic in a
/// build with overflow checks; a wrapped, small total — and the 4 GB allocation — without).
/// Now the sum saturates and the episode is refused at open.
#[test]
fn chunk_indexes_declaring_sizes_that_overflow_their_sum_are_refused() {
    let bytes = fuzz_found("reader_declared_sizes_overflow.mcap");
    fuzz_episode_reader(&bytes);
    let Err(error) = EpisodeReader::from_reader(std::io::Cursor::new(&bytes), Path::new("overflow.mcap"))
    else {
        panic!("opened: the damaged summary was not refused");
    };
    assert!(error.to_string().contains("the chunk indexes declare 18446744073709551615 bytes"), "{error}");
}

/// Found by `episode_reader` fuzzed a third time (7,500 runs, a libFuzzer timeout): a footer
/// whose `summary_start` points into the data section. The `mcap` crate's summary reader then
/// decompresses the chunks it meets there and spins for ever on one whose compressed bytes end
/// before its declared contents. Now a summary section holding a data record is refused at
/// open, naming the record. Read on a thread so that a regression fails instead of hanging.
#[test]
fn a_summary_section_pointing_at_the_data_section_is_refused_not_a_hang() {
    let bytes = fuzz_found("reader_summary_points_at_a_chunk.mcap");
    let (sender, receiver) = std::sync::mpsc::channel();
    let reading = bytes.clone();
    std::thread::spawn(move || {
        let outcome = EpisodeReader::from_reader(std::io::Cursor::new(&reading), Path::new("hang.mcap"))
            .map(|_| ())
            .map_err(|e| e.to_string());
        let _ = sender.send(outcome);
    });
    let outcome = receiver.recv_timeout(std::time::Duration::from_secs(120)).expect("the reader hung");
    let error = outcome.expect_err("opened: the damaged summary was not refused");
    // The footer's summary_start is byte 2260; the first data record after it is the message
    // index (opcode 0x07) at 2269 (the record at 2260 has opcode 0, length 0).
    assert!(error.contains("opcode 0x07 at byte 2269"), "{error}");
    // The fuzz target's entry point returns on it too.
    fuzz_episode_reader(&bytes);
}

/// Found by `episode_reader` fuzzed after that fix (827,000 runs): the footer's record length
/// damaged (16,318,227 instead of 20) while its `summary_start` still points at an uncompressed
/// chunk. The first check trusted only a well-formed footer; the `mcap` crate does not, and
/// underflowed a counter reading the chunk (a panic with overflow checks). The check now reads
/// `summary_start` as the crate does.
#[test]
fn a_damaged_footer_pointing_at_a_chunk_is_refused_not_a_panic() {
    let bytes = fuzz_found("reader_damaged_footer_points_at_a_chunk.mcap");
    fuzz_episode_reader(&bytes);
    let Err(error) = EpisodeReader::from_reader(std::io::Cursor::new(&bytes), Path::new("footer.mcap"))
    else {
        panic!("opened: the damaged summary was not refused");
    };
    // summary_start is byte 2260, where a chunk (opcode 0x06) starts.
    assert!(error.to_string().contains("opcode 0x06 at byte 2260"), "{error}");
}

/// Found by `episode_reader` once it also indexes (366,762 runs): a damaged statistics record
/// whose message start time (3,147,484,148 ns) is after its end time (3,000,000,500 ns). The index
/// took them as the episode's start and end. Now statistics whose start is after their end are
/// not used, and the index's range always holds what was read.
#[test]
fn statistics_that_start_after_they_end_do_not_make_the_index_run_backwards() {
    let bytes = fuzz_found("index_statistics_start_after_end.mcap");
    fuzz_episode_reader(&bytes);
    let reader = EpisodeReader::from_reader(std::io::Cursor::new(&bytes), Path::new("stats.mcap")).unwrap();
    let (start_ns, end_ns) = reader.message_time_range().unwrap();
    assert!(start_ns > end_ns, "the file no longer has the damaged statistics");
    let reader = EpisodeReader::from_reader(std::io::Cursor::new(&bytes), Path::new("stats.mcap")).unwrap();
    let index = pitsense_cloud_link::episode_index::EpisodeIndex::of_reader(reader, Path::new("stats.mcap"));
    if let Ok(index) = index {
        assert!(index.start_ns <= index.end_ns, "{} after {}", index.start_ns, index.end_ns);
    }
}
