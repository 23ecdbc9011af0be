//! China CSAE road-side messages: T/CSAE 53 phase one (BSM, MAP, SPAT, RSI road-side
//! information, RSM road-side safety message) and T/CSAE 157-2020 phase two (SSM sensor-sharing
//! message through the `msgFrameExt` extension frame), in ASN.1 UPER (ITU-T X.691, unaligned).
//!
//! Types: [`csae53_2019_generated`] comes from the CSAE module release 2019-07-24 through
//! `rasn-compiler` 0.16 (`cargo run -p pitsense-v2x-codegen`, committed: Apache-2.0 source).
//! With the `csae-2020` feature, `csae157_2020_generated` comes from the T/CSAE 157-2020
//! ("Day II") modules, which also carry the 2020 edition of the phase-one messages; their text
//! has no licence, so the build script generates them into `OUT_DIR` and they are never
//! committed or shipped (internal tests only).
//!
//! Wire layout (UPER) of the CSAE `MessageFrame`, unlike the J2735 SEQUENCE:
//!
//! ```text
//! MessageFrame ::= CHOICE { bsmFrame, mapFrame, rsmFrame, spatFrame, rsiFrame, ...,
//!                           msgFrameExt MessageFrameExt (2020, T/CSAE 157), ... }
//!   1 bit    extension bit: 0 = a root alternative, 1 = an extension alternative
//!   root:      3 bits  alternative index 0..=4 (bsm, map, rsm, spat, rsi), then the message
//!   extension: 7 bits  normally small index (0 = msgFrameExt), 8+ bits length, octets of
//!              MessageFrameExt ::= SEQUENCE { messageId (0..32767), value (open type), ... }
//!              messageId 12 = SSM (`SensorSharing.SensorSharingMsg`)
//!   ...      padded with 0 bits to an octet boundary
//! ```
//!
//! Editions ([`Edition`]): the 2020 edition changed fields that move UPER bits (RSI
//! `PathPointList` SIZE(1..32) became (2..32), MAP `Link.linkWidth` became mandatory, extension
//! fields were added), so a message is decoded with exactly the edition asked for; a failure is
//! reported, never retried with the other edition. Only the extension bit tells editions apart
//! on the wire: an extension alternative (`msgFrameExt`) exists only in the 2020 phase-two
//! frame; for the root alternatives the edition is per-RSU configuration (see
//! [`crate::decode::FormatConfig`]).
//!
//! Units (CSAE DefPosition/DefMotion/VehSize/SensorSharing): Latitude/Longitude 1e-7 degree,
//! Elevation 0.1 m, position offsets `OffsetLL-B*` 1e-7 degree, `VertOffset-B*` 0.1 m, Speed
//! 0.02 m/s, Heading 0.0125 degree clockwise from north, VehicleWidth/Length 0.01 m,
//! VehicleHeight 0.05 m, SSM `SizeValue` 0.1 m, DSecond milliseconds within the UTC minute.

pub mod convert;
pub mod uplink;
pub mod view;

use rasn::prelude::*;
use serde::{Deserialize, Serialize};

/// Types generated from the CSAE phase-one modules, release 2019-07-24.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, non_camel_case_types, non_snake_case, unused_imports, dead_code)]
pub mod csae53_2019_generated;

/// Types generated at build time from the T/CSAE 157-2020 ("Day II") modules, which hold the
/// 2020 edition of the phase-one messages and the phase-two messages. Never committed: the
/// ASN.1 text has no licence (feature `csae-2020`, internal tests only).
#[cfg(feature = "csae-2020")]
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, non_camel_case_types, non_snake_case, unused_imports, dead_code, unreachable_pub)]
pub mod csae157_2020_generated {
    include!(concat!(env!("OUT_DIR"), "/csae157_2020_generated.rs"));
}

use csae53_2019_generated as v2019;
#[cfg(feature = "csae-2020")]
use csae157_2020_generated as v2020;

/// Edition of the CSAE ASN.1 modules a message is encoded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Edition {
    /// The CSAE phase-one module release 2019-07-24 (between T/CSAE 53-2017 and the 2020
    /// edition; what the Hisense RSU samples use).
    #[serde(rename = "2019")]
    Y2019,
    /// The 2020 edition: T/CSAE 53-2020 / YD/T 3709-2020 phase one, and T/CSAE 157-2020 phase
    /// two. Needs the `csae-2020` feature.
    #[serde(rename = "2020")]
    Y2020,
}

