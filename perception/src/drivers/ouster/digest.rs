//! MD5 digests of decoded Ouster fields, in the form of the vendor SDK's test digests
//! (`<capture>_digest.json`, ouster-sdk `ouster.sdk.core._digest`).
//!
//! The form, verified against the SDK's own digest of `OS-2-128-U1_v2.3.0_1024x10.pcap`:
//!
//! - `packet_hash`: one MD5 per key over **all lidar packets in order**. Per packet, the column
//!   headers are `columns_per_packet` values each — `TIMESTAMP` `u64`, `ENCODER_COUNT` `u32`
//!   (LEGACY only, else zeros), `MEASUREMENT_ID` `u16`, `STATUS` `u32`, `FRAME_ID` `u16` (the
//!   LEGACY column header's, else zeros) — and each pixel field is an `H × columns_per_packet`
//!   row-major array of its element type ([`super::FieldSpec::field_type`]).
//! - `scans` (one entry per frame): `FRAME_ID` as a decimal string; `TIMESTAMP`, `STATUS` and
//!   `ENCODER_COUNT` as `W` values of `u64`; `MEASUREMENT_ID` as `W` `u16`; each field of
//!   [`LidarScan::field_names`] as the `H × W` row-major staggered image of its type.
//!
//! All values little-endian; hashes are lowercase hexadecimal.

use md5::{Digest, Md5};

use super::{LidarScan, PacketFormat};

/// Ordered `(key, value)` pairs of one digest entry (a frame, or the packet stream).
pub type FieldDigests = Vec<(String, String)>;

const PACKET_HEADER_KEYS: [&str; 5] = ["TIMESTAMP", "ENCODER_COUNT", "MEASUREMENT_ID", "STATUS", "FRAME_ID"];

fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Incremental `packet_hash` over a stream of lidar packets.
#[derive(Clone, Debug)]
pub struct PacketDigest {
    format: PacketFormat,
    hashers: Vec<(&'static str, Md5)>,
    buffer: Vec<u8>,
    packets: usize,
}

impl PacketDigest {
    /// An empty digest for packets of `format`.
    pub fn new(format: &PacketFormat) -> Self {
        let names = PACKET_HEADER_KEYS.iter().copied().chain(format.fields().iter().map(|field| field.name));
        Self {
            format: format.clone(),
            hashers: names.map(|name| (name, Md5::new())).collect(),
            buffer: Vec::new(),
            packets: 0,
        }
    }

    /// Lidar packets hashed so far.
    pub fn packets(&self) -> usize {
        self.packets
    }

    /// Hashes one lidar packet. Packets of the wrong length are skipped and return `false`
    /// (the SDK digests only well-formed lidar packets).
    pub fn add_packet(&mut self, packet: &[u8]) -> bool {
        if self.format.check(packet).is_err() {
            return false;
        }
        let format = &self.format;
        let columns: Vec<_> =
            (0..format.columns_per_packet).filter_map(|index| format.column(packet, index)).collect();
        for (name, hasher) in &mut self.hashers {
            let buffer = &mut self.buffer;
            buffer.clear();
            match *name {
                "TIMESTAMP" => columns.iter().for_each(|c| buffer.extend(c.timestamp_ns().to_le_bytes())),
                "ENCODER_COUNT" => {
                    columns.iter().for_each(|c| buffer.extend(c.encoder_count().to_le_bytes()))
                }
                "MEASUREMENT_ID" => {
                    columns.iter().for_each(|c| buffer.extend(c.measurement_id().to_le_bytes()))
                }
                "STATUS" => columns.iter().for_each(|c| buffer.extend(c.status().to_le_bytes())),
                "FRAME_ID" => columns.iter().for_each(|c| buffer.extend(c.frame_id().to_le_bytes())),
                field_name => {
                    let Some(spec) = format.field(field_name) else { continue };
                    let element_bytes = spec.field_type().bytes();
                    for row in 0..format.pixels_per_column {
                        for column in &columns {
                            let value = column.pixel(row).and_then(|pixel| spec.read(pixel)).unwrap_or(0);
                            buffer.extend(value.to_le_bytes().get(..element_bytes).unwrap_or_default());
                        }
                    }
                }
            }
            hasher.update(&buffer[..]);
        }
        self.packets += 1;
        true
    }

