//! Episode files: written by the recorder's MCAP writer, read back with the `mcap` crate, the
//! independent `mcap` PyPI reader (`PITSENSE_PYTHON`) and Rerun's `rerun mcap convert`
//! (`PITSENSE_RERUN`), and recovered after a crash (a real child process killed with SIGKILL).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Lcg, expected_counts, frame_messages, shared_inputs};
use pitsense_cloud_link::{EpisodeMetadata, EpisodeWriter, EpisodeWriterOptions, recover};

fn metadata() -> EpisodeMetadata {
    EpisodeMetadata {
        truck_id: "truck-07".into(),
        software_version: "0.1.0".into(),
        calibration_json: r#"{"camera2":{"fx_px":721.5377}}"#.into(),
        truck_from_lidar_json:
            r#"{"x_m":7.5,"y_m":0.0,"z_m":3.0,"roll_rad":0.0,"pitch_rad":0.05,"yaw_rad":0.0}"#.into(),
        model_sha256: "9a1f".repeat(16),
        trigger_reason: "manual".into(),
        trigger_stamp_ns: common::START_NS,
    }
}

/// Writes frames `0..frames`; closes a chunk every `flush_every` frames when given.
fn write_frames(writer: &mut EpisodeWriter, frames: std::ops::Range<u64>, flush_every: Option<u64>) {
    let (png, bsm) = shared_inputs();
    let mut rng = Lcg(frames.start + 1);
    for frame in frames {
        for message in frame_messages(frame, 2000, &png, &bsm, &mut rng) {
            writer.write(&message).unwrap();
        }
        if flush_every.is_some_and(|n| (frame + 1) % n == 0) {
            writer.flush_chunk().unwrap();
        }
    }
}

fn write_episode(path: &Path, frames: u64) {
    let options = EpisodeWriterOptions { chunk_size_bytes: 256 * 1024, zstd_level: 3 };
    let mut writer = EpisodeWriter::create(path, &metadata(), options).unwrap();
    write_frames(&mut writer, 0..frames, None);
    writer.finish().unwrap();
}

/// Per-topic (schema name, message count) read with the `mcap` crate.
fn read_with_mcap_crate(path: &Path) -> BTreeMap<String, (String, u64)> {
    let bytes = std::fs::read(path).unwrap();
    let mut out: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for message in mcap::MessageStream::new(&bytes).unwrap() {
        let message = message.unwrap();
        let schema = message.channel.schema.as_ref().map(|s| s.name.clone()).unwrap_or_default();
        assert_eq!(message.channel.message_encoding, "protobuf");
        assert_eq!(message.channel.schema.as_ref().unwrap().encoding, "protobuf");
        out.entry(message.channel.topic.clone()).or_insert((schema, 0)).1 += 1;
    }
    out
}

fn expected_schemas() -> BTreeMap<String, String> {
    [
        ("/lidar0/points", "foxglove.PointCloud"),
        ("/camera2/compressed", "foxglove.CompressedImage"),
        ("/image2/detections", "pitsense.Detections2d"),
        ("/detections_3d", "foxglove.SceneUpdate"),
        ("/tracks", "foxglove.SceneUpdate"),
        ("/tf", "foxglove.FrameTransform"),
        ("/ego/state", "pitsense.EgoState"),
        ("/can/0", "pitsense.CanFrame"),
        ("/v2x/raw", "pitsense.V2xRaw"),
        ("/v2x/decoded", "pitsense.V2xDecoded"),
    ]
    .into_iter()
    .map(|(t, s)| (t.to_owned(), s.to_owned()))
    .collect()
}

fn assert_topics(actual: &BTreeMap<String, (String, u64)>, frames: u64) {
    let counts: BTreeMap<String, u64> = actual.iter().map(|(t, (_, n))| (t.clone(), *n)).collect();
    let schemas: BTreeMap<String, String> = actual.iter().map(|(t, (s, _))| (t.clone(), s.clone())).collect();
    assert_eq!(counts, expected_counts(frames));
    assert_eq!(schemas, expected_schemas());
}

