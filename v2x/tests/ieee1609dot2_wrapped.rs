//! IEEE 1609.2-wrapped captures from the USDOT ODE (`jpo-ode_1609dot2_wrapped/`): they unwrap
//! to the expected MessageFrame hex, truncated envelopes are reported and their complete frames
//! still decode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use common::*;
use pitsense_v2x::decode::{DecodeConfig, Decoder};
use pitsense_v2x::ieee1609dot2::{self, Security, Truncation};
use pitsense_v2x::j2735::{self, J2735Message, message_id};

/// `payload.data.bytes` of a decoder-input JSON.
fn input(kind: &str) -> Vec<u8> {
    let text =
        std::fs::read_to_string(j2735_path(&format!("jpo-ode_1609dot2_wrapped/decoder-input-{kind}.json")))
            .unwrap_or_else(|error| panic!("{kind}: {error}"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    hex_to_bytes(json["payload"]["data"]["bytes"].as_str().unwrap())
}

/// `<payload><data><bytes>` of an expected XML.
fn expected(kind: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(j2735_path(&format!("jpo-ode_1609dot2_wrapped/expected-{kind}.xml")))
        .unwrap();
    let document = roxmltree::Document::parse(&text).unwrap();
    hex_to_bytes(path(document.root_element(), "payload/data/bytes").unwrap().text().unwrap())
}

#[test]
fn wrapped_inputs_unwrap_to_the_expected_frame_hex() {
    // kind, messageId, declared payload, frame length; expected = the bytes after the header.
    for (kind, id) in
        [("bsm", message_id::BSM), ("spat", message_id::SPAT), ("srm", 29), ("ssm", 30), ("tim", 31)]
    {
        let bytes = input(kind);
        let expected = expected(kind);
        let envelope = ieee1609dot2::unwrap(&bytes).unwrap_or_else(|error| panic!("{kind}: {error}"));
        assert_eq!(envelope.security, Security::SignedNotVerified, "{kind}: 03 81 is signedData");
        // The ODE's expected hex is everything after the 1609.2 header: the payload, then for
        // untruncated signedData the headerInfo/signer/signature octets that follow it.
        let after_header = &bytes[envelope.payload_offset_bytes..];
        assert_eq!(after_header, expected.as_slice(), "{kind}");
        assert!(expected.starts_with(envelope.payload), "{kind}");
        assert_eq!(envelope.payload.len() + envelope.trailing_bytes, expected.len(), "{kind}");
        // The frame inside decodes and re-encodes to its own octets.
        let (message, length) =
            j2735::decode_frame(envelope.payload).unwrap_or_else(|error| panic!("{kind}: {error}"));
        assert_eq!(message.message_id(), id, "{kind}");
        assert_eq!(j2735::encode_frame(&message).unwrap(), envelope.payload[..length].to_vec(), "{kind}");
    }
}

#[test]
fn the_bsm_envelope_uses_the_long_length_form() {
    let bytes = input("bsm");
    assert_eq!(&bytes[..8], &[0x03, 0x81, 0x00, 0x40, 0x03, 0x80, 0x81, 0xB1]);
    let envelope = ieee1609dot2::unwrap(&bytes).unwrap();
    assert_eq!(envelope.payload.len(), 177);
    assert_eq!(envelope.truncated, None);
    assert_eq!(envelope.trailing_bytes, 264 - 177); // headerInfo, signer, signature
    let (message, length) = j2735::decode_frame(envelope.payload).unwrap();
    assert!(matches!(message, J2735Message::Bsm(_)));
    assert_eq!(length, 177);
}

#[test]
fn truncated_envelopes_are_reported_and_complete_frames_still_decode() {
    // The publisher cut these short: 124 octets declared, fewer present. The frames inside are
    // 74, 36 and 21 octets long, complete within what is present (one zero octet follows each).
    let mut decoder = Decoder::new(DecodeConfig::default()).unwrap();
    for (kind, present, frame_length, id) in [
        ("spat", 75, 74, message_id::SPAT),
        ("srm", 37, 36, message_id::SRM),
        ("ssm", 22, 21, message_id::SSM),
    ] {
        let bytes = input(kind);
        let report = decoder.decode(&bytes).unwrap_or_else(|error| panic!("{kind}: {error}"));
        let envelope = report.envelope.unwrap();
        assert_eq!(
            envelope.truncated,
            Some(Truncation { declared_bytes: 124, present_bytes: present }),
            "{kind}"
        );
        assert_eq!(envelope.payload_bytes, present, "{kind}");
        assert_eq!(report.frames.len(), 1, "{kind}");
        assert_eq!(report.frames[0].length_bytes, frame_length, "{kind}");
        assert_eq!(report.frames[0].message_id, id, "{kind}");
        assert!(report.frames[0].message.is_ok(), "{kind}");
        assert_eq!(report.trailing, None, "{kind}: a single zero octet after the frame is padding");
    }
    let stats = decoder.stats();
    assert_eq!(stats.envelopes_truncated, 3);
    assert_eq!(stats.envelopes_signed_not_verified, 3);
    assert_eq!(stats.messages_decoded, 1); // the SPaT; SRM and SSM are unsupported ids
    assert_eq!(stats.messages_unsupported, 2);
}

#[test]
fn a_frame_cut_inside_its_own_encoding_is_not_decoded_and_nothing_is_read_past_the_buffer() {
    let bytes = input("spat");
    for cut in 0..bytes.len() {
        let report = pitsense_v2x::decode_input(&bytes[..cut], &DecodeConfig::default());
        if let Ok(report) = report {
            // Whatever was found lies inside the bytes given.
            for frame in &report.frames {
                assert!(frame.offset_bytes + frame.length_bytes <= cut);
            }
        }
    }
}

#[test]
fn the_unwrapped_psm_input_is_a_bare_frame() {
    let bytes = input("psm");
    assert_eq!(bytes, expected("psm"));
    assert!(!ieee1609dot2::looks_like_ieee1609dot2(&bytes));
    let report = pitsense_v2x::decode_input(&bytes, &DecodeConfig::default()).unwrap();
    assert!(report.envelope.is_none());
    assert!(matches!(report.frames[0].message, Ok(J2735Message::Psm(_))));
}

#[test]
fn short_and_long_forms_wrap_real_frames() {
    // A real BSM (177 octets: long form 0x81 0xB1) and a real SDSM (40 octets: short form).
    let bsm = expected("bsm");
    let (bsm_message, bsm_length) = j2735::decode_frame(&bsm).unwrap();
    let sdsm = expected("sdsm");
    let (sdsm_message, sdsm_length) = j2735::decode_frame(&sdsm).unwrap();
    for (frame, message) in [(&bsm[..bsm_length], &bsm_message), (&sdsm[..sdsm_length], &sdsm_message)] {
        let wrapped = ieee1609dot2::wrap_unsecured(frame);
        if frame.len() < 128 {
            assert_eq!(wrapped[2] as usize, frame.len());
        } else {
            assert_eq!(wrapped[2], 0x81);
            assert_eq!(wrapped[3] as usize, frame.len());
        }
        let report = pitsense_v2x::decode_input(&wrapped, &DecodeConfig::default()).unwrap();
        assert_eq!(report.envelope.unwrap().security, Security::Unsecured);
        assert_eq!(report.frames[0].message.as_ref().unwrap(), message);
    }
    // Two-octet long form: 354 concatenated octets of BSM frames.
    let mut frames = Vec::new();
    for _ in 0..2 {
        frames.extend_from_slice(&bsm[..bsm_length]);
    }
    let wrapped = ieee1609dot2::wrap_unsecured(&frames);
    assert_eq!(&wrapped[2..5], &[0x82, 0x01, 0x62]);
    let report = pitsense_v2x::decode_input(&wrapped, &DecodeConfig::default()).unwrap();
    assert_eq!(report.frames.len(), 2);
}

#[test]
fn the_sdsm_expected_frame_decodes() {
    let sdsm = expected("sdsm");
    let (message, _) = j2735::decode_frame(&sdsm).unwrap();
    assert!(matches!(message, J2735Message::Sdsm(_)));
}
