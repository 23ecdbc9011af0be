//! Faults injected into the traffic a HIL run plays: what a mine's network and sensors do to a
//! truck's inputs.
//!
//! A fault is written `NAME:ARG[:ARG]` on the command line (`--fault loss:0.05`) and applies to
//! the **lidar** datagrams of the play schedule (GNSS sentences pass untouched, so that a fault's
//! effect is the lidar's alone). Every random draw comes from one ChaCha8 generator seeded by
//! the run's seed, so a run's schedule is the same, datagram for datagram, for the same seed.
//!
//! | Fault | Arguments | What it does |
//! |---|---|---|
//! | `loss` | probability | each datagram dropped independently |
//! | `burst` | probability, length | a burst of `length` consecutive datagrams dropped, starting at each datagram with the probability (Gilbert's two-state channel, fixed burst length) |
//! | `delay` | ms | every datagram sent that much later |
//! | `jitter` | ms | every datagram sent later by a uniform draw in `[0, ms]`; the schedule is re-sorted by send time, so jitter larger than the packet spacing reorders |
//! | `reorder` | probability | a datagram swapped with the next one |
//! | `duplicate` | probability | a datagram sent twice, back to back |
//! | `death` | at s, for s | nothing sent in `[at, at + for)` of scenario time (the sensor dies, then recovers) |
//! | `clock_jump` | at s, offset s | from `at` on, the sensor's column stamps jump by the offset (±) |
//! | `malformed` | probability | a datagram truncated to half its length |
//! | `cpu_hog` | processes | busy-looping processes compete for the CPU during the run |
//! | `zenoh_cut` | at s, for s | the zenoh link between the runtime and its subscriber is cut in `[at, at + for)` ([`crate::proxy`]) |
//! | `rsu_spoof` | objects | an RSU sends SDSMs at 10 Hz with the actors near it and that many objects no RSU could report: half 2 km away (beyond its range), half beside it at 120 m/s ([`crate::rsu`]) |

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::player::OusterLayout;

/// A fault that cannot be parsed.
#[derive(Debug, thiserror::Error)]
#[error("fault `{text}`: {reason}")]
pub struct FaultParseError {
    /// What was given.
    pub text: String,
    /// Why it is refused.
    pub reason: String,
}

/// One injected fault (see the module documentation for each).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    /// Independent loss with this probability.
    Loss {
        /// Probability in `[0, 1]`.
        probability: f64,
    },
    /// Bursts of `length` datagrams lost, each starting with this probability.
    Burst {
        /// Probability in `[0, 1]` that a burst starts at a datagram.
        probability: f64,
        /// Datagrams lost per burst (≥ 1).
        length: u32,
    },
    /// A constant delay, ms.
    Delay {
        /// Delay, ms (≥ 0).
        ms: f64,
    },
    /// A uniform random delay in `[0, ms]`.
    Jitter {
        /// Largest delay, ms (≥ 0).
        ms: f64,
    },
    /// A datagram swapped with its successor with this probability.
    Reorder {
        /// Probability in `[0, 1]`.
        probability: f64,
    },
    /// A datagram sent twice with this probability.
    Duplicate {
        /// Probability in `[0, 1]`.
        probability: f64,
    },
    /// The lidar sends nothing in `[at_s, at_s + for_s)` of scenario time.
    Death {
        /// Start, s of scenario time.
        at_s: f64,
        /// Duration, s.
        for_s: f64,
    },
    /// From `at_s` on, every column stamp is shifted by `offset_s`.
    ClockJump {
        /// Start, s of scenario time.
        at_s: f64,
        /// Shift, s (±; at most ±1000 s).
        offset_s: f64,
    },
    /// A datagram truncated to half its length with this probability.
    Malformed {
        /// Probability in `[0, 1]`.
        probability: f64,
    },
    /// `processes` busy loops compete for the CPU for the whole run.
    CpuHog {
        /// Number of busy processes (1–64).
        processes: u32,
    },
    /// An RSU reports the actors near it and `objects` spoofed objects in every SDSM.
    RsuSpoof {
        /// Spoofed objects per message (1–64).
        objects: u32,
    },
    /// The zenoh link to the runtime is cut in `[at_s, at_s + for_s)` of scenario time.
    ZenohCut {
        /// Start, s of scenario time.
        at_s: f64,
        /// Duration, s.
        for_s: f64,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Loss { probability } => write!(f, "loss:{probability}"),
            Self::Burst { probability, length } => write!(f, "burst:{probability}:{length}"),
            Self::Delay { ms } => write!(f, "delay:{ms}"),
            Self::Jitter { ms } => write!(f, "jitter:{ms}"),
            Self::Reorder { probability } => write!(f, "reorder:{probability}"),
            Self::Duplicate { probability } => write!(f, "duplicate:{probability}"),
            Self::Death { at_s, for_s } => write!(f, "death:{at_s}:{for_s}"),
            Self::ClockJump { at_s, offset_s } => write!(f, "clock_jump:{at_s}:{offset_s}"),
            Self::Malformed { probability } => write!(f, "malformed:{probability}"),
            Self::CpuHog { processes } => write!(f, "cpu_hog:{processes}"),
            Self::ZenohCut { at_s, for_s } => write!(f, "zenoh_cut:{at_s}:{for_s}"),
            Self::RsuSpoof { objects } => write!(f, "rsu_spoof:{objects}"),
        }
    }
}

