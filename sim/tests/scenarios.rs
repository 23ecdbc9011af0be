//! Mine scenarios: bad scenario files, the lidar model against hand computations (geometry,
//! Beer–Lambert attenuation, back-scatter), determinism, the simulated packets through our
//! decoder and through the Ouster SDK (PyPI `ouster-sdk`, an independent decoder).

mod common;

use std::path::{Path, PathBuf};

use common::data_root;
use pitsense_perception::drivers::ouster::OusterScanBatcher;
use pitsense_perception::drivers::pcap::PcapUdpReader;
use pitsense_sim::scenario::ScenarioError;
use pitsense_sim::scenario::file::{SHIPPED, ScenarioSource};
use pitsense_sim::scenario::lidar::{LidarModel, Owner, SimScan};
use pitsense_sim::scenario::run::{RunOptions, frame_rng, run};
use pitsense_sim::scenario::world::Scenario;

const METADATA: &str = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json";

/// A flat 140 m × 40 m world, the ego parked at the origin facing east, one noiseless OS-2-128
/// 3 m above the ground; `extra` is appended (actors, dust, gates).
fn flat_world(extra: &str) -> String {
    format!(
        r#"[scenario]
name = "flat"
description = "test world"
duration_s = 1.0

[world]
min_m = [-20.0, -20.0]
max_m = [120.0, 20.0]
cell_size_m = 0.5

[ego]
waypoints_m = [[0.0, 0.0]]

[[lidars]]
name = "l"
metadata = "{METADATA}"
truck_from_lidar = {{ x_m = 0.0, y_m = 0.0, z_m = 3.0 }}
range_noise_m = 0.0
{extra}"#
    )
}

fn source(text: &str) -> ScenarioSource {
    ScenarioSource { file: PathBuf::from("test.toml"), text: text.to_owned(), folder: None }
}

fn build(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::build(&source(text), &data_root())
}

fn built(text: &str) -> Scenario {
    build(text).unwrap_or_else(|error| panic!("{error}"))
}

/// 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let offset = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in the text"));
    text[..offset].matches('\n').count() + 1
}

fn simulate(scenario: &Scenario, frame: u64) -> (LidarModel, SimScan) {
    let model = LidarModel::new(&scenario.lidars[0]);
    let start_s = frame as f64 * model.frame_period_s();
    let scan = model.simulate(scenario, frame, start_s, &mut frame_rng(scenario.seed, 0, frame));
    (model, scan)
}

/// Site-frame origin and direction of pixel `index` for a parked ego at the origin.
fn ray(model: &LidarModel, scenario: &Scenario, index: usize, width: usize) -> ([f64; 3], [f64; 3]) {
    let (origin, direction) =
        model.lut().ray_m(index / width, index % width).unwrap_or_else(|| panic!("no ray"));
    let site_from_lidar = scenario.ego_pose(0.0).0 * scenario.lidars[0].truck_from_lidar;
    let o = site_from_lidar * nalgebra::Point3::from(origin);
    let d = site_from_lidar.rotation * nalgebra::Vector3::from(direction);
    ([o.x, o.y, o.z], [d.x, d.y, d.z])
}

