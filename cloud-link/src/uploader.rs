//! The truck side of the transfer: takes episodes from the [`EpisodeQueue`] and sends them to the
//! ingest over zenoh (see [`crate::truck_to_cloud`] for the protocol).
//!
//! It runs on its own thread and shares nothing with perception but the queue folder (the
//! recorder hands it finished files), so a slow or dead link never blocks perception. Chunks are
//! sent one at a time, each acknowledged before the next; a transfer resumes from the ingest's
//! last acknowledged chunk. When a request gets no answer (link down, ingest restarting) the
//! uploader backs off exponentially and, after a few failures in a row, closes and reopens its
//! zenoh session. A rate limit (token bucket) caps the bytes sent per second.

use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::CloudLinkError;
use crate::queue::{EpisodeQueue, QueueEntry, episode_path};
use crate::transport::LinkConfig;
use crate::truck_to_cloud::{self, IngestReply, Manifest};

/// Uploader settings.
#[derive(Clone, Debug)]
pub struct UploaderConfig {
    /// This truck's id (a key-expression chunk: letters, digits, `-`, `_`, `.`).
    pub truck_id: String,
    /// How to reach the ingest.
    pub link: LinkConfig,
    /// Chunk size in bytes.
    pub chunk_size_bytes: u64,
    /// Bytes per second at most (`None`: unlimited).
    pub rate_limit_bytes_per_s: Option<u64>,
    /// How long to wait for the ingest's answer to one request, in ms.
    pub request_timeout_ms: u64,
    /// First back-off after a failed request, in ms (doubles up to `backoff_max_ms`).
    pub backoff_initial_ms: u64,
    /// Longest back-off, in ms.
    pub backoff_max_ms: u64,
    /// Failed requests in a row after which the session is closed and reopened.
    pub reopen_session_after_failures: u32,
    /// Whole-episode verification failures after which an episode is set aside in
    /// `<queue>/failed/` and counted as failed.
    pub max_verify_failures: u32,
    /// Test hook: the first time chunk `n` is sent, one byte of it is flipped after hashing (to
    /// show the ingest detects it and the uploader sends it again).
    #[doc(hidden)]
    pub fault_corrupt_chunk_once: Option<u64>,
}

impl UploaderConfig {
    /// Defaults: 256 KiB chunks, no rate limit, 5 s request timeout, back-off 100 ms to 2 s,
    /// session reopened after 3 failures in a row, 3 verification failures allowed.
    pub fn new(truck_id: &str, link: LinkConfig) -> Self {
        Self {
            truck_id: truck_id.to_owned(),
            link,
            chunk_size_bytes: 256 * 1024,
            rate_limit_bytes_per_s: None,
            request_timeout_ms: 5_000,
            backoff_initial_ms: 100,
            backoff_max_ms: 2_000,
            reopen_session_after_failures: 3,
            max_verify_failures: 3,
            fault_corrupt_chunk_once: None,
        }
    }
}

/// A token bucket: `rate_bytes_per_s` sustained, bursts up to `burst_bytes`. Pure: time is
/// passed in.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate_bytes_per_s: u64,
    burst_bytes: u64,
    tokens: f64,
    last_ns: Option<u64>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_bytes_per_s: u64, burst_bytes: u64) -> Self {
        Self {
            rate_bytes_per_s: rate_bytes_per_s.max(1),
            burst_bytes,
            tokens: burst_bytes as f64,
            last_ns: None,
        }
    }

    /// Takes `bytes` at time `now_ns`; returns how long to wait (ns) before sending them.
    pub fn take(&mut self, now_ns: u64, bytes: u64) -> u64 {
        if let Some(last_ns) = self.last_ns {
            let elapsed_s = now_ns.saturating_sub(last_ns) as f64 / 1e9;
            self.tokens =
                (self.tokens + elapsed_s * self.rate_bytes_per_s as f64).min(self.burst_bytes as f64);
        }
        self.last_ns = Some(now_ns.max(self.last_ns.unwrap_or(0)));
        self.tokens -= bytes as f64;
        if self.tokens >= 0.0 { 0 } else { (-self.tokens / self.rate_bytes_per_s as f64 * 1e9) as u64 }
    }
}

