//! Fuzz target: `pitsense_cloud_link::fuzzing::fuzz_episode_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pitsense_cloud_link::fuzzing::fuzz_episode_reader(data);
});
