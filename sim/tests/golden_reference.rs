//! Golden test: a seeded noisy tracker output on three train sequences, scored by the reference
//! implementations — AB3DMOT's `scripts/KITTI/evaluate.py` (CLEAR MOT, sAMOTA / AMOTA / AMOTP at
//! 3D IoU 0.25 / 0.5 / 0.7 and 2D IoU 0.5) and TrackEval's KITTI 2D box HOTA — must give the same
//! numbers here. Provenance and how to regenerate: `tests/data/ab3dmot_golden/README.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::path::PathBuf;

use common::kitti_tracking;
use pitsense_sim::kitti_tracking::{
    ClearMot, EvalReport, MatchMode, SequenceSet, TrackingClass, evaluate, read_seqmap, read_sequence_set,
};
use serde_json::Value;

fn golden_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ab3dmot_golden"))
}

fn load() -> (SequenceSet, SequenceSet, Value) {
    let seqmap = read_seqmap(&golden_dir().join("evaluate_tracking.seqmap")).unwrap();
    assert!(seqmap.warnings.is_empty());
    let gt = read_sequence_set(&kitti_tracking("label_02"), &seqmap.data).unwrap();
    // The noisy results derive from KITTI labels (CC BY-NC-SA): they are regenerated here by
    // the seeded script instead of being stored in the repository.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let results_dir = std::env::temp_dir().join(format!("pitsense-golden-{}-{call}", std::process::id()));
    let python = std::env::var_os("PITSENSE_PYTHON").unwrap_or_else(|| "python3".into());
    let status = std::process::Command::new(python)
        .arg(golden_dir().join("make_results.py"))
        .arg("2024")
        .arg(kitti_tracking("label_02"))
        .arg(golden_dir().join("evaluate_tracking.seqmap"))
        .arg(&results_dir)
        .status()
        .expect("python runs make_results.py");
    assert!(status.success(), "make_results.py failed");
    let results = read_sequence_set(&results_dir, &seqmap.data).unwrap();
    std::fs::remove_dir_all(&results_dir).ok();
    assert!(gt.warnings.is_empty() && results.warnings.is_empty());
    let expected =
        serde_json::from_str(&std::fs::read_to_string(golden_dir().join("expected.json")).unwrap()).unwrap();
    (gt.data, results.data, expected)
}

/// AB3DMOT prints four decimals.
fn assert_printed(what: &str, ours: f64, expected: &Value, decimals: i32) {
    let expected = expected.as_f64().unwrap_or_else(|| panic!("{what}: no expectation"));
    let tolerance = 0.5 * 10f64.powi(-decimals) + 1e-9;
    assert!((ours - expected).abs() <= tolerance, "{what}: ours {ours}, reference {expected}");
}

fn assert_count(what: &str, ours: u64, expected: &Value) {
    assert_eq!(Some(ours), expected.as_u64(), "{what}");
}

fn check_clear(what: &str, clear: &ClearMot, expected: &Value) {
    for (name, value) in [
        ("mota", clear.mota),
        ("motp", clear.motp),
        ("recall", clear.recall),
        ("precision", clear.precision),
        ("mostly_tracked", clear.mostly_tracked),
        ("partly_tracked", clear.partly_tracked),
        ("mostly_lost", clear.mostly_lost),
    ] {
        assert_printed(&format!("{what} {name}"), value, &expected[name], 4);
    }
    for (name, value) in [
        ("true_positives", clear.true_positives),
        ("ignored_true_positives", clear.ignored_true_positives),
        ("false_positives", clear.false_positives),
        ("false_negatives", clear.false_negatives),
        ("ignored_false_negatives", clear.ignored_false_negatives),
        ("id_switches", clear.id_switches),
        ("fragmentations", clear.fragmentations),
        ("gt_objects_total", clear.gt_objects + clear.ignored_gt_objects),
        ("ignored_gt_objects", clear.ignored_gt_objects),
        ("gt_trajectories", clear.gt_trajectories),
        ("tracker_objects", clear.tracker_objects),
        ("ignored_tracker_objects", clear.ignored_tracker_objects),
    ] {
        assert_count(&format!("{what} {name}"), value, &expected[name]);
    }
}

fn check_sweep(what: &str, report: &EvalReport, expected: &Value) {
    assert_printed(&format!("{what} sAMOTA"), report.samota, &expected["samota"], 4);
    assert_printed(&format!("{what} AMOTA"), report.amota, &expected["amota"], 4);
    assert_printed(&format!("{what} AMOTP"), report.amotp, &expected["amotp"], 4);
    let points = expected["recall_points"].as_array().unwrap();
    assert_eq!(report.recall_points.len(), points.len(), "{what}: recall points");
    for (index, (ours, reference)) in report.recall_points.iter().zip(points).enumerate() {
        let what = format!("{what} recall point {index}");
        assert_printed(&format!("{what} threshold"), ours.score_threshold, &reference["score_threshold"], 6);
        assert_printed(&format!("{what} recall"), ours.recall, &reference["recall"], 6);
        assert_printed(&format!("{what} sMOTA"), ours.smota, &reference["smota"], 4);
        assert_printed(&format!("{what} MOTA"), ours.mota, &reference["mota"], 4);
        assert_printed(&format!("{what} MOTP"), ours.motp, &reference["motp"], 4);
    }
}

#[test]
fn clear_mot_and_amota_match_ab3dmot_evaluate_py() {
    let (gt, results, expected) = load();
    for (key, mode) in [
        ("3D_0.25", MatchMode::Iou3d { min_overlap: 0.25 }),
        ("3D_0.5", MatchMode::Iou3d { min_overlap: 0.5 }),
        ("3D_0.7", MatchMode::Iou3d { min_overlap: 0.7 }),
        ("2D_0.5", MatchMode::Iou2d { min_overlap: 0.5 }),
    ] {
        for class in TrackingClass::ALL {
            let reference = &expected["ab3dmot"][key][class.name()];
            let report = evaluate(&gt, &results, class, mode).unwrap();
            let what = format!("{key} {class}");
            // AB3DMOT's detailed summary is its last pass, at the best-MOTA threshold.
            check_clear(&what, &report.clear, reference);
            check_sweep(&what, &report, reference);
        }
    }
}

#[test]
fn hota_matches_trackeval() {
    let (gt, results, expected) = load();
    for class in [TrackingClass::Car, TrackingClass::Pedestrian] {
        let reference = &expected["trackeval_hota_2d_iou"][class.name()];
        let report = evaluate(&gt, &results, class, MatchMode::Iou2d { min_overlap: 0.5 }).unwrap();
        for (name, value) in [
            ("hota", report.hota),
            ("deta", report.deta),
            ("assa", report.assa),
            ("loca", report.loca),
            ("detre", report.detre),
            ("detpr", report.detpr),
            ("assre", report.assre),
            ("asspr", report.asspr),
        ] {
            assert_printed(&format!("{class} {name}"), value, &reference[name], 9);
        }
    }
}
