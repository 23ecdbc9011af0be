//! `pitsense run` live, end to end over loopback: the shared OS-2-128 capture's packets played
//! over UDP at their recorded pace (looped into a stream of rotations by `pitsense-hil`'s
//! player), V2X datagrams over UDP, health and objects read back from the runtime's outputs.
//! The binary runs as a child process, stopped with SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use pitsense_hil::player::OusterLoop;

fn data_root() -> Option<PathBuf> {
    let root = std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")));
    root.join("lidar_pcap").is_dir().then_some(root)
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Runtime {
    child: Child,
    dir: tempfile::TempDir,
}

impl Runtime {
    fn start(extra_toml: &str, lidar_port: u16, v2x_port: u16, data: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            r#"
[run]
truck_id = "truck-test"
health_period_ms = 50
ego_pose_site = {{ x_m = 0.0, y_m = 0.0, z_m = 0.0 }}

[[run.inputs.lidar.sensors]]
source = "udp:127.0.0.1:{lidar_port}"
driver = "ouster"
metadata = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json"
truck_from_lidar = {{ x_m = 2.0, z_m = 4.5 }}

[run.inputs.v2x]
source = "udp:127.0.0.1:{v2x_port}"
health = {{ nominal_rate_hz = 10.0, stale_after_periods = 5.0 }}

[run.outputs]
objects_jsonl = "{objects}"
health_jsonl = "{health}"

[v2x.site_origin]
lat_deg = 42.301007
lon_deg = -83.698766
height_m = 250.0
{extra_toml}
"#,
            objects = dir.path().join("objects.jsonl").display(),
            health = dir.path().join("health.jsonl").display(),
        );
        let config_path = dir.path().join("run.toml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_pitsense"))
            .args(["run", "--config"])
            .arg(&config_path)
            .arg("--data-root")
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Self { child, dir }
    }

    /// Waits until the runtime reports health (its sockets are bound by then).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let health = self.dir.path().join("health.jsonl");
        while Instant::now() < deadline {
            if std::fs::metadata(&health).is_ok_and(|m| m.len() > 0) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                let output = self.child.wait_with_output_ref();
                panic!("pitsense run exited early ({status}): {output}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("pitsense run reported no health within 20 s");
    }

    /// Sends SIGTERM, waits, returns (exit code, stdout, stderr).
    fn terminate(mut self) -> (Option<i32>, String, String, tempfile::TempDir) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "pitsense run did not stop within 20 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = self.child.wait_with_output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            self.dir,
        )
    }
}

trait OutputText {
    fn wait_with_output_ref(&mut self) -> String;
}

impl OutputText for Child {
    fn wait_with_output_ref(&mut self) -> String {
        let mut text = String::new();
        if let Some(stderr) = self.stderr.as_mut() {
            std::io::Read::read_to_string(stderr, &mut text).ok();
        }
        text
    }
}

fn health_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("health.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn status_of<'a>(report: &'a serde_json::Value, input: &str) -> &'a str {
    report["inputs"][input]["status"].as_str().unwrap()
}

