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

/// Two `voxhire server` nodes sharing one PostgreSQL store run one job's
/// campaign; the node calling Alice is killed (-9) mid-interview. The
/// survivor finds the dead node's claims lapsed, ends its call with BYE,
/// closes the attempt as interrupted with its recording repaired, and
/// finishes the campaign: every candidate is dialled once per attempt, and
/// no result is lost.
#[test]
fn a_campaign_shared_by_two_nodes_survives_one_being_killed() {
    use common::candidate::Candidate;
    use common::http::request;
    use common::postgres::Postgres;
    use common::repo_root;
    use common::server::{api_key_in, assert_recording_plays, Server};
    use serde_json::{json, Value};
    use std::collections::BTreeMap;
    use std::time::Instant;

    let scratch = Scratch::new("two-node-campaign");
    let pg = Postgres::start();
    let candidate = Candidate::start(scratch.path());
    let (data_a, data_b) = (scratch.join("node-a"), scratch.join("node-b"));
    let db = ["--database", pg.url.as_str()];
    let a = Server::start_named(&scratch, &data_a, "node-a", &[db[0], db[1], "--node", "a"]);
    let b = Server::start_named(&scratch, &data_b, "node-b", &[db[0], db[1], "--node", "b"]);
    // One store: a key made through either node's data works on both.
    let key = api_key_in(&data_a, Some(&pg.url), "write");
    let call = |server: &Server, method: &str, path: &str, body: Option<Value>| {
        request(server.http, method, path, Some(&key), body.as_ref())
    };

    let script =
        std::fs::read_to_string(repo_root().join("config/interview-java-backend.en.toml")).unwrap();
    let r = call(
        &b,
        "POST",
        "/api/v1/jobs",
        Some(json!({"title": "x", "script": script,
            "campaign": {"retry": {"max_attempts": 3, "backoff_secs": [2]}}})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let job = r.body["id"].as_str().unwrap().to_owned();
    // Alice (a whole interview, long enough to be killed in), Bob (busy once,
    // then interviewed), Dana (opts out), Hana (hangs up early).
    let users = ["alice+1", "bob+1", "dana+1", "hana+1"];
    let mut ids = BTreeMap::new();
    for user in users {
        let r = call(
            &a,
            "POST",
            &format!("/api/v1/jobs/{job}/candidates"),
            Some(json!({"name": user, "phone": format!("sip:{user}@{}", candidate.sip)})),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        ids.insert(user, r.body["id"].as_str().unwrap().to_owned());
    }
    // Started through node b; node a joins within a beat.
    let r = call(
        &b,
        "POST",
        &format!("/api/v1/jobs/{job}/campaign"),
        Some(json!({})),
    );
    assert_eq!(r.status, 202, "{}", r.text);
    let cand = |server: &Server, user: &str| {
        call(
            server,
            "GET",
            &format!("/api/v1/candidates/{}", ids[user]),
            None,
        )
        .body
    };
    // Whichever node loads its models first dials Alice (the first
    // candidate): that node is the one killed.
    let deadline = Instant::now() + Duration::from_secs(120);
    let on_alice = loop {
        let alice = cand(&a, "alice+1");
        if alice["status"] == "calling" && alice["node"].is_string() {
            break alice["node"].as_str().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "nobody called Alice: {alice}\n{}\n{}",
            a.log(),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // Node a takes part (its beat finds the campaign running within 3 s).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !a.log().contains("joined the campaign another node started") {
        assert!(
            Instant::now() < deadline,
            "node a never joined\n{}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (a, mut victim) = if on_alice == "b" { (a, b) } else { (b, a) };
    std::thread::sleep(Duration::from_secs(8));
    victim.guard.signal("KILL");
    victim.guard.wait_timeout(Duration::from_secs(10));
    let killed_at = Instant::now();

    // Every call line the simulated candidates print, until all are settled.
    let mut lines: Vec<Value> = Vec::new();
    let settled = |s: &Value| {
        matches!(
            s.as_str(),
            Some("interviewed" | "opted_out" | "failed" | "rescheduled")
        )
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut bye_after = None;
    loop {
        while let Some(line) = candidate.try_next_call() {
            if line["user"] == "alice+1"
                && line["outcome"] == "agent_hung_up"
                && bye_after.is_none()
            {
                bye_after = Some(killed_at.elapsed());
            }
            lines.push(line);
        }
        if users.iter().all(|u| settled(&cand(&a, u)["status"])) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the survivor did not finish: {:?}\n{}",
            users.map(|u| cand(&a, u)["status"].clone()),
            a.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // The last call's line may trail its result by a moment.
    std::thread::sleep(Duration::from_secs(2));
    while let Some(line) = candidate.try_next_call() {
        lines.push(line);
    }

    let status: Vec<String> = users
        .iter()
        .map(|u| {
            cand(&a, u)["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        status,
        ["interviewed", "interviewed", "opted_out", "interviewed"],
        "{}",
        a.log()
    );
    for user in users {
        let iv = call(
            &a,
            "GET",
            &format!("/api/v1/candidates/{}/interviews", ids[user]),
            None,
        );
        let attempts: Vec<i64> = iv.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["attempt_no"].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = (1..=attempts.len() as i64).collect();
        assert_eq!(
            attempts, want,
            "{user}: one record per attempt, none twice: {}",
            iv.text
        );
        let dialled = lines.iter().filter(|l| l["user"] == user).count();
        assert_eq!(
            dialled,
            attempts.len(),
            "{user}: dialled exactly once per attempt on record: {lines:?}"
        );
        assert!(
            iv.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["outcome"] != "in_progress"),
            "{user}: nothing left open: {}",
            iv.text
        );
    }
    // Alice's first attempt died with node b: closed, its call ended with BYE,
    // its recording repaired; the survivor interviewed her on the second.
    let bye_after = bye_after.expect("the dead node's call with Alice was ended with BYE");
    assert!(
        bye_after < Duration::from_secs(30),
        "BYE {bye_after:?} after the kill"
    );
    let iv = call(
        &a,
        "GET",
        &format!("/api/v1/candidates/{}/interviews", ids["alice+1"]),
        None,
    );
    let first = &iv.body["items"][0];
    assert_eq!(first["outcome"], "failed", "{}", iv.text);
    assert_eq!(iv.body["items"][1]["outcome"], "completed", "{}", iv.text);
    assert_recording_plays(&a, &key, first);
    let log = a.log();
    assert!(
        log.contains("closed an attempt its node left in progress"),
        "{log}"
    );
    eprintln!(
        "two nodes, one killed: BYE {:.1} s after the kill; {} calls for {} candidates",
        bye_after.as_secs_f64(),
        lines.len(),
        users.len()
    );
}
