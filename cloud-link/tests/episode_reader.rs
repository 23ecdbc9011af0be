//! Episodes read back with [`EpisodeReader`]: what the writer wrote, in log time order, and
//! clear errors on torn files and undecodable messages.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test/bench code: a failure should panic.

mod common;

use common::{Lcg, START_NS, frame_messages, shared_inputs};
use pitsense_cloud_link::schemas::POINT_CLOUD;
use pitsense_cloud_link::{
    EpisodeMessage, EpisodeMetadata, EpisodeReadError, EpisodeReader, EpisodeWriter, EpisodeWriterOptions,
};
use pitsense_types::FrameId;

fn metadata() -> EpisodeMetadata {
    EpisodeMetadata {
        truck_id: "truck-07".into(),
        software_version: "0.1.0".into(),
        calibration_json: r#"{"camera_id":2}"#.into(),
        truck_from_lidar_json:
            r#"{"x_m":7.5,"y_m":0.0,"z_m":3.0,"roll_rad":0.0,"pitch_rad":0.05,"yaw_rad":0.0}"#.into(),
        model_sha256: "9a1f".repeat(16),
        trigger_reason: "manual".into(),
        trigger_stamp_ns: START_NS + 7,
    }
}

/// What a message reads back as: the writer's message, less what Foxglove's schemas do not
/// carry (the sequence number of clouds and images) and with the ego state in the site frame.
fn as_read_back(message: EpisodeMessage) -> Option<EpisodeMessage> {
    match message {
        EpisodeMessage::PointCloud(mut cloud) => {
            cloud.header.seq = 0;
            Some(EpisodeMessage::PointCloud(cloud))
        }
        EpisodeMessage::CompressedImage(mut image) => {
            image.header.seq = 0;
            Some(EpisodeMessage::CompressedImage(image))
        }
        EpisodeMessage::Ego(mut recorded) => {
            recorded.ego.header.frame = FrameId::Site;
            Some(EpisodeMessage::Ego(recorded))
        }
        message @ (EpisodeMessage::Detections2d { .. }
        | EpisodeMessage::V2xRaw(_)
        | EpisodeMessage::Can(_)
        | EpisodeMessage::Health(_)) => Some(message),
        EpisodeMessage::Detections3d { .. }
        | EpisodeMessage::Tracks { .. }
        | EpisodeMessage::V2xDecoded(_) => None,
    }
}

#[test]
fn every_input_message_reads_back_equal_in_log_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("episode.mcap");
    let (png, bsm) = shared_inputs();
    let mut rng = Lcg(11);
    // Small chunks: the 30 frames span many chunks, read one at a time.
    let options = EpisodeWriterOptions { chunk_size_bytes: 64 * 1024, zstd_level: 3 };
    let mut writer = EpisodeWriter::create(&path, &metadata(), options).unwrap();
    let mut written = Vec::new();
    for frame in 0..30 {
        let mut messages = frame_messages(frame, 500, &png, &bsm, &mut rng);
        // A datagram received before the frame is written after it (as the recorder does for
        // V2X, offered on arrival while the frame is fused later): logged 1 ns before the frame.
        if let Some(EpisodeMessage::V2xRaw(raw)) =
            messages.iter_mut().find(|m| matches!(m, EpisodeMessage::V2xRaw(_)))
        {
            raw.stamp_ns -= 1;
        }
        for message in &messages {
            writer.write(message).unwrap();
        }
        written.extend(messages);
    }
    writer.finish().unwrap();

    // Expected: log time order. Messages of one log time may come in any order (the indexed
    // reader does not keep file order across chunks): both sides are compared sorted by log
    // time, then topic, stably (one topic's messages of one time stay in order).
    let topic = |message: &EpisodeMessage| message.encode()[0].0.clone();
    let mut expected: Vec<EpisodeMessage> = written.into_iter().filter_map(as_read_back).collect();
    expected.sort_by_key(|message| (message.stamp_ns(), topic(message)));

    let reader = EpisodeReader::open(&path).unwrap();
    assert_eq!(reader.metadata(), &metadata());
    assert!(reader.topics().contains(&"/camera2/compressed".to_owned()), "{:?}", reader.topics());
    // 30 frames: a cloud each, an image every 5th (common::frame_messages).
    let counts = reader.topic_message_counts();
    assert_eq!((counts["/lidar0/points"], counts["/camera2/compressed"]), (30, 6));
    let read: Vec<EpisodeMessage> = reader.map(|message| message.unwrap().message).collect();
    let stamps: Vec<u64> = read.iter().map(EpisodeMessage::stamp_ns).collect();
    assert!(stamps.is_sorted(), "not in log time order");
    let mut sorted = read.clone();
    sorted.sort_by_key(|message| (message.stamp_ns(), topic(message)));
    assert_eq!(sorted.len(), expected.len());
    for (index, (read, expected)) in sorted.iter().zip(&expected).enumerate() {
        assert!(read == expected, "message {index}: {} at {} differs", topic(read), read.stamp_ns());
    }
    // The V2X datagram of frame 10 comes before that frame's messages although written after them.
    let position = |wanted: &dyn Fn(&EpisodeMessage) -> bool| read.iter().position(wanted).unwrap();
    let v2x = position(
        &|m| matches!(m, EpisodeMessage::V2xRaw(raw) if raw.stamp_ns == START_NS + 10 * common::FRAME_NS - 1),
    );
    let cloud = position(
        &|m| matches!(m, EpisodeMessage::PointCloud(c) if c.header.stamp_ns == START_NS + 10 * common::FRAME_NS),
    );
    assert!(v2x < cloud, "datagram at {v2x}, cloud at {cloud}");
}

