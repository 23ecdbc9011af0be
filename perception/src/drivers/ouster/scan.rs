//! Ouster frames: the range image ([`LidarScan`]), packet-to-frame batching
//! ([`OusterScanBatcher`]) and the XYZ lookup table ([`XyzLut`]).

use nalgebra::{Matrix4, Vector4};
use pitsense_types::{FrameId, Header, PointCloud, PointXyzi, SensorId};

use super::{OusterError, OusterMetadata, PacketFormat, UdpProfileLidar};
use crate::drivers::{PacketCounters, RotationAssembler};

/// One Ouster frame (one rotation, or the column window of it) as the vendor SDK's `LidarScan`:
/// per-column headers (`W` entries) and per-pixel fields (`H × W`, row-major, staggered: column
/// `c` is measurement id `c`). Columns that never arrived are zero.
///
/// Fields a profile does not carry are empty vectors (`signal` for `RNG15_RFL8_NIR8`, the `*2`
/// second-return fields except for the dual profile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LidarScan {
    /// Frame id from the packet headers (wraps at 65536).
    pub frame_id: u16,
    /// Initialisation id of the packets (0 for LEGACY).
    pub init_id: u32,
    /// Packet profile the frame was decoded with.
    pub profile: UdpProfileLidar,
    /// Columns per frame, `W`.
    pub width: usize,
    /// Pixels per column, `H`.
    pub height: usize,
    /// Column timestamps, nanoseconds on the sensor clock (`W`).
    pub timestamp_ns: Vec<u64>,
    /// Column measurement ids (`W`; `c` for a received column `c`, 0 otherwise).
    pub measurement_id: Vec<u16>,
    /// Column status words (`W`; see [`super::ColumnView::status`]).
    pub status: Vec<u32>,
    /// Column encoder counts (`W`; LEGACY only, zero otherwise).
    pub encoder_count: Vec<u32>,
    /// `RANGE`: first-return range, millimetres, 0 = no return (`H × W`).
    pub range_mm: Vec<u32>,
    /// `SIGNAL`: first-return signal photons (`H × W`).
    pub signal: Vec<u16>,
    /// `REFLECTIVITY`: first-return calibrated reflectivity, 0..=255 (`H × W`).
    pub reflectivity: Vec<u8>,
    /// `NEAR_IR`: ambient near-infrared photons (`H × W`).
    pub near_ir: Vec<u16>,
    /// `FLAGS`: first-return flag bits (`H × W`).
    pub flags: Vec<u8>,
    /// `RANGE2`: second-return range, millimetres (dual profile).
    pub range2_mm: Vec<u32>,
    /// `SIGNAL2`: second-return signal (dual profile).
    pub signal2: Vec<u16>,
    /// `REFLECTIVITY2`: second-return reflectivity (dual profile).
    pub reflectivity2: Vec<u8>,
    /// `FLAGS2`: second-return flags (dual profile).
    pub flags2: Vec<u8>,
    /// Distinct columns received inside the column window.
    pub columns_received: usize,
    /// Columns a complete frame holds (the column window's width).
    pub columns_expected: usize,
    /// Received columns whose status flags them invalid (non-LEGACY status bit 0 clear, LEGACY
    /// status not all ones). They count as received (their packet arrived) but, as in the vendor
    /// SDK's `ScanBatcher`, contribute nothing: their headers and pixels stay zero, so they
    /// yield no points whatever their bytes say.
    pub invalid_columns: usize,
    /// Lidar packets that contributed.
    pub packets: usize,
    /// First and last measurement id of the column window (inclusive; `first > last` wraps
    /// through zero), from the metadata.
    pub column_window: (usize, usize),
    /// Nominal time between two columns, picoseconds (see
    /// [`OusterMetadata::column_period_ps`]); 0 when the metadata states no rotation rate.
    pub column_period_ps: u64,
}

/// A borrowed `H × W` field image of a [`LidarScan`], typed as the vendor SDK stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldImage<'a> {
    /// `u8` field (`REFLECTIVITY`, `FLAGS`).
    U8(&'a [u8]),
    /// `u16` field (`SIGNAL`, `NEAR_IR`).
    U16(&'a [u16]),
    /// `u32` field (`RANGE`).
    U32(&'a [u32]),
}

impl FieldImage<'_> {
    /// The values as little-endian bytes, in row-major order (the vendor SDK digest input).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            Self::U8(values) => values.to_vec(),
            Self::U16(values) => values.iter().flat_map(|value| value.to_le_bytes()).collect(),
            Self::U32(values) => values.iter().flat_map(|value| value.to_le_bytes()).collect(),
        }
    }

    /// Number of values.
    pub(super) fn len(&self) -> usize {
        match self {
            Self::U8(values) => values.len(),
            Self::U16(values) => values.len(),
            Self::U32(values) => values.len(),
        }
    }

    /// Value `index` (row-major), widened; `None` past the end.
    pub(super) fn value(&self, index: usize) -> Option<u64> {
        match self {
            Self::U8(values) => values.get(index).map(|&value| u64::from(value)),
            Self::U16(values) => values.get(index).map(|&value| u64::from(value)),
            Self::U32(values) => values.get(index).map(|&value| u64::from(value)),
        }
    }
}

