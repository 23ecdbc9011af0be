//! Fuzz entry points for the runtime's parsers of outside data: shared by the cargo-fuzz
//! targets in `runtime/fuzz/` and the corpus test that runs on stable Rust
//! (`tests/fuzz_corpus.rs`).
//!
//! Each function takes arbitrary bytes, must never panic, and checks the parser's own promises
//! (a broken promise panics, which is what a fuzzer reports):
//! - [`fuzz_nmea`]: a GNSS byte stream split into bounded lines as the GNSS source does, each
//!   parsed; a sentence that parses parses the same once re-framed with its checksum.
//! - [`fuzz_can_frames`]: `candump -l` lines and cannelloni (CAN over UDP) datagrams; what
//!   parses formats back and parses to the same frames.
//! - [`fuzz_dbc`]: DBC text, and CAN payloads decoded with it and with the truck's DBC
//!   (`config/truck.dbc`) into the vehicle signals fusion uses, which stay finite.
//! - [`fuzz_config`]: a `pitsense.toml` parsed and validated.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a fuzz entry point reports a broken promise by panicking: that is what a fuzzer catches"
)]

use std::io::BufReader;
use std::sync::OnceLock;

use pitsense_types::CanFrame;

use crate::can::candump::{LogLine, format_line, parse_line};
use crate::can::{CanInputConfig, Dbc, VehicleSignalDecoder, decode_cannelloni, encode_cannelloni};
use crate::gnss::source::{LineRead, read_bounded_line};
use crate::gnss::{format_sentence, parse_sentence};

/// Lines or frames one input is cut into at most (a bound on the time per run).
pub const MAX_ITEMS_PER_RUN: usize = 4096;

/// NMEA 0183 on arbitrary bytes: lines as [`crate::gnss::GnssSource`] reads them (bounded
/// length), each through [`parse_sentence`].
///
/// # Panics
/// When a line that parses does not parse to the same sentence after its body is framed again
/// with [`format_sentence`] (the checksum and framing are the only things between them).
pub fn fuzz_nmea(data: &[u8]) {
    let mut reader = BufReader::new(data);
    let mut line = Vec::new();
    for _ in 0..MAX_ITEMS_PER_RUN {
        match read_bounded_line(&mut reader, &mut line) {
            Ok(LineRead::Line) => {}
            Ok(LineRead::TooLong(skipped)) => {
                assert!(skipped > crate::gnss::nmea::MAX_SENTENCE_BYTES, "a short line skipped as too long");
                continue;
            }
            Ok(LineRead::End) | Err(_) => break,
        }
        let text = String::from_utf8_lossy(&line);
        let Ok(sentence) = parse_sentence(&text) else { continue };
        // The body lies between the start character and `*`, after any TAG block.
        let trimmed = text.trim_matches(|c: char| c == '\r' || c == '\n' || c == ' ' || c == '\t');
        let start = trimmed.find('$').expect("a parsed sentence has a `$`");
        let body = trimmed.get(start + 1..).and_then(|rest| rest.split_once('*')).map(|(body, _)| body);
        let body = body.expect("a parsed sentence has a `*`");
        let again = parse_sentence(&format_sentence(body)).expect("a re-framed sentence parses");
        assert_eq!(again, sentence, "re-framing changed the sentence");
    }
}

/// CAN frames on arbitrary bytes. The first byte picks the format of the rest: even, `candump
/// -l` lines; odd, one cannelloni datagram.
///
/// # Panics
/// When a parsed frame does not format (candump) or encode (cannelloni) back to a text or
/// datagram that parses to the same frames (candump keeps microseconds: the stamp is compared
/// at that resolution).
pub fn fuzz_can_frames(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    if selector % 2 == 0 {
        let text = String::from_utf8_lossy(rest);
        for line in text.lines().take(MAX_ITEMS_PER_RUN) {
            let Ok(LogLine::Frame(frame)) = parse_line(line) else { continue };
            let mut formatted = String::new();
            format_line(&frame, &mut formatted);
            let again = match parse_line(&formatted) {
                Ok(LogLine::Frame(again)) => again,
                Ok(_) => panic!("`{formatted}` (from `{line}`) is no longer a data frame"),
                Err(e) => panic!("`{formatted}` (from `{line}`) does not parse: {e}"),
            };
            let to_micros =
                |frame: &CanFrame| CanFrame { stamp_ns: frame.stamp_ns / 1_000 * 1_000, ..frame.clone() };
            assert_eq!(again, to_micros(&frame), "`{line}` formatted as `{formatted}`");
        }
    } else if let Ok((seq_no, frames)) = decode_cannelloni(rest, 7, "udp:fuzz") {
        let datagram = encode_cannelloni(seq_no, &frames).expect("decoded frames encode");
        let (seq_again, again) = decode_cannelloni(&datagram, 7, "udp:fuzz").expect("encoded frames decode");
        assert_eq!((seq_again, again), (seq_no, frames), "cannelloni round trip");
    }
}

