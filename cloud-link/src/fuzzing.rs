//! Fuzz entry points for the parsers of outside data in this crate: shared by the cargo-fuzz
//! targets in `cloud-link/fuzz/` and the corpus test that runs on stable Rust
//! (`tests/fuzz_corpus.rs`).
//!
//! Each function takes arbitrary bytes, must never panic or abort, and checks the parser's own
//! promises; a broken promise panics, which is what a fuzzer reports:
//! - [`fuzz_recover`]: crash recovery never fails on a file that starts with the MCAP magic, and
//!   what it writes is a valid MCAP holding exactly the messages its report counts.
//! - [`fuzz_episode_reader`]: an episode held in memory is opened and read to its end, then
//!   indexed for the catalog (the index keeps its promises whatever the file holds).
//! - [`fuzz_upload_protocol`]: the upload protocol's wire messages (request keys, the manifest,
//!   the ingest's replies) parse and round-trip, and the ingest's state machine answers any
//!   sequence of requests (feature `ingest`).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a fuzz entry point reports a broken promise by panicking: that is what a fuzzer catches"
)]

use std::io::Cursor;
use std::path::Path;

use crate::episode_index::EpisodeIndex;
use crate::episode_reader::EpisodeReader;
use crate::recover::recover_bytes;
use crate::truck_to_cloud::{IngestReply, Manifest};

/// Messages [`fuzz_episode_reader`] reads at most from one input (a bound on the time per run).
pub const MAX_MESSAGES_PER_RUN: usize = 10_000;

/// [`crate::recover::recover_bytes`] on arbitrary bytes, into memory.
///
/// # Panics
/// When an input with the MCAP magic is not recovered, when the output does not read back as
/// MCAP with a summary, or when its message count differs from the report's.
pub fn fuzz_recover(data: &[u8]) {
    let result = recover_bytes(data, Path::new("fuzz.mcap"), Cursor::new(Vec::new()), Path::new("out.mcap"));
    let (report, sink) = match result {
        Ok(done) => done,
        Err(e) => {
            assert!(!data.starts_with(mcap::MAGIC), "recovery failed on an input with the MCAP magic: {e}");
            return;
        }
    };
    assert!(report.bytes_dropped <= data.len() as u64, "more bytes dropped than read");
    let output = sink.into_inner();
    let mut messages = 0_u64;
    for message in mcap::MessageStream::new(&output).expect("the recovered file starts as MCAP") {
        message.expect("every recovered message reads back");
        messages += 1;
    }
    assert_eq!(messages, report.message_count(), "messages written differ from the report");
    let summary = mcap::Summary::read(&output).expect("the recovered file's summary reads");
    assert!(summary.is_some(), "the recovered file has a summary");
}

/// [`EpisodeReader::from_reader`] on arbitrary bytes, then every message (at most
/// [`MAX_MESSAGES_PER_RUN`]).
///
/// # Panics
/// Only when a message read back lies outside what the reader's summary promised (a message
/// on a topic the summary does not list).
pub fn fuzz_episode_reader(data: &[u8]) {
    let Ok(reader) = EpisodeReader::from_reader(Cursor::new(data), Path::new("fuzz.mcap")) else { return };
    let topics = reader.topics();
    let _ = reader.topic_message_counts();
    let _ = reader.metadata();
    for message in reader.take(MAX_MESSAGES_PER_RUN).flatten() {
        assert!(topics.contains(&message.topic), "message on topic {} not in the summary", message.topic);
    }
    let Ok(reader) = EpisodeReader::from_reader(Cursor::new(data), Path::new("fuzz.mcap")) else { return };
    if let Ok(index) = EpisodeIndex::of_reader(reader, Path::new("fuzz.mcap")) {
        check_index(&index);
    }
}

/// The promises of an [`EpisodeIndex`], whatever the file held: start no later than end, every
/// range finite and not negative, an area whose minimum is not above its maximum, no more
/// V2X-only tracks than tracks, no class with tracks but never seen in a frame.
fn check_index(index: &EpisodeIndex) {
    assert!(index.start_ns <= index.end_ns, "start {} after end {}", index.start_ns, index.end_ns);
    let tracks: u64 = index.classes.values().map(|class| class.tracks).sum();
    assert!(index.v2x_only_tracks <= tracks, "{} V2X-only of {tracks} tracks", index.v2x_only_tracks);
    for (label, class) in &index.classes {
        assert!(class.tracks == 0 || class.max_in_frame > 0, "{label}: tracks but never in a frame");
        if let Some(range_m) = class.min_range_m {
            assert!(range_m.is_finite() && range_m >= 0.0, "{label}: range {range_m}");
        }
    }
    if let Some(area) = index.site_area {
        assert!(area.min_x_m <= area.max_x_m && area.min_y_m <= area.max_y_m, "area {area:?}");
    }
}

