//! Fuzz entry points, one per top-level decoder: shared by the cargo-fuzz targets in
//! `v2x/fuzz/` and the seeded mutation test that runs on stable Rust (`tests/fuzz_smoke.rs`).
//!
//! Each function takes arbitrary bytes, must never panic, and checks the decoder's own
//! invariants (reported frames lie inside the input; what decodes re-encodes and decodes to
//! the same value). An invariant violation panics, which is what a fuzzer reports.

use crate::decode::{DecodeConfig, decode_input};
use crate::ieee1609dot2;
use crate::j2735::{self, J2735Message};

/// Limits used by the fuzz entry points: small, so that the over-long path is exercised too.
pub const FUZZ_CONFIG: DecodeConfig = DecodeConfig { max_input_bytes: 4096, max_frames: 64 };

/// [`crate::decode_input`] on arbitrary bytes (hex text, 1609.2 or raw frames).
pub fn fuzz_decode_input(data: &[u8]) {
    let Ok(report) = decode_input(data, &FUZZ_CONFIG) else { return };
    assert!(report.frames.len() <= FUZZ_CONFIG.max_frames, "more frames than the limit");
    let mut end = 0;
    for frame in &report.frames {
        assert!(frame.offset_bytes >= end, "frames overlap");
        end = frame.offset_bytes + frame.length_bytes;
        if let Ok(message) = &frame.message {
            check_round_trip(message);
        }
    }
    if !report.hex_text {
        let available = match &report.envelope {
            Some(envelope) => envelope.payload_bytes,
            None => data.len(),
        };
        assert!(end <= available, "a frame ends past the bytes present");
        if let Some(envelope) = &report.envelope {
            assert!(
                envelope.payload_offset_bytes + envelope.payload_bytes <= data.len(),
                "payload past the input"
            );
        }
    }
    // The JSON view never fails either.
    for view in crate::view::report_views(&report) {
        let _ = serde_json::to_string(&view);
    }
}

/// [`j2735::decode_frame`] on arbitrary bytes.
pub fn fuzz_decode_frame(data: &[u8]) {
    let Some(data) = data.get(..data.len().min(FUZZ_CONFIG.max_input_bytes)) else { return };
    if let Ok((message, length)) = j2735::decode_frame(data) {
        assert!(length <= data.len(), "frame longer than its input");
        check_round_trip(&message);
    }
}

/// [`ieee1609dot2::unwrap`] on arbitrary bytes.
pub fn fuzz_unwrap_ieee1609dot2(data: &[u8]) {
    if let Ok(envelope) = ieee1609dot2::unwrap(data) {
        let end = envelope.payload_offset_bytes + envelope.payload.len();
        assert!(end <= data.len(), "payload past the buffer");
        assert_eq!(end + envelope.trailing_bytes, data.len(), "payload and trailing do not cover the buffer");
        if let Some(truncation) = envelope.truncated {
            assert!(truncation.present_bytes < truncation.declared_bytes);
            assert_eq!(envelope.trailing_bytes, 0);
        }
    }
}

/// Decodes the value of each supported message id from arbitrary bytes (the UPER message
/// decoders without the frame around them).
pub fn fuzz_decode_values(data: &[u8]) {
    let Some(data) = data.get(..data.len().min(FUZZ_CONFIG.max_input_bytes)) else { return };
    for message_id in [
        j2735::message_id::BSM,
        j2735::message_id::MAP,
        j2735::message_id::SPAT,
        j2735::message_id::PSM,
        j2735::message_id::SDSM,
    ] {
        if let Ok(message) = j2735::decode_value(message_id, data) {
            check_round_trip(&message);
        }
    }
}

/// A decoded message encodes, and the encoding decodes to the same message.
fn check_round_trip(message: &J2735Message) {
    let encoded = match j2735::encode_frame(message) {
        Ok(encoded) => encoded,
        Err(error) => panic!("a decoded message does not re-encode: {error}"),
    };
    match j2735::decode_frame(&encoded) {
        Ok((decoded, length)) => {
            assert_eq!(length, encoded.len(), "re-encoded frame length");
            assert_eq!(&decoded, message, "decode(encode(m)) != m");
        }
        Err(error) => panic!("a re-encoded message does not decode: {error}"),
    }
}

/// The CSAE frame decoder ([`crate::csae::decode_frame`]) on arbitrary bytes, with every
/// standard and edition this build has: what decodes lies inside the input, re-encodes, and the
/// encoding decodes to the same message; its JER view serialises.
pub fn fuzz_decode_csae(data: &[u8]) {
    use crate::csae::{CsaeStandard, Edition, decode_frame, encode_frame};
    let Some(data) = data.get(..data.len().min(FUZZ_CONFIG.max_input_bytes)) else { return };
    for (standard, edition) in [
        (CsaeStandard::Csae53, Edition::Y2019),
        (CsaeStandard::Csae53, Edition::Y2020),
        (CsaeStandard::Csae157, Edition::Y2020),
    ] {
        let Ok((message, length)) = decode_frame(data, standard, edition) else { continue };
        assert!(length <= data.len(), "CSAE frame longer than its input");
        assert_eq!(message.edition(), edition, "decoded under another edition");
        let _ = message.raw_json();
        let _ = serde_json::to_string(&crate::csae::convert::summary(&message));
        let encoded = match encode_frame(&message) {
            Ok(encoded) => encoded,
            Err(error) => panic!("a decoded CSAE message does not re-encode: {error}"),
        };
        match decode_frame(&encoded, standard, edition) {
            Ok((decoded, _)) => assert_eq!(decoded, message, "decode(encode(m)) != m"),
            Err(error) => panic!("a re-encoded CSAE message does not decode: {error}"),
        }
    }
}

/// The RSU uplink frame reader and [`crate::decode::decode_any`] on arbitrary bytes, as uplink
/// frames and as raw frames: payloads lie inside the input, frames inside their payloads.
pub fn fuzz_decode_any(data: &[u8]) {
    use crate::csae::uplink::{UplinkLayout, read_uplink};
    use crate::decode::{AnyReport, FormatConfig, decode_any};
    for layout in [UplinkLayout::Auto, UplinkLayout::Single, UplinkLayout::List] {
        if let Ok(frame) = read_uplink(data, layout) {
            for payload in &frame.payloads {
                assert!(payload.offset_bytes + payload.length_bytes <= data.len(), "payload past the input");
            }
            assert_eq!(frame.payload_slices(data).len(), frame.payloads.len());
        }
    }
    for rsu_uplink in [false, true] {
        let format = FormatConfig { rsu_uplink, ..FormatConfig::default() };
        let Ok(report) = decode_any(data, &FUZZ_CONFIG, &format) else { continue };
        if let AnyReport::Csae(report) = &report {
            assert!(report.frames.len() <= FUZZ_CONFIG.max_frames, "more CSAE frames than the limit");
            if !report.hex_text {
                for frame in &report.frames {
                    assert!(
                        frame.offset_bytes + frame.length_bytes <= data.len(),
                        "CSAE frame past the input"
                    );
                }
            }
        }
        let _ = serde_json::to_string(&crate::view::AnyCaptureView::from(&report));
    }
}
