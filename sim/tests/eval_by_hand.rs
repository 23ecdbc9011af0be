//! The evaluation on hand-made 3-frame cases, every expected number derived by hand below.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use common::{object, single};
use pitsense_sim::kitti_tracking::{EvalError, MatchMode, TrackingClass, TrackingObject, evaluate};

const MODE: MatchMode = MatchMode::Iou3d { min_overlap: 0.25 };

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

/// Two cars, A (id 1, x = 0) and B (id 2, x = 10), in frames 0–2.
///
/// Tracker (3D boxes 4 × 2 × 1.5 m along x; a shift of d along x leaves an overlap of 4 − d):
/// - frame 0: track 10 on A exactly (IoU 1); track 20 on B shifted 0.8 m
///   (IoU 3.2·2·1.5 / (2·12 − 9.6) = 9.6 / 14.4 = 2/3);
/// - frame 1: track 10 on A exactly; B missed; track 30 far from everything (x = −10);
/// - frame 2: track 11 on A shifted 0.8 m (IoU 2/3): an ID switch; track 20 on B shifted 1.6 m
///   (IoU 7.2 / 16.8 = 3/7 ≥ 0.25).
fn three_frames(false_positive_score: f64) -> (Vec<TrackingObject>, Vec<TrackingObject>) {
    let mut gt = Vec::new();
    for frame in 0..3 {
        gt.push(object(frame, 1, "Car", 0.0, 1.0));
        gt.push(object(frame, 2, "Car", 10.0, 1.0));
    }
    let tracker = vec![
        object(0, 10, "Car", 0.0, 1.0),
        object(0, 20, "Car", 10.8, 1.0),
        object(1, 10, "Car", 0.0, 1.0),
        object(1, 30, "Car", -10.0, false_positive_score),
        object(2, 11, "Car", 0.8, 1.0),
        object(2, 20, "Car", 11.6, 1.0),
    ];
    (gt, tracker)
}

