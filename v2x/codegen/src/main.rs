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

use rasn_compiler::prelude::{Compiler, RasnBackend};

/// One generated file: which modules go in, where the Rust goes, what notice it carries.
struct Set {
    name: &'static str,
    /// ASN.1 files relative to the data root, in the order given to the compiler.
    modules: &'static [&'static str],
    /// Output path relative to the workspace root.
    output: &'static str,
    /// Provenance and licence notice written at the top of the generated file.
    notice: &'static str,
}

const ETSI_NOTICE: &str = "\
// ASN.1 source: ETSI ITS modules TS 102 894-2 v2.4.1 (CDD), TS 103 900 v2.3.1 (CAM),
// TS 103 324 v2.1.1 (CPM), as published on forge.etsi.org/rep/ITS/asn1.
//
// Copyright (c) ETSI. The ASN.1 modules are published by ETSI under the following licence
// (BSD-3-Clause style), whose notice is kept with code derived from them:
//
//   Redistribution and use in source and binary forms, with or without modification, are
//   permitted provided that the following conditions are met:
//   1. Redistributions of source code must retain the above copyright notice, this list of
//      conditions and the following disclaimer.
//   2. Redistributions in binary form must reproduce the above copyright notice, this list of
//      conditions and the following disclaimer in the documentation and/or other materials
//      provided with the distribution.
//   3. Neither the name of the copyright holder nor the names of its contributors may be used to
//      endorse or promote products derived from this software without specific prior written
//      permission.
//
//   THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\" AND ANY EXPRESS
//   OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF
//   MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE
//   COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
//   EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE
//   GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND
//   ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
//   NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED
//   OF THE POSSIBILITY OF SUCH DAMAGE.
";

const CSAE53_NOTICE: &str = "\
// ASN.1 source: CSAE phase-one V2X modules (T/CSAE 53), module release 2019-07-24, as published
// in the Apache-2.0 repository zyjohn0822/asn1-uper-v2x (sources/v2x/Release20190724). The ASN.1
// text is CSAE's; see ../shared/data/SOURCES.md and LICENSE.asn1-uper-v2x.Apache-2.0.txt there.
";

const SETS: &[Set] = &[
    Set {
        name: "etsi",
        modules: &[
            "v2x/etsi_asn1/release2/TS102894-2v241-CDD.asn",
            "v2x/etsi_asn1/release2/TS103900v231-CAM.asn",
            "v2x/etsi_asn1/release2/TS103324v211/CPM-OriginatingStationContainers.asn",
            "v2x/etsi_asn1/release2/TS103324v211/CPM-PDU-Descriptions.asn",
            "v2x/etsi_asn1/release2/TS103324v211/CPM-PerceivedObjectContainer.asn",
            "v2x/etsi_asn1/release2/TS103324v211/CPM-PerceptionRegionContainer.asn",
            "v2x/etsi_asn1/release2/TS103324v211/CPM-SensorInformationContainer.asn",
        ],
        output: "v2x/src/etsi/generated.rs",
        notice: ETSI_NOTICE,
    },
    Set {
        name: "csae53",
        modules: &[
            "v2x/csae/csae53_release20190724/BSM.asn",
            "v2x/csae/csae53_release20190724/DefAcceleration.asn",
            "v2x/csae/csae53_release20190724/DefMotion.asn",
            "v2x/csae/csae53_release20190724/DefPosition.asn",
            "v2x/csae/csae53_release20190724/DefPositionOffset.asn",
            "v2x/csae/csae53_release20190724/DefTime.asn",
            "v2x/csae/csae53_release20190724/Map.asn",
            "v2x/csae/csae53_release20190724/MapLane.asn",
            "v2x/csae/csae53_release20190724/MapLink.asn",
            "v2x/csae/csae53_release20190724/MapNode.asn",
            "v2x/csae/csae53_release20190724/MapPoint.asn",
            "v2x/csae/csae53_release20190724/MapSpeedLimit.asn",
            "v2x/csae/csae53_release20190724/MsgFrame.asn",
            "v2x/csae/csae53_release20190724/RSI.asn",
            "v2x/csae/csae53_release20190724/RSM.asn",
            "v2x/csae/csae53_release20190724/SPATIntersectionState.asn",
            "v2x/csae/csae53_release20190724/SignalPhaseAndTiming.asn",
            "v2x/csae/csae53_release20190724/VehBrake.asn",
            "v2x/csae/csae53_release20190724/VehClass.asn",
            "v2x/csae/csae53_release20190724/VehEmgExt.asn",
            "v2x/csae/csae53_release20190724/VehSafetyExt.asn",
            "v2x/csae/csae53_release20190724/VehSize.asn",
            "v2x/csae/csae53_release20190724/VehStatus.asn",
        ],
        output: "v2x/src/csae/csae53_2019_generated.rs",
        notice: CSAE53_NOTICE,
    },
];

