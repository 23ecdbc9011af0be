//! The clock every live component gets injected (copper-rs's `RobotClock`): stages never read
//! the wall clock; the runtime hands them a [`Clock`] — the system clock on the truck, the
//! recording's clock in replay, a [`ManualClock`] in tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A source of "now", nanoseconds on the truck's clock (the same time base as
/// [`crate::Header::stamp_ns`]).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, ns. Never decreases between two calls on the same clock.
    fn now_ns(&self) -> u64;
}

/// A clock that only moves when told to: tests and replay (the recording's clock).
///
/// Cloning shares the time: every clone reads what the last [`ManualClock::set_ns`] or
/// [`ManualClock::advance_ns`] on any of them wrote.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    now_ns: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `start_ns`.
    pub fn new(start_ns: u64) -> Self {
        Self { now_ns: Arc::new(AtomicU64::new(start_ns)) }
    }

    /// Moves the clock to `stamp_ns`; a stamp earlier than now is ignored (the clock never
    /// goes back).
    pub fn set_ns(&self, stamp_ns: u64) {
        self.now_ns.fetch_max(stamp_ns, Ordering::SeqCst);
    }

    /// Moves the clock forward by `delta_ns` (saturating).
    pub fn advance_ns(&self, delta_ns: u64) {
        let _ = self
            .now_ns
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| Some(now.saturating_add(delta_ns)));
    }
}

impl Clock for ManualClock {
    fn now_ns(&self) -> u64 {
        self.now_ns.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_and_monotonic() {
        let clock = ManualClock::new(10);
        let other = clock.clone();
        other.set_ns(50);
        assert_eq!(clock.now_ns(), 50);
        clock.set_ns(20);
        assert_eq!(other.now_ns(), 50);
        clock.advance_ns(5);
        assert_eq!(other.now_ns(), 55);
        clock.advance_ns(u64::MAX);
        assert_eq!(clock.now_ns(), u64::MAX);
    }
}