/// What the uploader did (shared counters, readable while it runs).
#[derive(Debug, Default)]
pub struct UploadStats {
    /// Episodes stored by the ingest and removed from the queue.
    pub episodes_uploaded: AtomicU64,
    /// Of those, episodes the ingest already had.
    pub episodes_already_stored: AtomicU64,
    /// Episodes set aside after repeated verification failures.
    pub episodes_failed: AtomicU64,
    /// Chunks sent (including resends).
    pub chunks_sent: AtomicU64,
    /// Chunks the ingest reported corrupt (and that were sent again).
    pub chunks_corrupt: AtomicU64,
    /// Payload bytes sent.
    pub bytes_sent: AtomicU64,
    /// Requests that got no answer.
    pub request_failures: AtomicU64,
    /// Times the session was closed and reopened.
    pub session_reopens: AtomicU64,
    /// Whole-episode verification failures reported by the ingest.
    pub verify_failures: AtomicU64,
}

/// When [`Uploader::run`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// When the queue is empty (`pitsense upload --once`).
    UntilEmpty,
    /// Only when stopped; waits for new episodes when the queue is empty.
    UntilStopped,
}

/// Why an episode transfer was interrupted.
enum Interrupted {
    /// No answer: back off, maybe reopen the session.
    LinkDown(String),
    /// The stop flag was raised.
    Stopped,
    /// The episode left the queue (evicted) or its file is unreadable.
    Gone(String),
}

/// The uploader.
pub struct Uploader {
    config: UploaderConfig,
    queue: Arc<Mutex<EpisodeQueue>>,
    stats: Arc<UploadStats>,
    session: Option<zenoh::Session>,
    bucket: Option<TokenBucket>,
    corrupt_pending: Option<u64>,
    clock_origin: std::time::Instant,
}

impl Uploader {
    /// An uploader for `queue`.
    ///
    /// Errors: the truck id is not a valid key-expression chunk.
    pub fn new(config: UploaderConfig, queue: Arc<Mutex<EpisodeQueue>>) -> Result<Self, CloudLinkError> {
        if !truck_to_cloud::is_valid_key_chunk(&config.truck_id) {
            return Err(CloudLinkError::Config {
                key: "truck_id".into(),
                reason: format!("'{}' must be 1-64 letters, digits, '-', '_' or '.'", config.truck_id),
            });
        }
        if config.chunk_size_bytes == 0
            || config.chunk_size_bytes > crate::truck_to_cloud::MAX_CHUNK_SIZE_BYTES
        {
            return Err(CloudLinkError::Config {
                key: "chunk_size_bytes".into(),
                reason: format!("{} is outside 1..=64 MiB", config.chunk_size_bytes),
            });
        }
        let bucket = config
            .rate_limit_bytes_per_s
            .map(|rate| TokenBucket::new(rate, config.chunk_size_bytes.max(rate / 10)));
        let corrupt_pending = config.fault_corrupt_chunk_once;
        Ok(Self {
            config,
            queue,
            stats: Arc::default(),
            session: None,
            bucket,
            corrupt_pending,
            clock_origin: std::time::Instant::now(),
        })
    }

    /// The counters.
    pub fn stats(&self) -> Arc<UploadStats> {
        self.stats.clone()
    }

