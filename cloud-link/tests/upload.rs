//! Upload over real zenoh sessions on loopback (explicit ports, multicast scouting off): link cuts
//! (ingest killed and restarted, truck sessions closed and reopened), a corrupted chunk,
//! idempotent re-sends. Every check compares SHA-256 computed here from the original files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitsense_cloud_link::catalog::CatalogQuery;
use pitsense_cloud_link::ingest::{Catalog, Ingest};
use pitsense_cloud_link::queue::{EpisodeQueue, Priority};
use pitsense_cloud_link::transport::LinkConfig;
use pitsense_cloud_link::uploader::{RunMode, Uploader, UploaderConfig, UploaderHandle};
use sha2::{Digest, Sha256};

fn sha256_of(path: &Path) -> String {
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

fn ingest_link(port: u16) -> LinkConfig {
    LinkConfig { listen: vec![format!("tcp/127.0.0.1:{port}")], ..Default::default() }
}

fn truck_link(port: u16) -> LinkConfig {
    LinkConfig { connect: vec![format!("tcp/127.0.0.1:{port}")], ..Default::default() }
}

/// Starts the ingest, retrying while the port is still held by the previous one (bounded).
fn start_ingest(store: &Path, port: u16) -> Ingest {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Ingest::start(store, &ingest_link(port)) {
            Ok(ingest) => return ingest,
            Err(e) if Instant::now() < deadline => {
                eprintln!("ingest restart: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("ingest did not start: {e}"),
        }
    }
}

fn uploader_config(truck_id: &str, port: u16) -> UploaderConfig {
    UploaderConfig {
        chunk_size_bytes: 128 * 1024,
        rate_limit_bytes_per_s: Some(200 * 1024 * 1024),
        request_timeout_ms: 1_000,
        backoff_initial_ms: 50,
        backoff_max_ms: 400,
        ..UploaderConfig::new(truck_id, truck_link(port))
    }
}

fn spawn_uploader(config: UploaderConfig, queue_dir: &Path, mode: RunMode) -> UploaderHandle {
    let queue = Arc::new(Mutex::new(EpisodeQueue::open(queue_dir, 1 << 30).unwrap()));
    UploaderHandle::spawn(Uploader::new(config, queue).unwrap(), mode).unwrap()
}

/// Waits (bounded) until `condition` holds; panics with `what` otherwise.
fn wait_for(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn queue_len(queue_dir: &Path) -> usize {
    EpisodeQueue::open(queue_dir, 1 << 30).unwrap().entries().count()
}

#[test]
fn twenty_episodes_arrive_intact_through_link_cuts() {
    const PORT: u16 = 27_447;
    let work = tempfile::tempdir().unwrap();
    let (originals_dir, queue_dir, store) =
        (work.path().join("originals"), work.path().join("queue"), work.path().join("store"));
    std::fs::create_dir_all(&originals_dir).unwrap();
    let originals: Vec<PathBuf> = (0..20)
        .map(|i| {
            common::write_test_episode(&originals_dir, &format!("episode-{i:02}.mcap"), 100 + i, 20, 6000)
        })
        .collect();
    let sizes: Vec<u64> = originals.iter().map(|p| std::fs::metadata(p).unwrap().len()).collect();
    assert!(sizes.iter().all(|s| *s > 1_500_000), "a few MB each: {sizes:?}");
    let chunk_size = 128 * 1024u64;
    let total_chunks: u64 = sizes.iter().map(|s| s.div_ceil(chunk_size)).sum();
    {
        let mut queue = EpisodeQueue::open(&queue_dir, 1 << 30).unwrap();
        for (i, path) in originals.iter().enumerate() {
            let priority = if i % 5 == 0 { Priority::High } else { Priority::Normal };
            queue.enqueue_copy(path, priority).unwrap();
        }
    }

    let mut chunks_stored_total = 0u64;
    let mut ingest = start_ingest(&store, PORT);
    let mut uploader = spawn_uploader(uploader_config("truck-07", PORT), &queue_dir, RunMode::UntilStopped);
    let limit = Duration::from_secs(90);

    // Cut 1: the ingest is killed mid-transfer and restarted.
    wait_for("30 chunks", limit, || ingest.counters().chunks_stored.load(Ordering::Relaxed) >= 30);
    let counters = ingest.counters();
    ingest.stop();
    chunks_stored_total += counters.chunks_stored.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(700));
    ingest = start_ingest(&store, PORT);

    // Cut 2: the truck's session is closed and reopened (a new uploader on the same queue).
    wait_for("3 episodes after restart", limit, || {
        ingest.counters().episodes_stored.load(Ordering::Relaxed) >= 3
    });
    uploader.stop().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    uploader = spawn_uploader(uploader_config("truck-07", PORT), &queue_dir, RunMode::UntilStopped);

    // Cut 3: the ingest again, down long enough for the uploader to back off and reopen.
    wait_for("40 more chunks", limit, || ingest.counters().chunks_stored.load(Ordering::Relaxed) >= 40);
    let counters = ingest.counters();
    ingest.stop();
    chunks_stored_total += counters.chunks_stored.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(2_500));
    ingest = start_ingest(&store, PORT);

    // Cut 4: both at once.
    wait_for("10 more chunks", limit, || ingest.counters().chunks_stored.load(Ordering::Relaxed) >= 10);
    let stats_before = uploader.stop().unwrap();
    assert_eq!(stats_before, 0);
    let counters = ingest.counters();
    ingest.stop();
    chunks_stored_total += counters.chunks_stored.load(Ordering::Relaxed);
    ingest = start_ingest(&store, PORT);
    let uploader = spawn_uploader(uploader_config("truck-07", PORT), &queue_dir, RunMode::UntilEmpty);
    wait_for("the queue to empty", limit, || uploader.is_finished());
    assert_eq!(uploader.stop().unwrap(), 0, "no episode failed verification");
    let counters = ingest.counters();
    ingest.stop();
    chunks_stored_total += counters.chunks_stored.load(Ordering::Relaxed);
    assert_eq!(queue_len(&queue_dir), 0);

    // Every episode once in the catalog, byte-identical in the store.
    let rows = Catalog::open(&store.join("catalog.sqlite")).unwrap().list().unwrap();
    assert_eq!(rows.len(), 20);
    let mut expected: Vec<(String, u64)> =
        originals.iter().zip(&sizes).map(|(p, s)| (sha256_of(p), *s)).collect();
    let mut catalogued: Vec<(String, u64)> = rows.iter().map(|r| (r.sha256.clone(), r.size_bytes)).collect();
    expected.sort();
    catalogued.sort();
    assert_eq!(catalogued, expected);
    for row in &rows {
        assert_eq!(row.truck_id, "truck-07");
        assert_eq!(sha256_of(&store.join(&row.store_path)), row.sha256, "{}", row.store_path);
    }
    // Each indexed as it landed, across the kills: the test episodes track one car (id 3)
    // over 20 frames from 2026-11-29T10:00:00Z, triggered `periodic:<seed>`.
    let cars = CatalogQuery { classes: vec!["car".into()], ..CatalogQuery::default() };
    let hits = Catalog::open(&store.join("catalog.sqlite")).unwrap().query(&cars).unwrap();
    assert_eq!(hits.len(), 20);
    for hit in &hits {
        let index = hit.index.as_ref().unwrap();
        assert_eq!((index.truck_id.as_str(), index.classes["car"].tracks), ("truck-07", 1));
        assert_eq!(
            (index.start_ns, index.end_ns),
            (common::START_NS, common::START_NS + 19 * common::FRAME_NS)
        );
        assert!(index.trigger_reason.starts_with("periodic:"), "{}", index.trigger_reason);
    }
    // Resumed, not restarted: every chunk was written to the store exactly once.
    assert_eq!(chunks_stored_total, total_chunks);
    // No partial transfer left behind.
    let partial_left = walk(&store.join(".partial")).into_iter().filter(|p| p.is_file()).count();
    assert_eq!(partial_left, 0);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(items) = std::fs::read_dir(dir) {
        for item in items.flatten() {
            let path = item.path();
            if path.is_dir() {
                out.extend(walk(&path));
            }
            out.push(path);
        }
    }
    out
}

#[test]
fn a_corrupted_chunk_is_detected_and_sent_again() {
    const PORT: u16 = 27_457;
    let work = tempfile::tempdir().unwrap();
    let original = common::write_test_episode(work.path(), "episode.mcap", 7, 10, 6000);
    let queue_dir = work.path().join("queue");
    EpisodeQueue::open(&queue_dir, 1 << 30).unwrap().enqueue_copy(&original, Priority::High).unwrap();
    let store = work.path().join("store");
    let ingest = start_ingest(&store, PORT);
    let config = UploaderConfig { fault_corrupt_chunk_once: Some(2), ..uploader_config("truck-07", PORT) };
    let uploader = spawn_uploader(config, &queue_dir, RunMode::UntilEmpty);
    wait_for("the upload", Duration::from_secs(60), || uploader.is_finished());
    assert_eq!(uploader.stats().chunks_corrupt.load(Ordering::Relaxed), 1);
    assert_eq!(uploader.stop().unwrap(), 0);
    assert_eq!(ingest.counters().chunks_corrupt.load(Ordering::Relaxed), 1);
    let rows = Catalog::open(&store.join("catalog.sqlite")).unwrap().list().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sha256, sha256_of(&original));
    assert_eq!(sha256_of(&store.join(&rows[0].store_path)), sha256_of(&original));
}

