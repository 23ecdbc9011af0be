//! Plays recorded sensor traffic over real transports at its recorded pace, as tcpreplay does:
//! lidar packets from a pcap over UDP, V2X datagrams over UDP.
//!
//! An Ouster capture can be **looped** into a longer stream: each pass rewrites the packets'
//! `frame_id` (bytes 2–3 of the non-LEGACY packet header, little-endian; Ouster software user
//! manual, "Lidar data packet format") so that the receiver sees consecutive rotations instead of
//! duplicates, and shifts each column's timestamp (first 8 bytes of every column header) by the
//! pass's start, keeping the sensor clock monotonic.
//!
//! Pacing uses the monotonic clock of the machine playing (this is a test harness, not a stage).

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pitsense_perception::drivers::ouster::{OusterMetadata, PacketFormat};
use pitsense_perception::drivers::pcap::{PcapUdpReader, PcapUdpWriter, PcapWriteError, UdpDatagram};

/// Why playing failed.
#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    /// The capture could not be read.
    #[error("capture `{file}`: {reason}")]
    Capture {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// The socket failed.
    #[error("UDP to {destination}: {source}")]
    Socket {
        /// Where packets were going.
        destination: SocketAddr,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
}

/// Where an Ouster lidar data packet (non-LEGACY profiles) keeps what a player rewrites: the
/// frame id (bytes 2–3 of the packet header, little-endian) and each column's timestamp (the
/// first 8 bytes of every column, little-endian ns); Ouster software user manual, "Lidar data
/// packet format".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OusterLayout {
    /// Bytes before the first column.
    pub header_bytes: usize,
    /// Bytes per column.
    pub column_bytes: usize,
    /// Columns per packet.
    pub columns_per_packet: usize,
}

impl OusterLayout {
    /// The layout of `metadata`'s packets (32-byte footer).
    pub fn new(metadata: &OusterMetadata) -> Self {
        let format = PacketFormat::new(metadata);
        let columns_per_packet = metadata.columns_per_packet;
        let column_bytes = format.column_bytes();
        let header_bytes = format.packet_bytes().saturating_sub(columns_per_packet * column_bytes + 32);
        Self { header_bytes, column_bytes, columns_per_packet }
    }

    /// The packet's frame id; `None` for a packet too short to hold one.
    pub fn frame_id(&self, payload: &[u8]) -> Option<u16> {
        payload.get(2..4).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    /// Adds `delta` to the packet's frame id (wrapping, as the sensor's counter does).
    pub fn add_to_frame_id(&self, payload: &mut [u8], delta: u16) {
        if let Some(frame_id) = payload.get_mut(2..4) {
            let id = u16::from_le_bytes([frame_id[0], frame_id[1]]).wrapping_add(delta);
            frame_id.copy_from_slice(&id.to_le_bytes());
        }
    }

    /// The packet's column stamps, ns (those present in a short packet).
    pub fn column_stamps_ns(&self, payload: &[u8]) -> Vec<u64> {
        (0..self.columns_per_packet)
            .filter_map(|column| {
                let start = self.header_bytes + column * self.column_bytes;
                payload
                    .get(start..start + 8)
                    .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            })
            .collect()
    }

    /// Shifts every column stamp by `shift_ns` (saturating at 0 and `u64::MAX`).
    pub fn shift_column_stamps(&self, payload: &mut [u8], shift_ns: i64) {
        for column in 0..self.columns_per_packet {
            let start = self.header_bytes + column * self.column_bytes;
            if let Some(stamp) = payload.get_mut(start..start + 8) {
                let mut bytes = [0_u8; 8];
                bytes.copy_from_slice(stamp);
                let shifted = u64::from_le_bytes(bytes).saturating_add_signed(shift_ns);
                stamp.copy_from_slice(&shifted.to_le_bytes());
            }
        }
    }
}

/// An Ouster lidar capture ready to loop.
#[derive(Clone, Debug)]
pub struct OusterLoop {
    packets: Vec<UdpDatagram>,
    layout: OusterLayout,
    frame_period_ns: u64,
}

/// What a play sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlayStats {
    /// Datagrams sent.
    pub datagrams: u64,
    /// Whole passes over the capture (rotations, for a one-rotation capture).
    pub passes: u64,
}

