//! Recall of the lidar pipeline on real KITTI scans against the KITTI labels.
//!
//! Four frames: 000000-000002 of `kitti/object/training` (label_2) and mmdet3d's demo frame
//! 000008 (labels in its info JSON). Labelled Car/Van/Truck/Pedestrian/Cyclist whose centre is
//! within 40 m (bird's-eye view) are targets; a target is recalled when a lidar box centre is
//! within 1.5 m of its centre in bird's-eye view.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use pitsense_perception::kitti::{KittiCalib, KittiLabel, read_calib, read_labels, read_velodyne_bin};
use pitsense_perception::lidar::{LidarConfig, LidarOutput, LidarPipeline};
use pitsense_types::{Detection3d, PointCloud};

const TARGET_TYPES: [&str; 5] = ["Car", "Van", "Truck", "Pedestrian", "Cyclist"];
const MAX_TARGET_RANGE_M: f64 = 40.0;
const MATCH_RADIUS_M: f64 = 1.5;

struct Frame {
    name: &'static str,
    cloud: PointCloud,
    calib: KittiCalib,
    labels: Vec<KittiLabel>,
}

fn frames() -> Vec<Frame> {
    let mut frames = Vec::new();
    for (index, name) in common::KITTI_TRAINING_FRAMES.into_iter().enumerate() {
        frames.push(Frame {
            name,
            cloud: read_velodyne_bin(
                &common::data_file(&format!("kitti/object/training/velodyne/{name}.bin")),
                common::kitti_header(index as u64),
            )
            .unwrap(),
            calib: read_calib(&common::data_file(&format!("kitti/object/training/calib/{name}.txt")))
                .unwrap(),
            labels: read_labels(&common::data_file(&format!("kitti/object/training/label_2/{name}.txt")))
                .unwrap(),
        });
    }
    let (calib, labels) =
        common::mmdet3d_frame(&common::data_file("kitti/object_mmdet3d_demo/000008_info.json"));
    frames.push(Frame {
        name: "000008",
        cloud: read_velodyne_bin(
            &common::data_file("kitti/object_mmdet3d_demo/000008.bin"),
            common::kitti_header(8),
        )
        .unwrap(),
        calib,
        labels,
    });
    frames
}

fn bev_distance(a: &Detection3d, b: &Detection3d) -> f64 {
    (a.center_m.x - b.center_m.x).hypot(a.center_m.y - b.center_m.y)
}

#[test]
fn recall_of_labelled_objects_within_40_m() {
    let mut pipeline = LidarPipeline::new(LidarConfig::default()).unwrap();
    let (mut targets, mut within_1_5, mut within_1_0) = (0, 0, 0);
    let mut unmatched_by_size = [0_usize; 4];
    let mut total_objects = 0;
    for frame in frames() {
        let started = std::time::Instant::now();
        let output = pipeline.process(&frame.cloud);
        let elapsed = started.elapsed();
        assert_eq!(output.stats.input_points, frame.cloud.points.len());
        println!(
            "frame {}: {} points, {} ground, {} obstacle, {} objects, {} oversized, {:.1} ms (test profile)\n  {:?}",
            frame.name,
            output.stats.input_points,
            output.stats.ground_points,
            output.stats.obstacle_points,
            output.objects.len(),
            output.oversized_objects.len(),
            elapsed.as_secs_f64() * 1e3,
            output.stats
        );
        total_objects += output.objects.len();
        let velo_from_rect = frame.calib.velo_from_rect().unwrap();
        let labelled: Vec<(String, Detection3d)> = frame
            .labels
            .iter()
            .filter(|l| !l.is_dont_care())
            .map(|l| (l.object_type.clone(), l.to_detection_in_lidar(&velo_from_rect, frame.cloud.header)))
            .collect();
        for (object_type, label) in &labelled {
            let range_m = label.center_m.x.hypot(label.center_m.y);
            if !TARGET_TYPES.contains(&object_type.as_str()) || range_m > MAX_TARGET_RANGE_M {
                continue;
            }
            targets += 1;
            let nearest = output
                .objects
                .iter()
                .chain(&output.oversized_objects)
                .min_by(|a, b| bev_distance(a, label).total_cmp(&bev_distance(b, label)));
            match nearest {
                Some(object) => {
                    let error_m = bev_distance(object, label);
                    println!(
                        "  {object_type:<10} at ({:6.2}, {:6.2}) range {range_m:5.1} m: nearest box ({:6.2}, {:6.2}) \
                         size {:.2}x{:.2}x{:.2}, centre error {error_m:.2} m",
                        label.center_m.x,
                        label.center_m.y,
                        object.center_m.x,
                        object.center_m.y,
                        object.size_m.x,
                        object.size_m.y,
                        object.size_m.z
                    );
                    within_1_5 += usize::from(error_m <= MATCH_RADIUS_M);
                    within_1_0 += usize::from(error_m <= 1.0);
                }
                None => println!("  {object_type:<10} at range {range_m:5.1} m: no box at all"),
            }
        }
        // Boxes far from every label (any type, any range) by footprint length.
        for object in &output.objects {
            if labelled.iter().all(|(_, label)| bev_distance(object, label) > MATCH_RADIUS_M) {
                let bucket = match object.size_m.x {
                    l if l < 1.0 => 0,
                    l if l < 3.0 => 1,
                    l if l < 6.0 => 2,
                    _ => 3,
                };
                unmatched_by_size[bucket] += 1;
            }
        }
    }
    let recall = within_1_5 as f64 / targets as f64;
    println!(
        "recall {within_1_5}/{targets} = {recall:.3} within {MATCH_RADIUS_M} m; {within_1_0}/{targets} within 1.0 m \
         (acceptance target: all {targets} within 1.5 m, >= 7 within 1.0 m)"
    );
    println!(
        "unmatched boxes by length: <1 m {}, 1-3 m {}, 3-6 m {}, >=6 m {} (of {total_objects} boxes)",
        unmatched_by_size[0], unmatched_by_size[1], unmatched_by_size[2], unmatched_by_size[3]
    );
    assert_eq!(targets, 8, "000000: 1 pedestrian, 000002: 1 car, 000008: 6 cars");
    assert!(recall >= 0.8, "recall {recall:.3} < 0.8");
}

#[test]
fn replaying_a_scan_gives_identical_output() {
    let frame = frames().into_iter().next().unwrap();
    let mut pipeline = LidarPipeline::new(LidarConfig::default()).unwrap();
    let first: LidarOutput = pipeline.process(&frame.cloud);
    // Same pipeline (reused buffers) and a fresh one.
    let second = pipeline.process(&frame.cloud);
    let third = LidarPipeline::new(LidarConfig::default()).unwrap().process(&frame.cloud);
    assert!(!first.objects.is_empty());
    assert_eq!(first, second);
    assert_eq!(first, third);
    let s = first.stats;
    assert_eq!(
        s.non_finite + s.out_of_range + s.in_ego_box + s.ground_points + s.obstacle_points,
        s.input_points,
        "every point is counted once: {s:?}"
    );
    assert_eq!(s.input_points, 115_384, "SOURCES.md: 000000 has 115,384 points");
}
