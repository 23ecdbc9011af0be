//! V2X for pitsense: road-side units (RSU) and other vehicles, seen through their messages.
//!
//! Pipeline, each step a plain synchronous struct or function (no I/O, no clock) except the
//! UDP adapter:
//!
//! ```text
//! UDP datagram / capture file ──> decode::Decoder (hex? IEEE 1609.2 envelope? UPER frames)
//!   receiver::RsuReceiver           │  j2735::J2735Message: BSM, MAP, SPaT, PSM, SDSM, Unsupported
//!   (tokio, bounded queue)          ├──> view::CaptureView (serde, SI units): `pitsense v2x decode`
//!                                   v
//!                       measurement::MeasurementBuilder (geodesy::SiteFrame, ego pose)
//!                                   │  V2xMeasurement: Detection3d (source v2x, site or ego frame)
//!                                   │  + 3×3 position covariance + message time, latency-compensated
//!                                   v
//!                       plausibility::PlausibilityGate (area, speed, acceleration, stale,
//!                                   duplicate, position jump; counted) ──> fusion
//! ```
//!
//! Standards: SAE J2735 (2024) `MessageFrame` and messages, SAE J3224 SDSM, ASN.1 UPER (ITU-T
//! X.691); IEEE 1609.2 `Ieee1609Dot2Data` in COER (ITU-T X.696 / ISO/IEC 8825-7); WGS-84
//! (NIMA TR8350.2). Units are SI with the unit in the name; angles in radians; J2735 headings
//! stay clockwise from north in the decoded views and become ENU yaws (counter-clockwise from
//! east) in measurements.
//!
//! Entry points:
//! - [`decode_input`] / [`decode::Decoder`]: bytes (raw UPER, hex text, or 1609.2-wrapped) to
//!   frames; [`view::decode_capture`]: the same straight to serialisable JSON views.
//! - [`decode_any`] / [`view::decode_capture_any`]: the same for every standard (J2735, China
//!   CSAE T/CSAE 53 and 157, RSU uplink frames), each message tagged with its standard and
//!   edition ([`decode::FormatConfig`] documents how they are chosen).
//! - [`csae::decode_frame`] / [`csae::encode_frame`]: one CSAE `MessageFrame` each way.
//! - [`j2735::decode_frame`] / [`j2735::encode_frame`]: one UPER `MessageFrame` each way.
//! - [`ieee1609dot2::unwrap`]: the envelope alone, truncation reported.
//! - [`geodesy::SiteFrame`]: WGS-84 ↔ ECEF ↔ site ENU ↔ truck frame.
//! - [`measurement::MeasurementBuilder`], [`plausibility::PlausibilityGate`].
//! - [`receiver::RsuReceiver`]: tokio UDP with per-source statistics.
//! - [`fuzzing`]: the fuzz entry points (cargo-fuzz targets in `v2x/fuzz/`).
//!
//! Errors: [`V2xError`] for decoding and encoding (input and reason, with byte offsets),
//! [`pitsense_types::ConfigError`] for configuration, [`measurement::MeasurementError`],
//! [`receiver::ReceiverError`].

pub mod config;
pub mod csae;
pub mod decode;
pub mod error;
pub mod etsi;
pub mod fuzzing;
pub mod geodesy;
pub mod ieee1609dot2;
pub mod j2735;
pub mod measurement;
pub mod plausibility;
pub mod receiver;
pub mod view;

pub use decode::{AnyReport, DecodeConfig, DecodeReport, FormatConfig, Standard, decode_any, decode_input};
pub use error::V2xError;
pub use view::{CaptureView, MessageView, decode_capture};