#[test]
fn episode_reads_back_with_the_mcap_crate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("episode.mcap");
    write_episode(&path, 30);
    assert_topics(&read_with_mcap_crate(&path), 30);

    let bytes = std::fs::read(&path).unwrap();
    let summary = mcap::Summary::read(&bytes).unwrap().expect("a summary section");
    let stats = summary.stats.unwrap();
    assert_eq!(stats.message_count, expected_counts(30).values().sum::<u64>());
    assert!(summary.chunk_indexes.len() >= 2, "chunked: {} chunks", summary.chunk_indexes.len());
    assert!(summary.chunk_indexes.iter().all(|c| c.compression == "zstd"));
    for schema in summary.schemas.values() {
        assert_eq!(schema.encoding, "protobuf");
        // A FileDescriptorSet: field 1 (`file`), length-delimited, first.
        assert_eq!(schema.data.first(), Some(&0x0A), "{}", schema.name);
    }
    // Indexed: every chunk has message indexes, and the metadata record is indexed and readable.
    assert!(summary.chunk_indexes.iter().all(|c| !c.message_index_offsets.is_empty()));
    assert_eq!(summary.metadata_indexes.len(), 1);
    let record = mcap::read::metadata(&bytes, &summary.metadata_indexes[0]).unwrap();
    assert_eq!(record.name, "pitsense.episode");
    assert_eq!(record.metadata, metadata().to_map());

    // A point cloud decodes to the points written (first point of frame 0).
    let message = mcap::MessageStream::new(&bytes)
        .unwrap()
        .map(Result::unwrap)
        .find(|m| m.channel.topic == "/lidar0/points")
        .unwrap();
    // foxglove.PointCloud's last field is `bytes data = 6`: key 0x32, the length 32000 as a
    // varint (0x80 0xFA 0x01), then the 2000 points of 16 bytes (protobuf.dev "Encoding").
    let data = &message.data[message.data.len() - 32_000..];
    assert_eq!(&message.data[message.data.len() - 32_004..][..4], &[0x32, 0x80, 0xFA, 0x01]);
    let mut rng = Lcg(1);
    let x_m = rng.next_f32() * 80.0 - 40.0;
    assert_eq!(f32::from_le_bytes(data[0..4].try_into().unwrap()), x_m);
}

/// Per-topic (schema, count, first message decoded), the chunk count and the metadata as read
/// by the `mcap` PyPI package, every message decoded by `mcap-protobuf-support` from the
/// descriptor sets in the file ([`pitsense_testkit::PYTHON_EPISODE_MESSAGES`]).
fn read_with_python_mcap(path: &Path) -> serde_json::Value {
    let script = format!(
        "{}{}",
        pitsense_testkit::PYTHON_EPISODE_MESSAGES,
        r#"
import json, sys
from mcap.reader import make_reader
topics = {}
for topic, log_time, schema, body in episode_messages(sys.argv[1]):
    entry = topics.setdefault(topic, [schema, 0, body])
    entry[1] += 1
with open(sys.argv[1], "rb") as f:
    reader = make_reader(f)
    summary = reader.get_summary()
    metadata = {m.name: dict(m.metadata) for m in reader.iter_metadata()}
    chunks = len(summary.chunk_indexes) if summary else 0
print(json.dumps({"topics": topics, "metadata": metadata, "chunks": chunks}))
"#
    );
    let output =
        Command::new(pitsense_testkit::reference_python()).arg("-c").arg(&script).arg(path).output().unwrap();
    assert!(output.status.success(), "python mcap: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn python_topics(value: &serde_json::Value) -> BTreeMap<String, (String, u64)> {
    value["topics"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(topic, entry)| {
            (topic.clone(), (entry[0].as_str().unwrap().to_owned(), entry[1].as_u64().unwrap()))
        })
        .collect()
}

/// The first message of `topic` as Python decoded it.
fn python_first<'a>(value: &'a serde_json::Value, topic: &str) -> &'a serde_json::Value {
    &value["topics"][topic][2]
}