    /// Uploads until the queue is empty ([`RunMode::UntilEmpty`]) or `stop` is raised.
    /// Returns the number of episodes that failed verification for good.
    ///
    /// Errors: the queue cannot be read or written. Link failures are not errors: they are
    /// retried with back-off.
    pub fn run(&mut self, stop: &AtomicBool, mode: RunMode) -> Result<u64, CloudLinkError> {
        let mut backoff_ms = self.config.backoff_initial_ms;
        let mut failures_in_a_row = 0u32;
        let mut verify_failures: std::collections::BTreeMap<u64, u32> = Default::default();
        while !stop.load(Ordering::Relaxed) {
            let next = self.queue.lock().map_err(|_| poisoned())?.next().cloned();
            let Some(entry) = next else {
                if mode == RunMode::UntilEmpty {
                    break;
                }
                sleep_unless_stopped(stop, Duration::from_millis(200));
                continue;
            };
            match self.upload(&entry, stop) {
                Ok(IngestReply::Stored { store_path }) => {
                    tracing::info!(file = %entry.file_name, sha256 = %entry.sha256, store_path, "episode uploaded");
                    self.queue.lock().map_err(|_| poisoned())?.remove(entry.seq)?;
                    self.stats.episodes_uploaded.fetch_add(1, Ordering::Relaxed);
                    backoff_ms = self.config.backoff_initial_ms;
                    failures_in_a_row = 0;
                }
                Ok(IngestReply::VerifyFailed { reason }) => {
                    self.stats.verify_failures.fetch_add(1, Ordering::Relaxed);
                    let count = verify_failures.entry(entry.seq).or_insert(0);
                    *count += 1;
                    tracing::warn!(file = %entry.file_name, attempt = *count, %reason, "episode failed verification");
                    if *count >= self.config.max_verify_failures {
                        self.set_aside(&entry)?;
                    }
                }
                Ok(other) => {
                    tracing::warn!(file = %entry.file_name, ?other, "unexpected reply; episode set aside");
                    self.set_aside(&entry)?;
                }
                Err(Interrupted::Stopped) => break,
                Err(Interrupted::Gone(reason)) => {
                    tracing::warn!(file = %entry.file_name, %reason, "episode left the queue during upload");
                    let mut queue = self.queue.lock().map_err(|_| poisoned())?;
                    if queue.contains(entry.seq) && !episode_path(queue.dir(), entry.seq).is_file() {
                        queue.remove(entry.seq)?;
                    }
                }
                Err(Interrupted::LinkDown(reason)) => {
                    self.stats.request_failures.fetch_add(1, Ordering::Relaxed);
                    failures_in_a_row += 1;
                    tracing::info!(%reason, backoff_ms, "link down; backing off");
                    if failures_in_a_row >= self.config.reopen_session_after_failures {
                        if let Some(session) = self.session.take() {
                            use zenoh::Wait;
                            let _ = session.close().wait();
                            self.stats.session_reopens.fetch_add(1, Ordering::Relaxed);
                        }
                        failures_in_a_row = 0;
                    }
                    sleep_unless_stopped(stop, Duration::from_millis(backoff_ms));
                    backoff_ms = (backoff_ms * 2).min(self.config.backoff_max_ms);
                }
            }
        }
        if let Some(session) = self.session.take() {
            use zenoh::Wait;
            let _ = session.close().wait();
        }
        Ok(self.stats.episodes_failed.load(Ordering::Relaxed))
    }

    fn set_aside(&mut self, entry: &QueueEntry) -> Result<(), CloudLinkError> {
        let kept = self.queue.lock().map_err(|_| poisoned())?.set_aside(entry.seq)?;
        self.stats.episodes_failed.fetch_add(1, Ordering::Relaxed);
        tracing::error!(file = %entry.file_name, sha256 = %entry.sha256, kept = ?kept,
            "episode failed verification repeatedly: set aside");
        Ok(())
    }

    fn session(&mut self) -> Result<&zenoh::Session, Interrupted> {
        if self.session.is_none() {
            let session = self.config.link.open().map_err(|e| Interrupted::LinkDown(e.to_string()))?;
            self.session = Some(session);
        }
        self.session.as_ref().ok_or_else(|| Interrupted::LinkDown("no session".into()))
    }

