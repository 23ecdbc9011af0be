//! Decode throughput on the 128 concatenated BSMs of `asn1_codec/j2735.MessageFrame.128.bsms.uper`
//! (16,000 bytes). `cargo bench -p pitsense-v2x --bench decode_128_bsms`; prints messages/s.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Bench code: a failure should panic.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pitsense_testkit::data_root;
use pitsense_v2x::decode::{DecodeConfig, decode_input};
use pitsense_v2x::j2735;

/// Runs `pass` (which handles `messages_per_pass` messages) for at least `min_time`, best of 5.
fn measure(label: &str, messages_per_pass: usize, min_time: Duration, mut pass: impl FnMut()) {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut passes = 0u64;
        while start.elapsed() < min_time {
            pass();
            passes += 1;
        }
        best = best.min(start.elapsed().as_secs_f64() / passes as f64);
    }
    let rate = messages_per_pass as f64 / best;
    println!("{label:<46} {rate:>12.0} messages/s  ({:.2} µs/message)", 1e6 / rate);
}

fn main() {
    let path = data_root().join("v2x/j2735/asn1_codec/j2735.MessageFrame.128.bsms.uper");
    let uper = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let config = DecodeConfig::default();
    let frames = decode_input(&uper, &config).unwrap().frames;
    assert_eq!(frames.len(), 128);
    let messages: Vec<_> = frames.iter().map(|frame| frame.message.clone().unwrap()).collect();
    let min_time = Duration::from_millis(400);
    println!("128 BSMs, {} bytes", uper.len());
    measure("decode_input (detect + 128 frames + values)", 128, min_time, || {
        black_box(decode_input(black_box(&uper), &config).unwrap());
    });
    measure("decode_frames (frames + values)", 128, min_time, || {
        black_box(j2735::decode_frames(black_box(&uper), 4096).unwrap());
    });
    measure("encode_frame", 128, min_time, || {
        for message in &messages {
            black_box(j2735::encode_frame(black_box(message)).unwrap());
        }
    });
    let hex: String = uper.iter().map(|byte| format!("{byte:02x}")).collect();
    measure("decode_input on hex text", 128, min_time, || {
        black_box(decode_input(black_box(hex.as_bytes()), &config).unwrap());
    });
}
