//! Point-cloud files: nuScenes `.pcd.bin`, PCD v0.7 (ASCII and binary) and KITTI `.bin`
//! (through [`crate::kitti`]).
//!
//! - nuScenes `samples/LIDAR_TOP/*.pcd.bin` (nuScenes devkit `LidarPointCloud.from_file`):
//!   records of five little-endian `f32` — `x, y, z, intensity, ring` — in nuScenes'
//!   `LIDAR_TOP` sensor frame (x right, y forward, z up), returned as stored: the caller's
//!   extrinsics take them to an x-forward frame. Intensity `0..=255` is returned divided by 255
//!   (`0..=1`, KITTI's scale); the ring index is dropped.
//! - PCD v0.7 (Point Cloud Library, "The PCD (Point Cloud Data) file format"): a text header of
//!   `VERSION`, `FIELDS`, `SIZE`, `TYPE`, `COUNT`, `WIDTH`, `HEIGHT`, `VIEWPOINT`, `POINTS`,
//!   `DATA` lines, then the points: `DATA ascii` one point per line, `DATA binary` packed
//!   little-endian records (`Σ SIZE × COUNT` bytes each). Fields `x`, `y`, `z` are required;
//!   `intensity` (or `i`) is used when present, as stored (its scale depends on the writer),
//!   else 0. `DATA binary_compressed` (LZF) is not supported and says so.
//!
//! Non-finite coordinates (organised PCD clouds mark missing returns with NaN) are kept, as the
//! KITTI reader does; the lidar pipeline counts and drops them. Every error names the file.

use std::path::{Path, PathBuf};

use pitsense_types::{Header, PointCloud, PointXyzi};

use crate::kitti::{self, KittiError};

/// Bytes per nuScenes point: five `f32`.
pub const NUSCENES_RECORD_BYTES: usize = 20;

/// Why a point file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PointFileError {
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A packed binary file whose length is not a whole number of records.
    #[error("`{}` is {byte_len} bytes long, not a multiple of the {record_bytes}-byte record ({layout})", file.display())]
    Length {
        /// The file.
        file: PathBuf,
        /// Its length.
        byte_len: usize,
        /// Bytes per record.
        record_bytes: usize,
        /// The record layout.
        layout: &'static str,
    },
    /// A PCD header line is missing, unknown or inconsistent.
    #[error("PCD `{}` header, line {line}: {reason}", file.display())]
    PcdHeader {
        /// The file.
        file: PathBuf,
        /// 1-based line number (0: the header as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The PCD point data does not match its header.
    #[error("PCD `{}` data: {reason}", file.display())]
    PcdData {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file name does not say which format it is.
    #[error("`{}`: unknown point file format (expected .bin (KITTI), .pcd.bin (nuScenes) or .pcd)", file.display())]
    UnknownFormat {
        /// The file.
        file: PathBuf,
    },
    /// A KITTI `.bin` error.
    #[error(transparent)]
    Kitti(#[from] KittiError),
}

/// A point-file format, told from the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointFileFormat {
    /// KITTI velodyne `.bin`: `x, y, z, reflectance` as `f32`.
    KittiBin,
    /// nuScenes `.pcd.bin`: `x, y, z, intensity, ring` as `f32`.
    NuscenesPcdBin,
    /// PCD v0.7, ASCII or binary.
    Pcd,
}

impl PointFileFormat {
    /// The format a path's name implies: `*.pcd.bin` nuScenes, `*.bin` KITTI, `*.pcd` PCD.
    pub fn from_path(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".pcd.bin") {
            Some(Self::NuscenesPcdBin)
        } else if name.ends_with(".bin") {
            Some(Self::KittiBin)
        } else if name.ends_with(".pcd") {
            Some(Self::Pcd)
        } else {
            None
        }
    }
}

