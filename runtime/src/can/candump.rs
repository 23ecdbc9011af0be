//! can-utils `candump -l` log files: replay (a reader that is a [`CanBus`]) and recording (a
//! writer that is a [`CanBus`] too).
//!
//! One frame per line, as can-utils' `candump -l` writes it (`lib.c`, `sprint_canframe`):
//!
//! ```text
//! (1436509052.249713) can0 123#DEADBEEF          standard id: 3 hex digits, data 0..=8 bytes
//! (1436509052.250000) can0 18FEF100#00FF         extended id: 8 hex digits
//! (1436509052.250100) can1 123##1DEADBEEF...     CAN FD: `##`, one hex digit of flags, 0..=64 bytes
//! (1436509052.250200) can0 123#R                 remote request (skipped: no data)
//! (1436509052.250300) can0 20000004#0000...      error frame, 8 digits with CAN_ERR_FLAG (skipped)
//! ```
//!
//! The reader also accepts `.` between data bytes, lower-case hex, a `_D` length-code suffix
//! on 8-byte classic frames, and a trailing `R`/`T` (received/transmitted) column. Blank lines
//! are ignored. Frames are stamped from the log (seconds since the epoch, to the microsecond)
//! and carry the log's interface column as their bus. Frames longer than 8 bytes are written
//! as CAN FD with flags 0; a CAN FD frame of 8 bytes or fewer reads back as a classic one
//! ([`CanFrame`] has no FD marker).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pitsense_types::CanFrame;

use super::bus::{CanBus, CanError, MAX_EXTENDED_ID, check_frame, is_fd_length};

/// `canid_t` error-frame flag: an 8-digit id with it set is an error frame.
const CAN_ERR_FLAG: u32 = 0x2000_0000;

/// What one log line holds.
#[derive(Debug, PartialEq)]
pub(crate) enum LogLine {
    /// A data frame.
    Frame(CanFrame),
    /// A remote request or an error frame: valid, but not data.
    NotData,
    /// Blank.
    Empty,
}

fn hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn parse_hex_u32(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 8 {
        return None;
    }
    text.bytes().try_fold(0u32, |value, c| Some((value << 4) | u32::from(hex_nibble(c)?)))
}

/// Parses `(SECONDS.FRACTION)` into nanoseconds, exactly (no floating point).
fn parse_stamp_ns(field: &str) -> Result<u64, String> {
    let inner = field
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("timestamp `{field}` is not (SECONDS.MICROSECONDS)"))?;
    let (seconds, fraction) =
        inner.split_once('.').ok_or_else(|| format!("timestamp `{field}` has no decimal point"))?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(seconds) || !digits(fraction) || fraction.len() > 9 {
        return Err(format!("timestamp `{field}` is not (SECONDS.MICROSECONDS)"));
    }
    let seconds: u64 = seconds.parse().map_err(|_| format!("timestamp `{field}` is out of range"))?;
    let mut fraction_ns: u64 =
        fraction.parse().map_err(|_| format!("timestamp `{field}` is out of range"))?;
    for _ in fraction.len()..9 {
        fraction_ns *= 10;
    }
    seconds
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(fraction_ns))
        .ok_or_else(|| format!("timestamp `{field}` is out of range"))
}

