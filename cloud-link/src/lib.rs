//! Cloud link: episodes from the truck to the cloud trainer (not filled yet).
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
