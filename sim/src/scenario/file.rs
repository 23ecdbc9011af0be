//! The scenario file format and the scenarios shipped with `pitsense-sim`.
//!
//! One TOML file per scenario (the shipped ones are in `sim/scenarios/`, compiled into the
//! binary). Every table refuses unknown keys; a value that is the right type but impossible (a
//! waypoint outside the world, a negative size) is a [`ScenarioError::Invalid`] naming the file,
//! the line and the key. The format, section by section (units in the key names):
//!
//! ```toml
//! [scenario]
//! name = "haul_road_oncoming_truck"   # letters, digits, '_' and '-'
//! description = "..."
//! duration_s = 10.0                    # simulated time, 0.1..3600 s
//! seed = 1                             # default seed (pitsense-sim run --seed overrides)
//!
//! [world]                              # the site frame: x east, y north, z up, metres
//! min_m = [-60.0, -60.0]               # extent of the terrain height field
//! max_m = [260.0, 60.0]
//! cell_size_m = 0.5                    # height-field spacing, 0.1..5 m
//! base_height_m = 0.0                  # terrain height away from roads and pads
//! ground_reflectivity = 0.2            # Lambertian reflectivity of the pit floor, 0..1
//!
//! [[world.roads]]                      # a haul road: centre line with heights (grade)
//! name = "main"
//! centerline_m = [[0.0, 0.0, 0.0], [250.0, 0.0, 0.0]]
//! width_m = 30.0
//! berm = { height_m = 1.8, base_width_m = 5.0 }   # windrows on both edges (optional)
//!
//! [[world.pads]]                       # a flat area (loading area, dump, parking)
//! name = "loading_area"
//! center_m = [100.0, 50.0]
//! size_m = [60.0, 40.0]
//! yaw_deg = 0.0
//! height_m = 0.0
//!
//! [ego]                                # the simulated truck
//! waypoints_m = [[0.0, 0.0], [200.0, 0.0]]
//! speed_mps = 8.0                      # constant along the polyline, stops at its end
//! start_s = 0.0
//!
//! [[lidars]]
//! name = "roof"
//! metadata = "lidar_pcap/ouster_sdk_tests/OS-2-128-U1_v2.3.0_1024x10.json"  # data root
//! truck_from_lidar = { x_m = 6.0, y_m = 0.0, z_m = 5.0, roll_rad = 0.0, pitch_rad = 0.0, yaw_rad = 0.0 }
//! range_noise_m = 0.03                 # 1σ range noise of hard returns
//! range_at_10pct_m = 200.0             # range of a 10 % Lambertian target at the threshold
//! faults = { outages_s = [[3.0, 5.0]], yaw_error_deg = 2.0 }   # optional: dead spans, miscalibration
//!
//! [[actors]]
//! id = "oncoming"
//! kind = "haul_truck"                  # haul_truck|light_vehicle|person|dozer|shovel|rock
//! waypoints_m = [[240.0, -6.0], [0.0, -6.0]]
//! speed_mps = 11.11
//! # size_m = [l, w, h], reflectivity, heading_deg (one waypoint), start_s: optional
//!
//! [[dust]]                             # a dust cloud: vertical cylinder on the terrain
//! center_m = [60.0, 0.0]
//! radius_m = 15.0
//! height_m = 10.0
//! mor_m = 20.0                         # meteorological optical range
//!
//! [pipeline]                           # optional: lidar/tracker settings file, relative to
//! config = "pipeline.toml"             # the scenario (default: the shipped one)
//!
//! [[gates]]                            # every gate must hold for the scenario to pass
//! metric = "recall"                    # see score::Metric
//! class = "haul_truck"                 # optional: one actor kind
//! range = "60-100"                     # optional: 0-30, 30-60, 60-100, 100-150
//! min = 0.9                            # and/or max
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::ScenarioError;
use super::score::{Metric, RangeBin};
use super::world::ActorKind;

