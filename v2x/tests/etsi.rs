//! ETSI CAM and CPM: decode, re-encode and convert, checked against asn1tools (an independent
//! UPER codec compiling the same ETSI modules, `tests/data/etsi/make_vectors.py`) and hand
//! computations from the CDD unit definitions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use std::path::PathBuf;

use nalgebra::Vector3;
use pitsense_v2x::etsi::generated::cpm_originating_station_containers::OriginatingVehicleContainer;
use pitsense_v2x::etsi::generated::cpm_pdu_descriptions::{
    ConstraintWrappedCpmContainers, CpmPayload, ManagementContainer, WrappedCpmContainers,
};
use pitsense_v2x::etsi::generated::cpm_perceived_object_container::{
    PerceivedObjectContainer, PerceivedObjects,
};
use pitsense_v2x::etsi::generated::etsi_its_cdd::{
    CardinalNumber1B, CartesianCoordinateLarge, CartesianCoordinateWithConfidence,
    CartesianPosition3dWithConfidence, ConfidenceLevel, CoordinateConfidence, DeltaTimeMilliSecondSigned,
    Identifier2B, ObjectClass, ObjectClassDescription, ObjectClassWithConfidence, PerceivedObject,
    TrafficParticipantType, Wgs84Angle, Wgs84AngleConfidence, Wgs84AngleValue,
};
use pitsense_v2x::etsi::{
    self, CONTAINER_ORIGINATING_VEHICLE, CONTAINER_PERCEIVED_OBJECTS, EtsiError, EtsiMessage,
};
use pitsense_v2x::geodesy::{Geodetic, SiteFrame};
use pitsense_v2x::measurement::{MeasurementConfig, MessageKind};

fn vectors() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/etsi/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vector_bytes(message: &str, key: &str) -> Vec<u8> {
    common::hex_to_bytes(vectors()[message][key].as_str().unwrap())
}

/// 2024-06-01T12:00:00Z on the Unix clock (`date -u -d 2024-06-01T12:00:00Z +%s`), ns.
const REFERENCE_UNIX_NS: u64 = 1_717_243_200 * 1_000_000_000;

#[test]
fn the_asn1tools_cam_decodes_to_its_values_and_re_encodes_byte_identically() {
    let bytes = vector_bytes("cam", "hex");
    let (message, consumed) = etsi::decode_pdu(&bytes).unwrap();
    assert_eq!(consumed, bytes.len());
    let EtsiMessage::Cam(cam) = message else { panic!("not a CAM: {message:?}") };
    let view = etsi::cam_view(&cam);
    assert_eq!((view.station_id, view.station_type, view.generation_delta_time_ms), (3001, 8, 12345));
    assert!((view.lat_deg.unwrap() - -24.27).abs() < 1e-9);
    assert!((view.lon_deg.unwrap() - -69.07).abs() < 1e-9);
    assert!((view.elevation_m.unwrap() - 3100.50).abs() < 1e-9);
    assert!((view.heading_rad.unwrap() - 45f64.to_radians()).abs() < 1e-12);
    assert!((view.speed_mps.unwrap() - 12.34).abs() < 1e-12);
    assert!((view.length_m.unwrap() - 13.0).abs() < 1e-12);
    assert_eq!(view.width_m, None, "61 is outOfRange (wider than 6.1 m)");
    assert_eq!(etsi::encode_cam(&cam).unwrap(), bytes);
}

