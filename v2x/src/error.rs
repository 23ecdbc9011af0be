//! The crate's error type.

/// Why a V2X input could not be decoded, encoded or configured.
///
/// Every variant names the input (which structure, at which byte offset of the buffer the
/// decoder was given) and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum V2xError {
    /// The buffer was empty.
    #[error("V2X input: empty buffer")]
    EmptyInput,
    /// The buffer is longer than the configured maximum; nothing was decoded.
    #[error("V2X input: {length_bytes} bytes exceed the configured maximum of {max_bytes} bytes")]
    InputTooLong {
        /// Length of the input, bytes.
        length_bytes: usize,
        /// Configured maximum (`DecodeConfig::max_input_bytes`), bytes.
        max_bytes: usize,
    },
    /// Hex text that is not an even number of hex digits.
    #[error("hex text at character {offset_chars}: {reason}")]
    InvalidHex {
        /// Offset of the offending character in the text (after an optional `0x`).
        offset_chars: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A SAE J2735 `MessageFrame` envelope (id, open-type length) that does not decode.
    #[error("UPER MessageFrame at byte {offset_bytes}: {reason}")]
    MessageFrame {
        /// Offset of the frame in the buffer, bytes.
        offset_bytes: usize,
        /// The UPER decoder's reason.
        reason: String,
    },
    /// The value of a supported message that does not decode.
    #[error("UPER {message} (messageId {message_id}) in the frame at byte {offset_bytes}: {reason}")]
    Message {
        /// Short name of the message (`"BSM"`, `"SDSM"`...).
        message: &'static str,
        /// The frame's `messageId`.
        message_id: u16,
        /// Offset of the frame in the buffer, bytes.
        offset_bytes: usize,
        /// The UPER decoder's reason.
        reason: String,
    },
    /// An IEEE 1609.2 `Ieee1609Dot2Data` (OER) that does not decode.
    #[error("IEEE 1609.2 Ieee1609Dot2Data at byte {offset_bytes}: {reason}")]
    Ieee1609Dot2 {
        /// Offset of the offending octet in the buffer, bytes.
        offset_bytes: usize,
        /// What was wrong.
        reason: String,
    },
    /// A China CSAE input (T/CSAE 53 / 157) that does not decode or encode.
    #[error(transparent)]
    Csae(#[from] crate::csae::CsaeError),
    /// An ETSI ITS PDU (CAM, CPM) that does not decode or encode.
    #[error(transparent)]
    Etsi(#[from] crate::etsi::EtsiError),
    /// A standard the decoding entry point cannot decode yet.
    #[error("V2X standard {standard}: {reason}")]
    UnsupportedStandard {
        /// The standard asked for (`etsi`...).
        standard: &'static str,
        /// Why, and what to use instead.
        reason: &'static str,
    },
    /// A message that cannot be encoded (a field outside its constraint).
    #[error("UPER encoding of {what}: {reason}")]
    Encode {
        /// The ASN.1 type being encoded.
        what: &'static str,
        /// The encoder's reason.
        reason: String,
    },
}

impl V2xError {
    /// The same error with `base` added to its byte offset (for errors found in a slice of a
    /// larger buffer).
    pub fn at_offset(self, base: usize) -> Self {
        match self {
            Self::MessageFrame { offset_bytes, reason } => {
                Self::MessageFrame { offset_bytes: offset_bytes + base, reason }
            }
            Self::Message { message, message_id, offset_bytes, reason } => {
                Self::Message { message, message_id, offset_bytes: offset_bytes + base, reason }
            }
            Self::Ieee1609Dot2 { offset_bytes, reason } => {
                Self::Ieee1609Dot2 { offset_bytes: offset_bytes + base, reason }
            }
            Self::Csae(error) => Self::Csae(error.at_offset(base)),
            other => other,
        }
    }
}
