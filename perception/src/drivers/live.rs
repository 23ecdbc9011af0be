//! Live reception: a tokio UDP socket feeding a [`RotationAssembler`], rotations delivered
//! through the project's bounded channel ([`pitsense_types::channel`]).
//!
//! ```text
//! sensor ──UDP──> socket ──> assembler (sync core) ──> edge (bounded) ──> consumer
//!                                                        └ full: drop oldest or newest
//! ```
//!
//! The edge never grows past its capacity. [`DropPolicy::DropOldest`] (the default) discards
//! the oldest queued rotation to make room, so a consumer that falls behind always gets the
//! freshest rotation (what obstacle detection wants); [`DropPolicy::DropNewest`] discards the
//! arriving rotation, so the backlog stays intact (what a recorder wants). Every drop is
//! counted in [`LiveCounters::dropped_rotations`]. [`DropPolicy::Block`] is refused: the
//! receive task must never wait for its consumer while the socket fills.
//!
//! The operating system's socket buffer must hold a burst of packets while the task is not
//! scheduled: an Ouster 128-beam sensor sends ~25 kB packets at 640–2560 per second, more than
//! Linux's default 208 kB `rmem_default`; raise `net.core.rmem_default` / `rmem_max` on the
//! vehicle (losses then show up in the assembler's `lost` counter).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

pub use pitsense_types::channel::DropPolicy;
use pitsense_types::channel::{EdgeProbe, EdgeReceiver, EdgeSender, edge};
use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{PacketCounters, RotationAssembler};

/// Largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD: usize = 65_507;

/// Settings of a [`LiveReceiver`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// Address to bind, e.g. `0.0.0.0:7502` (Ouster lidar) or `0.0.0.0:2368` (Velodyne data).
    pub bind_addr: SocketAddr,
    /// Rotations the queue holds before the drop policy applies (at least 1).
    pub queue_capacity: usize,
    /// What a full queue discards (`drop_oldest` or `drop_newest`; `block` is refused).
    #[serde(default)]
    pub drop_policy: DropPolicy,
}

/// Why a receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The socket could not be bound.
    #[error("cannot bind UDP socket {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("live receiver: queue capacity must be at least 1")]
    ZeroCapacity,
    /// A blocking queue would stall the socket's reader behind a slow consumer.
    #[error(
        "live receiver: drop policy `block` is not allowed on a sensor input (use drop_oldest or drop_newest)"
    )]
    BlockingPolicy,
}

/// Counters of a [`LiveReceiver`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LiveCounters {
    /// Datagrams received.
    pub datagrams: u64,
    /// Receive errors reported by the socket.
    pub socket_errors: u64,
    /// Rotations discarded by the queue's drop policy.
    pub dropped_rotations: u64,
    /// The assembler's counters (accepted, lost, duplicate, late, malformed packets; rotations).
    pub assembler: PacketCounters,
}

/// A running receiver: a tokio task reading one UDP socket into an assembler, its rotations
/// on a bounded edge named `lidar-udp:<port>`.
pub struct LiveReceiver<T> {
    rotations: EdgeReceiver<T>,
    probe: EdgeProbe,
    counters: Arc<Mutex<LiveCounters>>,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl<T: Send + 'static> LiveReceiver<T> {
    /// Binds the socket and spawns the receive task on the current tokio runtime.
    ///
    /// # Errors
    /// [`LiveError::Bind`] when the address cannot be bound; [`LiveError::ZeroCapacity`];
    /// [`LiveError::BlockingPolicy`].
    pub async fn start<A>(config: &LiveConfig, assembler: A) -> Result<Self, LiveError>
    where
        A: RotationAssembler<Rotation = T> + Send + 'static,
    {
        if config.queue_capacity == 0 {
            return Err(LiveError::ZeroCapacity);
        }
        if config.drop_policy == DropPolicy::Block {
            return Err(LiveError::BlockingPolicy);
        }
        let addr = config.bind_addr;
        let socket = UdpSocket::bind(addr).await.map_err(|source| LiveError::Bind { addr, source })?;
        let local_addr = socket.local_addr().map_err(|source| LiveError::Bind { addr, source })?;
        let (sender, rotations, probe) =
            edge(&format!("lidar-udp:{}", local_addr.port()), config.queue_capacity, config.drop_policy);
        let counters = Arc::new(Mutex::new(LiveCounters::default()));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(receive(socket, assembler, sender, Arc::clone(&counters), stopped));
        Ok(Self { rotations, probe, counters, local_addr, stop: Some(stop), task })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next rotation, waiting for one; `None` once the receive task ended and the queue is
    /// drained.
    pub async fn recv(&self) -> Option<T> {
        self.rotations.recv_async().await
    }

    /// The next rotation if one is queued.
    pub fn try_recv(&self) -> Option<T> {
        self.rotations.try_recv()
    }

    /// Counters so far.
    pub fn counters(&self) -> LiveCounters {
        let mut counters = *self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters.dropped_rotations = self.probe.stats().dropped;
        counters
    }

    /// Stops the task, flushes the rotation in progress into the queue, and returns every
    /// rotation still queued with the final counters.
    pub async fn stop(mut self) -> (Vec<T>, LiveCounters) {
        if let Some(stop) = self.stop.take() {
            // The task may already have ended; then there is nobody to tell.
            let _ = stop.send(());
        }
        if let Err(error) = (&mut self.task).await {
            tracing::warn!("live lidar receiver task ended abnormally: {error}");
        }
        let mut remaining = Vec::new();
        while let Some(rotation) = self.rotations.try_recv() {
            remaining.push(rotation);
        }
        (remaining, self.counters())
    }
}

async fn receive<A: RotationAssembler>(
    socket: UdpSocket,
    mut assembler: A,
    sender: EdgeSender<A::Rotation>,
    counters: Arc<Mutex<LiveCounters>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut buffer = vec![0_u8; MAX_UDP_PAYLOAD + 1];
    let mut rotations = Vec::new();
    // The edge counts its own drops (`LiveReceiver::counters` reads them from its probe).
    let publish = |rotations: &mut Vec<A::Rotation>, assembler: &A, received: u64, errors: u64| {
        for rotation in rotations.drain(..) {
            sender.send(rotation);
        }
        let mut shared = counters.lock().unwrap_or_else(PoisonError::into_inner);
        shared.datagrams += received;
        shared.socket_errors += errors;
        shared.assembler = assembler.packet_counters();
    };
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            result = socket.recv_from(&mut buffer) => match result {
                Ok((length, _from)) => {
                    let payload = buffer.get(..length).unwrap_or_default();
                    if let Err(error) = assembler.push_packet(payload, &mut rotations) {
                        tracing::debug!("malformed lidar packet ({length} bytes): {error}");
                    }
                    publish(&mut rotations, &assembler, 1, 0);
                }
                Err(error) => {
                    tracing::warn!("lidar UDP receive error: {error}");
                    publish(&mut rotations, &assembler, 0, 1);
                    tokio::task::yield_now().await;
                }
            },
        }
    }
    assembler.flush(&mut rotations);
    publish(&mut rotations, &assembler, 0, 0);
    // Dropping the sender ends the stream: `recv` returns `None` once the queue is drained.
}
