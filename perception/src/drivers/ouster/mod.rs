//! Ouster OS-series lidar: metadata, packet decoding, frame batching, XYZ and SDK-style digests.
//!
//! Pipeline: [`OusterMetadata`] (the sensor's JSON) → [`PacketFormat`] (byte layout of the
//! configured packet profile) → [`OusterScanBatcher`] (packets to one [`LidarScan`] per frame,
//! with lost/duplicate/late/malformed counters) → [`XyzLut`] (range image to XYZ in the sensor
//! frame, metres) → [`pitsense_types::PointCloud`]. The way back, [`OusterPacketEncoder`],
//! writes a [`LidarScan`] as the sensor's lidar packets (for simulated sensors and captures).
//!
//! Images are `H × W` row-major (`H` = pixels per column = beams, `W` = columns per frame) and
//! **staggered**: column `c` holds measurement id `c`, as packets deliver it and as the vendor
//! SDK's `LidarScan` stores it. [`destagger`] shifts each row by `pixel_shift_by_row` to line the
//! beams up in azimuth for display.
//!
//! Sources: Ouster Sensor/Firmware User Manual v2.3–v3.1, "Lidar Data Format" (packets) and
//! "Coordinate Frames and XYZ Calculation" (geometry). The golden test
//! (`tests/drivers_ouster.rs`) reproduces the vendor SDK's MD5 digests of every decoded field.

mod digest;
mod encode;
mod metadata;
mod packet;
mod scan;

use std::path::PathBuf;

pub use digest::{FieldDigests, PacketDigest, StreamDigest, scan_digest};
pub use encode::OusterPacketEncoder;
pub use metadata::{OusterMetadata, UdpProfileLidar};
pub use packet::{ColumnView, FieldSpec, FieldType, PacketFormat, PacketHeader};
pub use scan::{FieldImage, LidarScan, OusterCounters, OusterScanBatcher, XyzLut, destagger};

