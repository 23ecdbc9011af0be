//! The pitsense runtime: wires the stages (`perception`, `fusion`) into a pipeline and runs
//! it over recorded datasets (`pitsense replay`), writing the fused object list
//! (`objects.jsonl`) and a Rerun recording. The `pitsense` binary is a thin CLI over this
//! library.

pub mod config;
pub mod dataset;
pub mod objects_jsonl;
pub mod pipeline;
pub mod replay;
pub mod rrd;
pub mod tracking;
