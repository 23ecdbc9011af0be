//! The transfer protocol, truck to cloud, over zenoh queries.
//!
//! Every request is a zenoh `get` from the truck to the ingest's queryable on
//! `pitsense/ingest/<truck_id>/<episode_sha256>/<verb>`; every reply is an [`IngestReply`] in
//! JSON. An episode is identified by its SHA-256, so sending it again is harmless.
//!
//! ```text
//! truck                                              ingest
//!   get .../begin      payload: Manifest (JSON)  ->   Resume { next_chunk } | Stored
//!   get .../chunk/<i>  payload: bytes              ->   Ack { next_chunk }   (stored, or had it)
//!                      attachment: chunk SHA-256      Corrupt { chunk }    (hash or length wrong)
//!                                                     Resume { next_chunk } (not the next chunk)
//!                                                     UnknownEpisode       (no begin: send it)
//!   get .../end                                    ->   Stored { .. }         (whole-file SHA-256 ok)
//!                                                     VerifyFailed { .. }   (restart from 0)
//! ```
//!
//! Chunk `i` covers bytes `[i * chunk_size_bytes, min((i + 1) * chunk_size_bytes, size_bytes))`.

/// Largest chunk the ingest accepts, in bytes (the uploader refuses a larger chunk size).
pub const MAX_CHUNK_SIZE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest episode the ingest accepts, in bytes.
pub const MAX_EPISODE_SIZE_BYTES: u64 = 1 << 40;

use serde::{Deserialize, Serialize};

use crate::queue::Priority;

/// Key-expression prefix of the ingest's queryable.
pub const INGEST_PREFIX: &str = "pitsense/ingest";

/// What the truck says about an episode before sending it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The sending truck.
    pub truck_id: String,
    /// The episode's original file name.
    pub file_name: String,
    /// File size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the whole file, lower-case hex (also the episode's key).
    pub sha256: String,
    /// Chunk size in bytes (the last chunk may be shorter).
    pub chunk_size_bytes: u64,
    /// Upload priority.
    pub priority: Priority,
    /// When the episode was recorded, ns since the Unix epoch (the store's date folder).
    pub recorded_ns: u64,
}

impl Manifest {
    /// Number of chunks.
    pub fn chunk_count(&self) -> u64 {
        if self.chunk_size_bytes == 0 { 0 } else { self.size_bytes.div_ceil(self.chunk_size_bytes) }
    }

    /// Length of chunk `index` in bytes (0 past the end).
    pub fn chunk_len_bytes(&self, index: u64) -> u64 {
        let start = index.saturating_mul(self.chunk_size_bytes);
        self.size_bytes.saturating_sub(start).min(self.chunk_size_bytes)
    }
}

/// The ingest's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum IngestReply {
    /// Send from chunk `next_chunk` on.
    Resume {
        /// The first chunk the ingest does not have.
        next_chunk: u64,
    },
    /// The chunk is stored (or was already); send `next_chunk` next.
    Ack {
        /// The first chunk the ingest does not have.
        next_chunk: u64,
    },
    /// The chunk's bytes do not match its SHA-256 or length: send it again.
    Corrupt {
        /// The rejected chunk.
        chunk: u64,
    },
    /// The ingest knows no such transfer (restarted without state, or never begun): begin again.
    UnknownEpisode,
    /// The episode is in the store and the catalog.
    Stored {
        /// Its path relative to the store.
        store_path: String,
    },
    /// The assembled file's SHA-256 or size does not match the manifest; the partial file was
    /// discarded.
    VerifyFailed {
        /// Why.
        reason: String,
    },
    /// The request was malformed (bad key, bad manifest, ...).
    Rejected {
        /// Why.
        reason: String,
    },
}

/// Whether `text` is usable as one key-expression chunk (truck ids): ASCII letters, digits, `-`,
/// `_`, `.`; 1 to 64 characters.
pub fn is_valid_key_chunk(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Whether `text` is a lower-case hex SHA-256.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The key of a request: `pitsense/ingest/<truck>/<sha256>/<verb>`.
pub fn request_key(truck_id: &str, sha256: &str, verb: &str) -> String {
    format!("{INGEST_PREFIX}/{truck_id}/{sha256}/{verb}")
}

/// A parsed request key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `.../begin`
    Begin {
        /// Truck id.
        truck_id: String,
        /// Episode SHA-256.
        sha256: String,
    },
    /// `.../chunk/<index>`
    Chunk {
        /// Truck id.
        truck_id: String,
        /// Episode SHA-256.
        sha256: String,
        /// Chunk index.
        index: u64,
    },
    /// `.../end`
    End {
        /// Truck id.
        truck_id: String,
        /// Episode SHA-256.
        sha256: String,
    },
}

/// Parses a request key; `None` if it is not one.
pub fn parse_request_key(key: &str) -> Option<Request> {
    let rest = key.strip_prefix(INGEST_PREFIX)?.strip_prefix('/')?;
    let parts: Vec<&str> = rest.split('/').collect();
    let (truck_id, sha256) = (parts.first()?.to_string(), parts.get(1)?.to_string());
    if !is_valid_key_chunk(&truck_id) || !is_sha256_hex(&sha256) {
        return None;
    }
    match parts.get(2..)? {
        ["begin"] => Some(Request::Begin { truck_id, sha256 }),
        ["end"] => Some(Request::End { truck_id, sha256 }),
        ["chunk", index] => Some(Request::Chunk { truck_id, sha256, index: index.parse().ok()? }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keys_round_trip_and_bad_ones_are_refused() {
        let sha = "a".repeat(64);
        let key = request_key("truck-7", &sha, "chunk/12");
        assert_eq!(
            parse_request_key(&key),
            Some(Request::Chunk { truck_id: "truck-7".into(), sha256: sha.clone(), index: 12 })
        );
        assert_eq!(
            parse_request_key(&request_key("t", &sha, "end")),
            Some(Request::End { truck_id: "t".into(), sha256: sha.clone() })
        );
        assert_eq!(parse_request_key(&request_key("t*", &sha, "end")), None);
        assert_eq!(parse_request_key(&request_key("t", "abc", "end")), None);
        assert_eq!(parse_request_key(&request_key("t", &sha, "chunk/x")), None);
        assert_eq!(parse_request_key("other/t/x/end"), None);
    }

    #[test]
    fn chunk_lengths_cover_the_file_exactly() {
        let manifest = Manifest {
            truck_id: "t".into(),
            file_name: "e.mcap".into(),
            size_bytes: 1000,
            sha256: "0".repeat(64),
            chunk_size_bytes: 300,
            priority: Priority::Normal,
            recorded_ns: 0,
        };
        assert_eq!(manifest.chunk_count(), 4);
        let lengths: Vec<u64> = (0..5).map(|i| manifest.chunk_len_bytes(i)).collect();
        assert_eq!(lengths, vec![300, 300, 300, 100, 0]);
    }
}
