//! `v2x-codegen`: regenerates the Rust types of `pitsense-v2x` from ASN.1 modules.
//!
//! The generated files are committed so that a normal build needs neither the generator nor the
//! ASN.1 text; this tool makes them reproducible. Usage:
//!
//! ```text
//! cargo run -p pitsense-v2x-codegen -- [--data-root DIR] [--check] [SET...]
//! ```
//!
//! Sets (all by default):
//! - `etsi`: ETSI ITS CDD (TS 102 894-2 v2.4.1), CAM (TS 103 900 v2.3.1, the EN 302 637-2
//!   successor) and CPM (TS 103 324 v2.1.1) from `v2x/etsi_asn1/release2/` →
//!   `v2x/src/etsi/generated.rs`.
//! - `csae53`: the CSAE phase-one modules, release 2019-07-24 (T/CSAE 53) from
//!   `v2x/csae/csae53_release20190724/` → `v2x/src/csae/csae53_2019_generated.rs`.
//!
//! `--check` regenerates into memory and fails when a committed file differs (the test
//! `generated_code_is_reproducible` runs it). Generation is deterministic: modules are read in
//! sorted order, and rasn-compiler orders modules by name.
//!
//! Only modules whose licence allows redistribution are generated into the source tree; the
//! unlicensed CSAE phase-two (T/CSAE 157-2020) and YD/T 3709-2020 texts are not.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pitsense_v2x_codegen::{SETS, generate};

fn main() -> ExitCode {
    let mut data_root = std::env::var_os("PITSENSE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let mut check = false;
    let mut wanted = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--data-root" => match args.next() {
                Some(dir) => data_root = PathBuf::from(dir),
                None => {
                    eprintln!("error: --data-root needs a folder");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("v2x-codegen [--data-root DIR] [--check] [etsi|csae53 ...]");
                return ExitCode::SUCCESS;
            }
            name => wanted.push(name.to_owned()),
        }
    }
    // The workspace root: this crate lives in v2x/codegen.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut failed = false;
    for set in SETS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == set.name) {
            continue;
        }
        let generated = match generate(set, &data_root) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        let Some(relative) = set.output else { continue };
        let output = root.join(relative);
        if check {
            let committed = std::fs::read_to_string(&output).unwrap_or_default();
            if committed == generated {
                println!("{}: {relative} is up to date", set.name);
            } else {
                eprintln!("error: {relative} differs from what the generator makes now");
                failed = true;
            }
        } else if let Err(e) = std::fs::write(&output, generated) {
            eprintln!("error: {}: {e}", output.display());
            failed = true;
        } else {
            println!("{}: wrote {relative}", set.name);
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
