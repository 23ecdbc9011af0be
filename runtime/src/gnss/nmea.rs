//! NMEA 0183 sentence parser: GGA, RMC, HDT and THS from any talker.
//!
//! Source: NMEA 0183 Interface Standard v4.11 (sentence structure §5.2, checksum §5.2.1.4, TAG
//! blocks §7, and the GGA, RMC, HDT and THS sentence tables), cross-checked field by field
//! against the `pynmea2` PyPI package (`runtime/tests/gnss_pynmea2.py`).
//!
//! Sentence layout (one line, printable ASCII, ended by CR LF):
//!
//! ```text
//! [\tag-block*hh\]$ttsss,field,field,...,field*hh<CR><LF>
//!                 ^ ^ ^                      ^ ^
//!                 | | formatter (3 chars)     | checksum: XOR of every byte between `$` and
//!                 | talker id (2 chars: GP, GN, GL, GA, GB, IN, HE, ...)   `*`, two hex digits
//!                 start delimiter (`!` for encapsulated sentences such as AIS: unsupported here)
//! ```
//!
//! Choices, where receivers and the standard part ways:
//! - The checksum is required (v4.x requires it on every sentence): a missing `*hh`, usually a
//!   truncated line, is [`NmeaError::MissingChecksum`]. The two hex digits are upper case in the
//!   standard; lower case is accepted too, as `pynmea2` and gpsd do.
//! - The standard caps a sentence at 82 characters; RTK receivers exceed it with extra decimals,
//!   so lines up to [`MAX_SENTENCE_BYTES`] are accepted.
//! - A leading TAG block (`\...*hh\`, v4.0) has its own checksum verified and is then skipped.
//! - Empty fields are `None` (a receiver without a fix sends them empty); a field that is present
//!   but cannot be read is [`NmeaError::Malformed`] naming the sentence, the field and why.
//! - Sentences may carry more fields than the version this parser knows (later versions append
//!   fields): the extra fields are ignored.
//!
//! [`parse_sentence`] never panics, whatever its input (checked by a seeded-mutation test).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest line accepted, bytes (the standard's limit is 82 including `$` and CR LF).
pub const MAX_SENTENCE_BYTES: usize = 256;

/// Metres per second in one knot (1 international knot = 1852 m per hour, exactly).
pub const MPS_PER_KNOT: f64 = 1852.0 / 3600.0;

/// Why a line is not a usable sentence.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum NmeaError {
    /// The line is empty (or only whitespace).
    #[error("empty line")]
    Empty,
    /// The line is longer than [`MAX_SENTENCE_BYTES`].
    #[error("`{sentence}`: line is {len} bytes, more than the {max} accepted")]
    TooLong {
        /// The sentence's address field, or the start of the line.
        sentence: String,
        /// Length of the line, bytes.
        len: usize,
        /// The limit, bytes.
        max: usize,
    },
    /// A character outside printable ASCII (0x20..=0x7E).
    #[error("`{sentence}`: character {character:?} at byte {index} is not printable ASCII")]
    NotPrintable {
        /// The sentence's address field, or the start of the line.
        sentence: String,
        /// Byte offset in the line.
        index: usize,
        /// The offending character.
        character: char,
    },
    /// No `$` (or `!`) start delimiter where the sentence should begin.
    #[error("`{sentence}`: does not start with `$`")]
    NoStart {
        /// The start of the line.
        sentence: String,
    },
    /// No `*hh` checksum field: a truncated line, or a sender that omits the checksum.
    #[error("`{sentence}`: no checksum field `*hh` (truncated sentence, or sent without one)")]
    MissingChecksum {
        /// The sentence's address field.
        sentence: String,
    },
    /// The text after `*` is not exactly two hex digits.
    #[error("`{sentence}`: checksum field `*{field}` is not two hex digits")]
    BadChecksumField {
        /// The sentence's address field.
        sentence: String,
        /// What follows the `*`.
        field: String,
    },
    /// The checksum does not match the sentence's content.
    #[error(
        "`{sentence}`: checksum mismatch: the sentence says {stated:02X}, its content gives {computed:02X}"
    )]
    ChecksumMismatch {
        /// The sentence's address field.
        sentence: String,
        /// The checksum written in the sentence.
        stated: u8,
        /// The XOR of the bytes between `$` and `*`.
        computed: u8,
    },
    /// A TAG block that is not closed, lacks its checksum or has a wrong one.
    #[error("`{sentence}`: TAG block: {reason}")]
    BadTagBlock {
        /// The start of the line.
        sentence: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A well-formed sentence of a type this parser does not read.
    #[error("`{sentence}`: unsupported sentence type (GGA, RMC, HDT and THS are read)")]
    Unsupported {
        /// The sentence's address field (talker and formatter, or `P` + manufacturer).
        sentence: String,
    },
    /// A field that is present but cannot be read, or too few fields.
    #[error("`{sentence}`: field `{field}`: {reason}")]
    Malformed {
        /// The sentence's address field.
        sentence: String,
        /// The field's name (as in the standard's table), or `address` / `fields`.
        field: &'static str,
        /// Why it cannot be read.
        reason: String,
    },
}

/// The three classes of rejected lines that sources count separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NmeaErrorKind {
    /// Checksum missing, unreadable or wrong (also a bad TAG block checksum).
    BadChecksum,
    /// A valid sentence of a type that is not read.
    Unsupported,
    /// Anything else: empty, too long, not ASCII, no start, bad address or fields.
    Malformed,
}

