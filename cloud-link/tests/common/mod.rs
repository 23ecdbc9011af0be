//! Shared by the cloud-link tests and benchmark: seeded episode content built from the shared
//! data (a KITTI PNG as the compressed camera image, a real J2735 BSM as the raw V2X message).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pitsense_cloud_link::{CanFrame, CompressedImage, EpisodeMessage, V2xDecoded, V2xRaw};
pub use pitsense_testkit::data_root;
use pitsense_types::nalgebra::{Isometry3, Matrix6, Point3, Translation3, UnitQuaternion, Vector3};
use pitsense_types::{
    BoxPx, Detection2d, Detection3d, EgoState, FrameId, Header, ObjectSource, PointCloud, PointXyzi, Track,
    TrackState,
};

/// A small deterministic generator (64-bit LCG, Knuth's MMIX constants).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Frame period: 10 Hz.
pub const FRAME_NS: u64 = 100_000_000;
/// Episode start: 2026-11-29T10:00:00Z.
pub const START_NS: u64 = 1_795_946_400_000_000_000;

/// What one frame of a recording holds, per topic, and how many frames have each:
/// every frame: `/lidar0/points`, `/image2/detections`, `/detections_3d`, `/tracks`, `/tf`,
/// `/ego/state`, 2 × `/can/0`; frames divisible by 5: `/camera2/compressed`; frames divisible
/// by 10: `/v2x/raw`, `/v2x/decoded`.
pub fn frame_messages(
    frame: u64,
    points: usize,
    image_png: &[u8],
    bsm_uper: &[u8],
    rng: &mut Lcg,
) -> Vec<EpisodeMessage> {
    let stamp_ns = START_NS + frame * FRAME_NS;
    let header = |frame_id| Header { stamp_ns, frame: frame_id, seq: frame };
    let mut out = Vec::new();
    let cloud_points = (0..points)
        .map(|_| PointXyzi {
            x_m: rng.next_f32() * 80.0 - 40.0,
            y_m: rng.next_f32() * 80.0 - 40.0,
            z_m: rng.next_f32() * 4.0 - 2.0,
            intensity: rng.next_f32(),
        })
        .collect();
    out.push(EpisodeMessage::PointCloud(PointCloud {
        header: header(FrameId::Lidar(0)),
        points: cloud_points,
    }));
    if frame.is_multiple_of(5) {
        out.push(EpisodeMessage::CompressedImage(CompressedImage {
            header: header(FrameId::Camera(2)),
            format: "png".into(),
            data: image_png.to_vec(),
        }));
    }
    out.push(EpisodeMessage::Detections2d {
        header: header(FrameId::ImagePixels(2)),
        detections: vec![Detection2d {
            header: header(FrameId::ImagePixels(2)),
            box_px: BoxPx { x1: 100.0, y1: 150.0, x2: 220.0, y2: 260.0 },
            class_index: 7,
            class_label: "truck".into(),
            score: 0.5 + rng.next_f32() * 0.5,
        }],
    });
    out.push(EpisodeMessage::Detections3d {
        header: header(FrameId::Lidar(0)),
        detections: vec![Detection3d {
            header: header(FrameId::Lidar(0)),
            center_m: Point3::new(12.0, -2.0, 0.8),
            size_m: Vector3::new(4.2, 1.8, 1.6),
            yaw_rad: 0.1,
            class_label: "car".into(),
            score: 0.8,
            source: ObjectSource::Fused,
        }],
    });
    out.push(EpisodeMessage::Tracks {
        header: header(FrameId::Lidar(0)),
        tracks: vec![Track {
            header: header(FrameId::Lidar(0)),
            track_id: 3,
            state: TrackState {
                center_m: Point3::new(12.0 - frame as f64 * 0.1, -2.0, 0.8),
                velocity_mps: Vector3::new(-1.0, 0.0, 0.0),
                yaw_rad: 0.1,
                size_m: Vector3::new(4.2, 1.8, 1.6),
            },
            covariance: Matrix6::identity(),
            class_label: "car".into(),
            score: 0.8,
            age_frames: frame as u32,
            hits: frame as u32,
            frames_since_update: 0,
            source: ObjectSource::Fused,
        }],
    });
    out.push(EpisodeMessage::from(EgoState {
        header: header(FrameId::Ego),
        site_from_truck: Isometry3::from_parts(
            Translation3::new(frame as f64 * 0.5, 0.0, 0.0),
            UnitQuaternion::from_euler_angles(0.0, 0.0, 0.05),
        ),
        speed_mps: 5.0,
        yaw_rate_radps: 0.0,
        accel_mps2: -0.2,
    }));
    for can_id in [0x18F, 0x0C4] {
        out.push(EpisodeMessage::Can(CanFrame {
            stamp_ns,
            bus: 0,
            can_id,
            extended_id: false,
            data: vec![frame as u8, 1, 2, 3, 4, 5, 6, 7],
        }));
    }
    if frame.is_multiple_of(10) {
        out.push(EpisodeMessage::V2xRaw(V2xRaw {
            stamp_ns,
            source: "rsu:10.0.0.7".into(),
            data: bsm_uper.to_vec(),
        }));
        out.push(EpisodeMessage::V2xDecoded(V2xDecoded {
            stamp_ns,
            message_type: "BSM".into(),
            message: serde_json::json!({"msgCnt": frame % 128, "speed_mps": 5.0}),
        }));
    }
    out
}