impl OusterLoop {
    /// Reads the lidar packets (destination port `metadata.udp_port_lidar`, else every UDP
    /// datagram of the packet size the metadata gives) of a capture.
    ///
    /// # Errors
    /// [`PlayerError::Capture`] when the file or metadata cannot be read or hold no packet.
    pub fn open(pcap: &Path, metadata: &Path) -> Result<Self, PlayerError> {
        let capture_error =
            |reason: String| PlayerError::Capture { file: pcap.display().to_string(), reason };
        let metadata = OusterMetadata::read(metadata).map_err(|e| capture_error(e.to_string()))?;
        let format = PacketFormat::new(&metadata);
        let mut reader = PcapUdpReader::open(pcap).map_err(|e| capture_error(e.to_string()))?;
        let mut packets = Vec::new();
        while let Some(datagram) = reader.next_datagram().map_err(|e| capture_error(e.to_string()))? {
            let port_ok = metadata.udp_port_lidar.is_none_or(|port| datagram.destination.port() == port);
            if port_ok && datagram.payload.len() == format.packet_bytes() {
                packets.push(datagram);
            }
        }
        if packets.is_empty() {
            return Err(capture_error("no lidar packet of the metadata's size".into()));
        }
        let rate_hz = u64::from(metadata.rotation_rate_hz().unwrap_or(10));
        Ok(Self { packets, layout: OusterLayout::new(&metadata), frame_period_ns: 1_000_000_000 / rate_hz })
    }

    /// Lidar packets in the capture.
    pub fn packets(&self) -> usize {
        self.packets.len()
    }

    /// Where the capture's packets keep their frame id and column stamps.
    pub fn layout(&self) -> OusterLayout {
        self.layout
    }

    /// The rotation period (one pass), ns.
    pub fn frame_period_ns(&self) -> u64 {
        self.frame_period_ns
    }

    /// The packets of pass `pass` (frame ids + pass, column timestamps + pass × period), with
    /// their offset from the start of the pass, ns.
    pub fn pass(&self, pass: u64) -> Vec<(u64, Vec<u8>)> {
        let first_ns = self.packets.first().map_or(0, |p| p.capture_time_ns);
        let shift_ns = pass.saturating_mul(self.frame_period_ns);
        self.packets
            .iter()
            .map(|packet| {
                let mut payload = packet.payload.clone();
                self.layout.add_to_frame_id(&mut payload, pass as u16);
                self.layout.shift_column_stamps(&mut payload, i64::try_from(shift_ns).unwrap_or(i64::MAX));
                (packet.capture_time_ns.saturating_sub(first_ns), payload)
            })
            .collect()
    }

    /// Sends `passes` passes to `destination`, each starting one frame period after the previous
    /// one, at the recorded pace; stops early when `stop` is set.
    ///
    /// # Errors
    /// [`PlayerError::Socket`] when a send fails.
    pub fn play(
        &self,
        destination: SocketAddr,
        passes: u64,
        stop: &Arc<AtomicBool>,
    ) -> Result<PlayStats, PlayerError> {
        self.play_from(destination, 0, passes, stop)
    }

    /// As [`OusterLoop::play`], starting at pass `first_pass` (frame ids and sensor stamps go on
    /// from there: a stream resumed after an outage).
    ///
    /// # Errors
    /// [`PlayerError::Socket`] when a send fails.
    pub fn play_from(
        &self,
        destination: SocketAddr,
        first_pass: u64,
        passes: u64,
        stop: &Arc<AtomicBool>,
    ) -> Result<PlayStats, PlayerError> {
        let socket_error = |source| PlayerError::Socket { destination, source };
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(socket_error)?;
        let start = Instant::now();
        let mut stats = PlayStats::default();
        for index in 0..passes {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let pass_start_ns = index * self.frame_period_ns;
            for (offset_ns, payload) in self.pass(first_pass + index) {
                sleep_until(start, pass_start_ns + offset_ns);
                socket.send_to(&payload, destination).map_err(socket_error)?;
                stats.datagrams += 1;
            }
            stats.passes += 1;
        }
        Ok(stats)
    }
}

