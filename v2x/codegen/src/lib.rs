//! The generation logic of `v2x-codegen`, shared with `pitsense-v2x`'s build script.
//!
//! A [`Set`] is a list of ASN.1 modules and the notice its generated Rust carries; [`generate`]
//! runs rasn-compiler 0.16 on it deterministically (modules in the listed order, read as UTF-8 or
//! Latin-1). [`SETS`] are generated into the source tree and committed; [`CSAE157_2020`] has no
//! licence and is generated only at build time into `OUT_DIR` (feature `csae-2020`).

use std::path::Path;

use rasn_compiler::prelude::{Compiler, RasnBackend};

/// One generated file: which modules go in, where the Rust goes, what notice it carries.
pub struct Set {
    /// Name on the command line (`etsi`, `csae53`, `csae157`).
    pub name: &'static str,
    /// ASN.1 files relative to the data root, in the order given to the compiler.
    pub modules: &'static [&'static str],
    /// Output path relative to the workspace root, for the sets committed to the repository;
    /// `None` for a set generated only at build time (into `OUT_DIR`, never committed).
    pub output: Option<&'static str>,
    /// Provenance and licence notice written at the top of the generated file.
    pub notice: &'static str,
    /// Whether the modules go through [`normalise_module`] first (comments removed, trailing
    /// extension end markers dropped), for text rasn-compiler 0.16 cannot parse as written.
    pub normalise: bool,
}

/// Notice of the ETSI set.
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

/// Notice of the CSAE phase-one 2019 set.
const CSAE53_NOTICE: &str = "\
// ASN.1 source: CSAE phase-one V2X modules (T/CSAE 53), module release 2019-07-24, as published
// in the Apache-2.0 repository zyjohn0822/asn1-uper-v2x (sources/v2x/Release20190724). The ASN.1
// text is CSAE's; see ../shared/data/SOURCES.md and LICENSE.asn1-uper-v2x.Apache-2.0.txt there.
";

/// The sets whose generated files are committed (their ASN.1 licence allows it).
pub const SETS: &[Set] = &[
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
        output: Some("v2x/src/etsi/generated.rs"),
        notice: ETSI_NOTICE,
        normalise: false,
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
        output: Some("v2x/src/csae/csae53_2019_generated.rs"),
        notice: CSAE53_NOTICE,
        normalise: false,
    },
];

/// Reads an ASN.1 module as text. ETSI's CDD v2.4.1 is ISO-8859-1 (a 0xB4 in a comment), so
/// bytes that are not UTF-8 are read as Latin-1, where every byte is the code point of its value.
pub fn read_module(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e.into_bytes().iter().map(|&b| char::from(b)).collect(),
    })
}

