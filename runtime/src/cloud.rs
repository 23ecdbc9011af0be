//! `pitsense upload` and `pitsense episode recover`: thin CLI wrappers over `pitsense-cloud-link`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use clap::{Args, Subcommand};
use pitsense_cloud_link::queue::Priority;
use pitsense_cloud_link::transport::TlsFiles;
use pitsense_cloud_link::upload_command::{UploadRequest, run_upload};

/// Arguments of `pitsense upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// zenoh endpoint of the ingest (peer to peer) or of a zenoh router, e.g. tcp/127.0.0.1:7447.
    #[arg(long, required = true)]
    pub connect: Vec<String>,
    /// The store-and-forward queue folder (created if missing).
    #[arg(long)]
    pub queue: PathBuf,
    /// Episode files to copy into the queue before uploading.
    pub files: Vec<PathBuf>,
    /// Exit when the queue is empty (default: keep running and upload what arrives).
    #[arg(long)]
    pub once: bool,
    /// This truck's id (letters, digits, '-', '_', '.'); with mutual TLS it must be the
    /// certificate's common name.
    #[arg(long, default_value = "truck")]
    pub truck_id: String,
    /// Priority of FILES: low, normal, high.
    #[arg(long, default_value = "normal")]
    pub priority: Priority,
    /// Byte quota of the queue.
    #[arg(long, default_value_t = 8 << 30)]
    pub quota_bytes: u64,
    /// Chunk size in bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    pub chunk_size_bytes: u64,
    /// Rate limit in bytes per second (default: unlimited).
    #[arg(long)]
    pub rate_limit_bytes_per_s: Option<u64>,
    /// TLS: the CA certificate (PEM) for `tls/...` endpoints.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    pub tls_root_ca: Option<PathBuf>,
    /// TLS: this truck's certificate (PEM), presented to the ingest (mutual TLS).
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// TLS: this truck's private key (PEM).
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
}

/// `pitsense episode ...`
#[derive(Debug, Subcommand)]
pub enum EpisodeCommand {
    /// Turn an episode left by a crashed recorder (no summary, torn last chunk) into a valid
    /// MCAP holding every message up to the last complete chunk.
    Recover {
        /// The torn episode.
        file: PathBuf,
        /// Output file (default: FILE with `.recovered.mcap`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs `pitsense upload`; an error (non-zero exit) if any episode failed verification or was
/// refused by the queue.
pub fn run_upload_command(args: &UploadArgs) -> anyhow::Result<()> {
    let tls = match (&args.tls_root_ca, &args.tls_cert, &args.tls_key) {
        (Some(root_ca_pem), Some(cert_pem), Some(key_pem)) => Some(TlsFiles {
            root_ca_pem: root_ca_pem.clone(),
            cert_pem: cert_pem.clone(),
            key_pem: key_pem.clone(),
            mutual: true,
        }),
        _ => None,
    };
    let request = UploadRequest {
        connect: args.connect.clone(),
        queue_dir: args.queue.clone(),
        files: args.files.clone(),
        priority: args.priority,
        once: args.once,
        truck_id: args.truck_id.clone(),
        quota_bytes: args.quota_bytes,
        chunk_size_bytes: args.chunk_size_bytes,
        rate_limit_bytes_per_s: args.rate_limit_bytes_per_s,
        tls,
    };
    // Runs until the queue is empty (--once) or the process is interrupted; the queue on disk
    // keeps what is not acknowledged.
    let stop = AtomicBool::new(false);
    let outcome =
        run_upload(&request, &stop).with_context(|| format!("upload from {}", args.queue.display()))?;
    println!(
        "enqueued {}, refused {}, uploaded {}, failed verification {}, still queued {}",
        outcome.enqueued, outcome.refused, outcome.uploaded, outcome.failed, outcome.still_queued
    );
    anyhow::ensure!(
        !outcome.has_failures(),
        "{} episode(s) failed verification (set aside in {}/failed), {} refused by the queue",
        outcome.failed,
        args.queue.display(),
        outcome.refused
    );
    Ok(())
}

/// Runs `pitsense episode ...`.
pub fn run_episode_command(command: &EpisodeCommand) -> anyhow::Result<()> {
    match command {
        EpisodeCommand::Recover { file, out } => {
            let out = out.clone().unwrap_or_else(|| file.with_extension("recovered.mcap"));
            let report = pitsense_cloud_link::recover(file, &out)?;
            println!(
                "{}: {} messages in {} complete chunks, {} metadata records kept; {} corrupt chunks skipped; {} schema or channel records left out; {} bytes dropped ({})",
                out.display(),
                report.message_count(),
                report.chunks_kept,
                report.metadata_kept,
                report.chunks_skipped.len(),
                report.records_skipped,
                report.bytes_dropped,
                report.stopped_because
            );
            for (topic, count) in &report.message_counts {
                println!("  {topic}: {count}");
            }
            for skipped in &report.chunks_skipped {
                println!(
                    "  skipped corrupt chunk at byte {} ({} bytes): {}",
                    skipped.offset, skipped.length, skipped.reason
                );
            }
            Ok(())
        }
    }
}
