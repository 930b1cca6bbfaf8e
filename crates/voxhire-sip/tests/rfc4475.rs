//! Every RFC 4475 torture message through the Sans-IO UA core: parse → transaction
//! → UA decision, asserting the response a UA should give (or that it is dropped).
//!
//! The vectors are vendored in `tests/data/rfc4475` at the repository root
//! (byte-exact, pinned by `SHA256SUMS`); `VOXHIRE_RFC4475_DIR` overrides the location.
//! A missing directory fails the test: silently skipping would hide a broken setup.

use std::path::PathBuf;
use std::time::Instant;

use voxhire_sip::ua::{Event, UaConfig, UserAgent};
use voxhire_sip::StatusCode;

/// What the UA must do with a message.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// A final response with one of these codes.
    Status(&'static [u16]),
    /// A new incoming call (100 Trying sent, IncomingCall event raised).
    IncomingCall,
    /// Nothing sent, nothing raised.
    Dropped,
}
use Expect::*;

/// The verdicts of RFC 4475 §3, as a UA (not a proxy or registrar) applies them.
const CASES: &[(&str, Expect)] = &[
    // 3.1.1 valid messages
    ("valid/wsinv.dat", Status(&[481])), // well-formed; its To tag names a dialog we don't have
    ("valid/intmeth.dat", Status(&[501])),
    ("valid/esc01.dat", IncomingCall),
    ("valid/escnull.dat", Status(&[405])),
    ("valid/esc02.dat", Status(&[501])),
    ("valid/lwsdisp.dat", Status(&[200])),
    ("valid/longreq.dat", IncomingCall),
    ("valid/dblreq.dat", Status(&[405])),
    ("valid/semiuri.dat", Status(&[200])),
    ("valid/transports.dat", Status(&[200])),
    ("valid/mpart01.dat", Status(&[405])),
    ("valid/unreason.dat", Dropped), // a response matching no transaction
    ("valid/noreason.dat", Dropped),
    // 3.1.2 invalid messages
    ("invalid/badinv01.dat", Status(&[400])),
    ("invalid/clerr.dat", Status(&[400])),
    ("invalid/ncl.dat", Status(&[400])),
    ("invalid/scalar02.dat", Status(&[400])),
    ("invalid/scalarlg.dat", Dropped),
    ("invalid/quotbal.dat", Status(&[400])),
    ("invalid/ltgtruri.dat", Status(&[400])),
    ("invalid/lwsruri.dat", Status(&[400])),
    ("invalid/lwsstart.dat", Status(&[400])),
    ("invalid/trws.dat", Status(&[400])),
    ("invalid/escruri.dat", Status(&[400])),
    ("invalid/baddate.dat", IncomingCall), // tolerated: the Date header doesn't matter to us
    ("invalid/regbadct.dat", Status(&[400])),
    ("invalid/badaspec.dat", Status(&[400])),
    ("invalid/baddn.dat", Status(&[400])),
    ("invalid/badvers.dat", Status(&[505])),
    ("invalid/mismatch01.dat", Status(&[400])),
    ("invalid/mismatch02.dat", Status(&[400, 501])),
    ("invalid/bigcode.dat", Dropped),
    // 3.2 transaction layer: tolerated by RFC 2543-style matching
    ("invalid/badbranch.dat", Status(&[200])),
    // 3.3 application layer
    ("invalid/insuf.dat", Status(&[400])),
    ("valid/unkscm.dat", Status(&[416])),
    ("valid/novelsc.dat", Status(&[416])),
    ("valid/unksm2.dat", Status(&[405])),
    ("valid/bext01.dat", Status(&[420])),
    ("valid/invut.dat", Status(&[415])),
    ("valid/regaut01.dat", Status(&[405])),
    ("invalid/multi01.dat", Status(&[400])),
    ("invalid/mcl01.dat", Status(&[400])),
    ("valid/bcast.dat", Dropped),
    ("valid/zeromf.dat", Status(&[200])),
    ("valid/cparam01.dat", Status(&[405])),
    ("valid/cparam02.dat", Status(&[405])),
    ("valid/regescrt.dat", Status(&[405])),
    ("valid/sdp01.dat", Status(&[406])),
    // 3.4 backward compatibility
    ("valid/inv2543.dat", IncomingCall),
];

fn vectors_dir() -> PathBuf {
    std::env::var_os("VOXHIRE_RFC4475_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/rfc4475")
        })
}

struct Outcome {
    statuses: Vec<u16>,
    incoming_call: bool,
    response_headers: Vec<String>,
}

