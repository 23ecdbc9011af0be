//! Recovery of an episode whose recorder died: `pitsense episode recover FILE`.
//!
//! The input is scanned record by record from the start magic (no footer or summary needed).
//! Records outside chunks (schemas, channels, messages, metadata, attachments) are kept when
//! complete. A chunk is decompressed here, into at most its declared `uncompressed_size` bytes
//! (and never more than [`MAX_CHUNK_UNCOMPRESSED_BYTES`]), and kept only when the output has
//! exactly that size, its CRC matches (when not 0) and every record inside it fits in what is left
//! of the chunk and parses. A corrupt chunk whose record framing is intact (its opcode and length
//! lie inside the file) is skipped and named in [`RecoverReport::chunks_skipped`]; the scan goes on
//! after it. The scan stops at the first torn or malformed record outside a chunk, the footer or
//! the data end. The output is a fresh MCAP with the same schemas, channels, messages (same
//! sequence and times), metadata and attachments, and a full summary and index.
//!
//! Every length read from the file is checked against what is left of its record or chunk before
//! it is used, so a damaged file costs at most its own size plus one chunk's declared output in
//! memory (MCAP record layout: `opcode: u8, length: u64 LE, body`, MCAP specification "Records").

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::CloudLinkError;

/// The MCAP magic at the start (and end) of a file.
const MAGIC: &[u8; 8] = b"\x89MCAP0\r\n";
const OP_HEADER: u8 = 0x01;
const OP_FOOTER: u8 = 0x02;
const OP_SCHEMA: u8 = 0x03;
const OP_CHANNEL: u8 = 0x04;
const OP_MESSAGE: u8 = 0x05;
const OP_CHUNK: u8 = 0x06;
const OP_ATTACHMENT: u8 = 0x09;
const OP_DATA_END: u8 = 0x0F;
/// Bytes of a record's opcode and length prefix.
const RECORD_PREFIX_BYTES: usize = 9;

/// The largest decompressed chunk recovery accepts, in bytes (256 MiB: 64 times the recorder's
/// default chunk size of 4 MiB). A chunk declaring more is skipped, so a damaged size field can
/// never make recovery allocate gigabytes.
pub const MAX_CHUNK_UNCOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;

/// A chunk that recovery skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedChunk {
    /// Byte offset of the chunk record (its opcode) in the input.
    pub offset: u64,
    /// Bytes of the whole record (9-byte prefix and body) left out of the output.
    pub length: u64,
    /// Why it was skipped (`decompressed to N bytes but uncompressed_size declares M`,
    /// `record (opcode 0x05) at byte 0 of the chunk claims N bytes, 0 left`, ...).
    pub reason: String,
}

/// What a recovery kept, what it skipped and why it stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoverReport {
    /// The file written.
    pub output: PathBuf,
    /// Messages kept, per channel topic.
    pub message_counts: BTreeMap<String, u64>,
    /// Complete chunks kept.
    pub chunks_kept: u64,
    /// Corrupt chunks skipped (in file order); the records after each were still read.
    pub chunks_skipped: Vec<SkippedChunk>,
    /// Metadata records kept.
    pub metadata_kept: u64,
    /// Schema and channel records left out: an id seen before with other contents (the first
    /// wins), or a record the writer refuses; messages on a channel left out are dropped.
    pub records_skipped: u64,
    /// Bytes of the input not carried over: the skipped chunks plus everything after the last
    /// record read (a torn chunk, the summary, ...).
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

/// Splits `bytes[offset..]` into one record: `(opcode, body)`, the body bounded by what is left.
/// `Err` says why there is no whole record there.
fn next_record(bytes: &[u8], offset: usize) -> Result<(u8, &[u8]), String> {
    let left = bytes.len().saturating_sub(offset);
    let Some(prefix) = bytes.get(offset..).and_then(|rest| rest.first_chunk::<RECORD_PREFIX_BYTES>()) else {
        return Err(format!("{left} bytes left, less than a record prefix"));
    };
    let [opcode, length_le @ ..] = *prefix;
    let length = u64::from_le_bytes(length_le);
    let body_left = left - RECORD_PREFIX_BYTES;
    match usize::try_from(length) {
        Ok(length) if length <= body_left => {
            let body_start = offset + RECORD_PREFIX_BYTES;
            let body = bytes.get(body_start..body_start + length).unwrap_or_default();
            Ok((opcode, body))
        }
        _ => Err(format!("record (opcode 0x{opcode:02x}) claims {length} bytes, {body_left} left")),
    }
}

