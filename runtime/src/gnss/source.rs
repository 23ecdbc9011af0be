//! GNSS/INS input: NMEA 0183 sentences from UDP, a serial device or a file, each stamped at
//! reception with the injected [`Clock`].
//!
//! URIs ([`GnssSource::open`]):
//! - `udp:ADDRESS:PORT` (e.g. `udp:127.0.0.1:10110`, `udp:0.0.0.0:10110`, `udp:[::1]:10110`):
//!   binds that local address and reads datagrams; one datagram may carry several sentences
//!   separated by CR LF, all stamped with the datagram's reception time. Numeric addresses only.
//! - `serial:PATH` (e.g. `serial:/dev/ttyUSB0`): opens the device and reads it line by line on
//!   a reader thread. The line settings (baud rate, 8N1, raw mode) are the operator's job, not
//!   ours: set them with a udev rule or `stty -F /dev/ttyUSB0 115200 raw -echo` before start.
//!   Lines are stamped on the reader thread as they complete and queued in a bounded queue of
//!   [`SERIAL_QUEUE_LINES`] that drops its oldest line when full (counted in
//!   [`GnssCounters::dropped`]).
//! - `file:PATH`: replays a text file of sentences, read synchronously line by line (no thread,
//!   no drops): each line is stamped with the clock when it is read, so in replay the clock is
//!   the recording's. The end of the file is [`GnssError::EndOfInput`].
//!
//! Lines that are not usable sentences never end the stream: they are counted by kind in
//! [`GnssCounters`], the newest is kept in [`GnssSource::last_rejection`], and `recv` goes on
//! to the next line.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pitsense_types::Clock;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::nmea::{MAX_SENTENCE_BYTES, NmeaError, NmeaErrorKind, Sentence, parse_sentence};

/// Lines held between the serial reader thread and [`GnssSource::recv`] (about 10 s of a 10 Hz
/// receiver sending GGA, RMC and HDT).
pub const SERIAL_QUEUE_LINES: usize = 256;

/// Largest UDP datagram read, bytes.
const MAX_DATAGRAM_BYTES: usize = 65_535;

/// A sentence and its reception time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StampedSentence {
    /// Time of reception, ns on the injected clock (the time of validity for sentences that
    /// carry no time of their own, HDT and THS).
    pub stamp_ns: u64,
    /// The parsed sentence.
    pub sentence: Sentence,
}

/// A line that was not a usable sentence, and when it came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Time of reception, ns on the injected clock.
    pub stamp_ns: u64,
    /// Why it was rejected (names the sentence and the reason).
    pub error: NmeaError,
}

/// What a source has seen since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GnssCounters {
    /// Sentences parsed and returned by `recv`.
    pub parsed: u64,
    /// Lines with a missing, unreadable or wrong checksum (truncated lines usually land here).
    pub bad_checksum: u64,
    /// Valid sentences of a type that is not read (GSV, VTG, proprietary...).
    pub unsupported: u64,
    /// Other unusable lines: not NMEA, bad fields, too long, not ASCII.
    pub malformed: u64,
    /// Lines dropped because the serial queue was full (oldest first).
    pub dropped: u64,
    /// UDP datagrams received.
    pub datagrams: u64,
}

