//! The crate's error type: every variant names the input (file, key expression, episode) and the
//! reason.

use std::path::PathBuf;

/// Errors of the cloud link: episode files, the upload queue, the zenoh transfer and the ingest.
#[derive(Debug, thiserror::Error)]
pub enum CloudLinkError {
    /// A file or folder could not be read, written or created.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done ("create", "read", "write", ...).
        action: &'static str,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The MCAP library refused to write or read a record.
    #[error("{path}: MCAP {action}: {source}")]
    Mcap {
        /// The episode file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The MCAP library's reason.
        #[source]
        source: mcap::McapError,
    },
    /// A file is not an MCAP file, or holds nothing that can be recovered.
    #[error("{path}: not a recoverable MCAP file: {reason}")]
    NotMcap {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A message could not be encoded for its channel.
    #[error("topic {topic}: cannot encode message: {reason}")]
    Encode {
        /// The MCAP topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// A queue entry or ingest state file is malformed.
    #[error("{path}: malformed {what}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it should have held ("queue entry", "partial manifest", ...).
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// An episode does not fit in the queue's byte quota even after eviction.
    #[error("{path}: episode of {size_bytes} bytes does not fit in the queue quota of {quota_bytes} bytes")]
    OverQuota {
        /// The episode file.
        path: PathBuf,
        /// Its size in bytes.
        size_bytes: u64,
        /// The quota in bytes.
        quota_bytes: u64,
    },
    /// A configuration value is invalid.
    #[error("config {key}: {reason}")]
    Config {
        /// The dotted key.
        key: String,
        /// Why.
        reason: String,
    },
    /// The zenoh session or a declaration failed.
    #[error("zenoh {action} on {endpoint}: {reason}")]
    Zenoh {
        /// What was being done ("open session", "declare queryable", ...).
        action: &'static str,
        /// The endpoint or key expression involved.
        endpoint: String,
        /// zenoh's reason.
        reason: String,
    },
    /// The catalog (SQLite or PostgreSQL) failed.
    #[error("catalog {location}: {reason}")]
    Catalog {
        /// The catalog file, or the PostgreSQL URL without its password.
        location: String,
        /// The database's reason.
        reason: String,
    },
}

impl CloudLinkError {
    /// An [`CloudLinkError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), action, source }
    }

    /// A [`CloudLinkError::Mcap`] for `path`.
    pub(crate) fn mcap(path: impl Into<PathBuf>, action: &'static str, source: mcap::McapError) -> Self {
        Self::Mcap { path: path.into(), action, source }
    }
}