    /// The digests, keys in the SDK's order (column headers, then the profile's fields).
    pub fn finish(&self) -> FieldDigests {
        self.hashers
            .iter()
            .map(|(name, hasher)| ((*name).to_owned(), hex(hasher.clone().finalize())))
            .collect()
    }
}

/// The per-frame digest entry of a scan (see the module documentation for the form).
pub fn scan_digest(scan: &LidarScan) -> FieldDigests {
    let md5 = |bytes: &[u8]| hex(Md5::digest(bytes));
    let widen =
        |values: &mut dyn Iterator<Item = u64>| values.flat_map(u64::to_le_bytes).collect::<Vec<u8>>();
    let mut entries = vec![
        ("FRAME_ID".to_owned(), scan.frame_id.to_string()),
        ("TIMESTAMP".to_owned(), md5(&widen(&mut scan.timestamp_ns.iter().copied()))),
        ("STATUS".to_owned(), md5(&widen(&mut scan.status.iter().map(|&status| u64::from(status))))),
        (
            "MEASUREMENT_ID".to_owned(),
            md5(&scan.measurement_id.iter().flat_map(|id| id.to_le_bytes()).collect::<Vec<u8>>()),
        ),
        (
            "ENCODER_COUNT".to_owned(),
            md5(&widen(&mut scan.encoder_count.iter().map(|&count| u64::from(count)))),
        ),
    ];
    for name in scan.field_names() {
        if let Some(image) = scan.field(name) {
            entries.push(((*name).to_owned(), md5(&image.to_le_bytes())));
        }
    }
    entries
}

/// A whole digest: the packet stream's hashes and one entry per frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamDigest {
    /// `packet_hash` entries.
    pub packet_hash: FieldDigests,
    /// `scans` entries, one per frame in order.
    pub scans: Vec<FieldDigests>,
}

impl StreamDigest {
    /// Reads a vendor digest file's JSON (`packet_hash` and `scans`, or the newer `frames`).
    /// Keys come back sorted (the order of a `serde_json` map), which [`Self::differences`]
    /// does not depend on.
    ///
    /// # Errors
    /// The JSON error, or a description of the missing/ill-typed part.
    pub fn parse_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
        let entry = |value: &serde_json::Value| -> Result<FieldDigests, String> {
            let object = value.as_object().ok_or("digest entry is not an object")?;
            object
                .iter()
                .map(|(key, value)| {
                    value
                        .as_str()
                        .map(|text| (key.clone(), text.to_owned()))
                        .ok_or(format!("`{key}` is not a string"))
                })
                .collect()
        };
        let packet_hash = entry(value.get("packet_hash").ok_or("no `packet_hash`")?)?;
        let scans = value
            .get("scans")
            .or_else(|| value.get("frames"))
            .and_then(serde_json::Value::as_array)
            .ok_or("no `scans` array")?
            .iter()
            .map(entry)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { packet_hash, scans })
    }

    /// The digest as JSON in the vendor file's shape (`{"packet_hash": {...}, "scans": [...]}`),
    /// keys in this digest's order, four-space indented.
    pub fn to_json(&self) -> String {
        let object = |entries: &FieldDigests, indent: &str| -> String {
            let inner = format!("{indent}    ");
            let lines: Vec<String> = entries
                .iter()
                .map(|(key, value)| {
                    format!(
                        "{inner}{}: {}",
                        serde_json::Value::from(key.as_str()),
                        serde_json::Value::from(value.as_str())
                    )
                })
                .collect();
            format!("{{\n{}\n{indent}}}", lines.join(",\n"))
        };
        let scans: Vec<String> =
            self.scans.iter().map(|scan| format!("        {}", object(scan, "        "))).collect();
        format!(
            "{{\n    \"packet_hash\": {},\n    \"scans\": [\n{}\n    ]\n}}\n",
            object(&self.packet_hash, "    "),
            scans.join(",\n")
        )
    }

    /// Keys of `expected` whose value differs in (or is missing from) `self`, as
    /// `(entry, key, expected, actual)` with entry `packet_hash` or `scans[i]`; extra keys in
    /// `self` are not differences (the SDK's rule). A different number of scans is reported as
    /// key `len`.
    pub fn differences(&self, expected: &StreamDigest) -> Vec<(String, String, String, String)> {
        let mut out = Vec::new();
        let compare = |entry: String, ours: &FieldDigests, theirs: &FieldDigests, out: &mut Vec<_>| {
            for (key, value) in theirs {
                let actual =
                    ours.iter().find(|(ours_key, _)| ours_key == key).map(|(_, value)| value.clone());
                if actual.as_ref() != Some(value) {
                    out.push((entry.clone(), key.clone(), value.clone(), actual.unwrap_or_default()));
                }
            }
        };
        compare("packet_hash".to_owned(), &self.packet_hash, &expected.packet_hash, &mut out);
        if self.scans.len() != expected.scans.len() {
            out.push((
                "scans".to_owned(),
                "len".to_owned(),
                expected.scans.len().to_string(),
                self.scans.len().to_string(),
            ));
        }
        for (index, (ours, theirs)) in self.scans.iter().zip(&expected.scans).enumerate() {
            compare(format!("scans[{index}]"), ours, theirs, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_order() {
        let digest = StreamDigest {
            packet_hash: vec![("TIMESTAMP".into(), "ab".into()), ("RANGE".into(), "cd".into())],
            scans: vec![vec![("FRAME_ID".into(), "7".into())]],
        };
        let parsed = StreamDigest::parse_json(&digest.to_json()).unwrap();
        assert_eq!(parsed.scans, digest.scans);
        // serde_json without `preserve_order` sorts keys; compare as sets.
        let mut keys: Vec<_> = parsed.packet_hash.iter().map(|(key, _)| key.clone()).collect();
        keys.sort();
        assert_eq!(keys, ["RANGE", "TIMESTAMP"]);
        assert!(digest.differences(&parsed).is_empty());
    }
}