/// Why a source cannot be opened or read.
#[derive(Debug, Error)]
pub enum GnssError {
    /// The URI is not `udp:ADDRESS:PORT`, `serial:PATH` or `file:PATH`.
    #[error("GNSS source `{uri}`: {reason}")]
    BadUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The socket, device or file cannot be opened.
    #[error("GNSS source `{uri}`: cannot open: {source}")]
    Open {
        /// The URI.
        uri: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Reading failed (the device went away, the socket failed).
    #[error("GNSS source `{uri}`: read failed: {source}")]
    Read {
        /// The URI.
        uri: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file (or the device, on hang-up) has no more data.
    #[error("GNSS source `{uri}`: end of input")]
    EndOfInput {
        /// The URI.
        uri: String,
    },
}

/// An NMEA 0183 input: UDP, serial device or file. See the module docs for the URIs.
#[derive(Debug)]
pub struct GnssSource {
    uri: String,
    clock: Arc<dyn Clock>,
    input: Input,
    counters: GnssCounters,
    last_rejection: Option<Rejection>,
}

#[derive(Debug)]
enum Input {
    Udp(UdpInput),
    File(FileInput),
    Serial(SerialInput),
}

#[derive(Debug)]
struct UdpInput {
    socket: UdpSocket,
    /// The last datagram and how far into it the lines have been handed out.
    datagram: Vec<u8>,
    len: usize,
    cursor: usize,
    stamp_ns: u64,
}

#[derive(Debug)]
struct FileInput {
    reader: BufReader<File>,
    line: Vec<u8>,
    finished: bool,
}

#[derive(Debug)]
struct SerialInput {
    shared: Arc<SerialShared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct SerialShared {
    state: Mutex<SerialState>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct SerialState {
    /// Stamped lines; `Err(len)` for a line longer than the limit (skipped).
    lines: VecDeque<(u64, Result<Vec<u8>, usize>)>,
    dropped: u64,
    /// Set when the reader thread ended: `Some(error)` for a read error, `None` at end of input.
    ended: Option<Option<std::io::Error>>,
}

/// One line read with a length limit.
pub(crate) enum LineRead {
    /// A line (possibly without its final LF at the end of input) is in the buffer.
    Line,
    /// The line was longer than the limit: its bytes up to the next LF were skipped.
    TooLong(usize),
    /// End of input, nothing read.
    End,
}

/// Reads one LF-terminated line of at most [`MAX_SENTENCE_BYTES`] (+ CR LF) into `line`.
pub(crate) fn read_bounded_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<LineRead> {
    line.clear();
    let limit = (MAX_SENTENCE_BYTES + 2) as u64;
    let read = reader.by_ref().take(limit + 1).read_until(b'\n', line)?;
    if read == 0 {
        return Ok(LineRead::End);
    }
    if line.len() as u64 <= limit || line.last() == Some(&b'\n') {
        return Ok(LineRead::Line);
    }
    // Too long: skip to the end of this line.
    let mut skipped = line.len();
    let mut sink = Vec::new();
    loop {
        sink.clear();
        let read = reader.by_ref().take(4096).read_until(b'\n', &mut sink)?;
        skipped += read;
        if read == 0 || sink.last() == Some(&b'\n') {
            break;
        }
    }
    line.clear();
    Ok(LineRead::TooLong(skipped))
}

impl GnssSource {
    /// Opens `uri` (`udp:ADDRESS:PORT`, `serial:PATH` or `file:PATH`); sentences get stamped
    /// with `clock` when they arrive.
    ///
    /// # Errors
    /// [`GnssError::BadUri`] for an unknown scheme or address, [`GnssError::Open`] when the
    /// socket cannot be bound or the path opened.
    pub fn open(uri: &str, clock: Arc<dyn Clock>) -> Result<Self, GnssError> {
        let bad_uri = |reason: &str| GnssError::BadUri { uri: uri.to_owned(), reason: reason.to_owned() };
        let open_error = |source| GnssError::Open { uri: uri.to_owned(), source };
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Err(bad_uri("expected `udp:ADDRESS:PORT`, `serial:PATH` or `file:PATH`"));
        };
        let input = match scheme {
            "udp" => {
                let address: SocketAddr = rest
                    .parse()
                    .map_err(|_| bad_uri("`udp:` needs a numeric ADDRESS:PORT such as 127.0.0.1:10110"))?;
                let socket = UdpSocket::bind(address).map_err(open_error)?;
                Input::Udp(UdpInput {
                    socket,
                    datagram: vec![0; MAX_DATAGRAM_BYTES],
                    len: 0,
                    cursor: 0,
                    stamp_ns: 0,
                })
            }
            "file" => {
                if rest.is_empty() {
                    return Err(bad_uri("`file:` needs a path"));
                }
                let file = File::open(rest).map_err(open_error)?;
                Input::File(FileInput { reader: BufReader::new(file), line: Vec::new(), finished: false })
            }
            "serial" => {
                if rest.is_empty() {
                    return Err(bad_uri("`serial:` needs a device path"));
                }
                let file = open_device(rest).map_err(open_error)?;
                Input::Serial(SerialInput::start(file, Arc::clone(&clock), uri).map_err(open_error)?)
            }
            _ => return Err(bad_uri("unknown scheme: expected `udp:`, `serial:` or `file:`")),
        };
        Ok(Self {
            uri: uri.to_owned(),
            clock,
            input,
            counters: GnssCounters::default(),
            last_rejection: None,
        })
    }

    /// The URI this source was opened with.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The local address of a UDP source (useful when bound to port 0); `None` otherwise.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.input {
            Input::Udp(udp) => udp.socket.local_addr().ok(),
            Input::File(_) | Input::Serial(_) => None,
        }
    }

    /// What the source has seen so far.
    pub fn counters(&self) -> GnssCounters {
        let mut counters = self.counters;
        if let Input::Serial(serial) = &self.input {
            counters.dropped = serial.shared.state.lock().unwrap_or_else(PoisonError::into_inner).dropped;
        }
        counters
    }

    /// The newest rejected line (for the health report: source and reason).
    pub fn last_rejection(&self) -> Option<&Rejection> {
        self.last_rejection.as_ref()
    }

    /// The next parsed sentence, waiting at most `timeout` for one. Unusable lines are counted
    /// and skipped.
    ///
    /// # Errors
    /// [`GnssError::Read`] when the socket or device fails, [`GnssError::EndOfInput`] at the end
    /// of a file or when a serial device hangs up. Returns `Ok(None)` when `timeout` passes
    /// without a sentence.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<StampedSentence>, GnssError> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => timeout,
            };
            let Some((stamp_ns, text)) = self.next_line(remaining)? else {
                return Ok(None);
            };
            match parse_sentence(&text) {
                Ok(sentence) => {
                    self.counters.parsed += 1;
                    return Ok(Some(StampedSentence { stamp_ns, sentence }));
                }
                Err(NmeaError::Empty) => {}
                Err(error) => self.reject(stamp_ns, error),
            }
        }
    }

    fn reject(&mut self, stamp_ns: u64, error: NmeaError) {
        match error.kind() {
            NmeaErrorKind::BadChecksum => self.counters.bad_checksum += 1,
            NmeaErrorKind::Unsupported => self.counters.unsupported += 1,
            NmeaErrorKind::Malformed => self.counters.malformed += 1,
        }
        self.last_rejection = Some(Rejection { stamp_ns, error });
    }

    /// The next raw line and its stamp; `None` on timeout.
    fn next_line(&mut self, timeout: Duration) -> Result<Option<(u64, String)>, GnssError> {
        loop {
            let read = match &mut self.input {
                Input::Udp(udp) => udp.next_line(timeout, self.clock.as_ref(), &mut self.counters),
                Input::File(file) => file.next_line(self.clock.as_ref()),
                Input::Serial(serial) => serial.next_line(timeout),
            };
            match read {
                Ok(NextLine::Line(stamp_ns, text)) => return Ok(Some((stamp_ns, text))),
                Ok(NextLine::TooLong(stamp_ns, len)) => {
                    let error =
                        NmeaError::TooLong { sentence: "<unread>".to_owned(), len, max: MAX_SENTENCE_BYTES };
                    self.reject(stamp_ns, error);
                }
                Ok(NextLine::Timeout) => return Ok(None),
                Ok(NextLine::End) => return Err(GnssError::EndOfInput { uri: self.uri.clone() }),
                Err(source) => return Err(GnssError::Read { uri: self.uri.clone(), source }),
            }
        }
    }
}

