//! The zenoh outputs read by an independent client: Python `eclipse-zenoh` subscribes over
//! loopback TCP, `rosbags`' typestore decodes the objects' CDR from the shipped `.msg` files,
//! and every field is compared with the hand-made tracks (expected values written out below).
//! Bounded in time: the subscriber gives up after 20 s, the test after 40 s.
//! Skipped (with a message) when `PITSENSE_PYTHON` is unset.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pitsense_runtime::outputs::tracked_objects::label;
use pitsense_runtime::outputs::{LatencyReport, ZenohMode, ZenohOutputs, ZenohOutputsConfig};
use pitsense_types::nalgebra::{Matrix6, Point3, Vector3};
use pitsense_types::{
    DegradedMode, FrameId, Header, HealthReport, InputHealth, InputStatus, ObjectSource, Track, TrackState,
};
use serde_json::{Value, json};

const TRUCK_ID: &str = "truck-test";
/// 2024-01-01T00:00:00.123456789 UTC.
const STAMP_NS: u64 = 1_704_067_200_123_456_789;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A symmetric covariance with every cross term set, so a transposed or shifted entry shows.
fn covariance(scale: f64) -> Matrix6<f64> {
    let mut p = Matrix6::zeros();
    let diagonal = [0.25, 0.36, 0.09, 1.5, 2.5, 0.2];
    for i in 0..6 {
        p[(i, i)] = diagonal[i] * scale;
    }
    for (i, j, value) in
        [(0, 1, 0.05), (0, 2, 0.01), (1, 2, -0.02), (3, 4, 0.4), (3, 5, 0.03), (4, 5, -0.05), (0, 3, 0.1)]
    {
        p[(i, j)] = value * scale;
        p[(j, i)] = value * scale;
    }
    p
}

fn track(
    track_id: u64,
    class_label: &str,
    center: [f64; 3],
    velocity: [f64; 3],
    yaw_rad: f64,
    scale: f64,
) -> Track {
    Track {
        header: Header { stamp_ns: STAMP_NS, frame: FrameId::Site, seq: 9 },
        track_id,
        state: TrackState {
            center_m: Point3::new(center[0], center[1], center[2]),
            velocity_mps: Vector3::new(velocity[0], velocity[1], velocity[2]),
            yaw_rad,
            size_m: Vector3::new(4.5 * scale, 1.9 * scale, 1.6 * scale),
        },
        covariance: covariance(scale),
        class_label: class_label.into(),
        score: 0.8125 / scale as f32,
        age_frames: 12,
        hits: 10,
        frames_since_update: 0,
        source: ObjectSource::Fused,
    }
}

fn tracks() -> Vec<Track> {
    vec![
        track(3, "car", [12.5, -3.25, 0.8], [2.0, 0.5, 0.0], 0.3, 1.0),
        track(17, "person", [-4.0, 7.75, 0.9], [-0.6, 1.1, 0.05], -2.0, 2.0),
        track(42, "unknown", [30.0, 0.0, 1.2], [0.0, 3.0, 0.0], std::f64::consts::FRAC_PI_2, 4.0),
        track(99, "Cyclist", [5.0, 5.0, 0.7], [4.0, 0.0, 0.0], std::f64::consts::PI, 1.0),
    ]
}

fn health() -> HealthReport {
    HealthReport {
        stamp_ns: STAMP_NS,
        mode: DegradedMode::CameraLost,
        reason: "camera: failed (video file missing)".into(),
        inputs: BTreeMap::from([
            (
                "camera".to_owned(),
                InputHealth {
                    status: InputStatus::Failed,
                    rate_hz: 0.0,
                    age_ms: None,
                    stamp_offset_ms: None,
                },
            ),
            (
                "lidar".to_owned(),
                InputHealth {
                    status: InputStatus::Ok,
                    rate_hz: 10.0,
                    age_ms: Some(12.5),
                    stamp_offset_ms: None,
                },
            ),
        ]),
        late_frames: 4,
        dropped: BTreeMap::from([("lidar_to_perception".to_owned(), 2), ("v2x_to_tracker".to_owned(), 0)]),
    }
}

fn latency() -> LatencyReport {
    LatencyReport {
        stamp_ns: STAMP_NS,
        stages_ms: BTreeMap::from([("lidar".to_owned(), 18.25), ("tracker".to_owned(), 1.5)]),
        end_to_end_ms: 31.75,
    }
}

