//! Dataset replay and scoring for simulation CI.
//!
//! - [`kitti_tracking`]: readers and writer for the KITTI tracking formats (labels, results,
//!   seqmaps, AB3DMOT's PointRCNN detections), the geometry the scoring needs (3D and 2D IoU),
//!   and the evaluation itself: CLEAR MOT as the KITTI devkit, sAMOTA / AMOTA / AMOTP as
//!   AB3DMOT (Weng et al. 2020) and HOTA as TrackEval (Luiten et al. 2021).
//!
//! - [`tracking`]: the tracker (from `fusion`) run on those detections, and the scoring run, as
//!   the `pitsense-sim track` and `pitsense-sim eval-tracking` commands.
//!
//! Everything here is deterministic: sorted maps, no wall clock, no threads.

pub mod kitti_tracking;
pub mod tracking;