/// The shipped scenarios: `(name, TOML text)`, compiled in from `sim/scenarios/`.
pub const SHIPPED: &[(&str, &str)] = &[
    ("haul_road_oncoming_truck", include_str!("../../scenarios/haul_road_oncoming_truck.toml")),
    ("ramp_light_vehicle_at_crest", include_str!("../../scenarios/ramp_light_vehicle_at_crest.toml")),
    ("person_near_shovel", include_str!("../../scenarios/person_near_shovel.toml")),
    ("dust_person_mor20", include_str!("../../scenarios/dust_person_mor20.toml")),
    ("dust_person_mor50", include_str!("../../scenarios/dust_person_mor50.toml")),
    ("rock_on_road_80m", include_str!("../../scenarios/rock_on_road_80m.toml")),
    (
        "iso17757_missed_detection_lidar_outage",
        include_str!("../../scenarios/iso17757_missed_detection_lidar_outage.toml"),
    ),
    (
        "iso17757_erroneous_location_yaw_2deg",
        include_str!("../../scenarios/iso17757_erroneous_location_yaw_2deg.toml"),
    ),
];

/// The lidar pipeline and tracker settings the shipped scenarios use (`[lidar]` and `[tracker]`
/// sections of a pitsense configuration file), compiled in from `sim/scenarios/pipeline.toml`.
pub const SHIPPED_PIPELINE: &str = include_str!("../../scenarios/pipeline.toml");

/// A 6-DoF pose: translation in metres, roll/pitch/yaw in radians (`R = Rz(yaw)·Ry(pitch)·Rx(roll)`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoseFile {
    /// x, m.
    pub x_m: f64,
    /// y, m.
    pub y_m: f64,
    /// z, m.
    pub z_m: f64,
    /// Rotation about x, rad.
    #[serde(default)]
    pub roll_rad: f64,
    /// Rotation about y, rad.
    #[serde(default)]
    pub pitch_rad: f64,
    /// Rotation about z, rad.
    #[serde(default)]
    pub yaw_rad: f64,
}

/// `[scenario]`: name, description, duration and seed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSection {
    /// Name (letters, digits, `_`, `-`): file names and the JUnit report use it.
    pub name: Spanned<String>,
    /// One paragraph: what happens and what the gates check.
    pub description: String,
    /// Simulated time, s.
    pub duration_s: Spanned<f64>,
    /// Default seed of every random draw.
    #[serde(default)]
    pub seed: u64,
}

/// `berm = {...}`: windrows along both road edges, triangular in section.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BermFile {
    /// Crest height above the road surface, m.
    pub height_m: f64,
    /// Width at the base, m (the crest is at its middle).
    pub base_width_m: f64,
}

/// `[[world.roads]]`: a haul road.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoadFile {
    /// Name, for messages.
    pub name: String,
    /// Centre line, site frame: `[x, y, z]` per vertex, m; z gives the grade.
    #[serde(deserialize_with = "exact::spanned_arrays")]
    pub centerline_m: Spanned<Vec<[f64; 3]>>,
    /// Running surface width, m.
    pub width_m: Spanned<f64>,
    /// Windrows on both edges; none when absent.
    #[serde(default)]
    pub berm: Option<BermFile>,
    /// Lambertian reflectivity of the road surface, 0..1 (default 0.25, compacted gravel).
    #[serde(default = "default_road_reflectivity")]
    pub reflectivity: f64,
}

fn default_road_reflectivity() -> f64 {
    0.25
}

/// `[[world.pads]]`: a flat rectangular area.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PadFile {
    /// Name, for messages.
    pub name: String,
    /// Centre, site frame, m.
    #[serde(deserialize_with = "exact::array")]
    pub center_m: [f64; 2],
    /// Length (along its yaw) and width, m.
    #[serde(deserialize_with = "exact::spanned_array")]
    pub size_m: Spanned<[f64; 2]>,
    /// Heading of its length axis, degrees counter-clockwise from east.
    #[serde(default)]
    pub yaw_deg: f64,
    /// Surface height, m.
    pub height_m: f64,
}

/// `[world]`: the terrain.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldFile {
    /// South-west corner of the height field, site frame, m.
    #[serde(deserialize_with = "exact::array")]
    pub min_m: [f64; 2],
    /// North-east corner, m.
    #[serde(deserialize_with = "exact::spanned_array")]
    pub max_m: Spanned<[f64; 2]>,
    /// Height-field spacing, m.
    #[serde(default = "default_cell_size")]
    pub cell_size_m: Spanned<f64>,
    /// Terrain height away from roads and pads, m.
    #[serde(default)]
    pub base_height_m: f64,
    /// Lambertian reflectivity of the pit floor and berms, 0..1.
    #[serde(default = "default_ground_reflectivity")]
    pub ground_reflectivity: f64,
    /// Haul roads.
    #[serde(default)]
    pub roads: Vec<RoadFile>,
    /// Flat areas.
    #[serde(default)]
    pub pads: Vec<PadFile>,
}

