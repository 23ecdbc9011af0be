//! Capture replay: classic pcap and pcapng files (read with the `pcap-file` crate) to UDP
//! datagrams.
//!
//! Link layers: Ethernet (with any number of 802.1Q / 802.1ad VLAN tags), Linux cooked capture
//! (SLL and SLL2), raw IPv4, and BSD loopback (NULL/LOOP). Network layer: IPv4 only. Fragmented
//! UDP datagrams (an Ouster lidar packet of 24 832 bytes crosses a 1500-byte MTU as 17
//! fragments) are reassembled, in any order and interleaved, with bounded memory (at most 32
//! datagrams waiting, each for at most 30 s of capture time); a datagram whose fragments never
//! all arrive is dropped and counted in [`PcapStats::incomplete_reassemblies`]. Everything else
//! that is not an IPv4/UDP datagram is skipped and counted in [`PcapStats`]: other link types or
//! ethertypes (ARP, IPv6), other IP protocols, and frames whose headers are cut short or
//! inconsistent. A file that ends inside a record (a capture killed mid-write) yields every
//! complete record, then sets [`PcapStats::truncated`] instead of failing.
//!
//! The way back, [`PcapUdpWriter`], records UDP datagrams as a classic (microsecond) pcap of
//! Ethernet II / IPv4 / UDP frames on the loopback addresses, which [`PcapUdpReader`] and
//! Wireshark read.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, PcapError, TsResolution};

use super::bytes;
use super::reassembly::{Fragment, FragmentKey, Reassembler};

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PcapReadError {
    /// The file could not be opened.
    #[error("cannot open capture `{}`: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with a pcap or pcapng header.
    #[error("`{}` is not a pcap or pcapng capture: {reason}", file.display())]
    NotACapture {
        /// The file.
        file: PathBuf,
        /// What the reader found.
        reason: String,
    },
    /// A record or block in the middle of the file is invalid (not a truncated tail).
    #[error("capture `{}` is corrupt after {records} records: {reason}", file.display())]
    Corrupt {
        /// The file.
        file: PathBuf,
        /// Records read before the bad one.
        records: u64,
        /// The reader's message.
        reason: String,
    },
}

/// One UDP datagram from a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Capture time, nanoseconds since the Unix epoch (the capturing host's clock).
    pub capture_time_ns: u64,
    /// Source address and port.
    pub source: SocketAddrV4,
    /// Destination address and port.
    pub destination: SocketAddrV4,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// What a capture held besides the datagrams returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PcapStats {
    /// Records (packets) read.
    pub records: u64,
    /// UDP datagrams returned.
    pub udp_datagrams: u64,
    /// Records of a link type this reader does not parse.
    pub unsupported_link: u64,
    /// Records that are not IPv4 (ARP, IPv6, ...).
    pub not_ipv4: u64,
    /// IPv4 packets that are not UDP.
    pub not_udp: u64,
    /// IPv4 fragments of UDP datagrams read (each reassembled into its datagram once all
    /// arrived).
    pub ipv4_fragments: u64,
    /// UDP datagrams reassembled from fragments (included in `udp_datagrams` when they pass the
    /// port filter).
    pub reassembled_datagrams: u64,
    /// Fragmented datagrams dropped because some fragment never arrived (waiting over 30 s on
    /// the capture clock, evicted when 32 datagrams were waiting, still waiting at the end of
    /// the capture) or the fragments disagree (overlapping with different bytes, two
    /// different ends, longer than an IPv4 datagram can be).
    pub incomplete_reassemblies: u64,
    /// Records whose link, IP or UDP header is cut short or inconsistent (including records
    /// captured with a snap length shorter than the datagram).
    pub malformed: u64,
    /// UDP datagrams skipped by the destination-port filter.
    pub filtered_out: u64,
    /// Whether the file ended inside a record.
    pub truncated: bool,
}

enum Source<R: Read> {
    Pcap { reader: PcapReader<R>, link: DataLink, nanoseconds: bool },
    PcapNg(PcapNgReader<R>),
}

