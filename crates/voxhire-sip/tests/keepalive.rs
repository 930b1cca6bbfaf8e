//! A registration over UDP kept alive with STUN (RFC 5626 §4.4.1), on a virtual
//! clock: a Binding request to the registrar every 80–100 % of the keep-alive, an
//! answer that says the NAT mapped us anew or no answer within 7 s means the flow
//! failed and the agent registers again; STUN that answers nothing of ours is
//! dropped, never answered as a bad SIP request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtc_stun::message::{Message, Setter as _, TransactionId, BINDING_SUCCESS};
use rtc_stun::xoraddr::XorMappedAddress;
use voxhire_sip::message::Uri;
use voxhire_sip::ua::{Event, RegisterParams, Transmit, UaConfig, UserAgent};
use voxhire_sip::{Method, Response, SipMessage, StatusCode};

const REGISTRAR: &str = "127.0.0.1:5070";
const KEEPALIVE: Duration = Duration::from_secs(20);

struct Agent {
    ua: UserAgent,
    now: Instant,
}

enum Sent {
    Register(Box<voxhire_sip::Request>),
    Stun([u8; 12]),
}

impl Agent {
    /// Registered over UDP, keeping the registration alive every `KEEPALIVE`.
    fn registered() -> Agent {
        Self::registered_every(KEEPALIVE)
    }

    fn registered_every(keepalive: Duration) -> Agent {
        let mut ua = UserAgent::new(UaConfig::new("127.0.0.1:5060".parse().unwrap()), 5);
        let now = Instant::now();
        ua.register(now, params(keepalive));
        let mut agent = Agent { ua, now };
        agent.answer_register();
        assert_eq!(
            agent.ua.poll_event(),
            Some(Event::Registered { expires: 3600 })
        );
        agent
    }

    fn answer_register(&mut self) {
        let t = self.ua.poll_transmit().expect("a REGISTER");
        let Sent::Register(r) = classify(&t) else {
            panic!("not a REGISTER");
        };
        self.answer(&r);
    }

    fn answer(&mut self, r: &voxhire_sip::Request) {
        let ok = Response::for_request_headers(StatusCode::OK, &r.headers);
        self.ua
            .handle_datagram(self.now, REGISTRAR.parse().unwrap(), &ok.to_bytes());
    }

    /// Runs the clock to the agent's next transmission; what it was and when.
    fn next_sent(&mut self) -> (Duration, Sent) {
        let start = self.now;
        loop {
            if let Some(t) = self.ua.poll_transmit() {
                return (self.now - start, classify(&t));
            }
            let at = self.ua.poll_timeout().expect("something scheduled");
            assert!(at - start < Duration::from_secs(600), "nothing sent");
            self.now = self.now.max(at);
            self.ua.handle_timeout(self.now);
        }
    }

    fn stun_answer(&mut self, transaction: [u8; 12], mapped: &str) {
        let mapped: SocketAddr = mapped.parse().unwrap();
        let mut m = Message::new();
        m.typ = BINDING_SUCCESS;
        m.transaction_id = TransactionId(transaction);
        m.write_header();
        XorMappedAddress {
            ip: mapped.ip(),
            port: mapped.port(),
        }
        .add_to(&mut m)
        .unwrap();
        self.ua
            .handle_datagram(self.now, REGISTRAR.parse().unwrap(), &m.raw);
    }
}

fn params(keepalive: Duration) -> RegisterParams {
    RegisterParams {
        registrar: Uri::parse("sip:127.0.0.1:5070").unwrap(),
        dst: REGISTRAR.parse().unwrap(),
        aor: Uri::parse("sip:alice@127.0.0.1").unwrap(),
        expires: 3600,
        keepalive: Some(keepalive),
    }
}

fn classify(t: &Transmit) -> Sent {
    assert_eq!(t.dst, REGISTRAR.parse().unwrap());
    if rtc_stun::message::is_stun_message(&t.payload) {
        let mut m = Message::new();
        m.raw = t.payload.clone();
        m.decode().expect("a STUN message");
        assert_eq!(m.typ, rtc_stun::message::BINDING_REQUEST);
        return Sent::Stun(m.transaction_id.0);
    }
    match SipMessage::parse(&t.payload) {
        Ok(SipMessage::Request(r)) if r.method == Method::Register => Sent::Register(Box::new(r)),
        _ => panic!("unexpected: {:?}", String::from_utf8_lossy(&t.payload)),
    }
}

