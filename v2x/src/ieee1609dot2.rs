//! IEEE 1609.2 `Ieee1609Dot2Data` envelopes (IEEE Std 1609.2-2022 clause 6.3), as RSUs and
//! OBUs send J2735 messages: unwrapped to the `MessageFrame` octets they carry.
//!
//! 1609.2 structures are encoded with the canonical Octet Encoding Rules (COER, ITU-T X.696 /
//! ISO/IEC 8825-7). The prefix this module reads:
//!
//! ```text
//! Ieee1609Dot2Data ::= SEQUENCE { protocolVersion Uint8(3), content Ieee1609Dot2Content }
//!   03                protocolVersion = 3
//!   80 | 81 | 82 | 83 content CHOICE tag (X.696 §20: class bits 10 = context, tag number):
//!                     80 unsecuredData, 81 signedData, 82 encryptedData,
//!                     83 signedCertificateRequest (84, an extension addition, is refused)
//! unsecuredData  Opaque ::= OCTET STRING
//!   L...              length determinant (X.696 §8.6): one octet 0..=127 (short form), or
//!                     0x80|n followed by n octets of big-endian length (long form)
//!   <L octets>        the payload: here a UPER MessageFrame
//! signedData     SignedData ::= SEQUENCE { hashId, tbsData, signer, signature }
//!   00 | 01 | 02      hashId ENUMERATED (sha256, ..., sha384, sm3), one octet (X.696 §11)
//!   p                 SignedDataPayload preamble: bit 7 extension present, bit 6 `data`
//!                     present, bit 5 `extDataHash` present, bits 4..0 zero
//!   03 80 L <L octets> `data`: an Ieee1609Dot2Data again, normally unsecuredData
//!   ...               headerInfo, signer, signature: not parsed (no verification yet)
//! ```
//!
//! So the common RSU header `03 81 00 40 03 80 <len>` is a signedData envelope (SHA-256,
//! `data` present) around unsecured data. Signatures are not verified: such content is
//! reported as [`Security::SignedNotVerified`].
//!
//! Truncated envelopes (the declared payload length runs past the end of the buffer) are
//! reported with both lengths and the payload bytes that are present, so that the caller can
//! still decode a `MessageFrame` that is complete inside them. Nothing is read past the
//! buffer.

use serde::Serialize;

use crate::V2xError;

/// The only `protocolVersion` IEEE 1609.2 defines.
pub const PROTOCOL_VERSION: u8 = 3;

/// Depth limit for `signedData` nested in `signedData`.
const MAX_NESTING: usize = 4;

/// How the payload was protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// `unsecuredData` only: nothing to verify.
    Unsecured,
    /// `signedData` around the payload; the signature was not verified (pitsense has no
    /// certificate store yet), so the content must be treated as unauthenticated.
    SignedNotVerified,
}

/// The `hashId` of a `signedData` envelope (IEEE 1609.2 clause 6.3.5 `HashAlgorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAlgorithm {
    /// `sha256` (0).
    Sha256,
    /// `sha384` (1, extension addition).
    Sha384,
    /// `sm3` (2, extension addition).
    Sm3,
}

/// The payload length the envelope declares against the bytes that are present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Truncation {
    /// Length of the `unsecuredData` octet string as declared by its length determinant, bytes.
    pub declared_bytes: usize,
    /// Bytes of it present in the buffer, bytes (less than `declared_bytes`).
    pub present_bytes: usize,
}

/// An unwrapped `Ieee1609Dot2Data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// How the payload was protected.
    pub security: Security,
    /// For `signedData`, its hash algorithm.
    pub hash_algorithm: Option<HashAlgorithm>,
    /// The `unsecuredData` octets present in the buffer (all of them unless truncated).
    pub payload: &'a [u8],
    /// Offset of the payload's first octet in the buffer, bytes.
    pub payload_offset_bytes: usize,
    /// Octets after the payload (for signedData: headerInfo, signer, signature), bytes.
    pub trailing_bytes: usize,
    /// Set when the declared payload runs past the end of the buffer.
    pub truncated: Option<Truncation>,
}

