//! The scenario-file fuzz target's entry point over its committed seeds and the shipped
//! scenarios (what `./x fuzz` starts from), on stable Rust in every test run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::path::Path;

use pitsense_sim::fuzzing::{FUZZ_LIMITS, fuzz_scenario};
use pitsense_sim::scenario::file::ScenarioSource;
use pitsense_sim::scenario::world::Scenario;
use pitsense_testkit::data_root;

/// The seed is a valid scenario within the fuzz limits (so the fuzzer starts from inputs that
/// reach the whole builder), and every seed and shipped scenario goes through the entry point.
#[test]
fn seeds_build_and_every_scenario_passes_the_fuzz_entry() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/scenario_file/small_haul_road.toml");
    let source = ScenarioSource::resolve(seed.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
    if !data_root().join("lidar_pcap").is_dir() {
        eprintln!("skipped: no shared data at {} (set PITSENSE_DATA)", data_root().display());
        return;
    }
    let scenario = match Scenario::build_with_limits(&source, &data_root(), &FUZZ_LIMITS) {
        Ok(scenario) => scenario,
        Err(e) => panic!("{e}"),
    };
    assert_eq!((scenario.name.as_str(), scenario.actors.len(), scenario.dust.len()), ("fuzz_seed", 2, 1));
    let folders =
        [seed.parent().unwrap().to_path_buf(), Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")];
    let mut inputs = 0;
    for folder in folders {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            fuzz_scenario(&bytes);
            // Every prefix cut at a line: a torn file never panics either.
            for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'\n') {
                fuzz_scenario(&bytes[..at]);
            }
            inputs += 1;
        }
    }
    assert!(inputs >= 9, "{inputs} inputs");
}

/// The fuzz limits refuse a world the simulator's default limits take, with the limit named: the
/// rock scenario's 240 m × 100 m world at 0.4 m cells is ceil(240 / 0.4) × ceil(100 / 0.4) =
/// 600 × 250 cells, more than 10^5.
#[test]
fn fuzz_limits_bound_the_terrain() {
    if !data_root().join("lidar_pcap").is_dir() {
        eprintln!("skipped: no shared data at {} (set PITSENSE_DATA)", data_root().display());
        return;
    }
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rock_on_road_80m.toml"),
    )
    .unwrap()
    .replace("cell_size_m = 0.5", "cell_size_m = 0.4");
    let source = ScenarioSource { file: "rock.toml".into(), text, folder: None };
    match Scenario::build_with_limits(&source, &data_root(), &FUZZ_LIMITS) {
        Err(e) => {
            assert!(e.to_string().contains("makes a 600 × 250 height field (at most 100000 vertices)"), "{e}")
        }
        Ok(_) => panic!("a 600 × 250 height field passed a limit of 10^5 vertices"),
    }
    if let Err(e) = Scenario::build(&source, &data_root()) {
        panic!("the default limits refuse it: {e}");
    }
}
