//! Training sets from the catalog (`pitsense-ingest export`): KITTI checked against KITTI's own
//! files (object 000000: its velodyne scan and image come back byte for byte, and a track
//! placed where KITTI's label puts the pedestrian comes back as that label), YOLO and the frame
//! pairing checked against hand computations, and the manifest against the files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::path::{Path, PathBuf};
use std::process::Command;

use pitsense_cloud_link::catalog::CatalogQuery;
use pitsense_cloud_link::ingest::{Catalog, CatalogRow, Store};
use pitsense_cloud_link::{CompressedImage, EpisodeMessage, EpisodeMetadata, EpisodeWriter, RecordedEgo};
use pitsense_types::nalgebra::{
    Isometry3, Matrix3, Matrix3x4, Matrix6, Point3, Translation3, UnitQuaternion, Vector3,
};
use pitsense_types::{
    CameraCalibration, CameraIntrinsics, EgoState, FrameId, Header, ObjectSource, PointCloud, PointXyzi,
    Track, TrackState,
};

/// 2026-11-29T10:00:00Z.
const START_NS: u64 = 1_795_946_400_000_000_000;
const FRAME_NS: u64 = 100_000_000;

fn kitti_object(data: &Path, folder: &str, file: &str) -> PathBuf {
    data.join("kitti/object/training").join(folder).join(file)
}

/// The 3×4 or 3×3 matrix on the line `key:` of a KITTI calib file.
fn calib_values(text: &str, key: &str) -> Vec<f64> {
    let line = text.lines().find(|line| line.starts_with(&format!("{key}:"))).unwrap();
    line.split_whitespace().skip(1).map(|v| v.parse().unwrap()).collect()
}

fn track(
    stamp_ns: u64,
    frame: FrameId,
    id: u64,
    label: &str,
    center: Point3<f64>,
    size: Vector3<f64>,
    yaw_rad: f64,
) -> Track {
    Track {
        header: Header { stamp_ns, frame, seq: 0 },
        track_id: id,
        state: TrackState { center_m: center, velocity_mps: Vector3::zeros(), yaw_rad, size_m: size },
        covariance: Matrix6::identity(),
        class_label: label.into(),
        score: 0.9,
        age_frames: 3,
        hits: 3,
        frames_since_update: 0,
        source: ObjectSource::Fused,
    }
}

/// Writes `messages` as an episode with `calibration` into a fresh store and catalogues and
/// indexes it; returns the store folder.
fn store_with(
    calibration: &CameraCalibration,
    truck_from_lidar_json: &str,
    messages: &[EpisodeMessage],
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let relative = "truck-07/2026-11-29/e.mcap";
    let path = dir.path().join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let metadata = EpisodeMetadata {
        truck_id: "truck-07".into(),
        software_version: "0.4.0".into(),
        calibration_json: serde_json::to_string(&Some(calibration)).unwrap(),
        truck_from_lidar_json: truck_from_lidar_json.into(),
        model_sha256: "ab".repeat(32),
        trigger_reason: "manual".into(),
        trigger_stamp_ns: START_NS,
    };
    let mut writer = EpisodeWriter::create(&path, &metadata, Default::default()).unwrap();
    for message in messages {
        writer.write(message).unwrap();
    }
    writer.finish().unwrap();
    let sha256 = pitsense_cloud_link::sha256::of_file(&path).unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let row = CatalogRow {
        truck_id: "truck-07".into(),
        sha256: sha256.clone(),
        file_name: "e.mcap".into(),
        store_path: relative.into(),
        size_bytes: std::fs::metadata(&path).unwrap().len(),
        priority: "normal".into(),
        recorded_ns: START_NS,
        received_ns: START_NS,
    };
    store.catalog().insert(&row).unwrap();
    assert_eq!(store.index_episode("truck-07", &sha256, relative).unwrap(), None);
    dir
}

