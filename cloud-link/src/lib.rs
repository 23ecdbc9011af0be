//! Cloud link: episodes from the truck to the cloud trainer.
//!
//! Role: record what the truck saw as episodes (MCAP files: point clouds, compressed images,
//! detections, tracks, raw and decoded V2X messages, CAN frames, ego state, with a metadata
//! record), triggered manually, periodically or by rules on the pipeline's output with a pre-roll
//! ring buffer; keep them in a store-and-forward queue on disk with a byte quota; upload them over
//! zenoh, chunked, resumable and verified by SHA-256, without ever blocking perception; and, on
//! the cloud side (`pitsense-ingest`), receive, verify and catalogue them.
//!
//! Inputs: `pitsense-types` messages from the runtime; a zenoh session. Outputs: MCAP files on
//! the truck, verified episodes and a catalog in the cloud store.
//!
//! Modules: [`episode`] (the MCAP writer) and [`schemas`] (channel schemas); [`mod@recover`] (crash
//! recovery); [`trigger`] (trigger rules, pre-roll ring buffer, episode window, `[recorder]`
//! config) and [`recorder`] (the recorder thread); [`episode_reader`] (episodes read back, in
//! log time order, for replay); [`episode_index`] (what the fleet catalog knows of an episode); [`queue`] (store-and-forward queue with quota
//! and eviction); [`truck_to_cloud`] (the transfer protocol), [`transport`] (zenoh
//! configuration, TLS, access control), [`uploader`] and [`upload_command`] (truck side);
//! [`ingest`] (cloud side: store) and [`catalog`] (its SQLite catalog, indexed and queried),
//! [`export`] (training sets in the KITTI or YOLO layout from a query); [`sha256`] and [`error`].

#[cfg(feature = "ingest")]
pub mod catalog;
pub mod episode;
pub mod episode_index;
pub mod episode_reader;
pub mod error;
#[cfg(feature = "ingest")]
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "ingest")]
pub mod ingest;
pub mod queue;
pub mod recorder;
pub mod recover;
pub mod schemas;
pub mod sha256;
pub mod transport;
pub mod trigger;
pub mod truck_to_cloud;
pub mod upload_command;
pub mod uploader;

pub use episode::{
    CanFrame, CompressedImage, EpisodeMessage, EpisodeMetadata, EpisodeSummary, EpisodeWriter,
    EpisodeWriterOptions, RecordedEgo, V2xDecoded, V2xRaw,
};
pub use episode_reader::{EpisodeReadError, EpisodeReader, MessageView, RawMessage, ReadMessage};
pub use error::CloudLinkError;
pub use recover::{MAX_CHUNK_UNCOMPRESSED_BYTES, RecoverReport, SkippedChunk, recover, recover_bytes};
