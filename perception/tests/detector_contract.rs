//! The detector's output contract against real ONNX Runtime sessions (issue 16, B10 and B12).
//!
//! The models are written here, in the ONNX protobuf encoding (onnx.proto3: `ModelProto`,
//! `GraphProto`, `NodeProto`, `TensorProto`, `ValueInfoProto`), small enough to read: the graph
//! takes the usual `images` input `[1, 3, 416, 416]` and gives `output` = `Identity(head)`, where
//! `head` is a constant tensor holding two YOLOX anchor rows (one animal seen as dog 0.83 and as
//! cat 0.38, boxes at IoU 0.95), either anchor-major `[1, 3549, 85]` (YOLOX) or transposed
//! `[1, 85, 3549]`. The expected boxes are worked out by hand from the YOLOX decoding.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::{Path, PathBuf};

use pitsense_models::{ModelManifest, ResolvedModel};
use pitsense_perception::camera::{DetectorConfig, DetectorError, YoloxDetector, onnx_runtime_environment};
use pitsense_types::{FrameId, Header, Image, PixelFormat};
use sha2::{Digest, Sha256};

const ANCHORS: usize = 52 * 52 + 26 * 26 + 13 * 13;
const ROW_LEN: usize = 85;
const DOG: usize = 16;
const CAT: usize = 15;

// --- A minimal protobuf writer (wire types 0 = varint, 2 = length-delimited). ---

fn varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn field_varint(out: &mut Vec<u8>, field: u64, value: u64) {
    varint(out, field << 3);
    varint(out, value);
}

fn field_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// `ValueInfoProto` of a float tensor: name = 1, type = 2 → `TypeProto.tensor_type` = 1 →
/// elem_type = 1 (FLOAT = 1), shape = 2 → `TensorShapeProto.dim` = 1 → dim_value = 1.
fn float_value_info(name: &str, dims: &[usize]) -> Vec<u8> {
    let mut shape = Vec::new();
    for &dim in dims {
        let mut dimension = Vec::new();
        field_varint(&mut dimension, 1, dim as u64);
        field_bytes(&mut shape, 1, &dimension);
    }
    let mut tensor_type = Vec::new();
    field_varint(&mut tensor_type, 1, 1);
    field_bytes(&mut tensor_type, 2, &shape);
    let mut type_proto = Vec::new();
    field_bytes(&mut type_proto, 1, &tensor_type);
    let mut info = Vec::new();
    field_bytes(&mut info, 1, name.as_bytes());
    field_bytes(&mut info, 2, &type_proto);
    info
}

/// An ONNX model `output = Identity(head)` with `head` the float constant `values` of shape `dims`.
fn identity_model(values: &[f32], dims: &[usize]) -> Vec<u8> {
    // TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian).
    let mut tensor = Vec::new();
    for &dim in dims {
        field_varint(&mut tensor, 1, dim as u64);
    }
    field_varint(&mut tensor, 2, 1);
    field_bytes(&mut tensor, 8, b"head");
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    field_bytes(&mut tensor, 9, &raw);
    // NodeProto: input = 1, output = 2, name = 3, op_type = 4.
    let mut node = Vec::new();
    field_bytes(&mut node, 1, b"head");
    field_bytes(&mut node, 2, b"output");
    field_bytes(&mut node, 3, b"identity");
    field_bytes(&mut node, 4, b"Identity");
    // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
    let mut graph = Vec::new();
    field_bytes(&mut graph, 1, &node);
    field_bytes(&mut graph, 2, b"constant_head");
    field_bytes(&mut graph, 5, &tensor);
    field_bytes(&mut graph, 11, &float_value_info("images", &[1, 3, 416, 416]));
    field_bytes(&mut graph, 12, &float_value_info("output", dims));
    // OperatorSetIdProto: domain = 1 (default ""), version = 2.
    let mut opset = Vec::new();
    field_varint(&mut opset, 2, 13);
    // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8.
    let mut model = Vec::new();
    field_varint(&mut model, 1, 8);
    field_bytes(&mut model, 2, b"pitsense-test");
    field_bytes(&mut model, 7, &graph);
    field_bytes(&mut model, 8, &opset);
    model
}

/// The head, anchor-major `[3549 × 85]`: two rows of the stride-32 grid at cell (gx 5, gy 6),
/// row 52² + 26² + 6·13 + 5. Dog: tx = ty = 0.5, tw = th = ln(100/32), obj 1, cls_dog 0.83 →
/// centre (5.5·32, 6.5·32) = (176, 208), 100 × 100 px: [126, 158, 226, 258]. Cat, in the next
/// cell's row (gx 6) with tx = 0.5 − 1 + 2.5/32: centre 178.5, box [128.5, 158, 228.5, 258],
/// obj 1, cls_cat 0.38. IoU(dog, cat) = 97.5·100 / (2·10⁴ − 9750) = 0.951.
fn anchor_major_head() -> Vec<f32> {
    let mut head = vec![0.0f32; ANCHORS * ROW_LEN];
    let size = (100.0f32 / 32.0).ln();
    let dog_row = 52 * 52 + 26 * 26 + 6 * 13 + 5;
    let cat_row = dog_row + 1;
    head[dog_row * ROW_LEN..dog_row * ROW_LEN + 5].copy_from_slice(&[0.5, 0.5, size, size, 1.0]);
    head[dog_row * ROW_LEN + 5 + DOG] = 0.83;
    head[cat_row * ROW_LEN..cat_row * ROW_LEN + 5].copy_from_slice(&[
        -0.5 + 2.5 / 32.0,
        0.5,
        size,
        size,
        1.0,
    ]);
    head[cat_row * ROW_LEN + 5 + CAT] = 0.38;
    head
}

