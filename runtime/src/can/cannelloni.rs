//! CAN over UDP in the cannelloni wire format (cannelloni, "a SocketCAN over ethernet tunnel",
//! `doc/udp_format.md`, format version 2), so that a truck's SocketCAN bus bridged by the
//! `cannelloni` tool, or a test, can feed the runtime.
//!
//! One datagram, every field big-endian (network order):
//!
//! ```text
//!  byte 0      1        2        3..4
//!  +--------+--------+--------+-----------------+
//!  |version | op code| seq no |  frame count    |   header, 5 bytes: version 2, op code 0 (DATA)
//!  +--------+--------+--------+-----------------+
//!  then `frame count` times:
//!  +-----------------------------------+--------+---------+----------------+
//!  |  can_id (u32, Linux canid_t)      |  len   | flags^  | data (len B)   |
//!  +-----------------------------------+--------+---------+----------------+
//!   can_id bit 31: EFF (29-bit id), bit 30: RTR (no data follows), bit 29: ERR;
//!   low 11 or 29 bits: the id.   len bit 7 set: a CAN FD frame, then ^flags (one byte,
//!   BRS 0x01 / ESI 0x02) follows and len & 0x7F is 0..=64; otherwise 0..=8.
//! ```
//!
//! Remote (RTR) and error (ERR) frames are parsed and skipped: [`pitsense_types::CanFrame`]
//! carries data frames only. Sent frames go one per datagram with an incrementing sequence
//! number; a CAN FD frame is sent with flags 0.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use pitsense_types::{CanFrame, Clock};

use super::bus::{CanBus, CanError, MAX_EXTENDED_ID, MAX_STANDARD_ID, check_frame, is_fd_length};

/// Format version this module speaks.
const VERSION: u8 = 2;
/// Op code of a data packet.
const OP_DATA: u8 = 0;
/// Header size, bytes.
const HEADER_LEN: usize = 5;
/// `canid_t` flags (`<linux/can.h>`).
const CAN_EFF_FLAG: u32 = 0x8000_0000;
const CAN_RTR_FLAG: u32 = 0x4000_0000;
const CAN_ERR_FLAG: u32 = 0x2000_0000;
/// `len` bit marking a CAN FD frame.
const FD_LEN_FLAG: u8 = 0x80;
/// Largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

