//! One entry point for any V2X capture: raw UPER (one or many concatenated `MessageFrame`s),
//! hex text of it, or an IEEE 1609.2 envelope around it. [`decode_input`] reads SAE J2735;
//! [`decode_any`] also reads China CSAE (T/CSAE 53 / 157) frames and RSU uplink frames, and
//! reports the standard and edition of each message ([`FormatConfig`] says how it chooses).
//!
//! Detection, in order: text made only of hex digits and whitespace (an optional `0x` prefix
//! allowed) is hex; bytes starting `03 80..=84` are a COER `Ieee1609Dot2Data`
//! ([`crate::ieee1609dot2`]); anything else is raw UPER frames. A J2735 `MessageFrame` always
//! starts with octet 0x00 (messageId < 256), which is neither a hex digit nor 0x03.

use serde::{Deserialize, Serialize};

use crate::V2xError;
use crate::csae::uplink::{UplinkFrame, UplinkLayout, read_uplink};
use crate::csae::{self, CsaeDecodedFrame, CsaeStandard, Edition};
use crate::ieee1609dot2::{self, Security, Truncation};
use crate::j2735::{self, DecodedFrame, TrailingBytes};

/// Limits of the input decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// Longest input accepted, bytes (hex text counts its characters). Longer inputs are
    /// refused whole with [`V2xError::InputTooLong`]. Default 1 MiB.
    pub max_input_bytes: usize,
    /// Most frames decoded from one input; the rest is reported as trailing bytes. Default
    /// 4096.
    pub max_frames: usize,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self { max_input_bytes: 1 << 20, max_frames: 4096 }
    }
}

/// What an IEEE 1609.2 envelope said about its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EnvelopeReport {
    /// How the payload was protected (signed content is never verified here).
    pub security: Security,
    /// Offset of the MessageFrame octets in the (binary) input, bytes.
    pub payload_offset_bytes: usize,
    /// MessageFrame octets present, bytes.
    pub payload_bytes: usize,
    /// Octets after the payload (signedData headerInfo, signer and signature), bytes.
    pub trailing_bytes: usize,
    /// Set when the envelope declares more payload than the input holds.
    pub truncated: Option<Truncation>,
}

/// Everything decoded from one input.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeReport {
    /// Whether the input was hex text.
    pub hex_text: bool,
    /// The IEEE 1609.2 envelope, when there was one.
    pub envelope: Option<EnvelopeReport>,
    /// The frames, in order; offsets are relative to the frame octets (the envelope's payload,
    /// or the whole binary input).
    pub frames: Vec<DecodedFrame>,
    /// Octets after the last frame that did not decode, with the reason.
    pub trailing: Option<TrailingBytes>,
}

/// Counters of a [`Decoder`], for logs and the receiver's per-source statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecodeStats {
    /// Inputs given to [`Decoder::decode`].
    pub inputs: u64,
    /// Inputs refused whole (too long, empty, bad hex, bad envelope, no frame).
    pub inputs_rejected: u64,
    /// Frames whose envelope decoded.
    pub frames: u64,
    /// Frames of a supported message whose value decoded.
    pub messages_decoded: u64,
    /// Frames with an unsupported messageId.
    pub messages_unsupported: u64,
    /// Frames of a supported message whose value did not decode.
    pub messages_malformed: u64,
    /// Inputs that ended in undecodable trailing bytes.
    pub trailing_reports: u64,
    /// IEEE 1609.2 envelopes with unsecured content.
    pub envelopes_unsecured: u64,
    /// IEEE 1609.2 signedData envelopes (signature not verified).
    pub envelopes_signed_not_verified: u64,
    /// IEEE 1609.2 envelopes whose declared payload ran past the input.
    pub envelopes_truncated: u64,
}

/// A decoder with its limits and counters (the synchronous core the UDP receiver and the
/// CLI share).
#[derive(Clone, Debug)]
pub struct Decoder {
    config: DecodeConfig,
    stats: DecodeStats,
}

