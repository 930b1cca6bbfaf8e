//! Registration (RFC 3261 §10.2): REGISTER with digest auth, refreshed before expiry,
//! so a trunk can route inbound calls to this UA.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Event, Purpose, UserAgent};
use crate::auth::Challenge;
use crate::message::{Headers, NameAddr, Request, Response, Uri};
use crate::{Method, StatusCode};

#[derive(Debug, Clone)]
pub struct RegisterParams {
    /// Request-URI: the registrar's domain (`sip:trunk.example.com`).
    pub registrar: Uri,
    pub dst: SocketAddr,
    /// The address-of-record to bind (To and From).
    pub aor: Uri,
    pub expires: u32,
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
        let due = self
            .registration
            .as_ref()
            .and_then(|r| r.refresh_at)
            .is_some_and(|t| t <= now);
        if due {
            self.send_register(now);
        }
    }
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
