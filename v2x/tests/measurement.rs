//! Measurements from real SDSM/BSM/PSM captures: frames, covariances, latency compensation,
//! and every plausibility gate with its counter.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use common::*;
use nalgebra::{Isometry3, Matrix3, Point3, Translation3, UnitQuaternion, Vector3};
use pitsense_types::{EgoState, FrameId, Header, ObjectSource};
use pitsense_v2x::decode::{DecodeConfig, decode_input};
use pitsense_v2x::geodesy::{Geodetic, SiteFrame};
use pitsense_v2x::j2735::J2735Message;
use pitsense_v2x::j2735::common::{DSecond, Heading, Speed};
use pitsense_v2x::measurement::*;
use pitsense_v2x::plausibility::*;

const MINUTE_NS: u64 = 60_000_000_000;

fn sample(name: &str) -> J2735Message {
    let text =
        std::fs::read_to_string(j2735_path(&format!("jpo-ode_decoded_samples/decoder-output-{name}.xml")))
            .unwrap();
    let start = text.find("<asn1>").unwrap() + 6;
    let end = text.find("</asn1>").unwrap();
    let report = decode_input(&text.as_bytes()[start..end], &DecodeConfig::default()).unwrap();
    report.frames.into_iter().next().unwrap().message.unwrap()
}

fn sdsm_sample() -> pitsense_v2x::j2735::sdsm::SensorDataSharingMessage {
    let J2735Message::Sdsm(sdsm) = sample("sdsm") else { panic!() };
    sdsm
}

fn bsm_sample() -> pitsense_v2x::j2735::bsm::BasicSafetyMessage {
    let J2735Message::Bsm(bsm) = sample("bsm") else { panic!() };
    bsm
}

