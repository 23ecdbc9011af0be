//! SAE J2735 (2024) `MessageFrame` and the messages pitsense decodes, in ASN.1 UPER
//! (ITU-T X.691, unaligned).
//!
//! The ASN.1 of SAE J2735 and SAE J3224 is copyrighted by SAE and not shipped here. The Rust
//! types in the sub-modules were written from the published field definitions (J2735 2024
//! release: `MessageFrame`, `BasicSafetyMessage`, `MapData`, `SPAT`, `PersonalSafetyMessage`
//! and their data frames/elements; J3224 2024 release: `SensorDataSharingMessage`), with the
//! constraints, OPTIONALs and extension markers cross-checked against the asn1c decoder that
//! produced the golden XER files in `shared/data/v2x/j2735/`. Each type's doc line names its
//! ASN.1 type, the range of an INTEGER and, for the data elements that carry physical values,
//! the unit.
//!
//! Wire layout (UPER, bits in order, no alignment):
//!
//! ```text
//! MessageFrame ::= SEQUENCE { messageId, value, ... }
//!   1 bit    extension bit (0: no additions; pitsense refuses frames that set it)
//!  15 bits   messageId (0..=32767)
//!   8+ bits  length determinant of the open type `value`, in octets (X.691 §11.9)
//!   N octets `value`: the message's own complete UPER encoding, padded to an octet
//!  ...       the frame is padded with 0 bits to an octet boundary
//! ```
//!
//! Regional extensions (`Reg-*`) and the BSM Part II contents are open types too; they are
//! kept as their UPER octets (see [`RegionalExtension`], [`bsm::BsmPartIiExtension`]) so
//! that re-encoding reproduces the input.

pub mod bsm;
pub mod bsm_part_ii;
pub mod common;
pub mod map;
pub mod psm;
pub mod sdsm;
pub mod spat;
pub mod units;

use rasn::prelude::*;

use crate::V2xError;

/// `messageId` values (`DSRCmsgID`, SAE J2735 2024 clause 5.1) of the messages this crate
/// decodes, and of a few others that name themselves in "unsupported" reports.
pub mod message_id {
    /// `mapData` (MAP, SAE J2735 clause 5.8).
    pub const MAP: u16 = 18;
    /// `signalPhaseAndTimingMessage` (SPaT, SAE J2735 clause 5.14).
    pub const SPAT: u16 = 19;
    /// `basicSafetyMessage` (BSM, SAE J2735 clause 5.2).
    pub const BSM: u16 = 20;
    /// `signalRequestMessage` (SRM); not decoded.
    pub const SRM: u16 = 29;
    /// `signalStatusMessage` (SSM); not decoded.
    pub const SSM: u16 = 30;
    /// `travelerInformation` (TIM); not decoded.
    pub const TIM: u16 = 31;
    /// `personalSafetyMessage` (PSM, SAE J2735 clause 5.11).
    pub const PSM: u16 = 32;
    /// `sensorDataSharingMessage` (SDSM, SAE J3224).
    pub const SDSM: u16 = 41;

    /// The message's short name (`"BSM"`, `"MAP"`...), or `None` for an id without one here.
    pub fn name(message_id: u16) -> Option<&'static str> {
        Some(match message_id {
            MAP => "MAP",
            SPAT => "SPAT",
            BSM => "BSM",
            SRM => "SRM",
            SSM => "SSM",
            TIM => "TIM",
            PSM => "PSM",
            SDSM => "SDSM",
            _ => return None,
        })
    }
}

/// `MessageFrame` (SAE J2735 clause 5.1): a message id and the message's UPER encoding as an
/// open type.
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
#[non_exhaustive]
pub struct MessageFrame {
    /// `messageId` (`DSRCmsgID`, 0..=32767); see [`message_id`].
    #[rasn(value("0..=32767"))]
    pub message_id: u16,
    /// `value`: the message's own complete UPER encoding (open type).
    pub value: Any,
}

impl MessageFrame {
    /// Builds a frame from an id and the message's UPER octets.
    pub fn new(message_id: u16, value: Vec<u8>) -> Self {
        Self { message_id, value: Any::new(value) }
    }
}

/// `RegionalExtension` (every `Reg-*` type of SAE J2735): a region id and an open-type value,
/// kept as its UPER octets because the regional ASN.1 modules are not part of the standard.
#[derive(AsnType, Decode, Encode, Clone, Debug, PartialEq)]
#[rasn(automatic_tags)]
pub struct RegionalExtension {
    /// `regionId` (0..=255; 0 = no region, 1 = addGrpA, 2 = addGrpB, 3 = addGrpC).
    pub region_id: u8,
    /// `regExtValue`: the extension's UPER octets (open type).
    pub reg_ext_value: Any,
}