impl Edition {
    /// `"2019"` or `"2020"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Y2019 => "2019",
            Self::Y2020 => "2020",
        }
    }

    /// Whether this build can decode the edition (2020 needs the `csae-2020` feature).
    pub fn is_built(self) -> bool {
        match self {
            Self::Y2019 => true,
            Self::Y2020 => cfg!(feature = "csae-2020"),
        }
    }
}

impl std::fmt::Display for Edition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Edition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "2019" => Ok(Self::Y2019),
            "2020" => Ok(Self::Y2020),
            other => Err(format!("unknown CSAE edition `{other}` (expected 2019 or 2020)")),
        }
    }
}

/// Which CSAE standard a frame is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsaeStandard {
    /// T/CSAE 53 (phase one; YD/T 3709 is its telecom edition): only the root alternatives of
    /// `MessageFrame` (BSM, MAP, RSM, SPAT, RSI).
    Csae53,
    /// T/CSAE 157-2020 (phase two): the root alternatives plus `msgFrameExt` (SSM and the other
    /// Day II messages). 2020 edition only.
    Csae157,
}

impl CsaeStandard {
    /// `"csae53"` or `"csae157"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csae53 => "csae53",
            Self::Csae157 => "csae157",
        }
    }
}

/// `MsgDayII.ExtMsgID` values of `MessageFrameExt.messageId` (T/CSAE 157-2020).
pub mod ext_message_id {
    /// `testData`: `TestMsg`.
    pub const TEST: u16 = 0;
    /// `rtcmData`: `RTCMcorrections`.
    pub const RTCM: u16 = 10;
    /// `rscData`: `RoadsideCoordination`.
    pub const RSC: u16 = 11;
    /// `ssmData`: `SensorSharingMsg` (SSM), decoded by pitsense.
    pub const SSM: u16 = 12;
    /// `virData`: `VehIntentionAndRequest`.
    pub const VIR: u16 = 13;
    /// `pamData`: `PAMData`.
    pub const PAM: u16 = 14;
    /// `psmData`: `PersonalSafetyMessage`.
    pub const PSM: u16 = 15;
    /// `clpmmData`: `CLPMM` (platooning).
    pub const CLPMM: u16 = 16;
    /// `vpmData`: `VehiclePaymentMessage`.
    pub const VPM: u16 = 17;

    /// Short name of an extension message id (`"SSM"`...), `None` when unknown.
    pub fn name(message_id: u16) -> Option<&'static str> {
        Some(match message_id {
            TEST => "TestMsg",
            RTCM => "RTCM",
            RSC => "RSC",
            SSM => "SSM",
            VIR => "VIR",
            PAM => "PAM",
            PSM => "PSM",
            CLPMM => "CLPMM",
            VPM => "VPM",
            _ => return None,
        })
    }
}