fn default_cell_size() -> Spanned<f64> {
    Spanned::new(0..0, 0.5)
}

impl Default for LidarFaultsFile {
    fn default() -> Self {
        Self { outages_s: no_spans(), yaw_error_deg: 0.0 }
    }
}

fn no_spans() -> Spanned<Vec<[f64; 2]>> {
    Spanned::new(0..0, Vec::new())
}

fn zero_spanned() -> Spanned<f64> {
    Spanned::new(0..0, 0.0)
}

fn default_ground_reflectivity() -> f64 {
    0.2
}

/// A waypoint trajectory: `[ego]` and each actor's.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgoFile {
    /// Polyline, site frame, `[x, y]` m; the truck drives it at `speed_mps` and stops at its end.
    #[serde(deserialize_with = "exact::spanned_arrays")]
    pub waypoints_m: Spanned<Vec<[f64; 2]>>,
    /// Speed along the polyline, m/s (0: parked at the first waypoint).
    #[serde(default = "zero_spanned")]
    pub speed_mps: Spanned<f64>,
    /// Time the truck starts moving, s.
    #[serde(default)]
    pub start_s: f64,
    /// Heading when parked (one waypoint), degrees counter-clockwise from east.
    #[serde(default)]
    pub heading_deg: f64,
}

/// `[[actors]]`: one road user or obstacle.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorFile {
    /// Identity, unique in the scenario.
    pub id: Spanned<String>,
    /// Kind: the box size, reflectivity and metric class unless overridden.
    pub kind: ActorKind,
    /// `[length, width, height]`, m (default: the kind's; required for rocks).
    #[serde(default, deserialize_with = "exact::optional_spanned_array")]
    pub size_m: Option<Spanned<[f64; 3]>>,
    /// Lambertian reflectivity, 0..1 (default: the kind's).
    #[serde(default)]
    pub reflectivity: Option<f64>,
    /// Polyline, site frame, `[x, y]` m.
    #[serde(deserialize_with = "exact::spanned_arrays")]
    pub waypoints_m: Spanned<Vec<[f64; 2]>>,
    /// Speed along the polyline, m/s.
    #[serde(default = "zero_spanned")]
    pub speed_mps: Spanned<f64>,
    /// Time the actor starts moving, s.
    #[serde(default)]
    pub start_s: f64,
    /// Heading when it has one waypoint, degrees counter-clockwise from east.
    #[serde(default)]
    pub heading_deg: f64,
}

/// `[[lidars]]`: one Ouster lidar on the truck.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LidarFile {
    /// Name: pcap and metadata file names use it.
    pub name: String,
    /// The sensor's metadata JSON (beam tables, columns, rate, packet profile), relative to the
    /// data root unless absolute.
    pub metadata: Spanned<String>,
    /// Pose of the lidar's sensor frame on the truck.
    pub truck_from_lidar: PoseFile,
    /// 1σ range noise of hard returns, m.
    #[serde(default = "default_range_noise")]
    pub range_noise_m: f64,
    /// Range at which a 10 % Lambertian target at normal incidence is at the detection threshold,
    /// m (OS-2 datasheet: 200 m).
    #[serde(default = "default_range_at_10pct")]
    pub range_at_10pct_m: Spanned<f64>,
    /// UDP destination port written into the pcap.
    #[serde(default = "default_udp_port")]
    pub udp_port: u16,
    /// Faults of this lidar.
    #[serde(default)]
    pub faults: LidarFaultsFile,
}

/// `faults = {...}` of a lidar: what goes wrong with it (ISO 17757's perception failure modes
/// start here: a dead sensor gives missed detections, a wrong calibration erroneous locations).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LidarFaultsFile {
    /// Time spans `[start_s, end_s)` in which the lidar sends nothing (dead, then recovered).
    #[serde(default = "no_spans", deserialize_with = "exact::spanned_arrays")]
    pub outages_s: Spanned<Vec<[f64; 2]>>,
    /// The lidar is mounted this much further counter-clockwise than `truck_from_lidar` says
    /// (a yaw calibration error): the beams are cast from the true mount, the pipeline and the
    /// tracker use the configured one. Degrees.
    #[serde(default)]
    pub yaw_error_deg: f64,
}

fn default_range_noise() -> f64 {
    0.03
}

fn default_range_at_10pct() -> Spanned<f64> {
    Spanned::new(0..0, 200.0)
}

fn default_udp_port() -> u16 {
    7502
}

