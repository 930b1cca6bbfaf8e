//! `voxhire call` against SIPp UAS scenarios (tests/sipp/uas-*.xml) over real
//! UDP on 127.0.0.1: answered with speech (the recording must contain the
//! candidate's sentence), busy, declined, unanswered (CANCEL), and digest
//! authentication through a trunk file.
//!
//!   cargo test --test sipp_call -- --nocapture

mod common;

use common::audio::{locate, read_wav, RATE, SAME_SPEECH_MIN_SEGMENT_CORR};
use common::ports::free_port_range;
use common::sipp::{Sipp, SippConfig};
use common::voxhire::{rtp, run_call, CallRun};
use common::{audio_fixture, repo_root, require_sipp, Scratch};
use std::time::Duration;

/// Every test bounds each wait; nothing here sleeps blindly.
const CALL_DEADLINE: Duration = Duration::from_secs(40);
const SIPP_EXIT_DEADLINE: Duration = Duration::from_secs(10);

/// `voxhire call <uri> --sip 127.0.0.1:0 --rtp-ports <free block> <extra...>`
/// (the kernel picks the SIP port, so no other test can take it between choice
/// and bind; an explicit RTP block keeps voxhire's media ports away from SIPp's and
/// from other tests running in parallel).
fn call(sipp: &Sipp, scratch: &Scratch, tag: &str, extra: &[&str]) -> CallRun {
    let (lo, hi) = free_port_range(8);
    let mut args = vec![
        sipp.uri("candidate"),
        "--sip".to_string(),
        "127.0.0.1:0".to_string(),
        "--rtp-ports".to_string(),
        format!("{lo}-{hi}"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_call(&args, scratch.path(), tag, CALL_DEADLINE)
}

fn path_arg(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn answered_call_records_the_candidate_speech() {
    require_sipp();
    let scratch = Scratch::new("call-answer");
    let mut sipp = Sipp::start(
        SippConfig::uas("uas-answer-speech.xml"),
        scratch.path(),
        "uas",
    );
    let record = scratch.join("remote.wav");
    let agent = path_arg(&audio_fixture("agent-en.wav"));
    // The candidate's sentence lasts 6.0 s from the ACK; stay 8 s.
    let run = call(
        &sipp,
        &scratch,
        "call",
        &[
            "--from",
            "sip:voxhire@127.0.0.1",
            "--play",
            &agent,
            "--record",
            &path_arg(&record),
            "--hangup-after",
            "8",
        ],
    );
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    let ctx = run.diagnostics();

    assert_eq!(v["outcome"], "answered", "{v}\n{ctx}");
    assert_eq!(v["sip_status"], 200, "{v}");
    assert_eq!(v["codec"], "PCMU", "{v}");
    assert!(
        v["call_id"].as_str().is_some_and(|s| !s.is_empty()),
        "call_id: {v}"
    );
    let duration = v["duration_ms"].as_u64().unwrap_or(0);
    assert!(
        (7_500..=15_000).contains(&duration),
        "duration_ms {duration} for --hangup-after 8: {v}"
    );
    // SIPp streams exactly 300 packets (48000 µ-law bytes / 160); loopback loses none.
    assert!(rtp(&v, "received") > 100, "rtp.received: {v}");
    assert!(
        rtp(&v, "received") >= 280,
        "expected ~300 packets from SIPp: {v}"
    );
    assert!(rtp(&v, "sent") > 100, "rtp.sent: {v}");
    assert_eq!(rtp(&v, "lost"), 0, "rtp.lost on loopback: {v}");
    assert!(v["rtp"]["jitter_ms"].is_number(), "rtp.jitter_ms: {v}");

    let wav = read_wav(&record);
    assert_eq!(wav.rate, RATE, "--record must be 8 kHz");
    assert_eq!(wav.channels.len(), 1, "--record must be mono");
    assert!(
        (6.0..=12.0).contains(&wav.duration_s()),
        "recording lasts {:.2} s",
        wav.duration_s()
    );
    let recording = &wav.channels[0];
    let candidate = read_wav(&audio_fixture("candidate-en.wav"))
        .channels
        .remove(0);
    let agent_ref = read_wav(&audio_fixture("agent-en.wav")).channels.remove(0);
    let hit = locate(&candidate, recording, RATE, 1.0);
    let control = locate(&agent_ref, recording, RATE, 1.0);
    eprintln!("call recording vs candidate-en.wav: {hit}");
    eprintln!("call recording vs agent-en.wav (control): {control}");
    assert!(
        hit.segment_corr >= SAME_SPEECH_MIN_SEGMENT_CORR,
        "the recording does not contain the candidate's sentence: {hit} (kept at {})",
        record.display()
    );
    assert!(
        control.segment_corr < SAME_SPEECH_MIN_SEGMENT_CORR,
        "the agent greeting must not match the candidate recording: {control}"
    );
}

#[test]
fn busy_here_486_is_outcome_busy() {
    require_sipp();
    let scratch = Scratch::new("call-busy");
    let mut sipp = Sipp::start(SippConfig::uas("uas-busy.xml"), scratch.path(), "uas");
    let run = call(&sipp, &scratch, "call", &["--ring-timeout", "10"]);
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE); // SIPp got the ACK for the 486
    assert_eq!(v["outcome"], "busy", "{v}\n{}", run.diagnostics());
    assert_eq!(v["sip_status"], 486, "{v}");
    assert!(
        run.elapsed < Duration::from_secs(8),
        "a 486 must end the call at once ({:?})",
        run.elapsed
    );
}

#[test]
fn decline_603_is_outcome_rejected() {
    require_sipp();
    let scratch = Scratch::new("call-decline");
    let mut sipp = Sipp::start(SippConfig::uas("uas-decline.xml"), scratch.path(), "uas");
    let run = call(&sipp, &scratch, "call", &["--ring-timeout", "10"]);
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    assert_eq!(v["outcome"], "rejected", "{v}\n{}", run.diagnostics());
    assert_eq!(v["sip_status"], 603, "{v}");
}

#[test]
fn ring_timeout_cancels_and_is_outcome_no_answer() {
    require_sipp();
    let scratch = Scratch::new("call-no-answer");
    let mut sipp = Sipp::start(SippConfig::uas("uas-no-answer.xml"), scratch.path(), "uas");
    let run = call(&sipp, &scratch, "call", &["--ring-timeout", "2"]);
    let v = run.json();
    // SIPp exits 0 only if it received the CANCEL, and the ACK for its 487.
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    assert!(
        sipp.messages().contains("CANCEL sip:"),
        "SIPp never logged a CANCEL"
    );
    assert_eq!(v["outcome"], "no_answer", "{v}\n{}", run.diagnostics());
    assert_eq!(v["sip_status"], 487, "{v}");
    assert!(
        run.elapsed >= Duration::from_millis(1900) && run.elapsed < Duration::from_secs(8),
        "--ring-timeout 2 should end the call after ~2 s, took {:?}",
        run.elapsed
    );
}

#[test]
fn digest_challenge_is_answered_with_trunk_credentials() {
    require_sipp();
    let scratch = Scratch::new("call-auth");
    // uas-auth.xml fails the call (SIPp exit 1) unless the re-INVITE carries a
    // correct qop=auth digest for alice/secret in realm voxhire.test.
    let mut sipp = Sipp::start(SippConfig::uas("uas-auth.xml"), scratch.path(), "uas");
    let trunk = path_arg(&repo_root().join("tests/sipp/trunk-auth.toml"));
    let agent = path_arg(&audio_fixture("agent-en.wav"));
    let run = call(
        &sipp,
        &scratch,
        "call",
        &["--trunk", &trunk, "--play", &agent, "--hangup-after", "3"],
    );
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    assert_eq!(v["outcome"], "answered", "{v}\n{}", run.diagnostics());
    assert_eq!(v["sip_status"], 200, "{v}");
    assert_eq!(v["codec"], "PCMU", "{v}");
    assert!(rtp(&v, "received") > 100, "{v}");
    let trace = sipp.messages();
    assert!(trace.contains("401 Unauthorized"), "SIPp never challenged");
    assert!(
        trace.contains("Authorization: Digest"),
        "no Authorization header reached SIPp"
    );
}

/// A voicemail answers (SIPp streams a recorded greeting that ends with a
/// beep): with `--answering-machine leave_message` the agent stays silent
/// through the greeting, decides "machine" within 3.5 s of the answer (a greeting
/// still going when the analysis ends), waits for
/// the beep, leaves its message, and the call ends as `voicemail` — no interview.
#[test]
fn a_voicemail_is_detected_and_left_a_message_after_the_beep() {
    require_sipp();
    let scratch = Scratch::new("call-voicemail");
    let mut sipp = Sipp::start(SippConfig::uas("uas-voicemail.xml"), scratch.path(), "uas");
    let out = scratch.join("run");
    let script = repo_root().join("config/interview-java-backend.en.toml");
    let run = call(
        &sipp,
        &scratch,
        "call",
        &[
            "--script",
            &path_arg(&script),
            "--out",
            &path_arg(&out),
            "--answering-machine",
            "leave_message",
        ],
    );
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    let ctx = run.diagnostics();
    assert_eq!(v["outcome"], "voicemail", "{v}\n{ctx}");
    let vm = &v["voicemail"];
    assert_eq!(vm["decision"]["verdict"], "machine", "{v}");
    let decided = vm["decision"]["at_ms"].as_u64().unwrap_or(u64::MAX);
    assert!(
        decided <= 3500,
        "decided {decided} ms after the answer: {v}"
    );
    assert_eq!(vm["message_left"], true, "{v}\n{ctx}");
    // The greeting's beep starts 6.28 s into the clip (tests/speech/amd/MANIFEST.tsv).
    let beep = vm["beep_at_ms"].as_u64().unwrap_or(0);
    assert!(
        (6_279..=7_000).contains(&beep),
        "beep heard at {beep} ms: {v}"
    );
    assert!(v.get("status").is_none(), "no interview ran: {v}");

    // The agent's side of the recording: silent through the greeting, then the message.
    let wav = read_wav(&out.join("recording.wav"));
    let agent = &wav.channels[0];
    let rms = |from_s: f64, to_s: f64| {
        let (a, b) = (
            (from_s * RATE as f64) as usize,
            (to_s * RATE as f64) as usize,
        );
        let part = &agent[a.min(agent.len())..b.min(agent.len())];
        (part
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            / part.len().max(1) as f64)
            .sqrt()
    };
    let (greeting, message) = (rms(0.0, 6.0), rms(7.0, 10.0));
    eprintln!("agent channel rms: {greeting:.4} during the greeting, {message:.4} after the beep");
    assert!(
        greeting < 0.002,
        "the agent spoke over the greeting: rms {greeting}"
    );
    assert!(message > 0.02, "no message after the beep: rms {message}");
}

/// A trunk named by DNS (RFC 3263), resolved through a real DNS server on
/// loopback (dnsmasq): the domain's NAPTR records offer TLS first and UDP second
/// (voxhire takes the UDP one), its `_sip._udp` SRV records name two hosts by
/// priority (the first is SIPp), their A records give the addresses. The call is
/// answered through the located proxy; a domain that offers only TLS is refused
/// with a message that says so.
#[test]
fn a_trunk_named_by_dns_is_located_through_naptr_srv_and_a_records() {
    require_sipp();
    let scratch = Scratch::new("call-dns");
    let mut sipp = Sipp::start(
        SippConfig::uas("uas-answer-speech.xml"),
        scratch.path(),
        "uas",
    );
    let port = sipp.port;
    let dns = common::dns::Dnsmasq::start(
        scratch.path(),
        &[
            "--naptr-record=trunk.voxhire.test,5,10,s,SIPS+D2T,,_sips._tcp.trunk.voxhire.test".into(),
            "--naptr-record=trunk.voxhire.test,10,10,s,SIP+D2U,,_sip._udp.trunk.voxhire.test".into(),
            format!("--srv-host=_sip._udp.trunk.voxhire.test,sbc1.trunk.voxhire.test,{port},10,5"),
            "--srv-host=_sip._udp.trunk.voxhire.test,sbc2.trunk.voxhire.test,9,20,5".into(),
            "--host-record=sbc1.trunk.voxhire.test,127.0.0.1".into(),
            "--host-record=sbc2.trunk.voxhire.test,127.0.0.2".into(),
            "--naptr-record=tls-only.voxhire.test,10,10,s,SIPS+D2T,,_sips._tcp.tls-only.voxhire.test".into(),
        ],
    );
    let (run, args) = call_trunk_by_name(&scratch, dns.addr, "udp");
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    assert_eq!(v["outcome"], "answered", "{v}\n{}", run.diagnostics());
    let log = std::fs::read_to_string(scratch.join("dnsmasq.log")).unwrap();
    for query in [
        "query[NAPTR] trunk.voxhire.test",
        "query[SRV] _sip._udp.trunk.voxhire.test",
        "query[A] sbc1.trunk.voxhire.test",
    ] {
        assert!(log.contains(query), "no {query:?} in the DNS log:\n{log}");
    }

    let tls_only = scratch.join("tls-only.toml");
    std::fs::write(
        &tls_only,
        format!(
            "proxy = \"tls-only.voxhire.test\"\ndns_server = \"{}\"\n",
            dns.addr
        ),
    )
    .unwrap();
    let refused = run_call(
        &args("sip:candidate@tls-only.voxhire.test", &tls_only),
        scratch.path(),
        "tls-only",
        CALL_DEADLINE,
    );
    let stderr = refused.stderr();
    assert_ne!(refused.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("tls-only.voxhire.test") && stderr.contains("SIPS+D2T only"),
        "{stderr}"
    );
}

/// A trunk named by DNS whose first SRV target refuses with 503: the INVITE goes,
/// as a new transaction, to the second target (RFC 3263 §4.3), which answers.
#[test]
fn a_trunk_whose_first_address_answers_503_is_reached_at_its_next() {
    require_sipp();
    let scratch = Scratch::new("call-failover");
    let mut refusing = Sipp::start(
        SippConfig::uas("validate/uas-503.xml"),
        scratch.path(),
        "uas-503",
    );
    let mut answering = Sipp::start(
        SippConfig::uas("uas-answer-speech.xml"),
        scratch.path(),
        "uas",
    );
    let dns = two_sbcs(&scratch, "_sip._udp", refusing.port, answering.port);
    let (run, _) = call_trunk_by_name(&scratch, dns.addr, "udp");
    let v = run.json();
    refusing.assert_success(SIPP_EXIT_DEADLINE);
    answering.assert_success(SIPP_EXIT_DEADLINE);
    assert_eq!(v["outcome"], "answered", "{v}\n{}", run.diagnostics());
    let stderr = run.stderr();
    assert!(
        stderr.contains("failed over") && stderr.contains(&answering.port.to_string()),
        "{stderr}"
    );
}

/// A TCP trunk named by DNS whose first SRV target takes no connection: the
/// INVITE fails at once (a transport error is a 503, §8.1.3.1) and goes, as a
/// new transaction over a connection of its own, to the second target, which
/// carries the whole call.
#[test]
fn a_tcp_trunk_whose_first_address_takes_no_connection_is_reached_at_its_next() {
    require_sipp();
    let scratch = Scratch::new("call-tcp-failover");
    let mut config = SippConfig::uas("uas-answer-speech.xml");
    config.extra = vec!["-t".into(), "t1".into()];
    let mut answering = Sipp::start(config, scratch.path(), "uas");
    // A port nobody listens on: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dns = two_sbcs(&scratch, "_sip._tcp", closed, answering.port);
    let (run, _) = call_trunk_by_name(&scratch, dns.addr, "tcp");
    let v = run.json();
    answering.assert_success(SIPP_EXIT_DEADLINE);
    assert_eq!(v["outcome"], "answered", "{v}\n{}", run.diagnostics());
    assert!(
        run.elapsed < Duration::from_secs(15),
        "failed over at once, not at Timer B: {:?}",
        run.elapsed
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains("cannot reach the trunk")
            && stderr.contains("failed over")
            && stderr.contains(&answering.port.to_string()),
        "{stderr}"
    );
    let messages = answering.messages();
    assert!(
        messages.contains("Via: SIP/2.0/TCP") && messages.contains("BYE sip:"),
        "{messages}"
    );
}

/// A trunk named by DNS is located again for each call: a changed A record is
/// followed, and while DNS does not answer the last addresses are called.
#[test]
fn a_trunk_is_located_again_for_each_call() {
    let scratch = Scratch::new("trunk-relocate");
    let hosts = scratch.join("hosts");
    std::fs::write(&hosts, "127.0.0.1 sbc.trunk.voxhire.test\n").unwrap();
    let mut dns = common::dns::Dnsmasq::start(
        scratch.path(),
        &[
            "--naptr-record=trunk.voxhire.test,10,10,s,SIP+D2U,,_sip._udp.trunk.voxhire.test"
                .into(),
            "--srv-host=_sip._udp.trunk.voxhire.test,sbc.trunk.voxhire.test,5070,10,5".into(),
            format!("--addn-hosts={}", hosts.display()),
        ],
    );
    let trunk_file = scratch.join("trunk.toml");
    std::fs::write(
        &trunk_file,
        format!(
            "proxy = \"trunk.voxhire.test\"\ndns_server = \"{}\"\n",
            dns.addr
        ),
    )
    .unwrap();
    let at = |ip: &str| -> std::net::SocketAddr { format!("{ip}:5070").parse().unwrap() };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let trunk = voxhire_engine::trunk::Trunk::load_located(&trunk_file)
            .await
            .unwrap();
        let route = trunk
            .route
            .clone()
            .expect("a UDP trunk by name has a route");
        assert_eq!(route.next_hops().await, (at("127.0.0.1"), Vec::new()));

        std::fs::write(&hosts, "127.0.0.3 sbc.trunk.voxhire.test\n").unwrap();
        dns.reload();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while route.next_hops().await.0 != at("127.0.0.3") {
            assert!(
                std::time::Instant::now() < deadline,
                "the new A record was never followed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        dns.stop();
        let asked = std::time::Instant::now();
        assert_eq!(route.next_hops().await, (at("127.0.0.3"), Vec::new()));
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "DNS down delays a call ≤ 2 s"
        );
    });
}

/// The trunk over TCP (`transport = "tcp"`): one connection to SIPp carries the
/// INVITE, the ACK and the BYE and their answers, framed by Content-Length.
#[test]
fn a_trunk_over_tcp_carries_the_whole_call_on_one_connection() {
    require_sipp();
    let scratch = Scratch::new("call-tcp");
    let mut config = SippConfig::uas("uas-answer-speech.xml");
    config.extra = vec!["-t".into(), "t1".into()];
    let mut sipp = Sipp::start(config, scratch.path(), "uas");
    let trunk = scratch.join("trunk.toml");
    std::fs::write(
        &trunk,
        format!("proxy = \"127.0.0.1:{}\"\ntransport = \"tcp\"\n", sipp.port),
    )
    .unwrap();
    let agent = path_arg(&audio_fixture("agent-en.wav"));
    let run = call(
        &sipp,
        &scratch,
        "call",
        &[
            "--trunk",
            &path_arg(&trunk),
            "--play",
            &agent,
            "--hangup-after",
            "2",
        ],
    );
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    assert_eq!(v["outcome"], "answered", "{v}\n{}", run.diagnostics());
    assert!(rtp(&v, "received") > 50, "media still flows over UDP: {v}");
    let messages =
        std::fs::read_to_string(scratch.join("sipp-uas/messages.log")).unwrap_or_default();
    assert!(
        messages.contains("Via: SIP/2.0/TCP") && messages.contains("BYE sip:"),
        "{messages}"
    );
}

/// A trunk reached by name over TLS: DNS (dnsmasq) leads from the trunk's domain
/// through its SIPS+D2T NAPTR and `_sips._tcp` SRV records to Kamailio's TLS port;
/// voxhire verifies Kamailio's certificate for the domain (trusting the test's
/// throwaway CA), and the call — INVITE, ACK, BYE over the one TLS connection,
/// relayed by Kamailio over UDP to SIPp — is answered and ended cleanly. Trusting
/// the wrong root fails the handshake, and the error says so.
#[test]
fn a_trunk_named_by_dns_is_reached_over_tls_through_kamailio() {
    require_sipp();
    let scratch = Scratch::new("call-tls");
    let mut sipp = Sipp::start(
        SippConfig::uas("uas-answer-speech.xml"),
        scratch.path(),
        "uas",
    );
    let domain = "trunk.voxhire.test";
    let kamailio = common::kamailio::Kamailio::start_tls(scratch.path(), domain, sipp.port);
    let dns = common::dns::Dnsmasq::start(
        scratch.path(),
        &[
            format!("--naptr-record={domain},10,10,s,SIPS+D2T,,_sips._tcp.{domain}"),
            format!("--naptr-record={domain},20,10,s,SIP+D2U,,_sip._udp.{domain}"),
            format!(
                "--srv-host=_sips._tcp.{domain},edge.{domain},{},10,5",
                kamailio.addr.port()
            ),
            format!("--host-record=edge.{domain},127.0.0.1"),
        ],
    );
    let trunk = |ca: &std::path::Path| {
        let path = scratch.join("trunk.toml");
        std::fs::write(
            &path,
            format!(
                "proxy = \"{domain}\"\ntransport = \"tls\"\ntls_ca = \"{}\"\ndns_server = \"{}\"\n",
                ca.display(),
                dns.addr
            ),
        )
        .unwrap();
        path
    };
    let call_args = trunk_call_args(free_port_range(8));
    let args = |trunk: &std::path::Path| call_args(&format!("sip:candidate@{domain}"), trunk);
    let run = run_call(
        &args(&trunk(&kamailio.ca)),
        scratch.path(),
        "call",
        CALL_DEADLINE,
    );
    let v = run.json();
    sipp.assert_success(SIPP_EXIT_DEADLINE);
    assert_eq!(v["outcome"], "answered", "{v}\n{}", run.diagnostics());
    assert!(
        run.elapsed < Duration::from_secs(15),
        "the call ended cleanly, not at Timer F: {:?}",
        run.elapsed
    );
    let stderr = run.stderr();
    assert!(stderr.contains("SIP over TLS connected"), "{stderr}");
    let log = std::fs::read_to_string(scratch.join("dnsmasq.log")).unwrap();
    assert!(
        log.contains(&format!("query[SRV] _sips._tcp.{domain}")),
        "{log}"
    );
    // The BYE came through Kamailio (its UDP Via over ours): the dialog's route
    // set (Record-Route) held, over the same TLS connection.
    let messages =
        std::fs::read_to_string(scratch.join("sipp-uas/messages.log")).unwrap_or_default();
    let bye = messages
        .split("BYE sip:")
        .nth(1)
        .and_then(|m| m.split("\n\n").next())
        .unwrap_or_default();
    assert!(
        bye.contains("SIP/2.0/UDP") && bye.contains("SIP/2.0/TLS"),
        "{messages}"
    );

    // Another certificate as the only root: the handshake must fail.
    let other = scratch.join("other-ca.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
        ])
        .arg("-keyout")
        .arg(scratch.join("other-key.pem"))
        .arg("-out")
        .arg(&other)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let mut args = args(&trunk(&other));
    args.extend(["--ring-timeout".to_string(), "5".to_string()]);
    // A transport failure is a 503 for the INVITE (RFC 3261 §8.1.3.1): at once.
    let refused = run_call(&args, scratch.path(), "untrusted", CALL_DEADLINE);
    let stderr = refused.stderr();
    assert!(
        stderr.contains("TLS handshake") && stderr.contains("invalid peer certificate"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_str(refused.stdout.trim()).unwrap_or_default();
    assert_eq!(
        (v["outcome"].as_str(), v["sip_status"].as_u64()),
        (Some("failed"), Some(503)),
        "{}",
        refused.stdout
    );
    assert!(
        refused.elapsed < Duration::from_secs(10),
        "{:?}",
        refused.elapsed
    );
}

/// dnsmasq answering for `trunk.voxhire.test` with two SRV targets of `service`
/// (`_sip._udp`, `_sip._tcp`) on 127.0.0.1: sbc1 at `first` (priority 10), then
/// sbc2 at `second` (priority 20). No NAPTR record: dnsmasq refuses the NAPTR
/// query, and SRV is asked as when a domain has none.
fn two_sbcs(scratch: &Scratch, service: &str, first: u16, second: u16) -> common::dns::Dnsmasq {
    common::dns::Dnsmasq::start(
        scratch.path(),
        &[
            format!("--srv-host={service}.trunk.voxhire.test,sbc1.trunk.voxhire.test,{first},10,5"),
            format!(
                "--srv-host={service}.trunk.voxhire.test,sbc2.trunk.voxhire.test,{second},20,5"
            ),
            "--host-record=sbc1.trunk.voxhire.test,127.0.0.1".into(),
            "--host-record=sbc2.trunk.voxhire.test,127.0.0.1".into(),
        ],
    )
}

/// `voxhire call sip:candidate@trunk.voxhire.test` through a trunk file naming
/// the proxy `trunk.voxhire.test`, reached over `transport`, and the DNS server
/// at `dns`; also the call's arguments for another target and trunk file.
fn call_trunk_by_name(
    scratch: &Scratch,
    dns: std::net::SocketAddr,
    transport: &str,
) -> (CallRun, impl Fn(&str, &std::path::Path) -> Vec<String>) {
    let trunk = scratch.join("trunk.toml");
    std::fs::write(
        &trunk,
        format!(
            "proxy = \"trunk.voxhire.test\"\ntransport = \"{transport}\"\ndns_server = \"{dns}\"\n"
        ),
    )
    .unwrap();
    let args = trunk_call_args(free_port_range(8));
    let run = run_call(
        &args("sip:candidate@trunk.voxhire.test", &trunk),
        scratch.path(),
        "call",
        CALL_DEADLINE,
    );
    (run, args)
}

/// `voxhire call TARGET` through a trunk file on loopback, playing the agent's
/// fixture for 2 s (the RTP ports given): the trunk tests' command line.
fn trunk_call_args((lo, hi): (u16, u16)) -> impl Fn(&str, &std::path::Path) -> Vec<String> {
    let agent = path_arg(&audio_fixture("agent-en.wav"));
    move |target, trunk| {
        [
            target,
            "--sip",
            "127.0.0.1:0",
            "--rtp-ports",
            &format!("{lo}-{hi}"),
            "--trunk",
            &path_arg(trunk),
            "--play",
            &agent,
            "--hangup-after",
            "2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}