enum NextLine {
    Line(u64, String),
    TooLong(u64, usize),
    Timeout,
    End,
}

impl UdpInput {
    fn next_line(
        &mut self,
        timeout: Duration,
        clock: &dyn Clock,
        counters: &mut GnssCounters,
    ) -> std::io::Result<NextLine> {
        if let Some(line) = self.take_line() {
            return Ok(line);
        }
        // SO_RCVTIMEO of zero would mean "block forever".
        self.socket.set_read_timeout(Some(timeout.max(Duration::from_micros(1))))?;
        match self.socket.recv_from(&mut self.datagram) {
            Ok((len, _peer)) => {
                self.stamp_ns = clock.now_ns();
                self.len = len;
                self.cursor = 0;
                counters.datagrams += 1;
                Ok(self.take_line().unwrap_or(NextLine::Line(self.stamp_ns, String::new())))
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Ok(NextLine::Timeout)
            }
            // A previous send to an unreachable port reported back (Linux ICMP): not ours.
            Err(error) if error.kind() == ErrorKind::ConnectionRefused => Ok(NextLine::Timeout),
            Err(error) => Err(error),
        }
    }

    /// The next non-empty line of the current datagram.
    fn take_line(&mut self) -> Option<NextLine> {
        let datagram = self.datagram.get(..self.len)?;
        while self.cursor < datagram.len() {
            let rest = datagram.get(self.cursor..)?;
            let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
            let line = rest.get(..end)?;
            self.cursor += end;
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            return Some(NextLine::Line(self.stamp_ns, String::from_utf8_lossy(trimmed).into_owned()));
        }
        None
    }
}