/// Iterates the UDP datagrams of a capture, in file order.
pub struct PcapUdpReader<R: Read> {
    source: Source<R>,
    file: PathBuf,
    ports: Option<Vec<u16>>,
    stats: PcapStats,
    reassembler: Reassembler,
    finished: bool,
}

impl PcapUdpReader<BufReader<File>> {
    /// Opens a capture file (pcap or pcapng, told apart by the magic number).
    ///
    /// # Errors
    /// [`PcapReadError::Io`] when the file cannot be opened; [`PcapReadError::NotACapture`]
    /// when its header is not a capture header.
    pub fn open(path: &Path) -> Result<Self, PcapReadError> {
        let open =
            || File::open(path).map_err(|source| PcapReadError::Io { file: path.to_path_buf(), source });
        let mut magic = [0_u8; 4];
        let mut probe = open()?;
        let magic_len = probe
            .read(&mut magic)
            .map_err(|source| PcapReadError::Io { file: path.to_path_buf(), source })?;
        let pcapng = magic_len == 4 && magic == [0x0a, 0x0d, 0x0d, 0x0a];
        Self::from_reader(BufReader::new(open()?), path, pcapng)
    }
}

impl<R: Read> PcapUdpReader<R> {
    /// Reads a capture from any byte stream; `file` names it in errors, `pcapng` selects the
    /// format.
    ///
    /// # Errors
    /// [`PcapReadError::NotACapture`] when the stream does not start with a valid header.
    pub fn from_reader(reader: R, file: &Path, pcapng: bool) -> Result<Self, PcapReadError> {
        let not_a_capture = |error: PcapError| PcapReadError::NotACapture {
            file: file.to_path_buf(),
            reason: error.to_string(),
        };
        let source = if pcapng {
            Source::PcapNg(PcapNgReader::new(reader).map_err(not_a_capture)?)
        } else {
            let reader = PcapReader::new(reader).map_err(not_a_capture)?;
            let header = reader.header();
            Source::Pcap {
                link: header.datalink,
                nanoseconds: header.ts_resolution == TsResolution::NanoSecond,
                reader,
            }
        };
        Ok(Self {
            source,
            file: file.to_path_buf(),
            ports: None,
            stats: PcapStats::default(),
            reassembler: Reassembler::default(),
            finished: false,
        })
    }

    /// Keeps only datagrams to these destination ports (others are counted in
    /// [`PcapStats::filtered_out`]).
    pub fn with_destination_ports(mut self, ports: &[u16]) -> Self {
        self.ports = Some(ports.to_vec());
        self
    }

    /// Counters so far.
    pub fn stats(&self) -> PcapStats {
        PcapStats {
            reassembled_datagrams: self.reassembler.reassembled(),
            incomplete_reassemblies: self.reassembler.incomplete(),
            ..self.stats
        }
    }

