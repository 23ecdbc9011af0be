//! `pitsense-hil`: simulated hardware-in-the-loop. Runs the real `pitsense run` binary against
//! mine scenarios over its real transports, with faults; plays recorded sensor traffic into a
//! running runtime; prepares camera video files for it.
//!
//! ```text
//! pitsense-hil list
//! pitsense-hil run rock_on_road_80m --fault loss:0.05 --junit out/hil/junit.xml --report out/hil
//! pitsense-hil run --all --fault death:3:1 --max-frames 60
//! pitsense-hil play-ouster --pcap CAPTURE.pcap --metadata META.json --to 127.0.0.1:7502 --passes 3000
//! pitsense-hil video --image A.png --image B.png --out camera.avi --frames 3000 --fps 10
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitsense_hil::faults::Fault;
use pitsense_hil::harness::{HilOptions, run_scenario};
use pitsense_hil::player::OusterLoop;
use pitsense_hil::recording::{Recording, run_recording};
use pitsense_hil::report::{HilOutcome, junit_xml, ms, rss_growth_percent, summary_json};
use pitsense_sim::scenario::file::{SHIPPED, ScenarioSource};
use pitsense_types::{FrameId, Header, Image};

/// What `run` and `soak` share: the runtime under test, its inputs and the faults.
#[derive(Debug, clap::Args)]
struct RuntimeArgs {
    /// A fault to inject (repeat the flag): loss:P, burst:P:LEN, delay:MS, jitter:MS,
    /// reorder:P, duplicate:P, death:AT_S:FOR_S, clock_jump:AT_S:OFFSET_S, malformed:P,
    /// cpu_hog:N, zenoh_cut:AT_S:FOR_S, rsu_spoof:N (in every loop of a soak).
    #[arg(long = "fault")]
    faults: Vec<Fault>,
    /// Seed of the simulation and the faults (the scenario's when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// The `pitsense` binary under test (default: beside this one).
    #[arg(long)]
    pitsense: Option<PathBuf>,
    /// Frame budget given to the runtime, ms (a frame received later is late).
    #[arg(long, default_value_t = 100)]
    frame_budget_ms: u64,
    /// Data root (default: $PITSENSE_DATA, else ../shared/data).
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// The vehicle CAN database; the ego's speed and yaw rate go over CAN-over-UDP.
    #[arg(long, default_value = "config/truck.dbc")]
    dbc: PathBuf,
    /// Send no CAN.
    #[arg(long)]
    no_can: bool,
}

impl RuntimeArgs {
    /// The harness options for reports in `out_dir`, `max_frames` rotations and `loops` loops.
    fn options(self, out_dir: PathBuf, max_frames: Option<u64>, loops: u64) -> anyhow::Result<HilOptions> {
        let dbc = if self.no_can {
            None
        } else {
            anyhow::ensure!(
                self.dbc.is_file(),
                "no CAN database at `{}` (run from the repository, give --dbc, or --no-can)",
                self.dbc.display()
            );
            Some(self.dbc)
        };
        Ok(HilOptions {
            pitsense: match self.pitsense {
                Some(path) => path,
                None => sibling_pitsense()?,
            },
            data_root: pitsense_sim::scenario::data_root(self.data_root),
            out_dir,
            seed: self.seed,
            max_frames,
            faults: self.faults,
            dbc,
            frame_budget_ms: self.frame_budget_ms,
            drain: Duration::from_millis(1500),
            loops,
        })
    }
}

