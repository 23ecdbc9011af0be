//! A watchdog on every stage: each stage marks the start and end of its work; a stage that
//! runs past its budget is counted when it ends and reported while it is still running. The
//! process keeps running either way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One stage's watch, shared between the stage's thread and the health thread.
#[derive(Clone, Debug)]
pub struct StageWatch {
    name: Arc<str>,
    budget_ns: u64,
    // 0: idle; otherwise the clock time the current work began (+1 so that 0 stays "idle").
    started_ns: Arc<AtomicU64>,
    overruns: Arc<AtomicU64>,
    runs: Arc<AtomicU64>,
}

/// A snapshot of a [`StageWatch`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StageWatchReport {
    /// Stage name.
    pub stage: String,
    /// Work items finished.
    pub runs: u64,
    /// Work items that took longer than the budget.
    pub overruns: u64,
    /// How long the current work item has been running, when it is past its budget, ms.
    pub overrunning_ms: Option<u64>,
}

impl StageWatch {
    /// A watch on stage `name` with a budget per work item, ms.
    pub fn new(name: &str, budget_ms: u64) -> Self {
        Self {
            name: Arc::from(name),
            budget_ns: budget_ms.saturating_mul(1_000_000),
            started_ns: Arc::new(AtomicU64::new(0)),
            overruns: Arc::new(AtomicU64::new(0)),
            runs: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The stage starts a work item at `now_ns`.
    pub fn begin(&self, now_ns: u64) {
        self.started_ns.store(now_ns.saturating_add(1), Ordering::SeqCst);
    }

    /// The stage finished its work item at `now_ns`; returns how long it took, ns, and counts an
    /// overrun.
    pub fn end(&self, now_ns: u64) -> u64 {
        let started = self.started_ns.swap(0, Ordering::SeqCst);
        let took_ns = if started == 0 { 0 } else { now_ns.saturating_sub(started - 1) };
        self.runs.fetch_add(1, Ordering::Relaxed);
        if took_ns > self.budget_ns {
            self.overruns.fetch_add(1, Ordering::Relaxed);
        }
        took_ns
    }

    /// The watch's state at `now_ns`.
    pub fn report(&self, now_ns: u64) -> StageWatchReport {
        let started = self.started_ns.load(Ordering::SeqCst);
        let running_ns = if started == 0 { 0 } else { now_ns.saturating_sub(started - 1) };
        StageWatchReport {
            stage: self.name.to_string(),
            runs: self.runs.load(Ordering::Relaxed),
            overruns: self.overruns.load(Ordering::Relaxed),
            overrunning_ms: (running_ns > self.budget_ns).then_some(running_ns / 1_000_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overruns_are_counted_and_reported_while_running() {
        let watch = StageWatch::new("camera", 50);
        watch.begin(1_000_000_000);
        assert_eq!(watch.end(1_040_000_000), 40_000_000);
        watch.begin(2_000_000_000);
        let report = watch.report(2_080_000_000);
        assert_eq!(report.overrunning_ms, Some(80));
        assert_eq!(watch.end(2_090_000_000), 90_000_000);
        let report = watch.report(3_000_000_000);
        assert_eq!((report.runs, report.overruns, report.overrunning_ms), (2, 1, None));
    }
}
