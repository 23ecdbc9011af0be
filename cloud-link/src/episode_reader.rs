//! Reading episodes back: the inverse of [`crate::episode`], for replay and model testing.
//!
//! An [`EpisodeReader`] opens an episode written by [`crate::EpisodeWriter`] (or rebuilt by
//! [`crate::recover`]), reads its `pitsense.episode` metadata and yields its messages **in log
//! time order** as [`EpisodeMessage`]s. Messages of one log time come in no promised order
//! (the indexed reader keeps file order within a chunk, not across chunks whose times overlap):
//! a replay waits for the log time to pass before it uses what was logged at it. It reads through the MCAP summary's chunk indexes with the
//! `mcap` crate's sans-I/O indexed reader, one chunk in memory at a time, so an episode of any
//! size replays in bounded memory.
//!
//! What reads back (protobuf, and JSON from episodes recorded before: [`crate::schemas::decode`]):
//! `foxglove.PointCloud` (x, y, z, intensity as `FLOAT32`, 16-byte stride: the
//! layout [`crate::schemas::point_cloud`] writes), `foxglove.CompressedImage`,
//! `pitsense.Detections2d`, `pitsense.V2xRaw`, `pitsense.CanFrame`, `pitsense.EgoState` and
//! `pitsense.HealthReport`. Outputs of the run that recorded it (`/tf`, `/detections_3d`,
//! `/tracks`, `/v2x/decoded`) are not inputs of a replay and are not read back as messages;
//! [`EpisodeReader::next_raw`] gives every channel's bytes (the catalog's index reads `/tracks`
//! so), and [`EpisodeReader::only_topics`] limits reading to some channels. Foxglove's point cloud and image carry no
//! sequence number: their headers read back with `seq` 0.
//!
//! Errors: a file that is not an indexed MCAP (no summary: a torn episode, which `pitsense
//! episode recover` rebuilds), a chunk that cannot be read or decompressed, and one message that
//! does not decode each come out as an [`EpisodeReadError`] naming the file, and for a message its
//! topic and log time. A message error skips that message only; after a file or chunk error the
//! reader ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use mcap::sans_io::indexed_reader::{IndexedReadEvent, IndexedReader, IndexedReaderOptions, ReadOrder};
use mcap::sans_io::summary_reader::{SummaryReadEvent, SummaryReader, SummaryReaderOptions};
use pitsense_types::EgoState;

use crate::episode::{EPISODE_METADATA_NAME, EpisodeMessage, EpisodeMetadata, RecordedEgo};
use crate::schemas;
use crate::truck_to_cloud::MAX_CHUNK_SIZE_BYTES;

/// The 8 bytes every MCAP file (every episode) starts and ends with.
pub const MCAP_MAGIC: &[u8] = mcap::MAGIC;

/// Largest record the reader accepts (a chunk, compressed or not, or one record of the summary):
/// [`MAX_CHUNK_SIZE_BYTES`], the largest chunk the writer makes, doubled for headroom. A longer
/// length is a damaged file, not an allocation.
pub const MAX_RECORD_BYTES: usize = 2 * MAX_CHUNK_SIZE_BYTES as usize;

/// The declared contents of all chunks together may reach this many times the file's size...
pub const MAX_DECLARED_RATIO: u64 = 1000;
/// ...or this many bytes, whichever is more (256 MiB).
pub const MIN_DECLARED_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// What went wrong reading an episode.
#[derive(Debug, thiserror::Error)]
pub enum EpisodeReadError {
    /// The file cannot be opened or read.
    #[error("episode {path}: {action}: {source}")]
    Io {
        /// The episode.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a readable, indexed episode (or one of its chunks is damaged).
    #[error("episode {path}: {reason}")]
    File {
        /// The episode.
        path: PathBuf,
        /// What is wrong, and what to do about it.
        reason: String,
    },
    /// One message does not decode; the reader skips it and goes on.
    #[error("episode {path}: message on {topic} at {log_time_ns} ns: {reason}")]
    Message {
        /// The episode.
        path: PathBuf,
        /// The message's channel topic.
        topic: String,
        /// The message's log time, ns.
        log_time_ns: u64,
        /// Why it does not decode.
        reason: String,
    },
}

/// One message read back.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadMessage {
    /// Its channel topic (`/lidar0/points`, ...).
    pub topic: String,
    /// Its log time, ns (the writer logs every message at its stamp).
    pub log_time_ns: u64,
    /// The message.
    pub message: EpisodeMessage,
}

