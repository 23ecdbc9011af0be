//! The truck's ego pose in the site frame from GNSS fixes, true heading and vehicle CAN.
//!
//! Frames and conventions:
//! - Site frame: the local east-north-up frame at the configured origin
//!   ([`pitsense_v2x::geodesy::SiteFrame`], WGS-84), yaw counter-clockwise from east.
//! - NMEA headings and courses are degrees clockwise from true north. The conversion is
//!   `yaw_rad = π/2 − heading_deg · π/180`, wrapped to `(−π, π]`
//!   ([`enu_yaw_rad_from_true_heading_deg`]): north 0° → π/2, east 90° → 0, south 180° → −π/2,
//!   west 270° → π.
//! - The antenna's pose in the truck frame is `truck_from_gnss` (x forward, y left, z up, from
//!   the rear-axle origin; `yaw_rad` is the receiver's heading baseline relative to the truck's
//!   x axis, 0 when the receiver is set up to report the truck's heading). Then
//!   `site_from_truck = site_from_gnss · truck_from_gnss⁻¹`: the truck's yaw is the heading's yaw
//!   minus the mount yaw, and the truck origin is the antenna position minus the lever arm
//!   rotated by the truck's yaw. Roll and pitch are not observed by these sentences and are taken
//!   as zero, so on a ramp of grade g the lever arm's height `z_m` shifts the origin by about
//!   `z_m · g` horizontally (0.4 m for a 4 m mast on a 10 % ramp).
//! - RMC course over ground is the direction the antenna moves, used as the truck's yaw directly
//!   (turned by π when CAN says the truck reverses); it is only used above
//!   `min_course_speed_mps`.
//!
//! [`EgoEstimator::ego_at`] at a stamp between two fixes at most `max_fix_gap_ms` apart
//! interpolates the two truck poses (position linearly, yaw along the shorter arc). After the
//! newest fix (or across a longer gap) it dead-reckons from the fix before the stamp, at most
//! `max_dead_reckoning_ms`, with the constant-turn-rate-and-velocity (CTRV) model integrated
//! exactly between CAN samples (zero-order hold of each sample's speed and yaw rate; see e.g.
//! Schubert, Richter and Wanielik, "Comparison and evaluation of advanced motion models for
//! vehicle tracking", FUSION 2008). Without CAN the speed and yaw rate come from the two newest
//! fixes and headings. The yaw at a fix's stamp comes from the heading samples the same way
//! (interpolated, or carried from the nearest sample by the integrated yaw rate).
//!
//! Stamps: every sentence is stamped at reception; `reception_latency_ms` (the receiver's
//! output delay, from its data sheet) is subtracted to get the time of validity.

use std::collections::VecDeque;
use std::f64::consts::{FRAC_PI_2, PI, TAU};
use std::sync::atomic::{AtomicU64, Ordering};

use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};
use pitsense_types::{ConfigError, EgoState, FrameId, Header, VehicleSignals};
use pitsense_v2x::geodesy::{Geodetic, SiteFrame};
use serde::{Deserialize, Serialize};

use super::nmea::{GgaQuality, RmcStatus, Sentence};
use super::source::StampedSentence;

/// Fixes kept (25 s at 10 Hz).
pub const FIX_HISTORY: usize = 256;
/// Heading samples kept per source (true heading, course).
pub const HEADING_HISTORY: usize = 256;
/// Vehicle (CAN) samples kept (10 s at 100 Hz).
pub const VEHICLE_HISTORY: usize = 1024;

/// Default dotted section of the configuration, used by [`EgoEstimatorConfig::validate`].
pub const CONFIG_SECTION: &str = "gnss";

const NS_PER_MS: u64 = 1_000_000;
const NS_PER_S: f64 = 1e9;
/// Below this yaw rate (rad/s) the CTRV step uses the straight-line limit.
const MIN_TURN_RATE_RADPS: f64 = 1e-9;

/// Converts an NMEA true heading (degrees clockwise from true north) to a yaw in the site's
/// ENU frame (radians counter-clockwise from east), wrapped to `(−π, π]`.
pub fn enu_yaw_rad_from_true_heading_deg(true_heading_deg: f64) -> f64 {
    wrap_angle_rad(FRAC_PI_2 - true_heading_deg.to_radians())
}

/// The inverse of [`enu_yaw_rad_from_true_heading_deg`]: a true heading in `[0, 360)` degrees.
pub fn true_heading_deg_from_enu_yaw_rad(yaw_rad: f64) -> f64 {
    let heading_deg = (90.0 - yaw_rad.to_degrees()).rem_euclid(360.0);
    // rem_euclid can round up to exactly 360 for tiny negative inputs.
    if heading_deg >= 360.0 { 0.0 } else { heading_deg }
}

/// Wraps an angle to `(−π, π]`.
pub fn wrap_angle_rad(angle_rad: f64) -> f64 {
    let wrapped = (angle_rad + PI).rem_euclid(TAU) - PI;
    if wrapped <= -PI { wrapped + TAU } else { wrapped }
}

