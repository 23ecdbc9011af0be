//! Golden tests on the 12 real CSAE UPER MessageFrames of a Hisense RSU integration
//! (`shared/data/v2x/csae/samples_hisense_rsu`): every field equals the JER decode made by an
//! independent ASN.1 tool (asn1tools 0.169.0, the `.jer.json` files), re-encoding gives the same
//! bytes, the RSU uplink frames parse, and the edition rules hold (the RSI sample does not
//! decode with the 2020 modules, and is not silently decoded with 2019 when 2020 is asked for).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::path::PathBuf;

use pitsense_v2x::csae::uplink::{UplinkLayout, read_uplink};
use pitsense_v2x::csae::{CsaeError, CsaeMessage, CsaeStandard, Edition, decode_frame, encode_frame};
use pitsense_v2x::decode::{AnyReport, DecodeConfig, FormatConfig, Standard, decode_any};
use serde_json::Value;

const SAMPLES: [&str; 12] = [
    "01_spat", "02_bsma", "02_bsmb", "03_rsm", "04_rsi", "05_map", "t1_bsm", "t2_bsm", "t3_spat", "t4_spat",
    "t5_spat", "t6_spat",
];

fn sample_dir() -> PathBuf {
    common::data_root().join("v2x/csae/samples_hisense_rsu")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(sample_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected_json(name: &str) -> Value {
    serde_json::from_slice(&read(&format!("{name}.jer.json"))).unwrap()
}

/// Compares a decoded value's JER JSON with asn1tools' JER, field by field. asn1tools writes
/// every BIT STRING as bare hex (its length given by the schema); rasn writes a BIT STRING with
/// a variable or extensible size as `{"value": hex, "length": bits}` (X.697), so that form is
/// compared by its hex. Returns the number of leaf values compared.
fn compare(path: &str, actual: &Value, expected: &Value) -> usize {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            let mut actual_keys: Vec<&String> = actual.keys().collect();
            let mut expected_keys: Vec<&String> = expected.keys().collect();
            actual_keys.sort();
            expected_keys.sort();
            assert_eq!(actual_keys, expected_keys, "{path}: fields differ");
            expected.iter().map(|(key, value)| compare(&format!("{path}.{key}"), &actual[key], value)).sum()
        }
        (Value::Object(bits), Value::String(hex)) if bits.len() == 2 && bits.contains_key("length") => {
            let value = bits["value"].as_str().unwrap();
            assert_eq!(value, hex.to_ascii_lowercase(), "{path}: BIT STRING");
            let length = bits["length"].as_u64().unwrap() as usize;
            assert!(length <= hex.len() * 4 && length + 8 > hex.len() * 4, "{path}: {length} bits vs {hex}");
            1
        }
        (Value::Array(actual), Value::Array(expected)) => {
            assert_eq!(actual.len(), expected.len(), "{path}: list lengths differ");
            actual
                .iter()
                .zip(expected)
                .enumerate()
                .map(|(i, (a, e))| compare(&format!("{path}[{i}]"), a, e))
                .sum()
        }
        (Value::String(actual), Value::String(expected)) => {
            // OCTET/BIT STRING hex is lower case in pitsense, either case in asn1tools.
            let expected = if expected.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                expected.to_ascii_lowercase()
            } else {
                expected.clone()
            };
            assert_eq!(actual, &expected, "{path}");
            1
        }
        (actual, expected) => {
            assert_eq!(actual, expected, "{path}");
            1
        }
    }
}

#[test]
fn all_twelve_samples_match_the_independent_jer_decode_and_re_encode_to_the_same_bytes() {
    for name in SAMPLES {
        let bytes = read(&format!("{name}.uper"));
        let (message, consumed) = decode_frame(&bytes, CsaeStandard::Csae53, Edition::Y2019)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(consumed, bytes.len(), "{name}: frame length");
        assert_eq!(message.edition(), Edition::Y2019);
        assert_eq!(message.standard(), CsaeStandard::Csae53);
        let leaves = compare(name, &message.raw_json().unwrap(), &expected_json(name));
        assert!(leaves >= 8, "{name}: only {leaves} values compared");
        assert_eq!(encode_frame(&message).unwrap(), bytes, "{name}: re-encoding differs");
    }
}

