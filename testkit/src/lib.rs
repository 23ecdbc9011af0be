//! Helpers shared by the crates' tests and benches: a dev-dependency only (never in a shipped
//! binary; `runtime/tests/architecture.rs` checks the truck build).
//!
//! The shared data (`../shared/data` beside the repository, or `$PITSENSE_DATA`) is read in
//! place: several of its licences are non-commercial, so nothing of it is copied here.

use std::path::{Path, PathBuf};

pub mod postgres;

/// The data root: `$PITSENSE_DATA` when set and not empty, else `shared/data` beside the
/// repository (`<repository>/../shared/data`, as the README's commands expect).
pub fn data_root() -> PathBuf {
    std::env::var_os("PITSENSE_DATA")
        .filter(|value| !value.is_empty())
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"), PathBuf::from)
}

/// The data root when it holds `relative` (a file or folder); otherwise `None`, after saying on
/// stderr what is missing and how to point at the data, for tests that skip without it.
pub fn data_root_holding(relative: &str) -> Option<PathBuf> {
    let root = data_root();
    if root.join(relative).exists() {
        Some(root)
    } else {
        eprintln!("skipped: no {} under the data root {} (set PITSENSE_DATA)", relative, root.display());
        None
    }
}

/// The Python interpreter holding the PyPI reference packages (`mcap`, `cantools`, ...):
/// `$PITSENSE_PYTHON`, the venv `./x setup` makes. Panics with how to get it when unset: tests
/// compare against these references and must not pass without them.
pub fn reference_python() -> PathBuf {
    let Some(python) = std::env::var_os("PITSENSE_PYTHON").filter(|value| !value.is_empty()) else {
        panic!(
            "PITSENSE_PYTHON is not set: run the tests with `./x test`, which installs the PyPI reference packages"
        );
    };
    PathBuf::from(python)
}
