//! `pitsense-sim`: simulation CI's tools, outside the truck binary. Today the tracking
//! benchmark: `track` runs the tracker on AB3DMOT's PointRCNN detections for KITTI tracking and
//! writes KITTI tracking results; `eval-tracking` scores results (CLEAR MOT, sAMOTA/AMOTA/AMOTP,
//! HOTA) against the labels.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitsense_fusion::tracker::TrackerConfig;
use pitsense_sim::kitti_tracking::MatchMode;
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
            let total: u64 = frames.values().sum();
            write_line(&format!(
                "{total} frames in {seconds:.2} s ({:.0} frames/s, file I/O included)",
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
