//! Ouster lidar packet layout, per packet profile.
//!
//! Source: Ouster Sensor/Firmware User Manual (v2.3–v3.1), "Lidar Data Format". All multi-byte
//! values are little-endian. A lidar packet is
//!
//! ```text
//! non-LEGACY profiles                          LEGACY profile
//! ┌──────────────────────────────┐ 32 B        (no packet header)
//! │ packet header                │
//! │  0 u16 packet_type (1=lidar) │
//! │  2 u16 frame_id              │
//! │  4 u24 init_id               │
//! │  7 u40 prod_sn               │
//! │ 12 u8  alert_flags           │
//! │ 16 u8  countdown_thermal     │
//! │ 17 u8  countdown_shot_limit  │
//! │ 18 u4  thermal_shutdown      │
//! │ 19 u4  shot_limiting         │
//! ├──────────────────────────────┤ × columns_per_packet
//! │ column header, 12 B          │ column header, 16 B
//! │  0 u64 timestamp_ns          │  0 u64 timestamp_ns
//! │  8 u16 measurement_id        │  8 u16 measurement_id
//! │ 10 u16 status (bit0 valid)   │ 10 u16 frame_id, 12 u32 encoder_count
//! │ H × pixel (profile-sized)    │ H × pixel, 12 B
//! │                              │ column footer: u32 status (0xFFFFFFFF valid)
//! ├──────────────────────────────┤
//! │ packet footer, 32 B          │ (no packet footer)
//! └──────────────────────────────┘
//! ```
//!
//! Pixel fields, as (bit offset, bit width, up-shift) inside the little-endian pixel:
//!
//! | profile | pixel | RANGE | FLAGS | REFLECTIVITY | SIGNAL | NEAR_IR | second return |
//! |---|---|---|---|---|---|---|---|
//! | LEGACY | 12 B | 0,20 | 28,4 | 32,8 | 48,16 | 64,16 | – |
//! | RNG19_RFL8_SIG16_NIR16 | 12 B | 0,19 | 19,5 | 32,8 | 48,16 | 64,16 | – |
//! | RNG19_RFL8_SIG16_NIR16_DUAL | 16 B | 0,19 | 19,5 | 24,8 | 64,16 | 96,16 | RANGE2 32,19; FLAGS2 51,5; REFLECTIVITY2 56,8; SIGNAL2 80,16 |
//! | RNG15_RFL8_NIR8 | 4 B | 0,15 ≪3 (8 mm) | 15,1 | 16,8 | – | 24,8 ≪4 | – |
//!
//! `RAW32_WORDn` is the n-th little-endian 32-bit word of the pixel. Ranges are millimetres.
//! Field names are the vendor SDK's channel-field names, so digests compare key by key.

use super::{OusterError, OusterMetadata, UdpProfileLidar};
use crate::drivers::bytes;

/// Element type of a decoded field: the smallest unsigned integer holding its bits after the
/// up-shift (the vendor SDK's rule, which fixes the byte layout of its digests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
}

impl FieldType {
    /// Bytes per element.
    pub fn bytes(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 => 2,
            Self::U32 => 4,
            Self::U64 => 8,
        }
    }
}

/// One pixel field of a packet profile: where its bits lie inside the pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Vendor SDK channel-field name (`RANGE`, `SIGNAL`, `REFLECTIVITY`, `NEAR_IR`, `FLAGS`,
    /// `RANGE2`, ..., `RAW32_WORD1`...).
    pub name: &'static str,
    /// First bit inside the little-endian pixel.
    pub bit_offset: u16,
    /// Number of bits.
    pub bit_width: u8,
    /// Left shift applied after extraction (low-data-rate profiles drop low bits).
    pub upshift: u8,
}

impl FieldSpec {
    const fn new(name: &'static str, bit_offset: u16, bit_width: u8, upshift: u8) -> Self {
        Self { name, bit_offset, bit_width, upshift }
    }

    /// Element type of the decoded value.
    pub fn field_type(&self) -> FieldType {
        match u32::from(self.bit_width) + u32::from(self.upshift) {
            0..=8 => FieldType::U8,
            9..=16 => FieldType::U16,
            17..=32 => FieldType::U32,
            _ => FieldType::U64,
        }
    }

    /// The field's value in `pixel` (one pixel's bytes), or `None` when the pixel is too short.
    pub fn read(&self, pixel: &[u8]) -> Option<u64> {
        let byte = usize::from(self.bit_offset / 8);
        let shift = u32::from(self.bit_offset % 8);
        let word = bytes::le_u64_padded(pixel, byte)?;
        let mask = if self.bit_width >= 64 { u64::MAX } else { (1_u64 << self.bit_width) - 1 };
        Some(((word >> shift) & mask) << self.upshift)
    }