#[test]
fn message_types_follow_the_choice() {
    let expected = [
        ("01_spat", "SPAT"),
        ("02_bsma", "BSM"),
        ("03_rsm", "RSM"),
        ("04_rsi", "RSI"),
        ("05_map", "MAP"),
        ("t6_spat", "SPAT"),
    ];
    for (name, message_type) in expected {
        let (message, _) =
            decode_frame(&read(&format!("{name}.uper")), CsaeStandard::Csae53, Edition::Y2019).unwrap();
        assert_eq!(message.message_type(), message_type, "{name}");
        assert!(matches!(message, CsaeMessage::Y2019(_)));
    }
}

/// 2020-11-14 and 2020-11-26 as days since 1970-01-01 (2020-01-01 is day 18262; Nov 1 is
/// day-of-year 305 in a leap year).
const NOV_14_2020: u64 = 18262 + 305 + 13;
const NOV_26_2020: u64 = 18262 + 305 + 25;

#[test]
fn uplink_frames_parse_into_header_and_the_uper_payloads() {
    let frames = [
        ("01_spat", vec!["01_spat"]),
        ("02_bsm", vec!["02_bsma", "02_bsmb"]),
        ("03_rsm", vec!["03_rsm"]),
        ("04_rsi", vec!["04_rsi"]),
        ("05_map", vec!["05_map"]),
    ];
    for (frame_name, payload_names) in frames {
        let bytes = read(&format!("{frame_name}.frame.bin"));
        let frame = read_uplink(&bytes, UplinkLayout::Auto).unwrap_or_else(|e| panic!("{frame_name}: {e}"));
        assert_eq!(frame.rsu_id, "u_id_123", "{frame_name}");
        let day = frame.stamp_ms / 86_400_000;
        assert!(day == NOV_14_2020 || day == NOV_26_2020, "{frame_name}: day {day}");
        let payloads = frame.payload_slices(&bytes);
        assert_eq!(payloads.len(), payload_names.len(), "{frame_name}");
        for (payload, name) in payloads.iter().zip(&payload_names) {
            assert_eq!(*payload, read(&format!("{name}.uper")).as_slice(), "{frame_name}: {name}");
        }
        if frame_name == "02_bsm" {
            assert_eq!(frame.layout, UplinkLayout::List);
            assert_eq!(frame.count, Some(2));
            assert_eq!(frame.payloads[0].length_bytes, 86);
            assert_eq!(frame.payloads[1].length_bytes, 53);
        } else {
            assert_eq!(frame.layout, UplinkLayout::Single);
            assert_eq!(frame.count, None);
            assert_eq!(frame.payloads[0].offset_bytes, 18, "{frame_name}: 18-byte header");
            assert_eq!(frame.payloads[0].length_bytes + 18, bytes.len());
        }
        // The same frame decodes through the entry point, uplink header included.
        let format = FormatConfig { rsu_uplink: true, ..FormatConfig::default() };
        let AnyReport::Csae(report) = decode_any(&bytes, &DecodeConfig::default(), &format).unwrap() else {
            panic!("{frame_name}: not CSAE");
        };
        assert_eq!(report.frames.len(), payload_names.len(), "{frame_name}");
        assert!(report.trailing.is_none(), "{frame_name}: {:?}", report.trailing);
        assert_eq!(report.frames[0].offset_bytes, frame.payloads[0].offset_bytes);
    }
}

#[test]
fn truncated_and_malformed_uplink_frames_are_reported() {
    let bytes = read("02_bsm.frame.bin");
    let short = read_uplink(&bytes[..10], UplinkLayout::Auto).unwrap_err();
    assert!(matches!(short, CsaeError::Uplink { .. }), "{short}");
    let cut = read_uplink(&bytes[..bytes.len() - 1], UplinkLayout::List).unwrap_err();
    assert!(cut.to_string().contains("message 1 of 2"), "{cut}");
    let neither = read_uplink(&bytes[..bytes.len() - 1], UplinkLayout::Auto).unwrap_err();
    assert!(neither.to_string().contains("neither layout"), "{neither}");
}

