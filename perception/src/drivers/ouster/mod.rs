//! Ouster OS-series lidar: metadata, packet decoding, frame batching, XYZ and SDK-style digests.
//!
//! Pipeline: [`OusterMetadata`] (the sensor's JSON) → [`PacketFormat`] (byte layout of the
//! configured packet profile) → [`OusterScanBatcher`] (packets to one [`LidarScan`] per frame,
//! with lost/duplicate/late/malformed counters) → [`XyzLut`] (range image to XYZ in the sensor
//! frame, metres) → [`pitsense_types::PointCloud`].
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
mod metadata;
mod packet;
mod scan;

use std::path::PathBuf;

pub use digest::{FieldDigests, PacketDigest, StreamDigest, scan_digest};
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
    /// A scan whose size differs from the lookup table's.
    #[error("scan is {scan_height}×{scan_width} but the XYZ table is {lut_height}×{lut_width}")]
    ShapeMismatch {
        /// Scan rows.
        scan_height: usize,
        /// Scan columns.
        scan_width: usize,
        /// Table rows.
        lut_height: usize,
        /// Table columns.
        lut_width: usize,
    },
}