impl Decoder {
    /// A decoder with the given limits.
    ///
    /// # Errors
    /// [`pitsense_types::ConfigError`] when a limit is zero.
    pub fn new(config: DecodeConfig) -> Result<Self, pitsense_types::ConfigError> {
        if config.max_input_bytes == 0 {
            return Err(pitsense_types::ConfigError::new("v2x.decode.max_input_bytes", "must be at least 1"));
        }
        if config.max_frames == 0 {
            return Err(pitsense_types::ConfigError::new("v2x.decode.max_frames", "must be at least 1"));
        }
        Ok(Self { config, stats: DecodeStats::default() })
    }

    /// Decodes one input (see [`decode_input`]) and counts what it found.
    ///
    /// # Errors
    /// As [`decode_input`].
    pub fn decode(&mut self, input: &[u8]) -> Result<DecodeReport, V2xError> {
        self.stats.inputs += 1;
        let result = decode_input(input, &self.config);
        match &result {
            Ok(report) => self.count(report),
            Err(_) => self.stats.inputs_rejected += 1,
        }
        result
    }

    /// Decodes one input of any standard (see [`decode_any`] and [`FormatConfig`], one per RSU)
    /// and counts what it found: CSAE frames count as frames and decoded messages (phase-two
    /// messages other than SSM as unsupported), a CSAE trailing report as one.
    ///
    /// # Errors
    /// As [`decode_any`].
    pub fn decode_any(&mut self, input: &[u8], format: &FormatConfig) -> Result<AnyReport, V2xError> {
        self.stats.inputs += 1;
        let result = decode_any(input, &self.config, format);
        match &result {
            Ok(AnyReport::J2735(report)) => self.count(report),
            Ok(AnyReport::Etsi(report)) => {
                self.stats.frames += 1;
                match report.message {
                    crate::etsi::EtsiMessage::Unsupported { .. } => self.stats.messages_unsupported += 1,
                    _ => self.stats.messages_decoded += 1,
                }
                if report.trailing.is_some() {
                    self.stats.trailing_reports += 1;
                }
            }
            Ok(AnyReport::Csae(report)) => {
                for frame in &report.frames {
                    self.stats.frames += 1;
                    if frame.message.is_supported() {
                        self.stats.messages_decoded += 1;
                    } else {
                        self.stats.messages_unsupported += 1;
                    }
                }
                if report.trailing.is_some() {
                    self.stats.trailing_reports += 1;
                }
            }
            Err(_) => self.stats.inputs_rejected += 1,
        }
        result
    }