#[test]
fn the_asn1tools_cpm_decodes_to_its_values_and_re_encodes_byte_identically() {
    let bytes = vector_bytes("cpm", "hex");
    let (message, consumed) = etsi::decode_pdu(&bytes).unwrap();
    assert_eq!(consumed, bytes.len());
    let EtsiMessage::Cpm(cpm) = message else { panic!("not a CPM: {message:?}") };
    assert_eq!(etsi::encode_cpm(&cpm).unwrap(), bytes);
    // The perceived object container is carried as its own UPER octets.
    let container = cpm.payload.cpm_containers.0.0.iter().find(|c| c.container_id.0 == 5).unwrap();
    assert_eq!(container.container_data.as_bytes(), vector_bytes("cpm", "perceived_object_container_hex"));

    let view = etsi::cpm_view(&cpm).unwrap();
    assert_eq!((view.station_id, view.reference_time_its_ms, view.sender), (424_242, 644_328_005_000, "rsu"));
    assert!((view.lat_deg.unwrap() - -24.271_234_5).abs() < 1e-10);
    assert!((view.lon_deg.unwrap() - -69.075_432_1).abs() < 1e-10);
    assert!((view.elevation_m.unwrap() - 3105.25).abs() < 1e-9);
    assert_eq!(view.objects.len(), 2);
    let car = &view.objects[0];
    assert_eq!((car.object_id, car.measurement_delta_time_ms, car.class), (Some(11), -20, "unknown"));
    assert_eq!(car.offset_m, [25.0, 12.5, 1.0]);
    let sigma = [0.5 / 1.96, 0.8 / 1.96, 2.0 / 1.96];
    for (got, want) in car.offset_sigma_m.iter().zip(sigma) {
        assert!((got.unwrap() - want).abs() < 1e-12);
    }
    assert_eq!(car.velocity_mps, Some([3.0, -4.0]));
    assert!((car.yaw_rad.unwrap() - 306.9f64.to_radians()).abs() < 1e-12);
    let size = car.size_m.map(Option::unwrap);
    assert!((size[0] - 4.5).abs() < 1e-12 && (size[1] - 1.8).abs() < 1e-12 && (size[2] - 1.7).abs() < 1e-12);
    let person = &view.objects[1];
    assert_eq!(
        (person.object_id, person.class, person.velocity_mps, person.yaw_rad),
        (Some(12), "person", None, None)
    );
    assert_eq!(person.offset_m, [-7.25, -30.0, 1.0]);
}

#[test]
fn cpm_objects_land_where_the_rsu_put_them_and_move_with_their_velocity() {
    let bytes = vector_bytes("cpm", "hex");
    let (EtsiMessage::Cpm(cpm), _) = etsi::decode_pdu(&bytes).unwrap() else { panic!() };
    // The site origin at the RSU's reference position: offsets are ENU coordinates there.
    let site = SiteFrame::new(Geodetic::new(-24.271_234_5, -69.075_432_1, 3105.25)).unwrap();
    let config = MeasurementConfig::default();
    // The car's time is referenceTime − 20 ms: TimestampIts 644 328 005 000 is
    // 2024-06-01T12:00:00Z once the 5 leap seconds since 2004 are taken off.
    let car_time_ns = REFERENCE_UNIX_NS - 20_000_000;
    let at_message_time = etsi::cpm_measurements(&cpm, &site, &config, car_time_ns).unwrap();
    assert_eq!(at_message_time.len(), 2);
    let car = &at_message_time[0];
    assert_eq!(car.message_time_ns, car_time_ns);
    assert_eq!(car.key.kind, MessageKind::Cpm);
    assert_eq!(car.key.station_id, 424_242u32.to_be_bytes());
    assert_eq!(car.key.object_id, Some(11));
    let center = car.detection.center_m;
    assert!((center.coords - Vector3::new(25.0, 12.5, 1.0)).norm() < 1e-3, "{center}");
    // Covariance: the reference ellipse (0.5 m x 0.2 m at 95 %, major axis 30° east of north)
    // plus the object's coordinate confidences (0.5 m, 0.8 m at 95 %).
    let (a, b, theta) = (0.5 / 1.96, 0.2 / 1.96, 30f64.to_radians());
    let xx = a * a * theta.sin().powi(2) + b * b * theta.cos().powi(2) + (0.5f64 / 1.96).powi(2);
    let yy = a * a * theta.cos().powi(2) + b * b * theta.sin().powi(2) + (0.8f64 / 1.96).powi(2);
    let xy = (a * a - b * b) * theta.sin() * theta.cos();
    let cov = car.position_covariance_m2;
    assert!(
        (cov[(0, 0)] - xx).abs() < 1e-9 && (cov[(1, 1)] - yy).abs() < 1e-9 && (cov[(0, 1)] - xy).abs() < 1e-9
    );
    // 306.9° counter-clockwise from east in ENU is the site yaw (wrapped to (−π, π]).
    assert!((car.detection.yaw_rad - (306.9f64 - 360.0).to_radians()).abs() < 1e-6);

    // 120 ms later: (3, −4) m/s × 0.12 s.
    let later = etsi::cpm_measurements(&cpm, &site, &config, car_time_ns + 120_000_000).unwrap();
    let moved = later[0].detection.center_m - center;
    assert!((moved - Vector3::new(0.36, -0.48, 0.0)).norm() < 1e-6, "{moved}");
    assert!((later[0].latency_s - 0.12).abs() < 1e-9);
    // The person has no velocity: it stays, with a covariance grown by the unknown-velocity σ.
    let person_moved = later[1].detection.center_m - at_message_time[1].detection.center_m;
    assert!(person_moved.norm() < 1e-9);
    assert_eq!(later[1].detection.class_label, "person");
}

