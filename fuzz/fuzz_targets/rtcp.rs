#![no_main]
//! See `src/rtcp.rs` for the input format and the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxhire_fuzz::rtcp::check(data));
