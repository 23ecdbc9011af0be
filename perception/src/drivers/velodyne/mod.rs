//! Velodyne VLP-16, VLP-32C, HDL-32E and HDL-64E data packets.
//!
//! [`VelodyneDecoder`] turns one 1206-byte data packet into [`VelodynePoint`]s (x forward,
//! y left, z up, metres, the ROS `velodyne` driver's convention; see [`packet`] for the byte
//! layout, the firing-time azimuth interpolation and the XYZ formula);
//! [`VelodyneRotationAssembler`] groups packets into rotations cut at a configurable azimuth.
//! Laser tables: [`VelodyneModel::factory_calibration`] (the manuals' published tables) or a
//! per-unit table ([`VelodyneCalibration::from_ros_json`]).
//!
//! Sources: VLP-16 User Manual 63-9243 Rev. E (§9 "Sensor Data"), VLP-32C User Manual
//! 63-9325 Rev. B, HDL-32E User Manual 63-9113 Rev. M, HDL-64E S3 User Manual 63-HDL64ES3 Rev. K.

mod model;
pub mod packet;
mod rotation;

pub use model::{LaserCorrection, VelodyneCalibration, VelodyneModel};
pub use packet::{
    DATA_PACKET_BYTES, PacketInfo, ReturnKind, ReturnMode, VelodyneDecoder, VelodyneDecoderConfig,
    VelodynePoint,
};
pub use rotation::{VelodyneRotation, VelodyneRotationAssembler};

/// Why a Velodyne packet or calibration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VelodyneError {
    /// The payload is shorter than a data packet (a position/telemetry packet on the data port,
    /// or a truncated datagram).
    #[error("Velodyne payload is {actual} bytes, a data packet has at least {DATA_PACKET_BYTES}")]
    PayloadLength {
        /// Bytes received.
        actual: usize,
    },
    /// A data block does not start with a valid flag.
    #[error("Velodyne data block {block} has flag {flag:#06x}, expected 0xeeff (HDL-64E also 0xddff)")]
    BlockFlag {
        /// Block index, 0..12.
        block: usize,
        /// The flag read (little-endian).
        flag: u16,
    },
    /// A block azimuth beyond a full turn (above 36000 hundredths of a degree; 36000 itself is
    /// read as 0°).
    #[error("Velodyne data block {block} has azimuth {raw} (hundredths of a degree), beyond 36000")]
    Azimuth {
        /// Block index.
        block: usize,
        /// The raw azimuth.
        raw: u16,
    },
    /// The return-mode factory byte is not 0x37, 0x38 or 0x39.
    #[error("Velodyne return-mode byte {byte:#04x} is not 0x37 (strongest), 0x38 (last) or 0x39 (dual)")]
    ReturnMode {
        /// The byte.
        byte: u8,
    },
    /// The laser table does not fit the model or holds unusable values.
    #[error("Velodyne calibration: {reason}")]
    Calibration {
        /// What is wrong.
        reason: String,
    },
    /// A calibration file is not valid JSON in the expected shape.
    #[error("Velodyne calibration JSON: {source}")]
    CalibrationJson {
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}
