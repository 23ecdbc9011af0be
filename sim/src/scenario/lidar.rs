//! The lidar model: a real Ouster beam pattern cast against the simulated world.
//!
//! **Beams.** Every pixel `(row, column)` of the sensor's range image is one beam, with the
//! origin and direction the decoder's XYZ table gives it ([`XyzLut::ray_m`], from the metadata's
//! beam altitude and azimuth tables, beam origin offset and lidar-to-sensor transform). Column
//! `c` fires at `frame_start + c · column_period` (`1 / (rate · W)`); the truck and the actors
//! move during the rotation (poses are updated once per packet's worth of columns), so the
//! scan carries the motion distortion a real one does.
//!
//! **Hard returns.** The nearest of the terrain and the actor boxes. Received power of a
//! Lambertian target of reflectivity `ρ` at range `R` and incidence `θ`, with the two-way
//! transmission `T² = exp(−2 ∫ α dr)` through dust (Beer–Lambert):
//! `P_hard = (ρ / π) · cos θ · T² / R²` (relative units, the pulse peak power and the receiver
//! constant cancel). A return is reported when `P ≥ P_threshold = (0.1 / π) / R₁₀²`, `R₁₀` the
//! range at which a 10 % target is at the threshold (`range_at_10pct_m`). Its range gets
//! Gaussian noise of σ `range_noise_m` and is quantised to the packet's millimetres.
//!
//! **Dust** (Hahner, Sakaridis, Dai, Van Gool, "Fog Simulation on Real LiDAR Point Clouds for
//! 3D Object Detection in Adverse Weather", ICCV 2021, Sec. 3; reimplemented from the paper,
//! with dust's optics in place of fog's). A cloud of meteorological optical range `MOR` has the
//! extinction `α = −ln 0.05 / MOR` (Koschmieder) and the back-scatter `β = α / S`, `S` its lidar
//! ratio. The pulse `p(t) = sin²(π t / 2τ_H)`, `0 ≤ t ≤ 2τ_H`, `τ_H = 10 ns` (the paper's), seen
//! from a cloud entered at `r₀` gives the soft-return power
//! `P_soft(R) = ∫ p(2(R − r)/c) · β · ξ(r) · exp(−2α (r − r₀)) / r² dr`, `ξ` the transmitter–
//! receiver overlap (0 before 0.5 m, 1 after 2 m, linear between). It is evaluated on a grid of
//! `c τ_H / 16` over the first two pulse lengths of the cloud, where its maximum lies (the
//! integrand only falls after `r₀`). When the peak beats the attenuated hard return and the
//! threshold, the beam reports the soft return at the peak's range instead — the "ghost" points
//! dust makes. Clouds are patchy: per beam, `β` is scaled by a log-normal factor of σ
//! `patchiness` (mean 1), so some beams return from the dust and others pass.
//!
//! **Fields.** `RANGE` (mm), `REFLECTIVITY` = `round(100 · P · π · R²)` clamped to 1..=100 (what
//! a range-compensated Lambertian calibration reports: `ρ cos θ T²` for a hard return), `SIGNAL`
//! = `round(10 · P / P_threshold)` photons (relative), `NEAR_IR` 0, `FLAGS` 0; every column valid.

use nalgebra::{Isometry3, Point3, Vector3};
use pitsense_perception::drivers::ouster::{LidarScan, XyzLut};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::world::{ActorBox, Scenario, SimLidar};

/// Speed of light, m/s.
const SPEED_OF_LIGHT_MPS: f64 = 299_792_458.0;
/// Half pulse width `τ_H`, s (Hahner et al. 2021).
const PULSE_HALF_WIDTH_S: f64 = 10e-9;
/// Grid steps per pulse length `c τ_H` of the soft-return integral.
const SOFT_STEPS: usize = 16;
/// Transmitter–receiver overlap: 0 before this range, m.
const OVERLAP_START_M: f64 = 0.5;
/// Overlap reaches 1 at this range, m.
const OVERLAP_FULL_M: f64 = 2.0;
/// Largest range the 19-bit `RANGE` field holds, m.
const MAX_RANGE_FIELD_M: f64 = 524.0;

/// Nanoseconds added to simulated time for stamps, so no stamp is 0 (a missing column).
pub const STAMP_EPOCH_NS: u64 = 1_000_000_000;

/// Who a pixel's return came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// No return.
    None,
    /// The terrain.
    Terrain,
    /// A dust cloud's back-scatter (a soft return).
    Dust,
    /// Actor `i` of the scenario.
    Actor(u16),
}