#[test]
fn a_torn_episode_is_refused_with_the_way_to_recover_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_test_episode(dir.path(), "whole.mcap", 3, 20, 200);
    let bytes = std::fs::read(&path).unwrap();
    let torn = dir.path().join("torn.mcap");
    std::fs::write(&torn, &bytes[..bytes.len() / 2]).unwrap();
    let error = EpisodeReader::open(&torn).unwrap_err();
    assert!(matches!(error, EpisodeReadError::File { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("torn.mcap") && text.contains("pitsense episode recover"), "{text}");

    let not_mcap = dir.path().join("notes.mcap");
    std::fs::write(&not_mcap, b"these are not the bytes of an MCAP file at all").unwrap();
    let text = EpisodeReader::open(&not_mcap).unwrap_err().to_string();
    assert!(text.contains("notes.mcap") && text.contains("does not start with the MCAP magic"), "{text}");
}

/// Protobuf wire format by hand (protobuf.dev "Encoding"): a length-delimited field.
fn field_bytes(out: &mut Vec<u8>, number: u8, bytes: &[u8]) {
    out.push((number << 3) | 2);
    let mut length = bytes.len();
    while length >= 0x80 {
        out.push((length as u8 & 0x7F) | 0x80);
        length >>= 7;
    }
    out.push(length as u8);
    out.extend_from_slice(bytes);
}

/// A `foxglove.PointCloud` (foxglove/PointCloud.proto: timestamp = 1, frame_id = 2,
/// point_stride = 4 (fixed32), fields = 5, data = 6; PackedElementField: name = 1, offset = 2
/// (fixed32), type = 3 (FLOAT32 = 7)) written byte by byte, not with the writer's encoder.
fn hand_encoded_cloud(stamp_ns: u32, points: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    field_bytes(&mut out, 1, &[0x10, (stamp_ns & 0x7F) as u8 | 0x80, (stamp_ns >> 7) as u8]); // nsec (< 2^14)
    field_bytes(&mut out, 2, b"lidar0");
    out.push((4 << 3) | 5);
    out.extend_from_slice(&16_u32.to_le_bytes());
    for (name, offset) in [("x", 0_u32), ("y", 4), ("z", 8), ("intensity", 12)] {
        let mut element = Vec::new();
        field_bytes(&mut element, 1, name.as_bytes());
        element.push((2 << 3) | 5);
        element.extend_from_slice(&offset.to_le_bytes());
        element.extend_from_slice(&[3 << 3, 7]);
        field_bytes(&mut out, 5, &element);
    }
    field_bytes(&mut out, 6, points);
    out
}

#[test]
fn an_undecodable_message_is_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("episode.mcap");
    let mut writer = EpisodeWriter::create(&path, &metadata(), EpisodeWriterOptions::default()).unwrap();
    // One point (1.0, 2.0, 3.0, 0.5) as little-endian f32 (by hand: 0000803f 00000040 00004040
    // 0000003f).
    let one_point = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0, 0x3F];
    let torn = hand_encoded_cloud(2_000, &one_point);
    writer
        .write_encoded("/lidar0/points", POINT_CLOUD, 1_000, &hand_encoded_cloud(1_000, &one_point))
        .unwrap();
    writer.write_encoded("/lidar0/points", POINT_CLOUD, 2_000, &torn[..torn.len() - 3]).unwrap();
    writer
        .write_encoded("/lidar0/points", POINT_CLOUD, 3_000, &hand_encoded_cloud(3_000, &one_point[..8]))
        .unwrap();
    writer
        .write_encoded("/lidar0/points", POINT_CLOUD, 4_000, &hand_encoded_cloud(4_000, &one_point))
        .unwrap();
    writer.finish().unwrap();

    let results: Vec<_> = EpisodeReader::open(&path).unwrap().collect();
    assert_eq!(results.len(), 4);
    for (result, stamp_ns) in [(&results[0], 1_000), (&results[3], 4_000)] {
        let Ok(read) = result else { panic!("{result:?}") };
        let EpisodeMessage::PointCloud(cloud) = &read.message else { panic!("{read:?}") };
        assert_eq!(cloud.header.stamp_ns, stamp_ns);
        assert_eq!(cloud.header.frame, FrameId::Lidar(0));
        let point = cloud.points[0];
        assert_eq!([point.x_m, point.y_m, point.z_m, point.intensity], [1.0, 2.0, 3.0, 0.5]);
    }
    let torn = results[1].as_ref().unwrap_err().to_string();
    assert!(torn.contains("/lidar0/points at 2000 ns") && torn.contains("not a PointCloud"), "{torn}");
    let partial_point = results[2].as_ref().unwrap_err().to_string();
    assert!(partial_point.contains("8 bytes of points is not a whole number"), "{partial_point}");
}

