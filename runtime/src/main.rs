//! `pitsense`: the perception runtime's command-line entry point.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pitsense_runtime::config::{DEFAULT_CONFIG_TOML, PitsenseConfig};
use pitsense_runtime::replay::{ReplayOptions, check_data_root, default_data_root, run_replay};
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
    /// Run the whole pipeline over a dataset in KITTI object layout
    /// (velodyne/, image_2/, calib/, optional label_2/).
    Replay {
        /// Dataset folder, e.g. ../shared/data/kitti/object/training.
        dataset: PathBuf,
        /// Output folder for objects.jsonl and replay.rrd.
        #[arg(long, default_value = "out/replay")]
        out: PathBuf,
        /// Configuration file (TOML); the built-in default when absent.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data root holding the model files [default: $PITSENSE_DATA or ../shared/data].
        #[arg(long)]
        data_root: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
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
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Replay { dataset, out, config, data_root, quiet } => {
            let config = PitsenseConfig::load(config.as_deref())?;
            let data_root = data_root.unwrap_or_else(default_data_root);
            check_data_root(&data_root)?;
            let options = ReplayOptions {
                dataset,
                out_dir: out,
                data_root,
                config,
                progress: !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            let summary = run_replay(&options).context("replay failed to start")?;
            print!("{}", summary.render());
            Ok(())
        }
        Command::Config { command: ConfigCommand::Default } => {
            print!("{DEFAULT_CONFIG_TOML}");
            Ok(())
        }
        Command::Config { command: ConfigCommand::Check { file } } => {
            PitsenseConfig::load(Some(&file))?;
            println!("{}: ok", file.display());
            Ok(())
        }
    }
}
