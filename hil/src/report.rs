//! What a `pitsense-hil run` writes over all its runs: `summary.json` and a JUnit XML.
//!
//! `summary.json`:
//! ```text
//! { "latency_ms": {"p50", "p99", "max"},   over every published frame of every run
//!   "reaction_ms": worst over every run,
//!   "late_frames", "dropped_frames": sums,
//!   "health_transitions": [{"scenario", "t_s", "from", "to", "reason"}],
//!   "passed": every run passed,
//!   "scenarios": { name: {"faults", "latency_ms", "reaction_ms", "reaction_ms_by_actor",
//!                          "late_frames", "dropped_frames", "frames_sent", "health_transitions",
//!                          "rss_mib": {"first", "max", "last"}, "cpu_percent_mean", "runtime_exit",
//!                          "gates": [...], "passed"} } }
//! ```
//!
//! JUnit (the schema Jenkins and GitLab read): one `testsuite` `pitsense-hil`, one `testcase`
//! per scenario; a failed gate or an unclean runtime stop is a `failure`, a run that could not
//! be carried out an `error`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use pitsense_sim::scenario::junit::escape;

use crate::harness::{HilReport, LatencyMs, ResourceSample};

/// The outcome of one scenario for the reports.
#[derive(Clone, Debug)]
pub enum HilOutcome {
    /// It ran.
    Ran(Box<HilReport>),
    /// It could not run.
    Crashed {
        /// Scenario asked for.
        scenario: String,
        /// The error.
        message: String,
    },
}

/// RSS growth over a run, %: the median RSS of the last tenth of the run's time against the
/// median of its second tenth (the first tenth is start-up: allocators and caches warming).
/// `None` with fewer than 20 samples.
pub fn rss_growth_percent(resources: &[ResourceSample]) -> Option<f64> {
    if resources.len() < 20 {
        return None;
    }
    let (first, last) = (resources.first()?.t_s, resources.last()?.t_s);
    let span = (last - first).max(f64::EPSILON);
    let median_between = |from: f64, to: f64| -> Option<f64> {
        let mut values: Vec<f64> = resources
            .iter()
            .filter(|r| (from..=to).contains(&((r.t_s - first) / span)))
            .map(|r| r.rss_mib)
            .collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    };
    let (baseline, end) = (median_between(0.1, 0.2)?, median_between(0.9, 1.0)?);
    Some((end - baseline) / baseline * 100.0)
}

fn rss(report: &HilReport) -> Value {
    let values: Vec<f64> = report.resources.iter().map(|r| r.rss_mib).collect();
    json!({
        "first": values.first(),
        "max": values.iter().copied().reduce(f64::max),
        "last": values.last(),
    })
}

fn scenario_summary(report: &HilReport) -> Value {
    let cpu: Vec<f64> = report.resources.iter().map(|r| r.cpu_percent).collect();
    json!({
        "faults": report.faults,
        "latency_ms": report.latency_ms,
        "age_ms": report.age_ms,
        "reaction_ms": report.reaction_ms,
        "reaction_ms_by_actor": report.reaction_ms_by_actor,
        "link_recovery_ms": report.link_recovery_ms,
        "rsu": report.rsu,
        "late_frames": report.late_frames,
        "runtime_late_frames": report.runtime_late_frames,
        "dropped_frames": report.dropped_frames,
        "frames_sent": report.frames_sent,
        "health_transitions": report.health_transitions,
        "input_rate_hz": report.input_rate_hz,
        "rss_mib": rss(report),
        "cpu_percent_mean": if cpu.is_empty() { None } else { Some(cpu.iter().sum::<f64>() / cpu.len() as f64) },
        "runtime_exit": report.runtime_exit,
        "gates": report.gates,
        "passed": report.passed,
    })
}

