//! The SIPp scenarios and the Rust SIPp harness checked against SIPp itself
//! (no voxhire): if one of these fails, a voxhire test failure would mean
//! nothing. The full matrix, including the negative auth cases, is
//! tests/sipp/validate-scenarios.sh; this keeps the essentials in `cargo test`.

mod common;

use common::require_sipp;
use common::sipp::{Sipp, SippConfig};
use common::Scratch;
use std::time::Duration;

#[test]
fn uas_answer_speech_streams_to_an_echoing_uac() {
    require_sipp();
    let scratch = Scratch::new("scen-speech");
    let mut uas = Sipp::start(
        SippConfig::uas("uas-answer-speech.xml"),
        scratch.path(),
        "uas",
    );
    let mut cfg = SippConfig::uac("uac-call.xml", uas.addr());
    cfg.rtp_echo = true;
    cfg.hold_ms = Some(1_000);
    let mut uac = Sipp::start(cfg, scratch.path(), "uac");
    let out = uac.assert_success(Duration::from_secs(20));
    assert_eq!((out.successful, out.failed), (Some(1), Some(0)));
    uas.assert_success(Duration::from_secs(5));
}

#[test]
fn digest_check_rejects_a_wrong_password() {
    require_sipp();
    for (password, want) in [("secret", 0), ("wrong", 1)] {
        let scratch = Scratch::new("scen-auth");
        let mut uas = Sipp::start(SippConfig::uas("uas-auth.xml"), scratch.path(), "uas");
        let mut cfg = SippConfig::uac("validate/uac-auth.xml", uas.addr());
        cfg.hold_ms = Some(500);
        cfg.extra = ["-au", "alice", "-ap", password].map(String::from).to_vec();
        let mut uac = Sipp::start(cfg, scratch.path(), "uac");
        uac.assert_success(Duration::from_secs(20));
        let out = uas.finish(Duration::from_secs(10));
        assert_eq!(
            out.code,
            Some(want),
            "password {password}: {:?}\n{}",
            out,
            uas.diagnostics()
        );
    }
}

#[test]
fn uac_call_or_503_logs_the_retry_after() {
    require_sipp();
    let scratch = Scratch::new("scen-503");
    let mut uas = Sipp::start(
        SippConfig::uas("validate/uas-503.xml"),
        scratch.path(),
        "uas",
    );
    let mut uac = Sipp::start(
        SippConfig::uac("uac-call-or-503.xml", uas.addr()),
        scratch.path(),
        "uac",
    );
    uac.assert_success(Duration::from_secs(20));
    uas.assert_success(Duration::from_secs(5));
    let log = uac.scenario_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].ends_with("outcome=503 retry_after=5"), "{log:?}");
}

#[test]
fn uac_call_fails_on_503() {
    require_sipp();
    let scratch = Scratch::new("scen-503-fails");
    let _uas = Sipp::start(
        SippConfig::uas("validate/uas-503.xml"),
        scratch.path(),
        "uas",
    );
    let mut uac = Sipp::start(
        SippConfig::uac("uac-call.xml", _uas.addr()),
        scratch.path(),
        "uac",
    );
    let out = uac.finish(Duration::from_secs(20));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!((out.successful, out.failed), (Some(0), Some(1)));
}
