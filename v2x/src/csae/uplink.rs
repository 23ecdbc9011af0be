//! The RSU→centre uplink frame of the Hisense RSU integration (its "路侧RSU数据对接方案" of
//! 2020-11-23, summarised in `shared/data/SOURCES.md`, section v2x/csae): a small header before
//! one or several UPER CSAE `MessageFrame`s, as the RSU publishes them over MQTT.
//!
//! ```text
//! offset  size  field
//!  0       8    rsuID, ASCII (for example `u_id_123`)
//!  8       8    timestamp, u64 little-endian, UTC milliseconds since the Unix epoch
//!  SPAT/RSM/RSI/MAP ("single"):  16  2  length L, u16 LE;  18  L  the MessageFrame
//!  BSM ("list"):                 16  1  count N; then N × (u16 LE length L_i, L_i octets)
//! ```
//!
//! The header does not say which layout follows (the MQTT topic does), so [`read_uplink`] with
//! [`UplinkLayout::Auto`] takes the layout whose lengths exactly cover the frame, and refuses a
//! frame that both or neither layouts cover.

use serde::Serialize;

use super::CsaeError;

/// Length of the rsuID and timestamp, bytes.
pub const HEADER_BYTES: usize = 16;

/// Which payload layout follows the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UplinkLayout {
    /// Whichever of the two layouts exactly covers the frame.
    #[default]
    Auto,
    /// One u16 length and one MessageFrame (SPAT, RSM, RSI, MAP).
    Single,
    /// A u8 count, then each BSM as u16 length and MessageFrame.
    List,
}

/// A parsed uplink frame: the header and where each UPER MessageFrame lies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UplinkFrame {
    /// `rsuID`: the 8 octets as text (ASCII; other octets escaped), NULs trimmed at the end.
    pub rsu_id: String,
    /// `timestamp`, UTC milliseconds since the Unix epoch.
    pub stamp_ms: u64,
    /// The layout found (never [`UplinkLayout::Auto`]).
    pub layout: UplinkLayout,
    /// For the list layout, the count octet; `None` for single.
    pub count: Option<u8>,
    /// Offset and length of each MessageFrame in the input, bytes.
    pub payloads: Vec<UplinkPayload>,
}

/// Where one MessageFrame lies in the uplink frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct UplinkPayload {
    /// Offset of the MessageFrame's first octet, bytes.
    pub offset_bytes: usize,
    /// The declared (and present) length, bytes.
    pub length_bytes: usize,
}

impl UplinkFrame {
    /// The octets of each MessageFrame, in order, cut from the input the frame was read from.
    pub fn payload_slices<'a>(&self, input: &'a [u8]) -> Vec<&'a [u8]> {
        self.payloads
            .iter()
            .filter_map(|payload| {
                input.get(payload.offset_bytes..payload.offset_bytes + payload.length_bytes)
            })
            .collect()
    }
}

fn u16_le(input: &[u8], offset: usize) -> Option<usize> {
    let bytes = input.get(offset..offset + 2)?;
    Some(usize::from(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?])))
}

fn single(input: &[u8]) -> Result<Vec<UplinkPayload>, CsaeError> {
    let length = u16_le(input, HEADER_BYTES).ok_or(CsaeError::Uplink {
        offset_bytes: HEADER_BYTES,
        reason: "no u16 length after the header".into(),
    })?;
    let start = HEADER_BYTES + 2;
    if length == 0 || start + length != input.len() {
        return Err(CsaeError::Uplink {
            offset_bytes: HEADER_BYTES,
            reason: format!(
                "single layout: length {length} does not cover the {} bytes after the length field",
                input.len().saturating_sub(start)
            ),
        });
    }
    Ok(vec![UplinkPayload { offset_bytes: start, length_bytes: length }])
}

fn list(input: &[u8]) -> Result<(u8, Vec<UplinkPayload>), CsaeError> {
    let count = *input.get(HEADER_BYTES).ok_or(CsaeError::Uplink {
        offset_bytes: HEADER_BYTES,
        reason: "no count after the header".into(),
    })?;
    if count == 0 {
        return Err(CsaeError::Uplink { offset_bytes: HEADER_BYTES, reason: "list layout: count 0".into() });
    }
    let mut offset = HEADER_BYTES + 1;
    let mut payloads = Vec::with_capacity(usize::from(count));
    for index in 0..count {
        let length = u16_le(input, offset).ok_or_else(|| CsaeError::Uplink {
            offset_bytes: offset,
            reason: format!("list layout: message {index} of {count} has no u16 length"),
        })?;
        let start = offset + 2;
        if length == 0 || start + length > input.len() {
            return Err(CsaeError::Uplink {
                offset_bytes: offset,
                reason: format!(
                    "list layout: message {index} of {count} declares {length} bytes, {} present",
                    input.len().saturating_sub(start)
                ),
            });
        }
        payloads.push(UplinkPayload { offset_bytes: start, length_bytes: length });
        offset = start + length;
    }
    if offset != input.len() {
        return Err(CsaeError::Uplink {
            offset_bytes: offset,
            reason: format!("list layout: {} bytes after the last of {count} messages", input.len() - offset),
        });
    }
    Ok((count, payloads))
}

/// Parses an uplink frame (the whole MQTT payload).
///
/// # Errors
/// [`CsaeError::Uplink`] with the offset when the input is shorter than the header, a length
/// runs past the input or leaves bytes over, or (with `Auto`) both layouts or neither fit.
pub fn read_uplink(input: &[u8], layout: UplinkLayout) -> Result<UplinkFrame, CsaeError> {
    let (Some(id), Some(stamp)) = (input.get(..8), input.get(8..HEADER_BYTES)) else {
        return Err(CsaeError::Uplink {
            offset_bytes: input.len(),
            reason: format!(
                "{} bytes, shorter than the {HEADER_BYTES}-byte rsuID + timestamp header",
                input.len()
            ),
        });
    };
    let mut stamp_bytes = [0u8; 8];
    stamp_bytes.copy_from_slice(stamp);
    let stamp_ms = u64::from_le_bytes(stamp_bytes);
    let rsu_id: String = id.escape_ascii().to_string().trim_end_matches("\\x00").to_owned();
    let (layout, count, payloads) = match layout {
        UplinkLayout::Single => (UplinkLayout::Single, None, single(input)?),
        UplinkLayout::List => {
            let (count, payloads) = list(input)?;
            (UplinkLayout::List, Some(count), payloads)
        }
        UplinkLayout::Auto => match (single(input), list(input)) {
            (Ok(payloads), Err(_)) => (UplinkLayout::Single, None, payloads),
            (Err(_), Ok((count, payloads))) => (UplinkLayout::List, Some(count), payloads),
            (Ok(_), Ok(_)) => {
                return Err(CsaeError::Uplink {
                    offset_bytes: HEADER_BYTES,
                    reason: "both the single and the BSM-list layout fit: give the layout".into(),
                });
            }
            (Err(single_error), Err(list_error)) => {
                return Err(CsaeError::Uplink {
                    offset_bytes: HEADER_BYTES,
                    reason: format!("neither layout fits ({single_error}; {list_error})"),
                });
            }
        },
    };
    Ok(UplinkFrame { rsu_id, stamp_ms, layout, count, payloads })
}
