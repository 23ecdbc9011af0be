//! Ouster sensor metadata (the JSON the sensor serves at `/api/v1/sensor/metadata`, saved next to
//! each capture).
//!
//! Two layouts exist and both are read:
//! - the flat layout of firmware ≤ 2.3 / `json_calibration_version` 4 (keys at the top level:
//!   `beam_altitude_angles`, `lidar_mode`, `data_format.columns_per_packet`, ...);
//! - the nested layout of firmware ≥ 2.4 (`sensor_info.*`, `config_params.*`,
//!   `lidar_data_format.*`, `beam_intrinsics.*`, `lidar_intrinsics.*`).
//!
//! Units as in the JSON: angles in degrees, transforms 4×4 row-major with translations in
//! millimetres. Source: Ouster Sensor/Firmware User Manual (v2.3–v3.1), "Sensor Metadata" and
//! "Lidar Data Format"; the optional-key defaults follow the manual (a metadata file without
//! `udp_profile_lidar` predates profiles and means `LEGACY`; without `beam_to_lidar_transform`
//! the beam origin lies `lidar_origin_to_beam_origin_mm` along +x of the lidar frame).

use std::path::{Path, PathBuf};

use nalgebra::Matrix4;
use serde_json::Value;

use super::OusterError;

/// The lidar packet profile (`udp_profile_lidar`): the layout of one pixel in a lidar packet.
///
/// Source: Ouster user manual, "Lidar Data Format" (packet profiles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UdpProfileLidar {
    /// Firmware < 2.2 format: 16-byte column header, 12-byte pixel (20-bit range), 4-byte column
    /// footer carrying the status, no packet header or footer.
    Legacy,
    /// Single return, 12-byte pixel: 19-bit range (mm), 8-bit reflectivity, 16-bit signal, 16-bit
    /// near-IR.
    Rng19Rfl8Sig16Nir16,
    /// Dual return, 16-byte pixel: two (range, reflectivity, signal) returns and near-IR.
    Rng19Rfl8Sig16Nir16Dual,
    /// Low data rate, 4-byte pixel: 15-bit range in 8 mm units, 8-bit reflectivity, 8-bit near-IR
    /// in units of 16.
    Rng15Rfl8Nir8,
}

impl UdpProfileLidar {
    /// Every profile this decoder implements.
    pub const ALL: [Self; 4] =
        [Self::Legacy, Self::Rng19Rfl8Sig16Nir16, Self::Rng19Rfl8Sig16Nir16Dual, Self::Rng15Rfl8Nir8];

    /// Parses the metadata string (`"LEGACY"`, `"RNG19_RFL8_SIG16_NIR16"`, ...).
    ///
    /// # Errors
    /// [`OusterError::UnsupportedProfile`] for any other profile (for example the zone-monitoring,
    /// RGB, FuSa or five-word profiles), naming it.
    pub fn parse(name: &str) -> Result<Self, OusterError> {
        match name {
            "LEGACY" => Ok(Self::Legacy),
            "RNG19_RFL8_SIG16_NIR16" => Ok(Self::Rng19Rfl8Sig16Nir16),
            "RNG19_RFL8_SIG16_NIR16_DUAL" => Ok(Self::Rng19Rfl8Sig16Nir16Dual),
            "RNG15_RFL8_NIR8" => Ok(Self::Rng15Rfl8Nir8),
            other => Err(OusterError::UnsupportedProfile { profile: other.to_owned() }),
        }
    }

    /// The metadata string of this profile.
    pub fn name(self) -> &'static str {
        match self {
            Self::Legacy => "LEGACY",
            Self::Rng19Rfl8Sig16Nir16 => "RNG19_RFL8_SIG16_NIR16",
            Self::Rng19Rfl8Sig16Nir16Dual => "RNG19_RFL8_SIG16_NIR16_DUAL",
            Self::Rng15Rfl8Nir8 => "RNG15_RFL8_NIR8",
        }
    }

    /// Whether pixels carry a second return (`RANGE2`, `SIGNAL2`, `REFLECTIVITY2`).
    pub fn is_dual(self) -> bool {
        self == Self::Rng19Rfl8Sig16Nir16Dual
    }
}

