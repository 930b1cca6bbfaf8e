//! `SipMessage::parse` on arbitrary datagrams, and print → parse round trips.
//!
//! Properties:
//! 1. `parse` never panics (and, by libFuzzer's timeout, never hangs).
//! 2. A message that parsed prints to bytes that parse again, to the same message
//!    up to `Content-Length` (see `same_message`).
//! 3. Printing is a fixpoint after one round: `print(parse(print(m))) == print(m)`.
//! 4. The typed headers a UA relies on (Via, From/To/Contact, CSeq) print to text
//!    that parses back to the same value: the UA re-prints a stamped top Via
//!    (RFC 3261 §18.2.1) and its own NameAddrs from these `Display` impls.
//! 5. A digest challenge that parses yields an `Authorization` value that quotes
//!    realm and nonce so they read back unchanged (RFC 2617 §3.2.2 quoted-string).

use voxhire_sip::auth::{Challenge, Credentials};
use voxhire_sip::message::{CSeq, NameAddr, Via};
use voxhire_sip::SipMessage;

/// `SipMessage::parse` drops datagrams larger than this (RFC 3261 §18.1.1 over UDP).
const MAX_MESSAGE: usize = 65_535;

/// Checks the properties above on one input; panics on a violation.
pub fn check(data: &[u8]) {
    let Ok(msg) = SipMessage::parse(data) else {
        return;
    };
    let printed = msg.to_bytes();
    // Printing normalises: bare LF becomes CRLF, folded lines are joined, compact
    // names (`v:`) are expanded and Content-Length is always written. A message that
    // parsed close to the size limit can legitimately print past it and be refused.
    if printed.len() > MAX_MESSAGE {
        return;
    }
    let reparsed = match SipMessage::parse(&printed) {
        Ok(m) => m,
        Err(e) => panic!(
            "printed message does not parse again: {e}\nprinted: {:?}",
            String::from_utf8_lossy(&printed)
        ),
    };
    assert!(
        same_message(&msg, &reparsed),
        "round trip changed the message\n first: {msg:?}\n again: {reparsed:?}"
    );
    assert_eq!(
        reparsed.to_bytes(),
        printed,
        "printing is not a fixpoint after one round"
    );
    typed_headers_round_trip(&msg);
}

/// Equal except for Content-Length lines. The round trip cannot keep those: printing
/// writes exactly one `Content-Length: <body length>` at the end of the head (RFC 3261
/// §18.3 needs it over stream transports and it costs nothing over UDP), while the
/// parsed message may have had none (body = rest of the datagram), leading zeros
/// (`0004`) or a different position. The body framed by it is compared exactly.
fn same_message(a: &SipMessage, b: &SipMessage) -> bool {
    let strip = |m: &SipMessage| {
        let mut m = m.clone();
        match &mut m {
            SipMessage::Request(r) => r.headers.remove("Content-Length"),
            SipMessage::Response(r) => r.headers.remove("Content-Length"),
        }
        m
    };
    strip(a) == strip(b)
}

fn typed_headers_round_trip(msg: &SipMessage) {
    let headers = match msg {
        SipMessage::Request(r) => &r.headers,
        SipMessage::Response(r) => &r.headers,
    };
    for v in headers.list("Via") {
        // validate_common checked every Via of a parsed message.
        let via = Via::parse(v).expect("a parsed message's Via parses");
        let text = via.to_string();
        assert_eq!(
            Via::parse(&text).as_ref(),
            Some(&via),
            "Via {v:?} printed as {text:?}"
        );
    }
    for name in ["From", "To"] {
        let v = headers.get(name).expect("From and To are validated");
        let na = NameAddr::parse(v).expect("From and To are validated");
        let text = na.to_string();
        assert_eq!(
            NameAddr::parse(&text).as_ref(),
            Some(&na),
            "{name} {v:?} printed as {text:?}"
        );
    }
    for v in headers.list("Contact") {
        if let Some(na) = NameAddr::parse(v) {
            let text = na.to_string();
            assert_eq!(
                NameAddr::parse(&text).as_ref(),
                Some(&na),
                "Contact {v:?} printed as {text:?}"
            );
        }
    }
    let cseq_raw = headers.get("CSeq").expect("CSeq is validated");
    let cseq = CSeq::parse(cseq_raw).expect("CSeq is validated");
    assert_eq!(CSeq::parse(&cseq.to_string()).as_ref(), Some(&cseq));

    for name in ["WWW-Authenticate", "Proxy-Authenticate"] {
        for v in headers.all(name) {
            if let Ok(ch) = Challenge::parse(v) {
                digest_answer_round_trip(&ch);
            }
        }
    }
}

fn digest_answer_round_trip(ch: &Challenge) {
    let creds = Credentials {
        username: "fuzz".into(),
        password: "secret".into(),
    };
    let auth = ch.authorization(&creds, "INVITE", "sip:bob@127.0.0.1", 1, "0a4f113b");
    // An Authorization value has the same auth-param syntax as a challenge, so the
    // challenge parser reads realm and nonce back out of it.
    let back = Challenge::parse(&auth)
        .unwrap_or_else(|e| panic!("Authorization {auth:?} does not read back: {e}"));
    assert_eq!(
        (&back.realm, &back.nonce),
        (&ch.realm, &ch.nonce),
        "Authorization {auth:?} quotes realm/nonce wrongly"
    );
}
