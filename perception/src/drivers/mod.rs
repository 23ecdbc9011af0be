//! Lidar drivers: raw sensor packets and point files in, range images and point clouds out.
//!
//! - [`ouster`]: Ouster OS packets (LEGACY, RNG19_RFL8_SIG16_NIR16, its dual variant,
//!   RNG15_RFL8_NIR8) decoded with the sensor's metadata JSON into [`ouster::LidarScan`] range
//!   images, XYZ in the sensor frame, and vendor-SDK-form MD5 digests; and encoded back into
//!   packets ([`ouster::OusterPacketEncoder`]).
//! - [`velodyne`]: VLP-16, VLP-32C, HDL-32E and HDL-64E data packets (strongest, last, dual)
//!   with the published laser tables and firing-time azimuth interpolation.
//! - [`pcap`]: replay of classic pcap / pcapng captures (Ethernet, VLAN, Linux SLL, raw IPv4,
//!   BSD loopback) to UDP datagrams, IPv4 fragments reassembled, with counters for everything
//!   skipped and a truncated tail; [`pcap::PcapUdpWriter`] records datagrams as a classic pcap.
//! - [`live`]: a tokio UDP receiver that assembles rotations into a bounded queue with an
//!   explicit drop policy.
//! - [`inspect`]: the report behind `pitsense lidar inspect` (sensor, profile, frames, packet
//!   counts, points per frame, per-frame field digests).
//! - [`point_files`]: nuScenes `.pcd.bin`, PCD v0.7 (ASCII and binary) and, through
//!   [`crate::kitti`], KITTI `.bin`.
//!
//! The decoders and assemblers are stage-like cores (no I/O, no clock, deterministic); [`pcap`],
//! [`point_files`] and [`live`] are the thin adapters that read files and sockets around them.
//!
//! Decoders take bytes from the network or a file and never index out of bounds or panic on
//! them: every read is checked, malformed input becomes an error value or a counter. Each
//! sensor's packet-to-rotation logic implements [`RotationAssembler`], a synchronous core that
//! the pcap replay and the live receiver share. Fuzz targets live in `perception/fuzz/`; their
//! entry points are in [`fuzz_entry`], which `tests/drivers_fuzz.rs` also drives with seeded
//! random inputs.

pub(crate) mod bytes;
pub mod fuzz_entry;
pub mod inspect;
pub mod live;
pub mod ouster;
pub mod pcap;
pub mod point_files;
pub(crate) mod reassembly;
pub mod velodyne;

/// Packet counters common to every sensor's [`RotationAssembler`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PacketCounters {
    /// Packets accepted into a rotation.
    pub packets: u64,
    /// Packets the sensor sent but that never arrived (sensor-specific estimate: Ouster from
    /// frame and measurement ids, Velodyne from timestamp gaps).
    pub lost: u64,
    /// Packets received twice.
    pub duplicate: u64,
    /// Packets that arrived after their rotation was emitted (Ouster only).
    pub late: u64,
    /// Packets the decoder rejected.
    pub malformed: u64,
    /// Packets dropped because they belong to no plausible rotation (Ouster only: a frame id
    /// neither current nor next, that neither the sensor clock nor the following packets
    /// confirm). They close no rotation and count as nothing else.
    pub stray: u64,
    /// Rotations emitted.
    pub rotations: u64,
    /// Rotations emitted with missing data.
    pub incomplete_rotations: u64,
}

/// Turns a sensor's packets (UDP payloads, in arrival order) into rotations.
///
/// Synchronous and deterministic: no I/O, no clock. Used by the pcap replay and by
/// [`live::LiveReceiver`].
pub trait RotationAssembler {
    /// What one rotation is (an Ouster [`ouster::LidarScan`], a Velodyne
    /// [`velodyne::VelodyneRotation`]).
    type Rotation;
    /// Why a packet was rejected.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Adds one packet; rotations it completes are appended to `rotations`.
    ///
    /// # Errors
    /// The packet was rejected (and counted as malformed); the assembler stays usable.
    fn push_packet(&mut self, payload: &[u8], rotations: &mut Vec<Self::Rotation>)
    -> Result<(), Self::Error>;

    /// Emits the rotation in progress, if any (end of a stream).
    fn flush(&mut self, rotations: &mut Vec<Self::Rotation>);

    /// Counters so far.
    fn packet_counters(&self) -> PacketCounters;
}
