//! Readers for the KITTI 3D object benchmark files (Geiger et al., "Are we ready for
//! Autonomous Driving? The KITTI Vision Benchmark Suite", CVPR 2012; formats from the object
//! devkit `readme.txt`).
//!
//! - `velodyne/NNNNNN.bin`: little-endian `f32` records of `(x, y, z, reflectance)`, 16 bytes
//!   each, in the velodyne frame (x forward, y left, z up, metres; reflectance `0..=1`). Files
//!   in the same place with another record layout exist (nuScenes-derived sets write
//!   `x, y, z, intensity, ring`, 20 bytes); a file that does not read plausibly as KITTI records
//!   is refused (see [`parse_velodyne_bin`]) unless its layout is declared
//!   ([`VelodyneBinLayout`], from the dataset description).
//! - `calib/NNNNNN.txt`: lines `key: v1 v2 ...`, row-major. `P0..P3` (3×4) project points of the
//!   rectified reference camera frame into the image of camera `i`; `R0_rect` (3×3) rotates
//!   camera 0 into that rectified frame; `Tr_velo_to_cam` and `Tr_imu_to_velo` are 3×4 `[R | t]`.
//!   Two other KITTI dialects are read too: the odometry benchmark's `calib.txt` (`P0..P3` and
//!   `Tr`, which already maps the velodyne into the rectified frame, so `R0_rect` is the identity;
//!   odometry devkit `readme.txt`) and the raw recordings' `calib_velo_to_cam.txt` (`R` 3×3 and
//!   `T` 3×1; raw devkit `readme.txt`), whose camera half is `calib_cam_to_cam.txt` (`P_rect_0i`,
//!   `R_rect_00`), see [`read_raw_drive_calib`].
//! - `label_2/NNNNNN.txt`: one object per line, 15 columns
//!   `type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y` (a 16th column, `score`,
//!   appears in result files). The 3D box is in the rectified camera frame (x right, y down,
//!   z forward) with `(x, y, z)` the centre of its **bottom** face.
//!
//! Every error names the file it came from (for in-memory parsing, the name the caller gave).

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use nalgebra::{Matrix3, Matrix3x4, Matrix4, Point3, Vector3, Vector4};
use pitsense_types::{
    BoxPx, CalibrationError, CameraCalibration, Detection3d, Header, ObjectSource, PointCloud, PointXyzi,
    SensorId,
};

/// Bytes per point in a KITTI velodyne file: four little-endian `f32`.
pub const VELODYNE_RECORD_BYTES: usize = 16;

/// The record layout of a velodyne `.bin` file: little-endian `f32` values per point, the
/// first four being `x, y, z` (metres) and the intensity.
///
/// A dataset description states it; [`read_velodyne_bin`] assumes [`Self::KITTI`] and checks
/// that the data is plausible under it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VelodyneBinLayout {
    /// `f32` values per point, at least 4 (`x, y, z, intensity`, then any extra columns such as
    /// a ring index, skipped).
    pub columns: usize,
    /// The stored intensity's full scale: points get `intensity / intensity_full_scale` (1 for
    /// KITTI reflectance `0..=1`, 255 for nuScenes intensity `0..=255`).
    pub intensity_full_scale: f32,
}

impl VelodyneBinLayout {
    /// KITTI: `x, y, z, reflectance` (16 bytes), reflectance `0..=1`.
    pub const KITTI: Self = Self { columns: 4, intensity_full_scale: 1.0 };
    /// nuScenes `LIDAR_TOP`: `x, y, z, intensity, ring` (20 bytes), intensity `0..=255`.
    pub const NUSCENES: Self = Self { columns: 5, intensity_full_scale: 255.0 };

    /// Bytes per point.
    pub fn record_bytes(&self) -> usize {
        self.columns * 4
    }
}

/// Largest plausible stored intensity: sensors report at most 16 bits.
const MAX_PLAUSIBLE_INTENSITY: f32 = 65_535.0;
/// Share of implausible intensities (negative, non-finite, above 16 bits) a file may hold and
/// still be read: a corrupt point or two, not a misread layout (which gives about one in three).
const MAX_IMPLAUSIBLE_SHARE: f64 = 0.01;

/// KITTI's colour camera 2 (left colour camera), the one the labels' 2D boxes refer to.
pub const KITTI_CAMERA_2: SensorId = 2;