    /// Smallest step between two values the field can carry: `2^upshift` (8 mm for the
    /// low-data-rate range, 16 for its near-IR, 1 otherwise).
    pub fn step(&self) -> u64 {
        1_u64.checked_shl(u32::from(self.upshift)).unwrap_or(0)
    }

    /// Largest value the field can carry: `(2^bit_width − 1) << upshift`, as [`Self::read`]
    /// returns it.
    pub fn max_value(&self) -> u64 {
        let mask = if self.bit_width >= 64 { u64::MAX } else { (1_u64 << self.bit_width) - 1 };
        mask.checked_shl(u32::from(self.upshift)).unwrap_or(0)
    }

    /// Whether [`Self::write`] can store `value` exactly: at most [`Self::max_value`] and a
    /// multiple of [`Self::step`].
    pub fn can_hold(&self, value: u64) -> bool {
        value <= self.max_value() && value.is_multiple_of(self.step())
    }

    /// Stores `value` in the field's bits of `pixel` (one pixel's bytes), leaving every other
    /// bit unchanged: the inverse of [`Self::read`] (the up-shift is undone, so `value` is in
    /// the decoded unit, millimetres for ranges). `None`, with `pixel` unchanged, when the
    /// value cannot be stored exactly ([`Self::can_hold`]) or the field's bits lie past the
    /// end of `pixel`; never truncates.
    pub fn write(&self, pixel: &mut [u8], value: u64) -> Option<()> {
        if !self.can_hold(value) {
            return None;
        }
        let byte = usize::from(self.bit_offset / 8);
        let shift = u32::from(self.bit_offset % 8);
        // The bytes the field touches (at most 8: widths are at most 32 bits here, and a field
        // of more than 56 bits at an odd offset would not fit one word).
        let touched = (shift as usize + usize::from(self.bit_width)).div_ceil(8);
        if touched > 8 {
            return None;
        }
        let bytes = pixel.get_mut(byte..byte.checked_add(touched)?)?;
        let mut word_bytes = [0_u8; 8];
        word_bytes.get_mut(..touched)?.copy_from_slice(bytes);
        let mask = if self.bit_width >= 64 { u64::MAX } else { (1_u64 << self.bit_width) - 1 };
        let raw = value.checked_shr(u32::from(self.upshift)).unwrap_or(0);
        let word = (u64::from_le_bytes(word_bytes) & !(mask << shift)) | (raw << shift);
        bytes.copy_from_slice(word.to_le_bytes().get(..touched)?);
        Some(())
    }
}

const LEGACY_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("RANGE", 0, 20, 0),
    FieldSpec::new("SIGNAL", 48, 16, 0),
    FieldSpec::new("REFLECTIVITY", 32, 8, 0),
    FieldSpec::new("NEAR_IR", 64, 16, 0),
    FieldSpec::new("FLAGS", 28, 4, 0),
    FieldSpec::new("RAW32_WORD1", 0, 32, 0),
    FieldSpec::new("RAW32_WORD2", 32, 32, 0),
    FieldSpec::new("RAW32_WORD3", 64, 32, 0),
];

const SINGLE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("RANGE", 0, 19, 0),
    FieldSpec::new("SIGNAL", 48, 16, 0),
    FieldSpec::new("REFLECTIVITY", 32, 8, 0),
    FieldSpec::new("NEAR_IR", 64, 16, 0),
    FieldSpec::new("FLAGS", 19, 5, 0),
    FieldSpec::new("RAW32_WORD1", 0, 32, 0),
    FieldSpec::new("RAW32_WORD2", 32, 32, 0),
    FieldSpec::new("RAW32_WORD3", 64, 32, 0),
];

const DUAL_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("RANGE", 0, 19, 0),
    FieldSpec::new("RANGE2", 32, 19, 0),
    FieldSpec::new("SIGNAL", 64, 16, 0),
    FieldSpec::new("SIGNAL2", 80, 16, 0),
    FieldSpec::new("REFLECTIVITY", 24, 8, 0),
    FieldSpec::new("REFLECTIVITY2", 56, 8, 0),
    FieldSpec::new("NEAR_IR", 96, 16, 0),
    FieldSpec::new("FLAGS", 19, 5, 0),
    FieldSpec::new("FLAGS2", 51, 5, 0),
    FieldSpec::new("RAW32_WORD1", 0, 32, 0),
    FieldSpec::new("RAW32_WORD2", 32, 32, 0),
    FieldSpec::new("RAW32_WORD3", 64, 32, 0),
    FieldSpec::new("RAW32_WORD4", 96, 32, 0),
];

