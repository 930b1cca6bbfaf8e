//! The Sans-IO user agent fed a conversation: several datagrams and application
//! actions against one `UserAgent`, on a virtual clock.
//!
//! Input format (see fuzz/README.md): chunks separated by `SEP`. A chunk is either
//! - a directive, a line starting with `!`: `!answer`, `!ring`, `!reject`,
//!   `!hangup`, `!cancel` (act on the newest call), `!invite`, `!register`,
//!   `!unregister`, `!timer` (jump to `poll_timeout()` and fire it), `!wait <ms>`;
//! - or a datagram from 127.0.0.1:5070, after replacing the placeholders `$branch`,
//!   `$callid`, `$ftag`, `$cseq` (from the last request the UA sent) and `$ttag`
//!   (the To tag of the last response the UA sent). The UA's tags, branches and
//!   Call-IDs are random, so without these the fuzzer could never answer the UA's
//!   own requests or hit an established dialog.
//!
//! Properties: no panic, no hang; each call gets at most one terminal event
//! (`Failed`, `Cancelled` or `Ended`); `poll_timeout()` is later than `now` right after
//! `handle_timeout(now)` (a deadline that stays due would spin the driver's loop);
//! every datagram the UA sends parses as SIP (error responses excepted, see `drain`).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use voxhire_sip::auth::Credentials;
use voxhire_sip::message::{NameAddr, Uri};
use voxhire_sip::sdp::{self, Codec, SessionDescription};
use voxhire_sip::ua::{CallHandle, Event, InviteParams, RegisterParams, UaConfig, UserAgent};
use voxhire_sip::{SipMessage, StatusCode};

/// Separates chunks; chosen to be unlikely inside a SIP message.
const SEP: &[u8] = b"\n~~~~\n";
/// Bounds the work per input so libFuzzer's timeout only fires on real hangs.
const MAX_CHUNKS: usize = 64;
const MAX_TIMER_STEPS: usize = 256;

const OUR_SDP: &[u8] = b"v=0\r\no=voxhire 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";

/// `SIP_UA_TRACE=1` prints the conversation (to check what a seed reaches).
fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("SIP_UA_TRACE").is_some())
}

struct Harness {
    ua: UserAgent,
    now: Instant,
    peer: SocketAddr,
    calls: Vec<CallHandle>,
    offers: Vec<(CallHandle, Option<Vec<u8>>)>,
    /// Calls that had their one terminal event (Failed, Cancelled or Ended).
    finished: HashSet<CallHandle>,
    /// Values for the placeholders, from what the UA last sent.
    branch: String,
    call_id: String,
    from_tag: String,
    cseq: String,
    to_tag: String,
}

impl Harness {
    fn new() -> Self {
        let mut config = UaConfig::new("127.0.0.1:5060".parse().unwrap());
        // Credentials make 401/407 answers exercise the digest retry paths.
        config.credentials = Some(Credentials {
            username: "fuzz".into(),
            password: "secret".into(),
        });
        Harness {
            ua: UserAgent::new(config, 1),
            now: Instant::now(),
            peer: "127.0.0.1:5070".parse().unwrap(),
            calls: Vec::new(),
            offers: Vec::new(),
            finished: HashSet::new(),
            branch: String::new(),
            call_id: String::new(),
            from_tag: String::new(),
            cseq: String::new(),
            to_tag: String::new(),
        }
    }

    fn newest_call(&self) -> Option<CallHandle> {
        self.calls.last().copied()
    }