    /// The next UDP datagram, or `None` at the end of the file (or of its complete records,
    /// when it is truncated).
    ///
    /// # Errors
    /// [`PcapReadError::Corrupt`] when a record in the middle of the file is invalid (an
    /// impossible length, an I/O error other than end of file); reading stops there.
    pub fn next_datagram(&mut self) -> Result<Option<UdpDatagram>, PcapReadError> {
        while !self.finished {
            let record = match self.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => {
                    self.finished = true;
                    self.reassembler.finish();
                    return Ok(None);
                }
                Err(error) => {
                    self.finished = true;
                    self.reassembler.finish();
                    return Err(error);
                }
            };
            self.stats.records += 1;
            let (link, time_ns, frame) = record;
            let Some(datagram) = self.parse(link, time_ns, &frame) else { continue };
            if let Some(ports) = &self.ports
                && !ports.contains(&datagram.destination.port())
            {
                self.stats.filtered_out += 1;
                continue;
            }
            self.stats.udp_datagrams += 1;
            return Ok(Some(datagram));
        }
        Ok(None)
    }

    /// Next record as (link type, capture time ns, frame bytes); `Ok(None)` at the end.
    fn next_record(&mut self) -> Result<Option<(DataLink, u64, Vec<u8>)>, PcapReadError> {
        let records = self.stats.records;
        let file = &self.file;
        let stats = &mut self.stats;
        let mut fail = |error: PcapError| -> Result<Option<(DataLink, u64, Vec<u8>)>, PcapReadError> {
            match error {
                PcapError::IncompleteBuffer => {
                    stats.truncated = true;
                    Ok(None)
                }
                PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                    stats.truncated = true;
                    Ok(None)
                }
                other => {
                    Err(PcapReadError::Corrupt { file: file.clone(), records, reason: other.to_string() })
                }
            }
        };
        match &mut self.source {
            Source::Pcap { reader, link, nanoseconds } => match reader.next_raw_packet() {
                None => Ok(None),
                Some(Err(error)) => fail(error),
                Some(Ok(raw)) => {
                    let fraction_ns =
                        if *nanoseconds { u64::from(raw.ts_frac) } else { u64::from(raw.ts_frac) * 1000 };
                    let time_ns = u64::from(raw.ts_sec) * 1_000_000_000 + fraction_ns;
                    Ok(Some((*link, time_ns, raw.data.into_owned())))
                }
            },
            Source::PcapNg(reader) => loop {
                let (interface, time_ns, data) = match reader.next_block() {
                    None => return Ok(None),
                    Some(Err(error)) => return fail(error),
                    Some(Ok(Block::EnhancedPacket(packet))) => (
                        Some(packet.interface_id),
                        u64::try_from(packet.timestamp.as_nanos()).unwrap_or(u64::MAX),
                        packet.data.into_owned(),
                    ),
                    Some(Ok(Block::SimplePacket(packet))) => (Some(0), 0, packet.data.into_owned()),
                    Some(Ok(_)) => continue,
                };
                let link = interface
                    .and_then(|id| usize::try_from(id).ok())
                    .and_then(|id| reader.interfaces().get(id))
                    .map_or(DataLink::ETHERNET, |interface| interface.linktype);
                return Ok(Some((link, time_ns, data)));
            },
        }
    }

    fn parse(&mut self, link: DataLink, capture_time_ns: u64, frame: &[u8]) -> Option<UdpDatagram> {
        let stats = &mut self.stats;
        let ip = match network_payload(link, frame) {
            Network::Ipv4(ip) => ip,
            Network::Other => {
                stats.not_ipv4 += 1;
                return None;
            }
            Network::UnsupportedLink => {
                stats.unsupported_link += 1;
                return None;
            }
            Network::Malformed => {
                stats.malformed += 1;
                return None;
            }
        };
        let reassembled;
        let transport = match parse_ipv4_udp(ip) {
            Transport::Fragment(fragment) => {
                stats.ipv4_fragments += 1;
                let key = fragment.key;
                reassembled = self.reassembler.add(fragment, capture_time_ns)?;
                parse_udp(key.source, key.destination, &reassembled)
            }
            other => other,
        };
        match transport {
            Transport::Udp { source, destination, payload } => {
                Some(UdpDatagram { capture_time_ns, source, destination, payload: payload.to_vec() })
            }
            Transport::NotUdp => {
                stats.not_udp += 1;
                None
            }
            Transport::Malformed | Transport::Fragment(_) => {
                stats.malformed += 1;
                None
            }
        }
    }
}

impl<R: Read> Iterator for PcapUdpReader<R> {
    type Item = Result<UdpDatagram, PcapReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_datagram().transpose()
    }
}

