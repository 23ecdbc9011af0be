//! `pitsense-ingest`: the cloud side of the episode upload.
//!
//! ```sh
//! pitsense-ingest --listen tcp/127.0.0.1:7447 --store DIR      # embedded: trucks connect to it
//! pitsense-ingest --connect tcp/router:7447 --store DIR        # fleet: through a zenohd router
//! pitsense-ingest catalog --store DIR                          # what arrived, sizes and SHA-256
//! ```
//!
//! It runs until interrupted (SIGINT/SIGTERM end it; partial transfers stay on disk and resume).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pitsense_cloud_link::ingest::{Catalog, Ingest};
use pitsense_cloud_link::transport::{LinkConfig, TlsFiles, truck_acl_json};

#[derive(Parser)]
#[command(
    name = "pitsense-ingest",
    version,
    about = "Receive, verify and catalogue episodes from the trucks"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// List the episodes in the store: truck, date, size, SHA-256, path.
    Catalog {
        /// The episode store.
        #[arg(long)]
        store: PathBuf,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// zenoh endpoint to listen on (peer to peer with the trucks), e.g. tcp/127.0.0.1:7447.
    #[arg(long)]
    listen: Vec<String>,
    /// zenoh endpoint (router) to connect to, e.g. tcp/zenohd.pit:7447.
    #[arg(long)]
    connect: Vec<String>,
    /// The episode store (created if missing).
    #[arg(long)]
    store: Option<PathBuf>,
    /// TLS: the CA certificate (PEM) that signs the trucks' and this ingest's certificates.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    tls_root_ca: Option<PathBuf>,
    /// TLS: this ingest's certificate (PEM).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// TLS: this ingest's private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Mutual TLS: only trucks with a certificate signed by the CA may connect.
    #[arg(long, requires = "tls_root_ca")]
    mtls: bool,
    /// Access control: these truck ids (their certificates' common names) may each send only
    /// under their own key `pitsense/ingest/<truck_id>/**`; everything else is denied.
    #[arg(long, value_delimiter = ',', requires = "mtls")]
    allow_truck: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,zenoh=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Catalog { store, json }) => catalog(&store, json),
        None => serve(cli.serve),
    }
}

fn catalog(store: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let path = store.join("catalog.sqlite");
    anyhow::ensure!(path.is_file(), "{}: no catalog (is --store an episode store?)", path.display());
    let rows = Catalog::open(&path)?.list()?;
    let total_bytes: u64 = rows.iter().map(|r| r.size_bytes).sum();
    if json {
        for row in &rows {
            let line = serde_json::json!({
                "truck_id": row.truck_id, "file_name": row.file_name, "store_path": row.store_path,
                "size_bytes": row.size_bytes, "sha256": row.sha256, "priority": row.priority,
                "recorded_ns": row.recorded_ns, "received_ns": row.received_ns,
            });
            println!("{line}");
        }
    } else {
        println!("{:<16} {:>12}  {:<64}  {:<8} path", "truck", "size_bytes", "sha256", "priority");
        for row in &rows {
            println!(
                "{:<16} {:>12}  {:<64}  {:<8} {}",
                row.truck_id, row.size_bytes, row.sha256, row.priority, row.store_path
            );
        }
        println!("{} episodes, {} bytes", rows.len(), total_bytes);
    }
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let store = args.store.context("--store DIR is required")?;
    anyhow::ensure!(
        !args.listen.is_empty() || !args.connect.is_empty(),
        "give --listen ENDPOINT (peer to peer) or --connect ENDPOINT (a zenoh router)"
    );
    let tls = match (args.tls_root_ca, args.tls_cert, args.tls_key) {
        (Some(root_ca_pem), Some(cert_pem), Some(key_pem)) => {
            Some(TlsFiles { root_ca_pem, cert_pem, key_pem, mutual: args.mtls })
        }
        _ => None,
    };
    let trucks: Vec<&str> = args.allow_truck.iter().map(String::as_str).collect();
    let link = LinkConfig {
        listen: args.listen.clone(),
        connect: args.connect.clone(),
        client_mode: false,
        tls,
        access_control: (!trucks.is_empty()).then(|| truck_acl_json(&trucks)),
    };
    let ingest = Ingest::start(&store, &link)
        .with_context(|| format!("starting the ingest on {}", store.display()))?;
    tracing::info!(store = %store.display(), listen = ?args.listen, connect = ?args.connect, "pitsense-ingest ready");
    // Runs until the process is interrupted; the store is consistent at every acknowledged chunk.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
        let counters = ingest.counters();
        tracing::info!(
            episodes_stored = counters.episodes_stored.load(std::sync::atomic::Ordering::Relaxed),
            chunks_stored = counters.chunks_stored.load(std::sync::atomic::Ordering::Relaxed),
            chunks_corrupt = counters.chunks_corrupt.load(std::sync::atomic::Ordering::Relaxed),
            "ingest"
        );
    }
}
