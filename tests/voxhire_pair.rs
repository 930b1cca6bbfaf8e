//! voxhire against voxhire over real UDP on 127.0.0.1: Opus negotiated when both
//! sides offer it, G.711 A-law when that is all the caller has, RFC 4733 DTMF in
//! both directions of the contract (`call --dtmf` → serve's call line), echo mode;
//! SRTP keyed in the SDP (SDES) end to end, and an SRTP offer answered in the clear;
//! and `serve` registering with a SIPp registrar that challenges, then refreshing
//! and removing its binding.
//!
//!   cargo test --test voxhire_pair -- --nocapture

mod common;

use common::audio::{locate, read_wav, RATE, SAME_SPEECH_MIN_SEGMENT_CORR};
use common::ports::{free_port_range, free_udp_port};
use common::sipp::{Sipp, SippConfig};
use common::voxhire::{rtp, run_call, Serve};
use common::{audio_fixture, require_sipp, Scratch};
use std::time::Duration;

fn write_trunk(scratch: &Scratch, name: &str, body: &str) -> String {
    let path = scratch.join(name);
    std::fs::write(&path, body).expect("write trunk file");
    path.to_string_lossy().into_owned()
}

fn serve_echo(scratch: &Scratch, trunk: &str) -> Serve {
    let (lo, hi) = free_port_range(16);
    let rec = scratch.join("rec");
    let args: Vec<String> = [
        "--sip".to_string(),
        format!("127.0.0.1:{}", free_udp_port()),
        "--rtp-ports".to_string(),
        format!("{lo}-{hi}"),
        "--echo".to_string(),
        "--record-dir".to_string(),
        rec.to_string_lossy().into_owned(),
        "--trunk".to_string(),
        trunk.to_string(),
    ]
    .into();
    Serve::start(&args, scratch.path(), "serve", Duration::from_secs(15))
}