/// The `summary.json` document of `outcomes`.
pub fn summary_json(outcomes: &[HilOutcome]) -> Value {
    let mut latencies = Vec::new();
    let mut scenarios = BTreeMap::new();
    let mut transitions = Vec::new();
    let (mut late, mut dropped, mut reaction, mut passed) = (0_u64, 0_u64, None::<f64>, true);
    for outcome in outcomes {
        match outcome {
            HilOutcome::Ran(report) => {
                latencies.extend(report.latencies.iter().map(|l| l.latency_ms));
                late += report.late_frames;
                dropped += report.dropped_frames;
                reaction = match (reaction, report.reaction_ms) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                passed &= report.passed;
                for t in &report.health_transitions {
                    transitions.push(json!({
                        "scenario": report.scenario, "t_s": t.t_s, "from": t.from, "to": t.to, "reason": t.reason,
                    }));
                }
                scenarios.insert(report.scenario.clone(), scenario_summary(report));
            }
            HilOutcome::Crashed { scenario, message } => {
                passed = false;
                scenarios.insert(scenario.clone(), json!({"error": message, "passed": false}));
            }
        }
    }
    json!({
        "latency_ms": LatencyMs::of(&latencies),
        "reaction_ms": reaction,
        "late_frames": late,
        "dropped_frames": dropped,
        "health_transitions": transitions,
        "passed": passed,
        "scenarios": scenarios,
    })
}

/// A duration in ms with one decimal, `-` for none.
pub fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

/// The JUnit XML document of `outcomes`.
pub fn junit_xml(outcomes: &[HilOutcome]) -> String {
    let failures = outcomes.iter().filter(|o| matches!(o, HilOutcome::Ran(r) if !r.passed)).count();
    let errors = outcomes.iter().filter(|o| matches!(o, HilOutcome::Crashed { .. })).count();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"pitsense-hil\" tests=\"{}\" \
         failures=\"{failures}\" errors=\"{errors}\">\n",
        outcomes.len()
    );
    for outcome in outcomes {
        match outcome {
            HilOutcome::Ran(report) => {
                let time_s = report.played_s;
                xml.push_str(&format!(
                    "  <testcase classname=\"hil\" name=\"{}\" time=\"{time_s:.3}\">\n    <system-out>faults: {}; \
                     latency p50 {} ms, p99 {} ms, max {} ms; reaction {} ms; frames sent {}, dropped {}, late {}; \
                     runtime exit {}</system-out>\n",
                    escape(&report.scenario),
                    escape(&if report.faults.is_empty() { "none".to_owned() } else { report.faults.join(" ") }),
                    ms(report.latency_ms.p50),
                    ms(report.latency_ms.p99),
                    ms(report.latency_ms.max),
                    ms(report.reaction_ms),
                    report.frames_sent,
                    report.dropped_frames,
                    report.late_frames,
                    report.runtime_exit.map_or_else(|| "killed".to_owned(), |c| c.to_string()),
                ));
                // One <failure> per test case (several are not read by every JUnit reader).
                let mut failures = Vec::new();
                if report.runtime_exit != Some(143) {
                    failures.push(format!(
                        "the runtime did not stop cleanly on SIGTERM (exit {})",
                        report.runtime_exit.map_or_else(|| "none: killed".to_owned(), |c| c.to_string())
                    ));
                }
                for gate in report.gates.iter().filter(|g| !g.passed) {
                    failures.push(format!(
                        "gate {} missed: measured {}",
                        gate.gate,
                        gate.value.map_or_else(|| "nothing".to_owned(), |v| format!("{v:.4}"))
                    ));
                }
                if let Some(comparison) = report.live_vs_replay.as_ref().filter(|c| !c.equal) {
                    failures.push(format!("live output differs from replay: {}", comparison.describe()));
                }
                if !failures.is_empty() {
                    xml.push_str(&format!("    <failure message=\"{}\"/>\n", escape(&failures.join("; "))));
                }
                xml.push_str("  </testcase>\n");
            }
            HilOutcome::Crashed { scenario, message } => xml.push_str(&format!(
                "  <testcase classname=\"hil\" name=\"{}\">\n    <error message=\"{}\"/>\n  </testcase>\n",
                escape(scenario),
                escape(message)
            )),
        }
    }
    xml.push_str("</testsuite>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_growth_compares_the_last_tenth_with_the_second() {
        // 100 samples over 99 s: 100 MiB until 50 s, then 104 MiB; start-up at 300 MiB.
        let samples: Vec<ResourceSample> = (0..100)
            .map(|i| ResourceSample {
                t_s: f64::from(i),
                rss_mib: if i < 5 {
                    300.0
                } else if i < 50 {
                    100.0
                } else {
                    104.0
                },
                cpu_percent: 10.0,
            })
            .collect();
        let growth = rss_growth_percent(&samples).unwrap();
        assert!((growth - 4.0).abs() < 1e-9, "{growth}");
        assert_eq!(rss_growth_percent(&samples[..10]), None);
    }
}