fn assert_spd(covariance: &Matrix3<f64>) {
    assert!((covariance - covariance.transpose()).norm() < 1e-12, "not symmetric: {covariance}");
    assert!(covariance.cholesky().is_some(), "not positive definite: {covariance}");
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
fn sdsm_object_in_the_site_frame_with_combined_covariance() {
    let sdsm = sdsm_sample();
    // Site origin at the RSU's reference position (elevation unavailable: ego height used).
    let site = SiteFrame::new(Geodetic::new(42.301_007_0, -83.698_766_0, 250.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let ego = ego_at(20.0, -5.0, 3.0, 0.3);
    let receive = 1_000 * MINUTE_NS;
    let context = MeasurementContext { receive_stamp_ns: receive, fusion_stamp_ns: receive, ego: Some(&ego) };
    let measurements = builder.process(&J2735Message::Sdsm(sdsm.clone()), &context).unwrap();
    assert_eq!(measurements.len(), 1);
    let m = &measurements[0];
    assert_eq!(m.detection.header.frame, FrameId::Site);
    assert_eq!(m.detection.source, ObjectSource::V2x);
    assert_eq!(m.detection.class_label, "person");
    assert!((m.detection.score - 0.98).abs() < 1e-6);
    assert_eq!(
        m.key,
        ObjectKey { kind: MessageKind::Sdsm, station_id: [1, 12, 12, 10], object_id: Some(8010) }
    );
    // The SDSM time stamp has only a year: the receive time stands in, then +1 ms object offset.
    assert_eq!(m.time_source, TimeSource::ReceiveTime);
    assert_eq!(m.message_time_ns, receive + 1_000_000);
    // 0.1 m east and north of the reference (speed 0.02 m/s north over -1 ms: negligible);
    // z: the ego's height plus half a person's height.
    assert!((m.detection.center_m.x - 0.1).abs() < 1e-3, "{}", m.detection.center_m);
    assert!((m.detection.center_m.y - 0.1).abs() < 1e-3);
    assert!((m.detection.center_m.z - (3.0 + 1.7 / 2.0)).abs() < 1e-3);
    // Covariance: refPosXYConf (1-sigma 0.6 m x 2.6 m at 0.055°) + a20cm (0.2 m / 1.96).
    let object_var = (0.2f64 / 1.96).powi(2);
    let theta = (10.0f64 * 360.0 / 65_535.0).to_radians();
    let (a2, b2) = (0.6f64.powi(2), 2.6f64.powi(2));
    let expected_xx = a2 * theta.sin().powi(2) + b2 * theta.cos().powi(2) + object_var;
    let expected_yy = a2 * theta.cos().powi(2) + b2 * theta.sin().powi(2) + object_var;
    // (+ 2.6e-5 m² of latency growth: 1 ms at the 10 m/s speed confidence.)
    assert!((m.position_covariance_m2[(0, 0)] - expected_xx).abs() < 1e-4, "{}", m.position_covariance_m2);
    assert!((m.position_covariance_m2[(1, 1)] - expected_yy).abs() < 1e-4);
    assert_spd(&m.position_covariance_m2);
    // Heading 0 (north) is ENU yaw +π/2; speed 1 × 0.02 m/s north.
    assert!((m.detection.yaw_rad - std::f64::consts::FRAC_PI_2).abs() < 1e-9);
    let velocity = m.velocity_mps.unwrap();
    assert!(velocity.x.abs() < 1e-6 && (velocity.y - 0.02).abs() < 1e-6);
}

#[test]
fn bsm_latency_is_compensated_with_constant_velocity() {
    let mut bsm = bsm_sample();
    // A faster vehicle to make the compensation visible: 10 m/s heading east.
    bsm.core_data.speed = Speed(500);
    bsm.core_data.heading = Heading(7_200);
    let lat = bsm.core_data.lat.degrees().unwrap();
    let lon = bsm.core_data.long.degrees().unwrap();
    let height = bsm.core_data.elev.metres().unwrap();
    let site = SiteFrame::new(Geodetic::new(lat + 0.001, lon - 0.002, height - 20.0)).unwrap();
    let ground = site.site_from_geodetic(&Geodetic::new(lat, lon, height));
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site.clone()).unwrap();
    // secMark 25399: received 0.101 s later, fused 0.2 s after that.
    let receive = 5_000 * MINUTE_NS + 25_500_000_000;
    let fusion = receive + 200_000_000;
    let context = MeasurementContext { receive_stamp_ns: receive, fusion_stamp_ns: fusion, ego: None };
    let m = builder.process(&J2735Message::Bsm(bsm.clone()), &context).unwrap().remove(0);
    assert_eq!(m.time_source, TimeSource::Message);
    assert_eq!(m.message_time_ns, 5_000 * MINUTE_NS + 25_399_000_000);
    assert!((m.latency_s - 0.301).abs() < 1e-9);
    assert_eq!(m.detection.header.stamp_ns, fusion);
    // East-bound at 10 m/s for 0.301 s (local east at the vehicle, rotated into the site).
    let east_in_site =
        site.site_from_local_enu(&Geodetic::new(lat, lon, height)) * Vector3::new(10.0, 0.0, 0.0);
    let expected = ground + Vector3::new(0.0, 0.0, 1.6 / 2.0) + east_in_site * 0.301;
    assert!((m.detection.center_m - expected).norm() < 1e-6, "{} vs {expected}", m.detection.center_m);
    assert_eq!(m.detection.class_label, "car");
    assert!((m.detection.size_m - Vector3::new(5.7, 1.9, 1.6)).norm() < 1e-9);
    // Covariance grew by σv² dt² + σa² dt⁴ / 4 over the accuracy (semiMajor 9.3 m, semiMinor
    // 12.05 m, orientation unavailable: a circle of the larger axis).
    let ellipse_trace = 2.0 * 12.05f64.powi(2);
    let growth = 1.0 * 0.301f64.powi(2) + 4.0 * 0.301f64.powi(4) / 4.0;
    let trace_xy = m.position_covariance_m2[(0, 0)] + m.position_covariance_m2[(1, 1)];
    assert!((trace_xy - (ellipse_trace + 2.0 * growth)).abs() < 1e-6, "{trace_xy}");
    assert_spd(&m.position_covariance_m2);

    // The same message with secMark unavailable: no compensation beyond the 0.2 s wait.
    bsm.core_data.sec_mark = DSecond(65_535);
    let m = builder.process(&J2735Message::Bsm(bsm), &context).unwrap().remove(0);
    assert_eq!(m.time_source, TimeSource::ReceiveTime);
    assert!((m.latency_s - 0.2).abs() < 1e-9);
}

#[test]
fn ego_frame_output_applies_the_inverse_ego_pose() {
    let sdsm = sdsm_sample();
    let site = SiteFrame::new(Geodetic::new(42.301_007_0, -83.698_766_0, 250.0)).unwrap();
    let config = MeasurementConfig { output_frame: OutputFrame::Ego, ..MeasurementConfig::default() };
    let mut builder = MeasurementBuilder::new(config, site.clone()).unwrap();
    let mut site_builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let ego = ego_at(-30.0, 40.0, 2.0, 2.0);
    let context =
        MeasurementContext { receive_stamp_ns: MINUTE_NS, fusion_stamp_ns: MINUTE_NS, ego: Some(&ego) };
    let in_ego = builder.process(&J2735Message::Sdsm(sdsm.clone()), &context).unwrap().remove(0);
    let in_site = site_builder.process(&J2735Message::Sdsm(sdsm.clone()), &context).unwrap().remove(0);
    assert_eq!(in_ego.detection.header.frame, FrameId::Ego);
    let expected = ego.site_from_truck.inverse() * in_site.detection.center_m;
    assert!((in_ego.detection.center_m - expected).norm() < 1e-9);
    // Yaw: site yaw minus ego yaw.
    let expected_yaw = pitsense_v2x::j2735::units::wrap_angle_rad(in_site.detection.yaw_rad - 2.0);
    assert!((in_ego.detection.yaw_rad - expected_yaw).abs() < 1e-9);
    // Covariance rotated: same eigenvalues.
    let trace = |m: &Matrix3<f64>| m.trace();
    assert!((trace(&in_ego.position_covariance_m2) - trace(&in_site.position_covariance_m2)).abs() < 1e-9);
    assert_spd(&in_ego.position_covariance_m2);
    // No ego pose: an error naming the station.
    let no_ego = MeasurementContext { ego: None, ..context };
    assert!(matches!(
        builder.process(&J2735Message::Sdsm(sdsm), &no_ego),
        Err(MeasurementError::NoEgoPose { .. })
    ));
}

#[test]
fn sdsm_with_a_full_time_stamp_uses_it() {
    let mut sdsm = sdsm_sample();
    sdsm.sdsm_time_stamp.second = Some(DSecond(12_345));
    sdsm.objects.0[0].det_obj_common.measurement_time = pitsense_v2x::j2735::sdsm::MeasurementTimeOffset(-45);
    let site = SiteFrame::new(Geodetic::new(42.301_007_0, -83.698_766_0, 250.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let receive = 77 * MINUTE_NS + 12_400_000_000;
    let context = MeasurementContext { receive_stamp_ns: receive, fusion_stamp_ns: receive, ego: None };
    let m = builder.process(&J2735Message::Sdsm(sdsm), &context).unwrap().remove(0);
    assert_eq!(m.time_source, TimeSource::Message);
    assert_eq!(m.message_time_ns, 77 * MINUTE_NS + 12_300_000_000);
    assert!((m.latency_s - 0.1).abs() < 1e-9);
}

#[test]
fn map_and_spat_are_not_object_messages() {
    let site = SiteFrame::new(Geodetic::new(0.0, 0.0, 0.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let context = MeasurementContext { receive_stamp_ns: 0, fusion_stamp_ns: 0, ego: None };
    assert!(matches!(
        builder.process(&sample("map"), &context),
        Err(MeasurementError::NotAnObjectMessage { message_id: 18 })
    ));
    // A PSM gives a person.
    let m = builder.process(&sample("psm"), &context).unwrap().remove(0);
    assert_eq!(m.detection.class_label, "person");
    assert_eq!(m.key.kind, MessageKind::Psm);
}

/// A site and builder for the gate tests; the SDSM's RSU stands at the origin.
fn sdsm_measurement(
    builder: &mut MeasurementBuilder,
    sdsm: &pitsense_v2x::j2735::sdsm::SensorDataSharingMessage,
    receive: u64,
    fusion: u64,
) -> V2xMeasurement {
    let context = MeasurementContext { receive_stamp_ns: receive, fusion_stamp_ns: fusion, ego: None };
    builder.process(&J2735Message::Sdsm(sdsm.clone()), &context).unwrap().remove(0)
}

#[test]
fn every_plausibility_gate_rejects_and_counts() {
    let site = SiteFrame::new(Geodetic::new(42.301_007_0, -83.698_766_0, 250.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let config = PlausibilityConfig {
        rsu_areas: vec![RsuArea {
            source_id_hex: "010c0c0a".into(),
            max_range_m: 200.0,
            polygon_site_m: vec![[-50.0, -50.0], [150.0, -50.0], [150.0, 150.0], [-50.0, 150.0]],
        }],
        ..PlausibilityConfig::default()
    };
    let mut gate = PlausibilityGate::new(config).unwrap();
    let base = sdsm_sample();
    let t0 = 500 * MINUTE_NS;

    // Accepted.
    let m = sdsm_measurement(&mut builder, &base, t0, t0);
    assert_eq!(gate.check(&m, t0, None), Ok(()));
    // Duplicate: the same object at the same message time again.
    assert_eq!(gate.check(&m, t0, None), Err(RejectReason::Duplicate));
    // Stale: fused 1.5 s after the message.
    let m = sdsm_measurement(&mut builder, &base, t0 + 100_000_000, t0 + 1_600_000_000);
    assert_eq!(gate.check(&m, t0 + 1_600_000_000, None), Err(RejectReason::Stale));
    // From the future: message time 1 s after fusion time.
    let m = sdsm_measurement(&mut builder, &base, t0 + 1_000_000_000, t0);
    assert_eq!(gate.check(&m, t0, None), Err(RejectReason::FromTheFuture));
    // Outside the polygon (but within range): 100 m west.
    let mut west = base.clone();
    west.objects.0[0].det_obj_common.pos.offset_x = pitsense_v2x::j2735::sdsm::ObjectDistance(-1000);
    let m = sdsm_measurement(&mut builder, &west, t0 + 100_000_000, t0 + 100_000_000);
    assert_eq!(gate.check(&m, t0 + 100_000_000, None), Err(RejectReason::OutsideArea));
    // Outside the range: 300 m north-east (inside no polygon either).
    let mut far = base.clone();
    far.objects.0[0].det_obj_common.pos.offset_x = pitsense_v2x::j2735::sdsm::ObjectDistance(2200);
    far.objects.0[0].det_obj_common.pos.offset_y = pitsense_v2x::j2735::sdsm::ObjectDistance(2200);
    let m = sdsm_measurement(&mut builder, &far, t0 + 100_000_000, t0 + 100_000_000);
    assert_eq!(gate.check(&m, t0 + 100_000_000, None), Err(RejectReason::OutsideArea));
    // Impossible speed: 160 m/s.
    let mut fast = base.clone();
    fast.objects.0[0].det_obj_common.speed = Speed(8_000);
    let m = sdsm_measurement(&mut builder, &fast, t0 + 100_000_000, t0 + 100_000_000);
    assert_eq!(gate.check(&m, t0 + 100_000_000, None), Err(RejectReason::ImpossibleSpeed));
    // Impossible acceleration: 0.02 m/s to 30 m/s within 0.2 s.
    let mut sprint = base.clone();
    sprint.objects.0[0].det_obj_common.speed = Speed(1_500);
    let m = sdsm_measurement(&mut builder, &sprint, t0 + 200_000_000, t0 + 200_000_000);
    assert_eq!(gate.check(&m, t0 + 200_000_000, None), Err(RejectReason::ImpossibleAcceleration));
    // Position jump: 60 m in 0.3 s (inside the area, speed unchanged).
    let mut jump = base.clone();
    jump.objects.0[0].det_obj_common.pos.offset_x = pitsense_v2x::j2735::sdsm::ObjectDistance(600);
    let m = sdsm_measurement(&mut builder, &jump, t0 + 300_000_000, t0 + 300_000_000);
    assert_eq!(gate.check(&m, t0 + 300_000_000, None), Err(RejectReason::PositionJump));
    // A plausible next measurement: 0.5 m further after 0.4 s.
    let mut next = base.clone();
    next.objects.0[0].det_obj_common.pos.offset_x = pitsense_v2x::j2735::sdsm::ObjectDistance(6);
    let m = sdsm_measurement(&mut builder, &next, t0 + 400_000_000, t0 + 400_000_000);
    assert_eq!(gate.check(&m, t0 + 400_000_000, None), Ok(()));

    let stats = gate.stats();
    assert_eq!(
        *stats,
        PlausibilityStats {
            accepted: 2,
            outside_area: 2,
            impossible_speed: 1,
            impossible_acceleration: 1,
            stale: 1,
            from_the_future: 1,
            duplicate: 1,
            position_jump: 1,
        }
    );
    assert_eq!(stats.rejected(), 8);
}

#[test]
fn bsm_gates_use_the_reported_acceleration_and_the_truck_range() {
    let bsm = bsm_sample();
    let lat = bsm.core_data.lat.degrees().unwrap();
    let lon = bsm.core_data.long.degrees().unwrap();
    let site = SiteFrame::new(Geodetic::new(lat, lon, 1400.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let mut gate = PlausibilityGate::new(PlausibilityConfig::default()).unwrap();
    let receive = 9 * MINUTE_NS + 25_450_000_000;
    let context = MeasurementContext { receive_stamp_ns: receive, fusion_stamp_ns: receive, ego: None };
    let m = builder.process(&J2735Message::Bsm(bsm.clone()), &context).unwrap().remove(0);
    // The truck 2 km away: outside the BSM range.
    assert_eq!(gate.check(&m, receive, Some(&Point3::new(2000.0, 0.0, 0.0))), Err(RejectReason::OutsideArea));
    assert_eq!(gate.check(&m, receive, Some(&Point3::new(100.0, 0.0, 0.0))), Ok(()));
    // Reported longitudinal acceleration of 15 m/s².
    let mut hard = bsm;
    hard.core_data.accel_set.long = pitsense_v2x::j2735::common::Acceleration(1_500);
    hard.core_data.sec_mark = DSecond(25_420);
    let m = builder.process(&J2735Message::Bsm(hard), &context).unwrap().remove(0);
    assert_eq!(gate.check(&m, receive, None), Err(RejectReason::ImpossibleAcceleration));
}

#[test]
fn the_gate_forgets_and_bounds_its_memory() {
    let site = SiteFrame::new(Geodetic::new(42.301_007_0, -83.698_766_0, 250.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let mut gate =
        PlausibilityGate::new(PlausibilityConfig { max_tracked_objects: 3, ..PlausibilityConfig::default() })
            .unwrap();
    let mut sdsm = sdsm_sample();
    let t0 = 10 * MINUTE_NS;
    for object_id in 0..10u16 {
        sdsm.objects.0[0].det_obj_common.object_id = pitsense_v2x::j2735::sdsm::ObjectId(object_id);
        let t = t0 + u64::from(object_id) * 1_000_000;
        let m = sdsm_measurement(&mut builder, &sdsm, t, t);
        assert_eq!(gate.check(&m, t, None), Ok(()));
        assert!(gate.tracked_objects() <= 3);
    }
    // Twenty seconds later everything is forgotten.
    let t = t0 + 20_000_000_000;
    let m = sdsm_measurement(&mut builder, &sdsm, t, t);
    assert_eq!(gate.check(&m, t, None), Ok(()));
    assert_eq!(gate.tracked_objects(), 1);
}

/// Runs the 128 recorded BSMs through measurement and gates; returns everything produced.
fn replay_128_bsms() -> (Vec<String>, PlausibilityStats) {
    let uper = std::fs::read(j2735_path("asn1_codec/j2735.MessageFrame.128.bsms.uper")).unwrap();
    let report = decode_input(&uper, &DecodeConfig::default()).unwrap();
    let site = SiteFrame::new(Geodetic::new(41.164, -104.843, 1880.0)).unwrap();
    let mut builder = MeasurementBuilder::new(MeasurementConfig::default(), site).unwrap();
    let mut gate = PlausibilityGate::new(PlausibilityConfig::default()).unwrap();
    let mut outputs = Vec::new();
    for (index, frame) in report.frames.iter().enumerate() {
        // Received 50 ms apart, fused on arrival.
        let receive = 1_000 * MINUTE_NS + index as u64 * 50_000_000;
        let context = MeasurementContext { receive_stamp_ns: receive, fusion_stamp_ns: receive, ego: None };
        for measurement in builder.process(frame.message.as_ref().unwrap(), &context).unwrap() {
            let verdict = gate.check(&measurement, receive, None);
            outputs.push(format!("{}|{verdict:?}", serde_json::to_string(&measurement).unwrap()));
        }
    }
    (outputs, *gate.stats())
}

#[test]
fn replaying_a_recording_twice_gives_identical_outputs() {
    let (first, first_stats) = replay_128_bsms();
    let (second, second_stats) = replay_128_bsms();
    assert_eq!(first.len(), 128);
    assert_eq!(first, second);
    assert_eq!(first_stats, second_stats);
    assert_eq!(first_stats.accepted + first_stats.rejected(), 128);
}
