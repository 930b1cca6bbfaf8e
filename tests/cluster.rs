//! Several voxhire nodes behind one SIP front door: Kamailio's dispatcher
//! (tests/kamailio/dispatcher.cfg) in front of two `voxhire serve` nodes, SIPp
//! calling the front door. Calls are shared round-robin; a node killed (-9) is
//! found dead by the dispatcher's OPTIONS probes and taken out, and every call
//! after that lands on the survivor — none is lost.
//!
//!   cargo test --test cluster -- --nocapture

mod common;

use std::time::Duration;

use common::kamailio::Kamailio;
use common::ports::{free_port_range, free_udp_port};
use common::sipp::{Sipp, SippConfig};
use common::voxhire::Serve;
use common::{audio_fixture, require_sipp, Scratch};

/// A `voxhire serve --play` node on its own SIP port and RTP block.
fn node(scratch: &Scratch, tag: &str) -> Serve {
    let (lo, hi) = free_port_range(64);
    let args: Vec<String> = [
        "--sip",
        &format!("127.0.0.1:{}", free_udp_port()),
        "--rtp-ports",
        &format!("{lo}-{hi}"),
        "--play",
        &audio_fixture("agent-en.wav").to_string_lossy(),
        "--max-calls",
        "32",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    Serve::start(&args, scratch.path(), tag, Duration::from_secs(15))
}

/// `n` calls through the front door, 5 per second, each held 1 s; all must succeed.
fn calls(front: &Kamailio, scratch: &Scratch, tag: &str, n: u32) {
    let mut cfg = SippConfig::uac("uac-call.xml", front.addr);
    cfg.rtp_echo = true;
    cfg.calls = n;
    cfg.limit = Some(n);
    cfg.rate = Some(5);
    cfg.hold_ms = Some(1_000);
    cfg.timeout = Duration::from_secs(60);
    let mut sipp = Sipp::start(cfg, scratch.path(), tag);
    sipp.assert_success(Duration::from_secs(60));
}

#[test]
fn calls_are_shared_by_two_nodes_and_a_dead_node_is_taken_out() {
    require_sipp();
    let scratch = Scratch::new("cluster");
    let mut a = node(&scratch, "node-a");
    let b = node(&scratch, "node-b");
    let front = Kamailio::start_dispatcher(scratch.path(), &[a.sip, b.sip]);
    // Both nodes answer their first probe.
    std::thread::sleep(Duration::from_secs(2));

    calls(&front, &scratch, "uac-both", 10);
    // The calls are over (SIPp saw every BYE answered): their lines are out.
    let answered = |s: &Serve| s.calls(10, Duration::from_secs(3)).len();
    let (on_a, on_b) = (answered(&a), answered(&b));
    eprintln!("10 calls through the dispatcher: {on_a} on node a, {on_b} on node b");
    assert_eq!(on_a + on_b, 10, "every call answered by a node");
    assert!(on_a >= 3 && on_b >= 3, "round robin: {on_a} / {on_b}");

    // Node a dies; within a couple of probes the dispatcher takes it out.
    a.stop("KILL", Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(3));
    calls(&front, &scratch, "uac-survivor", 10);
    assert_eq!(
        answered(&b),
        10,
        "every call after the failure on the survivor"
    );
    // The probes found it: taken out before the second batch, so no call of
    // that batch had to fail over from it.
    let log = std::fs::read_to_string(front.dir.join("kamailio.log")).unwrap_or_default();
    assert!(
        log.contains(&format!("voxhire-cluster: node down sip:{}", a.sip)),
        "{log}"
    );
    assert!(!log.contains("failed over"), "{log}");
}