impl std::fmt::Display for UdpProfileLidar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything the decoder needs from an Ouster metadata file.
#[derive(Clone, Debug, PartialEq)]
pub struct OusterMetadata {
    /// Product line, e.g. `OS-2-128`.
    pub prod_line: String,
    /// Serial number as a string (empty when absent).
    pub prod_sn: String,
    /// Firmware build, e.g. `v2.3.0` (`build_rev`; empty when absent).
    pub firmware: String,
    /// Lidar mode string, e.g. `1024x10` (columns per frame × rotation rate in Hz).
    pub lidar_mode: String,
    /// Lidar packet profile.
    pub udp_profile_lidar: UdpProfileLidar,
    /// IMU packet profile string (`LEGACY` when absent).
    pub udp_profile_imu: String,
    /// Columns (azimuth steps) per frame, `W`.
    pub columns_per_frame: usize,
    /// Columns per lidar packet (16 on all current firmware).
    pub columns_per_packet: usize,
    /// Pixels per column (beams), `H`.
    pub pixels_per_column: usize,
    /// First and last measurement id the sensor sends (inclusive; `first > last` wraps through
    /// zero).
    pub column_window: (usize, usize),
    /// Per-row column shift that destaggers the range image (`H` entries).
    pub pixel_shift_by_row: Vec<i64>,
    /// Beam elevation angles, degrees, one per row (`H` entries).
    pub beam_altitude_angles_deg: Vec<f64>,
    /// Beam azimuth offsets, degrees, one per row (`H` entries).
    pub beam_azimuth_angles_deg: Vec<f64>,
    /// Distance from the lidar origin to the beam origin, millimetres.
    pub lidar_origin_to_beam_origin_mm: f64,
    /// Beam-to-lidar transform (4×4, translation in millimetres).
    pub beam_to_lidar_transform: Matrix4<f64>,
    /// Lidar-to-sensor transform (4×4, translation in millimetres): the sensor frame is the
    /// housing frame (x forward away from the connector, y left, z up).
    pub lidar_to_sensor_transform: Matrix4<f64>,
    /// UDP destination port of lidar packets, when recorded.
    pub udp_port_lidar: Option<u16>,
    /// UDP destination port of IMU packets, when recorded.
    pub udp_port_imu: Option<u16>,
    /// Initialisation id the sensor writes into every non-legacy packet header, when recorded.
    pub initialization_id: Option<u32>,
    /// Keys the file lacks whose defaults were assumed, named as in the file's layout:
    /// `data_format` (flat) or `lidar_data_format` (nested) when the whole packet-format block
    /// is absent (profile LEGACY, 16 columns per packet, sizes from the lidar mode and the beam
    /// tables), else `udp_profile_lidar` when only the profile is (LEGACY); `udp_port_lidar`
    /// and `udp_port_imu` when absent or 0 (the vendor defaults 7502 and 7503 then apply).
    /// Empty when the file states everything. Lets a caller whose packets do not decode say
    /// which missing key is the likely cause.
    pub defaulted_keys: Vec<&'static str>,
}

