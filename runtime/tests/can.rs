//! Vehicle CAN: the DBC codec against Python cantools, the buses (candump logs, cannelloni
//! over loopback UDP, SocketCAN when the kernel has it), the vehicle-signal decoder and the
//! CAN outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pitsense_runtime::can::{
    CanBus, CanError, CanInputConfig, CanOutputConfig, CanOutputEncoder, CandumpReader, CandumpWriter, Dbc,
    ObjectOnCan, UdpCanBus, VehicleSignalDecoder, open_bus,
};
use pitsense_types::{CanFrame, Clock, DegradedMode, HealthReport, InputHealth, InputStatus, ManualClock};
use serde_json::{Value, json};

fn truck_dbc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/truck.dbc")
}

fn truck_dbc() -> Dbc {
    Dbc::from_file(&truck_dbc_path()).unwrap()
}

fn frame(can_id: u32, extended: bool, data: &[u8]) -> CanFrame {
    CanFrame { stamp_ns: 0, bus: "can0".into(), can_id, extended, data: data.to_vec() }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// SplitMix64 (Steele, Lea & Flood 2014): a seeded generator for test vectors.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    fn range_i64(&mut self, low: i64, high: i64) -> i64 {
        let span = (high - low) as u64 + 1;
        low + (self.next_u64() % span) as i64
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Runs `runtime/tests/cantools_reference.py` on a request; `None` (after saying so) when
/// `PITSENSE_PYTHON` is unset.
fn cantools(request: &Value) -> Option<Value> {
    let Ok(python) = std::env::var("PITSENSE_PYTHON") else {
        eprintln!(
            "skipping the cantools comparison: PITSENSE_PYTHON is not set (./x setup installs cantools)"
        );
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cantools_reference.py");
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), request).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "cantools_reference.py failed");
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// Asserts that our decoding of `frames` equals cantools' answer, signal by signal.
fn assert_decodes_like_cantools(dbc: &Dbc, frames: &[CanFrame], answers: &[Value]) -> (usize, usize) {
    assert_eq!(frames.len(), answers.len());
    let (mut decoded, mut errors) = (0, 0);
    for (frame, answer) in frames.iter().zip(answers) {
        let ours = dbc.decode(frame);
        let context =
            format!("frame 0x{:X} {}: ours {ours:?}, cantools {answer}", frame.can_id, hex(&frame.data));
        match (ours, answer) {
            (Ok(None), Value::Null) => {}
            (Err(_), answer) if answer.get("error").is_some() => errors += 1,
            (Ok(Some(message)), answer) if answer.get("name").is_some() => {
                assert_eq!(message.name, answer["name"], "{context}");
                let theirs = answer["signals"].as_object().unwrap();
                assert_eq!(message.signals.len(), theirs.len(), "{context}");
                for (name, value) in &message.signals {
                    // Python's repr: exact digits, or nan / inf / -inf.
                    let reference: f64 = theirs[name].as_str().unwrap().parse().unwrap();
                    let same = *value == reference || (value.is_nan() && reference.is_nan());
                    assert!(same, "{name}: ours {value}, cantools {reference}, in {context}");
                }
                decoded += 1;
            }
            _ => panic!("ours and cantools disagree: {context}"),
        }
    }
    (decoded, errors)
}