fn run(bytes: &[u8]) -> Outcome {
    let mut ua = UserAgent::new(UaConfig::new("127.0.0.1:5060".parse().unwrap()), 4475);
    ua.handle_datagram(Instant::now(), "127.0.0.1:5099".parse().unwrap(), bytes);
    let mut statuses = Vec::new();
    let mut response_headers = Vec::new();
    while let Some(t) = ua.poll_transmit() {
        assert_eq!(
            t.dst.ip().to_string(),
            "127.0.0.1",
            "responses go to the source address only"
        );
        // Read our responses without re-validating them: a 400 echoes the peer's broken Via.
        let text = String::from_utf8_lossy(&t.payload);
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let code = status_line
            .strip_prefix("SIP/2.0 ")
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("a UA must only send responses here, sent {status_line:?}"));
        statuses.push(code);
        response_headers.extend(lines.take_while(|l| !l.is_empty()).map(str::to_string));
    }
    let incoming_call =
        std::iter::from_fn(|| ua.poll_event()).any(|e| matches!(e, Event::IncomingCall { .. }));
    Outcome {
        statuses,
        incoming_call,
        response_headers,
    }
}

#[test]
fn all_49_torture_messages() {
    let dir = vectors_dir();
    assert!(
        dir.is_dir(),
        "RFC 4475 vectors not found at {} (they are vendored in tests/data/rfc4475; VOXHIRE_RFC4475_DIR overrides)",
        dir.display()
    );
    let mut seen = 0;
    let mut failures = Vec::new();
    for (file, expect) in CASES {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let out = run(&bytes);
        let ok = match expect {
            Status(codes) => {
                out.statuses.last().is_some_and(|s| codes.contains(s)) && !out.incoming_call
            }
            IncomingCall => out.statuses == [100] && out.incoming_call,
            Dropped => out.statuses.is_empty() && !out.incoming_call,
        };
        if !ok {
            failures.push(format!(
                "{file}: expected {expect:?}, got {:?} call={}",
                out.statuses, out.incoming_call
            ));
        }
        seen += 1;
    }
    assert_eq!(seen, 49);
    let on_disk = ["valid", "invalid"]
        .iter()
        .map(|d| {
            std::fs::read_dir(dir.join(d))
                .map(|r| r.count())
                .unwrap_or(0)
        })
        .sum::<usize>();
    assert_eq!(on_disk, 49, "every vector on disk is covered by the table");
    assert!(
        failures.is_empty(),
        "RFC 4475 mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn error_responses_carry_what_the_rfc_asks_for() {
    let dir = vectors_dir();
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let bext = run(&read("valid/bext01.dat"));
    assert!(bext
        .response_headers
        .iter()
        .any(|h| h == "Unsupported: nothingSupportsThis, nothingSupportsThisEither"));
    let intmeth = run(&read("valid/intmeth.dat"));
    assert!(intmeth
        .response_headers
        .iter()
        .any(|h| h.starts_with("Allow: INVITE")));
    let invut = run(&read("valid/invut.dat"));
    assert!(invut
        .response_headers
        .iter()
        .any(|h| h == "Accept: application/sdp"));
    // §18.2.1: the source address differs from sent-by, so the response says where it came from.
    assert!(bext
        .response_headers
        .iter()
        .any(|h| h.starts_with("Via:") && h.contains("received=127.0.0.1")));
}

#[test]
fn own_vectors() {
    // Messages captured from SIPp and shaped like common PBX traffic, committed here.
    let cases: &[(&[u8], Expect)] = &[
        (include_bytes!("data/sipp-uac-invite.sip"), IncomingCall),
        (include_bytes!("data/options-keepalive.sip"), Status(&[200])),
        (
            include_bytes!("data/bye-unknown-dialog.sip"),
            Status(&[481]),
        ),
        (include_bytes!("data/invite-bare-lf.sip"), IncomingCall),
        (
            include_bytes!("data/invite-require-100rel.sip"),
            Status(&[420]),
        ),
        (include_bytes!("data/response-two-vias.sip"), Dropped),
    ];
    for (bytes, expect) in cases {
        let out = run(bytes);
        match expect {
            Status(codes) => assert!(
                out.statuses.last().is_some_and(|s| codes.contains(s)),
                "{:?}",
                out.statuses
            ),
            IncomingCall => assert!(
                out.incoming_call && out.statuses == [100],
                "{:?}",
                out.statuses
            ),
            Dropped => assert!(out.statuses.is_empty()),
        }
    }
    assert_eq!(StatusCode::new(700), None);
}
