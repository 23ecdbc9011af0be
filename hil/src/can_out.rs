//! The runtime's vehicle CAN outputs as the truck's ECU receives them: cannelloni CAN-over-UDP
//! datagrams (format version 2, big-endian; cannelloni's `doc/udp_format.md`) carrying the
//! `PITSENSE_HEALTH` (0x300) and `PITSENSE_OBJECT` (0x310) messages of `config/truck.dbc`.
//!
//! The harness decodes them itself, from the DBC's signal definitions written out by hand
//! below (not through the runtime's DBC code), and reports what the ECU saw: the health cycle's
//! period and missed alive counts, the degraded mode's changes, the objects.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitsense_types::DegradedMode;
use serde::Serialize;

use crate::harness::LatencyMs;

/// `PITSENSE_HEALTH`'s identifier (`BO_ 768`).
pub const HEALTH_ID: u32 = 768;
/// `PITSENSE_OBJECT`'s identifier (`BO_ 784`).
pub const OBJECT_ID: u32 = 784;

/// One classic CAN data frame: identifier (11 or 29 bits) and data.
pub type RawFrame = (u32, Vec<u8>);

/// The data frames of one cannelloni datagram (remote, error and CAN FD frames are skipped).
///
/// # Errors
/// A text naming what is wrong: not version 2 / op code 0, or a frame that runs past the end.
pub fn decode_cannelloni(bytes: &[u8]) -> Result<Vec<RawFrame>, String> {
    let header = bytes.get(..5).ok_or("shorter than the 5-byte header")?;
    if header[0] != 2 || header[1] != 0 {
        return Err(format!("version {} op code {}, not a version-2 data packet", header[0], header[1]));
    }
    let count = u16::from_be_bytes([header[3], header[4]]);
    let mut frames = Vec::new();
    let mut rest = &bytes[5..];
    for index in 0..count {
        let truncated = || format!("frame {index} of {count} runs past the datagram");
        let id_bytes: [u8; 4] = rest.get(..4).and_then(|b| b.try_into().ok()).ok_or_else(truncated)?;
        let can_id = u32::from_be_bytes(id_bytes);
        let len = *rest.get(4).ok_or_else(truncated)?;
        let (fd, data_len) = (len & 0x80 != 0, usize::from(len & 0x7F));
        let start = if fd { 6 } else { 5 };
        // RTR frames carry no data.
        let data_len = if can_id & 0x4000_0000 != 0 { 0 } else { data_len };
        let data = rest.get(start..start + data_len).ok_or_else(truncated)?;
        rest = &rest[start + data_len..];
        if can_id & 0x6000_0000 == 0 && !fd {
            let id = if can_id & 0x8000_0000 != 0 { can_id & 0x1FFF_FFFF } else { can_id & 0x7FF };
            frames.push((id, data.to_vec()));
        }
    }
    Ok(frames)
}

/// A `PITSENSE_HEALTH` frame's signals (raw values: the DBC's factors are all 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HealthFrame {
    /// `DegradedMode` (7|4@0+): [`DegradedMode::code`].
    pub degraded_mode: u8,
    /// `AliveCounter` (3|4@0+), modulo 16.
    pub alive_counter: u8,
    /// Input status codes (0 ok, 1 not received, 2 rate low, 3 stale, 4 failed, 7 not
    /// configured): `LidarStatus` (15|3@0+), `CameraStatus` (12|3), `V2xStatus` (9|3),
    /// `CanStatus` (22|3), `GnssStatus` (19|3).
    pub lidar: u8,
    /// See `lidar`.
    pub camera: u8,
    /// See `lidar`.
    pub v2x: u8,
    /// See `lidar`.
    pub can: u8,
    /// See `lidar`.
    pub gnss: u8,
    /// `LateFrames` (31|16@0+).
    pub late_frames: u16,
    /// `ObjectCount` (47|8@0+).
    pub object_count: u8,
}

/// Decodes `PITSENSE_HEALTH`'s 8 bytes. Motorola (big-endian) signals: the start bit is the
/// most significant bit, numbered `8 × byte + bit` (bit 7 the byte's top), and the signal runs
/// down through the byte, then on into the next byte's bit 7. `None` when shorter than 8 bytes.
pub fn decode_health(data: &[u8]) -> Option<HealthFrame> {
    let b: [u8; 8] = data.get(..8)?.try_into().ok()?;
    Some(HealthFrame {
        degraded_mode: b[0] >> 4,
        alive_counter: b[0] & 0x0F,
        lidar: (b[1] >> 5) & 0x07,
        camera: (b[1] >> 2) & 0x07,
        // Start bit 9 (byte 1, bit 1), 3 bits: byte 1 bits 1..0, then byte 2 bit 7.
        v2x: ((b[1] & 0x03) << 1) | (b[2] >> 7),
        can: (b[2] >> 4) & 0x07,
        gnss: (b[2] >> 1) & 0x07,
        late_frames: u16::from_be_bytes([b[3], b[4]]),
        object_count: b[5],
    })
}

