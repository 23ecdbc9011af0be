use std::path::PathBuf;

use ort::session::Session;
use ort::value::TensorRef;
use pitsense_imaging::{ImagingError, Letterbox, LetterboxResizer};
use pitsense_models::{OutputContract, OutputDecoder, OutputLayout, ResolvedModel};
use pitsense_types::{ConfigError, Detection2d, FrameId, Header, Image};
use serde::{Deserialize, Serialize};

use super::nms::{Candidate, decode_yolox_candidates};

/// `[camera]` section: detector post-processing and threading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Minimum score `obj · cls` kept, exclusive, in `0..1`.
    pub score_threshold: f32,
    /// IoU above which NMS drops the lower-scoring box (of the same class, or of any class when
    /// the manifest's `output.nms` is `class_agnostic`), in `0..=1`.
    pub nms_iou: f32,
    /// Most detections kept per image, after NMS.
    pub max_detections: usize,
    /// ONNX Runtime intra-op threads (1 keeps a core free for the lidar).
    pub intra_op_threads: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self { score_threshold: 0.3, nms_iou: 0.45, max_detections: 300, intra_op_threads: 1 }
    }
}

impl DetectorConfig {
    /// Checks every key's range; keys are reported as `camera.<key>`.
    ///
    /// # Errors
    /// The first out-of-range key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_range("camera.score_threshold", f64::from(self.score_threshold), 0.0, 1.0)?;
        ConfigError::check_range("camera.nms_iou", f64::from(self.nms_iou), 0.0, 1.0)?;
        if self.max_detections == 0 {
            return Err(ConfigError::new("camera.max_detections", "must be at least 1"));
        }
        if !(1..=64).contains(&self.intra_op_threads) {
            return Err(ConfigError::new("camera.intra_op_threads", "must be in 1..=64"));
        }
        Ok(())
    }
}

