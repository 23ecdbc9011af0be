//! Recovery of an episode whose recorder died: `pitsense episode recover FILE`.
//!
//! The input is scanned record by record from the start magic (no footer or summary needed).
//! Records outside chunks (schemas, channels, messages, metadata, attachments) are kept when
//! complete; a chunk is kept only when the whole record is present, its CRC matches and every
//! record inside it parses. The scan stops at the first torn or malformed record, the footer or
//! the data end. The output is a fresh MCAP with the same schemas, channels, messages (same
//! sequence and times), metadata and attachments, and a full summary and index.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::CloudLinkError;

/// The MCAP magic at the start (and end) of a file.
const MAGIC: &[u8; 8] = b"\x89MCAP0\r\n";
const OP_HEADER: u8 = 0x01;
const OP_FOOTER: u8 = 0x02;
const OP_DATA_END: u8 = 0x0F;

/// What a recovery kept and why it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoverReport {
    /// The file written.
    pub output: PathBuf,
    /// Messages kept, per channel topic.
    pub message_counts: BTreeMap<String, u64>,
    /// Complete chunks kept.
    pub chunks_kept: u64,
    /// Metadata records kept.
    pub metadata_kept: u64,
    /// Bytes of the input after the last record kept (a torn chunk, the summary, ...).
    pub bytes_dropped: u64,
    /// Why the scan stopped (`end of file`, `footer`, `torn record at byte N`, ...).
    pub stopped_because: String,
}

impl RecoverReport {
    /// All messages kept.
    pub fn message_count(&self) -> u64 {
        self.message_counts.values().sum()
    }
}

enum Kept {
    Schema(mcap::records::SchemaHeader, Vec<u8>),
    Channel(mcap::records::Channel),
    Message(mcap::records::MessageHeader, Vec<u8>),
    Metadata(mcap::records::Metadata),
    Attachment(mcap::records::AttachmentHeader, Vec<u8>),
}

/// Reads the records of one chunk; `None` if any of them is malformed.
fn chunk_records(header: mcap::records::ChunkHeader, data: &[u8]) -> Option<Vec<Kept>> {
    let reader = mcap::read::ChunkReader::new(header, data).ok()?;
    let mut kept = Vec::new();
    for record in reader {
        match record.ok()? {
            mcap::records::Record::Schema { header, data } => {
                kept.push(Kept::Schema(header, data.into_owned()))
            }
            mcap::records::Record::Channel(channel) => kept.push(Kept::Channel(channel)),
            mcap::records::Record::Message { header, data } => {
                kept.push(Kept::Message(header, data.into_owned()))
            }
            _ => {}
        }
    }
    Some(kept)
}

/// Scans `bytes` (an MCAP file, possibly torn); returns the records to keep, the offset after the
/// last one kept, the number of complete chunks and why the scan stopped.
fn scan(bytes: &[u8]) -> (Vec<Kept>, usize, u64, String) {
    let mut kept = Vec::new();
    let mut chunks = 0u64;
    let mut offset = MAGIC.len();
    let mut last_good = offset;
    let stopped = loop {
        let Some(head) = bytes.get(offset..offset + 9) else {
            break if offset == bytes.len() {
                "end of file".to_owned()
            } else {
                format!("torn record at byte {offset}")
            };
        };
        let opcode = head[0];
        let mut length_le = [0u8; 8];
        length_le.copy_from_slice(&head[1..9]);
        let length = u64::from_le_bytes(length_le);
        let body_start = offset + 9;
        let Some(body_end) = usize::try_from(length).ok().and_then(|len| body_start.checked_add(len)) else {
            break format!("record length {length} at byte {offset} is impossible");
        };
        let Some(body) = bytes.get(body_start..body_end) else {
            break format!("torn record (opcode 0x{opcode:02x}) at byte {offset}");
        };
        if opcode == OP_FOOTER || opcode == OP_DATA_END {
            break if opcode == OP_FOOTER { "footer".to_owned() } else { "data end".to_owned() };
        }
        let record = match mcap::parse_record(opcode, body) {
            Ok(record) => record,
            Err(e) => break format!("malformed record (opcode 0x{opcode:02x}) at byte {offset}: {e}"),
        };
        match record {
            mcap::records::Record::Header(_) if opcode == OP_HEADER => {}
            mcap::records::Record::Schema { header, data } => {
                kept.push(Kept::Schema(header, data.into_owned()))
            }
            mcap::records::Record::Channel(channel) => kept.push(Kept::Channel(channel)),
            mcap::records::Record::Message { header, data } => {
                kept.push(Kept::Message(header, data.into_owned()))
            }
            mcap::records::Record::Metadata(metadata) => kept.push(Kept::Metadata(metadata)),
            mcap::records::Record::Attachment { header, data, .. } => {
                kept.push(Kept::Attachment(header, data.into_owned()))
            }
            mcap::records::Record::Chunk { header, data } => {
                let Some(records) = chunk_records(header, &data) else {
                    break format!("corrupt chunk at byte {offset}");
                };
                kept.extend(records);
                chunks += 1;
            }
            _ => {}
        }
        offset = body_end;
        last_good = offset;
    };
    (kept, last_good, chunks, stopped)
}

