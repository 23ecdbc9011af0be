//! `pitsense track`, `pitsense eval-tracking` and `pitsense lidar inspect` end to end, on the
//! shared KITTI tracking and Ouster data.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data_root() -> PathBuf {
    std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

fn pitsense(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pitsense")).args(args).output().expect("the pitsense binary runs")
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
        let output = pitsense(&[
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
    let output = pitsense(&[
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
    let output = pitsense(&[
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

#[test]
fn lidar_inspect_prints_the_ouster_sdk_digests() {
    let ouster = data_root().join("lidar_pcap/ouster_sdk_tests");
    let output = pitsense(&[
        Path::new("lidar"),
        Path::new("inspect"),
        Path::new("--pcap"),
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.pcap"),
        Path::new("--meta"),
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.json"),
        Path::new("--digest"),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let digest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ouster.join("OS-2-128-U1_v2.3.0_1024x10_digest.json")).unwrap(),
    )
    .unwrap();
    assert!(stdout.contains("profile: RNG19_RFL8_SIG16_NIR16"), "{stdout}");
    assert!(stdout.contains("64 accepted, 0 lost"), "{stdout}");
    for field in ["RANGE", "SIGNAL", "REFLECTIVITY", "NEAR_IR"] {
        let expected = digest["scans"][0][field].as_str().unwrap();
        assert!(stdout.contains(&format!("scans[0] {field} {expected}")), "{field}: {stdout}");
    }
}

#[test]
fn v2x_decode_prints_one_json_line_per_message() {
    let j2735 = data_root().join("v2x/j2735/asn1_codec");
    let output =
        pitsense(&[Path::new("v2x"), Path::new("decode"), &j2735.join("j2735.MessageFrame.128.bsms.uper")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> =
        text(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 128);
    // First BSM of the .xer: lat 411642143, long -1048434120 (1e-7 degrees), secMark 59299.
    assert_eq!(lines[0]["message_type"], "BSM");
    assert_eq!(lines[0]["sec_mark_ms"], 59299);
    assert!((lines[0]["lat_deg"].as_f64().unwrap() - 41.1642143).abs() < 1e-9);
    assert!((lines[0]["lon_deg"].as_f64().unwrap() + 104.843412).abs() < 1e-9);
    let garbage = pitsense(&[Path::new("v2x"), Path::new("decode"), Path::new("--hex"), Path::new("zz")]);
    assert!(!garbage.status.success());
    assert!(!text(&garbage.stderr).contains("panicked"), "{}", text(&garbage.stderr));
}