/// One simulated rotation.
#[derive(Clone, Debug)]
pub struct SimScan {
    /// The range image and its fields, as the decoder would produce from the packets.
    pub scan: LidarScan,
    /// Per pixel (`H × W`, row-major, staggered), who returned.
    pub owner: Vec<Owner>,
    /// Per pixel, the simulated range before its quantisation to millimetres, m (0: no return).
    pub range_m: Vec<f64>,
    /// Per actor, its returns in this rotation.
    pub actor_returns: Vec<usize>,
    /// Soft returns from dust.
    pub dust_returns: usize,
    /// Hard returns lost to dust attenuation (above the threshold without the dust).
    pub dust_extinguished: usize,
    /// Time of the last column (scenario time, s): the cloud's stamp.
    pub end_s: f64,
}

/// A lidar of the scenario, ready to simulate rotations.
#[derive(Clone, Debug)]
pub struct LidarModel {
    lidar: SimLidar,
    lut: XyzLut,
    /// Per pixel, the beam in the sensor frame: origin (m) and unit direction.
    rays: Vec<(Point3<f64>, Vector3<f64>)>,
    width: usize,
    height: usize,
    column_period_s: f64,
    frame_period_s: f64,
    threshold: f64,
    max_range_m: f64,
}

impl LidarModel {
    /// The model of `lidar` (its metadata gives the beams, columns and rate).
    pub fn new(lidar: &SimLidar) -> Self {
        let metadata = &lidar.metadata;
        let lut = XyzLut::new(metadata);
        let (height, width) = (metadata.pixels_per_column, metadata.columns_per_frame);
        let mut rays = Vec::with_capacity(height * width);
        for row in 0..height {
            for col in 0..width {
                let (origin, direction) = lut.ray_m(row, col).unwrap_or(([0.0; 3], [1.0, 0.0, 0.0]));
                rays.push((Point3::from(origin), Vector3::from(direction)));
            }
        }
        let rate_hz = f64::from(metadata.rotation_rate_hz().unwrap_or(10));
        let frame_period_s = 1.0 / rate_hz;
        Self {
            lidar: lidar.clone(),
            lut,
            rays,
            width,
            height,
            column_period_s: frame_period_s / width as f64,
            frame_period_s,
            threshold: 0.1 / std::f64::consts::PI / (lidar.range_at_10pct_m * lidar.range_at_10pct_m),
            max_range_m: (lidar.range_at_10pct_m * 10.0_f64.sqrt()).min(MAX_RANGE_FIELD_M),
        }
    }

    /// The simulated lidar.
    pub fn lidar(&self) -> &SimLidar {
        &self.lidar
    }

    /// The decoder's XYZ table for this sensor (sensor frame).
    pub fn lut(&self) -> &XyzLut {
        &self.lut
    }

    /// Time of one rotation, s.
    pub fn frame_period_s(&self) -> f64 {
        self.frame_period_s
    }