#[test]
fn sending_an_episode_again_is_idempotent() {
    const PORT: u16 = 27_467;
    let work = tempfile::tempdir().unwrap();
    let original = common::write_test_episode(work.path(), "episode.mcap", 9, 5, 3000);
    let store = work.path().join("store");
    let ingest = start_ingest(&store, PORT);
    for round in 0..2 {
        let queue_dir = work.path().join(format!("queue-{round}"));
        EpisodeQueue::open(&queue_dir, 1 << 30).unwrap().enqueue_copy(&original, Priority::Normal).unwrap();
        let uploader = spawn_uploader(uploader_config("truck-07", PORT), &queue_dir, RunMode::UntilEmpty);
        wait_for("the upload", Duration::from_secs(60), || uploader.is_finished());
        let already = uploader.stats().episodes_already_stored.load(Ordering::Relaxed);
        assert_eq!(already, round, "round {round}");
        uploader.stop().unwrap();
    }
    assert_eq!(ingest.counters().episodes_stored.load(Ordering::Relaxed), 1);
    let rows = Catalog::open(&store.join("catalog.sqlite")).unwrap().list().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sha256, sha256_of(&original));
}

#[test]
fn an_episode_that_fails_verification_is_set_aside_and_reported() {
    const PORT: u16 = 27_537;
    let work = tempfile::tempdir().unwrap();
    let original = common::write_test_episode(work.path(), "episode.mcap", 11, 4, 2000);
    let queue_dir = work.path().join("queue");
    let mut queue = EpisodeQueue::open(&queue_dir, 1 << 30).unwrap();
    queue.enqueue_copy(&original, Priority::High).unwrap();
    // The queued copy rots on disk after its SHA-256 was taken: every chunk is sent intact as
    // read, but the assembled episode does not match the manifest.
    let queued = pitsense_cloud_link::queue::episode_path(&queue_dir, 0);
    let mut bytes = std::fs::read(&queued).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&queued, bytes).unwrap();
    drop(queue);

    let store = work.path().join("store");
    let ingest = start_ingest(&store, PORT);
    let request = pitsense_cloud_link::upload_command::UploadRequest {
        connect: vec![format!("tcp/127.0.0.1:{PORT}")],
        queue_dir: queue_dir.clone(),
        files: vec![],
        priority: Priority::Normal,
        once: true,
        truck_id: "truck-07".into(),
        quota_bytes: 1 << 30,
        chunk_size_bytes: 64 * 1024,
        rate_limit_bytes_per_s: None,
        tls: None,
    };
    let outcome =
        pitsense_cloud_link::upload_command::run_upload(&request, &std::sync::atomic::AtomicBool::new(false))
            .unwrap();
    assert_eq!((outcome.uploaded, outcome.failed, outcome.still_queued), (0, 1, 0));
    assert!(outcome.has_failures());
    assert_eq!(ingest.counters().episodes_verify_failed.load(Ordering::Relaxed), 3);
    assert!(Catalog::open(&store.join("catalog.sqlite")).unwrap().list().unwrap().is_empty());
    // Kept for inspection, not deleted.
    assert!(queue_dir.join("failed/0000000000000000-episode.mcap").is_file());
}