impl OusterMetadata {
    /// Reads and parses a metadata file.
    ///
    /// # Errors
    /// [`OusterError::MetadataIo`] when the file cannot be read, otherwise the errors of
    /// [`OusterMetadata::parse`].
    pub fn read(path: &Path) -> Result<Self, OusterError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| OusterError::MetadataIo { file: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses metadata JSON text; `file` names the source in errors.
    ///
    /// # Errors
    /// [`OusterError::MetadataJson`] for invalid JSON; [`OusterError::MetadataField`] for a
    /// missing or ill-typed required key or inconsistent sizes (angle tables not `H` long,
    /// window outside the frame, ...); [`OusterError::UnsupportedProfile`] for a profile this
    /// decoder does not implement.
    pub fn parse(text: &str, file: &Path) -> Result<Self, OusterError> {
        let root: Value = serde_json::from_str(text)
            .map_err(|source| OusterError::MetadataJson { file: file.to_path_buf(), source })?;
        let reader = Reader { root: &root, file };

        let prod_line = reader.string(&["sensor_info.prod_line", "prod_line"]).unwrap_or_default();
        let prod_sn = reader
            .value(&["sensor_info.prod_sn", "prod_sn"])
            .map(|value| match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let firmware = reader.string(&["sensor_info.build_rev", "build_rev"]).unwrap_or_default();
        let lidar_mode = reader
            .string(&["config_params.lidar_mode", "lidar_mode"])
            .ok_or_else(|| reader.missing("lidar_mode"))?;
        let mut defaulted_keys = Vec::new();
        let nested = reader.value(&["sensor_info", "config_params", "lidar_data_format"]).is_some();
        let format_block_given = reader.value(&["lidar_data_format", "data_format"]).is_some();
        let udp_profile_lidar = match reader.string(&[
            "lidar_data_format.udp_profile_lidar",
            "config_params.udp_profile_lidar",
            "data_format.udp_profile_lidar",
        ]) {
            Some(name) => UdpProfileLidar::parse(&name)?,
            None => {
                if format_block_given {
                    defaulted_keys.push("udp_profile_lidar");
                }
                UdpProfileLidar::Legacy
            }
        };
        if !format_block_given {
            defaulted_keys.push(if nested { "lidar_data_format" } else { "data_format" });
        }
        let udp_profile_imu = reader
            .string(&[
                "lidar_data_format.udp_profile_imu",
                "config_params.udp_profile_imu",
                "data_format.udp_profile_imu",
            ])
            .unwrap_or_else(|| "LEGACY".to_owned());

        let mode_columns = lidar_mode
            .split('x')
            .next()
            .and_then(|columns| columns.parse::<usize>().ok())
            .ok_or_else(|| reader.invalid("lidar_mode", format!("`{lidar_mode}` is not COLUMNSxHZ")))?;
        let columns_per_frame = reader
            .uint(&["lidar_data_format.columns_per_frame", "data_format.columns_per_frame"])?
            .unwrap_or(mode_columns as u64);
        let columns_per_frame = to_usize(columns_per_frame);
        let columns_per_packet = to_usize(
            reader
                .uint(&[
                    "lidar_data_format.columns_per_packet",
                    "config_params.columns_per_packet",
                    "data_format.columns_per_packet",
                ])?
                .unwrap_or(16),
        );
        let altitudes = reader
            .floats(&["beam_intrinsics.beam_altitude_angles", "beam_altitude_angles"])?
            .ok_or_else(|| reader.missing("beam_altitude_angles"))?;
        let azimuths = reader
            .floats(&["beam_intrinsics.beam_azimuth_angles", "beam_azimuth_angles"])?
            .ok_or_else(|| reader.missing("beam_azimuth_angles"))?;
        let pixels_per_column = to_usize(
            reader
                .uint(&["lidar_data_format.pixels_per_column", "data_format.pixels_per_column"])?
                .unwrap_or(altitudes.len() as u64),
        );
        let window = reader.floats(&["lidar_data_format.column_window", "data_format.column_window"])?;
        let column_window = match window.as_deref() {
            None => (0, columns_per_frame.saturating_sub(1)),
            Some([first, last]) if *first >= 0.0 && *last >= 0.0 => (*first as usize, *last as usize),
            Some(_) => return Err(reader.invalid("column_window", "expected [first, last]".to_owned())),
        };
        let pixel_shift_by_row = reader
            .floats(&["lidar_data_format.pixel_shift_by_row", "data_format.pixel_shift_by_row"])?
            .map(|shifts| shifts.into_iter().map(|shift| shift as i64).collect())
            .unwrap_or_else(|| vec![0; pixels_per_column]);

        let lidar_origin_to_beam_origin_mm = reader
            .float(&["beam_intrinsics.lidar_origin_to_beam_origin_mm", "lidar_origin_to_beam_origin_mm"])?
            .unwrap_or(0.0);
        let beam_to_lidar_transform =
            match reader.matrix(&["beam_intrinsics.beam_to_lidar_transform", "beam_to_lidar_transform"])? {
                Some(matrix) => matrix,
                None => {
                    let mut matrix = Matrix4::identity();
                    matrix[(0, 3)] = lidar_origin_to_beam_origin_mm;
                    matrix
                }
            };
        let lidar_to_sensor_transform = reader
            .matrix(&["lidar_intrinsics.lidar_to_sensor_transform", "lidar_to_sensor_transform"])?
            .ok_or_else(|| reader.missing("lidar_to_sensor_transform"))?;

        let port = |paths: &[&str], key: &'static str| -> Result<Option<u16>, OusterError> {
            match reader.uint(paths)? {
                None | Some(0) => Ok(None),
                Some(port) => u16::try_from(port)
                    .map(Some)
                    .map_err(|_| reader.invalid(key, format!("{port} is not a UDP port"))),
            }
        };
        let udp_port_lidar = port(&["config_params.udp_port_lidar", "udp_port_lidar"], "udp_port_lidar")?;
        let udp_port_imu = port(&["config_params.udp_port_imu", "udp_port_imu"], "udp_port_imu")?;
        for (port, key) in [(udp_port_lidar, "udp_port_lidar"), (udp_port_imu, "udp_port_imu")] {
            if port.is_none() {
                defaulted_keys.push(key);
            }
        }
        let initialization_id = reader
            .uint(&["sensor_info.initialization_id", "initialization_id"])?
            .and_then(|id| u32::try_from(id).ok());

        let metadata = Self {
            prod_line,
            prod_sn,
            firmware,
            lidar_mode,
            udp_profile_lidar,
            udp_profile_imu,
            columns_per_frame,
            columns_per_packet,
            pixels_per_column,
            column_window,
            pixel_shift_by_row,
            beam_altitude_angles_deg: altitudes,
            beam_azimuth_angles_deg: azimuths,
            lidar_origin_to_beam_origin_mm,
            beam_to_lidar_transform,
            lidar_to_sensor_transform,
            udp_port_lidar,
            udp_port_imu,
            initialization_id,
            defaulted_keys,
        };
        metadata.validate(file)?;
        Ok(metadata)
    }

    fn validate(&self, file: &Path) -> Result<(), OusterError> {
        let invalid = |field: &'static str, reason: String| OusterError::MetadataField {
            file: file.to_path_buf(),
            field,
            reason,
        };
        let height = self.pixels_per_column;
        if height == 0 || height > 1024 {
            return Err(invalid("pixels_per_column", format!("{height} is not in 1..=1024")));
        }
        if self.columns_per_frame == 0 || self.columns_per_frame > 4096 {
            return Err(invalid(
                "columns_per_frame",
                format!("{} is not in 1..=4096", self.columns_per_frame),
            ));
        }
        if self.columns_per_packet == 0 || self.columns_per_packet > self.columns_per_frame {
            return Err(invalid(
                "columns_per_packet",
                format!("{} is not in 1..=columns_per_frame", self.columns_per_packet),
            ));
        }
        // A beam points at most straight up or down, and its azimuth offset is a fraction of a
        // turn (a few degrees on every Ouster sensor); a value beyond is a damaged file, not a
        // sensor (an adversarial run found 400° accepted).
        for (field, table, limit_deg) in [
            ("beam_altitude_angles", &self.beam_altitude_angles_deg, 90.0),
            ("beam_azimuth_angles", &self.beam_azimuth_angles_deg, 180.0),
        ] {
            if table.len() != height {
                return Err(invalid(
                    field,
                    format!("{} entries for {height} pixels per column", table.len()),
                ));
            }
            if let Some((row, angle)) =
                table.iter().enumerate().find(|(_, angle)| !(angle.is_finite() && angle.abs() <= limit_deg))
            {
                return Err(invalid(
                    field,
                    format!("row {row}: {angle}° is not a finite angle within ±{limit_deg}°"),
                ));
            }
        }
        if self.pixel_shift_by_row.len() != height {
            return Err(invalid(
                "pixel_shift_by_row",
                format!("{} entries for {height} pixels per column", self.pixel_shift_by_row.len()),
            ));
        }
        let (first, last) = self.column_window;
        if first >= self.columns_per_frame || last >= self.columns_per_frame {
            return Err(invalid(
                "column_window",
                format!("[{first}, {last}] outside 0..{}", self.columns_per_frame),
            ));
        }
        for (field, matrix) in [
            ("beam_to_lidar_transform", &self.beam_to_lidar_transform),
            ("lidar_to_sensor_transform", &self.lidar_to_sensor_transform),
        ] {
            if matrix.iter().any(|value| !value.is_finite()) {
                return Err(invalid(field, "an entry is not finite".to_owned()));
            }
        }
        Ok(())
    }

