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
    pitsense_testkit::data_root_holding("lidar_pcap")
}

/// The data root and the reference Python (`PITSENSE_PYTHON`), or `None` with the reason printed
/// (the test then skips).
fn data_root_and_python() -> Option<(PathBuf, std::ffi::OsString)> {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return None;
    };
    let Some(python) = std::env::var_os("PITSENSE_PYTHON") else {
        eprintln!("skipped: PITSENSE_PYTHON is unset (./x test sets it)");
        return None;
    };
    Some((data, python))
}

/// The shared OS-2-128 capture (one rotation), ready to loop.
fn os2_capture(data: &Path) -> OusterLoop {
    let ouster = data.join("lidar_pcap/ouster_sdk_tests");
    OusterLoop::open(
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.pcap"),
        &ouster.join("OS-2-128-U1_v2.3.0_1024x10.json"),
    )
    .unwrap()
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
        Self::start_with(extra_toml, "", lidar_port, v2x_port, data)
    }

    /// As `start`, with `outputs_toml` added to `[run.outputs]` and `{dir}` in `extra_toml`
    /// replaced by the run's folder.
    fn start_with(extra_toml: &str, outputs_toml: &str, lidar_port: u16, v2x_port: u16, data: &Path) -> Self {
        Self::start_full("", extra_toml, outputs_toml, lidar_port, v2x_port, data)
    }

    /// As `start_with`, with `run_toml` added to `[run]`.
    fn start_full(
        run_toml: &str,
        extra_toml: &str,
        outputs_toml: &str,
        lidar_port: u16,
        v2x_port: u16,
        data: &Path,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let extra_toml = extra_toml.replace("{dir}", &dir.path().display().to_string());
        let config = format!(
            r#"
[run]
truck_id = "truck-test"
health_period_ms = 50
ego_pose_site = {{ x_m = 0.0, y_m = 0.0, z_m = 0.0 }}
{run_toml}

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
{outputs_toml}

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
            // PITSENSE_TEST_LOG (a RUST_LOG filter) shows the runtime's logs when debugging a test.
            .env("RUST_LOG", std::env::var("PITSENSE_TEST_LOG").unwrap_or_else(|_| "warn".into()))
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
    let capture = os2_capture(&data);
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
    let objects: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let (lost, frames): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) =
        objects.iter().partition(|frame| frame["degraded"] == "lidar_lost");
    let frames = frames.len();
    assert!(
        (38..=40).contains(&frames),
        "{frames} lidar frames published; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "frames: {} published ({} while the lidar was lost)",
            objects.len(),
            lost.len()
        )),
        "{stdout}"
    );
    // Without the lidar, V2X keeps the RSU's person published: a frame per lidar period on the
    // clock during the outage (and before the first rotation), each with the V2X object once it
    // is tracked (from the first frame with the lidar on).
    let first_with_lidar = objects.iter().position(|frame| frame.get("degraded").is_none()).unwrap();
    let outage: Vec<&serde_json::Value> =
        objects[first_with_lidar..].iter().filter(|frame| frame["degraded"] == "lidar_lost").collect();
    assert!(outage.len() >= 3, "{} frames during the outage", outage.len());
    for frame in &outage {
        assert!(
            frame["objects"].as_array().unwrap().iter().any(|o| o["source"] == "v2x"),
            "no V2X object without the lidar: {frame}"
        );
    }
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
    let capture = os2_capture(&data);
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
    // `pitsense replay` of the capture: the same graph behind the offline front.
    let front_out = replay_dir.path().join("front");
    let front = Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .arg("replay")
        .arg(&pcap)
        .arg("--metadata")
        .arg(data.join("lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json"))
        .args(["--config"])
        .arg(&config)
        .arg("--data-root")
        .arg(&data)
        .arg("--out")
        .arg(&front_out)
        .output()
        .unwrap();
    assert_eq!(front.status.code(), Some(0), "{}", String::from_utf8_lossy(&front.stderr));
    assert!(
        String::from_utf8_lossy(&front.stdout).contains(&format!("frames: {PASSES} processed")),
        "{}",
        String::from_utf8_lossy(&front.stdout)
    );

    // Every packet arrived (a loaded machine delays packets in the socket's buffer, it must not
    // lose them): the live input is the recording.
    let live_stdout = String::from_utf8_lossy(&live.stdout);
    assert!(live_stdout.contains(&format!("lidar 0: {} packets, 0 lost", PASSES * 64)), "{live_stdout}");
    let live_objects = std::fs::read(live_dir.path().join("objects.jsonl")).unwrap();
    let replay_objects = std::fs::read(replay_dir.path().join("objects.jsonl")).unwrap();
    let frames = live_objects.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(frames as u64, PASSES, "one frame per rotation played");
    assert!(live_objects == replay_objects, "live and replay objects differ");
    let front_objects = std::fs::read(front_out.join("objects.jsonl")).unwrap();
    assert!(front_objects == replay_objects, "`pitsense replay` and `pitsense run --replay` objects differ");
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// NMEA 0183 sentence with its checksum (XOR of the body's bytes, two hex digits).
fn nmea(body: &str) -> String {
    let checksum = body.bytes().fold(0_u8, |acc, b| acc ^ b);
    format!("${body}*{checksum:02X}\r\n")
}

/// `ddmm.mmmmmmm` (or `dddmm…`) and the hemisphere of a signed angle in degrees.
fn nmea_angle(value_deg: f64, degree_digits: usize, hemispheres: [char; 2]) -> String {
    let magnitude = value_deg.abs();
    let degrees = magnitude.floor();
    let minutes = (magnitude - degrees) * 60.0;
    let hemisphere = if value_deg >= 0.0 { hemispheres[0] } else { hemispheres[1] };
    format!("{:0width$}{minutes:010.7},{hemisphere}", degrees as u32, width = degree_digits)
}

