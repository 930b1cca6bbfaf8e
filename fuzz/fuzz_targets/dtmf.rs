#![no_main]
//! See `src/dtmf.rs` for the input format and the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxhire_fuzz::dtmf::check(data));
