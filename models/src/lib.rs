//! Model manifests and the model registry.
//!
//! A network never enters pitsense as a bare file: it comes with a manifest (TOML) that names the
//! file, its SHA-256 and its I/O contract — input tensor size, letterbox, channel order and value
//! range, output decoder, anchor strides and class names. The detector reads that contract
//! instead of constants in code, so a retrained or re-exported model is a manifest change.
//!
//! Inputs: manifest text (built in, see [`builtin_manifest`], or a file) and a data root.
//! Outputs: a validated [`ModelManifest`] and a [`ResolvedModel`] whose file was hashed and
//! checked against the manifest.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use pitsense_types::ObjectClass;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Why a manifest or model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The manifest is not valid TOML or does not match the schema.
    #[error("model manifest `{source_name}`: {reason}")]
    Manifest {
        /// File name, or `builtin:<name>`.
        source_name: String,
        /// Parser message, naming the key.
        reason: String,
    },
    /// The manifest parses but a value is unusable.
    #[error("model manifest `{source_name}`: key `{key}`: {reason}")]
    Invalid {
        /// File name, or `builtin:<name>`.
        source_name: String,
        /// Dotted key.
        key: &'static str,
        /// Why.
        reason: String,
    },
    /// No built-in manifest has that name.
    #[error("no built-in model manifest named `{name}` (known: {known})")]
    UnknownModel {
        /// Requested name.
        name: String,
        /// Comma-separated known names.
        known: String,
    },
    /// The model file cannot be read.
    #[error("model file `{}`: {source}", path.display())]
    Io {
        /// Path tried.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The model file's SHA-256 differs from the manifest's.
    #[error("model file `{}`: sha256 {actual} does not match the manifest's {expected}", path.display())]
    Checksum {
        /// Path read.
        path: PathBuf,
        /// Manifest value.
        expected: String,
        /// Hash of the file.
        actual: String,
    },
}

/// `[model]`: what the file is.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// Registry name, e.g. `yolox_nano`.
    pub name: String,
    /// Architecture family, e.g. `yolox`.
    pub architecture: String,
    /// Path of the ONNX file relative to the data root.
    pub file: PathBuf,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// SPDX licence of the weights.
    pub licence: String,
}

/// Channel order of the input tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelOrder {
    /// Red, green, blue planes.
    Rgb,
    /// Blue, green, red planes (OpenCV-trained models).
    Bgr,
}

/// Where the resized image sits on the letterbox canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterboxPlacement {
    /// At the top-left corner (YOLOX); padding right and bottom only.
    TopLeft,
    /// Centred (YOLOv5/v8); equal padding on both sides.
    Centre,
}

/// Resampling filter of the letterbox resize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResizeFilter {
    /// Pillow's `BILINEAR`: a triangle filter whose support grows with the downscale factor
    /// (antialiased), as in Pillow's `ImagingResample`.
    BilinearAntialiased,
    /// Plain bilinear interpolation of the four neighbours (OpenCV `INTER_LINEAR`).
    Bilinear,
}

/// `[input]`: the input tensor contract. Tensor shape `[1, 3, height_px, width_px]`, float32.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputContract {
    /// Input tensor name.
    pub tensor: String,
    /// Tensor width, pixels.
    pub width_px: u32,
    /// Tensor height, pixels.
    pub height_px: u32,
    /// Plane order.
    pub channel_order: ChannelOrder,
    /// Multiplier applied to 0..255 pixel values (1.0 keeps 0..255, 1/255 gives 0..1).
    pub pixel_scale: f32,
    /// Placement of the resized image on the canvas.
    pub letterbox: LetterboxPlacement,
    /// Canvas fill value, 0..255 before `pixel_scale`.
    pub pad_value: u8,
    /// Resampling filter.
    pub resize_filter: ResizeFilter,
}

/// Output decoders pitsense implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputDecoder {
    /// YOLOX anchor-free head (Ge et al. 2021): per grid point `[tx, ty, tw, th, obj, cls...]`.
    YoloxAnchorFree,
}

/// How the output tensor's values are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputLayout {
    /// `[1, anchors, 5 + classes]`: one row per anchor point (YOLOX's exporter).
    #[default]
    AnchorMajor,
    /// `[1, 5 + classes, anchors]`: one row per attribute, the transposed head of exporters
    /// such as Ultralytics'; the detector transposes it before decoding.
    AttributeMajor,
}

impl OutputLayout {
    /// The output shape this layout needs for `anchors` anchor points of `row_len` values.
    pub fn shape(self, anchors: usize, row_len: usize) -> [usize; 3] {
        match self {
            Self::AnchorMajor => [1, anchors, row_len],
            Self::AttributeMajor => [1, row_len, anchors],
        }
    }
}