impl NmeaError {
    /// The counter this error goes to.
    pub fn kind(&self) -> NmeaErrorKind {
        match self {
            Self::MissingChecksum { .. } | Self::BadChecksumField { .. } | Self::ChecksumMismatch { .. } => {
                NmeaErrorKind::BadChecksum
            }
            Self::BadTagBlock { .. } => NmeaErrorKind::BadChecksum,
            Self::Unsupported { .. } => NmeaErrorKind::Unsupported,
            Self::Empty
            | Self::TooLong { .. }
            | Self::NotPrintable { .. }
            | Self::NoStart { .. }
            | Self::Malformed { .. } => NmeaErrorKind::Malformed,
        }
    }
}

/// Two-character talker id (`GP` GPS, `GN` multi-constellation, `GL` GLONASS, `IN` integrated
/// navigation, `HE` north-seeking gyro, ...). Always two printable ASCII letters or digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TalkerId([u8; 2]);

impl TalkerId {
    /// A talker id from its two characters (upper-case letters or digits), `None` otherwise.
    pub fn new(id: &str) -> Option<Self> {
        match id.as_bytes() {
            &[a, b] if [a, b].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) => {
                Some(Self([a, b]))
            }
            _ => None,
        }
    }

    /// The id as text, e.g. `"GN"`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl std::fmt::Display for TalkerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// GGA field 6, the GPS quality indicator (NMEA 0183 v4.11 GGA table, note 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GgaQuality {
    /// 0: fix not available or invalid.
    Invalid,
    /// 1: GPS SPS mode, fix valid.
    Gps,
    /// 2: differential GPS, SPS mode, fix valid.
    Differential,
    /// 3: GPS PPS mode, fix valid.
    Pps,
    /// 4: real-time kinematic, fixed integers.
    RtkFixed,
    /// 5: real-time kinematic, float integers.
    RtkFloat,
    /// 6: estimated (dead reckoning) mode.
    Estimated,
    /// 7: manual input mode.
    Manual,
    /// 8: simulator mode.
    Simulator,
    /// Any other digit some receivers send (9: WAAS on older firmware): not a usable fix.
    Other(u8),
}

impl GgaQuality {
    /// The quality for a GGA digit.
    pub fn from_digit(digit: u8) -> Self {
        match digit {
            0 => Self::Invalid,
            1 => Self::Gps,
            2 => Self::Differential,
            3 => Self::Pps,
            4 => Self::RtkFixed,
            5 => Self::RtkFloat,
            6 => Self::Estimated,
            7 => Self::Manual,
            8 => Self::Simulator,
            other => Self::Other(other),
        }
    }

    /// The GGA digit.
    pub fn digit(self) -> u8 {
        match self {
            Self::Invalid => 0,
            Self::Gps => 1,
            Self::Differential => 2,
            Self::Pps => 3,
            Self::RtkFixed => 4,
            Self::RtkFloat => 5,
            Self::Estimated => 6,
            Self::Manual => 7,
            Self::Simulator => 8,
            Self::Other(digit) => digit,
        }
    }

    /// Whether the position measures where the antenna is: qualities 1 to 6 (manual input,
    /// simulator, invalid and unknown digits are not).
    pub fn is_usable_fix(self) -> bool {
        matches!(
            self,
            Self::Gps | Self::Differential | Self::Pps | Self::RtkFixed | Self::RtkFloat | Self::Estimated
        )
    }
}

/// RMC field 2, the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RmcStatus {
    /// `A`: data valid.
    Valid,
    /// `V`: navigation receiver warning (no usable fix).
    Warning,
}

/// Mode indicator (RMC field 12 since v2.3, THS field 2): how the data was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeIndicator {
    /// `A`: autonomous.
    Autonomous,
    /// `D`: differential.
    Differential,
    /// `E`: estimated (dead reckoning).
    Estimated,
    /// `F`: float RTK.
    FloatRtk,
    /// `M`: manual input.
    Manual,
    /// `N`: data not valid (RMC).
    NotValidN,
    /// `P`: precise.
    Precise,
    /// `R`: real-time kinematic (fixed integers).
    Rtk,
    /// `S`: simulator.
    Simulator,
    /// `V`: data not valid (THS).
    NotValidV,
}

impl ModeIndicator {
    /// The indicator for its letter, `None` for a letter the standard does not define.
    pub fn from_letter(letter: char) -> Option<Self> {
        Some(match letter {
            'A' => Self::Autonomous,
            'D' => Self::Differential,
            'E' => Self::Estimated,
            'F' => Self::FloatRtk,
            'M' => Self::Manual,
            'N' => Self::NotValidN,
            'P' => Self::Precise,
            'R' => Self::Rtk,
            'S' => Self::Simulator,
            'V' => Self::NotValidV,
            _ => return None,
        })
    }

    /// The letter.
    pub fn letter(self) -> char {
        match self {
            Self::Autonomous => 'A',
            Self::Differential => 'D',
            Self::Estimated => 'E',
            Self::FloatRtk => 'F',
            Self::Manual => 'M',
            Self::NotValidN => 'N',
            Self::Precise => 'P',
            Self::Rtk => 'R',
            Self::Simulator => 'S',
            Self::NotValidV => 'V',
        }
    }

    /// Whether the data measures the vehicle: every mode but manual, simulator and not valid.
    pub fn is_measured(self) -> bool {
        !matches!(self, Self::Manual | Self::Simulator | Self::NotValidN | Self::NotValidV)
    }
}