/// Why a CSAE input could not be decoded or encoded. Offsets are bytes from the start of the
/// buffer the decoder was given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsaeError {
    /// The UPER `MessageFrame` does not decode with the modules of this standard and edition
    /// (it is not retried with another edition).
    #[error("CSAE {} {edition} UPER MessageFrame at byte {offset_bytes}: {reason}", standard.as_str())]
    Frame {
        /// The standard asked for.
        standard: CsaeStandard,
        /// The edition asked for.
        edition: Edition,
        /// Offset of the frame, bytes.
        offset_bytes: usize,
        /// The UPER decoder's reason.
        reason: String,
    },
    /// A frame whose first bit selects an extension alternative of `MessageFrame`, which the
    /// standard or edition asked for does not define (T/CSAE 53, or the 2019 release).
    #[error(
        "CSAE {} {edition} MessageFrame at byte {offset_bytes}: extension alternative (first bit set), \
         which only T/CSAE 157-2020 defines (msgFrameExt); decode with standard csae157",
        standard.as_str()
    )]
    ExtensionNotDefined {
        /// The standard asked for.
        standard: CsaeStandard,
        /// The edition asked for.
        edition: Edition,
        /// Offset of the frame, bytes.
        offset_bytes: usize,
    },
    /// The `value` of a `msgFrameExt` whose message pitsense decodes (SSM) is malformed.
    #[error("CSAE msgFrameExt messageId {ext_message_id} ({}) at byte {offset_bytes}: {reason}",
        ext_message_id::name(*ext_message_id).unwrap_or("unknown"))]
    ExtensionValue {
        /// `MessageFrameExt.messageId`.
        ext_message_id: u16,
        /// Offset of the frame, bytes.
        offset_bytes: usize,
        /// The UPER decoder's reason.
        reason: String,
    },
    /// The edition is not compiled into this build.
    #[error(
        "CSAE edition {edition} is not built in: rebuild pitsense-v2x with the `csae-2020` feature \
             (internal use only: the 2020 ASN.1 modules have no licence)"
    )]
    EditionNotBuilt {
        /// The edition asked for.
        edition: Edition,
    },
    /// A standard/edition pair that does not exist (T/CSAE 157 has only the 2020 edition).
    #[error("CSAE {} has no {edition} edition (T/CSAE 157 exists only as 2020)", standard.as_str())]
    EditionNotDefined {
        /// The standard asked for.
        standard: CsaeStandard,
        /// The edition asked for.
        edition: Edition,
    },
    /// A message that cannot be encoded (a field outside its constraint).
    #[error("CSAE UPER encoding of {what}: {reason}")]
    Encode {
        /// The ASN.1 type being encoded.
        what: &'static str,
        /// The encoder's reason.
        reason: String,
    },
    /// An RSU uplink frame ([`uplink`]) that does not parse.
    #[error("RSU uplink frame at byte {offset_bytes}: {reason}")]
    Uplink {
        /// Offset of the offending byte, bytes.
        offset_bytes: usize,
        /// What was wrong.
        reason: String,
    },
}

impl CsaeError {
    /// The same error with `base` added to its byte offset.
    pub fn at_offset(self, base: usize) -> Self {
        match self {
            Self::Frame { standard, edition, offset_bytes, reason } => {
                Self::Frame { standard, edition, offset_bytes: offset_bytes + base, reason }
            }
            Self::ExtensionNotDefined { standard, edition, offset_bytes } => {
                Self::ExtensionNotDefined { standard, edition, offset_bytes: offset_bytes + base }
            }
            Self::ExtensionValue { ext_message_id, offset_bytes, reason } => {
                Self::ExtensionValue { ext_message_id, offset_bytes: offset_bytes + base, reason }
            }
            Self::Uplink { offset_bytes, reason } => {
                Self::Uplink { offset_bytes: offset_bytes + base, reason }
            }
            other => other,
        }
    }
}

/// A phase-two (`msgFrameExt`) message of the 2020 frame.
#[cfg(feature = "csae-2020")]
#[derive(Clone, Debug, PartialEq)]
pub enum ExtMessage {
    /// `SensorSharingMsg` (messageId 12).
    Ssm(v2020::sensor_sharing::SensorSharingMsg),
    /// Any other `MessageFrameExt.messageId`: kept as its value's UPER octets.
    Other {
        /// `MessageFrameExt.messageId`.
        ext_message_id: u16,
        /// The `value` open type's octets.
        value: Vec<u8>,
    },
}

/// One decoded CSAE `MessageFrame`, tagged with the edition of the modules that decoded it.
#[derive(Clone, Debug, PartialEq)]
pub enum CsaeMessage {
    /// Release 2019-07-24 phase one: [`v2019::msg_frame::MessageFrame`].
    Y2019(v2019::msg_frame::MessageFrame),
    /// 2020 edition, a root alternative (BSM, MAP, RSM, SPAT, RSI) of the 2020 frame.
    #[cfg(feature = "csae-2020")]
    Y2020(v2020::msg_frame::MessageFrame),
    /// 2020 edition (T/CSAE 157-2020), the `msgFrameExt` alternative with its value decoded.
    #[cfg(feature = "csae-2020")]
    Y2020Ext(ExtMessage),
}

impl CsaeMessage {
    /// The edition of the modules that decoded the message.
    pub fn edition(&self) -> Edition {
        match self {
            Self::Y2019(_) => Edition::Y2019,
            #[cfg(feature = "csae-2020")]
            Self::Y2020(_) | Self::Y2020Ext(_) => Edition::Y2020,
        }
    }