enum Network<'a> {
    Ipv4(&'a [u8]),
    Other,
    UnsupportedLink,
    Malformed,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const VLAN_TAGS: [u16; 3] = [0x8100, 0x88a8, 0x9100];

fn network_payload(link: DataLink, frame: &[u8]) -> Network<'_> {
    let by_ethertype = |ethertype: Option<u16>, offset: usize| match ethertype {
        None => Network::Malformed,
        Some(ETHERTYPE_IPV4) => frame.get(offset..).map_or(Network::Malformed, Network::Ipv4),
        Some(_) => Network::Other,
    };
    match link {
        DataLink::ETHERNET => {
            let mut offset = 12;
            let mut ethertype = bytes::be_u16(frame, offset);
            // 802.1Q / 802.1ad tags: 2-byte TPID (read as the ethertype) + 2-byte TCI.
            while let Some(tag) = ethertype
                && VLAN_TAGS.contains(&tag)
            {
                offset += 4;
                ethertype = bytes::be_u16(frame, offset);
            }
            by_ethertype(ethertype, offset + 2)
        }
        DataLink::LINUX_SLL => by_ethertype(bytes::be_u16(frame, 14), 16),
        DataLink::LINUX_SLL2 => by_ethertype(bytes::be_u16(frame, 0), 20),
        DataLink::RAW | DataLink::IPV4 => match frame.first() {
            Some(byte) if byte >> 4 == 4 => Network::Ipv4(frame),
            Some(_) => Network::Other,
            None => Network::Malformed,
        },
        DataLink::NULL | DataLink::LOOP => {
            // 4-byte address family, host order (NULL) or network order (LOOP); AF_INET = 2.
            match bytes::array::<4>(frame, 0) {
                None => Network::Malformed,
                Some(family) if u32::from_le_bytes(family) == 2 || u32::from_be_bytes(family) == 2 => {
                    frame.get(4..).map_or(Network::Malformed, Network::Ipv4)
                }
                Some(_) => Network::Other,
            }
        }
        _ => Network::UnsupportedLink,
    }
}

enum Transport<'a> {
    Udp {
        source: SocketAddrV4,
        destination: SocketAddrV4,
        payload: &'a [u8],
    },
    NotUdp,
    /// A fragment of a UDP datagram, to reassemble.
    Fragment(Fragment<'a>),
    Malformed,
}

fn parse_ipv4_udp(ip: &[u8]) -> Transport<'_> {
    let Some(&version_ihl) = ip.first() else { return Transport::Malformed };
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || header_len < 20 || ip.len() < header_len {
        return Transport::Malformed;
    }
    let (Some(total_len), Some(flags_fragment), Some(&protocol), Some(source), Some(destination)) = (
        bytes::be_u16(ip, 2),
        bytes::be_u16(ip, 6),
        ip.get(9),
        bytes::array::<4>(ip, 12),
        bytes::array::<4>(ip, 16),
    ) else {
        return Transport::Malformed;
    };
    // Total length 0 appears in captures of TCP/UDP segmentation offload: use what was captured.
    let total_len = if total_len == 0 { ip.len() } else { usize::from(total_len) };
    if total_len < header_len || total_len > ip.len() {
        return Transport::Malformed;
    }
    if protocol != 17 {
        return Transport::NotUdp;
    }
    let Some(udp) = ip.get(header_len..total_len) else { return Transport::Malformed };
    let more_fragments = flags_fragment & 0x2000 != 0;
    let fragment_offset = flags_fragment & 0x1fff;
    if more_fragments || fragment_offset != 0 {
        let identification = bytes::be_u16(ip, 4).unwrap_or(0);
        return Transport::Fragment(Fragment {
            key: FragmentKey { source, destination, protocol, identification },
            offset_bytes: usize::from(fragment_offset) * 8,
            more_fragments,
            payload: udp,
        });
    }
    parse_udp(source, destination, udp)
}

/// A UDP header and payload (`udp`: the whole IPv4 payload, reassembled if it was fragmented).
fn parse_udp(source: [u8; 4], destination: [u8; 4], udp: &[u8]) -> Transport<'_> {
    let (Some(source_port), Some(destination_port), Some(udp_len)) =
        (bytes::be_u16(udp, 0), bytes::be_u16(udp, 2), bytes::be_u16(udp, 4))
    else {
        return Transport::Malformed;
    };
    let udp_len = usize::from(udp_len);
    let Some(payload) = (udp_len >= 8).then(|| udp.get(8..udp_len)).flatten() else {
        return Transport::Malformed;
    };
    Transport::Udp {
        source: SocketAddrV4::new(Ipv4Addr::from(source), source_port),
        destination: SocketAddrV4::new(Ipv4Addr::from(destination), destination_port),
        payload,
    }
}