/// Interpolates from `from_rad` towards `to_rad` along the shorter arc; `fraction` in `0..=1`.
pub fn interpolate_angle_rad(from_rad: f64, to_rad: f64, fraction: f64) -> f64 {
    wrap_angle_rad(from_rad + fraction * wrap_angle_rad(to_rad - from_rad))
}

/// A sensor's mounting pose in the truck frame (x forward, y left, z up, origin at the rear
/// axle centre on the ground): translation in metres and yaw about z in radians
/// (counter-clockwise). Roll and pitch are taken as zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountPose {
    /// Forward offset, m.
    pub x_m: f64,
    /// Leftward offset, m.
    pub y_m: f64,
    /// Upward offset, m.
    pub z_m: f64,
    /// Yaw of the sensor's x axis from the truck's x axis, rad, counter-clockwise.
    #[serde(default)]
    pub yaw_rad: f64,
}

/// Which heading the estimator trusts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadingSource {
    /// HDT/THS true heading; RMC course over ground (when moving) only while no true heading is
    /// available.
    #[default]
    TrueHeading,
    /// HDT/THS only: no pose without a true heading.
    TrueHeadingOnly,
    /// RMC course over ground only (single-antenna receivers).
    CourseOverGround,
}

fn default_max_dead_reckoning_ms() -> u64 {
    500
}
fn default_max_fix_gap_ms() -> u64 {
    1000
}
fn default_min_course_speed_mps() -> f64 {
    1.0
}

/// Settings of the [`EgoEstimator`]; `runtime/config/gnss.example.toml` documents every key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgoEstimatorConfig {
    /// Origin of the site's ENU frame (the same origin as the V2X stage's `site_origin`).
    pub site_origin: Geodetic,
    /// The GNSS antenna (heading baseline) in the truck frame.
    pub truck_from_gnss: MountPose,
    /// Longest dead reckoning past a fix, ms, `0..=10000`; later stamps get no pose.
    #[serde(default = "default_max_dead_reckoning_ms")]
    pub max_dead_reckoning_ms: u64,
    /// Two fixes (or headings) at most this far apart are interpolated, ms, `1..=60000`.
    #[serde(default = "default_max_fix_gap_ms")]
    pub max_fix_gap_ms: u64,
    /// Which heading to use.
    #[serde(default)]
    pub heading_source: HeadingSource,
    /// RMC course over ground counts as a heading only at or above this speed, m/s, `0..=50`.
    #[serde(default = "default_min_course_speed_mps")]
    pub min_course_speed_mps: f64,
    /// Receiver output delay subtracted from every sentence's reception stamp, ms, `0..=1000`.
    #[serde(default)]
    pub reception_latency_ms: u64,
}

impl EgoEstimatorConfig {
    /// A configuration with the defaults for everything but the origin and the antenna mount.
    pub fn new(site_origin: Geodetic, truck_from_gnss: MountPose) -> Self {
        Self {
            site_origin,
            truck_from_gnss,
            max_dead_reckoning_ms: default_max_dead_reckoning_ms(),
            max_fix_gap_ms: default_max_fix_gap_ms(),
            heading_source: HeadingSource::default(),
            min_course_speed_mps: default_min_course_speed_mps(),
            reception_latency_ms: 0,
        }
    }

    /// Checks every value, naming keys under [`CONFIG_SECTION`] (`gnss.max_dead_reckoning_ms`).
    ///
    /// # Errors
    /// The first [`ConfigError`], naming its dotted key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_in(CONFIG_SECTION)
    }

    /// Checks every value, naming keys under `section` (the table this configuration sits in,
    /// e.g. `run.inputs.gnss.ego`).
    ///
    /// # Errors
    /// The first [`ConfigError`], naming its dotted key.
    pub fn validate_in(&self, section: &str) -> Result<(), ConfigError> {
        let key = |name: &str| format!("{section}.{name}");
        if !self.site_origin.is_valid() {
            return Err(ConfigError::new(
                key("site_origin"),
                format!(
                    "{:?} is not a finite WGS-84 position (lat -90..=90, lon -180..=180 degrees)",
                    self.site_origin
                ),
            ));
        }
        let mount = &self.truck_from_gnss;
        for (name, value) in [("x_m", mount.x_m), ("y_m", mount.y_m), ("z_m", mount.z_m)] {
            ConfigError::check_range(&key(&format!("truck_from_gnss.{name}")), value, -100.0, 100.0)?;
        }
        ConfigError::check_range(&key("truck_from_gnss.yaw_rad"), mount.yaw_rad, -PI, PI)?;
        if self.max_dead_reckoning_ms > 10_000 {
            return Err(ConfigError::new(key("max_dead_reckoning_ms"), "must be in 0..=10000"));
        }
        if !(1..=60_000).contains(&self.max_fix_gap_ms) {
            return Err(ConfigError::new(key("max_fix_gap_ms"), "must be in 1..=60000"));
        }
        ConfigError::check_range(&key("min_course_speed_mps"), self.min_course_speed_mps, 0.0, 50.0)?;
        if self.reception_latency_ms > 1000 {
            return Err(ConfigError::new(key("reception_latency_ms"), "must be in 0..=1000"));
        }
        Ok(())
    }
}