    fn request(
        &mut self,
        key: &str,
        payload: Vec<u8>,
        attachment: Option<Vec<u8>>,
    ) -> Result<IngestReply, Interrupted> {
        use zenoh::Wait;
        let timeout = Duration::from_millis(self.config.request_timeout_ms);
        let session = self.session()?;
        let mut builder = session.get(key).payload(payload).timeout(timeout);
        if let Some(attachment) = attachment {
            builder = builder.attachment(attachment);
        }
        let replies = builder.wait().map_err(|e| Interrupted::LinkDown(format!("{key}: {e}")))?;
        let reply = replies.recv().map_err(|_| Interrupted::LinkDown(format!("{key}: no answer")))?;
        let sample =
            reply.result().map_err(|e| Interrupted::LinkDown(format!("{key}: error reply {e:?}")))?;
        let bytes = sample.payload().to_bytes();
        serde_json::from_slice(&bytes)
            .map_err(|e| Interrupted::LinkDown(format!("{key}: unreadable reply: {e}")))
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.clock_origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// One episode, from `begin` to the ingest's final answer.
    fn upload(&mut self, entry: &QueueEntry, stop: &AtomicBool) -> Result<IngestReply, Interrupted> {
        let path = {
            let queue = self.queue.lock().map_err(|_| Interrupted::Gone("queue lock poisoned".into()))?;
            episode_path(queue.dir(), entry.seq)
        };
        let manifest = Manifest {
            truck_id: self.config.truck_id.clone(),
            file_name: entry.file_name.clone(),
            size_bytes: entry.size_bytes,
            sha256: entry.sha256.clone(),
            chunk_size_bytes: self.config.chunk_size_bytes,
            priority: entry.priority,
            recorded_ns: entry.recorded_ns,
        };
        let manifest_json = serde_json::to_vec(&manifest).unwrap_or_default();
        let truck_id = self.config.truck_id.clone();
        let mut file =
            std::fs::File::open(&path).map_err(|e| Interrupted::Gone(format!("{}: {e}", path.display())))?;
        let mut buffer = vec![0u8; self.config.chunk_size_bytes as usize];
        'begin: loop {
            if stop.load(Ordering::Relaxed) {
                return Err(Interrupted::Stopped);
            }
            let begin_key = truck_to_cloud::request_key(&truck_id, &entry.sha256, "begin");
            let mut next_chunk = match self.request(&begin_key, manifest_json.clone(), None)? {
                IngestReply::Resume { next_chunk } => next_chunk,
                IngestReply::Stored { store_path } => {
                    self.stats.episodes_already_stored.fetch_add(1, Ordering::Relaxed);
                    return Ok(IngestReply::Stored { store_path });
                }
                other => return Ok(other),
            };
            while next_chunk < manifest.chunk_count() {
                if stop.load(Ordering::Relaxed) {
                    return Err(Interrupted::Stopped);
                }
                let index = next_chunk;
                let len = manifest.chunk_len_bytes(index) as usize;
                let chunk = buffer.get_mut(..len).ok_or_else(|| Interrupted::Gone("chunk length".into()))?;
                file.seek(SeekFrom::Start(index * manifest.chunk_size_bytes))
                    .and_then(|_| file.read_exact(chunk))
                    .map_err(|e| Interrupted::Gone(format!("{}: read chunk {index}: {e}", path.display())))?;
                let sha = crate::sha256::of_bytes(chunk);
                let mut payload = chunk.to_vec();
                if self.corrupt_pending == Some(index) {
                    self.corrupt_pending = None;
                    if let Some(byte) = payload.first_mut() {
                        *byte ^= 0xff;
                    }
                }
                let now_ns = self.now_ns();
                if let Some(bucket) = self.bucket.as_mut() {
                    let wait_ns = bucket.take(now_ns, len as u64);
                    if wait_ns > 0 {
                        std::thread::sleep(Duration::from_nanos(wait_ns));
                    }
                }
                let key = truck_to_cloud::request_key(&truck_id, &entry.sha256, &format!("chunk/{index}"));
                self.stats.chunks_sent.fetch_add(1, Ordering::Relaxed);
                self.stats.bytes_sent.fetch_add(len as u64, Ordering::Relaxed);
                match self.request(&key, payload, Some(sha.into_bytes()))? {
                    IngestReply::Ack { next_chunk: next } | IngestReply::Resume { next_chunk: next } => {
                        next_chunk = next
                    }
                    IngestReply::Corrupt { chunk } => {
                        self.stats.chunks_corrupt.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(file = %entry.file_name, chunk, "ingest reports chunk corrupt; sending again");
                        next_chunk = chunk;
                    }
                    IngestReply::UnknownEpisode => continue 'begin,
                    other => return Ok(other),
                }
            }
            let end_key = truck_to_cloud::request_key(&truck_id, &entry.sha256, "end");
            match self.request(&end_key, Vec::new(), None)? {
                IngestReply::Resume { .. } | IngestReply::UnknownEpisode => continue 'begin,
                other => return Ok(other),
            }
        }
    }
}

