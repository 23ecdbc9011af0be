//! `pitsense-sim track` and `pitsense-sim eval-tracking` end to end, on the shared KITTI
//! tracking data.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use pitsense_testkit::data_root;
use std::path::Path;
use std::process::{Command, Output};

fn pitsense_sim(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pitsense-sim"))
        .args(args)
        .output()
        .expect("the pitsense-sim binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn track_is_deterministic_and_eval_scores_it() {
    let kitti = data_root().join("kitti_tracking");
    let scratch = tempfile::tempdir().unwrap();
    let seqmap = scratch.path().join("seqmap");
    // Two sequences keep the test short.
    std::fs::write(&seqmap, "0000 empty 000000 000154\n0017 empty 000000 000145\n").unwrap();
    let (first, second) = (scratch.path().join("a"), scratch.path().join("b"));
    for out in [&first, &second] {
        let output = pitsense_sim(&[
            Path::new("track"),
            Path::new("--detections"),
            &kitti.join("detections_pointrcnn_val"),
            Path::new("--seqmap"),
            &seqmap,
            Path::new("--out"),
            out,
            Path::new("--class"),
            Path::new("car"),
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    for sequence in ["0000", "0017"] {
        let a = std::fs::read(first.join(format!("car/data/{sequence}.txt"))).unwrap();
        let b = std::fs::read(second.join(format!("car/data/{sequence}.txt"))).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "sequence {sequence} differs between two runs");
        // 18 columns: the 17 of the KITTI tracking format plus the score.
        let line = text(&a).lines().next().unwrap().to_owned();
        assert_eq!(line.split_whitespace().count(), 18, "{line}");
    }
    let output = pitsense_sim(&[
        Path::new("eval-tracking"),
        Path::new("--results"),
        &first,
        Path::new("--labels"),
        &kitti.join("label_02"),
        Path::new("--seqmap"),
        &seqmap,
        Path::new("--class"),
        Path::new("car"),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("car, 3D IoU >= 0.25, 2 sequences"), "{stdout}");
    let json = std::fs::read_dir(&first)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .expect("a JSON report beside the results");
    let reports: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let samota = reports[0]["samota"].as_f64().unwrap();
    let mota = reports[0]["clear"]["mota"].as_f64().unwrap();
    // A working tracker on these detections: well above zero, below perfect.
    assert!(samota > 0.5 && samota < 1.0 && mota > 0.5 && mota < 1.0, "sAMOTA {samota} MOTA {mota}");
}

#[test]
fn malformed_detection_lines_are_reported_with_file_and_line_and_skipped() {
    let kitti = data_root().join("kitti_tracking");
    let scratch = tempfile::tempdir().unwrap();
    let detections = scratch.path().join("detections");
    std::fs::create_dir_all(detections.join("Car")).unwrap();
    let real = std::fs::read_to_string(kitti.join("detections_pointrcnn_val/Car/0017.txt")).unwrap();
    let mut lines: Vec<String> = real.lines().map(str::to_owned).collect();
    let with_field = |index: usize, value: &str| -> String {
        lines[0]
            .split(',')
            .enumerate()
            .map(|(i, v)| if i == index { value } else { v })
            .collect::<Vec<_>>()
            .join(",")
    };
    let (nan_x, negative_width) = (with_field(10, "nan"), with_field(8, "-1.0"));
    lines.insert(1, "0,2,1,2,3".into()); // line 2: wrong column count
    lines.insert(2, nan_x); // line 3: NaN x
    lines.insert(3, negative_width); // line 4: negative width
    std::fs::write(detections.join("Car/0017.txt"), lines.join("\n")).unwrap();
    let seqmap = scratch.path().join("seqmap");
    std::fs::write(&seqmap, "0017 empty 000000 000145\n").unwrap();
    let output = pitsense_sim(&[
        Path::new("track"),
        Path::new("--detections"),
        &detections,
        Path::new("--seqmap"),
        &seqmap,
        Path::new("--calib"),
        &kitti.join("calib"),
        Path::new("--out"),
        &scratch.path().join("out"),
        Path::new("--class"),
        Path::new("car"),
    ]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for line in [2, 3, 4] {
        assert!(stderr.contains(&format!("Car/0017.txt:{line}:")), "line {line} not reported:\n{stderr}");
    }
    assert!(scratch.path().join("out/car/data/0017.txt").exists());
}

/// The regression floor of issue 16: `track` on the whole shared split (10 sequences, AB3DMOT's
/// PointRCNN detections, no ego motion) scored by `eval-tracking` at 3D IoU ≥ 0.25, per class.
/// Floors are this tracker's scores when they were set, rounded down by at most half a point
/// (car sAMOTA 88.15, MOTA 79.51; pedestrian 58.23, 62.78; cyclist 57.03, 39.73; AB3DMOT's own
/// cyclist sAMOTA on this split is 53.10): a change that loses more on any class fails here.
/// Track ids are unique across classes within each sequence (one tracker runs every class).
#[test]
fn the_shared_split_keeps_its_per_class_floor_and_ids_are_unique_across_classes() {
    let kitti = data_root().join("kitti_tracking");
    let seqmap = kitti.join("evaluate_tracking.seqmap.train");
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("results");
    let output = pitsense_sim(&[
        Path::new("track"),
        Path::new("--detections"),
        &kitti.join("detections_pointrcnn_val"),
        Path::new("--seqmap"),
        &seqmap,
        Path::new("--out"),
        &out,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for (class, samota_floor, mota_floor) in
        [("car", 0.8800, 0.7900), ("pedestrian", 0.5800, 0.6250), ("cyclist", 0.5650, 0.3950)]
    {
        let output = pitsense_sim(&[
            Path::new("eval-tracking"),
            Path::new("--results"),
            &out,
            Path::new("--labels"),
            &kitti.join("label_02"),
            Path::new("--seqmap"),
            &seqmap,
            Path::new("--class"),
            Path::new(class),
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let reports: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("eval_iou3d_0.25.json")).unwrap())
                .unwrap();
        let samota = reports[0]["samota"].as_f64().unwrap();
        let mota = reports[0]["clear"]["mota"].as_f64().unwrap();
        assert_eq!(reports[0]["class"], class);
        assert!(samota >= samota_floor, "{class}: sAMOTA {samota} below its floor {samota_floor}");
        assert!(mota >= mota_floor, "{class}: MOTA {mota} below its floor {mota_floor}");
    }
    for sequence in std::fs::read_dir(out.join("car/data")).unwrap() {
        let name = sequence.unwrap().file_name();
        let mut owner: std::collections::BTreeMap<i64, &str> = std::collections::BTreeMap::new();
        for class in ["car", "pedestrian", "cyclist"] {
            let text = std::fs::read_to_string(out.join(class).join("data").join(&name)).unwrap();
            for line in text.lines() {
                let id: i64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                let first = *owner.entry(id).or_insert(class);
                assert_eq!(first, class, "{name:?}: track id {id} used by {first} and {class}");
            }
        }
    }
}