/// An episode opened for reading; iterate it for its messages in log time order.
///
/// `R` is where the bytes come from: a [`File`] ([`EpisodeReader::open`]) or any seekable reader
/// ([`EpisodeReader::from_reader`], e.g. an episode held in memory).
pub struct EpisodeReader<R = File> {
    path: PathBuf,
    file: R,
    /// The file's size, bytes: no chunk is read past it.
    size_bytes: u64,
    summary: mcap::Summary,
    metadata: EpisodeMetadata,
    reader: IndexedReader,
    chunk: Vec<u8>,
    ended: bool,
}

impl<R> std::fmt::Debug for EpisodeReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpisodeReader").field("path", &self.path).field("metadata", &self.metadata).finish()
    }
}

impl EpisodeReader<File> {
    /// Opens `path`, reads its summary and its `pitsense.episode` metadata (a file without one
    /// reads with empty metadata).
    ///
    /// # Errors
    /// The file cannot be read, is not MCAP, has no summary (a torn episode: run `pitsense
    /// episode recover` on it first) or has a damaged summary or metadata record.
    pub fn open(path: &Path) -> Result<Self, EpisodeReadError> {
        let file = File::open(path).map_err(|source| EpisodeReadError::Io {
            path: path.to_owned(),
            action: "cannot open",
            source,
        })?;
        Self::from_reader(file, path)
    }
}

