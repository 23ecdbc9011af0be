//! cargo-fuzz target: `pitsense_v2x::fuzzing::fuzz_unwrap_ieee1609dot2`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pitsense_v2x::fuzzing::fuzz_unwrap_ieee1609dot2(data);
});