/// Why a KITTI file could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum KittiError {
    /// The file could not be opened or read.
    #[error("cannot read `{}`: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A velodyne file whose length is not a whole number of 16-byte points.
    #[error(
        "velodyne file `{}` is {byte_len} bytes long, not a multiple of {VELODYNE_RECORD_BYTES} \
         (x, y, z, reflectance as f32)",
        file.display()
    )]
    VelodyneLength {
        /// The file.
        file: PathBuf,
        /// Its length in bytes.
        byte_len: usize,
    },
    /// A velodyne file whose records, read in the expected layout, do not look like points: too
    /// many intensities are negative, not finite or beyond 16 bits (the sign of a file written
    /// with another number of columns).
    #[error(
        "velodyne file `{}` does not read as {columns} f32 columns (x, y, z, intensity{}): {implausible} of \
         {points} intensities are negative, not finite or above 65535{hint}",
        file.display(),
        if *columns > 4 { ", ..." } else { "" }
    )]
    VelodyneImplausible {
        /// The file.
        file: PathBuf,
        /// Columns of the layout it was read with.
        columns: usize,
        /// Points whose intensity is implausible.
        implausible: usize,
        /// Points read.
        points: usize,
        /// What layout the bytes do fit, if one does (empty otherwise).
        hint: String,
    },
    /// A velodyne layout with fewer than 4 columns or a full scale that is not positive.
    #[error(
        "velodyne layout of {columns} columns, intensity full scale {intensity_full_scale}: needs ≥ 4 columns and a positive scale"
    )]
    VelodyneLayout {
        /// Columns asked for.
        columns: usize,
        /// Full scale asked for.
        intensity_full_scale: f32,
    },
    /// A calibration file lacks a required key.
    #[error("calibration file `{}` has no `{key}` line{also_accepted}", file.display())]
    CalibMissingKey {
        /// The file.
        file: PathBuf,
        /// The missing key by its object-benchmark name (`P2`, `R0_rect`, `Tr_velo_to_cam`), or
        /// the raw-drive key (`R`, `T`) when only one of the pair is there.
        key: &'static str,
        /// The other dialects' keys that would have done, as text for the message (` (nor
        /// `Tr` ...)`), empty when there are none.
        also_accepted: &'static str,
    },
    /// A calibration line is malformed: wrong number of values, a value that is not a finite
    /// number, a duplicated key or a line with no key.
    #[error("calibration file `{}`, line {line}, key `{key}`: {reason}", file.display())]
    CalibValue {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The key of the line (empty when the line has none).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The matrices parse but do not describe a usable camera (see [`CalibrationError`]), or the
    /// rectified frame cannot be mapped back to the velodyne frame.
    #[error("calibration file `{}` is unusable: {reason}", file.display())]
    CalibUnusable {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
        /// The underlying calibration error, if any.
        #[source]
        source: Option<CalibrationError>,
    },
    /// A label line is malformed.
    #[error("label file `{}`, line {line}: {reason}", file.display())]
    Label {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

fn read_file(path: &Path) -> Result<Vec<u8>, KittiError> {
    std::fs::read(path).map_err(|source| KittiError::Io { file: path.to_path_buf(), source })
}

fn read_text(path: &Path) -> Result<String, KittiError> {
    std::fs::read_to_string(path).map_err(|source| KittiError::Io { file: path.to_path_buf(), source })
}

// ---------------------------------------------------------------------------------------------
// Velodyne scans
// ---------------------------------------------------------------------------------------------

/// Reads a KITTI velodyne scan (`velodyne/NNNNNN.bin`) into a cloud with the given header.
///
/// The header's frame should be the velodyne's [`pitsense_types::FrameId::Lidar`]; points are in
/// metres, intensity is KITTI reflectance (`0..=1`). Non-finite values are kept as they are (the
/// lidar pipeline counts and drops them).
///
/// # Errors
/// [`KittiError::Io`] when the file cannot be read; those of [`parse_velodyne_bin`].
pub fn read_velodyne_bin(path: &Path, header: Header) -> Result<PointCloud, KittiError> {
    let bytes = read_file(path)?;
    parse_velodyne_bin(&bytes, path, header)
}

/// Reads a velodyne `.bin` scan whose record layout the dataset description gives.
///
/// # Errors
/// [`KittiError::Io`] when the file cannot be read; those of
/// [`parse_velodyne_bin_with_layout`].
pub fn read_velodyne_bin_with_layout(
    path: &Path,
    layout: VelodyneBinLayout,
    header: Header,
) -> Result<PointCloud, KittiError> {
    let bytes = read_file(path)?;
    parse_velodyne_bin_with_layout(&bytes, path, layout, header)
}

/// Decodes the bytes of a KITTI velodyne scan held in memory; `file` names it in errors.
///
/// Layout: `N` records of 16 bytes, each `x, y, z, reflectance` as little-endian IEEE-754 `f32`.
/// The length alone cannot tell this layout from others (an `N × 5` nuScenes-style file is a
/// multiple of 16 bytes whenever `N` is a multiple of 4), so the reflectances are checked: more
/// than 1 % of them negative, non-finite or above 65535 means the file is not in this layout
/// (read out of step, the reflectance column takes coordinates and ring indices, about a third
/// of them negative). The error then says whether the bytes fit `x, y, z, intensity, ring`
/// (every intensity in `0..=255` or less, every ring an integer in `0..=255`).
///
/// # Errors
/// [`KittiError::VelodyneLength`] when `bytes.len()` is not a multiple of 16;
/// [`KittiError::VelodyneImplausible`] when the reflectances are implausible.
pub fn parse_velodyne_bin(bytes: &[u8], file: &Path, header: Header) -> Result<PointCloud, KittiError> {
    parse_velodyne_bin_with_layout(bytes, file, VelodyneBinLayout::KITTI, header)
}

/// Decodes a velodyne `.bin` scan held in memory in a given record layout; `file` names it in
/// errors. Intensities are divided by the layout's full scale; columns past the fourth are
/// skipped. The intensities are checked as in [`parse_velodyne_bin`].
///
/// # Errors
/// [`KittiError::VelodyneLayout`] for fewer than 4 columns or a full scale that is not
/// positive; [`KittiError::VelodyneLength`] (16-byte layout) or
/// [`KittiError::VelodyneImplausible`] with the length in the hint (other layouts) when the
/// length is not a whole number of records; [`KittiError::VelodyneImplausible`] when more than
/// 1 % of the intensities are negative, non-finite or above 65535.
pub fn parse_velodyne_bin_with_layout(
    bytes: &[u8],
    file: &Path,
    layout: VelodyneBinLayout,
    header: Header,
) -> Result<PointCloud, KittiError> {
    let VelodyneBinLayout { columns, intensity_full_scale } = layout;
    if columns < 4 || !(intensity_full_scale > 0.0 && intensity_full_scale.is_finite()) {
        return Err(KittiError::VelodyneLayout { columns, intensity_full_scale });
    }
    let record_bytes = layout.record_bytes();
    if !bytes.len().is_multiple_of(record_bytes) {
        if record_bytes == VELODYNE_RECORD_BYTES {
            return Err(KittiError::VelodyneLength { file: file.to_path_buf(), byte_len: bytes.len() });
        }
        return Err(KittiError::VelodyneImplausible {
            file: file.to_path_buf(),
            columns,
            implausible: 0,
            points: bytes.len() / record_bytes,
            hint: format!(
                ": its {} bytes are not a whole number of {record_bytes}-byte records",
                bytes.len()
            ),
        });
    }
    let value =
        |record: &[u8], column: usize| crate::drivers::bytes::le_f32(record, column * 4).unwrap_or(f32::NAN);
    let mut implausible = 0_usize;
    let points: Vec<PointXyzi> = bytes
        .chunks_exact(record_bytes)
        .map(|record| {
            let stored_intensity = value(record, 3);
            if !plausible_intensity(stored_intensity) {
                implausible += 1;
            }
            PointXyzi {
                x_m: value(record, 0),
                y_m: value(record, 1),
                z_m: value(record, 2),
                intensity: stored_intensity / intensity_full_scale,
            }
        })
        .collect();
    if implausible as f64 > MAX_IMPLAUSIBLE_SHARE * points.len() as f64 {
        let hint = if columns != 5 && nuscenes_layout_fits(bytes) {
            "; read as 5 f32 columns (x, y, z, intensity, ring: the nuScenes layout) every intensity \
             is in 0..=255 and every ring an integer in 0..=255, so this is likely a 5-column \
             file: declare its layout (VelodyneBinLayout with 5 columns) in the dataset description"
                .to_owned()
        } else {
            String::new()
        };
        return Err(KittiError::VelodyneImplausible {
            file: file.to_path_buf(),
            columns,
            implausible,
            points: points.len(),
            hint,
        });
    }
    Ok(PointCloud { header, points })
}

/// Whether a stored intensity can be one: finite, non-negative, at most 16 bits.
fn plausible_intensity(intensity: f32) -> bool {
    intensity.is_finite() && (0.0..=MAX_PLAUSIBLE_INTENSITY).contains(&intensity)
}

/// Whether `bytes` read as `x, y, z, intensity, ring` records all have an intensity in
/// `0..=255` and a ring that is an integer in `0..=255`.
fn nuscenes_layout_fits(bytes: &[u8]) -> bool {
    let record_bytes = VelodyneBinLayout::NUSCENES.record_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(record_bytes) {
        return false;
    }
    bytes.chunks_exact(record_bytes).all(|record| {
        let value = |column: usize| crate::drivers::bytes::le_f32(record, column * 4).unwrap_or(f32::NAN);
        let (intensity, ring) = (value(3), value(4));
        (0.0..=255.0).contains(&intensity) && (0.0..=255.0).contains(&ring) && ring.fract() == 0.0
    })
}

// ---------------------------------------------------------------------------------------------
// Calibration
// ---------------------------------------------------------------------------------------------

/// The matrices of a KITTI object calibration file.
///
/// Names follow `target_from_source`; the KITTI key each field comes from is given.
#[derive(Clone, Debug, PartialEq)]
pub struct KittiCalib {
    /// The file the matrices were read from; errors found later (see
    /// [`Self::camera_calibration`]) name it.
    pub file: PathBuf,
    /// `P0`: rectified reference frame → image of camera 0 (grey left), pixels. Optional.
    pub p0: Option<Matrix3x4<f64>>,
    /// `P1`: rectified reference frame → image of camera 1 (grey right). Optional.
    pub p1: Option<Matrix3x4<f64>>,
    /// `P2`: rectified reference frame → image of camera 2 (colour left), the labels' camera.
    pub p2: Matrix3x4<f64>,
    /// `P3`: rectified reference frame → image of camera 3 (colour right). Optional.
    pub p3: Option<Matrix3x4<f64>>,
    /// `R0_rect`: rotation from camera 0's frame to the rectified reference frame (the identity
    /// for odometry files, whose `Tr` ends in the rectified frame).
    pub rect_from_cam0: Matrix3<f64>,
    /// `Tr_velo_to_cam` (odometry `Tr`, raw `R` and `T`): `[R | t]` from the velodyne frame to
    /// camera 0's frame, metres.
    pub cam0_from_velo: Matrix3x4<f64>,
    /// `Tr_imu_to_velo`: `[R | t]` from the IMU (OXTS) frame to the velodyne frame. Optional.
    pub velo_from_imu: Option<Matrix3x4<f64>>,
}

/// Where a calibration value was found, for error messages.
struct CalibEntry {
    line: usize,
    values: Vec<f64>,
}

fn pad_to_4x4(matrix: &Matrix3x4<f64>) -> Matrix4<f64> {
    let mut padded = Matrix4::identity();
    padded.fixed_view_mut::<3, 4>(0, 0).copy_from(matrix);
    padded
}

impl KittiCalib {
    /// `R0_rect · Tr_velo_to_cam` as a 4×4 homogeneous matrix: velodyne → rectified camera.
    pub fn rect_from_velo(&self) -> Matrix4<f64> {
        let mut rect = Matrix4::identity();
        rect.fixed_view_mut::<3, 3>(0, 0).copy_from(&self.rect_from_cam0);
        rect * pad_to_4x4(&self.cam0_from_velo)
    }

    /// The inverse of [`Self::rect_from_velo`]: rectified camera → velodyne, as KITTI's devkit
    /// does it (a general 4×4 inverse, no re-orthonormalisation).
    ///
    /// # Errors
    /// [`KittiError::CalibUnusable`] (naming the file) when the matrix is singular or not finite.
    pub fn velo_from_rect(&self) -> Result<Matrix4<f64>, KittiError> {
        let forward = self.rect_from_velo();
        match forward.try_inverse() {
            Some(inverse) if inverse.iter().all(|v| v.is_finite()) => Ok(inverse),
            _ => Err(KittiError::CalibUnusable {
                file: self.file.clone(),
                reason: "R0_rect · Tr_velo_to_cam is singular".into(),
                source: None,
            }),
        }
    }

    /// The calibration of camera 2 relative to the velodyne, via
    /// [`CameraCalibration::from_kitti`]; `width_px`, `height_px` is the image size (KITTI images
    /// vary between frames, about 1242×375).
    ///
    /// # Errors
    /// [`KittiError::CalibUnusable`] (naming the file) when `P2` is not a pinhole matrix or a
    /// rotation block is not a rotation.
    pub fn camera_calibration(&self, width_px: u32, height_px: u32) -> Result<CameraCalibration, KittiError> {
        CameraCalibration::from_kitti(
            KITTI_CAMERA_2,
            &self.p2,
            &self.rect_from_cam0,
            &self.cam0_from_velo,
            width_px,
            height_px,
        )
        .map_err(|source| KittiError::CalibUnusable {
            file: self.file.clone(),
            reason: source.to_string(),
            source: Some(source),
        })
    }
}

/// A key of the calibration dialects: its canonical name, the spellings accepted and how many
/// numbers it holds.
struct CalibKey {
    name: &'static str,
    aliases: &'static [&'static str],
    numbers: usize,
}

/// Every key read, in the order of [`CalibEntries`]' slots.
const CALIB_KEYS: [CalibKey; 10] = [
    CalibKey { name: "P0", aliases: &["P0", "P_rect_00"], numbers: 12 },
    CalibKey { name: "P1", aliases: &["P1", "P_rect_01"], numbers: 12 },
    CalibKey { name: "P2", aliases: &["P2", "P_rect_02"], numbers: 12 },
    CalibKey { name: "P3", aliases: &["P3", "P_rect_03"], numbers: 12 },
    CalibKey { name: "R0_rect", aliases: &["R0_rect", "R_rect", "R_rect_00"], numbers: 9 },
    CalibKey { name: "Tr_velo_to_cam", aliases: &["Tr_velo_to_cam", "Tr_velo_cam"], numbers: 12 },
    CalibKey { name: "Tr_imu_to_velo", aliases: &["Tr_imu_to_velo", "Tr_imu_velo"], numbers: 12 },
    // Odometry: velodyne → rectified camera 0.
    CalibKey { name: "Tr", aliases: &["Tr"], numbers: 12 },
    // Raw drives' calib_velo_to_cam.txt: rotation and translation, velodyne → camera 0.
    CalibKey { name: "R", aliases: &["R"], numbers: 9 },
    CalibKey { name: "T", aliases: &["T"], numbers: 3 },
];

/// What a missing `Tr_velo_to_cam` could have been in the other dialects.
const VELO_TO_CAM_ALSO_ACCEPTED: &str =
    " (nor `Tr_velo_cam`, nor the odometry files' `Tr`, nor the raw drives' `R` and `T`)";

/// The values of one calibration file, one slot per [`CALIB_KEYS`] entry.
struct CalibEntries {
    file: PathBuf,
    slots: [Option<CalibEntry>; CALIB_KEYS.len()],
}

impl CalibEntries {
    /// Parses `text` (any dialect); `file` names it in errors.
    fn parse(text: &str, file: &Path) -> Result<Self, KittiError> {
        let mut slots: [Option<CalibEntry>; CALIB_KEYS.len()] = Default::default();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let mut tokens = line.split_whitespace();
            let Some(first) = tokens.next() else { continue };
            // `key:` or `key: v1 ...` or `key:v1` (colon glued to the first value).
            let (key, glued) = match first.split_once(':') {
                Some((key, rest)) => (key, (!rest.is_empty()).then_some(rest)),
                None => (first, None),
            };
            let Some((slot, calib_key)) =
                CALIB_KEYS.iter().enumerate().find(|(_, k)| k.aliases.contains(&key))
            else {
                continue;
            };
            let value_error = |reason: String| KittiError::CalibValue {
                file: file.to_path_buf(),
                line: line_number,
                key: calib_key.name.to_string(),
                reason,
            };
            let mut values = Vec::with_capacity(calib_key.numbers);
            for token in glued.into_iter().chain(tokens) {
                match token.parse::<f64>() {
                    Ok(value) if value.is_finite() => values.push(value),
                    _ => return Err(value_error(format!("`{token}` is not a finite number"))),
                }
            }
            if values.len() != calib_key.numbers {
                return Err(value_error(format!(
                    "expected {} numbers, found {}",
                    calib_key.numbers,
                    values.len()
                )));
            }
            let entry = slots.get_mut(slot).ok_or_else(|| value_error("internal key table".into()))?;
            if let Some(previous) = entry {
                return Err(value_error(format!("key given twice (first on line {})", previous.line)));
            }
            *entry = Some(CalibEntry { line: line_number, values });
        }
        Ok(Self { file: file.to_path_buf(), slots })
    }

    /// The entry of the key named `name` in [`CALIB_KEYS`].
    fn get(&self, name: &str) -> Option<&CalibEntry> {
        let slot = CALIB_KEYS.iter().position(|k| k.name == name)?;
        self.slots.get(slot)?.as_ref()
    }

    fn matrix_3x4(&self, name: &str) -> Option<Matrix3x4<f64>> {
        self.get(name).map(|e| Matrix3x4::from_row_slice(&e.values))
    }

    fn missing(&self, key: &'static str, also_accepted: &'static str) -> KittiError {
        KittiError::CalibMissingKey { file: self.file.clone(), key, also_accepted }
    }

    /// A conflict between two keys that give the same transform.
    fn conflict(&self, later: &CalibEntry, key: &str, reason: String) -> KittiError {
        KittiError::CalibValue { file: self.file.clone(), line: later.line, key: key.to_string(), reason }
    }

    /// The velodyne → camera transform of whichever dialect the file is in, and whether it maps
    /// into camera 0's own frame (object `Tr_velo_to_cam`, raw `R`/`T`: `R0_rect` still applies)
    /// or already into the rectified frame (odometry `Tr`).
    fn velo_to_cam(&self) -> Result<(Matrix3x4<f64>, VeloToCamTarget), KittiError> {
        let object = self.get("Tr_velo_to_cam");
        let odometry = self.get("Tr");
        let (rotation, translation) = (self.get("R"), self.get("T"));
        let mut sources: Vec<(&str, &CalibEntry)> = Vec::new();
        sources.extend(object.map(|e| ("Tr_velo_to_cam", e)));
        sources.extend(odometry.map(|e| ("Tr", e)));
        sources.extend(rotation.map(|e| ("R", e)));
        if let [(first, first_entry), (second, second_entry), ..] = sources.as_slice() {
            let (earlier, later, later_key) = if first_entry.line < second_entry.line {
                (first, second_entry, second)
            } else {
                (second, first_entry, first)
            };
            return Err(self.conflict(
                later,
                later_key,
                format!("the velodyne → camera transform is already given by `{earlier}`"),
            ));
        }
        if let Some(entry) = object {
            return Ok((Matrix3x4::from_row_slice(&entry.values), VeloToCamTarget::Camera0));
        }
        if let Some(entry) = odometry {
            return Ok((Matrix3x4::from_row_slice(&entry.values), VeloToCamTarget::Rectified));
        }
        match (rotation, translation) {
            (Some(r), Some(t)) => {
                let mut matrix = Matrix3x4::zeros();
                matrix.fixed_view_mut::<3, 3>(0, 0).copy_from(&Matrix3::from_row_slice(&r.values));
                matrix.fixed_view_mut::<3, 1>(0, 3).copy_from(&Vector3::from_row_slice(&t.values));
                Ok((matrix, VeloToCamTarget::Camera0))
            }
            (Some(_), None) => Err(self.missing("T", " (the raw drives' translation that goes with `R`)")),
            (None, Some(_)) => Err(self.missing("R", " (the raw drives' rotation that goes with `T`)")),
            (None, None) => Err(self.missing("Tr_velo_to_cam", VELO_TO_CAM_ALSO_ACCEPTED)),
        }
    }
}