fn coordinate(value_cm: i32) -> CartesianCoordinateWithConfidence {
    CartesianCoordinateWithConfidence {
        value: CartesianCoordinateLarge(value_cm),
        confidence: CoordinateConfidence(30),
    }
}

/// A CPM made here from a vehicle heading north, with one passenger car 10 m ahead and 2 m
/// to its left.
fn vehicle_cpm() -> pitsense_v2x::etsi::generated::cpm_pdu_descriptions::CollectivePerceptionMessage {
    let (EtsiMessage::Cpm(template), _) = etsi::decode_pdu(&vector_bytes("cpm", "hex")).unwrap() else {
        panic!()
    };
    let vehicle = OriginatingVehicleContainer::new(
        Wgs84Angle::new(Wgs84AngleValue(0), Wgs84AngleConfidence(10)),
        None,
        None,
        None,
    );
    let object = PerceivedObject::new(
        Some(Identifier2B(7)),
        DeltaTimeMilliSecondSigned(0),
        CartesianPosition3dWithConfidence::new(coordinate(1000), coordinate(200), None),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        Some(ObjectClassDescription(vec![ObjectClassWithConfidence::new(
            ObjectClass::vehicleSubClass(TrafficParticipantType(5)),
            ConfidenceLevel(80),
        )])),
        None,
    );
    let objects = PerceivedObjectContainer::new(CardinalNumber1B(1), PerceivedObjects(vec![object]));
    let containers = vec![
        etsi::wrap_container(CONTAINER_ORIGINATING_VEHICLE, &vehicle).unwrap(),
        etsi::wrap_container(CONTAINER_PERCEIVED_OBJECTS, &objects).unwrap(),
    ];
    let management = template.payload.management_container.clone();
    let management =
        ManagementContainer::new(management.reference_time, management.reference_position, None, None);
    let mut cpm = (*template).clone();
    cpm.payload =
        CpmPayload::new(management, ConstraintWrappedCpmContainers(WrappedCpmContainers(containers)));
    cpm
}

#[test]
fn a_vehicle_cpm_round_trips_and_its_objects_turn_with_the_vehicle() {
    let cpm = vehicle_cpm();
    let bytes = etsi::encode_cpm(&cpm).unwrap();
    let (EtsiMessage::Cpm(decoded), _) = etsi::decode_pdu(&bytes).unwrap() else { panic!() };
    assert_eq!(*decoded, cpm);
    let view = etsi::cpm_view(&decoded).unwrap();
    assert_eq!((view.sender, view.orientation_rad), ("vehicle", Some(0.0)));
    assert_eq!(view.objects[0].class, "car");
    let site = SiteFrame::new(Geodetic::new(-24.271_234_5, -69.075_432_1, 3105.25)).unwrap();
    let m = etsi::cpm_measurements(&decoded, &site, &MeasurementConfig::default(), REFERENCE_UNIX_NS)
        .unwrap()
        .remove(0);
    // By hand: heading north, the vehicle's x axis is north and y west: (10, 2) → ENU (−2, 10).
    let center = m.detection.center_m;
    assert!((center.x - -2.0).abs() < 1e-3 && (center.y - 10.0).abs() < 1e-3, "{center}");
    assert!((m.detection.score - 0.8).abs() < 1e-6);
    assert_eq!(m.detection.class_label, "car");
}