impl OusterLoop {
    /// Writes what [`OusterLoop::play`] would send for `passes` passes as a classic pcap
    /// ([`PcapUdpWriter`]: Ethernet II, IPv4 127.0.0.1 → 127.0.0.1, UDP to `port`; microsecond
    /// stamps starting at the original capture's first packet), so that a replay can read
    /// exactly the live stream.
    ///
    /// # Errors
    /// [`PlayerError::Capture`] when the file cannot be written.
    pub fn write_pcap(&self, path: &Path, passes: u64, port: u16) -> Result<(), PlayerError> {
        let write_error = |error: PcapWriteError| PlayerError::Capture {
            file: path.display().to_string(),
            reason: error.to_string(),
        };
        let mut writer = PcapUdpWriter::create(path).map_err(write_error)?;
        let first_ns = self.packets.first().map_or(0, |p| p.capture_time_ns);
        for pass in 0..passes {
            for (offset_ns, payload) in self.pass(pass) {
                let stamp_ns = first_ns + pass * self.frame_period_ns + offset_ns;
                writer.write_datagram(stamp_ns, port, &payload).map_err(write_error)?;
            }
        }
        writer.finish().map_err(write_error)?;
        Ok(())
    }
}

/// Sleeps until `offset_ns` after `start` (no-op when past).
pub fn sleep_until(start: Instant, offset_ns: u64) {
    let target = start + Duration::from_nanos(offset_ns);
    let now = Instant::now();
    if target > now {
        std::thread::sleep(target - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_root() -> Option<std::path::PathBuf> {
        pitsense_testkit::data_root_holding("lidar_pcap")
    }

    #[test]
    fn looped_passes_rewrite_frame_ids_and_stamps() {
        let Some(root) = data_root() else {
            eprintln!("skipped: shared data not found (set PITSENSE_DATA)");
            return;
        };
        let dir = root.join("lidar_pcap/ouster_sdk_tests");
        let capture = OusterLoop::open(
            &dir.join("OS-2-128-U1_v2.3.0_1024x10.pcap"),
            &dir.join("OS-2-128-U1_v2.3.0_1024x10.json"),
        )
        .unwrap();
        // 1024 columns, 16 per packet: 64 packets make one rotation in this capture.
        assert_eq!(capture.packets(), 64);
        let (first, second) = (capture.pass(0), capture.pass(3));
        let id = |p: &[u8]| u16::from_le_bytes([p[2], p[3]]);
        assert_eq!(id(&second[0].1), id(&first[0].1).wrapping_add(3));
        let stamp = |p: &[u8]| u64::from_le_bytes(p[32..40].try_into().unwrap());
        assert_eq!(stamp(&second[5].1) - stamp(&first[5].1), 300_000_000);
        // Only the header's frame id and the column stamps change.
        let differing = first[5].1.iter().zip(&second[5].1).filter(|(a, b)| a != b).count();
        assert!(differing <= 2 + 16 * 8, "{differing} bytes differ");

        // The written capture reads back as the same datagrams, in order, on the port.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loop.pcap");
        capture.write_pcap(&path, 2, 7502).unwrap();
        let mut reader = PcapUdpReader::open(&path).unwrap();
        let mut read = Vec::new();
        while let Some(datagram) = reader.next_datagram().unwrap() {
            assert_eq!(datagram.destination.port(), 7502);
            read.push(datagram.payload);
        }
        let sent: Vec<Vec<u8>> = (0..2).flat_map(|pass| capture.pass(pass)).map(|(_, p)| p).collect();
        assert_eq!(read, sent);
    }
}