/// Parses the `ID#DATA` field.
fn parse_frame_field(field: &str, stamp_ns: u64, bus: &str) -> Result<LogLine, String> {
    let (id_text, rest) = field.split_once('#').ok_or_else(|| format!("frame `{field}` has no `#`"))?;
    let id_word = parse_hex_u32(id_text).ok_or_else(|| format!("id `{id_text}` is not hexadecimal"))?;
    let extended = match id_text.len() {
        3 => false,
        8 if id_word & CAN_ERR_FLAG != 0 => return Ok(LogLine::NotData),
        8 if id_word > MAX_EXTENDED_ID => return Err(format!("extended id `{id_text}` exceeds 29 bits")),
        8 => true,
        n => return Err(format!("id `{id_text}` has {n} digits (3 for standard, 8 for extended ids)")),
    };
    if id_text.len() == 3 && id_word > 0x7FF {
        return Err(format!("standard id `{id_text}` exceeds 11 bits"));
    }
    if rest.starts_with('#') && rest.get(1..2) == Some("#") {
        return Err("CAN XL frames (`###`) are not supported".into());
    }
    let (fd, hex) = match rest.strip_prefix('#') {
        Some(fd_rest) => {
            let mut chars = fd_rest.bytes();
            if chars.next().and_then(hex_nibble).is_none() {
                return Err(format!("CAN FD frame `{field}` has no flags digit after `##`"));
            }
            (true, fd_rest.get(1..).unwrap_or_default())
        }
        None => {
            if rest.starts_with(['R', 'r']) {
                return Ok(LogLine::NotData);
            }
            (false, rest)
        }
    };
    // A classic 8-byte frame may carry its raw length code (9..=15) as `_D`.
    let hex = match hex.split_once('_') {
        Some((data, dlc)) if !fd && dlc.len() == 1 && dlc.bytes().all(|c| c.is_ascii_hexdigit()) => data,
        Some(_) => return Err(format!("data `{hex}` has a misplaced `_`")),
        None => hex,
    };
    let mut data = Vec::with_capacity(hex.len() / 2);
    let mut nibbles = hex.bytes().filter(|&c| c != b'.');
    while let Some(high) = nibbles.next() {
        let low = nibbles.next().ok_or_else(|| format!("data `{hex}` has an odd number of hex digits"))?;
        let (Some(high), Some(low)) = (hex_nibble(high), hex_nibble(low)) else {
            return Err(format!("data `{hex}` is not hexadecimal"));
        };
        data.push((high << 4) | low);
    }
    let valid_len = if fd { data.len() <= 64 && is_fd_length(data.len()) } else { data.len() <= 8 };
    if !valid_len {
        let kind = if fd { "CAN FD" } else { "classic CAN (use `##` for CAN FD)" };
        return Err(format!("{} data bytes is not a {kind} length", data.len()));
    }
    Ok(LogLine::Frame(CanFrame { stamp_ns, bus: bus.to_owned(), can_id: id_word, extended, data }))
}

/// Parses one `candump -l` line.
pub(crate) fn parse_line(line: &str) -> Result<LogLine, String> {
    let mut fields = line.split_ascii_whitespace();
    let Some(stamp_field) = fields.next() else {
        return Ok(LogLine::Empty);
    };
    let stamp_ns = parse_stamp_ns(stamp_field)?;
    let bus = fields.next().ok_or("no interface column")?;
    let frame_field = fields.next().ok_or("no frame column (ID#DATA)")?;
    match fields.next() {
        None | Some("R" | "T") => {}
        Some(extra) => return Err(format!("unexpected column `{extra}` after the frame")),
    }
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected column `{extra}` after the frame"));
    }
    parse_frame_field(frame_field, stamp_ns, bus)
}

/// Formats one frame as a `candump -l` line (without the newline).
pub(crate) fn format_line(frame: &CanFrame, out: &mut String) {
    use std::fmt::Write as _;
    let seconds = frame.stamp_ns / 1_000_000_000;
    let micros = (frame.stamp_ns % 1_000_000_000) / 1_000;
    // Writing into a String cannot fail.
    let _ = write!(out, "({seconds:010}.{micros:06}) {} ", frame.bus);
    let _ = if frame.extended {
        write!(out, "{:08X}#", frame.can_id)
    } else {
        write!(out, "{:03X}#", frame.can_id)
    };
    if frame.data.len() > 8 {
        out.push_str("#0");
    }
    for byte in &frame.data {
        let _ = write!(out, "{byte:02X}");
    }
}

/// Replays a `candump -l` log as a [`CanBus`]: each [`CanBus::recv`] returns the next data
/// frame at once (no pacing: the replay clock is the caller's), stamped from the log.
///
/// A malformed line is returned as [`CanError::CandumpLine`] (file, line number, reason),
/// counted, and skipped: the next call reads on. Remote and error frames are counted and
/// skipped. After the last line every call returns [`CanError::EndOfLog`]. Sending is
/// refused ([`CanError::Unsupported`]).
#[derive(Debug)]
pub struct CandumpReader {
    name: String,
    path_text: String,
    input: BufReader<File>,
    line_buffer: Vec<u8>,
    line_number: usize,
    malformed_lines: u64,
    skipped_frames: u64,
}

