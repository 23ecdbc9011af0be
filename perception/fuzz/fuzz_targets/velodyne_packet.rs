//! Fuzz target: Velodyne data packets (every model) through the decoder and the rotation assembler.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pitsense_perception::drivers::fuzz_entry::velodyne_packets(data);
});