impl<R: Read + Seek> EpisodeReader<R> {
    /// Reads an episode from `file` (positioned anywhere: it is read from byte 0); `path` names
    /// it in errors. Same errors as [`EpisodeReader::open`].
    pub fn from_reader(mut file: R, path: &Path) -> Result<Self, EpisodeReadError> {
        let io = |action| move |source| EpisodeReadError::Io { path: path.to_owned(), action, source };
        let file_error = |reason: String| EpisodeReadError::File { path: path.to_owned(), reason };
        let size_bytes = file.seek(SeekFrom::End(0)).map_err(io("cannot read its size"))?;
        file.seek(SeekFrom::Start(0)).map_err(io("cannot seek"))?;
        let mut magic = [0_u8; 8];
        if file.read_exact(&mut magic).is_err() || magic[..] != *mcap::MAGIC {
            return Err(file_error(
                "not a readable MCAP file: it does not start with the MCAP magic".to_owned(),
            ));
        }
        // An episode starts with the magic; one that does not also end with it was torn.
        let torn = |e: mcap::McapError| {
            file_error(format!(
                "no summary or footer ({e}: a torn episode): rebuild it with `pitsense episode recover` first"
            ))
        };
        // The `mcap` crate's summary reader decompresses a chunk it meets in the summary section,
        // and spins for ever on one whose compressed bytes end before its declared contents
        // (found by fuzzing: a 4 kB file whose footer points the summary at the data section).
        // The summary section holds no data records (MCAP specification, "Summary Section").
        if let Some((offset, opcode)) =
            data_record_in_summary(&mut file, size_bytes).map_err(io("cannot read"))?
        {
            return Err(file_error(format!(
                "the summary section holds a data record (opcode {opcode:#04x} at byte {offset}): a damaged \
                 footer or summary; rebuild it with `pitsense episode recover`"
            )));
        }
        file.seek(SeekFrom::Start(0)).map_err(io("cannot seek"))?;
        let options = SummaryReaderOptions::default()
            .with_file_size(size_bytes)
            .with_record_length_limit(MAX_RECORD_BYTES);
        let mut summary_reader = SummaryReader::new_with_options(options);
        while let Some(event) = summary_reader.next_event() {
            match event.map_err(torn)? {
                SummaryReadEvent::ReadRequest(need) => {
                    // The `mcap` crate sizes its buffer by the request before anything is read:
                    // a damaged length asks for more than the file holds (found by fuzzing: 4 GB
                    // for a 4 kB file). No request can be larger than the file.
                    if need as u64 > size_bytes {
                        return Err(file_error(format!(
                            "the summary asks for {need} bytes, more than the file's {size_bytes}: a damaged \
                             or torn episode; rebuild it with `pitsense episode recover`"
                        )));
                    }
                    let read = file.read(summary_reader.insert(need)).map_err(io("cannot read"))?;
                    summary_reader.notify_read(read);
                }
                SummaryReadEvent::SeekRequest(to) => {
                    summary_reader.notify_seeked(file.seek(to).map_err(io("cannot seek"))?);
                }
            }
        }
        let Some(summary) = summary_reader.finish() else {
            return Err(file_error(
                "no summary (a torn episode): rebuild it with `pitsense episode recover` first".to_owned(),
            ));
        };
        let metadata = match summary.metadata_indexes.iter().find(|index| index.name == EPISODE_METADATA_NAME)
        {
            Some(index) => {
                let record = read_record(&mut file, index.offset, index.length).map_err(io("cannot read"))?;
                let fields = match mcap::parse_record(mcap::records::op::METADATA, &record) {
                    Ok(mcap::records::Record::Metadata(metadata)) => metadata.metadata,
                    Ok(_) | Err(_) => {
                        return Err(file_error("the episode metadata record is damaged".to_owned()));
                    }
                };
                EpisodeMetadata::from_map(&fields)
            }
            None => EpisodeMetadata::default(),
        };
        // The `mcap` crate's indexed reader trusts the chunk indexes' sizes: it panics on an
        // uncompressed chunk whose two sizes differ and reserves whatever a compressed one
        // declares. Check them first (the records themselves may be intact: recovery rebuilds
        // the file from them without the summary).
        // Chunks whose time ranges overlap are held at once, each at its declared size: bound
        // the declared total by what the file could hold (found by fuzzing: 4 kB of damaged
        // indexes made the reader allocate 4 GB). The sum saturates: declared sizes near 2^64
        // overflowed it (found by fuzzing again), which would have let them through.
        let declared_total: u64 = summary
            .chunk_indexes
            .iter()
            .fold(0_u64, |total, chunk| total.saturating_add(chunk.uncompressed_size));
        let budget = MIN_DECLARED_BUDGET_BYTES.max(size_bytes.saturating_mul(MAX_DECLARED_RATIO));
        if declared_total > budget {
            return Err(file_error(format!(
                "the chunk indexes declare {declared_total} bytes of contents, more than {MAX_DECLARED_RATIO} \
                 times the file's {size_bytes} bytes (at least {MIN_DECLARED_BUDGET_BYTES}): the summary is \
                 damaged; rebuild the episode from its records with `pitsense episode recover`"
            )));
        }
        for (index, chunk) in summary.chunk_indexes.iter().enumerate() {
            let chunk_end = chunk.chunk_start_offset.checked_add(chunk.chunk_length);
            let fault = if chunk_end.is_none_or(|end| end > size_bytes)
                || chunk.compressed_size > chunk.chunk_length
            {
                Some(format!(
                    "claims {} bytes ({} compressed) from byte {}, past the file's {size_bytes} bytes",
                    chunk.chunk_length, chunk.compressed_size, chunk.chunk_start_offset
                ))
            } else if chunk.uncompressed_size > MAX_RECORD_BYTES as u64 {
                Some(format!(
                    "declares {} bytes uncompressed, more than {MAX_RECORD_BYTES}",
                    chunk.uncompressed_size
                ))
            } else if chunk.compression.is_empty() && chunk.uncompressed_size != chunk.compressed_size {
                Some(format!(
                    "is uncompressed but declares {} bytes compressed and {} uncompressed",
                    chunk.compressed_size, chunk.uncompressed_size
                ))
            } else {
                None
            };
            if let Some(fault) = fault {
                return Err(file_error(format!(
                    "chunk index {index} (chunk at byte {}) {fault}: the summary is damaged; rebuild \
                     the episode from its records with `pitsense episode recover`",
                    chunk.chunk_start_offset
                )));
            }
        }
        let options = IndexedReaderOptions::new()
            .with_order(ReadOrder::LogTime)
            .with_record_length_limit(MAX_RECORD_BYTES);
        let reader = IndexedReader::new_with_options(&summary, options)
            .map_err(|e| file_error(format!("chunk indexes: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            file,
            size_bytes,
            summary,
            metadata,
            reader,
            chunk: Vec::new(),
            ended: false,
        })
    }

    /// The episode's metadata.
    pub fn metadata(&self) -> &EpisodeMetadata {
        &self.metadata
    }

    /// The episode's channel topics, sorted.
    pub fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> =
            self.summary.channels.values().map(|channel| channel.topic.clone()).collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// Messages per topic, from the summary's statistics (empty when it has none).
    pub fn topic_message_counts(&self) -> std::collections::BTreeMap<String, u64> {
        let mut counts = std::collections::BTreeMap::new();
        if let Some(stats) = &self.summary.stats {
            for (channel_id, count) in &stats.channel_message_counts {
                if let Some(channel) = self.summary.channels.get(channel_id) {
                    *counts.entry(channel.topic.clone()).or_insert(0) += count;
                }
            }
        }
        counts
    }

    /// The first and last message log times, ns, from the summary's statistics (`None` when it
    /// has none, or the episode holds no message).
    pub fn message_time_range(&self) -> Option<(u64, u64)> {
        self.summary
            .stats
            .as_ref()
            .filter(|stats| stats.message_count > 0)
            .map(|stats| (stats.message_start_time, stats.message_end_time))
    }

    fn file_error(&mut self, reason: String) -> EpisodeReadError {
        self.ended = true;
        EpisodeReadError::File { path: self.path.clone(), reason }
    }
}

/// Reads `length` bytes at `offset` (the record, opcode and length prefix included) and returns
/// the record's body.
/// Opcodes of the records that belong to the data section only (MCAP specification, "Records"):
/// header, footer, message, chunk, message index, attachment, metadata, data end.
const DATA_SECTION_OPCODES: [u8; 8] = [0x01, 0x02, 0x05, 0x06, 0x07, 0x09, 0x0C, 0x0F];

/// The first data-section record (its offset and opcode) in the summary section that the footer
/// of a `size_bytes` file points to; `None` when there is none, when the file has no summary, or
/// when the footer or a record length is itself damaged (the summary reader reports those).
/// The footer is the 29-byte record before the closing magic: opcode 0x02, length 20, then
/// `summary_start` (u64 LE), `summary_offset_start` (u64) and a CRC (u32).
fn data_record_in_summary(
    file: &mut (impl Read + Seek),
    size_bytes: u64,
) -> std::io::Result<Option<(u64, u8)>> {
    const FOOTER_BYTES: u64 = 1 + 8 + 20;
    let Some(footer_start) = size_bytes.checked_sub(FOOTER_BYTES + MCAP_MAGIC.len() as u64) else {
        return Ok(None);
    };
    let mut footer = [0_u8; FOOTER_BYTES as usize];
    file.seek(SeekFrom::Start(footer_start))?;
    file.read_exact(&mut footer)?;
    let le_u64 = |bytes: &[u8]| bytes.try_into().map_or(0, u64::from_le_bytes);
    // The summary reader takes `summary_start` from its place whatever the footer's opcode and
    // length say (found by fuzzing: a footer of length 16,318,227 pointing at a chunk), so
    // neither is checked here.
    let summary_start = le_u64(&footer[9..17]);
    if summary_start == 0 || summary_start >= footer_start {
        return Ok(None);
    }
    let mut position = summary_start;
    let mut record_header = [0_u8; 9];
    while position.saturating_add(9) <= footer_start {
        file.seek(SeekFrom::Start(position))?;
        file.read_exact(&mut record_header)?;
        if DATA_SECTION_OPCODES.contains(&record_header[0]) {
            return Ok(Some((position, record_header[0])));
        }
        position = position.saturating_add(9).saturating_add(le_u64(&record_header[1..9]));
    }
    Ok(None)
}

fn read_record(file: &mut (impl Read + Seek), offset: u64, length: u64) -> std::io::Result<Vec<u8>> {
    let length = usize::try_from(length)
        .ok()
        .filter(|length| (9..=MAX_RECORD_BYTES).contains(length))
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "record length out of bounds"))?;
    file.seek(SeekFrom::Start(offset))?;
    let mut record = vec![0_u8; length];
    file.read_exact(&mut record)?;
    // Opcode (1 byte) and body length (8 bytes) come first.
    Ok(record.split_off(9))
}