impl CandumpReader {
    /// Opens a log for replay.
    ///
    /// # Errors
    /// [`CanError::Io`] when the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, CanError> {
        let path_text = path.display().to_string();
        let file = File::open(path)
            .map_err(|source| CanError::Io { what: format!("candump log {path_text}: open"), source })?;
        Ok(Self {
            name: format!("candump:{path_text}"),
            path_text,
            input: BufReader::new(file),
            line_buffer: Vec::with_capacity(256),
            line_number: 0,
            malformed_lines: 0,
            skipped_frames: 0,
        })
    }

    /// Malformed lines met so far.
    pub fn malformed_lines(&self) -> u64 {
        self.malformed_lines
    }

    /// Remote-request and error frames skipped so far.
    pub fn skipped_frames(&self) -> u64 {
        self.skipped_frames
    }

    /// The next data frame of the log, without a timeout (see the type's documentation).
    ///
    /// # Errors
    /// As [`CanBus::recv`]: a malformed line, a read error, or the end of the log.
    pub fn next_frame(&mut self) -> Result<CanFrame, CanError> {
        loop {
            self.line_buffer.clear();
            let read =
                self.input.read_until(b'\n', &mut self.line_buffer).map_err(|source| CanError::Io {
                    what: format!("candump log {}: read after line {}", self.path_text, self.line_number),
                    source,
                })?;
            if read == 0 {
                return Err(CanError::EndOfLog { path: self.path_text.clone() });
            }
            self.line_number += 1;
            let parsed = match std::str::from_utf8(&self.line_buffer) {
                Ok(line) => parse_line(line),
                Err(_) => Err("the line is not UTF-8 text".to_owned()),
            };
            match parsed {
                Ok(LogLine::Frame(frame)) => return Ok(frame),
                Ok(LogLine::Empty) => {}
                Ok(LogLine::NotData) => self.skipped_frames += 1,
                Err(reason) => {
                    self.malformed_lines += 1;
                    return Err(CanError::CandumpLine {
                        path: self.path_text.clone(),
                        line: self.line_number,
                        reason,
                    });
                }
            }
        }
    }
}

impl CanBus for CandumpReader {
    fn recv(&mut self, _timeout: Duration) -> Result<Option<CanFrame>, CanError> {
        self.next_frame().map(Some)
    }

