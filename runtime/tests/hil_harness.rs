//! `pitsense-hil`'s harness against the real `pitsense run` binary: the HIL smoke run of the
//! README's test command (two scenarios, one fault each, loopback only, bounded in time), and
//! the harness's `TrackedObjects` decoder against the runtime's encoder, and a recording played
//! live against its replay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::PathBuf;
use std::time::Duration;

use pitsense_hil::faults::Fault;
use pitsense_hil::harness::{HilOptions, HilReport, run_scenario};
use pitsense_hil::objects::decode_tracked_objects;
use pitsense_hil::recording::{Recording, run_recording};
use pitsense_hil::report::{HilOutcome, junit_xml, summary_json};
use pitsense_perception::drivers::pcap::PcapUdpReader;
use pitsense_runtime::outputs::encode_tracked_objects;
use pitsense_runtime::outputs::tracked_objects::object_uuid;
use pitsense_sim::scenario::file::ScenarioSource;
use pitsense_sim::scenario::world::Scenario;
use pitsense_types::nalgebra::{Matrix6, Point3, Vector3};
use pitsense_types::{FrameId, Header, ObjectSource, Track, TrackState};

fn data_root() -> Option<PathBuf> {
    pitsense_testkit::data_root_holding("lidar_pcap")
}

#[test]
fn decoder_reads_what_the_runtime_encodes() {
    let track = |track_id: u64, yaw_rad: f64, class_label: &str| Track {
        header: Header { stamp_ns: 0, frame: FrameId::Site, seq: 0 },
        track_id,
        state: TrackState {
            center_m: Point3::new(120.5, -33.25, 2.5),
            velocity_mps: Vector3::new(3.0, 4.0, 0.0),
            yaw_rad,
            size_m: Vector3::new(15.1, 9.75, 7.7),
        },
        covariance: Matrix6::identity() * 0.25,
        class_label: class_label.into(),
        score: 0.9,
        age_frames: 4,
        hits: 4,
        frames_since_update: 0,
        source: ObjectSource::Lidar,
    };
    let tracks = [track(7, 0.3, "truck"), track(8, -2.0, "pedestrian")];
    let mut buffer = Vec::new();
    encode_tracked_objects(&mut buffer, 1_700_000_000_250_000_000, "map", "truck-9", &tracks).unwrap();
    let message = decode_tracked_objects(&buffer).unwrap();
    assert_eq!(message.stamp_ns, 1_700_000_000_250_000_000);
    assert_eq!(message.frame_id, "map");
    assert_eq!(message.objects.len(), 2);
    for (object, track) in message.objects.iter().zip(&tracks) {
        assert_eq!(object.uuid, object_uuid("truck-9", track.track_id));
        assert_eq!(object.center_m, [120.5, -33.25, 2.5]);
        assert_eq!(object.size_m, [15.1, 9.75, 7.7]);
        assert!((object.yaw_rad - track.state.yaw_rad).abs() < 1e-12);
        // Speed along the heading: v · (cos ψ, sin ψ).
        let along = 3.0 * track.state.yaw_rad.cos() + 4.0 * track.state.yaw_rad.sin();
        assert!((object.speed_mps - along).abs() < 1e-12);
    }
    // Autoware labels: TRUCK 2, PEDESTRIAN 7 (autoware_perception_msgs/msg/ObjectClassification).
    assert_eq!((message.objects[0].label, message.objects[1].label), (2, 7));
    // Every truncation of a valid message is refused, never a panic.
    for length in 0..buffer.len() {
        assert!(decode_tracked_objects(&buffer[..length]).is_err(), "{length} bytes decoded");
    }
}

fn scenario(name: &str, data: &std::path::Path) -> Scenario {
    Scenario::build(&ScenarioSource::resolve(name).unwrap(), data).unwrap()
}

