//! The pitsense runtime: wires the stages (`perception`, `fusion`, `v2x`) into a pipeline and runs
//! it over recorded datasets (`pitsense replay`), writing the fused object list
//! (`objects.jsonl`) and a Rerun recording. The `pitsense` binary is a thin CLI over this
//! library.

pub mod can;
pub mod cloud;
pub mod config;
pub mod dataset;
pub mod episodes;
#[doc(hidden)]
pub mod fuzzing;
pub mod gnss;
pub mod graph;
pub mod objects_jsonl;
pub mod onboard;
pub mod outputs;
pub mod pipeline;
pub mod replay;
#[cfg(feature = "rerun")]
pub mod rrd;
pub mod v2x_fusion;

/// Renders an error and its causes as one line, `outer: cause: root`, leaving out a cause whose
/// text the line already holds (library errors often print their source in their own message,
/// which anyhow's `{:#}` would then repeat).
pub fn error_chain_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_causes_are_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::new(io).context("model `m.onnx`: No such file").context("detector");
        assert_eq!(super::error_chain_text(&error), "detector: model `m.onnx`: No such file");
    }
}