/// `pitsense run` with every real input and output but the camera: the lidar stream over UDP,
/// V2X over UDP, vehicle CAN as cannelloni over UDP (with an unknown id and a garbage
/// datagram), NMEA over UDP (with a bad checksum), zenoh outputs read by the Python
/// `eclipse-zenoh` client (CDR decoded by `rosbags`), and the CAN output received as cannelloni
/// and decoded with the shipped DBC.
#[test]
fn live_can_gnss_inputs_and_zenoh_can_outputs() {
    use pitsense_runtime::can::{Dbc, decode_cannelloni, encode_cannelloni};
    use pitsense_types::CanFrame;
    use std::collections::BTreeMap;

    let Some((data, python)) = data_root_and_python() else { return };
    let capture = os2_capture(&data);
    let dbc_path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/truck.dbc"));
    let dbc = Dbc::from_file(&dbc_path).unwrap();
    let (lidar_port, v2x_port, can_port, gnss_port) =
        (free_udp_port(), free_udp_port(), free_udp_port(), free_udp_port());
    let can_out = UdpSocket::bind("127.0.0.1:0").unwrap();
    can_out.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let can_out_port = can_out.local_addr().unwrap().port();
    let zenoh_port = free_tcp_port();
    // The site origin 100 m south of the truck's antenna: the fixes below put the truck at
    // (0, 100) in the site frame, heading north.
    let (origin_lat_deg, origin_lon_deg) = (42.301007, -83.698766);
    let extra = format!(
        r#"
[run.inputs.can]
bus = "udp:127.0.0.1:{can_port}"
dbc_path = "{dbc}"
health = {{ nominal_rate_hz = 10.0, stale_after_periods = 4.0 }}

[run.inputs.gnss]
source = "udp:127.0.0.1:{gnss_port}"
health = {{ nominal_rate_hz = 10.0, stale_after_periods = 4.0 }}
ego = {{ site_origin = {{ lat_deg = {origin_lat_deg}, lon_deg = {origin_lon_deg}, height_m = 250.0 }}, truck_from_gnss = {{ x_m = 0.0, y_m = 0.0, z_m = 0.0, yaw_rad = 0.0 }} }}

[run.outputs.zenoh]
listen = ["tcp/127.0.0.1:{zenoh_port}"]
frame_id = "map"

[run.outputs.can]
bus = "udp:127.0.0.1:0?peer=127.0.0.1:{can_out_port}"
dbc_path = "{dbc}"
send_period_ms = 100
"#,
        dbc = dbc_path.display(),
    );
    let mut runtime = Runtime::start(&extra, lidar_port, v2x_port, &data);
    runtime.wait_ready();

    // The independent zenoh client, subscribed before the traffic starts.
    let msg_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/msg"));
    let subscriber = Command::new(&python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zenoh_subscriber.py"))
        .arg(format!("tcp/127.0.0.1:{zenoh_port}"))
        .arg("truck-test")
        .arg(&msg_dir)
        .arg("20")
        .env("PITSENSE_MIN_OBJECTS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // GNSS (GGA + HDT), CAN (speed 36 km/h, an unknown id, garbage) and V2X at 10 Hz.
    let stop = Arc::new(AtomicBool::new(false));
    let feeder_stop = Arc::clone(&stop);
    let sdsm = sdsm_bytes(&data);
    let speed = dbc
        .encode(
            "TRUCK_WHEEL_SPEED",
            &BTreeMap::from([
                ("ParkingBrakeSet".to_owned(), 0.0),
                ("WheelBasedSpeed".to_owned(), 36.0),
                ("CruiseControlActive".to_owned(), 0.0),
            ]),
        )
        .unwrap()
        .into_can_frame(0, "test");
    let unknown =
        CanFrame { stamp_ns: 0, bus: "test".into(), can_id: 0x123, extended: false, data: vec![1, 2] };
    let feeder = std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let north_deg = origin_lat_deg + (100.0 / 6_368_000.0_f64).to_degrees();
        let (lat, lon) = (nmea_angle(north_deg, 2, ['N', 'S']), nmea_angle(origin_lon_deg, 3, ['E', 'W']));
        let mut tick = 0_u64;
        while !feeder_stop.load(std::sync::atomic::Ordering::SeqCst) {
            let seconds = tick as f64 * 0.1;
            let gga =
                nmea(&format!("GNGGA,1200{seconds:05.2},{lat},{lon},4,20,0.6,250.000,M,0.000,M,1.0,0001"));
            let hdt = if tick % 10 == 5 { "$GNHDT,0.000,T*00\r\n".to_owned() } else { nmea("GNHDT,0.000,T") };
            socket.send_to(format!("{gga}{hdt}").as_bytes(), ("127.0.0.1", gnss_port)).unwrap();
            let frames =
                if tick % 10 == 3 { vec![speed.clone(), unknown.clone()] } else { vec![speed.clone()] };
            let datagram = encode_cannelloni((tick % 256) as u8, &frames).unwrap();
            socket.send_to(&datagram, ("127.0.0.1", can_port)).unwrap();
            if tick % 10 == 7 {
                socket.send_to(b"\x02garbage", ("127.0.0.1", can_port)).unwrap();
            }
            socket.send_to(&sdsm, ("127.0.0.1", v2x_port)).unwrap();
            tick += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        tick
    });
    // The CAN output, collected while the lidar plays.
    let can_stop = Arc::clone(&stop);
    let can_reader = std::thread::spawn(move || {
        let mut frames = Vec::new();
        let mut buffer = [0_u8; 1500];
        while !can_stop.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok((length, _)) = can_out.recv_from(&mut buffer) {
                frames.extend(decode_cannelloni(&buffer[..length], 0, "out").unwrap().1);
            }
        }
        frames
    });
    std::thread::sleep(Duration::from_millis(500));
    let lidar_addr = format!("127.0.0.1:{lidar_port}").parse().unwrap();
    let never = Arc::new(AtomicBool::new(false));
    capture.play(lidar_addr, 30, &never).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let ticks = feeder.join().unwrap();
    let can_frames = can_reader.join().unwrap();
    let subscribed = subscriber.wait_with_output().unwrap();
    let (code, stdout, stderr, dir) = runtime.terminate();
    assert_eq!(code, Some(143), "stderr:\n{stderr}");

    // Counted bad input: one unknown id (ticks 3, 13, ...) and one garbage datagram (ticks 7,
    // 17, ...) per second on CAN, one bad checksum (ticks 5, 15, ...) per second on GNSS.
    assert!(stdout.contains(&format!("{} unknown ids", (ticks + 6) / 10)), "{stdout}");
    assert!(stdout.contains(&format!("{} bad checksum", (ticks + 4) / 10)), "{stdout}");
    assert!(stdout.contains(&format!("input can: {} malformed", (ticks + 2) / 10)), "{stdout}");

    // Health: every input reported; nominal once the lidar plays (GNSS gives the pose).
    let health = health_lines(dir.path());
    assert!(
        health.iter().all(|h| ["lidar", "v2x", "can", "gnss"].iter().all(|i| h["inputs"][i].is_object()))
    );
    assert!(health.iter().any(|h| h["mode"] == "nominal"), "never nominal");

    // zenoh: the objects decode with rosbags and re-serialize to the same bytes, in the map
    // frame; the health and latency are JSON.
    let text = String::from_utf8_lossy(&subscribed.stdout);
    assert!(
        subscribed.status.success(),
        "subscriber: {text}\n{}",
        String::from_utf8_lossy(&subscribed.stderr)
    );
    let received: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    let objects = &received["received"]["objects"];
    assert_eq!(objects["frame_id"], "map");
    assert_eq!(objects["rosbags_reserialized_equal"], true);
    // Tracks are in the site frame: the lidar sees them around the truck at (0, 100).
    for object in objects["objects"].as_array().unwrap() {
        let position = object["position"].as_array().unwrap();
        let (x, y) = (position[0].as_f64().unwrap(), position[1].as_f64().unwrap());
        assert!(x.abs() < 200.0 && (y - 100.0).abs() < 200.0, "object at ({x}, {y})");
    }
    let health_sample = &received["received"]["health"]["json"];
    assert!(health_sample["inputs"]["gnss"].is_object(), "{health_sample}");
    let latency = &received["received"]["latency"]["json"];
    assert!(latency["end_to_end_ms"].as_f64().unwrap() >= 0.0, "{latency}");
    assert!(latency["stages_ms"]["lidar"].is_f64() && latency["stages_ms"]["fusion"].is_f64(), "{latency}");

    // CAN output: health frames at 10 Hz with the mode and the input statuses, objects after
    // each, all decoding with the DBC.
    let decoded: Vec<_> = can_frames.iter().map(|f| dbc.decode(f).unwrap().unwrap()).collect();
    let health_frames: Vec<_> = decoded.iter().filter(|m| m.name == "PITSENSE_HEALTH").collect();
    assert!(health_frames.len() >= 20, "{} health frames", health_frames.len());
    let nominal = health_frames
        .iter()
        .filter(|m| m.signals["DegradedMode"] == 0.0 && m.signals["LidarStatus"] == 0.0)
        .count();
    assert!(nominal >= 10, "{nominal} nominal health frames on CAN");
    let object_frames = decoded.iter().filter(|m| m.name == "PITSENSE_OBJECT").count();
    assert!(object_frames > 0, "no object on CAN");
    assert!(health_frames.iter().all(|m| m.signals["GnssStatus"] <= 4.0 && m.signals["CameraStatus"] == 7.0));
}

