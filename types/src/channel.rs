//! The one bounded channel type of pitsense: a `crossbeam` bounded channel with a drop policy
//! stated per edge and counters (rerun's `re_smart_channel` idea). The runtime's dataflow graph
//! wires its stages with it, and the stages' own live receivers (lidar UDP, RSU UDP) deliver
//! through it, so every queue in the project has the same policies, counters and bound.
//!
//! ```text
//! producer ──send──> [ capacity N ] ──recv──> consumer
//!                     full: DropOldest → the oldest queued message is discarded, counted
//!                           DropNewest → the arriving message is discarded, counted
//!                           Block      → the producer waits (only between the runtime's own tasks)
//! ```
//!
//! No edge is unbounded. Every drop increments the edge's `dropped` counter, which the runtime's
//! health message publishes by edge name. A consumer receives on a thread
//! ([`EdgeReceiver::recv_timeout`], [`EdgeReceiver::try_recv`]) or in async code
//! ([`EdgeReceiver::recv_async`], which needs no particular executor); a producer never blocks
//! unless its edge's policy is [`DropPolicy::Block`], so an async task may send on any other.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use serde::{Deserialize, Serialize};

/// What a full edge does with a new message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropPolicy {
    /// Discard the oldest queued message to make room (sensor inputs: the freshest data wins).
    #[default]
    DropOldest,
    /// Discard the arriving message (keep the backlog intact).
    DropNewest,
    /// Wait until the consumer makes room (lossless; only where the consumer is the runtime's
    /// own task and a stall is preferable to a loss).
    Block,
}

/// Counters of one edge, shared by both ends, and the async consumer's waker.
#[derive(Debug, Default)]
struct EdgeCounters {
    sent: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    // Queued messages discarded by DropOldest (they were sent, never received).
    drained: AtomicU64,
    // Live senders: the last one gone wakes an async consumer to see the end.
    senders: AtomicUsize,
    // The task waiting in `recv_async`, woken by the next send or the last sender's drop.
    waker: Mutex<Option<Waker>>,
}

impl EdgeCounters {
    fn wake(&self) {
        let waker = self.waker.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

fn dropped_queued(counters: &EdgeCounters) -> u64 {
    counters.drained.load(Ordering::Relaxed)
}

/// A snapshot of one edge's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EdgeStats {
    /// The edge's name (`lidar->lidar_task`).
    pub name: String,
    /// Capacity, messages.
    pub capacity: usize,
    /// Messages queued now.
    pub queued: usize,
    /// Messages accepted since start-up.
    pub sent: u64,
    /// Messages discarded by the drop policy since start-up.
    pub dropped: u64,
}

/// The sending end of an edge.
#[derive(Debug)]
pub struct EdgeSender<T> {
    name: Arc<str>,
    policy: DropPolicy,
    sender: Sender<T>,
    // Kept only on DropOldest edges, to discard the oldest message when full (crossbeam is
    // MPMC); it keeps the channel open while the sender lives, which such an edge tolerates.
    drain: Option<Receiver<T>>,
    counters: Arc<EdgeCounters>,
}

impl<T> Clone for EdgeSender<T> {
    fn clone(&self) -> Self {
        self.counters.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            name: Arc::clone(&self.name),
            policy: self.policy,
            sender: self.sender.clone(),
            drain: self.drain.clone(),
            counters: Arc::clone(&self.counters),
        }
    }
}

impl<T> Drop for EdgeSender<T> {
    fn drop(&mut self) {
        if self.counters.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: a consumer waiting asynchronously must learn the stream ended.
            // (The channel itself closes when `sender` drops right after this.)
            self.counters.wake();
        }
    }
}

/// The receiving end of an edge.
#[derive(Debug)]
pub struct EdgeReceiver<T> {
    receiver: Receiver<T>,
    counters: Arc<EdgeCounters>,
}

/// Why a message did not reach the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Queued without loss.
    Queued,
    /// Queued; the oldest message was discarded to make room.
    DroppedOldest,
    /// Not queued: the edge was full and its policy discards new messages.
    DroppedNewest,
    /// Not queued: the receiving end is gone.
    Disconnected,
}

/// A read-only handle on an edge's counters, for the health monitor.
#[derive(Clone, Debug)]
pub struct EdgeProbe {
    name: Arc<str>,
    capacity: usize,
    counters: Arc<EdgeCounters>,
}

