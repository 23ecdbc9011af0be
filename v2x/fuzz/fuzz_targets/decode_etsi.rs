//! cargo-fuzz target: `pitsense_v2x::etsi::decode_pdu` (ETSI CAM / CPM, containers included)
//! and the CPM view and measurement conversion of whatever decodes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pitsense_v2x::etsi::fuzz_decode_pdu(data);
});