    /// Rotation rate in hertz, from the lidar mode (`1024x10` → 10); `None` when the mode does
    /// not state one.
    pub fn rotation_rate_hz(&self) -> Option<u32> {
        let (_, rate) = self.lidar_mode.split_once('x')?;
        rate.parse::<u32>().ok().filter(|&rate| rate > 0)
    }

    /// Nominal time between two columns (measurement ids), picoseconds:
    /// `10¹² / (columns_per_frame × rotation rate)` (97 656 250 ps for `1024x10`; exact for every
    /// Ouster mode). `None` when the lidar mode states no rate.
    ///
    /// Source: Ouster user manual, "Lidar Data Format": columns are evenly spaced in time over
    /// one rotation.
    pub fn column_period_ps(&self) -> Option<u64> {
        let columns_per_second =
            u64::from(self.rotation_rate_hz()?).checked_mul(self.columns_per_frame as u64)?;
        (columns_per_second > 0).then(|| 1_000_000_000_000 / columns_per_second)
    }

    /// Number of columns inside the column window (the columns a complete frame holds).
    pub fn window_columns(&self) -> usize {
        let (first, last) = self.column_window;
        if first <= last { last - first + 1 } else { self.columns_per_frame - first + last + 1 }
    }

    /// Whether measurement id `column` lies inside the column window.
    pub fn in_window(&self, column: usize) -> bool {
        let (first, last) = self.column_window;
        if first <= last { (first..=last).contains(&column) } else { column >= first || column <= last }
    }

