//! cargo-fuzz target: `pitsense_v2x::fuzzing::fuzz_decode_any`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pitsense_v2x::fuzzing::fuzz_decode_any(data);
});