/// Reads every UDP datagram of a capture into memory (optionally only those to `ports`).
///
/// # Errors
/// As [`PcapUdpReader::open`] and [`PcapUdpReader::next_datagram`].
pub fn read_udp_datagrams(
    path: &Path,
    ports: Option<&[u16]>,
) -> Result<(Vec<UdpDatagram>, PcapStats), PcapReadError> {
    let mut reader = PcapUdpReader::open(path)?;
    if let Some(ports) = ports {
        reader = reader.with_destination_ports(ports);
    }
    let mut datagrams = Vec::new();
    while let Some(datagram) = reader.next_datagram()? {
        datagrams.push(datagram);
    }
    Ok((datagrams, reader.stats()))
}

/// Why a capture could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PcapWriteError {
    /// The file could not be created, written or flushed.
    #[error("cannot write capture `{}`: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The pcap writer refused a record (or the file header).
    #[error("cannot write capture `{}` after {datagrams} datagrams: {source}", file.display())]
    Record {
        /// The file.
        file: PathBuf,
        /// Datagrams written before.
        datagrams: u64,
        /// The writer's error.
        #[source]
        source: PcapError,
    },
    /// A payload too long for one unfragmented frame within the capture's 65 535-byte snap
    /// length (14 B Ethernet + 20 B IPv4 + 8 B UDP headers).
    #[error(
        "cannot write capture `{}`: a {bytes}-byte UDP payload exceeds the {max} bytes one frame holds",
        file.display()
    )]
    DatagramTooLarge {
        /// The file.
        file: PathBuf,
        /// Payload bytes.
        bytes: usize,
        /// Largest payload a frame holds.
        max: usize,
    },
    /// A stamp past what a classic pcap holds (seconds since the epoch must fit 32 bits,
    /// year 2106).
    #[error("cannot write capture `{}`: stamp {stamp_ns} ns is past 2^32 s", file.display())]
    StampOutOfRange {
        /// The file.
        file: PathBuf,
        /// The stamp.
        stamp_ns: u64,
    },
}

/// Bytes of the Ethernet II, IPv4 and UDP headers [`PcapUdpWriter`] puts before a payload.
const FRAME_HEADER_BYTES: usize = 14 + 20 + 8;
/// The snap length of the captures written (the `pcap-file` default header's), bytes.
const SNAP_LENGTH: usize = 65_535;

/// Writes UDP datagrams as a classic pcap (magic `a1b2c3d4`, microsecond stamps, link type
/// Ethernet): each datagram is one unfragmented Ethernet II frame (MAC addresses zero) carrying
/// IPv4 from 127.0.0.1 to 127.0.0.1 (header checksum per RFC 791, don't-fragment set, TTL 64)
/// and UDP from and to the given port (checksum 0, "not computed", RFC 768). What
/// [`PcapUdpReader`] reads back is the payload, port and stamp (to the microsecond) written.
pub struct PcapUdpWriter<W: Write> {
    writer: PcapWriter<W>,
    file: PathBuf,
    datagrams: u64,
    frame: Vec<u8>,
}

impl PcapUdpWriter<BufWriter<File>> {
    /// Creates (or truncates) a capture file and writes its header.
    ///
    /// # Errors
    /// [`PcapWriteError::Io`] when the file cannot be created; [`PcapWriteError::Record`] when
    /// the header cannot be written.
    pub fn create(path: &Path) -> Result<Self, PcapWriteError> {
        let file =
            File::create(path).map_err(|source| PcapWriteError::Io { file: path.to_path_buf(), source })?;
        Self::from_writer(BufWriter::new(file), path)
    }
}

impl<W: Write> PcapUdpWriter<W> {
    /// Writes a capture to any byte sink; `file` names it in errors.
    ///
    /// # Errors
    /// [`PcapWriteError::Record`] when the header cannot be written.
    pub fn from_writer(writer: W, file: &Path) -> Result<Self, PcapWriteError> {
        let writer = PcapWriter::new(writer).map_err(|source| PcapWriteError::Record {
            file: file.to_path_buf(),
            datagrams: 0,
            source,
        })?;
        Ok(Self { writer, file: file.to_path_buf(), datagrams: 0, frame: Vec::new() })
    }

    /// Datagrams written so far.
    pub fn datagrams(&self) -> u64 {
        self.datagrams
    }