impl LidarScan {
    /// An all-zero scan for a metadata's shape and profile.
    pub fn empty(metadata: &OusterMetadata) -> Self {
        let (height, width) = (metadata.pixels_per_column, metadata.columns_per_frame);
        let pixels = height * width;
        let profile = metadata.udp_profile_lidar;
        let dual = profile.is_dual();
        let has_signal = profile != UdpProfileLidar::Rng15Rfl8Nir8;
        let sized = |present: bool| if present { pixels } else { 0 };
        Self {
            frame_id: 0,
            init_id: 0,
            profile,
            width,
            height,
            timestamp_ns: vec![0; width],
            measurement_id: vec![0; width],
            status: vec![0; width],
            encoder_count: vec![0; width],
            range_mm: vec![0; pixels],
            signal: vec![0; sized(has_signal)],
            reflectivity: vec![0; pixels],
            near_ir: vec![0; pixels],
            flags: vec![0; pixels],
            range2_mm: vec![0; sized(dual)],
            signal2: vec![0; sized(dual)],
            reflectivity2: vec![0; sized(dual)],
            flags2: vec![0; sized(dual)],
            columns_received: 0,
            columns_expected: metadata.window_columns(),
            invalid_columns: 0,
            packets: 0,
            column_window: metadata.column_window,
            column_period_ps: metadata.column_period_ps().unwrap_or(0),
        }
    }

    /// Whether every column of the column window arrived.
    pub fn is_complete(&self) -> bool {
        self.columns_received == self.columns_expected
    }

    /// Time of validity of the frame, nanoseconds on the sensor clock: the time of the column
    /// window's first column. When that column arrived, its timestamp; when the frame's first
    /// columns were lost, the first received column's timestamp minus its index in the window
    /// times the nominal column period ([`Self::column_period_ps`]; columns are evenly spaced in
    /// time, Ouster user manual "Lidar Data Format"), rounded to the nanosecond. 0 when no column
    /// with a timestamp arrived (columns flagged invalid carry none).
    pub fn stamp_ns(&self) -> u64 {
        let Some((index, stamp_ns)) = self.first_stamped_column() else { return 0 };
        let offset_ns = (index as u64).saturating_mul(self.column_period_ps).saturating_add(500) / 1000;
        stamp_ns.saturating_sub(offset_ns)
    }

    /// Time of the column window's last column, nanoseconds on the sensor clock: its own
    /// timestamp, or, when it did not arrive, the last stamped column's carried forward with the
    /// nominal column period ([`Self::column_period_ps`]); 0 when no column carries a timestamp.
    /// This is the time of the rotation's last point, the stamp the lidar pipeline's deskew
    /// assumes (`perception::lidar`); [`Self::stamp_ns`] is that of the first.
    pub fn end_stamp_ns(&self) -> u64 {
        let width = self.width.max(1);
        let last_stamped = (0..self.columns_expected).rev().find_map(|index| {
            let col = (self.column_window.0 + index) % width;
            self.timestamp_ns.get(col).copied().filter(|&stamp| stamp != 0).map(|stamp| (index, stamp))
        });
        let Some((index, stamp_ns)) = last_stamped else { return 0 };
        let remaining = self.columns_expected.saturating_sub(1).saturating_sub(index) as u64;
        stamp_ns.saturating_add(remaining.saturating_mul(self.column_period_ps).saturating_add(500) / 1000)
    }

    /// Index in the column window (0 = the window's first column) and timestamp of the first
    /// column that arrived with a timestamp.
    fn first_stamped_column(&self) -> Option<(usize, u64)> {
        let width = self.width.max(1);
        (0..self.columns_expected).find_map(|index| {
            let col = (self.column_window.0 + index) % width;
            self.timestamp_ns.get(col).copied().filter(|&stamp| stamp != 0).map(|stamp| (index, stamp))
        })
    }

