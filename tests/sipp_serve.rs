//! SIPp UAC scenarios (tests/sipp/uac-*.xml) calling `voxhire serve` over
//! real UDP on 127.0.0.1: agent audio out + SIPp echo back, recorded as
//! stereo; 50 concurrent calls; admission control (503 + Retry-After);
//! graceful SIGTERM (BYE to calls in progress); OPTIONS.
//!
//!   cargo test --test sipp_serve -- --nocapture

mod common;

use common::audio::{locate, read_wav, RATE, SAME_SPEECH_MIN_SEGMENT_CORR};
use common::kamailio::Kamailio;
use common::ports::{free_port_range, free_tcp_port, free_udp_port};
use common::process::describe;
use common::sipp::{Sipp, SippConfig};
use common::voxhire::{rtp, Serve};
use common::{audio_fixture, require_sipp, Scratch};
use serde_json::Value;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LISTEN_DEADLINE: Duration = Duration::from_secs(15);
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// `voxhire serve --sip 127.0.0.1:<free> --rtp-ports <block> --play
/// agent-en.wav --record-dir <scratch>/rec --max-calls <max>`.
fn serve(scratch: &Scratch, tag: &str, max_calls: u32, extra: &[&str]) -> (Serve, PathBuf) {
    let rec = scratch.join("rec");
    std::fs::create_dir_all(&rec).expect("create record dir");
    // Two ports (RTP + RTCP) per call, plus slack.
    let (lo, hi) = free_port_range((4 * max_calls.max(4)) as u16);
    let mut args = vec![
        "--sip".to_string(),
        format!("127.0.0.1:{}", free_udp_port()),
        "--rtp-ports".to_string(),
        format!("{lo}-{hi}"),
        "--play".to_string(),
        audio_fixture("agent-en.wav").to_string_lossy().into_owned(),
        "--record-dir".to_string(),
        rec.to_string_lossy().into_owned(),
        "--max-calls".to_string(),
        max_calls.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    (
        Serve::start(&args, scratch.path(), tag, LISTEN_DEADLINE),
        rec,
    )
}

fn assert_answered(v: &Value, ctx: &str) {
    assert_eq!(v["outcome"], "answered", "{v}\n{ctx}");
    assert_eq!(v["sip_status"], 200, "{v}");
    assert_eq!(v["codec"], "PCMU", "{v}");
    assert!(
        v["call_id"].as_str().is_some_and(|s| !s.is_empty()),
        "call_id: {v}"
    );
}

fn stop_cleanly(serve: &mut Serve) {
    let status = serve.stop("TERM", STOP_DEADLINE);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "voxhire serve must exit 0 on SIGTERM: {}\n{}",
        describe(status),
        serve.diagnostics()
    );
    serve.assert_stdout_is_json();
}