    fn count(&mut self, report: &DecodeReport) {
        let stats = &mut self.stats;
        if let Some(envelope) = &report.envelope {
            match envelope.security {
                Security::Unsecured => stats.envelopes_unsecured += 1,
                Security::SignedNotVerified => stats.envelopes_signed_not_verified += 1,
            }
            if envelope.truncated.is_some() {
                stats.envelopes_truncated += 1;
            }
        }
        for frame in &report.frames {
            stats.frames += 1;
            match &frame.message {
                Ok(message) if message.is_supported() => stats.messages_decoded += 1,
                Ok(_) => stats.messages_unsupported += 1,
                Err(_) => stats.messages_malformed += 1,
            }
        }
        if report.trailing.is_some() {
            stats.trailing_reports += 1;
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// The limits.
    pub fn config(&self) -> &DecodeConfig {
        &self.config
    }
}

/// Decodes a capture: hex text or binary, raw UPER frames or a 1609.2 envelope.
///
/// # Errors
/// [`V2xError::InputTooLong`] above `config.max_input_bytes`; [`V2xError::EmptyInput`];
/// [`V2xError::InvalidHex`] for hex text with an odd number of digits;
/// [`V2xError::Ieee1609Dot2`] for an envelope that cannot be unwrapped;
/// [`V2xError::MessageFrame`] when not even the first frame's envelope decodes.
pub fn decode_input(input: &[u8], config: &DecodeConfig) -> Result<DecodeReport, V2xError> {
    if input.len() > config.max_input_bytes {
        return Err(V2xError::InputTooLong { length_bytes: input.len(), max_bytes: config.max_input_bytes });
    }
    if input.is_empty() {
        return Err(V2xError::EmptyInput);
    }
    let (hex_text, bytes) = match parse_hex_text(input) {
        Some(bytes) => (true, bytes?),
        None => (false, input.to_vec()),
    };
    decode_binary(&bytes, hex_text, config)
}

/// Decodes binary frame octets (raw UPER or a 1609.2 envelope), as [`decode_input`] does
/// after hex detection.
///
/// # Errors
/// As [`decode_input`], without the hex and size checks.
pub fn decode_binary(bytes: &[u8], hex_text: bool, config: &DecodeConfig) -> Result<DecodeReport, V2xError> {
    if bytes.is_empty() {
        return Err(V2xError::EmptyInput);
    }
    if ieee1609dot2::looks_like_ieee1609dot2(bytes) {
        let envelope = ieee1609dot2::unwrap(bytes)?;
        let report = EnvelopeReport {
            security: envelope.security,
            payload_offset_bytes: envelope.payload_offset_bytes,
            payload_bytes: envelope.payload.len(),
            trailing_bytes: envelope.trailing_bytes,
            truncated: envelope.truncated,
        };
        let sequence = j2735::decode_frames(envelope.payload, config.max_frames)
            .map_err(|error| error.at_offset(envelope.payload_offset_bytes))?;
        return Ok(DecodeReport {
            hex_text,
            envelope: Some(report),
            frames: sequence.frames,
            trailing: sequence.trailing,
        });
    }
    let sequence = j2735::decode_frames(bytes, config.max_frames)?;
    Ok(DecodeReport { hex_text, envelope: None, frames: sequence.frames, trailing: sequence.trailing })
}

/// Which standard [`decode_any`] reads an input as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    /// Decide from the octets, by the rule documented on [`FormatConfig`].
    #[default]
    Auto,
    /// SAE J2735 `MessageFrame` (with J3224 SDSM), bare or in an IEEE 1609.2 envelope.
    J2735,
    /// China T/CSAE 53 phase one (BSM, MAP, RSM, SPAT, RSI; YD/T 3709 is its telecom edition).
    Csae53,
    /// China T/CSAE 157-2020 phase two (SSM... through `msgFrameExt`), with phase one.
    Csae157,
    /// ETSI ITS PDU: CAM (TS 103 900 v2.3.1) or CPM (TS 103 324 v2.1.1), one per input.
    Etsi,
}

impl std::str::FromStr for Standard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "auto" => Self::Auto,
            "j2735" => Self::J2735,
            "csae53" => Self::Csae53,
            "csae157" => Self::Csae157,
            "etsi" => Self::Etsi,
            other => {
                return Err(format!("unknown V2X standard `{other}` (auto, j2735, csae53, csae157, etsi)"));
            }
        })
    }
}

