//! Registration (RFC 3261 §10.2): REGISTER with digest auth, refreshed before expiry,
//! so a trunk can route inbound calls to this UA.
//!
//! Behind a NAT the binding a registration over UDP rides on is forgotten after
//! tens of seconds of quiet, and the trunk's calls stop arriving long before the
//! registration expires. So, as RFC 5626 §4.4.1 has it, a registered UA sends the
//! registrar a STUN Binding request every 80–100 % of `keepalive`: the traffic
//! keeps the NAT binding open, and the answer's XOR-MAPPED-ADDRESS says where the
//! registrar sees us. No answer within [`STUN_TIMEOUT`], or a mapped address that
//! changed, means the flow failed: the UA registers again at once. (Over TCP or
//! TLS the connection's own CRLF keep-alives do this job.)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngCore as _;
use rtc_stun::message::Getter as _;

use super::{Event, Purpose, UserAgent};
use crate::auth::Challenge;
use crate::message::{Headers, NameAddr, Request, Response, Uri};
use crate::{Method, StatusCode};

/// How long a STUN keep-alive may go unanswered before the flow counts as
/// failed (RFC 5626 §4.4.1: 7 s).
pub const STUN_TIMEOUT: Duration = Duration::from_secs(7);

#[derive(Debug, Clone)]
pub struct RegisterParams {
    /// Request-URI: the registrar's domain (`sip:trunk.example.com`).
    pub registrar: Uri,
    pub dst: SocketAddr,
    /// The address-of-record to bind (To and From).
    pub aor: Uri,
    pub expires: u32,
    /// Over UDP, a STUN keep-alive to the registrar about this often while
    /// registered; `None`: none.
    pub keepalive: Option<Duration>,
}

/// STUN keep-alives waiting for an answer: any of them answered keeps the flow.
#[derive(Debug)]
struct Ping {
    /// The newest few (a keep-alive shorter than [`STUN_TIMEOUT`] sends more
    /// than one before giving up).
    transactions: Vec<[u8; 12]>,
    /// [`STUN_TIMEOUT`] after the oldest unanswered one.
    give_up_at: Instant,
}

#[derive(Debug)]
pub(super) struct Registration {
    params: RegisterParams,
    call_id: String,
    from_tag: String,
    cseq: u32,
    challenge: Option<(Challenge, bool, u32)>,
    /// A challenge was answered and not yet accepted: a second one means bad credentials.
    awaiting_auth: bool,
    pub(super) refresh_at: Option<Instant>,
    /// When the next STUN keep-alive goes (registered over UDP with a keep-alive).
    keepalive_at: Option<Instant>,
    ping: Option<Ping>,
    /// Where the registrar last saw us (the STUN answer's XOR-MAPPED-ADDRESS).
    mapped: Option<SocketAddr>,
}