#[test]
fn decoding_random_frames_equals_cantools() {
    let dbc = truck_dbc();
    let Some(description) = cantools(&json!({"dbc": truck_dbc_path(), "describe": true})) else {
        return;
    };
    let mut random = SplitMix64(0x00C0_FFEE);
    let mut frames = Vec::new();
    for message in description["messages"].as_array().unwrap() {
        let can_id = message["can_id"].as_u64().unwrap() as u32;
        let extended = message["extended"].as_bool().unwrap();
        let length = message["length"].as_u64().unwrap() as usize;
        for _ in 0..300 {
            frames.push(frame(can_id, extended, &random.bytes(length)));
        }
        // Too short for the DBC: both refuse; longer: both accept.
        frames.push(frame(can_id, extended, &random.bytes(length - 1)));
        frames.push(frame(can_id, extended, &random.bytes(length + 2)));
    }
    // Ids not in the DBC, and a DBC id with the other standard/extended kind.
    frames.push(frame(0x123, false, &[1, 2, 3]));
    frames.push(frame(0x1A0, true, &[0; 8]));
    frames.push(frame(0x18FE_F100, false, &[0; 8]));
    let request = json!({
        "dbc": truck_dbc_path(),
        "decode": frames.iter().map(|f| json!({"can_id": f.can_id, "extended": f.extended, "data": hex(&f.data)})).collect::<Vec<_>>(),
    });
    let answer = cantools(&request).unwrap();
    let (decoded, errors) = assert_decodes_like_cantools(&dbc, &frames, answer["decode"].as_array().unwrap());
    // 8 messages × 301 good frames, of which TRUCK_STATUS pages 2..15 (14 of 16) fail in both.
    eprintln!("{decoded} frames decoded identically, {errors} refused by both");
    assert!(decoded > 2000 && errors > 250, "{decoded} decoded, {errors} errors");
}

