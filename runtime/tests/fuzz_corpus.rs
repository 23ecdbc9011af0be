//! The runtime's fuzz entry points (`pitsense_runtime::fuzzing`) over their committed seeds
//! (`fuzz/seeds/`, written by `fuzz/make_seeds.py`), the shipped configuration files, and
//! seeded mutations of each, on stable Rust in every test run. The seeds themselves are checked
//! to be what the script says (sentences whose checksums the script computed parse, the
//! datagram decodes to its three frames), so the fuzzer starts from inputs that reach deep.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::path::{Path, PathBuf};

use pitsense_runtime::can::decode_cannelloni;
use pitsense_runtime::fuzzing::{fuzz_can_frames, fuzz_config, fuzz_dbc, fuzz_nmea};
use pitsense_runtime::gnss::{Sentence, parse_sentence};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

fn seed(target: &str, name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target).join(name)).unwrap()
}

fn files(folder: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(files(&path)) } else { out.push(path) }
    }
    out.sort();
    out
}

/// `count` mutations of `input`: 1 to 4 byte flips, boundary bytes, truncations or duplicated
/// spans each, from a seeded ChaCha8 stream.
fn mutations(input: &[u8], count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pick = move |n: usize| (rng.next_u64() % n.max(1) as u64) as usize;
    (0..count)
        .map(|_| {
            let mut out = input.to_vec();
            for _ in 0..1 + pick(4) {
                if out.is_empty() {
                    break;
                }
                let at = pick(out.len());
                match pick(4) {
                    0 => out[at] ^= 1 << pick(8),
                    1 => out[at] = [0x00, 0xFF, b'*', b','][pick(4)],
                    2 => out.truncate(at.max(1)),
                    _ => {
                        let span = out[at..(at + 1 + pick(16)).min(out.len())].to_vec();
                        out.splice(at..at, span);
                    }
                }
            }
            out
        })
        .collect()
}

#[test]
fn nmea_seeds_parse_and_survive_mutation() {
    let stream = seed("nmea", "dual_antenna");
    let text = String::from_utf8(stream.clone()).unwrap();
    let parsed: Vec<Sentence> =
        text.lines().map(|line| parse_sentence(line).unwrap_or_else(|e| panic!("{e}"))).collect();
    let names: Vec<&str> = parsed.iter().map(Sentence::formatter).collect();
    assert_eq!(names, ["GGA", "RMC", "GGA", "HDT", "THS"]);
    let tagged = String::from_utf8(seed("nmea", "tag_block")).unwrap();
    assert_eq!(parse_sentence(&tagged).unwrap_or_else(|e| panic!("{e}")).formatter(), "RMC");
    for (index, input) in [stream, tagged.into_bytes()].iter().enumerate() {
        fuzz_nmea(input);
        for mutated in mutations(input, 2000, index as u64) {
            fuzz_nmea(&mutated);
        }
    }
}

#[test]
fn can_seeds_decode_and_survive_mutation() {
    let datagram = seed("can_frames", "cannelloni");
    let (seq_no, frames) = decode_cannelloni(&datagram[1..], 5, "udp:test").unwrap_or_else(|e| panic!("{e}"));
    let summary: Vec<(u32, bool, usize)> =
        frames.iter().map(|f| (f.can_id, f.extended, f.data.len())).collect();
    assert_eq!((seq_no, summary), (7, vec![(0x1A0, false, 8), (0x18FE_F100, true, 4), (0x123, false, 12)]));
    for (index, input) in [seed("can_frames", "candump"), datagram].iter().enumerate() {
        fuzz_can_frames(input);
        for mutated in mutations(input, 2000, 10 + index as u64) {
            fuzz_can_frames(&mutated);
        }
    }
    for (index, input) in [seed("dbc", "own_dbc"), seed("dbc", "truck_dbc")].iter().enumerate() {
        fuzz_dbc(input);
        for mutated in mutations(input, 1000, 20 + index as u64) {
            fuzz_dbc(&mutated);
        }
    }
}

#[test]
fn shipped_configs_survive_mutation() {
    let configs = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config"));
    assert!(configs.len() >= 3, "{configs:?}");
    for (index, path) in configs.iter().enumerate() {
        let input = std::fs::read(path).unwrap();
        fuzz_config(&input);
        for mutated in mutations(&input, 200, 30 + index as u64) {
            fuzz_config(&mutated);
        }
    }
}