/// Whether `input` starts like a COER `Ieee1609Dot2Data` (version 3 and a content tag
/// `0x80..=0x84`). A J2735 `MessageFrame` never does: its first octet is 0x00 for every
/// defined messageId (below 256).
pub fn looks_like_ieee1609dot2(input: &[u8]) -> bool {
    matches!(input, [PROTOCOL_VERSION, 0x80..=0x84, ..])
}

/// Unwraps a COER `Ieee1609Dot2Data` at the start of `input` down to its unsecured payload.
///
/// # Errors
/// [`V2xError::Ieee1609Dot2`] (with the byte offset) when the version is not 3, the content
/// is encrypted or a certificate request, the length determinant is malformed (zero-octet or
/// over-long long form), a signed envelope carries no `data`, the nesting is deeper than 4,
/// or the buffer ends inside the header.
pub fn unwrap(input: &[u8]) -> Result<Envelope<'_>, V2xError> {
    unwrap_at(input, 0, 0, None)
}

fn error(offset_bytes: usize, reason: impl Into<String>) -> V2xError {
    V2xError::Ieee1609Dot2 { offset_bytes, reason: reason.into() }
}

fn byte_at(input: &[u8], offset: usize, what: &str) -> Result<u8, V2xError> {
    input.get(offset).copied().ok_or_else(|| error(offset, format!("buffer ends before the {what}")))
}

fn unwrap_at(
    input: &[u8],
    start: usize,
    depth: usize,
    hash_algorithm: Option<HashAlgorithm>,
) -> Result<Envelope<'_>, V2xError> {
    if depth > MAX_NESTING {
        return Err(error(start, format!("signedData nested deeper than {MAX_NESTING} levels")));
    }
    let version = byte_at(input, start, "protocolVersion")?;
    if version != PROTOCOL_VERSION {
        return Err(error(start, format!("protocolVersion {version}, only {PROTOCOL_VERSION} is defined")));
    }
    let tag_offset = start + 1;
    match byte_at(input, tag_offset, "content CHOICE tag")? {
        0x80 => {
            let (declared, length_octets) = length_determinant(input, tag_offset + 1)?;
            let payload_offset = tag_offset + 1 + length_octets;
            let available = input.len().saturating_sub(payload_offset);
            let present = declared.min(available);
            let payload = input.get(payload_offset..payload_offset + present).unwrap_or_default();
            let truncated = (declared > available)
                .then_some(Truncation { declared_bytes: declared, present_bytes: present });
            Ok(Envelope {
                security: if depth == 0 { Security::Unsecured } else { Security::SignedNotVerified },
                hash_algorithm,
                payload,
                payload_offset_bytes: payload_offset,
                trailing_bytes: available - present,
                truncated,
            })
        }
        0x81 => {
            let hash_offset = tag_offset + 1;
            let hash = match byte_at(input, hash_offset, "signedData hashId")? {
                0 => HashAlgorithm::Sha256,
                1 => HashAlgorithm::Sha384,
                2 => HashAlgorithm::Sm3,
                other => return Err(error(hash_offset, format!("signedData hashId {other} is not defined"))),
            };
            let preamble_offset = hash_offset + 1;
            let preamble = byte_at(input, preamble_offset, "SignedDataPayload preamble")?;
            if preamble & 0x1F != 0 {
                return Err(error(
                    preamble_offset,
                    format!("SignedDataPayload preamble {preamble:#04x} has unused bits set"),
                ));
            }
            if preamble & 0x40 == 0 {
                return Err(error(
                    preamble_offset,
                    "signedData carries no data (external data hash only): nothing to decode",
                ));
            }
            unwrap_at(input, preamble_offset + 1, depth + 1, Some(hash))
        }
        0x82 => Err(error(tag_offset, "encryptedData: pitsense holds no decryption keys")),
        0x83 => Err(error(tag_offset, "signedCertificateRequest: not a message")),
        0x84 => Err(error(tag_offset, "signedX509CertificateRequest: not a message")),
        other => Err(error(tag_offset, format!("content CHOICE tag {other:#04x} is not defined"))),
    }
}

