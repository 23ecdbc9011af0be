//! `pitsense-sim`: simulation CI's tools, outside the truck binary.
//!
//! - `list`, `describe SCENARIO`, `run SCENARIO...|--all`: the mine scenarios
//!   ([`pitsense_sim::scenario`]): simulated lidars, today's onboard lidar pipeline and tracker,
//!   metrics against the ground truth, gates, a JUnit report; exit status 1 when a gate fails or
//!   a scenario cannot run.
//! - The tracking benchmark: `track` runs the tracker on AB3DMOT's PointRCNN detections for
//!   KITTI tracking and writes KITTI tracking results; `eval-tracking` scores results (CLEAR
//!   MOT, sAMOTA/AMOTA/AMOTP, HOTA) against the labels.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitsense_fusion::tracker::TrackerConfig;
use pitsense_sim::kitti_tracking::MatchMode;
use pitsense_sim::scenario;
use pitsense_sim::scenario::file::{SHIPPED, ScenarioSource};
use pitsense_sim::scenario::junit::{ScenarioOutcome, junit_xml};
use pitsense_sim::scenario::run::RunOptions;
use pitsense_sim::scenario::score::RangeBin;
use pitsense_sim::scenario::world::Scenario;
use pitsense_sim::tracking::{TrackOptions, classes, run_eval, run_track};
use serde::Deserialize;

/// The configuration `track` uses without `--config`: the repository's `config/pitsense.toml`
/// (its `[tracker]` section, per-class tables included), as the `pitsense` binary does.
const DEFAULT_CONFIG_TOML: &str = include_str!("../../config/pitsense.toml");

/// Simulation CI: the tracking benchmark.
#[derive(Debug, Parser)]
#[command(name = "pitsense-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the shipped mine scenarios.
    List,
    /// Describe a scenario: world, actors, lidars, dust and gates.
    Describe {
        /// A shipped scenario's name or a scenario file (.toml).
        scenario: String,
        /// Data root holding the lidar metadata [default: $PITSENSE_DATA or ../shared/data].
        #[arg(long)]
        data_root: Option<PathBuf>,
    },
    /// Run scenarios and check their gates; exit status 1 when a gate fails or a scenario
    /// cannot run.
    Run {
        /// Shipped scenario names or scenario files (.toml).
        #[arg(required_unless_present = "all")]
        scenarios: Vec<String>,
        /// Run every shipped scenario.
        #[arg(long, conflicts_with = "scenarios")]
        all: bool,
        /// Seed of every random draw [default: each scenario file's].
        #[arg(long)]
        seed: Option<u64>,
        /// Write a JUnit XML report here (a missed gate is a failure, a crash an error).
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Output folder: <out>/<scenario>/{report.json,truth.jsonl,tracks.jsonl}.
        #[arg(long, default_value = "out/sim")]
        out: PathBuf,
        /// Also write each simulated Ouster lidar's UDP packets as
        /// DIR/<scenario>-<lidar>.pcap beside its metadata JSON.
        #[arg(long)]
        write_pcap: Option<PathBuf>,
        /// Also write each scenario as a pitsense MCAP episode, DIR/<scenario>.mcap (lidar clouds,
        /// ego states, tracks), which `pitsense replay` accepts.
        #[arg(long)]
        episodes: Option<PathBuf>,
        /// Stop each scenario after this many frames (smoke runs; gates then see less).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_frames: Option<u64>,
        /// Data root holding the lidar metadata [default: $PITSENSE_DATA or ../shared/data].
        #[arg(long)]
        data_root: Option<PathBuf>,
    },
    /// Run the tracker on PointRCNN 3D detections (AB3DMOT's KITTI tracking files) and write
    /// KITTI tracking results, DIR/<class>/data/<seq>.txt.
    Track {
        /// Folder with <Car|Pedestrian|Cyclist>/<seq>.txt detection files.
        #[arg(long)]
        detections: PathBuf,
        /// Seqmap file (`seq empty first_frame frame_count`).
        #[arg(long)]
        seqmap: PathBuf,
        /// Folder with the sequences' calibration files; default: `calib` beside the
        /// detections folder.
        #[arg(long)]
        calib: Option<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// car, pedestrian, cyclist or all.
        #[arg(long, default_value = "all")]
        class: String,
        /// Configuration file (TOML, `[tracker]` section); the built-in default when absent.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Score KITTI tracking results: CLEAR MOT, sAMOTA/AMOTA/AMOTP and HOTA; prints a table
    /// and writes JSON beside the results.
    EvalTracking {
        /// Results folder (`<class>/data/<seq>.txt` as `track` writes, or `<seq>.txt`).
        #[arg(long)]
        results: PathBuf,
        /// Ground-truth label folder (`<seq>.txt`).
        #[arg(long)]
        labels: PathBuf,
        /// Seqmap file.
        #[arg(long)]
        seqmap: PathBuf,
        /// car, pedestrian, cyclist or all.
        #[arg(long, default_value = "all")]
        class: String,
        /// Match by 3D IoU at this threshold (0.25, 0.5, 0.7) [default: 0.25].
        #[arg(long, conflicts_with = "iou_2d")]
        iou_3d: Option<f64>,
        /// Match by 2D IoU at this threshold (0.5).
        #[arg(long)]
        iou_2d: Option<f64>,
    },
}