#[test]
fn bad_scenario_files_name_the_file_line_and_key() {
    // Unknown key: the parser's message names the line and the key.
    let text = flat_world("").replace("duration_s = 1.0", "duration_s = 1.0\ncolour = \"red\"");
    let message = build(&text).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("test.toml") && message.contains("colour") && message.contains("line 5"),
        "{message}"
    );

    // A trajectory that leaves the world.
    let text = flat_world(
        "\n[[actors]]\nid = \"runaway\"\nkind = \"light_vehicle\"\nwaypoints_m = [[10.0, 0.0], [500.0, 0.0]]\nspeed_mps = 5.0\n",
    );
    match build(&text) {
        Err(ScenarioError::Invalid { line, key, reason, .. }) => {
            assert_eq!(line, line_of(&text, "[[10.0, 0.0], [500.0"));
            assert_eq!(key, "actors[0].waypoints_m[1]");
            assert!(reason.contains("leaves the world"), "{reason}");
        }
        Err(other) => panic!("expected Invalid, got: {other}"),
        Ok(_) => panic!("expected Invalid, the scenario built"),
    }

    // An unknown actor kind and a gate on an actor the scenario lacks.
    let text = flat_world("\n[[actors]]\nid = \"t\"\nkind = \"truck\"\nwaypoints_m = [[10.0, 0.0]]\n");
    let message = build(&text).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("truck") && message.contains("haul_truck") && message.contains("line"),
        "{message}"
    );
    let text = flat_world("\n[[gates]]\nmetric = \"recall\"\nactor = \"ghost\"\nmin = 0.5\n");
    match build(&text) {
        Err(ScenarioError::Invalid { line, key, .. }) => {
            assert_eq!(key, "gates[0]");
            assert_eq!(line, line_of(&text, "[[gates]]"));
        }
        Err(other) => panic!("expected Invalid, got: {other}"),
        Ok(_) => panic!("expected Invalid, the scenario built"),
    }

    // Arrays of the wrong length: serde's fixed-size arrays used to drop the extra numbers
    // silently (`[[0.0, 0.0, 5.0]]` read as `[0, 0]`); now each names the key, the line and the
    // lengths. One that is too short is refused the same way.
    for (text, key, expected) in [
        (
            flat_world("").replace("waypoints_m = [[0.0, 0.0]]", "waypoints_m = [[0.0, 0.0, 5.0]]"),
            "waypoints_m",
            "element 0: expected 2 numbers, found 3",
        ),
        (
            flat_world("").replace("max_m = [120.0, 20.0]", "max_m = [120.0, 20.0, 3.0]"),
            "max_m",
            "expected 2 numbers, found 3",
        ),
        (
            flat_world("").replace("min_m = [-20.0, -20.0]", "min_m = [-20.0]"),
            "min_m",
            "expected 2 numbers, found 1",
        ),
        (
            flat_world(
                "\n[[actors]]\nid = \"r\"\nkind = \"rock\"\nsize_m = [1.0, 1.0]\nwaypoints_m = [[30.0, 0.0]]\n",
            ),
            "size_m",
            "expected 3 numbers, found 2",
        ),
    ] {
        let message = build(&text).err().map(|e| e.to_string()).unwrap_or_default();
        let line = line_of(&text, &format!("\n{key} = ")) + 1;
        assert!(
            message.contains(expected) && message.contains(key) && message.contains(&format!("line {line}")),
            "{key}: {message}"
        );
    }

    // A pipeline file whose [tracker] is misspelt would fall back to the default tracker: a
    // section a letter or two from [lidar] or [tracker] is refused; other sections of a
    // pitsense configuration ([models], ...) are ignored as before.
    let dir = tempfile::tempdir().unwrap();
    for (sections, expected) in [
        ("[lidar]\nmin_range_m = 3.0\n[trackr]\n", Some("section [trackr]: did you mean [tracker]?")),
        ("[Lidar]\nmin_range_m = 3.0\n[tracker]\n", Some("section [Lidar]: did you mean [lidar]?")),
        ("[lidar]\nmin_range_m = 3.0\n[models]\ncamera_detector = \"yolox_nano\"\n", None),
    ] {
        let pipeline = dir.path().join("pipeline.toml");
        std::fs::write(&pipeline, sections).unwrap();
        let text = flat_world(&format!("\n[pipeline]\nconfig = \"{}\"\n", pipeline.display()));
        match (build(&text), expected) {
            (Err(error), Some(expected)) => assert!(error.to_string().contains(expected), "{error}"),
            (Ok(_), None) => {}
            (Err(error), None) => panic!("{sections}: {error}"),
            (Ok(_), Some(expected)) => panic!("{sections}: built, expected `{expected}`"),
        }
    }

    // What an adversarial user found (each once accepted, panicked or hung): every one is now an
    // error naming the key.
    let wall =
        "\n[[actors]]\nid = \"w\"\nkind = \"rock\"\nsize_m = [1.0, 1.0, 1.0]\nwaypoints_m = [[30.0, 0.0]]\n";
    let road = |centerline: &str| {
        format!("\n[[world.roads]]\nname = \"r\"\ncenterline_m = {centerline}\nwidth_m = 10.0\n")
    };
    let cases: Vec<(String, &str)> = vec![
        (flat_world("").replace("max_m = [120.0, 20.0]", "max_m = [1e300, 20.0]"), "world.max_m"),
        (flat_world(&road("[[-10.0, 0.0, nan], [100.0, 0.0, 0.0]]")), "world.roads[0].centerline_m"),
        (
            flat_world("")
                .replace("max_m = [120.0, 20.0]", "max_m = [2000.0, 2000.0]")
                .replace("cell_size_m = 0.5", "cell_size_m = 0.1"),
            "world.max_m",
        ),
        (
            flat_world(&road(&format!(
                "[{}]",
                (0..400).map(|i| format!("[{i}.0, 0.0, 0.0]")).collect::<Vec<_>>().join(", ")
            )))
            .replace("max_m = [120.0, 20.0]", "max_m = [2000.0, 2000.0]"),
            "world.cell_size_m",
        ),
        (
            flat_world("\n[[dust]]\ncenter_m = [nan, 0.0]\nradius_m = 5.0\nheight_m = 5.0\nmor_m = 20.0\n"),
            "dust[0]",
        ),
        (flat_world(&format!("{wall}\n[[gates]]\nmetric = \"recall\"\nmin = 0.9\nmax = 0.5\n")), "gates[0]"),
        (flat_world(&format!("{wall}\n[[gates]]\nmetric = \"recall\"\nmax = inf\n")), "gates[0]"),
        (
            flat_world(&format!("{wall}\n[[gates]]\nmetric = \"recall\"\nclass = \"dozer\"\nmin = 0.5\n")),
            "gates[0]",
        ),
        (flat_world("").replace("name = \"l\"", "name = \"../../escaped\""), "lidars[0].name"),
        (flat_world("").replace("z_m = 3.0 }", "z_m = -1.0 }"), "lidars[0].truck_from_lidar"),
    ];
    for (text, expected_key) in cases {
        match build(&text) {
            Err(ScenarioError::Invalid { key, .. }) => assert_eq!(key, expected_key, "{text}"),
            Err(other) => panic!("expected Invalid at `{expected_key}`, got: {other}"),
            Ok(_) => panic!("expected Invalid at `{expected_key}`, the scenario built"),
        }
    }

    // A NaN in the lidar's pose.
    let text = flat_world("").replace("z_m = 3.0 }", "z_m = 3.0, pitch_rad = nan }");
    match build(&text) {
        Err(ScenarioError::Invalid { key, .. }) => assert_eq!(key, "lidars[0].truck_from_lidar"),
        Err(other) => panic!("expected Invalid, got: {other}"),
        Ok(_) => panic!("expected Invalid, the scenario built"),
    }

    // A beam table that does not match the metadata's pixels per column.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let original = std::fs::read_to_string(data_root().join(METADATA)).unwrap_or_else(|e| panic!("{e}"));
    let mut json: serde_json::Value = serde_json::from_str(&original).unwrap_or_else(|e| panic!("{e}"));
    json["beam_altitude_angles"].as_array_mut().unwrap_or_else(|| panic!("no table")).pop();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, json.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let text = flat_world("").replace(METADATA, &broken.display().to_string());
    match build(&text) {
        Err(ScenarioError::Invalid { line, key, reason, .. }) => {
            assert_eq!(key, "lidars[0].metadata");
            assert_eq!(line, line_of(&text, "broken.json"));
            assert!(reason.contains("beam_altitude_angles"), "{reason}");
        }
        Err(other) => panic!("expected Invalid, got: {other}"),
        Ok(_) => panic!("expected Invalid, the scenario built"),
    }
}

