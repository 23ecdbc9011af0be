//! A mine scenario simulated by `pitsense-sim` and recorded as an episode replays through the
//! truck's onboard graph (`pitsense replay EPISODE.mcap`): the simulator and the runtime agree on
//! the episode format, and the truck's pipeline finds the simulated rock where the scenario put
//! it, within the lidar frame's 1.5 m of the pipeline's L-shape box.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::PathBuf;

use pitsense_sim::scenario::file::{SHIPPED_PIPELINE, ScenarioSource};
use pitsense_sim::scenario::run::{RunOptions, run};
use pitsense_sim::scenario::world::Scenario;

fn data_root() -> PathBuf {
    std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

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

    // The replay runs the simulator's pipeline settings, with the scenario's lidar mount
    // (x 7.5 m, 3 m up; the replay's extrinsics have no pitch, the scenario's 0.05 rad moves the
    // rock's points by about 0.15 m at 25 m).
    assert!(SHIPPED_PIPELINE.contains("sensor_height_m = 5.0"));
    let config = SHIPPED_PIPELINE.replace("sensor_height_m = 5.0", "sensor_height_m = 3.0")
        + "\n[replay]\nlidar_in_truck = [7.5, 0.0, 3.0, 0.0]\nwrite_rrd = false\n";
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
    // The rock (scenario: 0.5 m cube at x 100, y −7.5, site frame) is in each of the last ten
    // frames, 24 to 32 m ahead of the lidar.
    for line in &lines[70..] {
        let near_rock = line["objects"].as_array().unwrap().iter().any(|object| {
            let x = object["center_m"][0].as_f64().unwrap();
            let y = object["center_m"][1].as_f64().unwrap();
            (x - 100.0).hypot(y + 7.5) < 1.5
        });
        assert!(near_rock, "no object at the rock in frame {}", line["seq"]);
    }
}