/// Random physical values for the signals one message sends (one multiplexer page), each a
/// representable value (raw × scale + offset) inside the DBC range, sometimes nudged by a
/// third of a step so that rounding is exercised.
fn random_values(message: &Value, page: Option<i64>, random: &mut SplitMix64) -> BTreeMap<String, f64> {
    let mut values = BTreeMap::new();
    for signal in message["signals"].as_array().unwrap() {
        let ids = &signal["multiplexer_ids"];
        if let (Some(ids), Some(page)) = (ids.as_array(), page)
            && !ids.iter().any(|id| id.as_i64() == Some(page))
        {
            continue;
        }
        let name = signal["name"].as_str().unwrap().to_owned();
        if signal["is_multiplexer"].as_bool().unwrap() {
            values.insert(name, page.unwrap() as f64);
            continue;
        }
        let (scale, offset) = (signal["scale"].as_f64().unwrap(), signal["offset"].as_f64().unwrap());
        let (min, max) = (signal["minimum"].as_f64().unwrap(), signal["maximum"].as_f64().unwrap());
        if signal["is_float"].as_bool().unwrap() {
            values.insert(name, min + (max - min) * (random.next_u64() % 1_000_001) as f64 / 1e6);
            continue;
        }
        let bits = signal["length"].as_u64().unwrap() as u32;
        let (field_low, field_high) = if signal["is_signed"].as_bool().unwrap() {
            (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
        } else {
            (0, (1i64 << bits) - 1)
        };
        let raw_low = (((min - offset) / scale).ceil() as i64).max(field_low);
        let raw_high = (((max - offset) / scale).floor() as i64).min(field_high);
        let raw = random.range_i64(raw_low, raw_high);
        let nudge = if random.next_u64().is_multiple_of(3) && raw < raw_high { scale / 3.0 } else { 0.0 };
        values.insert(name, raw as f64 * scale + offset + nudge);
    }
    values
}

#[test]
fn encoding_equals_cantools_bit_for_bit_and_each_decodes_the_other() {
    let dbc = truck_dbc();
    let Some(description) = cantools(&json!({"dbc": truck_dbc_path(), "describe": true})) else {
        return;
    };
    let mut random = SplitMix64(42);
    let mut requests: Vec<(String, BTreeMap<String, f64>)> = Vec::new();
    for message in description["messages"].as_array().unwrap() {
        let name = message["name"].as_str().unwrap().to_owned();
        let multiplexed = message["signals"].as_array().unwrap().iter().any(|s| s["is_multiplexer"] == true);
        let pages: Vec<Option<i64>> = if multiplexed { vec![Some(0), Some(1)] } else { vec![None] };
        for page in pages {
            for _ in 0..100 {
                requests.push((name.clone(), random_values(message, page, &mut random)));
            }
            // Refused by both: a value far outside the range, an unknown signal, a missing one.
            let mut values = random_values(message, page, &mut random);
            let (first, _) = values.iter().find(|(k, _)| !k.starts_with("StatusPage")).unwrap();
            let first = first.clone();
            values.insert(first.clone(), 1e9);
            requests.push((name.clone(), values));
            let mut values = random_values(message, page, &mut random);
            values.insert("NoSuchSignal".into(), 1.0);
            requests.push((name.clone(), values));
            let mut values = random_values(message, page, &mut random);
            values.remove(&first);
            requests.push((name.clone(), values));
        }
    }
    // A signal of multiplexer page 1 sent with page 0: refused by both.
    let mut wrong_page = random_values(&description["messages"][4], Some(0), &mut random);
    wrong_page.insert("TirePressureFrontLeft".into(), 100.0);
    requests.push(("TRUCK_STATUS".into(), wrong_page));
    // Page 2 selects nothing: refused by both.
    requests.push((
        "TRUCK_STATUS".into(),
        BTreeMap::from([("StatusPage".into(), 2.0), ("StatusCounter".into(), 0.0)]),
    ));
    assert_eq!(description["messages"][4]["name"], "TRUCK_STATUS");

    let request = json!({
        "dbc": truck_dbc_path(),
        "encode": requests.iter().map(|(m, v)| json!({"message": m, "signals": v})).collect::<Vec<_>>(),
    });
    let answer = cantools(&request).unwrap();
    let mut ours_encoded = Vec::new();
    let (mut same, mut both_refused) = (0, 0);
    for ((message, values), theirs) in requests.iter().zip(answer["encode"].as_array().unwrap()) {
        match (dbc.encode(message, values), theirs.get("data")) {
            (Ok(encoded), Some(data)) => {
                assert_eq!(hex(&encoded.data), data.as_str().unwrap(), "{message} {values:?}");
                ours_encoded.push(encoded.into_can_frame(0, "can0"));
                same += 1;
            }
            (Err(error), None) => {
                // Our error names the message and, for a signal fault, the signal.
                let text = error.to_string();
                assert!(text.contains(message.as_str()), "{text}");
                both_refused += 1;
            }
            (ours, _) => panic!("{message} {values:?}: ours {ours:?}, cantools {theirs}"),
        }
    }
    assert_eq!(same, 900, "9 message pages × 100 encodings");
    assert_eq!(both_refused, 29);

    // Rust-encoded payloads decoded by cantools (and by us) agree, signal for signal.
    let request = json!({
        "dbc": truck_dbc_path(),
        "decode": ours_encoded.iter().map(|f| json!({"can_id": f.can_id, "extended": f.extended, "data": hex(&f.data)})).collect::<Vec<_>>(),
    });
    let answer = cantools(&request).unwrap();
    let (decoded, errors) =
        assert_decodes_like_cantools(&dbc, &ours_encoded, answer["decode"].as_array().unwrap());
    assert_eq!((decoded, errors), (900, 0));
    // And what we decode is what was encoded, to within half a step (exact for integers).
    for (frame, (_, values)) in
        ours_encoded.iter().zip(requests.iter().filter(|(m, v)| dbc.encode(m, v).is_ok()))
    {
        let decoded = dbc.decode(frame).unwrap().unwrap();
        for (name, value) in values {
            let error = (decoded.signals[name] - value).abs();
            assert!(
                error <= 0.5 + 1e-6 * value.abs().max(1.0),
                "{name}: {value} -> {}",
                decoded.signals[name]
            );
        }
    }
}

#[test]
fn hand_checked_frames_decode_to_their_values() {
    let dbc = truck_dbc();
    // TRUCK_WHEEL_SPEED (extended 0x18FEF100), WheelBasedSpeed : 8|16@1+ (1/256 km/h):
    // Intel, LSB at bit 8 = byte 1 bit 0, 16 bits -> byte 1 low, byte 2 high.
    // 36 km/h = raw 36 × 256 = 9216 = 0x2400 -> byte 1 = 0x00, byte 2 = 0x24.
    // ParkingBrakeSet : 2|2@1+ -> byte 0 bits 2..3; byte 0 = 0b0000_0100 -> 1 ("Set").
    let decoded = dbc.decode(&frame(0x18FE_F100, true, &[0x04, 0x00, 0x24, 0, 0, 0, 0, 0])).unwrap().unwrap();
    assert_eq!(decoded.name, "TRUCK_WHEEL_SPEED");
    assert_eq!(decoded.signals["WheelBasedSpeed"], 36.0);
    assert_eq!(decoded.signals["ParkingBrakeSet"], 1.0);

    // TRUCK_YAW_RATE (0x1A0), YawRate : 7|16@0- (0.01 deg/s): Motorola, MSB at byte 0 bit 7,
    // 16 bits -> byte 0 high, byte 1 low. 0xFF38 = 65336 -> signed 65336 - 65536 = -200 -> -2 deg/s.
    // ImuTemperature : 49|10@0- (0.25 degC): MSB at byte 6 bit 1 -> byte 6 bits 1..0 then byte 7
    // bits 7..0. Byte 6 = 0b0000_0011, byte 7 = 0b1111_0110 -> 0b11_1111_0110 = 1014 -> 1014 - 1024
    // = -10 -> -2.5 degC. ImuCounter : 53|4@0+ -> byte 6 bits 5..2, here 0.
    let decoded = dbc
        .decode(&frame(0x1A0, false, &[0xFF, 0x38, 0, 0, 0, 0, 0b0000_0011, 0b1111_0110]))
        .unwrap()
        .unwrap();
    assert_eq!(decoded.signals["YawRate"], -200.0 * 0.01);
    assert_eq!(decoded.signals["ImuTemperature"], -2.5);
    assert_eq!(decoded.signals["ImuCounter"], 0.0);

    // TRUCK_GEAR (0x1B0): GearSelector 0|4 = byte 0 low nibble 3 ("Drive"); CurrentGear 8|8
    // offset -125: byte 1 = 127 -> 2nd gear forward.
    let decoded = dbc.decode(&frame(0x1B0, false, &[0x03, 127, 0, 0])).unwrap().unwrap();
    assert_eq!((decoded.signals["GearSelector"], decoded.signals["CurrentGear"]), (3.0, 2.0));
}

#[test]
fn vehicle_signals_come_from_the_mapped_dbc_signals() {
    let mut decoder = VehicleSignalDecoder::new(&CanInputConfig::default(), truck_dbc()).unwrap();
    let mut push = |stamp_ns: u64, can_id: u32, extended: bool, data: &[u8]| {
        decoder.push(&CanFrame { stamp_ns, bus: "can0".into(), can_id, extended, data: data.to_vec() })
    };
    // 36 km/h (see hand_checked_frames_decode_to_their_values) = 10 m/s.
    assert!(push(100, 0x18FE_F100, true, &[0x04, 0x00, 0x24, 0, 0, 0, 0, 0]).unwrap());
    // -2 deg/s = -π/90 rad/s.
    assert!(push(200, 0x1A0, false, &[0xFF, 0x38, 0, 0, 0, 0, 0, 0]).unwrap());
    // Gear "Drive" (3).
    assert!(push(300, 0x1B0, false, &[0x03, 127, 0, 0]).unwrap());
    // ServiceBrakeDemand 0|8 × 0.4 %: raw 125 -> 50 % -> 0.5.
    assert!(push(250, 0x1C0, false, &[125, 0, 0, 0, 0, 0, 0, 0]).unwrap());
    // A known message without mapped signals: decoded, nothing updated.
    assert!(!push(400, 0x300, false, &[0; 8]).unwrap());
    // Unknown ids are counted, not errors.
    assert!(!push(500, 0x7DF, false, &[2, 1, 0]).unwrap());
    assert!(!push(500, 0x1A0, true, &[0; 8]).unwrap());
    // A short frame of a known id: an error naming the message, counted; the signals stay.
    let error = push(600, 0x18FE_F100, true, &[0; 3]).unwrap_err();
    assert!(error.to_string().contains("TRUCK_WHEEL_SPEED"), "{error}");
    let signals = decoder.signals();
    assert!((signals.speed_mps.unwrap() - 10.0).abs() < 1e-12);
    assert!((signals.yaw_rate_radps.unwrap() - -std::f64::consts::PI / 90.0).abs() < 1e-15);
    assert_eq!(signals.gear, Some(3));
    assert!((signals.brake_ratio.unwrap() - 0.5).abs() < 1e-12);
    assert_eq!(signals.stamp_ns, 300);
    let counters = decoder.counters();
    assert_eq!(
        (counters.frames_received, counters.frames_decoded, counters.unknown_ids, counters.decode_errors),
        (8, 5, 2, 1)
    );

    // A mapping that names a signal the DBC lacks fails at start-up, naming the key.
    let config: CanInputConfig =
        toml::from_str("[signals]\nspeed_mps = { message = \"TRUCK_WHEEL_SPEED\", signal = \"Speed\" }")
            .unwrap();
    let error = VehicleSignalDecoder::new(&config, truck_dbc()).unwrap_err();
    assert_eq!(error.key, "run.inputs.can.signals.speed_mps.signal");
    let config: CanInputConfig = toml::from_str(
        "[signals]\nyaw_rate_radps = { message = \"TRUCK_YAW_RATE\", signal = \"LateralAccel\" }",
    )
    .unwrap();
    let error = VehicleSignalDecoder::new(&config, truck_dbc()).unwrap_err();
    assert_eq!(error.key, "run.inputs.can.signals.yaw_rate_radps.to_si_factor");
}

fn health(mode: DegradedMode, late_frames: u64) -> HealthReport {
    let input = |status| InputHealth { status, rate_hz: 10.0, age_ms: Some(5.0), stamp_offset_ms: None };
    HealthReport {
        stamp_ns: 0,
        mode,
        reason: String::new(),
        inputs: BTreeMap::from([
            ("lidar".into(), input(InputStatus::Stale)),
            ("camera".into(), input(InputStatus::Ok)),
            ("v2x".into(), input(InputStatus::Failed)),
            ("can".into(), input(InputStatus::RateLow)),
        ]),
        late_frames,
        dropped: BTreeMap::new(),
    }
}

#[test]
fn outputs_encode_the_health_and_the_nearest_objects() {
    let config = CanOutputConfig { nearest_objects: 3, ..CanOutputConfig::default() };
    let mut encoder = CanOutputEncoder::new(&config, truck_dbc(), "can1").unwrap();
    let object =
        |track_id, class_code, x_m, y_m, speed_mps| ObjectOnCan { track_id, class_code, x_m, y_m, speed_mps };
    let objects = [
        object(1, ObjectOnCan::class_code_for_label("car"), 50.0, 0.0, 3.0),
        object(70_000, ObjectOnCan::class_code_for_label("person"), 3.0, -4.0, 1.5),
        object(3, 2, f64::NAN, 1.0, 0.0),
        object(4, 0, -300.0, 10.0, 100.0),
        object(5, 0, 0.0, 5.0, 0.0),
    ];
    let frames = encoder.encode(1_000, &health(DegradedMode::LidarLost, 70_000), &objects).unwrap();
    assert_eq!(frames.len(), 4);
    assert!(frames.iter().all(|f| f.stamp_ns == 1_000 && f.bus == "can1"));
    let dbc = truck_dbc();
    let decoded: Vec<_> = frames.iter().map(|f| dbc.decode(f).unwrap().unwrap()).collect();
    let h = &decoded[0].signals;
    assert_eq!(decoded[0].name, "PITSENSE_HEALTH");
    assert_eq!(
        [
            h["DegradedMode"],
            h["AliveCounter"],
            h["LidarStatus"],
            h["CameraStatus"],
            h["V2xStatus"],
            h["CanStatus"]
        ],
        [1.0, 0.0, 3.0, 0.0, 4.0, 2.0]
    );
    assert_eq!((h["GnssStatus"], h["LateFrames"], h["ObjectCount"]), (7.0, 65_535.0, 3.0));
    // Nearest first: 5 m (tracks 70000 at (3, -4) and 5 at (0, 5): tie broken by id), then 50 m.
    let o: Vec<_> = decoded[1..].iter().map(|m| &m.signals).collect();
    assert_eq!([o[0]["ObjectIndex"], o[0]["TrackId"], o[0]["ObjectClass"]], [0.0, 5.0, 0.0]);
    assert_eq!(
        [o[1]["ObjectIndex"], o[1]["TrackId"], o[1]["ObjectClass"]],
        [1.0, (70_000 % 65_536) as f64, 4.0]
    );
    assert_eq!([o[1]["PositionX"], o[1]["PositionY"], o[1]["Speed"]], [3.0, -4.0, 1.5]);
    assert_eq!([o[2]["TrackId"], o[2]["PositionX"], o[2]["Speed"]], [1.0, 50.0, 3.0]);

    // Clamped to the DBC range; the alive counter counts cycles.
    let frames = encoder.encode(2_000, &health(DegradedMode::Nominal, 0), &objects[3..4]).unwrap();
    let h = dbc.decode(&frames[0]).unwrap().unwrap().signals;
    assert_eq!((h["AliveCounter"], h["DegradedMode"]), (1.0, 0.0));
    let o = dbc.decode(&frames[1]).unwrap().unwrap().signals;
    assert_eq!([o["PositionX"], o["PositionY"], o["Speed"]], [-204.8, 10.0, 81.9]);

    // cantools reads our frames the same way.
    let request = json!({
        "dbc": truck_dbc_path(),
        "decode": frames.iter().map(|f| json!({"can_id": f.can_id, "extended": f.extended, "data": hex(&f.data)})).collect::<Vec<_>>(),
    });
    if let Some(answer) = cantools(&request) {
        assert_eq!(assert_decodes_like_cantools(&dbc, &frames, answer["decode"].as_array().unwrap()), (2, 0));
    }

    // A DBC without the output messages is refused at start-up, naming the key.
    let error =
        CanOutputEncoder::new(&config, "VERSION \"\"\nNS_ :\nBS_:\nBU_: A\n".parse().unwrap(), "can1")
            .unwrap_err();
    assert_eq!(error.key, "run.outputs.can.dbc_path");
}

fn sample_frames() -> Vec<CanFrame> {
    vec![
        CanFrame {
            stamp_ns: 1_436_509_052_249_713_000,
            bus: "can0".into(),
            can_id: 0x123,
            extended: false,
            data: vec![0xDE, 0xAD, 0xBE, 0xEF],
        },
        CanFrame {
            stamp_ns: 1_436_509_052_250_000_000,
            bus: "can0".into(),
            can_id: 0x18FE_F100,
            extended: true,
            data: vec![0, 0, 0x24, 0, 0, 0, 0, 0],
        },
        CanFrame {
            stamp_ns: 1_436_509_052_251_000_000,
            bus: "can1".into(),
            can_id: 0x7FF,
            extended: false,
            data: vec![],
        },
        CanFrame {
            stamp_ns: 1_436_509_052_252_000_000,
            bus: "can1".into(),
            can_id: 0x10,
            extended: false,
            data: (0..64).collect(),
        },
    ]
}

#[test]
fn candump_logs_round_trip() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("round_trip.log");
    let frames = sample_frames();
    {
        let mut writer =
            open_bus(&format!("candump-write:{}", path.display()), Arc::new(ManualClock::new(0))).unwrap();
        for frame in &frames {
            writer.send(frame).unwrap();
        }
        assert!(matches!(writer.recv(Duration::ZERO), Err(CanError::Unsupported { .. })));
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().next().unwrap(), "(1436509052.249713) can0 123#DEADBEEF");
    assert_eq!(text.lines().nth(1).unwrap(), "(1436509052.250000) can0 18FEF100#0000240000000000");
    assert!(text.lines().nth(3).unwrap().starts_with("(1436509052.252000) can1 010##0000102"));

    let mut reader = open_bus(&format!("candump:{}", path.display()), Arc::new(ManualClock::new(0))).unwrap();
    for expected in &frames {
        assert_eq!(&reader.recv(Duration::ZERO).unwrap().unwrap(), expected);
    }
    assert!(matches!(reader.recv(Duration::ZERO), Err(CanError::EndOfLog { .. })));
    assert!(matches!(reader.send(&frames[0]), Err(CanError::Unsupported { .. })));

    // The writer refuses frames no bus carries.
    let mut writer = CandumpWriter::create(&directory.path().join("bad.log")).unwrap();
    let mut bad = frames[0].clone();
    bad.data = vec![0; 9];
    assert!(matches!(writer.write_frame(&bad), Err(CanError::InvalidFrame { .. })));
    bad.data.clear();
    bad.bus = "can 0".into();
    assert!(matches!(writer.write_frame(&bad), Err(CanError::InvalidFrame { .. })));
}

