//! Shared helpers of the perception integration tests: where the data is, PNG sizes, and the
//! mmdet3d info JSON of KITTI frame 000008.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::{Path, PathBuf};

use pitsense_perception::kitti::{KittiCalib, KittiLabel};
pub use pitsense_testkit::data_root;
use pitsense_types::nalgebra::{Matrix3, Matrix3x4, Point3};
use pitsense_types::{BoxPx, FrameId, Header};

/// A file under the data root; panics with a hint when it is missing (the tests need the data).
pub fn data_file(relative: &str) -> PathBuf {
    let path = data_root().join(relative);
    assert!(
        path.is_file(),
        "test data `{}` is missing; set PITSENSE_DATA to the shared data folder (see shared/data/SOURCES.md)",
        path.display()
    );
    path
}

/// A file under the data root, or `None` (with a message on stderr saying what is skipped) when
/// it is absent: for tests on optional inputs such as `regressions/`, which skip instead of
/// failing on a machine without them.
pub fn optional_data_file(relative: &str, test: &str) -> Option<PathBuf> {
    let path = data_root().join(relative);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "{test}: skipped, test data `{}` is missing (set PITSENSE_DATA to the shared data folder)",
            path.display()
        );
        None
    }
}

/// The KITTI object training frames shipped in the data folder.
pub const KITTI_TRAINING_FRAMES: [&str; 3] = ["000000", "000001", "000002"];

/// Header of a KITTI velodyne cloud: lidar 0, frame number as sequence, nominal 10 Hz stamps.
pub fn kitti_header(frame: u64) -> Header {
    Header { stamp_ns: frame * 100_000_000, frame: FrameId::Lidar(0), seq: frame }
}

/// Width and height of a PNG from its IHDR chunk (bytes 16..24, big-endian).
pub fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(bytes.len() >= 24, "{} is too short for a PNG", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    assert_eq!(&bytes[12..16], b"IHDR", "{}: first chunk is not IHDR", path.display());
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (width, height)
}

fn matrix_rows(value: &serde_json::Value, what: &str) -> Vec<Vec<f64>> {
    let rows = value.as_array().unwrap_or_else(|| panic!("{what} is not an array"));
    rows.iter()
        .map(|row| {
            row.as_array()
                .unwrap_or_else(|| panic!("{what}: row is not an array"))
                .iter()
                .map(|v| v.as_f64().unwrap_or_else(|| panic!("{what}: not a number")))
                .collect()
        })
        .collect()
}

fn top_3x4(rows: &[Vec<f64>], what: &str) -> Matrix3x4<f64> {
    assert!(rows.len() >= 3 && rows.iter().take(3).all(|r| r.len() == 4), "{what} is not 4x4");
    Matrix3x4::from_fn(|r, c| rows[r][c])
}

/// Calibration and labels of an mmdet3d KITTI info JSON (`data_list[0]`): `cam2img` of CAM2 is
/// P2 padded to 4×4, `images.R0_rect` and `lidar_points.Tr_velo_to_cam` are 4×4; each
/// instance's `bbox_3d` is `[x, y, z, l, h, w, rot_y]` (bottom centre, rect camera) and
/// `bbox_label_3d` is 0 Pedestrian, 1 Cyclist, 2 Car, -1 DontCare.
pub fn mmdet3d_frame(path: &Path) -> (KittiCalib, Vec<KittiLabel>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let entry = &json["data_list"][0];
    let p2 = top_3x4(&matrix_rows(&entry["images"]["CAM2"]["cam2img"], "cam2img"), "cam2img");
    let r0_rows = matrix_rows(&entry["images"]["R0_rect"], "R0_rect");
    let rect_from_cam0 = Matrix3::from_fn(|r, c| r0_rows[r][c]);
    let cam0_from_velo =
        top_3x4(&matrix_rows(&entry["lidar_points"]["Tr_velo_to_cam"], "Tr_velo_to_cam"), "Tr_velo_to_cam");
    let calib = KittiCalib {
        file: path.to_path_buf(),
        p0: None,
        p1: None,
        p2,
        p3: None,
        rect_from_cam0,
        cam0_from_velo,
        velo_from_imu: None,
    };
    let instances = entry["instances"].as_array().expect("instances array");
    let labels = instances
        .iter()
        .map(|instance| {
            let numbers = |key: &str| -> Vec<f64> {
                instance[key]
                    .as_array()
                    .unwrap_or_else(|| panic!("{key}"))
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            };
            let b3 = numbers("bbox_3d");
            let b2 = numbers("bbox");
            let object_type = match instance["bbox_label_3d"].as_i64() {
                Some(0) => "Pedestrian",
                Some(1) => "Cyclist",
                Some(2) => "Car",
                _ => "DontCare",
            };
            KittiLabel {
                object_type: object_type.to_string(),
                truncated: instance["truncated"].as_f64().unwrap_or(-1.0),
                occluded: instance["occluded"].as_i64().unwrap_or(-1) as i32,
                alpha_rad: instance["alpha"].as_f64().unwrap_or(-10.0),
                box_px: BoxPx { x1: b2[0] as f32, y1: b2[1] as f32, x2: b2[2] as f32, y2: b2[3] as f32 },
                height_m: b3[4],
                width_m: b3[5],
                length_m: b3[3],
                bottom_center_in_rect_m: Point3::new(b3[0], b3[1], b3[2]),
                rotation_y_rad: b3[6],
                score: None,
            }
        })
        .collect();
    (calib, labels)
}