/// Expected per-topic message counts for frames `0..frames` of [`frame_messages`].
pub fn expected_counts(frames: u64) -> std::collections::BTreeMap<String, u64> {
    let every = frames;
    let fifth = frames.div_ceil(5);
    let tenth = frames.div_ceil(10);
    [
        ("/lidar0/points", every),
        ("/camera2/compressed", fifth),
        ("/image2/detections", every),
        ("/detections_3d", every),
        ("/tracks", every),
        ("/tf", every),
        ("/ego/state", every),
        ("/can/0", 2 * every),
        ("/v2x/raw", tenth),
        ("/v2x/decoded", tenth),
    ]
    .into_iter()
    .map(|(topic, count)| (topic.to_owned(), count))
    .collect()
}

/// The smallest KITTI PNG of the shared data, and the single-BSM UPER file.
pub fn shared_inputs() -> (Vec<u8>, Vec<u8>) {
    let root = data_root();
    let png = std::fs::read(root.join("kitti/object/training/image_2/000001.png"))
        .expect("KITTI image in the shared data");
    let bsm = std::fs::read(root.join("v2x/j2735/asn1_codec/j2735.MessageFrame.Bsm.uper"))
        .expect("BSM in the shared data");
    (png, bsm)
}

/// Writes a real episode of `frames` frames with `points` points each (seeded by `seed`, no
/// images), returns its path.
pub fn write_test_episode(dir: &Path, name: &str, seed: u64, frames: u64, points: usize) -> PathBuf {
    let path = dir.join(name);
    let metadata = pitsense_cloud_link::EpisodeMetadata {
        truck_id: "truck-07".into(),
        trigger_reason: format!("periodic:{seed}"),
        ..Default::default()
    };
    let mut writer = pitsense_cloud_link::EpisodeWriter::create(&path, &metadata, Default::default())
        .expect("create episode");
    let mut rng = Lcg(seed);
    for frame in 0..frames {
        for message in frame_messages(frame, points, &[], &[], &mut rng) {
            if !matches!(message, EpisodeMessage::CompressedImage(_)) {
                writer.write(&message).expect("write");
            }
        }
    }
    writer.finish().expect("finish");
    path
}

/// The messages of `tests/data/json_episode_v0.mcap`, an episode written by the JSON writer
/// pitsense used before its channels moved to protobuf (kept to test that old episodes still
/// read): frames `0..10` of [`frame_messages`] with 20 points, synthetic image and V2X bytes
/// (no shared data in the repository), and one health report after the last frame.
pub fn json_episode_v0_messages() -> Vec<EpisodeMessage> {
    let mut rng = Lcg(5);
    let image = b"\x89PNG\r\n\x1a\nsynthetic image bytes".to_vec();
    let uper = vec![0x00, 0x14, 0x25, 0x03, 0x97, 0x5c, 0x80, 0x00];
    let mut messages: Vec<EpisodeMessage> =
        (0..10).flat_map(|frame| frame_messages(frame, 20, &image, &uper, &mut rng)).collect();
    let input = |status, rate_hz, age_ms| pitsense_types::InputHealth {
        status,
        rate_hz,
        age_ms,
        stamp_offset_ms: None,
    };
    messages.push(EpisodeMessage::Health(pitsense_types::HealthReport {
        stamp_ns: START_NS + 10 * FRAME_NS,
        mode: pitsense_types::DegradedMode::V2xLost,
        reason: "v2x: stale".into(),
        inputs: std::collections::BTreeMap::from([
            ("lidar0".to_owned(), input(pitsense_types::InputStatus::Ok, 10.0, Some(12.5))),
            ("v2x".to_owned(), input(pitsense_types::InputStatus::Stale, 0.0, None)),
        ]),
        late_frames: 2,
        dropped: std::collections::BTreeMap::from([("lidar->fusion".to_owned(), 1)]),
    }));
    messages
}
