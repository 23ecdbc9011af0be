//! Tokio UDP receiver for RSU messages (raw UPER frames, hex text or IEEE 1609.2 envelopes),
//! with per-source statistics, delivering on the project's bounded channel
//! ([`pitsense_types::channel`], edge `rsu-udp:<port>`). This is the input adapter of the
//! stage; decoding is the synchronous [`crate::decode::Decoder`].
//!
//! Drop policy: the edge holds at most `queue_capacity` decoded datagrams. When it is full
//! the newest datagram is dropped ([`DropPolicy::DropNewest`], counted by the edge and as
//! `dropped_queue_full` for its source): the consumer keeps the oldest, already-waiting
//! messages, and stale data is the plausibility gate's concern. Over-long datagrams (more than `max_datagram_bytes`) are rejected whole.
//! Statistics are kept for at most `max_sources` source addresses; datagrams from further
//! sources are counted under [`OTHER_SOURCES`].

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use pitsense_types::channel::{DropPolicy, EdgeReceiver, SendOutcome, edge};
use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::V2xError;
use crate::decode::{DecodeConfig, DecodeReport, Decoder};

/// The address statistics of sources beyond `max_sources` are counted under.
pub const OTHER_SOURCES: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// Settings of the receiver; units in the names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReceiverConfig {
    /// Address to bind, e.g. `0.0.0.0:1516` (a common RSU forwarding port).
    pub bind_addr: SocketAddr,
    /// Decoded datagrams the queue holds before dropping the newest.
    pub queue_capacity: usize,
    /// Longest datagram accepted, bytes.
    pub max_datagram_bytes: usize,
    /// Most source addresses with their own statistics.
    pub max_sources: usize,
    /// Decoder limits.
    pub decode: DecodeConfig,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            bind_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 1516),
            queue_capacity: 256,
            max_datagram_bytes: 8192,
            max_sources: 256,
            decode: DecodeConfig { max_input_bytes: 8192, max_frames: 64 },
        }
    }
}

/// Errors of the receiver.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// A configuration value is out of range.
    #[error(transparent)]
    Config(#[from] pitsense_types::ConfigError),
    /// The socket could not be bound.
    #[error("binding UDP socket {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Per-source counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SourceStats {
    /// Datagrams received.
    pub received: u64,
    /// Datagrams with at least one frame found (queued or dropped).
    pub decoded: u64,
    /// Datagrams dropped because the queue was full (newest dropped).
    pub dropped_queue_full: u64,
    /// Rejected: longer than `max_datagram_bytes`.
    pub rejected_too_long: u64,
    /// Rejected: empty datagram.
    pub rejected_empty: u64,
    /// Rejected: hex text with an odd digit count.
    pub rejected_invalid_hex: u64,
    /// Rejected: IEEE 1609.2 envelope not unwrappable (encrypted, bad length...).
    pub rejected_envelope: u64,
    /// Rejected: no MessageFrame decodes at the start.
    pub rejected_malformed_frame: u64,
    /// Frames found.
    pub frames: u64,
    /// Frames of a supported message that decoded.
    pub messages_decoded: u64,
    /// Frames with an unsupported messageId.
    pub messages_unsupported: u64,
    /// Frames of a supported message that did not decode.
    pub messages_malformed: u64,
    /// IEEE 1609.2 signedData envelopes (not verified).
    pub envelopes_signed_not_verified: u64,
    /// IEEE 1609.2 envelopes declaring more payload than the datagram holds.
    pub envelopes_truncated: u64,
}

impl SourceStats {
    fn count_rejection(&mut self, error: &V2xError) {
        match error {
            V2xError::InputTooLong { .. } => self.rejected_too_long += 1,
            V2xError::EmptyInput => self.rejected_empty += 1,
            V2xError::InvalidHex { .. } => self.rejected_invalid_hex += 1,
            V2xError::Ieee1609Dot2 { .. } => self.rejected_envelope += 1,
            V2xError::MessageFrame { .. }
            | V2xError::Message { .. }
            | V2xError::Encode { .. }
            | V2xError::Csae(_)
            | V2xError::Etsi(_)
            | V2xError::UnsupportedStandard { .. } => {
                self.rejected_malformed_frame += 1;
            }
        }
    }

    fn count_report(&mut self, report: &DecodeReport) {
        self.decoded += 1;
        if let Some(envelope) = &report.envelope {
            if envelope.security == crate::ieee1609dot2::Security::SignedNotVerified {
                self.envelopes_signed_not_verified += 1;
            }
            if envelope.truncated.is_some() {
                self.envelopes_truncated += 1;
            }
        }
        for frame in &report.frames {
            self.frames += 1;
            match &frame.message {
                Ok(message) if message.is_supported() => self.messages_decoded += 1,
                Ok(_) => self.messages_unsupported += 1,
                Err(_) => self.messages_malformed += 1,
            }
        }
    }
}