/// Reads an OER length determinant (ITU-T X.696 §8.6) at `offset`: returns the length and the
/// number of octets the determinant used.
///
/// # Errors
/// [`V2xError::Ieee1609Dot2`] for a long form with zero length octets or more than 4 (a
/// length over 4 GiB cannot describe a real payload), or when the buffer ends inside it.
pub fn length_determinant(input: &[u8], offset: usize) -> Result<(usize, usize), V2xError> {
    let first = byte_at(input, offset, "length determinant")?;
    if first & 0x80 == 0 {
        return Ok((usize::from(first), 1));
    }
    let count = usize::from(first & 0x7F);
    if count == 0 || count > 4 {
        return Err(error(
            offset,
            format!("long-form length determinant with {count} length octets (1..=4 accepted)"),
        ));
    }
    let mut length = 0usize;
    for index in 0..count {
        length = (length << 8) | usize::from(byte_at(input, offset + 1 + index, "long-form length octets")?);
    }
    Ok((length, 1 + count))
}

/// Wraps `payload` in a COER `Ieee1609Dot2Data` with `unsecuredData` content (for tests and
/// replay tools): `03 80` followed by the length determinant (short form up to 127 octets,
/// long form above) and the payload.
pub fn wrap_unsecured(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&[PROTOCOL_VERSION, 0x80]);
    push_length_determinant(&mut out, payload.len());
    out.extend_from_slice(payload);
    out
}

/// Appends an OER length determinant (ITU-T X.696 §8.6, canonical: the short form for
/// lengths up to 127, else the long form with the fewest octets).
pub fn push_length_determinant(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = length.to_be_bytes();
    let skip = bytes.iter().take_while(|&&byte| byte == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_length_forms() {
        assert_eq!(length_determinant(&[0x05], 0).unwrap(), (5, 1));
        assert_eq!(length_determinant(&[0x7F], 0).unwrap(), (127, 1));
        assert_eq!(length_determinant(&[0x81, 0xB1], 0).unwrap(), (177, 2));
        assert_eq!(length_determinant(&[0x82, 0x01, 0x00], 0).unwrap(), (256, 3));
        assert!(length_determinant(&[0x80], 0).is_err());
        assert!(length_determinant(&[0x85, 1, 2, 3, 4, 5], 0).is_err());
        assert!(length_determinant(&[0x82, 0x01], 0).is_err());
        assert!(length_determinant(&[], 0).is_err());
    }

    #[test]
    fn wrap_then_unwrap() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let payload: Vec<u8> = (0..len).map(|index| index as u8).collect();
            let wrapped = wrap_unsecured(&payload);
            let envelope = unwrap(&wrapped).unwrap();
            assert_eq!(envelope.payload, payload.as_slice());
            assert_eq!(envelope.security, Security::Unsecured);
            assert_eq!(envelope.truncated, None);
            assert_eq!(envelope.trailing_bytes, 0);
        }
    }

    #[test]
    fn signed_data_with_long_form_and_truncation() {
        // signedData, sha256, data present, unsecuredData of 200 declared octets, 10 present.
        let mut input = vec![3, 0x81, 0x00, 0x40, 3, 0x80, 0x81, 200];
        input.extend_from_slice(&[0xAA; 10]);
        let envelope = unwrap(&input).unwrap();
        assert_eq!(envelope.security, Security::SignedNotVerified);
        assert_eq!(envelope.hash_algorithm, Some(HashAlgorithm::Sha256));
        assert_eq!(envelope.payload, &[0xAA; 10]);
        assert_eq!(envelope.payload_offset_bytes, 8);
        assert_eq!(envelope.truncated, Some(Truncation { declared_bytes: 200, present_bytes: 10 }));
    }

    #[test]
    fn refuses_what_it_cannot_unwrap() {
        assert!(unwrap(&[2, 0x80, 0]).is_err());
        assert!(unwrap(&[3, 0x82, 0]).is_err());
        assert!(unwrap(&[3, 0x81, 0x00, 0x20]).is_err());
        assert!(unwrap(&[3, 0x81, 0x07, 0x40]).is_err());
        assert!(unwrap(&[3]).is_err());
        let mut nested = Vec::new();
        for _ in 0..10 {
            nested.extend_from_slice(&[3, 0x81, 0x00, 0x40]);
        }
        nested.extend_from_slice(&[3, 0x80, 0]);
        assert!(unwrap(&nested).is_err());
    }
}