const LOW_DATA_RATE_FIELDS: &[FieldSpec] = &[
    FieldSpec::new("RANGE", 0, 15, 3),
    FieldSpec::new("REFLECTIVITY", 16, 8, 0),
    FieldSpec::new("NEAR_IR", 24, 8, 4),
    FieldSpec::new("FLAGS", 15, 1, 0),
    FieldSpec::new("RAW32_WORD1", 0, 32, 0),
];

/// Byte layout of lidar packets for one sensor configuration (profile, `H`, columns per packet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketFormat {
    /// Packet profile.
    pub profile: UdpProfileLidar,
    /// Pixels per column, `H`.
    pub pixels_per_column: usize,
    /// Columns per packet.
    pub columns_per_packet: usize,
    /// Packet header bytes (32, LEGACY 0).
    pub packet_header_bytes: usize,
    /// Column header bytes (12, LEGACY 16).
    pub column_header_bytes: usize,
    /// Bytes per pixel (profile dependent: 12, 16 or 4).
    pub pixel_bytes: usize,
    /// Column footer bytes (0, LEGACY 4).
    pub column_footer_bytes: usize,
    /// Packet footer bytes (32, LEGACY 0).
    pub packet_footer_bytes: usize,
}

impl PacketFormat {
    /// The layout for a sensor's metadata.
    pub fn new(metadata: &OusterMetadata) -> Self {
        let legacy = metadata.udp_profile_lidar == UdpProfileLidar::Legacy;
        Self {
            profile: metadata.udp_profile_lidar,
            pixels_per_column: metadata.pixels_per_column,
            columns_per_packet: metadata.columns_per_packet,
            packet_header_bytes: if legacy { 0 } else { 32 },
            column_header_bytes: if legacy { 16 } else { 12 },
            pixel_bytes: match metadata.udp_profile_lidar {
                UdpProfileLidar::Legacy | UdpProfileLidar::Rng19Rfl8Sig16Nir16 => 12,
                UdpProfileLidar::Rng19Rfl8Sig16Nir16Dual => 16,
                UdpProfileLidar::Rng15Rfl8Nir8 => 4,
            },
            column_footer_bytes: if legacy { 4 } else { 0 },
            packet_footer_bytes: if legacy { 0 } else { 32 },
        }
    }