fn f64s(value: &Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!((actual - expected).abs() <= 1e-12 * expected.abs().max(1.0), "{what}: {actual} != {expected}");
}

/// Checks one decoded object against the track it came from, with every expectation written
/// out by hand from the mapping in `outputs::tracked_objects`'s docs.
fn check_object(object: &Value, track: &Track, expected_label: u8, expected_uuid: &str) {
    let what = format!("track {}", track.track_id);
    assert_eq!(object["object_id"], expected_uuid, "{what}");
    assert_eq!(object["existence_probability"].as_f64().unwrap() as f32, track.score, "{what}");
    assert_eq!(
        object["classification"],
        json!([{"label": expected_label, "probability": f64::from(track.score)}]),
        "{what}"
    );
    let position = f64s(&object["position"]);
    assert_eq!(position, [track.state.center_m.x, track.state.center_m.y, track.state.center_m.z], "{what}");

    // Rotation by yaw about z: q = (0, 0, sin(yaw/2), cos(yaw/2)).
    let yaw = track.state.yaw_rad;
    let orientation = f64s(&object["orientation"]);
    for (got, want) in orientation.iter().zip([0.0, 0.0, (yaw / 2.0).sin(), (yaw / 2.0).cos()]) {
        assert_close(*got, want, &format!("{what} orientation"));
    }

    // Pose covariance: position block in x, y, z; (0.1 rad)² on roll, pitch, yaw; zero else.
    let p = &track.covariance;
    let pose_cov = f64s(&object["pose_covariance"]);
    for row in 0..6 {
        for col in 0..6 {
            let want = match (row, col) {
                (0..3, 0..3) => p[(row, col)],
                (3..6, _) if row == col => 0.01,
                _ => 0.0,
            };
            assert_eq!(pose_cov[row * 6 + col], want, "{what} pose covariance ({row}, {col})");
        }
    }

    // Twist in the object frame: v' = Rz(yaw)ᵀ v, Σ' = Rz(yaw)ᵀ Σ Rz(yaw), written out.
    let (c, s) = (yaw.cos(), yaw.sin());
    let v = track.state.velocity_mps;
    let twist = f64s(&object["twist_linear"]);
    assert_close(twist[0], c * v.x + s * v.y, &format!("{what} vx"));
    assert_close(twist[1], -s * v.x + c * v.y, &format!("{what} vy"));
    assert_close(twist[2], v.z, &format!("{what} vz"));
    assert_eq!(f64s(&object["twist_angular"]), [0.0, 0.0, 0.0], "{what}");
    let (sxx, syy, szz) = (p[(3, 3)], p[(4, 4)], p[(5, 5)]);
    let (sxy, sxz, syz) = (p[(3, 4)], p[(3, 5)], p[(4, 5)]);
    let rotated = [
        [
            c * c * sxx + 2.0 * c * s * sxy + s * s * syy,
            -c * s * sxx + (c * c - s * s) * sxy + c * s * syy,
            c * sxz + s * syz,
        ],
        [0.0, s * s * sxx - 2.0 * c * s * sxy + c * c * syy, -s * sxz + c * syz],
        [0.0, 0.0, szz],
    ];
    let twist_cov = f64s(&object["twist_covariance"]);
    for row in 0..6 {
        for col in 0..6 {
            let want = match (row, col) {
                (0..3, 0..3) => rotated[row.min(col)][row.max(col)],
                (3..6, _) if row == col => 0.01,
                _ => 0.0,
            };
            assert_close(twist_cov[row * 6 + col], want, &format!("{what} twist covariance ({row}, {col})"));
        }
    }

    assert_eq!(f64s(&object["accel"]), [0.0; 6], "{what}");
    assert_eq!(f64s(&object["accel_covariance"]), [0.0; 36], "{what}");
    assert_eq!(object["orientation_availability"], 1, "{what}: SIGN_UNKNOWN");
    assert_eq!(object["is_stationary"], false, "{what}");
    assert_eq!(object["shape_type"], 0, "{what}: BOUNDING_BOX");
    assert_eq!(object["footprint_points"], 0, "{what}");
    assert_eq!(
        f64s(&object["dimensions"]),
        [track.state.size_m.x, track.state.size_m.y, track.state.size_m.z]
    );
}