fn expect_stun(agent: &mut Agent) -> [u8; 12] {
    let (after, sent) = agent.next_sent();
    let Sent::Stun(id) = sent else {
        panic!("a REGISTER instead of a keep-alive");
    };
    assert!(
        after >= KEEPALIVE.mul_f64(0.8) && after <= KEEPALIVE,
        "a keep-alive every 80–100 % of 20 s, not after {after:?}"
    );
    id
}

#[test]
fn a_registration_over_udp_is_kept_alive_with_stun() {
    let mut agent = Agent::registered();
    for _ in 0..3 {
        let id = expect_stun(&mut agent);
        agent.stun_answer(id, "203.0.113.7:40000");
    }
    // An answer to nothing we asked is ignored; a stray STUN request is not
    // answered as a malformed SIP request.
    agent.stun_answer([9; 12], "198.51.100.1:1");
    let mut request = Message::new();
    request.typ = rtc_stun::message::BINDING_REQUEST;
    request.transaction_id = TransactionId([7; 12]);
    request.encode();
    agent
        .ua
        .handle_datagram(agent.now, REGISTRAR.parse().unwrap(), &request.raw);
    assert!(agent.ua.poll_transmit().is_none());
    let id = expect_stun(&mut agent);
    agent.stun_answer(id, "203.0.113.7:40000");
}

#[test]
fn a_nat_that_maps_us_anew_means_registering_again() {
    let mut agent = Agent::registered();
    let id = expect_stun(&mut agent);
    agent.stun_answer(id, "203.0.113.7:40000");
    let id = expect_stun(&mut agent);
    agent.stun_answer(id, "203.0.113.7:40002");
    assert!(
        matches!(
            classify(&agent.ua.poll_transmit().expect("sent")),
            Sent::Register(_)
        ),
        "a changed mapping registers again at once"
    );
}

#[test]
fn an_unanswered_keepalive_means_registering_again_after_7_s() {
    let mut agent = Agent::registered();
    let _lost = expect_stun(&mut agent);
    let (after, sent) = agent.next_sent();
    let Sent::Register(again) = sent else {
        panic!("re-REGISTER, not another ping");
    };
    assert_eq!(after, Duration::from_secs(7));
    // The new registration is kept alive in turn.
    agent.answer(&again);
    expect_stun(&mut agent);
}

#[test]
fn over_tcp_there_is_no_stun() {
    let mut config = UaConfig::new("127.0.0.1:5060".parse().unwrap());
    config.transport = voxhire_sip::ua::Transport::Tcp;
    let mut ua = UserAgent::new(config, 5);
    let mut now = Instant::now();
    ua.register(now, params(KEEPALIVE));
    let t = ua.poll_transmit().unwrap();
    let Ok(SipMessage::Request(r)) = SipMessage::parse(&t.payload) else {
        panic!()
    };
    let ok = Response::for_request_headers(StatusCode::OK, &r.headers);
    ua.handle_datagram(now, REGISTRAR.parse().unwrap(), &ok.to_bytes());
    now += Duration::from_secs(120);
    ua.handle_timeout(now);
    assert!(
        ua.poll_transmit().is_none(),
        "the connection's CRLF pings do it"
    );
}

#[test]
fn keepalives_more_often_than_7_s_still_give_up_7_s_after_the_first_unanswered() {
    let every_second = || Agent::registered_every(Duration::from_secs(1));
    let mut agent = every_second();
    let start = agent.now;
    let mut pings = Vec::new();
    let reregistered_after = loop {
        let (_, sent) = agent.next_sent();
        match sent {
            Sent::Stun(id) => pings.push(id),
            Sent::Register(_) => break agent.now - start,
        }
    };
    assert!(
        pings.len() >= 7,
        "a ping about every second: {}",
        pings.len()
    );
    assert!(
        reregistered_after <= Duration::from_secs(8),
        "gave up 7 s after the first unanswered ping, not {reregistered_after:?}"
    );
    // An answer to an older ping than the newest keeps the flow too.
    let mut agent = every_second();
    let start = agent.now;
    let Sent::Stun(first) = agent.next_sent().1 else {
        panic!("a ping first");
    };
    let Sent::Stun(_second) = agent.next_sent().1 else {
        panic!("a second ping");
    };
    agent.stun_answer(first, "203.0.113.7:40000");
    for _ in 0..10 {
        assert!(
            matches!(agent.next_sent().1, Sent::Stun(_)),
            "kept alive, not registering again, {:?} in",
            agent.now - start
        );
        if agent.now - start > Duration::from_secs(9) {
            break;
        }
    }
}
