//! Fuzz target: pcap/pcapng capture parsing down to UDP datagrams.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pitsense_perception::drivers::fuzz_entry::capture(data);
});