fn call_serve(serve: &Serve, scratch: &Scratch, trunk: &str, extra: &[&str]) -> serde_json::Value {
    let (lo, hi) = free_port_range(8);
    let mut args = vec![
        format!("sip:agent@{}", serve.sip),
        "--sip".to_string(),
        "127.0.0.1:0".to_string(),
        "--rtp-ports".to_string(),
        format!("{lo}-{hi}"),
        "--trunk".to_string(),
        trunk.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_call(&args, scratch.path(), "call", Duration::from_secs(40)).json()
}

#[test]
fn opus_call_carries_speech_and_dtmf_both_ways() {
    let scratch = Scratch::new("pair-opus");
    let trunk = write_trunk(&scratch, "opus.toml", "codecs = [\"opus\", \"PCMU\"]\n");
    let mut serve = serve_echo(&scratch, &trunk);
    let remote = scratch.join("call-remote.wav");
    let candidate = audio_fixture("candidate-en.wav");
    let v = call_serve(
        &serve,
        &scratch,
        &trunk,
        &[
            "--play",
            &candidate.to_string_lossy(),
            "--record",
            &remote.to_string_lossy(),
            "--dtmf",
            "12#9",
        ],
    );
    eprintln!("call: {v}");
    assert_eq!(v["outcome"], "answered", "{v}");
    assert_eq!(
        v["codec"], "opus",
        "both sides offer Opus, so it is chosen: {v}"
    );
    assert_eq!(rtp(&v, "lost"), 0, "{v}");
    assert!(rtp(&v, "received") > 250, "{v}");

    let served = serve
        .next_call(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no call line from serve\n{}", serve.diagnostics()));
    eprintln!("serve: {served}");
    assert_eq!(served["codec"], "opus", "{served}");
    assert_eq!(
        served["dtmf"], "12#9",
        "RFC 4733 digits arrive once each: {served}"
    );

    // The caller's recording is serve's echo of the candidate speech, through Opus twice.
    let reference = read_wav(&candidate).channels.remove(0);
    let heard = read_wav(&remote).channels.remove(0);
    let m = locate(&reference, &heard, RATE, 1.5);
    let control = locate(
        &read_wav(&audio_fixture("agent-en.wav")).channels.remove(0),
        &heard,
        RATE,
        1.5,
    );
    eprintln!("echo through Opus: {m}\ncontrol (agent sentence): {control}");
    assert!(
        m.segment_corr >= SAME_SPEECH_MIN_SEGMENT_CORR,
        "echoed speech not found: {m}"
    );
    assert!(
        control.segment_corr < SAME_SPEECH_MIN_SEGMENT_CORR,
        "control matched: {control}"
    );
    serve.stop("TERM", Duration::from_secs(10));
}

#[test]
fn pcma_only_caller_gets_pcma() {
    let scratch = Scratch::new("pair-pcma");
    let serve_trunk = write_trunk(
        &scratch,
        "all.toml",
        "codecs = [\"PCMU\", \"PCMA\", \"opus\"]\n",
    );
    let call_trunk = write_trunk(&scratch, "pcma.toml", "codecs = [\"PCMA\"]\n");
    let mut serve = serve_echo(&scratch, &serve_trunk);
    let v = call_serve(
        &serve,
        &scratch,
        &call_trunk,
        &[
            "--play",
            &audio_fixture("agent-en.wav").to_string_lossy(),
            "--hangup-after",
            "2",
        ],
    );
    assert_eq!(v["outcome"], "answered", "{v}");
    assert_eq!(v["codec"], "PCMA", "{v}");
    let served = serve
        .next_call(Duration::from_secs(10))
        .expect("serve call line");
    assert_eq!(served["codec"], "PCMA", "{served}");
    serve.stop("TERM", Duration::from_secs(10));
}

#[test]
fn srtp_keyed_in_the_sdp_carries_speech_both_ways() {
    // The caller's trunk offers SRTP (SDES); serve answers an SRTP offer in SRTP.
    let scratch = Scratch::new("pair-srtp");
    let serve_trunk = write_trunk(&scratch, "plain.toml", "codecs = [\"PCMU\"]\n");
    let call_trunk = write_trunk(&scratch, "srtp.toml", "codecs = [\"PCMU\"]\nsrtp = true\n");
    let mut serve = serve_echo(&scratch, &serve_trunk);
    let remote = scratch.join("call-remote.wav");
    let candidate = audio_fixture("candidate-en.wav");
    let v = call_serve(
        &serve,
        &scratch,
        &call_trunk,
        &[
            "--play",
            &candidate.to_string_lossy(),
            "--record",
            &remote.to_string_lossy(),
            "--dtmf",
            "42",
        ],
    );
    eprintln!("call: {v}");
    assert_eq!(v["outcome"], "answered", "{v}");
    assert_eq!(v["srtp"], true, "{v}");
    assert!(rtp(&v, "received") > 250, "{v}");
    assert_eq!(rtp(&v, "lost"), 0, "{v}");
    assert!(
        v["rtp"].get("srtp_rejected").is_none(),
        "none rejected: {v}"
    );
    let served = serve
        .next_call(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no call line from serve\n{}", serve.diagnostics()));
    eprintln!("serve: {served}");
    assert_eq!(served["srtp"], true, "{served}");
    assert_eq!(served["dtmf"], "42", "DTMF events through SRTP: {served}");
    assert!(served["rtp"].get("srtp_rejected").is_none(), "{served}");
    // What the caller recorded is serve's echo: decrypted, re-encrypted, decrypted.
    let reference = read_wav(&candidate).channels.remove(0);
    let heard = read_wav(&remote).channels.remove(0);
    let m = locate(&reference, &heard, RATE, 1.5);
    eprintln!("echo through SRTP: {m}");
    assert!(
        m.segment_corr >= SAME_SPEECH_MIN_SEGMENT_CORR,
        "echoed speech not found: {m}"
    );
    serve.stop("TERM", Duration::from_secs(10));
}

#[test]
fn an_srtp_offer_answered_in_the_clear_fails_the_call() {
    // A SIPp UAS answers every offer with plain RTP/AVP: our SRTP offer is not met,
    // so the call must fail (and be hung up), never carry audio in the clear.
    require_sipp();
    let scratch = Scratch::new("pair-srtp-refused");
    let sipp = Sipp::start(
        SippConfig::uas("uas-answer-speech.xml"),
        scratch.path(),
        "uas",
    );
    let v = run_call(
        &[
            format!("sip:candidate@{}", sipp.addr()),
            "--sip".to_string(),
            "127.0.0.1:0".to_string(),
            "--srtp".to_string(),
            "--hangup-after".to_string(),
            "2".to_string(),
        ],
        scratch.path(),
        "call",
        Duration::from_secs(40),
    )
    .json();
    eprintln!("call: {v}");
    assert_eq!(v["outcome"], "failed", "{v}");
    assert!(v.get("srtp").is_none(), "{v}");
    assert_eq!(rtp(&v, "sent"), 0, "nothing sent in the clear: {v}");
}

#[test]
fn no_common_codec_is_refused_with_488() {
    let scratch = Scratch::new("pair-488");
    let serve_trunk = write_trunk(&scratch, "pcmu.toml", "codecs = [\"PCMU\"]\n");
    let call_trunk = write_trunk(&scratch, "opus.toml", "codecs = [\"opus\"]\n");
    let mut serve = serve_echo(&scratch, &serve_trunk);
    let v = call_serve(&serve, &scratch, &call_trunk, &[]);
    assert_eq!(v["outcome"], "rejected", "{v}");
    assert_eq!(v["sip_status"], 488, "{v}");
    serve.stop("TERM", Duration::from_secs(10));
}

#[test]
fn serve_registers_with_digest_refreshes_and_unregisters() {
    require_sipp();
    let scratch = Scratch::new("pair-register");
    let mut sipp = Sipp::start(
        SippConfig::uas("uas-registrar.xml"),
        scratch.path(),
        "registrar",
    );
    let registrar = sipp.addr();
    let trunk = write_trunk(
        &scratch,
        "trunk.toml",
        &format!(
            "proxy = \"{registrar}\"\nregistrar = \"sip:{registrar}\"\nusername = \"alice\"\n\
             password_env = \"VOXHIRE_TEST_TRUNK_PASSWORD\"\nfrom = \"sip:alice@127.0.0.1\"\nregister_expires = 120\n"
        ),
    );
    let mut serve = serve_echo(&scratch, &trunk);
    // The registrar grants 2 s, so the refresh must come within about a second;
    // give it time, then stop serve, which must remove the binding (Expires: 0).
    std::thread::sleep(Duration::from_secs(3));
    let status = serve.stop("TERM", Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        serve.diagnostics()
    );
    sipp.assert_success(Duration::from_secs(10));
    assert!(
        serve.diagnostics().contains("registered with the trunk"),
        "{}",
        serve.diagnostics()
    );
}