#[test]
fn auto_reads_the_csae_samples_as_csae_2019_and_j2735_as_j2735() {
    for name in SAMPLES {
        let bytes = read(&format!("{name}.uper"));
        let report = decode_any(&bytes, &DecodeConfig::default(), &FormatConfig::default()).unwrap();
        let AnyReport::Csae(report) = report else { panic!("{name}: read as J2735") };
        assert_eq!(report.frames.len(), 1, "{name}");
        assert_eq!(report.frames[0].standard, CsaeStandard::Csae53);
        assert_eq!(report.frames[0].edition, Edition::Y2019);
    }
    let j2735 = std::fs::read(common::j2735_path("asn1_codec/j2735.MessageFrame.Bsm.uper")).unwrap();
    let report = decode_any(&j2735, &DecodeConfig::default(), &FormatConfig::default()).unwrap();
    assert_eq!(report.standard(), "j2735");
    let etsi = FormatConfig { standard: Standard::Etsi, ..FormatConfig::default() };
    let error = decode_any(&j2735, &DecodeConfig::default(), &etsi).unwrap_err();
    assert!(error.to_string().contains("protocolVersion 0 is not an ETSI ITS PDU"), "{error}");
}

#[test]
fn an_extension_alternative_is_refused_under_csae53_and_2019() {
    // First bit set: an extension alternative of MessageFrame (msgFrameExt in 2020).
    let frame = [0x80, 0x02, 0x00, 0x0c];
    let error = decode_frame(&frame, CsaeStandard::Csae53, Edition::Y2019).unwrap_err();
    assert!(matches!(error, CsaeError::ExtensionNotDefined { .. }), "{error}");
    assert!(error.to_string().contains("csae157"), "{error}");
    let error = decode_frame(&frame, CsaeStandard::Csae157, Edition::Y2019).unwrap_err();
    assert!(matches!(error, CsaeError::EditionNotDefined { .. }), "{error}");
}

#[test]
fn truncated_samples_give_errors_with_the_edition() {
    for name in SAMPLES {
        let bytes = read(&format!("{name}.uper"));
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            if let Err(error) = decode_frame(&bytes[..cut], CsaeStandard::Csae53, Edition::Y2019) {
                assert!(error.to_string().contains("csae53 2019"), "{name}[..{cut}]: {error}");
            }
        }
    }
}

#[cfg(feature = "csae-2020")]
#[test]
fn the_2020_edition_decodes_ten_samples_alike_and_refuses_the_rsi() {
    for name in SAMPLES {
        let bytes = read(&format!("{name}.uper"));
        let result = decode_frame(&bytes, CsaeStandard::Csae53, Edition::Y2020);
        match name {
            // RSI PathPointList SIZE(1..32) became (2..32): the sample's one-point path fails.
            "04_rsi" => {
                let error = result.unwrap_err();
                assert!(error.to_string().contains("csae53 2020"), "{error}");
            }
            // MAP Link.linkWidth became mandatory: the bits read as something else.
            "05_map" => {
                if let Ok((message, _)) = result {
                    assert_ne!(message.raw_json().unwrap(), expected_json(name), "05_map decoded alike");
                }
            }
            _ => {
                let (message, consumed) = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(consumed, bytes.len(), "{name}");
                assert_eq!(message.edition(), Edition::Y2020);
                compare(name, &message.raw_json().unwrap(), &expected_json(name));
                assert_eq!(encode_frame(&message).unwrap(), bytes, "{name}");
            }
        }
    }
    // An explicit 2020 edition is not silently retried as 2019.
    let format = FormatConfig { standard: Standard::Csae53, csae_edition: Edition::Y2020, rsu_uplink: false };
    let error = decode_any(&read("04_rsi.uper"), &DecodeConfig::default(), &format).unwrap_err();
    assert!(error.to_string().contains("2020"), "{error}");
}