#[test]
fn clear_mot_with_one_switch_one_false_positive_and_one_miss() {
    let (gt, tracker) = three_frames(1.0);
    let report = evaluate(&single(gt), &single(tracker), TrackingClass::Car, MODE).unwrap();
    let clear = &report.clear_all_tracks;
    // TP: A in frames 0, 1, 2 and B in frames 0, 2 = 5. FP: track 30 = 1. FN: B in frame 1 = 1.
    assert_eq!((clear.true_positives, clear.false_positives, clear.false_negatives), (5, 1, 1));
    // Trajectory A: tracker ids [10, 10, 11]. Switch at frame 2 (10 -> 11, previous frame
    // tracked); the devkit's last-frame rule counts the id change as a fragmentation too.
    // Trajectory B: [20, −1, 20]. No switch (same id back); fragmentation at frame 2 (resumed).
    assert_eq!((clear.id_switches, clear.fragmentations), (1, 2));
    // MOTA = 1 − (FN + FP + IDS) / GT = 1 − 3/6.
    close(clear.mota, 0.5);
    // MOTP = (1 + 2/3 + 1 + 2/3 + 3/7) / 5 = (79/21) / 5 = 79/105.
    close(clear.motp, 79.0 / 105.0);
    close(clear.recall, 5.0 / 6.0);
    close(clear.precision, 5.0 / 6.0);
    assert_eq!(clear.gt_objects, 6);
    // A tracked 3/3 (MT), B 2/3 = 0.67 (PT).
    close(clear.mostly_tracked, 0.5);
    close(clear.partly_tracked, 0.5);
    // All scores are 1: the one threshold (1.0) keeps every track, so the best-MOTA pass is the same.
    assert_eq!(report.clear.score_threshold, Some(1.0));
    assert_eq!((report.clear.mota, report.clear.false_positives), (clear.mota, 1));

    // Recall sweep: 5 matched scores (all 1), 6 GT. Sorted scores give recall 1/6 .. 5/6 per
    // match, each past the next 1/40 step: thresholds at recall 0 (dropped), 0.025, 0.05, 0.075,
    // 0.1. At each, MOTA = 0.5 and sMOTA = clip(1 − (3 − (1 − r)·6) / (6r)) = clip(0.5 / r) = 1.
    assert_eq!(report.recall_points.len(), 4);
    close(report.recall_points[3].recall, 0.1);
    close(report.samota, 4.0 / 40.0);
    close(report.amota, 4.0 * 0.5 / 40.0);
    close(report.amotp, 4.0 * (79.0 / 105.0) / 40.0);

    // HOTA. With no overlap between different objects, every A(g, t) comes from diagonal terms
    // (sim_iou = 1 per co-occurrence): A(A,10) = 2/(3+2−2) = 2/3, A(B,20) = 2/3, A(A,11) = 1/3.
    // α ≤ 3/7 (8 values): TP 5, FN 1, FP 1 -> DetA 5/7;
    //   AssA = (2·2/3 + 2·2/3 + 1·1/3) / 5 = 3/5.
    // 3/7 < α ≤ 2/3 (0.45..0.65, 5 values): TP 4, FN 2, FP 2 -> DetA 1/2;
    //   counts (A,10) 2, (B,20) 1, (A,11) 1 -> AssA = (2·2/3 + 1·1/4 + 1·1/3) / 4 = 23/48.
    // α > 2/3 (6 values): TP 2, FN 4, FP 4 -> DetA 1/5; AssA = (2·2/3) / 2 = 2/3.
    let hota =
        (8.0 * (3.0f64 / 7.0).sqrt() + 5.0 * (23.0f64 / 96.0).sqrt() + 6.0 * (2.0f64 / 15.0).sqrt()) / 19.0;
    let deta = (8.0 * 5.0 / 7.0 + 5.0 * 0.5 + 6.0 * 0.2) / 19.0;
    let assa = (8.0 * 0.6 + 5.0 * 23.0 / 48.0 + 6.0 * 2.0 / 3.0) / 19.0;
    close(report.hota, hota);
    close(report.deta, deta);
    close(report.assa, assa);
    // LocA: α ≤ 3/7: 79/105; middle: (1 + 2/3 + 1 + 2/3)/4 = 5/6; high: 1.
    close(report.loca, (8.0 * 79.0 / 105.0 + 5.0 * 5.0 / 6.0 + 6.0) / 19.0);
}

#[test]
fn best_mota_threshold_drops_the_low_score_false_positive() {
    // Same case, but the false-positive track scores 0.2: the threshold 1.0 (from the matched
    // scores) removes it, MOTA = 1 − (1 + 0 + 1)/6 = 2/3 > 1/2, so AB3DMOT reports that pass.
    let (gt, tracker) = three_frames(0.2);
    let report = evaluate(&single(gt), &single(tracker), TrackingClass::Car, MODE).unwrap();
    assert_eq!(report.clear_all_tracks.false_positives, 1);
    close(report.clear_all_tracks.mota, 0.5);
    assert_eq!(report.clear.score_threshold, Some(1.0));
    assert_eq!(report.clear.false_positives, 0);
    close(report.clear.mota, 2.0 / 3.0);
    close(report.amota, 4.0 * (2.0 / 3.0) / 40.0);
}