/// Generates one set into a string: notice, banner, then rasn-compiler's formatted output.
///
/// # Errors
/// The module path and the reason when a module cannot be read, or rasn-compiler's message.
pub fn generate(set: &Set, data_root: &Path) -> Result<String, String> {
    let read = |module: &str| -> Result<String, String> {
        let text = read_module(&data_root.join(module))?;
        Ok(if set.normalise { normalise_module(&text) } else { text })
    };
    let mut modules = set.modules.iter();
    let first = modules.next().ok_or("empty module set")?;
    let mut compiler = Compiler::<RasnBackend, _>::new().add_asn_literal(read(first)?);
    for module in modules {
        compiler = compiler.add_asn_literal(read(module)?);
    }
    let result =
        compiler.compile_to_string().map_err(|e| format!("set {}: rasn-compiler failed: {e}", set.name))?;
    let mut out = String::new();
    match set.output {
        Some(_) => {
            out.push_str("// @generated by `cargo run -p pitsense-v2x-codegen` (rasn-compiler 0.16.0).\n")
        }
        None => out.push_str("// @generated by pitsense-v2x's build script (rasn-compiler 0.16.0).\n"),
    }
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
pub fn plain_docs(generated: &str) -> String {
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

/// Notice of the CSAE phase-two set (never committed).
const CSAE157_NOTICE: &str = "\
// ASN.1 source: CSAE phase-two (T/CSAE 157-2020, \"Day II\") modules with the 2020 phase-one
// messages, from ../shared/data/v2x/csae/nolicence_csae157_dayII (see SOURCES.md there). Those
// modules carry NO licence: this file is generated into OUT_DIR for internal tests only and must
// not be committed, published or shipped.
";

/// The CSAE phase-two (T/CSAE 157-2020) modules with the 2020 phase-one messages. Their text has
/// no licence, so this set is generated only by `pitsense-v2x`'s build script (feature
/// `csae-2020`) into `OUT_DIR`; it never enters the source tree.
pub const CSAE157_2020: Set = Set {
    name: "csae157",
    modules: &[
        "v2x/csae/nolicence_csae157_dayII/BSM.asn",
        "v2x/csae/nolicence_csae157_dayII/DefAcceleration.asn",
        "v2x/csae/nolicence_csae157_dayII/DefMotion.asn",
        "v2x/csae/nolicence_csae157_dayII/DefPosition.asn",
        "v2x/csae/nolicence_csae157_dayII/DefPositionOffset.asn",
        "v2x/csae/nolicence_csae157_dayII/DefTime.asn",
        "v2x/csae/nolicence_csae157_dayII/Map.asn",
        "v2x/csae/nolicence_csae157_dayII/MsgDayII.asn",
        "v2x/csae/nolicence_csae157_dayII/MsgFrame.asn",
        "v2x/csae/nolicence_csae157_dayII/PAM.asn",
        "v2x/csae/nolicence_csae157_dayII/PSM.asn",
        "v2x/csae/nolicence_csae157_dayII/Platooning.asn",
        "v2x/csae/nolicence_csae157_dayII/RSC.asn",
        "v2x/csae/nolicence_csae157_dayII/RSI.asn",
        "v2x/csae/nolicence_csae157_dayII/RSM.asn",
        "v2x/csae/nolicence_csae157_dayII/RTCM.asn",
        "v2x/csae/nolicence_csae157_dayII/SensorSharing.asn",
        "v2x/csae/nolicence_csae157_dayII/SignalPhaseAndTiming.asn",
        "v2x/csae/nolicence_csae157_dayII/TestMsg.asn",
        "v2x/csae/nolicence_csae157_dayII/VIR.asn",
        "v2x/csae/nolicence_csae157_dayII/VPM.asn",
        "v2x/csae/nolicence_csae157_dayII/VehBrake.asn",
        "v2x/csae/nolicence_csae157_dayII/VehClass.asn",
        "v2x/csae/nolicence_csae157_dayII/VehEmgExt.asn",
        "v2x/csae/nolicence_csae157_dayII/VehSafetyExt.asn",
        "v2x/csae/nolicence_csae157_dayII/VehSize.asn",
        "v2x/csae/nolicence_csae157_dayII/VehStatus.asn",
    ],
    output: None,
    notice: CSAE157_NOTICE,
    normalise: true,
};

/// Rewrites an ASN.1 module into an equivalent text rasn-compiler 0.16 parses:
///
/// - comments (`-- ...` to the end of the line or the next `--`, and `/* ... */`) become spaces
///   (newlines kept), so no comment text reaches the generated code;
/// - in a `{ ... }` that already holds an extension marker, a final `, ...` before the closing
///   brace is dropped: X.680 §25.1 `OptionalExtensionMarker` (`{ root, ..., additions, ... }`
///   means the same as `{ root, ..., additions }`), which rasn-compiler 0.16 refuses.
/// - a symbol imported twice from the same module (the DayII `SignalPhaseAndTiming` imports
///   `MinuteOfTheYear` twice from `DefTime`) is imported once.
pub fn normalise_module(text: &str) -> String {
    dedupe_imports(&drop_extension_end_markers(&strip_comments(text)))
}

/// Rewrites the `IMPORTS ... ;` clause without repeated (symbol, module) pairs (comment-free
/// text; symbols and module names without parameters or OIDs, as in the CSAE modules).
fn dedupe_imports(text: &str) -> String {
    let Some(start) = text.find("IMPORTS") else { return text.to_owned() };
    let body_start = start + "IMPORTS".len();
    let Some(length) = text[body_start..].find(';') else { return text.to_owned() };
    let body = &text[body_start..body_start + length];
    let mut seen = std::collections::BTreeSet::new();
    let mut groups = Vec::new();
    let mut symbols = Vec::new();
    let mut tokens = body.split(|c: char| c.is_whitespace() || c == ',').filter(|token| !token.is_empty());
    while let Some(token) = tokens.next() {
        if token == "FROM" {
            let Some(module) = tokens.next() else { return text.to_owned() };
            let kept: Vec<&str> = symbols.drain(..).filter(|symbol| seen.insert((*symbol, module))).collect();
            if !kept.is_empty() {
                groups.push(format!("{} FROM {module}", kept.join(", ")));
            }
        } else {
            symbols.push(token);
        }
    }
    if !symbols.is_empty() {
        return text.to_owned();
    }
    format!("{}IMPORTS {}{}", &text[..start], groups.join("\n\t\t"), &text[body_start + length..])
}

/// Replaces ASN.1 comments with spaces, keeping newlines.
fn strip_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while let Some(&character) = chars.get(index) {
        let next = chars.get(index + 1).copied();
        if character == '-' && next == Some('-') {
            // Line comment: ends at the newline, or at a `--` followed by more than dashes.
            index += 2;
            out.push_str("  ");
            while let Some(&inner) = chars.get(index) {
                if inner == '\n' {
                    break;
                }
                if inner == '-' && chars.get(index + 1) == Some(&'-') {
                    let rest_is_dashes = chars[index..]
                        .iter()
                        .take_while(|&&c| c != '\n')
                        .all(|&c| c == '-' || c.is_whitespace());
                    index += 2;
                    out.push_str("  ");
                    if !rest_is_dashes {
                        break;
                    }
                    continue;
                }
                out.push(' ');
                index += 1;
            }
        } else if character == '/' && next == Some('*') {
            index += 2;
            out.push_str("  ");
            while let Some(&inner) = chars.get(index) {
                if inner == '*' && chars.get(index + 1) == Some(&'/') {
                    index += 2;
                    out.push_str("  ");
                    break;
                }
                out.push(if inner == '\n' { '\n' } else { ' ' });
                index += 1;
            }
        } else {
            out.push(character);
            index += 1;
        }
    }
    out
}

/// Drops `, ...` right before a `}` when the same braces hold an earlier `...` (comment-free
/// text).
fn drop_extension_end_markers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Per open brace: whether an extension marker was seen at its level.
    let mut markers: Vec<bool> = Vec::new();
    let mut rest = text;
    while let Some(character) = rest.chars().next() {
        if rest.starts_with("...") {
            if let Some(seen) = markers.last_mut() {
                if *seen {
                    // A second marker: drop it (and the comma before it) when only whitespace
                    // separates it from the closing brace.
                    let after = rest[3..].trim_start();
                    if after.starts_with('}') {
                        let trimmed_len = out.trim_end().len();
                        if out[..trimmed_len].ends_with(',') {
                            out.truncate(trimmed_len - 1);
                        }
                        rest = &rest[3..];
                        continue;
                    }
                }
                *seen = true;
            }
            out.push_str("...");
            rest = &rest[3..];
            continue;
        }
        match character {
            '{' => markers.push(false),
            '}' => {
                markers.pop();
            }
            _ => {}
        }
        out.push(character);
        rest = &rest[character.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_drops_comments_and_the_optional_extension_marker() {
        let text = "A ::= CHOICE { -- Day 1 --------\n a INTEGER, -- x -- ...,\n b BOOLEAN, /* c */ ...\n }\n\
                    B ::= SEQUENCE { a INTEGER, ... }\nC ::= BIT STRING (SIZE(5, ...))";
        let normalised = normalise_module(text);
        assert!(!normalised.contains("Day"), "{normalised}");
        assert!(normalised.contains("a INTEGER,"), "{normalised}");
        assert!(normalised.contains("b BOOLEAN"), "{normalised}");
        assert_eq!(normalised.matches("...").count(), 3, "{normalised}");
        assert!(!normalised.contains("b BOOLEAN,"), "{normalised}");
        assert!(normalised.contains("SIZE(5, ...)"), "{normalised}");
        let imports = "M DEFINITIONS ::= BEGIN\nIMPORTS A FROM X\n B FROM Y\n A, C FROM X;\nEND";
        assert_eq!(
            normalise_module(imports),
            "M DEFINITIONS ::= BEGIN\nIMPORTS A FROM X\n\t\tB FROM Y\n\t\tC FROM X;\nEND"
        );
    }
}