/// The shipped loopback example parses and validates, with every input (lidar, camera, V2X, CAN,
/// GNSS) and both network outputs.
#[test]
fn loopback_example_is_valid() {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/examples/loopback.toml"));
    let config = pitsense_runtime::config::PitsenseConfig::load(Some(&path)).unwrap();
    config.validate().unwrap();
    let run = config.run.unwrap();
    run.validate().unwrap();
    assert!(run.inputs.lidar.is_some() && run.inputs.v2x.is_some());
    assert!(run.inputs.can.is_some() && run.inputs.gnss.is_some() && run.inputs.camera.is_some());
    let zenoh = run.zenoh_outputs().unwrap();
    assert_eq!(zenoh.truck_id, "truck-01");
    assert_eq!(zenoh.listen, ["tcp/127.0.0.1:7447"]);
    assert!(run.outputs.can.is_some());
}

/// The camera section: KITTI's left colour camera intrinsics (object 000000's `P2`) on the
/// cropped 1224×370 images, its optical frame (x right, y down, z forward) at the lidar.
#[cfg(feature = "camera-opencv")]
fn camera_toml(source: &str) -> String {
    format!(
        r#"
[run.inputs.camera]
source = "{source}"
intrinsics = {{ fx_px = 721.5377, fy_px = 721.5377, cx_px = 609.5593, cy_px = 172.854, width_px = 1224, height_px = 370 }}
truck_from_camera = {{ x_m = 2.0, y_m = 0.0, z_m = 4.5, roll_rad = -1.5707963267948966, pitch_rad = 0.0, yaw_rad = -1.5707963267948966 }}
health = {{ nominal_rate_hz = 10.0, stale_after_periods = 3.0 }}
"#
    )
}

/// Writes `dir/camera.avi`, `frames` frames at 10 fps with OpenCV's `VideoWriter`: KITTI object
/// images `000000` .. `images - 1` in turn, cropped to 1224×370 (their common top-left part).
#[cfg(feature = "camera-opencv")]
fn kitti_video(data: &Path, dir: &Path, images: usize, frames: usize) -> PathBuf {
    let images: Vec<pitsense_types::Image> = (0..images)
        .map(|index| {
            let path = data.join(format!("kitti/object/training/image_2/{index:06}.png"));
            let header =
                pitsense_types::Header { stamp_ns: 0, frame: pitsense_types::FrameId::Camera(0), seq: 0 };
            let image = pitsense_imaging::read_image(&path, header, 0).unwrap();
            pitsense_imaging::crop_top_left(&image, 1224, 370).unwrap()
        })
        .collect();
    let frames: Vec<pitsense_types::Image> = (0..frames).map(|i| images[i % images.len()].clone()).collect();
    let video = dir.join("camera.avi");
    assert_eq!(pitsense_imaging::camera::write_video(&video, &frames, 10.0).unwrap(), frames.len() as u64);
    video
}

/// Plays the lidar for `passes` rotations with V2X at 10 Hz beside it; stops the runtime.
fn play_lidar_and_v2x(
    runtime: Runtime,
    capture: &OusterLoop,
    lidar_port: u16,
    v2x_port: u16,
    data: &Path,
    passes: u64,
) -> (Option<i32>, String, String, tempfile::TempDir) {
    play_with_v2x(capture, lidar_port, v2x_port, data, passes, Duration::from_millis(300));
    runtime.terminate()
}

/// Plays the lidar for `passes` rotations with V2X at 10 Hz beside it, the V2X going on for
/// `after_lidar` once the lidar stopped; returns when the lidar stopped (system clock, ns).
fn play_with_v2x(
    capture: &OusterLoop,
    lidar_port: u16,
    v2x_port: u16,
    data: &Path,
    passes: u64,
    after_lidar: Duration,
) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let v2x_stop = Arc::clone(&stop);
    let sdsm = sdsm_bytes(data);
    let v2x = std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        while !v2x_stop.load(std::sync::atomic::Ordering::SeqCst) {
            socket.send_to(&sdsm, ("127.0.0.1", v2x_port)).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let lidar_addr = format!("127.0.0.1:{lidar_port}").parse().unwrap();
    let never = Arc::new(AtomicBool::new(false));
    capture.play(lidar_addr, passes, &never).unwrap();
    let lidar_stopped_ns =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    std::thread::sleep(after_lidar);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    v2x.join().unwrap();
    lidar_stopped_ns
}