#[test]
fn bad_etsi_input_gives_clear_errors() {
    assert_eq!(etsi::decode_pdu(&[2]).unwrap_err(), EtsiError::TooShort { length_bytes: 1 });
    let bytes = vector_bytes("cpm", "hex");
    let error = etsi::decode_pdu(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(error, EtsiError::Decode { message: "CPM", message_id: 14, .. }), "{error}");
    assert!(error.to_string().starts_with("UPER CPM (messageId 14): "), "{error}");
    // A DENM (messageId 1) is reported, not decoded.
    let (message, _) = etsi::decode_pdu(&[2, 1, 0, 0, 0x30, 0x39, 0xff]).unwrap();
    assert_eq!(message, EtsiMessage::Unsupported { message_id: 1, station_id: Some(12_345) });
    // A perceived object container whose octets are junk.
    let mut cpm = vehicle_cpm();
    cpm.payload.cpm_containers.0.0[1].container_data = rasn::types::Any::new(vec![0xff]);
    let error = etsi::decode_pdu(&etsi::encode_cpm(&cpm).unwrap()).unwrap_err();
    assert!(error.to_string().contains("PerceivedObjectContainer"), "{error}");
}

#[test]
fn asn1tools_still_makes_the_committed_vectors() {
    let python = std::env::var_os("PITSENSE_PYTHON").unwrap_or_else(|| "python3".into());
    let out = std::env::temp_dir().join(format!("pitsense-etsi-vectors-{}.json", std::process::id()));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/etsi/make_vectors.py");
    let output = std::process::Command::new(&python)
        .arg(&script)
        .arg(common::data_root())
        .arg(&out)
        .output()
        .expect("python runs make_vectors.py");
    assert!(
        output.status.success(),
        "make_vectors.py failed (needs asn1tools==0.169.0; `./x test` installs it):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let made: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();
    assert_eq!(made, vectors());
}

/// SplitMix64: a small, seeded, portable generator for deterministic mutations.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn the_etsi_fuzz_entry_point_survives_seeded_mutations() {
    let seeds =
        [vector_bytes("cam", "hex"), vector_bytes("cpm", "hex"), etsi::encode_cpm(&vehicle_cpm()).unwrap()];
    let mut state = 2024u64;
    let mut decoded = 0usize;
    for round in 0..6000usize {
        let mut input = seeds[round % seeds.len()].clone();
        match next(&mut state) % 4 {
            0 => {
                let bit = (next(&mut state) as usize) % (input.len() * 8);
                input[bit / 8] ^= 1 << (bit % 8);
            }
            1 => input.truncate((next(&mut state) as usize) % input.len()),
            2 => {
                let at = (next(&mut state) as usize) % input.len();
                input[at] = next(&mut state) as u8;
            }
            _ => input = (0..(next(&mut state) % 200)).map(|_| next(&mut state) as u8).collect(),
        }
        if etsi::decode_pdu(&input).is_ok() {
            decoded += 1;
        }
        etsi::fuzz_decode_pdu(&input);
    }
    // Some mutations still decode (bit flips in values), most do not: both paths ran.
    assert!(decoded > 100 && decoded < 6000, "{decoded}");
}

