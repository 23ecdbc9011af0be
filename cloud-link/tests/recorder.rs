//! The recorder driver end to end: messages at 10 Hz, a low-confidence track and a manual
//! trigger put over a real zenoh session; the episodes hold the pre-roll and post-roll windows
//! (counted from the stamps written) and land in the upload queue with their priorities.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{FRAME_NS, Lcg, START_NS, frame_messages, shared_inputs};
use pitsense_cloud_link::queue::{EpisodeQueue, Priority, episode_path};
use pitsense_cloud_link::recorder::{RecorderHandle, manual_trigger_key};
use pitsense_cloud_link::transport::LinkConfig;
use pitsense_cloud_link::trigger::{RecorderConfig, TriggerRules};
use pitsense_cloud_link::{EpisodeMessage, EpisodeMetadata};
use pitsense_types::nalgebra::{Matrix6, Point3, Vector3};
use pitsense_types::{FrameId, Header, ObjectSource, Track, TrackState};

fn low_confidence_tracks(stamp_ns: u64) -> EpisodeMessage {
    let header = Header { stamp_ns, frame: FrameId::Lidar(0), seq: 0 };
    EpisodeMessage::Tracks {
        header,
        tracks: vec![Track {
            header,
            track_id: 42,
            state: TrackState {
                center_m: Point3::new(20.0, 1.0, 0.0),
                velocity_mps: Vector3::zeros(),
                yaw_rad: 0.0,
                size_m: Vector3::new(1.0, 1.0, 1.8),
            },
            covariance: Matrix6::identity(),
            class_label: "person".into(),
            score: 0.2,
            age_frames: 10,
            hits: 10,
            frames_since_update: 0,
            source: ObjectSource::Fused,
        }],
    }
}

/// Lidar stamps (frame numbers) in an episode, with its metadata's trigger reason.
fn lidar_frames(path: &std::path::Path) -> (Vec<u64>, String) {
    let bytes = std::fs::read(path).unwrap();
    let frames = mcap::MessageStream::new(&bytes)
        .unwrap()
        .map(Result::unwrap)
        .filter(|m| m.channel.topic == "/lidar0/points")
        .map(|m| (m.log_time - START_NS) / FRAME_NS)
        .collect();
    let summary = mcap::Summary::read(&bytes).unwrap().unwrap();
    let metadata = mcap::read::metadata(&bytes, &summary.metadata_indexes[0]).unwrap();
    (frames, metadata.metadata["trigger_reason"].clone())
}

#[test]
fn triggers_record_pre_and_post_roll_into_the_queue() {
    const PORT: u16 = 27_517;
    let work = tempfile::tempdir().unwrap();
    let queue = Arc::new(Mutex::new(EpisodeQueue::open(&work.path().join("queue"), 1 << 30).unwrap()));
    let config = RecorderConfig {
        enabled: true,
        pre_roll_s: 2.0,
        post_roll_s: 1.0,
        channel_capacity: 100_000,
        episode_dir: work.path().join("episodes").to_string_lossy().into_owned(),
        triggers: TriggerRules { cooldown_s: 60.0, ..TriggerRules::default() },
        ..RecorderConfig::default()
    };
    let metadata = EpisodeMetadata { truck_id: "truck-07".into(), ..Default::default() };
    let mut recorder = RecorderHandle::spawn(config, metadata, None, queue.clone()).unwrap();
    let truck_session =
        LinkConfig { listen: vec![format!("tcp/127.0.0.1:{PORT}")], ..Default::default() }.open().unwrap();
    recorder.listen_for_manual_triggers(&truck_session, "truck-07").unwrap();
    let operator =
        LinkConfig { connect: vec![format!("tcp/127.0.0.1:{PORT}")], ..Default::default() }.open().unwrap();

    let (png, bsm) = shared_inputs();
    let mut rng = Lcg(5);
    for frame in 0..=80u64 {
        for message in frame_messages(frame, 500, &png, &bsm, &mut rng) {
            assert!(recorder.offer(message));
        }
        if frame == 50 {
            assert!(recorder.offer(low_confidence_tracks(START_NS + frame * FRAME_NS)));
        }
    }
    // Manual trigger over zenoh, after frame 80; retried until the recorder has it (bounded).
    use zenoh::Wait;
    let counters = recorder.counters();
    let deadline = Instant::now() + Duration::from_secs(20);
    while counters.manual_triggers.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "the manual trigger never arrived");
        operator.put(manual_trigger_key("truck-07"), "operator request").wait().unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(counters.manual_triggers.load(Ordering::Relaxed), 1);
    for frame in 81..=100u64 {
        for message in frame_messages(frame, 500, &png, &bsm, &mut rng) {
            assert!(recorder.offer(message));
        }
    }
    let report = recorder.finish().unwrap();
    assert_eq!(report.dropped_for_memory, 0);
    assert_eq!(counters.dropped_messages.load(Ordering::Relaxed), 0);
    assert_eq!(report.episodes.len(), 2);

    let queue = queue.lock().unwrap();
    let entries: Vec<_> = queue.entries().cloned().collect();
    assert_eq!(entries.len(), 2);
    let mut found = BTreeMap::new();
    for entry in &entries {
        let (frames, reason) = lidar_frames(&episode_path(queue.dir(), entry.seq));
        found.insert(reason, (entry.priority, frames));
    }
    // Low confidence at frame 50 (5.0 s): pre-roll 2 s from frame 30, post-roll 1 s to frame 60.
    let (priority, frames) = &found["low_confidence:track=42"];
    assert_eq!(*priority, Priority::Normal);
    assert_eq!(*frames, (30..=60).collect::<Vec<_>>());
    // Manual at the last stamp seen (frame 80, 8.0 s): from 6.0 s, but frame 60 went to the
    // first episode, so 61..=90.
    let (priority, frames) = &found["manual:operator request"];
    assert_eq!(*priority, Priority::High);
    assert_eq!(*frames, (61..=90).collect::<Vec<_>>());
}