/// How [`decode_any`] picks the standard and edition of an input: set per RSU (one
/// `FormatConfig` per source), since an RSU speaks one standard and edition.
///
/// Rules, in order:
/// 1. `rsu_uplink`: the input is an RSU uplink frame ([`crate::csae::uplink`]), which carries
///    CSAE frames only; `Auto` then reads them as CSAE (step 4).
/// 2. An explicit standard is used as given. For CSAE,
///    `csae_edition` is used exactly: a frame that fails under it is reported, never retried
///    under the other edition. `Csae157` exists only as 2020.
/// 3. `Auto`, J2735 first: an IEEE 1609.2 envelope (`03 80..=84`), or octets that start like a
///    J2735 frame — octet 0x00 (extension bit 0 and messageId < 256), a second octet that is a
///    messageId pitsense knows (18 MAP, 19 SPaT, 20 BSM, 29 SRM, 30 SSM, 31 TIM, 32 PSM, 41
///    SDSM) and an open-type length that fits in the input — are read as J2735.
///    Then ETSI: octets starting with an `ItsPduHeader` of protocolVersion 1 or 2 and
///    messageId 2 (CAM) or 14 (CPM) that decode as that PDU to the last octet
///    ([`looks_like_etsi`]) are read as ETSI.
/// 4. `Auto`, otherwise CSAE, decided per frame by its first bit (the only edition mark on the
///    wire): set = an extension alternative (`msgFrameExt`), which only T/CSAE 157-2020 defines,
///    so `Csae157` 2020; clear = a phase-one root alternative, `Csae53` with `csae_edition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FormatConfig {
    /// The standard (`auto`, `j2735`, `csae53`, `csae157`, `etsi`).
    pub standard: Standard,
    /// Edition of the CSAE phase-one messages (`"2019"` for the module release 2019-07-24, or
    /// `"2020"`, which needs the `csae-2020` feature). Ignored for J2735.
    pub csae_edition: Edition,
    /// Whether inputs are RSU uplink frames (rsuID, timestamp, lengths before the UPER).
    pub rsu_uplink: bool,
}

impl Default for FormatConfig {
    fn default() -> Self {
        Self { standard: Standard::Auto, csae_edition: Edition::Y2019, rsu_uplink: false }
    }
}

/// What [`decode_any`] decoded: J2735 frames or CSAE frames, each tagged with its standard.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyReport {
    /// SAE J2735 frames (as [`decode_input`]).
    J2735(DecodeReport),
    /// China CSAE frames.
    Csae(CsaeReport),
    /// One ETSI ITS PDU.
    Etsi(EtsiReport),
}

/// The ETSI PDU decoded from one input (ETSI messages travel one per GeoNetworking packet).
#[derive(Clone, Debug, PartialEq)]
pub struct EtsiReport {
    /// Whether the input was hex text.
    pub hex_text: bool,
    /// Octets the PDU occupies, bytes (from offset 0).
    pub length_bytes: usize,
    /// The PDU.
    pub message: crate::etsi::EtsiMessage,
    /// Octets after the PDU, reported, not decoded.
    pub trailing: Option<TrailingBytes>,
}

/// Whether octets are an ETSI CAM or CPM (rule 3 of [`FormatConfig`]): `protocolVersion` 1
/// or 2, `messageId` 2 or 14, and the PDU decodes to the last octet.
pub fn looks_like_etsi(bytes: &[u8]) -> bool {
    let [1 | 2, crate::etsi::MESSAGE_ID_CAM | crate::etsi::MESSAGE_ID_CPM, ..] = bytes else {
        return false;
    };
    matches!(crate::etsi::decode_pdu(bytes), Ok((_, consumed)) if consumed == bytes.len())
}

impl AnyReport {
    /// `"j2735"`, `"csae53"` or `"csae157"` (of the first frame for CSAE; each CSAE frame also
    /// carries its own).
    pub fn standard(&self) -> &'static str {
        match self {
            Self::J2735(_) => "j2735",
            Self::Etsi(_) => "etsi",
            Self::Csae(report) => {
                report.frames.first().map_or(CsaeStandard::Csae53, |frame| frame.message.standard()).as_str()
            }
        }
    }
}

/// CSAE frames decoded from one input.
#[derive(Clone, Debug, PartialEq)]
pub struct CsaeReport {
    /// Whether the input was hex text.
    pub hex_text: bool,
    /// The RSU uplink frame header, when the input was one.
    pub uplink: Option<UplinkFrame>,
    /// The frames, in order; offsets are in the (binary) input.
    pub frames: Vec<CsaeDecodedFrame>,
    /// Octets after the last frame (of a payload) that did not decode, with the reason.
    pub trailing: Option<TrailingBytes>,
}

