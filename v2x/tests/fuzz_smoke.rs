//! Seeded mutation fuzzing on stable Rust: every fuzz entry point of `pitsense_v2x::fuzzing`
//! runs on the real captures and thousands of deterministic mutations of them (bit flips,
//! byte overwrites, truncations, insertions, splices, random bytes). A panic fails the test.
//! The cargo-fuzz targets in `v2x/fuzz/` call the same entry points under libFuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should panic.

mod common;

use common::*;
use pitsense_v2x::fuzzing::*;

/// SplitMix64: a small, seeded, portable generator (deterministic across platforms).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        if bound == 0 { 0 } else { (self.next_u64() % bound as u64) as usize }
    }
}

/// The seed corpus: every real capture in shared/data/v2x/j2735.
fn corpus() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for name in ["bsm", "map", "spat", "psm", "sdsm", "srm", "ssm", "tim"] {
        let text = std::fs::read_to_string(j2735_path(&format!(
            "jpo-ode_decoded_samples/decoder-output-{name}.xml"
        )))
        .unwrap();
        let start = text.find("<asn1>").unwrap() + 6;
        let end = text.find("</asn1>").unwrap();
        seeds.push(hex_to_bytes(&text[start..end]));
        seeds.push(text.as_bytes()[start..end].to_vec()); // the hex text itself
    }
    for kind in ["bsm", "psm", "spat", "srm", "ssm", "tim"] {
        let text = std::fs::read_to_string(j2735_path(&format!(
            "jpo-ode_1609dot2_wrapped/decoder-input-{kind}.json"
        )))
        .unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        seeds.push(hex_to_bytes(json["payload"]["data"]["bytes"].as_str().unwrap()));
    }
    let csae = data_root().join("v2x/csae/samples_hisense_rsu");
    let mut names: Vec<_> = std::fs::read_dir(&csae).unwrap().map(|entry| entry.unwrap().path()).collect();
    names.sort();
    for path in names {
        if path.extension().is_some_and(|extension| extension == "uper" || extension == "bin") {
            seeds.push(std::fs::read(path).unwrap());
        }
    }
    let bsms = std::fs::read(j2735_path("asn1_codec/j2735.MessageFrame.128.bsms.uper")).unwrap();
    seeds.push(bsms[..bsms.len().min(1000)].to_vec());
    seeds
}

fn mutate(rng: &mut SplitMix64, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        match rng.below(8) {
            0 if !data.is_empty() => {
                let index = rng.below(data.len());
                data[index] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let index = rng.below(data.len());
                data[index] = rng.next_u64() as u8;
            }
            2 => data.truncate(rng.below(data.len() + 1)),
            3 => {
                let index = rng.below(data.len() + 1);
                let count = 1 + rng.below(8);
                for _ in 0..count {
                    data.insert(index, rng.next_u64() as u8);
                }
            }
            4 => {
                // Splice in a piece of another seed.
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let to = from + rng.below(other.len() - from + 1);
                let at = rng.below(data.len() + 1);
                data.splice(at..at, other[from..to].iter().copied());
            }
            5 if !data.is_empty() => {
                // Extreme values in a length-like position.
                let index = rng.below(data.len());
                data[index] = [0x00, 0x7F, 0x80, 0x81, 0xFF][rng.below(5)];
            }
            6 => {
                let length = rng.below(64);
                data = (0..length).map(|_| rng.next_u64() as u8).collect();
            }
            _ => {
                if data.len() > 1 {
                    let index = rng.below(data.len() - 1);
                    data.remove(index);
                }
            }
        }
    }
    data
}

#[test]
fn fuzz_entry_points_survive_seeded_mutations() {
    let seeds = corpus();
    for seed in &seeds {
        fuzz_decode_input(seed);
        fuzz_decode_frame(seed);
        fuzz_unwrap_ieee1609dot2(seed);
        fuzz_decode_values(seed);
        fuzz_decode_csae(seed);
        fuzz_decode_any(seed);
    }
    let iterations: usize =
        std::env::var("PITSENSE_FUZZ_ITERATIONS").ok().and_then(|value| value.parse().ok()).unwrap_or(20_000);
    let seed: u64 = std::env::var("PITSENSE_FUZZ_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0x5EED_F00D_0000_0001);
    let mut rng = SplitMix64(seed);
    for _ in 0..iterations {
        let data = mutate(&mut rng, &seeds);
        fuzz_decode_input(&data);
        fuzz_decode_frame(&data);
        fuzz_unwrap_ieee1609dot2(&data);
        fuzz_decode_values(&data);
        fuzz_decode_csae(&data);
        fuzz_decode_any(&data);
    }
}

#[test]
fn over_long_inputs_are_refused_whole() {
    let data = vec![0u8; FUZZ_CONFIG.max_input_bytes + 1];
    let result = pitsense_v2x::decode_input(&data, &FUZZ_CONFIG);
    assert!(matches!(result, Err(pitsense_v2x::V2xError::InputTooLong { .. })));
}

#[test]
fn over_long_and_malformed_csae_inputs_give_clear_errors() {
    use pitsense_v2x::csae::{CsaeStandard, Edition, decode_frame};
    use pitsense_v2x::decode::{FormatConfig, decode_any};
    let long = vec![0x20u8; FUZZ_CONFIG.max_input_bytes + 1];
    let error = decode_any(&long, &FUZZ_CONFIG, &FormatConfig::default()).unwrap_err();
    assert!(matches!(error, pitsense_v2x::V2xError::InputTooLong { .. }), "{error}");
    // A root alternative index past the five phase-one messages (0b101 after the bit 0).
    let error = decode_frame(&[0x50, 0, 0, 0], CsaeStandard::Csae53, Edition::Y2019).unwrap_err();
    assert!(error.to_string().contains("csae53 2019") && error.to_string().contains("byte 0"), "{error}");
    // A BSM frame cut after its first octet.
    let error = decode_frame(&[0x00], CsaeStandard::Csae53, Edition::Y2019).unwrap_err();
    assert!(error.to_string().contains("MessageFrame"), "{error}");
    // A second frame that fails is reported as trailing bytes at its offset.
    let rsm = std::fs::read(data_root().join("v2x/csae/samples_hisense_rsu/03_rsm.uper")).unwrap();
    let mut two = rsm.clone();
    two.extend_from_slice(&[0x50, 0xFF, 0xFF]);
    let format = FormatConfig { standard: pitsense_v2x::Standard::Csae53, ..FormatConfig::default() };
    let pitsense_v2x::AnyReport::Csae(report) = decode_any(&two, &FUZZ_CONFIG, &format).unwrap() else {
        panic!("not CSAE")
    };
    assert_eq!(report.frames.len(), 1);
    let trailing = report.trailing.unwrap();
    assert_eq!(trailing.offset_bytes, rsm.len());
    assert!(trailing.reason.contains(&format!("byte {}", rsm.len())), "{}", trailing.reason);
}