#[test]
fn every_shipped_scenario_builds() {
    for (name, _) in SHIPPED {
        let source = ScenarioSource::resolve(name).unwrap_or_else(|e| panic!("{e}"));
        let scenario = Scenario::build(&source, &data_root()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&scenario.name, name);
        assert!(!scenario.gates.is_empty(), "{name} has no gates");
    }
    assert!(matches!(ScenarioSource::resolve("no_such_scenario"), Err(ScenarioError::Unknown { .. })));
}

/// A 1 × 20 × 10 m wall whose near face is 29.5 m ahead.
const WALL: &str = "\n[[actors]]\nid = \"wall\"\nkind = \"rock\"\nsize_m = [1.0, 20.0, 10.0]\nreflectivity = 0.5\nwaypoints_m = [[30.0, 0.0]]\n";

#[test]
fn wall_returns_match_the_geometry_and_beer_lambert_by_hand() {
    let scenario = built(&flat_world(WALL));
    let (model, sim) = simulate(&scenario, 0);
    let width = sim.scan.width;
    let mut wall_pixels = 0;
    for (index, owner) in sim.owner.iter().enumerate() {
        if *owner != Owner::Actor(0) {
            continue;
        }
        wall_pixels += 1;
        let (o, d) = ray(&model, &scenario, index, width);
        let t = sim.range_m[index];
        // The point lies on the wall's near face, x = 29.5 m.
        assert!((o[0] + t * d[0] - 29.5).abs() < 1e-9, "pixel {index}: x {}", o[0] + t * d[0]);
        // Lambertian, normal −x: reflectivity 100 · ρ · cos θ.
        let expected = (100.0 * 0.5 * d[0].abs()).round() as u8;
        assert_eq!(sim.scan.reflectivity[index], expected, "pixel {index}");
        // The packet's millimetres.
        assert_eq!(sim.scan.range_mm[index], (t * 1000.0).round() as u32);
    }
    // The wall subtends atan(10/29.5) = 37.4° of azimuth (about 106 columns of 0.35°) and, from
    // 3 m up, the beams between atan(−3/29.5) and atan(7/29.5), 128 rows of the 22.5° field
    // minus those that hit the ground first: thousands of pixels.
    assert!(wall_pixels > 5_000, "{wall_pixels}");
    assert_eq!(sim.actor_returns[0], wall_pixels);

    // The same wall inside a dust cloud that holds the sensor: every path to the wall is inside
    // it, so the hard return keeps exp(−2 α t), α = −ln 0.05 / MOR (back-scatter switched off
    // with a huge lidar ratio).
    let mor_m = 100.0;
    let dust = format!(
        "{WALL}\n[[dust]]\ncenter_m = [0.0, 0.0]\nradius_m = 200.0\nheight_m = 50.0\nmor_m = {mor_m}\nlidar_ratio_sr = 1e12\npatchiness = 0.0\n"
    );
    let scenario = built(&flat_world(&dust));
    let (model, sim) = simulate(&scenario, 0);
    let alpha = -(0.05_f64.ln()) / mor_m;
    let mut checked = 0;
    for (index, owner) in sim.owner.iter().enumerate() {
        if *owner != Owner::Actor(0) {
            continue;
        }
        let (_, d) = ray(&model, &scenario, index, width);
        let t = sim.range_m[index];
        let expected = (100.0 * 0.5 * d[0].abs() * (-2.0 * alpha * t).exp()).round().clamp(1.0, 100.0) as u8;
        assert_eq!(sim.scan.reflectivity[index], expected, "pixel {index} at {t} m");
        checked += 1;
    }
    assert!(checked > 5_000, "{checked}");
    assert_eq!(sim.dust_returns, 0);

    // Dense dust (MOR 5 m: T² = e^−35 at the wall): the wall vanishes, counted as extinguished.
    let scenario = built(&flat_world(&dust.replace("mor_m = 100", "mor_m = 5")));
    let (_, sim) = simulate(&scenario, 0);
    assert_eq!(sim.actor_returns[0], 0);
    assert!(sim.dust_extinguished > 5_000, "{}", sim.dust_extinguished);
}

