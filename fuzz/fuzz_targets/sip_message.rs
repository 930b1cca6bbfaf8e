#![no_main]
//! See `src/sip_message.rs` for the input format and the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| voxhire_fuzz::sip_message::check(data));