    /// The per-pixel fields this scan carries, in the vendor SDK's digest order: `RANGE`,
    /// `SIGNAL`, `REFLECTIVITY`, `NEAR_IR` for single-return profiles; the dual profile adds the
    /// second returns; `RNG15_RFL8_NIR8` has no `SIGNAL`. (`FLAGS` is available through
    /// [`Self::field`] but, as in the SDK's frames, not listed.)
    pub fn field_names(&self) -> &'static [&'static str] {
        match self.profile {
            UdpProfileLidar::Legacy | UdpProfileLidar::Rng19Rfl8Sig16Nir16 => {
                &["RANGE", "SIGNAL", "REFLECTIVITY", "NEAR_IR"]
            }
            UdpProfileLidar::Rng19Rfl8Sig16Nir16Dual => {
                &["RANGE", "RANGE2", "SIGNAL", "SIGNAL2", "REFLECTIVITY", "REFLECTIVITY2", "NEAR_IR"]
            }
            UdpProfileLidar::Rng15Rfl8Nir8 => &["RANGE", "REFLECTIVITY", "NEAR_IR"],
        }
    }

    /// The field image called `name` (SDK channel-field name), or `None` when this profile does
    /// not carry it.
    pub fn field(&self, name: &str) -> Option<FieldImage<'_>> {
        self.field_storage(name).filter(|image| image.len() > 0)
    }

    /// The vector behind field `name`, empty or not; `None` for a name that is no field.
    pub(super) fn field_storage(&self, name: &str) -> Option<FieldImage<'_>> {
        Some(match name {
            "RANGE" => FieldImage::U32(&self.range_mm),
            "RANGE2" => FieldImage::U32(&self.range2_mm),
            "SIGNAL" => FieldImage::U16(&self.signal),
            "SIGNAL2" => FieldImage::U16(&self.signal2),
            "REFLECTIVITY" => FieldImage::U8(&self.reflectivity),
            "REFLECTIVITY2" => FieldImage::U8(&self.reflectivity2),
            "NEAR_IR" => FieldImage::U16(&self.near_ir),
            "FLAGS" => FieldImage::U8(&self.flags),
            "FLAGS2" => FieldImage::U8(&self.flags2),
            _ => return None,
        })
    }

    /// Pixels with a first return (`RANGE > 0`).
    pub fn returns(&self) -> usize {
        self.range_mm.iter().filter(|&&range| range > 0).count()
    }

    /// Copies one packet's columns in. Returns `false` (and changes nothing) when the packet's
    /// first column was already received (a duplicate). A column whose status flags it invalid
    /// is marked received and counted in [`Self::invalid_columns`], and nothing of it is copied
    /// (vendor SDK `ScanBatcher`: "drop invalid / out-of-bounds data").
    fn ingest(
        &mut self,
        format: &PacketFormat,
        metadata: &OusterMetadata,
        packet: &[u8],
        received: &mut [bool],
    ) -> bool {
        let fields = format.fields();
        let field = |name: &str| fields.iter().find(|field| field.name == name).copied();
        let (range, range2) = (field("RANGE"), field("RANGE2"));
        let (signal, signal2) = (field("SIGNAL"), field("SIGNAL2"));
        let (reflectivity, reflectivity2) = (field("REFLECTIVITY"), field("REFLECTIVITY2"));
        let (near_ir, flags, flags2) = (field("NEAR_IR"), field("FLAGS"), field("FLAGS2"));

        let first_new = format
            .column(packet, 0)
            .and_then(|column| received.get(usize::from(column.measurement_id())))
            .is_some_and(|&seen| !seen);
        if !first_new {
            return false;
        }
        self.packets += 1;
        for index in 0..format.columns_per_packet {
            let Some(column) = format.column(packet, index) else { continue };
            let col = usize::from(column.measurement_id());
            let Some(seen) = received.get_mut(col) else { continue };
            let first_arrival = !*seen;
            if first_arrival && metadata.in_window(col) {
                self.columns_received += 1;
            }
            *seen = true;
            if !column.is_valid() {
                if first_arrival {
                    self.invalid_columns += 1;
                }
                continue;
            }
            if let Some(slot) = self.timestamp_ns.get_mut(col) {
                *slot = column.timestamp_ns();
            }
            if let Some(slot) = self.measurement_id.get_mut(col) {
                *slot = column.measurement_id();
            }
            if let Some(slot) = self.status.get_mut(col) {
                *slot = column.status();
            }
            if let Some(slot) = self.encoder_count.get_mut(col) {
                *slot = column.encoder_count();
            }
            for row in 0..self.height {
                let Some(pixel) = column.pixel(row) else { break };
                let at = row * self.width + col;
                let read =
                    |spec: Option<super::FieldSpec>| spec.and_then(|spec| spec.read(pixel)).unwrap_or(0);
                set(&mut self.range_mm, at, read(range) as u32);
                set(&mut self.signal, at, read(signal) as u16);
                set(&mut self.reflectivity, at, read(reflectivity) as u8);
                set(&mut self.near_ir, at, read(near_ir) as u16);
                set(&mut self.flags, at, read(flags) as u8);
                set(&mut self.range2_mm, at, read(range2) as u32);
                set(&mut self.signal2, at, read(signal2) as u16);
                set(&mut self.reflectivity2, at, read(reflectivity2) as u8);
                set(&mut self.flags2, at, read(flags2) as u8);
            }
        }
        true
    }
}

fn set<T>(image: &mut [T], at: usize, value: T) {
    if let Some(slot) = image.get_mut(at) {
        *slot = value;
    }
}

