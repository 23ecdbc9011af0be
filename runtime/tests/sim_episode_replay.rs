//! A mine scenario simulated by `pitsense-sim` and recorded as an episode replays through the
//! truck's onboard graph (`pitsense replay EPISODE.mcap`): the simulator and the runtime agree on
//! the episode format (the lidar mount included), and the truck's pipeline finds the simulated
//! rock where the scenario put it, within 1.5 m of the pipeline's L-shape box and at its height.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use pitsense_sim::scenario::file::{SHIPPED_PIPELINE, ScenarioSource};
use pitsense_sim::scenario::run::{RunOptions, run};
use pitsense_sim::scenario::world::Scenario;
use pitsense_testkit::data_root;

#[test]
fn a_simulated_episode_replays_and_the_rock_is_where_the_scenario_put_it() {
    let root = data_root();
    let source = ScenarioSource::resolve("rock_on_road_80m").unwrap();
    let scenario = Scenario::build(&source, &root).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions { episodes: Some(dir.path().to_path_buf()), ..RunOptions::default() };
    let report = run(&scenario, &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.frames, 80);
    let episode = dir.path().join("rock_on_road_80m.mcap");

    // The episode carries the lidar mount the truck believes (x 7.5 m, 3 m up, pitched 0.05 rad
    // down); the replay takes it from there. `replay.lidar_in_truck` (no pitch) is set to
    // something else on purpose: it is only for episodes that do not say.
    let recorded =
        pitsense_cloud_link::EpisodeReader::open(&episode).unwrap().metadata().truck_from_lidar_json.clone();
    let pose: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    for (key, value) in
        [("x_m", 7.5), ("y_m", 0.0), ("z_m", 3.0), ("roll_rad", 0.0), ("pitch_rad", 0.05), ("yaw_rad", 0.0)]
    {
        assert!((pose[key].as_f64().unwrap() - value).abs() < 1e-12, "{key} in {recorded}");
    }
    assert!(SHIPPED_PIPELINE.contains("sensor_height_m = 5.0"));
    let config = SHIPPED_PIPELINE.replace("sensor_height_m = 5.0", "sensor_height_m = 3.0")
        + "\n[replay]\nlidar_in_truck = [0.0, 0.0, 1.0, 0.0]\nwrite_rrd = false\n";
    let config_path = dir.path().join("replay.toml");
    std::fs::write(&config_path, config).unwrap();
    let out = dir.path().join("replay");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .arg("replay")
        .arg(&episode)
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&config_path)
        .arg("--data-root")
        .arg(&root)
        .arg("--quiet")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("frames: 80 listed, 80 processed, 0 skipped"), "{stdout}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(out.join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 80);
    // The rock (scenario: 0.5 m cube at x 100, y −7.5 on flat ground at 0 m, site frame) is in
    // each of the last ten frames, 24 to 32 m ahead of the lidar, with its box centre at about
    // 0.25 m up: without the mount's pitch it would be 0.05 rad · ~28 m ≈ 1.4 m off.
    for line in &lines[70..] {
        let rock = line["objects"].as_array().unwrap().iter().find(|object| {
            let x = object["center_m"][0].as_f64().unwrap();
            let y = object["center_m"][1].as_f64().unwrap();
            (x - 100.0).hypot(y + 7.5) < 1.5
        });
        let Some(rock) = rock else { panic!("no object at the rock in frame {}", line["seq"]) };
        let z = rock["center_m"][2].as_f64().unwrap();
        assert!((z - 0.25).abs() < 0.3, "the rock's centre at {z} m up in frame {}", line["seq"]);
    }
}