/// A calendar date (RMC field 9, `ddmmyy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NmeaDate {
    /// Full year. The sentence carries two digits: 69..=99 are 1969..=1999, 00..=68 are
    /// 2000..=2068 (the POSIX `%y` pivot, as `pynmea2` reads them).
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31.
    pub day: u8,
}

/// GGA: global positioning system fix data (time, position, fix quality).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gga {
    /// Talker id.
    pub talker: TalkerId,
    /// UTC time of the position, seconds since midnight (`hhmmss.ss`).
    pub utc_time_of_day_s: Option<f64>,
    /// Latitude, degrees, positive north.
    pub lat_deg: Option<f64>,
    /// Longitude, degrees, positive east.
    pub lon_deg: Option<f64>,
    /// Fix quality.
    pub quality: Option<GgaQuality>,
    /// Satellites in use (the standard says 00..=12; multi-constellation receivers send more).
    pub satellites_in_use: Option<u8>,
    /// Horizontal dilution of precision, unitless.
    pub hdop: Option<f64>,
    /// Antenna altitude above mean sea level (the geoid), metres.
    pub altitude_msl_m: Option<f64>,
    /// Geoid separation: height of the geoid above the WGS-84 ellipsoid, metres.
    pub geoid_separation_m: Option<f64>,
    /// Age of the differential corrections, seconds.
    pub dgps_age_s: Option<f64>,
    /// Differential reference station id, 0000..=1023.
    pub dgps_station_id: Option<u16>,
}

impl Gga {
    /// Height of the antenna above the WGS-84 ellipsoid, metres: altitude above the geoid plus
    /// the geoid separation. When the separation field is empty the altitude is taken as is
    /// (receivers without a geoid model report the ellipsoidal height there).
    pub fn ellipsoidal_height_m(&self) -> Option<f64> {
        let altitude_m = self.altitude_msl_m?;
        Some(altitude_m + self.geoid_separation_m.unwrap_or(0.0))
    }
}

/// RMC: recommended minimum specific GNSS data (position, speed and course over ground, date).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rmc {
    /// Talker id.
    pub talker: TalkerId,
    /// UTC time of the position, seconds since midnight.
    pub utc_time_of_day_s: Option<f64>,
    /// Status.
    pub status: Option<RmcStatus>,
    /// Latitude, degrees, positive north.
    pub lat_deg: Option<f64>,
    /// Longitude, degrees, positive east.
    pub lon_deg: Option<f64>,
    /// Speed over ground, m/s (the sentence gives knots).
    pub speed_mps: Option<f64>,
    /// Course over ground, degrees clockwise from true north, as sent (0..360).
    pub course_over_ground_deg: Option<f64>,
    /// UTC date.
    pub date: Option<NmeaDate>,
    /// Magnetic variation, degrees, positive east (field 10 with its E/W field 11).
    pub magnetic_variation_deg: Option<f64>,
    /// Mode indicator (v2.3 and later).
    pub mode: Option<ModeIndicator>,
}

/// HDT: heading, true (from a dual-antenna receiver, gyro compass or INS).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hdt {
    /// Talker id.
    pub talker: TalkerId,
    /// Heading, degrees clockwise from true north, as sent.
    pub true_heading_deg: Option<f64>,
}

/// THS: true heading and status (v3.01 and later).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ths {
    /// Talker id.
    pub talker: TalkerId,
    /// Heading, degrees clockwise from true north, as sent.
    pub true_heading_deg: Option<f64>,
    /// Mode indicator: `A` autonomous, `E` estimated, `M` manual, `S` simulator, `V` not valid.
    pub mode: Option<ModeIndicator>,
}

/// One parsed sentence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Sentence {
    /// GGA fix data.
    Gga(Gga),
    /// RMC minimum data.
    Rmc(Rmc),
    /// HDT true heading.
    Hdt(Hdt),
    /// THS true heading and status.
    Ths(Ths),
}

impl Sentence {
    /// The talker id.
    pub fn talker(&self) -> TalkerId {
        match self {
            Self::Gga(gga) => gga.talker,
            Self::Rmc(rmc) => rmc.talker,
            Self::Hdt(hdt) => hdt.talker,
            Self::Ths(ths) => ths.talker,
        }
    }

    /// The sentence formatter: `"GGA"`, `"RMC"`, `"HDT"` or `"THS"`.
    pub fn formatter(&self) -> &'static str {
        match self {
            Self::Gga(_) => "GGA",
            Self::Rmc(_) => "RMC",
            Self::Hdt(_) => "HDT",
            Self::Ths(_) => "THS",
        }
    }
}

/// The NMEA checksum of `body` (the text between `$` and `*`): the XOR of its bytes.
pub fn checksum(body: &str) -> u8 {
    body.bytes().fold(0, |sum, byte| sum ^ byte)
}