fn options(data: &std::path::Path, out: &std::path::Path, faults: Vec<Fault>) -> HilOptions {
    HilOptions {
        pitsense: PathBuf::from(env!("CARGO_BIN_EXE_pitsense")),
        data_root: data.to_path_buf(),
        out_dir: out.to_path_buf(),
        seed: None,
        max_frames: Some(40),
        faults,
        dbc: Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/truck.dbc"))),
        frame_budget_ms: 100,
        drain: Duration::from_millis(1000),
        loops: 1,
    }
}

/// Time of the first transition into `to` whose reason names `reason`, after `after_s`.
fn transition_s(report: &HilReport, to: &str, reason: &str, after_s: f64) -> Option<f64> {
    report
        .health_transitions
        .iter()
        .find(|t| t.to == to && t.reason.contains(reason) && t.t_s > after_s)
        .map(|t| t.t_s)
}

#[test]
fn hil_smoke_two_scenarios_one_fault_each() {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    let out = tempfile::tempdir().unwrap();

    // A person beside a shovel; the lidar dies at 1.5 s for 1 s.
    let person = scenario("person_near_shovel", &data);
    let death =
        run_scenario(&person, &options(&data, out.path(), vec!["death:1.5:1".parse().unwrap()])).unwrap();
    // The OS-2-128 at 1024x10 sends 1024 / 16 = 64 packets per rotation: 10 rotations lost.
    assert_eq!(death.fault_counts.dropped, 640);
    assert_eq!(death.frames_sent, 30);
    assert_eq!(death.runtime_exit, Some(143), "clean stop on SIGTERM");
    // The runtime calls the lidar stale after two periods without a rotation (200 ms); the
    // harness sees it on the next health report (100 ms period) and zenoh.
    let lost =
        transition_s(&death, "perception_unavailable", "lidar: stale", 1.0).expect("lidar loss reported");
    assert!((1.6..2.1).contains(&lost), "lidar loss reported at {lost} s");
    // Back to nominal once a whole rotation has come again (2.5 s + 0.1 s).
    let back = death.health_transitions.iter().find(|t| t.to == "nominal" && t.t_s > lost).expect("recovery");
    assert!((2.5..3.1).contains(&back.t_s), "recovered at {} s", back.t_s);
    // Every rotation sent came back as objects, the person among them.
    assert_eq!(death.dropped_frames, 0);
    assert!(death.latency_ms.p50.is_some_and(|p50| p50 > 0.0 && p50 < 100.0), "{:?}", death.latency_ms);
    assert!(
        death.reaction_ms_by_actor.get("walker").copied().flatten().is_some(),
        "{:?}",
        death.reaction_ms_by_actor
    );
    assert!(death.resources.iter().all(|r| r.rss_mib > 1.0));
    // Every input the harness feeds arrives at its rate: lidar 10 rotations/s, GNSS 40
    // sentences/s (GGA and HDT in each datagram, 20 Hz), CAN 100 frames/s (two per datagram,
    // 50 Hz).
    for (input, rate_hz) in [("lidar", 10.0), ("gnss", 40.0), ("can", 100.0)] {
        let measured = death.input_rate_hz.get(input).copied().unwrap_or(0.0);
        assert!((measured - rate_hz).abs() <= 0.15 * rate_hz, "{input}: {measured} Hz");
    }
    // The truck's ECU on CAN (PITSENSE_HEALTH every 100 ms, decoded by the harness from the
    // DBC by hand): one health frame per period over the play, none missed, and the same mode
    // changes as on zenoh, each within two periods of zenoh's (each side reports every 100 ms).
    let can = death.can_output.as_ref().expect("CAN outputs received");
    let expected_frames = (death.played_s / 0.1).floor() as u64;
    assert!(
        can.health_frames.abs_diff(expected_frames) <= 2,
        "{} health frames in {} s",
        can.health_frames,
        death.played_s
    );
    assert_eq!((can.alive_counter_gaps, can.undecodable), (0, 0), "{can:?}");
    let zenoh_modes: Vec<&str> = death.health_transitions.iter().map(|t| t.to.as_str()).collect();
    let can_modes: Vec<&str> = can.mode_changes.iter().map(|c| c.to.as_str()).collect();
    assert_eq!(can_modes, zenoh_modes);
    for (on_can, on_zenoh) in can.mode_changes.iter().zip(&death.health_transitions) {
        assert!((on_can.t_s - on_zenoh.t_s).abs() <= 0.2, "{on_can:?} against {on_zenoh:?}");
    }
    // The walker is a tracked object: the nearest objects go out, at most the 4 asked for.
    assert!(can.object_frames > 0 && (1..=4).contains(&can.max_object_count), "{can:?}");

    // A rock on the road under 5 % packet loss.
    let rock = scenario("rock_on_road_80m", &data);
    let loss = run_scenario(&rock, &options(&data, out.path(), vec!["loss:0.05".parse().unwrap()])).unwrap();
    // Binomial(40 × 64, 0.05): mean 128, σ ≈ 11; ±5σ.
    assert!((73..=183).contains(&loss.fault_counts.dropped), "{}", loss.fault_counts.dropped);
    assert_eq!(loss.runtime_exit, Some(143));
    // A rotation missing a few packets is still a rotation: every one is published.
    assert_eq!(loss.frames_sent, 40);
    assert!(loss.frames_published >= 38, "{} of 40 published", loss.frames_published);

    // The zenoh link to the subscriber cut for 1 s: what was published meanwhile is gone (the
    // runtime's publishers drop under congestion, nothing is queued): at least the 10 rotations
    // of the cut; the subscriber's session reconnects (retry period 100 ms doubling to 1 s) and
    // objects come again.
    let cut =
        run_scenario(&rock, &options(&data, out.path(), vec!["zenoh_cut:1.5:1".parse().unwrap()])).unwrap();
    assert_eq!(cut.runtime_exit, Some(143));
    assert!((10..=30).contains(&cut.dropped_frames), "{} dropped", cut.dropped_frames);
    let recovery = cut.link_recovery_ms[0].expect("objects after the cut");
    assert!(recovery < 2500.0, "{recovery} ms");

    // An RSU reporting the rock and 4 spoofed objects per SDSM (2 at 2 km, beyond the 300 m
    // default SDSM range; 2 beside it at 120 m/s, over the 40 m/s limit): every spoofed object is
    // rejected and counted, none is published.
    let mut spoof_options = options(&data, out.path(), vec!["rsu_spoof:4".parse().unwrap()]);
    spoof_options.max_frames = Some(20);
    let spoof = run_scenario(&rock, &spoof_options).unwrap();
    let rsu = spoof.rsu.expect("RSU report");
    // 2 s at 10 Hz, both ends included.
    assert_eq!(rsu.messages_sent, 21);
    assert_eq!(rsu.spoofed_objects_sent, 84);
    assert_eq!(rsu.runtime_received, Some(21), "every SDSM decoded by the runtime");
    assert!(rsu.runtime_implausible.is_some_and(|n| n >= 84), "{rsu:?}");
    assert_eq!(rsu.spoofed_published, 0);

    // The plots, where the font is installed (`./x` installs fonts-dejavu-core).
    if std::path::Path::new(pitsense_hil::plots::DEFAULT_FONT).is_file() {
        let files = pitsense_hil::plots::write_plots(&death, out.path()).unwrap();
        for file in files {
            let png = std::fs::read(&file).unwrap();
            // PNG signature, then the IHDR chunk: width 1000, height 420, big-endian (RFC 2083).
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            assert_eq!(&png[12..24], b"IHDR\x00\x00\x03\xe8\x00\x00\x01\xa4");
        }
    } else {
        eprintln!("plots skipped: {} not installed", pitsense_hil::plots::DEFAULT_FONT);
    }

    let outcomes = [HilOutcome::Ran(Box::new(death)), HilOutcome::Ran(Box::new(loss))];
    let summary = summary_json(&outcomes);
    for key in ["latency_ms", "reaction_ms", "late_frames", "dropped_frames", "health_transitions"] {
        assert!(summary.get(key).is_some(), "summary has no `{key}`");
    }
    assert!(summary["latency_ms"]["p99"].as_f64().is_some());
    assert!(summary["scenarios"]["person_near_shovel"]["faults"][0] == "death:1.5:1");
    let junit = junit_xml(&outcomes);
    assert!(junit.contains("<testsuite name=\"pitsense-hil\" tests=\"2\""));
    assert!(junit.contains("name=\"rock_on_road_80m\""));
    // The runtime's configuration and report are kept per scenario.
    for file in ["pitsense.toml", "report.json", "runtime.log"] {
        assert!(out.path().join("person_near_shovel").join(file).is_file(), "{file}");
    }
}