/// An episode whose `truck_from_lidar` metadata is not a pose is refused by name before any frame
/// runs (no silent fallback to `replay.lidar_in_truck`).
#[test]
fn an_episode_with_a_damaged_lidar_mount_is_refused_by_name() {
    use pitsense_cloud_link::{EpisodeMessage, EpisodeMetadata, EpisodeWriter};
    use pitsense_types::{FrameId, Header, PointCloud, PointXyzi};

    let dir = tempfile::tempdir().unwrap();
    let episode = dir.path().join("bad_mount.mcap");
    let metadata = EpisodeMetadata {
        truck_id: "truck-07".into(),
        truck_from_lidar_json: r#"{"x_m": "front", "z_m": 3.0}"#.into(),
        ..EpisodeMetadata::default()
    };
    let mut writer = EpisodeWriter::create(&episode, &metadata, Default::default()).unwrap();
    let point = PointXyzi { x_m: 10.0, y_m: 0.0, z_m: 0.0, intensity: 1.0 };
    let header = Header { stamp_ns: 1_000_000_000, frame: FrameId::Lidar(0), seq: 0 };
    writer.write(&EpisodeMessage::PointCloud(PointCloud { header, points: vec![point] })).unwrap();
    writer.finish().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .arg("replay")
        .arg(&episode)
        .arg("--out")
        .arg(dir.path().join("replay"))
        .arg("--data-root")
        .arg(data_root())
        .arg("--quiet")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            r#"bad_mount.mcap`: metadata `truck_from_lidar`: invalid type: string "front", expected f64"#
        ),
        "{stderr}"
    );
}

/// B18 (issue 16): a replay killed mid-run (SIGTERM) leaves a Rerun recording that `rerun rrd
/// verify` accepts and that holds what was logged up to the kill (the lidar points and the
/// tracks), and an `objects.jsonl` with every frame the summary counts; it exits 143. Before, the
/// default SIGTERM action ended the process at once: no footer, buffered entities lost.
#[test]
fn a_replay_stopped_by_sigterm_finishes_its_recording() {
    let Some(rerun) = std::env::var_os("PITSENSE_RERUN") else {
        panic!("PITSENSE_RERUN is not set: run the tests with `./x test`, which installs rerun-sdk");
    };
    let root = data_root();
    let source = ScenarioSource::resolve("rock_on_road_80m").unwrap();
    let scenario = Scenario::build(&source, &root).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions { episodes: Some(dir.path().to_path_buf()), ..RunOptions::default() };
    run(&scenario, &options).unwrap_or_else(|e| panic!("{e}"));
    let config = SHIPPED_PIPELINE.replace("sensor_height_m = 5.0", "sensor_height_m = 3.0")
        + "\n[replay]\nwrite_rrd = true\n";
    let config_path = dir.path().join("replay.toml");
    std::fs::write(&config_path, config).unwrap();
    let out = dir.path().join("replay");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .arg("replay")
        .arg(dir.path().join("rock_on_road_80m.mcap"))
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&config_path)
        .arg("--data-root")
        .arg(&root)
        .arg("--quiet")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the replay to be under way (its first frames written), then SIGTERM it.
    let objects = out.join("objects.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&objects).map_or(0, |text| text.lines().count()) < 5 {
        assert!(std::time::Instant::now() < deadline, "the replay wrote no frame in 60 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let killed =
        std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(143), "{stdout}");
    assert!(stdout.contains("stopped on request (SIGINT/SIGTERM)"), "{stdout}");
    let processed: usize = stdout
        .lines()
        .find_map(|line| line.strip_prefix("frames: 80 listed, "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame count in {stdout}"));
    assert!((5..80).contains(&processed), "stopped after {processed} frames: {stdout}");
    let lines = std::fs::read_to_string(&objects).unwrap().lines().count();
    assert_eq!(lines, processed, "objects.jsonl lines against the summary");

    let rrd = out.join("replay.rrd");
    let verify = std::process::Command::new(&rerun).args(["rrd", "verify"]).arg(&rrd).output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(verify.status.success(), "rerun rrd verify: {}{}", text(&verify.stdout), text(&verify.stderr));
    let print = std::process::Command::new(&rerun).args(["rrd", "print"]).arg(&rrd).output().unwrap();
    assert!(print.status.success(), "rerun rrd print: {}", text(&print.stderr));
    let listing = text(&print.stdout);
    for (entity, column) in
        [("/world/lidar/points", "Points3D:positions"), ("/world/tracks", "Boxes3D:labels")]
    {
        let found =
            listing.lines().any(|line| line.contains(&format!("- {entity} -")) && line.contains(column));
        assert!(found, "entity {entity} with {column} missing from the recording:\n{listing}");
    }
}