#[test]
fn candump_reader_reports_malformed_lines_and_reads_on() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("mixed.log");
    std::fs::write(
        &path,
        "(1436509052.249713) can0 123#DEADBEEF\n\
         (1436509052.249800) can0 12#00\n\
         \n\
         (1436509052.249900) can0 123#R\n\
         garbage\n\
         (1436509052.250000) can0 18FEF100#0000240000000000\n\
         (1436509052.250100) can0 123#0011223344556677889900\n\
         (1436509052.250200) can0 20000004#0000000000000000\n\
         (1436509052.250300) can1 456#01.02\n",
    )
    .unwrap();
    let mut reader = CandumpReader::open(&path).unwrap();
    let mut frames = Vec::new();
    let mut errors = Vec::new();
    loop {
        match reader.recv(Duration::ZERO) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => unreachable!("a log never times out"),
            Err(CanError::EndOfLog { .. }) => break,
            Err(error) => errors.push(error.to_string()),
        }
    }
    assert_eq!(frames.iter().map(|f| f.can_id).collect::<Vec<_>>(), [0x123, 0x18FE_F100, 0x456]);
    assert_eq!(frames[2].data, [1, 2]);
    assert_eq!(frames[2].bus, "can1");
    let name = path.display().to_string();
    assert_eq!(errors.len(), 3);
    assert!(
        errors[0].contains(&name) && errors[0].contains("line 2") && errors[0].contains("has 2 digits"),
        "{errors:?}"
    );
    assert!(errors[1].contains("line 5") && errors[1].contains("timestamp `garbage`"), "{errors:?}");
    assert!(errors[2].contains("line 7") && errors[2].contains("11 data bytes"), "{errors:?}");
    assert_eq!((reader.malformed_lines(), reader.skipped_frames()), (3, 2));
}

