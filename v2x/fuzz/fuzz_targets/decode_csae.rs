//! cargo-fuzz target: `pitsense_v2x::fuzzing::fuzz_decode_csae`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pitsense_v2x::fuzzing::fuzz_decode_csae(data);
});