    /// The standard the message belongs to: phase one for the root alternatives, T/CSAE 157
    /// for `msgFrameExt`.
    pub fn standard(&self) -> CsaeStandard {
        match self {
            #[cfg(feature = "csae-2020")]
            Self::Y2020Ext(_) => CsaeStandard::Csae157,
            _ => CsaeStandard::Csae53,
        }
    }

    /// Short message name: `BSM`, `MAP`, `RSM`, `SPAT`, `RSI`, `SSM`, or the extension's name.
    pub fn message_type(&self) -> &'static str {
        macro_rules! root {
            ($frame:expr, $module:ident) => {
                match $frame {
                    $module::msg_frame::MessageFrame::bsmFrame(_) => "BSM",
                    $module::msg_frame::MessageFrame::mapFrame(_) => "MAP",
                    $module::msg_frame::MessageFrame::rsmFrame(_) => "RSM",
                    $module::msg_frame::MessageFrame::spatFrame(_) => "SPAT",
                    $module::msg_frame::MessageFrame::rsiFrame(_) => "RSI",
                    #[allow(unreachable_patterns)]
                    _ => "msgFrameExt",
                }
            };
        }
        match self {
            Self::Y2019(frame) => root!(frame, v2019),
            #[cfg(feature = "csae-2020")]
            Self::Y2020(frame) => root!(frame, v2020),
            #[cfg(feature = "csae-2020")]
            Self::Y2020Ext(ExtMessage::Ssm(_)) => "SSM",
            #[cfg(feature = "csae-2020")]
            Self::Y2020Ext(ExtMessage::Other { ext_message_id, .. }) => {
                ext_message_id::name(*ext_message_id).unwrap_or("msgFrameExt")
            }
        }
    }

    /// The `MessageFrameExt.messageId` of a phase-two message, `None` for phase one.
    pub fn ext_message_id(&self) -> Option<u16> {
        match self {
            #[cfg(feature = "csae-2020")]
            Self::Y2020Ext(ExtMessage::Ssm(_)) => Some(ext_message_id::SSM),
            #[cfg(feature = "csae-2020")]
            Self::Y2020Ext(ExtMessage::Other { ext_message_id, .. }) => Some(*ext_message_id),
            _ => None,
        }
    }

    /// Whether pitsense decodes the message's contents (false for phase-two messages other
    /// than SSM, kept as octets).
    pub fn is_supported(&self) -> bool {
        match self {
            #[cfg(feature = "csae-2020")]
            Self::Y2020Ext(ExtMessage::Other { .. }) => false,
            _ => true,
        }
    }

    /// The message as X.697 JER-style JSON with the ASN.1 field names (CHOICE as
    /// `{"alternative": value}`, ENUMERATED as its identifier, OCTET STRING as lower-case hex,
    /// a fixed-size BIT STRING as hex, a variable-size one as `{"value": hex, "length": bits}`):
    /// the `MessageFrame` CHOICE for phase one, and for `msgFrameExt` the frame with the
    /// decoded value in place of the open type (`{"msgFrameExt": {"messageId": 12, "value":
    /// {"SensorSharingMsg": {...}}}}`).
    ///
    /// # Errors
    /// [`CsaeError::Encode`] when a value is outside what JER can carry (not for decoded input).
    pub fn raw_json(&self) -> Result<serde_json::Value, CsaeError> {
        match self {
            Self::Y2019(frame) => jer_value("MessageFrame", frame),
            #[cfg(feature = "csae-2020")]
            Self::Y2020(frame) => jer_value("MessageFrame", frame),
            #[cfg(feature = "csae-2020")]
            Self::Y2020Ext(ext) => {
                let (id, value) = match ext {
                    ExtMessage::Ssm(ssm) => (
                        ext_message_id::SSM,
                        serde_json::json!({ "SensorSharingMsg": jer_value("SensorSharingMsg", ssm)? }),
                    ),
                    ExtMessage::Other { ext_message_id, value } => {
                        (*ext_message_id, serde_json::Value::String(crate::view::hex(value)))
                    }
                };
                Ok(serde_json::json!({ "msgFrameExt": { "messageId": id, "value": value } }))
            }
        }
    }
}

/// JER JSON of a value, hex in lower case (see [`CsaeMessage::raw_json`]).
fn jer_value<T: Encode>(what: &'static str, value: &T) -> Result<serde_json::Value, CsaeError> {
    let text =
        rasn::jer::encode(value).map_err(|error| CsaeError::Encode { what, reason: error.to_string() })?;
    let mut json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| CsaeError::Encode { what, reason: format!("JER output is not JSON: {error}") })?;
    lower_hex(&mut json);
    Ok(json)
}