#[test]
fn a_python_zenoh_client_decodes_objects_health_and_latency() {
    let Ok(python) = std::env::var("PITSENSE_PYTHON") else {
        eprintln!("skipping: PITSENSE_PYTHON is unset (needs eclipse-zenoh and rosbags; ./x setup)");
        return;
    };
    let endpoint = format!("tcp/127.0.0.1:{}", free_port());
    let config = ZenohOutputsConfig {
        truck_id: TRUCK_ID.into(),
        mode: ZenohMode::Peer,
        listen: vec![endpoint.clone()],
        connect: vec![],
        tls: None,
        frame_id: "map".into(),
    };
    let mut outputs = ZenohOutputs::open(&config).unwrap();

    let manifest = env!("CARGO_MANIFEST_DIR");
    let tracks = tracks();
    let mut child = Command::new(&python)
        .arg(format!("{manifest}/tests/zenoh_subscriber.py"))
        .args([endpoint.as_str(), TRUCK_ID, &format!("{manifest}/msg"), "20"])
        .args(tracks.iter().map(|t| t.track_id.to_string()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Publish at 20 Hz until the subscriber has what it wants and exits.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut publications = 0u32;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the Python subscriber did not finish in 40 s");
        outputs.publish_objects(STAMP_NS, &tracks).unwrap();
        outputs.publish_health(&health()).unwrap();
        outputs.publish_latency(&latency()).unwrap();
        publications += 1;
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(
        status.success(),
        "subscriber failed ({status}) after {publications} publications:\n{stderr}\n{stdout}"
    );
    outputs.close().unwrap();

    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let received = &report["received"];

    // The label constants rosbags parsed from the shipped .msg agree with ours.
    assert_eq!(
        report["label_constants"],
        json!({
            "UNKNOWN": label::UNKNOWN, "CAR": label::CAR, "TRUCK": label::TRUCK, "BUS": label::BUS,
            "TRAILER": label::TRAILER, "MOTORCYCLE": label::MOTORCYCLE, "BICYCLE": label::BICYCLE,
            "PEDESTRIAN": label::PEDESTRIAN, "ANIMAL": label::ANIMAL,
        })
    );

    let objects = &received["objects"];
    assert!(objects["encoding"].as_str().unwrap().starts_with("application/cdr"), "{objects}");
    // rosbags writes the very same bytes back: the padding and layout are the standard ones.
    assert_eq!(objects["rosbags_reserialized_equal"], true);
    assert_eq!(objects["stamp_sec"], 1_704_067_200);
    assert_eq!(objects["stamp_nanosec"], 123_456_789);
    assert_eq!(objects["frame_id"], "map");
    let decoded = objects["objects"].as_array().unwrap();
    assert_eq!(decoded.len(), tracks.len());
    // car → CAR (1), person → PEDESTRIAN (7), unknown → UNKNOWN (0), Cyclist → BICYCLE (6).
    let labels = [1, 7, 0, 6];
    for ((object, track), expected_label) in decoded.iter().zip(&tracks).zip(labels) {
        let expected_uuid = report["expected_uuids"][track.track_id.to_string()].as_str().unwrap();
        check_object(object, track, expected_label, expected_uuid);
    }

    let health = &received["health"];
    assert!(health["encoding"].as_str().unwrap().starts_with("application/json"), "{health}");
    assert_eq!(
        health["json"],
        json!({
            "stamp_ns": STAMP_NS,
            "mode": "camera_lost",
            "reason": "camera: failed (video file missing)",
            "inputs": {
                "camera": {"status": "failed", "rate_hz": 0.0, "age_ms": null},
                "lidar": {"status": "ok", "rate_hz": 10.0, "age_ms": 12.5},
            },
            "late_frames": 4,
            "dropped": {"lidar_to_perception": 2, "v2x_to_tracker": 0},
        })
    );
    assert_eq!(
        received["latency"]["json"],
        json!({"stamp_ns": STAMP_NS, "stages_ms": {"lidar": 18.25, "tracker": 1.5}, "end_to_end_ms": 31.75})
    );
}

#[test]
fn a_busy_listen_endpoint_is_an_error_not_a_panic() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = ZenohOutputsConfig { listen: vec![format!("tcp/127.0.0.1:{port}")], ..Default::default() };
    let error = ZenohOutputs::open(&config).unwrap_err();
    assert!(error.to_string().contains(&format!("tcp/127.0.0.1:{port}")), "{error}");
}
