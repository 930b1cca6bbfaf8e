//! Two user agents wired back to back on a virtual clock with a lossy network:
//! the quinn-proto `Pair` idea. Each test names the scenario it exercises.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voxhire_sip::auth::Credentials;
use voxhire_sip::message::{NameAddr, Uri};
use voxhire_sip::sdp::{self, Codec};
use voxhire_sip::ua::{CallHandle, Event, InviteParams, Party, Transmit, UaConfig, UserAgent};
use voxhire_sip::{SipMessage, StatusCode};

const ALICE: &str = "127.0.0.1:5060";
const BOB: &str = "127.0.0.1:5070";
/// An address nobody answers at: what is sent there is lost.
const DEAD: &str = "127.0.0.1:5099";

struct Pair {
    now: Instant,
    alice: UserAgent,
    bob: UserAgent,
    /// (deliver at, from, to, bytes)
    wire: VecDeque<(SocketAddr, Transmit)>,
    /// Drops the datagrams this returns true for (inspects the first line).
    drop: Box<dyn FnMut(&str) -> bool>,
    alice_events: Vec<Event>,
    bob_events: Vec<Event>,
    log: Vec<String>,
    /// Every datagram put on the wire: (to, bytes).
    sent: Vec<(SocketAddr, Vec<u8>)>,
}