/// rasn writes OCTET and BIT STRING hex in upper case; pitsense prints lower case. Only strings
/// made of digits and `A`-`F` change; ENUMERATED identifiers start with a lower-case letter.
fn lower_hex(json: &mut serde_json::Value) {
    match json {
        serde_json::Value::String(text)
            if text.bytes().all(|byte| byte.is_ascii_digit() || (b'A'..=b'F').contains(&byte)) =>
        {
            text.make_ascii_lowercase();
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(lower_hex),
        serde_json::Value::Object(map) => map.values_mut().for_each(lower_hex),
        _ => {}
    }
}

/// Checks that a standard/edition pair exists and is built.
///
/// # Errors
/// [`CsaeError::EditionNotDefined`] for T/CSAE 157 with 2019, [`CsaeError::EditionNotBuilt`]
/// for 2020 without the `csae-2020` feature.
pub fn check_edition(standard: CsaeStandard, edition: Edition) -> Result<(), CsaeError> {
    if standard == CsaeStandard::Csae157 && edition == Edition::Y2019 {
        return Err(CsaeError::EditionNotDefined { standard, edition });
    }
    if !edition.is_built() {
        return Err(CsaeError::EditionNotBuilt { edition });
    }
    Ok(())
}

/// Decodes one UPER CSAE `MessageFrame` at the start of `input` with exactly the given standard
/// and edition, and returns it with the octets it occupies (frames are padded to an octet).
///
/// # Errors
/// [`CsaeError::EditionNotDefined`] / [`CsaeError::EditionNotBuilt`] for a pair that cannot be
/// decoded here; [`CsaeError::ExtensionNotDefined`] when the frame selects an extension
/// alternative under T/CSAE 53 or the 2019 release; [`CsaeError::Frame`] when the UPER does
/// not decode (truncated, out of range, trailing alternative index...);
/// [`CsaeError::ExtensionValue`] when an SSM value is malformed. Offsets are 0-based in `input`.
pub fn decode_frame(
    input: &[u8],
    standard: CsaeStandard,
    edition: Edition,
) -> Result<(CsaeMessage, usize), CsaeError> {
    check_edition(standard, edition)?;
    let frame_error = |reason: String| CsaeError::Frame { standard, edition, offset_bytes: 0, reason };
    let Some(first) = input.first() else {
        return Err(frame_error("no bytes".into()));
    };
    let extension = first & 0x80 != 0;
    if extension && (standard == CsaeStandard::Csae53 || edition == Edition::Y2019) {
        return Err(CsaeError::ExtensionNotDefined { standard, edition, offset_bytes: 0 });
    }
    match edition {
        Edition::Y2019 => {
            let (frame, rest) = rasn::uper::decode_with_remainder::<v2019::msg_frame::MessageFrame>(input)
                .map_err(|error| frame_error(error.to_string()))?;
            Ok((CsaeMessage::Y2019(frame), input.len().saturating_sub(rest.len())))
        }
        #[cfg(feature = "csae-2020")]
        Edition::Y2020 => {
            let (frame, rest) = rasn::uper::decode_with_remainder::<v2020::msg_frame::MessageFrame>(input)
                .map_err(|error| frame_error(error.to_string()))?;
            let consumed = input.len().saturating_sub(rest.len());
            let message = match frame {
                v2020::msg_frame::MessageFrame::msgFrameExt(ext) => {
                    let ext_id = ext.message_id.0;
                    let value = ext.value.as_bytes();
                    CsaeMessage::Y2020Ext(match ext_id {
                        ext_message_id::SSM => ExtMessage::Ssm(
                            rasn::uper::decode::<v2020::sensor_sharing::SensorSharingMsg>(value).map_err(
                                |error| CsaeError::ExtensionValue {
                                    ext_message_id: ext_id,
                                    offset_bytes: 0,
                                    reason: error.to_string(),
                                },
                            )?,
                        ),
                        _ => ExtMessage::Other { ext_message_id: ext_id, value: value.to_vec() },
                    })
                }
                root => CsaeMessage::Y2020(root),
            };
            Ok((message, consumed))
        }
        #[cfg(not(feature = "csae-2020"))]
        Edition::Y2020 => Err(CsaeError::EditionNotBuilt { edition }),
    }
}

/// Encodes a message as a UPER CSAE `MessageFrame` of its edition (the inverse of
/// [`decode_frame`]; canonical UPER, so re-encoding a canonical input gives the same octets).
///
/// # Errors
/// [`CsaeError::Encode`] when a field is outside its constraint.
pub fn encode_frame(message: &CsaeMessage) -> Result<Vec<u8>, CsaeError> {
    fn encode<T: Encode>(what: &'static str, value: &T) -> Result<Vec<u8>, CsaeError> {
        rasn::uper::encode(value).map_err(|error| CsaeError::Encode { what, reason: error.to_string() })
    }
    match message {
        CsaeMessage::Y2019(frame) => encode("MessageFrame", frame),
        #[cfg(feature = "csae-2020")]
        CsaeMessage::Y2020(frame) => encode("MessageFrame", frame),
        #[cfg(feature = "csae-2020")]
        CsaeMessage::Y2020Ext(ext) => {
            let (id, value) = match ext {
                ExtMessage::Ssm(ssm) => (ext_message_id::SSM, encode("SensorSharingMsg", ssm)?),
                ExtMessage::Other { ext_message_id, value } => (*ext_message_id, value.clone()),
            };
            let frame = v2020::msg_frame::MessageFrame::msgFrameExt(v2020::msg_day_ii::MessageFrameExt::new(
                v2020::msg_day_ii::ExtMsgID(id),
                Any::new(value),
            ));
            encode("MessageFrame", &frame)
        }
    }
}

/// One CSAE `MessageFrame` found in a buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct CsaeDecodedFrame {
    /// Offset of the frame's first octet in the buffer given to the decoder, bytes.
    pub offset_bytes: usize,
    /// Octets the frame occupies, bytes.
    pub length_bytes: usize,
    /// The standard the frame was read as.
    pub standard: CsaeStandard,
    /// The edition of the modules used.
    pub edition: Edition,
    /// The message.
    pub message: CsaeMessage,
}