#[test]
fn the_unified_entry_point_reads_etsi_explicitly_and_in_auto_mode() {
    use pitsense_v2x::decode::{AnyReport, DecodeConfig, FormatConfig, Standard, decode_any};
    let bytes = vector_bytes("cpm", "hex");
    for standard in [Standard::Auto, Standard::Etsi] {
        let format = FormatConfig { standard, ..FormatConfig::default() };
        let report = decode_any(&bytes, &DecodeConfig::default(), &format).unwrap();
        assert_eq!(report.standard(), "etsi");
        let AnyReport::Etsi(etsi) = &report else { panic!("{report:?}") };
        assert_eq!((etsi.length_bytes, etsi.trailing.is_none()), (bytes.len(), true));
        let view = pitsense_v2x::view::AnyCaptureView::from(&report);
        let json = serde_json::to_value(&view.messages[0]).unwrap();
        assert_eq!((json["standard"].as_str(), json["message_type"].as_str()), (Some("etsi"), Some("CPM")));
        assert_eq!(json["edition"], "TS 103 324 v2.1.1");
        assert_eq!(json["objects"].as_array().unwrap().len(), 2);
        assert_eq!(json["station_id"], 424_242);
    }
    // A cut CPM asked for as ETSI is an error naming the PDU; in auto mode it is not ETSI.
    let cut = &bytes[..bytes.len() - 10];
    let format = FormatConfig { standard: Standard::Etsi, ..FormatConfig::default() };
    let error = decode_any(cut, &DecodeConfig::default(), &format).unwrap_err();
    assert!(error.to_string().contains("UPER CPM (messageId 14)"), "{error}");
    assert!(!pitsense_v2x::decode::looks_like_etsi(cut));
    // Trailing octets after a whole PDU are reported.
    let mut longer = vector_bytes("cam", "hex");
    longer.extend_from_slice(&[0xaa, 0xbb]);
    let report = decode_any(&longer, &DecodeConfig::default(), &format).unwrap();
    let AnyReport::Etsi(etsi) = report else { panic!() };
    assert_eq!(etsi.trailing.unwrap().length_bytes, 2);
}

#[test]
fn its_time_stamps_convert_without_overflow_at_the_extremes() {
    // 2024-06-01T12:00:00Z is TimestampIts 644 328 005 000 (5 leap seconds since 2004).
    assert_eq!(etsi::truck_time_ns(644_328_005_000, 0, 0), REFERENCE_UNIX_NS);
    // Absurd values saturate instead of overflowing.
    assert_eq!(etsi::truck_time_ns(u64::MAX, i64::MAX, i64::MIN), u64::MAX);
    assert_eq!(etsi::truck_time_ns(0, i64::MIN, i64::MAX), 0);
}