fn poisoned() -> CloudLinkError {
    CloudLinkError::Config { key: "queue".into(), reason: "queue lock poisoned by a panicked thread".into() }
}

fn sleep_unless_stopped(stop: &AtomicBool, duration: Duration) {
    let deadline = std::time::Instant::now() + duration;
    while !stop.load(Ordering::Relaxed) {
        let now = std::time::Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

/// An uploader running on its own thread.
pub struct UploaderHandle {
    stop: Arc<AtomicBool>,
    stats: Arc<UploadStats>,
    worker: Option<std::thread::JoinHandle<Result<u64, CloudLinkError>>>,
}

impl UploaderHandle {
    /// Starts `uploader` on a thread named `pitsense-uploader`, in `mode`.
    ///
    /// Errors: the thread cannot be spawned.
    pub fn spawn(mut uploader: Uploader, mode: RunMode) -> Result<Self, CloudLinkError> {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = uploader.stats();
        let thread_stop = stop.clone();
        let worker = std::thread::Builder::new()
            .name("pitsense-uploader".into())
            .spawn(move || uploader.run(&thread_stop, mode))
            .map_err(|e| CloudLinkError::io("pitsense-uploader", "spawn thread", e))?;
        Ok(Self { stop, stats, worker: Some(worker) })
    }

    /// The counters.
    pub fn stats(&self) -> &UploadStats {
        &self.stats
    }

    /// Whether the thread has returned (queue empty in [`RunMode::UntilEmpty`]).
    pub fn is_finished(&self) -> bool {
        self.worker.as_ref().is_none_or(|w| w.is_finished())
    }

    /// Raises the stop flag, waits for the thread and returns its result (episodes failed).
    ///
    /// Errors: the uploader's error, or a panic in its thread.
    pub fn stop(mut self) -> Result<u64, CloudLinkError> {
        self.stop.store(true, Ordering::Relaxed);
        match self.worker.take() {
            Some(worker) => worker.join().map_err(|_| CloudLinkError::Config {
                key: "uploader".into(),
                reason: "thread panicked".into(),
            })?,
            None => Ok(0),
        }
    }
}

impl Drop for UploaderHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TokenBucket;

    #[test]
    fn token_bucket_paces_to_the_rate() {
        // 1000 B/s, burst 1000 B: the first 1000 B go at once, the next 500 wait 0.5 s.
        let mut bucket = TokenBucket::new(1000, 1000);
        assert_eq!(bucket.take(0, 1000), 0);
        assert_eq!(bucket.take(0, 500), 500_000_000);
        // 1.5 s later the debt of 500 is repaid and 1000 are back (capped at the burst).
        assert_eq!(bucket.take(1_500_000_000, 1000), 0);
    }
}