/// One message as stored: its channel, schema and undecoded bytes ([`EpisodeReader::next_raw`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// Its channel topic (`/tracks`, ...).
    pub topic: String,
    /// Its channel's schema name (`foxglove.SceneUpdate`, ...; empty without a schema).
    pub schema_name: String,
    /// Its channel's message encoding (`protobuf`; `json` in episodes recorded before).
    pub message_encoding: String,
    /// Its log time, ns.
    pub log_time_ns: u64,
    /// The message bytes.
    pub data: Vec<u8>,
}

/// One message as stored, borrowed from the chunk in memory ([`EpisodeReader::next_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageView<'a> {
    /// Its channel topic (`/tracks`, ...).
    pub topic: &'a str,
    /// Its channel's schema name (`foxglove.SceneUpdate`, ...; empty without a schema).
    pub schema_name: &'a str,
    /// Its channel's message encoding (`protobuf`; `json` in episodes recorded before).
    pub message_encoding: &'a str,
    /// Its log time, ns.
    pub log_time_ns: u64,
    /// The message bytes.
    pub data: &'a [u8],
}

impl MessageView<'_> {
    /// The message copied out.
    pub fn to_raw(&self) -> RawMessage {
        RawMessage {
            topic: self.topic.to_owned(),
            schema_name: self.schema_name.to_owned(),
            message_encoding: self.message_encoding.to_owned(),
            log_time_ns: self.log_time_ns,
            data: self.data.to_vec(),
        }
    }

    /// Decodes the message as the iterator does: `Ok(None)` for a channel that is not read
    /// back.
    ///
    /// # Errors
    /// The message does not decode: [`EpisodeReadError::Message`] naming `path` (the episode),
    /// the topic and the log time.
    pub fn decode(&self, path: &Path) -> Result<Option<ReadMessage>, EpisodeReadError> {
        match decode(self.schema_name, self.message_encoding, self.data) {
            Ok(message) => Ok(message.map(|message| ReadMessage {
                topic: self.topic.to_owned(),
                log_time_ns: self.log_time_ns,
                message,
            })),
            Err(reason) => Err(EpisodeReadError::Message {
                path: path.to_owned(),
                topic: self.topic.to_owned(),
                log_time_ns: self.log_time_ns,
                reason,
            }),
        }
    }
}