impl EdgeProbe {
    /// The edge's counters now.
    pub fn stats(&self) -> EdgeStats {
        let sent = self.counters.sent.load(Ordering::Relaxed);
        let received = self.counters.received.load(Ordering::Relaxed);
        let dropped = self.counters.dropped.load(Ordering::Relaxed);
        EdgeStats {
            name: self.name.to_string(),
            capacity: self.capacity,
            // Drop-oldest discards leave through the drain without being received.
            queued: usize::try_from(
                sent.saturating_sub(received).saturating_sub(dropped_queued(&self.counters)),
            )
            .unwrap_or(usize::MAX)
            .min(self.capacity),
            sent,
            dropped,
        }
    }

    /// The edge's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Creates an edge named `name` holding at most `capacity` messages (at least 1).
///
/// Returns both ends and a probe on its counters.
pub fn edge<T: Send + 'static>(
    name: &str,
    capacity: usize,
    policy: DropPolicy,
) -> (EdgeSender<T>, EdgeReceiver<T>, EdgeProbe) {
    let capacity = capacity.max(1);
    let (sender, receiver) = crossbeam_channel::bounded(capacity);
    let counters = Arc::new(EdgeCounters::default());
    let name: Arc<str> = Arc::from(name);
    let probe = EdgeProbe { name: Arc::clone(&name), capacity, counters: Arc::clone(&counters) };
    let drain = (policy == DropPolicy::DropOldest).then(|| receiver.clone());
    counters.senders.store(1, Ordering::Relaxed);
    (
        EdgeSender { name, policy, sender, drain, counters: Arc::clone(&counters) },
        EdgeReceiver { receiver, counters },
        probe,
    )
}

impl<T> EdgeSender<T> {
    /// Sends by the edge's policy: never blocks unless the policy is [`DropPolicy::Block`].
    pub fn send(&self, mut message: T) -> SendOutcome {
        let mut dropped_oldest = false;
        loop {
            match self.sender.try_send(message) {
                Ok(()) => {
                    self.counters.sent.fetch_add(1, Ordering::Relaxed);
                    self.counters.wake();
                    return if dropped_oldest { SendOutcome::DroppedOldest } else { SendOutcome::Queued };
                }
                Err(TrySendError::Disconnected(_)) => return SendOutcome::Disconnected,
                Err(TrySendError::Full(back)) => match self.policy {
                    DropPolicy::DropNewest => {
                        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                        return SendOutcome::DroppedNewest;
                    }
                    DropPolicy::DropOldest => {
                        if self.drain.as_ref().is_some_and(|drain| drain.try_recv().is_ok()) {
                            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                            self.counters.drained.fetch_add(1, Ordering::Relaxed);
                            dropped_oldest = true;
                        } else if self.drain.is_none() {
                            return SendOutcome::Disconnected;
                        }
                        message = back;
                    }
                    DropPolicy::Block => {
                        return match self.sender.send(back) {
                            Ok(()) => {
                                self.counters.sent.fetch_add(1, Ordering::Relaxed);
                                self.counters.wake();
                                SendOutcome::Queued
                            }
                            Err(_) => SendOutcome::Disconnected,
                        };
                    }
                },
            }
        }
    }

    /// The edge's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Why [`EdgeReceiver::recv_timeout`] returned nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvOutcome {
    /// Nothing arrived in time; the senders are still there.
    Timeout,
    /// Every sender is gone and the edge is empty: the stream ended.
    Ended,
}

impl<T> EdgeReceiver<T> {
    /// The next message, waiting at most `timeout`.
    ///
    /// # Errors
    /// [`RecvOutcome::Timeout`] or [`RecvOutcome::Ended`].
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvOutcome> {
        let message = self.receiver.recv_timeout(timeout).map_err(|error| match error {
            RecvTimeoutError::Timeout => RecvOutcome::Timeout,
            RecvTimeoutError::Disconnected => RecvOutcome::Ended,
        })?;
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        Ok(message)
    }

    /// The next message if one is queued.
    pub fn try_recv(&self) -> Option<T> {
        let message = self.receiver.try_recv().ok()?;
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        Some(message)
    }

    /// The next message, awaited: `None` once every sender is gone and the edge is empty.
    ///
    /// Works on any executor (the sender wakes the waiting task); one consumer at a time
    /// awaits an edge (a second waiter replaces the first's waker).
    pub fn recv_async(&self) -> RecvAsync<'_, T> {
        RecvAsync { receiver: self }
    }

    fn poll_next(&self) -> Option<Option<T>> {
        match self.receiver.try_recv() {
            Ok(message) => {
                self.counters.received.fetch_add(1, Ordering::Relaxed);
                Some(Some(message))
            }
            Err(crossbeam_channel::TryRecvError::Disconnected) => Some(None),
            Err(crossbeam_channel::TryRecvError::Empty) => {
                // A DropOldest edge's senders hold a receiver clone (the drain), so the channel
                // only reports the end once they are gone; the sender count says it first.
                (self.counters.senders.load(Ordering::Acquire) == 0).then_some(None)
            }
        }
    }
}