/// Reads a point file of any supported format (told from its name) with the given header.
///
/// # Errors
/// [`PointFileError::UnknownFormat`] for an unrecognised name; the errors of the format's
/// parser otherwise.
pub fn read_point_file(path: &Path, header: Header) -> Result<PointCloud, PointFileError> {
    match PointFileFormat::from_path(path) {
        Some(PointFileFormat::KittiBin) => Ok(kitti::read_velodyne_bin(path, header)?),
        Some(PointFileFormat::NuscenesPcdBin) => parse_nuscenes_pcd_bin(&read(path)?, path, header),
        Some(PointFileFormat::Pcd) => parse_pcd(&read(path)?, path, header),
        None => Err(PointFileError::UnknownFormat { file: path.to_path_buf() }),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, PointFileError> {
    std::fs::read(path).map_err(|source| PointFileError::Io { file: path.to_path_buf(), source })
}

/// Decodes a nuScenes `.pcd.bin` held in memory; `file` names it in errors.
///
/// # Errors
/// [`PointFileError::Length`] when the length is not a multiple of 20 bytes.
pub fn parse_nuscenes_pcd_bin(
    bytes: &[u8],
    file: &Path,
    header: Header,
) -> Result<PointCloud, PointFileError> {
    let (records, rest) = bytes.as_chunks::<NUSCENES_RECORD_BYTES>();
    if !rest.is_empty() {
        return Err(PointFileError::Length {
            file: file.to_path_buf(),
            byte_len: bytes.len(),
            record_bytes: NUSCENES_RECORD_BYTES,
            layout: "x, y, z, intensity, ring as f32",
        });
    }
    let value = |record: &[u8; NUSCENES_RECORD_BYTES], index: usize| {
        super::bytes::le_f32(record, index * 4).unwrap_or(f32::NAN)
    };
    let points = records
        .iter()
        .map(|record| PointXyzi {
            x_m: value(record, 0),
            y_m: value(record, 1),
            z_m: value(record, 2),
            intensity: value(record, 3) / 255.0,
        })
        .collect();
    Ok(PointCloud { header, points })
}

/// Scalar type of a PCD field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PcdType {
    Signed,
    Unsigned,
    Float,
}

#[derive(Clone, Debug)]
struct PcdField {
    name: String,
    size: usize,
    kind: PcdType,
    count: usize,
    /// Byte offset inside a binary record.
    offset: usize,
}

impl PcdField {
    /// The first element of this field in a binary record.
    fn read_binary(&self, record: &[u8]) -> Option<f64> {
        let bytes = record.get(self.offset..self.offset.checked_add(self.size)?)?;
        let mut word = [0_u8; 8];
        word.get_mut(..self.size)?.copy_from_slice(bytes);
        Some(match (self.kind, self.size) {
            (PcdType::Float, 4) => f64::from(f32::from_le_bytes(word.get(..4)?.try_into().ok()?)),
            (PcdType::Float, 8) => f64::from_le_bytes(word),
            (PcdType::Unsigned, _) => u64::from_le_bytes(word) as f64,
            (PcdType::Signed, size) => {
                let shift = 64 - 8 * size as u32;
                ((i64::from_le_bytes(word) << shift) >> shift) as f64
            }
            _ => return None,
        })
    }
}

/// Decodes a PCD v0.7 file held in memory (ASCII or binary data); `file` names it in errors.
///
/// # Errors
/// [`PointFileError::PcdHeader`] for a missing `FIELDS`/`SIZE`/`TYPE`/`WIDTH`/`HEIGHT`/`DATA`
/// line, lengths that disagree, an unknown type or size, no `x`/`y`/`z` field, or
/// `DATA binary_compressed`; [`PointFileError::PcdData`] when the data holds fewer points than
/// the header declares, or an ASCII value is not a number.
pub fn parse_pcd(bytes: &[u8], file: &Path, header: Header) -> Result<PointCloud, PointFileError> {
    let header_error =
        |line: usize, reason: String| PointFileError::PcdHeader { file: file.to_path_buf(), line, reason };
    let data_error = |reason: String| PointFileError::PcdData { file: file.to_path_buf(), reason };

    let mut names: Option<Vec<String>> = None;
    let mut sizes: Option<Vec<usize>> = None;
    let mut types: Option<Vec<PcdType>> = None;
    let mut counts: Option<Vec<usize>> = None;
    let (mut width, mut height, mut declared_points) = (None, None, None);
    let mut data = None;
    let mut cursor = 0_usize;
    let mut line_number = 0_usize;
    while cursor < bytes.len() {
        let rest = bytes.get(cursor..).unwrap_or_default();
        let line_len = rest.iter().position(|&byte| byte == b'\n').unwrap_or(rest.len());
        let raw_line = rest.get(..line_len).unwrap_or_default();
        cursor += line_len + 1;
        line_number += 1;
        let line =
            std::str::from_utf8(raw_line).map_err(|_| header_error(line_number, "not text".to_owned()))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or_default().to_ascii_uppercase();
        let values: Vec<&str> = words.collect();
        let parse_all = |what: &str| -> Result<Vec<usize>, PointFileError> {
            values
                .iter()
                .map(|value| {
                    value
                        .parse::<usize>()
                        .map_err(|_| header_error(line_number, format!("{what} `{value}` is not a count")))
                })
                .collect()
        };
        let single = |what: &str| -> Result<usize, PointFileError> {
            match parse_all(what)?.as_slice() {
                [value] => Ok(*value),
                _ => Err(header_error(line_number, format!("{what} needs exactly one value"))),
            }
        };
        match key.as_str() {
            "VERSION" | "VIEWPOINT" => {}
            "FIELDS" => names = Some(values.iter().map(|name| (*name).to_owned()).collect()),
            "SIZE" => sizes = Some(parse_all("SIZE")?),
            "COUNT" => counts = Some(parse_all("COUNT")?),
            "TYPE" => {
                types = Some(
                    values
                        .iter()
                        .map(|kind| match *kind {
                            "I" | "i" => Ok(PcdType::Signed),
                            "U" | "u" => Ok(PcdType::Unsigned),
                            "F" | "f" => Ok(PcdType::Float),
                            other => {
                                Err(header_error(line_number, format!("TYPE `{other}` is not I, U or F")))
                            }
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            "WIDTH" => width = Some(single("WIDTH")?),
            "HEIGHT" => height = Some(single("HEIGHT")?),
            "POINTS" => declared_points = Some(single("POINTS")?),
            "DATA" => {
                let kind = values.first().map(|kind| kind.to_ascii_lowercase()).unwrap_or_default();
                data = Some((kind, line_number));
                break;
            }
            other => return Err(header_error(line_number, format!("unknown header key `{other}`"))),
        }
    }

    let Some((data_kind, data_line)) = data else {
        return Err(header_error(0, "no DATA line".to_owned()));
    };
    let names = names.ok_or_else(|| header_error(0, "no FIELDS line".to_owned()))?;
    let sizes = sizes.ok_or_else(|| header_error(0, "no SIZE line".to_owned()))?;
    let types = types.ok_or_else(|| header_error(0, "no TYPE line".to_owned()))?;
    let counts = counts.unwrap_or_else(|| vec![1; names.len()]);
    if sizes.len() != names.len() || types.len() != names.len() || counts.len() != names.len() {
        return Err(header_error(
            0,
            format!(
                "FIELDS has {} entries but SIZE {}, TYPE {}, COUNT {}",
                names.len(),
                sizes.len(),
                types.len(),
                counts.len()
            ),
        ));
    }
    let width = width.ok_or_else(|| header_error(0, "no WIDTH line".to_owned()))?;
    let height = height.ok_or_else(|| header_error(0, "no HEIGHT line".to_owned()))?;
    let grid_points =
        width.checked_mul(height).ok_or_else(|| header_error(0, "WIDTH × HEIGHT overflows".to_owned()))?;
    let points = declared_points.unwrap_or(grid_points);
    if points != grid_points {
        return Err(header_error(0, format!("POINTS {points} but WIDTH × HEIGHT = {grid_points}")));
    }

    let mut fields = Vec::with_capacity(names.len());
    let mut record_bytes = 0_usize;
    for (((name, &size), &kind), &count) in names.iter().zip(&sizes).zip(&types).zip(&counts) {
        let valid = match kind {
            PcdType::Float => size == 4 || size == 8,
            PcdType::Signed | PcdType::Unsigned => matches!(size, 1 | 2 | 4 | 8),
        };
        if !valid || count == 0 {
            return Err(header_error(
                0,
                format!("field `{name}`: SIZE {size} TYPE {kind:?} COUNT {count} is not valid"),
            ));
        }
        fields.push(PcdField { name: name.clone(), size, kind, count, offset: record_bytes });
        record_bytes = size
            .checked_mul(count)
            .and_then(|bytes| record_bytes.checked_add(bytes))
            .ok_or_else(|| header_error(0, "record size overflows".to_owned()))?;
    }
    let find = |wanted: &[&str]| fields.iter().position(|field| wanted.contains(&field.name.as_str()));
    let (Some(x), Some(y), Some(z)) = (find(&["x"]), find(&["y"]), find(&["z"])) else {
        return Err(header_error(0, format!("FIELDS `{}` lacks x, y or z", names.join(" "))));
    };
    let intensity = find(&["intensity", "i"]);
    let body = bytes.get(cursor.min(bytes.len())..).unwrap_or_default();

    let mut cloud_points = Vec::with_capacity(points.min(1 << 22));
    match data_kind.as_str() {
        "binary" => {
            let needed =
                points.checked_mul(record_bytes).ok_or_else(|| data_error("size overflows".to_owned()))?;
            if body.len() < needed {
                return Err(data_error(format!(
                    "{} bytes of binary data for {points} points of {record_bytes} bytes ({needed} needed): truncated",
                    body.len()
                )));
            }
            for record in body.chunks_exact(record_bytes.max(1)).take(points) {
                let value = |index: usize| {
                    fields.get(index).and_then(|field| field.read_binary(record)).unwrap_or(0.0)
                };
                cloud_points.push(PointXyzi {
                    x_m: value(x) as f32,
                    y_m: value(y) as f32,
                    z_m: value(z) as f32,
                    intensity: intensity.map_or(0.0, |index| value(index) as f32),
                });
            }
        }
        "ascii" => {
            let text =
                std::str::from_utf8(body).map_err(|_| data_error("ASCII data is not text".to_owned()))?;
            // Column of each field's first element in a line.
            let mut columns = Vec::with_capacity(fields.len());
            let mut column = 0_usize;
            for field in &fields {
                columns.push(column);
                column = column.saturating_add(field.count);
            }
            let values_per_line = column;
            let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
            for point in 0..points {
                let Some((index, line)) = lines.next() else {
                    return Err(data_error(format!(
                        "{point} ASCII points for the {points} declared: truncated"
                    )));
                };
                let words: Vec<&str> = line.split_whitespace().collect();
                if words.len() != values_per_line {
                    return Err(data_error(format!(
                        "line {} has {} values, the header declares {values_per_line}",
                        data_line + index + 1,
                        words.len()
                    )));
                }
                let value = |field: usize| -> Result<f64, PointFileError> {
                    let word =
                        columns.get(field).and_then(|&column| words.get(column)).copied().unwrap_or_default();
                    word.parse::<f64>().map_err(|_| {
                        data_error(format!("line {}: `{word}` is not a number", data_line + index + 1))
                    })
                };
                cloud_points.push(PointXyzi {
                    x_m: value(x)? as f32,
                    y_m: value(y)? as f32,
                    z_m: value(z)? as f32,
                    intensity: match intensity {
                        Some(field) => value(field)? as f32,
                        None => 0.0,
                    },
                });
            }
        }
        "binary_compressed" => {
            return Err(header_error(data_line, "DATA binary_compressed (LZF) is not supported".to_owned()));
        }
        other => {
            return Err(header_error(data_line, format!("DATA `{other}` is not ascii or binary")));
        }
    }
    Ok(PointCloud { header, points: cloud_points })
}
