//! DBC-described CAN messages: decoding frames into physical signal values and encoding
//! values into frames.
//!
//! The file is parsed by the `can-dbc` crate; the bit-level codec below follows the DBC
//! conventions (Vector's "DBC File Format Documentation", as implemented by Python
//! `cantools`, against which the tests check it):
//!
//! - `SG_ Name : START|SIZE@ORDER SIGN (FACTOR,OFFSET) [MIN|MAX] "UNIT"`;
//!   physical = raw × FACTOR + OFFSET; raw = round-half-even((physical − OFFSET) / FACTOR).
//! - Bit `b` of byte `k` is bit number `8k + b` (bit 0 = least significant bit of byte 0).
//! - `@1` Intel (little-endian): START is the signal's least significant bit; the signal
//!   occupies bits START, START+1, … counting up through the bytes.
//! - `@0` Motorola (big-endian): START is the signal's most significant bit; the next bits go
//!   down within the byte (bit 7 → 0), then on to bit 7 of the following byte.
//! - `-` signed (two's complement over SIZE bits), `+` unsigned; `SIG_VALTYPE_` 1 / 2 make a
//!   32- / 64-bit signal an IEEE-754 float.
//! - Simple multiplexing: the `M` signal selects, by its raw value `v`, the `mv` signals;
//!   plain signals are always present. Extended multiplexing (`SG_MUL_VAL_`, `mvM`) is not
//!   supported: such messages fail to decode with a reason.
//! - `[0|0]` means "no range"; otherwise encoding checks MIN ≤ value ≤ MAX (with cantools'
//!   tolerance of 10⁻⁶ × FACTOR), except for raw values named in a `VAL_` table.
//!
//! Worked example (`config/truck.dbc`, `TRUCK_YAW_RATE`, `YawRate : 7|16@0- (0.01,0)`):
//! Motorola, MSB at bit 7 = byte 0 bit 7, 16 bits → all of byte 0 (high) then all of byte 1
//! (low). Payload `FF 38 …`: raw = 0xFF38 = 65336, signed 16-bit → 65336 − 65536 = −200,
//! physical = −200 × 0.01 = −2.00 deg/s.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use can_dbc::{ByteOrder, MessageId, MultiplexIndicator, NumericValue, SignalExtendedValueType, ValueType};
use pitsense_types::CanFrame;

use super::bus::CanError;

/// How a signal's raw bits become a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    Integer { signed: bool },
    Float32,
    Float64,
}

/// A signal's place in a multiplexed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MuxRole {
    Plain,
    Switch,
    Multiplexed(u64),
}

#[derive(Clone, Debug)]
pub(crate) struct SignalDef {
    pub(crate) name: String,
    start_bit: usize,
    size_bits: usize,
    little_endian: bool,
    kind: ValueKind,
    factor: f64,
    offset: f64,
    /// `(MIN, MAX)`, `None` for `[0|0]`.
    pub(crate) range: Option<(f64, f64)>,
    pub(crate) unit: String,
    mux: MuxRole,
    /// Raw values named by a `VAL_` table.
    choices: Vec<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct MessageDef {
    pub(crate) name: String,
    pub(crate) can_id: u32,
    pub(crate) extended: bool,
    size_bytes: usize,
    pub(crate) signals: Vec<SignalDef>,
    /// The `M` signal.
    multiplexor: Option<usize>,
    /// Why the message cannot be decoded or encoded (unsupported multiplexing).
    unsupported: Option<String>,
}

/// One decoded frame: the DBC message and its signals' physical values (DBC units).
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedMessage {
    /// DBC message name.
    pub name: String,
    /// Frame id (without the extended flag).
    pub can_id: u32,
    /// Whether the id is a 29-bit one.
    pub extended: bool,
    /// Physical value of every signal present (for a multiplexed message: the plain signals,
    /// the multiplexer, and the signals it selects), by name.
    pub signals: BTreeMap<String, f64>,
}

/// The payload and id of an encoded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedFrame {
    /// Frame id (without the extended flag).
    pub can_id: u32,
    /// Whether the id is a 29-bit one.
    pub extended: bool,
    /// Payload, the DBC message's length; bits no signal uses are 0.
    pub data: Vec<u8>,
}

