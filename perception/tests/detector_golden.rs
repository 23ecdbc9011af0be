//! Golden test of the camera detector against onnxruntime in Python on the same model.
//!
//! `models/yolox_nano/reference_detections.tsv` (shared data, SOURCES.md §1) was produced with
//! onnxruntime 1.32 CPU, Pillow bilinear letterbox and class-aware NMS. Our detector must give
//! the same detections: same class, score within 0.02, every box corner within 2 px.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

use std::path::Path;

use pitsense_perception::camera::{DetectorConfig, YoloxDetector, onnx_runtime_environment};
use pitsense_testkit::data_root;
use pitsense_types::{Detection2d, FrameId, Header};

struct Reference {
    image: String,
    class: String,
    score: f32,
    corners: [f32; 4],
}

fn references(root: &Path) -> Vec<Reference> {
    let text = std::fs::read_to_string(root.join("models/yolox_nano/reference_detections.tsv")).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("image\t"))
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 7, "bad reference line {line:?}");
            let number = |i: usize| fields[i].parse::<f32>().unwrap();
            Reference {
                image: fields[0].to_owned(),
                class: fields[1].to_owned(),
                score: number(2),
                corners: [number(3), number(4), number(5), number(6)],
            }
        })
        .collect()
}

fn detector(root: &Path) -> YoloxDetector {
    let library = std::env::var_os("ORT_DYLIB_PATH")
        .expect("ORT_DYLIB_PATH is not set: run the tests with `./x test`, which installs ONNX Runtime");
    let environment = onnx_runtime_environment(Path::new(&library)).unwrap();
    let manifest = pitsense_models::builtin_manifest("yolox_nano").unwrap();
    let model = manifest.resolve(root).unwrap();
    YoloxDetector::new(&environment, model, DetectorConfig::default()).unwrap()
}

#[test]
fn detections_match_the_onnxruntime_python_reference() {
    let root = data_root();
    let references = references(&root);
    let mut images: Vec<&str> = references.iter().map(|r| r.image.as_str()).collect();
    images.dedup();
    assert_eq!(images.len(), 3, "three reference images");
    let mut detector = detector(&root);
    for image_name in images {
        let header = Header { stamp_ns: 0, frame: FrameId::ImagePixels(2), seq: 0 };
        let image = pitsense_imaging::read_image(&root.join(image_name), header, 2).unwrap();
        let detections: Vec<Detection2d> = detector.detect(&image).unwrap();
        let expected: Vec<&Reference> = references.iter().filter(|r| r.image == image_name).collect();
        assert_eq!(
            detections.len(),
            expected.len(),
            "{image_name}: got {:#?}",
            detections.iter().map(|d| (&d.class_label, d.score, d.box_px)).collect::<Vec<_>>()
        );
        let mut used = vec![false; detections.len()];
        for reference in expected {
            let best = detections
                .iter()
                .enumerate()
                .filter(|(index, detection)| !used[*index] && detection.class_label == reference.class)
                .map(|(index, detection)| {
                    let b = detection.box_px;
                    let worst_corner = [b.x1, b.y1, b.x2, b.y2]
                        .iter()
                        .zip(reference.corners)
                        .map(|(got, want)| (got - want).abs())
                        .fold(0.0f32, f32::max);
                    (index, worst_corner)
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            let Some((index, worst_corner)) = best else {
                panic!("{image_name}: no {} detection for {:?}", reference.class, reference.corners);
            };
            used[index] = true;
            let detection = &detections[index];
            println!(
                "{image_name} {} score {:.4} (ref {:.4}) worst corner {:.2} px",
                reference.class, detection.score, reference.score, worst_corner
            );
            assert!(worst_corner <= 2.0, "{image_name} {}: corner off by {worst_corner} px", reference.class);
            assert!(
                (detection.score - reference.score).abs() <= 0.02,
                "{image_name} {}: score {} vs {}",
                reference.class,
                detection.score,
                reference.score
            );
        }
    }
}

#[test]
fn a_corrupt_model_file_is_refused_before_inference() {
    let root = data_root();
    let manifest = pitsense_models::builtin_manifest("yolox_nano").unwrap();
    let scratch = std::env::temp_dir().join(format!("pitsense-detector-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    // A truncated copy fails the manifest's SHA-256 check with the path in the message.
    let bytes = std::fs::read(root.join(&manifest.model.file)).unwrap();
    let truncated = scratch.join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let error = manifest.resolve_file(&truncated).unwrap_err().to_string();
    assert!(error.contains("truncated.onnx") && error.contains("sha256"), "{error}");
    std::fs::remove_dir_all(&scratch).unwrap();
}
