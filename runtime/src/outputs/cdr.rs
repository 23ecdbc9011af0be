//! A small OMG CDR (XCDR1, little-endian) writer for ROS 2 messages.
//!
//! Source: OMG DDS-XTypes 1.3 §7.4.3 ("Extended CDR Representation (encoding version 1)") and
//! the DDS-RTPS 2.5 §10 serialized payload header, as ROS 2's `rmw` layers and `rosbags` write
//! them. The rules this writer follows:
//!
//! ```text
//! payload = encapsulation header (4 bytes) | body
//! header  = 0x00 0x01 0x00 0x00   representation CDR_LE (0x0001, big-endian), options 0x0000
//! body    : every primitive of size n ∈ {1, 2, 4, 8} starts at an offset that is a multiple of
//!           n, counted from the first byte of the body (after the header); the gap before it is
//!           filled with zero bytes. Nested structures add no alignment of their own: each field
//!           is aligned by its own primitive type.
//! bool    : 1 byte, 0 or 1
//! string  : uint32 length including the terminating NUL, the UTF-8 bytes, NUL
//! T[]     : uint32 element count, then the elements (each aligned by its own rules)
//! T[N]    : the N elements, no count
//! ```
//!
//! Example, `{uint8 a; float64 b}` with `a = 1`, `b = 2.0`:
//! `00 01 00 00 | 01 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 40` (a at body offset 0, seven
//! padding bytes, b at body offset 8).

/// The XCDR1 little-endian encapsulation header (`CDR_LE`, options 0).
pub const CDR_LE_HEADER: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

/// Length of the encapsulation header, bytes: body offsets are counted after it.
const HEADER_LEN: usize = CDR_LE_HEADER.len();

/// Writes one CDR payload into a caller's buffer (reused between messages, so steady-state
/// encoding does not allocate).
#[derive(Debug)]
pub struct CdrWriter<'a> {
    buffer: &'a mut Vec<u8>,
}

impl<'a> CdrWriter<'a> {
    /// Clears `buffer` and writes the encapsulation header into it.
    pub fn new(buffer: &'a mut Vec<u8>) -> Self {
        buffer.clear();
        buffer.extend_from_slice(&CDR_LE_HEADER);
        Self { buffer }
    }

    /// Zero bytes up to the next body offset that is a multiple of `alignment` (1, 2, 4, 8).
    fn align(&mut self, alignment: usize) {
        let body_len = self.buffer.len() - HEADER_LEN;
        let padding = (alignment - body_len % alignment) % alignment;
        self.buffer.resize(self.buffer.len() + padding, 0);
    }

    /// `uint8` (also `byte`, `char`).
    pub fn write_u8(&mut self, value: u8) {
        self.buffer.push(value);
    }

    /// `bool`: one byte, 0 or 1.
    pub fn write_bool(&mut self, value: bool) {
        self.buffer.push(u8::from(value));
    }

    /// `uint32`, 4-aligned.
    pub fn write_u32(&mut self, value: u32) {
        self.align(4);
        self.buffer.extend_from_slice(&value.to_le_bytes());
    }

    /// `int32`, 4-aligned.
    pub fn write_i32(&mut self, value: i32) {
        self.align(4);
        self.buffer.extend_from_slice(&value.to_le_bytes());
    }

    /// `float32`, 4-aligned.
    pub fn write_f32(&mut self, value: f32) {
        self.align(4);
        self.buffer.extend_from_slice(&value.to_le_bytes());
    }

    /// `float64`, 8-aligned.
    pub fn write_f64(&mut self, value: f64) {
        self.align(8);
        self.buffer.extend_from_slice(&value.to_le_bytes());
    }

    /// `uint8[N]`: the bytes, no count, no alignment.
    pub fn write_u8_array(&mut self, values: &[u8]) {
        self.buffer.extend_from_slice(values);
    }

    /// `float64[N]`: the values, no count.
    pub fn write_f64_array(&mut self, values: &[f64]) {
        for &value in values {
            self.write_f64(value);
        }
    }

    /// `string`: uint32 length including the NUL, the bytes, NUL.
    ///
    /// Errors: the string is longer than a `uint32` length can say.
    pub fn write_string(&mut self, text: &str) -> Result<(), CdrLengthError> {
        let length = u32::try_from(text.len() + 1).map_err(|_| CdrLengthError { length: text.len() })?;
        self.write_u32(length);
        self.buffer.extend_from_slice(text.as_bytes());
        self.buffer.push(0);
        Ok(())
    }

    /// The element count that starts a sequence (`T[]`).
    ///
    /// Errors: more elements than a `uint32` count can say.
    pub fn write_sequence_length(&mut self, length: usize) -> Result<(), CdrLengthError> {
        let count = u32::try_from(length).map_err(|_| CdrLengthError { length })?;
        self.write_u32(count);
        Ok(())
    }
}

/// A string or sequence too long for CDR's `uint32` length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{length} elements do not fit a CDR uint32 length")]
pub struct CdrLengthError {
    /// The length that did not fit.
    pub length: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_doc_example_pads_a_float64_after_a_byte_to_body_offset_8() {
        let mut buffer = Vec::new();
        let mut writer = CdrWriter::new(&mut buffer);
        writer.write_u8(1);
        writer.write_f64(2.0);
        // 2.0 = 0x4000_0000_0000_0000.
        let expected = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40];
        assert_eq!(buffer, expected);
    }

    #[test]
    fn strings_carry_their_nul_and_following_fields_realign() {
        let mut buffer = Vec::new();
        let mut writer = CdrWriter::new(&mut buffer);
        writer.write_string("ab").unwrap(); // body 0..4 length 3, 4..7 "ab\0"
        writer.write_u8(9); // body 7
        writer.write_u32(0x0102_0304); // body 8..12 (no padding needed)
        writer.write_bool(true); // body 12
        writer.write_f32(1.0); // body 16..20 after 3 padding bytes; 1.0f32 = 0x3f80_0000
        let expected = [
            0, 1, 0, 0, //
            3, 0, 0, 0, b'a', b'b', 0, 9, //
            4, 3, 2, 1, //
            1, 0, 0, 0, //
            0, 0, 0x80, 0x3f,
        ];
        assert_eq!(buffer, expected);
    }

    #[test]
    fn a_new_writer_reuses_the_buffer_from_scratch() {
        let mut buffer = vec![7; 32];
        let mut writer = CdrWriter::new(&mut buffer);
        writer.write_sequence_length(2).unwrap();
        assert_eq!(buffer, [0, 1, 0, 0, 2, 0, 0, 0]);
    }
}