/// Decompresses a chunk's records into at most `header.uncompressed_size` bytes and checks the
/// size and CRC; `Err` says why the chunk is corrupt.
fn decompress_chunk(header: &mcap::records::ChunkHeader, data: &[u8]) -> Result<Vec<u8>, String> {
    let declared = header.uncompressed_size;
    if declared > MAX_CHUNK_UNCOMPRESSED_BYTES {
        return Err(format!(
            "uncompressed_size declares {declared} bytes, more than the recovery limit of \
             {MAX_CHUNK_UNCOMPRESSED_BYTES}"
        ));
    }
    let records = match header.compression.as_str() {
        "" => data.to_vec(),
        "zstd" => {
            let decoder = zstd::stream::read::Decoder::new(data).map_err(|e| format!("zstd: {e}"))?;
            // One byte more than declared reveals a chunk that decompresses to more.
            let mut out = Vec::new();
            decoder
                .take(declared + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("zstd: {e} after {} decompressed bytes", out.len()))?;
            out
        }
        other => return Err(format!("compression {other:?} is not supported by recovery")),
    };
    if records.len() as u64 != declared {
        return Err(format!(
            "decompressed to {}{} bytes but uncompressed_size declares {declared}",
            if records.len() as u64 > declared { "more than " } else { "" },
            records.len().min(usize::try_from(declared).unwrap_or(usize::MAX))
        ));
    }
    if header.uncompressed_crc != 0 {
        let crc = crc32fast::hash(&records);
        if crc != header.uncompressed_crc {
            return Err(format!(
                "uncompressed CRC 0x{crc:08x} does not match the declared 0x{:08x}",
                header.uncompressed_crc
            ));
        }
    }
    Ok(records)
}

