//! The bus trait, the error type of the CAN module, and bus URIs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pitsense_types::{CanFrame, Clock};

use super::candump::{CandumpReader, CandumpWriter};
use super::cannelloni::UdpCanBus;
use super::socketcan_bus::SocketCanBus;

/// Why a CAN operation failed. Every variant names the bus, file, message or signal at fault.
#[derive(Debug, thiserror::Error)]
pub enum CanError {
    /// A bus URI that cannot be parsed.
    #[error("CAN bus URI `{uri}`: {reason}")]
    Uri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An operating-system error on a bus or a file.
    #[error("{what}: {source}")]
    Io {
        /// The bus or file and the operation (`udp:127.0.0.1:20000: receive`).
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A malformed line in a candump log; the reader skips it and goes on.
    #[error("candump log {path}, line {line}: {reason}")]
    CandumpLine {
        /// The log file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// The candump log has no more frames.
    #[error("candump log {path}: end of log")]
    EndOfLog {
        /// The log file.
        path: String,
    },
    /// A malformed cannelloni datagram (the frames before the fault are still delivered).
    #[error("cannelloni datagram from {source_addr} on {bus}: {reason}")]
    Cannelloni {
        /// The receiving bus.
        bus: String,
        /// The sender's address.
        source_addr: String,
        /// What is wrong with the datagram.
        reason: String,
    },
    /// A frame the bus cannot carry (a 70-byte payload, an 11-bit id above 0x7FF, ...).
    #[error("CAN bus {bus}: cannot send frame 0x{can_id:X}: {reason}")]
    InvalidFrame {
        /// The bus.
        bus: String,
        /// The frame's id.
        can_id: u32,
        /// Why.
        reason: String,
    },
    /// An operation this bus does not offer (sending on a replayed log).
    #[error("CAN bus {bus}: {reason}")]
    Unsupported {
        /// The bus.
        bus: String,
        /// What it cannot do.
        reason: String,
    },
    /// A DBC file that cannot be read or used.
    #[error("DBC {source_name}: {reason}")]
    Dbc {
        /// The file (or `<string>`).
        source_name: String,
        /// Parser message or the unusable definition.
        reason: String,
    },
    /// A frame whose id is in the DBC but whose payload does not decode.
    #[error("decoding CAN message {message} (0x{can_id:X}): {reason}")]
    Decode {
        /// DBC message name.
        message: String,
        /// Frame id.
        can_id: u32,
        /// Why (short payload, unknown multiplexer value).
        reason: String,
    },
    /// Signal values that cannot be encoded into a message.
    #[error("encoding CAN message {message}: {reason}")]
    Encode {
        /// DBC message name (as asked for).
        message: String,
        /// Why, naming the signal (unknown, missing, out of range).
        reason: String,
    },
}

/// One vehicle CAN bus: receive and send [`CanFrame`]s.
///
/// Implementations: [`SocketCanBus`] (Linux SocketCAN), [`UdpCanBus`] (cannelloni over UDP),
/// [`CandumpReader`] / [`CandumpWriter`] (can-utils log files). Live buses stamp received
/// frames with their injected clock; the candump reader stamps them from the log.
pub trait CanBus: Send {
    /// Waits up to `timeout` for the next data frame.
    ///
    /// # Errors
    /// `Ok(None)` when nothing arrived in time (or only a remote/error frame, which are
    /// skipped). An error describes one bad input (a malformed log line or datagram) or a bus
    /// failure; after a bad-input error the bus keeps working and the next call goes on.
    /// [`CanError::EndOfLog`] ends a replayed log.
    fn recv(&mut self, timeout: Duration) -> Result<Option<CanFrame>, CanError>;

    /// Sends one frame (its `stamp_ns` and `bus` are used only by log writers).
    ///
    /// # Errors
    /// [`CanError::InvalidFrame`] for a frame the bus cannot carry, [`CanError::Io`] when the
    /// OS refuses, [`CanError::Unsupported`] on a read-only bus.
    fn send(&mut self, frame: &CanFrame) -> Result<(), CanError>;

    /// The bus's name for logs and health (`can0`, `udp:127.0.0.1:20000`, `candump:FILE`).
    fn name(&self) -> &str;
}

/// Largest standard (11-bit) identifier.
pub(crate) const MAX_STANDARD_ID: u32 = 0x7FF;
/// Largest extended (29-bit) identifier.
pub(crate) const MAX_EXTENDED_ID: u32 = 0x1FFF_FFFF;

/// Whether `len` is a payload length a CAN FD frame can have (ISO 11898-1:2015 DLC table:
/// 0..=8, 12, 16, 20, 24, 32, 48, 64 bytes).
pub(crate) fn is_fd_length(len: usize) -> bool {
    len <= 8 || matches!(len, 12 | 16 | 20 | 24 | 32 | 48 | 64)
}

/// Checks that a frame can exist on a bus: its id fits 11 or 29 bits and its payload is a
/// classic (0..=8 bytes) or CAN FD length. Frames longer than 8 bytes are CAN FD frames.
pub(crate) fn check_frame(frame: &CanFrame) -> Result<(), String> {
    let max_id = if frame.extended { MAX_EXTENDED_ID } else { MAX_STANDARD_ID };
    if frame.can_id > max_id {
        let bits = if frame.extended { 29 } else { 11 };
        return Err(format!("id 0x{:X} does not fit {bits} bits", frame.can_id));
    }
    if !is_fd_length(frame.data.len()) {
        return Err(format!(
            "{} data bytes is neither a classic (0..=8) nor a CAN FD (12, 16, 20, 24, 32, 48, 64) length",
            frame.data.len()
        ));
    }
    Ok(())
}

/// A parsed bus URI (see [`open_bus`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusUri {
    /// `socketcan:IFACE`: a Linux SocketCAN interface (`can0`, `vcan0`).
    SocketCan {
        /// Interface name.
        interface: String,
    },
    /// `udp:LOCAL[?peer=PEER]`: cannelloni over UDP, bound to `LOCAL`, sending to `PEER`.
    Udp {
        /// Local address to bind (port 0: chosen by the OS).
        local: SocketAddr,
        /// Where sent frames go; `None`: the bus only receives.
        peer: Option<SocketAddr>,
    },
    /// `candump:FILE`: replay of a `candump -l` log.
    CandumpRead {
        /// The log.
        path: PathBuf,
    },
    /// `candump-write:FILE`: record sent frames to a `candump -l` log (created or truncated).
    CandumpWrite {
        /// The log.
        path: PathBuf,
    },
}

impl BusUri {
    /// Parses `socketcan:can0`, `udp:127.0.0.1:20000`, `udp:127.0.0.1:20000?peer=127.0.0.1:20001`,
    /// `candump:/path/file.log` or `candump-write:/path/out.log`.
    ///
    /// # Errors
    /// [`CanError::Uri`] naming the URI and what is wrong (unknown scheme, bad address, empty
    /// interface or path, unknown query key).
    pub fn parse(uri: &str) -> Result<Self, CanError> {
        let fail = |reason: &str| CanError::Uri { uri: uri.to_owned(), reason: reason.to_owned() };
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Err(fail("expected SCHEME:..., with scheme socketcan, udp, candump or candump-write"));
        };
        match scheme {
            "socketcan" => {
                let valid = !rest.is_empty()
                    && rest.len() < 16
                    && rest.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
                if !valid {
                    return Err(fail("the interface name must be 1..=15 characters of [A-Za-z0-9_.-]"));
                }
                Ok(Self::SocketCan { interface: rest.to_owned() })
            }
            "udp" => {
                let (local_text, query) = match rest.split_once('?') {
                    Some((local, query)) => (local, Some(query)),
                    None => (rest, None),
                };
                let local: SocketAddr = local_text
                    .parse()
                    .map_err(|_| fail(&format!("`{local_text}` is not an IP:port address")))?;
                let mut peer = None;
                for pair in query.into_iter().flat_map(|q| q.split('&')) {
                    match pair.split_once('=') {
                        Some(("peer", value)) => {
                            let address: SocketAddr = value
                                .parse()
                                .map_err(|_| fail(&format!("peer `{value}` is not an IP:port address")))?;
                            peer = Some(address);
                        }
                        _ => return Err(fail(&format!("unknown query `{pair}` (only peer=IP:PORT)"))),
                    }
                }
                Ok(Self::Udp { local, peer })
            }
            "candump" | "candump-write" => {
                if rest.is_empty() {
                    return Err(fail("the log file path is empty"));
                }
                let path = PathBuf::from(rest);
                Ok(if scheme == "candump" { Self::CandumpRead { path } } else { Self::CandumpWrite { path } })
            }
            other => {
                Err(fail(&format!("unknown scheme `{other}` (socketcan, udp, candump or candump-write)")))
            }
        }
    }
}