#[test]
fn cannelloni_round_trips_over_loopback_udp() {
    let clock = ManualClock::new(1_000);
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let localhost = "127.0.0.1:0".parse().unwrap();
    let mut truck = UdpCanBus::bind(localhost, None, shared.clone()).unwrap();
    let mut bridge = UdpCanBus::bind(localhost, Some(truck.local_addr().unwrap()), shared.clone()).unwrap();
    truck.set_peer(Some(bridge.local_addr().unwrap()));
    let timeout = Duration::from_secs(2);

    let frames = sample_frames();
    for (index, frame) in frames.iter().enumerate() {
        bridge.send(frame).unwrap();
        clock.set_ns(5_000 + index as u64);
        let received = truck.recv(timeout).unwrap().unwrap();
        // Same id, kind and payload; stamped at reception on the truck's clock, on its bus.
        assert_eq!(
            (received.can_id, received.extended, &received.data),
            (frame.can_id, frame.extended, &frame.data)
        );
        assert_eq!(received.stamp_ns, 5_000 + index as u64);
        assert_eq!(received.bus, truck.name());
    }
    truck.send(&frames[1]).unwrap();
    assert_eq!(bridge.recv(timeout).unwrap().unwrap().data, frames[1].data);
    // Nothing more: the timeout passes.
    assert!(truck.recv(Duration::from_millis(20)).unwrap().is_none());
    assert!(truck.recv(Duration::ZERO).unwrap().is_none());
    assert_eq!(truck.datagrams_lost(), 0);

    // A foreign sender: garbage is reported with its source, then valid datagrams go on
    // ("garb" is read as frame 0's id, "a" = 97 as its length).
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let truck_addr = truck.local_addr().unwrap();
    sender.send_to(b"\x02\x00\x07\x00\x05garbage", truck_addr).unwrap();
    let error = truck.recv(timeout).unwrap_err().to_string();
    assert!(
        error.contains(&sender.local_addr().unwrap().to_string())
            && error.contains("length 97 is not a classic CAN length"),
        "{error}"
    );
    // Hand-built: version 2, DATA, seq 9, two frames: 0x321 [AA], extended 0x1ABCDEF0 [].
    let datagram = [2, 0, 9, 0, 2, 0, 0, 0x03, 0x21, 1, 0xAA, 0x9A, 0xBC, 0xDE, 0xF0, 0];
    clock.set_ns(9_000);
    sender.send_to(&datagram, truck_addr).unwrap();
    let first = truck.recv(timeout).unwrap().unwrap();
    let second = truck.recv(Duration::ZERO).unwrap().unwrap();
    assert_eq!(
        (first.can_id, first.extended, first.data.as_slice(), first.stamp_ns),
        (0x321, false, &[0xAA][..], 9_000)
    );
    assert_eq!((second.can_id, second.extended, second.data.len()), (0x1ABC_DEF0, true, 0));
    // Sequence 9 after the bridge's 0..=3: a gap of 5 datagrams; then 12 after 9: 2 more.
    assert_eq!(truck.datagrams_lost(), 5);
    sender.send_to(&[2, 0, 12, 0, 0], truck_addr).unwrap();
    assert!(truck.recv(timeout).unwrap().is_none());
    assert_eq!(truck.datagrams_lost(), 7);

    // Through a URI; a bus without a peer cannot send.
    let mut receiver = open_bus("udp:127.0.0.1:0", shared).unwrap();
    assert!(matches!(receiver.send(&frames[0]), Err(CanError::Unsupported { .. })));
}