#[test]
fn the_cli_views_carry_si_units_and_the_raw_fields() {
    use pitsense_v2x::view::{AnyMessageView, decode_capture_any};
    let view = |name: &str| {
        let capture = decode_capture_any(
            &read(&format!("{name}.uper")),
            &DecodeConfig::default(),
            &FormatConfig::default(),
        )
        .unwrap();
        let AnyMessageView::Csae(message) = &capture.messages[0] else { panic!("{name}: not CSAE") };
        serde_json::to_value(message).unwrap()
    };
    // MAP (05_map.jer.json): node refPos lat 280985258, long 1129830304 (1e-7 degree); the first
    // link's linkWidth 2200 (0.01 m), vehicleMaxSpeed 834 (0.02 m/s), first point absolute.
    let map = view("05_map");
    assert_eq!((map["standard"].as_str(), map["edition"].as_str()), (Some("csae53"), Some("2019")));
    assert_eq!(map["message_type"], "MAP");
    let node = &map["nodes"][0];
    assert_eq!(node["node_id"], 149);
    assert!((node["ref_position"]["lat_deg"].as_f64().unwrap() - 28.098_525_8).abs() < 1e-12);
    assert!((node["ref_position"]["lon_deg"].as_f64().unwrap() - 112.983_030_4).abs() < 1e-12);
    let link = &node["links"][0];
    assert_eq!(link["upstream_node_id"], 148);
    assert!((link["link_width_m"].as_f64().unwrap() - 22.0).abs() < 1e-12);
    assert_eq!(link["speed_limits"][0][0], "vehicleMaxSpeed");
    assert!((link["speed_limits"][0][1].as_f64().unwrap() - 16.68).abs() < 1e-12);
    assert!((link["points"][0]["lat_deg"].as_f64().unwrap() - 28.101_065_7).abs() < 1e-12);
    // The raw fields are the JER decode itself.
    compare("05_map raw", &map["raw"], &expected_json("05_map"));
    // SPAT: every phase state's light and counting times (TimeMark, 0.1 s) against the JSON.
    let spat = view("01_spat");
    let expected = expected_json("01_spat");
    let raw_phases = &expected["spatFrame"]["intersections"][0]["phases"];
    let phases = &spat["intersections"][0]["phases"];
    assert_eq!(phases.as_array().unwrap().len(), raw_phases.as_array().unwrap().len());
    for (phase, raw) in phases.as_array().unwrap().iter().zip(raw_phases.as_array().unwrap()) {
        assert_eq!(phase["phase_id"], raw["id"]);
        let (state, raw_state) = (&phase["states"][0], &raw["phaseStates"][0]);
        assert_eq!(state["light"], raw_state["light"]);
        let counting = &raw_state["timing"]["counting"];
        let likely = counting["likelyEndTime"].as_f64().unwrap() * 0.1;
        assert!((state["likely_end_time_s"].as_f64().unwrap() - likely).abs() < 1e-9);
    }
    // RSI: event 123, type 9902, position-LL1 (0, 0) and offset1 0 from refPos (280988051,
    // 1129829511, elevation 0), eventRadius 1000 (0.1 m).
    let rsi = view("04_rsi");
    let event = &rsi["events"][0];
    assert_eq!((event["item_id"].as_u64(), event["item_type"].as_u64()), (Some(123), Some(9902)));
    assert!((event["position"]["lat_deg"].as_f64().unwrap() - 28.098_805_1).abs() < 1e-12);
    assert!((event["position"]["lon_deg"].as_f64().unwrap() - 112.982_951_1).abs() < 1e-12);
    assert_eq!(event["position"]["elevation_m"].as_f64(), Some(0.0));
    assert!((event["radius_m"].as_f64().unwrap() - 100.0).abs() < 1e-9);
    // BSM 02_bsmb: lat 399764498 (1e-7 degree), elevation 467 (0.1 m), heading 14239 (0.0125
    // degree), size 150 x 450 cm.
    let bsm = view("02_bsmb");
    assert!((bsm["lat_deg"].as_f64().unwrap() - 39.976_449_8).abs() < 1e-12);
    assert!((bsm["elevation_m"].as_f64().unwrap() - 46.7).abs() < 1e-9);
    assert!((bsm["heading_rad"].as_f64().unwrap() - (14239.0f64 * 0.0125).to_radians()).abs() < 1e-12);
    assert!((bsm["width_m"].as_f64().unwrap() - 1.5).abs() < 1e-12);
    assert_eq!(bsm["raw"]["bsmFrame"]["secMark"], 9500);
}

#[test]
fn the_decoder_counts_csae_frames_per_rsu_format() {
    use pitsense_v2x::decode::Decoder;
    let mut decoder = Decoder::new(DecodeConfig::default()).unwrap();
    let rsu = FormatConfig { standard: Standard::Csae53, csae_edition: Edition::Y2019, rsu_uplink: true };
    decoder.decode_any(&read("02_bsm.frame.bin"), &rsu).unwrap();
    decoder.decode_any(&read("03_rsm.frame.bin"), &rsu).unwrap();
    assert!(decoder.decode_any(&read("03_rsm.uper"), &rsu).is_err()); // not an uplink frame
    let stats = decoder.stats();
    assert_eq!((stats.inputs, stats.inputs_rejected, stats.frames, stats.messages_decoded), (3, 1, 3, 3));
}
