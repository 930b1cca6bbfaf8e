#![no_main]
//! See `src/media_session.rs` for the input format and the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxhire_fuzz::media_session::check(data));
