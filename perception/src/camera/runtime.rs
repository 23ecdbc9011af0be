use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why ONNX Runtime could not be started.
#[derive(Debug, thiserror::Error)]
pub enum OnnxRuntimeError {
    /// The shared library is missing, not ONNX Runtime, or too old for the `ort` bindings.
    #[error("ONNX Runtime library `{}`: {reason}", path.display())]
    Library {
        /// Path tried.
        path: PathBuf,
        /// Loader message.
        reason: String,
    },
    /// The environment could not be created.
    #[error("ONNX Runtime environment: {0}")]
    Environment(String),
}

/// The process-wide ONNX Runtime environment, created once.
static ENVIRONMENT: Mutex<Option<ort::environment::Environment>> = Mutex::new(None);

/// Loads ONNX Runtime from `library_path` (a `libonnxruntime.so`, e.g. from the `onnxruntime`
/// PyPI wheel; `ort`'s `load-dynamic` mode) and returns the process-wide environment.
///
/// The library is loaded once per process; later calls return the same environment whatever
/// path they pass. The library must be ONNX Runtime 1.31 or newer (`ort` feature `api-31`).
///
/// # Errors
/// [`OnnxRuntimeError::Library`] when the file cannot be loaded or is too old;
/// [`OnnxRuntimeError::Environment`] when ONNX Runtime refuses to start.
pub fn onnx_runtime_environment(
    library_path: &Path,
) -> Result<ort::environment::Environment, OnnxRuntimeError> {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(environment) = slot.as_ref() {
        return Ok(environment.clone());
    }
    if !library_path.is_file() {
        return Err(OnnxRuntimeError::Library {
            path: library_path.to_owned(),
            reason: "no such file (run `./x setup`, or set ORT_DYLIB_PATH to libonnxruntime.so)".into(),
        });
    }
    let builder = ort::init_from(library_path).map_err(|error| OnnxRuntimeError::Library {
        path: library_path.to_owned(),
        reason: error.to_string(),
    })?;
    let environment = builder
        .with_name("pitsense")
        .with_telemetry(false)
        .build()
        .map_err(|error| OnnxRuntimeError::Environment(error.to_string()))?;
    *slot = Some(environment.clone());
    Ok(environment)
}
