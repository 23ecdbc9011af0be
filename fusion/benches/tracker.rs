//! Tracker throughput over a whole long KITTI sequence: AB3DMOT's PointRCNN car detections of
//! tracking sequence 0020 (837 frames, 7,898 boxes), tracked with the built-in `car` parameters.
//!
//! Reports frames per second (criterion's throughput in elements/s, one element per frame).
//! Data root: `$PITSENSE_DATA`, default `../shared/data` next to the workspace; without the data
//! file the benchmark says so and measures nothing.
//!
//! Detections are comma-separated `frame, type_id, x1, y1, x2, y2, score, h, w, l, x, y, z,
//! rot_y, alpha` in KITTI rectified-camera coordinates; boxes are converted with
//! [`OrientedBox::from_kitti_rect_camera`] and the raw PointRCNN score `s` is mapped to
//! `1 / (1 + e^(−s))` in `(0, 1)`. Frames are 100 ms apart.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pitsense_fusion::{OrientedBox, Tracker, TrackerConfig};
use pitsense_testkit::data_root;
use pitsense_types::{Detection3d, FrameId, Header, ObjectSource};

const FRAME_PERIOD_NS: u64 = 100_000_000;

/// The frames of one detection file, every frame from 0 to the last one (empty ones included).
fn load_sequence(class: &str, sequence: &str) -> Option<Vec<(u64, Vec<Detection3d>)>> {
    let path = data_root()
        .join("kitti_tracking/detections_pointrcnn_val")
        .join(class)
        .join(format!("{sequence}.txt"));
    let text = std::fs::read_to_string(&path)
        .map_err(|error| eprintln!("tracker bench: cannot read {}: {error}; skipped", path.display()))
        .ok()?;
    let mut frames: Vec<(u64, Vec<Detection3d>)> = Vec::new();
    for (line_number, line) in text.lines().enumerate() {
        let fields: Vec<f64> = line.split(',').filter_map(|field| field.trim().parse().ok()).collect();
        let [frame, _type_id, _x1, _y1, _x2, _y2, score, h, w, l, x, y, z, rot_y, _alpha] = fields[..] else {
            eprintln!(
                "tracker bench: {}:{}: expected 15 numbers; line skipped",
                path.display(),
                line_number + 1
            );
            continue;
        };
        let frame = frame as u64;
        while frames.len() as u64 <= frame {
            let stamp_ns = frames.len() as u64 * FRAME_PERIOD_NS;
            frames.push((stamp_ns, Vec::new()));
        }
        let oriented = OrientedBox::from_kitti_rect_camera(h, w, l, [x, y, z], rot_y);
        let stamp_ns = frame * FRAME_PERIOD_NS;
        frames[frame as usize].1.push(Detection3d {
            header: Header { stamp_ns, frame: FrameId::Camera(2), seq: frame },
            center_m: oriented.center_m,
            size_m: oriented.size_m,
            yaw_rad: oriented.yaw_rad,
            class_label: class.to_lowercase(),
            score: (1.0 / (1.0 + (-score).exp())) as f32,
            source: ObjectSource::Lidar,
        });
    }
    Some(frames)
}

/// Tracks the whole sequence once; returns the number of published track boxes.
fn run(frames: &[(u64, Vec<Detection3d>)]) -> usize {
    let Ok(mut tracker) = Tracker::new(TrackerConfig::default()) else {
        return 0;
    };
    frames.iter().map(|(stamp_ns, detections)| tracker.update(*stamp_ns, detections).len()).sum()
}

fn tracker_throughput(c: &mut Criterion) {
    let Some(frames) = load_sequence("Car", "0020") else {
        return;
    };
    let boxes: usize = frames.iter().map(|(_, detections)| detections.len()).sum();
    let start = Instant::now();
    let published = run(&frames);
    let elapsed_s = start.elapsed().as_secs_f64();
    eprintln!(
        "tracker bench: KITTI 0020 Car, {} frames, {boxes} detections, {published} track boxes; one pass \
         {:.1} ms = {:.0} frames/s",
        frames.len(),
        elapsed_s * 1e3,
        frames.len() as f64 / elapsed_s
    );
    let mut group = c.benchmark_group("tracker");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.sample_size(20);
    group.bench_function("kitti_0020_car_sequence", |b| b.iter(|| run(black_box(&frames))));
    group.finish();
}

criterion_group!(benches, tracker_throughput);
criterion_main!(benches);