/// One decoded J2735 message: the five supported kinds, or the raw value of any other id.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // decoded once, moved rarely; boxing would only add noise
pub enum J2735Message {
    /// `BasicSafetyMessage` (messageId 20).
    Bsm(bsm::BasicSafetyMessage),
    /// `MapData` (messageId 18).
    Map(map::MapData),
    /// `SPAT` (messageId 19).
    Spat(spat::Spat),
    /// `PersonalSafetyMessage` (messageId 32).
    Psm(psm::PersonalSafetyMessage),
    /// `SensorDataSharingMessage` (messageId 41, SAE J3224).
    Sdsm(sdsm::SensorDataSharingMessage),
    /// Any other messageId: not decoded, the value's UPER octets kept as received.
    Unsupported {
        /// The frame's `messageId`.
        message_id: u16,
        /// The `value` open type's octets.
        value: Vec<u8>,
    },
}

impl J2735Message {
    /// The frame's `messageId`.
    pub fn message_id(&self) -> u16 {
        match self {
            Self::Bsm(_) => message_id::BSM,
            Self::Map(_) => message_id::MAP,
            Self::Spat(_) => message_id::SPAT,
            Self::Psm(_) => message_id::PSM,
            Self::Sdsm(_) => message_id::SDSM,
            Self::Unsupported { message_id, .. } => *message_id,
        }
    }

    /// Whether this crate decodes the message's contents (BSM, MAP, SPaT, PSM, SDSM).
    pub fn is_supported(&self) -> bool {
        !matches!(self, Self::Unsupported { .. })
    }
}

/// One `MessageFrame` found in a byte buffer, with where it was and its decoded value.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedFrame {
    /// Offset of the frame's first octet in the buffer given to the decoder, bytes.
    pub offset_bytes: usize,
    /// Octets the frame occupies (header, value and padding), bytes.
    pub length_bytes: usize,
    /// The frame's `messageId`.
    pub message_id: u16,
    /// The message, or why its value did not decode (the frame itself was well formed, so
    /// decoding went on with the next frame).
    pub message: Result<J2735Message, V2xError>,
}

/// Decodes one UPER `MessageFrame` at the start of `input` and its `value` by `messageId`.
///
/// Returns the message and the number of octets the frame occupies (frames are padded to an
/// octet boundary, so concatenated frames follow one another directly). An unknown
/// `messageId` decodes to [`J2735Message::Unsupported`], not an error.
///
/// # Errors
/// [`V2xError::MessageFrame`] when the frame itself is malformed or truncated (including a set
/// extension bit, which no J2735 release defines), [`V2xError::Message`] when the value of a
/// supported message does not decode. `offset_bytes` in the errors is 0 (relative to `input`).
pub fn decode_frame(input: &[u8]) -> Result<(J2735Message, usize), V2xError> {
    let (frame, consumed) = decode_frame_header(input)?;
    let message = decode_value(frame.message_id, frame.value.as_bytes())?;
    Ok((message, consumed))
}

/// Decodes the `MessageFrame` envelope only: the id, the value's octets and the octets used.
fn decode_frame_header(input: &[u8]) -> Result<(MessageFrame, usize), V2xError> {
    let first = input.first().ok_or(V2xError::MessageFrame { offset_bytes: 0, reason: "no bytes".into() })?;
    if first & 0x80 != 0 {
        // The root of MessageFrame has no extension additions; a set bit means this is not a
        // frame (or a future one we cannot size), so refuse before guessing lengths.
        return Err(V2xError::MessageFrame {
            offset_bytes: 0,
            reason: "extension bit set: no J2735 release defines MessageFrame additions".into(),
        });
    }
    let (frame, rest) = rasn::uper::decode_with_remainder::<MessageFrame>(input)
        .map_err(|error| V2xError::MessageFrame { offset_bytes: 0, reason: error.to_string() })?;
    if frame.value.as_bytes().is_empty() {
        // X.691 §11.2: a complete encoding is at least one octet, so an empty open type is
        // not a message (it is what junk after the last frame often looks like).
        return Err(V2xError::MessageFrame {
            offset_bytes: 0,
            reason: format!(
                "messageId {} with an empty value (a UPER encoding has at least one octet)",
                frame.message_id
            ),
        });
    }
    let consumed = input.len().saturating_sub(rest.len());
    Ok((frame, consumed))
}