/// A `PITSENSE_OBJECT` frame's signals, in physical units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ObjectFrame {
    /// `ObjectIndex` (0|4@1+): 0 is the nearest.
    pub index: u8,
    /// `ObjectClass` (4|4@1+).
    pub class: u8,
    /// `TrackId` (8|16@1+), modulo 65,536.
    pub track_id: u16,
    /// `PositionX` (24|14@1-, 0.025 m), ahead of the truck, m.
    pub x_m: f64,
    /// `PositionY` (38|14@1-, 0.025 m), left of the truck, m.
    pub y_m: f64,
    /// `Speed` (52|12@1+, 0.02 m/s), m/s.
    pub speed_mps: f64,
}

/// Decodes `PITSENSE_OBJECT`'s 8 bytes. Intel (little-endian) signals: the start bit is the
/// least significant bit of the 64-bit little-endian payload. `None` when shorter than 8 bytes.
pub fn decode_object(data: &[u8]) -> Option<ObjectFrame> {
    let word = u64::from_le_bytes(data.get(..8)?.try_into().ok()?);
    let bits = |start: u32, length: u32| (word >> start) & ((1_u64 << length) - 1);
    // Two's complement of a `length`-bit field.
    let signed = |start: u32, length: u32| {
        let raw = bits(start, length) as i64;
        if raw >= 1 << (length - 1) { raw - (1 << length) } else { raw }
    };
    Some(ObjectFrame {
        index: bits(0, 4) as u8,
        class: bits(4, 4) as u8,
        track_id: bits(8, 16) as u16,
        x_m: signed(24, 14) as f64 * 0.025,
        y_m: signed(38, 14) as f64 * 0.025,
        speed_mps: bits(52, 12) as f64 * 0.02,
    })
}

/// Datagrams received, each with its time of reception, shared with the receiving thread.
type Inbox = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

/// Receives the runtime's CAN output datagrams on a loopback socket until finished.
#[derive(Debug)]
pub struct CanListener {
    port: u16,
    stop: Arc<AtomicBool>,
    received: Inbox,
    thread: std::thread::JoinHandle<()>,
}

impl CanListener {
    /// Binds a free loopback UDP port and starts receiving (at most 100,000 datagrams kept:
    /// 2.7 hours of a 10 Hz cycle; later ones are counted as overflow by [`CanListener::finish`]).
    ///
    /// # Errors
    /// The socket's error.
    pub fn start() -> std::io::Result<Self> {
        const KEPT: usize = 100_000;
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(20)))?;
        let port = socket.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let received: Inbox = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, received) = (Arc::clone(&stop), Arc::clone(&received));
            std::thread::spawn(move || {
                let mut buffer = vec![0_u8; 65_536];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok(length) = socket.recv(&mut buffer)
                        && let Ok(mut received) = received.lock()
                        && received.len() < KEPT
                    {
                        received.push((Instant::now(), buffer[..length].to_vec()));
                    }
                }
            })
        };
        Ok(Self { port, stop, received, thread })
    }

    /// The port it listens on (`127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops and returns every datagram received from `start` on, with its time after
    /// `start`, ns (those before are dropped: the runtime starting up).
    pub fn finish(self, start: Instant) -> Vec<(u64, Vec<u8>)> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
        let received = self.received.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
        received
            .into_iter()
            .filter_map(|(at, bytes)| {
                let ns = at.checked_duration_since(start)?.as_nanos();
                Some((u64::try_from(ns).unwrap_or(u64::MAX), bytes))
            })
            .collect()
    }
}

/// A degraded-mode change seen on CAN.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CanModeChange {
    /// Time of reception, s after the play's start.
    pub t_s: f64,
    /// The mode's name (as in the zenoh health message), or `code N` for an unknown code.
    pub to: String,
}

/// What the truck's ECU received on CAN while the inputs played.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CanOutputReport {
    /// `PITSENSE_HEALTH` frames received.
    pub health_frames: u64,
    /// `PITSENSE_OBJECT` frames received.
    pub object_frames: u64,
    /// Datagrams that did not decode, and frames of other identifiers or too short.
    pub undecodable: u64,
    /// Time between consecutive health frames, ms.
    pub health_period_ms: LatencyMs,
    /// Alive-counter steps other than +1 (mod 16): cycles the ECU missed.
    pub alive_counter_gaps: u64,
    /// Degraded-mode changes (the first frame's mode included).
    pub mode_changes: Vec<CanModeChange>,
    /// The largest `ObjectCount` sent.
    pub max_object_count: u8,
    /// The nearest object (`ObjectIndex` 0) of the last cycle that had one.
    pub last_nearest: Option<ObjectFrame>,
}