/// Destaggers an `H × W` row-major image: output row `r` is input row `r` shifted right by
/// `pixel_shift_by_row[r]` columns (wrapping), so that every beam of an output column points at
/// the same azimuth. Returns `None` when the sizes disagree.
pub fn destagger<T: Copy + Default>(image: &[T], width: usize, pixel_shift_by_row: &[i64]) -> Option<Vec<T>> {
    let height = pixel_shift_by_row.len();
    if width == 0 || image.len() != height * width {
        return None;
    }
    let mut out = vec![T::default(); image.len()];
    let width_i = i64::try_from(width).ok()?;
    for (row, &shift) in pixel_shift_by_row.iter().enumerate() {
        let shift = usize::try_from(shift.rem_euclid(width_i)).ok()?;
        let source = image.get(row * width..(row + 1) * width)?;
        let target = out.get_mut(row * width..(row + 1) * width)?;
        for (col, &value) in source.iter().enumerate() {
            *target.get_mut((col + shift) % width)? = value;
        }
    }
    Some(out)
}

/// Packet and frame counters of an [`OusterScanBatcher`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OusterCounters {
    /// Lidar packets accepted (well-formed, not duplicate or late).
    pub packets: u64,
    /// Packets missing: columns of emitted frames that never arrived, in whole packets — the
    /// missing head (before the first received column), the gaps, and the missing tail (after
    /// the last received column), also for the frame [`RotationAssembler::flush`] closes at the
    /// end of a stream — plus the packets of frames skipped in the frame-id sequence. Not
    /// counted: the head of a stream's first frame (the recording may start mid-rotation) and
    /// the tail of a frame cut short by a sensor restart (the sensor never sent it).
    pub lost_packets: u64,
    /// Frames skipped in the frame-id sequence.
    pub lost_frames: u64,
    /// Packets whose columns were already received.
    pub duplicate_packets: u64,
    /// Packets of a frame already emitted incomplete (reordered or late).
    pub late_packets: u64,
    /// Packets rejected by the decoder (length, type, measurement id).
    pub malformed_packets: u64,
    /// Frames emitted.
    pub frames: u64,
    /// Frames emitted with missing columns.
    pub incomplete_frames: u64,
    /// Changes of the packets' initialisation id (sensor restarts; frame ids start over).
    pub reinitialisations: u64,
    /// Packets dropped because their frame id was neither the current nor the next frame's
    /// (nor a recent one), the sensor clock did not place them there, and the next packet did
    /// not continue their frame: corrupt or misrouted packets. They close no frame and add
    /// nothing to [`Self::lost_packets`].
    pub stray_packets: u64,
    /// Jumps to an unrelated frame id confirmed by the packets that follow (a stream of
    /// unrelated frames: concatenated recordings, a clock reset): the frame in progress is
    /// closed, and the frame ids skipped are not counted as lost.
    pub discontinuities: u64,
}

/// Batches Ouster lidar packets into frames ([`LidarScan`]).
///
/// A frame is emitted as soon as its last column-window column arrives, or, when packets are
/// missing, when the first packet of a later frame arrives; [`RotationAssembler::flush`] emits
/// the frame in progress at the end of a stream. Frame ids compare modulo 65536 against the
/// frame in progress (or the last one emitted):
/// - the next frame id starts the next frame;
/// - a frame id further ahead starts a new frame only when the sensor clock agrees (the
///   packet's columns, extrapolated to their frame's start, lie that many frame periods after
///   the reference frame's start, within half a period): then the frames between were lost;
/// - a frame id behind is a late packet, dropped — unless the clock places it elsewhere;
/// - any other packet is held: if the next packet continues its frame, the stream jumped to
///   unrelated frame ids (a discontinuity: the frame in progress closes, nothing is counted as
///   lost); if not, it was a stray, counted and dropped without closing anything.
///
/// A change of the header's initialisation id (the sensor restarted) closes the frame in
/// progress and restarts the frame-id sequence. Missing packets are counted as lost per
/// [`OusterCounters::lost_packets`]. No I/O, no clock: the same packets give the same frames.
#[derive(Clone, Debug)]
pub struct OusterScanBatcher {
    metadata: OusterMetadata,
    format: PacketFormat,
    current: Option<LidarScan>,
    /// Whether the frame in progress is the first of a stream (or since a sensor restart): its
    /// missing head is not counted as lost.
    current_starts_stream: bool,
    received: Vec<bool>,
    last_emitted: Option<EmittedFrame>,
    last_init_id: Option<u32>,
    /// A packet whose frame id is neither the current nor the next frame's and that the sensor
    /// clock does not place there: a stray, or the first packet of a new stream.
    candidate: Option<Candidate>,
    /// The buffer of the last candidate, reused for the next.
    spare_packet: Vec<u8>,
    counters: OusterCounters,
}

/// The last frame emitted: its id, whether it was complete, and its stamp.
#[derive(Clone, Copy, Debug)]
struct EmittedFrame {
    frame_id: u16,
    complete: bool,
    stamp_ns: u64,
}

/// A packet held until the next one says whether it starts a new stream.
#[derive(Clone, Debug)]
struct Candidate {
    packet: Vec<u8>,
    frame_id: u16,
    init_id: u32,
}

