//! Camera object detection: a YOLOX-family network run through ONNX Runtime.
//!
//! The network's I/O contract (input size, letterbox, channel order, output decoder, strides,
//! class names) comes from its manifest in `pitsense-models`, never from constants here.
//! Pipeline per image, each step public so benchmarks can time it:
//! [`YoloxDetector::preprocess`] (letterbox into the input tensor) →
//! [`YoloxDetector::infer`] (ONNX Runtime; the output's shape is checked against the manifest's
//! layout) → [`YoloxDetector::postprocess`] (decode and NMS in the manifest's mode, boxes back in
//! original pixels).
//!
//! [`ground_plane_measurements`] places detections in 3D by the flat-ground assumption, with a
//! range-dependent covariance: what the runtime fuses while the lidar is lost.

mod detector;
mod ground_range;
mod nms;
mod runtime;

pub use detector::{DetectorConfig, DetectorError, YoloxDetector};
pub use ground_range::{GroundRangeConfig, class_size_prior_m, ground_plane_measurements};
pub use nms::{class_agnostic_nms, class_aware_nms, decode_yolox, non_maximum_suppression};
pub use runtime::{OnnxRuntimeError, onnx_runtime_environment};
