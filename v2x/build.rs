//! Build script: a no-op unless the `csae-2020` feature is on. Then it generates the Rust types of
//! the CSAE phase-two (T/CSAE 157-2020) modules, with the 2020 phase-one messages, into
//! `OUT_DIR/csae157_2020_generated.rs` with the same generator as the committed sets
//! (`pitsense-v2x-codegen`, rasn-compiler 0.16).
//!
//! Those modules have no licence, so the generated code is never written into the source tree.
//! They are read from `$PITSENSE_DATA/v2x/csae/nolicence_csae157_dayII/` (default
//! `<workspace>/../shared/data`; a relative `PITSENSE_DATA` is taken from the workspace root).
//! The script reruns only when this file, `PITSENSE_DATA` or one of the modules changes.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "csae-2020")]
    csae_2020::generate();
}

#[cfg(feature = "csae-2020")]
mod csae_2020 {
    use std::path::{Path, PathBuf};

    pub fn generate() {
        println!("cargo:rerun-if-env-changed=PITSENSE_DATA");
        let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
        let workspace = manifest_dir.join("..");
        let data_root = match std::env::var_os("PITSENSE_DATA") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => workspace.join(dir),
            None => workspace.join("../shared/data"),
        };
        let set = &pitsense_v2x_codegen::CSAE157_2020;
        let mut missing = Vec::new();
        for module in set.modules {
            let path = data_root.join(module);
            println!("cargo:rerun-if-changed={}", path.display());
            if !path.is_file() {
                missing.push(path.display().to_string());
            }
        }
        if !missing.is_empty() {
            fail(&format!(
                "feature `csae-2020` needs the CSAE T/CSAE 157-2020 ASN.1 modules, which are not in the \
                 repository (no licence). Missing under the data root {} (set PITSENSE_DATA to the \
                 shared data folder, or build without the feature): {}",
                data_root.display(),
                missing.join(", ")
            ));
        }
        let generated = match pitsense_v2x_codegen::generate(set, &data_root) {
            Ok(text) => text,
            Err(error) => {
                fail(&format!("feature `csae-2020`: generating the CSAE 2020 types failed: {error}"))
            }
        };
        let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
        let output = out_dir.join("csae157_2020_generated.rs");
        // Write only when changed, so that dependants are not rebuilt for nothing.
        if std::fs::read_to_string(&output).ok().as_deref() != Some(generated.as_str())
            && let Err(error) = std::fs::write(&output, generated)
        {
            fail(&format!("cannot write {}: {error}", output.display()));
        }
    }

    fn fail(message: &str) -> ! {
        for line in message.lines() {
            println!("cargo::error={line}");
        }
        std::process::exit(1);
    }
}