impl OusterScanBatcher {
    /// A batcher for one sensor.
    pub fn new(metadata: &OusterMetadata) -> Self {
        Self {
            format: PacketFormat::new(metadata),
            metadata: metadata.clone(),
            current: None,
            current_starts_stream: true,
            received: vec![false; metadata.columns_per_frame],
            last_emitted: None,
            last_init_id: None,
            candidate: None,
            spare_packet: Vec::new(),
            counters: OusterCounters::default(),
        }
    }

    /// The packet layout in use.
    pub fn format(&self) -> &PacketFormat {
        &self.format
    }

    /// Counters so far.
    pub fn counters(&self) -> OusterCounters {
        self.counters
    }

    fn packets_per_frame(&self) -> u64 {
        self.metadata.window_columns().div_ceil(self.format.columns_per_packet) as u64
    }

    /// Adds one lidar packet (UDP payload); any frame it completes or closes is appended to
    /// `frames`.
    ///
    /// # Errors
    /// The packet is rejected and counted as malformed: [`OusterError::PacketLength`],
    /// [`OusterError::PacketType`], [`OusterError::MeasurementIdOutOfRange`].
    pub fn push(&mut self, packet: &[u8], frames: &mut Vec<LidarScan>) -> Result<(), OusterError> {
        let header = match self.validate(packet) {
            Ok(header) => header,
            Err(error) => {
                self.counters.malformed_packets += 1;
                return Err(error);
            }
        };
        // A new initialisation id means the sensor restarted: its frame ids start over.
        if self.last_init_id.is_some_and(|init_id| init_id != header.init_id) {
            if self.candidate.take().is_some() {
                self.counters.stray_packets += 1;
            }
            self.finish(frames, Close::Restart);
            self.last_emitted = None;
            self.counters.reinitialisations += 1;
        }
        self.last_init_id = Some(header.init_id);
        // A packet held as a possible new stream is confirmed by the next one continuing its
        // frame (same frame id, or the next); otherwise it was a stray.
        if let Some(candidate) = self.candidate.take() {
            let continues = header.frame_id.wrapping_sub(candidate.frame_id) <= 1;
            if continues {
                self.finish(frames, Close::Discontinuity);
                self.last_emitted = None;
                self.counters.discontinuities += 1;
                self.accept(&candidate.packet, candidate.frame_id, candidate.init_id, frames);
            } else {
                self.counters.stray_packets += 1;
            }
            self.spare_packet = candidate.packet;
        }
        self.accept(packet, header.frame_id, header.init_id, frames);
        Ok(())
    }

    /// Places one validated packet: into the frame in progress, a new frame, a counter (late,
    /// duplicate), or the candidate slot (a frame id neither current nor next that the sensor
    /// clock does not vouch for).
    fn accept(&mut self, packet: &[u8], frame_id: u16, init_id: u32, frames: &mut Vec<LidarScan>) {
        let reference = match (&self.current, &self.last_emitted) {
            (Some(current), _) => Some((current.frame_id, current.stamp_ns())),
            (None, Some(last)) => Some((last.frame_id, last.stamp_ns)),
            (None, None) => None,
        };
        if let Some((reference_id, reference_stamp_ns)) = reference
            && reference_id != frame_id
        {
            let ahead = frame_id.wrapping_sub(reference_id);
            let behind = reference_id.wrapping_sub(frame_id);
            let frames_later = if ahead < 0x8000 { i64::from(ahead) } else { -i64::from(behind) };
            let clock = self.clock_agrees(reference_stamp_ns, frames_later, packet);
            let late = frames_later < 0 && clock != Some(false);
            let next = frames_later == 1 || (frames_later > 1 && clock == Some(true));
            if late {
                self.counters.late_packets += 1;
                return;
            }
            if !next {
                self.hold_candidate(packet, frame_id, init_id);
                return;
            }
            // A later frame: the one in progress is over, and the frames between were lost.
            self.finish(frames, Close::Superseded);
            self.note_gap(ahead);
        } else if self.current.is_none()
            && let Some(last) = &self.last_emitted
            && last.frame_id == frame_id
        {
            if last.complete {
                self.counters.duplicate_packets += 1;
            } else {
                self.counters.late_packets += 1;
            }
            return;
        }
        if self.current.is_none() {
            self.start(frame_id, init_id);
        }
        let Some(current) = self.current.as_mut() else { return };
        if current.ingest(&self.format, &self.metadata, packet, &mut self.received) {
            self.counters.packets += 1;
            if current.is_complete() {
                self.finish(frames, Close::Superseded);
            }
        } else {
            self.counters.duplicate_packets += 1;
        }
    }

    fn hold_candidate(&mut self, packet: &[u8], frame_id: u16, init_id: u32) {
        let mut bytes = std::mem::take(&mut self.spare_packet);
        bytes.clear();
        bytes.extend_from_slice(packet);
        self.candidate = Some(Candidate { packet: bytes, frame_id, init_id });
    }

