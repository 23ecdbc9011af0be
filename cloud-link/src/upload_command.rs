//! The logic of `pitsense upload` (the runtime's subcommand is a thin clap wrapper around
//! [`run_upload`]): enqueue files, then upload until the queue is empty (`--once`) or until
//! interrupted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::CloudLinkError;
use crate::queue::{EnqueueOutcome, EpisodeQueue, Priority};
use crate::transport::{LinkConfig, TlsFiles};
use crate::uploader::{RunMode, Uploader, UploaderConfig};

/// What `pitsense upload` was asked to do.
#[derive(Clone, Debug)]
pub struct UploadRequest {
    /// zenoh endpoints of the ingest (peer to peer) or of a router.
    pub connect: Vec<String>,
    /// The queue folder.
    pub queue_dir: PathBuf,
    /// Files to copy into the queue first.
    pub files: Vec<PathBuf>,
    /// Their priority.
    pub priority: Priority,
    /// Return when the queue is empty instead of waiting for more.
    pub once: bool,
    /// This truck's id.
    pub truck_id: String,
    /// The queue's byte quota.
    pub quota_bytes: u64,
    /// Chunk size in bytes.
    pub chunk_size_bytes: u64,
    /// Rate limit in bytes per second (`None`: unlimited).
    pub rate_limit_bytes_per_s: Option<u64>,
    /// TLS files for `tls/...` endpoints.
    pub tls: Option<TlsFiles>,
}

/// What `pitsense upload` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadOutcome {
    /// Files enqueued.
    pub enqueued: u64,
    /// Files refused by the queue (did not fit).
    pub refused: u64,
    /// Episodes stored by the ingest.
    pub uploaded: u64,
    /// Episodes that failed verification for good (set aside in `<queue>/failed/`).
    pub failed: u64,
    /// Episodes still queued when it returned.
    pub still_queued: u64,
}

impl UploadOutcome {
    /// Whether anything failed (the command's exit code is non-zero then).
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.refused > 0
    }
}

/// Enqueues `request.files`, then uploads until the queue is empty (`once`) or `stop` is raised.
///
/// Errors: the queue cannot be opened or a file cannot be enqueued (missing, over the quota);
/// the truck id or chunk size is invalid.
pub fn run_upload(request: &UploadRequest, stop: &AtomicBool) -> Result<UploadOutcome, CloudLinkError> {
    let mut queue = EpisodeQueue::open(&request.queue_dir, request.quota_bytes)?;
    let mut outcome = UploadOutcome::default();
    for file in &request.files {
        match queue.enqueue_copy(file, request.priority)? {
            EnqueueOutcome::Queued { .. } => outcome.enqueued += 1,
            EnqueueOutcome::Refused { .. } => outcome.refused += 1,
        }
    }
    let queue = Arc::new(Mutex::new(queue));
    let link =
        LinkConfig { connect: request.connect.clone(), tls: request.tls.clone(), ..LinkConfig::default() };
    let config = UploaderConfig {
        chunk_size_bytes: request.chunk_size_bytes,
        rate_limit_bytes_per_s: request.rate_limit_bytes_per_s,
        ..UploaderConfig::new(&request.truck_id, link)
    };
    let mut uploader = Uploader::new(config, queue.clone())?;
    let stats = uploader.stats();
    let mode = if request.once { RunMode::UntilEmpty } else { RunMode::UntilStopped };
    outcome.failed = uploader.run(stop, mode)?;
    outcome.uploaded = stats.episodes_uploaded.load(Ordering::Relaxed);
    outcome.still_queued = queue.lock().map(|q| q.entries().count() as u64).unwrap_or(0);
    Ok(outcome)
}