/// Appends one data datagram holding `frames` to `out` (cleared first).
///
/// Frames must pass the bus check (id range, classic or FD length): the caller checks.
fn encode_datagram(seq_no: u8, frames: &[&CanFrame], out: &mut Vec<u8>) {
    out.clear();
    out.push(VERSION);
    out.push(OP_DATA);
    out.push(seq_no);
    // At most a handful of frames are sent per datagram; saturating keeps the header honest
    // even for an absurd call.
    let count = u16::try_from(frames.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for frame in frames.iter().take(usize::from(count)) {
        let id_word = if frame.extended { frame.can_id | CAN_EFF_FLAG } else { frame.can_id };
        out.extend_from_slice(&id_word.to_be_bytes());
        // check_frame bounds the length to 64.
        let len = u8::try_from(frame.data.len()).unwrap_or(64);
        if frame.data.len() > 8 {
            out.push(len | FD_LEN_FLAG);
            out.push(0); // CAN FD flags: no bit-rate switch, no error-state indicator.
        } else {
            out.push(len);
        }
        out.extend_from_slice(&frame.data);
    }
}

/// Parses one datagram, pushing its data frames (stamped `stamp_ns`, on `bus`) to `frames`.
///
/// Returns the datagram's sequence number. On a malformed datagram the frames before the
/// fault have been pushed and the error says what is wrong.
fn decode_datagram(
    datagram: &[u8],
    stamp_ns: u64,
    bus: &str,
    frames: &mut VecDeque<CanFrame>,
) -> Result<u8, String> {
    let Some(&[version, op_code, seq_no, count_hi, count_lo]) = datagram.get(..HEADER_LEN) else {
        return Err(format!("{} bytes is shorter than the 5-byte header", datagram.len()));
    };
    if version != VERSION {
        return Err(format!("format version {version}, expected {VERSION}"));
    }
    if op_code != OP_DATA {
        return Err(format!("op code {op_code} is not DATA ({OP_DATA})"));
    }
    let count = u16::from_be_bytes([count_hi, count_lo]);
    let mut at = HEADER_LEN;
    for index in 0..count {
        let Some(&[b0, b1, b2, b3, len_byte]) = datagram.get(at..at + 5) else {
            return Err(format!("truncated: frame {index} of {count} has no complete 5-byte header"));
        };
        at += 5;
        let id_word = u32::from_be_bytes([b0, b1, b2, b3]);
        let fd = len_byte & FD_LEN_FLAG != 0;
        let len = usize::from(len_byte & !FD_LEN_FLAG);
        if fd {
            if datagram.get(at).is_none() {
                return Err(format!("truncated: CAN FD frame {index} has no flags byte"));
            }
            at += 1;
        }
        let valid_len = if fd { len <= 64 && is_fd_length(len) } else { len <= 8 };
        if !valid_len {
            let kind = if fd { "CAN FD" } else { "classic CAN" };
            return Err(format!("frame {index}: length {len} is not a {kind} length"));
        }
        if id_word & CAN_RTR_FLAG != 0 {
            continue; // A remote request carries no data section.
        }
        let Some(data) = datagram.get(at..at + len) else {
            return Err(format!(
                "truncated: frame {index} needs {len} data bytes, {} left",
                datagram.len().saturating_sub(at)
            ));
        };
        at += len;
        if id_word & CAN_ERR_FLAG != 0 {
            continue; // Error frames report bus errors, not vehicle data.
        }
        let extended = id_word & CAN_EFF_FLAG != 0;
        let can_id = id_word & if extended { MAX_EXTENDED_ID } else { 0x1FFF_FFFF };
        if !extended && can_id > MAX_STANDARD_ID {
            return Err(format!("frame {index}: standard id 0x{can_id:X} has bits above 11"));
        }
        frames.push_back(CanFrame { stamp_ns, bus: bus.to_owned(), can_id, extended, data: data.to_vec() });
    }
    Ok(seq_no)
}

/// Encodes `frames` as one cannelloni data datagram with sequence number `seq_no` (for
/// tools and tests that speak the format without a bus).
///
/// # Errors
/// [`CanError::InvalidFrame`] (bus `cannelloni`) for a frame no bus can carry, or when the
/// frames do not fit one datagram.
pub fn encode_cannelloni(seq_no: u8, frames: &[CanFrame]) -> Result<Vec<u8>, CanError> {
    let mut size = HEADER_LEN;
    for frame in frames {
        check_frame(frame).map_err(|reason| CanError::InvalidFrame {
            bus: "cannelloni".into(),
            can_id: frame.can_id,
            reason,
        })?;
        size += 5 + usize::from(frame.data.len() > 8) + frame.data.len();
    }
    if size > MAX_DATAGRAM || frames.len() > usize::from(u16::MAX) {
        return Err(CanError::InvalidFrame {
            bus: "cannelloni".into(),
            can_id: frames.first().map_or(0, |f| f.can_id),
            reason: format!("{} frames need {size} bytes, over one datagram", frames.len()),
        });
    }
    let refs: Vec<&CanFrame> = frames.iter().collect();
    let mut out = Vec::with_capacity(size);
    encode_datagram(seq_no, &refs, &mut out);
    Ok(out)
}

/// Decodes one cannelloni datagram into its data frames, stamped `stamp_ns` on bus `bus`,
/// and its sequence number.
///
/// # Errors
/// [`CanError::Cannelloni`] (source `-`) naming what is wrong: short header, version other
/// than 2, op code other than DATA, truncated frame, invalid length or id.
pub fn decode_cannelloni(datagram: &[u8], stamp_ns: u64, bus: &str) -> Result<(u8, Vec<CanFrame>), CanError> {
    let mut frames = VecDeque::new();
    let seq_no = decode_datagram(datagram, stamp_ns, bus, &mut frames)
        .map_err(|reason| CanError::Cannelloni { bus: bus.to_owned(), source_addr: "-".into(), reason })?;
    Ok((seq_no, frames.into()))
}

/// A CAN bus carried over UDP in the cannelloni format: receives on a bound address, sends
/// to a configured peer. Received frames are stamped with the injected clock when the
/// datagram arrives; their `bus` is the bus name `udp:LOCAL`.
///
/// Datagrams are accepted from any sender. The frames of one datagram wait in a queue
/// bounded by that datagram's size (at most ~13,000 frames for 64 KiB) until read.
#[derive(Debug)]
pub struct UdpCanBus {
    socket: UdpSocket,
    name: String,
    peer: Option<SocketAddr>,
    clock: Arc<dyn Clock>,
    queue: VecDeque<CanFrame>,
    receive_buffer: Vec<u8>,
    send_buffer: Vec<u8>,
    next_seq_no: u8,
    last_seq_no: Option<u8>,
    datagrams_lost: u64,
    /// The receive timeout last applied to the socket (`Some(ZERO)`: non-blocking).
    applied_timeout: Option<Duration>,
}

impl UdpCanBus {
    /// Binds `local` (port 0: the OS chooses; see [`UdpCanBus::local_addr`]); frames sent go
    /// to `peer`.
    ///
    /// # Errors
    /// [`CanError::Io`] when the address cannot be bound.
    pub fn bind(
        local: SocketAddr,
        peer: Option<SocketAddr>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CanError> {
        let socket = UdpSocket::bind(local)
            .map_err(|source| CanError::Io { what: format!("udp:{local}: bind"), source })?;
        let bound = socket
            .local_addr()
            .map_err(|source| CanError::Io { what: format!("udp:{local}: local address"), source })?;
        Ok(Self {
            socket,
            name: format!("udp:{bound}"),
            peer,
            clock,
            queue: VecDeque::new(),
            receive_buffer: vec![0; MAX_DATAGRAM + 1],
            send_buffer: Vec::with_capacity(HEADER_LEN + 6 + 64),
            next_seq_no: 0,
            last_seq_no: None,
            datagrams_lost: 0,
            applied_timeout: None,
        })
    }

    /// The bound local address.
    ///
    /// # Errors
    /// [`CanError::Io`] if the OS cannot tell.
    pub fn local_addr(&self) -> Result<SocketAddr, CanError> {
        self.socket
            .local_addr()
            .map_err(|source| CanError::Io { what: format!("{}: local address", self.name), source })
    }

    /// Changes where sent frames go (`None`: the bus only receives).
    pub fn set_peer(&mut self, peer: Option<SocketAddr>) {
        self.peer = peer;
    }

    /// Datagrams the senders' sequence numbers say were lost since start-up (gaps under 128;
    /// larger jumps are taken for a restarted sender).
    pub fn datagrams_lost(&self) -> u64 {
        self.datagrams_lost
    }

    fn apply_timeout(&mut self, timeout: Duration) -> Result<(), CanError> {
        if self.applied_timeout == Some(timeout) {
            return Ok(());
        }
        let result = if timeout.is_zero() {
            self.socket.set_nonblocking(true)
        } else {
            self.socket.set_nonblocking(false).and_then(|()| self.socket.set_read_timeout(Some(timeout)))
        };
        result
            .map_err(|source| CanError::Io { what: format!("{}: set receive timeout", self.name), source })?;
        self.applied_timeout = Some(timeout);
        Ok(())
    }

    fn note_seq_no(&mut self, seq_no: u8) {
        if let Some(last) = self.last_seq_no {
            let gap = seq_no.wrapping_sub(last).wrapping_sub(1);
            if gap < 128 {
                self.datagrams_lost += u64::from(gap);
            }
        }
        self.last_seq_no = Some(seq_no);
    }
}

impl CanBus for UdpCanBus {
    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, CanError> {
        if let Some(frame) = self.queue.pop_front() {
            return Ok(Some(frame));
        }
        self.apply_timeout(timeout)?;
        let (len, from) = match self.socket.recv_from(&mut self.receive_buffer) {
            Ok(received) => received,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(None);
            }
            Err(source) => return Err(CanError::Io { what: format!("{}: receive", self.name), source }),
        };
        let stamp_ns = self.clock.now_ns();
        let datagram = self.receive_buffer.get(..len).unwrap_or_default();
        match decode_datagram(datagram, stamp_ns, &self.name, &mut self.queue) {
            Ok(seq_no) => {
                self.note_seq_no(seq_no);
                Ok(self.queue.pop_front())
            }
            Err(reason) => {
                Err(CanError::Cannelloni { bus: self.name.clone(), source_addr: from.to_string(), reason })
            }
        }
    }

    fn send(&mut self, frame: &CanFrame) -> Result<(), CanError> {
        let Some(peer) = self.peer else {
            return Err(CanError::Unsupported {
                bus: self.name.clone(),
                reason: "no peer (add ?peer=IP:PORT to the URI): the bus only receives".into(),
            });
        };
        check_frame(frame).map_err(|reason| CanError::InvalidFrame {
            bus: self.name.clone(),
            can_id: frame.can_id,
            reason,
        })?;
        encode_datagram(self.next_seq_no, &[frame], &mut self.send_buffer);
        self.next_seq_no = self.next_seq_no.wrapping_add(1);
        self.socket
            .send_to(&self.send_buffer, peer)
            .map_err(|source| CanError::Io { what: format!("{}: send to {peer}", self.name), source })?;
        Ok(())
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(can_id: u32, extended: bool, data: &[u8]) -> CanFrame {
        CanFrame { stamp_ns: 7, bus: "b".into(), can_id, extended, data: data.to_vec() }
    }

    #[test]
    fn datagram_layout_matches_the_format_document() {
        // Hand-built from cannelloni's doc/udp_format.md: header 02 00 <seq> <count u16 BE>;
        // frame 1: standard id 0x123 -> 00 00 01 23, len 2, data AB CD;
        // frame 2: extended id 0x18FEF100 -> EFF bit 31 set: 98 FE F1 00, len 0;
        // frame 3: CAN FD, id 0x10, 12 bytes -> len 0x80 | 12 = 0x8C, flags 00, 12 data bytes.
        let fd_data: Vec<u8> = (1..=12).collect();
        let frames =
            [frame(0x123, false, &[0xAB, 0xCD]), frame(0x18FE_F100, true, &[]), frame(0x10, false, &fd_data)];
        let bytes = encode_cannelloni(9, &frames).unwrap();
        let mut expected = vec![
            2, 0, 9, 0, 3, 0, 0, 1, 0x23, 2, 0xAB, 0xCD, 0x98, 0xFE, 0xF1, 0x00, 0, 0, 0, 0, 0x10, 0x8C, 0,
        ];
        expected.extend_from_slice(&fd_data);
        assert_eq!(bytes, expected);
        let (seq_no, decoded) = decode_cannelloni(&bytes, 7, "b").unwrap();
        assert_eq!(seq_no, 9);
        assert_eq!(decoded, frames);
    }

    #[test]
    fn remote_and_error_frames_are_skipped() {
        // RTR frame 0x100 with dlc 4 and no data; error frame with 8 bytes; then a data frame.
        let mut bytes = vec![2, 0, 0, 0, 3];
        bytes.extend_from_slice(&[0x40, 0, 0x01, 0x00, 4]);
        bytes.extend_from_slice(&[0x20, 0, 0, 0x04, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0, 0, 0x02, 0x00, 1, 0x55]);
        let (_, decoded) = decode_cannelloni(&bytes, 1, "b").unwrap();
        assert_eq!(
            decoded,
            vec![CanFrame { stamp_ns: 1, bus: "b".into(), can_id: 0x200, extended: false, data: vec![0x55] }]
        );
    }

    #[test]
    fn malformed_datagrams_say_why() {
        for (bytes, needle) in [
            (vec![2, 0, 0, 0], "shorter than the 5-byte header"),
            (vec![1, 0, 0, 0, 0], "format version 1"),
            (vec![2, 1, 0, 0, 0], "op code 1"),
            (vec![2, 0, 0, 0, 1, 0, 0], "no complete 5-byte header"),
            (vec![2, 0, 0, 0, 1, 0, 0, 1, 0, 9], "not a classic CAN length"),
            (vec![2, 0, 0, 0, 1, 0, 0, 1, 0, 0x80 | 13, 0], "not a CAN FD length"),
            (vec![2, 0, 0, 0, 1, 0, 0, 1, 0, 4, 1, 2], "needs 4 data bytes, 2 left"),
            (vec![2, 0, 0, 0, 1, 0, 0, 0x08, 0, 0], "has bits above 11"),
        ] {
            let error = decode_cannelloni(&bytes, 0, "b").unwrap_err().to_string();
            assert!(error.contains(needle), "{bytes:?}: {error}");
        }
    }

    #[test]
    fn frames_before_a_fault_are_kept() {
        let mut queue = VecDeque::new();
        let bytes = [2, 0, 0, 0, 2, 0, 0, 0, 0x11, 1, 0xEE, 0, 0];
        assert!(decode_datagram(&bytes, 5, "b", &mut queue).is_err());
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].can_id, 0x11);
    }

    #[test]
    fn invalid_frames_are_refused() {
        for bad in [frame(0x800, false, &[]), frame(0x2000_0000, true, &[]), frame(1, false, &[0; 9])] {
            assert!(matches!(encode_cannelloni(0, &[bad]), Err(CanError::InvalidFrame { .. })));
        }
    }
}
