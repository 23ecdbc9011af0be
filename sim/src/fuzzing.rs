//! Fuzz entry point for scenario files: shared by the cargo-fuzz target in `sim/fuzz/` and the
//! corpus test that runs on stable Rust (`tests/fuzz_corpus.rs`).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a fuzz entry point reports a broken promise by panicking: that is what a fuzzer catches"
)]

use std::path::PathBuf;

use crate::scenario::file::ScenarioSource;
use crate::scenario::world::{BuildLimits, Scenario};

/// Terrain bounds for fuzzing: 10^5 vertices and 10^6 distance evaluations (milliseconds per
/// input) instead of the simulator's [`BuildLimits::DEFAULT`].
pub const FUZZ_LIMITS: BuildLimits = BuildLimits { max_vertices: 100_000, max_terrain_work: 1e6 };

/// The data root lidar metadata paths resolve against: `$PITSENSE_DATA`, else the shared data
/// next to the repository.
fn data_root() -> PathBuf {
    std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

/// A scenario file on arbitrary bytes (lossy UTF-8) through [`Scenario::build_with_limits`].
///
/// # Panics
/// When a scenario that validates gives a world that is not finite: the ego pose, an actor's
/// box or the terrain height at the start, middle or end of the run.
pub fn fuzz_scenario(data: &[u8]) {
    let source = ScenarioSource {
        file: PathBuf::from("fuzz.toml"),
        text: String::from_utf8_lossy(data).into_owned(),
        folder: None,
    };
    let Ok(scenario) = Scenario::build_with_limits(&source, &data_root(), &FUZZ_LIMITS) else { return };
    for t_s in [0.0, scenario.duration_s / 2.0, scenario.duration_s] {
        let (pose, _) = scenario.ego_pose(t_s);
        let ego = pose.translation.vector;
        assert!(ego.iter().all(|v| v.is_finite()), "ego pose {ego:?} at {t_s} s");
        assert!(scenario.terrain.height_m([ego.x, ego.y]).is_finite(), "terrain height under the ego");
        for actor in scenario.actor_boxes(t_s) {
            let finite = actor.center_m.iter().chain(actor.half_m.iter()).all(|v| v.is_finite())
                && actor.yaw_rad.is_finite()
                && actor.speed_mps.is_finite();
            assert!(finite, "actor {} at {t_s} s: {actor:?}", actor.actor);
        }
    }
}