/// What [`EgoEstimator::push_fix`] took from a sentence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixUse {
    /// A position (GGA with a usable quality, or valid RMC) was added or completed an epoch's.
    pub position: bool,
    /// A heading (HDT, valid THS, or RMC course when moving) was added.
    pub heading: bool,
}

/// Where the estimator stands, for the health monitor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EgoStatus {
    /// Time of validity of the newest fix, ns.
    pub newest_fix_stamp_ns: Option<u64>,
    /// GGA quality of the newest fix (`None` when it came from RMC alone).
    pub newest_fix_quality: Option<GgaQuality>,
    /// Time of validity of the newest true heading (HDT/THS), ns.
    pub newest_true_heading_stamp_ns: Option<u64>,
    /// Time of validity of the newest course-over-ground heading, ns.
    pub newest_course_stamp_ns: Option<u64>,
    /// Stamp of the newest vehicle (CAN) sample with a speed, ns.
    pub newest_vehicle_stamp_ns: Option<u64>,
    /// Fixes used.
    pub fixes_used: u64,
    /// Headings used (true heading and course).
    pub headings_used: u64,
    /// Sentences that carried nothing usable (no fix, warning status, empty heading, mode not
    /// valid).
    pub sentences_ignored: u64,
}

#[derive(Clone, Copy, Debug)]
struct FixSample {
    stamp_ns: u64,
    utc_time_of_day_s: Option<f64>,
    antenna_in_site: Vector3<f64>,
    /// Whether the height came from a GGA (else the last known height or the origin's).
    measured_height: bool,
    quality: Option<GgaQuality>,
}

#[derive(Clone, Copy, Debug)]
struct HeadingSample {
    stamp_ns: u64,
    truck_yaw_rad: f64,
}

#[derive(Clone, Copy, Debug)]
struct VehicleSample {
    stamp_ns: u64,
    speed_mps: f64,
    yaw_rate_radps: Option<f64>,
}