/// What [`decode_frames`] found in a buffer of concatenated CSAE frames.
#[derive(Clone, Debug, PartialEq)]
pub struct CsaeFrameSequence {
    /// The frames, in order.
    pub frames: Vec<CsaeDecodedFrame>,
    /// Octets after the last frame that are not a decodable frame, with the reason.
    pub trailing: Option<crate::j2735::TrailingBytes>,
}

/// Decodes concatenated UPER CSAE `MessageFrame`s (a CHOICE carries no length, so a frame that
/// fails ends the sequence) until the buffer ends, a frame fails, or `max_frames` were decoded.
/// At most two trailing zero octets are accepted silently as padding.
///
/// # Errors
/// As [`decode_frame`] when not even the first frame decodes.
pub fn decode_frames(
    input: &[u8],
    standard: CsaeStandard,
    edition: Edition,
    max_frames: usize,
) -> Result<CsaeFrameSequence, CsaeError> {
    check_edition(standard, edition)?;
    let mut frames = Vec::new();
    let mut offset = 0usize;
    let mut trailing = None;
    while let Some(rest) = input.get(offset..) {
        if rest.is_empty() || (rest.len() < 3 && rest.iter().all(|&byte| byte == 0) && !frames.is_empty()) {
            break;
        }
        if frames.len() >= max_frames {
            trailing = Some(crate::j2735::TrailingBytes {
                offset_bytes: offset,
                length_bytes: rest.len(),
                reason: format!("frame limit of {max_frames} reached"),
            });
            break;
        }
        match decode_frame(rest, standard, edition) {
            Ok((message, length)) if length > 0 => {
                frames.push(CsaeDecodedFrame {
                    offset_bytes: offset,
                    length_bytes: length,
                    standard,
                    edition,
                    message,
                });
                offset += length;
            }
            Ok(_) => break,
            Err(error) if frames.is_empty() => return Err(error.at_offset(offset)),
            Err(error) => {
                trailing = Some(crate::j2735::TrailingBytes {
                    offset_bytes: offset,
                    length_bytes: rest.len(),
                    reason: error.at_offset(offset).to_string(),
                });
                break;
            }
        }
    }
    Ok(CsaeFrameSequence { frames, trailing })
}