impl EncodedFrame {
    /// The frame as sent on `bus` at `stamp_ns` (ns on the truck clock).
    pub fn into_can_frame(self, stamp_ns: u64, bus: &str) -> CanFrame {
        CanFrame {
            stamp_ns,
            bus: bus.to_owned(),
            can_id: self.can_id,
            extended: self.extended,
            data: self.data,
        }
    }
}

/// A loaded DBC file: its messages by id and by name, ready to decode and encode.
#[derive(Clone, Debug)]
pub struct Dbc {
    source_name: String,
    messages: Vec<MessageDef>,
    by_id: HashMap<(u32, bool), usize>,
    by_name: HashMap<String, usize>,
}

fn numeric(value: NumericValue) -> f64 {
    match value {
        NumericValue::Uint(v) => v as f64,
        NumericValue::Int(v) => v as f64,
        NumericValue::Double(v) => v,
    }
}

/// The payload bit holding the signal's `i`-th bit, most significant first for Motorola and
/// least significant first for Intel (see the module documentation).
fn bit_position(signal: &SignalDef, i: usize) -> usize {
    if signal.little_endian {
        signal.start_bit + i
    } else {
        // Motorola: number bits "big-endian linearly" (byte 0 bit 7 = 0, byte 0 bit 0 = 7,
        // byte 1 bit 7 = 8, ...), where the signal is contiguous from its MSB, then map back.
        let msb_linear = (signal.start_bit / 8) * 8 + (7 - signal.start_bit % 8);
        let linear = msb_linear + i;
        (linear / 8) * 8 + (7 - linear % 8)
    }
}

/// The highest byte index + 1 the signal touches (for the fit check).
fn bytes_needed(signal: &SignalDef) -> usize {
    (0..signal.size_bits).map(|i| bit_position(signal, i) / 8 + 1).max().unwrap_or(0)
}

/// Reads the signal's raw bits (right-aligned, unsigned). `None` if the payload is short.
fn extract_raw(signal: &SignalDef, data: &[u8]) -> Option<u64> {
    let mut raw = 0u64;
    for i in 0..signal.size_bits {
        let position = bit_position(signal, i);
        let bit = u64::from((data.get(position / 8)? >> (position % 8)) & 1);
        if signal.little_endian {
            raw |= bit << i;
        } else {
            raw = (raw << 1) | bit;
        }
    }
    Some(raw)
}

/// Writes the signal's raw bits (right-aligned) into the payload.
fn insert_raw(signal: &SignalDef, raw: u64, data: &mut [u8]) {
    for i in 0..signal.size_bits {
        let position = bit_position(signal, i);
        let value_bit = if signal.little_endian { i } else { signal.size_bits - 1 - i };
        let bit = ((raw >> value_bit) & 1) as u8;
        if let Some(byte) = data.get_mut(position / 8) {
            *byte = (*byte & !(1 << (position % 8))) | (bit << (position % 8));
        }
    }
}

/// The first two signals sharing a payload bit, within the signals always present plus one
/// multiplexer value's signals (signals of different multiplexer values may share bits).
fn first_overlap(signals: &[SignalDef], size_bytes: usize) -> Option<(String, String)> {
    let mut groups: Vec<Option<u64>> = vec![None];
    for signal in signals {
        if let MuxRole::Multiplexed(value) = signal.mux
            && !groups.contains(&Some(value))
        {
            groups.push(Some(value));
        }
    }
    for group in groups {
        let mut owners: Vec<Option<&str>> = vec![None; size_bytes * 8];
        let members = signals.iter().filter(|s| match s.mux {
            MuxRole::Plain | MuxRole::Switch => true,
            MuxRole::Multiplexed(value) => Some(value) == group,
        });
        for signal in members {
            for i in 0..signal.size_bits {
                let Some(owner) = owners.get_mut(bit_position(signal, i)) else {
                    continue;
                };
                if let Some(previous) = owner {
                    return Some(((*previous).to_owned(), signal.name.clone()));
                }
                *owner = Some(&signal.name);
            }
        }
    }
    None
}