#[test]
fn a_dust_cloud_ahead_returns_soft_echoes_at_its_near_edge() {
    // A cloud 10 m across, 10..20 m ahead, MOR 10 m, uniform: beams that cross it return from
    // its near edge, within two pulse lengths (2 · c · 10 ns ≈ 6 m) of the entry, dimly.
    let dust = "\n[[dust]]\ncenter_m = [15.0, 0.0]\nradius_m = 5.0\nheight_m = 20.0\nmor_m = 10.0\npatchiness = 0.0\n";
    let scenario = built(&flat_world(dust));
    let (model, sim) = simulate(&scenario, 0);
    let width = sim.scan.width;
    assert!(sim.dust_returns > 1_000, "{}", sim.dust_returns);
    for (index, owner) in sim.owner.iter().enumerate() {
        if *owner != Owner::Dust {
            continue;
        }
        let (o, d) = ray(&model, &scenario, index, width);
        let cloud = &scenario.dust[0];
        let (t_in, _) = cloud
            .segment(&nalgebra::Point3::from(o), &nalgebra::Vector3::from(d), 1000.0)
            .unwrap_or_else(|| panic!("pixel {index} returned from dust it does not cross"));
        let t = sim.range_m[index];
        assert!(t > t_in && t <= t_in + 6.0, "pixel {index}: soft return at {t}, cloud entered at {t_in}");
        assert!(sim.scan.reflectivity[index] <= 5, "pixel {index}: {}", sim.scan.reflectivity[index]);
    }
}