/// Parses one sentence (with or without its CR LF, with or without a TAG block).
///
/// # Errors
/// An [`NmeaError`] naming the sentence (its address field, or the start of the line) and the
/// reason; [`NmeaError::kind`] tells which counter it belongs to. Never panics.
pub fn parse_sentence(line: &str) -> Result<Sentence, NmeaError> {
    let line = line.trim_matches(|c: char| c == '\r' || c == '\n' || c == ' ' || c == '\t');
    if line.is_empty() {
        return Err(NmeaError::Empty);
    }
    if line.len() > MAX_SENTENCE_BYTES {
        return Err(NmeaError::TooLong { sentence: label(line), len: line.len(), max: MAX_SENTENCE_BYTES });
    }
    if let Some((index, character)) = line.char_indices().find(|(_, c)| !(' '..='~').contains(c)) {
        return Err(NmeaError::NotPrintable { sentence: label(line), index, character });
    }
    // Everything below is printable ASCII: byte offsets are character boundaries.
    let sentence_text = skip_tag_block(line)?;
    let Some(after_start) = sentence_text.strip_prefix('$').or_else(|| sentence_text.strip_prefix('!'))
    else {
        return Err(NmeaError::NoStart { sentence: label(line) });
    };
    let name = address_label(after_start);
    let Some((body, stated_text)) = after_start.split_once('*') else {
        return Err(NmeaError::MissingChecksum { sentence: name });
    };
    let Some(stated) = parse_hex_byte(stated_text) else {
        return Err(NmeaError::BadChecksumField { sentence: name, field: stated_text.to_owned() });
    };
    let computed = checksum(body);
    if stated != computed {
        return Err(NmeaError::ChecksumMismatch { sentence: name, stated, computed });
    }
    if sentence_text.starts_with('!') {
        // Encapsulated sentences (AIS VDM/VDO...) are not navigation data for us.
        return Err(NmeaError::Unsupported { sentence: name });
    }
    let mut split = body.split(',');
    let address = split.next().unwrap_or("");
    let fields = Fields { sentence: &name, values: split };
    let bytes = address.as_bytes();
    if bytes.first() == Some(&b'P') {
        return Err(NmeaError::Unsupported { sentence: name });
    }
    let (Some(&t0), Some(&t1), Some(formatter), 5) =
        (bytes.first(), bytes.get(1), address.get(2..), bytes.len())
    else {
        return Err(malformed(
            &name,
            "address",
            format!("`{address}` is not a talker id and a 3-letter formatter"),
        ));
    };
    if !bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(malformed(
            &name,
            "address",
            format!("`{address}` must be upper-case letters and digits"),
        ));
    }
    let talker = TalkerId([t0, t1]);
    match formatter {
        "GGA" => parse_gga(talker, fields).map(Sentence::Gga),
        "RMC" => parse_rmc(talker, fields).map(Sentence::Rmc),
        "HDT" => parse_hdt(talker, fields).map(Sentence::Hdt),
        "THS" => parse_ths(talker, fields).map(Sentence::Ths),
        _ => Err(NmeaError::Unsupported { sentence: name }),
    }
}

/// Formats a sentence body into a full line: `$` + body + `*hh` + CR LF (for tests, tools and
/// simulators that emit NMEA).
pub fn format_sentence(body: &str) -> String {
    format!("${body}*{:02X}\r\n", checksum(body))
}

/// Strips and checks a leading TAG block (`\c:1577836800,s:r1*hh\`).
fn skip_tag_block(line: &str) -> Result<&str, NmeaError> {
    let Some(rest) = line.strip_prefix('\\') else {
        return Ok(line);
    };
    let bad = |reason: &str| NmeaError::BadTagBlock { sentence: label(line), reason: reason.to_owned() };
    let Some((tag, sentence)) = rest.split_once('\\') else {
        return Err(bad("not closed by `\\`"));
    };
    let Some((content, stated_text)) = tag.split_once('*') else {
        return Err(bad("no checksum `*hh`"));
    };
    let Some(stated) = parse_hex_byte(stated_text) else {
        return Err(bad("checksum is not two hex digits"));
    };
    if stated != checksum(content) {
        return Err(bad("checksum mismatch"));
    }
    Ok(sentence)
}

fn parse_hex_byte(text: &str) -> Option<u8> {
    if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u8::from_str_radix(text, 16).ok()
}

/// The address field (after the start delimiter) for error messages, at most 8 characters.
fn address_label(after_start: &str) -> String {
    let end = after_start.find([',', '*']).unwrap_or(after_start.len()).min(8);
    let address = after_start.get(..end).unwrap_or("");
    if address.is_empty() { "<no address>".to_owned() } else { address.to_owned() }
}

/// The start of a line for error messages: the address field when there is one, else the first
/// 16 characters with anything unprintable escaped.
fn label(line: &str) -> String {
    if let Some(start) = line.find(['$', '!']) {
        let address = address_label(line.get(start + 1..).unwrap_or(""));
        if address.chars().all(|c| c.is_ascii_alphanumeric()) {
            return address;
        }
    }
    line.chars().take(16).flat_map(char::escape_debug).collect()
}

fn malformed(sentence: &str, field: &'static str, reason: String) -> NmeaError {
    NmeaError::Malformed { sentence: sentence.to_owned(), field, reason }
}

/// The data fields of a sentence, read in order.
struct Fields<'a> {
    sentence: &'a str,
    values: std::str::Split<'a, char>,
}

impl<'a> Fields<'a> {
    /// The next field, `None` when empty. A field missing from the end of the sentence is an
    /// error (the sentence was cut with a valid checksum, or is of an unknown older layout).
    fn next(&mut self, field: &'static str) -> Result<Option<&'a str>, NmeaError> {
        match self.values.next() {
            Some("") => Ok(None),
            Some(value) => Ok(Some(value)),
            None => {
                Err(malformed(self.sentence, field, "missing: the sentence has too few fields".to_owned()))
            }
        }
    }

    /// The next field if the sentence has one (fields added by later versions of the standard).
    fn next_optional(&mut self) -> Option<&'a str> {
        self.values.next().filter(|value| !value.is_empty())
    }