/// The `[tracker]` section of a pitsense configuration file (other sections are not read), or
/// of the built-in default; validated.
///
/// # Errors
/// The file cannot be read, is not TOML, or its `[tracker]` section is invalid (the key named).
fn tracker_config(path: Option<&Path>) -> anyhow::Result<TrackerConfig> {
    let (text, name) = match path {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?,
            path.display().to_string(),
        ),
        None => (DEFAULT_CONFIG_TOML.to_owned(), "built-in default".to_owned()),
    };
    let mut table: toml::Table = toml::from_str(&text).with_context(|| format!("`{name}` is not TOML"))?;
    let config = match table.remove("tracker") {
        Some(tracker) => {
            TrackerConfig::deserialize(tracker).with_context(|| format!("`{name}`: [tracker]"))?
        }
        None => TrackerConfig::default(),
    };
    config.validate().with_context(|| format!("`{name}`"))?;
    Ok(config)
}

fn data_root(given: Option<PathBuf>) -> PathBuf {
    pitsense_sim::scenario::data_root(given)
}

fn load_scenario(name: &str, data_root: &Path) -> anyhow::Result<Scenario> {
    Ok(pitsense_sim::scenario::load(name, data_root)?)
}

fn describe(scenario: &Scenario) -> String {
    let mut text = format!("{}\n  {}\n", scenario.name, scenario.description.replace('\n', "\n  "));
    let (low, high) = scenario.terrain.height_range_m();
    text.push_str(&format!(
        "  duration {} s, seed {}; terrain heights {low:.1}..{high:.1} m\n  ego: {:.0} m path\n",
        scenario.duration_s,
        scenario.seed,
        scenario.ego.length_m()
    ));
    for lidar in &scenario.lidars {
        let m = &lidar.metadata;
        let t = lidar.truck_from_lidar.translation.vector;
        text.push_str(&format!(
            "  lidar `{}`: {} {} ({} beams × {} columns, {}, {}) at [{:.2}, {:.2}, {:.2}] m on the truck; noise {} m, 10 % target at {} m\n",
            lidar.name,
            m.prod_line,
            m.lidar_mode,
            m.pixels_per_column,
            m.columns_per_frame,
            m.udp_profile_lidar.name(),
            lidar.metadata_path.display(),
            t.x,
            t.y,
            t.z,
            lidar.range_noise_m,
            lidar.range_at_10pct_m
        ));
    }
    for actor in &scenario.actors {
        text.push_str(&format!(
            "  actor `{}`: {} {:.2}×{:.2}×{:.2} m, reflectivity {}, {:.0} m path\n",
            actor.id,
            actor.kind.name(),
            actor.size_m[0],
            actor.size_m[1],
            actor.size_m[2],
            actor.reflectivity,
            actor.trajectory.length_m()
        ));
    }
    for cloud in &scenario.dust {
        text.push_str(&format!(
            "  dust: MOR {} m (α {:.4} /m), radius {} m at [{}, {}]\n",
            cloud.mor_m, cloud.extinction_per_m, cloud.radius_m, cloud.center_m[0], cloud.center_m[1]
        ));
    }
    for gate in &scenario.gates {
        text.push_str(&format!("  gate: {}\n", gate.describe()));
    }
    text
}