/// Simulated hardware-in-the-loop tools.
#[derive(Debug, Parser)]
#[command(name = "pitsense-hil", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lists the scenarios `run` takes (the simulator's shipped mine scenarios).
    List,
    /// Runs scenarios against `pitsense run` (a child process) over UDP and zenoh at wall-clock
    /// pace, with faults; writes `DIR/<scenario>/report.json`, `DIR/summary.json` and a JUnit
    /// XML. Exit status 1 when a gate fails, the runtime does not stop cleanly or a run cannot be
    /// carried out.
    Run {
        /// Scenario names (`pitsense-hil list`), scenario files, or recordings: Ouster captures
        /// (`.pcap`), played with their metadata and compared with `pitsense run --replay` of
        /// what was sent.
        #[arg(required_unless_present = "all")]
        scenarios: Vec<String>,
        /// A recording's sensor metadata (default: the `.json` beside the `.pcap`).
        #[arg(long)]
        metadata: Option<PathBuf>,
        /// Passes over a recording (a one-rotation capture makes this many rotations).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        passes: u64,
        /// Every shipped scenario.
        #[arg(long, conflicts_with = "scenarios")]
        all: bool,
        /// Stop each scenario after this many lidar rotations (≥ 1; gates are then scored on
        /// the shortened run).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_frames: Option<u64>,
        /// Folder for the reports.
        #[arg(long, default_value = "out/hil")]
        report: PathBuf,
        /// JUnit XML to write.
        #[arg(long)]
        junit: Option<PathBuf>,
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// Plays one scenario back to back for `--minutes` into one `pitsense run`: RSS growth,
    /// CPU and late frames over the long run (`DIR/soak.json`). Exit status 1 when RSS grew 5 %
    /// or more, a frame was late or the runtime did not stop cleanly.
    Soak {
        /// Scenario name or file.
        #[arg(default_value = "haul_road_oncoming_truck")]
        scenario: String,
        /// How long to play, minutes.
        #[arg(long, default_value_t = 30.0)]
        minutes: f64,
        /// Folder for the report.
        #[arg(long, default_value = "out/hil/soak")]
        report: PathBuf,
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// Plays an Ouster capture over UDP at its recorded pace, looped into a stream of rotations
    /// (frame ids and column stamps rewritten per pass).
    PlayOuster {
        /// The capture (pcap) holding at least one whole rotation.
        #[arg(long)]
        pcap: PathBuf,
        /// The sensor's metadata JSON.
        #[arg(long)]
        metadata: PathBuf,
        /// Where the lidar packets go (the runtime's lidar socket).
        #[arg(long)]
        to: SocketAddr,
        /// Rotations to send (10 per second for a 10 Hz sensor).
        #[arg(long, default_value_t = 100)]
        passes: u64,
    },
    /// Writes a camera video (MJPG AVI, OpenCV's VideoWriter) cycling through images, each
    /// cropped to the smallest image's size (a video has one frame size).
    Video {
        /// Images (PNG/JPEG), in order; repeat the flag.
        #[arg(long = "image", required = true)]
        images: Vec<PathBuf>,
        /// The video file to write.
        #[arg(long)]
        out: PathBuf,
        /// Frames to write (the images are cycled).
        #[arg(long, default_value_t = 100)]
        frames: usize,
        /// Frame rate written in the file.
        #[arg(long, default_value_t = 10.0)]
        fps: f64,
    },
}

/// Whether a `run` argument names a recording (a capture file) rather than a scenario.
fn is_recording(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".pcap") || lower.ends_with(".pcapng")
}

