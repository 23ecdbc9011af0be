//! Checked little-/big-endian readers over byte slices: every read returns `None` past the end,
//! so the packet decoders never index out of bounds.

/// `N` bytes at `offset`, or `None` when the slice is too short.
pub(crate) fn array<const N: usize>(bytes: &[u8], offset: usize) -> Option<[u8; N]> {
    let end = offset.checked_add(N)?;
    bytes.get(offset..end)?.try_into().ok()
}

/// Little-endian `u16` at `offset`.
pub(crate) fn le_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    array(bytes, offset).map(u16::from_le_bytes)
}

/// Little-endian `u32` at `offset`.
pub(crate) fn le_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    array(bytes, offset).map(u32::from_le_bytes)
}

/// Little-endian `u64` at `offset`.
pub(crate) fn le_u64(bytes: &[u8], offset: usize) -> Option<u64> {
    array(bytes, offset).map(u64::from_le_bytes)
}

/// Little-endian `f32` at `offset`.
pub(crate) fn le_f32(bytes: &[u8], offset: usize) -> Option<f32> {
    array(bytes, offset).map(f32::from_le_bytes)
}

/// Big-endian (network order) `u16` at `offset`.
pub(crate) fn be_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    array(bytes, offset).map(u16::from_be_bytes)
}

/// Up to eight bytes from `offset` as a little-endian `u64`, zero-padded past the end of the slice
/// (a bit field near the end of a packet needs fewer than eight bytes). `None` only when `offset`
/// itself is past the end.
pub(crate) fn le_u64_padded(bytes: &[u8], offset: usize) -> Option<u64> {
    let tail = bytes.get(offset..)?;
    if tail.is_empty() {
        return None;
    }
    let mut word = [0_u8; 8];
    let take = tail.len().min(8);
    word.get_mut(..take)?.copy_from_slice(tail.get(..take)?);
    Some(u64::from_le_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let bytes = [1_u8, 2, 3, 4, 5];
        assert_eq!(le_u16(&bytes, 0), Some(0x0201));
        assert_eq!(be_u16(&bytes, 0), Some(0x0102));
        assert_eq!(le_u32(&bytes, 1), Some(0x0504_0302));
        assert_eq!(le_u32(&bytes, 2), None);
        assert_eq!(le_u64(&bytes, 0), None);
        assert_eq!(le_u16(&bytes, usize::MAX), None);
        assert_eq!(le_u64_padded(&bytes, 3), Some(0x0504));
        assert_eq!(le_u64_padded(&bytes, 5), None);
    }
}