fn value_text(value: Option<f64>) -> String {
    scenario::score::value_text(value, 3)
}

/// Runs the scenarios; returns whether every gate of every scenario held.
fn run_scenarios(
    names: &[String],
    options: &RunOptions,
    data_root: &Path,
    junit: Option<&Path>,
) -> anyhow::Result<bool> {
    if let Some(folder) = junit.and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create `{}` for --junit", folder.display()))?;
    }
    let mut outcomes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        let started = std::time::Instant::now();
        let result = load_scenario(name, data_root).and_then(|scenario| {
            if !seen.insert(scenario.name.clone()) {
                anyhow::bail!(
                    "scenario name `{}` was already run: its outputs would be overwritten",
                    scenario.name
                );
            }
            let report = scenario::run::run(&scenario, options)?;
            Ok((scenario, report))
        });
        match result {
            Ok((scenario, report)) => {
                let seconds = started.elapsed().as_secs_f64();
                let simulated = report.simulated_s;
                let dir = options.out_dir.clone().unwrap_or_default().join(&report.scenario);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create `{}`", dir.display()))?;
                scenario::run::write_report(&dir.join("report.json"), &report)?;
                let mut text = format!(
                    "{}: {} frames, {} lidar returns, ego {:.0} m, in {seconds:.1} s ({:.2}× real time); {}\n",
                    report.scenario,
                    report.frames,
                    report.lidar_returns,
                    report.metrics.ego_distance_m,
                    simulated / seconds.max(1e-9),
                    if report.passed { "PASS" } else { "FAIL" }
                );
                for (id, actor) in &report.metrics.actors {
                    text.push_str(&format!(
                        "  {id} ({}): first visible {}, time to first detection {}, first detected at {} m, id switches {}, lost frames {}\n",
                        actor.class.name(),
                        value_text(actor.first_visible_s),
                        value_text(actor.time_to_first_detection_s),
                        value_text(actor.first_detection_range_m),
                        actor.id_switches,
                        actor.lost_frames
                    ));
                }
                for kind in scenario.actors.iter().map(|a| a.kind).collect::<std::collections::BTreeSet<_>>()
                {
                    let bins: Vec<String> = RangeBin::ALL
                        .iter()
                        .map(|bin| {
                            format!(
                                "{} m {}",
                                bin.name(),
                                value_text(report.metrics.recall(Some(kind), Some(*bin)))
                            )
                        })
                        .collect();
                    text.push_str(&format!("  recall {}: {}\n", kind.name(), bins.join(", ")));
                }
                text.push_str(&format!(
                    "  precision {}; false tracks {}; fragments {} and roadside {} track-frames; dust returns {}, extinguished {}\n",
                    value_text(report.metrics.precision(None)),
                    report.metrics.false_track_ids.len(),
                    report.metrics.fragment_frames,
                    report.metrics.roadside_frames,
                    report.metrics.dust_returns,
                    report.metrics.dust_extinguished
                ));
                for gate in &report.gates {
                    text.push_str(&format!(
                        "  [{}] {} (measured {})\n",
                        if gate.passed { "pass" } else { "FAIL" },
                        gate.gate,
                        value_text(gate.value)
                    ));
                }
                write_stdout(&text)?;
                outcomes.push(ScenarioOutcome::Ran(Box::new(report)));
            }
            Err(error) => {
                write_line(&format!("{name}: ERROR {error:#}"))?;
                outcomes
                    .push(ScenarioOutcome::Crashed { scenario: name.clone(), message: format!("{error:#}") });
            }
        }
    }
    if let Some(path) = junit {
        std::fs::write(path, junit_xml(&outcomes))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        write_line(&format!("JUnit report: {}", path.display()))?;
    }
    Ok(outcomes.iter().all(|outcome| matches!(outcome, ScenarioOutcome::Ran(report) if report.passed)))
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).context("cannot write to stdout")
}

