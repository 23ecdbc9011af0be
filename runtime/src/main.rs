//! `pitsense`: the perception runtime's command-line entry point.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitsense_perception::drivers::inspect::{
    InspectError, InspectOptions, inspect_ouster_pcap, inspect_velodyne_pcap,
};
use pitsense_perception::drivers::velodyne::{VelodyneDecoderConfig, VelodyneModel};
use pitsense_runtime::config::{DEFAULT_CONFIG_TOML, PitsenseConfig};
use pitsense_runtime::onboard::config::LidarDriver;
use pitsense_runtime::replay::{CaptureLidar, ReplayOptions, check_data_root, default_data_root, run_replay};
use tracing_subscriber::EnvFilter;

/// pitsense: perception runtime for autonomous open-pit mining trucks.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a recording through the onboard graph (the one `run` starts on the truck, with
    /// file sources and the recording's clock): a dataset in KITTI object layout (velodyne/,
    /// image_2/, calib/), an episode pitsense recorded (MCAP), or a lidar capture (pcap) with
    /// an optional video file.
    Replay {
        /// A KITTI object folder (e.g. ../shared/data/kitti/object/training), an episode
        /// (.mcap: its clouds, images, V2X and ego states run again) or a capture file.
        input: PathBuf,
        /// Output folder for objects.jsonl, replay.rrd and episodes.
        #[arg(long, default_value = "out/replay")]
        out: PathBuf,
        /// Configuration file (TOML); the built-in default when absent. A [run] section gives
        /// budgets, extrinsics, the camera's intrinsics and file inputs.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data root holding the model files [default: $PITSENSE_DATA or ../shared/data].
        #[arg(long)]
        data_root: Option<PathBuf>,
        /// Capture: the Ouster sensor's metadata JSON.
        #[arg(long)]
        metadata: Option<PathBuf>,
        /// Capture: a Velodyne of this model instead (vlp16, vlp32c, hdl32e, hdl64e).
        #[arg(long, conflicts_with = "metadata")]
        velodyne: Option<VelodyneModel>,
        /// Capture: a video file recorded beside it (camera intrinsics and extrinsics from
        /// [run.inputs.camera]).
        #[arg(long)]
        video: Option<PathBuf>,
        /// The video's time zero on the capture's clock, ns [default: the first packet's time].
        #[arg(long, requires = "video")]
        video_start_ns: Option<u64>,
        /// No progress output (kept for scripts; the replay prints only its summary).
        #[arg(long)]
        quiet: bool,
        /// V2X log to fuse into the tracks: JSON lines `{"receive_stamp_ns": N, "hex": "..."}`
        /// (raw UPER or IEEE 1609.2), stamps on the replay's clock. Needs a [v2x] section and
        /// replay.ego_pose_site in the configuration.
        #[arg(long)]
        v2x_log: Option<PathBuf>,
    },
    /// The onboard runtime: live sensors (the [run] section's inputs) through one dataflow
    /// graph, health and degraded modes, outputs. Stops on SIGINT/SIGTERM after finishing the
    /// frame in progress; exit status 0 when --duration-s elapsed or a replay's inputs ended,
    /// 130 after SIGINT, 143 after SIGTERM, 1 on a start-up error.
    Run {
        /// Configuration file (TOML) with a [run] section, e.g. config/examples/loopback.toml.
        #[arg(long)]
        config: PathBuf,
        /// Data root holding the model files [default: $PITSENSE_DATA or ../shared/data].
        #[arg(long)]
        data_root: Option<PathBuf>,
        /// Stop after this many seconds.
        #[arg(long)]
        duration_s: Option<f64>,
        /// Replay: the inputs are files (pcap:, log:), the clock is the recording's, nothing is
        /// dropped, and the run ends when every input has ended.
        #[arg(long)]
        replay: bool,
    },
    /// Upload episodes to the cloud ingest over zenoh (store-and-forward queue on disk;
    /// --once exits when the queue is empty).
    Upload(pitsense_runtime::cloud::UploadArgs),
    /// Episode (MCAP) tools: recover a file cut short by a crash.
    Episode {
        #[command(subcommand)]
        command: pitsense_runtime::cloud::EpisodeCommand,
    },
    /// Lidar capture tools.
    Lidar {
        #[command(subcommand)]
        command: LidarCommand,
    },
    /// V2X tools.
    V2x {
        #[command(subcommand)]
        command: V2xCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum LidarCommand {
    /// Check a capture: sensor, profile, frames, packets (lost/malformed), points per frame;
    /// with --digest the MD5 of each decoded field per frame, as the Ouster SDK's digest file.
    Inspect {
        /// Capture file (pcap or pcapng).
        #[arg(long)]
        pcap: PathBuf,
        /// Ouster sensor metadata JSON.
        #[arg(long, required_unless_present = "velodyne")]
        meta: Option<PathBuf>,
        /// Decode as a Velodyne capture of this model instead: vlp16, vlp32c, hdl32e, hdl64e.
        #[arg(long, conflicts_with = "meta")]
        velodyne: Option<VelodyneModel>,
        /// Velodyne rotation cut azimuth, degrees.
        #[arg(long, default_value_t = 0.0)]
        cut_azimuth_deg: f64,
        /// Print per-frame field digests.
        #[arg(long)]
        digest: bool,
        /// Lidar (data) UDP port; default: the metadata's `udp_port_lidar`, else 7502 (Ouster)
        /// or 2368 (Velodyne).
        #[arg(long)]
        lidar_port: Option<u16>,
    },
}

#[derive(Debug, Subcommand)]
enum V2xCommand {
    /// Decode SAE J2735 / J3224 messages (raw UPER, one or many MessageFrames, or an IEEE 1609.2
    /// envelope), ETSI CAM / CPM PDUs, and China CSAE T/CSAE 53 / 157 MessageFrames (raw UPER
    /// or an RSU uplink frame), from a file or hex text. One JSON object per message on stdout with its
    /// `standard` and `edition` (SI units, degrees, radians; CSAE adds `raw`, the ASN.1 field
    /// names and values); the envelope, uplink header and any trailing bytes go to stderr.
    Decode {
        /// Capture file.
        #[arg(required_unless_present = "hex")]
        file: Option<PathBuf>,
        /// Hex text instead of a file.
        #[arg(long, conflicts_with = "file")]
        hex: Option<String>,
        /// Standard: auto (J2735 when the octets start like a J2735 frame or a 1609.2
        /// envelope, ETSI when they are a whole CAM or CPM, else CSAE), j2735, csae53, csae157,
        /// etsi (CAM, CPM).
        #[arg(long, default_value = "auto")]
        standard: pitsense_v2x::Standard,
        /// CSAE edition: 2019 (module release 2019-07-24) or 2020 (needs a build with the
        /// `csae-2020` feature). Default 2019, and 2020 for --standard csae157. A message that
        /// fails under the edition is reported, not retried under the other.
        #[arg(long)]
        edition: Option<pitsense_v2x::csae::Edition>,
        /// The input is an RSU uplink frame (8-byte rsuID, 8-byte ms timestamp, lengths) around
        /// CSAE MessageFrames.
        #[arg(long)]
        rsu_uplink: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the commented default configuration.
    Default,
    /// Validate a configuration file.
    Check {
        /// File to check.
        file: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Command::Run { config, data_root, duration_s, replay } = &cli.command {
        return match run_onboard(config, data_root.clone(), *duration_s, *replay) {
            Ok(code) => code,
            Err(error) => {
                eprintln!("error: {}", pitsense_runtime::error_chain_text(&error));
                std::process::ExitCode::FAILURE
            }
        };
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", pitsense_runtime::error_chain_text(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// `pitsense run`: installs the SIGINT/SIGTERM handlers, runs the graph, prints the summary and
/// returns the exit status that says why it stopped.
fn run_onboard(
    config: &std::path::Path,
    data_root: Option<PathBuf>,
    duration_s: Option<f64>,
    replay: bool,
) -> anyhow::Result<std::process::ExitCode> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use pitsense_runtime::onboard::{RunMode, RunOptions, StopReason};

    let config = PitsenseConfig::load(Some(config))?;
    let data_root = data_root.unwrap_or_else(default_data_root);
    let stop = Arc::new(AtomicBool::new(false));
    let sigint = Arc::new(AtomicBool::new(false));
    let sigterm = Arc::new(AtomicBool::new(false));
    for (signal, flag) in [(signal_hook::consts::SIGINT, &sigint), (signal_hook::consts::SIGTERM, &sigterm)] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("cannot install a signal handler")?;
        signal_hook::flag::register(signal, Arc::clone(flag)).context("cannot install a signal handler")?;
    }
    let duration = match duration_s {
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Some(std::time::Duration::from_secs_f64(seconds))
        }
        Some(seconds) => anyhow::bail!("--duration-s {seconds}: must be a positive number of seconds"),
        None => None,
    };
    let system_clock: Arc<dyn pitsense_types::Clock> =
        Arc::new(pitsense_runtime::graph::clock::SystemClock::new());
    let (mode, clock): (RunMode, Arc<dyn pitsense_types::Clock>) = if replay {
        let clock = pitsense_types::ManualClock::new(0);
        (RunMode::Replay(clock.clone()), Arc::new(clock))
    } else {
        (RunMode::Live, Arc::clone(&system_clock))
    };
    let summary = pitsense_runtime::onboard::run(RunOptions {
        config,
        data_root,
        mode,
        clock,
        work_clock: system_clock,
        stop,
        duration,
        recorded: None,
        replay_video_start_ns: None,
        rrd: None,
    })?;
    write_stdout(&summary.render())?;
    Ok(match summary.stop_reason {
        StopReason::Requested if sigterm.load(Ordering::SeqCst) => std::process::ExitCode::from(143),
        StopReason::Requested if sigint.load(Ordering::SeqCst) => std::process::ExitCode::from(130),
        _ => std::process::ExitCode::SUCCESS,
    })
}

/// Writes to stdout. When the reader went away (`| head`) the listing ends quietly with exit
/// status 0 instead of a panic.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match std::io::Write::write_all(&mut stdout, text.as_bytes())
        .and_then(|()| std::io::Write::flush(&mut stdout))
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(error) => Err(anyhow::Error::new(error).context("cannot write to stdout")),
    }
}