/// Why the detector failed.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// ONNX Runtime refused the model file.
    #[error("model `{}`: ONNX Runtime cannot load it: {reason}", path.display())]
    Load {
        /// Model file.
        path: PathBuf,
        /// ONNX Runtime message.
        reason: String,
    },
    /// The model's tensors differ from its manifest's contract.
    #[error("model `{}`: {reason}", path.display())]
    Contract {
        /// Model file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The image could not be letterboxed.
    #[error(transparent)]
    Preprocess(#[from] ImagingError),
    /// ONNX Runtime failed while running.
    #[error("inference failed: {0}")]
    Inference(String),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A YOLOX detector: letterbox, ONNX Runtime inference, decode and NMS (class-aware or
/// class-agnostic, as the manifest's `output.nms` says).
///
/// Holds its input and candidate buffers between frames: no allocation per frame once warm,
/// beyond ONNX Runtime's own output tensor.
pub struct YoloxDetector {
    session: Session,
    model: ResolvedModel,
    config: DetectorConfig,
    resizer: LetterboxResizer,
    input: Vec<f32>,
    output: Vec<f32>,
    candidates: Vec<Candidate>,
}

impl std::fmt::Debug for YoloxDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YoloxDetector")
            .field("model", &self.model.path)
            .field("config", &self.config)
            .finish()
    }
}

impl YoloxDetector {
    /// Opens the verified model in ONNX Runtime and checks its tensors against the manifest.
    ///
    /// `environment` comes from [`super::onnx_runtime_environment`].
    ///
    /// # Errors
    /// [`DetectorError::Config`] for a bad config, [`DetectorError::Load`] when ONNX Runtime
    /// rejects the file, [`DetectorError::Contract`] when the input/output names differ from
    /// the manifest, the decoder is not a YOLOX one, or the model declares an output shape
    /// (all dimensions fixed) other than the manifest's ([`OutputContract::shape`]; e.g. a
    /// transposed `[1, 85, N]` head under an `anchor_major` manifest).
    pub fn new(
        environment: &ort::environment::Environment,
        model: ResolvedModel,
        config: DetectorConfig,
    ) -> Result<Self, DetectorError> {
        config.validate()?;
        let path = model.path.clone();
        let load_error = |reason: String| DetectorError::Load { path: path.clone(), reason };
        let session = Session::builder(environment)
            .map_err(|error| load_error(error.to_string()))?
            .with_intra_threads(config.intra_op_threads)
            .map_err(|error| load_error(error.to_string()))?
            .with_inter_threads(1)
            .map_err(|error| load_error(error.to_string()))?
            .commit_from_file(&model.path)
            .map_err(|error| load_error(error.to_string()))?;
        let manifest = &model.manifest;
        let contract_error = |reason: String| DetectorError::Contract { path: path.clone(), reason };
        if !session.inputs().iter().any(|input| input.name() == manifest.input.tensor) {
            return Err(contract_error(format!("no input tensor named `{}`", manifest.input.tensor)));
        }
        let Some(output) = session.outputs().iter().find(|output| output.name() == manifest.output.tensor)
        else {
            return Err(contract_error(format!("no output tensor named `{}`", manifest.output.tensor)));
        };
        // A shape with a symbolic (negative) dimension is checked on every inference instead.
        if let Some(declared) = output.dtype().tensor_shape()
            && declared.iter().all(|&dim| dim >= 0)
        {
            check_output_shape(declared, &manifest.output, manifest.input.width_px, manifest.input.height_px)
                .map_err(contract_error)?;
        }
        match manifest.output.decoder {
            OutputDecoder::YoloxAnchorFree => {}
        }
        let resizer = LetterboxResizer::new(manifest.input.clone());
        Ok(Self {
            session,
            model,
            config,
            resizer,
            input: Vec::new(),
            output: Vec::new(),
            candidates: Vec::new(),
        })
    }

    /// The verified model this detector runs.
    pub fn model(&self) -> &ResolvedModel {
        &self.model
    }

    /// Step 1: letterboxes `image` into the input tensor (see
    /// [`pitsense_imaging::LetterboxResizer::letterbox`]) and returns the geometry.
    ///
    /// # Errors
    /// [`DetectorError::Preprocess`] when the image cannot be resampled.
    pub fn preprocess(&mut self, image: &Image) -> Result<Letterbox, DetectorError> {
        Ok(self.resizer.letterbox(image, &mut self.input)?)
    }

    /// Step 2: runs ONNX Runtime on the prepared input tensor, keeping the output.
    ///
    /// The output is kept anchor-major (`[anchors, 5 + classes]`); an `attribute_major` output
    /// is transposed into that order.
    ///
    /// # Errors
    /// [`DetectorError::Inference`] when ONNX Runtime fails or the output is not `f32`;
    /// [`DetectorError::Contract`] when the output's shape is not the manifest's.
    pub fn infer(&mut self) -> Result<(), DetectorError> {
        let contract = &self.model.manifest;
        let (width, height) = (contract.input.width_px as usize, contract.input.height_px as usize);
        let tensor = TensorRef::from_array_view(([1usize, 3, height, width], self.input.as_slice()))
            .map_err(|error| DetectorError::Inference(error.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs![contract.input.tensor.as_str() => tensor])
            .map_err(|error| DetectorError::Inference(error.to_string()))?;
        let Some(value) = outputs.get(&contract.output.tensor) else {
            return Err(DetectorError::Inference(format!("no output `{}`", contract.output.tensor)));
        };
        let (shape, data) =
            value.try_extract_tensor::<f32>().map_err(|error| DetectorError::Inference(error.to_string()))?;
        let [_, anchors, row_len] =
            check_output_shape(shape, &contract.output, contract.input.width_px, contract.input.height_px)
                .map_err(|reason| DetectorError::Contract { path: self.model.path.clone(), reason })?;
        let contract_error =
            |reason: String| DetectorError::Contract { path: self.model.path.clone(), reason };
        if data.len() != anchors * row_len {
            return Err(contract_error(format!(
                "output `{}` holds {} values, its shape {:?} says {}",
                contract.output.tensor,
                data.len(),
                &**shape,
                anchors * row_len
            )));
        }
        self.output.clear();
        match contract.output.layout {
            OutputLayout::AnchorMajor => self.output.extend_from_slice(data),
            OutputLayout::AttributeMajor => {
                // data[attribute * anchors + anchor] → output[anchor * row_len + attribute].
                self.output.resize(anchors * row_len, 0.0);
                for (attribute, values) in data.chunks_exact(anchors).enumerate() {
                    for (anchor, &value) in values.iter().enumerate() {
                        if let Some(slot) = self.output.get_mut(anchor * row_len + attribute) {
                            *slot = value;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Step 3: decodes the kept output and runs NMS in the manifest's mode (`output.nms`);
    /// boxes in original pixels.
    ///
    /// `header` is the image's header; detections carry it with frame `ImagePixels(camera_id)`.
    pub fn postprocess(&mut self, letterbox: &Letterbox, header: Header, camera_id: u16) -> Vec<Detection2d> {
        let manifest = &self.model.manifest;
        decode_yolox_candidates(
            &self.output,
            &manifest.output,
            manifest.input.width_px,
            manifest.input.height_px,
            |x, y| letterbox.to_original(x, y),
            self.config.score_threshold,
            &mut self.candidates,
        );
        let boxes = self.candidates.iter().map(|c| (c.box_px, c.class_index, c.score)).collect();
        let header = Header { frame: FrameId::ImagePixels(camera_id), ..header };
        super::non_maximum_suppression(
            boxes,
            manifest.output.nms,
            self.config.nms_iou,
            self.config.max_detections,
        )
        .into_iter()
        .map(|(box_px, class_index, score)| Detection2d {
            header,
            box_px,
            class_index,
            class_label: manifest
                .output
                .classes
                .get(class_index as usize)
                .cloned()
                .unwrap_or_else(|| format!("class{class_index}")),
            score,
        })
        .collect()
    }

    /// Runs the three steps on one image.
    ///
    /// # Errors
    /// As [`YoloxDetector::preprocess`] and [`YoloxDetector::infer`].
    pub fn detect(&mut self, image: &Image) -> Result<Vec<Detection2d>, DetectorError> {
        let letterbox = self.preprocess(image)?;
        self.infer()?;
        Ok(self.postprocess(&letterbox, image.header, image.camera_id))
    }
}

/// Checks an output shape against the contract's ([`OutputContract::shape`]) for an input of
/// `width_px` × `height_px`; returns the anchor-major `[1, anchors, 5 + classes]` dimensions.
///
/// `Err` names the shape found and the one needed, and says when the shape is the transpose of
/// the expected one (an `attribute_major` head under an `anchor_major` manifest, or the reverse),
/// so such an output is never decoded as rows.
fn check_output_shape(
    shape: &[i64],
    contract: &OutputContract,
    width_px: u32,
    height_px: u32,
) -> Result<[usize; 3], String> {
    let (anchors, row_len) = (contract.anchor_count(width_px, height_px), contract.row_len());
    let expected = contract.shape(width_px, height_px);
    let matches = |wanted: [usize; 3]| {
        shape.len() == 3
            && shape.iter().zip(wanted).all(|(&dim, want)| usize::try_from(dim).ok() == Some(want))
    };
    if matches(expected) {
        return Ok([1, anchors, row_len]);
    }
    let other = match contract.layout {
        OutputLayout::AnchorMajor => OutputLayout::AttributeMajor,
        OutputLayout::AttributeMajor => OutputLayout::AnchorMajor,
    };
    let hint = if matches(other.shape(anchors, row_len)) {
        format!(
            "; it is the transposed layout: set `output.layout = \"{}\"` in the manifest if the model is meant to \
             give it",
            match other {
                OutputLayout::AnchorMajor => "anchor_major",
                OutputLayout::AttributeMajor => "attribute_major",
            }
        )
    } else {
        String::new()
    };
    Err(format!(
        "output `{}` has shape {shape:?}, the manifest's contract ({} anchors of {} values, {:?}) needs {expected:?}{hint}",
        contract.tensor, anchors, row_len, contract.layout
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn a_transposed_head_is_refused_by_shape_unless_the_manifest_says_so() {
        // Issue 16 B10: YOLOX-Nano at 416 × 416 has 52² + 26² + 13² = 3549 anchors of 85 values.
        let manifest = pitsense_models::builtin_manifest("yolox_nano").unwrap();
        let contract = &manifest.output;
        assert_eq!(check_output_shape(&[1, 3549, 85], contract, 416, 416), Ok([1, 3549, 85]));
        let error = check_output_shape(&[1, 85, 3549], contract, 416, 416).unwrap_err();
        assert!(error.contains("[1, 85, 3549]") && error.contains("[1, 3549, 85]"), "{error}");
        assert!(error.contains("attribute_major"), "{error}");
        // Same element count, other shapes: refused too.
        assert!(check_output_shape(&[3549, 85], contract, 416, 416).is_err());
        assert!(check_output_shape(&[1, 3549, 84], contract, 416, 416).is_err());
        assert!(check_output_shape(&[1, -1, 85], contract, 416, 416).is_err());
        let transposed = OutputContract { layout: OutputLayout::AttributeMajor, ..contract.clone() };
        assert_eq!(check_output_shape(&[1, 85, 3549], &transposed, 416, 416), Ok([1, 3549, 85]));
        let error = check_output_shape(&[1, 3549, 85], &transposed, 416, 416).unwrap_err();
        assert!(error.contains("anchor_major"), "{error}");
    }
}
