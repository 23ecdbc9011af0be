//! The system clock, the one place the live runtime reads wall-clock time.

use pitsense_types::Clock;

/// The truck's clock: `CLOCK_REALTIME` in ns since the Unix epoch (PTP- or GNSS-disciplined on
/// the vehicle, so that it matches the sensors' stamps). Stages never read it: the runtime
/// injects it as an `Arc<dyn Clock>`.
///
/// The value is made non-decreasing per clock instance (a wall-clock step backwards returns the
/// previous reading until time catches up), as [`Clock`] requires.
#[derive(Debug, Default)]
pub struct SystemClock {
    last_ns: std::sync::atomic::AtomicU64,
}

impl SystemClock {
    /// A system clock.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for SystemClock {
    fn now_ns(&self) -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
        let previous = self.last_ns.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
        now.max(previous)
    }
}