impl Pair {
    fn new() -> Self {
        let alice = UserAgent::new(UaConfig::new(ALICE.parse().unwrap()), 1);
        let bob = UserAgent::new(UaConfig::new(BOB.parse().unwrap()), 2);
        Pair {
            now: Instant::now(),
            alice,
            bob,
            wire: VecDeque::new(),
            drop: Box::new(|_| false),
            alice_events: Vec::new(),
            bob_events: Vec::new(),
            log: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// Moves every queued datagram and event until the network is quiet.
    fn settle(&mut self) {
        loop {
            while let Some(t) = self.alice.poll_transmit() {
                self.wire.push_back((Self::addr(ALICE), t));
            }
            while let Some(t) = self.bob.poll_transmit() {
                self.wire.push_back((Self::addr(BOB), t));
            }
            self.alice_events
                .extend(std::iter::from_fn(|| self.alice.poll_event()));
            self.bob_events
                .extend(std::iter::from_fn(|| self.bob.poll_event()));
            let Some((src, t)) = self.wire.pop_front() else {
                break;
            };
            let first_line = String::from_utf8_lossy(&t.payload)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            self.sent.push((t.dst, t.payload.clone()));
            let dropped = (self.drop)(&first_line);
            self.log.push(format!(
                "{src} -> {}: {first_line}{}",
                t.dst,
                if dropped { " (lost)" } else { "" }
            ));
            if dropped {
                continue;
            }
            if t.dst == Self::addr(BOB) {
                self.bob.handle_datagram(self.now, src, &t.payload);
            } else if t.dst == Self::addr(ALICE) {
                self.alice.handle_datagram(self.now, src, &t.payload);
            } else if t.dst == Self::addr(DEAD) {
                continue;
            } else {
                panic!("datagram to unknown address {}", t.dst);
            }
        }
    }

    /// Advances the clock to the next timer of either side and fires it.
    fn advance(&mut self) -> bool {
        let next = [self.alice.poll_timeout(), self.bob.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else { return false };
        self.now = self.now.max(at);
        self.alice.handle_timeout(self.now);
        self.bob.handle_timeout(self.now);
        self.settle();
        true
    }

    fn advance_by(&mut self, d: Duration) {
        let until = self.now + d;
        while let Some(at) = [self.alice.poll_timeout(), self.bob.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        {
            if at > until {
                break;
            }
            self.advance();
        }
        self.now = until;
        self.alice.handle_timeout(self.now);
        self.bob.handle_timeout(self.now);
        self.settle();
    }

    fn run_until_idle(&mut self) {
        for _ in 0..10_000 {
            if !self.advance() {
                return;
            }
        }
        panic!("timers never went quiet");
    }

    fn call(&mut self) -> CallHandle {
        let offer = sdp::offer(
            1,
            "127.0.0.1:40000".parse().unwrap(),
            &[Codec::Pcmu, Codec::Pcma],
        );
        let h = self.alice.invite(
            self.now,
            InviteParams {
                target: Uri::parse("sip:bob@127.0.0.1:5070").unwrap(),
                dst: Self::addr(BOB),
                alternates: Vec::new(),
                from: NameAddr::parse("<sip:alice@127.0.0.1>").unwrap(),
                sdp: offer.to_bytes(),
            },
        );
        self.settle();
        h
    }

    fn bob_incoming(&self) -> (CallHandle, Vec<u8>) {
        self.bob_events
            .iter()
            .find_map(|e| match e {
                Event::IncomingCall { call, offer, .. } => {
                    Some((*call, offer.clone().unwrap_or_default()))
                }
                _ => None,
            })
            .expect("bob got the INVITE")
    }

    fn bob_answers(&mut self) -> CallHandle {
        let (call, offer) = self.bob_incoming();
        let offer = sdp::SessionDescription::parse(&offer).unwrap();
        let (answer, _) = sdp::answer(
            &offer,
            2,
            "127.0.0.1:41000".parse().unwrap(),
            &[Codec::Pcmu],
        )
        .unwrap();
        self.bob.ring(self.now, call);
        self.bob.answer(self.now, call, answer.to_bytes());
        self.settle();
        call
    }
}

fn has(events: &[Event], pred: impl Fn(&Event) -> bool) -> bool {
    events.iter().any(pred)
}

#[test]
fn basic_call_and_bye_from_the_caller() {
    let mut p = Pair::new();
    let a = p.call();
    let b = p.bob_answers();
    assert!(has(
        &p.alice_events,
        |e| matches!(e, Event::Progress { status, .. } if *status == StatusCode::RINGING)
    ));
    assert!(has(
        &p.alice_events,
        |e| matches!(e, Event::Answered { call, .. } if *call == a)
    ));
    assert!(has(
        &p.bob_events,
        |e| matches!(e, Event::Confirmed { call } if *call == b)
    ));
    p.alice.hangup(p.now, a);
    p.settle();
    assert!(has(&p.alice_events, |e| *e
        == Event::Ended {
            call: a,
            by: Party::Local
        }));
    assert!(has(&p.bob_events, |e| *e
        == Event::Ended {
            call: b,
            by: Party::Remote
        }));
    p.run_until_idle();
    assert_eq!(p.alice.active_calls(), 0);
    assert_eq!(p.bob.active_calls(), 0);
}

#[test]
fn busy_here_is_acked_and_reported() {
    let mut p = Pair::new();
    let a = p.call();
    let (b, _) = p.bob_incoming();
    p.bob.reject(p.now, b, StatusCode::BUSY_HERE, &[]);
    p.settle();
    assert!(has(
        &p.alice_events,
        |e| matches!(e, Event::Failed { call, status, .. } if *call == a && status.code() == 486)
    ));
    assert!(
        p.log.iter().any(|l| l.contains("ACK sip:bob")),
        "{:#?}",
        p.log
    );
    p.run_until_idle();
    assert_eq!(p.alice.active_calls(), 0);
}

#[test]
fn lost_invite_is_retransmitted_by_timer_a() {
    let mut p = Pair::new();
    let mut lost = 0;
    p.drop = Box::new(move |line| {
        if line.starts_with("INVITE") && lost < 2 {
            lost += 1;
            return true;
        }
        false
    });
    let t0 = p.now;
    p.call();
    p.advance(); // 500 ms: second copy lost
    p.advance(); // 1500 ms: third copy arrives
    assert_eq!(p.now - t0, Duration::from_millis(1500));
    p.bob_incoming();
    assert_eq!(
        p.log
            .iter()
            .filter(|l| l.contains("INVITE sip:bob"))
            .count(),
        3
    );
}

#[test]
fn lost_200_is_retransmitted_until_ack() {
    let mut p = Pair::new();
    let mut lost = false;
    p.drop = Box::new(move |line| {
        if line.starts_with("SIP/2.0 200") && !lost {
            lost = true;
            return true;
        }
        false
    });
    let a = p.call();
    let b = p.bob_answers();
    assert!(!has(&p.alice_events, |e| matches!(
        e,
        Event::Answered { .. }
    )));
    p.advance_by(Duration::from_millis(500));
    assert!(has(
        &p.alice_events,
        |e| matches!(e, Event::Answered { call, .. } if *call == a)
    ));
    assert!(has(
        &p.bob_events,
        |e| matches!(e, Event::Confirmed { call } if *call == b)
    ));
}

#[test]
fn timer_b_fails_a_call_nobody_answers() {
    let mut p = Pair::new();
    p.drop = Box::new(|line| line.starts_with("INVITE"));
    let a = p.call();
    let t0 = p.now;
    p.run_until_idle();
    let failed_at = p.alice_events.iter().find_map(|e| match e {
        Event::Failed { call, status, .. } if *call == a => Some(*status),
        _ => None,
    });
    assert_eq!(failed_at, Some(StatusCode::REQUEST_TIMEOUT));
    assert!(p.now - t0 >= Duration::from_secs(32));
}

#[test]
fn an_invite_nobody_answers_fails_over_to_the_next_address() {
    // RFC 3263 §4.3: the proxy's first address gives no final response (Timer
    // B), so the INVITE goes, as a new transaction, to the next one.
    let mut p = Pair::new();
    let offer = sdp::offer(1, "127.0.0.1:40000".parse().unwrap(), &[Codec::Pcmu]);
    let a = p.alice.invite(
        p.now,
        InviteParams {
            target: Uri::parse("sip:bob@trunk.example").unwrap(),
            dst: Pair::addr(DEAD),
            alternates: vec![Pair::addr(BOB)],
            from: NameAddr::parse("<sip:alice@127.0.0.1>").unwrap(),
            sdp: offer.to_bytes(),
        },
    );
    let first = take_request(&mut p.alice);
    p.alice.handle_timeout(p.now);
    p.settle();
    let t0 = p.now;
    while !p
        .bob_events
        .iter()
        .any(|e| matches!(e, Event::IncomingCall { .. }))
    {
        assert!(p.advance(), "the INVITE never reached the second address");
    }
    assert!(p.now - t0 >= Duration::from_secs(31), "only after Timer B");
    let to_bob: Vec<voxhire_sip::Request> = p
        .sent
        .iter()
        .filter(|(to, _)| *to == Pair::addr(BOB))
        .filter_map(|(_, bytes)| match SipMessage::parse(bytes).ok()? {
            SipMessage::Request(r) if r.method == voxhire_sip::Method::Invite => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(to_bob.len(), 1, "{:#?}", p.log);
    p.bob_answers();
    assert!(
        p.alice_events
            .iter()
            .any(|e| matches!(e, Event::Answered { call, .. } if *call == a)),
        "{:?}",
        p.alice_events
    );
    assert!(!p
        .alice_events
        .iter()
        .any(|e| matches!(e, Event::Failed { .. })));
    // The same request as a new transaction: same Call-ID and From, new branch.
    let second = &to_bob[0];
    let header = |r: &voxhire_sip::Request, h: &str| r.headers.get(h).map(str::to_string);
    assert_eq!(header(second, "Call-ID"), header(&first, "Call-ID"));
    assert_eq!(header(second, "From"), header(&first, "From"));
    let branch = |r: &voxhire_sip::Request| r.top_via().unwrap().branch().unwrap().to_string();
    assert_ne!(branch(second), branch(&first));
}

#[test]
fn cancel_while_ringing_gets_487() {
    let mut p = Pair::new();
    let a = p.call();
    let (b, _) = p.bob_incoming();
    p.bob.ring(p.now, b);
    p.settle();
    p.alice.cancel(p.now, a);
    p.settle();
    assert!(has(&p.bob_events, |e| *e == Event::Cancelled { call: b }));
    assert!(has(
        &p.alice_events,
        |e| matches!(e, Event::Failed { call, status, .. } if *call == a && status.code() == 487)
    ));
    assert!(p
        .log
        .iter()
        .any(|l| l.contains("SIP/2.0 200 OK") && l.starts_with(BOB)));
    p.run_until_idle();
    assert_eq!(p.bob.active_calls(), 0);
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let mut p = Pair::new();
    // Bob's 100 Trying is lost, so Alice has seen no provisional yet.
    p.drop = Box::new(|line| line.starts_with("SIP/2.0 100"));
    let a = p.call();
    let (b, _) = p.bob_incoming();
    p.alice.cancel(p.now, a);
    p.settle();
    assert!(
        !p.log.iter().any(|l| l.contains("CANCEL")),
        "RFC 3261 §9.1: no CANCEL before a provisional"
    );
    p.bob.ring(p.now, b);
    p.settle();
    assert!(p.log.iter().any(|l| l.contains("CANCEL sip:bob")));
    assert!(has(&p.bob_events, |e| *e == Event::Cancelled { call: b }));
}

#[test]
fn cancel_racing_a_200_ends_with_ack_and_bye() {
    let mut p = Pair::new();
    let a = p.call();
    let (b, offer) = p.bob_incoming();
    p.bob.ring(p.now, b);
    p.settle();
    // Both cross on the wire: Alice cancels while Bob's 200 is in flight.
    let offer = sdp::SessionDescription::parse(&offer).unwrap();
    let (answer, _) = sdp::answer(
        &offer,
        2,
        "127.0.0.1:41000".parse().unwrap(),
        &[Codec::Pcmu],
    )
    .unwrap();
    p.bob.answer(p.now, b, answer.to_bytes());
    p.alice.cancel(p.now, a);
    p.settle();
    // Bob answered, so the CANCEL has no effect on his INVITE (200 to CANCEL, no 487).
    assert!(!p.log.iter().any(|l| l.contains("487")), "{:#?}", p.log);
    assert!(has(
        &p.alice_events,
        |e| matches!(e, Event::Failed { call, status, .. } if *call == a && status.code() == 487)
    ));
    assert!(p.log.iter().any(|l| l.contains("ACK sip:voxhire")));
    assert!(p.log.iter().any(|l| l.contains("BYE sip:voxhire")));
    assert!(has(&p.bob_events, |e| *e
        == Event::Ended {
            call: b,
            by: Party::Remote
        }));
}

#[test]
fn bye_glare_ends_each_side_once() {
    let mut p = Pair::new();
    let a = p.call();
    let b = p.bob_answers();
    p.alice.hangup(p.now, a);
    p.bob.hangup(p.now, b);
    p.settle();
    p.run_until_idle();
    let ended = |events: &[Event], call| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Ended { call: c, .. } if *c == call))
            .count()
    };
    assert_eq!(ended(&p.alice_events, a), 1);
    assert_eq!(ended(&p.bob_events, b), 1);
    assert_eq!(p.log.iter().filter(|l| l.contains(": BYE ")).count(), 2);
    assert_eq!(p.alice.active_calls() + p.bob.active_calls(), 0);
}

#[test]
fn reinvite_is_answered_with_our_sdp_and_reported() {
    let mut p = Pair::new();
    let a = p.call();
    let b = p.bob_answers();
    // Alice sends a re-INVITE by hand (voxhire never starts one, but must answer one).
    let id = p.alice.dialog_id(a).expect("alice's dialog").clone();
    let reinvite = format!(
        "INVITE sip:voxhire@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP {ALICE};branch=z9hG4bKreinv1\r\nMax-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag={}\r\nTo: <sip:bob@127.0.0.1:5070>;tag={}\r\nCall-ID: {}\r\nCSeq: 2 INVITE\r\n\
         Contact: <sip:alice@{ALICE}>\r\nContent-Type: application/sdp\r\n\r\n{}",
        id.local_tag,
        id.remote_tag,
        id.call_id,
        String::from_utf8(sdp::offer(1, "127.0.0.1:40002".parse().unwrap(), &[Codec::Pcmu]).to_bytes()).unwrap()
    );
    p.bob
        .handle_datagram(p.now, Pair::addr(ALICE), reinvite.as_bytes());
    let mut ok = None;
    while let Some(t) = p.bob.poll_transmit() {
        if let Ok(SipMessage::Response(r)) = SipMessage::parse(&t.payload) {
            if r.status == StatusCode::OK {
                ok = Some(r);
            }
        }
    }
    let ok = ok.expect("re-INVITE answered 200");
    let sdp = sdp::SessionDescription::parse(&ok.body).unwrap();
    assert_eq!(sdp.session_version, 3, "o= version bumped from 2");
    assert_eq!(sdp.audio_addr(), Some("127.0.0.1:41000".parse().unwrap()));
    p.bob_events
        .extend(std::iter::from_fn(|| p.bob.poll_event()));
    assert!(has(
        &p.bob_events,
        |e| matches!(e, Event::RemoteSdp { call, .. } if *call == b)
    ));
}

#[test]
fn digest_challenge_then_authorised_invite() {
    // Bob plays a trunk that challenges: a scripted peer, not a UserAgent.
    let mut alice_cfg = UaConfig::new(ALICE.parse().unwrap());
    alice_cfg.credentials = Some(Credentials {
        username: "alice".into(),
        password: "secret".into(),
    });
    let mut alice = UserAgent::new(alice_cfg, 9);
    let now = Instant::now();
    let a = alice.invite(
        now,
        InviteParams {
            target: Uri::parse("sip:bob@127.0.0.1:5070").unwrap(),
            dst: BOB.parse().unwrap(),
            alternates: Vec::new(),
            from: NameAddr::parse("<sip:alice@127.0.0.1>").unwrap(),
            sdp: sdp::offer(1, "127.0.0.1:40000".parse().unwrap(), &[Codec::Pcmu]).to_bytes(),
        },
    );
    let first = take_request(&mut alice);
    assert!(first.headers.get("Authorization").is_none());
    let mut challenge =
        voxhire_sip::Response::for_request_headers(StatusCode::UNAUTHORIZED, &first.headers);
    challenge.headers.set(
        "To",
        format!("{};tag=trunk1", first.headers.get("To").unwrap()),
    );
    challenge.headers.push(
        "WWW-Authenticate",
        "Digest realm=\"voxhire.test\", nonce=\"abc123\", qop=\"auth\", algorithm=MD5",
    );
    alice.handle_datagram(now, BOB.parse().unwrap(), &challenge.to_bytes());
    // ACK for the 401, then the authorised INVITE with CSeq 2 and a new branch.
    let ack = take_request(&mut alice);
    assert_eq!(ack.method, voxhire_sip::Method::Ack);
    let second = take_request(&mut alice);
    assert_eq!(second.cseq().unwrap().seq, 2);
    assert_ne!(
        second.top_via().unwrap().branch(),
        first.top_via().unwrap().branch()
    );
    assert_eq!(second.call_id(), first.call_id());
    let auth = second.headers.get("Authorization").expect("Authorization");
    assert!(
        auth.contains("username=\"alice\"")
            && auth.contains("qop=auth")
            && auth.contains("nc=00000001")
    );
    // The same challenge again means bad credentials: the call fails with 401, no loop.
    let mut again =
        voxhire_sip::Response::for_request_headers(StatusCode::UNAUTHORIZED, &second.headers);
    again.headers.set(
        "To",
        format!("{};tag=trunk2", second.headers.get("To").unwrap()),
    );
    again.headers.push(
        "WWW-Authenticate",
        "Digest realm=\"voxhire.test\", nonce=\"abc123\", qop=\"auth\"",
    );
    alice.handle_datagram(now, BOB.parse().unwrap(), &again.to_bytes());
    let events: Vec<Event> = std::iter::from_fn(|| alice.poll_event()).collect();
    assert!(has(
        &events,
        |e| matches!(e, Event::Failed { call, status, .. } if *call == a && status.code() == 401)
    ));
}

fn take_request(ua: &mut UserAgent) -> voxhire_sip::Request {
    let t = ua.poll_transmit().expect("a request was sent");
    match SipMessage::parse(&t.payload).unwrap() {
        SipMessage::Request(r) => r,
        SipMessage::Response(r) => panic!("expected a request, got {}", r.status),
    }
}

#[test]
fn same_seed_same_bytes() {
    let run = || {
        let mut p = Pair::new();
        p.call();
        p.bob_answers();
        p.log.clone()
    };
    assert_eq!(run(), run());
}

#[test]
fn register_with_digest_then_refresh_before_expiry() {
    let mut cfg = UaConfig::new(ALICE.parse().unwrap());
    cfg.credentials = Some(Credentials {
        username: "alice".into(),
        password: "secret".into(),
    });
    let mut ua = UserAgent::new(cfg, 3);
    let t0 = Instant::now();
    ua.register(
        t0,
        voxhire_sip::ua::RegisterParams {
            registrar: Uri::parse("sip:127.0.0.1:5070").unwrap(),
            dst: BOB.parse().unwrap(),
            aor: Uri::parse("sip:alice@127.0.0.1").unwrap(),
            expires: 120,
            keepalive: None,
        },
    );
    let first = take_request(&mut ua);
    assert_eq!(first.method, voxhire_sip::Method::Register);
    assert_eq!(first.headers.get("Expires"), Some("120"));
    let mut challenge =
        voxhire_sip::Response::for_request_headers(StatusCode::UNAUTHORIZED, &first.headers);
    challenge.headers.push(
        "WWW-Authenticate",
        "Digest realm=\"voxhire.test\", nonce=\"n1\", qop=\"auth\"",
    );
    ua.handle_datagram(t0, BOB.parse().unwrap(), &challenge.to_bytes());
    let second = take_request(&mut ua);
    assert_eq!(second.cseq().unwrap().seq, 2);
    assert_eq!(
        second.call_id(),
        first.call_id(),
        "a registration keeps its Call-ID (RFC 3261 §10.2)"
    );
    assert!(second
        .headers
        .get("Authorization")
        .unwrap()
        .contains("nc=00000001"));
    let mut ok = voxhire_sip::Response::for_request_headers(StatusCode::OK, &second.headers);
    ok.headers
        .push("Contact", "<sip:voxhire@127.0.0.1:5060>;expires=60");
    ua.handle_datagram(t0, BOB.parse().unwrap(), &ok.to_bytes());
    assert_eq!(ua.poll_event(), Some(Event::Registered { expires: 60 }));
    // The registrar granted 60 s: the refresh goes out before then, reusing the nonce.
    let (now, refresh) = loop {
        let now = ua.poll_timeout().expect("a refresh is scheduled");
        assert!(now < t0 + Duration::from_secs(60));
        ua.handle_timeout(now);
        if let Some(t) = ua.poll_transmit() {
            if let Ok(SipMessage::Request(r)) = SipMessage::parse(&t.payload) {
                break (now, r);
            }
        }
    };
    assert!(
        now - t0 >= Duration::from_secs(45),
        "refreshed too early: {:?}",
        now - t0
    );
    assert_eq!(refresh.cseq().unwrap().seq, 3);
    assert!(refresh
        .headers
        .get("Authorization")
        .unwrap()
        .contains("nc=00000002"));
}

#[test]
fn unacked_200_ends_the_call_with_bye_exactly_once() {
    let mut p = Pair::new();
    // Every ACK is lost: Bob retransmits his 200 until 64·T1, then hangs up (§13.3.1.4).
    p.drop = Box::new(|line| line.starts_with("ACK"));
    let _a = p.call();
    let b = p.bob_answers();
    p.run_until_idle();
    let ended: Vec<&Event> = p
        .bob_events
        .iter()
        .filter(|e| matches!(e, Event::Ended { call, .. } if *call == b))
        .collect();
    assert_eq!(
        ended,
        vec![&Event::Ended {
            call: b,
            by: Party::Local
        }]
    );
    assert!(
        p.log
            .iter()
            .any(|l| l.starts_with(BOB) && l.contains(": BYE ")),
        "{:#?}",
        p.log
    );
    assert!(!has(&p.bob_events, |e| matches!(
        e,
        Event::Confirmed { .. }
    )));
}

#[test]
fn a_new_agent_ends_the_dialog_a_dead_one_left_up() {
    let mut p = Pair::new();
    let a = p.call();
    let b = p.bob_answers();
    let kept = answered_dialog(&p, a);
    // Alice's process dies; a new one on the same address has only what was kept.
    p.alice = UserAgent::new(UaConfig::new(ALICE.parse().unwrap()), 99);
    p.alice_events.clear();
    let dialog = voxhire_sip::dialog::Dialog::from_state(&kept).expect("the state parses back");
    let orphan = p.alice.end_orphan(p.now, dialog);
    p.settle();
    assert!(
        has(&p.bob_events, |e| *e
            == Event::Ended {
                call: b,
                by: Party::Remote
            }),
        "bob's side hears the BYE: {:#?}",
        p.log
    );
    assert!(has(&p.alice_events, |e| *e
        == Event::Ended {
            call: orphan,
            by: Party::Local
        }));
    let bye = p
        .log
        .iter()
        .find(|l| l.contains("BYE"))
        .expect("a BYE was sent");
    assert!(bye.starts_with(ALICE), "{bye}");
}

#[test]
fn ending_an_orphan_nobody_answers_for_still_ends() {
    let mut p = Pair::new();
    let a = p.call();
    p.bob_answers();
    let kept = answered_dialog(&p, a);
    p.alice = UserAgent::new(UaConfig::new(ALICE.parse().unwrap()), 99);
    p.alice_events.clear();
    p.drop = Box::new(|line| line.starts_with("BYE"));
    let orphan = p.alice.end_orphan(
        p.now,
        voxhire_sip::dialog::Dialog::from_state(&kept).unwrap(),
    );
    p.advance_by(Duration::from_secs(40));
    assert!(has(&p.alice_events, |e| *e
        == Event::Ended {
            call: orphan,
            by: Party::Local
        }));
}

#[test]
fn finished_calls_and_transactions_are_forgotten_after_64_t1() {
    let mut p = Pair::new();
    for _ in 0..3 {
        // bob answers the call of this round (the helper takes the first offer seen).
        p.bob_events.clear();
        let a = p.call();
        p.bob_answers();
        p.alice.hangup(p.now, a);
        p.settle();
    }
    assert!(
        p.alice.held().0 == 3 && p.bob.held().0 == 3,
        "kept a while for late retransmissions"
    );
    p.advance_by(Duration::from_secs(40));
    assert_eq!(p.alice.held(), (0, 0));
    assert_eq!(p.bob.held(), (0, 0));
    assert_eq!(
        (p.alice.poll_timeout(), p.bob.poll_timeout()),
        (None, None),
        "no timer left behind"
    );
}

/// The dialog state alice's `Answered` event carried for `call`.
fn answered_dialog(p: &Pair, call: CallHandle) -> voxhire_sip::dialog::DialogState {
    p.alice_events
        .iter()
        .find_map(|e| match e {
            Event::Answered {
                call: c, dialog, ..
            } if *c == call => Some(dialog.clone()),
            _ => None,
        })
        .expect("the answer carries the dialog's state")
}
