//! Fuzz target: Ouster lidar packets (every profile) through the frame batcher, digests and XYZ.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pitsense_perception::drivers::fuzz_entry::ouster_packets(data);
});
