//! One entry point for any V2X capture: raw UPER (one or many concatenated `MessageFrame`s),
//! hex text of it, or an IEEE 1609.2 envelope around it.
//!
//! Detection, in order: text made only of hex digits and whitespace (an optional `0x` prefix
//! allowed) is hex; bytes starting `03 80..=84` are a COER `Ieee1609Dot2Data`
//! ([`crate::ieee1609dot2`]); anything else is raw UPER frames. A J2735 `MessageFrame` always
//! starts with octet 0x00 (messageId < 256), which is neither a hex digit nor 0x03.

use serde::{Deserialize, Serialize};

use crate::V2xError;
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
