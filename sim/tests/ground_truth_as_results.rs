//! Real KITTI tracking data: the readers on the shipped files, and ground truth fed in as
//! tracker output, which must score perfectly (AB3DMOT's evaluator fails on identical boxes).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::time::Instant;

use common::{as_results, kitti_tracking, train_ground_truth};
use pitsense_sim::kitti_tracking::{
    MatchMode, SequenceSet, TrackingClass, evaluate, read_pointrcnn_detections, read_seqmap,
    read_sequence_set, read_tracking_file, write_tracking_file,
};

fn assert_perfect(gt: &SequenceSet, class: TrackingClass, mode: MatchMode) {
    let report = evaluate(gt, &as_results(gt), class, mode).unwrap();
    let clear = &report.clear;
    assert_eq!(clear.mota, 1.0, "{class} {mode}\n{report}");
    assert_eq!((clear.id_switches, clear.fragmentations), (0, 0));
    assert_eq!((clear.false_positives, clear.false_negatives), (0, 0));
    assert!((clear.motp - 1.0).abs() < 1e-12, "MOTP {}", clear.motp);
    assert_eq!(report.clear_all_tracks.mota, 1.0);
    assert!((report.samota - 1.0).abs() < 1e-12, "sAMOTA {}", report.samota);
    assert!((report.amota - 1.0).abs() < 1e-12);
    assert_eq!(report.recall_points.len(), 40);
    for value in [report.hota, report.deta, report.assa, report.loca] {
        assert!((value - 1.0).abs() < 1e-12, "{class} {mode}: {value}\n{report}");
    }
}

#[test]
fn readers_on_the_shipped_files() {
    let seqmap = read_seqmap(&kitti_tracking("evaluate_tracking.seqmap.train")).unwrap();
    assert!(seqmap.warnings.is_empty());
    let names: Vec<&str> = seqmap.data.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["0000", "0002", "0003", "0004", "0005", "0007", "0009", "0011", "0017", "0020"]);
    assert_eq!((seqmap.data[0].first_frame, seqmap.data[0].frame_count), (0, 154));

    // 0000.txt: 1089 lines, frames 0..=153.
    let labels = read_tracking_file(&kitti_tracking("label_02/0000.txt")).unwrap();
    assert!(labels.warnings.is_empty());
    assert_eq!(labels.data.len(), 1089);
    assert_eq!(labels.data.frames.keys().last(), Some(&153));
    // First line: "0 -1 DontCare -1 -1 -10.000000 219.310000 188.490000 245.500000 218.560000 ...".
    let first = &labels.data.frames[&0][0];
    assert!(first.is_dont_care());
    assert_eq!((first.track_id, first.truncated, first.box_2d.x1_px), (-1, -1, 219.31));

    for class in ["Car", "Pedestrian", "Cyclist"] {
        let detections =
            read_pointrcnn_detections(&kitti_tracking(&format!("detections_pointrcnn_val/{class}/0000.txt")))
                .unwrap();
        assert!(detections.warnings.is_empty(), "{:?}", detections.warnings);
        assert!(detections.data.values().flatten().all(|d| d.class.kitti_type() == class));
    }
}

#[test]
fn ground_truth_scores_perfectly_on_sequence_0000() {
    let parsed = read_tracking_file(&kitti_tracking("label_02/0000.txt")).unwrap();
    let mut gt = SequenceSet::default();
    gt.sequences.insert("0000".into(), parsed.data);
    assert_perfect(&gt, TrackingClass::Car, MatchMode::Iou3d { min_overlap: 0.25 });
    assert_perfect(&gt, TrackingClass::Car, MatchMode::Iou3d { min_overlap: 0.7 });
    assert_perfect(&gt, TrackingClass::Car, MatchMode::Iou2d { min_overlap: 0.5 });
}

#[test]
fn written_results_read_back_to_the_same_scores() {
    let parsed = read_tracking_file(&kitti_tracking("label_02/0000.txt")).unwrap();
    let mut gt = SequenceSet::default();
    gt.sequences.insert("0000".into(), parsed.data);
    let results = as_results(&gt);
    let dir = std::env::temp_dir().join(format!("pitsense-sim-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_tracking_file(&dir.join("0000.txt"), &results.sequences["0000"]).unwrap();
    let seqmap = read_seqmap(&kitti_tracking("evaluate_tracking.seqmap.train")).unwrap().data;
    let read_back = read_sequence_set(&dir, &seqmap[..1]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(read_back.warnings.is_empty());
    // The labels have six decimals, so the round trip is exact.
    assert_eq!(read_back.data, results);
    let mode = MatchMode::Iou3d { min_overlap: 0.25 };
    let direct = evaluate(&gt, &results, TrackingClass::Car, mode).unwrap();
    let from_file = evaluate(&gt, &read_back.data, TrackingClass::Car, mode).unwrap();
    assert_eq!(serde_json::to_string(&direct).unwrap(), serde_json::to_string(&from_file).unwrap());
}

#[test]
fn ground_truth_scores_perfectly_on_all_train_sequences() {
    let start = Instant::now();
    let gt = train_ground_truth();
    let read_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    assert_perfect(&gt, TrackingClass::Car, MatchMode::Iou3d { min_overlap: 0.25 });
    eprintln!(
        "10 train sequences: read {read_s:.3} s; car, 3D IoU 0.25 evaluation {:.3} s",
        start.elapsed().as_secs_f64()
    );
    assert_perfect(&gt, TrackingClass::Pedestrian, MatchMode::Iou3d { min_overlap: 0.5 });
    assert_perfect(&gt, TrackingClass::Cyclist, MatchMode::Iou3d { min_overlap: 0.7 });
}

#[test]
fn evaluation_is_deterministic_and_serialisable() {
    let gt = train_ground_truth();
    // A degraded tracker: drop every 7th object and shift every 5th box by 1 m.
    let mut results = as_results(&gt);
    for sequence in results.sequences.values_mut() {
        for (index, object) in sequence.frames.values_mut().flatten().enumerate() {
            object.score = Some(f64::from(u32::try_from(index % 10).unwrap()) / 10.0);
            if index % 5 == 0 {
                object.box_3d.x_m += 1.0;
            }
        }
        for objects in sequence.frames.values_mut() {
            let mut index = 0;
            objects.retain(|_| {
                index += 1;
                index % 7 != 0
            });
        }
    }
    let mode = MatchMode::Iou3d { min_overlap: 0.5 };
    let first = evaluate(&gt, &results, TrackingClass::Car, mode).unwrap();
    let second = evaluate(&gt, &results, TrackingClass::Car, mode).unwrap();
    let json = serde_json::to_string_pretty(&first).unwrap();
    assert_eq!(json, serde_json::to_string_pretty(&second).unwrap());
    let parsed: pitsense_sim::kitti_tracking::EvalReport = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed.clear, first.clear);
    assert!(first.clear.mota < 1.0 && first.hota < 1.0 && first.samota < 1.0);
    assert!(first.clear.false_negatives > 0 && first.clear.id_switches == 0);
    eprintln!("{first}");
}
