//! Point files: nuScenes `.pcd.bin`, PCD v0.7 ASCII and binary, KITTI `.bin` through the
//! dispatcher. The files are written by the tests with hand-computed contents.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

use std::path::{Path, PathBuf};

use pitsense_perception::drivers::point_files::{
    PointFileError, PointFileFormat, parse_nuscenes_pcd_bin, parse_pcd, read_point_file,
};
use pitsense_types::{FrameId, Header, PointXyzi};

fn header() -> Header {
    Header { stamp_ns: 5, frame: FrameId::Lidar(1), seq: 9 }
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pitsense-drivers-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|value| value.to_le_bytes()).collect()
}

fn point(x_m: f32, y_m: f32, z_m: f32, intensity: f32) -> PointXyzi {
    PointXyzi { x_m, y_m, z_m, intensity }
}

#[test]
fn formats_from_names() {
    assert_eq!(
        PointFileFormat::from_path(Path::new("a/n015-LIDAR_TOP__1.pcd.bin")),
        Some(PointFileFormat::NuscenesPcdBin)
    );
    assert_eq!(PointFileFormat::from_path(Path::new("velodyne/000000.bin")), Some(PointFileFormat::KittiBin));
    assert_eq!(PointFileFormat::from_path(Path::new("cloud.PCD")), Some(PointFileFormat::Pcd));
    assert_eq!(PointFileFormat::from_path(Path::new("cloud.las")), None);
    let error = read_point_file(Path::new("cloud.las"), header()).unwrap_err();
    assert!(error.to_string().contains("cloud.las"), "{error}");
}

#[test]
fn nuscenes_pcd_bin() {
    // Two points: (1, 2, 3) intensity 51 ring 7 → intensity 51 / 255 = 0.2; (−4.5, 0.25, −1)
    // intensity 255 ring 31 → 1.0. The ring is dropped.
    let bytes = f32s(&[1.0, 2.0, 3.0, 51.0, 7.0, -4.5, 0.25, -1.0, 255.0, 31.0]);
    let path = temp_file("sample.pcd.bin", &bytes);
    let cloud = read_point_file(&path, header()).unwrap();
    assert_eq!(cloud.header, header());
    assert_eq!(cloud.points, [point(1.0, 2.0, 3.0, 0.2), point(-4.5, 0.25, -1.0, 1.0)]);

    // 21 bytes is not a whole number of 20-byte records: the error names file and reason.
    let error = parse_nuscenes_pcd_bin(&bytes[..21], Path::new("cut.pcd.bin"), header()).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("cut.pcd.bin") && text.contains("21 bytes") && text.contains("20-byte"), "{text}");
}

#[test]
fn kitti_bin_through_the_dispatcher() {
    let path = temp_file("000123.bin", &f32s(&[1.0, -2.0, 0.5, 0.25]));
    let cloud = read_point_file(&path, header()).unwrap();
    assert_eq!(cloud.points, [point(1.0, -2.0, 0.5, 0.25)]);
    let path = temp_file("000124.bin", &[0_u8; 17]);
    assert!(matches!(read_point_file(&path, header()), Err(PointFileError::Kitti(_))));
}

const ASCII_PCD: &str = "# .PCD v0.7 - Point Cloud Data file format
VERSION 0.7
FIELDS x y z intensity
SIZE 4 4 4 4
TYPE F F F F
COUNT 1 1 1 1
WIDTH 3
HEIGHT 1
VIEWPOINT 0 0 0 1 0 0 0
POINTS 3
DATA ascii
0.5 1.5 -2 10
3 4 5 0.25
nan nan nan 0
";

#[test]
fn pcd_ascii() {
    let path = temp_file("cloud.pcd", ASCII_PCD.as_bytes());
    let cloud = read_point_file(&path, header()).unwrap();
    assert_eq!(cloud.points.len(), 3);
    assert_eq!(cloud.points[0], point(0.5, 1.5, -2.0, 10.0));
    assert_eq!(cloud.points[1], point(3.0, 4.0, 5.0, 0.25));
    // An organised cloud's missing return stays NaN (the pipeline counts and drops it).
    assert!(!cloud.points[2].is_finite());
}

#[test]
fn pcd_binary_with_mixed_types() {
    // Record: x f32, y f32, z f64, ring u16, intensity u8, normal f32 × 3 (COUNT 3, ignored):
    // 4 + 4 + 8 + 2 + 1 + 12 = 31 bytes.
    let header_text = "VERSION 0.7\nFIELDS x y z ring intensity normal\nSIZE 4 4 8 2 1 4\nTYPE F F F U U F\n\
                       COUNT 1 1 1 1 1 3\nWIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA binary\n";
    let mut bytes = header_text.as_bytes().to_vec();
    for (x, y, z, ring, intensity) in [(1.0_f32, 2.0_f32, -3.5_f64, 7_u16, 200_u8), (-0.5, 0.0, 100.25, 1, 3)]
    {
        bytes.extend(x.to_le_bytes());
        bytes.extend(y.to_le_bytes());
        bytes.extend(z.to_le_bytes());
        bytes.extend(ring.to_le_bytes());
        bytes.push(intensity);
        bytes.extend(f32s(&[0.0, 0.0, 1.0]));
    }
    let cloud = parse_pcd(&bytes, Path::new("mixed.pcd"), header()).unwrap();
    assert_eq!(cloud.points, [point(1.0, 2.0, -3.5, 200.0), point(-0.5, 0.0, 100.25, 3.0)]);

    // No intensity field: intensity 0; a signed field decodes with its sign.
    let text = "FIELDS x y z\nSIZE 2 1 4\nTYPE I I F\nWIDTH 1\nHEIGHT 1\nDATA binary\n";
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend((-300_i16).to_le_bytes());
    bytes.push((-5_i8) as u8);
    bytes.extend(1.5_f32.to_le_bytes());
    let cloud = parse_pcd(&bytes, Path::new("signed.pcd"), header()).unwrap();
    assert_eq!(cloud.points, [point(-300.0, -5.0, 1.5, 0.0)]);

    // Truncated binary data: the error says how much is missing.
    let error = parse_pcd(&bytes[..bytes.len() - 1], Path::new("signed.pcd"), header()).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("signed.pcd") && text.contains("truncated"), "{text}");
}

#[test]
fn pcd_errors_name_the_file_and_the_reason() {
    let cases: [(&str, &str); 9] = [
        ("VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\n", "no DATA line"),
        ("FIELDS x y z\nSIZE 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3\n", "SIZE 2"),
        ("FIELDS x y q\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3\n", "lacks x, y or z"),
        ("FIELDS x y z\nSIZE 4 4 4\nTYPE F F X\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3\n", "TYPE `X`"),
        ("FIELDS x y z\nSIZE 4 4 3\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2 3\n", "SIZE 3 TYPE Float"),
        ("FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 2\nHEIGHT 1\nDATA ascii\n1 2 3\n", "truncated"),
        (
            "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 two 3\n",
            "`two` is not a number",
        ),
        (
            "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nDATA binary_compressed\n",
            "binary_compressed",
        ),
        (
            "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 1\nHEIGHT 1\nPOINTS 2\nDATA ascii\n1 2 3\n",
            "POINTS 2",
        ),
    ];
    for (text, reason) in cases {
        let error = parse_pcd(text.as_bytes(), Path::new("bad.pcd"), header()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("bad.pcd") && message.contains(reason), "`{reason}` not in `{message}`");
    }
    // A missing file names itself.
    let error = read_point_file(Path::new("/nonexistent/dir/cloud.pcd"), header()).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/dir/cloud.pcd"), "{error}");
}