fn mask(size_bits: usize) -> u64 {
    if size_bits >= 64 { u64::MAX } else { (1u64 << size_bits) - 1 }
}

impl SignalDef {
    /// The raw value as a signed integer (sign-extended for signed signals).
    fn raw_integer(&self, raw: u64) -> i128 {
        match self.kind {
            ValueKind::Integer { signed: true } if self.size_bits < 64 => {
                let shift = 64 - self.size_bits;
                i128::from(((raw << shift) as i64) >> shift)
            }
            ValueKind::Integer { signed: true } => i128::from(raw as i64),
            _ => i128::from(raw),
        }
    }

    fn physical(&self, raw: u64) -> f64 {
        let value = match self.kind {
            ValueKind::Integer { .. } => self.raw_integer(raw) as f64,
            ValueKind::Float32 => f64::from(f32::from_bits(raw as u32)),
            ValueKind::Float64 => f64::from_bits(raw),
        };
        value * self.factor + self.offset
    }

    /// Physical value → raw bits, with the range and field-width checks.
    fn raw_from_physical(&self, value: f64) -> Result<u64, String> {
        if !value.is_finite() {
            return Err(format!("signal `{}` value {value} is not finite", self.name));
        }
        let scaled = (value - self.offset) / self.factor;
        let rounded = scaled.round_ties_even();
        // As cantools: the range check first, skipped for a raw value a `VAL_` table names.
        let named_by_choice = matches!(self.kind, ValueKind::Integer { .. })
            && rounded.abs() < 9.0e15
            && self.choices.contains(&(rounded as i64));
        if let Some((min, max)) = self.range
            && !named_by_choice
        {
            let tolerance = self.factor.abs() * 1e-6;
            if value < min - tolerance || value > max + tolerance {
                return Err(format!(
                    "signal `{}` value {value} is outside its range [{min}, {max}]",
                    self.name
                ));
            }
        }
        let bits = match self.kind {
            ValueKind::Float32 => u64::from((scaled as f32).to_bits()),
            ValueKind::Float64 => scaled.to_bits(),
            ValueKind::Integer { signed } => {
                let (low, high) = if signed {
                    (-(2f64.powi(self.size_bits as i32 - 1)), 2f64.powi(self.size_bits as i32 - 1) - 1.0)
                } else {
                    (0.0, 2f64.powi(self.size_bits as i32) - 1.0)
                };
                if !(low..=high).contains(&rounded) {
                    let kind = if signed { "signed" } else { "unsigned" };
                    return Err(format!(
                        "signal `{}` value {value} gives raw {rounded}, which does not fit its {}-bit {kind} field",
                        self.name, self.size_bits
                    ));
                }
                let raw = if signed { (rounded as i64) as u64 } else { rounded as u64 };
                raw & mask(self.size_bits)
            }
        };
        Ok(bits)
    }
}

impl MessageDef {
    /// Whether `signal` is present given the multiplexer's raw value.
    fn is_active(signal: &SignalDef, mux_value: Option<u64>) -> bool {
        match signal.mux {
            MuxRole::Plain | MuxRole::Switch => true,
            MuxRole::Multiplexed(value) => mux_value == Some(value),
        }
    }

    fn mux_values(&self) -> Vec<u64> {
        let mut values: Vec<u64> = self
            .signals
            .iter()
            .filter_map(|s| if let MuxRole::Multiplexed(v) = s.mux { Some(v) } else { None })
            .collect();
        values.sort_unstable();
        values.dedup();
        values
    }

    fn decode_error(&self, reason: String) -> CanError {
        CanError::Decode { message: self.name.clone(), can_id: self.can_id, reason }
    }