    /// One-line description: product line, serial, firmware, mode and profile.
    pub fn describe(&self) -> String {
        format!(
            "Ouster {} sn {} fw {} mode {} ({}x{}) profile {}",
            self.prod_line,
            if self.prod_sn.is_empty() { "?" } else { &self.prod_sn },
            if self.firmware.is_empty() { "?" } else { &self.firmware },
            self.lidar_mode,
            self.columns_per_frame,
            self.pixels_per_column,
            self.udp_profile_lidar
        )
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Looks keys up by dotted path in either layout.
struct Reader<'a> {
    root: &'a Value,
    file: &'a Path,
}

impl Reader<'_> {
    fn value(&self, paths: &[&str]) -> Option<&Value> {
        paths.iter().find_map(|path| {
            let mut node = self.root;
            for key in path.split('.') {
                node = node.get(key)?;
            }
            (!node.is_null()).then_some(node)
        })
    }

    fn string(&self, paths: &[&str]) -> Option<String> {
        self.value(paths).and_then(Value::as_str).map(str::to_owned)
    }

    fn field_name(paths: &[&str]) -> &'static str {
        // Error messages name the flat key; the nested layout uses the same leaf names.
        match paths.last().and_then(|path| path.rsplit('.').next()) {
            Some("columns_per_frame") => "columns_per_frame",
            Some("columns_per_packet") => "columns_per_packet",
            Some("pixels_per_column") => "pixels_per_column",
            Some("column_window") => "column_window",
            Some("pixel_shift_by_row") => "pixel_shift_by_row",
            Some("beam_altitude_angles") => "beam_altitude_angles",
            Some("beam_azimuth_angles") => "beam_azimuth_angles",
            Some("lidar_origin_to_beam_origin_mm") => "lidar_origin_to_beam_origin_mm",
            Some("beam_to_lidar_transform") => "beam_to_lidar_transform",
            Some("lidar_to_sensor_transform") => "lidar_to_sensor_transform",
            Some("udp_port_lidar") => "udp_port_lidar",
            Some("udp_port_imu") => "udp_port_imu",
            Some("initialization_id") => "initialization_id",
            _ => "metadata",
        }
    }

    fn uint(&self, paths: &[&str]) -> Result<Option<u64>, OusterError> {
        match self.value(paths) {
            None => Ok(None),
            Some(value) => value.as_u64().map(Some).ok_or_else(|| {
                self.invalid(Self::field_name(paths), format!("{value} is not an unsigned integer"))
            }),
        }
    }

    fn float(&self, paths: &[&str]) -> Result<Option<f64>, OusterError> {
        match self.value(paths) {
            None => Ok(None),
            Some(value) => value
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.invalid(Self::field_name(paths), format!("{value} is not a number"))),
        }
    }

    fn floats(&self, paths: &[&str]) -> Result<Option<Vec<f64>>, OusterError> {
        let Some(value) = self.value(paths) else {
            return Ok(None);
        };
        let not_numbers = || self.invalid(Self::field_name(paths), "expected an array of numbers".to_owned());
        let array = value.as_array().ok_or_else(not_numbers)?;
        array
            .iter()
            .map(|item| item.as_f64().ok_or_else(not_numbers))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn matrix(&self, paths: &[&str]) -> Result<Option<Matrix4<f64>>, OusterError> {
        match self.floats(paths)? {
            None => Ok(None),
            Some(values) if values.len() == 16 => Ok(Some(Matrix4::from_row_slice(&values))),
            Some(values) => Err(self.invalid(
                Self::field_name(paths),
                format!("{} numbers, expected 16 (4×4 row-major)", values.len()),
            )),
        }
    }

    fn missing(&self, field: &'static str) -> OusterError {
        self.invalid(field, "missing".to_owned())
    }

    fn invalid(&self, field: &'static str, reason: String) -> OusterError {
        OusterError::MetadataField { file: PathBuf::from(self.file), field, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_layout_and_defaults() {
        let text = r#"{
            "sensor_info": {"prod_line": "OS-1-16", "prod_sn": "1", "build_rev": "v2.5.0"},
            "config_params": {"lidar_mode": "512x10", "udp_port_lidar": 7502},
            "lidar_data_format": {"pixels_per_column": 2, "columns_per_packet": 16,
                "columns_per_frame": 512, "column_window": [500, 10], "pixel_shift_by_row": [3, 0],
                "udp_profile_lidar": "RNG15_RFL8_NIR8"},
            "beam_intrinsics": {"beam_altitude_angles": [1.0, -1.0], "beam_azimuth_angles": [0.5, -0.5],
                "lidar_origin_to_beam_origin_mm": 12.0},
            "lidar_intrinsics": {"lidar_to_sensor_transform":
                [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 36.18, 0, 0, 0, 1]}
        }"#;
        let meta = OusterMetadata::parse(text, Path::new("m.json")).unwrap();
        assert_eq!(meta.udp_profile_lidar, UdpProfileLidar::Rng15Rfl8Nir8);
        assert_eq!(meta.column_window, (500, 10));
        assert_eq!(meta.window_columns(), 23);
        assert!(meta.in_window(505) && meta.in_window(3) && !meta.in_window(11));
        assert_eq!(meta.beam_to_lidar_transform[(0, 3)], 12.0);
        assert_eq!(meta.udp_port_lidar, Some(7502));
        assert_eq!(meta.udp_port_imu, None);
        assert_eq!(meta.defaulted_keys, ["udp_port_imu"]);
    }

    #[test]
    fn unsupported_profile_is_named() {
        let text = r#"{"lidar_mode": "1024x10", "data_format": {"udp_profile_lidar": "FIVE_WORD_PIXEL"},
            "beam_altitude_angles": [0], "beam_azimuth_angles": [0],
            "lidar_to_sensor_transform": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]}"#;
        let error = OusterMetadata::parse(text, Path::new("m.json")).unwrap_err();
        assert!(error.to_string().contains("FIVE_WORD_PIXEL"), "{error}");
    }

    #[test]
    fn beam_angles_beyond_a_half_turn_are_errors_naming_row_and_value() {
        let with = |altitudes: &str, azimuths: &str| {
            format!(
                r#"{{"lidar_mode": "1024x10", "data_format": {{"pixels_per_column": 2}},
                "beam_altitude_angles": {altitudes}, "beam_azimuth_angles": {azimuths},
                "lidar_to_sensor_transform": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]}}"#
            )
        };
        assert!(OusterMetadata::parse(&with("[90, -90]", "[180, -180]"), Path::new("m.json")).is_ok());
        for (text, expected) in [
            (
                with("[1.5, 400]", "[0, 0]"),
                "`beam_altitude_angles` row 1: 400° is not a finite angle within ±90°",
            ),
            (
                with("[0, 0]", "[-181, 0]"),
                "`beam_azimuth_angles` row 0: -181° is not a finite angle within ±180°",
            ),
        ] {
            let error = OusterMetadata::parse(&text, Path::new("m.json")).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }

    #[test]
    fn wrong_table_length_is_an_error() {
        let text = r#"{"lidar_mode": "1024x10", "data_format": {"pixels_per_column": 2},
            "beam_altitude_angles": [0], "beam_azimuth_angles": [0, 1],
            "lidar_to_sensor_transform": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]}"#;
        let error = OusterMetadata::parse(text, Path::new("m.json")).unwrap_err();
        assert!(error.to_string().contains("beam_altitude_angles"), "{error}");
    }
}