/// Decodes the `value` of a frame with the given `messageId` (the open type's octets).
///
/// # Errors
/// [`V2xError::Message`] when a supported message's UPER encoding is malformed.
pub fn decode_value(message_id: u16, value: &[u8]) -> Result<J2735Message, V2xError> {
    fn decode<T: Decode>(message_id: u16, value: &[u8]) -> Result<T, V2xError> {
        rasn::uper::decode::<T>(value).map_err(|error| V2xError::Message {
            message: message_id::name(message_id).unwrap_or("message"),
            message_id,
            offset_bytes: 0,
            reason: error.to_string(),
        })
    }
    Ok(match message_id {
        message_id::BSM => J2735Message::Bsm(decode(message_id, value)?),
        message_id::MAP => J2735Message::Map(decode(message_id, value)?),
        message_id::SPAT => J2735Message::Spat(decode(message_id, value)?),
        message_id::PSM => J2735Message::Psm(decode(message_id, value)?),
        message_id::SDSM => J2735Message::Sdsm(decode(message_id, value)?),
        _ => J2735Message::Unsupported { message_id, value: value.to_vec() },
    })
}

/// Encodes a message as a UPER `MessageFrame` (the inverse of [`decode_frame`]): canonical
/// UPER, so `encode_frame(decode_frame(x)) == x` for canonical input.
///
/// # Errors
/// [`V2xError::Encode`] when a field is outside its constraint (for example a hand-built
/// message with an out-of-range value).
pub fn encode_frame(message: &J2735Message) -> Result<Vec<u8>, V2xError> {
    fn encode<T: Encode>(what: &'static str, value: &T) -> Result<Vec<u8>, V2xError> {
        rasn::uper::encode(value).map_err(|error| V2xError::Encode { what, reason: error.to_string() })
    }
    let value = match message {
        J2735Message::Bsm(bsm) => encode("BasicSafetyMessage", bsm)?,
        J2735Message::Map(map) => encode("MapData", map)?,
        J2735Message::Spat(spat) => encode("SPAT", spat)?,
        J2735Message::Psm(psm) => encode("PersonalSafetyMessage", psm)?,
        J2735Message::Sdsm(sdsm) => encode("SensorDataSharingMessage", sdsm)?,
        J2735Message::Unsupported { value, .. } => value.clone(),
    };
    encode("MessageFrame", &MessageFrame::new(message.message_id(), value))
}

/// What [`decode_frames`] found in a buffer of concatenated frames.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameSequence {
    /// The frames decoded, in order.
    pub frames: Vec<DecodedFrame>,
    /// Octets after the last frame that are not a decodable frame, with the reason; `None`
    /// when the frames cover the buffer (up to at most two zero padding octets).
    pub trailing: Option<TrailingBytes>,
}

/// Undecodable octets at the end of a buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct TrailingBytes {
    /// Offset of the first undecodable octet, bytes.
    pub offset_bytes: usize,
    /// Number of undecodable octets, bytes.
    pub length_bytes: usize,
    /// Why decoding stopped there.
    pub reason: String,
}

/// Decodes concatenated UPER `MessageFrame`s (as in a capture file or a UDP datagram that
/// carries several) until the buffer ends, a frame fails, or `max_frames` were decoded.
///
/// A frame whose envelope is sound but whose value does not decode is kept with its error
/// and decoding goes on after it. Decoding stops at the first malformed envelope and reports
/// the rest of the buffer once as [`FrameSequence::trailing`] (no error storm). At most two
/// trailing zero octets (padding some producers add) are accepted silently: the shortest
/// frame is three octets.
///
/// # Errors
/// [`V2xError::EmptyInput`] for an empty buffer; [`V2xError::MessageFrame`] when the first
/// envelope does not decode, since then nothing was found.
pub fn decode_frames(input: &[u8], max_frames: usize) -> Result<FrameSequence, V2xError> {
    if input.is_empty() {
        return Err(V2xError::EmptyInput);
    }
    let mut frames = Vec::new();
    let mut offset = 0usize;
    let mut trailing = None;
    while let Some(rest) = input.get(offset..) {
        if rest.is_empty() || (rest.len() < 3 && rest.iter().all(|&byte| byte == 0) && !frames.is_empty()) {
            break;
        }
        if frames.len() >= max_frames {
            trailing = Some(TrailingBytes {
                offset_bytes: offset,
                length_bytes: rest.len(),
                reason: format!("frame limit of {max_frames} reached"),
            });
            break;
        }
        match decode_frame_header(rest) {
            Ok((frame, length)) if length > 0 => {
                let message = decode_value(frame.message_id, frame.value.as_bytes())
                    .map_err(|error| error.at_offset(offset));
                frames.push(DecodedFrame {
                    offset_bytes: offset,
                    length_bytes: length,
                    message_id: frame.message_id,
                    message,
                });
                offset += length;
            }
            Ok(_) => break,
            Err(error) if frames.is_empty() => return Err(error.at_offset(offset)),
            Err(error) => {
                trailing = Some(TrailingBytes {
                    offset_bytes: offset,
                    length_bytes: rest.len(),
                    reason: error.at_offset(offset).to_string(),
                });
                break;
            }
        }
    }
    Ok(FrameSequence { frames, trailing })
}
