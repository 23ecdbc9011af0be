//! End-to-end tests of `pitsense replay` on the real KITTI frames of the shared data.
//!
//! They run the built binary with a real ONNX Runtime (`ORT_DYLIB_PATH`, set by `./x test`)
//! and read the Rerun recording back with the independent `rerun` CLI of the `rerun-sdk`
//! PyPI package (`PITSENSE_RERUN`, also set by `./x test`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

use pitsense_testkit::data_root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kitti() -> PathBuf {
    data_root().join("kitti/object/training")
}

fn require_onnxruntime() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run the tests with `./x test`, which installs ONNX Runtime"
    );
}

fn replay(dataset: &Path, out: &Path, extra: &[&str]) -> Output {
    require_onnxruntime();
    Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .arg("replay")
        .arg(dataset)
        .arg("--out")
        .arg(out)
        .arg("--data-root")
        .arg(data_root())
        .arg("--quiet")
        .args(extra)
        .output()
        .expect("the pitsense binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn replay_is_deterministic_and_finds_the_pedestrian_of_000000() {
    let scratch = tempfile::tempdir().unwrap();
    let (first, second) = (scratch.path().join("a"), scratch.path().join("b"));
    for out in [&first, &second] {
        let output = replay(&kitti(), out, &["--config", "/dev/null"]);
        assert!(output.status.success(), "replay failed: {}", text(&output.stderr));
    }
    let objects = std::fs::read(first.join("objects.jsonl")).unwrap();
    assert_eq!(objects, std::fs::read(second.join("objects.jsonl")).unwrap(), "objects.jsonl differs");

    let lines: Vec<serde_json::Value> =
        text(&objects).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one line per frame");
    assert_eq!(lines[0]["frame"], "000000");
    // Label of 000000: Pedestrian, bottom centre at rect-camera (1.84, 1.47, 8.41), height
    // 1.89 m. Through (R0_rect · Tr_velo_to_cam)⁻¹ of the frame's calib (numpy) its centre is at
    // (8.736, -1.868, -0.655) in the velodyne frame. YOLOX sees a person there (0.81), which the
    // manifest's class_map puts in the taxonomy as a pedestrian.
    let people: Vec<&serde_json::Value> = lines[0]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|object| object["class"] == "pedestrian")
        .collect();
    assert_eq!(people.len(), 1, "{}", lines[0]);
    let person = people[0];
    assert_eq!(person["source"], "fused");
    let center = person["center_m"].as_array().unwrap();
    let (x, y) = (center[0].as_f64().unwrap(), center[1].as_f64().unwrap());
    assert!((x - 8.736).hypot(y + 1.868) < 1.0, "person at ({x}, {y})");
    assert!((person["score"].as_f64().unwrap() - 0.81).abs() < 0.02);
}