    /// Appends one datagram: `payload` from 127.0.0.1:`port` to 127.0.0.1:`port`, captured at
    /// `stamp_ns` (nanoseconds since the Unix epoch). The classic pcap stores microseconds: the
    /// stamp is truncated to the microsecond below (`stamp_ns / 1000`), so a reader gets back
    /// `stamp_ns - stamp_ns % 1000`.
    ///
    /// # Errors
    /// [`PcapWriteError::DatagramTooLarge`] for a payload over 65 493 bytes;
    /// [`PcapWriteError::StampOutOfRange`] for a stamp at or past 2³² s;
    /// [`PcapWriteError::Record`] when the record cannot be written. Nothing is written then.
    pub fn write_datagram(&mut self, stamp_ns: u64, port: u16, payload: &[u8]) -> Result<(), PcapWriteError> {
        let max = SNAP_LENGTH - FRAME_HEADER_BYTES;
        if payload.len() > max {
            return Err(PcapWriteError::DatagramTooLarge {
                file: self.file.clone(),
                bytes: payload.len(),
                max,
            });
        }
        if stamp_ns / 1_000_000_000 > u64::from(u32::MAX) {
            return Err(PcapWriteError::StampOutOfRange { file: self.file.clone(), stamp_ns });
        }
        udp_frame(port, payload, &mut self.frame);
        let length = u32::try_from(self.frame.len()).unwrap_or(u32::MAX);
        let stamp = Duration::from_micros(stamp_ns / 1000);
        self.writer.write_packet(&PcapPacket::new(stamp, length, &self.frame)).map_err(|source| {
            PcapWriteError::Record { file: self.file.clone(), datagrams: self.datagrams, source }
        })?;
        self.datagrams += 1;
        Ok(())
    }

    /// Flushes the capture and returns the byte sink.
    ///
    /// # Errors
    /// [`PcapWriteError::Io`] when flushing fails.
    pub fn finish(self) -> Result<W, PcapWriteError> {
        let mut writer = self.writer.into_writer();
        writer.flush().map_err(|source| PcapWriteError::Io { file: self.file, source })?;
        Ok(writer)
    }
}