/// A camera from a video file (written here with OpenCV's `VideoWriter` from the KITTI images)
/// beside the lidar: the camera is `ok` and the mode `nominal` while it plays; when the file
/// ends the camera goes `stale` and the mode `camera_lost` while the lidar keeps tracking. A
/// camera that cannot open starts as `failed`, naming the source, and the others go on.
#[cfg(feature = "camera-opencv")]
#[test]
fn live_camera_from_a_video_file_then_lost_and_a_camera_that_cannot_open() {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        eprintln!("skipped: ORT_DYLIB_PATH is unset (./x test sets it)");
        return;
    }
    let capture = os2_capture(&data);
    // 1.5 s of video at 10 fps: the three KITTI object images, cycled.
    let video_dir = tempfile::tempdir().unwrap();
    let video = kitti_video(&data, video_dir.path(), 3, 15);

    let (lidar_port, v2x_port) = (free_udp_port(), free_udp_port());
    let mut runtime =
        Runtime::start(&camera_toml(&format!("file:{}", video.display())), lidar_port, v2x_port, &data);
    runtime.wait_ready();
    let (code, stdout, stderr, dir) = play_lidar_and_v2x(runtime, &capture, lidar_port, v2x_port, &data, 30);
    assert_eq!(code, Some(143), "stderr:\n{stderr}");
    assert!(stdout.contains("input camera: 0 malformed"), "{stdout}");
    let health = health_lines(dir.path());
    let nominal_with_camera =
        health.iter().filter(|h| h["mode"] == "nominal" && status_of(h, "camera") == "ok").count();
    assert!(nominal_with_camera > 0, "never nominal with the camera; stderr:\n{stderr}");
    let lost: Vec<_> = health.iter().filter(|h| h["mode"] == "camera_lost").collect();
    assert!(!lost.is_empty(), "the camera's end was not noticed");
    let first_lost = health.iter().position(|h| h["mode"] == "camera_lost").unwrap();
    let first_ok = health.iter().position(|h| status_of(h, "camera") == "ok").unwrap();
    assert!(first_ok < first_lost, "camera lost before it played");
    assert!(lost.iter().all(|h| status_of(h, "lidar") == "ok" || status_of(h, "lidar") == "not_received"));
    let objects = std::fs::read_to_string(dir.path().join("objects.jsonl")).unwrap();
    assert!(objects.lines().count() >= 25, "{} frames", objects.lines().count());

    // A camera that cannot open: failed, named; the lidar goes on.
    let missing = video_dir.path().join("no-such-camera.avi");
    let (lidar_port, v2x_port) = (free_udp_port(), free_udp_port());
    let mut runtime =
        Runtime::start(&camera_toml(&format!("file:{}", missing.display())), lidar_port, v2x_port, &data);
    runtime.wait_ready();
    let (code, _stdout, stderr, dir) = play_lidar_and_v2x(runtime, &capture, lidar_port, v2x_port, &data, 10);
    assert_eq!(code, Some(143), "stderr:\n{stderr}");
    let health = health_lines(dir.path());
    let while_lidar_ok: Vec<_> = health.iter().filter(|h| status_of(h, "lidar") == "ok").collect();
    assert!(!while_lidar_ok.is_empty(), "the lidar never played");
    for report in while_lidar_ok {
        assert_eq!(status_of(report, "camera"), "failed", "{report}");
        assert_eq!(report["mode"], "camera_lost", "{report}");
    }
    assert!(stderr.contains("no-such-camera.avi"), "the failure names the source: {stderr}");
    let objects = std::fs::read_to_string(dir.path().join("objects.jsonl")).unwrap();
    assert!(objects.lines().count() >= 8, "{} frames", objects.lines().count());
}

