//! Shared helpers of the sim integration tests: where the data is, and object builders.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::PathBuf;

use pitsense_sim::kitti_tracking::{
    ImageBox, KittiBox3d, Sequence, SequenceSet, TrackingObject, read_seqmap, read_sequence_set,
};
pub use pitsense_testkit::data_root;

/// A path under `kitti_tracking/`; panics with a hint when it is missing.
pub fn kitti_tracking(relative: &str) -> PathBuf {
    let path = data_root().join("kitti_tracking").join(relative);
    assert!(
        path.exists(),
        "test data `{}` is missing; set PITSENSE_DATA to the shared data folder (see shared/data/SOURCES.md)",
        path.display()
    );
    path
}

/// The ground truth of the 10 train sequences of `evaluate_tracking.seqmap.train`.
pub fn train_ground_truth() -> SequenceSet {
    let seqmap = read_seqmap(&kitti_tracking("evaluate_tracking.seqmap.train")).unwrap();
    assert!(seqmap.warnings.is_empty(), "{:?}", seqmap.warnings);
    let gt = read_sequence_set(&kitti_tracking("label_02"), &seqmap.data).unwrap();
    assert!(gt.warnings.is_empty(), "{:?}", gt.warnings);
    gt.data
}

/// Ground truth turned into tracker output: every object with score 1.
pub fn as_results(gt: &SequenceSet) -> SequenceSet {
    let mut results = gt.clone();
    for sequence in results.sequences.values_mut() {
        for object in sequence.frames.values_mut().flatten() {
            object.score = Some(1.0);
        }
    }
    results
}

/// A fully visible object whose 3D box is 4 m long (along x), 2 m wide, 1.5 m high, at
/// `(x_m, 1.5, 20)` with yaw 0, and whose 2D box is 100 px tall at `x1 = 500 + 10·x_m`.
pub fn object(frame: u32, track_id: i64, object_type: &str, x_m: f64, score: f64) -> TrackingObject {
    let x1_px = 500.0 + 10.0 * x_m;
    TrackingObject {
        frame,
        track_id,
        object_type: object_type.to_owned(),
        truncated: 0,
        occluded: 0,
        alpha_rad: 0.0,
        box_2d: ImageBox { x1_px, y1_px: 100.0, x2_px: x1_px + 40.0, y2_px: 200.0 },
        box_3d: KittiBox3d { h_m: 1.5, w_m: 2.0, l_m: 4.0, x_m, y_m: 1.5, z_m: 20.0, rot_y_rad: 0.0 },
        score: Some(score),
    }
}

/// A one-sequence set named `0000`.
pub fn single(objects: Vec<TrackingObject>) -> SequenceSet {
    let mut set = SequenceSet::default();
    set.sequences.insert("0000".to_owned(), Sequence::from_objects(objects));
    set
}