/// The truck's DBC (`config/truck.dbc`) and the default mapping of its signals, loaded once.
fn truck_dbc() -> &'static Dbc {
    static DBC: OnceLock<Dbc> = OnceLock::new();
    DBC.get_or_init(|| {
        Dbc::load(include_str!("../../config/truck.dbc"), "config/truck.dbc".into()).expect("truck.dbc loads")
    })
}

/// DBC decoding on arbitrary bytes. The first byte picks the DBC: `0`, the text up to the next
/// `\0` is a DBC file and the bytes after it payloads; anything else, the truck's DBC, and all
/// of the rest payloads, fed through the [`VehicleSignalDecoder`] as the CAN input does. Each
/// payload is a `u8` message index, a `u8` length (up to 64) and that many bytes.
///
/// # Panics
/// When a decoded message differs from the frame (name, id), or a vehicle signal decoded from
/// the truck's DBC is not finite.
pub fn fuzz_dbc(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let (own, payloads) = if selector == 0 {
        let (text, payloads) = match rest.iter().position(|&b| b == 0) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &[][..]),
        };
        let Ok(dbc) = Dbc::load(&String::from_utf8_lossy(text), "fuzz.dbc".into()) else { return };
        (Some(dbc), payloads)
    } else {
        (None, rest)
    };
    let dbc = own.as_ref().unwrap_or_else(|| truck_dbc());
    let mut vehicle = match own {
        None => Some(
            VehicleSignalDecoder::new(&CanInputConfig::default(), dbc.clone())
                .expect("the default mapping fits the truck's DBC"),
        ),
        Some(_) => None,
    };
    let mut at = 0;
    for stamp_ns in 0..MAX_ITEMS_PER_RUN as u64 {
        let (Some(&index), Some(&len)) = (payloads.get(at), payloads.get(at + 1)) else { break };
        let len = usize::from(len).min(64);
        let Some(bytes) = payloads.get(at + 2..at + 2 + len) else { break };
        at += 2 + len;
        let Some(message) = dbc.message(usize::from(index) % dbc.message_count().max(1)) else { break };
        let frame = CanFrame {
            stamp_ns,
            bus: "fuzz".into(),
            can_id: message.can_id,
            extended: message.extended,
            data: bytes.to_vec(),
        };
        if let Ok(Some(decoded)) = dbc.decode(&frame) {
            assert_eq!((decoded.can_id, decoded.extended), (frame.can_id, frame.extended), "decoded id");
            assert_eq!(decoded.name, message.name, "decoded message");
            let _ = dbc.encode(&decoded.name, &decoded.signals);
        }
        if let Some(vehicle) = vehicle.as_mut() {
            let _ = vehicle.push(&frame);
            let signals = vehicle.signals();
            for value in
                [signals.speed_mps, signals.yaw_rate_radps, signals.brake_ratio].into_iter().flatten()
            {
                assert!(value.is_finite(), "a vehicle signal decoded to {value}");
            }
        }
    }
}

/// A `pitsense.toml` on arbitrary bytes (lossy UTF-8), through [`crate::config::PitsenseConfig::parse`]
/// (TOML, then every section's validation).
pub fn fuzz_config(data: &[u8]) {
    let _ = crate::config::PitsenseConfig::parse(&String::from_utf8_lossy(data), "fuzz.toml");
}