/// Decodes an Ouster pcap with our driver.
fn decode_pcap(pcap: &Path, scenario: &Scenario) -> Vec<pitsense_perception::drivers::ouster::LidarScan> {
    let mut reader = PcapUdpReader::open(pcap).unwrap_or_else(|e| panic!("{e}"));
    let mut batcher = OusterScanBatcher::new(&scenario.lidars[0].metadata);
    let mut scans = Vec::new();
    while let Some(datagram) = reader.next_datagram().unwrap_or_else(|e| panic!("{e}")) {
        batcher.push(&datagram.payload, &mut scans).unwrap_or_else(|e| panic!("{e}"));
    }
    batcher.flush_frames(&mut scans);
    scans
}

#[test]
fn runs_are_deterministic_and_packets_decode_to_the_simulated_scans() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let scenario = built(&flat_world(WALL).replace("range_noise_m = 0.0", "range_noise_m = 0.03"));
    let options = |name: &str, seed: u64| RunOptions {
        seed: Some(seed),
        out_dir: Some(dir.path().join(name)),
        write_pcap: Some(dir.path().join(name)),
        max_frames: Some(3),
        episodes: Some(dir.path().join(name)),
    };
    let first = run(&scenario, &options("a", 7)).unwrap_or_else(|e| panic!("{e}"));
    let second = run(&scenario, &options("b", 7)).unwrap_or_else(|e| panic!("{e}"));
    let other = run(&scenario, &options("c", 8)).unwrap_or_else(|e| panic!("{e}"));
    let bytes = |name: &str, file: &str| {
        std::fs::read(dir.path().join(name).join(file)).unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(first.frames, 3);
    assert!(bytes("a", "flat-l.pcap") == bytes("b", "flat-l.pcap"), "same seed, different packets");
    assert!(bytes("a", "flat/tracks.jsonl") == bytes("b", "flat/tracks.jsonl"));
    assert!(bytes("a", "flat/truth.jsonl") == bytes("b", "flat/truth.jsonl"));
    assert_eq!(
        serde_json::to_string(&first.metrics).unwrap_or_default(),
        serde_json::to_string(&second.metrics).unwrap_or_default()
    );
    assert!(bytes("a", "flat-l.pcap") != bytes("c", "flat-l.pcap"), "another seed, same range noise");
    // The episode, read by the `mcap` PyPI package (an independent reader): one message per
    // frame on each topic the truck records for a lidar, the ego and the tracks.
    // Its messages are identical from run to run (the MCAP summary's record order is the mcap
    // crate's hash-map order, so the files' bytes are not).
    let script = r#"
import hashlib, json, sys
from mcap.reader import make_reader
with open(sys.argv[1], "rb") as f:
    reader = make_reader(f)
    counts, digest = {}, hashlib.sha256()
    for schema, channel, message in reader.iter_messages():
        counts[channel.topic] = counts.get(channel.topic, 0) + 1
        digest.update(channel.topic.encode() + message.log_time.to_bytes(8, "little") + message.data)
    print(json.dumps(counts, sort_keys=True), digest.hexdigest())
"#;
    let Some(mcap_python) = std::env::var_os("PITSENSE_PYTHON") else {
        panic!(
            "PITSENSE_PYTHON is not set: run the tests with `./x test`, which installs the mcap PyPI package"
        );
    };
    let read = |name: &str| {
        let output = std::process::Command::new(&mcap_python)
            .args(["-c", script])
            .arg(dir.path().join(name).join("flat.mcap"))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let (a, b) = (read("a"), read("b"));
    assert!(a.starts_with(r#"{"/ego/state": 3, "/lidar0/points": 3, "/tf": 3, "/tracks": 3} "#), "{a}");
    assert_eq!(a, b, "same seed, different episode messages");
    assert!(other.frames == 3);

    // Our decoder turns the written packets back into exactly the simulated scans.
    let scenario = Scenario { seed: 7, ..scenario };
    let decoded = decode_pcap(&dir.path().join("a").join("flat-l.pcap"), &scenario);
    assert_eq!(decoded.len(), 3);
    for (frame, scan) in decoded.iter().enumerate() {
        let (_, sim) = simulate(&scenario, frame as u64);
        assert_eq!(scan.range_mm, sim.scan.range_mm, "frame {frame}");
        assert_eq!(scan.reflectivity, sim.scan.reflectivity, "frame {frame}");
        assert_eq!(scan.signal, sim.scan.signal, "frame {frame}");
        assert_eq!(scan.timestamp_ns, sim.scan.timestamp_ns, "frame {frame}");
        assert_eq!(scan.frame_id, frame as u16);
    }
}

fn python() -> PathBuf {
    let Some(python) = std::env::var_os("PITSENSE_OUSTER_PYTHON") else {
        panic!(
            "PITSENSE_OUSTER_PYTHON is not set: run the tests with `./x test`, which installs the ouster-sdk PyPI package"
        );
    };
    PathBuf::from(python)
}

fn read_f64(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect()
}

#[test]
fn the_ouster_sdk_reads_the_simulated_pcap_and_its_points_equal_the_simulated_hits() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = flat_world(&format!(
        "{WALL}\n[[actors]]\nid = \"person\"\nkind = \"person\"\nwaypoints_m = [[12.0, 4.0], [12.0, -4.0]]\nspeed_mps = 1.4\n"
    ))
    .replace("range_noise_m = 0.0", "range_noise_m = 0.03");
    let scenario = built(&text);
    let options = RunOptions {
        seed: None,
        out_dir: None,
        write_pcap: Some(dir.path().to_path_buf()),
        max_frames: Some(2),
        episodes: None,
    };
    run(&scenario, &options).unwrap_or_else(|e| panic!("{e}"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ouster_sdk_points.py");
    let status = std::process::Command::new(python())
        .arg(script)
        .arg(dir.path().join("flat-l.pcap"))
        .arg(dir.path().join("flat-l.json"))
        .arg(dir.path())
        .status()
        .unwrap_or_else(|e| panic!("cannot start Python: {e}"));
    assert!(status.success(), "{script} failed: {status}");
    for frame in 0..2_u64 {
        let (model, sim) = simulate(&scenario, frame);
        let sdk_range = read_f64(&dir.path().join(format!("range_{frame}.f64")));
        let sdk_xyz = read_f64(&dir.path().join(format!("xyz_{frame}.f64")));
        let (height, width) = (sim.scan.height, sim.scan.width);
        assert_eq!(sdk_range.len(), height * width);
        let mut compared = 0;
        for index in 0..height * width {
            assert_eq!(sdk_range[index] as u32, sim.scan.range_mm[index], "frame {frame} pixel {index}");
            if sim.scan.range_mm[index] == 0 {
                continue;
            }
            // The SDK's point of the pixel (sensor frame) against the simulated hit: the beam's
            // origin plus the simulated range before its quantisation to millimetres.
            let (origin, direction) =
                model.lut().ray_m(index / width, index % width).unwrap_or_else(|| panic!("no ray"));
            let t = sim.range_m[index];
            for axis in 0..3 {
                let hit = origin[axis] + t * direction[axis];
                let sdk = sdk_xyz[index * 3 + axis];
                assert!(
                    (sdk - hit).abs() < 6e-4,
                    "frame {frame} pixel {index} axis {axis}: SDK {sdk}, simulated {hit}"
                );
            }
            compared += 1;
        }
        assert!(compared > 20_000, "frame {frame}: only {compared} returns");
    }
}

/// CI's smoke run: the shipped rock scenario end to end through the binary, its JUnit report
/// and exit status; a scenario file of our own whose gates hold exits 0.
#[test]
fn smoke_run_of_the_rock_scenario_reports_gates_in_junit_and_the_exit_status() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let junit = dir.path().join("junit.xml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pitsense-sim"))
        .args(["run", "rock_on_road_80m", "--out"])
        .arg(dir.path())
        .arg("--junit")
        .arg(&junit)
        .arg("--data-root")
        .arg(data_root())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("rock_on_road_80m/report.json"))
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let gates = report["gates"].as_array().unwrap_or_else(|| panic!("no gates"));
    let failed = gates.iter().filter(|g| g["passed"] == false).count();
    assert_eq!(output.status.success(), failed == 0, "exit status against {failed} failed gates\n{stdout}");
    assert_eq!(report["passed"], failed == 0);
    let xml = std::fs::read_to_string(&junit).unwrap_or_else(|e| panic!("{e}"));
    assert!(xml.contains(&format!("tests=\"{}\" failures=\"{failed}\" errors=\"0\"", gates.len())), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), gates.len());
    // 8 s at 10 Hz.
    assert_eq!(report["frames"], 80);
    // A 0.5 m cube gives about (0.5 / (R · 0.0030)) rows × (0.5 / (R · 0.0061)) columns of the
    // OS-2-128's 0.172° × 0.352° pattern: 5 returns (visible) near R = 52 m. The ego starts with
    // the lidar at x = 20 m and drives at 8.33 m/s; the rock's near face is at x = 99.75 m.
    let first_visible_s = report["metrics"]["actors"]["rock"]["first_visible_s"].as_f64().unwrap_or(f64::NAN);
    let range_m = 99.75 - (20.0 + 8.33 * first_visible_s);
    assert!((40.0..=60.0).contains(&range_m), "rock first visible at {range_m} m\n{stdout}");
    // The pipeline finds it before a loaded truck at 30 km/h needs to brake (the gate: 35 m).
    let first_detection_m =
        report["metrics"]["actors"]["rock"]["first_detection_range_m"].as_f64().unwrap_or(0.0);
    assert!(first_detection_m >= 35.0 && first_detection_m <= range_m, "{first_detection_m}\n{stdout}");

    // A scenario file of our own, a few frames, gates that hold: exit status 0.
    let text = flat_world(&format!("{WALL}\n[[gates]]\nmetric = \"recall\"\nclass = \"rock\"\nmin = 0.5\n"));
    let file = dir.path().join("wall.toml");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pitsense-sim"))
        .args(["run", "--max-frames", "5", "--out"])
        .arg(dir.path())
        .arg("--data-root")
        .arg(data_root())
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    // A scenario that cannot load is an error in the report and exit status 1.
    let junit = dir.path().join("bad.xml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pitsense-sim"))
        .args(["run", "no_such_scenario", "--junit"])
        .arg(&junit)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(1));
    let xml = std::fs::read_to_string(&junit).unwrap_or_else(|e| panic!("{e}"));
    assert!(xml.contains("errors=\"1\"") && xml.contains("no scenario `no_such_scenario`"), "{xml}");
}

