//! IPv4 fragment reassembly for capture replay, with bounded memory.
//!
//! Source: RFC 791 §2.3 "Fragmentation" and §3.2 (reassembly): fragments of one datagram share
//! source, destination, protocol and identification; each carries its byte offset (the 13-bit
//! fragment offset × 8) and, except the last, the more-fragments flag; the last one fixes the
//! datagram's length. Fragments may arrive in any order and interleaved with other datagrams'.
//!
//! Bounds: at most [`MAX_PENDING_DATAGRAMS`] datagrams wait at once (a new one evicts the one
//! waiting longest), each at most 65 535 bytes (the IPv4 length field's limit), and a datagram
//! still incomplete [`REASSEMBLY_TIMEOUT_NS`] after its first fragment (capture clock) is
//! dropped, as Linux drops it after `ipfrag_time` (30 s). Fragments that disagree (overlapping
//! with different bytes, two different ends, past 65 535 bytes) drop their datagram (RFC 5722
//! asks the same of IPv6). Every datagram dropped before completion is counted.

use std::collections::BTreeMap;

/// Datagrams waiting for fragments at most (32 × 64 KiB = 2 MiB at worst).
pub const MAX_PENDING_DATAGRAMS: usize = 32;
/// How long a datagram may wait for its fragments, on the capture clock (Linux `ipfrag_time`).
pub const REASSEMBLY_TIMEOUT_NS: u64 = 30_000_000_000;
/// Largest IPv4 payload: the 16-bit total length minus the 20-byte minimal header.
const MAX_PAYLOAD_BYTES: usize = 65_535 - 20;

/// What identifies the fragments of one datagram (RFC 791: source, destination, protocol,
/// identification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FragmentKey {
    pub source: [u8; 4],
    pub destination: [u8; 4],
    pub protocol: u8,
    pub identification: u16,
}

/// One fragment: its datagram, where its bytes go, and whether more follow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fragment<'a> {
    pub key: FragmentKey,
    /// Byte offset of `payload` in the datagram's payload (fragment offset × 8).
    pub offset_bytes: usize,
    /// The more-fragments flag.
    pub more_fragments: bool,
    /// The fragment's share of the datagram payload.
    pub payload: &'a [u8],
}

#[derive(Clone, Debug)]
struct Pending {
    first_seen_ns: u64,
    /// Fragments as (offset, bytes), in arrival order; they never overlap.
    pieces: Vec<(usize, Vec<u8>)>,
    /// The payload length, once the last fragment arrived.
    total_bytes: Option<usize>,
    received_bytes: usize,
}

/// Reassembles IPv4 datagrams from their fragments (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(crate) struct Reassembler {
    pending: BTreeMap<FragmentKey, Pending>,
    reassembled: u64,
    incomplete: u64,
}

impl Reassembler {
    /// Datagrams completed so far.
    pub fn reassembled(&self) -> u64 {
        self.reassembled
    }

    /// Datagrams dropped before all their fragments arrived (timeout, eviction, fragments that
    /// disagree, end of the capture).
    pub fn incomplete(&self) -> u64 {
        self.incomplete
    }

    /// Adds a fragment seen at `capture_time_ns`; returns the datagram's whole payload once
    /// every fragment is in.
    pub fn add(&mut self, fragment: Fragment<'_>, capture_time_ns: u64) -> Option<Vec<u8>> {
        self.expire(capture_time_ns);
        let Fragment { key, offset_bytes, more_fragments, payload } = fragment;
        let end = offset_bytes.checked_add(payload.len())?;
        if end > MAX_PAYLOAD_BYTES || (more_fragments && payload.is_empty()) {
            self.drop_pending(&key, true);
            return None;
        }
        if !self.pending.contains_key(&key) && self.pending.len() >= MAX_PENDING_DATAGRAMS {
            let oldest = self.pending.iter().min_by_key(|(key, pending)| (pending.first_seen_ns, **key));
            if let Some(oldest) = oldest.map(|(key, _)| *key) {
                self.drop_pending(&oldest, false);
            }
        }
        let pending = self.pending.entry(key).or_insert_with(|| Pending {
            first_seen_ns: capture_time_ns,
            pieces: Vec::new(),
            total_bytes: None,
            received_bytes: 0,
        });
        let mut consistent = match (more_fragments, pending.total_bytes) {
            (false, Some(total)) => total == end,
            (true, Some(total)) => end <= total,
            (_, None) => true,
        };
        if !more_fragments {
            pending.total_bytes = Some(end);
        }
        let mut duplicate = false;
        for (offset, bytes) in &pending.pieces {
            let overlaps = *offset < end && offset_bytes < offset + bytes.len();
            if overlaps {
                if *offset == offset_bytes && bytes.as_slice() == payload {
                    duplicate = true;
                } else {
                    consistent = false;
                }
            }
        }
        if let Some(total) = pending.total_bytes {
            consistent &= pending.pieces.iter().all(|(offset, bytes)| offset + bytes.len() <= total);
        }
        if !consistent {
            self.drop_pending(&key, true);
            return None;
        }
        if !duplicate {
            pending.pieces.push((offset_bytes, payload.to_vec()));
            pending.received_bytes += payload.len();
        }
        // No overlaps and every piece inside the total: all bytes in means contiguous.
        if pending.total_bytes != Some(pending.received_bytes) {
            return None;
        }
        let mut pending = self.pending.remove(&key)?;
        pending.pieces.sort_by_key(|(offset, _)| *offset);
        let mut datagram = Vec::with_capacity(pending.received_bytes);
        for (_, bytes) in pending.pieces {
            datagram.extend_from_slice(&bytes);
        }
        self.reassembled += 1;
        Some(datagram)
    }

