//! CSAE RSM participants and SSM objects as measurements, checked against hand computations:
//! the real RSM sample's absolute `position-LatLon` participant, a made-up RSM with a
//! `position-LL3` offset and an `offset1` vertical offset, and (feature `csae-2020`) a made-up
//! SSM with participants and an obstacle that round-trips through `msgFrameExt` and lands where
//! it was put in the truck frame.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use nalgebra::{Isometry3, Translation3, UnitQuaternion};
use pitsense_types::{EgoState, FrameId, Header};
use pitsense_v2x::csae::{CsaeMessage, CsaeStandard, Edition, decode_frame, encode_frame};
use pitsense_v2x::geodesy::{Geodetic, SiteFrame};
use pitsense_v2x::measurement::{
    MeasurementBuilder, MeasurementConfig, MeasurementContext, MessageKind, OutputFrame, TimeSource,
};

const MINUTE_NS: u64 = 60_000_000_000;
/// WGS-84 semi-major axis and first eccentricity squared (NIMA TR8350.2).
const A_M: f64 = 6_378_137.0;
const E2: f64 = 6.694_379_990_14e-3;

/// Metres per 1e-7 degree of longitude at the equator (N = a there).
fn east_m(lon_units: f64) -> f64 {
    (lon_units * 1e-7).to_radians() * A_M
}

/// Metres per 1e-7 degree of latitude at the equator (M = a (1 - e²) there).
fn north_m(lat_units: f64) -> f64 {
    (lat_units * 1e-7).to_radians() * A_M * (1.0 - E2)
}

fn context_at(ms_in_minute: u64, ego: Option<&EgoState>) -> MeasurementContext<'_> {
    let stamp = 1000 * MINUTE_NS + ms_in_minute * 1_000_000;
    MeasurementContext { receive_stamp_ns: stamp, fusion_stamp_ns: stamp, ego }
}

fn ego_at(x: f64, y: f64, z: f64, yaw: f64) -> EgoState {
    EgoState {
        header: Header { stamp_ns: 0, frame: FrameId::Site, seq: 0 },
        site_from_truck: Isometry3::from_parts(
            Translation3::new(x, y, z),
            UnitQuaternion::from_euler_angles(0.0, 0.0, yaw),
        ),
        speed_mps: 0.0,
        yaw_rate_radps: 0.0,
        accel_mps2: 0.0,
    }
}