/// Which camera frame a velodyne → camera transform ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VeloToCamTarget {
    /// Camera 0's own frame; `R0_rect` rotates it into the rectified frame.
    Camera0,
    /// The rectified reference frame already (odometry `Tr`); `R0_rect` is the identity.
    Rectified,
}

/// Reads a KITTI calibration file: an object or tracking `calib/NNNNNN.txt`, or an odometry
/// `calib.txt` (see [`parse_calib`]).
///
/// # Errors
/// [`KittiError::Io`], or the errors of [`parse_calib`].
pub fn read_calib(path: &Path) -> Result<KittiCalib, KittiError> {
    let text = read_text(path)?;
    parse_calib(&text, path)
}

/// Parses the text of a KITTI calibration file; `file` names it in errors.
///
/// Each non-blank line is `key: numbers` (the colon may be missing, as in some tracking calib
/// files). `P0..P3` (alias `P_rect_00..03`), `Tr_velo_to_cam` (alias `Tr_velo_cam`), `Tr` and
/// `Tr_imu_to_velo` (alias `Tr_imu_velo`) need 12 numbers, `R0_rect` (aliases `R_rect`,
/// `R_rect_00`) and `R` need 9, `T` needs 3; other keys (`calib_time`, `delta_f`, ...) are ignored.
///
/// `P2` is required, and exactly one velodyne → camera transform:
/// - object/tracking dialect: `Tr_velo_to_cam` to camera 0, with `R0_rect` required;
/// - odometry dialect: `Tr`, which maps into the rectified frame already, so `R0_rect` is taken
///   as the identity (and must not be given);
/// - raw dialect: `R` and `T` (camera 0's frame), with `R0_rect` required.
///
/// # Errors
/// [`KittiError::CalibMissingKey`] for a missing required key (for the transform, naming
/// `Tr_velo_to_cam` and the other dialects' keys); [`KittiError::CalibValue`] for a wrong number
/// of values, a value that is not a finite number, a key given twice, two transforms, or
/// `R0_rect` next to an odometry `Tr`.
pub fn parse_calib(text: &str, file: &Path) -> Result<KittiCalib, KittiError> {
    let entries = CalibEntries::parse(text, file)?;
    let (cam0_from_velo, target) = entries.velo_to_cam()?;
    // The camera first: a raw drive's `calib_velo_to_cam.txt` on its own lacks both `P2` and
    // `R0_rect`, and the projection is what the caller has to find elsewhere first.
    let p2 = entries.matrix_3x4("P2").ok_or_else(|| entries.missing("P2", " (nor `P_rect_02`)"))?;
    let rect_from_cam0 = match (target, entries.get("R0_rect")) {
        (VeloToCamTarget::Camera0, Some(r0)) => Matrix3::from_row_slice(&r0.values),
        (VeloToCamTarget::Camera0, None) => {
            return Err(entries.missing("R0_rect", " (nor `R_rect`, `R_rect_00`)"));
        }
        (VeloToCamTarget::Rectified, None) => Matrix3::identity(),
        (VeloToCamTarget::Rectified, Some(r0)) => {
            return Err(entries.conflict(
                r0,
                "R0_rect",
                "the odometry `Tr` maps into the rectified frame already; `R0_rect` would rotate twice"
                    .into(),
            ));
        }
    };
    Ok(KittiCalib {
        file: file.to_path_buf(),
        p0: entries.matrix_3x4("P0"),
        p1: entries.matrix_3x4("P1"),
        p2,
        p3: entries.matrix_3x4("P3"),
        rect_from_cam0,
        cam0_from_velo,
        velo_from_imu: entries.matrix_3x4("Tr_imu_to_velo"),
    })
}