    /// Simulates rotation `frame` starting at scenario time `start_s`; `rng` draws the noise
    /// (seed it per lidar and frame for determinism).
    pub fn simulate(&self, scenario: &Scenario, frame: u64, start_s: f64, rng: &mut ChaCha8Rng) -> SimScan {
        let mut scan = LidarScan::empty(&self.lidar.metadata);
        scan.frame_id = (frame & 0xffff) as u16;
        scan.init_id = self.lidar.metadata.initialization_id.unwrap_or(0);
        let pixels = self.width * self.height;
        let mut owner = vec![Owner::None; pixels];
        let mut ranges_m = vec![0.0; pixels];
        let mut actor_returns = vec![0_usize; scenario.actors.len()];
        let (mut dust_returns, mut dust_extinguished) = (0, 0);
        let block = self.lidar.metadata.columns_per_packet.max(1);
        let mut boxes: Vec<ActorBox> = Vec::new();
        let mut site_from_sensor = Isometry3::identity();
        for col in 0..self.width {
            let t_s = start_s + col as f64 * self.column_period_s;
            if col % block == 0 {
                // Poses once per packet: the middle of its columns.
                let mid_s = t_s + (block as f64 - 1.0) * 0.5 * self.column_period_s;
                boxes = scenario.actor_boxes(mid_s);
                site_from_sensor = scenario.ego_pose(mid_s).0 * self.lidar.truck_from_lidar_true;
            }
            scan.timestamp_ns[col] = STAMP_EPOCH_NS + (t_s * 1e9).round() as u64;
            scan.measurement_id[col] = col as u16;
            scan.status[col] = 1;
            for row in 0..self.height {
                let index = row * self.width + col;
                let (origin_sensor, direction_sensor) = &self.rays[index];
                let origin = site_from_sensor * origin_sensor;
                let direction = site_from_sensor.rotation * direction_sensor;
                let beam = self.beam(scenario, &boxes, &origin, &direction, rng);
                match beam {
                    Beam::Return { range_m, power, owner: who } => {
                        let range_mm = (range_m * 1000.0).round();
                        if !(1.0..MAX_RANGE_FIELD_M * 1000.0).contains(&range_mm) {
                            continue;
                        }
                        scan.range_mm[index] = range_mm as u32;
                        ranges_m[index] = range_m;
                        let apparent = power * std::f64::consts::PI * range_m * range_m;
                        scan.reflectivity[index] = (100.0 * apparent).round().clamp(1.0, 100.0) as u8;
                        if let Some(signal) = scan.signal.get_mut(index) {
                            *signal = (10.0 * power / self.threshold).round().clamp(1.0, 65535.0) as u16;
                        }
                        owner[index] = who;
                        match who {
                            Owner::Actor(actor) => actor_returns[usize::from(actor)] += 1,
                            Owner::Dust => dust_returns += 1,
                            Owner::None | Owner::Terrain => {}
                        }
                    }
                    Beam::Extinguished => dust_extinguished += 1,
                    Beam::Nothing => {}
                }
            }
        }
        scan.columns_received = scan.columns_expected;
        scan.packets = self.width.div_ceil(block);
        let end_s = start_s + (self.width - 1) as f64 * self.column_period_s;
        SimScan { scan, owner, range_m: ranges_m, actor_returns, dust_returns, dust_extinguished, end_s }
    }

    /// One beam: the hard hit, dust, and what the receiver reports.
    fn beam(
        &self,
        scenario: &Scenario,
        boxes: &[ActorBox],
        origin: &Point3<f64>,
        direction: &Vector3<f64>,
        rng: &mut ChaCha8Rng,
    ) -> Beam {
        let mut limit = self.max_range_m;
        let mut hard = None;
        if let Some(hit) = scenario.terrain.cast(origin, direction, limit) {
            limit = hit.t_m;
            hard = Some((hit, Owner::Terrain));
        }
        for actor_box in boxes {
            if let Some(hit) = actor_box.cast(origin, direction, limit) {
                limit = hit.t_m;
                hard = Some((hit, Owner::Actor(actor_box.actor as u16)));
            }
        }
        // Dust between the sensor and the hard hit (or the maximum range).
        let mut optical_depth = 0.0;
        let mut soft: Option<(f64, f64)> = None;
        for cloud in &scenario.dust {
            let Some((t_in, t_out)) = cloud.segment(origin, direction, limit) else { continue };
            optical_depth += cloud.extinction_per_m * (t_out - t_in);
            let factor = if cloud.patchiness > 0.0 {
                let z: f64 = StandardNormal.sample(rng);
                (cloud.patchiness * z - 0.5 * cloud.patchiness * cloud.patchiness).exp()
            } else {
                1.0
            };
            let peak = soft_return(t_in, t_out, cloud.extinction_per_m, cloud.backscatter_per_m_sr * factor);
            if soft.is_none_or(|(power, _)| peak.0 > power) {
                soft = Some(peak);
            }
        }
        let transmission = (-2.0 * optical_depth).exp();
        let hard_power = hard.map(|(hit, who)| {
            let cos_incidence = hit.normal.dot(direction).abs();
            let clear =
                hit.reflectivity / std::f64::consts::PI * cos_incidence / (hit.t_m * hit.t_m).max(1e-6);
            (hit.t_m, clear, who)
        });
        let attenuated = hard_power.map_or(0.0, |(_, clear, _)| clear * transmission);
        if let Some((soft_power, soft_range)) = soft
            && soft_power > attenuated
            && soft_power >= self.threshold
        {
            return Beam::Return { range_m: soft_range, power: soft_power, owner: Owner::Dust };
        }
        match hard_power {
            Some((range_m, _, who)) if attenuated >= self.threshold => {
                let noise: f64 = StandardNormal.sample(rng);
                Beam::Return {
                    range_m: range_m + self.lidar.range_noise_m * noise,
                    power: attenuated,
                    owner: who,
                }
            }
            Some((_, clear, _)) if clear >= self.threshold => Beam::Extinguished,
            _ => Beam::Nothing,
        }
    }
}