/// The upload protocol's wire messages on arbitrary bytes. The first byte picks what the rest
/// is: `0` a reply of the ingest as the truck reads it, `1` a manifest as the ingest reads it,
/// anything else a sequence of requests (`key \0 payload \0 attachment \0`, repeated) answered by
/// a fresh ingest store in a temporary folder (feature `ingest`; without it, the keys only).
///
/// # Panics
/// When a parsed reply or manifest does not serialize back to an equal value, when a manifest's
/// chunks do not cover its size, or when the ingest answers a request with an error (anything
/// but a reply: malformed requests must be `Rejected`) or points past the episode's chunks.
pub fn fuzz_upload_protocol(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    match selector {
        0 => {
            if let Ok(reply) = serde_json::from_slice::<IngestReply>(rest) {
                let text = serde_json::to_vec(&reply).expect("a reply serializes");
                assert_eq!(
                    serde_json::from_slice::<IngestReply>(&text).ok(),
                    Some(reply),
                    "reply round trip"
                );
            }
        }
        1 => {
            if let Ok(manifest) = serde_json::from_slice::<Manifest>(rest) {
                let text = serde_json::to_vec(&manifest).expect("a manifest serializes");
                let back = serde_json::from_slice::<Manifest>(&text).ok();
                assert_eq!(back.as_ref(), Some(&manifest), "manifest round trip");
                check_manifest_chunks(&manifest);
            }
        }
        _ => ingest_requests(rest),
    }
}

/// The chunks of `manifest` cover its size exactly: the last is non-empty, none follows it.
fn check_manifest_chunks(manifest: &Manifest) {
    let count = manifest.chunk_count();
    if count == 0 {
        return;
    }
    let last = manifest.chunk_len_bytes(count - 1);
    assert!(last > 0 && last <= manifest.chunk_size_bytes, "last chunk of {last} bytes");
    assert_eq!(manifest.chunk_len_bytes(count), 0, "a chunk past the last");
    let before_last = (count - 1).checked_mul(manifest.chunk_size_bytes).expect("chunks overflow u64");
    assert_eq!(before_last + last, manifest.size_bytes, "chunks do not cover the size");
}

/// Splits `data` at `\0` into `(key, payload, attachment)` requests, as
/// [`fuzz_upload_protocol`] reads them (a request with an empty key, such as after the final
/// `\0`, is left out).
pub fn upload_requests(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8], &[u8])> {
    let mut fields = data.split(|&b| b == 0);
    std::iter::from_fn(move || {
        Some((fields.next()?, fields.next().unwrap_or_default(), fields.next().unwrap_or_default()))
    })
    .filter(|(key, _, _)| !key.is_empty())
}

#[cfg(feature = "ingest")]
fn ingest_requests(data: &[u8]) {
    use crate::truck_to_cloud::parse_request_key;
    let dir = std::env::temp_dir().join(format!("pitsense-fuzz-ingest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut store = crate::ingest::Store::open(&dir).expect("a fresh ingest store opens");
    let mut manifests: std::collections::BTreeMap<(String, String), Manifest> = Default::default();
    for (now_ns, (key, payload, attachment)) in (0_u64..).zip(upload_requests(data)) {
        let Some(request) = std::str::from_utf8(key).ok().and_then(parse_request_key) else { continue };
        let reply = store.handle(&request, payload, attachment, now_ns).expect("the ingest answers");
        let (truck_id, sha256) = match &request {
            crate::truck_to_cloud::Request::Begin { truck_id, sha256 }
            | crate::truck_to_cloud::Request::Chunk { truck_id, sha256, .. }
            | crate::truck_to_cloud::Request::End { truck_id, sha256 } => (truck_id.clone(), sha256.clone()),
        };
        // The ingest keeps a manifest it answers with `Resume`.
        if let (crate::truck_to_cloud::Request::Begin { .. }, IngestReply::Resume { .. }) = (&request, &reply)
            && let Ok(manifest) = serde_json::from_slice::<Manifest>(payload)
        {
            manifests.insert((truck_id.clone(), sha256.clone()), manifest);
        }
        if let IngestReply::Resume { next_chunk } | IngestReply::Ack { next_chunk } = reply
            && let Some(manifest) = manifests.get(&(truck_id, sha256))
        {
            assert!(next_chunk <= manifest.chunk_count(), "next chunk {next_chunk} past the episode");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(not(feature = "ingest"))]
fn ingest_requests(data: &[u8]) {
    for (key, _, _) in upload_requests(data) {
        let _ = std::str::from_utf8(key).ok().and_then(crate::truck_to_cloud::parse_request_key);
    }
}