    /// Whether the sensor clock puts `packet` `frames_later` frames after the reference frame
    /// (stamped `reference_stamp_ns`): its extrapolated frame start within half a frame period
    /// of `reference + frames_later × frame period`. `None` when the clock cannot tell (no
    /// rotation rate in the metadata, no timestamp in the packet or the reference).
    fn clock_agrees(&self, reference_stamp_ns: u64, frames_later: i64, packet: &[u8]) -> Option<bool> {
        let column_period_ps = self.metadata.column_period_ps()?;
        let frame_period_ps = i128::from(column_period_ps) * self.metadata.columns_per_frame as i128;
        let packet_start_ns = self.packet_frame_start_ns(packet)?;
        if reference_stamp_ns == 0 || frame_period_ps == 0 {
            return None;
        }
        let elapsed_ps = (i128::from(packet_start_ns) - i128::from(reference_stamp_ns)) * 1000;
        let expected_ps = i128::from(frames_later) * frame_period_ps;
        Some((elapsed_ps - expected_ps).abs() * 2 <= frame_period_ps)
    }

    /// The start of the frame a packet belongs to, on the sensor clock: its first valid
    /// column's timestamp minus that column's index in the window × the column period.
    fn packet_frame_start_ns(&self, packet: &[u8]) -> Option<u64> {
        let column_period_ps = self.metadata.column_period_ps()?;
        let (first, _) = self.metadata.column_window;
        let width = self.metadata.columns_per_frame.max(1);
        (0..self.format.columns_per_packet).find_map(|index| {
            let column = self.format.column(packet, index)?;
            let stamp_ns = column.timestamp_ns();
            if !column.is_valid() || stamp_ns == 0 {
                return None;
            }
            let window_index = (usize::from(column.measurement_id()) + width - first % width) % width;
            let offset_ns = (window_index as u64).saturating_mul(column_period_ps).saturating_add(500) / 1000;
            Some(stamp_ns.saturating_sub(offset_ns))
        })
    }

    /// Emits the frame in progress, if any (end of a recording); a packet still held as a
    /// possible new stream is counted as stray.
    pub fn flush_frames(&mut self, frames: &mut Vec<LidarScan>) {
        if let Some(candidate) = self.candidate.take() {
            self.counters.stray_packets += 1;
            self.spare_packet = candidate.packet;
        }
        self.finish(frames, Close::EndOfStream);
    }

    fn validate(&self, packet: &[u8]) -> Result<super::PacketHeader, OusterError> {
        let header = self.format.header(packet)?;
        for index in 0..self.format.columns_per_packet {
            let measurement_id =
                self.format.column(packet, index).map(|column| column.measurement_id()).unwrap_or(0);
            if usize::from(measurement_id) >= self.metadata.columns_per_frame {
                return Err(OusterError::MeasurementIdOutOfRange {
                    measurement_id,
                    columns_per_frame: self.metadata.columns_per_frame,
                });
            }
        }
        Ok(header)
    }

    fn note_gap(&mut self, gap: u16) {
        if gap > 1 && gap < 0x8000 {
            let skipped = u64::from(gap - 1);
            self.counters.lost_frames += skipped;
            self.counters.lost_packets += skipped * self.packets_per_frame();
        }
    }

    fn start(&mut self, frame_id: u16, init_id: u32) {
        let mut scan = LidarScan::empty(&self.metadata);
        scan.frame_id = frame_id;
        scan.init_id = init_id;
        self.received.iter_mut().for_each(|seen| *seen = false);
        self.current = Some(scan);
        self.current_starts_stream = self.last_emitted.is_none();
    }

    /// Columns of the frame in progress that the sensor sent but that never arrived (see
    /// [`OusterCounters::lost_packets`] for which count).
    fn lost_columns(&self, close: Close) -> usize {
        let window = self.metadata.window_columns();
        let (first, _) = self.metadata.column_window;
        let width = self.metadata.columns_per_frame.max(1);
        let arrived = |index: usize| self.received.get((first + index) % width).copied().unwrap_or(false);
        let Some(first_arrived) = (0..window).find(|&index| arrived(index)) else { return 0 };
        let last_arrived = (0..window).rev().find(|&index| arrived(index)).unwrap_or(first_arrived);
        let head = if self.current_starts_stream { 0 } else { first_arrived };
        let gaps = (first_arrived..=last_arrived).filter(|&index| !arrived(index)).count();
        let tail = match close {
            Close::Restart | Close::Discontinuity => 0,
            Close::Superseded | Close::EndOfStream => window - 1 - last_arrived,
        };
        head + gaps + tail
    }

    /// Emits the current frame, counting its missing packets as lost.
    fn finish(&mut self, frames: &mut Vec<LidarScan>, close: Close) {
        let lost_columns = self.lost_columns(close);
        let Some(scan) = self.current.take() else { return };
        let missing = scan.columns_expected.saturating_sub(scan.columns_received);
        self.counters.lost_packets += lost_columns.div_ceil(self.format.columns_per_packet) as u64;
        self.counters.frames += 1;
        if missing > 0 {
            self.counters.incomplete_frames += 1;
        }
        self.last_emitted =
            Some(EmittedFrame { frame_id: scan.frame_id, complete: missing == 0, stamp_ns: scan.stamp_ns() });
        frames.push(scan);
    }
}

