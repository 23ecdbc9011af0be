//! Perception stage of pitsense: a camera object detector and the lidar obstacle pipeline.
//!
//! - [`camera`] runs a YOLOX-family detector through ONNX Runtime: an RGB
//!   [`pitsense_types::Image`] in, [`pitsense_types::Detection2d`]s in original pixels out; the
//!   network's contract comes from its `pitsense-models` manifest.
//! - [`kitti`] reads KITTI velodyne scans, calibration and label files (the test and replay
//!   format): bytes in, [`pitsense_types::PointCloud`] / [`pitsense_types::Detection3d`] out.
//! - [`lidar`] turns one [`pitsense_types::PointCloud`] (lidar frame) into obstacle boxes
//!   ([`pitsense_types::Detection3d`], class `unknown`, source `Lidar`): range filter, optional
//!   deskew from ego motion, optional dust filter and voxel downsampling, slope-aware ground
//!   removal (concentric-zone local planes), grid clustering, L-shape box fitting with height
//!   above ground; oversized clusters are flagged, never dropped. Synchronous, no I/O, no clock.
//! - [`drivers`] decodes lidar sensor packets (Ouster with its metadata JSON, Velodyne
//!   VLP-16/VLP-32C/HDL-32E/HDL-64E) from pcap replay or a live UDP socket into range images and
//!   [`pitsense_types::PointCloud`]s, reads nuScenes and PCD point files, and builds the
//!   `lidar inspect` report.

pub mod camera;
pub mod drivers;
pub mod kitti;
pub mod lidar;