    fn error(&self, field: &'static str, reason: String) -> NmeaError {
        malformed(self.sentence, field, reason)
    }

    /// A decimal number: optional sign, digits, optional fraction. No exponents, no inf/NaN.
    fn decimal(&mut self, field: &'static str) -> Result<Option<f64>, NmeaError> {
        let Some(text) = self.next(field)? else {
            return Ok(None);
        };
        parse_decimal(text)
            .map(Some)
            .ok_or_else(|| self.error(field, format!("`{text}` is not a decimal number")))
    }

    /// A non-negative decimal number.
    fn unsigned_decimal(&mut self, field: &'static str) -> Result<Option<f64>, NmeaError> {
        match self.decimal(field)? {
            Some(value) if value < 0.0 => Err(self.error(field, format!("{value} is negative"))),
            other => Ok(other),
        }
    }

    /// An unsigned integer that fits in `u16`.
    fn integer(&mut self, field: &'static str, max: u16) -> Result<Option<u16>, NmeaError> {
        let Some(text) = self.next(field)? else {
            return Ok(None);
        };
        match text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse::<u16>().ok()).flatten() {
            Some(value) if value <= max => Ok(Some(value)),
            _ => Err(self.error(field, format!("`{text}` is not an integer in 0..={max}"))),
        }
    }

    /// A single letter, which must be one of `allowed`.
    fn letter(&mut self, field: &'static str, allowed: &str) -> Result<Option<char>, NmeaError> {
        let Some(text) = self.next(field)? else {
            return Ok(None);
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(letter), None) if allowed.contains(letter) => Ok(Some(letter)),
            _ => Err(self.error(field, format!("`{text}` is not one of the letters `{allowed}`"))),
        }
    }

    /// UTC time `hhmmss[.sss]` as seconds since midnight.
    fn time_of_day(&mut self, field: &'static str) -> Result<Option<f64>, NmeaError> {
        let Some(text) = self.next(field)? else {
            return Ok(None);
        };
        parse_time_of_day(text)
            .map(Some)
            .ok_or_else(|| self.error(field, format!("`{text}` is not a UTC time hhmmss.ss")))
    }

    /// A latitude or longitude (`ddmm.mmmm` / `dddmm.mmmm`) with its hemisphere field.
    fn angle(
        &mut self,
        field: &'static str,
        hemisphere_field: &'static str,
        max_deg: f64,
        hemispheres: [char; 2],
    ) -> Result<Option<f64>, NmeaError> {
        let value = self.next(field)?;
        let [positive, negative] = hemispheres;
        let allowed: String = hemispheres.iter().collect();
        let hemisphere = self.letter(hemisphere_field, &allowed)?;
        match (value, hemisphere) {
            (None, None) => Ok(None),
            (Some(text), Some(hemisphere)) => {
                let Some(magnitude_deg) = parse_degrees_minutes(text).filter(|deg| *deg <= max_deg) else {
                    return Err(
                        self.error(field, format!("`{text}` is not degrees and minutes up to {max_deg}°"))
                    );
                };
                Ok(Some(if hemisphere == negative {
                    -magnitude_deg
                } else {
                    debug_assert_eq!(hemisphere, positive);
                    magnitude_deg
                }))
            }
            (Some(text), None) => {
                Err(self.error(hemisphere_field, format!("empty while `{field}` is `{text}`")))
            }
            (None, Some(hemisphere)) => {
                Err(self.error(field, format!("empty while `{hemisphere_field}` is `{hemisphere}`")))
            }
        }
    }

    /// A quantity followed by its unit field, which must be `M` (metres) when present.
    fn metres(&mut self, field: &'static str, unit_field: &'static str) -> Result<Option<f64>, NmeaError> {
        let value = self.decimal(field)?;
        self.letter(unit_field, "M")?;
        Ok(value)
    }
}

/// Strict decimal: `[+-]?digits[.digits]` or `[+-]?.digits`, at least one digit.
fn parse_decimal(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// `hhmmss[.sss]` → seconds since midnight (a leap second 60 is accepted).
fn parse_time_of_day(text: &str) -> Option<f64> {
    let (clock, fraction) = text.split_once('.').unwrap_or((text, ""));
    if clock.len() != 6
        || !clock.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let hours: u32 = clock.get(0..2)?.parse().ok()?;
    let minutes: u32 = clock.get(2..4)?.parse().ok()?;
    let seconds: u32 = clock.get(4..6)?.parse().ok()?;
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    let fraction_s = if fraction.is_empty() { 0.0 } else { format!("0.{fraction}").parse::<f64>().ok()? };
    Some(f64::from(hours * 3600 + minutes * 60 + seconds) + fraction_s)
}

/// `dddmm.mmmm` → degrees: the two digits before the point are minutes, those before them
/// degrees (2 for latitude, 3 for longitude; 1 to 3 accepted).
fn parse_degrees_minutes(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !(3..=5).contains(&whole.len())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let split = whole.len() - 2;
    let degrees: f64 = whole.get(..split)?.parse().ok()?;
    let minutes: f64 =
        format!("{}.{}", whole.get(split..)?, if fraction.is_empty() { "0" } else { fraction })
            .parse()
            .ok()?;
    (minutes < 60.0).then_some(degrees + minutes / 60.0)
}

fn parse_date(text: &str) -> Option<NmeaDate> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day: u8 = text.get(0..2)?.parse().ok()?;
    let month: u8 = text.get(2..4)?.parse().ok()?;
    let year_2: u16 = text.get(4..6)?.parse().ok()?;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let year = if year_2 >= 69 { 1900 + year_2 } else { 2000 + year_2 };
    Some(NmeaDate { year, month, day })
}