/// One decoded datagram.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedDatagram {
    /// The sender.
    pub source: SocketAddr,
    /// Receive time on the truck clock (from the injected clock), nanoseconds.
    pub receive_stamp_ns: u64,
    /// What it held.
    pub report: DecodeReport,
}

type SharedStats = Arc<Mutex<BTreeMap<SocketAddr, SourceStats>>>;

/// A running receiver. Dropping it stops the receive task.
#[derive(Debug)]
pub struct RsuReceiver {
    local_addr: SocketAddr,
    stats: SharedStats,
    task: JoinHandle<()>,
}

impl RsuReceiver {
    /// Binds the socket and starts the receive task on the current tokio runtime. Returns the
    /// receiver and the edge its decoded datagrams arrive on (await them with
    /// [`EdgeReceiver::recv_async`]; the edge ends when the receiver is dropped).
    ///
    /// `clock` gives the truck-clock receive stamp of each datagram, nanoseconds: injected (the
    /// runtime's clock live, the recording's in replay); the stage reads no wall clock itself.
    ///
    /// # Errors
    /// [`ReceiverError::Config`] for a zero capacity/limit, [`ReceiverError::Bind`] when the
    /// address cannot be bound.
    pub async fn bind(
        config: ReceiverConfig,
        clock: impl Fn() -> u64 + Send + 'static,
    ) -> Result<(Self, EdgeReceiver<ReceivedDatagram>), ReceiverError> {
        use pitsense_types::ConfigError;
        if config.queue_capacity == 0 {
            return Err(ConfigError::new("v2x.receiver.queue_capacity", "must be at least 1").into());
        }
        if config.max_datagram_bytes == 0 || config.max_datagram_bytes > 65_535 {
            return Err(ConfigError::new("v2x.receiver.max_datagram_bytes", "must be in 1..=65535").into());
        }
        if config.max_sources == 0 {
            return Err(ConfigError::new("v2x.receiver.max_sources", "must be at least 1").into());
        }
        let decode = DecodeConfig {
            max_input_bytes: config.decode.max_input_bytes.min(config.max_datagram_bytes),
            ..config.decode
        };
        let mut decoder = Decoder::new(decode)?;
        let socket = UdpSocket::bind(config.bind_addr)
            .await
            .map_err(|source| ReceiverError::Bind { addr: config.bind_addr, source })?;
        let local_addr =
            socket.local_addr().map_err(|source| ReceiverError::Bind { addr: config.bind_addr, source })?;
        let (sender, receiver, _probe) =
            edge(&format!("rsu-udp:{}", local_addr.port()), config.queue_capacity, DropPolicy::DropNewest);
        let stats: SharedStats = Arc::new(Mutex::new(BTreeMap::new()));
        let task_stats = Arc::clone(&stats);
        let max_datagram_bytes = config.max_datagram_bytes;
        let max_sources = config.max_sources;
        let task = tokio::spawn(async move {
            // One byte more than the limit, so that an over-long datagram is seen as such.
            let mut buffer = vec![0u8; max_datagram_bytes + 1];
            loop {
                let Ok((length, source)) = socket.recv_from(&mut buffer).await else {
                    // ICMP errors surface here on some platforms: keep receiving, without
                    // spinning if the error persists.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let receive_stamp_ns = clock();
                let datagram = buffer.get(..length).unwrap_or_default();
                let outcome = if length > max_datagram_bytes {
                    Err(V2xError::InputTooLong { length_bytes: length, max_bytes: max_datagram_bytes })
                } else {
                    decoder.decode(datagram)
                };
                let Ok(mut stats) = task_stats.lock() else { return };
                let key = if stats.contains_key(&source) || stats.len() < max_sources {
                    source
                } else {
                    OTHER_SOURCES
                };
                let entry = stats.entry(key).or_default();
                entry.received += 1;
                match outcome {
                    Ok(report) => {
                        entry.count_report(&report);
                        match sender.send(ReceivedDatagram { source, receive_stamp_ns, report }) {
                            SendOutcome::Queued | SendOutcome::DroppedOldest => {}
                            SendOutcome::DroppedNewest => entry.dropped_queue_full += 1,
                            SendOutcome::Disconnected => return,
                        }
                    }
                    Err(error) => entry.count_rejection(&error),
                }
            }
        });
        Ok((Self { local_addr, stats, task }, receiver))
    }

    /// The bound address (with the port the OS chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Per-source statistics, sorted by address.
    pub fn stats(&self) -> Vec<(SocketAddr, SourceStats)> {
        self.stats
            .lock()
            .map(|stats| stats.iter().map(|(addr, stats)| (*addr, *stats)).collect())
            .unwrap_or_default()
    }
}

impl Drop for RsuReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