/// The report over `received` (datagrams with their reception time, ns after the play's
/// start), up to `play_end_ns` (later frames are the harness stopping the inputs).
pub fn report(received: &[(u64, Vec<u8>)], play_end_ns: u64) -> CanOutputReport {
    let mut report = CanOutputReport::default();
    let mut health_at: Vec<u64> = Vec::new();
    let mut last_alive: Option<u8> = None;
    for (at, bytes) in received.iter().filter(|(at, _)| *at <= play_end_ns) {
        let Ok(frames) = decode_cannelloni(bytes) else {
            report.undecodable += 1;
            continue;
        };
        for (id, data) in frames {
            match (id, decode_health(&data), decode_object(&data)) {
                (HEALTH_ID, Some(health), _) => {
                    report.health_frames += 1;
                    health_at.push(*at);
                    if let Some(last) = last_alive
                        && health.alive_counter != (last + 1) % 16
                    {
                        report.alive_counter_gaps += 1;
                    }
                    last_alive = Some(health.alive_counter);
                    let to = DegradedMode::from_code(health.degraded_mode)
                        .map_or_else(|| format!("code {}", health.degraded_mode), |m| m.as_str().to_owned());
                    if report.mode_changes.last().is_none_or(|change| change.to != to) {
                        report.mode_changes.push(CanModeChange { t_s: *at as f64 * 1e-9, to });
                    }
                    report.max_object_count = report.max_object_count.max(health.object_count);
                }
                (OBJECT_ID, _, Some(object)) => {
                    report.object_frames += 1;
                    if object.index == 0 {
                        report.last_nearest = Some(object);
                    }
                }
                _ => report.undecodable += 1,
            }
        }
    }
    let periods: Vec<f64> = health_at.windows(2).map(|w| (w[1] - w[0]) as f64 * 1e-6).collect();
    report.health_period_ms = LatencyMs::of(&periods);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_object_frames_decode_by_hand() {
        // Health: mode 5, alive 9; lidar 3 (bits 15..13), camera 1 (12..10), v2x 7 (9..8 and
        // 23), can 4 (22..20), gnss 2 (19..17); late frames 0x0102; 6 objects.
        // byte 1 = 011 001 11 = 0x67; byte 2 = 1 100 010 0 = 0xC4.
        let health = decode_health(&[0x59, 0x67, 0xC4, 0x01, 0x02, 6, 0, 0]).unwrap();
        assert_eq!(
            health,
            HealthFrame {
                degraded_mode: 5,
                alive_counter: 9,
                lidar: 3,
                camera: 1,
                v2x: 7,
                can: 4,
                gnss: 2,
                late_frames: 258,
                object_count: 6
            }
        );
        // Object: index 1, class 4, track 0x1234; x = -10 m → -400 → 14-bit 0x3E70; y = 2.5 m
        // → 100; speed 1.5 m/s → 75. Word = 0x41 | 0x1234 << 8 | 0x3E70 << 24 | 100 << 38 | 75 << 52.
        let word: u64 = 0x41 | (0x1234 << 8) | (0x3E70 << 24) | (100 << 38) | (75 << 52);
        let object = decode_object(&word.to_le_bytes()).unwrap();
        assert_eq!((object.index, object.class, object.track_id), (1, 4, 0x1234));
        assert!((object.x_m + 10.0).abs() < 1e-9 && (object.y_m - 2.5).abs() < 1e-9);
        assert!((object.speed_mps - 1.5).abs() < 1e-9);
        assert_eq!(decode_health(&[0; 7]), None);
    }

    #[test]
    fn cannelloni_datagrams_decode_and_bad_ones_are_named() {
        // Two frames: standard 0x300 with 8 bytes, extended 0x18FEF100 with 2.
        let mut bytes = vec![2, 0, 7, 0, 2, 0, 0, 0x03, 0x00, 8];
        bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        bytes.extend_from_slice(&[0x98, 0xFE, 0xF1, 0x00, 2, 0xAA, 0xBB]);
        let frames = decode_cannelloni(&bytes).unwrap();
        assert_eq!(frames, vec![(0x300, vec![1, 2, 3, 4, 5, 6, 7, 8]), (0x18FE_F100, vec![0xAA, 0xBB])]);
        assert!(decode_cannelloni(&bytes[..bytes.len() - 1]).unwrap_err().contains("frame 1 of 2"));
        assert!(decode_cannelloni(&[1, 0, 0, 0, 0]).unwrap_err().contains("version 1"));
        assert!(decode_cannelloni(&[2, 0]).is_err());
    }

    #[test]
    fn the_report_counts_missed_cycles_and_mode_changes() {
        let health = |mode: u8, alive: u8| {
            let mut bytes = vec![2, 0, 0, 0, 1, 0, 0, 0x03, 0x00, 8];
            bytes.extend_from_slice(&[(mode << 4) | alive, 0, 0, 0, 0, 0, 0, 0]);
            bytes
        };
        let received: Vec<(u64, Vec<u8>)> = vec![
            (100_000_000, health(5, 14)),
            (200_000_000, health(0, 15)),
            (300_000_000, health(0, 0)),
            // One cycle missed (alive 1).
            (500_000_000, health(1, 2)),
            (600_000_000, vec![9]),
            // After the play: left out.
            (900_000_000, health(0, 3)),
        ];
        let report = report(&received, 800_000_000);
        assert_eq!((report.health_frames, report.alive_counter_gaps, report.undecodable), (4, 1, 1));
        let modes: Vec<&str> = report.mode_changes.iter().map(|c| c.to.as_str()).collect();
        assert_eq!(modes, ["perception_unavailable", "nominal", "lidar_lost"]);
        assert_eq!(report.health_period_ms.max, Some(200.0));
    }
}