/// Parses the velodyne → camera 0 transform (`[R | t]`, metres) of a calibration file in any
/// dialect: `Tr_velo_to_cam` (object, tracking), `Tr` (odometry: to the rectified frame, which is
/// camera 0's for those files) or `R` and `T` (raw drives' `calib_velo_to_cam.txt`, with its
/// `calib_time`, `delta_f` and `delta_c` lines ignored). `file` names it in errors.
///
/// # Errors
/// [`KittiError::CalibMissingKey`] naming `Tr_velo_to_cam` and the keys that would also do, or
/// `R` / `T` when only the other is there; [`KittiError::CalibValue`] as for [`parse_calib`].
pub fn parse_velo_to_cam(text: &str, file: &Path) -> Result<Matrix3x4<f64>, KittiError> {
    CalibEntries::parse(text, file)?.velo_to_cam().map(|(matrix, _)| matrix)
}

/// Reads the calibration of a KITTI raw recording from its two files (raw devkit `readme.txt`):
/// `calib_cam_to_cam.txt` gives `P_rect_00..03` (as `P0..P3`) and `R_rect_00` (as `R0_rect`),
/// `calib_velo_to_cam.txt` gives `R` and `T` (velodyne → camera 0). Other keys (`S_xx`, `K_xx`,
/// `D_xx`, unrectified `R_xx`/`T_xx`, `calib_time`, ...) are ignored.
///
/// # Errors
/// [`KittiError::Io`]; [`KittiError::CalibMissingKey`] / [`KittiError::CalibValue`] naming the
/// file at fault.
pub fn read_raw_drive_calib(cam_to_cam: &Path, velo_to_cam: &Path) -> Result<KittiCalib, KittiError> {
    let cameras = CalibEntries::parse(&read_text(cam_to_cam)?, cam_to_cam)?;
    let velodyne = CalibEntries::parse(&read_text(velo_to_cam)?, velo_to_cam)?;
    let (cam0_from_velo, _) = velodyne.velo_to_cam()?;
    Ok(KittiCalib {
        file: cam_to_cam.to_path_buf(),
        p0: cameras.matrix_3x4("P0"),
        p1: cameras.matrix_3x4("P1"),
        p2: cameras.matrix_3x4("P2").ok_or_else(|| cameras.missing("P2", " (nor `P_rect_02`)"))?,
        p3: cameras.matrix_3x4("P3"),
        rect_from_cam0: cameras
            .get("R0_rect")
            .map(|e| Matrix3::from_row_slice(&e.values))
            .ok_or_else(|| cameras.missing("R0_rect", " (nor `R_rect_00`)"))?,
        cam0_from_velo,
        velo_from_imu: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

/// One line of a KITTI object label file.
#[derive(Clone, Debug, PartialEq)]
pub struct KittiLabel {
    /// `type`: `Car`, `Van`, `Truck`, `Pedestrian`, `Person_sitting`, `Cyclist`, `Tram`, `Misc`
    /// or `DontCare`.
    pub object_type: String,
    /// `truncated`: fraction of the object outside the image, `0..=1` (`-1` for `DontCare`).
    pub truncated: f64,
    /// `occluded`: 0 fully visible, 1 partly occluded, 2 largely occluded, 3 unknown (`-1` for
    /// `DontCare`).
    pub occluded: i32,
    /// `alpha`: observation angle, radians in `[-π, π]`.
    pub alpha_rad: f64,
    /// 2D box in camera 2's image, pixels (`x1 y1 x2 y2`).
    pub box_px: BoxPx,
    /// `h`: 3D box height, metres.
    pub height_m: f64,
    /// `w`: 3D box width, metres.
    pub width_m: f64,
    /// `l`: 3D box length, metres.
    pub length_m: f64,
    /// `x y z`: centre of the box's bottom face in the rectified camera frame (x right, y down,
    /// z forward), metres.
    pub bottom_center_in_rect_m: Point3<f64>,
    /// `rotation_y`: rotation about the rectified camera's y axis (down), radians in `[-π, π]`;
    /// 0 means the box's length points along the camera's x axis (to the right).
    pub rotation_y_rad: f64,
    /// `score`: detection confidence, present in result files only.
    pub score: Option<f64>,
}

/// Normalises an angle to `(-π, π]`.
pub fn normalize_angle_rad(angle_rad: f64) -> f64 {
    let wrapped = (angle_rad + PI).rem_euclid(2.0 * PI) - PI;
    if wrapped <= -PI { wrapped + 2.0 * PI } else { wrapped }
}

impl KittiLabel {
    /// Whether this is a `DontCare` region (no 3D box).
    pub fn is_dont_care(&self) -> bool {
        self.object_type == "DontCare"
    }

    /// Centre of the 3D box in the rectified camera frame: the bottom centre raised by `h/2`
    /// (y points down, so `y - h/2`).
    pub fn center_in_rect_m(&self) -> Point3<f64> {
        let b = &self.bottom_center_in_rect_m;
        Point3::new(b.x, b.y - self.height_m / 2.0, b.z)
    }

    /// The eight corners of the 3D box in the rectified camera frame, as in the KITTI devkit's
    /// `computeBox3D`: `x = ±l/2`, `z = ±w/2` rotated by `rotation_y` about y, `y ∈ {0, -h}`
    /// from the bottom face.
    pub fn corners_in_rect_m(&self) -> [Point3<f64>; 8] {
        let (sin, cos) = self.rotation_y_rad.sin_cos();
        let (half_l, half_w) = (self.length_m / 2.0, self.width_m / 2.0);
        let footprint = [(half_l, half_w), (-half_l, half_w), (-half_l, -half_w), (half_l, -half_w)];
        let b = &self.bottom_center_in_rect_m;
        let mut corners = [Point3::origin(); 8];
        for (level, dy) in [0.0, -self.height_m].into_iter().enumerate() {
            for (index, (dx, dz)) in footprint.iter().enumerate() {
                // R_y(θ) = [[cos, 0, sin], [0, 1, 0], [-sin, 0, cos]].
                corners[level * 4 + index] =
                    Point3::new(b.x + cos * dx + sin * dz, b.y + dy, b.z - sin * dx + cos * dz);
            }
        }
        corners
    }

    /// The label's 3D box as a [`Detection3d`] in the velodyne frame.
    ///
    /// The centre is [`Self::center_in_rect_m`] mapped by `velo_from_rect` (from
    /// [`KittiCalib::velo_from_rect`]); the heading is `-rotation_y - π/2` normalised to
    /// `(-π, π]` (the rect camera's y axis is the velodyne's -z, and rect x is velodyne -y; the
    /// small residual rotation of the calibration is ignored, as in mmdet3d's
    /// `CameraInstance3DBoxes.convert_to(LIDAR)` for yaw). Size is `(l, w, h)`. The class label
    /// is the KITTI type, the score is the label's score or 1, the source is
    /// [`ObjectSource::Lidar`]; `header` is used as given (its frame should be the lidar's).
    pub fn to_detection_in_lidar(&self, velo_from_rect: &Matrix4<f64>, header: Header) -> Detection3d {
        let c = self.center_in_rect_m();
        let center = velo_from_rect * Vector4::new(c.x, c.y, c.z, 1.0);
        Detection3d {
            header,
            center_m: Point3::new(center.x, center.y, center.z),
            size_m: Vector3::new(self.length_m, self.width_m, self.height_m),
            yaw_rad: normalize_angle_rad(-self.rotation_y_rad - PI / 2.0),
            class_label: self.object_type.clone(),
            score: self.score.map_or(1.0, |s| s as f32),
            source: ObjectSource::Lidar,
        }
    }
}

/// Reads a KITTI object label file (`label_2/NNNNNN.txt`).
///
/// # Errors
/// [`KittiError::Io`], or the errors of [`parse_labels`].
pub fn read_labels(path: &Path) -> Result<Vec<KittiLabel>, KittiError> {
    let text = read_text(path)?;
    parse_labels(&text, path)
}

/// Parses the text of a KITTI label file, one object per non-blank line; `file` names it in
/// errors. `DontCare` lines are returned too (see [`KittiLabel::is_dont_care`]).
///
/// # Errors
/// [`KittiError::Label`] with the 1-based line number when a line does not have 15 or 16
/// columns, a number does not parse or is not finite, or `occluded` is not an integer.
pub fn parse_labels(text: &str, file: &Path) -> Result<Vec<KittiLabel>, KittiError> {
    const COLUMNS: [&str; 16] = [
        "type",
        "truncated",
        "occluded",
        "alpha",
        "x1",
        "y1",
        "x2",
        "y2",
        "h",
        "w",
        "l",
        "x",
        "y",
        "z",
        "rotation_y",
        "score",
    ];
    let mut labels = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.is_empty() {
            continue;
        }
        let label_error =
            |reason: String| KittiError::Label { file: file.to_path_buf(), line: line_number, reason };
        if tokens.len() != 15 && tokens.len() != 16 {
            return Err(label_error(format!("expected 15 or 16 columns, found {}", tokens.len())));
        }
        let mut numbers = [0.0_f64; 16];
        for (column, token) in tokens.iter().enumerate().skip(1) {
            let name = COLUMNS.get(column).copied().unwrap_or("?");
            let value = match token.parse::<f64>() {
                Ok(value) if value.is_finite() => value,
                _ => return Err(label_error(format!("column `{name}`: `{token}` is not a finite number"))),
            };
            if let Some(slot) = numbers.get_mut(column) {
                *slot = value;
            }
        }
        let occluded = tokens
            .get(2)
            .and_then(|t| t.parse::<i32>().ok())
            .ok_or_else(|| label_error("column `occluded` is not an integer".into()))?;
        let [_, truncated, _, alpha, x1, y1, x2, y2, h, w, l, x, y, z, rotation_y, score] = numbers;
        labels.push(KittiLabel {
            object_type: tokens.first().map(|t| t.to_string()).unwrap_or_default(),
            truncated,
            occluded,
            alpha_rad: alpha,
            box_px: BoxPx { x1: x1 as f32, y1: y1 as f32, x2: x2 as f32, y2: y2 as f32 },
            height_m: h,
            width_m: w,
            length_m: l,
            bottom_center_in_rect_m: Point3::new(x, y, z),
            rotation_y_rad: rotation_y,
            score: (tokens.len() == 16).then_some(score),
        });
    }
    Ok(labels)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.
mod tests {
    use super::*;
    use pitsense_types::FrameId;

    fn header() -> Header {
        Header { stamp_ns: 0, frame: FrameId::Lidar(0), seq: 0 }
    }

    #[test]
    fn velodyne_bytes_round_trip() {
        let mut bytes = Vec::new();
        for v in [1.5_f32, -2.0, 0.25, 0.5, 10.0, 20.0, -1.73, 0.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let cloud = parse_velodyne_bin(&bytes, Path::new("mem.bin"), header()).unwrap();
        assert_eq!(cloud.points.len(), 2);
        assert_eq!(cloud.points[0], PointXyzi { x_m: 1.5, y_m: -2.0, z_m: 0.25, intensity: 0.5 });
        assert_eq!(cloud.points[1].z_m, -1.73);
    }

    #[test]
    fn declared_layouts_and_implausible_intensities() {
        // One nuScenes record: (1, 2, −1) intensity 51 ring 7 → intensity 51 / 255 = 0.2.
        let record: Vec<u8> = [1.0_f32, 2.0, -1.0, 51.0, 7.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let cloud = parse_velodyne_bin_with_layout(
            &record,
            Path::new("n.bin"),
            VelodyneBinLayout::NUSCENES,
            header(),
        )
        .unwrap();
        assert_eq!(cloud.points, [PointXyzi { x_m: 1.0, y_m: 2.0, z_m: -1.0, intensity: 0.2 }]);
        let three = VelodyneBinLayout { columns: 3, intensity_full_scale: 1.0 };
        let error = parse_velodyne_bin_with_layout(&record, Path::new("n.bin"), three, header()).unwrap_err();
        assert!(matches!(error, KittiError::VelodyneLayout { columns: 3, .. }), "{error}");
        // Four KITTI points, one with reflectance −0.5: 1 of 4 (> 1 %) is implausible.
        let points: Vec<u8> =
            [[0.0_f32, 0.0, 0.0, 0.5], [1.0, 0.0, 0.0, -0.5], [2.0, 0.0, 0.0, 0.1], [3.0, 0.0, 0.0, 1.0]]
                .iter()
                .flatten()
                .flat_map(|v| v.to_le_bytes())
                .collect();
        let error = parse_velodyne_bin(&points, Path::new("k.bin"), header()).unwrap_err();
        assert!(
            matches!(error, KittiError::VelodyneImplausible { implausible: 1, points: 4, .. }),
            "{error}"
        );
    }

    #[test]
    fn a_truncated_scan_names_file_and_length() {
        let err = parse_velodyne_bin(&[0u8; 33], Path::new("scan_7.bin"), header()).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, KittiError::VelodyneLength { byte_len: 33, .. }), "{message}");
        assert!(message.contains("scan_7.bin") && message.contains("33"), "{message}");
    }

    #[test]
    fn angles_wrap_into_half_open_interval() {
        assert!((normalize_angle_rad(-PI) - PI).abs() < 1e-12);
        assert!((normalize_angle_rad(3.0 * PI / 2.0) + PI / 2.0).abs() < 1e-12);
        assert!((normalize_angle_rad(0.3) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn calib_errors_name_key_and_reason() {
        let ok_line = "P2: 1 0 0 0 0 1 0 0 0 0 1 0\nR0_rect: 1 0 0 0 1 0 0 0 1\n";
        let tr = "Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n";
        assert!(parse_calib(&format!("{ok_line}\n\n{tr}"), Path::new("c.txt")).is_ok());

        let err = parse_calib(&format!("R0_rect: 1 0 0 0 1 0 0 0 1\n{tr}"), Path::new("c.txt")).unwrap_err();
        assert!(matches!(err, KittiError::CalibMissingKey { key: "P2", .. }), "{err}");

        let err = parse_calib(&format!("{ok_line}Tr_velo_to_cam: 1 2 3\n"), Path::new("c.txt")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("Tr_velo_to_cam") && message.contains("expected 12"), "{message}");

        let bad = ok_line.replace("R0_rect: 1 0", "R0_rect: 1 zero");
        let err = parse_calib(&format!("{bad}{tr}"), Path::new("c.txt")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("R0_rect") && message.contains("`zero`") && message.contains("line 2"),
            "{message}"
        );
    }

    #[test]
    fn label_line_and_corners() {
        let text = "Car 0.00 0 1.85 387.63 181.54 423.81 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57\n\n";
        let labels = parse_labels(text, Path::new("l.txt")).unwrap();
        assert_eq!(labels.len(), 1);
        let label = &labels[0];
        assert_eq!(label.object_type, "Car");
        assert!((label.center_in_rect_m().y - (2.39 - 1.67 / 2.0)).abs() < 1e-12);
        let corners = label.corners_in_rect_m();
        // Bottom face at y = 2.39, top at y = 2.39 - h.
        assert!(corners[..4].iter().all(|c| (c.y - 2.39).abs() < 1e-12));
        assert!(corners[4..].iter().all(|c| (c.y - (2.39 - 1.67)).abs() < 1e-12));
        // rotation_y ≈ π/2: the length runs along -z... corners 0 and 1 differ by l along z.
        let along = corners[0] - corners[1];
        assert!((along.norm() - 3.69).abs() < 1e-9 && along.z.abs() > 3.6, "{along:?}");

        let err = parse_labels("Car 0 0 1 2 3\n", Path::new("l.txt")).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = parse_labels(
            &format!(
                "{text}Car 0.00 x 1.85 387.63 181.54 423.81 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57"
            ),
            Path::new("l.txt"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("line 3") && err.to_string().contains("occluded"), "{err}");
    }

    #[test]
    fn label_to_lidar_with_identity_like_calibration() {
        // velodyne → rect: x_rect = -y_velo, y_rect = -z_velo, z_rect = x_velo.
        let calib = KittiCalib {
            file: PathBuf::from("c.txt"),
            p0: None,
            p1: None,
            p2: Matrix3x4::new(700.0, 0.0, 600.0, 0.0, 0.0, 700.0, 180.0, 0.0, 0.0, 0.0, 1.0, 0.0),
            p3: None,
            rect_from_cam0: Matrix3::identity(),
            cam0_from_velo: Matrix3x4::new(0.0, -1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0),
            velo_from_imu: None,
        };
        let label = KittiLabel {
            object_type: "Car".into(),
            truncated: 0.0,
            occluded: 0,
            alpha_rad: 0.0,
            box_px: BoxPx { x1: 0.0, y1: 0.0, x2: 1.0, y2: 1.0 },
            height_m: 1.5,
            width_m: 1.8,
            length_m: 4.0,
            bottom_center_in_rect_m: Point3::new(-2.0, 1.7, 20.0),
            rotation_y_rad: 0.0,
            score: None,
        };
        let velo_from_rect = calib.velo_from_rect().unwrap();
        let det = label.to_detection_in_lidar(&velo_from_rect, header());
        assert!((det.center_m - Point3::new(20.0, 2.0, -0.95)).norm() < 1e-12, "{:?}", det.center_m);
        // rotation_y = 0: length along rect +x = velodyne -y, heading -π/2.
        assert!((det.yaw_rad + PI / 2.0).abs() < 1e-12);
        assert_eq!(det.size_m, Vector3::new(4.0, 1.8, 1.5));
    }
}
