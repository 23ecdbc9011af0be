//! The store-and-forward queue on a real folder: quota, eviction order, counters, and a queue
//! that survives a restart (reopened from disk) and an interrupted enqueue.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

use std::path::{Path, PathBuf};

use pitsense_cloud_link::queue::{EnqueueOutcome, EpisodeQueue, Priority};
use sha2::{Digest, Sha256};

fn episode(dir: &Path, name: &str, size_bytes: usize, fill: u8) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![fill; size_bytes]).unwrap();
    path
}

fn queued_names(queue: &EpisodeQueue) -> Vec<String> {
    queue.entries().map(|e| e.file_name.clone()).collect()
}

#[test]
fn the_quota_evicts_oldest_low_priority_first_and_reports_high_priority_drops() {
    let work = tempfile::tempdir().unwrap();
    let queue_dir = work.path().join("queue");
    let mut queue = EpisodeQueue::open(&queue_dir, 1000).unwrap();
    let a = episode(work.path(), "a-low.mcap", 300, 1);
    let b = episode(work.path(), "b-high.mcap", 300, 2);
    let c = episode(work.path(), "c-low.mcap", 300, 3);
    for (path, priority) in [(&a, Priority::Low), (&b, Priority::High), (&c, Priority::Low)] {
        assert!(
            matches!(queue.enqueue_copy(path, priority).unwrap(), EnqueueOutcome::Queued { ref evicted, .. } if evicted.is_empty())
        );
    }
    assert_eq!(queue.used_bytes(), 900);
    // The entry's SHA-256 is the file's.
    let b_entry = queue.entries().find(|e| e.file_name == "b-high.mcap").unwrap();
    assert_eq!(b_entry.sha256, format!("{:x}", Sha256::digest(std::fs::read(&b).unwrap())));

    // A Normal episode of 400 B: 300 over, the oldest Low (a) goes.
    let d = episode(work.path(), "d-normal.mcap", 400, 4);
    let EnqueueOutcome::Queued { evicted, .. } = queue.enqueue_copy(&d, Priority::Normal).unwrap() else {
        panic!()
    };
    assert_eq!(evicted.iter().map(|e| e.file_name.as_str()).collect::<Vec<_>>(), ["a-low.mcap"]);
    assert_eq!(queued_names(&queue), ["b-high.mcap", "c-low.mcap", "d-normal.mcap"]);

    // A Low episode that would need the Normal or High ones gone is refused.
    let e = episode(work.path(), "e-low.mcap", 500, 5);
    assert_eq!(queue.enqueue_copy(&e, Priority::Low).unwrap(), EnqueueOutcome::Refused { size_bytes: 500 });

    // A High episode of 900 B: c (Low), then d (Normal), then b (High, reported).
    let f = episode(work.path(), "f-high.mcap", 900, 6);
    let EnqueueOutcome::Queued { evicted, .. } = queue.enqueue_copy(&f, Priority::High).unwrap() else {
        panic!()
    };
    assert_eq!(
        evicted.iter().map(|e| e.file_name.as_str()).collect::<Vec<_>>(),
        ["c-low.mcap", "d-normal.mcap", "b-high.mcap"]
    );
    let counters = queue.counters();
    assert_eq!((counters.evicted, counters.evicted_bytes), (4, 300 + 300 + 400 + 300));
    assert_eq!(counters.high_priority_dropped, 1);
    assert_eq!(counters.refused, 1);
    assert_eq!(queue.used_bytes(), 900);
    // Evicted episodes' files are gone from the queue folder; the caller's files are untouched.
    let files = std::fs::read_dir(&queue_dir).unwrap().count();
    assert_eq!(files, 2, "one episode and its entry");
    assert!(a.is_file() && b.is_file());

    // Bigger than the whole quota: an error naming the file.
    let g = episode(work.path(), "g.mcap", 1001, 7);
    let err = queue.enqueue_copy(&g, Priority::High).unwrap_err();
    assert!(err.to_string().contains("g.mcap") && err.to_string().contains("quota"), "{err}");
}

#[test]
fn the_queue_survives_a_restart_and_cleans_an_interrupted_enqueue() {
    let work = tempfile::tempdir().unwrap();
    let queue_dir = work.path().join("queue");
    {
        let mut queue = EpisodeQueue::open(&queue_dir, 10_000).unwrap();
        queue.enqueue_copy(&episode(work.path(), "one.mcap", 100, 1), Priority::Low).unwrap();
        queue.enqueue_move(&episode(work.path(), "two.mcap", 200, 2), Priority::High).unwrap();
        assert!(!work.path().join("two.mcap").exists(), "moved into the queue");
    }
    // An enqueue killed between the copy and the entry: a file with no entry, and a partial copy.
    std::fs::write(queue_dir.join("0000000000000009.mcap"), b"torn").unwrap();
    std::fs::write(queue_dir.join("0000000000000010.partial"), b"torn").unwrap();
    let mut queue = EpisodeQueue::open(&queue_dir, 10_000).unwrap();
    assert_eq!(queued_names(&queue), ["one.mcap", "two.mcap"]);
    assert!(!queue_dir.join("0000000000000009.mcap").exists());
    assert!(!queue_dir.join("0000000000000010.partial").exists());
    // Highest priority first, then oldest.
    assert_eq!(queue.next().unwrap().file_name, "two.mcap");
    let next_seq = queue.enqueue_copy(&episode(work.path(), "three.mcap", 10, 3), Priority::High).unwrap();
    let EnqueueOutcome::Queued { entry, .. } = next_seq else { panic!() };
    assert_eq!(entry.seq, 2, "sequence numbers continue after a restart");
    let first = queue.next().unwrap().seq;
    queue.remove(first).unwrap();
    assert_eq!(queue.next().unwrap().file_name, "three.mcap");
}

#[test]
fn a_malformed_entry_is_an_error_naming_the_file() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("0000000000000000.json"), b"{not json").unwrap();
    let err = EpisodeQueue::open(work.path(), 100).unwrap_err();
    assert!(err.to_string().contains("0000000000000000.json"), "{err}");
}
