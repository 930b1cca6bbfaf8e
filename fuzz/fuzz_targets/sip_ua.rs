#![no_main]
//! See `src/sip_ua.rs` for the input format and the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxhire_fuzz::sip_ua::check(data));