    /// Checks the payload length and reads the multiplexer; `Ok(mux raw value)`.
    fn check_payload(&self, data: &[u8]) -> Result<Option<u64>, CanError> {
        if let Some(reason) = &self.unsupported {
            return Err(self.decode_error(reason.clone()));
        }
        if data.len() < self.size_bytes {
            return Err(self.decode_error(format!(
                "{} data bytes, the DBC message has {}",
                data.len(),
                self.size_bytes
            )));
        }
        let Some(switch_index) = self.multiplexor else {
            return Ok(None);
        };
        let Some(switch) = self.signals.get(switch_index) else {
            return Ok(None);
        };
        let value = extract_raw(switch, data).ok_or_else(|| self.decode_error("payload too short".into()))?;
        if !self.mux_values().contains(&value) {
            return Err(self.decode_error(format!(
                "multiplexer `{}` = {value} selects no signals (defined: {:?})",
                switch.name,
                self.mux_values()
            )));
        }
        Ok(Some(value))
    }
}

impl Dbc {
    /// Reads and loads a DBC file.
    ///
    /// # Errors
    /// [`CanError::Io`] if it cannot be read; [`CanError::Dbc`] naming the file if it does not
    /// parse or defines something unusable (a signal outside its message, two messages with
    /// one id, a signal of 0 or more than 64 bits).
    pub fn from_file(path: &Path) -> Result<Self, CanError> {
        let source_name = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|source| CanError::Io { what: format!("DBC {source_name}: read"), source })?;
        // DBC files are often Windows-1252; the characters that matter (names, numbers) are
        // ASCII, so other bytes are replaced rather than refused.
        let text = String::from_utf8_lossy(&bytes);
        Self::load(&text, source_name)
    }

    pub(crate) fn load(text: &str, source_name: String) -> Result<Self, CanError> {
        let fail = |reason: String| CanError::Dbc { source_name: source_name.clone(), reason };
        let parsed = can_dbc::Dbc::try_from(text).map_err(|error| fail(error.to_string()))?;
        let mut messages = Vec::with_capacity(parsed.messages.len());
        let mut by_id = HashMap::new();
        let mut by_name = HashMap::new();
        for message in &parsed.messages {
            let (can_id, extended) = match message.id {
                MessageId::Standard(id) => (u32::from(id), false),
                MessageId::Extended(id) => (id, true),
            };
            let size_bytes = usize::try_from(message.size).unwrap_or(usize::MAX);
            if size_bytes > 64 {
                return Err(fail(format!(
                    "message {} is {} bytes long (at most 64)",
                    message.name, message.size
                )));
            }
            let mut signals = Vec::with_capacity(message.signals.len());
            let mut unsupported = None;
            for signal in &message.signals {
                let size_bits = usize::try_from(signal.size).unwrap_or(usize::MAX);
                if !(1..=64).contains(&size_bits) {
                    return Err(fail(format!(
                        "signal {}.{} has {} bits (1..=64)",
                        message.name, signal.name, signal.size
                    )));
                }
                let kind = match parsed.extended_value_type_for_signal(message.id, &signal.name) {
                    Some(SignalExtendedValueType::IEEEfloat32Bit) => ValueKind::Float32,
                    Some(SignalExtendedValueType::IEEEdouble64bit) => ValueKind::Float64,
                    _ => ValueKind::Integer { signed: signal.value_type == ValueType::Signed },
                };
                let float_bits = match kind {
                    ValueKind::Float32 => Some(32),
                    ValueKind::Float64 => Some(64),
                    ValueKind::Integer { .. } => None,
                };
                if float_bits.is_some_and(|bits| bits != size_bits) {
                    return Err(fail(format!(
                        "float signal {}.{} has {size_bits} bits",
                        message.name, signal.name
                    )));
                }
                if !signal.factor.is_finite() || signal.factor == 0.0 || !signal.offset.is_finite() {
                    return Err(fail(format!(
                        "signal {}.{} has factor {} and offset {} (factor must be finite and non-zero)",
                        message.name, signal.name, signal.factor, signal.offset
                    )));
                }
                let mux = match signal.multiplexer_indicator {
                    MultiplexIndicator::Plain => MuxRole::Plain,
                    MultiplexIndicator::Multiplexor => MuxRole::Switch,
                    MultiplexIndicator::MultiplexedSignal(value) => MuxRole::Multiplexed(value),
                    MultiplexIndicator::MultiplexorAndMultiplexedSignal(_) => {
                        unsupported = Some(format!(
                            "signal {} is both multiplexed and a multiplexer (extended multiplexing is not supported)",
                            signal.name
                        ));
                        MuxRole::Plain
                    }
                };
                let (min, max) = (numeric(signal.min), numeric(signal.max));
                let choices = parsed
                    .value_descriptions_for_signal(message.id, &signal.name)
                    .map(|table| table.iter().map(|choice| choice.id).collect())
                    .unwrap_or_default();
                let definition = SignalDef {
                    name: signal.name.clone(),
                    start_bit: usize::try_from(signal.start_bit).unwrap_or(usize::MAX),
                    size_bits,
                    little_endian: signal.byte_order == ByteOrder::LittleEndian,
                    kind,
                    factor: signal.factor,
                    offset: signal.offset,
                    range: if min == 0.0 && max == 0.0 { None } else { Some((min, max)) },
                    unit: signal.unit.clone(),
                    mux,
                    choices,
                };
                let start_ok = definition.start_bit < 512;
                if !start_ok || bytes_needed(&definition) > size_bytes {
                    return Err(fail(format!(
                        "signal {}.{} ({}|{}) does not fit the message's {size_bytes} bytes",
                        message.name, signal.name, signal.start_bit, signal.size
                    )));
                }
                signals.push(definition);
            }
            if let Some((first, second)) = first_overlap(&signals, size_bytes) {
                return Err(fail(format!(
                    "signals {first} and {second} overlap in message {}",
                    message.name
                )));
            }
            let switches: Vec<usize> = signals
                .iter()
                .enumerate()
                .filter(|(_, s)| s.mux == MuxRole::Switch)
                .map(|(i, _)| i)
                .collect();
            let has_multiplexed = signals.iter().any(|s| matches!(s.mux, MuxRole::Multiplexed(_)));
            if switches.len() > 1 {
                unsupported =
                    Some("several multiplexer signals (extended multiplexing is not supported)".into());
            } else if has_multiplexed && switches.is_empty() {
                unsupported = Some("multiplexed signals without a multiplexer signal".into());
            }
            if parsed.extended_multiplex.iter().any(|entry| entry.message_id == message.id) {
                unsupported = Some("SG_MUL_VAL_ entries (extended multiplexing is not supported)".into());
            }
            let index = messages.len();
            if let Some(other) = by_id.get(&(can_id, extended)).and_then(|&i| messages.get(i)) {
                let other: &MessageDef = other;
                return Err(fail(format!(
                    "messages {} and {} share id 0x{can_id:X}",
                    other.name, message.name
                )));
            }
            if by_name.contains_key(&message.name) {
                return Err(fail(format!("two messages are named {}", message.name)));
            }
            by_id.insert((can_id, extended), index);
            by_name.insert(message.name.clone(), index);
            messages.push(MessageDef {
                name: message.name.clone(),
                can_id,
                extended,
                size_bytes,
                signals,
                multiplexor: switches.first().copied(),
                unsupported,
            });
        }
        Ok(Self { source_name, messages, by_id, by_name })
    }

    /// The file (or `<string>`) the DBC came from, for messages.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    pub(crate) fn message_index(&self, can_id: u32, extended: bool) -> Option<usize> {
        self.by_id.get(&(can_id, extended)).copied()
    }

    pub(crate) fn message_by_name(&self, name: &str) -> Option<(usize, &MessageDef)> {
        let index = *self.by_name.get(name)?;
        Some((index, self.messages.get(index)?))
    }

    pub(crate) fn message(&self, index: usize) -> Option<&MessageDef> {
        self.messages.get(index)
    }

    /// Number of messages defined.
    pub(crate) fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// Decodes a frame whose id is in the DBC.
    ///
    /// # Errors
    /// `Ok(None)` when the id (with its standard/extended kind) is not in the DBC.
    /// [`CanError::Decode`] naming the message when the payload is shorter than the DBC
    /// message, the multiplexer selects no signals, or the message uses unsupported
    /// multiplexing. Longer payloads are accepted (as cantools does).
    pub fn decode(&self, frame: &CanFrame) -> Result<Option<DecodedMessage>, CanError> {
        let Some(message) =
            self.message_index(frame.can_id, frame.extended).and_then(|i| self.messages.get(i))
        else {
            return Ok(None);
        };
        let mux_value = message.check_payload(&frame.data)?;
        let mut signals = BTreeMap::new();
        for signal in message.signals.iter().filter(|s| MessageDef::is_active(s, mux_value)) {
            let raw = extract_raw(signal, &frame.data)
                .ok_or_else(|| message.decode_error(format!("payload too short for {}", signal.name)))?;
            signals.insert(signal.name.clone(), signal.physical(raw));
        }
        Ok(Some(DecodedMessage {
            name: message.name.clone(),
            can_id: message.can_id,
            extended: message.extended,
            signals,
        }))
    }

    /// Decodes one signal of message `message_index` from a payload: `Ok(None)` when the
    /// multiplexer does not select it. Returns `(physical, raw)`.
    pub(crate) fn decode_signal(
        &self,
        message_index: usize,
        signal_index: usize,
        data: &[u8],
    ) -> Result<Option<(f64, i128)>, CanError> {
        let Some(message) = self.messages.get(message_index) else {
            return Ok(None);
        };
        let mux_value = message.check_payload(data)?;
        let Some(signal) = message.signals.get(signal_index) else {
            return Ok(None);
        };
        if !MessageDef::is_active(signal, mux_value) {
            return Ok(None);
        }
        let raw = extract_raw(signal, data)
            .ok_or_else(|| message.decode_error(format!("payload too short for {}", signal.name)))?;
        Ok(Some((signal.physical(raw), signal.raw_integer(raw))))
    }

    /// Checks a known frame's payload (length, multiplexer) without decoding signals.
    pub(crate) fn check_frame_payload(&self, message_index: usize, data: &[u8]) -> Result<(), CanError> {
        match self.messages.get(message_index) {
            Some(message) => message.check_payload(data).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Encodes message `message_name` from physical signal values (DBC units).
    ///
    /// Like cantools' strict encoding, `signals` must hold exactly the signals the message
    /// sends: every plain signal, and for a multiplexed message the multiplexer and the
    /// signals its value selects.
    ///
    /// # Errors
    /// [`CanError::Encode`] naming the message and the signal: no such message, unknown or
    /// unselected signal, missing signal, non-finite value, value outside `[MIN, MAX]`, raw
    /// value wider than the field, multiplexer value selecting nothing.
    pub fn encode(
        &self,
        message_name: &str,
        signals: &BTreeMap<String, f64>,
    ) -> Result<EncodedFrame, CanError> {
        let fail = |reason: String| CanError::Encode { message: message_name.to_owned(), reason };
        let Some((_, message)) = self.message_by_name(message_name) else {
            return Err(fail(format!("no such message in DBC {}", self.source_name)));
        };
        if let Some(reason) = &message.unsupported {
            return Err(fail(reason.clone()));
        }
        let mut data = vec![0u8; message.size_bytes];
        let mut mux_value = None;
        if let Some(switch) = message.multiplexor.and_then(|i| message.signals.get(i)) {
            let value = *signals
                .get(&switch.name)
                .ok_or_else(|| fail(format!("multiplexer signal `{}` is missing", switch.name)))?;
            let raw = switch.raw_from_physical(value).map_err(fail)?;
            if !message.mux_values().contains(&raw) {
                return Err(fail(format!(
                    "multiplexer `{}` = {raw} selects no signals (defined: {:?})",
                    switch.name,
                    message.mux_values()
                )));
            }
            mux_value = Some(raw);
        }
        for name in signals.keys() {
            match message.signals.iter().find(|s| &s.name == name) {
                None => return Err(fail(format!("signal `{name}` is not in the message"))),
                Some(signal) if !MessageDef::is_active(signal, mux_value) => {
                    return Err(fail(format!("signal `{name}` is not sent with this multiplexer value")));
                }
                Some(_) => {}
            }
        }
        for signal in message.signals.iter().filter(|s| MessageDef::is_active(s, mux_value)) {
            let value = *signals
                .get(&signal.name)
                .ok_or_else(|| fail(format!("signal `{}` is missing", signal.name)))?;
            let raw = signal.raw_from_physical(value).map_err(fail)?;
            insert_raw(signal, raw, &mut data);
        }
        Ok(EncodedFrame { can_id: message.can_id, extended: message.extended, data })
    }
}

impl FromStr for Dbc {
    type Err = CanError;

    /// Loads DBC text (the source is named `<string>` in errors).
    fn from_str(text: &str) -> Result<Self, CanError> {
        Self::load(text, "<string>".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DBC: &str = r#"VERSION ""

NS_ :

BS_:

BU_: A

BO_ 256 INTEL: 8 A
 SG_ U12 : 4|12@1+ (1,0) [0|0] "" A
 SG_ S10 : 20|10@1- (0.5,-1) [0|0] "" A

BO_ 257 MOTO: 8 A
 SG_ Word : 7|16@0- (0.01,0) [-327.68|327.67] "deg/s" A
 SG_ Cross : 19|6@0+ (1,0) [0|63] "" A

BO_ 2147483905 EXT: 2 A
 SG_ Page M : 0|2@1+ (1,0) [0|3] "" A
 SG_ P0 m0 : 8|8@1+ (1,0) [0|0] "" A
 SG_ P1 m1 : 8|8@1- (1,0) [0|0] "" A
"#;

    fn frame(can_id: u32, extended: bool, data: &[u8]) -> CanFrame {
        CanFrame { stamp_ns: 0, bus: "t".into(), can_id, extended, data: data.to_vec() }
    }

    #[test]
    fn intel_signals_decode_by_hand() {
        let dbc: Dbc = DBC.parse().unwrap();
        // U12 = bits 4..=15: byte 0 high nibble (low 4 bits of U12), byte 1 (high 8 bits).
        // Bytes 0xA0 0xBC -> U12 = 0xBC << 4 | 0xA = 0xBCA = 3018.
        // S10 = bits 20..=29: byte 2 high nibble (4 low bits), byte 3 bits 0..=5 (6 high bits).
        // Byte 2 = 0xF0, byte 3 = 0x3F -> raw 0x3FF = -1 signed -> -1 * 0.5 - 1 = -1.5.
        let decoded = dbc.decode(&frame(256, false, &[0xA0, 0xBC, 0xF0, 0x3F, 0, 0, 0, 0])).unwrap().unwrap();
        assert_eq!(decoded.signals["U12"], 3018.0);
        assert_eq!(decoded.signals["S10"], -1.5);
    }

    #[test]
    fn motorola_signals_decode_by_hand() {
        let dbc: Dbc = DBC.parse().unwrap();
        // Word: MSB at bit 7 (byte 0 bit 7), 16 bits -> byte 0 then byte 1: 0xFF38 = -200 -> -2.00.
        // Cross: MSB at bit 19 = byte 2 bit 3, 6 bits -> byte 2 bits 3..0 then byte 3 bits 7..6.
        // Byte 2 = 0b0000_1011, byte 3 = 0b1000_0000 -> 1011 10 = 0b101110 = 46.
        let decoded = dbc
            .decode(&frame(257, false, &[0xFF, 0x38, 0b0000_1011, 0b1000_0000, 0, 0, 0, 0]))
            .unwrap()
            .unwrap();
        assert!((decoded.signals["Word"] - -2.0).abs() < 1e-12);
        assert_eq!(decoded.signals["Cross"], 46.0);
    }

    #[test]
    fn encoding_inverts_decoding_bit_for_bit() {
        let dbc: Dbc = DBC.parse().unwrap();
        let values = BTreeMap::from([("Word".to_string(), -2.0), ("Cross".to_string(), 46.0)]);
        let encoded = dbc.encode("MOTO", &values).unwrap();
        assert_eq!(encoded.data, [0xFF, 0x38, 0b0000_1011, 0b1000_0000, 0, 0, 0, 0]);
        let values = BTreeMap::from([("U12".to_string(), 3018.0), ("S10".to_string(), -1.5)]);
        assert_eq!(dbc.encode("INTEL", &values).unwrap().data, [0xA0, 0xBC, 0xF0, 0x3F, 0, 0, 0, 0]);
    }

    #[test]
    fn multiplexed_signals_follow_their_multiplexer() {
        let dbc: Dbc = DBC.parse().unwrap();
        let decoded = dbc.decode(&frame(256 + 1, true, &[1, 0xFE])).unwrap().unwrap();
        assert_eq!(decoded.name, "EXT");
        assert_eq!(decoded.signals, BTreeMap::from([("Page".into(), 1.0), ("P1".into(), -2.0)]));
        let error = dbc.decode(&frame(257, true, &[2, 0])).unwrap_err().to_string();
        assert!(error.contains("`Page` = 2 selects no signals"), "{error}");
        // The extended id 0x101 is not the standard id 0x101.
        assert_eq!(dbc.decode(&frame(257, false, &[0; 8])).unwrap().unwrap().name, "MOTO");
        assert!(dbc.decode(&frame(0x7FF, false, &[])).unwrap().is_none());
    }

    #[test]
    fn encoding_errors_name_the_signal() {
        let dbc: Dbc = DBC.parse().unwrap();
        let encode = |message: &str, values: &[(&str, f64)]| {
            let values = values.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            dbc.encode(message, &values).unwrap_err().to_string()
        };
        assert!(encode("NOPE", &[]).contains("no such message"));
        assert!(encode("MOTO", &[("Word", 400.0), ("Cross", 0.0)]).contains("`Word` value 400 is outside"));
        assert!(encode("MOTO", &[("Word", 0.0)]).contains("`Cross` is missing"));
        assert!(encode("MOTO", &[("Word", 0.0), ("Cross", 1.0), ("Typo", 1.0)]).contains("`Typo` is not in"));
        assert!(
            encode("INTEL", &[("U12", 4096.0), ("S10", 0.0)]).contains("does not fit its 12-bit unsigned")
        );
        assert!(encode("INTEL", &[("U12", f64::NAN), ("S10", 0.0)]).contains("not finite"));
        assert!(encode("EXT", &[("Page", 0.0), ("P1", 1.0)]).contains("`P1` is not sent"));
        assert!(encode("EXT", &[("P0", 1.0)]).contains("multiplexer signal `Page` is missing"));
    }

    #[test]
    fn unusable_dbcs_are_refused() {
        let outside = "VERSION \"\"\nNS_ :\nBS_:\nBU_: A\nBO_ 1 M: 1 A\n SG_ S : 4|8@1+ (1,0) [0|0] \"\" A\n";
        let error = outside.parse::<Dbc>().unwrap_err().to_string();
        assert!(error.contains("M.S (4|8) does not fit the message's 1 bytes"), "{error}");
        // Motorola: T's MSB is byte 6 bit 5, its bits run 5..0 of byte 6 into byte 7, over C.
        let moto = "VERSION \"\"\nNS_ :\nBS_:\nBU_: A\nBO_ 1 M: 8 A\n SG_ C : 51|4@0+ (1,0) [0|0] \"\" A\n SG_ T : 53|10@0- (1,0) [0|0] \"\" A\n";
        let error = moto.parse::<Dbc>().unwrap_err().to_string();
        assert!(error.contains("signals C and T overlap in message M"), "{error}");
        let error = "BO_ garbage".parse::<Dbc>().unwrap_err().to_string();
        assert!(error.starts_with("DBC <string>:"), "{error}");
    }
}