/// Opens the bus a URI names (see [`BusUri::parse`] for the forms); live buses stamp received
/// frames with `clock`.
///
/// # Errors
/// [`CanError::Uri`] for a bad URI, [`CanError::Io`] when the socket, interface or file cannot
/// be opened (on a kernel without CAN, `socketcan:` fails with "Address family not supported").
pub fn open_bus(uri: &str, clock: Arc<dyn Clock>) -> Result<Box<dyn CanBus>, CanError> {
    Ok(match BusUri::parse(uri)? {
        BusUri::SocketCan { interface } => Box::new(SocketCanBus::open(&interface, clock)?),
        BusUri::Udp { local, peer } => Box::new(UdpCanBus::bind(local, peer, clock)?),
        BusUri::CandumpRead { path } => Box::new(CandumpReader::open(&path)?),
        BusUri::CandumpWrite { path } => Box::new(CandumpWriter::create(&path)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_to_their_buses() {
        assert_eq!(BusUri::parse("socketcan:can0").unwrap(), BusUri::SocketCan { interface: "can0".into() });
        assert_eq!(
            BusUri::parse("udp:127.0.0.1:20000").unwrap(),
            BusUri::Udp { local: "127.0.0.1:20000".parse().unwrap(), peer: None }
        );
        assert_eq!(
            BusUri::parse("udp:127.0.0.1:20000?peer=127.0.0.1:20001").unwrap(),
            BusUri::Udp {
                local: "127.0.0.1:20000".parse().unwrap(),
                peer: Some("127.0.0.1:20001".parse().unwrap())
            }
        );
        assert_eq!(
            BusUri::parse("candump:/tmp/a.log").unwrap(),
            BusUri::CandumpRead { path: "/tmp/a.log".into() }
        );
        assert_eq!(
            BusUri::parse("candump-write:out.log").unwrap(),
            BusUri::CandumpWrite { path: "out.log".into() }
        );
    }

    #[test]
    fn bad_uris_say_why() {
        for (uri, needle) in [
            ("can0", "expected SCHEME"),
            ("socketcan:", "interface name"),
            ("socketcan:a very long name", "interface name"),
            ("udp:localhost", "not an IP:port"),
            ("udp:127.0.0.1:1?peer=x", "peer `x`"),
            ("udp:127.0.0.1:1?port=2", "unknown query"),
            ("candump:", "path is empty"),
            ("serial:/dev/ttyUSB0", "unknown scheme `serial`"),
        ] {
            let error = BusUri::parse(uri).unwrap_err().to_string();
            assert!(error.contains(needle) && error.contains(uri), "{uri}: {error}");
        }
    }
}