/// Which boxes non-maximum suppression compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NmsMode {
    /// Boxes suppress boxes of their own class only (YOLOX's `multiclass_nms_class_aware`): one
    /// object may come out once per class whose score passes the threshold.
    #[default]
    ClassAware,
    /// Boxes suppress boxes of every class (YOLOX's `multiclass_nms_class_agnostic`): one object
    /// comes out once, with its best class.
    ClassAgnostic,
}

/// `[output]`: the output tensor contract.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputContract {
    /// Output tensor name.
    pub tensor: String,
    /// How rows are decoded.
    pub decoder: OutputDecoder,
    /// How the tensor is laid out; default [`OutputLayout::AnchorMajor`]. The detector refuses an
    /// output whose shape is not the one this layout needs.
    #[serde(default)]
    pub layout: OutputLayout,
    /// NMS mode the model was validated with; default [`NmsMode::ClassAware`].
    #[serde(default)]
    pub nms: NmsMode,
    /// Strides of the anchor grids, in the order their rows appear.
    pub strides: Vec<u32>,
    /// Whether objectness and class columns are probabilities (already passed through a sigmoid).
    pub scores_are_probabilities: bool,
    /// Class names; index = class column.
    pub classes: Vec<String>,
    /// The model's class names onto pitsense's taxonomy ([`ObjectClass`] labels): `person =
    /// "pedestrian"`. Classes it does not name are not road users and are dropped before
    /// fusion. Empty: the model's names are taxonomy labels already (others dropped).
    #[serde(default)]
    pub class_map: BTreeMap<String, String>,
}

impl OutputContract {
    /// Number of rows the output must have for an input of `width_px` × `height_px`:
    /// the sum over strides `s` of `ceil(width/s) * ceil(height/s)`.
    pub fn anchor_count(&self, width_px: u32, height_px: u32) -> usize {
        self.strides.iter().map(|&s| width_px.div_ceil(s) as usize * height_px.div_ceil(s) as usize).sum()
    }

    /// The taxonomy class of the model's class `name`: through `class_map`, or the name itself
    /// when the map is empty; `None` for a class that is not a road user (dropped).
    pub fn taxonomy_class(&self, name: &str) -> Option<ObjectClass> {
        if self.class_map.is_empty() {
            return ObjectClass::from_label(name);
        }
        self.class_map.get(name).and_then(|label| ObjectClass::from_label(label))
    }

    /// Columns per row: 4 box values, objectness, one per class.
    pub fn row_len(&self) -> usize {
        5 + self.classes.len()
    }

    /// The output tensor shape the contract needs for an input of `width_px` × `height_px`, in
    /// the manifest's [`OutputLayout`] (`[1, 3549, 85]` for YOLOX-Nano at 416 × 416).
    pub fn shape(&self, width_px: u32, height_px: u32) -> [usize; 3] {
        self.layout.shape(self.anchor_count(width_px, height_px), self.row_len())
    }
}

/// A parsed and validated model manifest.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    /// What the file is.
    pub model: ModelInfo,
    /// Input contract.
    pub input: InputContract,
    /// Output contract.
    pub output: OutputContract,
}

/// Built-in manifests: (name, TOML text).
const BUILTIN: &[(&str, &str)] = &[("yolox_nano", include_str!("../yolox_nano.toml"))];

/// The names of the built-in manifests, sorted.
pub fn builtin_names() -> Vec<&'static str> {
    let mut names: Vec<_> = BUILTIN.iter().map(|(name, _)| *name).collect();
    names.sort_unstable();
    names
}

/// Parses and validates the built-in manifest called `name` (e.g. `yolox_nano`).
///
/// # Errors
/// [`ModelError::UnknownModel`] for an unknown name; manifest errors cannot occur for shipped
/// manifests (a test parses them all) but are still returned, not panicked on.
pub fn builtin_manifest(name: &str) -> Result<ModelManifest, ModelError> {
    let Some((_, text)) = BUILTIN.iter().find(|(builtin, _)| *builtin == name) else {
        return Err(ModelError::UnknownModel { name: name.to_owned(), known: builtin_names().join(", ") });
    };
    ModelManifest::parse(text, &format!("builtin:{name}"))
}

impl ModelManifest {
    /// Parses manifest TOML; `source_name` names it in errors.
    ///
    /// # Errors
    /// [`ModelError::Manifest`] for bad TOML or unknown keys, [`ModelError::Invalid`] for values
    /// that break the contract (zero sizes, no strides, no classes, a malformed sha256, a stride
    /// that does not divide the input).
    pub fn parse(text: &str, source_name: &str) -> Result<Self, ModelError> {
        let manifest: ModelManifest = toml::from_str(text).map_err(|error| ModelError::Manifest {
            source_name: source_name.to_owned(),
            reason: error.to_string(),
        })?;
        manifest.validate(source_name)?;
        Ok(manifest)
    }

