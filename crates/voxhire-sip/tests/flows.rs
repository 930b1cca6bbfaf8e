//! A call that comes in over a connection (TCP, TLS): its answers and the
//! dialog's own requests go back over that connection (RFC 3261 §18.2.2; RFC 5626
//! flows), whatever the Via's sent-by port or the route set names, and nothing is
//! retransmitted over it. The same INVITE over UDP routes by the book instead.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use voxhire_sip::ua::{Event, Transmit, UaConfig, UserAgent};

/// The connection's far end: an ephemeral port, not the Via's 5060.
const CONN: &str = "127.0.0.1:40001";
/// The proxy's listening address, as its Record-Route names it.
const PROXY: &str = "127.0.0.1:5062";

fn invite(transport: &str) -> Vec<u8> {
    format!(
        "INVITE sip:voxhire@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:5060;branch=z9hG4bK-flow-1\r\n\
         Record-Route: <sip:{PROXY};lr;transport={}>\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:candidate@example.com>;tag=c1\r\n\
         To: <sip:voxhire@example.com>\r\n\
         Call-ID: flow-1@example.com\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:candidate@127.0.0.1:5090;transport={}>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        transport.to_lowercase(),
        transport.to_lowercase(),
    )
    .into_bytes()
}

fn drain(ua: &mut UserAgent) -> Vec<Transmit> {
    std::iter::from_fn(|| ua.poll_transmit()).collect()
}

fn text(t: &Transmit) -> String {
    String::from_utf8_lossy(&t.payload).into_owned()
}

/// Answers an INVITE that came from `CONN` over `transport`, ACKs it, hangs up
/// and returns everything the agent sent, with the instant it was at.
fn answer_then_hang_up(transport: &str) -> Vec<Transmit> {
    let conn: SocketAddr = CONN.parse().unwrap();
    let mut ua = UserAgent::new(UaConfig::new("127.0.0.1:5070".parse().unwrap()), 7);
    let mut now = Instant::now();
    ua.handle_datagram(now, conn, &invite(transport));
    let call = std::iter::from_fn(|| ua.poll_event())
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(call),
            _ => None,
        })
        .expect("an incoming call");
    ua.answer(now, call, b"v=0\r\n".to_vec());
    let mut sent = drain(&mut ua);
    let ok = text(sent.last().unwrap());
    let to_tag = ok
        .lines()
        .find(|l| l.starts_with("To:"))
        .and_then(|l| l.split("tag=").nth(1))
        .unwrap()
        .trim()
        .to_string();
    let ack = format!(
        "ACK sip:voxhire@127.0.0.1:5070 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:5060;branch=z9hG4bK-flow-2\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:candidate@example.com>;tag=c1\r\n\
         To: <sip:voxhire@example.com>;tag={to_tag}\r\n\
         Call-ID: flow-1@example.com\r\n\
         CSeq: 1 ACK\r\n\
         Content-Length: 0\r\n\r\n"
    );
    ua.handle_datagram(now, conn, ack.as_bytes());
    ua.hangup(now, call);
    sent.extend(drain(&mut ua));
    // Long enough for Timer E to have fired twice over UDP.
    for _ in 0..3 {
        now += Duration::from_millis(600);
        ua.handle_timeout(now);
        sent.extend(drain(&mut ua));
    }
    sent
}

#[test]
fn a_call_that_came_over_tcp_is_answered_and_ended_over_its_connection() {
    let sent = answer_then_hang_up("TCP");
    let conn: SocketAddr = CONN.parse().unwrap();
    let first_lines: Vec<String> = sent
        .iter()
        .map(|t| format!("{} {}", t.dst, text(t).lines().next().unwrap()))
        .collect();
    assert!(
        sent.iter().all(|t| t.dst == conn),
        "everything back over the connection: {first_lines:?}"
    );
    let ok = sent
        .iter()
        .map(text)
        .find(|m| m.starts_with("SIP/2.0 200"))
        .expect("200 OK");
    assert!(
        ok.contains("Contact: <sip:voxhire@127.0.0.1:5070;transport=tcp>"),
        "{ok}"
    );
    assert!(
        sent.iter()
            .all(|t| t.over_connection == text(t).starts_with("BYE ")),
        "the BYE, our one request, must go over a connection: {first_lines:?}"
    );
    let byes: Vec<String> = sent
        .iter()
        .map(text)
        .filter(|m| m.starts_with("BYE "))
        .collect();
    assert_eq!(
        byes.len(),
        1,
        "a connection is not retransmitted over: {first_lines:?}"
    );
    let bye = &byes[0];
    assert!(bye.contains("Via: SIP/2.0/TCP 127.0.0.1:5070;"), "{bye}");
    assert!(bye.contains(";alias"), "{bye}");
    assert!(
        bye.contains(&format!("Route: <sip:{PROXY};lr;transport=tcp>")),
        "{bye}"
    );
}

#[test]
fn the_same_call_over_udp_routes_by_via_and_record_route() {
    let sent = answer_then_hang_up("UDP");
    let via_port: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let proxy: SocketAddr = PROXY.parse().unwrap();
    let ok = sent
        .iter()
        .find(|t| text(t).starts_with("SIP/2.0 200"))
        .expect("200 OK");
    assert_eq!(ok.dst, via_port, "no rport: the sent-by port");
    assert!(!text(ok).contains("transport=tcp"));
    let byes: Vec<&Transmit> = sent
        .iter()
        .filter(|t| text(t).starts_with("BYE "))
        .collect();
    assert!(byes.len() > 1, "Timer E retransmits over UDP");
    assert!(byes.iter().all(|t| t.dst == proxy), "to the first route");
    assert!(byes.iter().all(|t| !t.over_connection), "as datagrams");
    assert!(text(byes[0]).contains("Via: SIP/2.0/UDP"));
}