/// Whether octets start like a J2735 `MessageFrame` (rule 3 of [`FormatConfig`]).
pub fn looks_like_j2735(bytes: &[u8]) -> bool {
    let [0x00, id, length, ..] = bytes else { return false };
    if j2735::message_id::name(u16::from(*id)).is_none() {
        return false;
    }
    let (header, value) = if length & 0x80 == 0 {
        (3, usize::from(*length))
    } else {
        let Some(low) = bytes.get(3) else { return false };
        (4, (usize::from(length & 0x3f) << 8) | usize::from(*low))
    };
    value > 0 && header + value <= bytes.len()
}

/// Decodes a capture of any supported standard (see [`FormatConfig`] for how the standard and
/// edition are chosen): hex text or binary; J2735 raw frames or a 1609.2 envelope; CSAE raw
/// frames or RSU uplink frames.
///
/// # Errors
/// As [`decode_input`] for the size, hex and J2735 checks; [`V2xError::Etsi`] when an ETSI
/// PDU does not decode; [`V2xError::Csae`] when the first CSAE frame (or the uplink header) does not
/// decode with the standard and edition chosen, or that edition is not built in.
pub fn decode_any(input: &[u8], config: &DecodeConfig, format: &FormatConfig) -> Result<AnyReport, V2xError> {
    if input.len() > config.max_input_bytes {
        return Err(V2xError::InputTooLong { length_bytes: input.len(), max_bytes: config.max_input_bytes });
    }
    if input.is_empty() {
        return Err(V2xError::EmptyInput);
    }
    let (hex_text, bytes) = match parse_hex_text(input) {
        Some(bytes) => (true, bytes?),
        None => (false, input.to_vec()),
    };
    if bytes.is_empty() {
        return Err(V2xError::EmptyInput);
    }
    let standard = match format.standard {
        Standard::Auto if format.rsu_uplink => Standard::Auto,
        Standard::Auto if ieee1609dot2::looks_like_ieee1609dot2(&bytes) || looks_like_j2735(&bytes) => {
            Standard::J2735
        }
        Standard::Auto if looks_like_etsi(&bytes) => Standard::Etsi,
        other => other,
    };
    if standard == Standard::Etsi {
        if format.rsu_uplink {
            return Err(V2xError::UnsupportedStandard {
                standard: "etsi",
                reason: "RSU uplink frames carry CSAE MessageFrames only",
            });
        }
        let (message, length_bytes) = crate::etsi::decode_pdu(&bytes)?;
        let trailing = (length_bytes < bytes.len()).then(|| TrailingBytes {
            offset_bytes: length_bytes,
            length_bytes: bytes.len() - length_bytes,
            reason: "octets after the ETSI PDU (one PDU per input)".into(),
        });
        return Ok(AnyReport::Etsi(EtsiReport { hex_text, length_bytes, message, trailing }));
    }
    if standard == Standard::J2735 {
        if format.rsu_uplink {
            return Err(V2xError::UnsupportedStandard {
                standard: "j2735",
                reason: "RSU uplink frames carry CSAE MessageFrames only",
            });
        }
        return decode_binary(&bytes, hex_text, config).map(AnyReport::J2735);
    }
    let uplink = if format.rsu_uplink { Some(read_uplink(&bytes, UplinkLayout::Auto)?) } else { None };
    let payloads: Vec<(usize, &[u8])> = match &uplink {
        Some(uplink) => uplink
            .payloads
            .iter()
            .filter_map(|payload| {
                bytes
                    .get(payload.offset_bytes..payload.offset_bytes + payload.length_bytes)
                    .map(|slice| (payload.offset_bytes, slice))
            })
            .collect(),
        None => vec![(0, bytes.as_slice())],
    };
    let mut frames = Vec::new();
    let mut trailing = None;
    for (base, payload) in payloads {
        let remaining = config.max_frames.saturating_sub(frames.len()).max(1);
        let (csae_standard, edition) = csae_format(standard, format.csae_edition, payload);
        let sequence = match csae::decode_frames(payload, csae_standard, edition, remaining) {
            Ok(sequence) => sequence,
            Err(error) if frames.is_empty() => return Err(V2xError::Csae(error.at_offset(base))),
            Err(error) => {
                trailing.get_or_insert(TrailingBytes {
                    offset_bytes: base,
                    length_bytes: payload.len(),
                    reason: error.at_offset(base).to_string(),
                });
                continue;
            }
        };
        frames.extend(sequence.frames.into_iter().map(|mut frame| {
            frame.offset_bytes += base;
            frame
        }));
        if let Some(mut rest) = sequence.trailing {
            rest.offset_bytes += base;
            trailing.get_or_insert(rest);
        }
    }
    Ok(AnyReport::Csae(CsaeReport { hex_text, uplink, frames, trailing }))
}

