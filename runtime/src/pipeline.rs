//! The perception pipeline for one camera and one lidar: detector, lidar obstacles,
//! camera–lidar fusion and tracker, run in sequence on one synchronised frame.
//!
//! The stages are the libraries' plain structs; this module only wires them and times each
//! step (wall-clock reads live here, in the runtime, never inside a stage).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow};
use pitsense_fusion::camera_lidar::CameraLidarFusion;
use pitsense_fusion::tracker::Tracker;
use pitsense_perception::camera::{YoloxDetector, onnx_runtime_environment};
use pitsense_perception::lidar::{LidarOutput, LidarPipeline};
use pitsense_types::nalgebra::Isometry3;
use pitsense_types::{
    CameraCalibration, Detection2d, Detection3d, EgoState, Image, ObjectMeasurement, PointCloud, Track,
};

use crate::config::PitsenseConfig;

/// Per-stage wall-clock latency of one frame, milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageLatencyMs {
    /// Reading and decoding the frame's files.
    pub read: f64,
    /// Camera detector (letterbox, inference, NMS).
    pub camera: f64,
    /// Lidar obstacle pipeline.
    pub lidar: f64,
    /// Camera–lidar fusion.
    pub fusion: f64,
    /// Tracker update.
    pub tracker: f64,
}

impl StageLatencyMs {
    /// Stage names, in pipeline order, and their values.
    pub fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("read", self.read),
            ("camera", self.camera),
            ("lidar", self.lidar),
            ("fusion", self.fusion),
            ("tracker", self.tracker),
        ]
    }
}

/// Everything the pipeline produced for one frame.
#[derive(Debug)]
pub struct FrameOutput {
    /// Camera detections, original pixels.
    pub detections: Vec<Detection2d>,
    /// Lidar pipeline output (obstacle boxes, kept points, counters).
    pub lidar: LidarOutput,
    /// Fused objects (lidar geometry, camera class where matched), lidar frame.
    pub fused: Vec<Detection3d>,
    /// Published tracks: lidar frame, or the site frame with an [`EgoContext`] (the header
    /// says which).
    pub tracks: Vec<Track>,
}

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

/// The stages, built once at start-up.
pub struct Pipeline {
    detector: CameraDetector,
    lidar: LidarPipeline,
    fusion: CameraLidarFusion,
    tracker: Tracker,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("detector", &self.detector).finish_non_exhaustive()
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

impl Pipeline {
    /// Builds every stage: verifies the model (SHA-256), loads ONNX Runtime and the network,
    /// validates the stage configs.
    ///
    /// # Errors
    /// Start-up errors (missing or corrupt model, missing ONNX Runtime, invalid config); the
    /// message names the file or key.
    pub fn new(config: &PitsenseConfig, data_root: &Path) -> anyhow::Result<Self> {
        let detector = build_detector(config, data_root)?;
        let lidar = LidarPipeline::new(config.lidar.clone())?;
        let fusion = CameraLidarFusion::new(config.fusion.clone())?;
        let tracker = Tracker::new(config.tracker.clone())?;
        Ok(Self { detector, lidar, fusion, tracker })
    }

    /// Runs all stages on one frame and times them (`latency.read` is left to the caller).
    ///
    /// # Errors
    /// When the detector fails on this image; the tracker then was not updated.
    pub fn process(
        &mut self,
        cloud: &PointCloud,
        image: &Image,
        calibration: &CameraCalibration,
        latency: &mut StageLatencyMs,
    ) -> anyhow::Result<FrameOutput> {
        self.process_frame(cloud, image, calibration, None, latency)
    }

    /// As [`Pipeline::process`], with the truck's pose and V2X objects: the tracker keeps its
    /// tracks in the site frame ([`Tracker::update_with_ego_and_v2x`]), the lidar boxes placed
    /// with `ego.site_from_truck · truck_from_lidar`, and fuses the V2X objects (see
    /// [`crate::v2x_fusion::V2xFusion::objects_at`]) after the sensor detections. Objects seen
    /// only through V2X come out with source `v2x`.
    ///
    /// # Errors
    /// As [`Pipeline::process`].
    pub fn process_with_ego(
        &mut self,
        cloud: &PointCloud,
        image: &Image,
        calibration: &CameraCalibration,
        ego: &EgoContext<'_>,
        latency: &mut StageLatencyMs,
    ) -> anyhow::Result<FrameOutput> {
        self.process_frame(cloud, image, calibration, Some(ego), latency)
    }

    fn process_frame(
        &mut self,
        cloud: &PointCloud,
        image: &Image,
        calibration: &CameraCalibration,
        ego: Option<&EgoContext<'_>>,
        latency: &mut StageLatencyMs,
    ) -> anyhow::Result<FrameOutput> {
        let start = Instant::now();
        let detections = self.detector.detect(image)?;
        let after_camera = Instant::now();
        let lidar = self.lidar.process(cloud);
        let after_lidar = Instant::now();
        let fused = self.fusion.fuse(&lidar.objects, &detections, calibration).objects;
        let after_fusion = Instant::now();
        let tracks = track_frame(&mut self.tracker, cloud.header.stamp_ns, &fused, ego);
        let end = Instant::now();
        let ms = |from: Instant, to: Instant| (to - from).as_secs_f64() * 1e3;
        latency.camera = ms(start, after_camera);
        latency.lidar = ms(after_camera, after_lidar);
        latency.fusion = ms(after_lidar, after_fusion);
        latency.tracker = ms(after_fusion, end);
        Ok(FrameOutput { detections, lidar, fused, tracks })
    }
}