    fn directive(&mut self, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        if trace() {
            eprintln!("--- {line}");
        }
        let mut words = line.split_whitespace();
        let now = self.now;
        match words.next().unwrap_or_default() {
            "!answer" => {
                if let Some(call) = self.newest_call() {
                    let sdp = self
                        .offers
                        .iter()
                        .rev()
                        .find(|(c, _)| *c == call)
                        .and_then(|(_, o)| o.as_deref())
                        .and_then(|o| SessionDescription::parse(o).ok())
                        .and_then(|o| {
                            sdp::answer(
                                &o,
                                2,
                                "127.0.0.1:4000".parse().unwrap(),
                                &[Codec::Pcmu, Codec::Pcma, Codec::Opus],
                            )
                            .ok()
                        })
                        .map(|(a, _)| a.to_bytes())
                        .unwrap_or_else(|| OUR_SDP.to_vec());
                    self.ua.answer(now, call, sdp);
                }
            }
            "!ring" => {
                if let Some(call) = self.newest_call() {
                    self.ua.ring(now, call);
                }
            }
            "!reject" => {
                if let Some(call) = self.newest_call() {
                    self.ua.reject(
                        now,
                        call,
                        StatusCode::SERVICE_UNAVAILABLE,
                        &[("Retry-After", "60")],
                    );
                }
            }
            "!hangup" => {
                if let Some(call) = self.newest_call() {
                    self.ua.hangup(now, call);
                }
            }
            "!cancel" => {
                if let Some(call) = self.newest_call() {
                    self.ua.cancel(now, call);
                }
            }
            "!invite" => {
                let call = self.ua.invite(
                    now,
                    InviteParams {
                        target: Uri::parse("sip:candidate@127.0.0.1:5070").unwrap(),
                        dst: self.peer,
                        alternates: Vec::new(),
                        from: NameAddr::parse("\"voxhire\" <sip:agent@127.0.0.1>").unwrap(),
                        sdp: OUR_SDP.to_vec(),
                    },
                );
                self.calls.push(call);
            }
            "!register" => self.ua.register(
                now,
                RegisterParams {
                    registrar: Uri::parse("sip:127.0.0.1:5070").unwrap(),
                    dst: self.peer,
                    aor: Uri::parse("sip:agent@127.0.0.1").unwrap(),
                    expires: 3600,
                    keepalive: Some(std::time::Duration::from_secs(30)),
                },
            ),
            "!unregister" => self.ua.unregister(now),
            "!timer" => {
                if let Some(t) = self.ua.poll_timeout() {
                    self.fire(t);
                }
            }
            "!wait" => {
                let ms: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(1000);
                self.now += Duration::from_millis(ms.min(3_600_000));
            }
            _ => {}
        }
    }

    fn datagram(&mut self, bytes: &[u8]) {
        let bytes = self.substitute(bytes);
        if trace() {
            eprintln!("<<< {:?}", String::from_utf8_lossy(&bytes).lines().next());
        }
        self.ua.handle_datagram(self.now, self.peer, &bytes);
    }

