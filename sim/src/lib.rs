//! Simulation CI: mine scenarios, dataset replay and scoring.
//!
//! - [`scenario`]: seeded open-pit scenarios — terrain, haul roads, berms, actors, dust — with
//!   a physical model of real Ouster lidars (beam tables from the sensor's metadata, dust after
//!   Hahner et al. 2021, real UDP packets), today's onboard lidar pipeline and tracker run on
//!   them, and metric gates against the ground truth (`pitsense-sim run`).
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

#[doc(hidden)]
pub mod fuzzing;
pub mod kitti_tracking;
pub mod scenario;
pub mod tracking;
