//! The store-and-forward queue on the truck's disk: episodes wait here until the ingest has
//! acknowledged them.
//!
//! Layout: `<dir>/<seq>.mcap` (the episode, `seq` a 16-digit counter) and `<dir>/<seq>.json` (its
//! [`QueueEntry`], written after the file and renamed into place, so an entry without its JSON is
//! an interrupted enqueue and is removed on open).
//!
//! Quota and eviction ([`plan_eviction`]): the episodes' bytes stay under `quota_bytes`. To make
//! room, the oldest episode of the lowest priority goes first, and an incoming episode only
//! pushes out episodes of its priority or lower; a `Low`/`Normal` episode that cannot fit is
//! refused. A `High` episode is dropped only to make room for a newer `High` one, and never
//! silently: a `warn` log line names it and [`QueueCounters::high_priority_dropped`] counts it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CloudLinkError;

/// Upload priority; higher goes first and is evicted last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Periodic samples.
    Low,
    /// Rule triggers.
    #[default]
    Normal,
    /// Manual requests and safety events (hard braking).
    High,
}

impl std::str::FromStr for Priority {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "low" => Ok(Self::Low),
            "normal" => Ok(Self::Normal),
            "high" => Ok(Self::High),
            other => Err(format!("unknown priority '{other}' (low, normal, high)")),
        }
    }
}

/// One queued episode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueEntry {
    /// Position in arrival order (unique in the queue).
    pub seq: u64,
    /// The episode's original file name (kept by the ingest).
    pub file_name: String,
    /// Upload priority.
    pub priority: Priority,
    /// File size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the whole file, lower-case hex.
    pub sha256: String,
    /// When the episode was recorded (file modification time), ns since the Unix epoch.
    pub recorded_ns: u64,
}

/// A queued episode's file path.
pub fn episode_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016}.mcap"))
}

fn entry_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016}.json"))
}

/// What [`plan_eviction`] decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvictionPlan {
    /// Queued episodes to drop, in order (their `seq`).
    pub evict_seqs: Vec<u64>,
    /// Whether the incoming episode is refused (it does not fit even after evicting everything
    /// its priority allows).
    pub refuse_incoming: bool,
}

/// Decides which queued episodes to evict so that `incoming_size_bytes` fits under
/// `quota_bytes`. `queued` is `(seq, priority, size_bytes)` of every queued episode. Pure.
///
/// Policy: candidates are the episodes of priority ≤ `incoming_priority`, lowest priority first
/// and, within one priority, oldest (smallest `seq`) first. If all candidates together do not
/// make room, nothing is evicted and the incoming episode is refused.
pub fn plan_eviction(
    queued: &[(u64, Priority, u64)],
    incoming_priority: Priority,
    incoming_size_bytes: u64,
    quota_bytes: u64,
) -> EvictionPlan {
    let used_bytes: u64 = queued.iter().map(|(_, _, size)| size).sum();
    let mut over_bytes = (used_bytes + incoming_size_bytes).saturating_sub(quota_bytes);
    if over_bytes == 0 {
        return EvictionPlan::default();
    }
    let mut candidates: Vec<&(u64, Priority, u64)> =
        queued.iter().filter(|(_, priority, _)| *priority <= incoming_priority).collect();
    candidates.sort_by_key(|(seq, priority, _)| (*priority, *seq));
    let mut evict_seqs = Vec::new();
    for (seq, _, size) in candidates {
        if over_bytes == 0 {
            break;
        }
        evict_seqs.push(*seq);
        over_bytes = over_bytes.saturating_sub(*size);
    }
    if over_bytes > 0 {
        return EvictionPlan { evict_seqs: Vec::new(), refuse_incoming: true };
    }
    EvictionPlan { evict_seqs, refuse_incoming: false }
}

/// Counters of what the queue dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounters {
    /// Episodes evicted to make room (any priority).
    pub evicted: u64,
    /// Bytes evicted.
    pub evicted_bytes: u64,
    /// Unacknowledged `High` episodes dropped (each also logged at `warn`).
    pub high_priority_dropped: u64,
    /// Incoming episodes refused because they did not fit.
    pub refused: u64,
}

/// What an enqueue did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// The episode is queued; `evicted` were dropped to make room.
    Queued {
        /// The new entry.
        entry: QueueEntry,
        /// Episodes evicted for it.
        evicted: Vec<QueueEntry>,
    },
    /// The episode did not fit under the quota; nothing was changed.
    Refused {
        /// The episode's size in bytes.
        size_bytes: u64,
    },
}

/// The queue: a folder of episodes and their entries, with a byte quota.
#[derive(Debug)]
pub struct EpisodeQueue {
    dir: PathBuf,
    quota_bytes: u64,
    entries: BTreeMap<u64, QueueEntry>,
    next_seq: u64,
    counters: QueueCounters,
}

