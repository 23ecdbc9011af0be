//! Serde views of CSAE frames for `pitsense v2x decode`: the J2735 view shape (where the frame
//! was, `standard`, `edition`, `message_type`, then the message's fields in SI units: degrees,
//! metres, m/s, radians clockwise from north, milliseconds) plus `raw`, the whole message with
//! its ASN.1 field names and raw integer values ([`super::CsaeMessage::raw_json`]).

use serde::Serialize;

use super::convert::{CsaeSummary, summary};
use super::uplink::UplinkFrame;
use super::{CsaeDecodedFrame, CsaeFrameSequence};

/// One CSAE frame, ready to serialise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CsaeMessageView {
    /// Offset of the frame in the frame octets (after hex decoding; in the uplink frame when
    /// there was one), bytes.
    pub offset_bytes: usize,
    /// Octets of the frame, bytes.
    pub length_bytes: usize,
    /// `csae53` (phase one) or `csae157` (phase two, `msgFrameExt`).
    pub standard: &'static str,
    /// Edition of the modules that decoded it: `2019` or `2020`.
    pub edition: &'static str,
    /// `BSM`, `MAP`, `RSM`, `SPAT`, `RSI`, `SSM`, or a phase-two name.
    pub message_type: &'static str,
    /// `MessageFrameExt.messageId` for phase two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_message_id: Option<u16>,
    /// The uplink frame's RSU id, when the input was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsu_id: Option<String>,
    /// The uplink frame's time stamp, UTC milliseconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uplink_stamp_ms: Option<u64>,
    /// The message's fields in SI units.
    #[serde(flatten)]
    pub body: CsaeSummary,
    /// The message with its ASN.1 field names and raw values (JER style).
    pub raw: serde_json::Value,
}

impl CsaeMessageView {
    /// The view of one decoded frame (`raw` is `null` if JER encoding failed, which decoded
    /// values never do).
    pub fn new(frame: &CsaeDecodedFrame, uplink: Option<&UplinkFrame>) -> Self {
        Self {
            offset_bytes: frame.offset_bytes,
            length_bytes: frame.length_bytes,
            standard: frame.message.standard().as_str(),
            edition: frame.edition.as_str(),
            message_type: frame.message.message_type(),
            ext_message_id: frame.message.ext_message_id(),
            rsu_id: uplink.map(|uplink| uplink.rsu_id.clone()),
            uplink_stamp_ms: uplink.map(|uplink| uplink.stamp_ms),
            body: summary(&frame.message),
            raw: frame.message.raw_json().unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Views of every frame of a sequence.
pub fn sequence_views(sequence: &CsaeFrameSequence, uplink: Option<&UplinkFrame>) -> Vec<CsaeMessageView> {
    sequence.frames.iter().map(|frame| CsaeMessageView::new(frame, uplink)).collect()
}
