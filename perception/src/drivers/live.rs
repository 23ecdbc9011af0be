//! Live reception: a tokio UDP socket feeding a [`RotationAssembler`], rotations delivered
//! through a bounded queue.
//!
//! ```text
//! sensor ──UDP──> socket ──> assembler (sync core) ──> RotationQueue (bounded) ──> consumer
//!                                                         └ full: drop oldest or newest
//! ```
//!
//! The queue never grows past its capacity. [`DropPolicy::DropOldest`] (the default) discards
//! the oldest queued rotation to make room, so a consumer that falls behind always gets the
//! freshest rotation (what obstacle detection wants); [`DropPolicy::DropNewest`] discards the
//! arriving rotation, so the backlog stays intact (what a recorder wants). Every drop is
//! counted in [`LiveCounters::dropped_rotations`].
//!
//! The operating system's socket buffer must hold a burst of packets while the task is not
//! scheduled: an Ouster 128-beam sensor sends ~25 kB packets at 640–2560 per second, more than
//! Linux's default 208 kB `rmem_default`; raise `net.core.rmem_default` / `rmem_max` on the
//! vehicle (losses then show up in the assembler's `lost` counter).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use super::{PacketCounters, RotationAssembler};

/// Largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD: usize = 65_507;

/// What a full queue discards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropPolicy {
    /// Discard the oldest queued rotation (keep the freshest data).
    #[default]
    DropOldest,
    /// Discard the arriving rotation (keep the backlog).
    DropNewest,
}

/// Settings of a [`LiveReceiver`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// Address to bind, e.g. `0.0.0.0:7502` (Ouster lidar) or `0.0.0.0:2368` (Velodyne data).
    pub bind_addr: SocketAddr,
    /// Rotations the queue holds before the drop policy applies (at least 1).
    pub queue_capacity: usize,
    /// What a full queue discards.
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

struct QueueState<T> {
    items: VecDeque<T>,
    closed: bool,
}

/// A bounded multi-producer, single-consumer queue with a drop policy (never blocks the
/// producer, never grows past its capacity).
pub struct RotationQueue<T> {
    state: Mutex<QueueState<T>>,
    capacity: usize,
    policy: DropPolicy,
    ready: Notify,
}

impl<T> RotationQueue<T> {
    /// An empty queue holding at most `capacity` items (at least 1).
    pub fn new(capacity: usize, policy: DropPolicy) -> Self {
        Self {
            state: Mutex::new(QueueState { items: VecDeque::with_capacity(capacity.max(1)), closed: false }),
            capacity: capacity.max(1),
            policy,
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState<T>> {
        // A panic elsewhere while holding the lock leaves the queue consistent (every mutation
        // is a single push/pop), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an item; returns `true` when the drop policy discarded one (old or new).
    pub fn push(&self, item: T) -> bool {
        let dropped = {
            let mut state = self.lock();
            if state.items.len() < self.capacity {
                state.items.push_back(item);
                false
            } else {
                if self.policy == DropPolicy::DropOldest {
                    state.items.pop_front();
                    state.items.push_back(item);
                }
                true
            }
        };
        self.ready.notify_one();
        dropped
    }

    /// Takes the oldest item without waiting.
    pub fn try_pop(&self) -> Option<T> {
        self.lock().items.pop_front()
    }

    /// Items queued now.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether no item is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the oldest item, waiting for one; `None` once the queue is closed and empty.
    pub async fn pop(&self) -> Option<T> {
        loop {
            let ready = self.ready.notified();
            {
                let mut state = self.lock();
                if let Some(item) = state.items.pop_front() {
                    return Some(item);
                }
                if state.closed {
                    return None;
                }
            }
            ready.await;
        }
    }

    /// Marks the end of the stream: [`Self::pop`] returns `None` once drained.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
        self.ready.notify_waiters();
    }
}

/// A running receiver: a tokio task reading one UDP socket into an assembler.
pub struct LiveReceiver<T> {
    queue: Arc<RotationQueue<T>>,
    counters: Arc<Mutex<LiveCounters>>,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl<T: Send + 'static> LiveReceiver<T> {
    /// Binds the socket and spawns the receive task on the current tokio runtime.
    ///
    /// # Errors
    /// [`LiveError::Bind`] when the address cannot be bound; [`LiveError::ZeroCapacity`].
    pub async fn start<A>(config: &LiveConfig, assembler: A) -> Result<Self, LiveError>
    where
        A: RotationAssembler<Rotation = T> + Send + 'static,
    {
        if config.queue_capacity == 0 {
            return Err(LiveError::ZeroCapacity);
        }
        let addr = config.bind_addr;
        let socket = UdpSocket::bind(addr).await.map_err(|source| LiveError::Bind { addr, source })?;
        let local_addr = socket.local_addr().map_err(|source| LiveError::Bind { addr, source })?;
        let queue = Arc::new(RotationQueue::new(config.queue_capacity, config.drop_policy));
        let counters = Arc::new(Mutex::new(LiveCounters::default()));
        let (stop, stopped) = oneshot::channel();
        let task =
            tokio::spawn(receive(socket, assembler, Arc::clone(&queue), Arc::clone(&counters), stopped));
        Ok(Self { queue, counters, local_addr, stop: Some(stop), task })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next rotation, waiting for one; `None` after [`Self::stop`] drained the stream.
    pub async fn recv(&self) -> Option<T> {
        self.queue.pop().await
    }

    /// The next rotation if one is queued.
    pub fn try_recv(&self) -> Option<T> {
        self.queue.try_pop()
    }

    /// Counters so far.
    pub fn counters(&self) -> LiveCounters {
        *self.counters.lock().unwrap_or_else(PoisonError::into_inner)
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
        while let Some(rotation) = self.queue.try_pop() {
            remaining.push(rotation);
        }
        (remaining, self.counters())
    }
}

async fn receive<A: RotationAssembler>(
    socket: UdpSocket,
    mut assembler: A,
    queue: Arc<RotationQueue<A::Rotation>>,
    counters: Arc<Mutex<LiveCounters>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut buffer = vec![0_u8; MAX_UDP_PAYLOAD + 1];
    let mut rotations = Vec::new();
    let publish = |rotations: &mut Vec<A::Rotation>, assembler: &A, received: u64, errors: u64| {
        let mut dropped = 0;
        for rotation in rotations.drain(..) {
            if queue.push(rotation) {
                dropped += 1;
            }
        }
        let mut shared = counters.lock().unwrap_or_else(PoisonError::into_inner);
        shared.datagrams += received;
        shared.socket_errors += errors;
        shared.dropped_rotations += dropped;
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
    queue.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_policies() {
        let oldest = RotationQueue::new(2, DropPolicy::DropOldest);
        assert!(!oldest.push(1) && !oldest.push(2) && oldest.push(3));
        assert_eq!((oldest.try_pop(), oldest.try_pop(), oldest.try_pop()), (Some(2), Some(3), None));
        let newest = RotationQueue::new(2, DropPolicy::DropNewest);
        assert!(!newest.push(1) && !newest.push(2) && newest.push(3));
        assert_eq!((newest.try_pop(), newest.try_pop(), newest.try_pop()), (Some(1), Some(2), None));
    }

    #[test]
    fn pop_returns_none_after_close() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let queue = RotationQueue::new(1, DropPolicy::DropOldest);
        queue.push(7);
        queue.close();
        runtime.block_on(async {
            assert_eq!(queue.pop().await, Some(7));
            assert_eq!(queue.pop().await, None);
        });
    }
}
