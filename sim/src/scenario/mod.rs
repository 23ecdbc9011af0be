//! Mine scenario simulation: seeded open-pit scenes, a physical model of the Ouster lidars the
//! trucks carry, the onboard lidar pipeline and tracker run on what they produce, and metric
//! gates scored against the ground truth.
//!
//! - [`file`]: the scenario file (TOML, one per scenario; unknown keys and impossible values
//!   are errors naming the file, line and key) and the scenarios shipped with the binary.
//! - [`world`]: the world — terrain as a height field stamped with graded haul roads, berms
//!   (windrows) and pads; actors (797-class haul trucks, light vehicles, persons, dozers,
//!   shovels, rocks) as oriented boxes on waypoint trajectories; the ego truck's trajectory.
//! - [`lidar`]: the lidar model — every beam of a real Ouster beam pattern (from the sensor's
//!   metadata JSON) cast against terrain and actors, range noise, intensity from reflectivity and
//!   incidence, and dust by Beer–Lambert attenuation with back-scatter "soft" returns after
//!   Hahner et al. (ICCV 2021). Output: the vendor's `LidarScan` fields, encoded into real UDP
//!   packets by `perception`'s Ouster encoder.
//! - [`score`]: ground truth per frame, detection recall and precision by range bin, position
//!   error, time to first detection, identity switches, false tracks per km, and the gates.
//! - [`run`]: one scenario end to end (`pitsense-sim run`), [`junit`]: the JUnit XML report.
//!
//! Frames: the **site** frame is a local east-north-up frame (x east, y north, z up, metres);
//! the **truck** frame has x forward, y left, z up, origin on the ground under the truck's
//! reference point; a lidar's frame is the Ouster *sensor* frame its decoder outputs, placed on
//! the truck by `truck_from_lidar`.
//!
//! Determinism: one seed per scenario, a ChaCha8 generator per lidar and frame, no clock, no
//! threads, ordered containers — the same scenario and seed give the same bytes.

pub mod file;
pub mod junit;
pub mod lidar;
pub mod run;
pub mod score;
pub mod world;

use std::path::{Path, PathBuf};

/// Why a scenario could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario file could not be read.
    #[error("cannot read scenario `{}`: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the scenario format (unknown key, wrong
    /// type, missing key); the parser's message names the line, column and key.
    #[error("scenario `{}`: {message}", file.display())]
    Format {
        /// The file.
        file: PathBuf,
        /// The TOML parser's message.
        message: String,
    },
    /// A key whose value is impossible (a trajectory leaving the world, a negative size, a beam
    /// table that does not match the lidar metadata).
    #[error("scenario `{}`, line {line}: `{key}` {reason}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line of the key's value in the file.
        line: usize,
        /// The key, as a TOML path (`actors[2].waypoints_m[1]`).
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No shipped scenario has this name and no file has this path.
    #[error("no scenario `{name}` (shipped: {shipped}); give a shipped name or a path to a .toml file")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The shipped scenarios' names, comma-separated.
        shipped: String,
    },
    /// An output file could not be written.
    #[error("cannot write `{}`: {reason}", file.display())]
    Output {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// A stage refused its configuration or input (the stage's message).
    #[error("scenario `{scenario}`: {reason}")]
    Stage {
        /// The scenario's name.
        scenario: String,
        /// The stage's error.
        reason: String,
    },
}

/// The data root: `given` (a `--data-root` flag), else `$PITSENSE_DATA`, else
/// `../shared/data`.
pub fn data_root(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| std::env::var_os("PITSENSE_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

/// Loads and validates a scenario by shipped name or file path
/// ([`file::ScenarioSource::resolve`], [`world::Scenario::build`]); lidar metadata paths are
/// resolved against `data_root`.
///
/// # Errors
/// As [`file::ScenarioSource::resolve`] and [`world::Scenario::build`].
pub fn load(name_or_path: &str, data_root: &Path) -> Result<world::Scenario, ScenarioError> {
    world::Scenario::build(&file::ScenarioSource::resolve(name_or_path)?, data_root)
}