#[test]
fn episode_reads_back_with_the_python_mcap_package() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("episode.mcap");
    write_episode(&path, 30);
    let value = read_with_python_mcap(&path);
    assert_topics(&python_topics(&value), 30);
    // Field values of the first frame (common::frame_messages), decoded in Python.
    let can = python_first(&value, "/can/0");
    assert_eq!(can["stamp_ns"].as_u64(), Some(common::START_NS));
    assert_eq!((can["can_id"].as_u64(), can["extended_id"].as_bool()), (Some(0x18F), Some(false)));
    assert_eq!(can["data"], "AAECAwQFBgc=", "bytes 0..8 in base64");
    let ego = python_first(&value, "/ego/state");
    assert_eq!((ego["speed_mps"].as_f64(), ego["accel_mps2"].as_f64()), (Some(5.0), Some(-0.2)));
    let pose = &ego["site_from_truck"];
    assert_eq!((pose["x_m"].as_f64(), pose["qw"].as_f64()), (Some(0.0), Some(0.025_f64.cos())));
    assert_eq!(ego["pose_held"], false);
    let cloud = python_first(&value, "/lidar0/points");
    assert_eq!((cloud["frame_id"].as_str(), cloud["point_stride"].as_u64()), (Some("lidar0"), Some(16)));
    let fields: Vec<(&str, u64, u64)> = cloud["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["offset"].as_u64().unwrap(), f["type"].as_u64().unwrap()))
        .collect();
    assert_eq!(fields, [("x", 0, 7), ("y", 4, 7), ("z", 8, 7), ("intensity", 12, 7)]);
    let tracks = python_first(&value, "/tracks");
    let entity = &tracks["entities"][0];
    assert_eq!(entity["id"], "track-3");
    assert_eq!(entity["cubes"][0]["size"]["x"].as_f64(), Some(4.2));
    let v2x = python_first(&value, "/v2x/decoded");
    let message: serde_json::Value = serde_json::from_str(v2x["message_json"].as_str().unwrap()).unwrap();
    assert_eq!(message["speed_mps"].as_f64(), Some(5.0));
    let metadata_read: BTreeMap<String, String> =
        serde_json::from_value(value["metadata"]["pitsense.episode"].clone()).unwrap();
    assert_eq!(metadata_read, metadata().to_map());
    assert!(value["chunks"].as_u64().unwrap() >= 2);
}

/// Child process of `sigkill_mid_episode_recovers_every_complete_chunk`: records 40 frames with
/// a chunk closed every 10, reports, records 5 more frames into an open chunk, reports READY and
/// waits to be killed.
#[test]
#[ignore = "child process of sigkill_mid_episode_recovers_every_complete_chunk"]
fn recorder_child_process() {
    let path =
        PathBuf::from(std::env::var_os("PITSENSE_RECORDER_CHILD_OUT").expect("run by the parent test"));
    let options = EpisodeWriterOptions { chunk_size_bytes: 64 * 1024 * 1024, zstd_level: 3 };
    let mut writer = EpisodeWriter::create(&path, &metadata(), options).unwrap();
    write_frames(&mut writer, 0..40, Some(10));
    println!("FLUSHED 40");
    write_frames(&mut writer, 40..45, None);
    println!("READY");
    std::thread::sleep(std::time::Duration::from_secs(120));
    writer.finish().unwrap();
}