/// A planar truck pose in the site frame.
#[derive(Clone, Copy, Debug)]
struct PlanarPose {
    x_m: f64,
    y_m: f64,
    z_m: f64,
    yaw_rad: f64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Motion {
    speed_mps: f64,
    yaw_rate_radps: f64,
    accel_mps2: f64,
}

#[derive(Clone, Copy, Debug)]
struct Segment {
    dt_s: f64,
    motion: Motion,
}

trait Stamped {
    fn stamp_ns(&self) -> u64;
}
impl Stamped for FixSample {
    fn stamp_ns(&self) -> u64 {
        self.stamp_ns
    }
}
impl Stamped for HeadingSample {
    fn stamp_ns(&self) -> u64 {
        self.stamp_ns
    }
}
impl Stamped for VehicleSample {
    fn stamp_ns(&self) -> u64 {
        self.stamp_ns
    }
}

/// Inserts in stamp order (after equal stamps) and keeps at most `capacity`, dropping the oldest.
fn insert_sorted<T: Stamped>(samples: &mut VecDeque<T>, sample: T, capacity: usize) {
    let index = samples.partition_point(|s| s.stamp_ns() <= sample.stamp_ns());
    samples.insert(index, sample);
    while samples.len() > capacity {
        samples.pop_front();
    }
}

/// The newest sample at or before `stamp_ns` and the oldest after it.
fn bracket<T: Stamped>(samples: &VecDeque<T>, stamp_ns: u64) -> (Option<&T>, Option<&T>) {
    let index = samples.partition_point(|s| s.stamp_ns() <= stamp_ns);
    (index.checked_sub(1).and_then(|i| samples.get(i)), samples.get(index))
}

fn seconds_between(from_ns: u64, to_ns: u64) -> f64 {
    if to_ns >= from_ns {
        (to_ns - from_ns) as f64 / NS_PER_S
    } else {
        -((from_ns - to_ns) as f64 / NS_PER_S)
    }
}

/// The truck's ego pose from GNSS/INS sentences and vehicle CAN. A synchronous core: no I/O,
/// no clock; feed it with [`Self::push_fix`] and [`Self::push_vehicle`], query
/// [`Self::ego_at`].
#[derive(Debug)]
pub struct EgoEstimator {
    config: EgoEstimatorConfig,
    site: SiteFrame,
    fixes: VecDeque<FixSample>,
    true_headings: VecDeque<HeadingSample>,
    courses: VecDeque<HeadingSample>,
    vehicle: VecDeque<VehicleSample>,
    status: EgoStatus,
    last_height_m: Option<f64>,
    seq: AtomicU64,
}

impl EgoEstimator {
    /// An estimator with no data yet.
    ///
    /// # Errors
    /// [`ConfigError`] from [`EgoEstimatorConfig::validate`].
    pub fn new(config: EgoEstimatorConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let site = SiteFrame::new(config.site_origin)
            .map_err(|error| ConfigError::new(format!("{CONFIG_SECTION}.site_origin"), error.reason))?;
        Ok(Self {
            config,
            site,
            fixes: VecDeque::with_capacity(FIX_HISTORY + 1),
            true_headings: VecDeque::with_capacity(HEADING_HISTORY + 1),
            courses: VecDeque::with_capacity(HEADING_HISTORY + 1),
            vehicle: VecDeque::with_capacity(VEHICLE_HISTORY + 1),
            status: EgoStatus::default(),
            last_height_m: None,
            seq: AtomicU64::new(0),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EgoEstimatorConfig {
        &self.config
    }

    /// The site frame (ENU at the configured origin).
    pub fn site_frame(&self) -> &SiteFrame {
        &self.site
    }

    /// Where the estimator stands (newest stamps and counts).
    pub fn status(&self) -> EgoStatus {
        self.status
    }

    /// Age of the newest fix at `now_ns`, ns (0 when the fix is stamped after `now_ns`);
    /// `None` before the first fix.
    pub fn fix_age_ns(&self, now_ns: u64) -> Option<u64> {
        self.status.newest_fix_stamp_ns.map(|stamp_ns| now_ns.saturating_sub(stamp_ns))
    }

    fn max_dead_reckoning_ns(&self) -> u64 {
        self.config.max_dead_reckoning_ms * NS_PER_MS
    }

    fn max_gap_ns(&self) -> u64 {
        self.config.max_fix_gap_ms * NS_PER_MS
    }

    /// Takes what a sentence offers: a position from GGA (usable quality) or RMC (status `A`,
    /// mode not manual/simulator/not valid), a heading from HDT, THS (mode `A` or `E`) or RMC's
    /// course (moving at or above `min_course_speed_mps`). GGA and RMC of the same epoch (same
    /// UTC time) make one fix, stamped by the first to arrive, with GGA's height.
    pub fn push_fix(&mut self, stamped: &StampedSentence) -> FixUse {
        let stamp_ns = stamped.stamp_ns.saturating_sub(self.config.reception_latency_ms * NS_PER_MS);
        let mut used = FixUse::default();
        match &stamped.sentence {
            Sentence::Gga(gga) => {
                if let (Some(true), Some(lat_deg), Some(lon_deg)) =
                    (gga.quality.map(GgaQuality::is_usable_fix), gga.lat_deg, gga.lon_deg)
                {
                    used.position = self.add_position(
                        stamp_ns,
                        gga.utc_time_of_day_s,
                        lat_deg,
                        lon_deg,
                        gga.ellipsoidal_height_m(),
                        gga.quality,
                    );
                }
            }
            Sentence::Rmc(rmc) => {
                let valid =
                    rmc.status == Some(RmcStatus::Valid) && rmc.mode.is_none_or(|mode| mode.is_measured());
                if valid {
                    if let (Some(lat_deg), Some(lon_deg)) = (rmc.lat_deg, rmc.lon_deg) {
                        used.position =
                            self.add_position(stamp_ns, rmc.utc_time_of_day_s, lat_deg, lon_deg, None, None);
                    }
                    if let (Some(speed_mps), Some(course_deg)) = (rmc.speed_mps, rmc.course_over_ground_deg)
                        && speed_mps >= self.config.min_course_speed_mps
                    {
                        let reversing = self.vehicle_motion_at(stamp_ns).is_some_and(|m| m.speed_mps < 0.0);
                        let course_yaw_rad = enu_yaw_rad_from_true_heading_deg(course_deg);
                        let truck_yaw_rad =
                            if reversing { wrap_angle_rad(course_yaw_rad + PI) } else { course_yaw_rad };
                        insert_sorted(
                            &mut self.courses,
                            HeadingSample { stamp_ns, truck_yaw_rad },
                            HEADING_HISTORY,
                        );
                        self.status.newest_course_stamp_ns = self.courses.back().map(|s| s.stamp_ns);
                        used.heading = true;
                    }
                }
            }
            Sentence::Hdt(hdt) => {
                if let Some(heading_deg) = hdt.true_heading_deg {
                    self.add_true_heading(stamp_ns, heading_deg);
                    used.heading = true;
                }
            }
            Sentence::Ths(ths) => {
                if let (Some(heading_deg), Some(true)) =
                    (ths.true_heading_deg, ths.mode.map(|m| m.is_measured()))
                {
                    self.add_true_heading(stamp_ns, heading_deg);
                    used.heading = true;
                }
            }
        }
        if used.heading {
            self.status.headings_used += 1;
        }
        if !used.position && !used.heading {
            self.status.sentences_ignored += 1;
        }
        used
    }

    fn add_true_heading(&mut self, stamp_ns: u64, heading_deg: f64) {
        let gnss_yaw_rad = enu_yaw_rad_from_true_heading_deg(heading_deg);
        let truck_yaw_rad = wrap_angle_rad(gnss_yaw_rad - self.config.truck_from_gnss.yaw_rad);
        insert_sorted(&mut self.true_headings, HeadingSample { stamp_ns, truck_yaw_rad }, HEADING_HISTORY);
        self.status.newest_true_heading_stamp_ns = self.true_headings.back().map(|s| s.stamp_ns);
    }

    fn add_position(
        &mut self,
        stamp_ns: u64,
        utc_time_of_day_s: Option<f64>,
        lat_deg: f64,
        lon_deg: f64,
        height_m: Option<f64>,
        quality: Option<GgaQuality>,
    ) -> bool {
        let measured_height = height_m.is_some();
        let height_m = height_m.or(self.last_height_m).unwrap_or(self.config.site_origin.height_m);
        let geodetic = Geodetic::new(lat_deg, lon_deg, height_m);
        if !geodetic.is_valid() {
            return false;
        }
        if measured_height {
            self.last_height_m = Some(height_m);
        }
        let antenna_in_site = self.site.site_from_geodetic(&geodetic).coords;
        // The other sentence of the same epoch (GGA after RMC or the reverse).
        let max_gap_ns = self.max_gap_ns();
        if let (Some(newest), Some(utc_s)) = (self.fixes.back_mut(), utc_time_of_day_s)
            && newest.utc_time_of_day_s.is_some_and(|newest_utc_s| (newest_utc_s - utc_s).abs() < 1e-3)
            && stamp_ns.abs_diff(newest.stamp_ns) <= max_gap_ns
        {
            if measured_height && !newest.measured_height {
                newest.antenna_in_site = antenna_in_site;
                newest.measured_height = true;
                newest.quality = quality;
                self.status.newest_fix_quality = quality;
            }
            newest.stamp_ns = newest.stamp_ns.min(stamp_ns);
            self.status.newest_fix_stamp_ns = self.fixes.back().map(|f| f.stamp_ns);
            return true;
        }
        let sample = FixSample { stamp_ns, utc_time_of_day_s, antenna_in_site, measured_height, quality };
        insert_sorted(&mut self.fixes, sample, FIX_HISTORY);
        self.status.fixes_used += 1;
        if let Some(newest) = self.fixes.back() {
            self.status.newest_fix_stamp_ns = Some(newest.stamp_ns);
            self.status.newest_fix_quality = newest.quality;
        }
        true
    }

    /// Takes a vehicle CAN sample; used when it has a finite speed (the yaw rate may be
    /// missing: the GNSS heading rate stands in). Returns whether it was used.
    pub fn push_vehicle(&mut self, signals: &VehicleSignals) -> bool {
        let Some(speed_mps) = signals.speed_mps.filter(|v| v.is_finite()) else {
            return false;
        };
        let yaw_rate_radps = signals.yaw_rate_radps.filter(|w| w.is_finite());
        insert_sorted(
            &mut self.vehicle,
            VehicleSample { stamp_ns: signals.stamp_ns, speed_mps, yaw_rate_radps },
            VEHICLE_HISTORY,
        );
        self.status.newest_vehicle_stamp_ns = self.vehicle.back().map(|s| s.stamp_ns);
        true
    }

    /// The truck's pose and motion in the site frame at `stamp_ns`: interpolated between the
    /// fixes around it, or dead-reckoned from the fix before it up to `max_dead_reckoning_ms`.
    /// `None` when neither is possible (no fix yet, stamp before the history, dead reckoning
    /// too long, no heading, or no speed to dead-reckon with): the runtime's `ego_pose_lost`.
    ///
    /// `speed_mps` and `yaw_rate_radps` come from CAN (the sample in effect at `stamp_ns`) or,
    /// without CAN, from the fixes and headings; `accel_mps2` is the difference of the two CAN
    /// samples in effect (0 without CAN).
    pub fn ego_at(&self, stamp_ns: u64) -> Option<EgoState> {
        let (before, after) = bracket(&self.fixes, stamp_ns);
        let (pose, motion) = match (before, after) {
            (Some(a), Some(b)) if b.stamp_ns - a.stamp_ns <= self.max_gap_ns() => {
                let pose_a = self.truck_pose_at_fix(a)?;
                let pose_b = self.truck_pose_at_fix(b)?;
                let dt_s = seconds_between(a.stamp_ns, b.stamp_ns);
                let fraction = if dt_s > 0.0 { seconds_between(a.stamp_ns, stamp_ns) / dt_s } else { 0.0 };
                let pose = PlanarPose {
                    x_m: pose_a.x_m + fraction * (pose_b.x_m - pose_a.x_m),
                    y_m: pose_a.y_m + fraction * (pose_b.y_m - pose_a.y_m),
                    z_m: pose_a.z_m + fraction * (pose_b.z_m - pose_a.z_m),
                    yaw_rad: interpolate_angle_rad(pose_a.yaw_rad, pose_b.yaw_rad, fraction),
                };
                let motion = self.vehicle_motion_at(stamp_ns).unwrap_or_else(|| {
                    if dt_s <= 0.0 {
                        return Motion::default();
                    }
                    let (sin, cos) = pose.yaw_rad.sin_cos();
                    Motion {
                        speed_mps: ((pose_b.x_m - pose_a.x_m) * cos + (pose_b.y_m - pose_a.y_m) * sin) / dt_s,
                        yaw_rate_radps: wrap_angle_rad(pose_b.yaw_rad - pose_a.yaw_rad) / dt_s,
                        accel_mps2: 0.0,
                    }
                });
                (pose, motion)
            }
            (Some(a), _) if stamp_ns - a.stamp_ns <= self.max_dead_reckoning_ns() => {
                let mut pose = self.truck_pose_at_fix(a)?;
                let segments = self.motion_segments(a.stamp_ns, stamp_ns)?;
                for segment in &segments {
                    pose = ctrv_step(pose, segment);
                }
                let motion = match segments.last() {
                    Some(segment) => segment.motion,
                    None => self
                        .vehicle_motion_at(stamp_ns)
                        .or_else(|| self.gnss_motion_at(stamp_ns))
                        .unwrap_or_default(),
                };
                (pose, motion)
            }
            _ => return None,
        };
        let rotation = UnitQuaternion::from_axis_angle(&Vector3::z_axis(), pose.yaw_rad);
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        Some(EgoState {
            header: Header { stamp_ns, frame: FrameId::Site, seq },
            site_from_truck: Isometry3::from_parts(Translation3::new(pose.x_m, pose.y_m, pose.z_m), rotation),
            speed_mps: motion.speed_mps,
            yaw_rate_radps: motion.yaw_rate_radps,
            accel_mps2: motion.accel_mps2,
        })
    }

    /// The truck pose at a fix: the antenna position less the lever arm turned by the yaw.
    fn truck_pose_at_fix(&self, fix: &FixSample) -> Option<PlanarPose> {
        let yaw_rad = self.yaw_at(fix.stamp_ns)?;
        let mount = &self.config.truck_from_gnss;
        let (sin, cos) = yaw_rad.sin_cos();
        Some(PlanarPose {
            x_m: fix.antenna_in_site.x - (cos * mount.x_m - sin * mount.y_m),
            y_m: fix.antenna_in_site.y - (sin * mount.x_m + cos * mount.y_m),
            z_m: fix.antenna_in_site.z - mount.z_m,
            yaw_rad,
        })
    }

    /// The truck's yaw at `stamp_ns` from the configured heading source.
    fn yaw_at(&self, stamp_ns: u64) -> Option<f64> {
        match self.config.heading_source {
            HeadingSource::TrueHeading => self
                .timeline_yaw_at(&self.true_headings, stamp_ns)
                .or_else(|| self.timeline_yaw_at(&self.courses, stamp_ns)),
            HeadingSource::TrueHeadingOnly => self.timeline_yaw_at(&self.true_headings, stamp_ns),
            HeadingSource::CourseOverGround => self.timeline_yaw_at(&self.courses, stamp_ns),
        }
    }

    /// Interpolated between the samples around `stamp_ns` when they are close enough, else the
    /// nearest sample within the dead-reckoning limit carried by the integrated yaw rate.
    fn timeline_yaw_at(&self, samples: &VecDeque<HeadingSample>, stamp_ns: u64) -> Option<f64> {
        let (before, after) = bracket(samples, stamp_ns);
        if let (Some(a), Some(b)) = (before, after)
            && b.stamp_ns - a.stamp_ns <= self.max_gap_ns()
        {
            let fraction = seconds_between(a.stamp_ns, stamp_ns) / seconds_between(a.stamp_ns, b.stamp_ns);
            return Some(interpolate_angle_rad(a.truck_yaw_rad, b.truck_yaw_rad, fraction));
        }
        let max_ns = self.max_dead_reckoning_ns();
        if let Some(a) = before
            && stamp_ns - a.stamp_ns <= max_ns
        {
            return Some(wrap_angle_rad(a.truck_yaw_rad + self.integrated_yaw_rad(a.stamp_ns, stamp_ns)));
        }
        if let Some(b) = after
            && b.stamp_ns - stamp_ns <= max_ns
        {
            return Some(wrap_angle_rad(b.truck_yaw_rad - self.integrated_yaw_rad(stamp_ns, b.stamp_ns)));
        }
        None
    }

    /// ∫ yaw rate dt over `from_ns..to_ns` (0 when no motion is known: the yaw is held).
    fn integrated_yaw_rad(&self, from_ns: u64, to_ns: u64) -> f64 {
        self.motion_segments(from_ns, to_ns)
            .map(|segments| segments.iter().map(|s| s.motion.yaw_rate_radps * s.dt_s).sum())
            .unwrap_or(0.0)
    }

    /// The CAN sample in effect at `stamp_ns` (the newest at or before it, not older than the
    /// dead-reckoning limit), with the acceleration from its predecessor.
    fn vehicle_motion_at(&self, stamp_ns: u64) -> Option<Motion> {
        let index = self.vehicle.partition_point(|s| s.stamp_ns <= stamp_ns).checked_sub(1)?;
        let sample = self.vehicle.get(index)?;
        if stamp_ns - sample.stamp_ns > self.max_dead_reckoning_ns() {
            return None;
        }
        Some(self.motion_of(index, sample, stamp_ns))
    }

    fn motion_of(&self, index: usize, sample: &VehicleSample, stamp_ns: u64) -> Motion {
        let accel_mps2 = index
            .checked_sub(1)
            .and_then(|i| self.vehicle.get(i))
            .map(|previous| {
                let dt_s = seconds_between(previous.stamp_ns, sample.stamp_ns);
                if dt_s > 0.0 { (sample.speed_mps - previous.speed_mps) / dt_s } else { 0.0 }
            })
            .unwrap_or(0.0);
        let yaw_rate_radps = sample
            .yaw_rate_radps
            .or_else(|| self.gnss_motion_at(stamp_ns).map(|m| m.yaw_rate_radps))
            .unwrap_or(0.0);
        Motion { speed_mps: sample.speed_mps, yaw_rate_radps, accel_mps2 }
    }

    /// Speed and yaw rate from the GNSS alone: the displacement between the two fixes up to
    /// `stamp_ns` (signed by the heading) and the turn between the two headings up to it.
    fn gnss_motion_at(&self, stamp_ns: u64) -> Option<Motion> {
        let headings = match self.config.heading_source {
            HeadingSource::CourseOverGround => &self.courses,
            HeadingSource::TrueHeading if self.true_headings.is_empty() => &self.courses,
            HeadingSource::TrueHeading | HeadingSource::TrueHeadingOnly => &self.true_headings,
        };
        let pair = |count: usize| -> Option<(usize, usize)> {
            let newest = count.checked_sub(1)?;
            Some((newest.checked_sub(1)?, newest))
        };
        let fix_count = self.fixes.partition_point(|f| f.stamp_ns <= stamp_ns).max(2.min(self.fixes.len()));
        let (i, j) = pair(fix_count)?;
        let (a, b) = (self.fixes.get(i)?, self.fixes.get(j)?);
        let dt_s = seconds_between(a.stamp_ns, b.stamp_ns);
        if dt_s <= 0.0 || b.stamp_ns - a.stamp_ns > self.max_gap_ns() {
            return None;
        }
        let displacement = b.antenna_in_site - a.antenna_in_site;
        let distance_m = displacement.xy().norm();
        let heading_count = headings.partition_point(|h| h.stamp_ns <= stamp_ns).max(1.min(headings.len()));
        let sign = match heading_count.checked_sub(1).and_then(|k| headings.get(k)) {
            Some(heading) => {
                let (sin, cos) = heading.truck_yaw_rad.sin_cos();
                if displacement.x * cos + displacement.y * sin < 0.0 { -1.0 } else { 1.0 }
            }
            None => 1.0,
        };
        let yaw_rate_radps = pair(heading_count)
            .and_then(|(k, l)| Some((headings.get(k)?, headings.get(l)?)))
            .filter(|(h0, h1)| h1.stamp_ns > h0.stamp_ns && h1.stamp_ns - h0.stamp_ns <= self.max_gap_ns())
            .map(|(h0, h1)| {
                wrap_angle_rad(h1.truck_yaw_rad - h0.truck_yaw_rad)
                    / seconds_between(h0.stamp_ns, h1.stamp_ns)
            })
            .unwrap_or(0.0);
        Some(Motion { speed_mps: sign * distance_m / dt_s, yaw_rate_radps, accel_mps2: 0.0 })
    }

    /// Piecewise-constant motion over `from_ns..=to_ns`: CAN samples (each held until the next;
    /// before the first, the first), or the GNSS motion when no CAN sample lies within the
    /// dead-reckoning limit of the interval. `None` when no motion is known.
    fn motion_segments(&self, from_ns: u64, to_ns: u64) -> Option<Vec<Segment>> {
        if to_ns <= from_ns {
            return Some(Vec::new());
        }
        let earliest_ns = from_ns.saturating_sub(self.max_dead_reckoning_ns());
        let start = self.vehicle.partition_point(|s| s.stamp_ns < earliest_ns);
        let end = self.vehicle.partition_point(|s| s.stamp_ns <= to_ns);
        if start >= end {
            let motion = self.gnss_motion_at(from_ns)?;
            return Some(vec![Segment { dt_s: seconds_between(from_ns, to_ns), motion }]);
        }
        // The sample in effect at from_ns: the newest at or before it, else the first after it.
        let first_after = self.vehicle.partition_point(|s| s.stamp_ns <= from_ns);
        let mut current = first_after.checked_sub(1).filter(|&i| i >= start).unwrap_or(first_after);
        let mut segments = Vec::new();
        let mut cursor_ns = from_ns;
        loop {
            let sample = self.vehicle.get(current)?;
            let next = self.vehicle.get(current + 1).filter(|next| next.stamp_ns < to_ns);
            let segment_end_ns = next.map_or(to_ns, |next| next.stamp_ns.max(cursor_ns));
            segments.push(Segment {
                dt_s: seconds_between(cursor_ns, segment_end_ns),
                motion: self.motion_of(current, sample, cursor_ns),
            });
            cursor_ns = segment_end_ns;
            if next.is_none() {
                return Some(segments);
            }
            current += 1;
        }
    }
}

/// One exact CTRV step: constant speed along the heading and constant yaw rate for `dt_s`.
fn ctrv_step(pose: PlanarPose, segment: &Segment) -> PlanarPose {
    let Motion { speed_mps, yaw_rate_radps, .. } = segment.motion;
    let dt_s = segment.dt_s;
    let yaw_end_rad = pose.yaw_rad + yaw_rate_radps * dt_s;
    let (dx_m, dy_m) = if yaw_rate_radps.abs() > MIN_TURN_RATE_RADPS {
        let radius_m = speed_mps / yaw_rate_radps;
        (
            radius_m * (yaw_end_rad.sin() - pose.yaw_rad.sin()),
            radius_m * (pose.yaw_rad.cos() - yaw_end_rad.cos()),
        )
    } else {
        (speed_mps * dt_s * pose.yaw_rad.cos(), speed_mps * dt_s * pose.yaw_rad.sin())
    };
    PlanarPose {
        x_m: pose.x_m + dx_m,
        y_m: pose.y_m + dy_m,
        z_m: pose.z_m,
        yaw_rad: wrap_angle_rad(yaw_end_rad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnss::nmea::{Hdt, TalkerId};

    #[test]
    fn heading_conversion_north_east_south_west() {
        // Clockwise from north → counter-clockwise from east: yaw = 90° − heading.
        let cases = [
            (0.0, FRAC_PI_2),
            (90.0, 0.0),
            (180.0, -FRAC_PI_2),
            (270.0, PI),
            (45.0, PI / 4.0),
            (315.0, 3.0 * PI / 4.0),
        ];
        for (heading_deg, yaw_rad) in cases {
            let converted = enu_yaw_rad_from_true_heading_deg(heading_deg);
            assert!((converted - yaw_rad).abs() < 1e-12, "{heading_deg}° → {converted}, want {yaw_rad}");
            let back = true_heading_deg_from_enu_yaw_rad(converted);
            assert!((back - heading_deg).abs() < 1e-9, "{yaw_rad} → {back}°, want {heading_deg}°");
        }
        assert_eq!(wrap_angle_rad(-PI), PI);
        assert!((wrap_angle_rad(3.0 * PI) - PI).abs() < 1e-12);
        // 179° and −179° meet at ±180° along the short arc, not at 0.
        let middle = interpolate_angle_rad(179f64.to_radians(), (-179f64).to_radians(), 0.5);
        assert!((middle.abs() - PI).abs() < 1e-12, "{middle}");
    }

    #[test]
    fn config_errors_name_the_dotted_key() {
        let mut config = EgoEstimatorConfig::new(Geodetic::new(-24.27, -69.07, 3000.0), MountPose::default());
        assert!(config.validate().is_ok());
        config.truck_from_gnss.yaw_rad = 4.0;
        assert_eq!(config.validate().map_err(|e| e.key), Err("gnss.truck_from_gnss.yaw_rad".to_owned()));
        config.truck_from_gnss.yaw_rad = 0.0;
        config.max_fix_gap_ms = 0;
        assert_eq!(
            config.validate_in("run.inputs.gnss").map_err(|e| e.key),
            Err("run.inputs.gnss.max_fix_gap_ms".to_owned())
        );
        config.max_fix_gap_ms = 1000;
        config.site_origin.lat_deg = f64::NAN;
        assert_eq!(
            EgoEstimator::new(config).map(|_| ()).map_err(|e| e.key),
            Err("gnss.site_origin".to_owned())
        );
    }

    #[test]
    fn heading_with_mount_yaw() {
        // Receiver baseline turned 90° left of the truck's x axis: a heading of north (yaw π/2)
        // means the truck faces east (yaw 0).
        let mount = MountPose { x_m: 0.0, y_m: 0.0, z_m: 0.0, yaw_rad: FRAC_PI_2 };
        let mut estimator = EgoEstimator::new(EgoEstimatorConfig::new(Geodetic::new(10.0, 20.0, 0.0), mount))
            .expect("config");
        let talker = TalkerId::new("GP").expect("talker");
        let hdt = Sentence::Hdt(Hdt { talker, true_heading_deg: Some(0.0) });
        assert!(estimator.push_fix(&StampedSentence { stamp_ns: 1_000, sentence: hdt }).heading);
        let yaw = estimator.yaw_at(1_000).expect("yaw");
        assert!(yaw.abs() < 1e-12, "{yaw}");
    }
}