/// Why the frame in progress is emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Close {
    /// Complete, or a later frame arrived: whatever is missing was lost.
    Superseded,
    /// The end of the stream ([`RotationAssembler::flush`]): a missing tail was lost.
    EndOfStream,
    /// The sensor restarted (new initialisation id): it never sent the rest of this frame.
    Restart,
    /// The packets continue with an unrelated frame id (another recording, a clock jump): the
    /// rest of this frame is not known to have been sent.
    Discontinuity,
}

impl RotationAssembler for OusterScanBatcher {
    type Rotation = LidarScan;
    type Error = OusterError;

    fn push_packet(&mut self, payload: &[u8], rotations: &mut Vec<LidarScan>) -> Result<(), OusterError> {
        self.push(payload, rotations)
    }

    fn flush(&mut self, rotations: &mut Vec<LidarScan>) {
        self.flush_frames(rotations);
    }

    fn packet_counters(&self) -> PacketCounters {
        let counters = self.counters;
        PacketCounters {
            packets: counters.packets,
            lost: counters.lost_packets,
            duplicate: counters.duplicate_packets,
            late: counters.late_packets,
            malformed: counters.malformed_packets,
            stray: counters.stray_packets,
            rotations: counters.frames,
            incomplete_rotations: counters.incomplete_frames,
        }
    }
}

/// Per-pixel XYZ lookup table: `point = range_mm × direction + offset`, in metres, for every
/// pixel of the `H × W` staggered image.
///
/// From the user manual's "Coordinate Frames and XYZ Calculation": with
/// `θ_encoder = 2π (1 − c / W)` for column (measurement id) `c`,
/// `θ_azimuth = −2π beam_azimuth_angles[r] / 360`, `φ = 2π beam_altitude_angles[r] / 360`,
/// `n = √(b₀₃² + b₂₃²)` from the beam-to-lidar transform `b` (mm), a range `r` (mm) gives in the
/// lidar frame
///
/// ```text
/// x = (r − n) cos(θ_encoder + θ_azimuth) cos φ + b₀₃ cos θ_encoder
/// y = (r − n) sin(θ_encoder + θ_azimuth) cos φ + b₀₃ sin θ_encoder
/// z = (r − n) sin φ + b₂₃
/// ```
///
/// and the lidar-to-sensor transform (mm) takes it to the sensor frame (x forward, y left, z up,
/// origin at the base of the housing). [`XyzLut::new`] produces sensor-frame metres.
#[derive(Clone, Debug, PartialEq)]
pub struct XyzLut {
    width: usize,
    height: usize,
    direction: Vec<[f64; 3]>,
    offset_m: Vec<[f64; 3]>,
}

impl XyzLut {
    /// The table for the sensor frame (`lidar_to_sensor_transform` applied).
    pub fn new(metadata: &OusterMetadata) -> Self {
        Self::with_transform(metadata, &metadata.lidar_to_sensor_transform)
    }

    /// The table for an arbitrary target frame: `target_from_lidar_mm` is a 4×4 transform whose
    /// translation is in millimetres (identity gives the lidar frame).
    pub fn with_transform(metadata: &OusterMetadata, target_from_lidar_mm: &Matrix4<f64>) -> Self {
        let (height, width) = (metadata.pixels_per_column, metadata.columns_per_frame);
        let beam = &metadata.beam_to_lidar_transform;
        let (b03, b23) = (beam[(0, 3)], beam[(2, 3)]);
        let n = if b23 == 0.0 { b03 } else { b03.hypot(b23) };
        let rotation = target_from_lidar_mm.fixed_view::<3, 3>(0, 0).into_owned();
        let mut direction = Vec::with_capacity(height * width);
        let mut offset_m = Vec::with_capacity(height * width);
        for row in 0..height {
            let azimuth = -metadata.beam_azimuth_angles_deg.get(row).copied().unwrap_or(0.0).to_radians();
            let altitude = metadata.beam_altitude_angles_deg.get(row).copied().unwrap_or(0.0).to_radians();
            for col in 0..width {
                let encoder = std::f64::consts::TAU * (1.0 - col as f64 / width as f64);
                let unit = nalgebra::Vector3::new(
                    (encoder + azimuth).cos() * altitude.cos(),
                    (encoder + azimuth).sin() * altitude.cos(),
                    altitude.sin(),
                );
                let offset_lidar = Vector4::new(
                    b03 * encoder.cos() - n * unit.x,
                    b03 * encoder.sin() - n * unit.y,
                    b23 - n * unit.z,
                    1.0,
                );
                let unit_target = rotation * unit;
                let offset_target = target_from_lidar_mm * offset_lidar;
                direction.push([unit_target.x / 1000.0, unit_target.y / 1000.0, unit_target.z / 1000.0]);
                offset_m.push([offset_target.x / 1000.0, offset_target.y / 1000.0, offset_target.z / 1000.0]);
            }
        }
        Self { width, height, direction, offset_m }
    }