#[test]
fn serve_plays_agent_and_records_both_directions() {
    require_sipp();
    let scratch = Scratch::new("serve-echo");
    let (mut serve, _rec) = serve(&scratch, "echo", 4, &[]);
    let mut cfg = SippConfig::uac("uac-call.xml", serve.sip);
    cfg.rtp_echo = true;
    cfg.hold_ms = Some(9_500); // agent-en.wav lasts 7.7 s
    let mut sipp = Sipp::start(cfg, scratch.path(), "uac");
    sipp.assert_success(Duration::from_secs(30));

    let v = serve
        .next_call(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no call line from serve\n{}", serve.diagnostics()));
    assert_answered(&v, &serve.diagnostics());
    assert!(rtp(&v, "sent") > 100, "rtp.sent: {v}");
    assert!(rtp(&v, "received") > 100, "rtp.received (SIPp echo): {v}");
    assert_eq!(rtp(&v, "lost"), 0, "rtp.lost on loopback: {v}");
    let duration = v["duration_ms"].as_u64().unwrap_or(0);
    assert!(
        (9_000..=15_000).contains(&duration),
        "duration_ms {duration} for a 9.5 s hold: {v}"
    );

    let path = PathBuf::from(
        v["recording"]
            .as_str()
            .unwrap_or_else(|| panic!("no recording in {v}")),
    );
    let wav = read_wav(&path);
    assert_eq!(wav.rate, RATE, "recording must be 8 kHz");
    assert_eq!(
        wav.channels.len(),
        2,
        "recording must be stereo (left sent, right received)"
    );
    let agent = read_wav(&audio_fixture("agent-en.wav")).channels.remove(0);
    let candidate = read_wav(&audio_fixture("candidate-en.wav"))
        .channels
        .remove(0);
    let left = locate(&agent, &wav.channels[0], RATE, 1.0);
    let right = locate(&agent, &wav.channels[1], RATE, 1.0);
    let control = locate(&candidate, &wav.channels[1], RATE, 1.0);
    let delay_ms = right.lag_ms - left.lag_ms;
    eprintln!(
        "serve recording {}: {:.2} s",
        path.display(),
        wav.duration_s()
    );
    eprintln!("  left  (sent)  vs agent-en.wav: {left}");
    eprintln!("  right (echo)  vs agent-en.wav: {right}");
    eprintln!("  right (echo)  vs candidate-en.wav (control): {control}");
    eprintln!("  echo delay (right - left): {delay_ms:+.0} ms");
    assert!(
        left.segment_corr >= SAME_SPEECH_MIN_SEGMENT_CORR,
        "left channel lacks the agent speech: {left}"
    );
    assert!(
        right.segment_corr >= SAME_SPEECH_MIN_SEGMENT_CORR,
        "right channel lacks the echoed agent speech: {right}"
    );
    assert!(
        control.segment_corr < SAME_SPEECH_MIN_SEGMENT_CORR,
        "control matched: {control}"
    );
    assert!(
        (0.0..=1000.0).contains(&delay_ms),
        "the echo must arrive after what was sent, within 1 s: {delay_ms} ms"
    );

    stop_cleanly(&mut serve);
}

#[test]
fn serve_handles_50_concurrent_calls() {
    require_sipp();
    let scratch = Scratch::new("serve-load");
    let (mut serve, rec) = serve(&scratch, "load", 64, &[]);
    let mut cfg = SippConfig::uac("uac-call.xml", serve.sip);
    cfg.rtp_echo = true;
    cfg.calls = 50;
    cfg.limit = Some(50);
    cfg.rate = Some(50);
    cfg.hold_ms = Some(5_000);
    cfg.timeout = Duration::from_secs(60);
    let started = Instant::now();
    let mut sipp = Sipp::start(cfg, scratch.path(), "uac");
    let outcome = sipp.finish(Duration::from_secs(70));
    let sipp_wall = started.elapsed();
    let calls = serve.calls(50, Duration::from_secs(15));

    let answered = calls.iter().filter(|v| v["outcome"] == "answered").count();
    let (sent, received, lost): (u64, u64, u64) = calls.iter().fold((0, 0, 0), |acc, v| {
        (
            acc.0 + rtp(v, "sent"),
            acc.1 + rtp(v, "received"),
            acc.2 + rtp(v, "lost"),
        )
    });
    let max_jitter = calls
        .iter()
        .filter_map(|v| v["rtp"]["jitter_ms"].as_f64())
        .fold(0.0, f64::max);
    let min_received = calls.iter().map(|v| rtp(v, "received")).min().unwrap_or(0);
    let stat = |c: &str| sipp.stat(c).unwrap_or_else(|| "?".to_string());
    // Set-up rate: first INVITE sent -> last INVITE's 200 received.
    let trace = sipp.timeline();
    let first_invite = trace
        .iter()
        .filter(|m| m.sent && m.start.starts_with("INVITE "))
        .map(|m| m.secs)
        .fold(f64::INFINITY, f64::min);
    let last_answer = trace
        .iter()
        .filter(|m| !m.sent && m.start.starts_with("SIP/2.0 200") && m.cseq.ends_with("INVITE"))
        .map(|m| m.secs)
        .fold(f64::NEG_INFINITY, f64::max);
    let setup_s = last_answer - first_invite;
    eprintln!(
        "load: SIPp {} after {:.1} s wall; successful {:?}, failed {:?}, retransmissions {}; \
         50 calls set up in {:.3} s = {:.1} calls/s (SIPp -r 50); INVITE->200 mean {} (stdev {})",
        describe(outcome.status),
        sipp_wall.as_secs_f64(),
        outcome.successful,
        outcome.failed,
        stat("Retransmissions(C)"),
        setup_s,
        50.0 / setup_s.max(1e-3),
        stat("ResponseTime1(C)"),
        stat("ResponseTime1StDev(C)"),
    );
    eprintln!(
        "load: serve printed {} call lines, {answered} answered; RTP sent {sent}, received {received} \
         (min per call {min_received}), lost {lost}, max jitter {max_jitter:.1} ms",
        calls.len()
    );

    assert_eq!(
        outcome.code,
        Some(0),
        "SIPp: {} (failed {:?})\n{}\n{}",
        describe(outcome.status),
        outcome.failed,
        sipp.diagnostics(),
        serve.diagnostics()
    );
    assert_eq!(outcome.successful, Some(50), "SIPp successful calls");
    assert_eq!(outcome.failed, Some(0), "SIPp failed calls");
    assert_eq!(
        calls.len(),
        50,
        "serve must print one call line per call\n{}",
        serve.diagnostics()
    );
    assert_eq!(answered, 50, "all calls answered");
    assert!(
        min_received > 100,
        "every call must receive SIPp's echo (min {min_received})"
    );
    assert!(
        lost * 100 <= received,
        "more than 1 % RTP loss on loopback: {lost}/{received}"
    );
    let recordings = std::fs::read_dir(&rec).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        recordings,
        50,
        "one recording per call in {}",
        rec.display()
    );

    stop_cleanly(&mut serve);
}