fn parse_gga(talker: TalkerId, mut fields: Fields<'_>) -> Result<Gga, NmeaError> {
    let utc_time_of_day_s = fields.time_of_day("utc_time")?;
    let lat_deg = fields.angle("latitude", "latitude_hemisphere", 90.0, ['N', 'S'])?;
    let lon_deg = fields.angle("longitude", "longitude_hemisphere", 180.0, ['E', 'W'])?;
    let quality = match fields.next("quality")? {
        None => None,
        Some(text) => match text.as_bytes() {
            [digit] if digit.is_ascii_digit() => Some(GgaQuality::from_digit(digit - b'0')),
            _ => return Err(fields.error("quality", format!("`{text}` is not one digit"))),
        },
    };
    let satellites_in_use = fields
        .integer("satellites_in_use", u16::from(u8::MAX))?
        .map(|count| u8::try_from(count).unwrap_or(u8::MAX));
    let hdop = fields.unsigned_decimal("hdop")?;
    let altitude_msl_m = fields.metres("altitude", "altitude_unit")?;
    let geoid_separation_m = fields.metres("geoid_separation", "geoid_separation_unit")?;
    let dgps_age_s = fields.unsigned_decimal("dgps_age")?;
    let dgps_station_id = fields.integer("dgps_station_id", 1023)?;
    Ok(Gga {
        talker,
        utc_time_of_day_s,
        lat_deg,
        lon_deg,
        quality,
        satellites_in_use,
        hdop,
        altitude_msl_m,
        geoid_separation_m,
        dgps_age_s,
        dgps_station_id,
    })
}

fn parse_rmc(talker: TalkerId, mut fields: Fields<'_>) -> Result<Rmc, NmeaError> {
    let utc_time_of_day_s = fields.time_of_day("utc_time")?;
    let status =
        fields.letter("status", "AV")?.map(|s| if s == 'A' { RmcStatus::Valid } else { RmcStatus::Warning });
    let lat_deg = fields.angle("latitude", "latitude_hemisphere", 90.0, ['N', 'S'])?;
    let lon_deg = fields.angle("longitude", "longitude_hemisphere", 180.0, ['E', 'W'])?;
    let speed_mps = fields.unsigned_decimal("speed_over_ground")?.map(|knots| knots * MPS_PER_KNOT);
    let course_over_ground_deg = fields.decimal("course_over_ground")?;
    let date = match fields.next("date")? {
        None => None,
        Some(text) => Some(
            parse_date(text).ok_or_else(|| fields.error("date", format!("`{text}` is not a date ddmmyy")))?,
        ),
    };
    let variation = fields.unsigned_decimal("magnetic_variation")?;
    let variation_side = fields.letter("magnetic_variation_direction", "EW")?;
    let magnetic_variation_deg = match (variation, variation_side) {
        (Some(deg), Some('W')) => Some(-deg),
        (Some(deg), _) => Some(deg),
        (None, _) => None,
    };
    let mode = match fields.next_optional() {
        None => None,
        Some(text) => Some(mode_indicator(text).ok_or_else(|| {
            fields.error("mode_indicator", format!("`{text}` is not one of the letters `ADEFMNPRS`"))
        })?),
    };
    Ok(Rmc {
        talker,
        utc_time_of_day_s,
        status,
        lat_deg,
        lon_deg,
        speed_mps,
        course_over_ground_deg,
        date,
        magnetic_variation_deg,
        mode,
    })
}

fn mode_indicator(text: &str) -> Option<ModeIndicator> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(letter), None) => ModeIndicator::from_letter(letter),
        _ => None,
    }
}

fn parse_hdt(talker: TalkerId, mut fields: Fields<'_>) -> Result<Hdt, NmeaError> {
    let true_heading_deg = fields.decimal("heading")?;
    let reference = fields.letter("true", "T")?;
    if true_heading_deg.is_some() && reference.is_none() {
        return Err(fields.error("true", "empty: `T` must follow the heading".to_owned()));
    }
    Ok(Hdt { talker, true_heading_deg })
}