/// The future of [`EdgeReceiver::recv_async`].
#[derive(Debug)]
pub struct RecvAsync<'a, T> {
    receiver: &'a EdgeReceiver<T>,
}

impl<T> Future for RecvAsync<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(outcome) = self.receiver.poll_next() {
            return Poll::Ready(outcome);
        }
        let counters = &self.receiver.counters;
        *counters.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(context.waker().clone());
        // A message (or the end) that came between the first look and the registration woke
        // nobody: look again.
        match self.receiver.poll_next() {
            Some(outcome) => Poll::Ready(outcome),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_oldest_keeps_the_freshest_and_counts() {
        let (sender, receiver, probe) = edge::<u32>("a->b", 2, DropPolicy::DropOldest);
        assert_eq!(sender.send(1), SendOutcome::Queued);
        assert_eq!(sender.send(2), SendOutcome::Queued);
        assert_eq!(sender.send(3), SendOutcome::DroppedOldest);
        let stats = probe.stats();
        assert_eq!((stats.sent, stats.dropped, stats.queued, stats.capacity), (3, 1, 2, 2));
        assert_eq!(receiver.try_recv(), Some(2));
        assert_eq!(receiver.try_recv(), Some(3));
        assert_eq!(receiver.try_recv(), None);
    }

    #[test]
    fn drop_newest_keeps_the_backlog() {
        let (sender, receiver, probe) = edge::<u32>("a->b", 1, DropPolicy::DropNewest);
        assert_eq!(sender.send(1), SendOutcome::Queued);
        assert_eq!(sender.send(2), SendOutcome::DroppedNewest);
        assert_eq!(probe.stats().dropped, 1);
        assert_eq!(receiver.try_recv(), Some(1));
    }

    #[test]
    fn ended_after_every_sender_is_gone() {
        let (sender, receiver, _) = edge::<u32>("a->b", 4, DropPolicy::Block);
        assert_eq!(sender.send(7), SendOutcome::Queued);
        assert_eq!(receiver.recv_timeout(Duration::from_millis(1)), Ok(7));
        assert_eq!(receiver.recv_timeout(Duration::from_millis(1)), Err(RecvOutcome::Timeout));
        drop(sender);
        assert_eq!(receiver.recv_timeout(Duration::from_millis(1)), Err(RecvOutcome::Ended));
    }

    /// Blocks on a future with a waker that unparks this thread (no executor needed).
    fn block_on<F: Future>(future: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut context = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
            std::thread::park();
        }
    }

    #[test]
    fn async_receive_is_woken_by_sends_and_by_the_end() {
        for policy in [DropPolicy::DropOldest, DropPolicy::DropNewest, DropPolicy::Block] {
            let (sender, receiver, probe) = edge::<u32>("a->b", 2, policy);
            let producer = std::thread::spawn(move || {
                for value in 0..5 {
                    std::thread::sleep(Duration::from_millis(2));
                    // Each send wakes the consumer parked below; a full edge applies the policy.
                    sender.send(value);
                }
            });
            let mut received = Vec::new();
            while let Some(value) = block_on(receiver.recv_async()) {
                received.push(value);
            }
            producer.join().unwrap();
            // Whatever the policy dropped is counted; the rest arrived in order, then the end.
            let stats = probe.stats();
            assert_eq!(received.len() as u64 + stats.dropped, 5, "{policy:?}: {received:?}");
            assert!(received.windows(2).all(|pair| pair[0] < pair[1]), "{policy:?}: {received:?}");
            match policy {
                DropPolicy::Block => assert_eq!(received, [0, 1, 2, 3, 4]),
                DropPolicy::DropOldest => assert_eq!(received.last(), Some(&4), "the freshest is kept"),
                DropPolicy::DropNewest => assert_eq!(received.first(), Some(&0), "the backlog is kept"),
            }
        }
    }

    #[test]
    fn send_to_a_gone_receiver_is_reported() {
        for policy in [DropPolicy::DropNewest, DropPolicy::Block] {
            let (sender, receiver, _) = edge::<u32>("a->b", 1, policy);
            drop(receiver);
            assert_eq!(sender.send(1), SendOutcome::Disconnected);
        }
    }
}