/// The summary accounts for every point and every tracker update: the lidar pipeline's input
/// is the three KITTI scans' points (file size / 16 bytes), every one of them lands in exactly
/// one bin (non-finite, out of range, ego box, ground, dust, obstacle), and the tracker ran once
/// per frame.
#[test]
fn the_summary_accounts_for_every_point_and_tracker_update() {
    let scratch = tempfile::tempdir().unwrap();
    let output = replay(&kitti(), scratch.path(), &["--config", "/dev/null"]);
    assert!(output.status.success(), "replay failed: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let points_in_files: u64 = (0..3)
        .map(|frame| std::fs::metadata(kitti().join(format!("velodyne/{frame:06}.bin"))).unwrap().len() / 16)
        .sum();
    let line =
        stdout.lines().find(|line| line.starts_with("lidar points: ")).unwrap_or_else(|| panic!("{stdout}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|word| !word.is_empty())
        .map(|word| word.parse().unwrap())
        .collect();
    // in, non-finite, out of range, ego box, ground, dust, obstacle; clusters...
    assert_eq!(numbers[0], points_in_files, "{line}");
    assert_eq!(numbers[1..7].iter().sum::<u64>(), points_in_files, "{line}");
    assert!(numbers[4] > 0 && numbers[6] > 0, "ground and obstacle points: {line}");
    assert!(stdout.contains("tracker: 3 updates, "), "{stdout}");
}

#[test]
fn the_recording_reads_back_in_rerun_with_the_expected_entities() {
    let Some(rerun) = std::env::var_os("PITSENSE_RERUN") else {
        panic!("PITSENSE_RERUN is not set: run the tests with `./x test`, which installs rerun-sdk");
    };
    let scratch = tempfile::tempdir().unwrap();
    let output = replay(&kitti(), scratch.path(), &[]);
    assert!(output.status.success(), "replay failed: {}", text(&output.stderr));
    let rrd = scratch.path().join("replay.rrd");
    let verify = Command::new(&rerun).args(["rrd", "verify"]).arg(&rrd).output().unwrap();
    assert!(verify.status.success(), "rerun rrd verify: {}{}", text(&verify.stdout), text(&verify.stderr));
    let print = Command::new(&rerun).args(["rrd", "print"]).arg(&rrd).output().unwrap();
    assert!(print.status.success(), "rerun rrd print: {}", text(&print.stderr));
    let listing = text(&print.stdout);
    for (entity, column) in [
        ("/world/lidar/points", "Points3D:positions"),
        ("/world/lidar/obstacles", "Points3D:positions"),
        ("/world/tracks", "Boxes3D:labels"),
        ("/camera/image", "EncodedImage:blob"),
        ("/camera/image/detections", "Boxes2D:labels"),
        ("/stats/tracker/matched", "Scalars:scalars"),
        ("/stats/lidar/obstacle_points", "Scalars:scalars"),
    ] {
        let found =
            listing.lines().any(|line| line.contains(&format!("- {entity} -")) && line.contains(column));
        assert!(found, "entity {entity} with {column} missing from the recording:\n{listing}");
    }
    // Three frames on the `frame` timeline: three chunks of camera images at least.
    let images = listing.lines().filter(|line| line.contains("- /camera/image -")).count();
    assert!(images >= 1, "{listing}");
}

/// Links (or writes) one file of a synthetic dataset.
fn place(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(from, to).unwrap();
}

#[test]
fn bad_frames_are_reported_skipped_and_counted() {
    let scratch = tempfile::tempdir().unwrap();
    let dataset = scratch.path().join("dataset");
    let real = kitti();
    // 000000: intact. 000001: .bin of 1,001 bytes. 000002: no image. 000003: calib without
    // P2. 000004: PNG cut after 100 bytes.
    for name in ["000000", "000001", "000002", "000003", "000004"] {
        place(&real.join("velodyne/000000.bin"), &dataset.join(format!("velodyne/{name}.bin")));
        place(&real.join("image_2/000000.png"), &dataset.join(format!("image_2/{name}.png")));
        place(&real.join("calib/000000.txt"), &dataset.join(format!("calib/{name}.txt")));
    }
    let bin = dataset.join("velodyne/000001.bin");
    std::fs::remove_file(&bin).unwrap();
    std::fs::write(&bin, vec![0u8; 1001]).unwrap();
    std::fs::remove_file(dataset.join("image_2/000002.png")).unwrap();
    let calib = dataset.join("calib/000003.txt");
    let calib_text = std::fs::read_to_string(real.join("calib/000000.txt")).unwrap();
    std::fs::remove_file(&calib).unwrap();
    std::fs::write(
        &calib,
        calib_text.lines().filter(|l| !l.starts_with("P2:")).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let png = dataset.join("image_2/000004.png");
    let png_bytes = std::fs::read(real.join("image_2/000000.png")).unwrap();
    std::fs::remove_file(&png).unwrap();
    std::fs::write(&png, &png_bytes[..100]).unwrap();

    let out = scratch.path().join("out");
    let output = replay(&dataset, &out, &[]);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "replay must go on past bad frames: {stderr}");
    assert!(stdout.contains("frames: 5 listed, 1 processed, 4 skipped"), "{stdout}");
    for (frame, file, reason) in [
        ("000001", "velodyne/000001.bin", "1001"),
        ("000002", "image_2/000002.png", "No such file"),
        ("000003", "calib/000003.txt", "P2"),
        ("000004", "image_2/000004.png", "decode"),
    ] {
        let line = stdout
            .lines()
            .find(|line| line.contains(&format!("skipped {frame}:")))
            .unwrap_or_else(|| panic!("no skip line for {frame}: {stdout}"));
        assert!(line.contains(file) && line.contains(reason), "{line}");
    }
    let objects = std::fs::read_to_string(out.join("objects.jsonl")).unwrap();
    assert_eq!(objects.lines().count(), 1);
}

#[test]
fn a_missing_model_is_a_start_up_error() {
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("config.toml");
    std::fs::write(&config, "[models]\ncamera_detector_file = \"models/yolox_nano/missing.onnx\"\n").unwrap();
    let output = replay(&kitti(), &scratch.path().join("out"), &["--config", config.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("models/yolox_nano/missing.onnx") && stderr.contains("No such file"), "{stderr}");
    assert!(!scratch.path().join("out/objects.jsonl").exists(), "no frame may run without the model");
}

#[test]
fn a_bad_config_key_is_named() {
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("config.toml");
    std::fs::write(&config, "[camera]\nscore_threshold = 2.0\n").unwrap();
    let output = replay(&kitti(), &scratch.path().join("out"), &["--config", config.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("camera.score_threshold"), "{}", text(&output.stderr));
}

/// The SDSM sample of the USDOT ODE (an RSU reporting a person at refPos + (0.1, 0.1) m), hex.
fn sdsm_hex() -> String {
    let path = data_root().join("v2x/j2735/jpo-ode_decoded_samples/decoder-output-sdsm.xml");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("<asn1>").unwrap() + "<asn1>".len();
    text[start..text.find("</asn1>").unwrap()].trim().to_owned()
}

#[test]
fn a_v2x_log_is_fused_into_the_replay_as_v2x_objects_in_the_site_frame() {
    let scratch = tempfile::tempdir().unwrap();
    // The site origin at the SDSM's refPos; the truck 200 m east, 5 m south, 3 m up, yaw 0.3:
    // the RSU's person is behind it, beyond its lidar's range (blind to the truck).
    let config = scratch.path().join("pitsense.toml");
    std::fs::write(
        &config,
        "[replay]\nego_pose_site = [200.0, -5.0, 3.0, 0.3]\nwrite_rrd = false\n\
         [v2x.site_origin]\nlat_deg = 42.301007\nlon_deg = -83.698766\nheight_m = 250.0\n",
    )
    .unwrap();
    // One SDSM 10 ms before each of the three frames (0, 100, 200 ms), and a bad line.
    let log = scratch.path().join("v2x.jsonl");
    let hex = sdsm_hex();
    let mut lines = String::new();
    for stamp_ms in [0u64, 90, 190] {
        lines.push_str(&format!("{{\"receive_stamp_ns\": {}, \"hex\": \"{hex}\"}}\n", stamp_ms * 1_000_000));
    }
    lines.push_str("{\"receive_stamp_ns\": 5, \"hex\": \"0g\"}\n");
    std::fs::write(&log, lines).unwrap();
    let out = scratch.path().join("out");
    let output =
        replay(&kitti(), &out, &["--config", config.to_str().unwrap(), "--v2x-log", log.to_str().unwrap()]);
    assert!(output.status.success(), "replay failed: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("v2x: 3 messages received, 3 objects fused"), "{stdout}");
    assert!(stdout.contains("line 4: `hex` is not an even number of hex digits"), "{stdout}");

    let objects = std::fs::read_to_string(out.join("objects.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> =
        objects.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    for line in &lines {
        let v2x: Vec<&serde_json::Value> =
            line["objects"].as_array().unwrap().iter().filter(|object| object["source"] == "v2x").collect();
        assert_eq!(v2x.len(), 1, "{line}");
        assert_eq!(v2x[0]["class"], "pedestrian", "the SDSM's VRU in the taxonomy");
        // refPos + (0.1, 0.1) m; elevation unavailable: the truck's height + half a person.
        let center: Vec<f64> =
            v2x[0]["center_m"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!((center[0] - 0.1).abs() < 0.02 && (center[1] - 0.1).abs() < 0.02, "{center:?}");
        assert!((center[2] - 3.85).abs() < 0.02, "{center:?}");
    }
    // The camera–lidar pedestrian of 000000 is now in the site frame: its velodyne centre
    // (8.736, -1.868, -0.655), +1.73 m to the truck frame, turned by 0.3 rad, +(200, -5, 3).
    let (sin, cos) = 0.3f64.sin_cos();
    let (x, y) = (8.736, -1.868);
    let expected = (200.0 + cos * x - sin * y, -5.0 + sin * x + cos * y);
    let person = lines[0]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|object| object["class"] == "pedestrian" && object["source"] == "fused")
        .unwrap_or_else(|| panic!("{}", lines[0]));
    let center = person["center_m"].as_array().unwrap();
    let (px, py) = (center[0].as_f64().unwrap(), center[1].as_f64().unwrap());
    assert!(
        (px - expected.0).hypot(py - expected.1) < 1.0,
        "fused person at ({px}, {py}), expected {expected:?}"
    );
}

#[test]
fn a_v2x_log_without_a_site_or_pose_is_a_start_up_error() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("v2x.jsonl");
    std::fs::write(&log, "").unwrap();
    let output = replay(&kitti(), &scratch.path().join("out"), &["--v2x-log", log.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("[v2x] section"), "{}", text(&output.stderr));
    let config = scratch.path().join("pitsense.toml");
    std::fs::write(&config, "[v2x.site_origin]\nlat_deg = 42.3\nlon_deg = -83.7\nheight_m = 250.0\n")
        .unwrap();
    let output = replay(
        &kitti(),
        &scratch.path().join("out"),
        &["--config", config.to_str().unwrap(), "--v2x-log", log.to_str().unwrap()],
    );
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("replay.ego_pose_site"), "{}", text(&output.stderr));
}

#[test]
fn a_recorder_trigger_writes_an_episode_with_every_frame_of_the_replay() {
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("pitsense.toml");
    // Low confidence with max_score above any score and min_hits 1 fires on frame 0's first
    // track; the pre-roll (10 s) and post-roll (5 s) then cover the 3 frames (0.1 s apart), and
    // the episode is closed when the replay ends. The other rules are off.
    std::fs::write(
        &config,
        "[recorder]\nenabled = true\n\
         [recorder.triggers]\nmanual = false\nv2x_only = false\n\
         [recorder.triggers.low_confidence]\nmax_score = 1.5\nmin_hits = 1\n\
         [recorder.triggers.camera_lidar_disagreement]\nenabled = false\n\
         [recorder.triggers.hard_braking]\nenabled = false\n",
    )
    .unwrap();
    let out = scratch.path().join("out");
    let output = replay(&kitti(), &out, &["--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "replay failed: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let episode_dir = out.join("episodes");
    assert!(
        stdout.contains(&format!(
            "episodes: 1 written to {} (15 messages offered, 0 dropped: recorder channel full, 0 dropped: pre-roll memory bound)",
            episode_dir.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("replay-0-low_confidence.mcap): low_confidence:track="), "{stdout}");

    // The episode sits in the queue folder as its first entry.
    let episode = episode_dir.join(format!("{:016}.mcap", 0));
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(episode_dir.join(format!("{:016}.json", 0))).unwrap())
            .unwrap();
    assert_eq!(entry["file_name"], "replay-0-low_confidence.mcap");
    assert_eq!(entry["priority"], "normal");

    let bytes = std::fs::read(&episode).unwrap();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut image_formats = std::collections::BTreeSet::new();
    for message in mcap::MessageStream::new(&bytes).unwrap() {
        let message = message.unwrap();
        if message.channel.topic == "/camera2/compressed" {
            let schema = message.channel.schema.as_ref().unwrap();
            let decoded = pitsense_cloud_link::schemas::decode(
                &schema.name,
                &message.channel.message_encoding,
                &message.data,
            );
            let Ok(Some(pitsense_cloud_link::EpisodeMessage::CompressedImage(image))) = decoded else {
                panic!("{decoded:?}")
            };
            image_formats.insert(image.format);
        }
        *counts.entry(message.channel.topic.clone()).or_default() += 1;
    }
    let expected: std::collections::BTreeMap<String, usize> =
        ["/lidar0/points", "/camera2/compressed", "/image2/detections", "/detections_3d", "/tracks"]
            .into_iter()
            .map(|topic| (topic.to_owned(), 3))
            .collect();
    assert_eq!(counts, expected);
    assert_eq!(image_formats, std::collections::BTreeSet::from(["png".to_owned()]));

    let summary = mcap::Summary::read(&bytes).unwrap().unwrap();
    assert_eq!(summary.metadata_indexes.len(), 1);
    let metadata = mcap::read::metadata(&bytes, &summary.metadata_indexes[0]).unwrap();
    assert_eq!(metadata.name, "pitsense.episode");
    let fields = &metadata.metadata;
    assert!(fields["trigger_reason"].starts_with("low_confidence:track="), "{fields:?}");
    assert_eq!(fields["trigger_stamp_ns"], "0");
    assert_eq!(fields["truck_id"], "replay");
    assert_eq!(fields["software_version"], env!("CARGO_PKG_VERSION"));
    let manifest: toml::Value = toml::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/yolox_nano.toml"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(fields["model_sha256"], manifest["model"]["sha256"].as_str().unwrap());
    let calibration: serde_json::Value = serde_json::from_str(&fields["calibration"]).unwrap();
    assert_eq!(calibration["camera_id"], 2);
}

#[test]
fn a_frame_with_nan_points_is_reported_and_the_replay_keeps_every_frame() {
    let scratch = tempfile::tempdir().unwrap();
    let dataset = scratch.path().join("dataset");
    let real = kitti();
    for name in ["000000", "000001", "000002"] {
        place(&real.join(format!("image_2/{name}.png")), &dataset.join(format!("image_2/{name}.png")));
        place(&real.join(format!("calib/{name}.txt")), &dataset.join(format!("calib/{name}.txt")));
        if name != "000001" {
            place(&real.join(format!("velodyne/{name}.bin")), &dataset.join(format!("velodyne/{name}.bin")));
        }
    }
    // 000001's scan with x = NaN in its first 1,000 points and y = +inf in the next 500
    // (16-byte records: x, y, z, reflectance as little-endian f32).
    let mut scan = std::fs::read(real.join("velodyne/000001.bin")).unwrap();
    let points = scan.len() / 16;
    for point in 0..1_500 {
        let (offset, value) =
            if point < 1_000 { (point * 16, f32::NAN) } else { (point * 16 + 4, f32::INFINITY) };
        scan[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }
    std::fs::write(dataset.join("velodyne/000001.bin"), &scan).unwrap();

    let out = scratch.path().join("out");
    let output = replay(&dataset, &out, &[]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("frames: 3 listed, 3 processed, 0 skipped"), "{stdout}");
    let expected = format!(
        "lidar frame 000001 at 100000000 ns: 1500 of {points} points not finite (NaN or infinite), dropped"
    );
    assert!(stdout.contains(&expected), "{expected}\n{stdout}");
    let frames: Vec<serde_json::Value> = std::fs::read_to_string(out.join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(frames.len(), 3);
    assert!(!frames[1]["objects"].as_array().unwrap().is_empty(), "frame 000001 lost its objects");
    for object in frames[1]["objects"].as_array().unwrap() {
        for value in object["center_m"].as_array().unwrap().iter().chain(object["size_m"].as_array().unwrap())
        {
            assert!(value.as_f64().is_some_and(f64::is_finite), "{object}");
        }
    }
}

#[test]
fn an_episode_replays_to_the_objects_of_the_run_that_recorded_it() {
    let scratch = tempfile::tempdir().unwrap();
    // The three KITTI frames with frame 0's calibration for all: an episode keeps one camera
    // calibration (its metadata), so the recording run must have used one.
    let dataset = scratch.path().join("dataset");
    let real = kitti();
    for name in ["000000", "000001", "000002"] {
        place(&real.join(format!("velodyne/{name}.bin")), &dataset.join(format!("velodyne/{name}.bin")));
        place(&real.join(format!("image_2/{name}.png")), &dataset.join(format!("image_2/{name}.png")));
        place(&real.join("calib/000000.txt"), &dataset.join(format!("calib/{name}.txt")));
    }
    // The V2X replay's site and pose, and a recorder rule that fires on frame 0 with a pre-roll
    // and post-roll covering the three frames (see the recorder test above).
    let recorder = "[recorder]\nenabled = true\n\
         [recorder.triggers]\nmanual = false\nv2x_only = false\n\
         [recorder.triggers.low_confidence]\nmax_score = 1.5\nmin_hits = 1\n\
         [recorder.triggers.camera_lidar_disagreement]\nenabled = false\n\
         [recorder.triggers.hard_braking]\nenabled = false\n";
    let site = "[v2x.site_origin]\nlat_deg = 42.301007\nlon_deg = -83.698766\nheight_m = 250.0\n";
    let config = scratch.path().join("record.toml");
    std::fs::write(
        &config,
        format!("[replay]\nego_pose_site = [200.0, -5.0, 3.0, 0.3]\nwrite_rrd = false\n{site}{recorder}"),
    )
    .unwrap();
    let log = scratch.path().join("v2x.jsonl");
    let hex = sdsm_hex();
    let lines: String = [0u64, 90, 190]
        .iter()
        .map(|ms| format!("{{\"receive_stamp_ns\": {}, \"hex\": \"{hex}\"}}\n", ms * 1_000_000))
        .collect();
    std::fs::write(&log, lines).unwrap();
    let recorded = scratch.path().join("recorded");
    let output = replay(
        &dataset,
        &recorded,
        &["--config", config.to_str().unwrap(), "--v2x-log", log.to_str().unwrap()],
    );
    assert!(output.status.success(), "recording replay failed: {}", text(&output.stderr));
    let episode = recorded.join(format!("episodes/{:016}.mcap", 0));
    assert!(episode.is_file(), "{}", text(&output.stdout));

    // Replayed from the episode with another fixed pose in the configuration: the recorded ego
    // states are used, not it (the V2X objects and tracks are in the recorded site frame).
    let config = scratch.path().join("replay.toml");
    std::fs::write(
        &config,
        format!("[replay]\nego_pose_site = [0.0, 0.0, 0.0, 0.0]\nwrite_rrd = false\n{site}"),
    )
    .unwrap();
    let again = scratch.path().join("again");
    let output = replay(&episode, &again, &["--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "episode replay failed: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("frames: 3 listed, 3 processed, 0 skipped"), "{stdout}");
    assert!(stdout.contains("v2x: 3 messages received, 3 objects fused"), "{stdout}");
    let original = std::fs::read_to_string(recorded.join("objects.jsonl")).unwrap();
    let replayed = std::fs::read_to_string(again.join("objects.jsonl")).unwrap();
    assert_eq!(original.lines().count(), 3);
    assert!(
        original.contains("\"source\":\"fused\"") && original.contains("\"source\":\"v2x\""),
        "{original}"
    );
    assert_eq!(replayed, original, "the episode's replay must publish what the recording run published");

    // A torn episode is refused at start-up, with the way to repair it.
    let torn = scratch.path().join("torn.mcap");
    let bytes = std::fs::read(&episode).unwrap();
    std::fs::write(&torn, &bytes[..bytes.len() / 2]).unwrap();
    let output = replay(&torn, &scratch.path().join("torn-out"), &[]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("torn.mcap") && stderr.contains("pitsense episode recover"), "{stderr}");
}
