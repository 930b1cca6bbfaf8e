//! The properties the fuzz targets check, as plain functions of the input bytes.
//!
//! `fuzz_targets/*.rs` hand libFuzzer's inputs to these; the main workspace's replay
//! test (see README.md) runs the same functions over `seeds/` and `regressions/`
//! with plain `cargo test`, so this file and its modules use nothing but std and
//! the two voxhire crates.
#![forbid(unsafe_code)]

use std::sync::OnceLock;

pub mod dtmf;
pub mod media_session;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod sip_message;
pub mod sip_ua;

/// Whether to look past a known, already reported bug (named in README.md and by its
/// reproducer under `regressions/`). While fuzzing, `FUZZ_KNOWN_BUGS=name,name`
/// lets the fuzzer search beyond it instead of re-finding it on every run; the replay
/// test never sets it, so a regression keeps failing until the bug is fixed.
pub fn tolerate(bug: &str) -> bool {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("FUZZ_KNOWN_BUGS")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|b| b == bug)
}