/// Fills `frame` with an Ethernet II frame carrying `payload` in IPv4/UDP from
/// 127.0.0.1:`port` to 127.0.0.1:`port` (RFC 791 header checksum; UDP checksum 0, "not
/// computed", RFC 768). `payload` is at most 65 493 bytes (checked by the caller), so the
/// lengths fit their 16-bit fields.
fn udp_frame(port: u16, payload: &[u8], frame: &mut Vec<u8>) {
    frame.clear();
    frame.extend([0_u8; 12]); // destination and source MAC
    frame.extend([0x08, 0x00]); // EtherType IPv4
    let total = u16::try_from(20 + 8 + payload.len()).unwrap_or(u16::MAX);
    let [total_high, total_low] = total.to_be_bytes();
    let mut ip = [0x45, 0, total_high, total_low, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
    let sum: u32 = ip.chunks_exact(2).map(|pair| u32::from(pair[0]) << 8 | u32::from(pair[1])).sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !(((folded & 0xffff) + (folded >> 16)) as u16);
    let [checksum_high, checksum_low] = checksum.to_be_bytes();
    ip[10] = checksum_high;
    ip[11] = checksum_low;
    frame.extend(ip);
    let udp_length = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    frame.extend(port.to_be_bytes());
    frame.extend(port.to_be_bytes());
    frame.extend(udp_length.to_be_bytes());
    frame.extend([0, 0]);
    frame.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_datagrams_read_back() {
        let payloads: Vec<Vec<u8>> = vec![
            b"abc".to_vec(),
            Vec::new(),
            (0..24_832_u32).map(|i| (i * 7) as u8).collect(), // an Ouster RNG19 packet's size
            vec![0xff; SNAP_LENGTH - FRAME_HEADER_BYTES],
        ];
        let stamps_ns =
            [1_700_000_000_123_456_789_u64, 1_700_000_000_123_457_000, 0, 4_294_967_295_999_999_999];
        let ports = [7502_u16, 7503, 1, 65_535];
        let mut writer = PcapUdpWriter::from_writer(Vec::new(), Path::new("memory.pcap")).unwrap();
        for ((payload, &stamp_ns), &port) in payloads.iter().zip(&stamps_ns).zip(&ports) {
            writer.write_datagram(stamp_ns, port, payload).unwrap();
        }
        // Refused, and nothing written: too long a payload, a stamp past 2^32 s.
        let too_long = vec![0; SNAP_LENGTH - FRAME_HEADER_BYTES + 1];
        assert!(matches!(
            writer.write_datagram(0, 1, &too_long),
            Err(PcapWriteError::DatagramTooLarge { bytes: 65_494, max: 65_493, .. })
        ));
        assert!(matches!(
            writer.write_datagram(4_294_967_296_000_000_000, 1, b"x"),
            Err(PcapWriteError::StampOutOfRange { .. })
        ));
        assert_eq!(writer.datagrams(), 4);
        let bytes = writer.finish().unwrap();

        let mut reader =
            PcapUdpReader::from_reader(bytes.as_slice(), Path::new("memory.pcap"), false).unwrap();
        let mut read = Vec::new();
        while let Some(datagram) = reader.next_datagram().unwrap() {
            read.push(datagram);
        }
        assert_eq!(read.len(), payloads.len());
        for (((datagram, payload), &stamp_ns), &port) in
            read.iter().zip(&payloads).zip(&stamps_ns).zip(&ports)
        {
            assert_eq!(&datagram.payload, payload);
            assert_eq!(datagram.source, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
            assert_eq!(datagram.destination, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
            // Microsecond capture: the stamp comes back truncated to the microsecond.
            assert_eq!(datagram.capture_time_ns, stamp_ns - stamp_ns % 1000);
        }
        let stats = reader.stats();
        assert_eq!((stats.records, stats.udp_datagrams, stats.malformed, stats.truncated), (4, 4, 0, false));
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        let mut frame = Vec::new();
        udp_frame(7502, b"payload", &mut frame);
        let ip = &frame[14..34];
        // RFC 1071: the one's-complement sum over a header with its checksum is 0xffff.
        let sum: u32 = ip.chunks_exact(2).map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]]))).sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        assert_eq!((folded & 0xffff) + (folded >> 16), 0xffff);
    }

    fn udp_frame_for_parsing(vlan: bool, fragment: bool, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0_u8; 12];
        if vlan {
            frame.extend([0x81, 0x00, 0x00, 0x05]);
        }
        frame.extend([0x08, 0x00]);
        let total = 20 + 8 + payload.len();
        let mut ip = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            if fragment { 0x20 } else { 0 },
            0,
            64,
            17,
            0,
            0,
        ];
        ip.extend([127, 0, 0, 1, 127, 0, 0, 1]);
        frame.extend(ip);
        let udp_len = 8 + payload.len();
        frame.extend([0x1d, 0x4e, 0x1d, 0x4e, (udp_len >> 8) as u8, udp_len as u8, 0, 0]);
        frame.extend(payload);
        frame.extend([0, 0, 0, 0]); // Ethernet padding the IP length must trim.
        frame
    }

    #[test]
    fn ethernet_vlan_and_fragments() {
        for vlan in [false, true] {
            let frame = udp_frame_for_parsing(vlan, false, b"abc");
            let Network::Ipv4(ip) = network_payload(DataLink::ETHERNET, &frame) else { panic!("not ipv4") };
            let Transport::Udp { destination, payload, .. } = parse_ipv4_udp(ip) else { panic!("not udp") };
            assert_eq!((destination.port(), payload), (7502, &b"abc"[..]));
        }
        let frame = udp_frame_for_parsing(false, true, b"abc");
        let Network::Ipv4(ip) = network_payload(DataLink::ETHERNET, &frame) else { panic!("not ipv4") };
        assert!(matches!(parse_ipv4_udp(ip), Transport::Fragment(_)));
        // Every prefix of a frame parses without panicking.
        let frame = udp_frame_for_parsing(true, false, b"abcdef");
        for end in 0..frame.len() {
            if let Network::Ipv4(ip) = network_payload(DataLink::ETHERNET, &frame[..end]) {
                let _ = parse_ipv4_udp(ip);
            }
        }
    }
}
