//! Fuzz target: PCD (ASCII/binary) and nuScenes .pcd.bin parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pitsense_perception::drivers::fuzz_entry::point_files(data);
});