impl EpisodeQueue {
    /// Opens (creating if needed) the queue in `dir`, reading the entries there and removing the
    /// leftovers of interrupted enqueues.
    ///
    /// Errors: the folder cannot be created or read; an entry is malformed.
    pub fn open(dir: &Path, quota_bytes: u64) -> Result<Self, CloudLinkError> {
        std::fs::create_dir_all(dir).map_err(|e| CloudLinkError::io(dir, "create folder", e))?;
        let mut entries = BTreeMap::new();
        let mut files = Vec::new();
        for item in std::fs::read_dir(dir).map_err(|e| CloudLinkError::io(dir, "list", e))? {
            let item = item.map_err(|e| CloudLinkError::io(dir, "list", e))?;
            files.push(item.path());
        }
        files.sort();
        for path in &files {
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(path).map_err(|e| CloudLinkError::io(path, "read", e))?;
            let entry: QueueEntry = serde_json::from_str(&text).map_err(|e| CloudLinkError::Malformed {
                path: path.clone(),
                what: "queue entry",
                reason: e.to_string(),
            })?;
            if episode_path(dir, entry.seq).is_file() {
                entries.insert(entry.seq, entry);
            } else {
                tracing::warn!(entry = %path.display(), "queue entry without its episode file: removed");
                let _ = std::fs::remove_file(path);
            }
        }
        for path in &files {
            let stem_seq = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u64>().ok());
            let is_episode = path.extension().and_then(|e| e.to_str()) == Some("mcap");
            let is_partial = path.extension().and_then(|e| e.to_str()) == Some("partial");
            if is_partial || (is_episode && stem_seq.is_some_and(|seq| !entries.contains_key(&seq))) {
                tracing::warn!(file = %path.display(), "interrupted enqueue: removed");
                let _ = std::fs::remove_file(path);
            }
        }
        let next_seq = entries.keys().next_back().map_or(0, |seq| seq + 1);
        Ok(Self { dir: dir.to_owned(), quota_bytes, entries, next_seq, counters: QueueCounters::default() })
    }

    /// The queue folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes queued.
    pub fn used_bytes(&self) -> u64 {
        self.entries.values().map(|e| e.size_bytes).sum()
    }

    /// The quota in bytes.
    pub fn quota_bytes(&self) -> u64 {
        self.quota_bytes
    }

    /// Episodes queued, in `seq` order.
    pub fn entries(&self) -> impl Iterator<Item = &QueueEntry> {
        self.entries.values()
    }

    /// What the queue dropped so far (since it was opened).
    pub fn counters(&self) -> QueueCounters {
        self.counters
    }

    /// The next episode to upload: highest priority first, then oldest.
    pub fn next(&self) -> Option<&QueueEntry> {
        self.entries.values().min_by_key(|e| (std::cmp::Reverse(e.priority), e.seq))
    }

    /// Copies `source` into the queue (evicting per the policy if needed). The caller's file is
    /// left as it is.
    ///
    /// Errors: the file cannot be read or copied; it is larger than the whole quota.
    pub fn enqueue_copy(
        &mut self,
        source: &Path,
        priority: Priority,
    ) -> Result<EnqueueOutcome, CloudLinkError> {
        self.enqueue(source, priority, false)
    }

    /// Moves `source` into the queue (a rename; the recorder's finished episodes).
    ///
    /// Errors: as [`EpisodeQueue::enqueue_copy`].
    pub fn enqueue_move(
        &mut self,
        source: &Path,
        priority: Priority,
    ) -> Result<EnqueueOutcome, CloudLinkError> {
        self.enqueue(source, priority, true)
    }

    fn enqueue(
        &mut self,
        source: &Path,
        priority: Priority,
        by_move: bool,
    ) -> Result<EnqueueOutcome, CloudLinkError> {
        let meta = std::fs::metadata(source).map_err(|e| CloudLinkError::io(source, "stat", e))?;
        let size_bytes = meta.len();
        if size_bytes > self.quota_bytes {
            return Err(CloudLinkError::OverQuota {
                path: source.to_owned(),
                size_bytes,
                quota_bytes: self.quota_bytes,
            });
        }
        let queued: Vec<(u64, Priority, u64)> =
            self.entries.values().map(|e| (e.seq, e.priority, e.size_bytes)).collect();
        let plan = plan_eviction(&queued, priority, size_bytes, self.quota_bytes);
        if plan.refuse_incoming {
            self.counters.refused += 1;
            tracing::warn!(file = %source.display(), size_bytes, ?priority, "queue full: episode refused");
            return Ok(EnqueueOutcome::Refused { size_bytes });
        }
        let mut evicted = Vec::new();
        for seq in plan.evict_seqs {
            if let Some(entry) = self.remove(seq)? {
                self.counters.evicted += 1;
                self.counters.evicted_bytes += entry.size_bytes;
                if entry.priority == Priority::High {
                    self.counters.high_priority_dropped += 1;
                    tracing::warn!(
                        file = %entry.file_name, sha256 = %entry.sha256, size_bytes = entry.size_bytes,
                        "queue full: unacknowledged HIGH-priority episode dropped"
                    );
                } else {
                    tracing::info!(file = %entry.file_name, size_bytes = entry.size_bytes, ?entry.priority,
                        "queue full: episode evicted");
                }
                evicted.push(entry);
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let target = episode_path(&self.dir, seq);
        let partial = self.dir.join(format!("{seq:016}.partial"));
        let moved = by_move && std::fs::rename(source, &target).is_ok();
        if !moved {
            std::fs::copy(source, &partial).map_err(|e| CloudLinkError::io(source, "copy into queue", e))?;
            std::fs::rename(&partial, &target).map_err(|e| CloudLinkError::io(&target, "rename", e))?;
            if by_move {
                let _ = std::fs::remove_file(source);
            }
        }
        let sha256 = crate::sha256::of_file(&target)?;
        let recorded_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let file_name =
            source.file_name().map_or_else(|| format!("{seq}.mcap"), |n| n.to_string_lossy().into_owned());
        let entry = QueueEntry { seq, file_name, priority, size_bytes, sha256, recorded_ns };
        let json_path = entry_path(&self.dir, seq);
        let tmp_path = self.dir.join(format!("{seq:016}.json.tmp"));
        let text = serde_json::to_string_pretty(&entry).map_err(|e| CloudLinkError::Malformed {
            path: json_path.clone(),
            what: "queue entry",
            reason: e.to_string(),
        })?;
        std::fs::write(&tmp_path, text).map_err(|e| CloudLinkError::io(&tmp_path, "write", e))?;
        std::fs::rename(&tmp_path, &json_path).map_err(|e| CloudLinkError::io(&json_path, "rename", e))?;
        self.entries.insert(seq, entry.clone());
        Ok(EnqueueOutcome::Queued { entry, evicted })
    }

    /// Removes an episode (acknowledged by the ingest, or evicted); returns its entry if it was
    /// queued.
    ///
    /// Errors: its files cannot be removed.
    pub fn remove(&mut self, seq: u64) -> Result<Option<QueueEntry>, CloudLinkError> {
        let Some(entry) = self.entries.remove(&seq) else { return Ok(None) };
        let json_path = entry_path(&self.dir, seq);
        std::fs::remove_file(&json_path).map_err(|e| CloudLinkError::io(&json_path, "remove", e))?;
        let episode = episode_path(&self.dir, seq);
        std::fs::remove_file(&episode).map_err(|e| CloudLinkError::io(&episode, "remove", e))?;
        Ok(Some(entry))
    }

    /// Moves episode `seq` (file and entry) into `<queue>/failed/` and forgets it; returns where
    /// the episode file went, `None` if it was not queued.
    ///
    /// Errors: the folder cannot be created or the files cannot be moved.
    pub fn set_aside(&mut self, seq: u64) -> Result<Option<PathBuf>, CloudLinkError> {
        let Some(entry) = self.entries.remove(&seq) else { return Ok(None) };
        let failed_dir = self.dir.join("failed");
        std::fs::create_dir_all(&failed_dir)
            .map_err(|e| CloudLinkError::io(&failed_dir, "create folder", e))?;
        let target = failed_dir.join(format!("{seq:016}-{}", entry.file_name));
        let episode = episode_path(&self.dir, seq);
        std::fs::rename(&episode, &target).map_err(|e| CloudLinkError::io(&episode, "move aside", e))?;
        let json_path = entry_path(&self.dir, seq);
        let json_target = failed_dir.join(format!("{seq:016}.json"));
        std::fs::rename(&json_path, &json_target)
            .map_err(|e| CloudLinkError::io(&json_path, "move aside", e))?;
        Ok(Some(target))
    }

    /// Whether episode `seq` is still queued.
    pub fn contains(&self, seq: u64) -> bool {
        self.entries.contains_key(&seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Priority::{High, Low, Normal};

    #[test]
    fn nothing_is_evicted_under_the_quota() {
        let plan = plan_eviction(&[(0, Low, 40), (1, High, 40)], Low, 20, 100);
        assert_eq!(plan, EvictionPlan::default());
    }

    #[test]
    fn oldest_low_priority_goes_first() {
        let queued = [(0, Normal, 30), (1, Low, 30), (2, High, 10), (3, Low, 30)];
        // 100 used + 25 incoming, quota 100: 25 over; the oldest Low (seq 1) covers it.
        assert_eq!(plan_eviction(&queued, Normal, 25, 100).evict_seqs, vec![1]);
        // 45 over: both Low (1, 3) before the Normal one.
        assert_eq!(plan_eviction(&queued, Normal, 45, 100).evict_seqs, vec![1, 3]);
        // 75 over: Lows, then the Normal one.
        assert_eq!(plan_eviction(&queued, Normal, 75, 100).evict_seqs, vec![1, 3, 0]);
    }

    #[test]
    fn a_low_episode_never_pushes_out_a_higher_one() {
        let plan = plan_eviction(&[(0, Normal, 60), (1, High, 30)], Low, 20, 100);
        assert_eq!(plan, EvictionPlan { evict_seqs: vec![], refuse_incoming: true });
    }

    #[test]
    fn high_episodes_go_only_for_a_newer_high_one_oldest_first() {
        let queued = [(0, High, 50), (1, High, 50)];
        assert!(plan_eviction(&queued, Normal, 10, 100).refuse_incoming);
        assert_eq!(plan_eviction(&queued, High, 10, 100).evict_seqs, vec![0]);
    }
}