impl std::str::FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = |reason: &str| FaultParseError { text: text.to_owned(), reason: reason.to_owned() };
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        let number = |index: usize, what: &str| -> Result<f64, FaultParseError> {
            let arg = args.get(index).ok_or_else(|| refuse(&format!("missing {what}")))?;
            let value: f64 = arg.parse().map_err(|_| refuse(&format!("{what} `{arg}` is not a number")))?;
            if value.is_finite() { Ok(value) } else { Err(refuse(&format!("{what} must be finite"))) }
        };
        let arity = |n: usize| -> Result<(), FaultParseError> {
            if args.len() == n { Ok(()) } else { Err(refuse(&format!("`{name}` takes {n} argument(s)"))) }
        };
        let probability = |index: usize| -> Result<f64, FaultParseError> {
            let p = number(index, "probability")?;
            if (0.0..=1.0).contains(&p) { Ok(p) } else { Err(refuse("probability must be in [0, 1]")) }
        };
        // Times and durations: 0 to a day (a longer one only overflows the schedule).
        let non_negative = |index: usize, what: &str| -> Result<f64, FaultParseError> {
            let v = number(index, what)?;
            if v < 0.0 {
                return Err(refuse(&format!("{what} must be ≥ 0")));
            }
            if v > 86_400.0 {
                return Err(refuse(&format!("{what} must be at most 86400 s (a day)")));
            }
            Ok(v)
        };
        let milliseconds = |index: usize, what: &str| -> Result<f64, FaultParseError> {
            let v = number(index, what)?;
            if (0.0..=60_000.0).contains(&v) {
                Ok(v)
            } else {
                Err(refuse(&format!("{what} must be 0 to 60000 ms")))
            }
        };
        let fault = match name {
            "loss" => {
                arity(1)?;
                Self::Loss { probability: probability(0)? }
            }
            "burst" => {
                arity(2)?;
                let length = number(1, "length")?;
                if !(1.0..=1e6).contains(&length) || length.fract() != 0.0 {
                    return Err(refuse("length must be a whole number of datagrams, 1 to 1000000"));
                }
                Self::Burst { probability: probability(0)?, length: length as u32 }
            }
            "delay" => {
                arity(1)?;
                Self::Delay { ms: milliseconds(0, "delay")? }
            }
            "jitter" => {
                arity(1)?;
                Self::Jitter { ms: milliseconds(0, "jitter")? }
            }
            "reorder" => {
                arity(1)?;
                Self::Reorder { probability: probability(0)? }
            }
            "duplicate" => {
                arity(1)?;
                Self::Duplicate { probability: probability(0)? }
            }
            "death" => {
                arity(2)?;
                Self::Death { at_s: non_negative(0, "start")?, for_s: non_negative(1, "duration")? }
            }
            "clock_jump" => {
                arity(2)?;
                let offset_s = number(1, "offset")?;
                if offset_s.abs() > 1000.0 {
                    return Err(refuse("offset must be within ±1000 s"));
                }
                Self::ClockJump { at_s: non_negative(0, "start")?, offset_s }
            }
            "malformed" => {
                arity(1)?;
                Self::Malformed { probability: probability(0)? }
            }
            "cpu_hog" => {
                arity(1)?;
                let processes = number(0, "processes")?;
                if !(1.0..=64.0).contains(&processes) || processes.fract() != 0.0 {
                    return Err(refuse("processes must be a whole number, 1 to 64"));
                }
                Self::CpuHog { processes: processes as u32 }
            }
            "rsu_spoof" => {
                arity(1)?;
                let objects = number(0, "objects")?;
                if !(1.0..=64.0).contains(&objects) || objects.fract() != 0.0 {
                    return Err(refuse("objects must be a whole number, 1 to 64"));
                }
                Self::RsuSpoof { objects: objects as u32 }
            }
            "zenoh_cut" => {
                arity(2)?;
                Self::ZenohCut { at_s: non_negative(0, "start")?, for_s: non_negative(1, "duration")? }
            }
            _ => {
                return Err(refuse(
                    "unknown fault (loss, burst, delay, jitter, reorder, duplicate, death, clock_jump, \
                     malformed, cpu_hog, zenoh_cut, rsu_spoof)",
                ));
            }
        };
        Ok(fault)
    }
}