#[test]
fn socketcan_opens_a_real_interface_or_skips() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
    // Always: an error names the interface.
    let error = open_bus("socketcan:pitsense-no0", clock.clone()).err().unwrap().to_string();
    assert!(error.contains("socketcan:pitsense-no0"), "{error}");

    if let Err(error) = <socketcan::CanSocket as socketcan::Socket>::open_iface(0) {
        eprintln!("skipping the SocketCAN test: this kernel cannot create an AF_CAN socket ({error})");
        return;
    }
    let interface = std::env::var("PITSENSE_VCAN").unwrap_or_else(|_| "vcan0".into());
    let (mut a, mut b) = match (
        open_bus(&format!("socketcan:{interface}"), clock.clone()),
        open_bus(&format!("socketcan:{interface}"), clock),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!(
                "skipping the SocketCAN test: no interface {interface} ({error}); create it with `ip link add dev vcan0 type vcan`"
            );
            return;
        }
    };
    for frame in &sample_frames()[..3] {
        a.send(frame).unwrap();
        let received = b.recv(Duration::from_secs(1)).unwrap().unwrap();
        assert_eq!(
            (received.can_id, received.extended, &received.data),
            (frame.can_id, frame.extended, &frame.data)
        );
        assert_eq!(received.bus, interface);
    }
}
