//! Lidar simulation speed (no criterion: a plain timed loop, one thread).
//!
//! `cargo bench -p pitsense-sim --bench lidar_sim`: for every shipped scenario, simulates the
//! rotations of its first lidar (an OS-2-128, 1024 × 10: 131 072 beams per rotation) over the
//! scenario's first seconds for about `PITSENSE_BENCH_SECONDS` (default 3) seconds each, and
//! prints milliseconds per rotation and the multiple of real time. For the dust scenarios it also
//! runs the same rotations with the dust removed: the difference is the dust model's cost per
//! rotation. The full run (pipeline, tracker, scoring) is timed by `pitsense-sim run`, which
//! prints its multiple of real time. Data root: `$PITSENSE_DATA`, else `../shared/data`.

#![allow(clippy::expect_used)] // A benchmark without its data should stop loudly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pitsense_sim::scenario::file::{SHIPPED, ScenarioSource};
use pitsense_sim::scenario::lidar::LidarModel;
use pitsense_sim::scenario::run::frame_rng;
use pitsense_sim::scenario::world::Scenario;

/// Milliseconds per rotation simulating `scenario`'s first lidar for about `budget`.
fn ms_per_rotation(scenario: &Scenario, budget: Duration) -> (f64, u64) {
    let model = LidarModel::new(&scenario.lidars[0]);
    let period_s = model.frame_period_s();
    let frames_in_scenario = ((scenario.duration_s / period_s) as u64).max(1);
    let start = Instant::now();
    let mut frames = 0_u64;
    let mut returns = 0_u64;
    while start.elapsed() < budget || frames == 0 {
        // Walk through the scenario so the geometry changes as it does in a run.
        let frame = (frames * 7) % frames_in_scenario;
        let scan = model.simulate(scenario, frame, frame as f64 * period_s, &mut frame_rng(1, 0, frame));
        returns += scan.scan.range_mm.iter().filter(|&&r| r != 0).count() as u64;
        frames += 1;
    }
    (start.elapsed().as_secs_f64() * 1000.0 / frames as f64, returns / frames)
}

fn main() {
    let root = std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let seconds: f64 =
        std::env::var("PITSENSE_BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3.0);
    let budget = Duration::from_secs_f64(seconds);
    println!("{:<30} {:>12} {:>10} {:>14}", "scenario", "ms/rotation", "× real", "returns/rot.");
    for (name, _) in SHIPPED {
        let source = ScenarioSource::resolve(name).expect("shipped scenario");
        let scenario = Scenario::build(&source, &root).expect("scenario builds");
        let period_ms = 1000.0 / f64::from(scenario.lidars[0].metadata.rotation_rate_hz().unwrap_or(10));
        let (ms, returns) = ms_per_rotation(&scenario, budget);
        println!("{name:<30} {ms:>12.1} {:>10.2} {returns:>14}", period_ms / ms);
        if !scenario.dust.is_empty() {
            let clear = Scenario { dust: Vec::new(), ..scenario.clone() };
            let (clear_ms, clear_returns) = ms_per_rotation(&clear, budget);
            println!(
                "{:<30} {clear_ms:>12.1} {:>10.2} {clear_returns:>14}   dust costs {:.1} ms/rotation",
                format!("{name} (no dust)"),
                period_ms / clear_ms,
                ms - clear_ms
            );
        }
    }
}