/// `[[dust]]`: a dust cloud, a vertical cylinder standing on the terrain.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DustFile {
    /// Centre, site frame, m.
    #[serde(deserialize_with = "exact::array")]
    pub center_m: [f64; 2],
    /// Radius, m.
    pub radius_m: Spanned<f64>,
    /// Height above the terrain at the centre, m.
    pub height_m: f64,
    /// Meteorological optical range (visibility), m: extinction `α = 2.996 / MOR`.
    pub mor_m: Spanned<f64>,
    /// Extinction-to-backscatter ratio (lidar ratio), sr: `β = α / S`. Default 45 sr, mineral
    /// dust (Müller et al., JGR 2007, 40–55 sr).
    #[serde(default = "default_lidar_ratio")]
    pub lidar_ratio_sr: f64,
    /// Patchiness: σ of the log-normal factor on the back-scatter per beam (0: uniform).
    #[serde(default = "default_patchiness")]
    pub patchiness: f64,
}

fn default_lidar_ratio() -> f64 {
    45.0
}

fn default_patchiness() -> f64 {
    0.5
}

/// `[pipeline]`: which lidar pipeline and tracker settings the run uses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// A pitsense configuration file (its `[lidar]` and `[tracker]` sections), relative to the
    /// scenario file; the shipped `pipeline.toml` when absent.
    #[serde(default)]
    pub config: Option<String>,
}

/// `[[gates]]`: a threshold on one metric.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateFile {
    /// The metric.
    pub metric: Metric,
    /// Restrict to one actor kind (metrics per class).
    #[serde(default)]
    pub class: Option<ActorKind>,
    /// Restrict to one actor (time to first detection, id switches).
    #[serde(default)]
    pub actor: Option<String>,
    /// Restrict to one range bin.
    #[serde(default)]
    pub range: Option<RangeBin>,
    /// Lowest passing value.
    #[serde(default)]
    pub min: Option<f64>,
    /// Highest passing value.
    #[serde(default)]
    pub max: Option<f64>,
}

/// A whole scenario file, parsed but not yet checked against the world (see
/// [`super::world::Scenario::build`]).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// `[scenario]`.
    pub scenario: ScenarioSection,
    /// `[world]`.
    pub world: WorldFile,
    /// `[ego]`.
    pub ego: EgoFile,
    /// `[[lidars]]`, at least one.
    pub lidars: Spanned<Vec<LidarFile>>,
    /// `[[actors]]`.
    #[serde(default)]
    pub actors: Vec<ActorFile>,
    /// `[[dust]]`.
    #[serde(default)]
    pub dust: Vec<DustFile>,
    /// `[pipeline]`.
    #[serde(default)]
    pub pipeline: PipelineFile,
    /// `[[gates]]`.
    #[serde(default)]
    pub gates: Vec<Spanned<GateFile>>,
}

/// A scenario's text and where it came from.
#[derive(Clone, Debug)]
pub struct ScenarioSource {
    /// The file (`<shipped>/NAME.toml` for a shipped one), for messages.
    pub file: PathBuf,
    /// Its text.
    pub text: String,
    /// The folder relative paths in it are resolved against; `None` for shipped scenarios.
    pub folder: Option<PathBuf>,
}