/// Reads the records of one chunk; `Err` says why the chunk is corrupt (then none is kept).
fn chunk_records(header: &mcap::records::ChunkHeader, data: &[u8]) -> Result<Vec<Kept>, String> {
    let records = decompress_chunk(header, data)?;
    let mut kept = Vec::new();
    let mut offset = 0;
    while offset < records.len() {
        let (opcode, body) =
            next_record(&records, offset).map_err(|e| format!("{e} at byte {offset} of the chunk"))?;
        let malformed = |e: mcap::McapError| {
            format!("malformed record (opcode 0x{opcode:02x}) at byte {offset} of the chunk: {e}")
        };
        match opcode {
            OP_SCHEMA | OP_CHANNEL | OP_MESSAGE => {
                match mcap::parse_record(opcode, body).map_err(malformed)? {
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
            // Other records do not belong in a chunk; readers skip them (MCAP specification).
            _ => {}
        }
        offset += RECORD_PREFIX_BYTES + body.len();
    }
    Ok(kept)
}

/// Whether an attachment body holds its header, data length, data and 4-byte CRC. The `mcap`
/// crate slices `body[header_len..body.len() - 4]` and panics when fewer than 4 bytes follow the
/// header, so this is checked first. Layout (MCAP specification "Attachment"): `log_time: u64`,
/// `create_time: u64`, `name: string`, `media_type: string`, `data_len: u64`, data, `crc: u32`;
/// a string is a `u32` byte length and its bytes.
fn attachment_fits(body: &[u8]) -> bool {
    let string_end = |at: usize| -> Option<usize> {
        let len = u32::from_le_bytes(*body.get(at..)?.first_chunk::<4>()?);
        at.checked_add(4)?.checked_add(usize::try_from(len).ok()?)
    };
    let Some(name_end) = string_end(16) else { return false };
    let Some(media_type_end) = string_end(name_end) else { return false };
    let Some(data_len) = body.get(media_type_end..).and_then(|rest| rest.first_chunk::<8>()) else {
        return false;
    };
    let data_len = u64::from_le_bytes(*data_len);
    let header_len = media_type_end + 8;
    (body.len() as u64).checked_sub(header_len as u64 + 4).is_some_and(|left| data_len <= left)
}

/// The records a scan keeps and what it learned on the way.
struct Scan {
    kept: Vec<Kept>,
    /// Offset after the last record read.
    last_good: usize,
    chunks_kept: u64,
    chunks_skipped: Vec<SkippedChunk>,
    stopped_because: String,
}

/// Scans `bytes` (an MCAP file, possibly torn or damaged).
fn scan(bytes: &[u8]) -> Scan {
    let mut scan = Scan {
        kept: Vec::new(),
        last_good: MAGIC.len(),
        chunks_kept: 0,
        chunks_skipped: Vec::new(),
        stopped_because: String::new(),
    };
    let mut offset = MAGIC.len();
    scan.stopped_because = loop {
        if offset == bytes.len() {
            break "end of file".to_owned();
        }
        let (opcode, body) = match next_record(bytes, offset) {
            Ok(record) => record,
            Err(e) => break format!("torn record at byte {offset}: {e}"),
        };
        let record_end = offset + RECORD_PREFIX_BYTES + body.len();
        if opcode == OP_FOOTER || opcode == OP_DATA_END {
            break if opcode == OP_FOOTER { "footer".to_owned() } else { "data end".to_owned() };
        }
        if opcode == OP_ATTACHMENT && !attachment_fits(body) {
            break format!(
                "malformed record (opcode 0x{opcode:02x}) at byte {offset}: attachment lengths overrun it"
            );
        }
        let record = match mcap::parse_record(opcode, body) {
            Ok(record) => record,
            Err(e) if opcode == OP_CHUNK => {
                // The framing is intact: skip the chunk whose own header is damaged.
                scan.chunks_skipped.push(SkippedChunk {
                    offset: offset as u64,
                    length: (record_end - offset) as u64,
                    reason: format!("malformed chunk header: {e}"),
                });
                offset = record_end;
                scan.last_good = offset;
                continue;
            }
            Err(e) => break format!("malformed record (opcode 0x{opcode:02x}) at byte {offset}: {e}"),
        };
        match record {
            mcap::records::Record::Header(_) if opcode == OP_HEADER => {}
            mcap::records::Record::Schema { header, data } => {
                scan.kept.push(Kept::Schema(header, data.into_owned()))
            }
            mcap::records::Record::Channel(channel) => scan.kept.push(Kept::Channel(channel)),
            mcap::records::Record::Message { header, data } => {
                scan.kept.push(Kept::Message(header, data.into_owned()))
            }
            mcap::records::Record::Metadata(metadata) => scan.kept.push(Kept::Metadata(metadata)),
            mcap::records::Record::Attachment { header, data, .. } => {
                scan.kept.push(Kept::Attachment(header, data.into_owned()))
            }
            mcap::records::Record::Chunk { header, data } => match chunk_records(&header, &data) {
                Ok(records) => {
                    scan.kept.extend(records);
                    scan.chunks_kept += 1;
                }
                Err(reason) => scan.chunks_skipped.push(SkippedChunk {
                    offset: offset as u64,
                    length: (record_end - offset) as u64,
                    reason,
                }),
            },
            _ => {}
        }
        offset = record_end;
        scan.last_good = offset;
    };
    scan
}

/// Recovers `input` (an MCAP file, possibly torn by a crash) into a new valid MCAP at `output`,
/// holding every record up to the last complete chunk except the corrupt chunks it skips (listed
/// in the report with their offset and reason). Never aborts on a damaged input: every length in
/// it is bounded by what is left of its record or chunk.
///
/// Errors: the input cannot be read or does not start with the MCAP magic; the output cannot be
/// written.
pub fn recover(input: &Path, output: &Path) -> Result<RecoverReport, CloudLinkError> {
    let bytes = std::fs::read(input).map_err(|e| CloudLinkError::io(input, "read", e))?;
    let file = File::create(output).map_err(|e| CloudLinkError::io(output, "create", e))?;
    let (report, file) = recover_bytes(&bytes, input, file, output)?;
    file.sync_all().map_err(|e| CloudLinkError::io(output, "sync", e))?;
    Ok(report)
}

/// [`recover`] on an input held in memory (`bytes`, named `input` in errors), writing the
/// recovered MCAP to `sink` (named `output` in the report and errors); returns the report and
/// the sink. Same errors as [`recover`], except that nothing is read from or created on disk.
pub fn recover_bytes<W: Write + Seek>(
    bytes: &[u8],
    input: &Path,
    sink: W,
    output: &Path,
) -> Result<(RecoverReport, W), CloudLinkError> {
    if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(CloudLinkError::NotMcap {
            path: input.to_owned(),
            reason: "no MCAP magic at the start".into(),
        });
    }
    let Scan { kept, last_good, chunks_kept, chunks_skipped, stopped_because } = scan(bytes);
    let skipped_bytes: u64 = chunks_skipped.iter().map(|c| c.length).sum();

    let mut writer = mcap::WriteOptions::new()
        .profile("")
        .library(concat!("pitsense-cloud-link recover ", env!("CARGO_PKG_VERSION")))
        .compression(Some(mcap::Compression::Zstd))
        .create(sink)
        .map_err(|e| CloudLinkError::mcap(output, "write header", e))?;
    let mut report = RecoverReport {
        output: output.to_owned(),
        chunks_kept,
        chunks_skipped,
        bytes_dropped: skipped_bytes + (bytes.len() - last_good) as u64,
        stopped_because,
        ..RecoverReport::default()
    };
    let mut schemas: BTreeMap<u16, u16> = BTreeMap::new();
    let mut channels: BTreeMap<u16, (u16, String)> = BTreeMap::new();
    for record in kept {
        match record {
            Kept::Schema(header, data) => {
                // The first schema of an id wins; a later one with other contents (a damaged
                // record, found by fuzzing) is left out, as is one the writer refuses.
                if schemas.contains_key(&header.id) {
                    report.records_skipped += 1;
                    continue;
                }
                match writer.add_schema_with_id(header.id, &header.name, &header.encoding, &data) {
                    Ok(id) => {
                        schemas.insert(header.id, id);
                    }
                    Err(mcap::McapError::Io(e)) => return Err(CloudLinkError::io(output, "add schema", e)),
                    Err(_) => report.records_skipped += 1,
                }
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
                match writer.add_channel_with_id(
                    channel.id,
                    schema_id,
                    &channel.topic,
                    &channel.message_encoding,
                    &channel.metadata,
                ) {
                    Ok(id) => {
                        channels.insert(channel.id, (id, channel.topic.clone()));
                    }
                    Err(mcap::McapError::Io(e)) => return Err(CloudLinkError::io(output, "add channel", e)),
                    Err(_) => report.records_skipped += 1,
                }
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
    Ok((report, writer.into_inner()))
}
