//! Fuzz target: `pitsense_runtime::fuzzing::fuzz_nmea`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pitsense_runtime::fuzzing::fuzz_nmea(data);
});