#[test]
fn serve_refuses_calls_beyond_max_calls_with_503() {
    require_sipp();
    let scratch = Scratch::new("serve-503");
    let (mut serve, _rec) = serve(&scratch, "503", 1, &[]);
    // Two calls 100 ms apart, each held 3 s: the second finds the one slot taken.
    let mut cfg = SippConfig::uac("uac-call-or-503.xml", serve.sip);
    cfg.rtp_echo = true;
    cfg.calls = 2;
    cfg.limit = Some(2);
    cfg.rate = Some(10);
    cfg.hold_ms = Some(3_000);
    let mut sipp = Sipp::start(cfg, scratch.path(), "uac");
    sipp.assert_success(Duration::from_secs(30));

    let log = sipp.scenario_log();
    let ok = log.iter().filter(|l| l.ends_with("outcome=200")).count();
    let refused: Vec<&String> = log.iter().filter(|l| l.contains("outcome=503")).collect();
    eprintln!("admission control: {log:?}");
    assert_eq!(
        ok,
        1,
        "exactly one call answered: {log:?}\n{}",
        serve.diagnostics()
    );
    assert_eq!(
        refused.len(),
        1,
        "exactly one call refused with 503: {log:?}"
    );
    let retry_after: u64 = refused[0]
        .rsplit("retry_after=")
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no numeric Retry-After in {:?}", refused[0]));
    assert!(retry_after > 0, "Retry-After must be positive");

    // Both calls get a line: the answered one and the refused one.
    let lines = serve.calls(2, Duration::from_secs(5));
    assert_eq!(
        lines.len(),
        2,
        "one call line per call\n{}",
        serve.diagnostics()
    );
    let answered: Vec<&Value> = lines.iter().filter(|v| v["sip_status"] == 200).collect();
    let refused: Vec<&Value> = lines.iter().filter(|v| v["sip_status"] == 503).collect();
    assert_eq!((answered.len(), refused.len()), (1, 1), "{lines:?}");
    assert_answered(answered[0], &serve.diagnostics());
    assert_eq!(refused[0]["outcome"], "rejected", "{}", refused[0]);
    stop_cleanly(&mut serve);
}

