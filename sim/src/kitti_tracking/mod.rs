//! KITTI tracking: file formats, box geometry and the evaluation of tracker results.
//!
//! Public API:
//!
//! - reading: [`read_tracking_file`] (labels and results), [`read_seqmap`],
//!   [`read_sequence_set`] (`<dir>/<seq>.txt` for every seqmap entry),
//!   [`read_pointrcnn_detections`] (AB3DMOT's PointRCNN detections); malformed lines are skipped
//!   and returned as [`LineWarning`]s (`file:line: problem`) in [`Parsed::warnings`];
//! - writing: [`write_tracking_file`], [`write_tracking_objects`], [`format_tracking_line`]
//!   (18 columns, score last);
//! - geometry: [`iou_3d`] (exact oriented 3D IoU of KITTI camera boxes), [`iou_2d`];
//! - scoring: [`evaluate`]`(gt, results, class, mode) -> Result<`[`EvalReport`]`, `[`EvalError`]`>`,
//!   with [`TrackingClass`] and [`MatchMode`]; the report is serde-serialisable (JSON) and
//!   prints as a table (`Display`).
//!
//! ```no_run
//! use std::path::Path;
//! use pitsense_sim::kitti_tracking::{
//!     MatchMode, TrackingClass, evaluate, read_seqmap, read_sequence_set,
//! };
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = Path::new("shared/data/kitti_tracking");
//! let seqmap = read_seqmap(&root.join("evaluate_tracking.seqmap.train"))?.data;
//! let gt = read_sequence_set(&root.join("label_02"), &seqmap)?.data;
//! let results = read_sequence_set(Path::new("out/car/data"), &seqmap)?.data;
//! let report = evaluate(&gt, &results, TrackingClass::Car, MatchMode::Iou3d { min_overlap: 0.25 })?;
//! println!("{report}");
//! # Ok(())
//! # }
//! ```

mod assignment;
mod class;
mod eval;
mod format;
mod geometry;
mod hota;
mod pointrcnn;

pub(crate) use assignment::max_weight_pairs;
pub use class::{TrackingClass, UnknownClass};
pub use eval::{
    ClearMot, DONT_CARE_OVERLAP, EvalError, EvalReport, MAX_OCCLUSION, MAX_TRUNCATION, MIN_HEIGHT_PX,
    MatchMode, NUM_SAMPLE_POINTS, RecallPoint, evaluate,
};
pub use format::{
    FormatError, LineProblem, LineWarning, Parsed, SeqmapEntry, Sequence, SequenceSet, TrackingObject,
    format_tracking_line, parse_seqmap_text, parse_tracking_text, read_seqmap, read_sequence_set,
    read_tracking_file, write_tracking_file, write_tracking_objects,
};
pub use geometry::{ImageBox, KittiBox3d, intersection_over_first_2d, iou_2d, iou_3d};
pub use hota::{HOTA_ALPHA_COUNT, HotaAtAlpha, hota_alpha};
pub use pointrcnn::{DetectionsByFrame, PointRcnnDetection, parse_pointrcnn_text, read_pointrcnn_detections};