#[test]
fn sigkill_mid_episode_recovers_every_complete_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let torn = dir.path().join("torn.mcap");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "recorder_child_process", "--ignored", "--nocapture", "--test-threads=1"])
        .env("PITSENSE_RECORDER_CHILD_OUT", &torn)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded in time: a watchdog kills the child if it never reports READY.
    let child_id = child.id();
    let reaped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog_reaped = reaped.clone();
    std::thread::spawn(move || {
        for _ in 0..600 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if watchdog_reaped.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
        }
        let _ = Command::new("kill").arg("-9").arg(child_id.to_string()).status();
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line == "READY" {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    reaped.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(seen.iter().any(|l| l.ends_with("FLUSHED 40")) && seen.iter().any(|l| l == "READY"), "{seen:?}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL");

    // The torn file has no summary: the mcap crate's summary reader finds none.
    let torn_bytes = std::fs::read(&torn).unwrap();
    assert!(mcap::Summary::read(&torn_bytes).is_err() || mcap::Summary::read(&torn_bytes).unwrap().is_none());

    let recovered = dir.path().join("recovered.mcap");
    let report = recover(&torn, &recovered).unwrap();
    assert_eq!(report.chunks_kept, 4);
    assert_eq!(report.metadata_kept, 1);
    assert_eq!(report.message_counts, expected_counts(40));
    // The recovered file is complete and indexed: the crate and the Python reader agree.
    assert_topics(&read_with_mcap_crate(&recovered), 40);
    let bytes = std::fs::read(&recovered).unwrap();
    let summary = mcap::Summary::read(&bytes).unwrap().expect("a summary section");
    assert_eq!(summary.stats.unwrap().message_count, expected_counts(40).values().sum::<u64>());
    let value = read_with_python_mcap(&recovered);
    assert_topics(&python_topics(&value), 40);
    assert_eq!(value["metadata"]["pitsense.episode"]["trigger_reason"], "manual");
}

#[test]
fn a_file_cut_inside_a_chunk_keeps_the_chunks_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.mcap");
    let options = EpisodeWriterOptions { chunk_size_bytes: 64 * 1024 * 1024, zstd_level: 3 };
    let mut writer = EpisodeWriter::create(&full, &metadata(), options).unwrap();
    write_frames(&mut writer, 0..50, Some(10));
    writer.finish().unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let summary = mcap::Summary::read(&bytes).unwrap().unwrap();
    assert_eq!(summary.chunk_indexes.len(), 5);
    let fourth = &summary.chunk_indexes[3];
    for cut in [fourth.chunk_start_offset + 1, fourth.chunk_start_offset + fourth.chunk_length / 2] {
        let torn = dir.path().join("torn.mcap");
        std::fs::write(&torn, &bytes[..cut as usize]).unwrap();
        let recovered = dir.path().join("recovered.mcap");
        let report = recover(&torn, &recovered).unwrap();
        assert_eq!(report.message_counts, expected_counts(30), "cut at {cut}");
        assert_topics(&read_with_mcap_crate(&recovered), 30);
    }
    // A finished file recovers whole; a chunk with a flipped byte is skipped (its record framing
    // is intact), the fifth chunk after it is kept: frames 0..30 and 40..50, which hold the same
    // per-topic counts as frames 0..40 (every count pattern repeats every 10 frames).
    let recovered = dir.path().join("whole.mcap");
    assert_eq!(recover(&full, &recovered).unwrap().message_counts, expected_counts(50));
    let mut flipped = bytes.clone();
    let middle = (fourth.chunk_start_offset + fourth.chunk_length / 2) as usize;
    flipped[middle] ^= 0x55;
    let torn = dir.path().join("flipped.mcap");
    std::fs::write(&torn, &flipped).unwrap();
    let report = recover(&torn, &recovered).unwrap();
    assert_eq!(report.message_counts, expected_counts(40));
    assert_eq!(report.chunks_kept, 4);
    assert_eq!(report.chunks_skipped.len(), 1);
    assert_eq!(report.chunks_skipped[0].offset, fourth.chunk_start_offset);
    assert_eq!(report.chunks_skipped[0].length, fourth.chunk_length);
}

#[test]
fn recover_refuses_a_file_that_is_not_mcap() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.mcap");
    std::fs::write(&bogus, b"not an mcap file at all").unwrap();
    let err = recover(&bogus, &dir.path().join("out.mcap")).unwrap_err();
    assert!(err.to_string().contains("bogus.mcap") && err.to_string().contains("magic"), "{err}");
}