#[test]
fn ignored_objects_are_neither_false_positives_nor_misses() {
    let mut occluded = object(0, 3, "Car", 20.0, 1.0);
    occluded.occluded = 3;
    // 2D boxes: x1 = 500 + 10·x_m, 40 px wide, 100 px tall. The DontCare region spans
    // 280..360 px: it holds the 2D box of a tracker box at x = −20 m (300..340 px) entirely.
    let mut dont_care = object(0, -1, "DontCare", 0.0, 1.0);
    dont_care.box_2d.x1_px = 280.0;
    dont_care.box_2d.x2_px = 360.0;
    let gt = vec![
        object(0, 1, "Car", 0.0, 1.0),
        object(0, 2, "Van", 10.0, 1.0), // Unmatched van: ignored, no FN.
        occluded,                       // Matched occluded car: an ignored TP.
        dont_care,
    ];
    let mut small = object(0, 31, "Car", -30.0, 1.0);
    small.box_2d.y2_px = small.box_2d.y1_px + 20.0; // 20 px tall: ignored.
    let tracker = vec![
        object(0, 10, "Car", 0.0, 1.0),
        object(0, 40, "Car", 20.0, 1.0),
        object(0, 30, "Car", -20.0, 1.0), // Inside the DontCare region: ignored.
        small,
        object(0, 33, "Van", -50.0, 1.0), // Unmatched van: ignored.
        object(0, 32, "Car", -40.0, 1.0), // The one false positive (2D box 100..140 px).
    ];
    let report = evaluate(&single(gt), &single(tracker), TrackingClass::Car, MODE).unwrap();
    let clear = &report.clear_all_tracks;
    assert_eq!((clear.true_positives, clear.ignored_true_positives), (2, 1));
    assert_eq!((clear.false_positives, clear.false_negatives, clear.ignored_false_negatives), (1, 0, 1));
    assert_eq!((clear.gt_objects, clear.ignored_gt_objects), (1, 2));
    assert_eq!(clear.ignored_tracker_objects, 3);
    // MOTA = 1 − (0 + 1 + 0) / 1.
    close(clear.mota, 0.0);
    // HOTA keeps car 1 and tracks 10 and 32: TP 1, FP 1 at every α -> DetA 1/2, AssA 1.
    close(report.deta, 0.5);
    close(report.assa, 1.0);
}

#[test]
fn two_dimensional_mode_uses_image_boxes() {
    // Track 20's 3D box is shifted 10 m (no 3D overlap) but its 2D box is the same as B's.
    let gt = vec![object(0, 2, "Car", 10.0, 1.0)];
    let mut tracker = object(0, 20, "Car", 20.0, 1.0);
    tracker.box_2d = gt[0].box_2d;
    let gt = single(gt);
    let results = single(vec![tracker]);
    let in_3d = evaluate(&gt, &results, TrackingClass::Car, MODE).unwrap();
    assert_eq!(in_3d.clear_all_tracks.true_positives, 0);
    let in_2d = evaluate(&gt, &results, TrackingClass::Car, MatchMode::Iou2d { min_overlap: 0.5 }).unwrap();
    assert_eq!(in_2d.clear_all_tracks.true_positives, 1);
    close(in_2d.clear_all_tracks.mota, 1.0);
}

#[test]
fn errors_name_what_is_wrong() {
    let (gt, tracker) = three_frames(1.0);
    let mut duplicated = tracker.clone();
    duplicated.push(object(1, 10, "Car", 5.0, 1.0));
    let error = evaluate(&single(gt.clone()), &single(duplicated), TrackingClass::Car, MODE).unwrap_err();
    assert_eq!(
        error,
        EvalError::DuplicateTrackId {
            sequence: "0000".into(),
            frame: 1,
            track_id: 10,
            class: TrackingClass::Car
        }
    );
    let error =
        evaluate(&single(gt.clone()), &single(tracker.clone()), TrackingClass::Pedestrian, MODE).unwrap_err();
    assert_eq!(error, EvalError::NoGroundTruth { class: TrackingClass::Pedestrian });
    let bad = MatchMode::Iou3d { min_overlap: 0.0 };
    assert!(matches!(
        evaluate(&single(gt.clone()), &single(tracker), TrackingClass::Car, bad),
        Err(EvalError::InvalidThreshold { .. })
    ));
    let mut renamed = single(Vec::new());
    let sequence = renamed.sequences.remove("0000").unwrap();
    renamed.sequences.insert("0001".into(), sequence);
    assert!(matches!(
        evaluate(&single(gt), &renamed, TrackingClass::Car, MODE),
        Err(EvalError::MissingSequence { .. })
    ));
}