fn export_cli(store: &Path, out: &Path, format: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_pitsense-ingest"))
        .args(["export", "--store"])
        .arg(store)
        .args(["--format", format, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// KITTI object 000000 as an episode: its scan, its image (PNG, 1224 × 370), its calibration,
/// and one pedestrian track placed where KITTI's label puts the pedestrian (the label's bottom
/// centre and heading in the rectified camera 0 frame, brought to the lidar frame by KITTI's
/// `R0_rect · Tr_velo_to_cam`). The export gives KITTI's scan and image back byte for byte and
/// the label back: same type, dimensions and `rotation_y`, the location moved by camera 2's
/// offset from camera 0 (`K⁻¹ · P2[:, 3]`: the export's reference camera is camera 2, with
/// `P2 = K [I | 0]`), and a 2D box that is the projected 3D box, within a few pixels of the
/// annotated one.
#[test]
fn kitti_object_000000_comes_back_as_kitti() {
    let Some(data) = pitsense_testkit::data_root_holding("kitti/object/training/label_2/000000.txt") else {
        return;
    };
    let calib_text = std::fs::read_to_string(kitti_object(&data, "calib", "000000.txt")).unwrap();
    let p2 = Matrix3x4::from_row_slice(&calib_values(&calib_text, "P2"));
    let r0 = Matrix3::from_row_slice(&calib_values(&calib_text, "R0_rect"));
    let tr = Matrix3x4::from_row_slice(&calib_values(&calib_text, "Tr_velo_to_cam"));
    let calibration = CameraCalibration::from_kitti(2, &p2, &r0, &tr, 1224, 370).unwrap();
    let scan = std::fs::read(kitti_object(&data, "velodyne", "000000.bin")).unwrap();
    let points: Vec<PointXyzi> = scan
        .chunks_exact(16)
        .map(|p| {
            let f = |i: usize| f32::from_le_bytes(p[i..i + 4].try_into().unwrap());
            PointXyzi { x_m: f(0), y_m: f(4), z_m: f(8), intensity: f(12) }
        })
        .collect();
    let image = std::fs::read(kitti_object(&data, "image_2", "000000.png")).unwrap();
    // Pedestrian 0.00 0 -0.20 712.40 143.00 810.73 307.92 1.89 0.48 1.20 1.84 1.47 8.41 0.01
    let label = std::fs::read_to_string(kitti_object(&data, "label_2", "000000.txt")).unwrap();
    let v: Vec<f64> = label.split_whitespace().skip(1).map(|x| x.parse().unwrap()).collect();
    let (h, w, l, ry) = (v[7], v[8], v[9], v[13]);
    let rect_from_velo = {
        let r = r0 * tr.fixed_view::<3, 3>(0, 0);
        let t = r0 * tr.fixed_view::<3, 1>(0, 3);
        let mut m = pitsense_types::nalgebra::Matrix4::identity();
        m.fixed_view_mut::<3, 3>(0, 0).copy_from(&r);
        m.fixed_view_mut::<3, 1>(0, 3).copy_from(&t);
        m
    };
    let velo_from_rect = rect_from_velo.try_inverse().unwrap();
    let center_rect = Point3::new(v[10], v[11] - h / 2.0, v[12]);
    let center_lidar = velo_from_rect.transform_point(&center_rect);
    let heading_lidar = velo_from_rect.transform_vector(&Vector3::new(ry.cos(), 0.0, -ry.sin()));
    let yaw_lidar = heading_lidar.y.atan2(heading_lidar.x);
    let header = |frame| Header { stamp_ns: START_NS, frame, seq: 0 };
    let messages = [
        EpisodeMessage::CompressedImage(CompressedImage {
            header: header(FrameId::Camera(2)),
            format: "png".into(),
            data: image.clone(),
        }),
        EpisodeMessage::PointCloud(PointCloud { header: header(FrameId::Lidar(0)), points }),
        EpisodeMessage::Tracks {
            header: header(FrameId::Lidar(0)),
            tracks: vec![track(
                START_NS,
                FrameId::Lidar(0),
                1,
                "pedestrian",
                center_lidar,
                Vector3::new(l, w, h),
                yaw_lidar,
            )],
        },
    ];
    let store = store_with(&calibration, "", &messages);
    let out = tempfile::tempdir().unwrap();
    let stdout = export_cli(store.path(), out.path(), "kitti");
    assert!(stdout.starts_with("1 frames from 1 episodes"), "{stdout}");
    let training = out.path().join("training");
    assert_eq!(std::fs::read(training.join("velodyne/000000.bin")).unwrap(), scan, "the scan, byte for byte");
    assert_eq!(
        std::fs::read(training.join("image_2/000000.png")).unwrap(),
        image,
        "the image, byte for byte"
    );

    let ours = std::fs::read_to_string(training.join("label_2/000000.txt")).unwrap();
    let fields: Vec<&str> = ours.split_whitespace().collect();
    assert_eq!(fields.len(), 15, "{ours}");
    assert_eq!(fields[0], "Pedestrian");
    let o: Vec<f64> = fields[1..].iter().map(|x| x.parse().unwrap()).collect();
    // Camera 2 sits t = K⁻¹ · P2[:, 3] from the rectified camera 0.
    let k = Matrix3::new(p2[(0, 0)], 0.0, p2[(0, 2)], 0.0, p2[(1, 1)], p2[(1, 2)], 0.0, 0.0, 1.0);
    let t = k.try_inverse().unwrap() * p2.fixed_view::<3, 1>(0, 3);
    let near = |got: f64, want: f64, tolerance: f64, what: &str| {
        assert!((got - want).abs() <= tolerance, "{what}: ours {got}, expected {want}\n{ours}");
    };
    near(o[0], 0.0, 1e-9, "truncation (the box is inside the image)");
    // Both sides are printed to 2 decimals (±0.005); the box's up axis is the lidar's z, which
    // KITTI's camera y is tilted from by about 0.003 rad (0.003 m at the bottom centre).
    near(o[7], h, 0.0051, "height");
    near(o[8], w, 0.0051, "width");
    near(o[9], l, 0.0051, "length");
    for axis in 0..3 {
        near(o[10 + axis], v[10 + axis] + t[axis], 0.011, "location");
    }
    near(o[13], ry, 0.008, "rotation_y");
    // alpha = rotation_y − atan2(x, z) of the location.
    near(o[2], ry - (v[10] + t[0]).atan2(v[12] + t[2]), 0.008, "alpha");
    // The projected 3D box against the annotated 2D box: the pedestrian's box corners reach a
    // little beyond the body the annotator outlined.
    for (ours, theirs) in o[3..7].iter().zip(&v[3..7]) {
        near(*ours, *theirs, 12.0, "2D box");
    }
    // The calib file: P2 = K [I | 0], R0_rect = I, Tr_velo_to_cam = camera 2 from the lidar.
    let ours_calib = std::fs::read_to_string(training.join("calib/000000.txt")).unwrap();
    let p2_ours = calib_values(&ours_calib, "P2");
    let expected_p2 =
        [p2[(0, 0)], 0.0, p2[(0, 2)], 0.0, 0.0, p2[(1, 1)], p2[(1, 2)], 0.0, 0.0, 0.0, 1.0, 0.0];
    for (a, b) in p2_ours.iter().zip(expected_p2) {
        near(*a, b, 1e-9, "P2");
    }
    assert_eq!(calib_values(&ours_calib, "R0_rect"), [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    let tr_ours = calib_values(&ours_calib, "Tr_velo_to_cam");
    let expected = calibration.camera_from_lidar.to_homogeneous();
    for (index, value) in tr_ours.iter().enumerate() {
        near(*value, expected[(index / 4, index % 4)], 1e-9, "Tr_velo_to_cam");
    }
    // The manifest names the source and every file's SHA-256.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "kitti");
    assert_eq!(manifest["frames_written"], 1);
    assert_eq!(manifest["episodes"][0]["truck_id"], "truck-07");
    assert_eq!(manifest["episodes"][0]["frames"], serde_json::json!([0]));
    let episode = store.path().join("truck-07/2026-11-29/e.mcap");
    assert_eq!(manifest["episodes"][0]["sha256"], pitsense_cloud_link::sha256::of_file(&episode).unwrap());
    let files = manifest["files"].as_object().unwrap();
    assert_eq!(files.len(), 4);
    for (relative, sha256) in files {
        let bytes = std::fs::read(out.path().join(relative)).unwrap();
        assert_eq!(sha256, &pitsense_cloud_link::sha256::of_bytes(&bytes), "{relative}");
    }
}

/// A camera looking along the lidar's x axis from 0.2 m behind it and 0.1 m above (camera x =
/// −lidar y, y = −lidar z, z = lidar x), f = 700 px, principal point (600, 180), 1200 × 360.
fn simple_calibration() -> CameraCalibration {
    let rotation = UnitQuaternion::from_matrix(&Matrix3::new(0.0, -1.0, 0.0, 0.0, 0.0, -1.0, 1.0, 0.0, 0.0));
    CameraCalibration {
        camera_id: 2,
        intrinsics: CameraIntrinsics {
            fx_px: 700.0,
            fy_px: 700.0,
            cx_px: 600.0,
            cy_px: 180.0,
            width_px: 1200,
            height_px: 360,
        },
        camera_from_lidar: Isometry3::from_parts(Translation3::new(0.0, 0.1, 0.2), rotation),
    }
}

/// YOLO, frame pairing and the frames of each kind of track.
///
/// Frame 0: the image 10 ms before, a cloud, an ego pose (site (1000, 2000), heading north) and
/// tracks in the site frame (a `/tracks` message has one frame; the lidar is 2 m ahead of the
/// truck origin): a car 20 m ahead of the lidar (truck (22, 0), site (1000, 2022)), a pedestrian
/// the lidar sees at (10, 2, 0) (truck (12, 2), site (998, 2012)), and a car behind the camera
/// (lidar (−10, 0): no label). Frame 1: tracks without a cloud (the
/// lidar was lost): skipped. Frame 2: a cloud, but the newest image is 210 ms old: skipped.
#[test]
fn yolo_labels_are_the_projected_boxes_and_unpaired_frames_are_skipped() {
    let calibration = simple_calibration();
    let at = |frame: u64| START_NS + frame * FRAME_NS;
    let header = |stamp_ns, frame| Header { stamp_ns, frame, seq: 0 };
    let cloud = |stamp_ns| {
        EpisodeMessage::PointCloud(PointCloud {
            header: header(stamp_ns, FrameId::Lidar(0)),
            points: vec![PointXyzi { x_m: 20.0, y_m: 0.5, z_m: -0.5, intensity: 0.25 }],
        })
    };
    let north = std::f64::consts::FRAC_PI_2;
    let ego = EpisodeMessage::Ego(RecordedEgo {
        ego: EgoState {
            header: header(at(0), FrameId::Site),
            site_from_truck: Isometry3::from_parts(
                Translation3::new(1000.0, 2000.0, 0.0),
                UnitQuaternion::from_euler_angles(0.0, 0.0, north),
            ),
            speed_mps: 0.0,
            yaw_rate_radps: 0.0,
            accel_mps2: 0.0,
        },
        pose_held: false,
    });
    let car_size = Vector3::new(4.0, 2.0, 1.5);
    let car = track(at(0), FrameId::Site, 1, "car", Point3::new(1000.0, 2022.0, 0.0), car_size, north);
    let pedestrian = track(
        at(0),
        FrameId::Site,
        2,
        "pedestrian",
        Point3::new(998.0, 2012.0, 0.0),
        Vector3::new(0.8, 0.6, 1.8),
        north,
    );
    let behind = track(at(0), FrameId::Site, 3, "car", Point3::new(1000.0, 1992.0, 0.0), car_size, north);
    // The car alone, `x_m` ahead of the lidar, in a frame of its own.
    let lone_car = |stamp_ns, x_m| {
        let car = track(stamp_ns, FrameId::Lidar(0), 1, "car", Point3::new(x_m, 0.0, 0.0), car_size, 0.0);
        EpisodeMessage::Tracks { header: header(stamp_ns, FrameId::Lidar(0)), tracks: vec![car] }
    };
    let messages = vec![
        EpisodeMessage::CompressedImage(CompressedImage {
            header: header(at(0) - 10_000_000, FrameId::Camera(2)),
            format: "jpeg".into(),
            data: b"not decoded by the export".to_vec(),
        }),
        ego,
        cloud(at(0)),
        EpisodeMessage::Tracks {
            header: header(at(0), FrameId::Site),
            tracks: vec![car, pedestrian, behind],
        },
        lone_car(at(1), 19.0),
        cloud(at(2)),
        lone_car(at(2), 18.0),
    ];
    let truck_from_lidar = r#"{"x_m":2.0,"y_m":0.0,"z_m":0.0,"roll_rad":0.0,"pitch_rad":0.0,"yaw_rad":0.0}"#;
    let store = store_with(&calibration, truck_from_lidar, &messages);
    let out = tempfile::tempdir().unwrap();
    let stdout = export_cli(store.path(), out.path(), "yolo");
    assert!(
        stdout.starts_with("1 frames from 1 episodes") && stdout.contains("(2 frames skipped"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(out.path().join("images/000000.jpg")).unwrap(), b"not decoded by the export");
    assert_eq!(std::fs::read_to_string(out.path().join("classes.txt")).unwrap(), "car\npedestrian\n");
    let labels = std::fs::read_to_string(out.path().join("labels/000000.txt")).unwrap();
    let rows: Vec<Vec<f64>> =
        labels.lines().map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 2, "{labels}");
    // Camera point (X, Y, Z) = (−y, −z + 0.1, x + 0.2); u = 700 X / Z + 600, v = 700 Y / Z + 180.
    // The car: x 18..22, y −1..1, z −0.75..0.75 → X −1..1, Y −0.65..0.85, Z 18.2..22.2: the
    // extremes are at Z = 18.2: u 600 ∓ 700/18.2, v 180 − 700·0.65/18.2 .. 180 + 700·0.85/18.2.
    let box_of = |x1: f64, y1: f64, x2: f64, y2: f64| {
        [(x1 + x2) / 2.0 / 1200.0, (y1 + y2) / 2.0 / 360.0, (x2 - x1) / 1200.0, (y2 - y1) / 360.0]
    };
    let car_box =
        box_of(600.0 - 700.0 / 18.2, 180.0 - 455.0 / 18.2, 600.0 + 700.0 / 18.2, 180.0 + 595.0 / 18.2);
    // The pedestrian: x 9.6..10.4, y 1.7..2.3, z −0.9..0.9 → X −2.3..−1.7, Y −0.8..1.0, Z 9.8..10.6:
    // u from 600 − 700·2.3/9.8 to 600 − 700·1.7/10.6; v from 180 − 700·0.8/9.8 to 180 + 700/9.8.
    let pedestrian_box =
        box_of(600.0 - 1610.0 / 9.8, 180.0 - 560.0 / 9.8, 600.0 - 1190.0 / 10.6, 180.0 + 700.0 / 9.8);
    for (row, (class, expected)) in rows.iter().zip([(0.0, car_box), (1.0, pedestrian_box)]) {
        assert_eq!(row[0], class);
        for (ours, theirs) in row[1..].iter().zip(expected) {
            assert!((ours - theirs).abs() < 1e-5, "{labels}: {ours} vs {theirs}");
        }
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "yolo");
    assert_eq!(
        (manifest["frames_written"].as_u64(), manifest["frames_skipped"].as_u64()),
        (Some(1), Some(2))
    );
}

#[test]
fn an_episode_without_calibration_or_unreadable_is_named_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let relative = "truck-07/2026-11-29/broken.mcap";
    std::fs::create_dir_all(dir.path().join("truck-07/2026-11-29")).unwrap();
    std::fs::write(dir.path().join(relative), b"not an episode").unwrap();
    let row = CatalogRow {
        truck_id: "truck-07".into(),
        sha256: "f".repeat(64),
        file_name: "broken.mcap".into(),
        store_path: relative.into(),
        size_bytes: 14,
        priority: "normal".into(),
        recorded_ns: START_NS,
        received_ns: START_NS,
    };
    store.catalog().insert(&row).unwrap();
    let hits =
        Catalog::open(&dir.path().join("catalog.sqlite")).unwrap().query(&CatalogQuery::default()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = pitsense_cloud_link::export::export(
        dir.path(),
        &hits,
        pitsense_cloud_link::export::ExportFormat::Kitti,
        out.path(),
    )
    .unwrap();
    assert_eq!(report.frames_written, 0);
    let why = report.episodes[0].skipped_because.as_deref().unwrap();
    assert!(why.contains("broken.mcap") && why.contains("MCAP magic"), "{why}");
    assert!(out.path().join("manifest.json").is_file());
}