    /// Reads and parses a manifest file.
    ///
    /// # Errors
    /// [`ModelError::Io`] if unreadable, else as [`ModelManifest::parse`].
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ModelError::Io { path: path.to_owned(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn validate(&self, source_name: &str) -> Result<(), ModelError> {
        let invalid = |key: &'static str, reason: String| ModelError::Invalid {
            source_name: source_name.to_owned(),
            key,
            reason,
        };
        let sha = &self.model.sha256;
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(invalid("model.sha256", format!("`{sha}` is not 64 lower-case hex digits")));
        }
        if self.input.width_px == 0 || self.input.height_px == 0 {
            return Err(invalid("input.width_px", "input size must be non-zero".into()));
        }
        if !(self.input.pixel_scale.is_finite() && self.input.pixel_scale > 0.0) {
            return Err(invalid("input.pixel_scale", format!("{} must be positive", self.input.pixel_scale)));
        }
        if self.output.strides.is_empty() {
            return Err(invalid("output.strides", "at least one stride is needed".into()));
        }
        for &stride in &self.output.strides {
            if stride == 0
                || !self.input.width_px.is_multiple_of(stride)
                || !self.input.height_px.is_multiple_of(stride)
            {
                return Err(invalid(
                    "output.strides",
                    format!(
                        "stride {stride} must be non-zero and divide the input {}x{}",
                        self.input.width_px, self.input.height_px
                    ),
                ));
            }
        }
        if self.output.classes.is_empty() {
            return Err(invalid("output.classes", "the class list is empty".into()));
        }
        for (name, label) in &self.output.class_map {
            if !self.output.classes.contains(name) {
                return Err(invalid("output.class_map", format!("`{name}` is not one of output.classes")));
            }
            if ObjectClass::from_label(label).is_none() {
                let known: Vec<&str> = ObjectClass::ALL.iter().map(|c| c.label()).collect();
                return Err(invalid(
                    "output.class_map",
                    format!(
                        "`{name} = \"{label}\"`: `{label}` is not a taxonomy class ({})",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Locates the model file under `data_root`, hashes it and checks the SHA-256.
    ///
    /// # Errors
    /// [`ModelError::Io`] when the file is missing or unreadable, [`ModelError::Checksum`] when
    /// its hash differs from the manifest's.
    pub fn resolve(&self, data_root: &Path) -> Result<ResolvedModel, ModelError> {
        self.resolve_file(&data_root.join(&self.model.file))
    }

    /// As [`ModelManifest::resolve`], for an explicit file path.
    ///
    /// # Errors
    /// As [`ModelManifest::resolve`].
    pub fn resolve_file(&self, path: &Path) -> Result<ResolvedModel, ModelError> {
        let io_error = |source| ModelError::Io { path: path.to_owned(), source };
        let mut file = std::fs::File::open(path).map_err(io_error)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let read = file.read(&mut buffer).map_err(io_error)?;
            if read == 0 {
                break;
            }
            hasher.update(buffer.get(..read).unwrap_or_default());
        }
        let actual: String = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
        if actual != self.model.sha256 {
            return Err(ModelError::Checksum {
                path: path.to_owned(),
                expected: self.model.sha256.clone(),
                actual,
            });
        }
        Ok(ResolvedModel { manifest: self.clone(), path: path.to_owned() })
    }
}

/// A manifest whose file was found and whose hash matched.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedModel {
    /// The manifest.
    pub manifest: ModelManifest,
    /// Absolute or data-root-relative path of the verified file.
    pub path: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_yolox_nano_has_the_published_contract() {
        let manifest = builtin_manifest("yolox_nano").unwrap();
        assert_eq!((manifest.input.width_px, manifest.input.height_px), (416, 416));
        assert_eq!(manifest.output.strides, vec![8, 16, 32]);
        // 52² + 26² + 13² = 3549 anchor points (SOURCES.md §1: output [1, 3549, 85]).
        assert_eq!(manifest.output.anchor_count(416, 416), 3549);
        assert_eq!(manifest.output.row_len(), 85);
        assert_eq!(manifest.output.classes.first().map(String::as_str), Some("person"));
        assert_eq!(manifest.output.classes.get(7).map(String::as_str), Some("truck"));
    }

    #[test]
    fn coco_classes_map_onto_the_taxonomy_and_bad_maps_are_refused() {
        let manifest = builtin_manifest("yolox_nano").unwrap();
        let output = &manifest.output;
        assert_eq!(output.taxonomy_class("person"), Some(ObjectClass::Pedestrian));
        assert_eq!(output.taxonomy_class("bicycle"), Some(ObjectClass::Cyclist));
        assert_eq!(output.taxonomy_class("motorbike"), Some(ObjectClass::Motorcycle));
        assert_eq!(output.taxonomy_class("truck"), Some(ObjectClass::Truck));
        assert_eq!(output.taxonomy_class("dog"), Some(ObjectClass::Animal));
        assert_eq!(output.taxonomy_class("cup"), None, "not a road user: dropped");
        // Every COCO vehicle, person and animal class of the list is mapped: indices 0..=8
        // less the train, aeroplane and boat (rail, air, water), and 14..=23 (animals).
        let mapped: Vec<usize> = (0..output.classes.len())
            .filter(|&i| output.taxonomy_class(&output.classes[i]).is_some())
            .collect();
        assert_eq!(mapped, [0, 1, 2, 3, 5, 7, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);

        let text = include_str!("../yolox_nano.toml");
        let unknown_class = text.replace("person = \"pedestrian\"", "persons = \"pedestrian\"");
        let error = ModelManifest::parse(&unknown_class, "test").unwrap_err();
        assert!(error.to_string().contains("`persons` is not one of output.classes"), "{error}");
        let unknown_label = text.replace("person = \"pedestrian\"", "person = \"human\"");
        let error = ModelManifest::parse(&unknown_label, "test").unwrap_err();
        assert!(error.to_string().contains("`human` is not a taxonomy class"), "{error}");
    }

    #[test]
    fn layout_and_nms_default_to_yolox_and_are_read_from_the_manifest() {
        let manifest = builtin_manifest("yolox_nano").unwrap();
        assert_eq!(manifest.output.layout, OutputLayout::AnchorMajor);
        assert_eq!(manifest.output.nms, NmsMode::ClassAware);
        assert_eq!(manifest.output.shape(416, 416), [1, 3549, 85]);
        let text = include_str!("../yolox_nano.toml")
            .replace("nms = \"class_aware\"", "nms = \"class_agnostic\"")
            .replace("layout = \"anchor_major\"", "layout = \"attribute_major\"");
        let manifest = ModelManifest::parse(&text, "test").unwrap();
        assert_eq!(manifest.output.nms, NmsMode::ClassAgnostic);
        assert_eq!(manifest.output.shape(416, 416), [1, 85, 3549]);
        // Both keys are optional: without them, today's YOLOX contract.
        let text = include_str!("../yolox_nano.toml")
            .replace("nms = \"class_aware\"", "")
            .replace("layout = \"anchor_major\"", "");
        let manifest = ModelManifest::parse(&text, "test").unwrap();
        assert_eq!(
            (manifest.output.layout, manifest.output.nms),
            (OutputLayout::AnchorMajor, NmsMode::ClassAware)
        );
        let text = include_str!("../yolox_nano.toml").replace("nms = \"class_aware\"", "nms = \"per_class\"");
        let error = ModelManifest::parse(&text, "test").unwrap_err().to_string();
        assert!(error.contains("per_class"), "{error}");
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let text =
            include_str!("../yolox_nano.toml").replace("pad_value = 114", "pad_value = 114\npadding = 1");
        let error = ModelManifest::parse(&text, "test").unwrap_err().to_string();
        assert!(error.contains("padding"), "{error}");
    }

    #[test]
    fn a_stride_that_does_not_divide_the_input_is_rejected() {
        let text =
            include_str!("../yolox_nano.toml").replace("strides = [8, 16, 32]", "strides = [8, 16, 30]");
        let error = ModelManifest::parse(&text, "test").unwrap_err();
        assert!(matches!(error, ModelError::Invalid { key: "output.strides", .. }), "{error}");
    }

    #[test]
    fn a_missing_file_and_a_wrong_hash_are_reported_with_the_path() {
        let manifest = builtin_manifest("yolox_nano").unwrap();
        let missing = manifest.resolve(Path::new("/nonexistent-data-root")).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent-data-root/models/yolox_nano/yolox_nano.onnx"));
        let dir = std::env::temp_dir().join(format!("pitsense-models-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("fake.onnx");
        std::fs::write(&fake, b"not a model").unwrap();
        let error = manifest.resolve_file(&fake).unwrap_err();
        // sha256("not a model"), computed with `printf 'not a model' | sha256sum`.
        let ModelError::Checksum { actual, .. } = &error else {
            panic!("expected a checksum error: {error}")
        };
        assert_eq!(actual, "708811ccb1510c6d6c6e6379ef09be39bdbb0e7edcf44fefcca21c6228ee6d89");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