/// The CSAE standard and edition for a frame under `standard` (rule 4 of [`FormatConfig`] for
/// `Auto`).
fn csae_format(standard: Standard, edition: Edition, frame: &[u8]) -> (CsaeStandard, Edition) {
    match standard {
        Standard::Csae157 => (CsaeStandard::Csae157, edition),
        Standard::Auto if frame.first().is_some_and(|first| first & 0x80 != 0) => {
            (CsaeStandard::Csae157, Edition::Y2020)
        }
        _ => (CsaeStandard::Csae53, edition),
    }
}

/// Parses hex text: `None` when `input` is not hex text (contains anything but hex digits,
/// ASCII whitespace and an optional leading `0x`), else the bytes or why they are malformed.
pub fn parse_hex_text(input: &[u8]) -> Option<Result<Vec<u8>, V2xError>> {
    let trimmed = input.trim_ascii_start();
    let (body, prefix_len) = match trimmed {
        [b'0', b'x' | b'X', rest @ ..] => (rest, input.len() - trimmed.len() + 2),
        _ => (trimmed, input.len() - trimmed.len()),
    };
    if body.iter().any(|byte| !(byte.is_ascii_hexdigit() || byte.is_ascii_whitespace())) {
        return None;
    }
    if !body.iter().any(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut bytes = Vec::with_capacity(body.len() / 2);
    let mut high: Option<(usize, u8)> = None;
    for (index, &character) in body.iter().enumerate() {
        let Some(nibble) = (character as char).to_digit(16) else { continue };
        let nibble = nibble as u8;
        match high.take() {
            None => high = Some((index, nibble)),
            Some((_, high_nibble)) => bytes.push((high_nibble << 4) | nibble),
        }
    }
    if let Some((index, _)) = high {
        return Some(Err(V2xError::InvalidHex {
            offset_chars: prefix_len + index,
            reason: "odd number of hex digits: the last one has no partner",
        }));
    }
    Some(Ok(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_detection() {
        assert_eq!(parse_hex_text(b"0x00 14\n80").unwrap().unwrap(), vec![0x00, 0x14, 0x80]);
        assert_eq!(parse_hex_text(b"  ab CD  ").unwrap().unwrap(), vec![0xAB, 0xCD]);
        assert!(parse_hex_text(b"abc").unwrap().is_err());
        assert!(parse_hex_text(&[0x00, 0x14]).is_none());
        assert!(parse_hex_text(b"   ").is_none());
        assert!(parse_hex_text(b"hello").is_none());
    }

    #[test]
    fn limits() {
        let config = DecodeConfig { max_input_bytes: 4, max_frames: 1 };
        assert!(matches!(decode_input(&[0; 5], &config), Err(V2xError::InputTooLong { .. })));
        assert!(matches!(decode_input(&[], &config), Err(V2xError::EmptyInput)));
    }
}