impl Registration {
    /// The earliest instant the registration has work to do.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        [
            self.refresh_at,
            self.keepalive_at,
            self.ping.as_ref().map(|p| p.give_up_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

impl UserAgent {
    /// Registers (and keeps refreshing) a binding of `aor` to our Contact.
    pub fn register(&mut self, now: Instant, params: RegisterParams) {
        let call_id = format!("{}@{}", self.random_hex(24), self.config.local_addr.ip());
        let from_tag = self.new_tag();
        self.registration = Some(Registration {
            params,
            call_id,
            from_tag,
            cseq: 0,
            challenge: None,
            awaiting_auth: false,
            refresh_at: None,
            keepalive_at: None,
            ping: None,
            mapped: None,
        });
        self.send_register(now);
    }

    /// Removes the binding (Expires: 0); no refresh afterwards.
    pub fn unregister(&mut self, now: Instant) {
        if let Some(r) = self.registration.as_mut() {
            r.params.expires = 0;
            self.send_register(now);
        }
    }

    fn send_register(&mut self, now: Instant) {
        let via = self.new_via();
        let contact = self.contact();
        let cnonce = self.random_hex(16);
        let creds = self.config.credentials.clone();
        let user_agent = self.config.user_agent.clone();
        let Some(reg) = self.registration.as_mut() else {
            return;
        };
        reg.cseq += 1;
        reg.refresh_at = None;
        reg.keepalive_at = None;
        reg.ping = None;
        let mut from = NameAddr::new(reg.params.aor.clone());
        from.params.set("tag", Some(&reg.from_tag));
        let mut headers = Headers::new();
        headers.push("Via", via.to_string());
        headers.push("Max-Forwards", "70");
        headers.push("From", from.to_string());
        headers.push("To", NameAddr::new(reg.params.aor.clone()).to_string());
        headers.push("Call-ID", reg.call_id.clone());
        headers.push("CSeq", format!("{} REGISTER", reg.cseq));
        headers.push("Contact", contact);
        headers.push("Expires", reg.params.expires.to_string());
        headers.push("User-Agent", user_agent);
        let uri = reg.params.registrar.to_string();
        if let (Some((challenge, proxy, nc)), Some(creds)) = (reg.challenge.as_mut(), creds) {
            // Reuse the nonce with an increasing nonce count (RFC 2617 §3.2.2).
            *nc += 1;
            let name = if *proxy {
                "Proxy-Authorization"
            } else {
                "Authorization"
            };
            headers.push(
                name,
                challenge.authorization(&creds, "REGISTER", &uri, *nc, &cnonce),
            );
        }
        let request = Request {
            method: Method::Register,
            uri: reg.params.registrar.clone(),
            headers,
            body: Vec::new(),
        };
        let dst = reg.params.dst;
        self.start_client(now, request, dst, None, Purpose::Register);
    }

    pub(super) fn on_register_response(&mut self, now: Instant, response: Response) {
        let status = response.status;
        if status.is_provisional() {
            return;
        }
        let has_creds = self.config.credentials.is_some();
        let Some(reg) = self.registration.as_mut() else {
            return;
        };
        if status.is_success() {
            reg.awaiting_auth = false;
            let expires = granted_expires(&response, reg.params.expires);
            if expires == 0 || reg.params.expires == 0 {
                self.registration = None;
                self.events.push_back(Event::Unregistered);
                return;
            }
            // Refresh well before expiry: halfway for short bindings, else 10 % early.
            let lead = (expires / 10).max(expires.min(10) / 2).max(1);
            reg.refresh_at =
                Some(now + Duration::from_secs(u64::from(expires - lead.min(expires - 1))));
            if let (Some(every), false) =
                (reg.params.keepalive, self.config.transport.is_reliable())
            {
                reg.keepalive_at = Some(now + keepalive_interval(every, self.rng.next_u64()));
            }
            self.events.push_back(Event::Registered { expires });
            return;
        }
        if matches!(status.code(), 401 | 407) && has_creds && !reg.awaiting_auth {
            let proxy = status.code() == 407;
            let header = if proxy {
                "Proxy-Authenticate"
            } else {
                "WWW-Authenticate"
            };
            if let Some(ch) = response
                .headers
                .all(header)
                .find_map(|h| Challenge::parse(h).ok())
            {
                reg.challenge = Some((ch, proxy, 0));
                reg.awaiting_auth = true;
                self.send_register(now);
                return;
            }
        }
        self.events.push_back(Event::RegistrationFailed {
            status,
            reason: response.reason,
        });
        self.registration = None;
    }

    pub(super) fn on_register_timeout(&mut self, _now: Instant) {
        self.events.push_back(Event::RegistrationFailed {
            status: StatusCode::REQUEST_TIMEOUT,
            reason: "registrar did not answer (Timer F)".into(),
        });
        self.registration = None;
    }

    pub(super) fn handle_registration_timer(&mut self, now: Instant) {
        let Some(reg) = self.registration.as_ref() else {
            return;
        };
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(reg.ping.as_ref().map(|p| p.give_up_at)) {
            tracing::warn!(registrar = %reg.params.dst,
                "the registrar did not answer the STUN keep-alive; registering again");
            self.send_register(now);
            return;
        }
        if due(reg.refresh_at) {
            self.send_register(now);
            return;
        }
        if due(reg.keepalive_at) {
            self.send_keepalive(now);
        }
    }

    fn send_keepalive(&mut self, now: Instant) {
        let mut transaction = [0u8; 12];
        self.rng.fill_bytes(&mut transaction);
        let spread = self.rng.next_u64();
        let Some(reg) = self.registration.as_mut() else {
            return;
        };
        let mut request = rtc_stun::message::Message::new();
        request.typ = rtc_stun::message::BINDING_REQUEST;
        request.transaction_id = rtc_stun::message::TransactionId(transaction);
        request.encode();
        let ping = reg.ping.get_or_insert(Ping {
            transactions: Vec::new(),
            give_up_at: now + STUN_TIMEOUT,
        });
        if ping.transactions.len() == 8 {
            ping.transactions.remove(0);
        }
        ping.transactions.push(transaction);
        reg.keepalive_at = reg
            .params
            .keepalive
            .map(|every| now + keepalive_interval(every, spread));
        let dst = reg.params.dst;
        // STUN keep-alives are for UDP registrations only.
        self.transmit(dst, request.raw, false);
    }

    /// A STUN message on the SIP socket: the answer to our keep-alive, or
    /// nothing we asked for (dropped).
    pub(super) fn handle_stun(&mut self, now: Instant, src: SocketAddr, bytes: &[u8]) {
        let mut message = rtc_stun::message::Message::new();
        message.raw = bytes.to_vec();
        if message.decode().is_err() || message.typ != rtc_stun::message::BINDING_SUCCESS {
            tracing::debug!(%src, "dropping a STUN message that answers nothing of ours");
            return;
        }
        let Some(reg) = self.registration.as_mut() else {
            return;
        };
        if reg
            .ping
            .as_ref()
            .is_none_or(|p| !p.transactions.contains(&message.transaction_id.0))
        {
            return;
        }
        reg.ping = None;
        let mut xor = rtc_stun::xoraddr::XorMappedAddress::default();
        if xor.get_from(&message).is_err() {
            return;
        }
        let mapped = SocketAddr::new(xor.ip, xor.port);
        match reg.mapped.replace(mapped) {
            None => {
                tracing::info!(registrar = %src, %mapped, "STUN keep-alive answered: the registrar sees us here")
            }
            Some(before) if before != mapped => {
                tracing::warn!(registrar = %src, %before, now = %mapped,
                    "the NAT mapped us anew; registering again");
                self.send_register(now);
            }
            Some(_) => {}
        }
    }
}

/// 80–100 % of `every` (RFC 5626 §4.4.1), so that many agents behind one NAT do
/// not ping in step.
fn keepalive_interval(every: Duration, random: u64) -> Duration {
    every.mul_f64(0.8 + 0.2 * (random % 1000) as f64 / 1000.0)
}

/// The expiry the registrar granted: our Contact's `expires`, else the Expires header.
fn granted_expires(response: &Response, asked: u32) -> u32 {
    let from_contact = response
        .headers
        .list("Contact")
        .filter_map(NameAddr::parse)
        .find_map(|c| c.params.value("expires").and_then(|v| v.parse().ok()));
    from_contact
        .or_else(|| {
            response
                .headers
                .get("Expires")
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(asked)
}