/// The SDSM sample's octets (the ODE's decoder output carries its UPER as hex).
fn sdsm_bytes(data: &Path) -> Vec<u8> {
    let text =
        std::fs::read_to_string(data.join("v2x/j2735/jpo-ode_decoded_samples/decoder-output-sdsm.xml"))
            .unwrap();
    let start = text.find("<asn1>").unwrap() + "<asn1>".len();
    let hex = &text[start..text.find("</asn1>").unwrap()];
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn live_lidar_and_v2x_with_a_lidar_outage_and_garbage() {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    let ouster = data.join("lidar_pcap/ouster_sdk_tests");
    let capture = OusterLoop::open(
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.pcap"),
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.json"),
    )
    .unwrap();
    let (lidar_port, v2x_port) = (free_udp_port(), free_udp_port());
    let mut runtime = Runtime::start("", lidar_port, v2x_port, &data);
    runtime.wait_ready();

    // V2X at 10 Hz for the whole run, with a garbage datagram every second.
    let stop = Arc::new(AtomicBool::new(false));
    let v2x_stop = Arc::clone(&stop);
    let sdsm = sdsm_bytes(&data);
    let v2x = std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut sent = 0;
        while !v2x_stop.load(std::sync::atomic::Ordering::SeqCst) {
            let bytes: &[u8] = if sent % 10 == 9 { b"\xde\xad\xbe\xef garbage" } else { &sdsm };
            socket.send_to(bytes, ("127.0.0.1", v2x_port)).unwrap();
            sent += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        sent
    });

    let lidar_addr = format!("127.0.0.1:{lidar_port}").parse().unwrap();
    let never = Arc::new(AtomicBool::new(false));
    // 2 s of rotations, garbage and a truncated packet, a 1 s outage, 2 s more.
    let first = capture.play(lidar_addr, 20, &never).unwrap();
    let garbage = UdpSocket::bind("127.0.0.1:0").unwrap();
    garbage.send_to(b"not a lidar packet", lidar_addr).unwrap();
    garbage.send_to(&capture.pass(0)[0].1[..1000], lidar_addr).unwrap();
    let outage_start = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    let second = capture.play_from(lidar_addr, 20, 20, &never).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let v2x_sent = v2x.join().unwrap();
    let _ = outage_start;

    let (code, stdout, stderr, dir) = runtime.terminate();
    assert_eq!(code, Some(143), "exit status after SIGTERM; stderr:\n{stderr}");
    assert_eq!((first.passes, second.passes), (20, 20));

    // Objects: one line per published frame; each pass of the capture is one rotation. The
    // first rotation of each burst completes only when the next one starts, and the last when
    // the stream is flushed at the stop: every rotation comes out.
    let objects = std::fs::read_to_string(dir.path().join("objects.jsonl")).unwrap();
    let frames = objects.lines().count();
    assert!((38..=40).contains(&frames), "{frames} frames published; stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(&format!("frames: {frames} published")), "{stdout}");
    // The garbage: one undecodable datagram and one truncated packet on the lidar, counted.
    assert!(stdout.contains("input lidar: 2 malformed"), "{stdout}");
    let v2x_garbage = v2x_sent / 10;
    assert!(stdout.contains(&format!("{v2x_garbage} undecodable")), "{stdout}");

    // Health: nominal with both inputs; during the outage the lidar is stale (detected within
    // two rotation periods plus one evaluation tick) and, with no camera configured, nothing
    // can see: perception_unavailable; nominal again after.
    let health = health_lines(dir.path());
    let modes: Vec<&str> = health.iter().map(|h| h["mode"].as_str().unwrap()).collect();
    let mut transitions: Vec<&str> = modes.clone();
    transitions.dedup();
    let first_nominal = transitions.iter().position(|m| *m == "nominal").expect("never nominal");
    let lost_at = first_nominal
        + transitions[first_nominal..]
            .iter()
            .position(|m| *m == "perception_unavailable")
            .expect("no outage");
    assert!(transitions[lost_at..].contains(&"nominal"), "not nominal after the outage: {transitions:?}");
    let during: Vec<&serde_json::Value> = health
        .iter()
        .filter(|h| h["mode"] == "perception_unavailable" && status_of(h, "lidar") == "stale")
        .collect();
    assert!(during.iter().all(|h| status_of(h, "v2x") == "ok"), "V2X kept going");
    let detected_after_ms = during.first().unwrap()["inputs"]["lidar"]["age_ms"].as_f64().unwrap();
    assert!(
        (200.0..=250.0).contains(&detected_after_ms),
        "lidar declared stale {detected_after_ms} ms after its last rotation"
    );
    assert!(health.iter().all(|h| h["dropped"].is_object() && h["late_frames"].is_u64()));
}

/// Runs `pitsense run` (live or `--replay`) with a lidar-only config whose only source is
/// `lidar_source`, frames stamped by the sensor; returns (exit code, objects.jsonl, stdout).
fn lidar_only_config(dir: &Path, lidar_source: &str) -> PathBuf {
    let config = format!(
        r#"
[run]
truck_id = "truck-test"
health_period_ms = 50
sync = "event_time"

[[run.inputs.lidar.sensors]]
source = "{lidar_source}"
driver = "ouster"
metadata = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json"
stamp = "sensor"

[run.outputs]
objects_jsonl = "{objects}"
health_jsonl = "{health}"
"#,
        objects = dir.join("objects.jsonl").display(),
        health = dir.join("health.jsonl").display(),
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn live_equals_replay_byte_for_byte() {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    let ouster = data.join("lidar_pcap/ouster_sdk_tests");
    let capture = OusterLoop::open(
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.pcap"),
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.json"),
    )
    .unwrap();
    const PASSES: u64 = 15;

    // Live: the stream over UDP, stopped with SIGTERM once played.
    let live_dir = tempfile::tempdir().unwrap();
    let port = free_udp_port();
    let config = lidar_only_config(live_dir.path(), &format!("udp:127.0.0.1:{port}"));
    let child = Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .args(["run", "--config"])
        .arg(&config)
        .arg("--data-root")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let health = live_dir.path().join("health.jsonl");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::metadata(&health).is_ok_and(|m| m.len() > 0) {
        assert!(Instant::now() < deadline, "no health within 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let never = Arc::new(AtomicBool::new(false));
    capture.play(format!("127.0.0.1:{port}").parse().unwrap(), PASSES, &never).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let live = child.wait_with_output().unwrap();
    assert_eq!(live.status.code(), Some(143), "{}", String::from_utf8_lossy(&live.stderr));

    // Replay: the same stream from a capture file, on the recording's clock.
    let replay_dir = tempfile::tempdir().unwrap();
    let pcap = replay_dir.path().join("stream.pcap");
    capture.write_pcap(&pcap, PASSES, port).unwrap();
    let config = lidar_only_config(replay_dir.path(), &format!("pcap:{}", pcap.display()));
    let replay = Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .args(["run", "--replay", "--config"])
        .arg(&config)
        .arg("--data-root")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(0), "{}", String::from_utf8_lossy(&replay.stderr));
    assert!(String::from_utf8_lossy(&replay.stdout).contains("stopped: InputsEnded"));

    let live_objects = std::fs::read(live_dir.path().join("objects.jsonl")).unwrap();
    let replay_objects = std::fs::read(replay_dir.path().join("objects.jsonl")).unwrap();
    let frames = live_objects.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(frames as u64, PASSES, "one frame per rotation played");
    assert!(live_objects == replay_objects, "live and replay objects differ");
}