    /// The pixel fields of this profile, in the order the vendor SDK digest lists them.
    pub fn fields(&self) -> &'static [FieldSpec] {
        match self.profile {
            UdpProfileLidar::Legacy => LEGACY_FIELDS,
            UdpProfileLidar::Rng19Rfl8Sig16Nir16 => SINGLE_FIELDS,
            UdpProfileLidar::Rng19Rfl8Sig16Nir16Dual => DUAL_FIELDS,
            UdpProfileLidar::Rng15Rfl8Nir8 => LOW_DATA_RATE_FIELDS,
        }
    }

    /// The field called `name`, if this profile has it.
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|field| field.name == name)
    }

    /// Bytes per column (header, pixels, footer).
    pub fn column_bytes(&self) -> usize {
        self.column_header_bytes + self.pixels_per_column * self.pixel_bytes + self.column_footer_bytes
    }

    /// Bytes per lidar packet (the UDP payload size).
    pub fn packet_bytes(&self) -> usize {
        self.packet_header_bytes + self.columns_per_packet * self.column_bytes() + self.packet_footer_bytes
    }

    /// Checks a UDP payload's length and, for non-LEGACY profiles, its packet type.
    ///
    /// # Errors
    /// [`OusterError::PacketLength`] when the payload is not exactly [`Self::packet_bytes`] long;
    /// [`OusterError::PacketType`] when a non-LEGACY header's type is not 1 (lidar).
    pub fn check(&self, packet: &[u8]) -> Result<(), OusterError> {
        if packet.len() != self.packet_bytes() {
            return Err(OusterError::PacketLength { expected: self.packet_bytes(), actual: packet.len() });
        }
        if self.profile != UdpProfileLidar::Legacy {
            let packet_type = bytes::le_u16(packet, 0).unwrap_or(0);
            if packet_type != 1 {
                return Err(OusterError::PacketType { packet_type });
            }
        }
        Ok(())
    }

    /// The packet header (non-LEGACY), or the LEGACY equivalent built from the first column.
    ///
    /// # Errors
    /// The errors of [`Self::check`].
    pub fn header(&self, packet: &[u8]) -> Result<PacketHeader, OusterError> {
        self.check(packet)?;
        let truncated = || OusterError::PacketLength { expected: self.packet_bytes(), actual: packet.len() };
        if self.profile == UdpProfileLidar::Legacy {
            let frame_id = self.column(packet, 0).ok_or_else(truncated)?.frame_id();
            return Ok(PacketHeader { frame_id, ..PacketHeader::default() });
        }
        let word = |offset| bytes::le_u64_padded(packet, offset).ok_or_else(truncated);
        Ok(PacketHeader {
            packet_type: bytes::le_u16(packet, 0).ok_or_else(truncated)?,
            frame_id: bytes::le_u16(packet, 2).ok_or_else(truncated)?,
            init_id: (word(4)? & 0x00ff_ffff) as u32,
            prod_sn: word(7)? & 0x00ff_ffff_ffff,
            alert_flags: (word(12)? & 0xff) as u8,
            countdown_thermal_shutdown: (word(16)? & 0xff) as u8,
            countdown_shot_limiting: (word(17)? & 0xff) as u8,
            thermal_shutdown: (word(18)? & 0x0f) as u8,
            shot_limiting: (word(19)? & 0x0f) as u8,
        })
    }

    /// Column `index` (0-based within the packet) of a packet, or `None` past the packet's end.
    pub fn column<'a>(&'a self, packet: &'a [u8], index: usize) -> Option<ColumnView<'a>> {
        if index >= self.columns_per_packet {
            return None;
        }
        let start = self.packet_header_bytes.checked_add(index.checked_mul(self.column_bytes())?)?;
        let end = start.checked_add(self.column_bytes())?;
        Some(ColumnView { bytes: packet.get(start..end)?, format: self })
    }
}

/// The packet-level header of a lidar packet. LEGACY packets have none: only `frame_id` is set
/// (from the first column header) and the rest is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketHeader {
    /// Packet type, 1 for lidar packets.
    pub packet_type: u16,
    /// Frame (rotation) counter, wraps at 65536.
    pub frame_id: u16,
    /// Initialisation id: changes when the sensor is reinitialised.
    pub init_id: u32,
    /// Serial number.
    pub prod_sn: u64,
    /// Alert flags byte.
    pub alert_flags: u8,
    /// Countdown to thermal shutdown (seconds), 0 when none pending.
    pub countdown_thermal_shutdown: u8,
    /// Countdown to shot limiting (seconds), 0 when none pending.
    pub countdown_shot_limiting: u8,
    /// Thermal shutdown status (0 normal, 1 imminent).
    pub thermal_shutdown: u8,
    /// Shot limiting status (0 normal, 1 imminent, 2..=7 limiting).
    pub shot_limiting: u8,
}

/// Borrowed view of one column (one azimuth step) of a lidar packet.
#[derive(Clone, Copy, Debug)]
pub struct ColumnView<'a> {
    bytes: &'a [u8],
    format: &'a PacketFormat,
}

impl<'a> ColumnView<'a> {
    /// Column timestamp, nanoseconds on the sensor clock (its timestamp mode decides the epoch).
    pub fn timestamp_ns(&self) -> u64 {
        bytes::le_u64(self.bytes, 0).unwrap_or(0)
    }

    /// Measurement id: the column's index in the frame, `0..columns_per_frame`.
    pub fn measurement_id(&self) -> u16 {
        bytes::le_u16(self.bytes, 8).unwrap_or(0)
    }

    /// Column status: non-LEGACY `u16` at byte 10 (bit 0: valid); LEGACY `u32` footer
    /// (`0xFFFFFFFF` valid).
    pub fn status(&self) -> u32 {
        if self.format.profile == UdpProfileLidar::Legacy {
            let offset = self.bytes.len().saturating_sub(4);
            bytes::le_u32(self.bytes, offset).unwrap_or(0)
        } else {
            u32::from(bytes::le_u16(self.bytes, 10).unwrap_or(0))
        }
    }

    /// Whether the column holds valid data (status bit 0 / LEGACY all-ones status).
    pub fn is_valid(&self) -> bool {
        if self.format.profile == UdpProfileLidar::Legacy {
            self.status() == u32::MAX
        } else {
            self.status() & 1 == 1
        }
    }