/// The one measurement entry takes any standard: a CPM through it lands in the configured
/// output frame as J2735 and CSAE objects do. Ego frame: the truck at (10, 20, 0) in the site
/// frame, heading +90° (north), so a site point p is at Rz(−90°)(p − t) in the truck frame: x_truck =
/// y_site − 20, y_truck = −(x_site − 10); the covariance's xx and yy swap and xy changes sign;
/// headings turn by −90°. A CAM gives no objects, with its messageId (2).
#[test]
fn the_measurement_entry_puts_cpm_objects_in_the_configured_frame() {
    use nalgebra::{Isometry3, Translation3, UnitQuaternion};
    use pitsense_types::{EgoState, FrameId, Header};
    use pitsense_v2x::decode::{DecodeConfig, FormatConfig, decode_any};
    use pitsense_v2x::measurement::{MeasurementBuilder, MeasurementContext, MeasurementError, OutputFrame};

    let site = SiteFrame::new(Geodetic::new(-24.271_234_5, -69.075_432_1, 3105.25)).unwrap();
    let fusion_stamp_ns = REFERENCE_UNIX_NS + 100_000_000;
    let report =
        decode_any(&vector_bytes("cpm", "hex"), &DecodeConfig::default(), &FormatConfig::default()).unwrap();
    let ego = EgoState {
        header: Header { stamp_ns: fusion_stamp_ns, frame: FrameId::Site, seq: 0 },
        site_from_truck: Isometry3::from_parts(
            Translation3::new(10.0, 20.0, 0.0),
            UnitQuaternion::from_euler_angles(0.0, 0.0, std::f64::consts::FRAC_PI_2),
        ),
        speed_mps: 0.0,
        yaw_rate_radps: 0.0,
        accel_mps2: 0.0,
    };
    let context = MeasurementContext { receive_stamp_ns: fusion_stamp_ns, fusion_stamp_ns, ego: Some(&ego) };

    let in_site = etsi::cpm_measurements(
        &match &report {
            pitsense_v2x::decode::AnyReport::Etsi(etsi) => match &etsi.message {
                EtsiMessage::Cpm(cpm) => (**cpm).clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        },
        &site,
        &MeasurementConfig::default(),
        fusion_stamp_ns,
    )
    .unwrap();
    assert_eq!(in_site.len(), 2);

    // Site frame (the default): the CPM's own measurements, numbered by the builder.
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site.clone()).unwrap();
    let per_message = builder.measurements(&report, &context);
    assert_eq!(per_message.len(), 1);
    let site_out = per_message[0].as_ref().unwrap();
    for (index, (got, want)) in site_out.iter().zip(&in_site).enumerate() {
        assert_eq!(got.detection.header.seq, index as u64);
        assert_eq!(got.detection.header.frame, FrameId::Site);
        assert_eq!(got.detection.center_m, want.detection.center_m);
        assert_eq!(got.position_covariance_m2, want.position_covariance_m2);
    }

    // Ego frame.
    let config = MeasurementConfig { output_frame: OutputFrame::Ego, ..MeasurementConfig::default() };
    let mut builder = MeasurementBuilder::new(config, site).unwrap();
    let per_message = builder.measurements(&report, &context);
    let ego_out = per_message[0].as_ref().unwrap();
    assert_eq!(ego_out.len(), 2);
    for (got, want) in ego_out.iter().zip(&in_site) {
        let (p, cov) = (want.detection.center_m, want.position_covariance_m2);
        assert_eq!(got.detection.header.frame, FrameId::Ego);
        let expected = Vector3::new(p.y - 20.0, -(p.x - 10.0), p.z);
        assert!(
            (got.detection.center_m.coords - expected).norm() < 1e-9,
            "{} vs {expected}",
            got.detection.center_m
        );
        let got_cov = got.position_covariance_m2;
        assert!((got_cov[(0, 0)] - cov[(1, 1)]).abs() < 1e-9 && (got_cov[(1, 1)] - cov[(0, 0)]).abs() < 1e-9);
        assert!((got_cov[(0, 1)] + cov[(0, 1)]).abs() < 1e-9 && (got_cov[(2, 2)] - cov[(2, 2)]).abs() < 1e-9);
        let turned = want.detection.yaw_rad - std::f64::consts::FRAC_PI_2;
        let difference = (got.detection.yaw_rad - turned).rem_euclid(std::f64::consts::TAU);
        assert!(
            difference < 1e-9 || std::f64::consts::TAU - difference < 1e-9,
            "{} vs {turned}",
            got.detection.yaw_rad
        );
        // The site-frame fields stay in the site frame.
        assert_eq!(got.center_in_site_m, want.center_in_site_m);
        if let (Some(velocity), Some(site_velocity)) = (got.velocity_mps, want.velocity_mps) {
            assert!(
                (velocity - Vector3::new(site_velocity.y, -site_velocity.x, site_velocity.z)).norm() < 1e-9
            );
        }
    }
    // Without an ego pose the ego frame cannot be given.
    let no_ego = MeasurementContext { ego: None, ..context };
    let error = builder.measurements(&report, &no_ego).remove(0).unwrap_err();
    assert!(matches!(error, MeasurementError::NoEgoPose { .. }), "{error}");

    // A CAM carries no objects.
    let cam =
        decode_any(&vector_bytes("cam", "hex"), &DecodeConfig::default(), &FormatConfig::default()).unwrap();
    let outcome = builder.measurements(&cam, &context).remove(0);
    assert_eq!(outcome, Err(MeasurementError::NotAnObjectMessage { message_id: 2 }));
}