/// Where a datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// Lidar `index` of the scenario (its own UDP port).
    Lidar(usize),
    /// The GNSS receiver's NMEA sentences.
    Gnss,
    /// The RSU's V2X messages (built when sent: they carry the wall-clock time).
    V2x,
    /// Vehicle CAN frames as cannelloni over UDP.
    Can,
}

/// One datagram of a play schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Datagram {
    /// Send time, ns after the start of the play.
    pub at_ns: u64,
    /// Destination.
    pub channel: Channel,
    /// Bytes sent.
    pub payload: Vec<u8>,
}

/// What the faults did to a schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FaultCounts {
    /// Lidar datagrams dropped (loss, bursts, death).
    pub dropped: u64,
    /// Lidar datagrams duplicated.
    pub duplicated: u64,
    /// Lidar datagrams swapped with their successor.
    pub reordered: u64,
    /// Lidar datagrams truncated.
    pub malformed: u64,
    /// Lidar datagrams whose column stamps were shifted.
    pub clock_shifted: u64,
}

/// Applies `faults`, in order, to the lidar datagrams of `schedule` (sorted by `at_ns`; scenario
/// time `t` is `at_ns / 1e9`), drawing from a generator seeded with `seed`. The result is sorted
/// by send time (stable: equal times keep their order). `layout` locates the column stamps for
/// `clock_jump`. `cpu_hog`, `zenoh_cut` and `rsu_spoof` do not touch the schedule.
pub fn apply(
    faults: &[Fault],
    schedule: Vec<Datagram>,
    layout: &OusterLayout,
    seed: u64,
) -> (Vec<Datagram>, FaultCounts) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counts = FaultCounts::default();
    let mut schedule = schedule;
    let is_lidar = |d: &Datagram| matches!(d.channel, Channel::Lidar(_));
    for fault in faults {
        match *fault {
            Fault::Loss { probability } => {
                schedule.retain(|d| {
                    let lost = is_lidar(d) && rng.random_bool(probability);
                    counts.dropped += u64::from(lost);
                    !lost
                });
            }
            Fault::Burst { probability, length } => {
                let mut left = 0_u32;
                schedule.retain(|d| {
                    if !is_lidar(d) {
                        return true;
                    }
                    if left == 0 && rng.random_bool(probability) {
                        left = length;
                    }
                    if left > 0 {
                        left -= 1;
                        counts.dropped += 1;
                        return false;
                    }
                    true
                });
            }
            Fault::Delay { ms } => {
                let delay_ns = (ms * 1e6).round() as u64;
                for d in schedule.iter_mut().filter(|d| is_lidar(d)) {
                    d.at_ns += delay_ns;
                }
            }
            Fault::Jitter { ms } => {
                for d in schedule.iter_mut().filter(|d| is_lidar(d)) {
                    d.at_ns += (rng.random::<f64>() * ms * 1e6).round() as u64;
                }
            }
            Fault::Reorder { probability } => {
                let lidar: Vec<usize> = (0..schedule.len()).filter(|&i| is_lidar(&schedule[i])).collect();
                let mut k = 0;
                while k + 1 < lidar.len() {
                    if rng.random_bool(probability) {
                        let (a, b) = (lidar[k], lidar[k + 1]);
                        let (first, second) = (schedule[a].payload.clone(), schedule[b].payload.clone());
                        let (first_channel, second_channel) = (schedule[a].channel, schedule[b].channel);
                        schedule[a].payload = second;
                        schedule[a].channel = second_channel;
                        schedule[b].payload = first;
                        schedule[b].channel = first_channel;
                        counts.reordered += 1;
                        k += 2;
                    } else {
                        k += 1;
                    }
                }
            }
            Fault::Duplicate { probability } => {
                let mut out = Vec::with_capacity(schedule.len());
                for d in schedule {
                    let twice = is_lidar(&d) && rng.random_bool(probability);
                    if twice {
                        counts.duplicated += 1;
                        out.push(d.clone());
                    }
                    out.push(d);
                }
                schedule = out;
            }
            Fault::Death { at_s, for_s } => {
                let (from_ns, to_ns) = ((at_s * 1e9) as u64, ((at_s + for_s) * 1e9) as u64);
                schedule.retain(|d| {
                    let dead = is_lidar(d) && (from_ns..to_ns).contains(&d.at_ns);
                    counts.dropped += u64::from(dead);
                    !dead
                });
            }
            Fault::ClockJump { at_s, offset_s } => {
                let from_ns = (at_s * 1e9) as u64;
                let shift_ns = (offset_s * 1e9).round() as i64;
                for d in schedule.iter_mut().filter(|d| is_lidar(d) && d.at_ns >= from_ns) {
                    layout.shift_column_stamps(&mut d.payload, shift_ns);
                    counts.clock_shifted += 1;
                }
            }
            Fault::Malformed { probability } => {
                for d in schedule.iter_mut().filter(|d| is_lidar(d)) {
                    if rng.random_bool(probability) {
                        d.payload.truncate(d.payload.len() / 2);
                        counts.malformed += 1;
                    }
                }
            }
            Fault::CpuHog { .. } | Fault::ZenohCut { .. } | Fault::RsuSpoof { .. } => {}
        }
    }
    schedule.sort_by_key(|d| d.at_ns);
    (schedule, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> OusterLayout {
        // 2 columns of 16 bytes after a 32-byte header: stamps at bytes 32..40 and 48..56.
        OusterLayout { header_bytes: 32, column_bytes: 16, columns_per_packet: 2 }
    }

    /// 100 lidar datagrams 1 ms apart (payload: their index) and a GNSS sentence every 10.
    fn schedule() -> Vec<Datagram> {
        let mut out = Vec::new();
        for i in 0..100_u64 {
            let mut payload = vec![0_u8; 64];
            payload[0] = i as u8;
            payload[32..40].copy_from_slice(&(1_000 + i).to_le_bytes());
            out.push(Datagram { at_ns: i * 1_000_000, channel: Channel::Lidar(0), payload });
            if i % 10 == 0 {
                out.push(Datagram { at_ns: i * 1_000_000, channel: Channel::Gnss, payload: b"$GP".to_vec() });
            }
        }
        out
    }

    fn lidar_ids(schedule: &[Datagram]) -> Vec<u8> {
        schedule.iter().filter(|d| d.channel == Channel::Lidar(0)).map(|d| d.payload[0]).collect()
    }

    #[test]
    fn parses_each_fault_and_refuses_nonsense() {
        assert_eq!("loss:0.05".parse::<Fault>().unwrap(), Fault::Loss { probability: 0.05 });
        assert_eq!("burst:0.01:20".parse::<Fault>().unwrap(), Fault::Burst { probability: 0.01, length: 20 });
        assert_eq!("death:2:1.5".parse::<Fault>().unwrap(), Fault::Death { at_s: 2.0, for_s: 1.5 });
        assert_eq!(
            "clock_jump:3:-1".parse::<Fault>().unwrap(),
            Fault::ClockJump { at_s: 3.0, offset_s: -1.0 }
        );
        assert_eq!("cpu_hog:2".parse::<Fault>().unwrap(), Fault::CpuHog { processes: 2 });
        assert_eq!("zenoh_cut:2:0.5".parse::<Fault>().unwrap(), Fault::ZenohCut { at_s: 2.0, for_s: 0.5 });
        assert_eq!("rsu_spoof:4".parse::<Fault>().unwrap(), Fault::RsuSpoof { objects: 4 });
        for fault in ["loss:0.05", "burst:0.01:20", "delay:5", "jitter:3", "reorder:0.1", "duplicate:0.2"] {
            assert_eq!(fault.parse::<Fault>().unwrap().to_string(), fault);
        }
        for (text, reason) in [
            ("loss:1.5", "probability must be in [0, 1]"),
            ("loss", "takes 1 argument"),
            ("loss:0.1:2", "takes 1 argument"),
            ("burst:0.1:0", "length must be"),
            ("delay:-3", "0 to 60000 ms"),
            ("delay:1e308", "0 to 60000 ms"),
            ("death:1e308:1", "at most 86400 s"),
            ("death:1:-1", "must be ≥ 0"),
            ("jitter:NaN", "must be finite"),
            ("flood:1", "unknown fault"),
            ("clock_jump:1:5000", "±1000 s"),
            ("cpu_hog:2.5", "whole number"),
        ] {
            let error = text.parse::<Fault>().unwrap_err().to_string();
            assert!(error.contains(text) && error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn death_drops_exactly_the_lidar_datagrams_of_its_span() {
        let (out, counts) = apply(&[Fault::Death { at_s: 0.020, for_s: 0.030 }], schedule(), &layout(), 1);
        // Datagrams at 20..49 ms are gone: 30 of them; the GNSS sentences at 20, 30, 40 stay.
        assert_eq!(counts.dropped, 30);
        let ids = lidar_ids(&out);
        assert_eq!(ids.len(), 70);
        assert!(ids.iter().all(|&i| !(20..50).contains(&i)));
        assert_eq!(out.iter().filter(|d| d.channel == Channel::Gnss).count(), 10);
    }

    #[test]
    fn loss_draws_are_seeded_and_near_their_probability() {
        let big: Vec<Datagram> = (0..20_000_u64)
            .map(|i| Datagram { at_ns: i, channel: Channel::Lidar(0), payload: vec![0; 64] })
            .collect();
        let (a, counts) = apply(&[Fault::Loss { probability: 0.1 }], big.clone(), &layout(), 7);
        let (b, _) = apply(&[Fault::Loss { probability: 0.1 }], big.clone(), &layout(), 7);
        assert_eq!(a, b, "same seed, same schedule");
        // Binomial(20000, 0.1): mean 2000, σ ≈ 42; ±5σ.
        assert!((1790..=2210).contains(&counts.dropped), "{}", counts.dropped);
        let (c, _) = apply(&[Fault::Loss { probability: 0.1 }], big, &layout(), 8);
        assert_ne!(a, c, "another seed, other draws");
    }

    #[test]
    fn bursts_drop_runs_of_their_length() {
        let (out, counts) = apply(&[Fault::Burst { probability: 0.02, length: 5 }], schedule(), &layout(), 3);
        let ids = lidar_ids(&out);
        assert_eq!(counts.dropped as usize, 100 - ids.len());
        // Every gap is a whole number of bursts of 5, unless cut by the end of the schedule.
        let mut expected = 0_u8;
        for &id in ids.iter().chain(std::iter::once(&100)) {
            let gap = id - expected;
            assert!(gap.is_multiple_of(5) || id == 100, "gap of {gap} before {id}");
            expected = id + 1;
        }
    }

    #[test]
    fn duplicate_reorder_malformed_and_jitter_keep_every_datagram() {
        let (out, counts) = apply(&[Fault::Duplicate { probability: 0.5 }], schedule(), &layout(), 4);
        assert_eq!(lidar_ids(&out).len() as u64, 100 + counts.duplicated);
        assert!(counts.duplicated > 20);

        let (out, counts) = apply(&[Fault::Reorder { probability: 0.3 }], schedule(), &layout(), 4);
        let mut ids = lidar_ids(&out);
        let swapped = ids.windows(2).filter(|w| w[0] > w[1]).count() as u64;
        assert_eq!(swapped, counts.reordered);
        ids.sort_unstable();
        assert_eq!(ids, (0..100).collect::<Vec<u8>>());

        let (out, counts) = apply(&[Fault::Malformed { probability: 0.25 }], schedule(), &layout(), 4);
        let short = out.iter().filter(|d| d.channel == Channel::Lidar(0) && d.payload.len() == 32).count();
        assert_eq!(short as u64, counts.malformed);

        let (out, _) = apply(&[Fault::Jitter { ms: 5.0 }], schedule(), &layout(), 4);
        assert!(out.windows(2).all(|w| w[0].at_ns <= w[1].at_ns), "sorted by send time");
        let mut ids = lidar_ids(&out);
        assert_ne!(ids, (0..100).collect::<Vec<u8>>(), "5 ms of jitter on 1 ms spacing reorders");
        ids.sort_unstable();
        assert_eq!(ids, (0..100).collect::<Vec<u8>>());
    }

    #[test]
    fn delay_moves_lidar_only_and_clock_jump_shifts_stamps_from_its_start() {
        let (out, _) = apply(&[Fault::Delay { ms: 2.5 }], schedule(), &layout(), 0);
        let first_lidar = out.iter().find(|d| d.channel == Channel::Lidar(0)).unwrap();
        assert_eq!(first_lidar.at_ns, 2_500_000);
        assert_eq!(out.iter().find(|d| d.channel == Channel::Gnss).unwrap().at_ns, 0);

        let (out, counts) =
            apply(&[Fault::ClockJump { at_s: 0.050, offset_s: -0.000_000_5 }], schedule(), &layout(), 0);
        assert_eq!(counts.clock_shifted, 50);
        let stamp = |d: &Datagram| u64::from_le_bytes(d.payload[32..40].try_into().unwrap());
        let lidar: Vec<&Datagram> = out.iter().filter(|d| d.channel == Channel::Lidar(0)).collect();
        assert_eq!(stamp(lidar[49]), 1_049);
        // 1050 − 500 ns.
        assert_eq!(stamp(lidar[50]), 550);
    }
}
