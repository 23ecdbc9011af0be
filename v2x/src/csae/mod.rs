//! China CSAE road-side messages (T/CSAE 53 phase one: BSM, MAP, SPAT, RSI, RSM).
//!
//! The ASN.1 types in [`csae53_2019_generated`] come from the CSAE module release 2019-07-24
//! through `rasn-compiler` 0.16 (`cargo run -p pitsense-v2x-codegen`); they are not edited by
//! hand.

/// Types generated from the CSAE phase-one modules, release 2019-07-24.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, non_camel_case_types, non_snake_case, unused_imports, dead_code)]
pub mod csae53_2019_generated;
