//! The runtime's small dataflow layer, shared by `pitsense run` (live sensors) and replay.
//!
//! - **Sources** produce stamped messages (UDP sockets, a camera, CAN, GNSS; files in replay)
//!   on their own threads.
//! - **Tasks** are the stages' plain structs (detector, lidar pipeline, fusion, tracker): no
//!   I/O, no clock reads; each runs on its own thread behind a bounded [`channel`] edge.
//! - **Sinks** publish (zenoh, CAN, episodes, `objects.jsonl`).
//!
//! Time comes from an injected [`pitsense_types::Clock`]: [`clock::SystemClock`] on the truck,
//! the recording's clock in replay. Every edge is bounded with a stated drop policy and
//! counters; [`health`] judges every input from its stamps and arrivals; [`watchdog`] reports
//! stages that overrun their budget.

/// The project's one bounded channel type ([`pitsense_types::channel`]): the graph's edges.
pub use pitsense_types::channel;
pub mod clock;
pub mod health;
pub mod watchdog;