fn parse_ths(talker: TalkerId, mut fields: Fields<'_>) -> Result<Ths, NmeaError> {
    let true_heading_deg = fields.decimal("heading")?;
    let mode = match fields.letter("mode_indicator", "AEMSV")? {
        Some(letter) => ModeIndicator::from_letter(letter),
        None => None,
    };
    Ok(Ths { talker, true_heading_deg, mode })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    fn line(body: &str) -> String {
        format_sentence(body)
    }

    #[test]
    fn gga_fields_from_a_hand_reading() {
        // 2427.0000,S = -(24 + 27/60) = -24.45°; 06904.5000,W = -(69 + 4.5/60) = -69.075°.
        let sentence = parse_sentence(&line(
            "GNGGA,123519.25,2427.0000,S,06904.5000,W,4,18,0.7,3050.20,M,39.8,M,1.2,0031",
        ))
        .expect("parses");
        let Sentence::Gga(gga) = sentence else { panic!("not GGA: {sentence:?}") };
        assert_eq!(gga.talker.as_str(), "GN");
        assert!((gga.utc_time_of_day_s.expect("time") - (12.0 * 3600.0 + 35.0 * 60.0 + 19.25)).abs() < 1e-9);
        assert!((gga.lat_deg.expect("lat") + 24.45).abs() < 1e-12);
        assert!((gga.lon_deg.expect("lon") + 69.075).abs() < 1e-12);
        assert_eq!(gga.quality, Some(GgaQuality::RtkFixed));
        assert_eq!(gga.satellites_in_use, Some(18));
        assert_eq!(gga.hdop, Some(0.7));
        assert_eq!(gga.altitude_msl_m, Some(3050.2));
        assert_eq!(gga.geoid_separation_m, Some(39.8));
        assert!((gga.ellipsoidal_height_m().expect("height") - 3090.0).abs() < 1e-9);
        assert_eq!(gga.dgps_age_s, Some(1.2));
        assert_eq!(gga.dgps_station_id, Some(31));
    }

    #[test]
    fn empty_fields_of_a_receiver_without_fix_are_none() {
        let Ok(Sentence::Gga(gga)) = parse_sentence(&line("GPGGA,,,,,,0,00,99.99,,,,,,")) else {
            panic!("no-fix GGA must parse")
        };
        assert_eq!(gga.lat_deg, None);
        assert_eq!(gga.utc_time_of_day_s, None);
        assert_eq!(gga.quality, Some(GgaQuality::Invalid));
        assert_eq!(gga.satellites_in_use, Some(0));
        assert_eq!(gga.ellipsoidal_height_m(), None);
        let Ok(Sentence::Rmc(rmc)) = parse_sentence(&line("GPRMC,,V,,,,,,,,,,N")) else { panic!("void RMC") };
        assert_eq!(rmc.status, Some(RmcStatus::Warning));
        assert_eq!(rmc.speed_mps, None);
        assert_eq!(rmc.mode, Some(ModeIndicator::NotValidN));
        let Ok(Sentence::Hdt(hdt)) = parse_sentence(&line("HEHDT,,T")) else { panic!("empty HDT") };
        assert_eq!(hdt.true_heading_deg, None);
    }

    #[test]
    fn rmc_speed_is_converted_from_knots() {
        let Ok(Sentence::Rmc(rmc)) =
            parse_sentence(&line("GPRMC,081836,A,3751.65,S,14507.36,E,10.0,360.0,130998,011.3,E,A"))
        else {
            panic!("RMC must parse")
        };
        // 10 kn = 18520 m / 3600 s.
        assert!((rmc.speed_mps.expect("speed") - 5.144_444_444_444_444).abs() < 1e-12);
        assert_eq!(rmc.course_over_ground_deg, Some(360.0));
        assert_eq!(rmc.date, Some(NmeaDate { year: 1998, month: 9, day: 13 }));
        assert_eq!(rmc.magnetic_variation_deg, Some(11.3));
        assert_eq!(rmc.mode, Some(ModeIndicator::Autonomous));
    }

    #[test]
    fn checksum_errors_name_the_sentence_and_reason() {
        // The NMEA standard's own example: $GPGLL,...*hh is not needed; use a GGA with its
        // checksum changed by one.
        let good = line("GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,");
        let stated = good.trim_end().rsplit('*').next().expect("has *").to_owned();
        let wrong = if stated == "00" { "01" } else { "00" };
        let bad = good.replace(&format!("*{stated}"), &format!("*{wrong}"));
        let error = parse_sentence(&bad).expect_err("bad checksum");
        assert_eq!(error.kind(), NmeaErrorKind::BadChecksum);
        assert!(error.to_string().contains("GPGGA"), "{error}");
        assert!(error.to_string().contains("checksum mismatch"), "{error}");
        // Lower-case hex is tolerated.
        let body = (0..100)
            .map(|deg| format!("GPHDT,{deg}.0,T"))
            .find(|body| checksum(body) % 16 >= 10)
            .expect("some checksum has a hex letter");
        let lower = format!("${body}*{:02x}", checksum(&body));
        assert!(lower.chars().any(|c| ('a'..='f').contains(&c)));
        assert!(parse_sentence(&lower).is_ok(), "{lower}");
        let truncated = &good[..30];
        let error = parse_sentence(truncated).expect_err("truncated");
        assert!(
            matches!(error, NmeaError::MissingChecksum { ref sentence } if sentence == "GPGGA"),
            "{error}"
        );
        let error = parse_sentence("$GPHDT,12.0,T*4").expect_err("one hex digit");
        assert!(matches!(error, NmeaError::BadChecksumField { .. }), "{error}");
    }

    #[test]
    fn truncated_with_valid_checksum_is_malformed_and_named() {
        let error = parse_sentence(&line("GPGGA,123519,4807.038,N")).expect_err("too few fields");
        assert_eq!(error.kind(), NmeaErrorKind::Malformed);
        assert!(error.to_string().contains("GPGGA") && error.to_string().contains("longitude"), "{error}");
        let error = parse_sentence(&line("GPRMC,123519,A,4807.038,N,01131.000,E,abc,0,230394,,"))
            .expect_err("bad speed");
        assert!(error.to_string().contains("speed_over_ground"), "{error}");
        let error = parse_sentence(&line("GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"))
            .expect_err("bad hemisphere");
        assert!(error.to_string().contains("latitude_hemisphere"), "{error}");
        let error = parse_sentence(&line("GPGGA,123519,4867.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"))
            .expect_err("67 minutes");
        assert!(error.to_string().contains("latitude"), "{error}");
    }

    #[test]
    fn unsupported_and_proprietary_sentences() {
        for body in
            ["GPGSV,3,1,11,03,03,111,00", "PUBX,00,081350.00", "GPVTG,054.7,T,034.4,M,005.5,N,010.2,K"]
        {
            let error = parse_sentence(&line(body)).expect_err("unsupported");
            assert_eq!(error.kind(), NmeaErrorKind::Unsupported, "{body}: {error}");
        }
        let ais = format!(
            "!{}*{:02X}",
            "AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0",
            checksum("AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0")
        );
        assert_eq!(parse_sentence(&ais).map_err(|e| e.kind()), Err(NmeaErrorKind::Unsupported));
    }

    #[test]
    fn tag_block_is_checked_and_skipped() {
        let tag = "c:1577836800,s:rx1";
        let sentence = line("INHDT,271.5,T");
        let tagged = format!("\\{tag}*{:02X}\\{sentence}", checksum(tag));
        let Ok(Sentence::Hdt(hdt)) = parse_sentence(&tagged) else { panic!("tagged HDT") };
        assert_eq!(hdt.true_heading_deg, Some(271.5));
        assert_eq!(hdt.talker.as_str(), "IN");
        let bad = format!("\\{tag}*00\\{sentence}");
        assert!(matches!(parse_sentence(&bad), Err(NmeaError::BadTagBlock { .. })));
    }

    #[test]
    fn ths_mode_and_heading() {
        let Ok(Sentence::Ths(ths)) = parse_sentence(&line("GNTHS,77.52,E")) else { panic!("THS") };
        assert_eq!(ths.true_heading_deg, Some(77.52));
        assert_eq!(ths.mode, Some(ModeIndicator::Estimated));
        let error = parse_sentence(&line("GNTHS,77.52,X")).expect_err("bad mode");
        assert!(error.to_string().contains("mode_indicator"), "{error}");
    }

    #[test]
    fn rejects_non_numbers_that_rust_parse_would_take() {
        for heading in ["inf", "NaN", "1e2", "", "."] {
            let result = parse_sentence(&line(&format!("GPHDT,{heading},T")));
            if heading.is_empty() {
                assert!(result.is_ok());
            } else {
                assert!(result.is_err(), "{heading} accepted");
            }
        }
    }

    /// Seeded mutation fuzzing: byte flips, truncations, insertions, splices and random
    /// garbage (including multi-byte characters) from valid sentences. Passes when nothing
    /// panics; also checks that every truncation that removes the checksum is rejected.
    #[test]
    fn parse_sentence_never_panics_on_mutations() {
        let seeds = [
            line("GNGGA,123519.25,2427.0000,S,06904.5000,W,4,18,0.7,3050.20,M,39.8,M,1.2,0031"),
            line("GPRMC,081836,A,3751.65,S,14507.36,E,10.0,360.0,130998,011.3,E,A,V"),
            line("HEHDT,271.5,T"),
            line("GNTHS,77.52,A"),
            line("GPGGA,,,,,,0,00,99.99,,,,,,"),
            format!("\\c:1*{:02X}\\{}", checksum("c:1"), line("INHDT,1.0,T")),
        ];
        let alphabet: Vec<char> = "$*,.\\!0123456789ABCDEFGNPRSTVWX-+ \r\né€\u{0}\u{7f}".chars().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(0x6e6d_6561);
        let mut outcomes = [0usize; 4];
        for _ in 0..50_000 {
            let base = &seeds[(rng.next_u32() as usize) % seeds.len()];
            let mut chars: Vec<char> = base.chars().collect();
            let mutations = 1 + rng.next_u32() % 4;
            for _ in 0..mutations {
                let position = (rng.next_u32() as usize) % (chars.len() + 1);
                let random_char = alphabet[(rng.next_u32() as usize) % alphabet.len()];
                match rng.next_u32() % 5 {
                    0 if position < chars.len() => chars[position] = random_char,
                    1 => chars.truncate(position),
                    2 => chars.insert(position, random_char),
                    3 if position < chars.len() => {
                        chars.remove(position);
                    }
                    _ => {
                        let len = (rng.next_u32() % 100) as usize;
                        chars =
                            (0..len).map(|_| char::from_u32(rng.next_u32() % 0x300).unwrap_or('?')).collect();
                    }
                }
            }
            let text: String = chars.iter().collect();
            match parse_sentence(&text) {
                Ok(_) => outcomes[0] += 1,
                Err(error) => match error.kind() {
                    NmeaErrorKind::BadChecksum => outcomes[1] += 1,
                    NmeaErrorKind::Unsupported => outcomes[2] += 1,
                    NmeaErrorKind::Malformed => outcomes[3] += 1,
                },
            }
            // A truncation inside the sentence before the `*` can never pass.
            let cut = (rng.next_u32() as usize) % base.len().max(1);
            if let Some(prefix) = base.get(..cut).filter(|p| !p.contains('*')) {
                assert!(parse_sentence(prefix).is_err(), "truncated {prefix:?} accepted");
            }
        }
        // The mutations reach every outcome (so the test exercises the parser's paths).
        assert!(outcomes.iter().all(|&count| count > 0), "{outcomes:?}");
    }
}