fn transpose(head: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; head.len()];
    for anchor in 0..ANCHORS {
        for attribute in 0..ROW_LEN {
            out[attribute * ANCHORS + anchor] = head[anchor * ROW_LEN + attribute];
        }
    }
    out
}

/// Writes the model and a manifest naming it (the built-in YOLOX-Nano one with `file`, `sha256`
/// and the extra `[output]` lines replaced or added); returns the resolved model.
fn model(name: &str, head: &[f32], dims: &[usize], output_lines: &str) -> (ResolvedModel, PathBuf) {
    let bytes = identity_model(head, dims);
    let path =
        std::env::temp_dir().join(format!("pitsense-detector-contract-{}-{name}.onnx", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let sha256: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let text = include_str!("../../models/yolox_nano.toml")
        .replace("695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14", &sha256)
        .replace("layout = \"anchor_major\"\n", "")
        .replace("nms = \"class_aware\"\n", "")
        .replace(
            "decoder = \"yolox_anchor_free\"\n",
            &format!("decoder = \"yolox_anchor_free\"\n{output_lines}"),
        );
    let manifest = ModelManifest::parse(&text, name).unwrap();
    (manifest.resolve_file(&path).unwrap(), path)
}

fn detector(model: ResolvedModel) -> Result<YoloxDetector, DetectorError> {
    let library = std::env::var_os("ORT_DYLIB_PATH")
        .expect("ORT_DYLIB_PATH is not set: run the tests with `./x test`, which installs ONNX Runtime");
    let environment = onnx_runtime_environment(Path::new(&library)).unwrap();
    YoloxDetector::new(&environment, model, DetectorConfig::default())
}

/// A grey 416 × 416 image: letterbox scale 1, so input pixels are original pixels.
fn image() -> Image {
    let header = Header { stamp_ns: 0, frame: FrameId::ImagePixels(2), seq: 0 };
    Image::new(header, 2, 416, 416, PixelFormat::Rgb8, vec![128; 416 * 416 * 3]).unwrap()
}

/// `(label, score, [x1, y1, x2, y2])` of each detection, boxes checked to 1e-3 px.
fn detections(detector: &mut YoloxDetector) -> Vec<(String, f32, [f32; 4])> {
    detector
        .detect(&image())
        .unwrap()
        .into_iter()
        .map(|d| (d.class_label, d.score, [d.box_px.x1, d.box_px.y1, d.box_px.x2, d.box_px.y2]))
        .collect()
}

fn assert_detections(actual: &[(String, f32, [f32; 4])], expected: &[(&str, f32, [f32; 4])]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?}");
    for ((label, score, corners), (want_label, want_score, want_corners)) in actual.iter().zip(expected) {
        assert_eq!(label, want_label);
        assert!((score - want_score).abs() < 1e-6, "{actual:?}");
        for (got, want) in corners.iter().zip(want_corners) {
            assert!((got - want).abs() < 1e-3, "{actual:?}");
        }
    }
}

const DOG_BOX: [f32; 4] = [126.0, 158.0, 226.0, 258.0];
const CAT_BOX: [f32; 4] = [128.5, 158.0, 228.5, 258.0];

#[test]
fn a_transposed_head_is_refused_naming_its_shape_or_read_when_the_manifest_says_so() {
    let rows = anchor_major_head();
    let columns = transpose(&rows);
    // Today's contract: the anchor-major head decodes to both class-aware detections.
    let (resolved, path) = model("rows", &rows, &[1, ANCHORS, ROW_LEN], "");
    let found = detections(&mut detector(resolved).unwrap());
    std::fs::remove_file(path).ok();
    assert_detections(&found, &[("dog", 0.83, DOG_BOX), ("cat", 0.38, CAT_BOX)]);

    // The transposed head under the same manifest: refused at load, naming the shape.
    let (resolved, path) = model("columns", &columns, &[1, ROW_LEN, ANCHORS], "");
    let error = detector(resolved).unwrap_err();
    std::fs::remove_file(path).ok();
    let message = error.to_string();
    assert!(matches!(error, DetectorError::Contract { .. }), "{message}");
    assert!(message.contains("[1, 85, 3549]") && message.contains("[1, 3549, 85]"), "{message}");

    // Declared by the manifest: transposed back and decoded to the same detections.
    let (resolved, path) =
        model("columns-declared", &columns, &[1, ROW_LEN, ANCHORS], "layout = \"attribute_major\"\n");
    let found = detections(&mut detector(resolved).unwrap());
    std::fs::remove_file(path).ok();
    assert_detections(&found, &[("dog", 0.83, DOG_BOX), ("cat", 0.38, CAT_BOX)]);
}

#[test]
fn the_manifest_chooses_class_agnostic_nms() {
    let (resolved, path) =
        model("agnostic", &anchor_major_head(), &[1, ANCHORS, ROW_LEN], "nms = \"class_agnostic\"\n");
    let found = detections(&mut detector(resolved).unwrap());
    std::fs::remove_file(path).ok();
    // IoU 0.951 > nms_iou 0.45: the cat box is suppressed by the better dog box.
    assert_detections(&found, &[("dog", 0.83, DOG_BOX)]);
}
