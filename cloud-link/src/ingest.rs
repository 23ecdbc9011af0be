//! The cloud side: `pitsense-ingest` receives episodes from many trucks, verifies them, writes
//! them to the episode store and its catalog, and acknowledges.
//!
//! Store layout (`--store DIR`):
//!
//! ```text
//! DIR/catalog.sqlite                                   the catalog and each episode's index (crate::catalog)
//! DIR/<truck_id>/<YYYY-MM-DD>/<file stem>-<sha256[..12]>.mcap    verified episodes
//! DIR/.partial/<truck_id>/<sha256>.part                bytes acknowledged so far (whole chunks)
//! DIR/.partial/<truck_id>/<sha256>.manifest.json       the transfer's manifest
//! ```
//!
//! A chunk is appended only after its SHA-256 and length check out, and synced before it is
//! acknowledged, so the partial file's length says how far a transfer got, across restarts.
//! Requests are idempotent: a chunk already held is acknowledged again, an episode already in the
//! catalog answers `Stored`, and the catalog's key (truck id, SHA-256) keeps one row per episode.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use pitsense_types::channel::{DropPolicy, EdgeSender, RecvOutcome, SendOutcome, edge};

use crate::episode_index::EpisodeIndex;
use crate::error::CloudLinkError;
use crate::transport::LinkConfig;
use crate::truck_to_cloud::{self, IngestReply, Manifest, Request};

pub use crate::catalog::{Catalog, CatalogLocation, CatalogRow, utc_date};
pub use crate::truck_to_cloud::{MAX_CHUNK_SIZE_BYTES, MAX_EPISODE_SIZE_BYTES};

/// Counters of an ingest.
#[derive(Debug, Default)]
pub struct IngestCounters {
    /// Chunks appended.
    pub chunks_stored: AtomicU64,
    /// Chunks acknowledged again without writing (already held).
    pub chunks_duplicate: AtomicU64,
    /// Chunks refused for a wrong SHA-256 or length.
    pub chunks_corrupt: AtomicU64,
    /// Episodes verified and catalogued.
    pub episodes_stored: AtomicU64,
    /// Requests for episodes already in the catalog.
    pub episodes_duplicate: AtomicU64,
    /// Assembled episodes whose SHA-256 did not match.
    pub episodes_verify_failed: AtomicU64,
    /// Stored episodes that could not be indexed (damaged or foreign files: kept, not indexed).
    pub episodes_not_indexed: AtomicU64,
}

/// The episode store and its catalog; answers requests (no zenoh here, see [`Ingest`]).
pub struct Store {
    dir: PathBuf,
    catalog: Catalog,
    manifests: BTreeMap<(String, String), Manifest>,
    counters: Arc<IngestCounters>,
    /// Where stored episodes go to be indexed off the request path ([`Ingest`]'s indexer
    /// thread); `None`: indexed before the reply.
    indexer: Option<EdgeSender<IndexJob>>,
}

/// The catalog of a store by default: the SQLite file `DIR/catalog.sqlite`.
pub fn default_catalog(store_dir: &Path) -> CatalogLocation {
    CatalogLocation::Sqlite(store_dir.join("catalog.sqlite"))
}

/// A stored episode waiting for its index.
#[derive(Debug)]
struct IndexJob {
    truck_id: String,
    sha256: String,
    store_path: String,
}

/// Queued episodes the indexer thread holds at most; an episode stored while it is full is
/// indexed at the ingest's next start (counted in the edge's drops, logged).
const INDEX_QUEUE_CAPACITY: usize = 256;

