//! Detector latency per image against the onnxruntime-in-Python peer, as a ratio in one run.
//!
//! `cargo bench -p pitsense-perception --bench detector` (or `./x bench`): times PNG decode,
//! letterbox, inference and NMS on KITTI 000000 (median of `PITSENSE_BENCH_RUNS`, default 50,
//! after 5 warm-ups, 1 intra-op thread), then runs `bench/peer_yolox.py` with
//! `PITSENSE_PYTHON` on the same model and image, and prints both and their ratio.
//! Needs `ORT_DYLIB_PATH`; the peer is skipped with a message when `PITSENSE_PYTHON` is unset.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

use std::path::{Path, PathBuf};
use std::time::Instant;

use pitsense_perception::camera::{DetectorConfig, YoloxDetector, onnx_runtime_environment};
use pitsense_types::{FrameId, Header};

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let root = std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let Some(library) = std::env::var_os("ORT_DYLIB_PATH") else {
        eprintln!("detector bench skipped: ORT_DYLIB_PATH is not set (run `./x bench`)");
        return;
    };
    let runs: usize = std::env::var("PITSENSE_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let image_path = root.join("kitti/object/training/image_2/000000.png");
    let bytes = std::fs::read(&image_path).expect("KITTI 000000 image");
    let environment = onnx_runtime_environment(Path::new(&library)).expect("ONNX Runtime");
    let manifest = pitsense_models::builtin_manifest("yolox_nano").expect("manifest");
    let model = manifest.resolve(&root).expect("model");
    let model_path = model.path.clone();
    let mut detector = YoloxDetector::new(&environment, model, DetectorConfig::default()).expect("detector");
    let header = Header { stamp_ns: 0, frame: FrameId::ImagePixels(2), seq: 0 };
    let mut stages: [Vec<f64>; 5] = Default::default();
    let mut detections = 0;
    for run in 0..runs + 5 {
        let t0 = Instant::now();
        let image = pitsense_imaging::decode_image(&bytes, "000000.png", header, 2).expect("decode");
        let t1 = Instant::now();
        let letterbox = detector.preprocess(&image).expect("letterbox");
        let t2 = Instant::now();
        detector.infer().expect("inference");
        let t3 = Instant::now();
        detections = detector.postprocess(&letterbox, header, 2).len();
        let t4 = Instant::now();
        if run >= 5 {
            for (stage, (from, to)) in
                stages.iter_mut().zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t0, t4)])
            {
                stage.push((to - from).as_secs_f64() * 1e3);
            }
        }
    }
    let names = ["decode", "preprocess", "inference", "postprocess", "total"];
    let ours: Vec<f64> = stages.iter_mut().map(|s| median(s)).collect();
    println!("pitsense detector, KITTI 000000, 1 thread, median of {runs} runs ({detections} detections):");
    for (name, value) in names.iter().zip(&ours) {
        println!("  {name:<12} {value:>8.2} ms");
    }
    let Some(python) = std::env::var_os("PITSENSE_PYTHON") else {
        eprintln!("peer skipped: PITSENSE_PYTHON is not set (run `./x bench`)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/peer_yolox.py");
    let output = std::process::Command::new(python)
        .arg(script)
        .arg(&model_path)
        .arg(&image_path)
        .arg("1")
        .arg(runs.to_string())
        .output()
        .expect("python peer runs");
    if !output.status.success() {
        eprintln!("peer failed: {}", String::from_utf8_lossy(&output.stderr));
        return;
    }
    let peer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("peer JSON");
    println!("onnxruntime in Python (same model, image, threads):");
    for (name, value) in names.iter().zip(&ours) {
        let theirs = peer[name].as_f64().unwrap_or(f64::NAN);
        println!("  {name:<12} {theirs:>8.2} ms   ratio python/pitsense {:>5.2}", theirs / value);
    }
}