fn write_line(text: &str) -> anyhow::Result<()> {
    write_stdout(&format!("{text}\n"))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::List => {
            for (name, text) in SHIPPED {
                let summary =
                    ScenarioSource { file: PathBuf::from(name), text: (*text).to_owned(), folder: None }
                        .parse()
                        .map(|file| {
                            file.scenario.description.split_whitespace().collect::<Vec<_>>().join(" ")
                        })
                        .unwrap_or_else(|error| format!("(does not parse: {error})"));
                write_line(&format!("{name}\n    {summary}"))?;
            }
            Ok(())
        }
        Command::Describe { scenario, data_root: root } => {
            let scenario = load_scenario(&scenario, &data_root(root))?;
            write_stdout(&describe(&scenario))
        }
        Command::Run {
            scenarios,
            all,
            seed,
            junit,
            out,
            write_pcap,
            episodes,
            max_frames,
            data_root: root,
        } => {
            let names: Vec<String> =
                if all { SHIPPED.iter().map(|(name, _)| (*name).to_owned()).collect() } else { scenarios };
            let options = RunOptions { seed, out_dir: Some(out), write_pcap, max_frames, episodes };
            if !run_scenarios(&names, &options, &data_root(root), junit.as_deref())? {
                write_line("some gates failed or scenarios could not run")?;
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Track { detections, seqmap, calib, out, class, config } => {
            let tracker = tracker_config(config.as_deref())?;
            let calib = calib.unwrap_or_else(|| detections.join("../calib"));
            let options = TrackOptions {
                detections,
                seqmap,
                calib,
                out: out.clone(),
                classes: classes(&class)?,
                tracker,
            };
            let start = std::time::Instant::now();
            let frames = run_track(&options)?;
            let seconds = start.elapsed().as_secs_f64();
            for (class, count) in &frames {
                write_line(&format!(
                    "{class}: {count} frames -> {}",
                    out.join(class).join("data").display()
                ))?;
            }
            // One tracker runs every class of a frame: the frames it ran are each class's count.
            let total: u64 = frames.values().copied().max().unwrap_or(0);
            write_line(&format!(
                "{total} frames (all classes at once) in {seconds:.2} s ({:.0} frames/s, file I/O included)",
                total as f64 / seconds
            ))?;
            Ok(())
        }
        Command::EvalTracking { results, labels, seqmap, class, iou_3d, iou_2d } => {
            let mode = match (iou_3d, iou_2d) {
                (_, Some(min_overlap)) => MatchMode::Iou2d { min_overlap },
                (min_overlap, None) => MatchMode::Iou3d { min_overlap: min_overlap.unwrap_or(0.25) },
            };
            let mut reports = Vec::new();
            for class in classes(&class)? {
                let report = run_eval(&results, &labels, &seqmap, class, mode)?;
                write_stdout(&format!("{report}\n"))?;
                reports.push(report);
            }
            let slug = match mode {
                MatchMode::Iou3d { min_overlap } => format!("iou3d_{min_overlap}"),
                MatchMode::Iou2d { min_overlap } => format!("iou2d_{min_overlap}"),
            };
            let json_path = results.join(format!("eval_{slug}.json"));
            std::fs::write(&json_path, serde_json::to_string_pretty(&reports)?)
                .with_context(|| format!("cannot write `{}`", json_path.display()))?;
            write_line(&format!("written: {}", json_path.display()))?;
            Ok(())
        }
    }
}