/// Why Ouster metadata or a packet could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OusterError {
    /// The metadata file could not be read.
    #[error("cannot read Ouster metadata `{}`: {source}", file.display())]
    MetadataIo {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The metadata is not valid JSON.
    #[error("Ouster metadata `{}` is not valid JSON: {source}", file.display())]
    MetadataJson {
        /// The file.
        file: PathBuf,
        /// The parser's error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A metadata key is missing, ill-typed or inconsistent with the others.
    #[error("Ouster metadata `{}`: `{field}` {reason}", file.display())]
    MetadataField {
        /// The file.
        file: PathBuf,
        /// The key (flat-layout name).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The metadata names a packet profile this decoder does not implement.
    #[error(
        "unsupported Ouster lidar packet profile `{profile}` (supported: LEGACY, \
         RNG19_RFL8_SIG16_NIR16, RNG19_RFL8_SIG16_NIR16_DUAL, RNG15_RFL8_NIR8)"
    )]
    UnsupportedProfile {
        /// The profile string from the metadata.
        profile: String,
    },
    /// A lidar packet whose length does not match the metadata's profile and sizes.
    #[error("Ouster lidar packet is {actual} bytes, expected {expected} for this metadata")]
    PacketLength {
        /// Bytes the metadata implies.
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
    /// A non-LEGACY packet whose header type is not lidar (1).
    #[error("Ouster packet type {packet_type} is not a lidar packet (1)")]
    PacketType {
        /// The type field.
        packet_type: u16,
    },
    /// A column whose measurement id is outside the frame.
    #[error("Ouster column measurement id {measurement_id} outside 0..{columns_per_frame}")]
    MeasurementIdOutOfRange {
        /// The column's measurement id.
        measurement_id: u16,
        /// Columns per frame from the metadata.
        columns_per_frame: usize,
    },
    /// A scan whose size differs from the lookup table's (or, for [`OusterPacketEncoder`], from
    /// the metadata's `H × W`).
    #[error("scan is {scan_height}×{scan_width} but the XYZ table is {lut_height}×{lut_width}")]
    ShapeMismatch {
        /// Scan rows.
        scan_height: usize,
        /// Scan columns.
        scan_width: usize,
        /// Table (or metadata) rows.
        lut_height: usize,
        /// Table (or metadata) columns.
        lut_width: usize,
    },
    /// Encoder: a scan value does not fit its packet field (too many bits, or not a multiple
    /// of the field's step in the low-data-rate profile), or the profile has no field for a
    /// non-zero value (`encoder_count` outside LEGACY, `init_id` in LEGACY).
    #[error(
        "cannot encode {field} = {value} at {}: the packet field holds multiples of {step} up \
         to {max}",
        value_location(*.row, *.column)
    )]
    ValueOutOfRange {
        /// Field name: a pixel field's SDK name (`RANGE`, `NEAR_IR`, ...) or a header field
        /// (`status`, `init_id`, `encoder_count`).
        field: &'static str,
        /// Pixel row, for pixel fields.
        row: Option<usize>,
        /// Column (measurement id), for pixel and column-header fields.
        column: Option<usize>,
        /// The value that does not fit.
        value: u64,
        /// Largest value the field holds (0 when the profile has no such field).
        max: u64,
        /// Step between values the field holds (8 for the low-data-rate range, ...).
        step: u64,
    },
    /// Encoder: the scan was decoded with (or built for) another packet profile.
    #[error("cannot encode a {scan} scan as {expected} packets")]
    ProfileMismatch {
        /// The scan's profile.
        scan: UdpProfileLidar,
        /// The encoder's (metadata's) profile.
        expected: UdpProfileLidar,
    },
    /// Encoder: a scan field vector whose length is not what the shape and profile imply
    /// (`H × W` for carried pixel fields, `W` for column headers, 0 for fields the profile
    /// lacks).
    #[error("cannot encode: scan field {field} has {actual} values, expected {expected}")]
    FieldLength {
        /// Field name (SDK name, or the column-header vector's name).
        field: &'static str,
        /// Values the shape and profile imply.
        expected: usize,
        /// Values the scan holds.
        actual: usize,
    },
    /// Encoder: a column with a non-zero status whose measurement id is not its index (the
    /// decoder places columns by measurement id, so the packet must carry the index).
    #[error("cannot encode: scan column {column} has measurement id {measurement_id}")]
    MeasurementIdMismatch {
        /// The column index.
        column: usize,
        /// The measurement id the scan gives it.
        measurement_id: u16,
    },
    /// Encoder: a column that is not valid (non-LEGACY status bit 0 clear, LEGACY status not
    /// all ones) but carries a non-zero value, which the decoder would drop (it keeps nothing
    /// of an invalid column; every scan it produces has such columns all zero).
    #[error(
        "cannot encode: scan column {column} is not valid (status {status:#x}) but its {field} \
         is {value}{}; the decoder keeps nothing of an invalid column",
        .row.map_or_else(String::new, |row| format!(" in row {row}"))
    )]
    InvalidColumnNotEmpty {
        /// The column index.
        column: usize,
        /// Its status.
        status: u32,
        /// The non-zero field (`status`, `timestamp_ns`, `encoder_count`, or a pixel field's
        /// SDK name).
        field: &'static str,
        /// The pixel row, for pixel fields.
        row: Option<usize>,
        /// The value.
        value: u64,
    },
    /// Encoder: the frame does not split into whole packets (the last packet would carry
    /// measurement ids past the frame, which no decoder accepts).
    #[error(
        "cannot encode: {columns_per_frame} columns per frame is not a multiple of \
         {columns_per_packet} columns per packet"
    )]
    PartialPacket {
        /// Columns per frame, `W`.
        columns_per_frame: usize,
        /// Columns per packet.
        columns_per_packet: usize,
    },
}

/// `row R, column C` / `column C` / `the packet header`, for [`OusterError::ValueOutOfRange`].
fn value_location(row: Option<usize>, column: Option<usize>) -> String {
    match (row, column) {
        (Some(row), Some(column)) => format!("row {row}, column {column}"),
        (None, Some(column)) => format!("column {column}"),
        (Some(row), None) => format!("row {row}"),
        (None, None) => "the packet header".to_owned(),
    }
}