impl ScenarioSource {
    /// A shipped scenario by name, or a scenario file by path (anything ending in `.toml` or
    /// containing a path separator).
    ///
    /// # Errors
    /// [`ScenarioError::Io`] when the file cannot be read, [`ScenarioError::Unknown`] for a name
    /// that is neither shipped nor a file.
    pub fn resolve(name_or_path: &str) -> Result<Self, ScenarioError> {
        if let Some((name, text)) = SHIPPED.iter().find(|(name, _)| *name == name_or_path) {
            return Ok(Self {
                file: PathBuf::from(format!("<shipped>/{name}.toml")),
                text: (*text).to_owned(),
                folder: None,
            });
        }
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.components().count() > 1 || path.exists() {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ScenarioError::Io { file: path.to_path_buf(), source })?;
            return Ok(Self { file: path.to_path_buf(), text, folder: path.parent().map(Path::to_path_buf) });
        }
        Err(ScenarioError::Unknown {
            name: name_or_path.to_owned(),
            shipped: SHIPPED.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", "),
        })
    }

    /// Parses the text.
    ///
    /// # Errors
    /// [`ScenarioError::Format`] with the parser's message (line, column and key).
    pub fn parse(&self) -> Result<ScenarioFile, ScenarioError> {
        toml::from_str(&self.text)
            .map_err(|error| ScenarioError::Format { file: self.file.clone(), message: error.to_string() })
    }

    /// The 1-based line of a byte offset in the text (1 for an unknown span, such as a default).
    pub fn line_of(&self, offset: usize) -> usize {
        self.text.get(..offset).map_or(1, |head| head.bytes().filter(|&b| b == b'\n').count() + 1)
    }

    /// An [`ScenarioError::Invalid`] for the value at `span`.
    pub fn invalid(
        &self,
        span: std::ops::Range<usize>,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.clone(),
            line: self.line_of(span.start),
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// Checks that `value` (the key's, at `span`) lies in `range` (NaN never does), else an
    /// [`ScenarioError::Invalid`] saying `= value must be in lo..=hi unit`.
    ///
    /// # Errors
    /// The value is outside the range or not a number.
    pub fn check_range(
        &self,
        value: f64,
        range: std::ops::RangeInclusive<f64>,
        unit: &str,
        span: std::ops::Range<usize>,
        key: impl Into<String>,
    ) -> Result<(), ScenarioError> {
        if range.contains(&value) {
            return Ok(());
        }
        let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
        Err(self.invalid(
            span,
            key,
            format!("= {value} must be in {}..={}{unit}", range.start(), range.end()),
        ))
    }

    /// The pipeline settings text: the file named in `[pipeline] config` (relative to the
    /// scenario's folder) or the shipped one.
    ///
    /// # Errors
    /// [`ScenarioError::Io`] when the named file cannot be read.
    pub fn pipeline_text(&self, pipeline: &PipelineFile) -> Result<(PathBuf, String), ScenarioError> {
        match &pipeline.config {
            None => Ok((PathBuf::from("<shipped>/pipeline.toml"), SHIPPED_PIPELINE.to_owned())),
            Some(relative) => {
                let path = match &self.folder {
                    Some(folder) => folder.join(relative),
                    None => PathBuf::from(relative),
                };
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| ScenarioError::Io { file: path.clone(), source })?;
                Ok((path, text))
            }
        }
    }
}

/// Deserializers for fixed-size number arrays that refuse a wrong length. serde's `[f64; N]`
/// takes the first `N` numbers of a longer TOML array and drops the rest without a word (an
/// adversarial run found `waypoints_m = [[0, 0, 5]]` read as `[0, 0]`); these read the whole
/// array and name the length they expected (toml adds the line and key).
mod exact {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};
    use toml::Spanned;

    fn to_array<const N: usize>(values: Vec<f64>) -> Result<[f64; N], String> {
        let found = values.len();
        <[f64; N]>::try_from(values).map_err(|_| format!("expected {N} numbers, found {found}"))
    }

    /// `[f64; N]`.
    pub(super) fn array<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[f64; N], D::Error> {
        to_array(Vec::<f64>::deserialize(deserializer)?).map_err(D::Error::custom)
    }

    /// `Spanned<[f64; N]>`.
    pub(super) fn spanned_array<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<Spanned<[f64; N]>, D::Error> {
        let values = Spanned::<Vec<f64>>::deserialize(deserializer)?;
        let span = values.span();
        Ok(Spanned::new(span, to_array(values.into_inner()).map_err(D::Error::custom)?))
    }

    /// `Option<Spanned<[f64; N]>>` (with `#[serde(default)]` for an absent key).
    pub(super) fn optional_spanned_array<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<Option<Spanned<[f64; N]>>, D::Error> {
        spanned_array(deserializer).map(Some)
    }

    /// `Spanned<Vec<[f64; N]>>`: each element named by its index when its length is wrong.
    pub(super) fn spanned_arrays<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<Spanned<Vec<[f64; N]>>, D::Error> {
        let rows = Spanned::<Vec<Vec<f64>>>::deserialize(deserializer)?;
        let span = rows.span();
        let arrays = rows
            .into_inner()
            .into_iter()
            .enumerate()
            .map(|(index, row)| to_array(row).map_err(|e| D::Error::custom(format!("element {index}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Spanned::new(span, arrays))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_newlines() {
        let source =
            ScenarioSource { file: PathBuf::from("x.toml"), text: "a = 1\nb = 2\n".into(), folder: None };
        assert_eq!(source.line_of(0), 1);
        assert_eq!(source.line_of(6), 2);
        assert_eq!(source.line_of(1000), 1);
    }
}