impl FileInput {
    fn next_line(&mut self, clock: &dyn Clock) -> std::io::Result<NextLine> {
        if self.finished {
            return Ok(NextLine::End);
        }
        let read = read_bounded_line(&mut self.reader, &mut self.line)?;
        let stamp_ns = clock.now_ns();
        Ok(match read {
            LineRead::Line => NextLine::Line(stamp_ns, String::from_utf8_lossy(&self.line).into_owned()),
            LineRead::TooLong(len) => NextLine::TooLong(stamp_ns, len),
            LineRead::End => {
                self.finished = true;
                NextLine::End
            }
        })
    }
}

/// Opens a serial device for reading without making it the process's controlling terminal.
fn open_device(path: &str) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOCTTY);
    }
    options.open(path)
}

impl SerialInput {
    fn start(file: File, clock: Arc<dyn Clock>, uri: &str) -> std::io::Result<Self> {
        let shared = Arc::new(SerialShared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new().name(format!("gnss {uri}")).spawn({
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            move || serial_reader(BufReader::new(file), clock.as_ref(), &shared, &stop)
        })?;
        Ok(Self { shared, stop, thread: Some(thread) })
    }

    fn next_line(&mut self, timeout: Duration) -> std::io::Result<NextLine> {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some((stamp_ns, line)) = state.lines.pop_front() {
                return Ok(match line {
                    Ok(bytes) => NextLine::Line(stamp_ns, String::from_utf8_lossy(&bytes).into_owned()),
                    Err(len) => NextLine::TooLong(stamp_ns, len),
                });
            }
            if let Some(ended) = state.ended.as_mut() {
                return match ended.take() {
                    Some(error) => Err(error),
                    None => Ok(NextLine::End),
                };
            }
            let remaining = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => timeout,
            };
            if remaining.is_zero() {
                return Ok(NextLine::Timeout);
            }
            state =
                self.shared.ready.wait_timeout(state, remaining).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

impl Drop for SerialInput {
    /// Asks the reader thread to stop. It is blocked in `read` on the device and sees the flag
    /// after its next line (or at hang-up), so it is detached rather than joined.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        drop(self.thread.take());
    }
}

/// The serial reader thread: reads lines, stamps them, queues them (dropping the oldest when
/// full). A too-long line is queued as its length, and `next_line` turns it into a rejection.
fn serial_reader(mut reader: BufReader<File>, clock: &dyn Clock, shared: &SerialShared, stop: &AtomicBool) {
    let mut line = Vec::new();
    loop {
        let read = read_bounded_line(&mut reader, &mut line);
        let stamp_ns = clock.now_ns();
        let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        match read {
            Ok(read @ (LineRead::Line | LineRead::TooLong(_))) => {
                if state.lines.len() >= SERIAL_QUEUE_LINES {
                    state.lines.pop_front();
                    state.dropped += 1;
                }
                let item = match read {
                    LineRead::TooLong(len) => Err(len),
                    _ => Ok(std::mem::take(&mut line)),
                };
                state.lines.push_back((stamp_ns, item));
            }
            Ok(LineRead::End) => state.ended = Some(None),
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => state.ended = Some(Some(error)),
        }
        let ended = state.ended.is_some();
        drop(state);
        shared.ready.notify_all();
        if ended || stop.load(Ordering::SeqCst) {
            return;
        }
    }
}
