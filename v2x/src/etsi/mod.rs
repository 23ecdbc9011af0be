//! ETSI ITS messages: CAM (TS 103 900 v2.3.1, successor of EN 302 637-2) and CPM (TS 103 324
//! v2.1.1), with the common data dictionary (TS 102 894-2 v2.4.1).
//!
//! The ASN.1 types in [`generated`] come from ETSI's modules through `rasn-compiler` 0.16
//! (`cargo run -p pitsense-v2x-codegen`); they are not edited by hand.

/// Types generated from ETSI's ASN.1 modules (BSD-3-Clause-style ETSI licence, notice in the file).
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, non_camel_case_types, non_snake_case, unused_imports, dead_code)]
pub mod generated;