/// `pitsense replay` of a lidar capture with the video recorded beside it: the camera runs in
/// the graph on the recording's clock (frames stamped from the capture's first packet plus their
/// position in the file), every lidar frame waits for the detector's result nearest in stamp,
/// and two replays give the same bytes.
#[cfg(feature = "camera-opencv")]
#[test]
fn replay_of_a_capture_with_its_video_pairs_the_camera_and_is_deterministic() {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        eprintln!("skipped: ORT_DYLIB_PATH is unset (./x test sets it)");
        return;
    }
    let capture = os2_capture(&data);
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("stream.pcap");
    capture.write_pcap(&pcap, 10, 7502).unwrap();
    // 10 frames at 10 fps: KITTI object 000000 (one person, YOLOX-Nano's reference detection)
    // and 000001 (none) alternating.
    let video = kitti_video(&data, dir.path(), 2, 10);
    let config = dir.path().join("replay.toml");
    // The camera's intrinsics and extrinsics (its source is the --video file).
    std::fs::write(&config, format!("[run]\n{}", camera_toml("file:unused"))).unwrap();
    let replay = |out: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_pitsense"))
            .arg("replay")
            .arg(&pcap)
            .arg("--metadata")
            .arg(data.join("lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json"))
            .arg("--video")
            .arg(&video)
            .arg("--config")
            .arg(&config)
            .arg("--data-root")
            .arg(&data)
            .arg("--out")
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        (stdout, std::fs::read(dir.path().join(out).join("objects.jsonl")).unwrap())
    };
    let (stdout, first) = replay("first");
    let (_, second) = replay("second");
    assert!(first == second, "two replays differ");
    assert!(stdout.contains("frames: 10 processed"), "{stdout}");
    // Rotation k completes 100 ms × (k + 1) after the first packet, nearest to video frame
    // k + 1 (within 50 ms); the last rotation's (frame 10) is past the video's end: 9 frames
    // paired, detections on the 000000 frames among video frames 1..=9 (2, 4, 6, 8): 4 in 10.
    assert!(stdout.contains("camera detections per frame: mean 0.4"), "{stdout}");

    // Recording: the video's frames arrive decoded, so the camera task JPEG-encodes them for the
    // episode (`recorder.camera_jpeg_quality`). Every one of the 10 frames is in it, 1224 × 370,
    // within a few grey levels of the KITTI image it was made from (video codec and JPEG are
    // both lossy: mean absolute difference below 6 of 255).
    std::fs::write(
        &config,
        format!(
            "[run]\n{}\n[recorder]\nenabled = true\ncamera_jpeg_quality = 90\n\
             [recorder.triggers]\nmanual = false\nv2x_only = false\nperiodic_s = 0.05\n\
             [recorder.triggers.low_confidence]\nenabled = false\n\
             [recorder.triggers.camera_lidar_disagreement]\nenabled = false\n\
             [recorder.triggers.hard_braking]\nenabled = false\n",
            camera_toml("file:unused")
        ),
    )
    .unwrap();
    let (stdout, _) = replay("recorded");
    let episodes: Vec<PathBuf> = std::fs::read_dir(dir.path().join("recorded/episodes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "mcap"))
        .collect();
    let originals: Vec<pitsense_types::Image> = (0..2)
        .map(|index| {
            let path = data.join(format!("kitti/object/training/image_2/{index:06}.png"));
            let header =
                pitsense_types::Header { stamp_ns: 0, frame: pitsense_types::FrameId::Camera(0), seq: 0 };
            pitsense_imaging::crop_top_left(
                &pitsense_imaging::read_image(&path, header, 0).unwrap(),
                1224,
                370,
            )
            .unwrap()
        })
        .collect();
    let mut images = Vec::new();
    for episode in &episodes {
        for read in pitsense_cloud_link::EpisodeReader::open(episode).unwrap() {
            if let pitsense_cloud_link::EpisodeMessage::CompressedImage(image) = read.unwrap().message {
                images.push(image);
            }
        }
    }
    images.sort_by_key(|image| image.header.stamp_ns);
    images.dedup_by_key(|image| image.header.stamp_ns);
    assert_eq!(images.len(), 10, "{episodes:?}\n{stdout}");
    for (index, image) in images.iter().enumerate() {
        assert_eq!(image.format, "jpeg");
        let decoded = pitsense_imaging::decode_image(&image.data, "episode", image.header, 0).unwrap();
        assert_eq!((decoded.width_px, decoded.height_px), (1224, 370));
        let original = &originals[index % 2];
        let difference: u64 =
            decoded.data().iter().zip(original.data()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        let mean = difference as f64 / original.data().len() as f64;
        assert!(mean < 6.0, "frame {index}: mean absolute difference {mean}");
    }
}

/// SIGTERM in the middle of an episode (opened by the health transition to `nominal`, its
/// post-roll still running) leaves a valid MCAP with every frame's messages up to the stop,
/// read back by the Python `mcap` package.
#[test]
fn sigterm_mid_episode_leaves_a_valid_mcap_with_every_frame() {
    let Some((data, python)) = data_root_and_python() else { return };
    let capture = os2_capture(&data);
    // Only the health rule: the V2X-only person (published while the lidar is not yet there) would
    // otherwise open the episode first.
    let recorder = r#"
[recorder]
episode_dir = "{dir}/episodes"
pre_roll_s = 30.0
post_roll_s = 60.0
[recorder.triggers]
v2x_only = false
"#;
    let (lidar_port, v2x_port) = (free_udp_port(), free_udp_port());
    let mut runtime = Runtime::start_with(recorder, "episodes = true", lidar_port, v2x_port, &data);
    runtime.wait_ready();
    let (code, stdout, stderr, dir) = play_lidar_and_v2x(runtime, &capture, lidar_port, v2x_port, &data, 20);
    assert_eq!(code, Some(143), "stderr:\n{stderr}");
    assert!(stdout.contains("health: nominal"), "the transition to nominal opened an episode: {stdout}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // Frames with the lidar carry a cloud; those published while it was lost (V2X only) do not.
    let frames = lines.iter().filter(|frame| frame.get("degraded").is_none()).count();
    assert!(frames >= 19, "{frames} frames");

    let episodes: Vec<PathBuf> = std::fs::read_dir(dir.path().join("episodes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "mcap"))
        .collect();
    assert_eq!(episodes.len(), 1, "{episodes:?}\n{stdout}");
    let script = r#"
import json, sys
from collections import Counter
from mcap.reader import make_reader
with open(sys.argv[1], "rb") as f:
    reader = make_reader(f)
    summary = reader.get_summary()
    counts = Counter(channel.topic for _, channel, _ in reader.iter_messages())
    f.seek(0)
    metadata = {m.name: dict(m.metadata) for m in make_reader(f).iter_metadata()}
print(json.dumps({"summary": summary is not None, "counts": counts, "metadata": metadata}))
"#;
    let output = Command::new(&python).arg("-c").arg(script).arg(&episodes[0]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let read: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read["summary"], true, "the episode has its summary: closed cleanly");
    // Every frame published before the stop is in the episode (the pre-roll covers the start).
    assert_eq!(read["counts"]["/tracks"].as_u64().unwrap() as usize, lines.len(), "{read}");
    assert_eq!(read["counts"]["/lidar0/points"].as_u64().unwrap() as usize, frames, "{read}");
    let episode = &read["metadata"]["pitsense.episode"];
    assert_eq!(episode["truck_id"], "truck-test", "{read}");
    assert!(episode["trigger_reason"].as_str().unwrap().contains("health: nominal"), "{read}");
}

/// Health, input by input: with the lidar streaming, V2X, vehicle CAN and GNSS each fall silent
/// for a second in turn. Each one's status leaves `ok` within its configured stale time (CAN and
/// GNSS: two periods at 10 Hz; V2X: five, as `Runtime::start` configures the RSU) plus one health
/// report, measured from the last datagram sent on the same system clock the health reports carry; the mode follows (`v2x_lost`, `ego_pose_lost`; CAN
/// feeds dead reckoning only: named in the reason, the mode stays `nominal`), frames keep coming
/// from the lidar, and once the input is back the mode is `nominal` with every input `ok`.
#[test]
fn each_asynchronous_input_stopped_in_turn_is_noticed_and_recovers() {
    use pitsense_runtime::can::{Dbc, encode_cannelloni};
    use std::collections::BTreeMap;

    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    let capture = os2_capture(&data);
    let dbc_path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/truck.dbc"));
    let dbc = Dbc::from_file(&dbc_path).unwrap();
    let (lidar_port, v2x_port, can_port, gnss_port) =
        (free_udp_port(), free_udp_port(), free_udp_port(), free_udp_port());
    let (origin_lat_deg, origin_lon_deg) = (42.301007, -83.698766);
    let extra = format!(
        r#"
[run.inputs.can]
bus = "udp:127.0.0.1:{can_port}"
dbc_path = "{dbc}"
health = {{ nominal_rate_hz = 10.0, stale_after_periods = 2.0 }}

[run.inputs.gnss]
source = "udp:127.0.0.1:{gnss_port}"
health = {{ nominal_rate_hz = 10.0, stale_after_periods = 2.0 }}
ego = {{ site_origin = {{ lat_deg = {origin_lat_deg}, lon_deg = {origin_lon_deg}, height_m = 250.0 }}, truck_from_gnss = {{ x_m = 0.0, y_m = 0.0, z_m = 0.0, yaw_rad = 0.0 }} }}
"#,
        dbc = dbc_path.display(),
    );
    let mut runtime = Runtime::start(&extra, lidar_port, v2x_port, &data);
    runtime.wait_ready();

    let speed = dbc
        .encode(
            "TRUCK_WHEEL_SPEED",
            &BTreeMap::from([
                ("ParkingBrakeSet".to_owned(), 0.0),
                ("WheelBasedSpeed".to_owned(), 0.0),
                ("CruiseControlActive".to_owned(), 0.0),
            ]),
        )
        .unwrap()
        .into_can_frame(0, "test");
    let sdsm = sdsm_bytes(&data);
    let stop = Arc::new(AtomicBool::new(false));
    let feeder_stop = Arc::clone(&stop);
    // 10 Hz ticks; ticks 15..25 without V2X, 35..45 without CAN, 55..65 without GNSS. Returns,
    // per input, the system-clock time of the last datagram before its gap.
    let feeder = std::thread::spawn(move || {
        let now_ns =
            || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (lat, lon) =
            (nmea_angle(origin_lat_deg, 2, ['N', 'S']), nmea_angle(origin_lon_deg, 3, ['E', 'W']));
        let mut last_before_gap: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        let mut tick = 0_u64;
        while !feeder_stop.load(std::sync::atomic::Ordering::SeqCst) {
            for (input, gap_start) in [("v2x", 15), ("can", 35), ("gnss", 55)] {
                if (gap_start..gap_start + 10).contains(&tick) {
                    continue;
                }
                match input {
                    "v2x" => socket.send_to(&sdsm, ("127.0.0.1", v2x_port)).unwrap(),
                    "can" => socket
                        .send_to(
                            &encode_cannelloni((tick % 256) as u8, std::slice::from_ref(&speed)).unwrap(),
                            ("127.0.0.1", can_port),
                        )
                        .unwrap(),
                    _ => {
                        let seconds = tick as f64 * 0.1;
                        let gga = nmea(&format!(
                            "GNGGA,1200{seconds:05.2},{lat},{lon},4,20,0.6,250.000,M,0.000,M,1.0,0001"
                        ));
                        socket
                            .send_to(
                                format!("{gga}{}", nmea("GNHDT,0.000,T")).as_bytes(),
                                ("127.0.0.1", gnss_port),
                            )
                            .unwrap()
                    }
                };
                if tick + 1 == gap_start {
                    last_before_gap.insert(input, (now_ns(), 0));
                }
                if tick == gap_start + 10 {
                    last_before_gap.entry(input).and_modify(|(_, resumed)| *resumed = now_ns());
                }
            }
            tick += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        (tick, last_before_gap)
    });
    std::thread::sleep(Duration::from_millis(500));
    let never = Arc::new(AtomicBool::new(false));
    capture.play(format!("127.0.0.1:{lidar_port}").parse().unwrap(), 75, &never).unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (ticks, gaps) = feeder.join().unwrap();
    let (code, stdout, stderr, dir) = runtime.terminate();
    assert_eq!(code, Some(143), "stderr:\n{stderr}");
    assert!(ticks >= 70, "the feeder ran {ticks} ticks: {stdout}");
    let health = health_lines(dir.path());
    let objects: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for (input, mode, stale_ms) in
        [("v2x", "v2x_lost", 500.0), ("can", "nominal", 200.0), ("gnss", "ego_pose_lost", 200.0)]
    {
        let (last_sent_ns, resumed_ns) = gaps[input];
        assert!(resumed_ns > last_sent_ns, "{input}: the gap was not played: {gaps:?}");
        let stamp = |report: &serde_json::Value| report["stamp_ns"].as_u64().unwrap();
        let noticed = health
            .iter()
            .find(|report| stamp(report) > last_sent_ns && status_of(report, input) != "ok")
            .unwrap_or_else(|| panic!("{input}: never left ok after its last message"));
        let detection_ms = (stamp(noticed) - last_sent_ns) as f64 * 1e-6;
        eprintln!(
            "{input}: {} after {detection_ms:.0} ms, mode {}",
            status_of(noticed, input),
            noticed["mode"]
        );
        // The stale time plus one health period (50 ms) and scheduling on a busy machine.
        assert!(detection_ms <= stale_ms + 150.0, "{input}: noticed after {detection_ms:.0} ms: {noticed}");
        let settled_ns = last_sent_ns + ((stale_ms + 150.0) * 1e6) as u64;
        let during: Vec<&serde_json::Value> =
            health.iter().filter(|report| stamp(report) > settled_ns && stamp(report) < resumed_ns).collect();
        assert!(!during.is_empty(), "{input}: no report during the gap");
        for report in &during {
            assert_ne!(status_of(report, input), "ok", "{report}");
            assert_eq!(report["mode"], mode, "{report}");
            assert!(report["reason"].as_str().unwrap().contains(input), "{report}");
        }
        // The lidar's frames go on through the gap.
        let frames_in_gap = objects
            .iter()
            .filter(|frame| {
                let stamp_ns = frame["stamp_ns"].as_u64().unwrap();
                stamp_ns > last_sent_ns && stamp_ns < resumed_ns
            })
            .count();
        assert!(frames_in_gap >= 5, "{input}: {frames_in_gap} frames during its gap");
        // Back: nominal with every input ok within a second of the first message.
        let back = health.iter().find(|report| {
            stamp(report) > resumed_ns
                && report["mode"] == "nominal"
                && ["lidar", "v2x", "can", "gnss"].iter().all(|name| status_of(report, name) == "ok")
        });
        let back = back.unwrap_or_else(|| panic!("{input}: never nominal again"));
        assert!(stamp(back) - resumed_ns < 1_000_000_000, "{input}: nominal only at {back}");
    }
}

/// `lidar_lost`: the lidar plays for a second and stops while the camera (KITTI object 000000,
/// a person, on every frame of a video file) and V2X go on. The runtime keeps publishing, one
/// frame per camera image, flagged `"degraded": "lidar_lost"`; the person is tracked from the
/// camera alone, placed on the ground by the flat-ground range estimate, where the hand
/// computation from YOLOX-Nano's reference box puts it; the V2X person stays tracked too.
#[cfg(feature = "camera-opencv")]
#[test]
fn lidar_lost_keeps_tracks_from_the_camera_on_the_ground_and_v2x() {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        eprintln!("skipped: ORT_DYLIB_PATH is unset (./x test sets it)");
        return;
    }
    let capture = os2_capture(&data);
    let video_dir = tempfile::tempdir().unwrap();
    let video = kitti_video(&data, video_dir.path(), 1, 60);

    let (lidar_port, v2x_port) = (free_udp_port(), free_udp_port());
    let mut runtime =
        Runtime::start(&camera_toml(&format!("file:{}", video.display())), lidar_port, v2x_port, &data);
    runtime.wait_ready();
    let lidar_stopped_ns =
        play_with_v2x(&capture, lidar_port, v2x_port, &data, 10, Duration::from_millis(2_000));
    let (code, stdout, stderr, dir) = runtime.terminate();
    assert_eq!(code, Some(143), "stderr:\n{stderr}");

    let health = health_lines(dir.path());
    assert!(
        health
            .iter()
            .any(|h| h["stamp_ns"].as_u64().unwrap() > lidar_stopped_ns && h["mode"] == "lidar_lost"),
        "the lidar's end was not noticed"
    );
    let frames: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("objects.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let lost: Vec<&serde_json::Value> =
        frames.iter().filter(|f| f["stamp_ns"].as_u64().unwrap() > lidar_stopped_ns + 500_000_000).collect();
    // About 15 camera frames in the last 1.5 s; every one flagged.
    assert!(lost.len() >= 8, "{} frames after the lidar stopped: {stdout}", lost.len());
    for frame in &lost {
        assert_eq!(frame["degraded"], "lidar_lost", "{frame}");
    }
    assert!(frames.iter().any(|f| f.get("degraded").is_none()), "no frame with the lidar");
    // The reference box (708.3, 136.7)–(803.5, 301.2): its bottom centre (755.9, 301.2) is
    // 146.3 px right of and 128.3 px below the principal point (609.56, 172.85), f = 721.54 px.
    // The camera (optical axis forward, 4.5 m up, 2 m ahead of the truck's origin) sees that
    // ray reach the ground at t = 4.5 / (128.35 / 721.54) = 25.30 m: (27.30, -5.13, 0) in the
    // truck frame (= the site frame here); the centre lies half a person's length (0.42 m)
    // further along the ray, half its height (0.88 m) up: (27.71, -5.21, 0.88). The box on the
    // video frame (MJPG) moves by a pixel or two: about 0.2 m of range per pixel.
    let last = lost.last().unwrap();
    let person = last["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["source"] == "camera" && o["class"] == "pedestrian")
        .unwrap_or_else(|| panic!("no camera-only person in {last}"));
    let center: Vec<f64> =
        person["center_m"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!((center[0] - 27.71).abs() < 1.0 && (center[1] + 5.21).abs() < 0.3, "{center:?}");
    assert!((center[2] - 0.88).abs() < 0.3, "{center:?}");
    assert!(
        last["objects"].as_array().unwrap().iter().any(|o| o["source"] == "v2x"),
        "the V2X person is lost: {last}"
    );
}

/// The value of `field` in every message on `topic` of the MCAP file `path`, in log time
/// order, as the `mcap` and `mcap-protobuf-support` PyPI packages (an independent reader and
/// protobuf decoder) read them.
fn mcap_field(python: &std::ffi::OsStr, path: &Path, topic: &str, field: &str) -> serde_json::Value {
    let script = format!(
        "{}{}",
        pitsense_testkit::PYTHON_EPISODE_MESSAGES,
        r#"
import json, sys
print(json.dumps([body[sys.argv[3]] for _, _, _, body in episode_messages(sys.argv[1], [sys.argv[2]])]))
"#
    );
    let output = Command::new(python).arg("-c").arg(&script).arg(path).args([topic, field]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Measured and held ego poses reach the episode, and its replay gives the truck's objects.
///
/// Live: the lidar streams 4 s with an RSU's SDSM at 10 Hz; GNSS (GGA + HDT at 10 Hz, the
/// truck standing at (0, 100) in the site frame) starts after 1 s, stops for 1.4 s (longer than
/// dead reckoning's 500 ms and the 1 s fix gap) and comes back. Before the first fix and in the
/// gap the runtime holds its last pose and fuses no V2X; at the first fix it restarts the
/// tracker in the site frame. The whole run is one episode (the transition to `nominal` opens
/// it, the pre-roll covers the start). The episode's `/ego/state` messages, read with the
/// `mcap` Python package, say which poses were held; `pitsense replay` of the episode fuses no
/// V2X on a held pose and gives the live run's lidar tracks from the restart on.
#[test]
fn live_gnss_outage_held_poses_and_the_site_frame_restart_replay_from_the_episode() {
    use std::collections::BTreeMap;

    let Some((data, python)) = data_root_and_python() else { return };
    let capture = os2_capture(&data);
    let (lidar_port, v2x_port, gnss_port) = (free_udp_port(), free_udp_port(), free_udp_port());
    let (origin_lat_deg, origin_lon_deg) = (42.301007, -83.698766);
    let extra = format!(
        r#"
[run.inputs.gnss]
source = "udp:127.0.0.1:{gnss_port}"
health = {{ nominal_rate_hz = 10.0, stale_after_periods = 4.0 }}
ego = {{ site_origin = {{ lat_deg = {origin_lat_deg}, lon_deg = {origin_lon_deg}, height_m = 250.0 }}, truck_from_gnss = {{ x_m = 0.0, y_m = 0.0, z_m = 0.0, yaw_rad = 0.0 }} }}

[recorder]
episode_dir = "{{dir}}/episodes"
pre_roll_s = 30.0
post_roll_s = 60.0
[recorder.triggers]
v2x_only = false
"#
    );
    // Event time: each frame waits (at most 300 ms) for V2X and GNSS to pass its stamp, so the
    // messages fused with it are those received before it, as in replay.
    let run = "sync = \"event_time\"\ninput_wait_ms = 300";
    let mut runtime = Runtime::start_full(run, &extra, "episodes = true", lidar_port, v2x_port, &data);
    runtime.wait_ready();

    let stop = Arc::new(AtomicBool::new(false));
    let feeder_stop = Arc::clone(&stop);
    let sdsm = sdsm_bytes(&data);
    let feeder = std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let north_deg = origin_lat_deg + (100.0 / 6_368_000.0_f64).to_degrees();
        let (lat, lon) = (nmea_angle(north_deg, 2, ['N', 'S']), nmea_angle(origin_lon_deg, 3, ['E', 'W']));
        let mut tick = 0_u64;
        while !feeder_stop.load(std::sync::atomic::Ordering::SeqCst) {
            if (10..22).contains(&tick) || tick >= 36 {
                let seconds = tick as f64 * 0.1;
                let gga = nmea(&format!(
                    "GNGGA,1200{seconds:05.2},{lat},{lon},4,20,0.6,250.000,M,0.000,M,1.0,0001"
                ));
                let hdt = nmea("GNHDT,0.000,T");
                socket.send_to(format!("{gga}{hdt}").as_bytes(), ("127.0.0.1", gnss_port)).unwrap();
            }
            socket.send_to(&sdsm, ("127.0.0.1", v2x_port)).unwrap();
            tick += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let never = Arc::new(AtomicBool::new(false));
    capture.play(format!("127.0.0.1:{lidar_port}").parse().unwrap(), 45, &never).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    feeder.join().unwrap();
    let (code, stdout, stderr, dir) = runtime.terminate();
    assert_eq!(code, Some(143), "stderr:\n{stderr}");

    let episodes: Vec<PathBuf> = std::fs::read_dir(dir.path().join("episodes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "mcap"))
        .collect();
    assert_eq!(episodes.len(), 1, "{episodes:?}\n{stdout}");
    let live = std::fs::read_to_string(dir.path().join("objects.jsonl")).unwrap();

    // The poses as recorded, read with the mcap package: held before the first fix and in the
    // gap, measured in between and after.
    let held: Vec<bool> =
        serde_json::from_value(mcap_field(&python, &episodes[0], "/ego/state", "pose_held")).unwrap();
    // Runs of equal values: held, measured, held (the gap), measured.
    let runs: Vec<(bool, usize)> = held.iter().fold(Vec::new(), |mut runs, &value| {
        match runs.last_mut() {
            Some((last, count)) if *last == value => *count += 1,
            _ => runs.push((value, 1)),
        }
        runs
    });
    let pattern: Vec<bool> = runs.iter().map(|(value, _)| *value).collect();
    assert_eq!(pattern, [true, false, true, false], "runs of pose_held: {runs:?}");
    assert_eq!(held.len(), live.lines().count(), "one ego state per published frame");

    // The health reports at each mode change are in the episode (`/health`), as the catalog's
    // index reads them: the GNSS gap took the pose away and it came back.
    let modes: Vec<String> =
        serde_json::from_value(mcap_field(&python, &episodes[0], "/health", "mode")).unwrap();
    let index = pitsense_cloud_link::episode_index::EpisodeIndex::of_file(&episodes[0]).unwrap();
    assert_eq!(modes, index.health_events.iter().map(|event| event.mode.clone()).collect::<Vec<_>>());
    let gap = modes.iter().position(|mode| mode == "ego_pose_lost").unwrap_or_else(|| panic!("{modes:?}"));
    assert!(modes[gap..].contains(&"nominal".to_owned()), "the pose never came back: {modes:?}");
    assert!(index.v2x_only_tracks >= 1, "the RSU's person is only seen by V2X: {index:?}");

    // The episode replayed.
    let config = dir.path().join("replay.toml");
    std::fs::write(
        &config,
        "[replay]\nwrite_rrd = false\n[v2x.site_origin]\nlat_deg = 42.301007\nlon_deg = -83.698766\nheight_m = 250.0\n",
    )
    .unwrap();
    let again = dir.path().join("again");
    let replay = Command::new(env!("CARGO_BIN_EXE_pitsense"))
        .arg("replay")
        .arg(&episodes[0])
        .arg("--config")
        .arg(&config)
        .arg("--data-root")
        .arg(&data)
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap();
    assert!(replay.status.success(), "episode replay failed: {}", String::from_utf8_lossy(&replay.stderr));
    let replayed = std::fs::read_to_string(again.join("objects.jsonl")).unwrap();
    assert!(live.contains("\"source\":\"v2x\""), "V2X objects were fused live: {live}");
    // Replay follows the recorded flags: on a frame whose pose was held no V2X track is born
    // (V2X tracks born before a gap coast through it), and V2X tracks are published on
    // measured ones.
    let frames = |text: &str| -> Vec<serde_json::Value> {
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    };
    let (live_frames, replayed_frames) = (frames(&live), frames(&replayed));
    let held_at: BTreeMap<u64, bool> = live_frames
        .iter()
        .zip(&held)
        .map(|(frame, &held)| (frame["stamp_ns"].as_u64().unwrap(), held))
        .collect();
    let mut v2x_tracks_seen = std::collections::BTreeSet::new();
    let mut measured_with_v2x = 0;
    for frame in &replayed_frames {
        let stamp_ns = frame["stamp_ns"].as_u64().unwrap();
        let held =
            *held_at.get(&stamp_ns).unwrap_or_else(|| panic!("replay frame {stamp_ns} is not a live frame"));
        let v2x_ids: Vec<u64> = frame["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["source"] == "v2x")
            .map(|o| o["track_id"].as_u64().unwrap())
            .collect();
        for id in &v2x_ids {
            let born_here = v2x_tracks_seen.insert(*id);
            assert!(!(held && born_here), "replay fused V2X on a held pose at {stamp_ns} (track {id})");
        }
        measured_with_v2x += usize::from(!held && !v2x_ids.is_empty());
    }
    assert!(measured_with_v2x >= 10, "{measured_with_v2x} replayed frames with a measured pose and V2X");
    // Every frame the truck published is replayed at its stamp, those it made while the lidar
    // was not yet up (`lidar_lost`, driven by the clock with V2X configured) too: the episode
    // holds a `/detections_3d` without a cloud for each.
    let stamps_and_flags = |frames: &[serde_json::Value]| -> Vec<(u64, bool)> {
        frames.iter().map(|f| (f["stamp_ns"].as_u64().unwrap(), f["degraded"] == "lidar_lost")).collect()
    };
    let live_lost = live_frames.iter().filter(|f| f["degraded"] == "lidar_lost").count();
    assert!(live_lost >= 1, "no live frame without the lidar: the test no longer covers them");
    assert_eq!(stamps_and_flags(&replayed_frames), stamps_and_flags(&live_frames));

    // From the first measured pose on (the restart in the site frame: a fresh tracker in both
    // runs), every frame the lidar drove is replayed with the same lidar tracks (boxes and
    // classes; their ids may differ, as V2X tracks born in between take ids too). What V2X
    // gives is not compared: a live frame waits at most `input_wait_ms` for V2X, so under load
    // a datagram can miss the frame live that it makes in replay.
    let lidar_boxes = |frame: &serde_json::Value| -> Vec<String> {
        let mut boxes: Vec<String> = frame["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["source"] == "lidar")
            .map(|o| format!("{} {} {} {}", o["class"], o["center_m"], o["size_m"], o["yaw_rad"]))
            .collect();
        boxes.sort();
        boxes
    };
    let restart = held.iter().position(|&held| !held).unwrap();
    let live_lidar: Vec<&serde_json::Value> =
        live_frames[restart..].iter().filter(|frame| frame["degraded"] != "lidar_lost").collect();
    let first_stamp = &live_lidar[0]["stamp_ns"];
    let replayed_lidar: Vec<&serde_json::Value> = replayed_frames
        .iter()
        .skip_while(|frame| &frame["stamp_ns"] != first_stamp)
        .filter(|frame| frame["degraded"] != "lidar_lost")
        .collect();
    assert!(live_lidar.len() >= 30, "{} lidar frames after the restart", live_lidar.len());
    assert_eq!(live_lidar.len(), replayed_lidar.len(), "frames from the restart on");
    for (live_frame, replayed_frame) in live_lidar.iter().zip(&replayed_lidar) {
        assert_eq!(live_frame["stamp_ns"], replayed_frame["stamp_ns"]);
        assert_eq!(
            lidar_boxes(live_frame),
            lidar_boxes(replayed_frame),
            "at stamp {}",
            live_frame["stamp_ns"]
        );
    }
}