/// [`write_stdout`] followed by a newline.
fn write_line(text: &str) -> anyhow::Result<()> {
    write_stdout(&format!("{text}\n"))
}

/// `run` is dispatched in `main` (it needs its own exit statuses).
fn unreachable_run() -> anyhow::Result<()> {
    anyhow::bail!("internal: `run` is handled before the other commands")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    match cli.command {
        Command::Replay {
            input,
            out,
            config,
            data_root,
            metadata,
            velodyne,
            video,
            video_start_ns,
            quiet: _,
            v2x_log,
        } => {
            let config = PitsenseConfig::load(config.as_deref())?;
            let data_root = data_root.unwrap_or_else(default_data_root);
            check_data_root(&data_root)?;
            let lidar = match (metadata, velodyne) {
                (Some(metadata), _) => Some(CaptureLidar::Ouster(metadata)),
                (None, Some(model)) => Some(CaptureLidar::Velodyne(LidarDriver::from(model))),
                (None, None) => None,
            };
            let options = ReplayOptions {
                input,
                lidar,
                video,
                video_start_ns,
                out_dir: out,
                data_root,
                config,
                v2x_log,
                stop: Arc::new(AtomicBool::new(false)),
            };
            // A replay stopped by SIGINT/SIGTERM finishes what it wrote (the .rrd's footer,
            // objects.jsonl, episodes) and exits 130/143, as `pitsense run` does.
            let sigint = Arc::new(AtomicBool::new(false));
            let sigterm = Arc::new(AtomicBool::new(false));
            for (signal, flag) in
                [(signal_hook::consts::SIGINT, &sigint), (signal_hook::consts::SIGTERM, &sigterm)]
            {
                signal_hook::flag::register(signal, Arc::clone(&options.stop))
                    .context("cannot install a signal handler")?;
                signal_hook::flag::register(signal, Arc::clone(flag))
                    .context("cannot install a signal handler")?;
            }
            let summary = run_replay(&options).context("replay failed to start")?;
            write_stdout(&summary.render())?;
            if sigterm.load(Ordering::SeqCst) {
                std::process::exit(143);
            }
            if sigint.load(Ordering::SeqCst) {
                std::process::exit(130);
            }
            if summary.frames_processed() == 0 {
                anyhow::bail!("no frame of `{}` could be processed", options.input.display());
            }
            Ok(())
        }
        Command::Run { .. } => unreachable_run(),
        Command::Upload(args) => pitsense_runtime::cloud::run_upload_command(&args),
        Command::Episode { command } => pitsense_runtime::cloud::run_episode_command(&command),
        Command::Lidar {
            command: LidarCommand::Inspect { pcap, meta, velodyne, cut_azimuth_deg, digest, lidar_port },
        } => {
            let options = InspectOptions { digest, lidar_port, ..InspectOptions::default() };
            let inspected = match (meta, velodyne) {
                (Some(meta), _) => inspect_ouster_pcap(&pcap, &meta, &options),
                (None, Some(model)) => {
                    inspect_velodyne_pcap(&pcap, VelodyneDecoderConfig::new(model), cut_azimuth_deg, &options)
                }
                (None, None) => anyhow::bail!("give --meta (Ouster) or --velodyne MODEL"),
            };
            // Nothing decoded: show what the capture held, then fail with the reason.
            if let Err(InspectError::NothingDecoded { report, .. }) = &inspected {
                write_stdout(&format!("{report}"))?;
            }
            let report = inspected?;
            write_stdout(&format!("{report}"))?;
            for line in report.digest_lines() {
                write_line(&line)?;
            }
            Ok(())
        }
        Command::V2x { command: V2xCommand::Decode { file, hex, standard, edition, rsu_uplink } } => {
            let bytes = match (file, hex) {
                (Some(file), _) => {
                    std::fs::read(&file).with_context(|| format!("cannot read `{}`", file.display()))?
                }
                (None, Some(hex)) => {
                    if let Some((position, character)) =
                        hex.char_indices().find(|(_, c)| !c.is_ascii_hexdigit() && !c.is_ascii_whitespace())
                    {
                        anyhow::bail!("--hex: `{character}` at character {position} is not a hex digit");
                    }
                    hex.into_bytes()
                }
                (None, None) => anyhow::bail!("give a FILE or --hex HEX"),
            };
            let csae_edition = match (edition, standard) {
                (Some(edition), _) => edition,
                (None, pitsense_v2x::Standard::Csae157) => pitsense_v2x::csae::Edition::Y2020,
                (None, _) => pitsense_v2x::csae::Edition::Y2019,
            };
            let format = pitsense_v2x::FormatConfig { standard, csae_edition, rsu_uplink };
            let capture = pitsense_v2x::view::decode_capture_any(
                &bytes,
                &pitsense_v2x::DecodeConfig::default(),
                &format,
            )?;
            if let Some(envelope) = &capture.envelope {
                eprintln!("envelope: {}", serde_json::to_string(envelope)?);
            }
            if let Some(uplink) = &capture.uplink {
                eprintln!("rsu uplink frame: {}", serde_json::to_string(uplink)?);
            }
            for message in &capture.messages {
                write_stdout(&format!("{}\n", serde_json::to_string(message)?))?;
            }
            if let Some(trailing) = &capture.trailing {
                eprintln!("trailing bytes: {}", serde_json::to_string(trailing)?);
            }
            Ok(())
        }
        Command::Config { command: ConfigCommand::Default } => {
            write_stdout(DEFAULT_CONFIG_TOML)?;
            Ok(())
        }
        Command::Config { command: ConfigCommand::Check { file } } => {
            PitsenseConfig::load(Some(&file))?;
            write_line(&format!("{}: ok", file.display()))?;
            Ok(())
        }
    }
}