#[test]
fn lidar_faults_outage_and_yaw_miscalibration() {
    // An outage: the rotations starting in [0.1 s, 0.3 s) are not sent; the others are.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = flat_world(WALL)
        .replace("range_noise_m = 0.0", "range_noise_m = 0.0\nfaults = { outages_s = [[0.1, 0.3]] }");
    let scenario = built(&text);
    let options = RunOptions {
        seed: None,
        out_dir: None,
        write_pcap: Some(dir.path().to_path_buf()),
        max_frames: Some(5),
        episodes: None,
    };
    let report = run(&scenario, &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.outage_frames, 2);
    let decoded = decode_pcap(&dir.path().join("flat-l.pcap"), &scenario);
    assert_eq!(decoded.iter().map(|scan| scan.frame_id).collect::<Vec<_>>(), vec![0, 3, 4]);

    // A 2° yaw calibration error: the beams leave the true mount, so each wall point the
    // pipeline believes (configured mount) is the true point turned by −2° about the lidar.
    let text = flat_world(WALL)
        .replace("range_noise_m = 0.0", "range_noise_m = 0.0\nfaults = { yaw_error_deg = 2.0 }");
    let scenario = built(&text);
    let (model, sim) = simulate(&scenario, 0);
    let lidar = &scenario.lidars[0];
    let turn = nalgebra::UnitQuaternion::from_euler_angles(0.0, 0.0, (-2.0_f64).to_radians());
    let origin = lidar.truck_from_lidar.translation.vector;
    let mut checked = 0;
    for (index, owner) in sim.owner.iter().enumerate() {
        if *owner != Owner::Actor(0) {
            continue;
        }
        let (o, d) = model
            .lut()
            .ray_m(index / sim.scan.width, index % sim.scan.width)
            .unwrap_or_else(|| panic!("no ray"));
        let in_sensor =
            nalgebra::Point3::new(o[0], o[1], o[2]) + nalgebra::Vector3::from(d) * sim.range_m[index];
        let truth = lidar.truck_from_lidar_true * in_sensor;
        let believed = lidar.truck_from_lidar * in_sensor;
        assert!((truth.x - 29.5).abs() < 1e-9, "{truth}");
        let expected = turn * (truth.coords - origin) + origin;
        assert!((believed.coords - expected).norm() < 1e-9, "pixel {index}: {believed} vs {expected}");
        checked += 1;
    }
    assert!(checked > 5_000, "{checked}");
}