    /// Drops every datagram still waiting (end of the capture), counting them.
    pub fn finish(&mut self) {
        self.incomplete += self.pending.len() as u64;
        self.pending.clear();
    }

    fn expire(&mut self, now_ns: u64) {
        let before = self.pending.len();
        self.pending
            .retain(|_, pending| now_ns.saturating_sub(pending.first_seen_ns) <= REASSEMBLY_TIMEOUT_NS);
        self.incomplete += (before - self.pending.len()) as u64;
    }

    /// Drops one waiting datagram (counted); `always_count` also counts a datagram that was
    /// not waiting yet (a lone inconsistent fragment).
    fn drop_pending(&mut self, key: &FragmentKey, always_count: bool) {
        if self.pending.remove(key).is_some() || always_count {
            self.incomplete += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: FragmentKey =
        FragmentKey { source: [10, 0, 0, 1], destination: [10, 0, 0, 2], protocol: 17, identification: 7 };

    fn fragment(key: FragmentKey, offset_bytes: usize, more_fragments: bool, payload: &[u8]) -> Fragment<'_> {
        Fragment { key, offset_bytes, more_fragments, payload }
    }

    #[test]
    fn out_of_order_interleaved_and_duplicate_fragments() {
        let data: Vec<u8> = (0..=255).cycle().take(40).collect();
        let other = FragmentKey { identification: 8, ..KEY };
        let mut reassembler = Reassembler::default();
        assert_eq!(reassembler.add(fragment(KEY, 32, false, &data[32..]), 0), None);
        assert_eq!(reassembler.add(fragment(other, 0, true, &data[..8]), 1), None);
        assert_eq!(reassembler.add(fragment(KEY, 8, true, &data[8..32]), 2), None);
        assert_eq!(reassembler.add(fragment(KEY, 8, true, &data[8..32]), 3), None, "duplicate");
        assert_eq!(reassembler.add(fragment(KEY, 0, true, &data[..8]), 4), Some(data.clone()));
        assert_eq!(reassembler.add(fragment(other, 8, false, &data[8..16]), 5), Some(data[..16].to_vec()));
        assert_eq!((reassembler.reassembled(), reassembler.incomplete()), (2, 0));
    }

    #[test]
    fn disagreeing_fragments_drop_the_datagram() {
        let data = [1_u8; 24];
        let mut reassembler = Reassembler::default();
        reassembler.add(fragment(KEY, 0, true, &data[..16]), 0);
        // Overlaps bytes 8..16 with other contents.
        assert_eq!(reassembler.add(fragment(KEY, 8, false, &[2; 16]), 1), None);
        assert_eq!(reassembler.incomplete(), 1);
        // A lone fragment reaching past 65 535 bytes.
        assert_eq!(reassembler.add(fragment(KEY, 65_512, false, &data), 2), None);
        assert_eq!(reassembler.incomplete(), 2);
    }

    #[test]
    fn memory_and_time_are_bounded() {
        let mut reassembler = Reassembler::default();
        for identification in 0..(MAX_PENDING_DATAGRAMS as u16 + 3) {
            reassembler.add(fragment(FragmentKey { identification, ..KEY }, 0, true, &[0; 8]), 0);
        }
        assert_eq!(reassembler.pending.len(), MAX_PENDING_DATAGRAMS);
        assert_eq!(reassembler.incomplete(), 3);
        // Identifications 0, 1, 2 (the oldest) were evicted: 0's last fragment starts a new
        // datagram (evicting 3), which cannot complete.
        reassembler.add(fragment(FragmentKey { identification: 0, ..KEY }, 8, false, &[0; 8]), 1);
        assert_eq!((reassembler.reassembled(), reassembler.incomplete()), (0, 4));
        // Just over 30 s after the last first fragment, every waiting datagram expires.
        reassembler
            .add(fragment(FragmentKey { identification: 999, ..KEY }, 0, true, &[0; 8]), 30_000_000_002);
        assert_eq!(reassembler.pending.len(), 1);
        assert_eq!(reassembler.incomplete(), 4 + MAX_PENDING_DATAGRAMS as u64);
        reassembler.finish();
        assert_eq!(reassembler.incomplete(), 4 + MAX_PENDING_DATAGRAMS as u64 + 1);
    }
}
