//! Replays the fuzz seeds and regressions through the property functions the
//! cargo-fuzz targets run, so plain `cargo test` (and CI) checks them without
//! cargo-fuzz or nightly. A file under fuzz/regressions/ fails here until its bug is
//! fixed; see fuzz/README.md.
//!
//! The fuzz crate keeps its own workspace; this file is its replay half in the main one.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_props;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut paths = Vec::new();
    for dir in ["seeds", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            paths.extend(entries.filter_map(|e| Some(e.ok()?.path())));
        }
    }
    paths.sort();
    paths
}

fn replay(target: &str, check: fn(&[u8])) {
    let paths = inputs(target);
    assert!(!paths.is_empty(), "no seeds for fuzz target {target}");
    let failures: Vec<String> = paths
        .iter()
        .filter(|p| {
            let data = std::fs::read(p).expect("read fuzz input");
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs violate the fuzz properties: {failures:#?}",
        failures.len(),
        paths.len()
    );
}

#[test]
fn fuzz_replay_sip_message() {
    replay("sip_message", fuzz_props::sip_message::check);
}

#[test]
fn fuzz_replay_sip_ua() {
    replay("sip_ua", fuzz_props::sip_ua::check);
}

#[test]
fn fuzz_replay_sdp() {
    replay("sdp", fuzz_props::sdp::check);
}

#[test]
fn fuzz_replay_rtp() {
    replay("rtp", fuzz_props::rtp::check);
}

#[test]
fn fuzz_replay_rtcp() {
    replay("rtcp", fuzz_props::rtcp::check);
}

#[test]
fn fuzz_replay_dtmf() {
    replay("dtmf", fuzz_props::dtmf::check);
}

#[test]
fn fuzz_replay_media_session() {
    replay("media_session", fuzz_props::media_session::check);
}