/// A recording (the Ouster SDK's OS-2-128 capture, one rotation, looped into 20) played live
/// with the lidar dying half-way through its last rotation, against `pitsense run --replay` of
/// what was sent: the same objects byte for byte. The last rotation's tail never comes, so live
/// it can only go out when the lidar has been silent for a rotation (100 ms at 10 Hz): before
/// that rule the live run ended one frame short of the replay.
#[test]
fn hil_recording_live_equals_replay_with_the_lidar_dying_mid_rotation() {
    let Some(data) = data_root() else {
        eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
        return;
    };
    let capture = data.join("lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.pcap");
    let out = tempfile::tempdir().unwrap();
    // Rotation 19 is played from 1.9 s; the lidar dies at 1.95 s, 50 ms into it, for good.
    let death: Fault = "death:1.95:10".parse().unwrap();
    let mut lidar_only = options(&data, out.path(), vec![death]);
    lidar_only.dbc = None;
    let recording = Recording::new(&capture, None, 20).unwrap();
    let report = run_recording(&recording, &lidar_only).unwrap();

    // The packets lost: the lidar's (to its metadata's port 7502; the capture also holds IMU
    // packets) 50 ms or more after its first one, counted here from the capture's own times.
    let mut reader = PcapUdpReader::open(&capture).unwrap();
    let mut times = Vec::new();
    while let Some(datagram) = reader.next_datagram().unwrap() {
        if datagram.destination.port() == 7502 {
            times.push(datagram.capture_time_ns);
        }
    }
    assert_eq!(times.len(), 64);
    let dead = times.iter().filter(|&&t| t - times[0] >= 50_000_000).count() as u64;
    assert_eq!(report.fault_counts.dropped, dead);
    assert_eq!(report.lidar_datagrams_sent, 20 * 64 - dead);

    let comparison = report.live_vs_replay.as_ref().unwrap();
    assert!(comparison.equal, "{}", comparison.describe());
    assert_eq!((comparison.live_frames, comparison.replay_frames), (20, 20), "{}", comparison.describe());
    assert_eq!(comparison.replay_exit, Some(0));
    assert_eq!(report.runtime_exit, Some(143));
    assert!(report.passed);
    // Every rotation came back over zenoh; the cut one no sooner than a rotation after its last
    // packet.
    assert_eq!((report.frames_sent, report.frames_published), (20, 20));
    let last = report.latencies.last().unwrap();
    assert!((last.t_s - 1.9).abs() < 0.11, "{last:?}");
    assert!(last.latency_ms >= 100.0, "{last:?}");
    assert!(report.in_process.is_none() && report.gates.is_empty());

    // A fault that needs a scenario's actors is refused by name.
    let spoof = options(&data, out.path(), vec!["rsu_spoof:4".parse().unwrap()]);
    let error = run_recording(&recording, &spoof).unwrap_err().to_string();
    assert!(error.contains("rsu_spoof"), "{error}");
    // A capture without metadata beside it names what is missing.
    let lonely = out.path().join("lonely.pcap");
    std::fs::copy(&capture, &lonely).unwrap();
    let error = Recording::new(&lonely, None, 1).unwrap_err().to_string();
    assert!(error.contains("lonely.json") && error.contains("--metadata"), "{error}");
}