    /// Encoder count (LEGACY only; 0 for the other profiles, which do not send it).
    pub fn encoder_count(&self) -> u32 {
        if self.format.profile == UdpProfileLidar::Legacy {
            bytes::le_u32(self.bytes, 12).unwrap_or(0)
        } else {
            0
        }
    }

    /// Frame id carried in the column header (LEGACY only; 0 for the other profiles).
    pub fn frame_id(&self) -> u16 {
        if self.format.profile == UdpProfileLidar::Legacy {
            bytes::le_u16(self.bytes, 10).unwrap_or(0)
        } else {
            0
        }
    }

    /// The bytes of pixel `row` (`0..H`), or `None` past the column.
    pub fn pixel(&self, row: usize) -> Option<&'a [u8]> {
        let size = self.format.pixel_bytes;
        let start = self.format.column_header_bytes.checked_add(row.checked_mul(size)?)?;
        self.bytes.get(start..start.checked_add(size)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_extraction_follows_the_bit_table() {
        // RNG19 pixel: word0 = range 0x7_FFFF | flags 0b10101 << 19 | reflectivity 0x12 << 24.
        let word0: u32 = 0x7_ffff | (0b10101 << 19) | (0x12 << 24);
        let mut pixel = [0_u8; 12];
        pixel[..4].copy_from_slice(&word0.to_le_bytes());
        let range = FieldSpec::new("RANGE", 0, 19, 0);
        let flags = FieldSpec::new("FLAGS", 19, 5, 0);
        let dual_reflectivity = FieldSpec::new("REFLECTIVITY", 24, 8, 0);
        assert_eq!(range.read(&pixel), Some(0x7_ffff));
        assert_eq!(flags.read(&pixel), Some(0b10101));
        assert_eq!(dual_reflectivity.read(&pixel), Some(0x12));
        assert_eq!(range.field_type(), FieldType::U32);
        assert_eq!(flags.field_type(), FieldType::U8);
        // Low data rate: 15-bit range in 8 mm steps, near-IR in steps of 16.
        let low = [0xff_u8, 0x7f, 0x00, 0x0f];
        assert_eq!(LOW_DATA_RATE_FIELDS[0].read(&low), Some(0x7fff << 3));
        assert_eq!(LOW_DATA_RATE_FIELDS[2].read(&low), Some(0x0f << 4));
        assert_eq!(LOW_DATA_RATE_FIELDS[2].field_type(), FieldType::U16);
    }

    #[test]
    fn write_is_the_inverse_of_read_and_touches_only_its_bits() {
        for table in [LEGACY_FIELDS, SINGLE_FIELDS, DUAL_FIELDS, LOW_DATA_RATE_FIELDS] {
            let pixel_bytes =
                table.iter().map(|f| usize::from(f.bit_offset + u16::from(f.bit_width)) / 8).max();
            let pixel_bytes = pixel_bytes.unwrap();
            for field in table {
                for background in [0x00_u8, 0xff, 0xa5] {
                    for value in [0, field.step(), field.max_value() - field.step(), field.max_value()] {
                        let mut pixel = vec![background; pixel_bytes];
                        let before = pixel.clone();
                        assert_eq!(field.write(&mut pixel, value), Some(()), "{} = {value}", field.name);
                        assert_eq!(field.read(&pixel), Some(value), "{}", field.name);
                        // Every bit outside the field is as it was.
                        let mut restored = pixel.clone();
                        let original = field.read(&before).unwrap();
                        field.write(&mut restored, original).unwrap();
                        assert_eq!(restored, before, "{} = {value} leaked into other bits", field.name);
                    }
                    // Too large, or between steps: refused, pixel unchanged.
                    let mut pixel = vec![background; pixel_bytes];
                    assert_eq!(field.write(&mut pixel, field.max_value() + field.step()), None);
                    if field.step() > 1 {
                        assert_eq!(field.write(&mut pixel, field.step() + 1), None);
                    }
                    assert_eq!(pixel, vec![background; pixel_bytes]);
                    // A pixel too short for the field: refused, no panic.
                    let mut short = vec![0_u8; usize::from(field.bit_offset / 8)];
                    assert_eq!(field.write(&mut short, 0), None);
                }
            }
        }
        assert_eq!((LOW_DATA_RATE_FIELDS[0].max_value(), LOW_DATA_RATE_FIELDS[0].step()), (0x7fff << 3, 8));
        assert_eq!((SINGLE_FIELDS[0].max_value(), SINGLE_FIELDS[0].step()), ((1 << 19) - 1, 1));
    }
}