/// Indexes the episode at `dir/store_path` into `catalog` (the index, or why there is none);
/// returns that reason, if any. Errors: only the catalog's.
fn index_into(
    catalog: &mut Catalog,
    dir: &Path,
    counters: &IngestCounters,
    job: &IndexJob,
) -> Result<Option<String>, CloudLinkError> {
    let IndexJob { truck_id, sha256, store_path } = job;
    match EpisodeIndex::of_file(&dir.join(store_path)) {
        Ok(index) => {
            catalog.insert_index(truck_id, sha256, Ok(&index))?;
            Ok(None)
        }
        Err(error) => {
            let reason = error.to_string();
            tracing::warn!(truck_id, sha256, "episode not indexed: {reason}");
            catalog.insert_index(truck_id, sha256, Err(&reason))?;
            counters.episodes_not_indexed.fetch_add(1, Ordering::Relaxed);
            Ok(Some(reason))
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    ///
    /// Errors: the folder or the catalog cannot be created.
    pub fn open(dir: &Path) -> Result<Self, CloudLinkError> {
        Self::open_with_catalog(dir, &default_catalog(dir))
    }

    /// Opens (creating if needed) the store in `dir` with its catalog at `catalog` (an SQLite
    /// file, or a PostgreSQL server several ingests share).
    ///
    /// Errors: the folder cannot be created or the catalog cannot be opened.
    pub fn open_with_catalog(dir: &Path, catalog: &CatalogLocation) -> Result<Self, CloudLinkError> {
        std::fs::create_dir_all(dir.join(".partial"))
            .map_err(|e| CloudLinkError::io(dir, "create store", e))?;
        let catalog = Catalog::open_at(catalog)?;
        Ok(Self {
            dir: dir.to_owned(),
            catalog,
            manifests: BTreeMap::new(),
            counters: Arc::default(),
            indexer: None,
        })
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Indexes the stored episode at `store_path` (relative to the store) into the catalog; an
    /// episode that cannot be indexed (damaged, foreign) keeps its place in the store and gets
    /// the reason in the catalog. Returns that reason, if any.
    ///
    /// Errors: only the catalog's.
    pub fn index_episode(
        &mut self,
        truck_id: &str,
        sha256: &str,
        store_path: &str,
    ) -> Result<Option<String>, CloudLinkError> {
        let job = IndexJob {
            truck_id: truck_id.to_owned(),
            sha256: sha256.to_owned(),
            store_path: store_path.to_owned(),
        };
        index_into(&mut self.catalog, &self.dir, &self.counters, &job)
    }

    /// Indexes the catalogued episodes that have no index (`all`: every episode again, after
    /// the index grew a field). Returns (episodes indexed, those that could not be, with why).
    /// An episode whose file is not in this store is left as it is (reported, nothing written):
    /// with a catalog shared by several ingests (PostgreSQL), it is another ingest's to index.
    ///
    /// Errors: only the catalog's.
    pub fn reindex(&mut self, all: bool) -> Result<(u64, Vec<(String, String)>), CloudLinkError> {
        let rows = if all { self.catalog.list()? } else { self.catalog.unindexed()? };
        let mut failed = Vec::new();
        for row in &rows {
            if !self.dir.join(&row.store_path).exists() {
                let reason = "not in this store (another ingest's, or removed): left as it is".to_owned();
                failed.push((row.store_path.clone(), reason));
                continue;
            }
            if let Some(reason) = self.index_episode(&row.truck_id, &row.sha256, &row.store_path)? {
                failed.push((row.store_path.clone(), reason));
            }
        }
        Ok((rows.len() as u64 - failed.len() as u64, failed))
    }

    /// The counters (shared with the [`Ingest`] handle).
    pub fn counters(&self) -> Arc<IngestCounters> {
        self.counters.clone()
    }

    fn partial_paths(&self, truck_id: &str, sha256: &str) -> (PathBuf, PathBuf) {
        let folder = self.dir.join(".partial").join(truck_id);
        (folder.join(format!("{sha256}.part")), folder.join(format!("{sha256}.manifest.json")))
    }

    fn manifest(&mut self, truck_id: &str, sha256: &str) -> Option<Manifest> {
        let key = (truck_id.to_owned(), sha256.to_owned());
        if let Some(manifest) = self.manifests.get(&key) {
            return Some(manifest.clone());
        }
        let (_, manifest_path) = self.partial_paths(truck_id, sha256);
        let text = std::fs::read_to_string(&manifest_path).ok()?;
        let manifest: Manifest = serde_json::from_str(&text).ok()?;
        self.manifests.insert(key, manifest.clone());
        Some(manifest)
    }

    /// The first chunk not held for a transfer, truncating a torn tail to whole chunks.
    fn next_chunk(&self, manifest: &Manifest, part: &Path) -> Result<u64, CloudLinkError> {
        let held_bytes = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        if held_bytes >= manifest.size_bytes {
            return Ok(manifest.chunk_count());
        }
        let whole = held_bytes / manifest.chunk_size_bytes;
        if whole * manifest.chunk_size_bytes != held_bytes {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(part)
                .map_err(|e| CloudLinkError::io(part, "open", e))?;
            file.set_len(whole * manifest.chunk_size_bytes)
                .map_err(|e| CloudLinkError::io(part, "truncate", e))?;
        }
        Ok(whole)
    }

    /// Answers one request. `payload` is the query's payload, `attachment` its attachment,
    /// `now_ns` the reception time (for the catalog).
    ///
    /// Errors: only local I/O or catalog failures; malformed requests get
    /// [`IngestReply::Rejected`].
    pub fn handle(
        &mut self,
        request: &Request,
        payload: &[u8],
        attachment: &[u8],
        now_ns: u64,
    ) -> Result<IngestReply, CloudLinkError> {
        match request {
            Request::Begin { truck_id, sha256 } => self.begin(truck_id, sha256, payload),
            Request::Chunk { truck_id, sha256, index } => {
                self.chunk(truck_id, sha256, *index, payload, attachment)
            }
            Request::End { truck_id, sha256 } => self.end(truck_id, sha256, now_ns),
        }
    }

    fn begin(&mut self, truck_id: &str, sha256: &str, payload: &[u8]) -> Result<IngestReply, CloudLinkError> {
        if let Some(row) = self.catalog.find(truck_id, sha256)? {
            self.counters.episodes_duplicate.fetch_add(1, Ordering::Relaxed);
            return Ok(IngestReply::Stored { store_path: row.store_path });
        }
        let manifest: Manifest = match serde_json::from_slice(payload) {
            Ok(manifest) => manifest,
            Err(e) => return Ok(IngestReply::Rejected { reason: format!("manifest: {e}") }),
        };
        if manifest.truck_id != truck_id || manifest.sha256 != sha256 {
            return Ok(IngestReply::Rejected { reason: "manifest does not match the key".into() });
        }
        if manifest.chunk_size_bytes == 0
            || manifest.chunk_size_bytes > MAX_CHUNK_SIZE_BYTES
            || manifest.size_bytes > MAX_EPISODE_SIZE_BYTES
        {
            return Ok(IngestReply::Rejected { reason: "chunk or episode size out of range".into() });
        }
        let (part, manifest_path) = self.partial_paths(truck_id, sha256);
        let previous = self.manifest(truck_id, sha256);
        if previous.as_ref() != Some(&manifest) {
            // New transfer, or a different chunking: start over.
            if let Some(folder) = manifest_path.parent() {
                std::fs::create_dir_all(folder).map_err(|e| CloudLinkError::io(folder, "create", e))?;
            }
            let _ = std::fs::remove_file(&part);
            let text = serde_json::to_string(&manifest).unwrap_or_default();
            std::fs::write(&manifest_path, text)
                .map_err(|e| CloudLinkError::io(&manifest_path, "write", e))?;
            self.manifests.insert((truck_id.to_owned(), sha256.to_owned()), manifest.clone());
        }
        Ok(IngestReply::Resume { next_chunk: self.next_chunk(&manifest, &part)? })
    }

    fn chunk(
        &mut self,
        truck_id: &str,
        sha256: &str,
        index: u64,
        payload: &[u8],
        attachment: &[u8],
    ) -> Result<IngestReply, CloudLinkError> {
        let Some(manifest) = self.manifest(truck_id, sha256) else {
            if let Some(row) = self.catalog.find(truck_id, sha256)? {
                return Ok(IngestReply::Stored { store_path: row.store_path });
            }
            return Ok(IngestReply::UnknownEpisode);
        };
        let (part, _) = self.partial_paths(truck_id, sha256);
        let next_chunk = self.next_chunk(&manifest, &part)?;
        if index < next_chunk {
            self.counters.chunks_duplicate.fetch_add(1, Ordering::Relaxed);
            return Ok(IngestReply::Ack { next_chunk });
        }
        if index > next_chunk {
            return Ok(IngestReply::Resume { next_chunk });
        }
        let expected_len = manifest.chunk_len_bytes(index);
        let actual_sha = crate::sha256::of_bytes(payload);
        if payload.len() as u64 != expected_len || attachment != actual_sha.as_bytes() {
            self.counters.chunks_corrupt.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(truck_id, sha256, chunk = index, "chunk rejected: SHA-256 or length mismatch");
            return Ok(IngestReply::Corrupt { chunk: index });
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .map_err(|e| CloudLinkError::io(&part, "open", e))?;
        file.write_all(payload).map_err(|e| CloudLinkError::io(&part, "append", e))?;
        file.sync_data().map_err(|e| CloudLinkError::io(&part, "sync", e))?;
        self.counters.chunks_stored.fetch_add(1, Ordering::Relaxed);
        Ok(IngestReply::Ack { next_chunk: index + 1 })
    }

    fn end(&mut self, truck_id: &str, sha256: &str, now_ns: u64) -> Result<IngestReply, CloudLinkError> {
        if let Some(row) = self.catalog.find(truck_id, sha256)? {
            self.counters.episodes_duplicate.fetch_add(1, Ordering::Relaxed);
            return Ok(IngestReply::Stored { store_path: row.store_path });
        }
        let Some(manifest) = self.manifest(truck_id, sha256) else { return Ok(IngestReply::UnknownEpisode) };
        let (part, manifest_path) = self.partial_paths(truck_id, sha256);
        let next_chunk = self.next_chunk(&manifest, &part)?;
        if next_chunk < manifest.chunk_count() {
            return Ok(IngestReply::Resume { next_chunk });
        }
        let held_bytes = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let actual = if manifest.size_bytes == 0 && held_bytes == 0 {
            crate::sha256::of_bytes(&[])
        } else {
            crate::sha256::of_file(&part)?
        };
        if held_bytes != manifest.size_bytes || actual != manifest.sha256 {
            self.counters.episodes_verify_failed.fetch_add(1, Ordering::Relaxed);
            let _ = std::fs::remove_file(&part);
            let reason = format!(
                "assembled {held_bytes} bytes with SHA-256 {actual}, manifest says {} bytes",
                manifest.size_bytes
            );
            tracing::warn!(truck_id, sha256, %reason, "episode failed verification");
            return Ok(IngestReply::VerifyFailed { reason });
        }
        let stem = Path::new(&manifest.file_name)
            .file_stem()
            .map(|s| {
                s.to_string_lossy()
                    .chars()
                    .map(|c| if truck_to_cloud::is_valid_key_chunk(&c.to_string()) { c } else { '_' })
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "episode".to_owned());
        let relative = format!("{truck_id}/{}/{stem}-{}.mcap", utc_date(manifest.recorded_ns), &sha256[..12]);
        let target = self.dir.join(&relative);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder).map_err(|e| CloudLinkError::io(folder, "create", e))?;
        }
        if part.exists() {
            std::fs::rename(&part, &target).map_err(|e| CloudLinkError::io(&target, "move into store", e))?;
        } else {
            std::fs::File::create(&target).map_err(|e| CloudLinkError::io(&target, "create", e))?;
        }
        self.catalog.insert(&CatalogRow {
            truck_id: truck_id.to_owned(),
            sha256: sha256.to_owned(),
            file_name: manifest.file_name.clone(),
            store_path: relative.clone(),
            size_bytes: manifest.size_bytes,
            priority: format!("{:?}", manifest.priority).to_lowercase(),
            recorded_ns: manifest.recorded_ns,
            received_ns: now_ns,
        })?;
        match &self.indexer {
            Some(indexer) => {
                let job = IndexJob {
                    truck_id: truck_id.to_owned(),
                    sha256: sha256.to_owned(),
                    store_path: relative.clone(),
                };
                if indexer.send(job) != SendOutcome::Queued {
                    tracing::warn!(
                        truck_id,
                        sha256,
                        "index queue full: the episode is indexed at the next start"
                    );
                }
            }
            None => {
                self.index_episode(truck_id, sha256, &relative)?;
            }
        }
        let _ = std::fs::remove_file(&manifest_path);
        self.manifests.remove(&(truck_id.to_owned(), sha256.to_owned()));
        self.counters.episodes_stored.fetch_add(1, Ordering::Relaxed);
        tracing::info!(truck_id, sha256, store_path = %relative, size_bytes = manifest.size_bytes, "episode stored");
        Ok(IngestReply::Stored { store_path: relative })
    }
}

/// A running ingest: a zenoh queryable on `pitsense/ingest/**`, a worker thread that answers
/// from the [`Store`], and an indexer thread that indexes each stored episode for the catalog
/// (bounded queue, drop newest: what it drops is indexed at the next start).
pub struct Ingest {
    stop: Arc<AtomicBool>,
    worker: Option<std::thread::JoinHandle<()>>,
    indexer: Option<std::thread::JoinHandle<()>>,
    counters: Arc<IngestCounters>,
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Ingest {
    /// Opens the store in `store_dir`, the zenoh session per `link` and declares the queryable.
    ///
    /// Errors: the store cannot be opened, the session cannot be opened (a listen endpoint in
    /// use, ...), or the queryable cannot be declared.
    pub fn start(store_dir: &Path, link: &LinkConfig) -> Result<Self, CloudLinkError> {
        Self::start_with_catalog(store_dir, &default_catalog(store_dir), link)
    }

    /// [`Ingest::start`] with the catalog at `catalog` (an SQLite file, or a PostgreSQL server
    /// that several ingests behind zenoh routers share).
    ///
    /// Errors: as [`Ingest::start`]; an unreachable catalog names its location.
    pub fn start_with_catalog(
        store_dir: &Path,
        catalog: &CatalogLocation,
        link: &LinkConfig,
    ) -> Result<Self, CloudLinkError> {
        use zenoh::Wait;
        let mut store = Store::open_with_catalog(store_dir, catalog)?;
        // Episodes catalogued but not indexed: stored before the index existed, or an ingest
        // stopped between the two.
        let (indexed, failed) = store.reindex(false)?;
        if indexed > 0 || !failed.is_empty() {
            tracing::info!(
                indexed,
                not_indexed = failed.len(),
                "indexed the episodes stored without an index"
            );
        }
        let counters = store.counters();
        // Indexing reads the whole episode: its own thread and catalog connection, so the
        // requests of other trucks are answered meanwhile.
        let (index_tx, index_rx, _) =
            edge::<IndexJob>("ingest->index", INDEX_QUEUE_CAPACITY, DropPolicy::DropNewest);
        store.indexer = Some(index_tx);
        let mut index_catalog = Catalog::open_at(catalog)?;
        let (index_dir, index_counters) = (store_dir.to_owned(), counters.clone());
        let indexer = std::thread::Builder::new()
            .name("pitsense-index".into())
            .spawn(move || {
                loop {
                    match index_rx.recv_timeout(std::time::Duration::from_millis(100)) {
                        Ok(job) => {
                            if let Err(e) = index_into(&mut index_catalog, &index_dir, &index_counters, &job)
                            {
                                tracing::error!("{e}");
                            }
                        }
                        Err(RecvOutcome::Timeout) => {}
                        // The request worker (and its store) is gone: everything queued is done.
                        Err(RecvOutcome::Ended) => break,
                    }
                }
            })
            .map_err(|e| CloudLinkError::io(store_dir, "spawn index thread", e))?;
        let session = link.open()?;
        let key = format!("{}/**", truck_to_cloud::INGEST_PREFIX);
        let queryable =
            session.declare_queryable(&key).complete(true).wait().map_err(|e| CloudLinkError::Zenoh {
                action: "declare queryable",
                endpoint: key.clone(),
                reason: e.to_string(),
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let worker_stop = stop.clone();
        let worker = std::thread::Builder::new()
            .name("pitsense-ingest".into())
            .spawn(move || {
                while !worker_stop.load(Ordering::Relaxed) {
                    let query = match queryable.recv_timeout(std::time::Duration::from_millis(50)) {
                        Ok(Some(query)) => query,
                        Ok(None) => continue,
                        Err(_) => break,
                    };
                    let key = query.key_expr().as_str().to_owned();
                    let reply = match truck_to_cloud::parse_request_key(&key) {
                        None => IngestReply::Rejected { reason: format!("not a request key: {key}") },
                        Some(request) => {
                            let payload =
                                query.payload().map(|p| p.to_bytes().into_owned()).unwrap_or_default();
                            let attachment =
                                query.attachment().map(|a| a.to_bytes().into_owned()).unwrap_or_default();
                            match store.handle(&request, &payload, &attachment, now_ns()) {
                                Ok(reply) => reply,
                                Err(e) => {
                                    tracing::error!("{e}");
                                    IngestReply::Rejected { reason: e.to_string() }
                                }
                            }
                        }
                    };
                    let text = serde_json::to_vec(&reply).unwrap_or_default();
                    if let Err(e) = query.reply(query.key_expr().clone(), text).wait() {
                        tracing::warn!(key, "reply failed: {e}");
                    }
                }
                let _ = queryable.undeclare().wait();
                let _ = session.close().wait();
            })
            .map_err(|e| CloudLinkError::io(store_dir, "spawn ingest thread", e))?;
        Ok(Self { stop, worker: Some(worker), indexer: Some(indexer), counters })
    }

    /// The ingest's counters (they stay readable after [`Ingest::stop`]).
    pub fn counters(&self) -> Arc<IngestCounters> {
        self.counters.clone()
    }

    /// Stops answering, undeclares the queryable and closes the session (the store keeps its
    /// partial transfers for the next start).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        // The worker dropped the store and its end of the index queue: the indexer finishes
        // what is queued, then ends.
        if let Some(indexer) = self.indexer.take() {
            let _ = indexer.join();
        }
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.shutdown();
    }
}
