//! Fuzz target: `pitsense_sim::fuzzing::fuzz_scenario`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pitsense_sim::fuzzing::fuzz_scenario(data);
});