/// What one beam reports.
enum Beam {
    /// A return: range (m), received power (relative), who.
    Return { range_m: f64, power: f64, owner: Owner },
    /// A hard target above the threshold in clear air, lost to dust.
    Extinguished,
    /// Nothing within range.
    Nothing,
}

/// Transmitter–receiver overlap `ξ(r)`.
fn overlap(range_m: f64) -> f64 {
    ((range_m - OVERLAP_START_M) / (OVERLAP_FULL_M - OVERLAP_START_M)).clamp(0.0, 1.0)
}

/// `p = sin²(π · lag / SOFT_STEPS)` at the lags `m + ½`, `m = 0..SOFT_STEPS` (the pulse seen
/// from a scatterer `(m + ½)` grid steps before the range), computed once.
fn pulse_table() -> &'static [f64; SOFT_STEPS] {
    static TABLE: std::sync::OnceLock<[f64; SOFT_STEPS]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|m| (std::f64::consts::PI * (m as f64 + 0.5) / SOFT_STEPS as f64).sin().powi(2))
    })
}

/// The peak of the soft return of a cloud entered at `t_in` and left at `t_out` (m along the
/// beam), extinction `alpha` (1/m), back-scatter `beta` (1/(m·sr)): `(power, range_m)` (see the
/// module documentation).
pub fn soft_return(t_in: f64, t_out: f64, alpha: f64, beta: f64) -> (f64, f64) {
    let pulse_m = SPEED_OF_LIGHT_MPS * PULSE_HALF_WIDTH_S;
    let step = pulse_m / SOFT_STEPS as f64;
    // Scatterers at the cell centres r_j = t_in + (j + ½)·step, inside the cloud; the two-way
    // transmission exp(−2α (r_j − t_in)) by recurrence.
    let mut impulse = [0.0_f64; 2 * SOFT_STEPS];
    let decay = (-2.0 * alpha * step).exp();
    let mut transmission = (-alpha * step).exp();
    for (j, value) in impulse.iter_mut().enumerate() {
        let r = t_in + (j as f64 + 0.5) * step;
        if r < t_out && r > 0.0 {
            *value = beta * overlap(r) * transmission / (r * r) * step;
        }
        transmission *= decay;
    }
    let pulse = pulse_table();
    let mut best = (0.0, t_in);
    for k in 1..=2 * SOFT_STEPS {
        let range = t_in + k as f64 * step;
        let mut power = 0.0;
        let first = k.saturating_sub(SOFT_STEPS);
        for (j, scatter) in impulse.iter().enumerate().take(k).skip(first) {
            power += pulse[k - j - 1] * scatter;
        }
        if power > best.0 {
            best = (power, range);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_return_matches_the_closed_form_far_from_the_sensor() {
        // Far away and thin (α → 0): P(R) ≈ β / r₀² · ∫ sin²(π x / L) dx over the pulse, the
        // full integral L/2 once R − r₀ ≥ L; the peak sits at or after one pulse length.
        let (alpha, beta, r0) = (1e-6, 0.01, 100.0);
        let (power, range) = soft_return(r0, r0 + 50.0, alpha, beta);
        let pulse_m = SPEED_OF_LIGHT_MPS * PULSE_HALF_WIDTH_S;
        let expected = beta / (r0 * r0) * pulse_m / 2.0;
        assert!((power - expected).abs() / expected < 0.05, "{power} vs {expected}");
        assert!(range >= r0 + pulse_m * 0.9 && range <= r0 + 2.0 * pulse_m, "{range}");
        // Dense dust: extinction pulls the peak towards the entry.
        let (_, dense_range) = soft_return(r0, r0 + 50.0, 0.5, beta);
        assert!(dense_range < range, "{dense_range} vs {range}");
        // No cloud past its exit: a 0.05 m sliver gives almost nothing.
        let (sliver, _) = soft_return(r0, r0 + 0.05, 1e-6, beta);
        assert!(sliver < expected * 0.05);
    }

    #[test]
    fn overlap_ramps() {
        assert_eq!(overlap(0.2), 0.0);
        assert_eq!(overlap(1.25), 0.5);
        assert_eq!(overlap(3.0), 1.0);
    }
}