impl RawMessage {
    /// The message borrowed as a [`MessageView`].
    pub fn view(&self) -> MessageView<'_> {
        MessageView {
            topic: &self.topic,
            schema_name: &self.schema_name,
            message_encoding: &self.message_encoding,
            log_time_ns: self.log_time_ns,
            data: &self.data,
        }
    }
}

impl<R: Read + Seek> EpisodeReader<R> {
    /// Reads only the channels on `topics` from here on (the chunk indexes' message indexes
    /// pick them out; a chunk holding none of them is not read). Call it before reading.
    ///
    /// # Errors
    /// The chunk indexes cannot be used (as in [`EpisodeReader::open`]).
    pub fn only_topics<T: Into<String>>(
        mut self,
        topics: impl IntoIterator<Item = T>,
    ) -> Result<Self, EpisodeReadError> {
        let options = IndexedReaderOptions::new()
            .with_order(ReadOrder::LogTime)
            .with_record_length_limit(MAX_RECORD_BYTES)
            .include_topics(topics.into_iter().map(Into::into));
        self.reader = IndexedReader::new_with_options(&self.summary, options).map_err(|e| {
            EpisodeReadError::File { path: self.path.clone(), reason: format!("chunk indexes: {e}") }
        })?;
        Ok(self)
    }