    /// Columns, `W`.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Rows, `H`.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The point of pixel `(row, col)` at `range_mm`, metres; `None` for range 0 (no return) or
    /// a pixel outside the table.
    pub fn point_m(&self, row: usize, col: usize, range_mm: u32) -> Option<[f64; 3]> {
        if range_mm == 0 || row >= self.height || col >= self.width {
            return None;
        }
        let index = row * self.width + col;
        let (unit, offset) = (self.direction.get(index)?, self.offset_m.get(index)?);
        let range = f64::from(range_mm);
        Some([range * unit[0] + offset[0], range * unit[1] + offset[1], range * unit[2] + offset[2]])
    }

    /// The ray of pixel `(row, col)` in the table's frame (sensor frame for [`XyzLut::new`]):
    /// `(origin_m, direction)`, the origin in metres and the direction (dimensionless; a unit
    /// vector when the transform's rotation is orthonormal, as every Ouster metadata's is), such
    /// that for every range `r_mm > 0`
    /// `point_m(row, col, r_mm) == origin_m + (r_mm / 1000) × direction` (to rounding). The
    /// origin is where range 0 would lie: the beam origin moved back by
    /// `n = lidar_origin_to_beam_origin_mm` along the beam, as in the manual's formula
    /// (`x = (r − n) cos(…) cos φ + b₀₃ cos θ_encoder`, ...). `None` outside the table.
    pub fn ray_m(&self, row: usize, col: usize) -> Option<([f64; 3], [f64; 3])> {
        if row >= self.height || col >= self.width {
            return None;
        }
        let index = row * self.width + col;
        let (per_mm, origin_m) = (self.direction.get(index)?, self.offset_m.get(index)?);
        // `direction` is stored per millimetre of range (unit / 1000): per metre it is the unit.
        Some((*origin_m, [per_mm[0] * 1000.0, per_mm[1] * 1000.0, per_mm[2] * 1000.0]))
    }

    /// XYZ of every pixel of an `H × W` range image (row-major, staggered), metres; pixels
    /// without a return are `[0, 0, 0]`.
    ///
    /// # Errors
    /// [`OusterError::ShapeMismatch`] when the image is not `H × W`.
    pub fn xyz_image(&self, range_mm: &[u32]) -> Result<Vec<[f32; 3]>, OusterError> {
        if range_mm.len() != self.width * self.height {
            return Err(self.mismatch(range_mm.len() / self.width.max(1), self.width));
        }
        Ok(range_mm
            .iter()
            .enumerate()
            .map(|(index, &range)| {
                let (row, col) = (index / self.width, index % self.width);
                self.point_m(row, col, range).map_or([0.0; 3], |[x, y, z]| [x as f32, y as f32, z as f32])
            })
            .collect())
    }

    /// The scan's first returns as a point cloud in the table's frame (sensor frame for
    /// [`XyzLut::new`]), metres, in row-major staggered pixel order, skipping pixels without a
    /// return. Intensity is `REFLECTIVITY / 255` (0..=1, like KITTI reflectance). The header is
    /// `stamp_ns = scan.stamp_ns()` (sensor clock), `FrameId::Lidar(sensor)`, sequence `seq`.
    ///
    /// # Errors
    /// [`OusterError::ShapeMismatch`] when the scan's size differs from the table's.
    pub fn point_cloud(
        &self,
        scan: &LidarScan,
        sensor: SensorId,
        seq: u64,
    ) -> Result<PointCloud, OusterError> {
        if scan.width != self.width
            || scan.height != self.height
            || scan.range_mm.len() != self.width * self.height
        {
            return Err(self.mismatch(scan.height, scan.width));
        }
        let mut points = Vec::with_capacity(scan.returns());
        for (index, &range) in scan.range_mm.iter().enumerate() {
            let (row, col) = (index / self.width, index % self.width);
            let Some([x, y, z]) = self.point_m(row, col, range) else { continue };
            let reflectivity = scan.reflectivity.get(index).copied().unwrap_or(0);
            points.push(PointXyzi {
                x_m: x as f32,
                y_m: y as f32,
                z_m: z as f32,
                intensity: f32::from(reflectivity) / 255.0,
            });
        }
        Ok(PointCloud {
            header: Header { stamp_ns: scan.stamp_ns(), frame: FrameId::Lidar(sensor), seq },
            points,
        })
    }

    fn mismatch(&self, scan_height: usize, scan_width: usize) -> OusterError {
        OusterError::ShapeMismatch { scan_height, scan_width, lut_height: self.height, lut_width: self.width }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destagger_shifts_rows() {
        let image = [1, 2, 3, 4, 5, 6];
        assert_eq!(destagger(&image, 3, &[1, -1]), Some(vec![3, 1, 2, 5, 6, 4]));
        assert_eq!(destagger(&image, 4, &[0, 0]), None);
    }
}