/// An episode recorded before the channels moved to protobuf (JSON messages,
/// `tests/data/json_episode_v0.mcap`, written by the JSON writer from
/// [`common::json_episode_v0_messages`]) still reads back: every input message equal.
#[test]
fn an_episode_recorded_in_json_still_reads_back() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/json_episode_v0.mcap");
    let reader = EpisodeReader::open(&path).unwrap();
    assert_eq!(reader.metadata().truck_id, "truck-07");
    let topic = |message: &EpisodeMessage| message.encode()[0].0.clone();
    let mut read: Vec<EpisodeMessage> = reader.map(|message| message.unwrap().message).collect();
    read.sort_by_key(|message| (message.stamp_ns(), topic(message)));
    let mut expected: Vec<EpisodeMessage> =
        common::json_episode_v0_messages().into_iter().filter_map(as_read_back).collect();
    expected.sort_by_key(|message| (message.stamp_ns(), topic(message)));
    // 10 frames: cloud, 2D detections, ego, 2 CAN each; 2 images; 1 V2X datagram; the health report.
    assert_eq!(read.len(), 10 * 5 + 2 + 1 + 1);
    assert_eq!(read, expected);
}

/// Reads a whole (possibly damaged) episode; returns the messages read and the errors.
fn read_all(path: &std::path::Path) -> (usize, usize) {
    match EpisodeReader::open(path) {
        Ok(reader) => {
            reader.fold((0, 0), |(ok, bad), item| if item.is_ok() { (ok + 1, bad) } else { (ok, bad + 1) })
        }
        Err(_) => (0, 1),
    }
}

#[test]
fn damaged_episodes_give_errors_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_test_episode(dir.path(), "whole.mcap", 5, 12, 100);
    let bytes = std::fs::read(&path).unwrap();
    let (whole, errors) = read_all(&path);
    assert_eq!(errors, 0);
    // 12 frames of clouds, 2D detections, ego states and 2 CAN frames, and V2X on frames 0 and
    // 10 (the reader skips /tf, /detections_3d, /tracks and /v2x/decoded).
    assert_eq!(whole, 12 * 5 + 2);
    let damaged = dir.path().join("damaged.mcap");
    let mut rng = Lcg(99);
    for trial in 0..300 {
        let mut mutated = bytes.clone();
        // Overwrite 1 to 8 bytes anywhere (lengths, offsets, opcodes, compressed data alike).
        let flips = 1 + (rng.next_f32() * 8.0) as usize;
        for _ in 0..flips {
            let at = (rng.next_f32() * mutated.len() as f32) as usize % mutated.len();
            mutated[at] = (rng.next_f32() * 256.0) as u8;
        }
        if trial % 10 == 0 {
            let keep = (rng.next_f32() * mutated.len() as f32) as usize;
            mutated.truncate(keep);
        }
        std::fs::write(&damaged, &mutated).unwrap();
        // Reaching the end without a panic is the check; a damaged file reads no more messages
        // than the whole one.
        let (read, _) = read_all(&damaged);
        assert!(read <= whole, "trial {trial}: {read} messages from a damaged file of {whole}");
    }
    // The regression file of issue 17 (a record claiming 2^50 bytes) is refused, not allocated.
    let f01 = common::data_root().join("regressions/F01");
    if let Some(file) = std::fs::read_dir(&f01).ok().and_then(|entries| {
        entries.flatten().map(|entry| entry.path()).find(|path| path.extension().is_some_and(|e| e == "mcap"))
    }) {
        let text = EpisodeReader::open(&file).unwrap_err().to_string();
        assert!(text.contains(file.file_name().unwrap().to_str().unwrap()), "{text}");
    }
}