    /// Decodes a message [`EpisodeReader::next_raw`] gave, as the iterator does: `Ok(None)` for
    /// a channel that is not read back.
    ///
    /// # Errors
    /// The message does not decode: [`EpisodeReadError::Message`] naming this file, the topic
    /// and the log time.
    pub fn decode_raw(&self, raw: RawMessage) -> Result<Option<ReadMessage>, EpisodeReadError> {
        raw.view().decode(&self.path)
    }

    /// The next message in log time order, undecoded and copied out: what [`Iterator::next`]
    /// decodes. Every channel comes out, also those replay does not read back (`/tracks`, `/tf`,
    /// ...).
    ///
    /// Errors: as the iterator's file and chunk errors; after one the reader ends.
    pub fn next_raw(&mut self) -> Option<Result<RawMessage, EpisodeReadError>> {
        self.next_with(|view| Some(view.to_raw()))
    }

    /// This reader's file, as its errors name it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next message in log time order that `visit` takes: each message is shown to `visit`
    /// borrowed from the chunk in memory (no copy) until it returns `Some`. [`Self::next_raw`]
    /// and the iterator are built on it; a replay uses it to look at a message's topic before
    /// decoding it.
    ///
    /// Errors: as the iterator's file and chunk errors; after one the reader ends.
    pub fn next_with<T>(
        &mut self,
        mut visit: impl FnMut(MessageView<'_>) -> Option<T>,
    ) -> Option<Result<T, EpisodeReadError>> {
        loop {
            if self.ended {
                return None;
            }
            let event = match self.reader.next_event()? {
                Ok(event) => event,
                Err(error) => return Some(Err(self.file_error(format!("damaged chunk: {error}")))),
            };
            match event {
                IndexedReadEvent::ReadChunkRequest { offset, length } => {
                    // A damaged index can point past the file: refuse before allocating.
                    if offset.checked_add(length as u64).is_none_or(|end| end > self.size_bytes) {
                        let reason = format!(
                            "the chunk index points at {length} bytes from byte {offset}, past the end \
                             of the file ({} bytes)",
                            self.size_bytes
                        );
                        return Some(Err(self.file_error(reason)));
                    }
                    self.chunk.resize(length, 0);
                    let read = self
                        .file
                        .seek(SeekFrom::Start(offset))
                        .and_then(|_| self.file.read_exact(&mut self.chunk));
                    if let Err(error) = read {
                        return Some(Err(
                            self.file_error(format!("cannot read the chunk at byte {offset}: {error}"))
                        ));
                    }
                    if let Err(error) = self.reader.insert_chunk_record_data(offset, &self.chunk) {
                        return Some(
                            Err(self.file_error(format!("damaged chunk at byte {offset}: {error}"))),
                        );
                    }
                }
                IndexedReadEvent::Message { header, data } => {
                    let Some(channel) = self.summary.channels.get(&header.channel_id) else {
                        let reason = format!("a message on unknown channel {}", header.channel_id);
                        return Some(Err(self.file_error(reason)));
                    };
                    let view = MessageView {
                        topic: &channel.topic,
                        schema_name: channel.schema.as_ref().map_or("", |schema| schema.name.as_str()),
                        message_encoding: &channel.message_encoding,
                        log_time_ns: header.log_time,
                        data,
                    };
                    if let Some(value) = visit(view) {
                        return Some(Ok(value));
                    }
                }
            }
        }
    }
}

impl<R: Read + Seek> Iterator for EpisodeReader<R> {
    type Item = Result<ReadMessage, EpisodeReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = self.path.clone();
        // Decoded straight from the chunk in memory; channels not read back are passed over.
        self.next_with(|view| view.decode(&path).transpose()).map(Result::flatten)
    }
}

/// Decodes one message (see [`schemas::decode`]).
///
/// # Errors
/// As [`schemas::decode`].
pub fn decode(
    schema_name: &str,
    message_encoding: &str,
    data: &[u8],
) -> Result<Option<EpisodeMessage>, String> {
    schemas::decode(schema_name, message_encoding, data)
}

impl From<EgoState> for EpisodeMessage {
    /// A measured ego state ([`RecordedEgo::measured`]).
    fn from(ego: EgoState) -> Self {
        Self::Ego(RecordedEgo::measured(ego))
    }
}