    fn substitute(&self, bytes: &[u8]) -> Vec<u8> {
        if !bytes.contains(&b'$') {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len() + 64);
        let mut rest = bytes;
        'outer: while let Some((&b, tail)) = rest.split_first() {
            if b == b'$' {
                for (name, value) in [
                    (&b"$branch"[..], &self.branch),
                    (b"$callid", &self.call_id),
                    (b"$ftag", &self.from_tag),
                    (b"$cseq", &self.cseq),
                    (b"$ttag", &self.to_tag),
                ] {
                    if let Some(after) = rest.strip_prefix(name) {
                        out.extend_from_slice(value.as_bytes());
                        rest = after;
                        continue 'outer;
                    }
                }
            }
            out.push(b);
            rest = tail;
        }
        out
    }

    /// Moves time to `t` (never backwards) and fires due timers.
    fn fire(&mut self, t: Instant) {
        self.now = self.now.max(t);
        self.ua.handle_timeout(self.now);
        if let Some(next) = self.ua.poll_timeout() {
            assert!(
                next > self.now,
                "poll_timeout() is still due right after handle_timeout(now): \
                 a driver would spin ({:?} after now)",
                self.now.saturating_duration_since(next)
            );
        }
    }

    fn drain(&mut self) {
        while let Some(t) = self.ua.poll_transmit() {
            if trace() {
                eprintln!(
                    ">>> {:?}",
                    String::from_utf8_lossy(&t.payload).lines().next()
                );
            }
            let msg = match SipMessage::parse(&t.payload) {
                Ok(m) => m,
                // A stateless 4xx/5xx to a malformed request copies its Via, From, To,
                // Call-ID and CSeq as received (RFC 3261 §8.2.6.2), so it is as broken
                // as they were. Anything else the UA sends must be well-formed.
                Err(_) if is_error_response(&t.payload) => continue,
                // A STUN keep-alive to the registrar (RFC 5626 §4.4.1): its magic
                // cookie at byte 4.
                Err(_) if t.payload.get(4..8) == Some(&[0x21, 0x12, 0xA4, 0x42]) => continue,
                Err(e) => panic!(
                    "the UA sent a datagram that does not parse: {e}\n{:?}",
                    String::from_utf8_lossy(&t.payload)
                ),
            };
            match msg {
                SipMessage::Request(r) => {
                    if let Some(b) = r.top_via().and_then(|v| v.branch().map(str::to_string)) {
                        self.branch = b;
                    }
                    self.call_id = r.call_id().to_string();
                    if let Some(tag) = r.from().and_then(|f| f.tag().map(str::to_string)) {
                        self.from_tag = tag;
                    }
                    if let Some(c) = r.cseq() {
                        self.cseq = c.seq.to_string();
                    }
                }
                SipMessage::Response(r) => {
                    if let Some(tag) = r.to().and_then(|f| f.tag().map(str::to_string)) {
                        self.to_tag = tag;
                    }
                }
            }
        }
        while let Some(ev) = self.ua.poll_event() {
            if trace() {
                eprintln!("*** {ev:?}");
            }
            match ev {
                Event::IncomingCall { call, offer, .. } => {
                    self.calls.push(call);
                    self.offers.push((call, offer));
                }
                Event::Failed { call, .. }
                | Event::Cancelled { call }
                | Event::Ended { call, .. } => {
                    // The application frees a call's media, recording and transcript on
                    // its terminal event; a second one is a double end.
                    let first = self.finished.insert(call);
                    assert!(first, "second terminal event {ev:?} for {call:?}");
                }
                _ => {}
            }
        }
    }
}

/// Checks the properties above on one input; panics on a violation.
pub fn check(data: &[u8]) {
    let mut h = Harness::new();
    let mut rest = data;
    for _ in 0..MAX_CHUNKS {
        let (chunk, more) = match find(rest, SEP) {
            Some(i) => (&rest[..i], Some(&rest[i + SEP.len()..])),
            None => (rest, None),
        };
        if chunk.first() == Some(&b'!') {
            let line = chunk.split(|&b| b == b'\n').next().unwrap_or_default();
            h.directive(line);
        } else {
            h.datagram(chunk);
        }
        h.drain();
        // Time passes between datagrams, and timers that fall due in it fire.
        let step = h.now + Duration::from_millis(10);
        while let Some(t) = h.ua.poll_timeout().filter(|&t| t <= step) {
            h.fire(t);
            h.drain();
        }
        h.now = h.now.max(step);
        match more {
            Some(m) => rest = m,
            None => break,
        }
    }
    // Run every remaining timer out: retransmissions, Timer B/F/H/J/K, 2xx give-up,
    // purges, registration refresh. Registration refreshes forever, so bound it.
    for _ in 0..MAX_TIMER_STEPS {
        let Some(t) = h.ua.poll_timeout() else { break };
        h.fire(t);
        h.drain();
    }
    // And a few fixed instants far in the future.
    for later in [1u64, 32, 64, 300, 86_400] {
        h.fire(h.now + Duration::from_secs(later));
        h.drain();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn is_error_response(payload: &[u8]) -> bool {
    payload.starts_with(b"SIP/2.0 4") || payload.starts_with(b"SIP/2.0 5")
}