fn rerun() -> PathBuf {
    let Some(rerun) = std::env::var_os("PITSENSE_RERUN") else {
        panic!("PITSENSE_RERUN is not set: run the tests with `./x test`, which installs rerun-sdk");
    };
    PathBuf::from(rerun)
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `rerun mcap convert` turns the Foxglove channels into Rerun archetypes (the lidar's points
/// as `Points3D` with the values written, the truck pose as `Transform3D`, the camera as
/// `EncodedImage`) and each of pitsense's own protobuf channels into one row per message
/// (its `protobuf` decoder); the schema decoder keeps every channel's schema.
#[test]
fn episode_converts_with_rerun_mcap_convert() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("episode.mcap");
    write_episode(&path, 30);

    let rrd = dir.path().join("episode.rrd");
    run_ok(Command::new(rerun()).args(["mcap", "convert"]).arg(&path).arg("-o").arg(&rrd));
    run_ok(Command::new(rerun()).args(["rrd", "verify"]).arg(&rrd));
    // `Chunk(..) with N rows (..) - /topic - data columns: [A:b C:d]`; the one-row chunks of
    // the channel and schema descriptions (`McapChannel:...`) are left out.
    let print = run_ok(Command::new(rerun()).args(["rrd", "print"]).arg(&rrd));
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    let mut columns: BTreeMap<String, String> = BTreeMap::new();
    for line in print.lines().filter(|l| l.starts_with("Chunk(") && !l.contains("[McapChannel:")) {
        let topic = line.split(" - ").nth(1).unwrap().to_owned();
        if topic.starts_with("/__") {
            continue;
        }
        let count: u64 = line.split(" with ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        *rows.entry(topic.clone()).or_insert(0) += count;
        columns.insert(topic, line.split("data columns: ").nth(1).unwrap().to_owned());
    }
    assert_eq!(rows, expected_counts(30));
    for (topic, archetype) in [
        ("/lidar0/points", "Points3D:positions"),
        ("/tf", "Transform3D:translation"),
        ("/camera2/compressed", "EncodedImage:blob"),
    ] {
        assert!(columns[topic].contains(archetype), "{topic}: {}", columns[topic]);
    }
    for (topic, schema) in expected_schemas() {
        if schema.starts_with("pitsense.") {
            assert_eq!(columns[&topic], format!("[{schema}:message]"), "{topic}");
        }
    }
    assert!(print.contains("/__mcap_metadata - data columns: [pitsense.episode]"), "{print}");

    // The points themselves: the first point of each frame as Rerun prints it (f32, shortest
    // round-trip form) equals the one written.
    let verbose = run_ok(Command::new(rerun()).args(["rrd", "print", "-vvv"]).arg(&rrd));
    let printed_first_points: Vec<String> = verbose
        .lines()
        .filter(|line| line.contains("┆ [lidar0]"))
        .filter_map(|line| line.split("┆ [[").last())
        .map(|cell| cell.split(']').next().unwrap().to_owned())
        .collect();
    let (png, bsm) = shared_inputs();
    let mut rng = Lcg(1);
    let written_first_points: Vec<String> = (0..30)
        .map(|frame| match &frame_messages(frame, 2000, &png, &bsm, &mut rng)[0] {
            pitsense_cloud_link::EpisodeMessage::PointCloud(cloud) => {
                let p = cloud.points[0];
                format!("{:?}, {:?}, {:?}", p.x_m, p.y_m, p.z_m)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(printed_first_points, written_first_points);

    // Schemas: the `schema` decoder alone, printed with its data.
    let schema_rrd = dir.path().join("schema.rrd");
    run_ok(
        Command::new(rerun())
            .args(["mcap", "convert", "-d", "schema", "--disable-raw-fallback"])
            .arg(&path)
            .arg("-o")
            .arg(&schema_rrd),
    );
    let print = run_ok(Command::new(rerun()).args(["rrd", "print", "-vvv"]).arg(&schema_rrd));
    let mut schemas: BTreeMap<String, String> = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    for line in print.lines() {
        let cells: Vec<String> = line
            .split('┆')
            .map(|c| c.trim_matches(|ch: char| ch == '│' || ch.is_whitespace()).to_owned())
            .collect();
        if cells.first().is_some_and(|c| c == "RowId") {
            columns = cells;
        } else if cells.first().is_some_and(|c| c.starts_with("row_")) {
            let cell = |name: &str| {
                let index = columns.iter().position(|c| c == name).unwrap();
                cells[index].trim_matches(|c| c == '[' || c == ']').to_owned()
            };
            schemas.insert(cell("McapChannel:topic"), cell("McapSchema:name"));
            assert_eq!(cell("McapSchema:encoding"), "protobuf");
            assert_eq!(cell("McapChannel:message_encoding"), "protobuf");
        }
    }
    assert_eq!(schemas, expected_schemas());
}