/// The `pitsense` binary beside this executable.
fn sibling_pitsense() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating pitsense-hil")?;
    let path = exe.with_file_name("pitsense");
    anyhow::ensure!(
        path.exists(),
        "no `pitsense` binary beside `{}` (build it: cargo build -p pitsense-runtime, or give --pitsense)",
        exe.display()
    );
    Ok(path)
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::List => {
            for (name, text) in SHIPPED {
                let description =
                    ScenarioSource { file: PathBuf::from(name), text: (*text).to_owned(), folder: None }
                        .parse()
                        .map(|file| {
                            file.scenario.description.split_whitespace().collect::<Vec<_>>().join(" ")
                        })
                        .unwrap_or_else(|error| format!("(does not parse: {error})"));
                println!("{name}\n    {description}");
            }
        }
        Command::Run { scenarios, all, metadata, passes, max_frames, report, junit, mut runtime } => {
            // A recording is played lidar only: no CAN database is needed for one.
            if !all && scenarios.iter().all(|name| is_recording(name)) {
                runtime.no_can = true;
            }
            // Fail now, not after the runs, when the JUnit file cannot be written.
            if let Some(path) = &junit {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating `{}`", parent.display()))?;
                }
                std::fs::write(path, "").with_context(|| format!("writing `{}`", path.display()))?;
            }
            let names: Vec<String> =
                if all { SHIPPED.iter().map(|(name, _)| (*name).to_owned()).collect() } else { scenarios };
            let options = runtime.options(report.clone(), max_frames, 1)?;
            let mut outcomes = Vec::new();
            for name in &names {
                let run = if is_recording(name) {
                    Recording::new(Path::new(name), metadata.as_deref(), passes)
                        .and_then(|recording| run_recording(&recording, &options))
                        .map_err(anyhow::Error::from)
                } else {
                    pitsense_sim::scenario::load(name, &options.data_root)
                        .map_err(anyhow::Error::from)
                        .and_then(|scenario| Ok(run_scenario(&scenario, &options)?))
                };
                let outcome = run.map_or_else(
                    |error| HilOutcome::Crashed { scenario: name.clone(), message: error.to_string() },
                    |report| HilOutcome::Ran(Box::new(report)),
                );
                if let HilOutcome::Ran(r) = &outcome {
                    plot(r, &report.join(&r.scenario));
                }
                match &outcome {
                    HilOutcome::Ran(r) => println!(
                        "{}: {} — latency p50/p99/max {}/{}/{} ms, reaction {} ms, frames sent {}, dropped {}, \
                         late {}, health {}, runtime exit {}",
                        r.scenario,
                        if r.passed { "passed" } else { "FAILED" },
                        ms(r.latency_ms.p50),
                        ms(r.latency_ms.p99),
                        ms(r.latency_ms.max),
                        ms(r.reaction_ms),
                        r.frames_sent,
                        r.dropped_frames,
                        r.late_frames,
                        r.health_transitions.iter().map(|t| t.to.as_str()).collect::<Vec<_>>().join(" → "),
                        exit_text(r.runtime_exit),
                    ),
                    HilOutcome::Crashed { scenario, message } => println!("{scenario}: ERROR {message}"),
                }
                if let HilOutcome::Ran(r) = &outcome
                    && let Some(can) = &r.can_output
                {
                    println!(
                        "    CAN out: {} health frames (period p50 {} ms, max {} ms), {} alive-counter gaps, {} \
                         object frames, modes {}",
                        can.health_frames,
                        ms(can.health_period_ms.p50),
                        ms(can.health_period_ms.max),
                        can.alive_counter_gaps,
                        can.object_frames,
                        can.mode_changes.iter().map(|c| c.to.as_str()).collect::<Vec<_>>().join(" → "),
                    );
                }
                if let HilOutcome::Ran(r) = &outcome
                    && let Some(comparison) = &r.live_vs_replay
                {
                    println!(
                        "    live against replay: {}{}",
                        if comparison.equal { "equal, " } else { "DIFFERENT, " },
                        comparison.describe()
                    );
                }
                outcomes.push(outcome);
            }
            std::fs::create_dir_all(&report).with_context(|| format!("creating `{}`", report.display()))?;
            let summary_path = report.join("summary.json");
            std::fs::write(&summary_path, serde_json::to_string_pretty(&summary_json(&outcomes))? + "\n")
                .with_context(|| format!("writing `{}`", summary_path.display()))?;
            if let Some(path) = junit {
                std::fs::write(&path, junit_xml(&outcomes))
                    .with_context(|| format!("writing `{}`", path.display()))?;
            }
            let failed = outcomes.iter().filter(|o| matches!(o, HilOutcome::Ran(r) if !r.passed)).count();
            let errors = outcomes.iter().filter(|o| matches!(o, HilOutcome::Crashed { .. })).count();
            if failed + errors > 0 {
                println!(
                    "{failed} run(s) missed a gate or did not stop cleanly, {errors} could not be carried out \
                     (reports in `{}`)",
                    report.display()
                );
                std::process::exit(1);
            }
        }
        Command::Soak { scenario, minutes, report, runtime } => {
            anyhow::ensure!(minutes.is_finite() && minutes > 0.0, "--minutes must be a positive number");
            let scenario = pitsense_sim::scenario::load(
                &scenario,
                &pitsense_sim::scenario::data_root(runtime.data_root.clone()),
            )?;
            // Whole loops: at least one, so a short soak plays longer than asked.
            let loops = ((minutes * 60.0) / scenario.duration_s.max(0.1)).ceil().max(1.0) as u64;
            let played_min = loops as f64 * scenario.duration_s / 60.0;
            let options = runtime.options(report.clone(), None, loops)?;
            println!(
                "soak: {} ({:.1} s) played {loops} time(s) back to back: {played_min:.2} min",
                scenario.name, scenario.duration_s
            );
            let run = run_scenario(&scenario, &options)?;
            plot(&run, &report);
            let growth = rss_growth_percent(&run.resources);
            let cpu: Vec<f64> = run.resources.iter().map(|r| r.cpu_percent).collect();
            let cpu_mean = cpu.iter().sum::<f64>() / cpu.len().max(1) as f64;
            let rss_max = run.resources.iter().map(|r| r.rss_mib).fold(0.0, f64::max);
            let summary = serde_json::json!({
                "scenario": run.scenario, "minutes_asked": minutes, "minutes_played": played_min, "loops": loops,
                "frames_sent": run.frames_sent, "dropped_frames": run.dropped_frames,
                "late_frames": run.late_frames, "latency_ms": run.latency_ms,
                "rss_growth_percent": growth, "rss_max_mib": rss_max, "cpu_percent_mean": cpu_mean,
                "health_transitions": run.health_transitions, "runtime_exit": run.runtime_exit,
                "resources": run.resources,
            });
            std::fs::create_dir_all(&report).with_context(|| format!("creating `{}`", report.display()))?;
            let path = report.join("soak.json");
            std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
                .with_context(|| format!("writing `{}`", path.display()))?;
            println!(
                "frames sent {}, dropped {}, late {}; latency p50/p99/max {}/{}/{} ms; RSS max {rss_max:.1} MiB, \
                 growth {} %; CPU {cpu_mean:.1} % of a core; runtime exit {}",
                run.frames_sent,
                run.dropped_frames,
                run.late_frames,
                ms(run.latency_ms.p50),
                ms(run.latency_ms.p99),
                ms(run.latency_ms.max),
                ms(growth),
                exit_text(run.runtime_exit),
            );
            if growth.is_none_or(|g| g >= 5.0) || run.late_frames > 0 || run.runtime_exit != Some(143) {
                println!(
                    "soak failed: RSS grew 5 % or more (or too short to tell), a frame was late, or an unclean stop"
                );
                std::process::exit(1);
            }
        }
        Command::PlayOuster { pcap, metadata, to, passes } => {
            let capture = OusterLoop::open(&pcap, &metadata)
                .with_context(|| format!("capture `{}` with `{}`", pcap.display(), metadata.display()))?;
            let stats = capture.play(to, passes, &Arc::new(AtomicBool::new(false)))?;
            println!("sent {} datagrams in {} passes to {to}", stats.datagrams, stats.passes);
        }
        Command::Video { images, out, frames, fps } => {
            let header = Header { stamp_ns: 0, frame: FrameId::Camera(0), seq: 0 };
            let decoded = images
                .iter()
                .map(|path| {
                    pitsense_imaging::read_image(path, header, 0)
                        .with_context(|| format!("image `{}`", path.display()))
                })
                .collect::<anyhow::Result<Vec<Image>>>()?;
            let width_px = decoded.iter().map(|image| image.width_px).min().unwrap_or(0);
            let height_px = decoded.iter().map(|image| image.height_px).min().unwrap_or(0);
            let cropped = decoded
                .iter()
                .map(|image| pitsense_imaging::crop_top_left(image, width_px, height_px))
                .collect::<Result<Vec<_>, _>>()?;
            let sequence: Vec<Image> =
                (0..frames).filter_map(|i| cropped.get(i % cropped.len().max(1)).cloned()).collect();
            let written = pitsense_imaging::camera::write_video(&out, &sequence, fps)?;
            println!("wrote {written} frames of {width_px}x{height_px} at {fps} fps to {}", out.display());
        }
    }
    Ok(())
}

/// An exit status for people: the code, or `killed` when the harness had to kill it.
fn exit_text(code: Option<i32>) -> String {
    code.map_or_else(|| "killed (no exit within 15 s of SIGTERM)".to_owned(), |c| c.to_string())
}

/// Writes the run's PNG plots into `dir`; a missing font only warns (the reports stand alone).
fn plot(report: &pitsense_hil::harness::HilReport, dir: &Path) {
    match pitsense_hil::plots::write_plots(report, dir) {
        Ok(files) => {
            for file in files {
                println!("wrote {}", file.display());
            }
        }
        Err(error) => eprintln!("pitsense-hil: no plots: {error}"),
    }
}