/// Calls `serve` with SIPp's `uac-call-remote-bye.xml` at `to` (with `sipp_extra`),
/// waits (bounded) until SIPp has ACKed the 200, lets a second of audio flow,
/// then stops `serve` with SIGTERM: SIPp exits 0 only if voxhire sent a BYE it
/// could answer, and `serve` must exit 0. Returns the SIPp run and the call's line.
fn sigterm_once_up(
    scratch: &Scratch,
    serve: &mut Serve,
    to: std::net::SocketAddr,
    sipp_extra: &[&str],
) -> (Sipp, Value) {
    let mut cfg = SippConfig::uac("uac-call-remote-bye.xml", to);
    cfg.rtp_echo = true;
    cfg.timeout = Duration::from_secs(30);
    cfg.extra = sipp_extra.iter().map(|s| s.to_string()).collect();
    let mut sipp = Sipp::start(cfg, scratch.path(), "uac");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sipp.messages().contains("\nACK sip:") {
        assert!(
            !sipp.has_exited() && Instant::now() < deadline,
            "the call was never set up\n{}\n{}",
            sipp.diagnostics(),
            serve.diagnostics()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000)); // let some audio flow
    let status = serve.stop("TERM", STOP_DEADLINE);
    sipp.assert_success(Duration::from_secs(10));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "exit status {}\n{}",
        describe(status),
        serve.diagnostics()
    );
    let v = serve.next_call(Duration::from_secs(1)).unwrap_or_else(|| {
        panic!(
            "no call line for the call ended by SIGTERM\n{}",
            serve.diagnostics()
        )
    });
    (sipp, v)
}

/// A caller over TCP (SIPp `-t t1`: one connection, nothing over UDP): the
/// answers come back over its connection, and the BYE voxhire sends when it
/// shuts down goes over the same connection (the call's flow), though the
/// caller's Contact names its own port.
#[test]
fn a_call_over_tcp_is_answered_and_ended_over_the_callers_connection() {
    require_sipp();
    let scratch = Scratch::new("serve-tcp");
    let (mut serve, _rec) = serve(&scratch, "tcp", 4, &[]);
    let to = serve.sip;
    let (sipp, v) = sigterm_once_up(&scratch, &mut serve, to, &["-t", "t1"]);
    assert_eq!(v["sip_status"], 200, "{v}");
    assert!(rtp(&v, "received") > 20, "media still flows over UDP: {v}");
    let messages = sipp.messages();
    let ok = messages.split("SIP/2.0 200 OK").nth(1).unwrap_or_default();
    assert!(
        ok.contains("Via: SIP/2.0/TCP") && ok.contains("transport=tcp>"),
        "the 200's Contact asks for TCP: {messages}"
    );
    let bye = messages.split("\nBYE sip:").nth(1).unwrap_or_default();
    assert!(
        bye.contains("Via: SIP/2.0/TCP") && bye.contains(";alias"),
        "{messages}"
    );
}

/// A caller over TLS: Kamailio (Debian's, verifying nothing) takes SIPp's call
/// over UDP and relays it to `serve --sip-tls` over TLS. The call is answered
/// over that connection, Kamailio's ACK finds us at the TLS port our Contact
/// names, and the BYE voxhire sends when it shuts down goes back over the
/// connection, through Kamailio, to SIPp.
#[test]
fn a_call_relayed_over_tls_is_answered_and_ended_over_that_connection() {
    require_sipp();
    let scratch = Scratch::new("serve-tls");
    let tls = std::net::SocketAddr::from(([127, 0, 0, 1], free_tcp_port()));
    let kamailio = Kamailio::start_tls_to(scratch.path(), "voxhire.test", |_| {
        format!("sip:{tls};transport=tls")
    });
    let (mut serve, _rec) = serve(
        &scratch,
        "tls",
        4,
        &[
            "--sip-tls",
            &tls.to_string(),
            "--sip-tls-cert",
            &kamailio.cert.to_string_lossy(),
            "--sip-tls-key",
            &kamailio.key.to_string_lossy(),
        ],
    );
    let (sipp, v) = sigterm_once_up(&scratch, &mut serve, kamailio.udp.unwrap(), &[]);
    assert_eq!(v["sip_status"], 200, "{v}");
    assert!(rtp(&v, "received") > 20, "media flows: {v}");
    // The BYE SIPp got carries Kamailio's UDP Via over ours for TLS.
    let messages = sipp.messages();
    let bye = messages.split("\nBYE sip:").nth(1).unwrap_or_default();
    let bye = bye.split("\n\n").next().unwrap_or_default();
    assert!(
        bye.contains("SIP/2.0/UDP") && bye.contains(&format!("SIP/2.0/TLS {tls}")),
        "{messages}"
    );
}