/// Recovers `input` (an MCAP file, possibly torn by a crash) into a new valid MCAP at `output`,
/// holding every record up to the last complete chunk.
///
/// Errors: the input cannot be read or does not start with the MCAP magic; the output cannot be
/// written.
pub fn recover(input: &Path, output: &Path) -> Result<RecoverReport, CloudLinkError> {
    let bytes = std::fs::read(input).map_err(|e| CloudLinkError::io(input, "read", e))?;
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(CloudLinkError::NotMcap {
            path: input.to_owned(),
            reason: "no MCAP magic at the start".into(),
        });
    }
    let (kept, last_good, chunks_kept, stopped_because) = scan(&bytes);

    let file = File::create(output).map_err(|e| CloudLinkError::io(output, "create", e))?;
    let mut writer = mcap::WriteOptions::new()
        .profile("")
        .library(concat!("pitsense-cloud-link recover ", env!("CARGO_PKG_VERSION")))
        .compression(Some(mcap::Compression::Zstd))
        .create(file)
        .map_err(|e| CloudLinkError::mcap(output, "write header", e))?;
    let mut report = RecoverReport {
        output: output.to_owned(),
        chunks_kept,
        bytes_dropped: (bytes.len() - last_good) as u64,
        stopped_because,
        ..RecoverReport::default()
    };
    let mut schemas: BTreeMap<u16, u16> = BTreeMap::new();
    let mut channels: BTreeMap<u16, (u16, String)> = BTreeMap::new();
    for record in kept {
        match record {
            Kept::Schema(header, data) => {
                let id = writer
                    .add_schema_with_id(header.id, &header.name, &header.encoding, &data)
                    .map_err(|e| CloudLinkError::mcap(output, "add schema", e))?;
                schemas.insert(header.id, id);
            }
            Kept::Channel(channel) => {
                if channels.contains_key(&channel.id) {
                    continue;
                }
                let schema_id = match channel.schema_id {
                    0 => 0,
                    id => match schemas.get(&id) {
                        Some(id) => *id,
                        None => continue,
                    },
                };
                let id = writer
                    .add_channel_with_id(
                        channel.id,
                        schema_id,
                        &channel.topic,
                        &channel.message_encoding,
                        &channel.metadata,
                    )
                    .map_err(|e| CloudLinkError::mcap(output, "add channel", e))?;
                channels.insert(channel.id, (id, channel.topic.clone()));
            }
            Kept::Message(header, data) => {
                let Some((channel_id, topic)) = channels.get(&header.channel_id) else { continue };
                let header = mcap::records::MessageHeader { channel_id: *channel_id, ..header };
                writer
                    .write_to_known_channel(&header, &data)
                    .map_err(|e| CloudLinkError::mcap(output, "write message", e))?;
                *report.message_counts.entry(topic.clone()).or_insert(0) += 1;
            }
            Kept::Metadata(metadata) => {
                writer
                    .write_metadata(&metadata)
                    .map_err(|e| CloudLinkError::mcap(output, "write metadata", e))?;
                report.metadata_kept += 1;
            }
            Kept::Attachment(header, data) => {
                writer
                    .attach(&mcap::Attachment {
                        log_time: header.log_time,
                        create_time: header.create_time,
                        name: header.name,
                        media_type: header.media_type,
                        data: std::borrow::Cow::Owned(data),
                    })
                    .map_err(|e| CloudLinkError::mcap(output, "write attachment", e))?;
            }
        }
    }
    writer.finish().map_err(|e| CloudLinkError::mcap(output, "finish", e))?;
    let file = writer.into_inner();
    file.sync_all().map_err(|e| CloudLinkError::io(output, "sync", e))?;
    Ok(report)
}
