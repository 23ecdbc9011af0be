//! The runtime's V2X input end to end on a real capture: the J3224 SDSM sample of the USDOT
//! ODE (an RSU reporting a person) goes through the inbox, decoder, measurement builder,
//! plausibility gates and the tracker, next to a lidar object, and comes out of
//! `objects.jsonl` as a `"source": "v2x"` object where the message put it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use pitsense_fusion::tracker::{Tracker, TrackerConfig};
use pitsense_runtime::objects_jsonl::FrameRecord;
use pitsense_runtime::pipeline::{EgoContext, track_frame};
use pitsense_runtime::v2x_fusion::V2xFusion;
use pitsense_testkit::data_root;
use pitsense_types::nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};
use pitsense_types::{Detection3d, EgoState, FrameId, Header, ObjectSource};
use pitsense_v2x::config::V2xConfig;
use pitsense_v2x::geodesy::Geodetic;

const MINUTE_NS: u64 = 60_000_000_000;
const FRAME_NS: u64 = 100_000_000;

/// The SDSM sample's UPER hex (`<asn1>` of the ODE's decoder output) as text bytes.
fn sdsm_hex() -> Vec<u8> {
    let path = data_root().join("v2x/j2735/jpo-ode_decoded_samples/decoder-output-sdsm.xml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text.find("<asn1>").unwrap() + "<asn1>".len();
    let end = text.find("</asn1>").unwrap();
    text.as_bytes()[start..end].to_vec()
}

/// `[v2x]` with the site origin at the SDSM's refPos (42.3010070 N, 83.6987660 W), ellipsoid
/// height 250 m, every other key its default.
fn v2x_config(queue_capacity: usize) -> V2xConfig {
    let text = "[site_origin]\nlat_deg = 42.301007\nlon_deg = -83.698766\nheight_m = 250.0\n";
    let mut config: V2xConfig = toml::from_str(text).unwrap();
    assert_eq!(config.site_origin, Geodetic::new(42.301_007_0, -83.698_766_0, 250.0));
    config.receiver.queue_capacity = queue_capacity;
    config
}

/// The truck 20 m east and 5 m south of the RSU's reference point, 3 m up, heading 0.3 rad.
fn ego(stamp_ns: u64) -> EgoState {
    EgoState {
        header: Header { stamp_ns, frame: FrameId::Site, seq: 0 },
        site_from_truck: Isometry3::from_parts(
            Translation3::new(20.0, -5.0, 3.0),
            UnitQuaternion::from_euler_angles(0.0, 0.0, 0.3),
        ),
        speed_mps: 0.0,
        yaw_rate_radps: 0.0,
        accel_mps2: 0.0,
    }
}

fn lidar_car(stamp_ns: u64) -> Detection3d {
    Detection3d {
        header: Header { stamp_ns, frame: FrameId::Lidar(0), seq: 0 },
        center_m: Point3::new(15.0, 2.0, -1.0),
        size_m: Vector3::new(4.5, 1.8, 1.6),
        yaw_rad: 0.0,
        class_label: "car".into(),
        score: 0.9,
        source: ObjectSource::Fused,
    }
}

#[test]
fn an_rsu_reported_person_comes_out_as_a_v2x_object() {
    let mut v2x = V2xFusion::new(&v2x_config(16)).unwrap();
    let mut tracker = Tracker::new(TrackerConfig::default()).unwrap();
    let truck_from_lidar = Isometry3::translation(1.5, 0.0, 2.5);
    let t0 = 1_000 * MINUTE_NS;
    let mut last_line = String::new();
    let mut last_tracks = Vec::new();
    for frame in 0..5u64 {
        let stamp = t0 + frame * FRAME_NS;
        // The RSU's SDSM arrives 20 ms before each lidar frame.
        v2x.push(stamp - 20_000_000, sdsm_hex());
        let ego = ego(stamp);
        let objects = v2x.objects_at(stamp, &ego);
        assert_eq!(objects.len(), 1, "frame {frame}");
        let context = EgoContext { ego: &ego, truck_from_lidar: &truck_from_lidar, v2x_objects: &objects };
        let tracks = track_frame(&mut tracker, stamp, &[lidar_car(stamp)], Some(&context));
        let record = FrameRecord::new("f", frame, stamp, &tracks);
        last_line = serde_json::to_string(&record).unwrap();
        last_tracks = tracks;
    }
    assert_eq!(
        v2x.stats(),
        pitsense_runtime::v2x_fusion::V2xFusionStats { received: 5, fused_objects: 5, ..Default::default() }
    );
    assert_eq!(last_tracks.len(), 2, "{last_line}");
    let person = last_tracks.iter().find(|t| t.source == ObjectSource::V2x).expect(&last_line);
    assert_eq!(person.class_label, "pedestrian", "the SDSM's VRU in the taxonomy");
    assert_eq!(person.header.frame, FrameId::Site);
    // The SDSM puts the person 0.1 m east and 0.1 m north of refPos (offsetX = offsetY = 1 in
    // 0.1 m units); its elevation is unavailable, so the truck's height (3 m) plus half a
    // person's default height (1.7 m) stands in. Speed 0.02 m/s north: < 1 mm in 0.5 s.
    let expected = Point3::new(0.1, 0.1, 3.0 + 1.7 / 2.0);
    assert!((person.state.center_m - expected).norm() < 0.02, "{:?}", person.state.center_m);
    let car = last_tracks.iter().find(|t| t.source != ObjectSource::V2x).unwrap();
    assert_eq!(car.source, ObjectSource::Fused);
    let car_in_site = ego(0).site_from_truck * truck_from_lidar * Point3::new(15.0, 2.0, -1.0);
    assert!((car.state.center_m - car_in_site).norm() < 1e-6);
    // The published line says so.
    assert!(
        last_line.contains(r#""class":"pedestrian""#) && last_line.contains(r#""source":"v2x""#),
        "{last_line}"
    );
}

#[test]
fn bad_stale_and_overflowing_inputs_are_counted_and_the_rest_fused() {
    let mut v2x = V2xFusion::new(&v2x_config(3)).unwrap();
    let t0 = 1_000 * MINUTE_NS;
    // 5 s old at fusion time: the stale gate (max_age_s = 1) rejects it.
    v2x.push(t0 - 5_000_000_000, sdsm_hex());
    v2x.push(t0 - 2_000_000, b"0029ff".to_vec()); // a cut-off frame
    v2x.push(t0 - 1_000_000, sdsm_hex());
    // The inbox holds 3: the fourth push drops the oldest (the stale one).
    v2x.push(t0, vec![0xde, 0xad]);
    // Received after the fusion time: stays queued.
    v2x.push(t0 + 50_000_000, sdsm_hex());
    assert_eq!(v2x.stats().dropped_inbox_full, 2);
    let objects = v2x.objects_at(t0, &ego(t0));
    assert_eq!(objects.len(), 1);
    assert_eq!(v2x.queued(), 1);
    let stats = v2x.stats();
    assert_eq!((stats.received, stats.undecodable, stats.fused_objects), (5, 1, 1), "{stats:?}");
    // The later message is still decoded at the next fusion time.
    let later = v2x.objects_at(t0 + FRAME_NS, &ego(t0 + FRAME_NS));
    assert_eq!(later.len(), 1);
    assert_eq!(v2x.queued(), 0);
}

#[test]
fn a_stale_message_is_rejected_by_the_gate() {
    let mut v2x = V2xFusion::new(&v2x_config(8)).unwrap();
    let t0 = 1_000 * MINUTE_NS;
    v2x.push(t0 - 5_000_000_000, sdsm_hex());
    assert!(v2x.objects_at(t0, &ego(t0)).is_empty());
    assert_eq!(v2x.stats().implausible, 1);
    assert_eq!(v2x.plausibility_stats().stale, 1);
}

#[test]
fn an_etsi_cpm_from_an_rsu_gives_its_perceived_objects_to_the_tracker() {
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../v2x/tests/data/etsi/vectors.json"))
            .unwrap(),
    )
    .unwrap();
    let hex = vectors["cpm"]["hex"].as_str().unwrap().as_bytes().to_vec();
    // The site origin at the CPM's reference position (24.2712345 S, 69.0754321 W, 3105.25 m).
    let text = "[site_origin]\nlat_deg = -24.2712345\nlon_deg = -69.0754321\nheight_m = 3105.25\n";
    let config: V2xConfig = toml::from_str(text).unwrap();
    let mut v2x = V2xFusion::new(&config).unwrap();
    // referenceTime is 2024-06-01T12:00:00Z; the objects were measured 20 ms before it.
    let reference_ns = 1_717_243_200 * 1_000_000_000u64;
    v2x.push(reference_ns, hex);
    let truck = EgoState { site_from_truck: Isometry3::translation(40.0, 0.0, 0.0), ..ego(reference_ns) };
    let objects = v2x.objects_at(reference_ns + 80_000_000, &truck);
    assert_eq!(objects.len(), 2, "{:?}", v2x.stats());
    // The car: (25, 12.5) m ENU from the RSU, moving (3, -4) m/s for 0.1 s.
    let car = &objects[0].detection.center_m;
    assert!((car.x - 25.3).abs() < 1e-3 && (car.y - 12.1).abs() < 1e-3, "{car}");
    assert_eq!(objects[1].detection.class_label, "pedestrian");
    let mut tracker = Tracker::new(TrackerConfig::default()).unwrap();
    let truck_from_lidar = Isometry3::identity();
    let context = EgoContext { ego: &truck, truck_from_lidar: &truck_from_lidar, v2x_objects: &objects };
    let tracks = track_frame(&mut tracker, reference_ns + 80_000_000, &[], Some(&context));
    assert_eq!(tracks.len(), 2);
    assert!(tracks.iter().all(|track| track.source == ObjectSource::V2x));
}