/// Registered over UDP with a registrar that answers STUN (Kamailio's stun module,
/// as a trunk's edge proxy does): serve keeps the registration's flow alive with
/// STUN Binding requests (RFC 5626 §4.4.1) and learns where the registrar sees it;
/// when the registrar goes silent the unanswered keep-alive makes it register
/// again.
#[test]
fn a_registration_over_udp_is_kept_alive_with_stun() {
    let scratch = Scratch::new("serve-stun");
    let mut registrar = Some(Kamailio::start_stun_registrar(scratch.path()));
    let addr = registrar.as_ref().unwrap().addr;
    let trunk = scratch.join("trunk.toml");
    std::fs::write(
        &trunk,
        format!(
            "registrar = \"sip:{addr}\"\nfrom = \"sip:agent@{addr}\"\nregister_expires = 60\nkeepalive_secs = 1\n"
        ),
    )
    .unwrap();
    let (serve, _rec) = serve(&scratch, "stun", 4, &["--trunk", &trunk.to_string_lossy()]);
    let wait_for = |what: &str, within: Duration| {
        let deadline = Instant::now() + within;
        while !serve.stderr().contains(what) {
            assert!(
                Instant::now() < deadline,
                "no {what:?} within {within:?}\n{}",
                serve.diagnostics()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("STUN keep-alive answered", Duration::from_secs(10));
    let log = serve.stderr();
    let answered = log
        .lines()
        .find(|l| l.contains("STUN keep-alive answered"))
        .unwrap_or_default();
    assert!(
        answered.contains(&serve.sip.to_string()),
        "the registrar sees us at our own address on loopback\n{log}"
    );
    drop(registrar.take());
    wait_for(
        "did not answer the STUN keep-alive; registering again",
        Duration::from_secs(15),
    );
}

#[test]
fn sigterm_hangs_up_calls_in_progress_then_exits_0() {
    require_sipp();
    let scratch = Scratch::new("serve-sigterm");
    let (mut serve, _rec) = serve(&scratch, "sigterm", 4, &[]);
    let to = serve.sip;
    let (_sipp, v) = sigterm_once_up(&scratch, &mut serve, to, &[]);
    // Answered, then ended by our shutdown: the engine's outcome says so.
    assert_eq!(v["outcome"], "cancelled", "{v}\n{}", serve.diagnostics());
    assert_eq!(v["sip_status"], 200, "{v}");
    assert_eq!(v["codec"], "PCMU", "{v}");
    serve.assert_stdout_is_json();
}

#[test]
fn options_gets_200_with_allow() {
    let scratch = Scratch::new("serve-options");
    let (mut serve, _rec) = serve(&scratch, "options", 4, &[]);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let me = sock.local_addr().expect("addr");
    let request = format!(
        "OPTIONS sip:voxhire@{sip} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK-options-{port};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:tester@{me}>;tag=opt{port}\r\n\
         To: <sip:voxhire@{sip}>\r\n\
         Call-ID: options-{port}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Contact: <sip:tester@{me}>\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        sip = serve.sip,
        port = me.port()
    );
    sock.send_to(request.as_bytes(), serve.sip)
        .expect("send OPTIONS");
    let mut buf = [0u8; 4096];
    let (n, from) = sock.recv_from(&mut buf).unwrap_or_else(|e| {
        panic!(
            "no answer to OPTIONS within 3 s ({e})\n{}",
            serve.diagnostics()
        )
    });
    let response = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert_eq!(
        from, serve.sip,
        "response must come from the listening socket"
    );
    assert!(response.starts_with("SIP/2.0 200"), "OPTIONS -> {response}");
    let allow = response
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("allow:"))
        .unwrap_or_else(|| panic!("no Allow header in {response}"))
        .to_ascii_uppercase();
    for method in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"] {
        assert!(allow.contains(method), "Allow lacks {method}: {allow}");
    }
    assert!(
        response.contains("branch=z9hG4bK-options-"),
        "Via not echoed: {response}"
    );
    stop_cleanly(&mut serve);
}