#[test]
fn the_rsm_sample_participant_is_read_as_an_absolute_position() {
    let bytes = std::fs::read(common::data_root().join("v2x/csae/samples_hisense_rsu/03_rsm.uper")).unwrap();
    let (message, _) = decode_frame(&bytes, CsaeStandard::Csae53, Edition::Y2019).unwrap();
    // The participant's offsetLL is position-LatLon: lat 297241937, lon 1074134465 (1e-7 deg),
    // while refPos is 39.0 N 116.0 E. Put the site origin on the participant.
    let site = SiteFrame::new(Geodetic::new(29.724_193_7, 107.413_446_5, 0.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    // secMark 12902 ms: message time = fusion time, no extrapolation.
    let measurements = builder.process_csae(&message, &context_at(12_902, None)).unwrap();
    assert_eq!(measurements.len(), 1);
    let measurement = &measurements[0];
    assert_eq!(measurement.key.kind, MessageKind::Sdsm);
    assert_eq!(measurement.key.object_id, Some(1));
    // RSU id "12345\0\0\0": halves XOR-ed.
    assert_eq!(measurement.key.station_id, [b'1' ^ b'5', b'2', b'3', b'4']);
    assert_eq!(measurement.time_source, TimeSource::Message);
    // non-motor, size 0 x 0 (not sent): a bicycle, 1.8 x 0.6 x 1.7 m, centre 0.85 m up.
    assert_eq!(measurement.detection.class_label, "bicycle");
    let center = measurement.center_in_site_m;
    assert!(center.x.abs() < 1e-6 && center.y.abs() < 1e-6, "{center}");
    assert!((center.z - 0.85).abs() < 1e-6, "{center}");
    // The RSU reference (39 N 116 E) is over 1000 km away: never added to the absolute position.
    assert!(measurement.sender_in_site_m.coords.norm() > 1.0e6);
    // speed 258 x 0.02 = 5.16 m/s, heading 13556 x 0.0125 = 169.45 degrees from north.
    let velocity = measurement.velocity_in_site_mps.unwrap();
    let heading = 169.45f64.to_radians();
    assert!((velocity.x - 5.16 * heading.sin()).abs() < 1e-6, "{velocity}");
    assert!((velocity.y - 5.16 * heading.cos()).abs() < 1e-6, "{velocity}");
    // posConfidence unavailable: the default 3 m sigma.
    assert!((measurement.position_covariance_m2[(0, 0)] - 9.0).abs() < 1e-6);
}

macro_rules! participant {
    ($m:ident, $id:expr, $kind:ident, $offset:expr, $vertical:expr, $speed:expr, $heading:expr, $width_cm:expr, $length_cm:expr) => {
        $m::rsm::ParticipantData::new(
            $m::rsm::ParticipantType::$kind,
            $id,
            $m::rsm::SourceType::lidar,
            None,
            $m::def_time::DSecond(5000),
            $m::def_position_offset::PositionOffsetLLV::new($offset, $vertical),
            $m::def_position::PositionConfidenceSet::new($m::def_position::PositionConfidence::a1m, None),
            None,
            $m::def_motion::Speed($speed),
            $m::def_motion::Heading($heading),
            None,
            None,
            None,
            $m::veh_size::VehicleSize::new(
                $m::veh_size::VehicleWidth($width_cm),
                $m::veh_size::VehicleLength($length_cm),
                None,
            ),
            None,
        )
    };
}

#[test]
fn a_made_up_rsm_offset_resolves_from_the_reference_position() {
    use m::def_position_offset::{
        OffsetLLB16, PositionLL32B, PositionOffsetLL, VertOffsetB07, VerticalOffset,
    };
    use pitsense_v2x::csae::csae53_2019_generated as m;
    // refPos at 0 N 0 E, 10.0 m; the participant 1000 units north, 2000 east (position-LL3),
    // 2.0 m up (offset1 = 20 x 0.1 m).
    let offset = PositionOffsetLL::position_LL3(PositionLL32B::new(OffsetLLB16(2000), OffsetLLB16(1000)));
    let ptc =
        participant!(m, 7, motor, offset, Some(VerticalOffset::offset1(VertOffsetB07(20))), 0, 0, 250, 1200);
    let rsm = m::rsm::RoadsideSafetyMessage::new(
        m::msg_frame::MsgCount(3),
        rasn::types::OctetString::from(vec![0, 0, 0, 0, 0, 0, 0, 9]),
        m::def_position::Position3D::new(
            m::def_position::Latitude(0),
            m::def_position::Longitude(0),
            Some(m::def_position::Elevation(100)),
        ),
        m::rsm::ParticipantList(vec![ptc]),
    );
    let message = CsaeMessage::Y2019(m::msg_frame::MessageFrame::rsmFrame(rsm));
    let bytes = encode_frame(&message).unwrap();
    let (decoded, consumed) = decode_frame(&bytes, CsaeStandard::Csae53, Edition::Y2019).unwrap();
    assert_eq!((decoded.clone(), consumed), (message, bytes.len()));

    let site = SiteFrame::new(Geodetic::new(0.0, 0.0, 0.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let measurements = builder.process_csae(&decoded, &context_at(5000, None)).unwrap();
    let measurement = &measurements[0];
    let center = measurement.center_in_site_m;
    // East 2000e-7 deg x a, north 1000e-7 deg x a(1 - e²), up 10.0 + 2.0 m minus the
    // ellipsoid's drop below the ENU plane over ~25 m ((e² + n²) / 2R, 0.05 mm).
    assert!((center.x - east_m(2000.0)).abs() < 0.01, "{center} vs {}", east_m(2000.0));
    assert!((center.y - north_m(1000.0)).abs() < 0.01, "{center} vs {}", north_m(1000.0));
    assert!((center.z - 12.0).abs() < 0.01, "{center}");
    assert!((east_m(2000.0) - 22.264).abs() < 1e-3 && (north_m(1000.0) - 11.057).abs() < 1e-3);
    // 12.00 m long: a truck, 2.50 m wide; a1m read as a 95 % bound.
    assert_eq!(measurement.detection.class_label, "truck");
    assert!((measurement.detection.size_m.x - 12.0).abs() < 1e-9);
    assert!((measurement.detection.size_m.y - 2.5).abs() < 1e-9);
    let sigma = 1.0 / 1.96;
    assert!((measurement.position_covariance_m2[(0, 0)] - sigma * sigma).abs() < 1e-9);
    // The reference is the RSU's position.
    assert!((measurement.sender_in_site_m.z - 10.0).abs() < 1e-6);
}

#[test]
fn map_spat_and_rsi_carry_no_objects() {
    let site = SiteFrame::new(Geodetic::new(28.1, 112.9, 0.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    for name in ["01_spat", "04_rsi", "05_map"] {
        let bytes =
            std::fs::read(common::data_root().join(format!("v2x/csae/samples_hisense_rsu/{name}.uper")))
                .unwrap();
        let (message, _) = decode_frame(&bytes, CsaeStandard::Csae53, Edition::Y2019).unwrap();
        assert!(builder.process_csae(&message, &context_at(0, None)).is_err(), "{name}");
    }
}

#[cfg(feature = "csae-2020")]
mod ssm {
    use super::*;
    use pitsense_v2x::csae::csae157_2020_generated as m;
    use pitsense_v2x::csae::{ExtMessage, ext_message_id};
    use pitsense_v2x::decode::{AnyReport, DecodeConfig, FormatConfig, decode_any};

    use m::def_position_offset::{
        OffsetLLB12, OffsetLLB14, PositionLL24B, PositionLL28B, PositionLLmD64b, PositionOffsetLL,
    };
    use m::sensor_sharing::*;
    use m::veh_safety_ext::Confidence;

    /// The made-up SSM: sensorPos 0 N 0 E 0 m; participant 1 (pedestrian) 900 units north
    /// (position-LL1), heading north; participant 2 (motor, 4.5 x 1.8 m) at the absolute
    /// position 1000, 1000 units (position-LatLon); obstacle 3 (rockfall, 3 x 2 x 1 m) 450
    /// units south and 900 east (position-LL2).
    pub(super) fn made_up_ssm() -> SensorSharingMsg {
        let p1 = participant!(
            m,
            1,
            pedestrian,
            PositionOffsetLL::position_LL1(PositionLL24B::new(OffsetLLB12(0), OffsetLLB12(900))),
            None,
            0,
            0,
            0,
            0
        );
        let p2 = participant!(
            m,
            2,
            motor,
            PositionOffsetLL::position_LatLon(PositionLLmD64b::new(
                m::def_position::Longitude(1000),
                m::def_position::Latitude(1000)
            )),
            None,
            0,
            7200,
            180,
            450
        );
        let detected = |ptc, confidence| {
            DetectedPTCData::new(
                ptc,
                None,
                None,
                Some(Confidence(confidence)),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
        };
        let obstacle = DetectedObstacleData::new(
            ObstacleType::rockfall,
            Some(Confidence(180)),
            3,
            m::rsm::SourceType::lidar,
            m::def_time::DSecond(5000),
            m::def_position_offset::PositionOffsetLLV::new(
                PositionOffsetLL::position_LL2(PositionLL28B::new(OffsetLLB14(900), OffsetLLB14(-450))),
                None,
            ),
            m::def_position::PositionConfidenceSet::new(m::def_position::PositionConfidence::a50cm, None),
            m::def_motion::Speed(0),
            None,
            m::def_motion::Heading(0),
            None,
            None,
            None,
            None,
            ObjectSize::new(SizeValue(20), SizeValue(30), Some(SizeValue(10))),
            None,
            None,
            None,
        );
        SensorSharingMsg::new(
            m::msg_frame::MsgCount(42),
            rasn::types::OctetString::from(b"RSU-0001".to_vec()),
            EquipmentType::rsu,
            m::def_time::DSecond(5000),
            m::def_position::Position3D::new(
                m::def_position::Latitude(0),
                m::def_position::Longitude(0),
                Some(m::def_position::Elevation(0)),
            ),
            None,
            Some(DetectedPTCList(vec![detected(p1, 200), detected(p2, 150)])),
            Some(DetectedObstacleList(vec![obstacle])),
            None,
        )
    }

    /// The same SSM encoded independently by asn1tools 0.169.0 (Python) from the DayII modules:
    /// `tests/data/csae/make_ssm_vector.py` (the test below checks it still makes this).
    pub(super) const ASN1TOOLS_FRAME_HEX: &str = "8059000c5632a5253552d30303031227116b49d200d693a3fe20000110000c000584e20\
        2002e1120000000000003204000100026138866b49d5e76b49d9d090001c201683852c02001b400036138818e11e3e50000\
        0004140780a0";

    #[test]
    fn a_made_up_ssm_round_trips_through_msg_frame_ext() {
        let message = CsaeMessage::Y2020Ext(ExtMessage::Ssm(made_up_ssm()));
        let bytes = encode_frame(&message).unwrap();
        assert_eq!(pitsense_v2x::view::hex(&bytes), ASN1TOOLS_FRAME_HEX, "differs from asn1tools' encoding");
        // Extension bit set, then msgFrameExt: index 0 of the extension alternatives.
        assert_eq!(bytes[0] & 0x80, 0x80);
        let (decoded, consumed) = decode_frame(&bytes, CsaeStandard::Csae157, Edition::Y2020).unwrap();
        assert_eq!(consumed, bytes.len());
        assert_eq!(decoded, message);
        assert_eq!(decoded.message_type(), "SSM");
        assert_eq!(decoded.ext_message_id(), Some(ext_message_id::SSM));
        assert_eq!(encode_frame(&decoded).unwrap(), bytes);
        // Auto picks T/CSAE 157 2020 by the extension bit; csae53 refuses it.
        let AnyReport::Csae(report) =
            decode_any(&bytes, &DecodeConfig::default(), &FormatConfig::default()).unwrap()
        else {
            panic!("not CSAE")
        };
        assert_eq!(report.frames[0].standard, CsaeStandard::Csae157);
        assert_eq!(report.frames[0].edition, Edition::Y2020);
        assert!(decode_frame(&bytes, CsaeStandard::Csae53, Edition::Y2020).is_err());
        // Every truncation is an error, never a panic or a shorter message.
        for cut in 1..bytes.len() {
            assert!(decode_frame(&bytes[..cut], CsaeStandard::Csae157, Edition::Y2020).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn the_ssm_objects_land_where_they_were_put_in_the_truck_frame() {
        let message = CsaeMessage::Y2020Ext(ExtMessage::Ssm(made_up_ssm()));
        let (decoded, _) =
            decode_frame(&encode_frame(&message).unwrap(), CsaeStandard::Csae157, Edition::Y2020).unwrap();
        let site = SiteFrame::new(Geodetic::new(0.0, 0.0, 0.0)).unwrap();
        let config = MeasurementConfig { output_frame: OutputFrame::Ego, ..MeasurementConfig::default() };
        let mut builder = MeasurementBuilder::new(config, site).unwrap();
        // The truck at east 10 m, north 5 m, facing north (ENU yaw 90 degrees).
        let ego = ego_at(10.0, 5.0, 0.0, std::f64::consts::FRAC_PI_2);
        let measurements = builder.process_csae(&decoded, &context_at(5000, Some(&ego))).unwrap();
        assert_eq!(measurements.len(), 3);
        // Site (e, n) to truck (x forward = north, y left = west): x = n - 5, y = -(e - 10).
        let expected = [
            // participant 1: e 0, n = north(900); a pedestrian 1.7 m tall, centre 0.85 m up.
            (1, "person", north_m(900.0) - 5.0, 10.0, 0.85),
            // participant 2: absolute (e, n) = (east(1000), north(1000)); a car 1.6 m tall.
            (2, "car", north_m(1000.0) - 5.0, -(east_m(1000.0) - 10.0), 0.8),
            // obstacle 3: e = east(900), n = north(-450); 1 m tall.
            (3, pitsense_types::UNKNOWN_CLASS, north_m(-450.0) - 5.0, -(east_m(900.0) - 10.0), 0.5),
        ];
        for (measurement, (id, label, x, y, z)) in measurements.iter().zip(expected) {
            let center = measurement.detection.center_m;
            assert_eq!(measurement.key.object_id, Some(id));
            assert_eq!(measurement.detection.header.frame, FrameId::Ego);
            assert_eq!(measurement.detection.class_label, label, "object {id}");
            assert!((center.x - x).abs() < 0.01, "object {id}: {center} vs ({x}, {y}, {z})");
            assert!((center.y - y).abs() < 0.01, "object {id}: {center} vs ({x}, {y}, {z})");
            assert!((center.z - z).abs() < 0.01, "object {id}: {center} vs ({x}, {y}, {z})");
        }
        // Hand values: 900 units north = 9.952 m; the obstacle 4.976 m south, 10.019 m east.
        assert!((north_m(900.0) - 9.9517).abs() < 1e-3);
        assert!((east_m(900.0) - 10.0188).abs() < 1e-3);
        // Participant 1 heads north like the truck: yaw 0 in the truck frame; participant 2
        // heads east (7200 x 0.0125 = 90 degrees): yaw -90 degrees.
        assert!(measurements[0].detection.yaw_rad.abs() < 1e-9);
        assert!((measurements[1].detection.yaw_rad + std::f64::consts::FRAC_PI_2).abs() < 1e-9);
        // Obstacle size 3 x 2 x 1 m (SizeValue 0.1 m), score 180 / 200.
        assert!((measurements[2].detection.size_m - nalgebra::Vector3::new(3.0, 2.0, 1.0)).norm() < 1e-9);
        assert!((measurements[2].detection.score - 0.9).abs() < 1e-6);
    }
}

#[cfg(feature = "csae-2020")]
#[test]
fn asn1tools_still_makes_the_ssm_vector() {
    let python = std::env::var_os("PITSENSE_PYTHON").unwrap_or_else(|| "python3".into());
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/csae/make_ssm_vector.py");
    let output = std::process::Command::new(&python)
        .arg(&script)
        .arg(common::data_root())
        .output()
        .expect("python runs make_ssm_vector.py");
    assert!(
        output.status.success(),
        "make_ssm_vector.py failed (needs asn1tools==0.169.0; `./x test` installs it):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let made = String::from_utf8(output.stdout).unwrap();
    let expected: String = ssm::ASN1TOOLS_FRAME_HEX.split_whitespace().collect();
    assert_eq!(made.trim(), expected);
}