    fn send(&mut self, _frame: &CanFrame) -> Result<(), CanError> {
        Err(CanError::Unsupported { bus: self.name.clone(), reason: "a replayed log cannot send".into() })
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Records frames to a `candump -l` log as a [`CanBus`]: [`CanBus::send`] appends one line
/// per frame (its `stamp_ns` to the microsecond and its `bus` as the interface column) and
/// flushes it. Receiving is refused ([`CanError::Unsupported`]).
#[derive(Debug)]
pub struct CandumpWriter {
    name: String,
    path_text: String,
    output: BufWriter<File>,
    line: String,
}

impl CandumpWriter {
    /// Creates (or truncates) a log.
    ///
    /// # Errors
    /// [`CanError::Io`] when the file cannot be created.
    pub fn create(path: &Path) -> Result<Self, CanError> {
        let path_text = path.display().to_string();
        let file = File::create(path)
            .map_err(|source| CanError::Io { what: format!("candump log {path_text}: create"), source })?;
        Ok(Self {
            name: format!("candump-write:{path_text}"),
            path_text,
            output: BufWriter::new(file),
            line: String::with_capacity(256),
        })
    }

    /// Appends one frame.
    ///
    /// # Errors
    /// [`CanError::InvalidFrame`] for a frame no bus carries or whose `bus` is not one
    /// whitespace-free word; [`CanError::Io`] when writing fails.
    pub fn write_frame(&mut self, frame: &CanFrame) -> Result<(), CanError> {
        let invalid =
            |reason: String| CanError::InvalidFrame { bus: self.name.clone(), can_id: frame.can_id, reason };
        check_frame(frame).map_err(invalid)?;
        if frame.bus.is_empty() || frame.bus.chars().any(char::is_whitespace) {
            return Err(invalid(format!("bus name `{}` must be one word", frame.bus)));
        }
        self.line.clear();
        format_line(frame, &mut self.line);
        self.line.push('\n');
        self.output
            .write_all(self.line.as_bytes())
            .and_then(|()| self.output.flush())
            .map_err(|source| CanError::Io { what: format!("candump log {}: write", self.path_text), source })
    }
}

impl CanBus for CandumpWriter {
    fn recv(&mut self, _timeout: Duration) -> Result<Option<CanFrame>, CanError> {
        Err(CanError::Unsupported {
            bus: self.name.clone(),
            reason: "a log being written cannot receive".into(),
        })
    }

    fn send(&mut self, frame: &CanFrame) -> Result<(), CanError> {
        self.write_frame(frame)
    }

    fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(line: &str) -> CanFrame {
        match parse_line(line) {
            Ok(LogLine::Frame(frame)) => frame,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn lines_in_every_form_parse() {
        let f = frame("(1436509052.249713) can0 123#DEADBEEF");
        assert_eq!(f.stamp_ns, 1_436_509_052_249_713_000);
        assert_eq!((f.bus.as_str(), f.can_id, f.extended), ("can0", 0x123, false));
        assert_eq!(f.data, [0xDE, 0xAD, 0xBE, 0xEF]);

        let f = frame("(0.5) vcan1 18FEF100#00.ff.10 R");
        assert_eq!((f.stamp_ns, f.can_id, f.extended), (500_000_000, 0x18FE_F100, true));
        assert_eq!(f.data, [0x00, 0xFF, 0x10]);

        let f = frame("(1.000001) can0 00000123#");
        assert_eq!((f.can_id, f.extended, f.data.len()), (0x123, true, 0));

        let f = frame(&format!("(1.0) can1 7FF##1{}", "AB".repeat(12)));
        assert_eq!((f.can_id, f.data.len()), (0x7FF, 12));

        let f = frame("(1.0) can0 100#0102030405060708_C");
        assert_eq!(f.data.len(), 8);

        assert_eq!(parse_line("(1.0) can0 123#R"), Ok(LogLine::NotData));
        assert_eq!(parse_line("(1.0) can0 123#R4"), Ok(LogLine::NotData));
        assert_eq!(parse_line("(1.0) can0 20000004#0000000000000000"), Ok(LogLine::NotData));
        assert_eq!(parse_line("   "), Ok(LogLine::Empty));
    }

    #[test]
    fn malformed_lines_say_why() {
        for (line, needle) in [
            ("1436509052.249713 can0 123#00", "not (SECONDS"),
            ("(1436509052) can0 123#00", "no decimal point"),
            ("(99999999999999999999.0) can0 123#00", "out of range"),
            ("(1.0) can0", "no frame column"),
            ("(1.0) can0 12#00", "has 2 digits"),
            ("(1.0) can0 800#00", "exceeds 11 bits"),
            ("(1.0) can0 1G3#00", "not hexadecimal"),
            ("(1.0) can0 123#0", "odd number"),
            ("(1.0) can0 123#0X", "not hexadecimal"),
            ("(1.0) can0 123#000102030405060708", "9 data bytes is not a classic"),
            ("(1.0) can0 123##0000102030405060708", "9 data bytes is not a CAN FD"),
            ("(1.0) can0 123##", "no flags digit"),
            ("(1.0) can0 123###00", "CAN XL"),
            ("(1.0) can0 123-00", "has no `#`"),
            ("(1.0) can0 123#00 X", "unexpected column `X`"),
        ] {
            let error = parse_line(line).unwrap_err();
            assert!(error.contains(needle), "{line}: {error}");
        }
    }

    #[test]
    fn lines_format_as_candump_writes_them() {
        let mut line = String::new();
        let classic = CanFrame {
            stamp_ns: 1_436_509_052_249_713_999,
            bus: "can0".into(),
            can_id: 0x123,
            extended: false,
            data: vec![0xDE, 0xAD, 0xBE, 0xEF],
        };
        format_line(&classic, &mut line);
        assert_eq!(line, "(1436509052.249713) can0 123#DEADBEEF");
        line.clear();
        let fd =
            CanFrame { stamp_ns: 5, bus: "can1".into(), can_id: 0x1, extended: true, data: vec![0x0A; 12] };
        format_line(&fd, &mut line);
        assert_eq!(line, format!("(0000000000.000000) can1 00000001##0{}", "0A".repeat(12)));
    }
}
