//! Building the stages the onboard graph runs: the camera detector (model verified, ONNX
//! Runtime loaded, labels mapped into pitsense's taxonomy) and one tracker step with or
//! without the truck's pose.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use pitsense_fusion::tracker::Tracker;
use pitsense_perception::camera::{YoloxDetector, onnx_runtime_environment};
use pitsense_types::nalgebra::Isometry3;
use pitsense_types::{Detection2d, Detection3d, EgoState, Image, ObjectMeasurement, Track};

use crate::config::PitsenseConfig;

/// What the pipeline needs to work in the site frame: the truck's pose at the frame's time,
/// the lidar extrinsics, and the V2X objects valid at that time.
#[derive(Clone, Copy, Debug)]
pub struct EgoContext<'a> {
    /// The truck's pose (GNSS/INS) at the frame's stamp.
    pub ego: &'a EgoState,
    /// Pose of the lidar in the truck frame (extrinsics).
    pub truck_from_lidar: &'a Isometry3<f64>,
    /// V2X objects latency-compensated to the frame's stamp.
    pub v2x_objects: &'a [ObjectMeasurement],
}

/// One tracker step: with an [`EgoContext`], tracks in the site frame with the V2X objects
/// fused; without, tracks in the lidar frame from the sensor detections only.
pub fn track_frame(
    tracker: &mut Tracker,
    stamp_ns: u64,
    detections: &[Detection3d],
    ego: Option<&EgoContext<'_>>,
) -> Vec<Track> {
    match ego {
        Some(context) => tracker.update_with_ego_and_v2x(
            stamp_ns,
            detections,
            context.v2x_objects,
            context.ego,
            context.truck_from_lidar,
        ),
        None => tracker.update(stamp_ns, detections),
    }
}

/// Where ONNX Runtime's library is: the config's path, else `ORT_DYLIB_PATH`.
///
/// # Errors
/// When neither is set.
pub fn onnxruntime_library(config: &PitsenseConfig) -> anyhow::Result<PathBuf> {
    if !config.models.onnxruntime_library.as_os_str().is_empty() {
        return Ok(config.models.onnxruntime_library.clone());
    }
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err(anyhow!(
            "ONNX Runtime library not configured: set ORT_DYLIB_PATH to libonnxruntime.so \
             (`./x setup` installs it from the onnxruntime PyPI wheel) or models.onnxruntime_library"
        )),
    }
}

/// The camera detector of `config.models`: the model verified (SHA-256) and loaded into ONNX
/// Runtime, with `config.camera`'s thresholds.
///
/// # Errors
/// Missing or corrupt model (the message names the data root), ONNX Runtime not found,
/// invalid detector configuration.
pub fn build_detector(config: &PitsenseConfig, data_root: &Path) -> anyhow::Result<CameraDetector> {
    let manifest = pitsense_models::builtin_manifest(&config.models.camera_detector)?;
    let model = if config.models.camera_detector_file.as_os_str().is_empty() {
        manifest.resolve(data_root)
    } else {
        manifest.resolve_file(&data_root.join(&config.models.camera_detector_file))
    }
    .with_context(|| {
        format!(
            "camera detector `{}` is not usable (data root `{}`; set --data-root or PITSENSE_DATA)",
            manifest.model.name,
            data_root.display()
        )
    })?;
    let library = onnxruntime_library(config)?;
    let environment = onnx_runtime_environment(&library)?;
    let output = manifest.output.clone();
    Ok(CameraDetector { detector: YoloxDetector::new(&environment, model, config.camera.clone())?, output })
}

/// The camera detector and its model's output contract: detections come out labelled in
/// pitsense's taxonomy ([`pitsense_types::ObjectClass`]) through the manifest's `class_map`.
pub struct CameraDetector {
    detector: YoloxDetector,
    output: pitsense_models::OutputContract,
}

impl std::fmt::Debug for CameraDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraDetector").field("detector", &self.detector).finish_non_exhaustive()
    }
}

impl CameraDetector {
    /// Detects objects in `image` (RGB8) and relabels them in the taxonomy; the model's classes
    /// that are not road users are dropped.
    ///
    /// # Errors
    /// The detector's errors (bad image, inference failure, output shape against the manifest).
    pub fn detect(&mut self, image: &Image) -> anyhow::Result<Vec<Detection2d>> {
        Ok(to_taxonomy(self.detector.detect(image)?, &self.output))
    }
}

/// Relabels `detections` (labelled with the model's class names) in pitsense's taxonomy
/// through `output.class_map`, dropping the classes it does not name.
pub fn to_taxonomy(
    detections: Vec<Detection2d>,
    output: &pitsense_models::OutputContract,
) -> Vec<Detection2d> {
    detections
        .into_iter()
        .filter_map(|mut detection| {
            let class = output.taxonomy_class(&detection.class_label)?;
            detection.class_label = class.label().to_owned();
            Some(detection)
        })
        .collect()
}