/// Reads an ASN.1 module as text. ETSI's CDD v2.4.1 is ISO-8859-1 (a 0xB4 in a comment), so
/// bytes that are not UTF-8 are read as Latin-1, where every byte is the code point of its value.
fn read_module(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
    })
}

/// Generates one set into a string: notice, banner, then rasn-compiler's formatted output.
fn generate(set: &Set, data_root: &Path) -> Result<String, String> {
    let mut modules = set.modules.iter();
    let first = modules.next().ok_or("empty module set")?;
    let mut compiler =
        Compiler::<RasnBackend, _>::new().add_asn_literal(read_module(&data_root.join(first))?);
    for module in modules {
        compiler = compiler.add_asn_literal(read_module(&data_root.join(module))?);
    }
    let result =
        compiler.compile_to_string().map_err(|e| format!("set {}: rasn-compiler failed: {e}", set.name))?;
    let mut out = String::new();
    out.push_str("// @generated by `cargo run -p pitsense-v2x-codegen` (rasn-compiler 0.16.0).\n");
    out.push_str("// Do not edit: change the generator or the ASN.1 source and regenerate.\n//\n");
    out.push_str(set.notice);
    out.push('\n');
    out.push_str(&plain_docs(&result.generated));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Makes the ASN.1 comments that rasn-compiler turns into `#[doc = "..."]` attributes plain
/// rustdoc text: leading spaces, tabs and `*` margins are removed (an indented line would be a
/// Markdown code block, which rustdoc compiles as a doctest) and code fences become `text`
/// fences.
fn plain_docs(generated: &str) -> String {
    let mut out = String::with_capacity(generated.len());
    let mut in_fence = false;
    for line in generated.lines() {
        let trimmed = line.trim_start();
        match trimmed.strip_prefix("#[doc = \"") {
            Some(rest) => {
                let indent = &line[..line.len() - trimmed.len()];
                let mut text = rest;
                loop {
                    // Javadoc-style `*` margins go too: what follows them is often indented.
                    let next = text.trim_start_matches([' ', '*']);
                    match next.strip_prefix("\\t") {
                        Some(after_tab) => text = after_tab,
                        None => {
                            text = next;
                            break;
                        }
                    }
                }
                let mut text = text.to_owned();
                if text.contains("```") {
                    in_fence = !in_fence;
                    if in_fence {
                        text = text.replacen("```", "```text", 1);
                    }
                }
                out.push_str(indent);
                out.push_str("#[doc = \"");
                out.push_str(&text);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

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
        let output = root.join(set.output);
        if check {
            let committed = std::fs::read_to_string(&output).unwrap_or_default();
            if committed == generated {
                println!("{}: {} is up to date", set.name, set.output);
            } else {
                eprintln!("error: {} differs from what the generator makes now", set.output);
                failed = true;
            }
        } else if let Err(e) = std::fs::write(&output, generated) {
            eprintln!("error: {}: {e}", output.display());
            failed = true;
        } else {
            println!("{}: wrote {}", set.name, set.output);
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
